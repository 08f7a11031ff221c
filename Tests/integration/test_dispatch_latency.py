"""Accepted → sent in well under a second while the timer is the only thing that starts the
sender (issue 4): a functional property at a trivial load, not a benchmark. And what wakes the
sleepers: a sleeping webhook dispatcher only for a delivery queued."""
import datetime
import signal
import statistics
import threading
import time

import psycopg

from conftest import count, new_number, plan_database, start_sender, wait_for

# Run length as the timer runs it (TEXTING_SENDER_RUN_SECONDS' default), and the timer's pause
# between runs (OnUnitInactiveSec=100ms).
RUN_SECONDS = 55
RESTART_AFTER = 0.1


class TimerLikeSender:
    """Starts SenderCron (no --once) and starts it again RESTART_AFTER seconds after each exit,
    as texting-sender.timer does, until stopped."""

    def __init__(self, **settings):
        self.settings = settings
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.process = None
        self.runs = []  # (return code, stderr) of each finished run
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def _loop(self):
        while not self.stopping.is_set():
            with self.lock:
                if self.stopping.is_set():
                    return
                self.process = start_sender(once=False, TEXTING_SENDER_RUN_SECONDS=RUN_SECONDS, **self.settings)
            _, stderr = self.process.communicate()  # also keeps its pipes drained
            self.runs.append((self.process.returncode, stderr))
            self.stopping.wait(RESTART_AFTER)

    def pid(self):
        with self.lock:
            return self.process.pid if self.process else None

    def __exit__(self, *exc):
        with self.lock:
            self.stopping.set()
            process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
        self.thread.join(timeout=15)
        if exc[0] is None:  # else let the test's own failure show
            assert not self.thread.is_alive(), "the sender did not stop within 15 s of SIGTERM"
            assert self.runs and all(code == 0 for code, _ in self.runs), self.runs


def _wait_until_listening(db, sender):
    """The sender is up once it has recorded itself idle (LISTENing for new jobs)."""
    wait_for(lambda: sender.pid() and count(db, "SELECT count(*) FROM idle_senders WHERE sender_id LIKE %s",
                                             f"%:{sender.pid()}") == 1,
             timeout=10, what="the sender to listen")


def _percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def test_messages_reach_a_provider_well_under_a_second_after_they_are_accepted(api, db, mocks, empty_queue):
    ids = []
    with TimerLikeSender() as sender:
        _wait_until_listening(db, sender)
        next_post = time.monotonic()
        for i in range(50):  # about 20 a second
            next_post += 0.05
            response = api.post_message(new_number(), f"Latency {i}")
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
            time.sleep(max(0.0, next_post - time.monotonic()))
        wait_for(lambda: count(db, "SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[]) AND sent_at IS NOT NULL", ids) == 50,
                 timeout=15, what="all 50 to be sent")
    latencies = [row[0] for row in db.execute(
        "SELECT extract(epoch FROM sent_at - created_at) * 1000 FROM messages WHERE public_id = ANY(%s::uuid[])", (ids,))]
    p50, p99 = statistics.median(latencies), _percentile(latencies, 99)
    print(f"\naccepted -> sent over {len(latencies)} messages at ~20/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies):.1f} ms")
    assert p50 < 1000, latencies
    assert mocks.accepted_by_key() == {i: 1 for i in ids}


def test_a_scheduled_message_is_sent_within_a_second_of_its_send_at(api, db, mocks, empty_queue):
    with TimerLikeSender() as sender:
        _wait_until_listening(db, sender)
        send_at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
        response = api.post_message(new_number(), "Later", send_at=send_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
        assert response.status_code == 201, response.text
        message_id = response.json()["id"]
        wait_for(lambda: count(db, "SELECT count(*) FROM messages WHERE public_id = %s AND sent_at IS NOT NULL", message_id) == 1,
                 timeout=6, what="the scheduled message to be sent")
    late_ms = count(db, "SELECT extract(epoch FROM sent_at - send_at) * 1000 FROM messages WHERE public_id = %s", message_id)
    print(f"\nscheduled message sent {late_ms:.1f} ms after its send_at")
    assert 0 <= late_ms < 1000, late_ms
    assert mocks.accepted_by_key() == {message_id: 1}


def test_a_status_change_wakes_a_sleeping_dispatcher_only_when_it_queued_a_delivery():
    """A status change that queues no webhook delivery (the key has no endpoint, the message
    no status_callback) sends no NOTIFY: the dispatcher sleeping on `texting_webhooks` used to
    wake, look at its queue and go back to sleep for every status change of such a message,
    a few statements each (migration 0030). One that queues a delivery still wakes it. (In a
    database of its own: not through PgBouncer, whose stage runs the webhook tests.)"""
    with plan_database("texting_webhook_wake", keys=2) as db:
        number = db.execute("INSERT INTO phone_numbers (number) VALUES ('+15550009876') RETURNING id").fetchone()[0]
        quiet, callback = (db.execute("""INSERT INTO messages (phone_number_id, body, encoding, segments, api_key_id, status_callback)
                                         VALUES (%s, 'wake', 'GSM-7', 1, 1, %s) RETURNING id""", (number, url)).fetchone()[0]
                           for url in (None, "http://127.0.0.1:9/status"))
        with psycopg.connect(db.info.dsn, autocommit=True) as listener:
            listener.execute("LISTEN texting_webhooks")
            db.execute("INSERT INTO idle_senders (sender_id, channel) VALUES ('test-sleeping-dispatcher', 'texting_webhooks')")

            def woken():
                return [n.channel for n in listener.notifies(timeout=1, stop_after=1)]

            db.execute("UPDATE messages SET status = 'sent' WHERE id = %s", (quiet,))
            assert count(db, "SELECT count(*) FROM webhook_deliveries") == 0
            assert woken() == []
            db.execute("UPDATE messages SET status = 'sent' WHERE id = %s", (callback,))
            assert count(db, "SELECT count(*) FROM webhook_deliveries") == 1
            assert woken() == ["texting_webhooks"]

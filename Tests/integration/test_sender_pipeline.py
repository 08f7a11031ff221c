"""SenderCron records outcomes on a thread and connection of its own while it keeps claiming
and sending: whatever the commits lag behind, every outcome must be in the database when a
run ends, and the run's summary must say what the database says."""
import re
import signal
import socket
import threading
import time

import psycopg

from conftest import (DATABASE_URL, MESSAGE_TABLES, MOCK_BASE, STACK_ENV, count, messages_rows_read_by_sequential_scans, run_sender,
                      start_sender, store_messages, wait_for)


def _providers():
    return ",".join(f"{name}={MOCK_BASE[name]}/send" for name in MOCK_BASE)


def _summary(stderr):
    line = [l for l in stderr.splitlines() if "run done" in l][-1]
    line = re.sub(r"webhooks\[[^\]]*\]", "", line)  # the webhook dispatcher's own counts
    return {key: int(value) for key, value in re.findall(r"\b(claimed|sent|retried|failed|dropped)=(\d+)", line)}


def _assert_recorded_as_summarised(db, mocks, ids, summary):
    """Every claimed job has its outcome recorded (no lease left behind), and the summary's
    counts are the database's and the providers'."""
    assert count(db, """SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id
                        WHERE m.public_id = ANY(%s::uuid[]) AND j.leased_by IS NOT NULL""", ids) == 0
    sent = count(db, "SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[]) AND status IN ('sent', 'delivered')", ids)
    failed = count(db, "SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[]) AND status = 'failed'", ids)
    # A retry leaves the job waiting (no lease) with the provider's error on it.
    retried = count(db, """SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id
                           WHERE m.public_id = ANY(%s::uuid[]) AND j.last_error IS NOT NULL""", ids)
    stats = [mocks.stats(name) for name in MOCK_BASE]
    assert summary["claimed"] == len(ids), summary
    assert (summary["sent"], summary["failed"], summary["retried"]) == (sent, failed, retried), summary
    assert sent == sum(s["accepted"] for s in stats)
    assert failed == sum(s["answered_400"] for s in stats)
    assert retried == sum(s["answered_500"] for s in stats)
    assert sent + failed + retried == len(ids)


def test_every_outcome_is_recorded_when_a_stop_comes_while_commits_are_held_up(api, db, mocks, empty_queue):
    # p1 accepts; p2 answers 500 (a retry) or 400 (a failure) at random.
    mocks.configure("p2", failure_rate=0.5, reject_rate=0.5, callback_delay_ms=-1)
    mocks.configure("p1", callback_delay_ms=-1)
    with psycopg.connect(DATABASE_URL) as blocker:
        # Every recording transaction counts attempts per provider: with this lock held, the
        # recorder's commits wait while the sends go on.
        blocker.execute("LOCK TABLE provider_attempts IN SHARE MODE")
        ids = api.post_messages(40, "Pipeline")
        sender = start_sender(once=False, TEXTING_PROVIDERS=_providers(), TEXTING_SENDER_BATCH_SIZE=10,
                              TEXTING_SENDER_CONCURRENCY=40, TEXTING_BACKOFF_BASE_MS=60000, TEXTING_BACKOFF_MAX_MS=60000)
        try:
            wait_for(lambda: sum(mocks.stats(name)["received"] for name in MOCK_BASE) == 40, timeout=30,
                     what="every message to reach a provider")
            # All answered, none recorded: they are all waiting for a commit.
            assert count(db, "SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[]) AND status = 'sending'", ids) == 40
            sender.send_signal(signal.SIGTERM)
        finally:
            blocker.rollback()
    _, stderr = sender.communicate(timeout=60)
    assert sender.returncode == 0, stderr
    _assert_recorded_as_summarised(db, mocks, ids, _summary(stderr))


def test_mixed_outcomes_over_many_small_claims_are_all_recorded_once_the_drain_returns(api, db, mocks, empty_queue):
    mocks.configure("p2", failure_rate=0.3, reject_rate=0.3, callback_delay_ms=-1)
    mocks.configure("p1", callback_delay_ms=-1)
    ids = api.post_messages(300, "Pipeline")
    # Small claims and little room: many claims and many recording rounds overlap.
    result = run_sender(TEXTING_PROVIDERS=_providers(), TEXTING_SENDER_BATCH_SIZE=7, TEXTING_SENDER_CONCURRENCY=20,
                        TEXTING_BACKOFF_BASE_MS=60000, TEXTING_BACKOFF_MAX_MS=60000)
    _assert_recorded_as_summarised(db, mocks, ids, _summary(result.stderr))


def test_claims_and_records_never_read_the_whole_messages_table_once_it_has_grown(api, db, mocks, empty_queue):
    # As for delivery reports (test_delivery_status): the claim and record statements used to
    # be prepared, and a sender that started while messages was empty (a fresh install, a
    # TRUNCATE) kept generic plans that scanned the whole table at every batch as it grew.
    for name in MOCK_BASE:
        mocks.configure(name, callback_delay_ms=-1)  # no reports: only the sender reads messages
    db.execute(f"TRUNCATE {MESSAGE_TABLES}")  # statistics as on a fresh install
    owner = db.execute("SELECT max(id) FROM api_keys").fetchone()[0]  # the key `api` just made
    sender = start_sender(once=False, TEXTING_SENDER_BATCH_SIZE=1, TEXTING_SENDER_CONCURRENCY=1, TEXTING_SENDER_RUN_SECONDS=120)
    try:
        # One at a time: twenty claims and twenty records while the table is small.
        small = api.post_messages(20, "Pipeline")
        wait_for(lambda: all(api.status_of(i) == "sent" for i in small), timeout=60, what="the first 20 messages to be sent")
        grown = 20_000
        store_messages(db, owner, grown, "after the table grew", status="delivered")
        time.sleep(3)  # the sender's connections publish what they read when idle, at most once a second
        before = messages_rows_read_by_sequential_scans(db)
        measured = api.post_messages(5, "Pipeline")
        # Watched at the mocks: nothing but the sender may read messages until the count.
        wait_for(lambda: all(mocks.accepted_by_key()[i] for i in measured), timeout=60,
                 what="the 5 messages after the growth to reach a provider")
    finally:
        sender.send_signal(signal.SIGTERM)  # it records what it sent before it exits
        sender.communicate(timeout=60)
    time.sleep(2)  # its connections ended with it, publishing their counts as they went
    read = messages_rows_read_by_sequential_scans(db) - before
    assert [api.status_of(i) for i in measured] == ["sent"] * 5
    assert read < grown, f"5 claims and records read {read} rows of messages through sequential scans (the table holds {grown + 20})"


class _Relay:
    """A TCP port on 127.0.0.1 that forwards each connection to the stack's PostgreSQL socket
    once `open()` is called: before that the port is bound but not listening, so a connection
    is refused, as by a database host whose server is down."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        conninfo = dict(part.split("=", 1) for part in DATABASE_URL.split())
        self.target = f"{conninfo['host']}/.s.PGSQL.{conninfo['port']}"
        self.url = " ".join(f"{k}={v}" for k, v in {**conninfo, "host": "127.0.0.1", "port": str(self.port)}.items())

    def open(self):
        self.server.listen()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.server.close()


def test_a_run_that_starts_while_the_database_is_down_waits_for_it_and_sends(api, db, mocks, empty_queue):
    # The timer starts the next run a tenth of a second after one ends: a run that failed at
    # once while the database is down would be a restart loop (and systemd stops starting a
    # unit after five starts in 10 s). A timed run waits for the database instead, then works.
    mocks.configure("p1", callback_delay_ms=-1)
    mocks.configure("p2", callback_delay_ms=-1)
    relay = _Relay()
    sender = start_sender(once=False, TEXTING_DATABASE_URL=relay.url, TEXTING_DATABASE_DIRECT_URL=relay.url, TEXTING_PROVIDERS=_providers(),
                          TEXTING_SENDER_RUN_SECONDS=120)
    try:
        time.sleep(2)
        assert sender.poll() is None, sender.communicate(timeout=10)
        [message_id] = api.post_messages(1, "Waits for the database")
        relay.open()
        wait_for(lambda: api.status_of(message_id) == "sent", timeout=30, what="the waiting run to send the message once the database is back")
    finally:
        sender.send_signal(signal.SIGTERM)
        _, stderr = sender.communicate(timeout=60)
        relay.close()
    assert sender.returncode == 0, stderr
    assert "the database cannot be reached" in stderr and "the database answers again" in stderr, stderr
    assert "run done" in stderr and _summary(stderr)["sent"] == 1, stderr

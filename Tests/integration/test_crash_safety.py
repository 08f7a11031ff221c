"""The crash test: senders SIGKILLed again and again in the middle of draining 3,000 messages.
No accepted message may be lost, and the only duplicates allowed are sends that were in
flight (accepted by a provider, not yet recorded) when a sender died."""
import collections
import concurrent.futures
import random
import signal
import time

from conftest import MOCK_BASE, Api, count, create_api_key, new_number, run_sender, start_sender, wait_for

MESSAGES = 3000
CLIENTS = 6          # each with its own key: 500 requests stay inside nginx's burst of 1000 per key
BATCH_SIZE = 50
CONCURRENCY = 100
MAX_KILLS = 40


def _post_all(n, clients):
    """POSTs n messages through the API from `clients` threads, one API key each."""
    def post(share):
        api = Api(create_api_key("crash-test"))
        ids = []
        for i in range(share):
            response = api.post_message(new_number(), f"Crash test {i}")
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        return ids

    shares = [n // clients + (1 if k < n % clients else 0) for k in range(clients)]
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return [i for ids in pool.map(post, shares) for i in ids]


def _queued(db, ids):
    return count(db, "SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id WHERE m.public_id = ANY(%s::uuid[])", ids)


def test_senders_killed_at_random_lose_nothing_and_duplicate_only_what_was_in_flight(db, mocks, empty_queue):
    started = time.monotonic()
    for name in MOCK_BASE:
        mocks.configure(name, latency_ms=20)  # so that sends are in flight when the kill comes
    ids = _post_all(MESSAGES, CLIENTS)
    assert len(set(ids)) == MESSAGES
    posted = time.monotonic()

    rng = random.Random()
    kills = 0
    in_flight_at_kill = []
    settings = dict(TEXTING_SENDER_BATCH_SIZE=BATCH_SIZE, TEXTING_SENDER_CONCURRENCY=CONCURRENCY)
    for _ in range(MAX_KILLS + 10):
        if kills == MAX_KILLS or _queued(db, ids) == 0:
            break
        # Its database session is named, so that the test can tell when PostgreSQL has let go of it.
        name = f"crash-test-sender-{kills}"
        sender = start_sender(PGAPPNAME=name, **settings)
        time.sleep(rng.uniform(0.05, 0.4))
        if sender.poll() is not None:
            sender.communicate(timeout=30)
            continue  # it drained the queue and exited before the kill
        sender.send_signal(signal.SIGKILL)
        kills += 1
        sender.communicate(timeout=30)
        # A statement the sender had sent may still be running in its backend (a claim commits
        # even though nobody reads its rows): wait until the backend is gone, then count.
        wait_for(lambda: count(db, "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", name) == 0,
                 timeout=10, what="the killed sender's database session to end")
        # What the dead sender held unrecorded: claimed but not sent yet, in flight, or answered
        # but not recorded. Only the last two can become duplicates.
        in_flight_at_kill.append(count(db, "SELECT count(*) FROM jobs WHERE leased_by LIKE %s AND leased_until > now()",
                                       f"%:{sender.pid}"))
        # End every lease at once, as time would (provider timeout × 2 + 30 s later).
        db.execute("UPDATE jobs SET run_at = now(), leased_until = now() WHERE leased_by IS NOT NULL")
    killed = time.monotonic()

    # Whatever is left, reclaimed leases included, is drained by senders left alone.
    for _ in range(20):
        if _queued(db, ids) == 0:
            break
        run_sender(timeout=120, **settings)
    assert _queued(db, ids) == 0

    accepted = mocks.accepted_by_key()
    statuses = collections.Counter(status for (status,) in db.execute(
        "SELECT status::text FROM messages WHERE public_id = ANY(%s::uuid[])", (ids,)).fetchall())
    missing = [i for i in ids if accepted[i] == 0]
    duplicates = sum(accepted[i] - 1 for i in ids if accepted[i] > 1)
    duplicated_messages = sum(1 for i in ids if accepted[i] > 1)
    strangers = set(accepted) - set(ids)
    print(f"\n{MESSAGES} messages posted in {posted - started:.1f} s; {kills} senders SIGKILLed "
          f"(leases each one left unrecorded: {in_flight_at_kill}) in {killed - posted:.1f} s; "
          f"drained {time.monotonic() - killed:.1f} s later ({time.monotonic() - started:.1f} s in all). Statuses {dict(statuses)}; "
          f"{duplicates} duplicate sends over {duplicated_messages} messages "
          f"(allowed: {kills} kills x {CONCURRENCY} = {kills * CONCURRENCY}; leased at the kills: {sum(in_flight_at_kill)})")
    assert kills >= 3, "the queue drained before the senders could be killed a few times"
    assert not missing, f"{len(missing)} accepted messages never reached a provider: {missing[:5]}"
    assert statuses["sent"] + statuses["delivered"] == MESSAGES, statuses
    assert not strangers, strangers
    assert duplicates <= kills * CONCURRENCY, duplicates
    # Sharper: a message is sent twice only if it was leased to a sender that died.
    assert duplicates <= sum(in_flight_at_kill), (duplicates, in_flight_at_kill)

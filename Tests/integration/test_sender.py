"""SenderCron against the mock providers: balancing, retries, exactly-once under concurrency."""
import collections
import time

from conftest import STACK_ENV, MOCK_BASE, count, new_number, run_sender, start_sender, wait_for
import requests


def _run_sender_until(done, **settings):
    """Runs SenderCron --once again and again (bounded) until `done()`: each run drains what
    is due, and retries come due only after their backoff."""
    for _ in range(50):
        run_sender(**settings)
        if done():
            return
        time.sleep(0.03)


def _all_sent(api, ids):
    return lambda: all(api.status_of(i) in ("sent", "delivered") for i in ids)


def _providers(weights):
    return ",".join(f"{name}={MOCK_BASE[name]}/send;weight={weight}" for name, weight in weights.items())


def _accepted_per_provider(mocks):
    return {name: mocks.stats(name)["accepted"] for name in MOCK_BASE}


def test_provider_answering_500_is_retried_on_the_other_provider(api, db, mocks, empty_queue):
    mocks.configure("p1", failure_rate=1.0)
    ids = api.post_messages(4)
    _run_sender_until(_all_sent(api, ids), TEXTING_BACKOFF_BASE_MS=20, TEXTING_BACKOFF_MAX_MS=50)
    messages = [api.get_message(i).json() for i in ids]
    assert all(m["status"] in ("sent", "delivered") for m in messages), messages
    assert all(m["provider"] == "p2" for m in messages), messages
    # Round-robin sent half of them to p1 first; each of those was retried once, on p2.
    assert sorted(m["attempts"] for m in messages) == [1, 1, 2, 2]
    assert mocks.stats("p1")["answered_500"] == 2
    assert mocks.stats("p1")["accepted"] == 0
    assert mocks.accepted_by_key() == collections.Counter({i: 1 for i in ids})


def test_message_fails_after_the_configured_attempts(api, mocks, empty_queue):
    for name in MOCK_BASE:
        mocks.configure(name, failure_rate=1.0)
    message_id = api.post_messages(1)[0]
    _run_sender_until(lambda: api.status_of(message_id) == "failed",
                      TEXTING_BACKOFF_BASE_MS=10, TEXTING_BACKOFF_MAX_MS=20, TEXTING_MAX_ATTEMPTS=3)
    message = api.get_message(message_id).json()
    assert message["status"] == "failed"
    assert message["error"]["code"] == "retries_exhausted"
    assert message["attempts"] == 3
    assert sum(mocks.stats(name)["answered_500"] for name in MOCK_BASE) == 3


def test_message_that_outlives_its_validity_fails_as_expired(api, db, mocks, empty_queue):
    response = api.post_message(new_number(), "Only for a second", validity_period=1)
    assert response.status_code == 201, response.text
    message_id = response.json()["id"]
    assert response.json()["expires_at"] is not None
    time.sleep(1.2)
    run_sender()
    message = api.get_message(message_id).json()
    assert message["status"] == "failed"
    assert message["error"]["code"] == "expired"
    assert mocks.accepted_by_key()[message_id] == 0


def test_equal_weights_split_100_messages_50_50(api, mocks, empty_queue):
    api.post_messages(100)
    run_sender(TEXTING_PROVIDERS=_providers({"p1": 1, "p2": 1}))
    accepted = _accepted_per_provider(mocks)
    assert sum(accepted.values()) == 100
    assert abs(accepted["p1"] - 50) <= 1 and abs(accepted["p2"] - 50) <= 1, accepted


def test_weights_30_70_split_1000_messages_within_2_percent(api, mocks, empty_queue):
    api.post_messages(1000)
    run_sender(TEXTING_PROVIDERS=_providers({"p1": 30, "p2": 70}))
    accepted = _accepted_per_provider(mocks)
    assert sum(accepted.values()) == 1000
    assert abs(accepted["p1"] - 300) <= 20 and abs(accepted["p2"] - 700) <= 20, accepted


def test_two_senders_draining_1000_messages_send_each_exactly_once(api, db, mocks, empty_queue):
    ids = api.post_messages(1000)
    # Small batches so that both senders keep claiming from the same queue at the same time.
    senders = [start_sender(TEXTING_SENDER_BATCH_SIZE=20, TEXTING_SENDER_CONCURRENCY=40) for _ in range(2)]
    outputs = [s.communicate(timeout=300) for s in senders]
    assert all(s.returncode == 0 for s in senders), outputs
    claimed = [int(out[1].split("claimed=")[1].split()[0]) for out in outputs]
    assert all(c > 0 for c in claimed), outputs  # both senders really took part
    accepted = mocks.accepted_by_key()
    assert sorted(accepted.items()) == sorted({i: 1 for i in ids}.items())
    assert count(db, "SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[]) AND status IN ('sent', 'delivered')", ids) == 1000
    assert count(db, "SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id WHERE m.public_id = ANY(%s::uuid[])", ids) == 0


def test_sender_killed_mid_run_leaves_its_jobs_to_be_reclaimed(api, db, mocks, empty_queue):
    for name in MOCK_BASE:
        mocks.configure(name, latency_ms=3000)
    ids = api.post_messages(5)
    sender = start_sender()
    wait_for(lambda: count(db, "SELECT count(*) FROM jobs WHERE leased_by IS NOT NULL") == 5, what="the claim")
    sender.kill()
    sender.wait(timeout=10)
    # The lease keeps them from other senders until it runs out; end it as time would.
    db.execute("UPDATE jobs SET run_at = now(), leased_until = now()")
    for name in MOCK_BASE:
        mocks.configure(name, latency_ms=0)
    run_sender()
    assert all(api.status_of(i) in ("sent", "delivered") for i in ids)
    # The killed sender's sends still sleep out their 3 s in the mocks: let them be answered
    # here, or their acceptances land in the counters of whichever test runs next.
    wait_for(lambda: all(mocks.stats(n)["accepted"] == mocks.stats(n)["received"] for n in MOCK_BASE),
             timeout=15, what="the mocks to answer the killed sender's sends")


def test_failing_provider_is_skipped_by_every_sender_once_its_breaker_opens(api, db, mocks, empty_queue):
    mocks.configure("p1", failure_rate=1.0)
    settings = dict(TEXTING_BREAKER_FAILURES=3, TEXTING_BREAKER_COOLDOWN_SECONDS=600,
                    TEXTING_SENDER_BATCH_SIZE=2, TEXTING_SENDER_CONCURRENCY=2,
                    TEXTING_BACKOFF_BASE_MS=10, TEXTING_BACKOFF_MAX_MS=20)
    ids = api.post_messages(20)
    _run_sender_until(_all_sent(api, ids), **settings)
    assert _all_sent(api, ids)()
    # Three failures in a row opened p1's breaker; after that nothing more went to it.
    assert mocks.stats("p1")["answered_500"] == 3
    assert count(db, "SELECT count(*) FROM provider_health WHERE provider = 'p1' AND open_until > now() AND consecutive_failures >= 3") == 1
    # The breaker is shared: a new sender process skips p1 too.
    more = api.post_messages(6)
    run_sender(**settings)
    assert mocks.stats("p1")["received"] == 3
    assert all(api.get_message(i).json()["provider"] == "p2" for i in more)
    # Attempts are counted per provider and outcome for /metrics.
    assert count(db, "SELECT count FROM provider_attempts WHERE provider = 'p1' AND outcome = 'temporary_failure'") >= 3


def test_breaker_closes_when_the_provider_answers_again(api, db, mocks, empty_queue):
    db.execute("INSERT INTO provider_health (provider, consecutive_failures, open_until) VALUES ('p1', 9, now() - interval '1 second')")
    api.post_messages(4)
    run_sender(TEXTING_BREAKER_FAILURES=3)
    # Half-open: its cool-down is over, so it gets one probe in the batch; the rest go to p2.
    assert mocks.stats("p1")["accepted"] == 1
    assert mocks.stats("p2")["accepted"] == 3
    # The probe answered: the breaker is closed and p1 takes its share again.
    assert count(db, "SELECT consecutive_failures FROM provider_health WHERE provider = 'p1'") == 0
    assert count(db, "SELECT count(*) FROM provider_health WHERE provider = 'p1' AND open_until IS NULL") == 1
    api.post_messages(4)
    run_sender(TEXTING_BREAKER_FAILURES=3)
    assert mocks.stats("p1")["accepted"] == 3

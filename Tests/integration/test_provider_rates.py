"""Providers' contracted rates (`;tps=N` in TEXTING_PROVIDERS): every sender together stays
under each, taking tokens from buckets kept in PostgreSQL before it claims; what cannot be sent
now stays queued without spending an attempt; a 429 halves the rate a provider is given."""
import contextlib

from conftest import MOCK_BASE, count, run_sender, running_sender, wait_for


def providers(p1_tps, p2_tps):
    return f"p1={MOCK_BASE['p1']}/send;tps={p1_tps},p2={MOCK_BASE['p2']}/send;tps={p2_tps}"


def queue_messages(db, n, body):
    """n queued messages (of the newest key), each to a new number, with their jobs due now:
    written straight into the tables, faster than n POSTs (and nginx's rate per key)."""
    owner = db.execute("SELECT max(id) FROM api_keys").fetchone()[0]
    db.execute(
        """WITH n AS (
               INSERT INTO phone_numbers (number)
               SELECT '+1556' || lpad((g + coalesce((SELECT max(id) FROM phone_numbers), 0))::text, 7, '0')
               FROM generate_series(1, %s) g RETURNING id
           ), m AS (
               INSERT INTO messages (phone_number_id, body, encoding, segments, api_key_id, status)
               SELECT id, %s, 'GSM-7', 1, %s, 'queued' FROM n RETURNING id
           )
           INSERT INTO jobs (message_id, run_at) SELECT id, now() FROM m""", (n, body, owner))


def rate(sends):
    """Acceptances per second over the span from the first to the last."""
    times = sorted(accepted for _, accepted, _ in sends if accepted is not None)
    return (len(times) - 1) / (times[-1] - times[0])


def test_two_senders_together_hold_each_providers_rate(api, db, mocks, empty_queue):
    """p1 sells 50 messages a second and p2 150, and each answers 429 above it (MOCK_TPS): two
    senders at once send at those rates and are never refused."""
    for name, tps in (("p1", 50), ("p2", 150)):
        mocks.configure(name, tps=tps, callback_delay_ms=-1)
    db.execute("DELETE FROM provider_rates")
    queue_messages(db, 2000, "Within the contract")
    with contextlib.ExitStack() as senders:
        for _ in range(2):
            senders.enter_context(running_sender(TEXTING_PROVIDERS=providers(50, 150), TEXTING_SENDER_RUN_SECONDS=60))
        wait_for(lambda: count(db, "SELECT count(*) FROM jobs") == 0, timeout=40, interval=0.5, what="the 2,000 messages to be sent")
    for name, tps in (("p1", 50), ("p2", 150)):
        stats = mocks.stats(name)
        assert stats["answered_429"] == 0, (name, stats)
        measured = rate(mocks.sends(name))
        assert abs(measured - tps) <= 0.05 * tps, f"{name}: {measured:.1f} messages/s against a contracted {tps}"
    assert stats["accepted"] + mocks.stats("p1")["accepted"] == 2000


def test_what_the_rate_does_not_allow_now_stays_queued_without_an_attempt(api, db, mocks, empty_queue):
    """One message a second per provider: a run takes what the buckets hold (one each) and
    leaves the rest queued, in order, with no attempt spent on them."""
    db.execute("DELETE FROM provider_rates")
    queue_messages(db, 10, "One a second")
    run_sender(TEXTING_PROVIDERS=providers(1, 1))
    sent = mocks.stats("p1")["received"] + mocks.stats("p2")["received"]
    assert 1 <= sent <= 3, sent
    queued = db.execute("""SELECT m.status::text, m.attempts, j.attempts FROM jobs j JOIN messages m ON m.id = j.message_id
                           ORDER BY j.message_id""").fetchall()
    assert len(queued) == 10 - sent
    assert set(queued) == {("queued", 0, 0)}, queued


def test_a_429_halves_the_rate_the_provider_is_given(api, db, mocks, empty_queue):
    db.execute("DELETE FROM provider_rates")
    mocks.configure("p1", rate_limit_rate=1.0, retry_after_seconds=0)
    queue_messages(db, 20, "Too many")
    run_sender(TEXTING_PROVIDERS=providers(100, 100), TEXTING_BREAKER_FAILURES=1000)
    assert mocks.stats("p1")["answered_429"] > 0
    rates = dict(db.execute("SELECT provider, rate FROM provider_rates").fetchall())
    # Halved once (at most once a second), then growing back slowly; p2 untouched.
    assert 45 <= rates["p1"] <= 60, rates
    assert rates["p2"] == 100, rates

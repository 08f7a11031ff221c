"""Providers' contracted rates (`;tps=N` in TEXTING_PROVIDERS): every sender together stays
under each, taking tokens from buckets kept in PostgreSQL before it claims; what cannot be sent
now stays queued without spending an attempt, or goes to a dearer provider without a limit; a
429 halves the rate a provider is given."""
import contextlib
import re
import signal
import time

from conftest import MOCK_BASE, count, run_sender, start_sender, wait_for


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


@contextlib.contextmanager
def summarised_sender(summaries, **overrides):
    """A timed SenderCron run (not --once) for the block, as conftest's running_sender; then
    SIGTERM, and what it printed (its log, ending with its "run done" line) appended to
    `summaries`."""
    sender = start_sender(once=False, **overrides)
    try:
        yield sender
    finally:
        sender.send_signal(signal.SIGTERM)
        stdout, stderr = sender.communicate(timeout=60)
        summaries.append(stdout + stderr)


def sent_by(summary):
    """The messages a sender run sent, from its last line: "run done in N ms: claimed=N sent=N …"."""
    found = re.search(r"run done in \d+ ms: claimed=\d+ sent=(\d+) ", summary)
    assert found, summary[-2000:]
    return int(found.group(1))


def rate(sends):
    """Acceptances per second over the span from the first to the last."""
    times = sorted(accepted for _, accepted, _ in sends if accepted is not None)
    return (len(times) - 1) / (times[-1] - times[0])


def test_two_senders_together_hold_each_providers_rate(api, db, mocks, empty_queue):
    """p1 sells 50 messages a second and p2 150, and each answers 429 above it (MOCK_TPS): two
    senders at once send at those rates and are never refused, and both do a share of the work
    (one sender sending everything would hold the rates without sharing them)."""
    for name, tps in (("p1", 50), ("p2", 150)):
        mocks.configure(name, tps=tps, callback_delay_ms=-1)
    db.execute("DELETE FROM provider_rates")
    queue_messages(db, 2000, "Within the contract")
    summaries = []
    with contextlib.ExitStack() as senders:
        for _ in range(2):
            senders.enter_context(summarised_sender(summaries, TEXTING_PROVIDERS=providers(50, 150), TEXTING_SENDER_RUN_SECONDS=60))
        wait_for(lambda: count(db, "SELECT count(*) FROM jobs") == 0, timeout=40, interval=0.5, what="the 2,000 messages to be sent")
    sent = [sent_by(summary) for summary in summaries]
    assert sum(sent) == 2000, sent
    assert min(sent) >= 200, f"each sender should send a share of the 2,000 messages; they sent {sent}"
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


def test_the_cheap_provider_sends_what_its_rate_allows_and_the_rest_goes_to_the_next_cheapest(api, db, mocks, empty_queue):
    """p1 is the cheaper but sells only 10 messages a second; p2 costs more and has no limit.
    p1 gets what its tokens allow over the run (a tenth of a second's worth, at least one, to
    start with, then 10 a second), never more; the rest overflows to p2 instead of waiting for
    p1; none fails. (Answers take 20 ms and 10 are in flight at once, so the run lasts long
    enough for p1's bucket to run dry and fill again many times.)"""
    mocks.configure_all(callback_delay_ms=-1, latency_ms=20)
    db.execute("DELETE FROM provider_rates")
    body = f"Cheapest with room {time.time_ns()}"
    queue_messages(db, 300, body)
    started = time.monotonic()
    run_sender(TEXTING_PROVIDERS=f"p1={MOCK_BASE['p1']}/send;cost=0.001;tps=10,p2={MOCK_BASE['p2']}/send;cost=0.05",
               TEXTING_SENDER_CONCURRENCY=10)
    elapsed = time.monotonic() - started
    cheap, dear = mocks.stats("p1")["accepted"], mocks.stats("p2")["accepted"]
    assert cheap >= 1 and dear >= 1, (cheap, dear)
    assert cheap <= 1 + 10 * elapsed, f"p1 sent {cheap} in {elapsed:.2f}s against 10 a second"
    assert cheap + dear == 300, (cheap, dear)
    assert count(db, "SELECT count(*) FROM jobs") == 0
    by_provider = dict(db.execute("""SELECT provider, count(*) FILTER (WHERE status = 'sent' AND attempts = 1) FROM messages
                                     WHERE body = %s GROUP BY provider""", (body,)).fetchall())
    assert by_provider == {"p1": cheap, "p2": dear}, by_provider


def test_a_cheaper_provider_with_room_carries_everything(api, db, mocks, empty_queue):
    """p1 is the cheaper and sells 1,000 messages a second, more than this sender can send
    (10 in flight, 20 ms each: at most 500 a second): it always has room, so the dearer p2,
    though of the same weight and without a limit, gets nothing. (Asked for only its share
    by weight, p1 got half.)"""
    mocks.configure_all(callback_delay_ms=-1, latency_ms=20)
    db.execute("DELETE FROM provider_rates")
    queue_messages(db, 300, f"Cheapest with room to spare {time.time_ns()}")
    run_sender(TEXTING_PROVIDERS=f"p1={MOCK_BASE['p1']}/send;cost=0.001;tps=1000,p2={MOCK_BASE['p2']}/send;cost=0.05",
               TEXTING_SENDER_CONCURRENCY=10)
    assert (mocks.stats("p1")["accepted"], mocks.stats("p2")["accepted"]) == (300, 0)
    assert count(db, "SELECT count(*) FROM jobs") == 0

"""How the sender reads each kind of provider answer (the provider contract, with the mock
provider): a timeout, a refused connection, 429 with Retry-After, a permanent 400, every
provider down and then back, and delivery reports that arrive out of order."""
import collections
import math
import socket
import time

import pytest

from conftest import MOCK_BASE, count, new_number, run_sender, wait_for

# Retries come due almost at once, so what holds a message back is what the test is about.
FAST_RETRY = dict(TEXTING_BACKOFF_BASE_MS=20, TEXTING_BACKOFF_MAX_MS=50)


@pytest.fixture(autouse=True)
def mock_extras(mocks):
    """conftest's reset knows only the settings that existed when it was written: put the
    400 share and the 429's Retry-After back too, before and after each test."""
    extras = {"reject_rate": 0, "retry_after_seconds": 1}
    for name in MOCK_BASE:
        mocks.configure(name, **extras)
    yield
    for name in MOCK_BASE:
        mocks.configure(name, **extras)


def _providers(p1_url=None, p1_weight=1000, p2_weight=1):
    """p1 weighs so much more that it takes the first send; the retry must then go to p2."""
    p1 = p1_url or f"{MOCK_BASE['p1']}/send"
    return f"p1={p1};weight={p1_weight},p2={MOCK_BASE['p2']}/send;weight={p2_weight}"


def _post_to(api, number):
    response = api.post_message(number)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _run_until(done, runs=40, **settings):
    for _ in range(runs):
        run_sender(timeout=60, **settings)
        if done():
            return
        time.sleep(0.03)
    raise AssertionError(f"not done after {runs} sender runs")


def _sent(api, message_id):
    return lambda: api.status_of(message_id) in ("sent", "delivered")


def _closed_port():
    """A port on 127.0.0.1 that nothing listens on: bound, then let go."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _metrics(api):
    response = api.raw("GET", "/metrics")
    assert response.status_code == 200, response.text
    return dict(line.rsplit(" ", 1) for line in response.text.splitlines() if line and not line.startswith("#"))


def test_provider_timeout_is_retried_on_the_other_provider(api, mocks, empty_queue):
    # p1 answers after 1.5 s; the sender gives up after 0.3 s. p1 sends no callback for the
    # send it accepts after the sender stopped listening (that duplicate is what a timeout risks).
    mocks.configure("p1", latency_ms=1500, callback_delay_ms=-1)
    [message_id] = api.post_messages(1, "Provider behaviour")
    started = time.monotonic()
    _run_until(_sent(api, message_id), TEXTING_PROVIDERS=_providers(), TEXTING_PROVIDER_TIMEOUT_MS=300, **FAST_RETRY)
    print(f"sent by p2 {time.monotonic() - started:.2f} s after the first run started")
    message = api.get_message(message_id).json()
    assert message["provider"] == "p2", message  # had the sender waited 1.5 s, p1 would have taken it
    assert message["attempts"] == 2, message
    assert mocks.stats("p1")["received"] == 1
    assert mocks.stats("p2")["accepted_by_key"] == {message_id: 1}
    # p1 still accepts it when its 1.5 s are up: the duplicate a timeout can cost, which the
    # Idempotency-Key lets a real provider drop. Wait for it, so it does not leak into the next test.
    wait_for(lambda: mocks.stats("p1")["accepted"] == 1, timeout=5, what="p1's late answer")


def test_refused_connection_is_retried_on_the_other_provider(api, db, mocks, empty_queue):
    port = _closed_port()
    [message_id] = api.post_messages(1, "Provider behaviour")
    _run_until(_sent(api, message_id), TEXTING_PROVIDERS=_providers(p1_url=f"http://127.0.0.1:{port}/send"), **FAST_RETRY)
    message = api.get_message(message_id).json()
    assert message["provider"] == "p2", message
    assert message["attempts"] == 2, message
    assert mocks.accepted_by_key() == collections.Counter({message_id: 1})
    # The refusal counted as a temporary failure of p1.
    assert count(db, "SELECT count FROM provider_attempts WHERE provider = 'p1' AND outcome = 'temporary_failure'") >= 1


def test_429_retry_after_is_honoured_before_the_retry_on_the_other_provider(api, db, mocks, empty_queue):
    mocks.configure("p1", rate_limit_rate=1.0, retry_after_seconds=2)
    [message_id] = api.post_messages(1, "Provider behaviour")
    settings = dict(TEXTING_PROVIDERS=_providers(), **FAST_RETRY)  # backoff alone would retry within 50 ms
    run_sender(timeout=60, **settings)
    assert mocks.stats("p1")["answered_429"] == 1
    # From when the retry was recorded (its transaction's commit; the stack tracks commit
    # timestamps), not from now: the sender's exit and this query take time of their own.
    wait_ms = count(db, """SELECT extract(epoch FROM j.run_at - pg_xact_commit_timestamp(j.xmin)) * 1000 FROM jobs j
                           JOIN messages m ON m.id = j.message_id WHERE m.public_id = %s""", message_id)
    print(f"429 with Retry-After: 2 -> next attempt {wait_ms:.0f} ms after the retry was recorded")
    assert wait_ms >= 1700, wait_ms
    # A run half a second later finds nothing due and sends nothing.
    time.sleep(0.5)
    run_sender(timeout=60, **settings)
    assert mocks.stats("p2")["received"] == 0
    assert api.status_of(message_id) in ("queued", "sending")
    # Once the Retry-After has passed, the retry goes to p2.
    wait_for(lambda: count(db, """SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id
                                  WHERE m.public_id = %s AND j.run_at <= now()""", message_id) == 1,
             timeout=5, what="the retry to come due")
    _run_until(_sent(api, message_id), **settings)
    message = api.get_message(message_id).json()
    assert message["provider"] == "p2" and message["attempts"] == 2, message
    assert mocks.accepted_by_key() == collections.Counter({message_id: 1})


def test_400_fails_the_message_at_once_with_the_providers_answer(api, db, mocks, empty_queue):
    mocks.configure("p1", reject_rate=1.0)
    [message_id] = api.post_messages(1, "Provider behaviour")
    run_sender(timeout=60, TEXTING_PROVIDERS=_providers(), **FAST_RETRY)
    message = api.get_message(message_id).json()
    assert message["status"] == "failed", message
    assert message["attempts"] == 1, message
    assert message["error"]["code"] == "provider_rejected", message
    assert "400" in message["error"]["detail"] and "simulated rejection" in message["error"]["detail"], message
    assert count(db, "SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id WHERE m.public_id = %s", message_id) == 0
    # Nothing is retried, on p2 or anywhere, by later runs either.
    run_sender(timeout=60, TEXTING_PROVIDERS=_providers(), **FAST_RETRY)
    assert mocks.stats("p1")["answered_400"] == 1
    assert mocks.stats("p2")["received"] == 0
    assert api.status_of(message_id) == "failed"
    # A provider that answers, even "no", is up: the rejection does not count towards its breaker.
    assert count(db, "SELECT coalesce(max(consecutive_failures), 0) FROM provider_health WHERE provider = 'p1'") == 0


def test_all_providers_down_then_back_loses_nothing_and_spends_no_attempts_while_down(api, db, mocks, empty_queue):
    cooldown = 2
    settings = dict(TEXTING_BREAKER_FAILURES=2, TEXTING_BREAKER_COOLDOWN_SECONDS=cooldown, TEXTING_MAX_ATTEMPTS=6, **FAST_RETRY)
    for name in MOCK_BASE:
        mocks.configure(name, failure_rate=1.0)
    ids = api.post_messages(10, "Provider behaviour")

    def statuses():
        return collections.Counter(api.get_message(i).json()["status"] for i in ids)

    # The first run sends all ten, five to each provider; every send fails and both breakers open.
    run_sender(timeout=60, **settings)
    metrics = _metrics(api)
    assert metrics.get('texting_provider_breaker_open{provider="p1"}') == "1", metrics
    assert metrics.get('texting_provider_breaker_open{provider="p2"}') == "1", metrics

    # Both stay down through a few cool-downs while senders keep being started.
    started = time.monotonic()
    runs = 1
    while time.monotonic() - started < 2.5 * cooldown and runs < 100:
        run_sender(timeout=60, **settings)
        runs += 1
        time.sleep(0.1)
    down_for = time.monotonic() - started
    received = sum(mocks.stats(name)["received"] for name in MOCK_BASE)
    attempts = dict(db.execute("""SELECT m.public_id::text, j.attempts FROM jobs j JOIN messages m ON m.id = j.message_id
                                  WHERE m.public_id = ANY(%s::uuid[])""", (ids,)).fetchall())
    # The first batch, then at most one probe per provider per cool-down (plus one for a
    # cool-down that ends at the last run).
    probe_bound = 2 * (math.ceil(down_for / cooldown) + 1)
    print(f"down for {down_for:.1f} s, {runs} runs: providers received {received} sends "
          f"(10 + at most {probe_bound} probes allowed); attempts {sorted(attempts.values())}; {dict(statuses())}")
    assert statuses()["failed"] == 0, statuses()
    assert len(attempts) == 10, attempts  # all still queued
    assert received <= 10 + probe_bound, received
    assert sum(attempts.values()) == received, (attempts, received)

    # Both come back: everything is sent, each message exactly once.
    for name in MOCK_BASE:
        mocks.configure(name, failure_rate=0)
    back = time.monotonic()
    _run_until(lambda: statuses()["sent"] + statuses()["delivered"] == 10, runs=60, **settings)
    print(f"all 10 sent {time.monotonic() - back:.1f} s after the providers came back")
    assert mocks.accepted_by_key() == collections.Counter({i: 1 for i in ids})
    metrics = _metrics(api)
    assert metrics.get('texting_provider_breaker_open{provider="p1"}') == "0" or \
        metrics.get('texting_provider_breaker_open{provider="p2"}') == "0", metrics


@pytest.mark.parametrize("first, then", [
    ("delivered", "failed"), ("delivered", "invalid"),
    ("failed", "delivered"), ("failed", "invalid"),
    ("invalid", "delivered"), ("invalid", "failed"),
])
def test_a_report_after_a_final_one_changes_nothing(api, db, mocks, empty_queue, first, then):
    for name in MOCK_BASE:
        mocks.configure(name, callback_delay_ms=-1)  # the test sends the reports itself
    number = new_number()
    message_id = _post_to(api, number)
    run_sender(timeout=60)
    message = api.get_message(message_id).json()
    assert message["status"] == "sent", message
    provider_id = message["provider_message_id"]

    applied = api.callback(message_id, {"status": first, "message_id": provider_id})
    assert applied.status_code == 200 and applied.json()["applied"] is True, applied.text
    events = count(db, "SELECT count(*) FROM delivery_events")
    late = api.callback(message_id, {"status": then, "message_id": provider_id})
    assert late.status_code == 200, late.text
    assert late.json()["applied"] is False, late.text

    after = api.get_message(message_id).json()
    assert after["status"] == first, after
    number_status = "inactive" if first == "invalid" else "active"
    assert count(db, "SELECT count(*) FROM phone_numbers WHERE number = %s AND status = %s", number, number_status) == 1
    # The late report is kept, like every report, but moved nothing.
    assert count(db, "SELECT count(*) FROM delivery_events") == events + 1
    refused = api.post_message(number, "Still there?")
    if first == "invalid":
        assert refused.status_code == 422 and refused.json()["code"] == "phone_number_inactive", refused.text
    else:
        assert refused.status_code == 201, refused.text
        assert api.raw("POST", f"/messages/{refused.json()['id']}/cancel").status_code == 200

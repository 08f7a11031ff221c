"""Providers as they really are: routing by destination prefix (`;prefixes=`, longest match
wins), cost per segment (`;cost=`, the cheapest healthy provider first, failing over to the
next), `no_route` for a number nobody takes, operators pausing a provider for every sender
(`textingctl providers pause|resume`), the provider's own error code and text kept with a
failed message, sends and cost per provider and prefix in /metrics and `textingctl stats`, and
each provider's contracted and current rate in `textingctl providers`."""
import json
import os
import random
import re
import subprocess
import time

import psycopg
import pytest
import requests

from conftest import BASE_URL, BIN, DATABASE_URL, MOCK_BASE, RUN_DIR, STACK_ENV, count, new_number, run_sender, running_sender, textingctl, wait_for
from test_fastcgi_socket import base_params, exchange, request_bytes, with_param

FAST_RETRY = dict(TEXTING_BACKOFF_BASE_MS=20, TEXTING_BACKOFF_MAX_MS=50)


def providers(**entries):
    """TEXTING_PROVIDERS for the two mocks, each with the parameters given, e.g.
    providers(p1=";prefixes=+1", p2=";prefixes=+44")."""
    return ",".join(f"{name}={MOCK_BASE[name]}/send{entries.get(name, '')}" for name in ("p1", "p2") if name in entries)


def uk_number():
    return f"+447700{random.randint(100000, 999999)}"


def numbers_sent_to(mocks, name):
    return set(mocks._call(name, "/_mock/sends")["by_number"])


def post(api, number, text="Routed"):
    response = api.post_message(number, text)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def drain(**settings):
    """Runs senders until nothing is due (retries included), at most 40 runs."""
    for _ in range(40):
        run_sender(timeout=60, **settings)
        with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
            if connection.execute("SELECT count(*) FROM jobs WHERE run_at <= now() + interval '100 milliseconds'").fetchone()[0] == 0:
                return
        time.sleep(0.03)
    raise AssertionError("the queue did not drain in 40 sender runs")


@pytest.fixture(autouse=True)
def fresh_providers(db, mocks, empty_queue):
    """No pause, breaker, rate or send count of an earlier test leaks in, or out."""
    def clear():
        db.execute("DELETE FROM provider_health")
        db.execute("DELETE FROM provider_rates")
        db.execute("DELETE FROM provider_sends")
        db.execute("DELETE FROM provider_attempts")
        db.execute("DELETE FROM provider_answer_minutes")
    clear()
    mocks.configure_all(callback_delay_ms=-1)
    yield
    clear()


# -- Routing by prefix, cost, failover ------------------------------------------------------------

def test_each_number_goes_to_the_provider_whose_prefix_it_matches(api, db, mocks):
    us = [post(api, new_number()) for _ in range(4)]
    uk = [post(api, uk_number()) for _ in range(4)]
    drain(TEXTING_PROVIDERS=providers(p1=";prefixes=+1", p2=";prefixes=+44,+353"))
    assert all(n.startswith("+1") for n in numbers_sent_to(mocks, "p1")) and len(numbers_sent_to(mocks, "p1")) == 4
    assert all(n.startswith("+44") for n in numbers_sent_to(mocks, "p2")) and len(numbers_sent_to(mocks, "p2")) == 4
    assert {api.get_message(m).json()["provider"] for m in us} == {"p1"}
    assert {api.get_message(m).json()["provider"] for m in uk} == {"p2"}


def test_the_longest_prefix_wins_over_a_cheaper_shorter_one(api, mocks):
    jamaica = post(api, f"+1876555{random.randint(1000, 9999)}")
    mainland = post(api, new_number())
    drain(TEXTING_PROVIDERS=providers(p1=";prefixes=+1;cost=0.001", p2=";prefixes=+1876;cost=0.05"))
    assert api.get_message(jamaica).json()["provider"] == "p2"
    assert api.get_message(mainland).json()["provider"] == "p1"


def test_the_cheapest_provider_takes_everything_and_the_message_shows_its_cost(api, mocks):
    ids = [post(api, new_number(), "x" * 200) for _ in range(5)]  # 200 GSM-7 characters: 2 segments
    drain(TEXTING_PROVIDERS=providers(p1=";cost=0.02;weight=1000", p2=";cost=0.0075"))
    assert mocks.stats("p1")["received"] == 0
    for message_id in ids:
        message = api.get_message(message_id).json()
        assert (message["provider"], message["segments"], message["cost"]) == ("p2", 2, 0.015), message


def test_a_temporary_failure_fails_over_to_the_next_cheapest(api, mocks):
    mocks.configure("p2", failure_rate=1.0)
    message_id = post(api, new_number())
    drain(TEXTING_PROVIDERS=providers(p1=";cost=0.02", p2=";cost=0.01"), TEXTING_BREAKER_FAILURES=1000, **FAST_RETRY)
    message = api.get_message(message_id).json()
    assert (message["status"], message["provider"], message["attempts"], message["cost"]) == ("sent", "p1", 2, 0.02), message
    assert mocks.stats("p2")["received"] == 1


def test_a_number_no_provider_takes_fails_with_no_route_without_a_send(api, db, mocks):
    stranded = post(api, "+33612345678")
    routed = post(api, uk_number())
    drain(TEXTING_PROVIDERS=providers(p1=";prefixes=+44", p2=";prefixes=+353"))
    message = api.get_message(stranded).json()
    assert (message["status"], message["error"]["code"], message["attempts"], message["provider"]) == ("failed", "no_route", 0, None), message
    assert api.get_message(routed).json()["status"] == "sent"
    assert "+33612345678" not in numbers_sent_to(mocks, "p1") | numbers_sent_to(mocks, "p2")


def test_post_answers_422_no_route_when_the_configuration_makes_it_certain(api, db):
    """A MessagesFCGI of its own (the stack's takes every number), spoken to over its socket."""
    sock_path = os.path.join(RUN_DIR, "sock", f"routes-{os.getpid()}.sock")
    env = {**os.environ, **STACK_ENV, "TEXTING_FCGI_SOCKET": sock_path, "TEXTING_FCGI_THREADS": "2",
           "TEXTING_PROVIDERS": providers(p1=";prefixes=+1", p2=";prefixes=+44")}
    process = subprocess.Popen([os.path.join(BIN, "MessagesFCGI")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: os.path.exists(sock_path) and exchange(sock_path, request_bytes(base_params())).status == 200,
                 timeout=30, what="the test's MessagesFCGI to serve")
        before = count(db, "SELECT count(*) FROM messages")

        def post_raw(number):
            body = json.dumps({"to_number": number, "message": "anyone?"}).encode()
            pairs = base_params(method="POST", path="/messages", content_length=str(len(body)))
            pairs = with_param(pairs, "CONTENT_TYPE", "application/json") + [("HTTP_AUTHORIZATION", f"Bearer {api.key}")]
            return exchange(sock_path, request_bytes(pairs, body=body), timeout=30)

        refused = post_raw("+33612345678")
        assert refused.status == 422, refused.stdout()
        problem = refused.problem()
        assert (problem["code"], problem["field"]) == ("no_route", "to_number"), problem
        assert count(db, "SELECT count(*) FROM messages") == before
        assert post_raw(uk_number()).status == 201
    finally:
        process.terminate()
        process.communicate(timeout=30)


# -- Operators pause and resume providers -----------------------------------------------------------

def test_a_paused_provider_gets_nothing_from_any_sender_until_resumed(api, db, mocks):
    paused = textingctl("providers", "pause", "p1", "maintenance window")
    assert paused.returncode == 0 and "paused p1" in paused.stdout, paused.stdout + paused.stderr
    assert "already paused" in textingctl("providers", "pause", "p1").stdout
    ids = [post(api, new_number()) for _ in range(6)]
    drain(TEXTING_PROVIDERS=providers(p1=";weight=1000", p2=""))
    assert mocks.stats("p1")["received"] == 0
    assert {api.get_message(m).json()["provider"] for m in ids} == {"p2"}

    # Both paused: nothing goes; the messages wait without spending an attempt.
    assert textingctl("providers", "pause", "p2").returncode == 0
    waiting = [post(api, new_number()) for _ in range(3)]
    run_sender(TEXTING_PROVIDERS=providers(p1="", p2=""))
    assert mocks.stats("p1")["received"] + mocks.stats("p2")["received"] == 6
    assert [(m["status"], m["attempts"]) for m in (api.get_message(i).json() for i in waiting)] == [("queued", 0)] * 3

    listing = textingctl("providers").stdout
    assert re.search(r"^p1\tpaused\t", listing, re.M) and re.search(r"^p2\tpaused\t", listing, re.M), listing
    assert "maintenance window" in listing

    assert "resumed p1" in textingctl("providers", "resume", "p1").stdout
    assert "not paused" in textingctl("providers", "resume", "p1").stdout
    drain(TEXTING_PROVIDERS=providers(p1="", p2=""))
    assert {api.get_message(m).json()["provider"] for m in waiting} == {"p1"}
    assert textingctl("providers", "pause", "p9").returncode == 1


def test_messages_only_a_paused_provider_takes_wait_while_the_others_go(api, db, mocks):
    assert textingctl("providers", "pause", "p1").returncode == 0
    us = [post(api, new_number()) for _ in range(5)]
    uk = [post(api, uk_number()) for _ in range(5)]
    run_sender(TEXTING_PROVIDERS=providers(p1=";prefixes=+1", p2=";prefixes=+44"))
    assert {api.get_message(m).json()["status"] for m in uk} == {"sent"}
    assert [(m["status"], m["attempts"]) for m in (api.get_message(i).json() for i in us)] == [("queued", 0)] * 5
    assert mocks.stats("p1")["received"] == 0
    assert textingctl("providers", "resume", "p1").returncode == 0
    drain(TEXTING_PROVIDERS=providers(p1=";prefixes=+1", p2=";prefixes=+44"))
    assert {api.get_message(m).json()["provider"] for m in us} == {"p1"}


def test_a_job_claimed_for_a_provider_without_tokens_goes_back_to_its_place(api, db, mocks):
    """p1 (+1) may send 1 a second, p2 (+44) has no limit: the claim takes +1 jobs it cannot
    send now; they go back as they were (queued, no attempt), in order, and go as tokens come."""
    us = [post(api, new_number()) for _ in range(4)]
    drain_providers = providers(p1=";prefixes=+1;tps=1", p2=";prefixes=+44")
    run_sender(TEXTING_PROVIDERS=drain_providers)
    states = [(m["status"], m["attempts"]) for m in (api.get_message(i).json() for i in us)]
    assert states.count(("sent", 1)) >= 1 and states.count(("queued", 0)) >= 2, states
    # The first in the queue went first.
    assert states[0] == ("sent", 1), states
    with running_sender(TEXTING_PROVIDERS=drain_providers, TEXTING_SENDER_RUN_SECONDS=60):
        wait_for(lambda: count(db, "SELECT count(*) FROM jobs") == 0, timeout=20, interval=0.2, what="a token a second for the rest")
    sent = [api.get_message(i).json() for i in us]
    assert [(m["status"], m["attempts"]) for m in sent] == [("sent", 1)] * 4, sent
    # In the order they were queued.
    assert [m["sent_at"] for m in sent] == sorted(m["sent_at"] for m in sent), sent


# -- The provider's own error code -----------------------------------------------------------------

def test_a_rejection_keeps_the_providers_code(api, mocks):
    mocks.configure_all(reject_rate=1.0)
    message_id = post(api, new_number())
    drain(TEXTING_PROVIDERS=providers(p1="", p2=""))
    error = api.get_message(message_id).json()["error"]
    assert (error["code"], error["provider_code"]) == ("provider_rejected", "21610"), error


@pytest.mark.parametrize("early", [False, True], ids=["after the answer", "before the answer is recorded"])
def test_a_failed_report_keeps_the_providers_code(api, mocks, early):
    mocks.configure_all(callback_statuses={"failed": 1}, callback_delay_ms=0, callback_before_answer=early)
    message_id = post(api, new_number())
    drain(TEXTING_PROVIDERS=providers(p1="", p2=""))
    wait_for(lambda: api.status_of(message_id) == "failed", timeout=15, what="the failed report")
    error = api.get_message(message_id).json()["error"]
    assert (error["code"], error["provider_code"]) == ("provider_reported_failed", "30003"), error


@pytest.mark.parametrize("field,text", [
    ("error_message", "Unknown destination handset"),
    ("error_text", 'Carrier says "no" \\ {unreachable}, 不可达'),
    ("error_message", "é" * 200),
], ids=["error_message", "error_text with quotes and backslashes", "200 characters"])
def test_a_failed_report_keeps_the_providers_text_in_the_error_detail(api, field, text):
    message_id = post(api, new_number())
    drain(TEXTING_PROVIDERS=providers(p1="", p2=""))
    provider_id = api.get_message(message_id).json()["provider_message_id"]
    response = api.callback(message_id, {"status": "failed", "message_id": provider_id, "error_code": "30003", field: text})
    assert response.status_code == 200 and response.json()["applied"] is True, response.text
    error = api.get_message(message_id).json()["error"]
    assert (error["code"], error["provider_code"]) == ("provider_reported_failed", "30003"), error
    assert error["detail"] == f"The provider reported that the message could not be delivered. It said: {text}", error


def test_a_failed_report_without_a_text_keeps_the_plain_detail(api):
    message_id = post(api, new_number())
    drain(TEXTING_PROVIDERS=providers(p1="", p2=""))
    provider_id = api.get_message(message_id).json()["provider_message_id"]
    assert api.callback(message_id, {"status": "failed", "message_id": provider_id, "error_message": None}).status_code == 200
    error = api.get_message(message_id).json()["error"]
    assert error["detail"] == "The provider reported that the message could not be delivered.", error


@pytest.mark.parametrize("field", ["error_message", "error_text"])
@pytest.mark.parametrize("text", ["", "   ", "x" * 201, "two\nlines", "a\u0000b", "bell\u0007", "\u2028", 42, {"a": 1}, ["x"], True],
                         ids=["empty", "spaces", "201 characters", "newline", "NUL", "control", "line separator", "number", "object", "array", "boolean"])
def test_a_report_with_an_unusable_text_is_refused_and_changes_nothing(api, field, text):
    message_id = post(api, new_number())
    drain(TEXTING_PROVIDERS=providers(p1="", p2=""))
    provider_id = api.get_message(message_id).json()["provider_message_id"]
    response = api.callback(message_id, {"status": "failed", "message_id": provider_id, "error_code": "30003", field: text})
    assert response.status_code == 422 and response.json()["field"] == field, response.text
    assert api.status_of(message_id) == "sent"


@pytest.mark.parametrize("code", ["", "two words", "x" * 65, 1.5, {"a": 1}, True])
def test_a_report_with_an_unusable_code_is_refused_and_changes_nothing(api, code):
    message_id = post(api, new_number())
    drain(TEXTING_PROVIDERS=providers(p1="", p2=""))
    provider_id = api.get_message(message_id).json()["provider_message_id"]
    response = api.callback(message_id, {"status": "failed", "message_id": provider_id, "error_code": code})
    assert response.status_code == 422 and response.json()["field"] == "error_code", response.text
    assert api.status_of(message_id) == "sent"


# -- Sends and cost per provider and prefix ------------------------------------------------------

def test_metrics_and_stats_show_sends_and_cost_per_provider_and_prefix(api, mocks):
    for _ in range(3):
        post(api, new_number())
    for _ in range(2):
        post(api, uk_number(), "y" * 161)  # 2 segments
    drain(TEXTING_PROVIDERS=providers(p1=";prefixes=+1;cost=0.0075", p2=";prefixes=+44"))
    metrics = requests.get(f"{BASE_URL}/metrics", timeout=10).text
    assert 'texting_provider_sends_total{prefix="+1",provider="p1"} 3' in metrics, metrics
    assert 'texting_provider_cost_total{prefix="+1",provider="p1"} 0.0225' in metrics
    assert 'texting_provider_sends_total{prefix="+44",provider="p2"} 2' in metrics
    assert 'texting_provider_segments_total{prefix="+44",provider="p2"} 4' in metrics
    assert 'texting_provider_cost_total{prefix="+44",provider="p2"} 0' in metrics
    stats = textingctl("stats").stdout
    assert "provider p1 prefix +1: sends=3 segments=3 cost=0.0225" in stats, stats
    # The stack's own TEXTING_PROVIDERS (no prefixes, no cost); sends and cost as counted,
    # the last hour's answers (all three accepted), no failure.
    listing = textingctl("providers").stdout
    assert re.search(r"^p1\tactive\tclosed\t-\t-\t\*\t-\t3\t3\t3\t0\.0225\t-\t3/0/0\t-$", listing, re.M), listing


def listing_rows(env=None):
    """`textingctl providers` as one dict per provider, keyed by the header's column names."""
    result = textingctl("providers", env=env)
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    return {row["name"]: row for row in (dict(zip(header.split("\t"), line.split("\t"))) for line in lines)}


def test_the_listing_shows_a_contracted_rate_and_the_rate_given_now(api, mocks):
    """p1 sells 20 a second: its limit is listed, and the rate the senders give it now, the
    contracted one until a 429 halves it; p2 has no limit, shown as `-`."""
    configured = providers(p1=";tps=20", p2="")
    env = {**STACK_ENV, "TEXTING_PROVIDERS": configured}
    post(api, new_number())
    drain(TEXTING_PROVIDERS=configured)
    rows = listing_rows(env)
    assert (rows["p1"]["limit"], rows["p1"]["current_rate"]) == ("20/s", "20/s"), rows
    assert (rows["p2"]["limit"], rows["p2"]["current_rate"]) == ("-", "-"), rows

    # A 429 from p1 halves the rate it is given (then it grows back, 5 % of 20 a second).
    mocks.configure("p1", rate_limit_rate=1.0, retry_after_seconds=0)
    for _ in range(5):
        post(api, new_number())
    run_sender(TEXTING_PROVIDERS=providers(p1=";tps=20;weight=1000", p2=""), TEXTING_BREAKER_FAILURES=1000)
    assert mocks.stats("p1")["answered_429"] > 0
    rows = listing_rows(env)
    assert rows["p1"]["limit"] == "20/s", rows
    current = rows["p1"]["current_rate"]
    assert current.endswith("/s") and 10 <= float(current[:-2]) < 20, rows
    # Listed as it is given now: grown back with the time since (here, 20 s: all of it).
    with psycopg.connect(DATABASE_URL, autocommit=True) as db:
        db.execute("UPDATE provider_rates SET filled_at = filled_at - interval '20 seconds' WHERE provider = 'p1'")
    assert listing_rows(env)["p1"]["current_rate"] == "20/s"

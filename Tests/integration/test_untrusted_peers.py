"""Providers are peers we do not control: whatever they answer, however they answer it, and
whatever they report, one bad answer or report affects its own message only, nothing is
sent twice because of it, and the sender neither stalls nor aborts. The providers here are
`HostileProvider`s (hostile_provider.py): raw sockets, any bytes at any pace."""
import os
import re
import subprocess
import threading
import time
import urllib.parse

import psycopg
import pytest
import requests

from conftest import (BASE_URL, DATABASE_URL, MOCK_BASE, STACK_ENV, count, new_number, run_sender, sign_callback, start_sender, textingctl,
                      wait_for)
from hostile_provider import Drip, HostileProvider, Hold, Huge, Json, Raw, Reset

FAST_RETRY = dict(TEXTING_BACKOFF_BASE_MS=60_000, TEXTING_BACKOFF_MAX_MS=60_000)


def _post(api, text):
    response = api.post_message(new_number(), text)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _row(db, message_id):
    return db.execute(
        """SELECT m.status::text, m.provider, m.provider_message_id, m.attempts, m.error_code, m.error_detail,
                  j.attempts, j.last_error, j.leased_by
           FROM messages m LEFT JOIN jobs j ON j.message_id = m.id WHERE m.public_id = %s""", (message_id,)).fetchone()


def _metric(name, **labels):
    text = requests.get(f"{BASE_URL}/metrics").text
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{re.escape(name)}{{{re.escape(wanted)}}} (\d+)$", text, re.M)
    return int(match.group(1)) if match else 0


def _by_text(answers, default):
    """A rule answering by the message's text: the first key found in it decides."""
    def rule(request):
        text = request.body.get("message", "")
        for key, answer in answers.items():
            if key in text:
                return answer() if callable(answer) else answer
        return default() if callable(default) else default
    return rule


def _accept(request):
    return Json(200, {"message_id": "h-" + request.key})


# --- 1. provider answers

def test_provider_id_with_a_nul_affects_only_its_own_message(api, db, empty_queue):
    # A 200 whose message_id holds U+0000 used to fail the whole recording round (the C
    # string was cut at the NUL: "malformed array literal"), abort the run and send every
    # message of the round again, forever.
    ids = [_post(api, f"ordinary {n}") for n in range(5)] + [_post(api, "poison")]
    rule = _by_text({"poison": Json(200, '{"message_id":"abc\\u0000def"}')}, lambda: None)
    with HostileProvider(lambda r: rule(r) or _accept(r)) as provider:
        result = run_sender(timeout=60, TEXTING_PROVIDERS=f"h1={provider.url}", **FAST_RETRY)
        sends = provider.sends_by_key()
    assert "run aborted" not in result.stderr, result.stderr
    for message_id in ids:
        status, provider_name, provider_id, *_ = _row(db, message_id)
        assert status == "sent" and provider_name == "h1", (message_id, status)
        assert sends.get(message_id) == 1, f"{message_id} was sent {sends.get(message_id)} times"
    assert _row(db, ids[-1])[2] is None, "an id with a NUL is not kept"
    assert _row(db, ids[0])[2] == "h-" + ids[0]


def test_a_provider_id_given_to_many_messages_stays_with_the_first(api, db, empty_queue):
    # A provider's id names one message of that provider. One that answers the same id for
    # every message (a fault on its side) must not fail the round that records them (they
    # are recorded together) nor send anything twice: the first message recorded keeps the
    # id, the others keep none, and their reports still apply by the URL they were given.
    first_round = [_post(api, f"same id {n}") for n in range(40)]
    with HostileProvider(lambda r: Json(200, {"message_id": "same-id"})) as provider:
        result = run_sender(timeout=60, TEXTING_PROVIDERS=f"h1={provider.url}", **FAST_RETRY)
        assert "run aborted" not in result.stderr, result.stderr
        second_round = [_post(api, f"same id again {n}") for n in range(3)]
        result = run_sender(timeout=60, TEXTING_PROVIDERS=f"h1={provider.url}", **FAST_RETRY)
        assert "run aborted" not in result.stderr, result.stderr
        sends = provider.sends_by_key()
        callbacks = {r.key: r.callback_url for r in provider.requests}
    ids = first_round + second_round
    assert all(sends.get(message_id) == 1 for message_id in ids), sends
    rows = {message_id: _row(db, message_id) for message_id in ids}
    assert all(row[0] == "sent" and row[1] == "h1" for row in rows.values()), rows
    holders = [message_id for message_id, row in rows.items() if row[2] == "same-id"]
    assert len(holders) == 1 and holders[0] in first_round, rows
    assert all(row[2] is None for message_id, row in rows.items() if message_id not in holders), rows
    # Another provider may use the same id for its own message.
    other = _post(api, "same id elsewhere")
    with HostileProvider(lambda r: Json(200, {"message_id": "same-id"})) as provider:
        run_sender(timeout=60, TEXTING_PROVIDERS=f"h2={provider.url}", **FAST_RETRY)
    assert _row(db, other)[:3] == ("sent", "h2", "same-id")
    # A message without the id is still reported on by its URL.
    without = next(message_id for message_id in ids if message_id not in holders)
    response = _report(callbacks[without], "delivered", "same-id")
    assert response.status_code == 200 and response.json()["applied"] is True, response.text
    assert api.status_of(without) == "delivered"


HOSTILE_ANSWERS = {
    # text in the message: (answer, what it must become: sent / retry / failed)
    "ctrl-id": (Json(200, '{"message_id":"a\\r\\nb"}'), "sent"),
    "long-id": (Json(200, {"message_id": "x" * 10_000}), "sent"),
    "bom-ok": (Json(200, b'\xef\xbb\xbf{"message_id":"bom"}'), "sent"),
    "empty-2xx": (Json(204, b""), "retry"),
    "html-2xx": (Json(200, b"<html><body>Welcome to nginx!</body></html>"), "retry"),
    "not-utf8": (Json(200, b'{"message_id":"\xff\xfe"}'), "retry"),
    "redirect": (Json(302, {"message_id": "moved"}, headers=(("Location", "http://127.0.0.1:9/elsewhere"),)), "retry"),
    "huge-body": (Huge(200, 100 * 1024 * 1024), "retry"),
    "huge-headers": (Raw(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (n, b"h" * 1000) for n in range(200))
                         + b'Content-Length: 20\r\n\r\n{"message_id":"big"}'), "retry"),
    "drip": (Drip(interval=0.2, total=1000), "retry"),
    "reset": (Reset(), "retry"),
    "garbage-status": (Raw(b"HTTP/1.1 999 Whatever\r\nContent-Length: 2\r\n\r\n{}"), "retry"),
    "not-http": (Raw(b"\x00\x01\x02 this is not HTTP\r\n\r\n"), "retry"),
    "forged-log": (Json(400, b"no\r\nSenderCron error: run aborted: forged\x00\x1b[31m"), "failed"),
}


def test_every_kind_of_hostile_answer_is_classified_and_bounded(api, db, empty_queue):
    ids = {key: _post(api, f"case {key}") for key in HOSTILE_ANSWERS}
    # A provider that echoes the number and the text in its refusal: neither may reach a log.
    echoed = api.post_message(new_number(), "echo: the secret code is 424242").json()
    rule = _by_text({key: answer for key, (answer, _) in HOSTILE_ANSWERS.items()},
                    None)
    echo = lambda r: Json(400, f"cannot send {r.body['message']!r} to {r.body['to_number']} ({r.body['to_number'][1:]})")  # noqa: E731
    with HostileProvider(lambda r: echo(r) if r.body["message"].startswith("echo:") else rule(r)) as provider:
        result = run_sender(timeout=120, TEXTING_PROVIDERS=f"h1={provider.url}", TEXTING_PROVIDER_TIMEOUT_MS=1500, **FAST_RETRY)
        sends = provider.sends_by_key()
    for key, (_, expected) in HOSTILE_ANSWERS.items():
        status, provider_name, provider_id, attempts, error_code, error_detail, job_attempts, last_error, _ = _row(db, ids[key])
        assert sends.get(ids[key]) == 1, f"{key}: sent {sends.get(ids[key])} times"
        if expected == "sent":
            assert status == "sent", (key, status, last_error)
        elif expected == "retry":
            assert status in ("queued", "sending") and job_attempts == 1 and last_error, (key, status, last_error)
            assert not re.search(r"[\x00-\x1f\x7f]", last_error), (key, last_error)
            assert len(last_error) <= 500, key
        else:
            assert status == "failed" and error_code == "provider_rejected", (key, status, error_code)
            assert not re.search(r"[\x00-\x1f\x7f]", error_detail), error_detail
    assert _row(db, ids["long-id"])[2] is None and _row(db, ids["ctrl-id"])[2] is None
    assert _row(db, ids["bom-ok"])[2] == "bom"
    # Nothing a provider sent can start a log line of its own.
    for line in result.stderr.splitlines():
        assert line.startswith("SenderCron ") and not line.startswith("SenderCron error: run aborted"), \
            f"a log line SenderCron did not write: {line!r}"
    assert _row(db, echoed["id"])[0] == "failed"
    for secret in (echoed["to_number"], echoed["to_number"][1:], "424242"):
        assert secret not in result.stderr, f"{secret} reached SenderCron's log"
    # (The slow drip, 200 s at full length, and the huge answers were cut off by the timeout
    # and the size limit: run_sender's own time limit would have failed the test otherwise.)


# --- 2. a deadlock between an `invalid` report and the sender's recording round

def _waiting_on_locks(db):
    return count(db, """SELECT count(*) FROM pg_stat_activity
                        WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()""")


def test_invalid_report_crossing_a_recording_round_deadlocks_neither(api, db, empty_queue):
    # The interleaving, replayed with gates (connections of the test holding job locks):
    # M1 and M2 go to one number; the provider accepts M1 and fails M2 (500), and both
    # outcomes are recorded in one round, which the gate on M2's job stops there; then an
    # early `invalid` for M1 arrives. Before one lock order, the round held M2's job and
    # wanted M1, the report held M1 and wanted M2's job: PostgreSQL aborted one of them (the
    # run, or a 500 to the provider). Now both take the jobs first, then the messages.
    # To get both outcomes into one round, a first round (M0, another number, answered at
    # once) is held by a second gate on M0's job until both answers are in.
    number = new_number()
    m0 = _post(api, "zero goes first")
    m1 = api.post_message(number, "first accepted").json()["id"]
    m2 = api.post_message(number, "second fails").json()["id"]
    go, rest = threading.Event(), threading.Event()
    answered = []

    def rule(request):
        text = request.body["message"]
        (go if text.startswith("zero") else rest).wait(30)
        answered.append(text)
        return Json(500, "busy") if text.startswith("second") else _accept(request)

    def lock_job(connection, message_id):
        connection.execute("SELECT 1 FROM jobs WHERE message_id = (SELECT id FROM messages WHERE public_id = %s) FOR UPDATE", (message_id,))

    with HostileProvider(rule) as provider, psycopg.connect(DATABASE_URL) as gate0, \
            psycopg.connect(DATABASE_URL) as gate2:
        sender = start_sender(TEXTING_PROVIDERS=f"h1={provider.url}", **FAST_RETRY)
        try:
            # The jobs are claimed (leased, not row-locked) once the sends arrive: gate them now.
            wait_for(lambda: len(provider.requests) >= 3, timeout=30, what="the three sends")
            lock_job(gate0, m0)
            lock_job(gate2, m2)
            go.set()
            wait_for(lambda: _waiting_on_locks(db) >= 1, timeout=30, what="the first round to wait for M0's gate")
            rest.set()
            wait_for(lambda: len(answered) == 3, timeout=30, what="the answers for M1 and M2")
            time.sleep(0.5)  # for the pump to hand both to the recorder (arrangement, not an assertion)
            gate0.rollback()
            wait_for(lambda: _waiting_on_locks(db) >= 1 and count(db, "SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id "
                                                                       "WHERE m.public_id = %s", m0) == 0,
                     timeout=30, what="the second round to wait for M2's gate")
            callback = next(r.callback_url for r in provider.requests if r.body["message"].startswith("first"))
            report = {}
            reporter = threading.Thread(target=lambda: report.update(response=_report(callback, "invalid", "h-" + m1)))
            reporter.start()
            wait_for(lambda: _waiting_on_locks(db) >= 2, timeout=30, what="the report to wait too")
            gate2.rollback()
            reporter.join(timeout=60)
            out, err = sender.communicate(timeout=60)
        finally:
            if sender.poll() is None:
                sender.kill()
    assert sender.returncode == 0 and "run aborted" not in err, err
    assert report["response"].status_code == 200, report["response"].text
    assert report["response"].json()["applied"] is True
    assert _row(db, m1)[0] == "invalid"
    assert _row(db, m2)[0] == "failed" and _row(db, m2)[4] == "phone_number_inactive"
    assert count(db, "SELECT count(*) FROM phone_numbers WHERE number = %s AND status = 'inactive'", number) == 1


# --- 3. reports from attempts that no longer hold the message

def _report(callback_url, status, provider_id):
    return requests.post(callback_url.replace(STACK_ENV["TEXTING_PUBLIC_BASE_URL"], BASE_URL),
                         json={"status": status, "message_id": provider_id}, timeout=30)


def test_reports_from_a_provider_that_failed_or_timed_out_change_nothing(api, db, empty_queue):
    message_id = _post(api, "retried elsewhere")
    number = api.get_message(message_id).json()["to_number"]
    with HostileProvider(lambda r: Json(503, "down")) as failing, HostileProvider(_accept) as working:
        run_sender(timeout=60, TEXTING_PROVIDERS=f"h1={failing.url}", TEXTING_BACKOFF_BASE_MS=10, TEXTING_BACKOFF_MAX_MS=10)
        time.sleep(0.05)
        run_sender(timeout=60, TEXTING_PROVIDERS=f"h2={working.url}", **FAST_RETRY)
        stale_url = failing.requests[0].callback_url
        current_url = working.requests[0].callback_url
    assert api.status_of(message_id) == "sent"
    for status in ("failed", "invalid", "delivered"):
        response = _report(stale_url, status, "h1-whatever")
        assert response.status_code == 200 and response.json()["applied"] is False, response.text
    assert api.status_of(message_id) == "sent"
    assert count(db, "SELECT count(*) FROM phone_numbers WHERE number = %s AND status = 'active'", number) == 1
    assert count(db, """SELECT count(*) FROM delivery_events e JOIN messages m ON m.id = e.message_id
                        WHERE m.public_id = %s AND NOT e.applied AND e.attempt = '0.1@h1'""", message_id) == 3
    # The report with another provider id on the current URL is foreign too; the right one applies.
    assert _report(current_url, "failed", "h-someone-else").json()["applied"] is False
    assert _report(current_url, "delivered", "h-" + message_id).json()["applied"] is True
    assert api.status_of(message_id) == "delivered"


def test_an_old_callback_url_cannot_undo_a_requeue(api, db, empty_queue):
    message_id = _post(api, "rejected then requeued")
    number = api.get_message(message_id).json()["to_number"]
    with HostileProvider(lambda r: Json(400, "no")) as rejecting:
        run_sender(timeout=60, TEXTING_PROVIDERS=f"h1={rejecting.url}", **FAST_RETRY)
        old_url = rejecting.requests[0].callback_url
    assert api.status_of(message_id) == "failed"
    result = textingctl("messages", "requeue", message_id)
    assert result.returncode == 0, result.stderr
    # Attempt numbers restart after a requeue; the URL of the old attempt 1 is not the new one's.
    for status in ("failed", "invalid"):
        assert _report(old_url, status, "h1-old").json()["applied"] is False
    assert api.status_of(message_id) == "queued"
    assert count(db, "SELECT count(*) FROM phone_numbers WHERE number = %s AND status = 'active'", number) == 1


def test_an_early_report_of_the_attempt_in_flight_still_counts(api, db, empty_queue):
    # The provider reports before it answers: the attempt in flight holds the message.
    message_id = _post(api, "early report")
    reports = {}

    def rule(request):
        reports["early"] = _report(request.callback_url, "delivered", "h-" + request.key)
        return _accept(request)
    with HostileProvider(rule) as provider:
        run_sender(timeout=60, TEXTING_PROVIDERS=f"h1={provider.url}", **FAST_RETRY)
    assert reports["early"].status_code == 200 and reports["early"].json()["applied"] is True, reports["early"].text
    assert api.status_of(message_id) == "delivered"


def test_repeated_reports_keep_a_bounded_audit_trail(api, db, empty_queue):
    message_id = _post(api, "reported again and again")
    with HostileProvider(_accept) as provider:
        run_sender(timeout=60, TEXTING_PROVIDERS=f"h1={provider.url}", **FAST_RETRY)
        url = provider.requests[0].callback_url
    answers = [_report(url, "delivered", "h-" + message_id) for _ in range(30)]
    assert all(a.status_code == 200 for a in answers)
    assert [a.json()["applied"] for a in answers].count(True) == 1
    kept = count(db, "SELECT count(*) FROM delivery_events e JOIN messages m ON m.id = e.message_id WHERE m.public_id = %s", message_id)
    assert kept == 20, kept


# --- 4. a sender that stalled past its lease

def test_a_stalled_sender_changes_nothing_once_its_lease_was_taken(api, db, empty_queue):
    # Sender A's provider holds its answer until sender B is done; A's lease is 1 s. B claims
    # the job when the lease runs out and sends it through another provider. A's late answer
    # must not overwrite what B recorded.
    message_id = _post(api, "stalled sender")
    before = _metric("texting_events_total", event="sender_stale_outcome")
    release = threading.Event()
    with HostileProvider(lambda r: Hold(release, _accept(r), timeout=90)) as slow, HostileProvider(_accept) as fast:
        a = start_sender(TEXTING_PROVIDERS=f"h1={slow.url}", TEXTING_SENDER_LEASE_SECONDS=1, TEXTING_PROVIDER_TIMEOUT_MS=100_000, **FAST_RETRY)
        wait_for(lambda: len(slow.requests) == 1, timeout=30, what="sender A's send")
        wait_for(lambda: count(db, """SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id
                                      WHERE m.public_id = %s AND j.leased_until < now()""", message_id) == 1,
                 timeout=30, what="A's lease to run out")
        run_sender(timeout=60, TEXTING_PROVIDERS=f"h2={fast.url}", TEXTING_SENDER_LEASE_SECONDS=1, **FAST_RETRY)
        recorded_by_b = _row(db, message_id)
        release.set()
        out, err = a.communicate(timeout=60)
    assert recorded_by_b[:3] == ("sent", "h2", "h-" + message_id), recorded_by_b
    assert a.returncode == 0, err
    assert "lease of message" in err and "stale=1" in err, err
    assert _row(db, message_id)[:4] == recorded_by_b[:4], "the stalled sender wrote over the other's record"
    assert _metric("texting_events_total", event="sender_stale_outcome") == before + 1


def test_a_lock_held_too_long_ends_the_wait_with_an_error(api, db, empty_queue):
    # TEXTING_DATABASE_LOCK_TIMEOUT_MS: an operator command waiting for a row another
    # transaction holds gives up instead of waiting for ever.
    message_id = _post(api, "locked away")
    db.execute("UPDATE messages SET status = 'failed' WHERE public_id = %s", (message_id,))
    db.execute("DELETE FROM jobs WHERE message_id = (SELECT id FROM messages WHERE public_id = %s)", (message_id,))
    with psycopg.connect(DATABASE_URL) as holder:
        holder.execute("SELECT 1 FROM messages WHERE public_id = %s FOR UPDATE", (message_id,))
        result = subprocess.run([os.path.join(os.environ["TEXTING_BIN"], "textingctl"), "messages", "requeue", message_id],
                                env={**os.environ, **STACK_ENV, "TEXTING_DATABASE_LOCK_TIMEOUT_MS": "300"},
                                capture_output=True, text=True, timeout=20)
        holder.rollback()
    assert result.returncode != 0 and "55P03" in result.stderr, (result.returncode, result.stderr)

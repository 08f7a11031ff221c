"""The operator console (/admin, AdminFCGI) through the shipped nginx site: access (operator
tokens, the session cookie, CSRF tokens, nginx's address rule), escaping of hostile data, the
audit log, and an operator's round in a real browser (Debian's Chromium, headless, driven by
Selenium through Debian's chromedriver), with a screenshot of each page kept under
$RUN_DIR/screenshots/."""
import datetime
import os
import re
import shutil
import socket
import uuid

import psycopg
import pytest
import requests

from conftest import (BASE_URL, RUN_DIR, Api, count, create_api_key, new_number, run_sender, textingctl, wait_for)

SCREENSHOTS = os.path.join(RUN_DIR, "screenshots")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


# --- helpers ----------------------------------------------------------------------------------

def _operator(name="console-test"):
    """A new operator's token (textingctl operators create, printed once)."""
    result = textingctl("operators", "create", name)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert re.fullmatch(r"txo_[A-Za-z0-9_-]{43}", token), token
    return token


class Console:
    """A signed-in operator over plain HTTP. The session cookie is `Secure`, which requests
    keeps off plain http, so it is sent by hand, as a browser on 127.0.0.1 sends it."""

    def __init__(self, token):
        response = requests.post(f"{BASE_URL}/admin/login", data={"token": token}, allow_redirects=False)
        assert response.status_code == 303, response.text
        assert response.headers["Location"] == "/admin/"
        self.set_cookie = response.headers["Set-Cookie"]
        self.cookie = re.match(r"texting_admin=([A-Za-z0-9_-]+);", self.set_cookie).group(1)

    def get(self, path, **kwargs):
        return requests.get(f"{BASE_URL}{path}", headers={"Cookie": f"texting_admin={self.cookie}"}, allow_redirects=False, **kwargs)

    def post(self, path, data, headers=None):
        return requests.post(f"{BASE_URL}{path}", data=data, headers={"Cookie": f"texting_admin={self.cookie}", **(headers or {})},
                             allow_redirects=False)

    def csrf(self, path="/admin/"):
        page = self.get(path)
        assert page.status_code == 200, page.text
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _later():
    """A send_at a month ahead: the message waits in the queue, its job not yet due."""
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_id(db, secret):
    return db.execute("SELECT public_id::text FROM api_keys WHERE key_hash = encode(sha256(%s::bytea), 'hex')", (secret,)).fetchone()[0]


def _key_works(secret):
    return Api(secret).raw("GET", "/messages?limit=1").status_code == 200


def _audit(db, action, target):
    return db.execute("SELECT actor, channel, remote_address, outcome FROM audit_log WHERE action = %s AND target = %s ORDER BY id",
                      (action, target)).fetchall()


def _failed_message(api, mocks, db):
    """A message the provider accepted and then reported failed: status failed, error code
    provider_reported_failed. Its id."""
    for name in ("p1", "p2"):
        mocks.configure(name, callback_delay_ms=-1)  # no automatic callback: the test reports
    response = api.post_message(new_number(), "Console requeue")
    assert response.status_code == 201, response.text
    run_sender()
    message = api.get_message(response.json()["id"]).json()
    assert message["status"] == "sent", message
    report = api.callback(message["id"], {"status": "failed", "message_id": message["provider_message_id"]})
    assert report.status_code == 200 and report.json()["applied"], report.text
    assert api.status_of(message["id"]) == "failed"
    return message["id"]


# --- access, over plain HTTP ------------------------------------------------------------------

def test_sign_in_sets_a_strict_secure_httponly_cookie_with_an_expiry():
    console = Console(_operator())
    attributes = [part.strip() for part in console.set_cookie.split(";")]
    assert {"Path=/admin", "HttpOnly", "Secure", "SameSite=Strict"} <= set(attributes), attributes
    assert "Max-Age=28800" in attributes
    assert console.get("/admin/").status_code == 200


def test_pages_without_a_session_lead_to_sign_in_and_actions_are_refused(db):
    secret = create_api_key("console-no-session")
    key_id = _key_id(db, secret)
    page = requests.get(f"{BASE_URL}/admin/keys", allow_redirects=False)
    assert page.status_code == 303 and page.headers["Location"] == "/admin/login"
    for cookie in ({}, {"Cookie": "texting_admin=made-up-session"}):
        refused = requests.post(f"{BASE_URL}/admin/keys/revoke", data={"id": key_id, "csrf_token": "x"}, headers=cookie, allow_redirects=False)
        assert refused.status_code == 403, refused.text
    assert _key_works(secret)
    assert _audit(db, "keys.revoke", key_id) == []


def test_a_wrong_or_missing_csrf_token_is_refused_and_changes_nothing(db):
    console = Console(_operator())
    secret = create_api_key("console-csrf")
    key_id = _key_id(db, secret)
    csrf = console.csrf("/admin/keys")
    for data in ({"id": key_id}, {"id": key_id, "csrf_token": ""}, {"id": key_id, "csrf_token": csrf[:-1] + ("A" if csrf[-1] != "A" else "B")}):
        refused = console.post("/admin/keys/revoke", data)
        assert refused.status_code == 403, refused.text
        assert "CSRF" in refused.text
    # Another operator's CSRF token does not open this operator's session either.
    other = Console(_operator("console-other")).csrf()
    assert console.post("/admin/keys/revoke", {"id": key_id, "csrf_token": other}).status_code == 403
    # A form from another site (its Origin) is refused even with the right token.
    forged = console.post("/admin/keys/revoke", {"id": key_id, "csrf_token": csrf}, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert _key_works(secret) and _audit(db, "keys.revoke", key_id) == []
    done = console.post("/admin/keys/revoke", {"id": key_id, "csrf_token": csrf})
    assert done.status_code == 200, done.text
    assert not _key_works(secret)


def test_an_api_key_or_a_revoked_token_does_not_open_the_console(db):
    secret = create_api_key("console-api-key")
    refused = requests.post(f"{BASE_URL}/admin/login", data={"token": secret}, allow_redirects=False)
    assert refused.status_code == 401 and "Set-Cookie" not in refused.headers
    token = _operator("console-revoked")
    console = Console(token)
    operator_id = db.execute("SELECT public_id::text FROM operators WHERE token_hash = encode(sha256(%s::bytea), 'hex')", (token,)).fetchone()[0]
    revoked = textingctl("operators", "revoke", operator_id)
    assert revoked.returncode == 0, revoked.stderr
    # The session ended with the operator, and the token opens no new one.
    assert console.get("/admin/").status_code == 303
    assert requests.post(f"{BASE_URL}/admin/login", data={"token": token}, allow_redirects=False).status_code == 401
    assert _audit(db, "operators.revoke", operator_id)[0][1] == "textingctl"


def test_signing_out_ends_the_session(db):
    console = Console(_operator("console-sign-out"))
    signed_out = console.post("/admin/logout", {"csrf_token": console.csrf()})
    assert signed_out.status_code == 303 and "Max-Age=0" in signed_out.headers["Set-Cookie"]
    assert console.get("/admin/").status_code == 303


def test_nginx_serves_the_console_only_to_allowed_addresses():
    port = int(BASE_URL.rsplit(":", 1)[1].split("/")[0])
    # 127.0.0.2 is loopback on Linux too, but not an address the shipped site allows.
    sock = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0), timeout=10)
    try:
        sock.sendall(b"GET /admin/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
    assert requests.get(f"{BASE_URL}/admin/login").status_code == 200


def test_every_page_forbids_scripts_and_escapes_hostile_data(api, db):
    console = Console(_operator("console-escaping"))
    hostile = "<script>alert(1)</script>"
    response = api.post_message(new_number(), "hi", send_at=_later())
    assert response.status_code == 201, response.text
    # A provider's answer is untrusted text: it may hold markup, and so may an error code.
    db.execute("""UPDATE messages SET status = 'failed', error_code = %s, error_detail = %s, failed_at = now()
                  WHERE public_id = %s""", ("x<b>y", hostile, response.json()["id"]))
    db.execute("DELETE FROM jobs WHERE message_id = (SELECT id FROM messages WHERE public_id = %s)", (response.json()["id"],))
    page = console.get("/admin/failed", params={"code": "x<b>y"})
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "x&lt;b&gt;y" in page.text
    assert "<script" not in page.text and "<b>" not in page.text
    for path in ("/admin/", "/admin/messages", "/admin/failed", "/admin/numbers", "/admin/providers", "/admin/keys", "/admin/audit", "/admin/login"):
        answer = console.get(path)
        assert answer.status_code == 200, path
        policy = answer.headers["Content-Security-Policy"]
        assert policy.startswith("default-src 'none'; style-src 'self'") and "script-src" not in policy, policy
        assert answer.headers["X-Frame-Options"] == "DENY" and answer.headers["Cache-Control"] == "no-store"
        assert '<meta name="viewport"' in answer.text and "<script" not in answer.text


def test_textingctl_actions_are_in_the_consoles_audit_log(api, mocks, db, empty_queue):
    message_id = _failed_message(api, mocks, db)
    result = textingctl("messages", "requeue", message_id)
    assert result.returncode == 0, result.stderr
    [(actor, channel, remote, outcome)] = _audit(db, "messages.requeue", message_id)
    assert channel == "textingctl" and remote is None and outcome == "requeued" and actor
    page = Console(_operator("console-audit")).get("/admin/audit")
    assert message_id in page.text and "textingctl" in page.text


def test_the_audit_log_is_read_a_page_at_a_time_back_to_its_first_entry(db):
    """100 entries to a page, newest first; "Older entries" leads back through every entry
    once, however long the log."""
    marker = "paging-" + uuid.uuid4().hex[:8]
    db.execute("""INSERT INTO audit_log (actor, channel, action, target, outcome)
                  SELECT 'pager', 'console', 'test.paging', %s || '-' || lpad(g::text, 3, '0'), 'ok' FROM generate_series(1, 250) g""",
               (marker,))
    console = Console(_operator("console-paging"))
    seen, path = [], "/admin/audit"
    for _ in range(50):  # bounded: the log holds a few hundred entries here
        page = console.get(path).text
        seen += re.findall(rf"{marker}-(\d{{3}})", page)
        older = re.search(r'href="(/admin/audit\?before=\d+)">Older entries', page)
        if not older:
            break
        path = older.group(1)
    assert seen == [f"{n:03d}" for n in range(250, 0, -1)], seen[:5]
    refused = console.get("/admin/audit", params={"before": "x'; DROP"})
    assert refused.status_code == 200 and 'class="refused"' in refused.text and f"{marker}-250" in refused.text


def test_requeue_all_with_an_error_code_requeues_only_that_codes_failed_messages(api, mocks, db, empty_queue):
    code = "console_test_" + uuid.uuid4().hex[:8]
    ids = []
    for _ in range(3):
        response = api.post_message(new_number(), "batch", send_at=_later())
        assert response.status_code == 201
        ids.append(response.json()["id"])
    db.execute("DELETE FROM jobs WHERE message_id IN (SELECT id FROM messages WHERE public_id = ANY(%s::uuid[]))", (ids,))
    db.execute("UPDATE messages SET status = 'failed', error_code = %s, failed_at = now() WHERE public_id = ANY(%s::uuid[])", (code, ids[:2]))
    db.execute("UPDATE messages SET status = 'failed', error_code = 'other_code', failed_at = now() WHERE public_id = %s", (ids[2],))
    console = Console(_operator("console-requeue-all"))
    confirm = console.get("/admin/failed/requeue", params={"code": code})
    assert confirm.status_code == 200 and "2 match now" in confirm.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text).group(1)
    done = console.post("/admin/failed/requeue", {"code": code, "csrf_token": csrf})
    assert done.status_code == 200 and "Requeued 2 failed messages" in done.text, done.text
    statuses = dict(db.execute("SELECT public_id::text, status::text FROM messages WHERE public_id = ANY(%s::uuid[])", (ids,)).fetchall())
    assert [statuses[i] for i in ids] == ["queued", "queued", "failed"]
    assert count(db, "SELECT count(*) FROM jobs WHERE message_id IN (SELECT id FROM messages WHERE public_id = ANY(%s::uuid[]))", ids) == 2
    assert _audit(db, "messages.requeue_all", f"error_code={code}")[0][3] == "requeued 2, refused 0"


def test_messages_are_found_by_id_number_client_ref_and_status_and_tell_their_story(api, mocks, db, empty_queue):
    number = new_number()
    hostile_body = "<script>alert('body')</script> & more"
    hostile_ref = "<i>ref-" + uuid.uuid4().hex[:8]
    response = api.post_message(number, hostile_body, client_ref=hostile_ref)
    assert response.status_code == 201, response.text
    message_id = response.json()["id"]
    run_sender()
    wait_for(lambda: api.status_of(message_id) == "delivered", what="the mock provider's delivery report")
    console = Console(_operator("console-search"))
    for by, text in (("id", message_id), ("number", number), ("client_ref", hostile_ref), ("status", "delivered")):
        found = console.get("/admin/messages", params={"q": text, "by": by})
        assert found.status_code == 200, (by, found.text)
        assert f'href="/admin/messages/{message_id}"' in found.text, by
        assert "<script" not in found.text and "<i>" not in found.text, by
        # No index holds the status (migration 0032): the page says how far a search by it looks.
        assert ("among each key's newest 500" in found.text) == (by == "status"), by
    nothing = console.get("/admin/messages", params={"q": "+15550000000", "by": "number"})
    assert "0 found" in nothing.text and message_id not in nothing.text
    refused = console.get("/admin/messages", params={"q": "not-a-uuid", "by": "id"})
    assert refused.status_code == 200 and 'class="refused"' in refused.text
    story = console.get(f"/admin/messages/{message_id}")
    assert story.status_code == 200
    assert "&lt;script&gt;alert(&#39;body&#39;)&lt;/script&gt; &amp; more" in story.text and "<script" not in story.text
    assert "&lt;i&gt;ref-" in story.text
    for seen in ("message.sent", "message.delivered", "applied", "delivered"):
        assert seen in story.text, seen
    assert console.get(f"/admin/messages/{uuid.uuid4()}").status_code == 404


def test_a_message_s_story_shows_each_attempt_with_its_provider_and_answer_and_the_overview_each_provider_s_last_hour(
        api, mocks, db, empty_queue):
    """Every send a provider did not accept is kept (send_failures) with the accepting one the
    message records: the story lists them in order; the overview shows each provider's answers
    in the last hour and its last failure (provider_answer_minutes, provider_health)."""
    db.execute("DELETE FROM provider_answer_minutes")
    mocks.configure_all(failure_rate=1)
    retried = api.post_message(new_number(), "Tried twice")
    assert retried.status_code == 201, retried.text
    retried = retried.json()["id"]
    run_sender()
    first = db.execute("""SELECT f.provider, f.attempt, f.final FROM send_failures f JOIN messages m ON m.id = f.message_id
                          WHERE m.public_id = %s""", (retried,)).fetchall()
    assert len(first) == 1 and first[0][1:] == (1, False), first
    failed_on = first[0][0]
    # The retry is due at once (not after the backoff), and the providers are well again.
    mocks.configure_all(failure_rate=0, callback_delay_ms=-1)
    db.execute("UPDATE jobs SET run_at = now() WHERE message_id = (SELECT id FROM messages WHERE public_id = %s)", (retried,))
    run_sender()
    sent = api.get_message(retried).json()
    assert sent["status"] == "sent" and sent["attempts"] == 2, sent
    # A rejection fails the message at its first attempt, with the provider's code.
    mocks.configure_all(reject_rate=1)
    rejected = api.post_message(new_number(), "Refused").json()["id"]
    run_sender()
    assert api.status_of(rejected) == "failed"

    console = Console(_operator("console-attempts"))
    story = console.get(f"/admin/messages/{retried}").text
    attempts = re.search(r"<h2>Attempts</h2>.*?<table>(.*?)</table>", story, re.S).group(1)
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", attempts, re.S)]
    rows = [row for row in rows if row]
    assert [row[1:4] for row in rows] == [["1", failed_on, "retried"], ["2", sent["provider"], "accepted"]], rows
    assert "provider answered 500" in rows[0][4] and "simulated provider failure" in rows[0][4], rows
    assert sent["provider_message_id"] in rows[1][4], rows
    story = console.get(f"/admin/messages/{rejected}").text
    assert "failed the message" in story and "provider rejected the message (400)" in story and "21610" in story

    overview = console.get("/admin/").text
    providers = re.search(r"<h2>Providers</h2>.*?<table>(.*?)</table>", overview, re.S).group(1)
    assert "accepted (last hour)" in providers and "last failure" in providers
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", providers, re.S):
        found = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if found:
            cells[found[0]] = found
    # The providers' answers to these three messages: one 500, one acceptance, one rejection
    # (each on the provider the balancer chose).
    answers = [sum(int(cells[name][column]) for name in ("p1", "p2")) for column in (3, 4, 5)]
    assert answers == [1, 1, 1], cells
    rejected_by = db.execute("SELECT provider FROM messages WHERE public_id = %s", (rejected,)).fetchone()[0]
    assert "provider rejected the message (400)" in cells[rejected_by][6], cells
    # textingctl providers shows the same.
    listing = textingctl("providers").stdout.splitlines()
    header = listing[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in listing[1:]]
    recent = [row["last_hour_accepted/temporary/permanent"].split("/") for row in rows]
    assert [sum(int(r[i]) for r in recent) for i in range(3)] == [1, 1, 1], rows
    assert "provider rejected the message (400)" in next(r for r in rows if r["name"] == rejected_by)["last_failure"], rows


def test_a_provider_s_answers_per_minute_are_a_ring_of_the_last_hour(db):
    """provider_answer_minutes keeps one slot per minute of the hour: a slot still holding the
    minute an hour ago starts again from this round's count; this minute's rounds add up; a
    round whose transaction began before the slot's minute adds to it (nothing lost)."""
    statement = textingctl("sql", "provider_answers.count").stdout.encode()
    db.execute("DELETE FROM provider_answer_minutes WHERE provider = 'ring'")
    slot = db.execute("SELECT (epoch_ms(now()) / 60000 % 60)::smallint").fetchone()[0]
    db.execute("""INSERT INTO provider_answer_minutes VALUES ('ring', 'accepted', %s, date_trunc('minute', now()) - interval '1 hour', 50)""",
               (slot,))

    def count(accepted, temporary=0):
        result = db.pgconn.exec_params(statement, [b"ring", str(accepted).encode(), str(temporary).encode(), b"0"])
        assert result.status == psycopg.pq.ExecStatus.COMMAND_OK, result.error_message
        return dict(((o, int(s)), c) for o, s, c in db.execute(
            "SELECT outcome, slot, count FROM provider_answer_minutes WHERE provider = 'ring' AND minute > now() - interval '1 hour'").fetchall())

    # (A round at the very end of a minute may land in the next slot: the sums hold either way.)
    first = count(2)
    assert sum(c for (o, _), c in first.items() if o == "accepted") == 2, first
    second = count(3, temporary=1)
    assert sum(c for (o, _), c in second.items() if o == "accepted") == 5, second
    assert sum(c for (o, _), c in second.items() if o == "temporary_failure") == 1, second
    # A slot written by a later minute than this round's transaction: added to, not reset.
    db.execute("UPDATE provider_answer_minutes SET minute = minute + interval '1 minute' WHERE provider = 'ring'")
    third = count(4)
    assert sum(c for (o, _), c in third.items() if o == "accepted") == 9, third


def test_an_inactive_number_is_reactivated_from_the_numbers_page(api, mocks, db, empty_queue):
    for name in ("p1", "p2"):
        mocks.configure(name, callback_delay_ms=-1)
    number = new_number()
    response = api.post_message(number)
    assert response.status_code == 201
    run_sender()
    sent = api.get_message(response.json()["id"]).json()
    invalid = api.callback(sent["id"], {"status": "invalid", "message_id": sent["provider_message_id"]})
    assert invalid.status_code == 200 and invalid.json()["applied"], invalid.text
    assert api.post_message(number).status_code == 422
    console = Console(_operator("console-numbers"))
    page = console.get("/admin/numbers")
    assert number in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = console.post("/admin/numbers/reactivate", {"number": number, "csrf_token": csrf})
    assert done.status_code == 200 and f"Reactivated {number}" in done.text, done.text
    assert count(db, "SELECT count(*) FROM phone_numbers WHERE number = %s AND status = 'active'", number) == 1
    assert api.post_message(number).status_code == 201
    assert number not in console.get("/admin/numbers").text
    [(actor, channel, remote, outcome)] = _audit(db, "numbers.reactivate", number)
    assert (actor, channel, remote, outcome) == ("console-numbers", "console", "127.0.0.1", "reactivated")


def test_an_opted_out_number_is_opted_in_from_the_numbers_page_with_a_reason(api, db):
    number = new_number()
    added = textingctl("optouts", "add", number, "complaint", "by", "phone")
    assert added.returncode == 0, added.stderr
    assert api.post_message(number).status_code == 422
    [(_, channel, remote, outcome)] = _audit(db, "optouts.add", number)
    assert channel == "textingctl" and remote is None and outcome.startswith("opted out")
    console = Console(_operator("console-opt-in"))
    page = console.get("/admin/numbers")
    assert number in page.text and "complaint by phone" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    no_reason = console.post("/admin/numbers/opt-in", {"number": number, "reason": " ", "csrf_token": csrf})
    assert no_reason.status_code == 409 and api.post_message(number).status_code == 422
    done = console.post("/admin/numbers/opt-in", {"number": number, "reason": "consent by email", "csrf_token": csrf})
    assert done.status_code == 200 and f"{number} opted in" in done.text, done.text
    assert api.post_message(number).status_code == 201
    [(actor, channel, remote, outcome)] = _audit(db, "optouts.remove", number)
    assert (actor, channel, remote, outcome) == ("console-opt-in", "console", "127.0.0.1", "opted in: consent by email")


def test_a_provider_is_paused_and_resumed_from_the_providers_page(db):
    console = Console(_operator("console-providers"))
    csrf = console.csrf("/admin/providers")
    try:
        paused = console.post("/admin/providers/pause", {"name": "p2", "reason": "carrier <incident>", "csrf_token": csrf})
        assert paused.status_code == 200 and "Paused p2" in paused.text, paused.text
        row = db.execute("SELECT paused_by, pause_reason FROM provider_health WHERE provider = 'p2' AND paused_at IS NOT NULL").fetchone()
        assert row == ("console-providers", "carrier <incident>")
        listed = textingctl("providers")
        assert re.search(r"^p2\tpaused\t", listed.stdout, re.M), listed.stdout
        page = console.get("/admin/providers")
        assert "carrier &lt;incident&gt;" in page.text and "Resume" in page.text
        unknown = console.post("/admin/providers/pause", {"name": "nope", "csrf_token": csrf})
        assert unknown.status_code == 409
    finally:
        resumed = console.post("/admin/providers/resume", {"name": "p2", "csrf_token": csrf})
    assert resumed.status_code == 200 and "Resumed p2" in resumed.text, resumed.text
    assert count(db, "SELECT count(*) FROM provider_health WHERE provider = 'p2' AND paused_at IS NOT NULL") == 0
    assert [entry[3] for entry in _audit(db, "providers.pause", "p2")][-1] == "paused: carrier <incident>"
    assert _audit(db, "providers.resume", "p2")[-1][3] == "resumed"


# --- an operator's round in a real browser ------------------------------------------------------

@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are missing: `scripts/stack deps test` installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000",
                     "--no-first-run", "--disable-extensions", f"--user-data-dir={os.path.join(RUN_DIR, 'chromium-profile')}"):
        options.add_argument(argument)
    shutil.rmtree(os.path.join(RUN_DIR, "chromium-profile"), ignore_errors=True)
    # The driver is Debian's: Selenium Manager is never asked to find or download one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER, log_output=os.path.join(RUN_DIR, "log", "chromedriver.log")),
                              options=options)
    driver.set_page_load_timeout(30)
    os.makedirs(SCREENSHOTS, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver, name):
    path = os.path.join(SCREENSHOTS, f"{name}.png")
    assert driver.save_screenshot(path), path
    assert os.path.getsize(path) > 1000, path


def _follow(driver, element):
    """Clicks a link or a form's button and waits for the page it leads to: a click returns
    before a form's POST (or even a link) has replaced the page, and looking for the next
    page's elements in the old one fails now and then."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_):
        # The old page's root is gone: chromedriver says so as a stale reference, or, caught
        # mid-navigation, as "Node with given id does not belong to the document" (a plain
        # WebDriverException, which `staleness_of` let through: a failed run at 03:20).
        try:
            old.is_enabled()
            return False
        except WebDriverException:
            return True

    WebDriverWait(driver, 30).until(replaced)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _click(driver, text):
    from selenium.webdriver.common.by import By
    _follow(driver, driver.find_element(By.XPATH, f"//a[normalize-space()={text!r}] | //button[normalize-space()={text!r}]"))


def test_an_operator_signs_in_sees_the_queue_requeues_revokes_and_reads_the_audit_log(browser, api, mocks, db, empty_queue):
    from selenium.webdriver.common.by import By

    token = _operator("browser-operator")
    queued = api.post_message(new_number(), "Waiting in the queue", send_at=_later())
    assert queued.status_code == 201
    failed_id = _failed_message(api, mocks, db)
    key = create_api_key("browser-revokes-me")
    key_id = _key_id(db, key)

    # Sign in: the console's pages lead to the form first.
    browser.get(f"{BASE_URL}/admin/")
    assert browser.current_url == f"{BASE_URL}/admin/login"
    _shot(browser, "01-sign-in")
    browser.find_element(By.NAME, "token").send_keys(token)
    _click(browser, "Sign in")
    assert browser.current_url == f"{BASE_URL}/admin/"
    cookie = browser.get_cookie("texting_admin")
    assert cookie and cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/admin"

    # The overview shows the queued message: the queue's jobs and the queued status count are
    # the database's.
    figures = {e.text.split("\n")[0]: e.find_element(By.TAG_NAME, "b").text for e in browser.find_elements(By.CLASS_NAME, "figure")}
    assert int(figures["Jobs queued"]) == count(db, "SELECT count(*) FROM jobs") >= 1
    rows = {r.find_elements(By.TAG_NAME, "td")[0].text: r.find_elements(By.TAG_NAME, "td")[1].text
            for r in browser.find_elements(By.XPATH, "//h2[.='Messages by status']/following-sibling::div[1]//tr[td]")}
    assert int(rows["queued"]) == count(db, "SELECT count(*) FROM messages WHERE status = 'queued'") >= 1
    assert browser.find_elements(By.CSS_SELECTOR, "svg polyline"), "no chart"
    _shot(browser, "02-overview")

    # Failed and stuck: the code's list, the message, its confirmation, the requeue.
    _click(browser, "Failed and stuck")
    _click(browser, "provider_reported_failed")
    assert failed_id in browser.page_source
    _shot(browser, "03-failed")
    _follow(browser, browser.find_element(By.XPATH, f"//tr[td//code[.='{failed_id}']]//a[normalize-space()='Requeue…']"))
    assert "Queue message" in browser.page_source
    _shot(browser, "04-requeue-confirm")
    _click(browser, "Requeue this message")
    assert f"Requeued {failed_id}" in browser.find_element(By.CLASS_NAME, "notice").text
    _shot(browser, "05-requeued")
    assert api.status_of(failed_id) == "queued"
    # The mock providers deliver it: sent, then their delivery report.
    for name in ("p1", "p2"):
        mocks.configure(name, callback_delay_ms=100)
    run_sender()
    wait_for(lambda: api.status_of(failed_id) == "delivered", what="the requeued message to be delivered")

    # Messages: find it by its id and read its story, requeue and delivery included.
    _click(browser, "Messages")
    browser.find_element(By.NAME, "q").send_keys(failed_id)
    _click(browser, "Find")
    _follow(browser, browser.find_element(By.XPATH, f"//a[code[.='{failed_id}']]"))
    assert browser.current_url == f"{BASE_URL}/admin/messages/{failed_id}"
    events = [row.find_elements(By.TAG_NAME, "td")[1].text
              for row in browser.find_elements(By.XPATH, "//h2[starts-with(., 'Status changes')]/following-sibling::div[1]//tr[td]")]
    assert events[-1] == "message.delivered" and "message.failed" in events, events
    _shot(browser, "06-message-story")
    _click(browser, "Numbers")
    _shot(browser, "07-numbers")
    _click(browser, "Providers")
    assert len(browser.find_elements(By.XPATH, "//button[normalize-space()='Pause']")) == 2
    _shot(browser, "08-providers")

    # API keys: revoke one, with its confirmation.
    _click(browser, "API keys")
    _shot(browser, "09-keys")
    _follow(browser, browser.find_element(By.XPATH, f"//tr[td[.='{key_id}']]//a[normalize-space()='Revoke…']"))
    _click(browser, "Revoke this key")
    assert f"Revoked key {key_id}" in browser.find_element(By.CLASS_NAME, "notice").text
    assert not _key_works(key)

    # The audit log shows each action: who, what, when, from where.
    _click(browser, "Audit log")
    entries = [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in browser.find_elements(By.XPATH, "//tr[td]")]
    by_action = {(entry[4], entry[5]): entry for entry in entries}
    for action, target in (("messages.requeue", failed_id), ("keys.revoke", key_id)):
        entry = by_action[(action, target)]
        assert entry[1] == "browser-operator" and entry[2] == "console" and entry[3] == "127.0.0.1", entry
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry[0]), entry
    assert any(entry[4] == "session.login" and entry[1] == "browser-operator" for entry in entries)
    _shot(browser, "10-audit")

    # Readable on a phone: the same overview at a phone's width.
    browser.set_window_size(390, 844)
    browser.get(f"{BASE_URL}/admin/")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 400
    _shot(browser, "11-overview-phone")

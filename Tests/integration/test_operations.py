"""Operations: /healthz and /metrics as a monitor sees them, the request logs, the admin
commands of textingctl, every binary's --help and --version, and the shipped TLS lines."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest
import requests

from conftest import BASE_URL, BIN, RUN_DIR, STACK_ENV, count, new_number, run_sender, textingctl, wait_for
from test_database import _pg_ctl, _port

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARIES = ["MessagesFCGI", "DeliveryFCGI", "AdminFCGI", "SenderCron", "MockProvider", "textingctl"]
NGINX = "/usr/sbin/nginx"


def _version():
    with open(os.path.join(PROJECT, "Sources", "Common", "TextingSupport", "Program", "TextingVersion.swift"), encoding="utf-8") as f:
        return re.search(r'static let current = "([^"]+)"', f.read()).group(1)


def _from_address(source, request):
    """Sends a raw HTTP request to nginx from another loopback address (127.0.0.2 is loopback
    on Linux, but not one nginx's allow lines list)."""
    port = int(BASE_URL.rsplit(":", 1)[1].split("/")[0])
    sock = socket.create_connection(("127.0.0.1", port), source_address=(source, 0), timeout=10)
    try:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    finally:
        sock.close()
    return answer


def _metrics(api):
    response = api.raw("GET", "/metrics")
    assert response.status_code == 200, response.text
    samples = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def _sent_message(api, mocks, number):
    for name in ("p1", "p2"):
        mocks.configure(name, callback_delay_ms=-1)  # no automatic callback: the test reports
    response = api.post_message(number)
    assert response.status_code == 201, response.text
    run_sender()
    message = api.get_message(response.json()["id"]).json()
    assert message["status"] == "sent", message
    return message


def _make_inactive(api, mocks, number):
    """A provider reports `number` invalid: it becomes inactive, and a message queued for it
    meanwhile fails with phone_number_inactive. Returns that failed message's id."""
    first = _sent_message(api, mocks, number)
    later = api.post_message(number, "Second")  # stays queued: no sender runs until the test runs one
    assert later.status_code == 201, later.text
    response = api.callback(first["id"], {"status": "invalid", "message_id": first["provider_message_id"]})
    assert response.status_code == 200 and response.json()["applied"], response.text
    refused = api.post_message(number)
    assert refused.status_code == 422 and refused.json()["code"] == "phone_number_inactive", refused.text
    failed = api.get_message(later.json()["id"]).json()
    assert failed["status"] == "failed" and failed["error"]["code"] == "phone_number_inactive", failed
    return failed["id"]


# --- /healthz -------------------------------------------------------------------------------

def test_healthz_says_ok_for_the_service_and_the_database(api):
    response = api.raw("GET", "/healthz")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response.headers["X-Request-Id"]


def test_healthz_is_refused_to_addresses_other_than_loopback():
    answer = _from_address("127.0.0.2", b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403"), head
    assert b"application/problem+json" in head
    assert json.loads(body)["code"] == "forbidden"


def test_healthz_is_503_naming_the_database_while_postgresql_is_stopped(api):
    assert api.raw("GET", "/healthz").status_code == 200
    _pg_ctl("stop", "-m", "fast")
    try:
        for _ in range(3):  # whichever worker answers
            response = api.raw("GET", "/healthz")
            assert response.status_code == 503, response.text
            assert response.headers["Content-Type"] == "application/problem+json"
            assert response.headers["Retry-After"]
            problem = response.json()
            assert problem["code"] == "service_unavailable"
            assert problem["detail"].startswith("database unreachable"), problem
            assert problem["request_id"] == response.headers["X-Request-Id"]
    finally:
        _pg_ctl("start", "-l", os.path.join(RUN_DIR, "log", "postgres.log"), "-o",
                f"-c listen_addresses=127.0.0.1 -p {_port()} -k {os.path.join(RUN_DIR, 'pg')}")
    wait_for(lambda: api.raw("GET", "/healthz").status_code == 200, timeout=20, what="/healthz to be 200 again")
    assert api.raw("GET", "/healthz").json() == {"status": "ok", "database": "ok"}


# --- /metrics -------------------------------------------------------------------------------

def test_metrics_count_active_and_inactive_phone_numbers(api, db, mocks, empty_queue):
    before = _metrics(api)
    assert 'texting_phone_numbers{status="active"}' in before
    assert 'texting_phone_numbers{status="inactive"}' in before
    assert api.post_message(new_number()).status_code == 201  # a new number is active
    assert _metrics(api)['texting_phone_numbers{status="active"}'] == before['texting_phone_numbers{status="active"}'] + 1
    _make_inactive(api, mocks, new_number())  # another new number, then reported invalid
    after = _metrics(api)
    assert after['texting_phone_numbers{status="inactive"}'] == before['texting_phone_numbers{status="inactive"}'] + 1
    assert after['texting_phone_numbers{status="active"}'] == before['texting_phone_numbers{status="active"}'] + 1
    assert after['texting_phone_numbers{status="inactive"}'] == count(db, "SELECT count(*) FROM phone_numbers WHERE status = 'inactive'")


# --- logs -----------------------------------------------------------------------------------

def _log_lines_with(path, text):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line for line in f if text in line]


def test_each_request_is_logged_once_with_its_request_id_and_never_a_phone_number(api):
    number = new_number()
    created = api.post_message(number, "A body that must not be logged")
    assert created.status_code == 201, created.text
    listed = api.raw("GET", "/messages", params={"to_number": number})
    assert listed.status_code == 200, listed.text
    typed = api.raw("GET", f"/messages/{number}")  # a number typed into the path
    assert typed.status_code == 404, typed.text
    fetched = api.get_message(created.json()["id"])
    expected = [
        (created, "POST", "/messages", 201),
        (listed, "GET", "/messages", 200),
        (typed, "GET", "/messages/*", 404),
        (fetched, "GET", f"/messages/{created.json()['id']}", 200),
    ]
    log = os.path.join(RUN_DIR, "log", "messages.log")
    for response, method, path, status in expected:
        request_id = response.headers["X-Request-Id"]
        lines = wait_for(lambda: _log_lines_with(log, f"request_id={request_id} "), timeout=5, what=f"the log line of {request_id}")
        assert len(lines) == 1, lines
        match = re.search(r"MessagesFCGI info: request_id=(\w+) method=(\w+) path=(\S+) status=(\d+) duration_ms=([0-9.]+)$", lines[0].strip())
        assert match, lines[0]
        assert match.groups()[:4] == (request_id, method, path, str(status))
        assert float(match.group(5)) >= 0
    digits = number.lstrip("+")
    with open(log, encoding="utf-8", errors="replace") as f:
        text = f.read()
    assert digits not in text
    assert "A body that must not be logged" not in text


def test_nginx_writes_one_json_access_log_line_per_request_with_the_request_id(api):
    number = new_number()
    listed = api.raw("GET", "/messages", params={"to_number": number, "limit": 1})
    assert listed.status_code == 200, listed.text
    request_id = listed.headers["X-Request-Id"]
    log = os.path.join(RUN_DIR, "log", "nginx-texting.access.log")
    # nginx flushes its log buffer at least once a second.
    lines = wait_for(lambda: os.path.exists(log) and _log_lines_with(log, request_id), timeout=5, what="the access log line")
    assert len(lines) == 1, lines
    entry = json.loads(lines[0])
    assert entry["request_id"] == request_id
    assert entry["method"] == "GET" and entry["path"] == "/messages" and entry["status"] == 200
    assert isinstance(entry["request_time"], (int, float))
    assert number.lstrip("+") not in lines[0]  # the query string is not logged


# --- textingctl -----------------------------------------------------------------------------

def test_reactivated_number_can_be_messaged_and_its_failed_message_requeued(api, db, mocks, empty_queue):
    number = new_number()
    failed_id = _make_inactive(api, mocks, number)
    metrics_before = _metrics(api)

    # Requeue is refused while the number is inactive, and says what to do.
    refused = textingctl("messages", "requeue", failed_id)
    assert refused.returncode == 1
    assert "numbers reactivate" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1

    result = textingctl("numbers", "reactivate", number)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"reactivated {number}")
    assert count(db, "SELECT count(*) FROM phone_numbers WHERE number = %s AND status = 'active' AND inactivated_at IS NULL", number) == 1
    metrics_after = _metrics(api)
    assert metrics_after['texting_phone_numbers{status="inactive"}'] == metrics_before['texting_phone_numbers{status="inactive"}'] - 1
    again = textingctl("numbers", "reactivate", number)
    assert again.returncode == 0 and "already active" in again.stdout

    # New messages are accepted and sent again.
    accepted = api.post_message(number, "Welcome back")
    assert accepted.status_code == 201, accepted.text
    run_sender()
    assert api.status_of(accepted.json()["id"]) == "sent"
    assert mocks.accepted_by_key()[accepted.json()["id"]] == 1

    # The message the number's deactivation failed is sent after a requeue.
    requeued = textingctl("messages", "requeue", failed_id)
    assert requeued.returncode == 0, requeued.stderr
    assert requeued.stdout.startswith(f"requeued {failed_id}")
    message = api.get_message(failed_id).json()
    assert message["status"] == "queued" and message["attempts"] == 0 and message["error"] is None, message
    run_sender()
    assert api.status_of(failed_id) == "sent"
    assert mocks.accepted_by_key()[failed_id] == 1


def test_requeued_failed_message_is_sent_again_with_attempts_reset(api, db, mocks, empty_queue):
    message = _sent_message(api, mocks, new_number())
    response = api.callback(message["id"], {"status": "failed", "message_id": message["provider_message_id"]})
    assert response.status_code == 200 and response.json()["applied"], response.text
    failed = api.get_message(message["id"]).json()
    assert failed["status"] == "failed" and failed["error"]["code"] == "provider_reported_failed"

    result = textingctl("messages", "requeue", message["id"])
    assert result.returncode == 0, result.stderr
    requeued = api.get_message(message["id"]).json()
    assert requeued["status"] == "queued"
    assert requeued["attempts"] == 0 and requeued["error"] is None and requeued["failed_at"] is None
    assert requeued["sent_at"] is None and requeued["provider"] is None
    assert count(db, "SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id WHERE m.public_id = %s AND j.attempts = 0", message["id"]) == 1

    run_sender()
    sent = api.get_message(message["id"]).json()
    assert sent["status"] == "sent" and sent["attempts"] == 1, sent
    assert mocks.accepted_by_key()[message["id"]] == 2  # the first send and the one after the requeue
    # The new send's delivery report is applied as usual.
    delivered = api.callback(message["id"], {"status": "delivered", "message_id": sent["provider_message_id"]})
    assert delivered.status_code == 200 and delivered.json()["applied"], delivered.text
    assert api.status_of(message["id"]) == "delivered"


def test_requeue_refuses_other_statuses_expired_and_unknown_messages_with_one_line(api, db, mocks, empty_queue):
    delivered = _sent_message(api, mocks, new_number())
    api.callback(delivered["id"], {"status": "delivered", "message_id": delivered["provider_message_id"]})
    queued = api.post_message(new_number(), send_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)))
    expired = api.post_message(new_number(), validity_period=1).json()
    db.execute("UPDATE messages SET status = 'failed', error_code = 'expired', expires_at = now() - interval '1 second' WHERE public_id = %s", (expired["id"],))
    db.execute("DELETE FROM jobs j USING messages m WHERE m.id = j.message_id AND m.public_id = %s", (expired["id"],))
    cases = [
        (delivered["id"], 1, "it is delivered; only a failed message can be requeued"),
        (queued.json()["id"], 1, "it is queued; only a failed message can be requeued"),
        (expired["id"], 1, "validity period is over"),
        (str(uuid.uuid4()), 1, "no message has the id"),
        ("not-an-id", 2, "needs a message id"),
    ]
    for message_id, status, says in cases:
        result = textingctl("messages", "requeue", message_id)
        assert result.returncode == status, (message_id, result.returncode, result.stderr)
        assert says in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stdout == ""
    assert api.status_of(delivered["id"]) == "delivered"
    assert api.status_of(expired["id"]) == "failed"


def test_reactivate_refuses_unknown_and_malformed_numbers(api):
    unknown = textingctl("numbers", "reactivate", new_number())
    assert unknown.returncode == 1 and "no message was ever accepted" in unknown.stderr
    malformed = textingctl("numbers", "reactivate", "12")
    assert malformed.returncode == 2 and len(malformed.stderr.strip().splitlines()) == 1
    missing = textingctl("numbers", "reactivate")
    assert missing.returncode == 2 and "needs one phone number" in missing.stderr


def _stats():
    result = textingctl("stats")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    figures = dict(line.split(": ", 1) for line in lines if not line.startswith("provider "))
    providers = {line.split(":", 1)[0].split(" ", 1)[1]: line for line in lines if line.startswith("provider ")}
    return figures, providers


def test_stats_show_queue_messages_numbers_and_breakers(api, db, mocks, empty_queue):
    for _ in range(2):
        assert api.post_message(new_number()).status_code == 201
    assert api.post_message(new_number(), send_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))).status_code == 201
    figures, _ = _stats()
    assert figures["queue_jobs"] == "3" and figures["queue_due_jobs"] == "2"
    assert float(figures["queue_oldest_due_seconds"]) >= 0
    by_status = dict(item.split("=") for item in figures["messages"].split())
    assert set(by_status) == {"queued", "sending", "sent", "delivered", "failed", "invalid", "canceled"}
    assert int(by_status["queued"]) == count(db, "SELECT count(*) FROM messages WHERE status = 'queued'")
    numbers = dict(item.split("=") for item in figures["phone_numbers"].split())
    assert int(numbers["inactive"]) == count(db, "SELECT count(*) FROM phone_numbers WHERE status = 'inactive'")
    # The same figures as /metrics.
    metrics = _metrics(api)
    assert metrics["texting_queue_jobs"] == 3 and metrics["texting_queue_due_jobs"] == 2

    run_sender()
    db.execute("INSERT INTO provider_health (provider, consecutive_failures, open_until) VALUES ('p2', 7, now() + interval '30 seconds') "
               "ON CONFLICT (provider) DO UPDATE SET consecutive_failures = 7, open_until = now() + interval '30 seconds'")
    try:
        figures, providers = _stats()
        assert figures["queue_jobs"] == "1" and figures["queue_due_jobs"] == "0"
        assert "breaker open" in providers["p2"] and "consecutive_failures=7" in providers["p2"]
        assert "p1" in providers and "breaker closed" in providers["p1"]
        assert re.search(r" accepted=\d+", providers["p1"])
    finally:
        db.execute("DELETE FROM provider_health")


def test_prune_deletes_idempotency_keys_older_than_a_day_and_says_jobs_need_none(api, db):
    owner = db.execute("SELECT id FROM api_keys ORDER BY id DESC LIMIT 1").fetchone()[0]
    old_key, fresh_key = f"old-{uuid.uuid4()}", f"fresh-{uuid.uuid4()}"
    db.execute("INSERT INTO idempotency_keys (api_key_id, key, request_hash, created_at) VALUES (%s, %s, 'x', now() - interval '25 hours')", (owner, old_key))
    db.execute("INSERT INTO idempotency_keys (api_key_id, key, request_hash) VALUES (%s, %s, 'x')", (owner, fresh_key))
    db.execute("INSERT INTO idle_senders (sender_id, since) VALUES ('dead-sender-of-the-prune-test', now() - interval '5 minutes')")
    try:
        result = textingctl("prune")
        assert result.returncode == 0, result.stderr
        match = re.match(r"pruned (\d+) Idempotency-Key records? older than 24 hours and (\d+) stale idle-sender records?; folded (\d+) status count changes?; jobs need no pruning", result.stdout)
        assert match, result.stdout
        assert int(match.group(1)) >= 1 and int(match.group(2)) >= 1
        assert count(db, "SELECT count(*) FROM idempotency_keys WHERE key = %s", old_key) == 0
        assert count(db, "SELECT count(*) FROM idempotency_keys WHERE key = %s", fresh_key) == 1
        assert count(db, "SELECT count(*) FROM idle_senders WHERE sender_id = 'dead-sender-of-the-prune-test'") == 0
        again = textingctl("prune")
        assert again.returncode == 0 and again.stdout.startswith("pruned 0 Idempotency-Key records")
    finally:
        db.execute("DELETE FROM idempotency_keys WHERE key IN (%s, %s)", (old_key, fresh_key))


def test_textingctl_refuses_unknown_commands_with_status_2():
    result = textingctl("frobnicate")
    assert result.returncode == 2 and "unknown command" in result.stderr
    assert textingctl("keys", "revoke").returncode == 2


# --- every binary ---------------------------------------------------------------------------

def _run(binary, *args, env=None):
    return subprocess.run([os.path.join(BIN, binary), *args], capture_output=True, text=True, timeout=30,
                          env=env if env is not None else {"PATH": os.environ.get("PATH", "")}, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("binary", BINARIES)
def test_every_binary_answers_help_and_version(binary):
    version = _version()
    result = _run(binary, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{binary} {version}"
    for flag in ("--help", "-h"):
        result = _run(binary, flag)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"{binary} {version}: ")
        assert "usage:" in result.stdout
        settings = re.findall(r"^  ((?:TEXTING|MOCK)_[A-Z_]+)  ", result.stdout, re.M)
        assert settings, result.stdout
        if binary != "MockProvider":
            assert "TEXTING_DATABASE_URL" in settings


@pytest.mark.parametrize("binary", ["MessagesFCGI", "DeliveryFCGI", "AdminFCGI", "SenderCron", "MockProvider"])
def test_services_refuse_unknown_arguments_with_one_line(binary):
    result = _run(binary, "--frobnicate")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"{binary} error: unknown argument `--frobnicate`; see `{binary} --help`"]


@pytest.mark.parametrize("binary, setting", [
    ("MessagesFCGI", "TEXTING_FCGI_THREADS"), ("DeliveryFCGI", "TEXTING_CALLBACK_SECRET"),
    ("SenderCron", "TEXTING_SENDER_BATCH_SIZE"), ("MockProvider", "MOCK_FAILURE_RATE"), ("textingctl", "TEXTING_DATABASE_URL"),
])
def test_a_bad_setting_stops_each_binary_with_one_line_naming_it(binary, setting):
    env = {**STACK_ENV, "PATH": os.environ.get("PATH", ""), setting: "bogus"}
    if setting == "TEXTING_DATABASE_URL":
        env[setting] = ""
    args = ["stats"] if binary == "textingctl" else []
    result = _run(binary, *args, env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and setting in lines[0], result.stderr


def test_every_setting_a_binary_reads_is_documented_in_the_readme_and_the_example_file():
    with open(os.path.join(PROJECT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    with open(os.path.join(PROJECT, "deploy", "texting.env.example"), encoding="utf-8") as f:
        example = f.read()
    for binary in BINARIES:
        for setting in re.findall(r"^  ((?:TEXTING|MOCK)_[A-Z_]+)  ", _run(binary, "--help").stdout, re.M):
            assert setting in readme, (binary, setting)
            if setting.startswith("TEXTING_"):
                assert re.search(rf"^#?{setting}=", example, re.M), (binary, setting)


# --- the shipped TLS lines ------------------------------------------------------------------

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not shutil.which("openssl") or not os.path.exists(NGINX), reason="needs openssl and nginx")
def test_shipped_tls_lines_serve_https_once_uncommented(tmp_path):
    """deploy/nginx.conf ships its TLS lines commented out (`#tls `); uncommented as the file
    says, with a throwaway certificate in place of the placeholders, they serve the API over
    https, in front of the running stack's FastCGI sockets."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    with open(os.path.join(PROJECT, "deploy", "nginx.conf"), encoding="utf-8") as f:
        shipped = f.read()
    assert "\n    #tls listen 443 ssl;\n" in shipped
    assert "#tls ssl_certificate     /etc/ssl/certs/texting.example.pem;" in shipped
    http_port, tls_port = _free_port(), _free_port()
    site = re.sub(r"(?m)^(\s*)#tls ", r"\1", shipped)  # the sed line the file gives, in Python
    site = (site.replace("/etc/ssl/certs/texting.example.pem", str(cert))
                .replace("/etc/ssl/private/texting.example.key", str(key))
                .replace("listen 443 ssl;", f"listen 127.0.0.1:{tls_port} ssl;")
                .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
                .replace("/run/texting/", os.path.join(RUN_DIR, "sock") + "/")
                .replace("include fastcgi_params;", "include /etc/nginx/fastcgi_params;")
                .replace("/var/log/nginx/texting.", str(tmp_path / "texting.")))
    (tmp_path / "texting.conf").write_text(site)
    (tmp_path / "tmp").mkdir()
    user = "user root root;" if os.geteuid() == 0 else ""  # workers must reach the stack's sockets
    (tmp_path / "nginx.conf").write_text(f"""daemon off;
worker_processes 1;
{user}
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {tmp_path}/tmp/client_body;
    proxy_temp_path {tmp_path}/tmp/proxy;
    fastcgi_temp_path {tmp_path}/tmp/fastcgi;
    uwsgi_temp_path {tmp_path}/tmp/uwsgi;
    scgi_temp_path {tmp_path}/tmp/scgi;
    include {tmp_path}/texting.conf;
}}
""")
    args = [NGINX, "-e", str(tmp_path / "error.log"), "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)]
    checked = subprocess.run(args[:1] + ["-t", "-q"] + args[1:], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def answer():
            try:
                return requests.get(f"https://127.0.0.1:{tls_port}/healthz", verify=str(cert), timeout=5)
            except requests.ConnectionError:
                assert nginx.poll() is None, (tmp_path / "error.log").read_text()
                return None
        response = wait_for(answer, timeout=10, interval=0.1, what="nginx to serve https")
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok", "database": "ok"}
        assert response.headers["X-Request-Id"]
    finally:
        nginx.send_signal(signal.SIGTERM)
        try:
            nginx.wait(timeout=10)
        except subprocess.TimeoutExpired:
            nginx.kill()
            nginx.wait(timeout=10)


def test_no_production_binary_links_the_mock_provider():
    # The mock provider's code lives in MockProviderKit, linked into MockProvider alone: a
    # test double has no place in what is deployed. (A check that can fail: it finds the mock
    # in MockProvider itself.)
    def mock_symbols(binary):
        symbols = subprocess.run(["nm", os.path.join(BIN, binary)], capture_output=True, text=True, timeout=60)
        assert symbols.returncode == 0, symbols.stderr
        return [line for line in symbols.stdout.splitlines() if "MockProvider" in line]
    assert mock_symbols("MockProvider"), "nm finds no MockProvider symbol even in MockProvider"
    for binary in ("MessagesFCGI", "DeliveryFCGI", "AdminFCGI", "SenderCron", "textingctl"):
        assert mock_symbols(binary) == [], f"{binary} links mock provider code"

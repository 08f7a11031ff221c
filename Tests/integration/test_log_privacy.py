"""No phone number, message body or callback signature reaches nginx's logs, whatever nginx
rejects. nginx's error log writes each request's whole request line, query string included,
and cannot be told otherwise; so the shipped site's locations write no request-time messages
(deploy/nginx.conf, `error_log`), and its JSON access log has the path without the query.
The test stack runs nginx's own error log at `warn` (scripts/stack), below Debian's default,
so that the site is checked against an operator who turned logging up."""
import glob
import os
import secrets
import socket
import time
import uuid

import pytest

from conftest import BASE_URL, RUN_DIR, Api, create_api_key, flood, new_number, wait_for

SITE_ACCESS_LOG = os.path.join(RUN_DIR, "log", "nginx-texting.access.log")


def _nginx_logs():
    """Every log nginx writes in the test stack: the site's (nginx-texting.*.log), the
    stack's nginx.conf's (nginx-error.log, nginx-access.log) and nginx's output (nginx.log)."""
    paths = glob.glob(os.path.join(RUN_DIR, "log", "nginx*.log"))
    assert os.path.join(RUN_DIR, "log", "nginx-error.log") in paths
    text = ""
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            text += f.read()
    return text


def _flush_access_log():
    """Waits until nginx wrote everything so far (its access log is buffered for up to 1 s,
    in order; its error log is not buffered)."""
    marker = Api().raw("GET", "/healthz")
    request_id = marker.headers["X-Request-Id"]

    def written():
        with open(SITE_ACCESS_LOG, encoding="utf-8", errors="replace") as f:
            return request_id in f.read()
    wait_for(written, timeout=10, what="the access log to be written")


def _assert_not_logged(*secrets_):
    _flush_access_log()
    logs = _nginx_logs()
    for secret in secrets_:
        assert secret not in logs, f"{secret!r} is in nginx's logs"


@pytest.fixture
def number():
    return new_number()


@pytest.fixture
def signature():
    return secrets.token_hex(32)


def _raw(data):
    """Sends bytes over one connection, returns nginx's status line."""
    with socket.create_connection(("127.0.0.1", int(BASE_URL.rsplit(":", 1)[1])), timeout=10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def test_rate_limited_requests_leave_no_phone_number_or_signature_in_nginx_logs(number, signature):
    key = create_api_key("log-privacy")
    request = (f"GET /messages?to_number=%2B{number[1:]}&limit=1&sig={signature} HTTP/1.1\r\n"
               f"Host: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n").encode()
    answers = flood([request], total=3000, stop=lambda r: r.status == 429)
    assert any(a.status == 429 for a in answers), "the flood was not rate limited"
    _assert_not_logged(number[1:], signature)


def test_rate_limited_callbacks_leave_no_signature_in_nginx_logs(signature, drains_callback_limit):
    mid = str(uuid.uuid4())
    body = b'{"status":"delivered","message_id":"log-privacy"}'
    request = (f"POST /messages/delivery_status?mid={mid}&ts={int(time.time())}&sig={signature} HTTP/1.1\r\n"
               f"Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    answers = flood([request], total=40_000, stop=lambda r: r.status == 429)
    assert any(a.status == 429 for a in answers), "the callbacks were not rate limited"
    _assert_not_logged(mid, signature)


def test_oversized_body_leaves_no_phone_number_signature_or_body_in_nginx_logs(number, signature):
    body_text = "Private body " + secrets.token_hex(8)
    response = Api(create_api_key("log-privacy")).raw(
        "POST", f"/messages?to_number={number}&sig={signature}",
        data=('{"to_number": "%s", "message": "%s%s"}' % (number, body_text, " " * 20_000)).encode(),
        headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    _assert_not_logged(number[1:], signature, body_text)


@pytest.mark.parametrize("template", [
    # A header line without a colon, an unknown HTTP version, a header too large (494), a
    # request line nginx cannot parse.
    b"GET /messages?to_number=%2B{n}&sig={s} HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n",
    b"GET /messages?to_number=%2B{n}&sig={s} HTTP/7.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /messages?to_number=%2B{n}&sig={s} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"x" * 20_000 + b"\r\n\r\n",
    b"GET /messages?to_number=%2B{n}&sig={s} \x01\r\n\r\n",
])
def test_malformed_requests_leave_no_phone_number_or_signature_in_nginx_logs(number, signature, template):
    status = _raw(template.replace(b"{n}", number[1:].encode()).replace(b"{s}", signature.encode()))
    assert status.startswith(b"HTTP/1.1 4"), status
    _assert_not_logged(number[1:], signature)

"""schemathesis hooks for test_openapi.py (loaded by schemathesis through SCHEMATHESIS_HOOKS,
not by pytest).

Unsigned, `POST /messages/delivery_status` can only ever answer 401. So a generated callback
whose query is valid by the document (`mid` a UUID, `ts` an integer, `sig` 64 hex digits)
is signed the way the sender signs callback URLs, for its own `mid` (an unknown message: 404
once the body passes) or, for every other one, for one of the messages the test created
(200). Its body goes out as generated, so the body's checks (415, 400, 422) are reached too.
A query that breaks the document stays unsigned and must still be refused (401).

`POST /messages/inbound` likewise: a query valid by the document (`prv` a provider name,
`sig` 64 hex digits) gets the signature of that provider's inbound URL.

`POST /webhook_endpoints`: a `url` valid by the document names a host the test stack refuses
(it reaches only this machine), so it is pointed at one on this machine: the endpoint is made
and the operations on it are tested past their 404. With OPENAPI_TEST_CALLS set, every
operation's status is appended to that file, so the test can tell what was reached."""
import hashlib
import hmac
import os
import re
import time
import uuid

import schemathesis

SECRET = os.environ["TEXTING_CALLBACK_SECRET"].encode()
MESSAGE_IDS = [mid for mid in os.environ.get("OPENAPI_TEST_MESSAGE_IDS", "").split(",") if mid]
SIGNATURE = re.compile(r"[0-9a-f]{64}")
# The coverage phase hands over query values as the text they are sent as.
INTEGER_TEXT = re.compile(r"-?[0-9]+")


def _is_uuid(value):
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _valid_by_the_document(query):
    ts = query.get("ts")
    integer = (isinstance(ts, int) and not isinstance(ts, bool)) or (isinstance(ts, str) and INTEGER_TEXT.fullmatch(ts))
    return (_is_uuid(query.get("mid")) and bool(integer)
            and isinstance(query.get("sig"), str) and SIGNATURE.fullmatch(query["sig"]) is not None)


PROVIDER = re.compile(r"[A-Za-z0-9_-]{1,32}")
WEBHOOK_URL = re.compile(r"^[hH][tT][tT][pP][sS]?://[!-~]+$")
CALLS = os.environ.get("OPENAPI_TEST_CALLS")


@schemathesis.hook
def after_call(context, case, response):
    if CALLS:
        with open(CALLS, "a", encoding="utf-8") as f:
            f.write(f"{case.method.upper()} {case.operation.path} {response.status_code}\n")


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path == "/webhook_endpoints" and case.method.upper() == "POST" and isinstance(case.body, dict):
        url = case.body.get("url")
        if isinstance(url, str) and len(url) <= 2048 and WEBHOOK_URL.fullmatch(url):
            case.body["url"] = "https://127.0.0.1/schemathesis"
        return
    if case.operation.path == "/messages/inbound" and isinstance(case.query, dict):
        provider, sig = case.query.get("prv"), case.query.get("sig")
        if isinstance(provider, str) and PROVIDER.fullmatch(provider) and isinstance(sig, str) and SIGNATURE.fullmatch(sig):
            case.query["sig"] = hmac.new(SECRET, f"inbound-v1|{provider}".encode(), hashlib.sha256).hexdigest()
        return
    if case.operation.path != "/messages/delivery_status" or not isinstance(case.query, dict):
        return
    if not _valid_by_the_document(case.query):
        return
    mid = case.query["mid"]
    if MESSAGE_IDS and int(mid[-1], 16) % 2 == 0:
        mid = MESSAGE_IDS[int(mid[-2], 16) % len(MESSAGE_IDS)]
    issued_at = int(time.time())
    case.query["mid"] = mid
    case.query["ts"] = issued_at
    case.query["sig"] = hmac.new(SECRET, f"v1|{mid}|{issued_at}".encode(), hashlib.sha256).hexdigest()

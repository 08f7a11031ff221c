"""nginx's rate limits (deploy/nginx.conf): one allowance per API key however its
Authorization header is spelled, and a per-address limit on provider callbacks. The floods
are pipelined over raw connections (conftest.flood) and bounded in count and time; nothing
is asserted about timing except through the counting itself."""
import json
import time
import uuid

from conftest import create_api_key, flood

# The shipped per-key limit: 200 requests/s, bursts of up to 1000 answered at once.
KEY_RATE, KEY_BURST = 200, 1000


def _get(path, authorization):
    if isinstance(authorization, str):
        authorization = authorization.encode()
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + authorization + b"\r\n\r\n"


def _assert_rate_limited_problem(response):
    assert response.status == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-request-id"]
    problem = json.loads(response.body)
    assert problem["code"] == "rate_limited" and problem["status"] == 429
    assert problem["request_id"] == response.headers["x-request-id"]


def test_spellings_of_one_api_key_share_one_allowance():
    key = create_api_key("spellings")
    # Each is accepted by MessagesFCGI as this key (answered 404 below, not 401): the scheme
    # in any case, more than one space, whitespace after the key, a tab, and the Unicode
    # spaces Swift trims (no-break space, ideographic space), sent as UTF-8.
    spellings = [f"Bearer {key}", f"bearer {key}", f"BEARER {key}", f"bEaReR {key}", f"Bearer  {key}",
                 f"Bearer   {key}", f"Bearer {key}  ", f"Bearer \t{key}",
                 f"Bearer {key}\u00a0".encode(), f"Bearer \u3000{key}".encode()]
    path = f"/messages/{uuid.uuid4()}"
    requests = [_get(path, spelling) for spelling in spellings]

    started = time.monotonic()
    # Each spelling about 450 times: under its own bucket every one would stay within a burst.
    answers = flood(requests, total=450 * len(spellings), connections=len(spellings))
    elapsed = time.monotonic() - started

    assert len(answers) >= 400 * len(spellings), f"only {len(answers)} answers"
    statuses = {}
    for answer in answers:
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    assert set(statuses) <= {404, 429}, statuses  # every spelling was this key to MessagesFCGI
    served = statuses.get(404, 0)
    # One key's allowance over the whole flood (nginx saw it within `elapsed`), with margin
    # for nginx's millisecond rounding.
    allowance = KEY_BURST + KEY_RATE * elapsed
    print(f"{len(answers)} requests in {elapsed:.2f} s over {len(spellings)} spellings: {served} served, "
          f"{statuses.get(429, 0)} answered 429; one key's allowance {allowance:.0f}")
    assert served <= allowance * 1.05 + 20, \
        f"{served} requests served for one key in {elapsed:.2f} s; one key's allowance is {allowance:.0f}"
    _assert_rate_limited_problem(next(a for a in answers if a.status == 429))


def test_callback_flood_from_one_address_gets_429_problem_documents(drains_callback_limit):
    body = b'{"status":"delivered","message_id":"flood"}'
    forged = (f"POST /messages/delivery_status?mid={uuid.uuid4()}&ts={int(time.time())}&sig={'0' * 64} HTTP/1.1\r\n"
              "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
              f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    # Bounded: at most 40,000 requests or 60 s, far past the shipped burst (5000) at any speed
    # at which the flood outpaces the refill (1000/s); stops at the first 429s.
    answers = flood([forged], total=40_000, stop=lambda r: r.status == 429)
    statuses = {}
    for answer in answers:
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    print(f"{len(answers)} forged callbacks: {statuses}")
    assert set(statuses) <= {401, 429}, statuses  # the signature check, or nginx's limit
    limited = [a for a in answers if a.status == 429]
    assert limited, f"no 429 after {len(answers)} callbacks from one address"
    _assert_rate_limited_problem(limited[0])

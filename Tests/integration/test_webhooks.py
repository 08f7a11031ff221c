"""Webhooks: a key's endpoints (and a message's status_callback) receive its events, signed as
the Standard Webhooks specification says (verified here with the `standardwebhooks` package,
a verifier nobody here wrote), in order per message, retried with backoff, disabled on 410
or after failing for days; outgoing requests refuse addresses a client must not reach."""
import json
import os
import re
import time

import jsonschema
import pytest
import standardwebhooks
import yaml

from conftest import Api, count, create_api_key, new_number, run_sender, textingctl, wait_for
from texting_support.receiver import Receiver

# Retries come due fast in these tests (the schedule itself is unit-tested).
FAST = {"TEXTING_WEBHOOK_BACKOFF_BASE_MS": 100, "TEXTING_WEBHOOK_BACKOFF_MAX_MS": 400}
LATER = lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))  # noqa: E731


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def create_endpoint(api, url, **fields):
    response = api.raw("POST", "/webhook_endpoints", json={"url": url, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def verified(received, secret):
    """The payload of a delivery whose signature standardwebhooks accepts (raises otherwise)."""
    return standardwebhooks.Webhook(secret).verify(received.body, received.headers)


def dispatch_until(predicate, what, timeout=20, **overrides):
    """Runs the real SenderCron (--once: sends, then webhooks) until `predicate` holds."""
    deadline = time.monotonic() + timeout
    while True:
        run_sender(**{**FAST, **overrides})
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def as_documented(received):
    """Holds a delivery (its headers and body) to docs/openapi.yaml's `webhooks.event`."""
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "openapi.yaml"), encoding="utf-8") as f:
        document = yaml.safe_load(f)
    operation = document["webhooks"]["event"]["post"]
    for parameter in operation["parameters"]:
        value = received.headers.get(parameter["name"])
        assert value is not None or not parameter["required"], parameter["name"]
        if value is not None and "pattern" in parameter["schema"]:
            assert re.search(parameter["schema"]["pattern"], value), (parameter["name"], value)
    schema = {**operation["requestBody"]["content"]["application/json"]["schema"], "components": document["components"]}
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(json.loads(received.body))


def metric(api, series):
    """The value of one series in GET /metrics."""
    for line in api.raw("GET", "/metrics").text.splitlines():
        if line.startswith(series + " "):
            return float(line.split(" ")[1])
    raise AssertionError(f"{series} not in /metrics")


def canceled_message(api, **fields):
    """A message that makes exactly one event (message.canceled) without any provider."""
    message_id = api.post_message(new_number(), send_at=LATER(), **fields).json()["id"]
    assert api.raw("POST", f"/messages/{message_id}/cancel").status_code == 200
    return message_id


def test_endpoint_is_created_with_a_secret_shown_once_listed_and_deleted(api):
    created = create_endpoint(api, "https://localhost/texting", event_types=["message.delivered"], description="billing")
    assert created["secret"].startswith("whsec_")
    assert standardwebhooks.Webhook(created["secret"])  # a secret the reference library takes
    assert created["url"] == "https://localhost/texting" and created["event_types"] == ["message.delivered"]
    assert created["status"] == "enabled" and created["disabled_reason"] is None

    found = api.raw("GET", f"/webhook_endpoints/{created['id']}").json()
    assert "secret" not in found and found["id"] == created["id"]
    listed = api.raw("GET", "/webhook_endpoints").json()["webhook_endpoints"]
    assert [e["id"] for e in listed] == [created["id"]] and all("secret" not in e for e in listed)

    other = Api(create_api_key("webhooks-other"))
    assert other.raw("GET", f"/webhook_endpoints/{created['id']}").status_code == 404
    assert other.raw("DELETE", f"/webhook_endpoints/{created['id']}").status_code == 404

    assert api.raw("DELETE", f"/webhook_endpoints/{created['id']}").status_code == 204
    assert api.raw("GET", f"/webhook_endpoints/{created['id']}").status_code == 404


def test_a_deleted_endpoint_takes_its_attempts_with_it(api, db):
    """webhook_attempts is partitioned by time without a foreign key to its endpoint (migration
    0016): deleting the endpoint deletes its attempts itself, and no other endpoint's."""
    kept, gone = (create_endpoint(api, f"https://localhost/{name}") for name in ("kept", "gone"))
    event = db.execute("""INSERT INTO events (api_key_id, type, phone_number)
                          SELECT api_key_id, 'phone_number.inactive', '+15555550100' FROM webhook_endpoints WHERE public_id = %s
                          RETURNING id""", (kept["id"],)).fetchone()[0]
    for endpoint in (kept, gone):
        db.execute("""INSERT INTO webhook_attempts (event_id, api_key_id, endpoint_id, url, attempt, outcome, latency_ms)
                      SELECT %s, api_key_id, id, url, 1, 'delivered', 3 FROM webhook_endpoints WHERE public_id = %s""", (event, endpoint["id"]))
    assert api.raw("DELETE", f"/webhook_endpoints/{gone['id']}").status_code == 204
    left = db.execute("""SELECT w.public_id::text FROM webhook_attempts a JOIN webhook_endpoints w ON w.id = a.endpoint_id
                         WHERE a.event_id = %s""", (event,)).fetchall()
    assert left == [(kept["id"],)]
    assert count(db, "SELECT count(*) FROM webhook_attempts WHERE event_id = %s", event) == 1


@pytest.mark.parametrize("url, code", [
    ("ftp://localhost/x", "invalid_webhook_url"),
    ("https://user:pass@localhost/x", "invalid_webhook_url"),
    ("https://localhost/x#frag", "invalid_webhook_url"),
    ("https://169.254.169.254/latest/meta-data", "invalid_webhook_url"),  # cloud metadata: never
    ("https://[fe80::1]/x", "invalid_webhook_url"),
    ("https://0.0.0.0/x", "invalid_webhook_url"),
    ("https://224.0.0.1/x", "invalid_webhook_url"),
    ("https://2130706433/x", "invalid_webhook_url"),  # 127.0.0.1 spelled as one number
    ("https://localhost:99999/x", "invalid_webhook_url"),
    ("https://local host/x", "invalid_webhook_url"),
    ("", "invalid_webhook_url"),
    # The stack sets TEXTING_WEBHOOK_DESTINATIONS=local: nothing a test makes leaves the machine.
    ("https://hooks.example.com/x", "invalid_webhook_url"),
    ("https://8.8.8.8/x", "invalid_webhook_url"),
])
def test_unusable_or_forbidden_urls_are_refused_when_given(api, url, code):
    response = api.raw("POST", "/webhook_endpoints", json={"url": url})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code and response.json()["field"] == "url"
    assert api.raw("GET", "/webhook_endpoints").json()["webhook_endpoints"] == []


def test_endpoint_fields_are_checked(api):
    for body, code, field in [
        ({}, "missing_field", "url"),
        ({"url": 7}, "wrong_type", "url"),
        ({"url": "https://localhost/h", "event_types": ["message.teleported"]}, "invalid_parameter", "event_types"),
        ({"url": "https://localhost/h", "event_types": "message.sent"}, "wrong_type", "event_types"),
        ({"url": "https://localhost/h", "secret": "mine"}, "unknown_field", "secret"),
    ]:
        response = api.raw("POST", "/webhook_endpoints", json=body)
        assert response.status_code == 422, (body, response.text)
        assert (response.json()["code"], response.json()["field"]) == (code, field)


def test_a_key_has_a_bounded_number_of_endpoints(api):
    for i in range(20):
        create_endpoint(api, f"https://localhost/{i}")
    response = api.raw("POST", "/webhook_endpoints", json={"url": "https://localhost/21"})
    assert response.status_code == 422 and "at most 20" in response.json()["detail"]


def test_events_are_pushed_signed_and_verify_with_the_standard_webhooks_library(api, mocks, receiver, empty_queue):
    endpoint = create_endpoint(api, receiver.url())
    message = api.post_message(new_number(), "Your code is 4711", client_ref="login-77").json()
    run_sender()
    wait_for(lambda: api.status_of(message["id"]) == "delivered", what="the delivered report")
    dispatch_until(lambda: len(receiver.requests()) >= 2, "both webhooks")

    payloads = [verified(r, endpoint["secret"]) for r in receiver.requests()]
    assert [p["type"] for p in payloads] == ["message.sent", "message.delivered"]
    for received, payload in zip(receiver.requests(), payloads):
        assert received.headers["content-type"] == "application/json"
        assert received.headers["webhook-id"] == payload["id"]
        # The pushed event is the pulled one, byte for byte as JSON.
        assert api.raw("GET", f"/events/{payload['id']}").json() == payload
        assert payload["data"]["message"]["id"] == message["id"]
        assert payload["data"]["message"]["client_ref"] == "login-77"
    # A forged or altered delivery does not verify.
    forged = receiver.requests()[0]
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(endpoint["secret"]).verify(forged.body.replace(b"sent", b"delivered"), forged.headers)
    for received in receiver.requests():
        as_documented(received)
    attempts = api.raw("GET", f"/webhook_endpoints/{endpoint['id']}/deliveries").json()["deliveries"]
    assert [(a["event_type"], a["outcome"], a["http_status"]) for a in attempts] == [
        ("message.delivered", "delivered", 200), ("message.sent", "delivered", 200)]
    assert all(a["latency_ms"] >= 0 and a["attempt"] == 1 for a in attempts)


def test_an_endpoint_gets_only_the_event_types_it_asked_for(api, receiver, empty_queue):
    wanted = create_endpoint(api, receiver.url("/canceled"), event_types=["message.canceled"])
    create_endpoint(api, receiver.url("/delivered"), event_types=["message.delivered"])
    canceled_message(api)
    dispatch_until(lambda: receiver.requests("/canceled"), "the canceled event")
    assert [verified(r, wanted["secret"])["type"] for r in receiver.requests("/canceled")] == ["message.canceled"]
    assert receiver.requests("/delivered") == []


def test_status_callback_needs_the_keys_secret_and_is_signed_with_it(api, receiver, db, empty_queue):
    refused = api.post_message(new_number(), status_callback=receiver.url("/mine"))
    assert refused.status_code == 422 and refused.json()["field"] == "status_callback"
    assert "POST /webhook_secret" in refused.json()["detail"]

    secret = api.raw("POST", "/webhook_secret").json()["secret"]
    assert secret.startswith("whsec_")
    message_id = canceled_message(api, status_callback=receiver.url("/mine"))
    assert api.get_message(message_id).json()["status_callback"] == receiver.url("/mine")
    dispatch_until(lambda: receiver.requests("/mine"), "the status callback")
    payload = verified(receiver.requests("/mine")[0], secret)
    assert payload["type"] == "message.canceled" and payload["data"]["message"]["id"] == message_id

    for bad in ["ftp://x.example.com", "https://169.254.169.254/", 42]:
        response = api.post_message(new_number(), status_callback=bad)
        assert response.status_code == 422 and response.json()["field"] == "status_callback", response.text


def test_a_failing_event_is_retried_and_the_next_event_of_its_message_waits_while_other_messages_go_ahead(api, mocks, receiver, db, empty_queue):
    endpoint = create_endpoint(api, receiver.url())
    mocks.configure_all(callback_delay_ms=-1)
    slow = api.post_message(new_number(), "slow").json()
    fast = api.post_message(new_number(), "fast").json()
    failing = {"on": True}

    def decide(request):
        event = json.loads(request.body)
        return 500 if failing["on"] and event["data"]["message"]["id"] == slow["id"] else None

    receiver.decide = decide
    run_sender(**FAST)
    # Both are sent; the slow message's report comes while its `sent` event is still failing.
    for message in (slow, fast):
        sent = api.get_message(message["id"]).json()
        assert api.callback(message["id"], {"status": "delivered", "message_id": sent["provider_message_id"]}).status_code == 200

    def fast_done():
        return [json.loads(r.body)["type"] for r in receiver.requests() if json.loads(r.body)["data"]["message"]["id"] == fast["id"]] == [
            "message.sent", "message.delivered"]

    dispatch_until(fast_done, "the other message's events, not held up")
    slow_types = [json.loads(r.body)["type"] for r in receiver.requests() if json.loads(r.body)["data"]["message"]["id"] == slow["id"]]
    assert slow_types and set(slow_types) == {"message.sent"}, slow_types  # retried, and its `delivered` waits

    assert metric(api, "texting_webhook_queue_deliveries") >= 2  # the failing `sent` and the waiting `delivered`
    # The due count is what is due when the scrape reads it: the retry's backoff here is
    # 100-400 ms, so it may have come due; nothing dispatches meanwhile, so the count only
    # grows, and the scrape's figure lies between the database's before and after it.
    # (That a retry is not due before its backoff ends: the next test, with a minute's.)
    due = "SELECT count(*) FROM webhook_deliveries WHERE run_at <= now()"
    before = count(db, due)
    scraped = metric(api, "texting_webhook_queue_due_deliveries")
    assert before <= scraped <= count(db, due)
    assert metric(api, 'texting_webhook_attempts_total{outcome="retrying"}') >= 1
    failing["on"] = False
    dispatch_until(lambda: "message.delivered" in [json.loads(r.body)["type"] for r in receiver.requests()
                                                   if json.loads(r.body)["data"]["message"]["id"] == slow["id"]], "the slow message's events")
    slow_types = [json.loads(r.body)["type"] for r in receiver.requests() if json.loads(r.body)["data"]["message"]["id"] == slow["id"]]
    first_delivered = slow_types.index("message.delivered")
    assert set(slow_types[:first_delivered]) == {"message.sent"} and len(slow_types[:first_delivered]) >= 2
    for r in receiver.requests():
        verified(r, endpoint["secret"])  # retries are signed too (each with its own timestamp)
    ids = {r.headers["webhook-id"] for r in receiver.requests() if json.loads(r.body)["type"] == "message.sent"
           and json.loads(r.body)["data"]["message"]["id"] == slow["id"]}
    assert len(ids) == 1  # the same webhook-id on every attempt: receivers deduplicate on it
    outcomes = [a["outcome"] for a in api.raw("GET", f"/webhook_endpoints/{endpoint['id']}/deliveries", params={"limit": 100}).json()["deliveries"]]
    assert "retrying" in outcomes and "delivered" in outcomes


def test_an_event_waiting_behind_a_retried_one_is_not_due_before_it(api, mocks, receiver, db, empty_queue):
    """A later event of a message cannot go before an earlier one still being retried, so it
    is not due before it either: otherwise every claim walks past it (and past thousands like
    it while a receiver is down) to find deliveries it may send."""
    create_endpoint(api, receiver.url())
    mocks.configure_all(callback_delay_ms=-1)
    receiver.decide = lambda request: 500
    slow = {"TEXTING_WEBHOOK_BACKOFF_BASE_MS": 60_000, "TEXTING_WEBHOOK_BACKOFF_MAX_MS": 60_000}
    message = api.post_message(new_number(), "waits").json()
    run_sender(**slow)  # sent; its `message.sent` webhook fails and waits out its backoff

    def queued():
        return db.execute(
            """SELECT e.type, d.run_at, d.run_at > now() FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
               JOIN messages m ON m.id = d.message_id WHERE m.public_id = %s ORDER BY d.id""", (message["id"],)).fetchall()

    [(kind, sent_due, waiting)] = queued()
    assert kind == "message.sent" and waiting
    # Queued while the earlier one waits: due no sooner than it.
    provider_id = api.get_message(message["id"]).json()["provider_message_id"]
    assert api.callback(message["id"], {"status": "delivered", "message_id": provider_id}).status_code == 200
    [(_, sent_due, _), (kind, delivered_due, _)] = queued()
    assert kind == "message.delivered" and delivered_due >= sent_due

    # Queued before the earlier one failed (as when the two commit at once): the failure
    # moves it along with the retry.
    db.execute("""UPDATE webhook_deliveries d SET run_at = now() FROM messages m
                  WHERE m.id = d.message_id AND m.public_id = %s""", (message["id"],))
    run_sender(**slow)
    [(kind, sent_due, waiting), (_, delivered_due, _)] = queued()
    assert kind == "message.sent" and waiting and delivered_due >= sent_due
    assert all(json.loads(r.body)["type"] == "message.sent" for r in receiver.requests())


def test_410_gone_disables_the_endpoint_and_its_owner_sees_why(api, receiver, db, empty_queue):
    endpoint = create_endpoint(api, receiver.url())
    receiver.default_status = 410
    canceled_message(api)
    dispatch_until(lambda: api.raw("GET", f"/webhook_endpoints/{endpoint['id']}").json()["status"] == "disabled", "the endpoint disabled")
    found = api.raw("GET", f"/webhook_endpoints/{endpoint['id']}").json()
    assert "410" in found["disabled_reason"] and found["disabled_at"] is not None and found["pending_deliveries"] == 0
    # Nothing more is queued for it, and nothing more is sent to it.
    before = len(receiver.requests())
    canceled_message(api)
    run_sender(**FAST)
    assert len(receiver.requests()) == before
    assert count(db, "SELECT count(*) FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE w.public_id = %s",
                 endpoint["id"]) == 0
    assert metric(api, "texting_webhook_endpoints_disabled") >= 1
    assert metric(api, 'texting_webhook_attempts_total{outcome="disabled"}') >= 1
    # Its owner, or an operator, enables it again once the receiver is fixed; new events go to it.
    assert Api(create_api_key("webhooks-stranger")).raw("POST", f"/webhook_endpoints/{endpoint['id']}/enable").status_code == 404
    enabled = api.raw("POST", f"/webhook_endpoints/{endpoint['id']}/enable")
    assert enabled.status_code == 200, enabled.text
    assert (enabled.json()["status"], enabled.json()["disabled_reason"], enabled.json()["failing_since"]) == ("enabled", None, None)
    receiver.default_status = 200
    fresh = canceled_message(api)
    dispatch_until(lambda: any(json.loads(r.body)["data"]["message"]["id"] == fresh for r in receiver.requests()), "the event after enabling")
    db.execute("UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = 'test' WHERE public_id = %s", (endpoint["id"],))
    result = textingctl("webhooks", "enable", endpoint["id"])
    assert result.returncode == 0, result.stderr
    assert api.raw("GET", f"/webhook_endpoints/{endpoint['id']}").json()["status"] == "enabled"


def test_an_endpoint_failing_for_days_is_disabled(api, receiver, db, empty_queue):
    endpoint = create_endpoint(api, receiver.url())
    receiver.default_status = 503
    canceled_message(api)
    dispatch_until(lambda: receiver.requests(), "a first failed attempt")
    assert api.raw("GET", f"/webhook_endpoints/{endpoint['id']}").json()["failing_since"] is not None
    db.execute("UPDATE webhook_endpoints SET failing_since = now() - interval '4 days' WHERE public_id = %s", (endpoint["id"],))
    dispatch_until(lambda: api.raw("GET", f"/webhook_endpoints/{endpoint['id']}").json()["status"] == "disabled", "the endpoint disabled")
    reason = api.raw("GET", f"/webhook_endpoints/{endpoint['id']}").json()["disabled_reason"]
    assert "no successful delivery" in reason and "503" in reason


def test_an_event_is_given_up_after_the_retry_period_and_stays_pullable(api, receiver, db, empty_queue):
    endpoint = create_endpoint(api, receiver.url())
    receiver.default_status = 500
    message_id = canceled_message(api)
    db.execute("UPDATE events SET created_at = now() - interval '4 days' WHERE message_id = (SELECT id FROM messages WHERE public_id = %s)",
               (message_id,))
    dispatch_until(lambda: count(db, "SELECT count(*) FROM webhook_deliveries WHERE api_key_id = (SELECT api_key_id FROM webhook_endpoints WHERE public_id = %s)",
                                 endpoint["id"]) == 0, "the delivery given up")
    attempts = api.raw("GET", f"/webhook_endpoints/{endpoint['id']}/deliveries").json()["deliveries"]
    assert attempts[0]["outcome"] == "failed" and "not delivered within 72 hours" in attempts[0]["error"]
    assert api.raw("GET", f"/webhook_endpoints/{endpoint['id']}").json()["status"] == "enabled"
    assert [e["data"]["message"]["id"] for e in api.raw("GET", "/events").json()["events"]] == [message_id]


def test_secret_rotation_signs_with_both_secrets_for_the_grace_period(api, receiver, empty_queue):
    endpoint = create_endpoint(api, receiver.url())
    old = endpoint["secret"]
    rotated = api.raw("POST", f"/webhook_endpoints/{endpoint['id']}/rotate_secret", json={"grace_period": 3600})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old
    canceled_message(api)
    dispatch_until(lambda: receiver.requests(), "a delivery")
    delivery = receiver.requests()[-1]
    assert len(delivery.headers["webhook-signature"].split(" ")) == 2
    verified(delivery, old)
    verified(delivery, new)

    # Without a grace period the old secret stops at once.
    newest = api.raw("POST", f"/webhook_endpoints/{endpoint['id']}/rotate_secret", json={"grace_period": 0}).json()["secret"]
    canceled_message(api)
    dispatch_until(lambda: len(receiver.requests()) >= 2, "a second delivery")
    delivery = receiver.requests()[-1]
    verified(delivery, newest)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        verified(delivery, new)
    for bad in [{"grace_period": -1}, {"grace_period": 10**9}, {"grace_period": "1h"}, {"grace": 1}]:
        assert api.raw("POST", f"/webhook_endpoints/{endpoint['id']}/rotate_secret", json=bad).status_code == 422


def test_connections_to_refused_addresses_are_never_made_whatever_the_url_said(api, receiver, db, empty_queue):
    """The stack allows loopback (development); a production dispatcher does not. An endpoint
    made while it was allowed, or whose name resolves to loopback (`localhost`), is refused when
    the connection is opened: nothing reaches the receiver."""
    by_address = create_endpoint(api, receiver.url("/address"))
    by_name = create_endpoint(api, f"http://localhost:{receiver.port}/name")
    canceled_message(api)
    production = {"TEXTING_WEBHOOK_DESTINATIONS": "public"}
    dispatch_until(lambda: all(api.raw("GET", f"/webhook_endpoints/{e['id']}/deliveries").json()["deliveries"] for e in (by_address, by_name)),
                   "attempts to both", **production)
    assert receiver.requests() == []
    errors = [api.raw("GET", f"/webhook_endpoints/{e['id']}/deliveries").json()["deliveries"][0]["error"] for e in (by_address, by_name)]
    assert all("destination refused: loopback address" in error for error in errors), errors

    # https only, unless allowed: an http URL is not even tried.
    db.execute("DELETE FROM webhook_endpoints WHERE public_id = %s", (by_name["id"],))
    receiver.received.clear()
    dispatch_until(lambda: len(api.raw("GET", f"/webhook_endpoints/{by_address['id']}/deliveries").json()["deliveries"]) >= 2, "another attempt",
                   TEXTING_WEBHOOK_ALLOW_HTTP="off", TEXTING_WEBHOOK_BACKOFF_BASE_MS=0)
    assert receiver.requests() == []


def test_redirects_are_not_followed_and_answer_bodies_are_read_only_so_far(api, receiver, empty_queue):
    endpoint = create_endpoint(api, receiver.url())
    receiver.answer_next(302)
    receiver.headers = {"Location": receiver.url("/elsewhere")}
    receiver.body_bytes = 1 << 20  # a 1 MiB answer body
    canceled_message(api)
    dispatch_until(lambda: len(receiver.requests()) >= 2, "a retry after the redirect")
    assert receiver.requests("/elsewhere") == []
    attempts = api.raw("GET", f"/webhook_endpoints/{endpoint['id']}/deliveries").json()["deliveries"]
    # 302: not delivered; a 200 with a huge body: delivered (its status counts, its body is cut off).
    assert [(a["outcome"], a["http_status"]) for a in reversed(attempts)][:2] == [("retrying", 302), ("delivered", 200)]


def test_textingctl_redelivers_an_event_with_the_same_id(api, receiver, empty_queue):
    endpoint = create_endpoint(api, receiver.url())
    canceled_message(api)
    dispatch_until(lambda: receiver.requests(), "the first delivery")
    event_id = receiver.requests()[0].headers["webhook-id"]
    result = textingctl("webhooks", "redeliver", event_id)
    assert result.returncode == 0, result.stderr
    dispatch_until(lambda: len(receiver.requests()) >= 2, "the redelivery")
    assert [verified(r, endpoint["secret"])["id"] for r in receiver.requests()] == [event_id, event_id]
    unknown = textingctl("webhooks", "redeliver", "00000000-0000-4000-8000-000000000000")
    assert unknown.returncode == 1 and "no event" in unknown.stderr


def test_textingctl_creates_lists_and_deletes_endpoints(api, receiver, empty_queue):
    listed = textingctl("keys", "list")
    key_id = next(line.split("\t")[0] for line in listed.stdout.splitlines() if line.split("\t")[2] == api.key[:10] + "…")
    created = textingctl("webhooks", "create", key_id, receiver.url("/ops"), "message.canceled")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("whsec_")
    [endpoint] = api.raw("GET", "/webhook_endpoints").json()["webhook_endpoints"]
    assert (endpoint["url"], endpoint["event_types"]) == (receiver.url("/ops"), ["message.canceled"])
    rows = [line.split("\t") for line in textingctl("webhooks", "list").stdout.splitlines()]
    assert rows[0] == ["id", "key", "url", "status", "disabled_reason"]
    assert [endpoint["id"], key_id, receiver.url("/ops"), "enabled", "-"] in rows

    canceled_message(api)
    dispatch_until(lambda: receiver.requests("/ops"), "the event for the operator's endpoint")
    assert verified(receiver.requests("/ops")[0], secret)["type"] == "message.canceled"

    for args, problem in [(("webhooks", "create", key_id, "ftp://localhost/x"), "url"),
                          (("webhooks", "create", "no-such-key", receiver.url()), "no active key"),
                          (("webhooks", "create", key_id, receiver.url(), "message.teleported"), "message.teleported")]:
        refused = textingctl(*args)
        assert refused.returncode == 1 and problem in refused.stderr, (args, refused.stderr)
    assert len(api.raw("GET", "/webhook_endpoints").json()["webhook_endpoints"]) == 1

    deleted = textingctl("webhooks", "delete", endpoint["id"])
    assert deleted.returncode == 0 and endpoint["id"] in deleted.stdout, deleted.stderr
    assert api.raw("GET", "/webhook_endpoints").json()["webhook_endpoints"] == []
    again = textingctl("webhooks", "delete", endpoint["id"])
    assert again.returncode == 1 and "no webhook endpoint" in again.stderr


def test_metrics_show_what_is_due_and_for_how_long(api, receiver, empty_queue):
    create_endpoint(api, receiver.url())
    canceled_message(api)  # its event's delivery is due at once; no dispatcher runs yet
    time.sleep(1.5)
    assert metric(api, "texting_webhook_queue_due_deliveries") >= 1
    assert metric(api, "texting_webhook_queue_oldest_due_seconds") >= 1
    dispatch_until(lambda: receiver.requests(), "the delivery")
    assert metric(api, "texting_webhook_queue_due_deliveries") == 0
    assert metric(api, "texting_webhook_queue_oldest_due_seconds") == 0

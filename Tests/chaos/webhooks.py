"""Scenario 9 of the chaos suite: webhooks while their receiver misbehaves and senders die.

Three keys each have a webhook endpoint on one receiver (Tests/support receiver.py, on
127.0.0.1), and the first key's messages also carry a `status_callback` to it. Under load the
receiver is healthy, then down (connections refused) for minutes, flapping (200 and 503 by the
second), slow (every answer after 10 s, the dispatcher's timeout), answering bytes that are not
HTTP, and healthy again; meanwhile the senders (and so the webhook dispatchers beside them) are
SIGKILLed. Then the queue drains and every event is checked against what the receiver got:

- none lost: every event of the scenario's messages reached each destination it was queued
  for and was answered 2xx there;
- in order: no event of a message arrived at a destination before the earlier event of the
  same message had been answered 2xx there;
- signatures valid: every request verifies with the `standardwebhooks` package under its
  destination's secret;
- duplicates (an event arriving again after a 2xx answer) within the bound: the deliveries
  the killed dispatchers held at their deaths, plus the 2xx answers written after the
  dispatcher's timeout (it could not see them)."""
import collections
import json
import os
import random
import threading
import time

import harness as h
from harness import SHORT

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from texting_support.receiver import Receiver

# Short backoffs so that retries happen within the scenario; the default timeout (10 s).
SETTINGS = dict(TEXTING_WEBHOOK_BACKOFF_BASE_MS=200, TEXTING_WEBHOOK_BACKOFF_MAX_MS=3000, TEXTING_WEBHOOK_TIMEOUT_MS=10000)
SLOW_SECONDS = 10.0


def phases():
    """(name, seconds) in turn."""
    if SHORT:
        return [("healthy", 3), ("down", 8), ("flapping", 5), ("slow", 12), ("garbage", 4), ("healthy", 3)]
    return [("healthy", 10), ("down", 120), ("flapping", 20), ("slow", 25), ("garbage", 15), ("healthy", 10)]


def drive(receiver, plan, current):
    """Makes the receiver misbehave as the plan says, phase after phase."""
    for name, seconds in plan:
        current[0] = name
        if name == "down":
            receiver.down()
        elif name == "flapping":
            receiver.decide = lambda request: 200 if int(time.time()) % 2 == 0 else 503
        elif name == "slow":
            receiver.delay = SLOW_SECONDS
        elif name == "garbage":
            receiver.garbage = True
        time.sleep(seconds)
        if name == "down":
            receiver.up()
        receiver.decide, receiver.delay, receiver.garbage = None, 0.0, False
    current[0] = "done"


def drain_webhooks(prefix, timeout):
    """With no sender of ours running: end the leases dead dispatchers left (as time would),
    then run `SenderCron --once` (which dispatches webhooks after sending) until none of the
    scenario's deliveries is queued. Bounded by `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with h.db() as c:
        c.execute("UPDATE webhook_deliveries SET run_at = now(), leased_until = now() WHERE leased_by IS NOT NULL")
    while time.monotonic() < deadline:
        left = h.scalar("""SELECT count(*) FROM webhook_deliveries d JOIN api_keys a ON a.id = d.api_key_id
                           WHERE a.name LIKE %s""", prefix + "-%")
        if left == 0:
            return True
        h.run_sender_once(**SETTINGS)
        time.sleep(0.3)
    return False


def run(r, mocks):
    prefix = "chaos-s9"
    plan = phases()
    seconds = sum(length for _, length in plan)
    keys = h.create_keys(prefix, 3)
    with Receiver() as receiver:
        secrets = {}
        for i, key in enumerate(keys):
            status, _, body = h.Conn(key).request("POST", "/webhook_endpoints", json.dumps({"url": receiver.url(f"/k{i}")}))
            assert status == 201, (status, body)
            secrets[f"/k{i}"] = json.loads(body)["secret"]
        status, _, body = h.Conn(keys[0]).request("POST", "/webhook_secret", "")
        assert status == 200, (status, body)
        secrets["/callback"] = json.loads(body)["secret"]

        senders = h.Senders(2, restart_delay=0.1, **SETTINGS).start()
        tally = h.Tally()
        threads = h.run_load(keys, seconds, tally, per_thread_rate=10 if SHORT else 15, seed=9,
                             fields={0: {"status_callback": receiver.url("/callback")}})
        current = ["healthy"]
        driver = threading.Thread(target=drive, args=(receiver, plan, current), daemon=True)
        driver.start()
        kills = h.kill_senders(senders, seconds, random.Random(9), pause=(0.5, 2.0), max_kills=500)
        driver.join(seconds + 30)
        h.join_all(threads, 30)
        senders.stop()
        r.check(h.drain(prefix, 90, mocks, **SETTINGS), "the message queue did not drain within 90 s")
        r.take(tally, h.account(prefix, tally, mocks, dup_bound=kills.bound, allow_sent=True), kills.bound)
        # What the last in-flight answers (slow ones take 10 s) settle before the drain.
        drained = drain_webhooks(prefix, 120)
        r.check(drained, "the webhook queue did not drain within 120 s of the receiver's recovery")
        received = receiver.requests()

    with h.db() as c:
        events = c.execute(
            """SELECT e.public_id::text, e.type, m.public_id::text, a.name, m.status_callback IS NOT NULL
               FROM events e JOIN messages m ON m.id = e.message_id JOIN api_keys a ON a.id = e.api_key_id
               WHERE a.name LIKE %s ORDER BY e.id""", (prefix + "-%",)).fetchall()
        outcomes = dict(c.execute(
            """SELECT t.outcome, count(*) FROM webhook_attempts t JOIN events e ON e.id = t.event_id
               JOIN api_keys a ON a.id = e.api_key_id WHERE a.name LIKE %s GROUP BY 1""", (prefix + "-%",)).fetchall())
        disabled = c.execute(
            """SELECT count(*) FROM webhook_endpoints w JOIN api_keys a ON a.id = w.api_key_id
               WHERE a.name LIKE %s AND w.disabled_at IS NOT NULL""", (prefix + "-%",)).fetchone()[0]

    # Every request the receiver got, verified; grouped by (destination, event).
    bad_signatures, samples = 0, []
    by_delivery = collections.defaultdict(list)
    for request in received:
        try:
            payload = Webhook(secrets[request.path]).verify(request.body, request.headers)
        except (WebhookVerificationError, KeyError) as e:
            bad_signatures += 1
            samples.append(f"{request.path} {request.headers.get('webhook-id')}: {e}")
            continue
        if payload["id"] != request.headers.get("webhook-id"):
            bad_signatures += 1
            samples.append(f"payload id {payload['id']} under webhook-id {request.headers.get('webhook-id')}")
            continue
        by_delivery[(request.path, payload["id"])].append(request)

    def first_success(requests):
        answered = [q.answered for q in requests if q.status is not None and 200 <= q.status < 300 and q.answered]
        return min(answered) if answered else None

    # The destinations of each event, the events of each (destination, message) in order.
    expected = []
    sequences = collections.defaultdict(list)
    for event_id, _type, message_id, key_name, has_callback in events:
        paths = [f"/k{key_name.rsplit('-', 1)[1]}"] + (["/callback"] if has_callback else [])
        for path in paths:
            expected.append((path, event_id))
            sequences[(path, message_id)].append(event_id)

    lost = [d for d in expected if first_success(by_delivery.get(d, [])) is None]
    disorder = []
    for (path, message_id), ids in sequences.items():
        for earlier, later in zip(ids, ids[1:]):
            done = first_success(by_delivery.get((path, earlier), []))
            arrivals = [q.at for q in by_delivery.get((path, later), [])]
            if done is not None and arrivals and min(arrivals) < done:
                disorder.append((path, message_id, earlier, later))
    duplicates = 0
    unseen_successes = 0
    for requests in by_delivery.values():
        done = first_success(requests)
        duplicates += sum(1 for q in requests if done is not None and q.at > done)
        # 2xx answers written when the dispatcher had given up waiting: it retries those.
        unseen_successes += sum(1 for q in requests if q.status is not None and 200 <= q.status < 300
                                and q.answered and q.answered - q.at >= SETTINGS["TEXTING_WEBHOOK_TIMEOUT_MS"] / 1000 - 0.5)
    bound = kills.webhooks_leased + unseen_successes

    r.check(events, "no events were written")
    r.check(not lost, f"{len(lost)} of {len(expected)} webhook deliveries never answered 2xx: {lost[:3]}")
    r.check(not disorder, f"{len(disorder)} events arrived before the earlier event of their message was delivered: {disorder[:3]}")
    r.check(bad_signatures == 0, f"{bad_signatures} requests failed signature verification: {samples[:3]}")
    r.check(duplicates <= bound, f"{duplicates} webhooks delivered again after a 2xx, more than the bound {bound}")
    r.check(disabled == 0, f"{disabled} endpoints were disabled")
    r.check(not outcomes.get("failed") and not outcomes.get("disabled"), f"deliveries given up or endpoints disabled: {outcomes}")
    r.webhooks = (len(lost), len(disorder), bad_signatures, duplicates, bound)
    r.notes.append(
        f"phases {plan} (s); {len(events)} events of {len(tally.ids)} messages, {len(expected)} deliveries "
        f"({len(received)} requests received); attempts by outcome {dict(sorted(outcomes.items()))}; "
        f"{kills.kills} sender SIGKILLs holding {kills.webhooks_leased} webhook deliveries, "
        f"{unseen_successes} 2xx answers written past the timeout: duplicate bound {bound}")

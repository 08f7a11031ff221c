"""POST /messages/delivery_status: signed, forward-only, `invalid` deactivates the number."""
import concurrent.futures
import time
import uuid

import psycopg
import requests

from conftest import (BASE_URL, DATABASE_URL, MESSAGE_TABLES, MOCK_BASE, STACK_ENV, count, messages_rows_read_by_sequential_scans, new_number,
                      run_sender, sign_callback, store_messages, wait_for)


def _sent_message(api, mocks, number=None, **mock_settings):
    for name in ("p1", "p2"):
        mocks.configure(name, callback_delay_ms=-1, **mock_settings)  # no automatic callback
    response = api.post_message(number or new_number())
    assert response.status_code == 201, response.text
    message_id = response.json()["id"]
    run_sender()
    message = api.get_message(message_id).json()
    assert message["status"] == "sent", message
    return message


def test_invalid_callback_deactivates_number_and_fails_queued_messages(api, db, mocks, empty_queue):
    number = new_number()
    first = _sent_message(api, mocks, number)
    # A second message to the same number, due later: still queued when the report comes.
    later = api.post_message(number, "Second", send_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)))
    assert later.status_code == 201, later.text
    later_id = later.json()["id"]

    response = api.callback(first["id"], {"status": "invalid", "message_id": first["provider_message_id"]})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "invalid"

    assert api.status_of(first["id"]) == "invalid"
    assert count(db, "SELECT count(*) FROM phone_numbers WHERE number = %s AND status = 'inactive' AND inactivated_at IS NOT NULL", number) == 1
    queued = api.get_message(later_id).json()
    assert queued["status"] == "failed"
    assert queued["error"]["code"] == "phone_number_inactive"
    assert count(db, "SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id WHERE m.public_id = %s", later_id) == 0

    refused = api.post_message(number, "Anyone there?")
    assert refused.status_code == 422
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "phone_number_inactive"

    run_sender()
    assert mocks.accepted_by_key()[later_id] == 0


def test_message_queued_for_an_inactive_number_is_never_sent(api, db, mocks, empty_queue):
    number = new_number()
    queued = api.post_message(number).json()
    # The number goes inactive after the message was queued but before any sender took it.
    db.execute("UPDATE phone_numbers SET status = 'inactive', inactivated_at = now() WHERE number = %s", (number,))
    run_sender()
    message = api.get_message(queued["id"]).json()
    assert message["status"] == "failed"
    assert message["error"]["code"] == "phone_number_inactive"
    assert mocks.accepted_by_key()[queued["id"]] == 0


def test_status_moves_only_forward_and_duplicates_answer_200(api, mocks, empty_queue):
    message = _sent_message(api, mocks)
    body = {"status": "delivered", "message_id": message["provider_message_id"]}
    first = api.callback(message["id"], body)
    assert first.status_code == 200 and first.json()["applied"] is True
    duplicate = api.callback(message["id"], body)
    assert duplicate.status_code == 200 and duplicate.json()["applied"] is False
    late_failure = api.callback(message["id"], {"status": "failed", "message_id": message["provider_message_id"]})
    assert late_failure.status_code == 200 and late_failure.json()["applied"] is False
    assert api.status_of(message["id"]) == "delivered"


def test_concurrent_reports_for_one_message_apply_once_and_every_one_is_kept(api, db, mocks, empty_queue):
    message = _sent_message(api, mocks)
    bodies = [{"status": "delivered" if i % 2 else "failed", "message_id": message["provider_message_id"]} for i in range(16)]
    clients = [type(api)(api.key) for _ in bodies]
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda pair: pair[0].callback(message["id"], pair[1]), zip(clients, bodies)))

    assert [a.status_code for a in answers] == [200] * len(bodies), [a.text for a in answers]
    applied = [a.json() for a in answers if a.json()["applied"]]
    assert len(applied) == 1, [a.json() for a in answers]
    final = api.get_message(message["id"]).json()
    assert final["status"] == applied[0]["status"]
    assert (final["delivered_at"] is not None) == (final["status"] == "delivered")
    assert (final["failed_at"] is not None) == (final["status"] == "failed")
    # Every report is kept for audit, the one applied marked so.
    events = db.execute("""SELECT e.reported_status, e.applied FROM delivery_events e JOIN messages m ON m.id = e.message_id
                           WHERE m.public_id = %s""", (message["id"],)).fetchall()
    assert len(events) == len(bodies)
    assert [status for status, was_applied in events if was_applied] == [final["status"]]


def _sent_messages(api, mocks, n):
    for name in ("p1", "p2"):
        mocks.configure(name, callback_delay_ms=-1)  # no automatic callback
    ids = []
    for i in range(n):
        response = api.post_message(new_number(), f"Batch {i}")
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    run_sender()
    messages = [api.get_message(i).json() for i in ids]
    assert {m["status"] for m in messages} == {"sent"}
    return messages


def test_concurrent_reports_for_many_messages_apply_each_to_its_own_message(api, db, mocks, empty_queue):
    # Reports for different messages share commits (ReportApplier); each must still land on
    # its own message, the first for a message applied, a repeat kept but not applied.
    messages = _sent_messages(api, mocks, 30)
    reports = [(m, "delivered" if i % 3 else "failed") for i, m in enumerate(messages)]
    reports += [(m, "delivered") for m in messages[:10]]  # repeats, sent after the first round
    clients = [type(api)(api.key) for _ in range(16)]

    def send(args):
        index, (message, status) = args
        return clients[index % 16].callback(message["id"], {"status": status, "message_id": message["provider_message_id"]})

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        first = list(pool.map(send, enumerate(reports[:30])))
        repeats = list(pool.map(send, enumerate(reports[30:])))

    for (message, status), answer in zip(reports[:30], first):
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"message_id": message["provider_message_id"], "status": status, "applied": True}
        stored = api.get_message(message["id"]).json()
        assert stored["status"] == status
        assert (stored["error"] or {}).get("code") == ("provider_reported_failed" if status == "failed" else None)
    for (message, _), answer, (_, original) in zip(reports[30:], repeats, reports[:10]):
        assert answer.status_code == 200, answer.text
        assert answer.json()["applied"] is False and answer.json()["status"] == original
    ids = [m["id"] for m in messages]
    assert count(db, "SELECT count(*) FROM delivery_events e JOIN messages m ON m.id = e.message_id WHERE m.public_id = ANY(%s::uuid[])", ids) == 40
    assert count(db, "SELECT count(*) FROM delivery_events e JOIN messages m ON m.id = e.message_id WHERE m.public_id = ANY(%s::uuid[]) AND e.applied", ids) == 30


def test_a_report_for_a_message_another_transaction_holds_does_not_hold_up_the_others(api, db, mocks, empty_queue):
    messages = _sent_messages(api, mocks, 11)
    held, others = messages[0], messages[1:]
    clients = [type(api)(api.key) for _ in messages]
    with psycopg.connect(DATABASE_URL) as holder:
        holder.execute("SELECT id FROM messages WHERE public_id = %s FOR UPDATE", (held["id"],))
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(messages)) as pool:
            waiting = pool.submit(clients[0].callback, held["id"], {"status": "delivered", "message_id": held["provider_message_id"]})
            answers = list(pool.map(lambda pair: pair[0].callback(pair[1]["id"], {"status": "delivered", "message_id": pair[1]["provider_message_id"]}),
                                    zip(clients[1:], others)))
            # Every other report was applied while one message stayed locked: a batch never
            # waits for a row lock (it would hold the others' locks meanwhile).
            assert [a.status_code for a in answers] == [200] * len(others), [a.text for a in answers]
            assert all(a.json()["applied"] for a in answers)
            assert not waiting.done()
            holder.rollback()
            held_answer = waiting.result(timeout=30)
    assert held_answer.status_code == 200 and held_answer.json()["applied"] is True
    assert api.status_of(held["id"]) == "delivered"


def test_failed_callback_fails_the_message_with_the_reason(api, mocks, empty_queue):
    message = _sent_message(api, mocks)
    response = api.callback(message["id"], {"status": "failed", "message_id": message["provider_message_id"]})
    assert response.status_code == 200
    failed = api.get_message(message["id"]).json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "provider_reported_failed"


def test_unknown_message_is_404_and_unknown_status_is_422(api, db, mocks, empty_queue):
    unknown = api.callback(str(uuid.uuid4()), {"status": "delivered", "message_id": "whatever"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not_found"

    message = _sent_message(api, mocks)
    events_before = count(db, "SELECT count(*) FROM delivery_events")
    bogus = api.callback(message["id"], {"status": "read", "message_id": message["provider_message_id"]})
    assert bogus.status_code == 422
    assert bogus.json()["code"] == "unknown_status"
    assert api.status_of(message["id"]) == "sent"
    assert count(db, "SELECT count(*) FROM delivery_events") == events_before


def test_forged_stale_or_unsigned_callbacks_are_401_and_change_nothing(api, db, mocks, empty_queue):
    message = _sent_message(api, mocks)
    body = {"status": "invalid", "message_id": message["provider_message_id"]}
    forged = sign_callback(message["id"], secret="x" * 64)
    stale = sign_callback(message["id"], issued_at=int(time.time()) - 400 * 24 * 3600)
    other = sign_callback(str(uuid.uuid4())).replace("mid=", "ignored=") + "&mid=" + message["id"]
    for query in (forged, stale, "", f"mid={message['id']}", other):
        response = api.callback(message["id"], body, query=query)
        assert response.status_code == 401, (query, response.text)
        assert response.json()["code"] == "invalid_signature"
    assert api.status_of(message["id"]) == "sent"
    assert count(db, "SELECT count(*) FROM phone_numbers WHERE number = %s AND status = 'active'", message["to_number"]) == 1


def test_callback_that_overtakes_the_send_record_is_applied(api, mocks, empty_queue):
    for name in ("p1", "p2"):
        mocks.configure(name, callback_before_answer=True, callback_delay_ms=300)
    response = api.post_message(new_number())
    message_id = response.json()["id"]
    run_sender()
    stats = [mocks.stats(name) for name in ("p1", "p2")]
    assert sum(s["callbacks_sent"] for s in stats) == 1, stats  # applied with 200, not lost as 404
    message = wait_for(lambda: (lambda m: m if m["status"] == "delivered" else None)(api.get_message(message_id).json()),
                       what="the early callback's status")
    assert message["provider_message_id"] is not None and message["sent_at"] is not None


def test_wrong_method_and_bad_bodies_on_delivery_status(api, mocks, empty_queue):
    response = api.raw("GET", "/messages/delivery_status")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    message = _sent_message(api, mocks)
    query = sign_callback(message["id"])
    malformed = api.raw("POST", f"/messages/delivery_status?{query}", data="{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["code"] == "malformed_json"
    missing = api.callback(message["id"], {"status": "delivered"})
    assert missing.status_code == 422 and missing.json()["code"] == "missing_field"
    assert api.status_of(message["id"]) == "sent"


def test_mock_counts_each_refused_callback_with_its_reason(mocks):
    # The chaos suite waits for the callbacks the mocks still owe and reports why any failed:
    # a callback DeliveryFCGI refuses (here a forged signature: 401) counts as failed, with its
    # status, and nothing stays in flight.
    forged = f"{BASE_URL}/messages/delivery_status?mid={uuid.uuid4()}&ts={int(time.time())}&sig={'0' * 64}"
    send = requests.post(f"{MOCK_BASE['p1']}/send", json={"to_number": "+15550000001", "message": "hi", "callback_url": forged},
                         headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=10)
    assert send.status_code == 200, send.text

    def settled():
        stats = mocks.stats("p1")
        return stats if stats["callbacks_pending"] == 0 and stats["callbacks_in_flight"] == 0 else None
    stats = wait_for(settled, what="the mock's callback")
    assert (stats["callbacks_sent"], stats["callbacks_failed"], stats["callbacks_failed_by_reason"]) == (0, 1, {"401": 1}), stats


def test_reports_never_read_the_whole_messages_table_once_it_has_grown(api, db):
    # The batch statement for reports used to be prepared: after five executions PostgreSQL
    # kept the generic plan made while messages was empty (a fresh install, a TRUNCATE), a
    # sequential scan, and every later batch read the whole table with it until autovacuum's
    # next ANALYZE. It is planned at each execution now (Query.Planning.eachExecution).
    db.execute(f"TRUNCATE {MESSAGE_TABLES}")  # statistics as on a fresh install
    owner = db.execute("SELECT max(id) FROM api_keys").fetchone()[0]  # the key `api` just made
    for n, message_id in enumerate(store_messages(db, owner, 40, "while the table is small")):
        response = api.callback(message_id, {"status": "delivered", "message_id": f"p1-small-{n}"})
        assert response.status_code == 200 and response.json()["applied"] is True, response.text
    grown = 20_000
    measured = store_messages(db, owner, grown, "after the table grew")[:5]
    # DeliveryFCGI's connections publish what they read when idle, at most once a second.
    time.sleep(3)
    before = messages_rows_read_by_sequential_scans(db)
    for n, message_id in enumerate(measured):
        response = api.callback(message_id, {"status": "delivered", "message_id": f"p1-grown-{n}"})
        assert response.status_code == 200 and response.json()["applied"] is True, response.text
    # A backend publishes its counts as it exits: end the connections that applied reports
    # (DeliveryFCGI reconnects on its next request, as after a database restart).
    pids = [r[0] for r in db.execute(
        """SELECT pid FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'DeliveryFCGI'""").fetchall()]
    assert pids, "no connection of DeliveryFCGI's has applied a report"
    for pid in pids:
        db.execute("SELECT pg_terminate_backend(%s)", (pid,))
    wait_for(lambda: count(db, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", pids) == 0,
             what="the report connections to end")
    read = messages_rows_read_by_sequential_scans(db) - before
    assert read < grown, f"5 reports read {read} rows of messages through sequential scans (the table holds {grown + 40})"
    # DeliveryFCGI is back on new connections.
    again = store_messages(db, owner, 1, "after the reconnect")[0]
    response = api.callback(again, {"status": "delivered", "message_id": "p1-again"})
    assert response.status_code == 200 and response.json()["applied"] is True, response.text


def test_a_report_that_overtakes_the_send_names_its_attempt_even_if_the_sender_dies(api, db):
    """The provider reports before the sender recorded its answer, and that sender dies before
    it does: the message still says which provider and attempt it went out on (not provider
    null, attempts 0, as a chaos run found), its provider id left unknown."""
    message_id = api.post_message(new_number(), "overtaken").json()["id"]
    # As a sender leaves a job it claimed for attempt 1 on p2 and then died.
    db.execute("""UPDATE jobs SET attempts = 1, leased_by = 'a-dead-sender', leased_until = now() + interval '1 minute',
                  run_at = now() + interval '1 minute' WHERE message_id = (SELECT id FROM messages WHERE public_id = %s)""", (message_id,))
    db.execute("UPDATE messages SET status = 'sending' WHERE public_id = %s", (message_id,))
    response = api.callback(message_id, {"status": "delivered", "message_id": "p2-early"}, query=sign_callback(message_id, attempt=(0, 1, "p2")))
    assert response.status_code == 200 and response.json()["applied"] is True, response.text
    message = api.get_message(message_id).json()
    assert (message["status"], message["provider"], message["attempts"], message["provider_message_id"]) == ("delivered", "p2", 1, None), message

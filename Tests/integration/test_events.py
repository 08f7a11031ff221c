"""Events: every status change writes one event in its own transaction (an outbox), carrying
the message as the API showed it and the client's own reference; GET /events pulls them with
a cursor that never skips one."""
import time
import uuid

import psycopg
import pytest

from conftest import Api, DATABASE_URL, STACK_ENV, count, create_api_key, new_number, run_sender, wait_for


def _events(api, **params):
    response = api.raw("GET", "/events", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _all_events(api, after=None, **params):
    """Every event after `after`, following next_after page by page; (events, last cursor)."""
    events = []
    while True:
        query = dict(params)
        if after:
            query["after"] = after
        page = _events(api, **query)
        events += page["events"]
        after = page["next_after"]
        if not page["has_more"]:
            return events, after


def _types_of(api, message_id):
    events, _ = _all_events(api)
    return [e["type"] for e in events if e["data"].get("message", {}).get("id") == message_id]


def test_status_changes_write_one_event_each_carrying_the_message_as_it_was_and_its_client_ref(api, mocks, empty_queue):
    response = api.post_message(new_number(), "Order 1042 has shipped", client_ref="order-1042")
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["client_ref"] == "order-1042"
    # Accepting is not an event: the client has the answer already.
    assert _events(api)["events"] == []

    run_sender()
    wait_for(lambda: api.status_of(message["id"]) == "delivered", what="the delivered callback")
    events = wait_for(lambda: (lambda e: e if len(e) == 2 else None)(_all_events(api)[0]), what="both events listed")

    assert [e["type"] for e in events] == ["message.sent", "message.delivered"]
    sent, delivered = events
    assert sent["data"]["message"]["status"] == "sent" and sent["data"]["message"]["delivered_at"] is None
    assert delivered["data"]["message"]["status"] == "delivered" and delivered["data"]["message"]["delivered_at"] is not None
    for event in events:
        assert uuid.UUID(event["id"])
        assert event["timestamp"].endswith("Z")
        assert event["data"]["message"]["id"] == message["id"]
        assert event["data"]["message"]["client_ref"] == "order-1042"
        assert event["data"]["message"]["to_number"] == message["to_number"]
        assert event["data"]["message"]["message"] == "Order 1042 has shipped"
    # An event is also found by its id, the same document.
    found = api.raw("GET", f"/events/{delivered['id']}")
    assert found.status_code == 200 and found.json() == delivered


def test_an_event_keeps_the_message_as_a_row_and_reads_one_kept_as_json_the_same(api, db, mocks, empty_queue):
    """Status events store the message as a row of messages' type (migration 0033), about a
    third of the JSON they stored before; events stored as JSON before it read the same."""
    body = "Your code is 482913. It expires in 10 minutes. Do not share it with anyone; we never ask for it by phone or e-mail. Thank you."
    message_id = api.post_message(new_number(), body, client_ref="row-1").json()["id"]
    run_sender()
    wait_for(lambda: api.status_of(message_id) == "delivered", what="the delivered callback")
    events = wait_for(lambda: (lambda e: e if len(e) == 2 else None)(_all_events(api)[0]), what="both events listed")

    rows = db.execute("""SELECT e.message IS NULL, e.snapshot IS NOT DISTINCT FROM NULL, pg_column_size(e.*)
                         FROM events e JOIN messages m ON m.id = e.message_id WHERE m.public_id = %s ORDER BY e.id""",
                      (message_id,)).fetchall()
    # A row of the message, not its JSON: with this body the JSON made an event of about 1,000 bytes.
    assert [(no_json, no_row) for no_json, no_row, _ in rows] == [(True, False), (True, False)]
    assert all(size < 600 for _, _, size in rows), rows

    # The same events as an older version stored them (to_jsonb of the row) read the same,
    # pulled and found alike.
    db.execute("""UPDATE events e SET message = to_jsonb(e.snapshot), snapshot = NULL
                  FROM messages m WHERE m.id = e.message_id AND m.public_id = %s""", (message_id,))
    assert _all_events(api)[0] == events
    for event in events:
        assert api.raw("GET", f"/events/{event['id']}").json() == event


def test_no_change_without_its_event_and_no_event_without_its_change(api, db, empty_queue):
    message_id = api.post_message(new_number(), send_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))).json()["id"]
    # A change rolled back leaves no event behind.
    with psycopg.connect(DATABASE_URL) as connection:
        connection.execute("UPDATE messages SET status = 'canceled' WHERE public_id = %s", (message_id,))
        assert connection.execute("SELECT count(*) FROM events e JOIN messages m ON m.id = e.message_id WHERE m.public_id = %s",
                                  (message_id,)).fetchone()[0] == 1
        connection.rollback()
    assert count(db, "SELECT count(*) FROM events e JOIN messages m ON m.id = e.message_id WHERE m.public_id = %s", message_id) == 0

    # A cancel through the API: exactly one event; a second cancel (409) changes nothing and writes nothing.
    assert api.raw("POST", f"/messages/{message_id}/cancel").status_code == 200
    assert api.raw("POST", f"/messages/{message_id}/cancel").status_code == 409
    assert _types_of(api, message_id) == ["message.canceled"]


def test_every_terminal_status_written_by_any_path_has_exactly_one_event(api, db, mocks, empty_queue):
    """Whatever path moved them (sender, callbacks, cancel, expiry), messages and events agree."""
    mocks.configure_all(callback_statuses={"delivered": 2, "failed": 1, "invalid": 1})
    ids = api.post_messages(6, "Outbox")
    api.raw("POST", f"/messages/{ids[0]}/cancel")
    run_sender()
    wait_for(lambda: all(api.status_of(i) in ("delivered", "failed", "canceled", "invalid") for i in ids), what="final statuses")
    mismatched = count(db, """
        SELECT count(*) FROM messages m
        WHERE m.public_id = ANY(%s::uuid[])
          AND (SELECT count(*) FROM events e WHERE e.message_id = m.id
                 AND e.type IN ('message.delivered', 'message.failed', 'message.canceled', 'message.invalid', 'message.expired')) <> 1""", ids)
    assert mismatched == 0


def test_expired_message_and_invalid_number_events(api, db, mocks, empty_queue):
    # Expired: not sent within its validity.
    expired_id = api.post_message(new_number(), validity_period=1).json()["id"]
    db.execute("UPDATE messages SET expires_at = now() - interval '1 second' WHERE public_id = %s", (expired_id,))
    # Invalid: the provider reports the number invalid; a later message to it fails too.
    number = new_number()
    mocks.configure_all(callback_delay_ms=-1)
    first = api.post_message(number).json()["id"]
    run_sender()
    later = api.post_message(number, send_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))).json()["id"]
    sent = api.get_message(first).json()
    assert api.callback(first, {"status": "invalid", "message_id": sent["provider_message_id"]}).status_code == 200

    assert _types_of(api, expired_id) == ["message.expired"]
    assert _types_of(api, first) == ["message.sent", "message.invalid"]
    assert _types_of(api, later) == ["message.failed"]
    events, _ = _all_events(api)
    failed = next(e for e in events if e["data"].get("message", {}).get("id") == later)
    assert failed["data"]["message"]["error"]["code"] == "phone_number_inactive"
    inactive = [e for e in events if e["type"] == "phone_number.inactive"]
    assert [e["data"]["phone_number"]["number"] for e in inactive] == [number]


def test_pull_pages_with_a_cursor_filters_by_type_and_resumes_where_it_stopped(api, empty_queue):
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    ids = [api.post_message(new_number(), f"Page {i}", send_at=later).json()["id"] for i in range(5)]
    for message_id in ids:
        assert api.raw("POST", f"/messages/{message_id}/cancel").status_code == 200

    first = _events(api, limit=2)
    assert len(first["events"]) == 2 and first["has_more"] is True
    rest, cursor = _all_events(api, after=first["next_after"], limit=2)
    listed = [e["data"]["message"]["id"] for e in first["events"] + rest]
    assert listed == ids  # oldest first, each once
    # Nothing new: the same cursor comes back, so a client polls with it.
    again = _events(api, after=cursor)
    assert again["events"] == [] and again["has_more"] is False and again["next_after"] == cursor
    # Something new after the cursor: exactly that.
    extra = api.post_message(new_number(), send_at=later).json()["id"]
    api.raw("POST", f"/messages/{extra}/cancel")
    assert [e["data"]["message"]["id"] for e in _events(api, after=cursor)["events"]] == [extra]

    assert _events(api, type="message.delivered")["events"] == []
    assert len(_all_events(api, type="message.canceled,message.failed")[0]) == 6


def test_an_event_committed_late_is_never_skipped_by_a_cursor(api, empty_queue):
    """Event ids are handed out before commit: an event with a smaller id may commit after a
    larger one was listed. The pull lists neither until the older transaction ends, so a
    cursor never passes over one."""
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    slow_id, fast_id = (api.post_message(new_number(), send_at=later).json()["id"] for _ in range(2))
    cursor = _events(api)["next_after"]
    with psycopg.connect(DATABASE_URL) as slow:
        slow.execute("UPDATE messages SET status = 'canceled', canceled_at = now() WHERE public_id = %s", (slow_id,))
        assert api.raw("POST", f"/messages/{fast_id}/cancel").status_code == 200
        # The fast event has committed, but an older transaction is still open.
        page = _events(api, **({"after": cursor} if cursor else {}))
        assert page["events"] == []
        slow.commit()
    events, _ = _all_events(api, after=cursor)
    assert sorted(e["data"]["message"]["id"] for e in events) == sorted([slow_id, fast_id])


def test_events_are_private_to_their_key(api, empty_queue):
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    message_id = api.post_message(new_number(), send_at=later).json()["id"]
    api.raw("POST", f"/messages/{message_id}/cancel")
    event = _events(api)["events"][0]
    other = Api(create_api_key("events-other"))
    assert _events(other)["events"] == []
    response = other.raw("GET", f"/events/{event['id']}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize("params, field", [
    ({"after": "not-a-cursor"}, "after"),
    ({"type": "message.teleported"}, "type"),
    ({"limit": "0"}, "limit"),
    ({"since": "yesterday"}, "since"),
])
def test_bad_event_listing_parameters_are_422_naming_the_parameter(api, params, field):
    response = api.raw("GET", "/events", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_parameter" and response.json()["field"] == field


def test_a_messages_cursor_is_not_an_events_cursor(api):
    api.post_messages(3)
    cursor = api.raw("GET", "/messages", params={"limit": 1}).json()["next_after"]
    response = api.raw("GET", "/events", params={"after": cursor})
    assert response.status_code == 422 and response.json()["field"] == "after"


def test_client_ref_is_stored_returned_and_filterable(api):
    refs = ["invoice-7", "invoice-8", "invoice-7"]
    ids = [api.post_message(new_number(), client_ref=ref).json()["id"] for ref in refs]
    assert api.get_message(ids[0]).json()["client_ref"] == "invoice-7"
    listed = api.raw("GET", "/messages", params={"client_ref": "invoice-7"}).json()["messages"]
    assert [m["id"] for m in listed] == [ids[2], ids[0]]
    assert api.post_message(new_number()).json()["client_ref"] is None
    unicode_ref = "Bestellung Nr. 7 – München"
    assert api.post_message(new_number(), client_ref=unicode_ref).json()["client_ref"] == unicode_ref


@pytest.mark.parametrize("client_ref, code", [
    ("", "invalid_client_ref"),
    ("x" * 65, "invalid_client_ref"),
    ("line\nbreak", "invalid_client_ref"),
    (" padded", "invalid_client_ref"),
    (42, "wrong_type"),
])
def test_bad_client_ref_is_422_and_stores_nothing(api, db, client_ref, code):
    number = new_number()
    response = api.post_message(number, client_ref=client_ref)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code and response.json()["field"] == "client_ref"
    assert count(db, "SELECT count(*) FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id WHERE p.number = %s", number) == 0

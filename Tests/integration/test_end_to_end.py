"""A client's POST to a provider's delivery report, through nginx and the real processes."""
from conftest import count, new_number, run_sender, wait_for


def test_accepted_message_is_sent_and_then_delivered_by_the_provider_callback(api, db, mocks, empty_queue):
    number = new_number()
    response = api.post_message(number, "Hello there")
    assert response.status_code == 201, response.text
    message = response.json()
    assert response.headers["Location"] == f"/messages/{message['id']}"
    assert response.headers["Content-Type"].startswith("application/json")
    assert message["status"] == "queued"
    assert message["to_number"] == number
    assert message["message"] == "Hello there"
    assert message["encoding"] == "GSM-7" and message["segments"] == 1
    assert count(db, "SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id WHERE m.public_id = %s", message["id"]) == 1

    run_sender()

    sent = api.get_message(message["id"]).json()
    assert sent["status"] in ("sent", "delivered")
    assert sent["provider"] in ("p1", "p2")
    assert sent["provider_message_id"].startswith(sent["provider"] + "-")
    assert sent["attempts"] == 1
    assert mocks.accepted_by_key()[message["id"]] == 1
    # The job left the queue with the send.
    assert count(db, "SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id WHERE m.public_id = %s", message["id"]) == 0

    delivered = wait_for(lambda: (lambda m: m if m["status"] == "delivered" else None)(api.get_message(message["id"]).json()),
                         what="the delivered callback")
    assert delivered["delivered_at"] is not None
    assert count(db, "SELECT count(*) FROM delivery_events e JOIN messages m ON m.id = e.message_id WHERE m.public_id = %s AND e.applied", message["id"]) == 1


def test_national_number_takes_the_default_country_code(api):
    response = api.post_message("(555) 010-0199")
    assert response.status_code == 201, response.text
    assert response.json()["to_number"] == "+15550100199"


def test_get_unknown_message_is_404_problem(api):
    for path in ("/messages/00000000-0000-4000-8000-000000000000", "/messages/not-a-uuid"):
        response = api.raw("GET", path)
        assert response.status_code == 404
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "not_found"


def test_healthz_reports_the_database_reachable(api):
    response = api.raw("GET", "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}

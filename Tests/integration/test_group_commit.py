"""POST /messages commits concurrent requests together (MessageAcceptor: one statement, one
transaction for whatever arrived at once). Each request must still get exactly its own
outcome, stored exactly once, whatever else shared its commit."""
import concurrent.futures
import threading

from conftest import BASE_URL, Api, count, create_api_key, new_number, textingctl

CLIENTS = 16


def _post_all(key, bodies):
    """POSTs every body from CLIENTS threads at once (one session per thread) and returns the
    responses in the order of `bodies`."""
    local = threading.local()

    def post(body):
        if not hasattr(local, "client"):
            local.client = Api(key)
        return local.client.session.post(f"{BASE_URL}/messages", json=body)

    with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(post, bodies))


def test_concurrent_posts_each_get_their_own_message_stored_once(db):
    key = create_api_key("group-commit")
    # Few numbers, many messages: requests for one number often share a batch.
    numbers = [new_number() for _ in range(6)]
    bodies = [{"to_number": numbers[i % len(numbers)], "message": f"Group commit {i} " + "x" * (i % 50)} for i in range(240)]
    responses = _post_all(key, bodies)

    assert [r.status_code for r in responses] == [201] * len(bodies), [r.text for r in responses if r.status_code != 201][:3]
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == len(bodies)
    for body, response in zip(bodies, responses):
        answer = response.json()
        assert (answer["to_number"], answer["message"], answer["status"]) == (body["to_number"], body["message"], "queued")
        assert response.headers["Location"] == f"/messages/{answer['id']}"
    stored = dict(db.execute("""
        SELECT m.public_id::text, p.number || ' ' || m.body FROM messages m
        JOIN phone_numbers p ON p.id = m.phone_number_id JOIN jobs j ON j.message_id = m.id
        WHERE m.public_id = ANY(%s::uuid[])""", (ids,)).fetchall())
    assert stored == {i: f"{b['to_number']} {b['message']}" for i, b in zip(ids, bodies)}
    assert count(db, "SELECT count(*) FROM phone_numbers WHERE number = ANY(%s)", numbers) == len(numbers)


def test_posts_to_an_inactive_number_are_refused_alone_among_concurrent_ones(db):
    key = create_api_key("group-commit-inactive")
    inactive = new_number()
    db.execute("INSERT INTO phone_numbers (number, status, inactivated_at) VALUES (%s, 'inactive', now())", (inactive,))
    bodies = [{"to_number": inactive if i % 4 == 0 else new_number(), "message": f"Mixed {i}"} for i in range(80)]
    responses = _post_all(key, bodies)

    for body, response in zip(bodies, responses):
        if body["to_number"] == inactive:
            assert response.status_code == 422, response.text
            assert response.json()["code"] == "phone_number_inactive"
        else:
            assert response.status_code == 201, response.text
            assert response.json()["to_number"] == body["to_number"]
    assert count(db, "SELECT count(*) FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id WHERE p.number = %s", inactive) == 0
    assert count(db, "SELECT count(*) FROM messages m JOIN api_keys k ON k.id = m.api_key_id WHERE k.name = 'group-commit-inactive'") == 60


def test_a_message_the_database_refuses_fails_alone_and_the_others_are_stored(db):
    key = create_api_key("group-commit-refused")
    refused = "Refused by the constraint of this test"
    # Something only the database catches (the API's checks pass this body): a batch holding
    # it fails as a whole, and then each of its messages must be tried alone.
    db.execute(f"ALTER TABLE messages ADD CONSTRAINT test_refuse_body CHECK (body <> '{refused}') NOT VALID")
    try:
        bodies = [{"to_number": new_number(), "message": refused if i % 10 == 3 else f"Fine {i}"} for i in range(120)]
        responses = _post_all(key, bodies)
    finally:
        db.execute("ALTER TABLE messages DROP CONSTRAINT test_refuse_body")

    for body, response in zip(bodies, responses):
        if body["message"] == refused:
            assert response.status_code == 500, response.text
            assert response.json()["code"] == "internal_error"
        else:
            assert response.status_code == 201, response.text
            assert response.json()["message"] == body["message"]
    assert count(db, "SELECT count(*) FROM messages m JOIN api_keys k ON k.id = m.api_key_id WHERE k.name = 'group-commit-refused'") == 108
    assert count(db, "SELECT count(*) FROM messages WHERE body = %s", refused) == 0


def test_a_key_revoked_after_it_was_used_stores_nothing_more(db):
    key = create_api_key("group-commit-revoked")
    client = Api(key)
    assert client.post_message(new_number()).status_code == 201  # the key is now remembered
    key_id = db.execute("SELECT public_id::text FROM api_keys WHERE name = 'group-commit-revoked'").fetchone()[0]
    assert textingctl("keys", "revoke", key_id).returncode == 0

    responses = _post_all(key, [{"to_number": new_number(), "message": f"After revoke {i}"} for i in range(32)])
    assert {r.status_code for r in responses} == {401}
    assert {r.json()["code"] for r in responses} == {"unauthorized"}
    assert all(r.headers["WWW-Authenticate"].startswith("Bearer") for r in responses)
    assert count(db, "SELECT count(*) FROM messages m JOIN api_keys k ON k.id = m.api_key_id WHERE k.name = 'group-commit-revoked'") == 1


def test_a_revoked_key_cannot_replay_an_idempotent_request(db):
    key = create_api_key("group-commit-revoked-replay")
    client = Api(key)
    body = {"to_number": new_number(), "message": "Replay me"}
    headers = {"Idempotency-Key": "replay-after-revoke"}
    assert client.raw("POST", "/messages", json=body, headers=headers).status_code == 201
    assert client.post_message(new_number()).status_code == 201  # the key is remembered too
    key_id = db.execute("SELECT public_id::text FROM api_keys WHERE name = 'group-commit-revoked-replay'").fetchone()[0]
    assert textingctl("keys", "revoke", key_id).returncode == 0

    replay = client.raw("POST", "/messages", json=body, headers=headers)
    assert replay.status_code == 401, replay.text
    assert replay.json()["code"] == "unauthorized"

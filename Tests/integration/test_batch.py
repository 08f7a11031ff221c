"""POST /messages/batch: up to 1,000 messages in one request, stored in one transaction,
answered with one result per message; one Idempotency-Key for the batch; limits count the
batch's accepted messages."""
import concurrent.futures
import json
import uuid

from conftest import Api, BASE_URL, count, create_api_key, new_number, textingctl


def _batch(api, body, key=None, **kwargs):
    headers = {"Idempotency-Key": key} if key else {}
    return api.session.post(f"{BASE_URL}/messages/batch", json=body, headers=headers, **kwargs)


def _transactions(db, ids):
    """How many transactions wrote these messages (their rows' xmin)."""
    return count(db, "SELECT count(DISTINCT xmin::text) FROM messages WHERE public_id = ANY(%s::uuid[])", ids)


def test_each_message_gets_its_own_result_and_the_accepted_ones_one_transaction(db):
    api = Api(create_api_key("batch"))
    opted_out = new_number()
    assert textingctl("optouts", "add", opted_out, "asked").returncode == 0
    numbers = [new_number() for _ in range(4)]
    body = {
        "defaults": {"message": "Your order shipped", "client_ref": "campaign-7", "validity_period": 3600},
        "messages": [
            {"to_number": numbers[0]},
            {"to_number": "12"},
            {"to_number": numbers[1], "message": "Your own text", "client_ref": "order-2"},
            {"to_number": opted_out},
            {"to_number": numbers[2], "colour": "red"},
            {"to_number": numbers[3], "message": ""},
        ],
    }
    response = _batch(api, body)
    assert response.status_code == 200, response.text
    document = response.json()
    results = document["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["status"] for r in results] == [201, 422, 201, 422, 422, 422]
    assert (document["accepted"], document["refused"]) == (2, 4)
    assert [r["problem"]["code"] for r in results if r["status"] != 201] == [
        "invalid_phone_number", "recipient_opted_out", "unknown_field", "message_empty"]
    assert results[1]["problem"]["field"] == "to_number" and results[1]["problem"]["request_id"] == response.headers["x-request-id"]
    first, third = results[0]["message"], results[2]["message"]
    # Defaults apply unless the message gives its own.
    assert (first["to_number"], first["message"], first["client_ref"], first["status"]) == (numbers[0], "Your order shipped", "campaign-7", "queued")
    assert first["expires_at"] is not None
    assert (third["message"], third["client_ref"]) == ("Your own text", "order-2")
    for result in (results[0], results[2]):
        stored = api.get_message(result["message"]["id"])
        assert stored.status_code == 200 and stored.json()["id"] == result["message"]["id"]
    assert _transactions(db, [first["id"], third["id"]]) == 1
    # Nothing else was stored.
    assert count(db, "SELECT count(*) FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id WHERE p.number = ANY(%s)",
                 [numbers[2], numbers[3], opted_out]) == 0


def test_a_thousand_messages_are_one_request_and_one_transaction(db):
    api = Api(create_api_key("batch-1000"))
    body = {"defaults": {"message": "Hello"}, "messages": [{"to_number": new_number()} for _ in range(1000)]}
    response = _batch(api, body)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["accepted"] == 1000, [r for r in document["results"] if r["status"] != 201][:3]
    ids = [r["message"]["id"] for r in document["results"]]
    assert len(set(ids)) == 1000
    assert _transactions(db, ids) == 1
    assert api.raw("GET", "/usage").json()["day"]["messages"] == 1000


def test_the_batch_itself_must_be_well_formed():
    api = Api(create_api_key("batch-shape"))
    cases = [
        ({}, 422, "missing_field", "messages"),
        ({"messages": []}, 422, "invalid_parameter", "messages"),
        ({"messages": {"to_number": "+15555550100"}}, 422, "wrong_type", "messages"),
        ({"messages": [{"to_number": new_number(), "message": "x"}] * 1001}, 422, "invalid_parameter", "messages"),
        ({"messages": [{"to_number": new_number(), "message": "x"}], "extra": 1}, 422, "unknown_field", "extra"),
        ({"messages": [{"to_number": new_number()}], "defaults": {"to_number": new_number(), "message": "x"}}, 422, "unknown_field",
         "defaults.to_number"),
        ({"messages": [{"to_number": new_number()}], "defaults": ["message"]}, 422, "wrong_type", "defaults"),
        ({"messages": [{"to_number": new_number()}], "defaults": {"message": "x", "validity_period": "1h"}}, 422, "wrong_type",
         "defaults.validity_period"),
        ({"messages": [{"to_number": new_number()}], "defaults": {"message": ""}}, 422, "message_empty", "defaults.message"),
        ({"messages": [{"to_number": new_number(), "message": "x"}, 5]}, 422, "wrong_type", "messages"),
    ]
    for body, status, code, field in cases:
        response = _batch(api, body)
        assert response.status_code == status, (body if len(json.dumps(body)) < 200 else field, response.text)
        assert response.json()["code"] == code and response.json()["field"] == field, response.text
    assert api.session.post(f"{BASE_URL}/messages/batch", data=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    assert api.raw("GET", "/messages/batch").status_code == 405
    assert Api().raw("POST", "/messages/batch", json={"messages": []}).status_code == 401
    # Up to 1 MiB: a thousand long messages do not fit (nginx answers 413 before any process reads it).
    huge = {"messages": [{"to_number": new_number(), "message": "x" * 1500} for _ in range(1000)]}
    too_large = _batch(api, huge)
    assert too_large.status_code == 413 and too_large.json()["code"] == "payload_too_large"
    # A single message's limit stays 16 KiB.
    assert api.post_message(new_number(), "x" * 17000).status_code == 413


def test_one_idempotency_key_covers_the_batch_and_replays_its_answer(db):
    api = Api(create_api_key("batch-idempotent"))
    key = str(uuid.uuid4())
    body = {"defaults": {"message": "Once"}, "messages": [{"to_number": new_number()}, {"to_number": "12"}, {"to_number": new_number()}]}
    first = _batch(api, body, key)
    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["results"]] == [201, 422, 201]
    ids = [r["message"]["id"] for r in first.json()["results"] if r["status"] == 201]
    assert _transactions(db, ids) == 1
    again = _batch(api, body, key)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert count(db, "SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[])", ids) == 2
    assert api.raw("GET", "/usage").json()["day"]["messages"] == 2
    other = _batch(api, {**body, "defaults": {"message": "Twice"}}, key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    # A key used for one message is not a batch's, and the other way round.
    single_key = str(uuid.uuid4())
    assert api.session.post(f"{BASE_URL}/messages", json={"to_number": new_number(), "message": "x"},
                            headers={"Idempotency-Key": single_key}).status_code == 201
    assert _batch(api, body, single_key).json()["code"] == "idempotency_key_reused"
    assert api.session.post(f"{BASE_URL}/messages", json={"to_number": new_number(), "message": "x"},
                            headers={"Idempotency-Key": key}).json()["code"] == "idempotency_key_reused"


def test_concurrent_repeats_of_one_batch_store_it_once(db):
    api = Api(create_api_key("batch-race"))
    key = str(uuid.uuid4())
    body = {"defaults": {"message": "Race"}, "messages": [{"to_number": new_number()} for _ in range(20)]}
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _batch(api, body, key), range(8)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200][:2]
    documents = {json.dumps(a.json(), sort_keys=True) for a in answers}
    assert len(documents) == 1
    assert sum(1 for a in answers if a.headers.get("idempotent-replayed") == "true") == 7
    assert api.raw("GET", "/usage").json()["day"]["messages"] == 20


def test_limits_count_the_batchs_accepted_messages():
    api = Api(create_api_key("batch-quota"))
    key_id = next(line.split("\t")[0] for line in textingctl("keys", "list").stdout.splitlines() if "\tbatch-quota\t" in line)
    assert textingctl("keys", "limits", key_id, "--segments-per-day", "10").returncode == 0
    document = _batch(api, {"defaults": {"message": "Quota"}, "messages": [{"to_number": new_number()} for _ in range(15)]}).json()
    assert [r["status"] for r in document["results"]] == [201] * 10 + [429] * 5
    refused = document["results"][-1]
    assert refused["problem"]["code"] == "quota_exceeded" and refused["retry_after"] >= 1
    assert api.raw("GET", "/usage").json()["day"]["segments"] == 10

    assert textingctl("keys", "limits", key_id, "--segments-per-day", "none", "--rate", "1/s", "--burst", "3").returncode == 0
    document = _batch(api, {"defaults": {"message": "Rate"}, "messages": [{"to_number": new_number()} for _ in range(5)]}).json()
    assert [r["status"] for r in document["results"]] == [201] * 3 + [429] * 2
    assert {r["problem"]["code"] for r in document["results"][3:]} == {"rate_limited"}
    # Later messages wait longer for the bucket.
    assert document["results"][4]["retry_after"] > document["results"][3]["retry_after"] >= 1

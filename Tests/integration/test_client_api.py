"""The client API in front of customers: API keys, Idempotency-Key, listing, cancel, scheduling."""
import concurrent.futures
import datetime
import hashlib
import re
import threading
import time
import uuid

import pytest

from conftest import Api, count, create_api_key, new_number, run_sender, textingctl


def _in(seconds):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


# --- API keys -----------------------------------------------------------------------------

def test_requests_without_a_valid_key_are_401_with_www_authenticate(api):
    message_id = api.post_message(new_number()).json()["id"]
    for headers in ({}, {"Authorization": "Bearer txk_not-a-real-key"}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        anonymous = Api()
        for method, path in (("POST", "/messages"), ("GET", "/messages"), ("GET", f"/messages/{message_id}"), ("POST", f"/messages/{message_id}/cancel")):
            response = anonymous.raw(method, path, json={"to_number": new_number(), "message": "hi"}, headers=headers)
            assert response.status_code == 401, (headers, method, path, response.text)
            assert response.headers["Content-Type"] == "application/problem+json"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert response.json()["code"] == "unauthorized"


def test_keys_are_random_and_stored_only_as_a_hash(db):
    keys = [create_api_key("hash-check") for _ in range(3)]
    assert len(set(keys)) == 3
    for key in keys:
        assert re.fullmatch(r"txk_[A-Za-z0-9_-]{43}", key)  # 32 random bytes: 256 bits
        digest = hashlib.sha256(key.encode()).hexdigest()
        row = db.execute("SELECT key_hash, prefix FROM api_keys WHERE key_hash = %s", (digest,)).fetchone()
        assert row is not None
        dump = " ".join(str(v) for r in db.execute("SELECT * FROM api_keys").fetchall() for v in r)
        assert key not in dump
        assert key[:10] == row[1]


def test_revoked_key_gets_401_and_listing_shows_it_revoked():
    key = create_api_key("to-revoke")
    client = Api(key)
    posted = client.post_message(new_number())
    assert posted.status_code == 201
    # Reads too, each worker's: the key is remembered (APIKeyCache), the read checks it anyway.
    for _ in range(40):
        assert client.get_message(posted.json()["id"]).status_code == 200
    listing = textingctl("keys", "list").stdout.splitlines()
    line = next(l for l in listing if l.split("\t")[2] == key[:10] + "…")
    key_id = line.split("\t")[0]
    assert textingctl("keys", "revoke", key_id).returncode == 0
    assert client.post_message(new_number()).status_code == 401
    # From the moment the revocation commits, reads are refused, and a revoked key learns
    # nothing (not even whether an id exists).
    for _ in range(40):
        assert client.get_message(posted.json()["id"]).status_code == 401
    assert client.get_message(str(uuid.uuid4())).status_code == 401
    assert next(l for l in textingctl("keys", "list").stdout.splitlines() if l.startswith(key_id)).split("\t")[4] != "-"
    assert textingctl("keys", "revoke", key_id).returncode != 0  # already revoked


def test_a_message_is_read_from_the_partition_its_id_names_or_found_wherever_it_lies(api, db):
    """GET /messages/{id} reads the one partition a UUIDv7 names (MessageStore.read); a message
    that is not there (its id written apart from its public id, or a random public id, as rows
    made before the partitioning are) is still found through the partitioned table, and a
    span with no partition is a plain 404."""
    span = db.execute("SELECT history_span_of(now()) - 3").fetchone()[0]
    made = [db.execute("SELECT create_history_partition('messages', %s)", (s,)).fetchone()[0] for s in (span - 1, span)]
    try:
        _read_across_spans(api, db, span)
    finally:
        for name in filter(None, made):  # the test stack keeps its partitions between runs: not these
            db.execute(f"ALTER TABLE messages DETACH PARTITION {name}")
            db.execute(f"DROP TABLE {name}")


def _read_across_spans(api, db, span):
    owner = db.execute("SELECT id FROM api_keys WHERE key_hash = encode(sha256(%s::bytea), 'hex')", (api.key,)).fetchone()[0]
    number = db.execute("INSERT INTO phone_numbers (number) VALUES (%s) RETURNING id", (new_number(),)).fetchone()[0]

    def store(public_id_sql, id_sql, body):
        return db.execute(f"""INSERT INTO messages (id, public_id, phone_number_id, body, encoding, segments, api_key_id, status)
                              SELECT {id_sql}, u, %(number)s, %(body)s, 'GSM-7', 1, %(owner)s, 'delivered'
                              FROM (SELECT {public_id_sql} AS u) v RETURNING public_id::text""",
                          {"number": number, "body": body, "owner": owner, "span": span}).fetchone()[0]

    older = store("uuid_v7_at(1577836800000 + (%(span)s::bigint << 31) + 86400000)", "message_id_for(u)", "in an older span")
    # Ten minutes into the span, its id made half an hour before (within the hour by which a
    # row's id and public id may differ, migration 0016): in the span before.
    apart = store("uuid_v7_at(1577836800000 + (%(span)s::bigint << 31) + 600000)",
                  "time_id(uuid_v7_ms(u) - 1800000, nextval('messages_id_low'))", "id apart")
    assert db.execute("SELECT id >> 53 FROM messages WHERE public_id = %s", (apart,)).fetchone()[0] == span - 1
    random_id = store("gen_random_uuid()", "message_id_for(u)", "random public id")
    for public_id, body in ((older, "in an older span"), (apart, "id apart"), (random_id, "random public id")):
        answer = api.get_message(public_id)
        assert answer.status_code == 200 and answer.json()["message"] == body and answer.json()["id"] == public_id, answer.text
    # A v7 id of a span that has no partition (long before any message).
    nowhere = db.execute("SELECT uuid_v7_at(1577836800000 + (3::bigint << 31))::text").fetchone()[0]
    assert api.get_message(nowhere).status_code == 404
    assert Api(create_api_key("another-reader")).get_message(older).status_code == 404


def test_a_key_sees_only_its_own_messages(api):
    other = Api(create_api_key("other-client"))
    mine = api.post_message(new_number(), send_at=_in(3600)).json()["id"]
    assert other.get_message(mine).status_code == 404
    assert other.raw("POST", f"/messages/{mine}/cancel").status_code == 404
    assert mine not in [m["id"] for m in other.raw("GET", "/messages?limit=100").json()["messages"]]
    assert api.get_message(mine).status_code == 200
    assert api.status_of(mine) == "queued"  # the other key's cancel changed nothing


# --- Idempotency-Key ------------------------------------------------------------------------

def _post(api, key, body):
    return api.raw("POST", "/messages", json=body, headers={"Idempotency-Key": key})


def test_same_idempotency_key_and_body_replays_the_first_response(api, db):
    body = {"to_number": new_number(), "message": "Only once"}
    key = str(uuid.uuid4())
    first = _post(api, key, body)
    assert first.status_code == 201, first.text
    # The same body with other spacing and key order is the same request.
    again = api.raw("POST", "/messages", data='{ "message": "Only once",  "to_number": "%s" }' % body["to_number"],
                    headers={"Idempotency-Key": key, "Content-Type": "application/json"})
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(db, "SELECT count(*) FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id WHERE p.number = %s", body["to_number"]) == 1


def test_same_idempotency_key_with_another_body_is_422(api, db):
    key = str(uuid.uuid4())
    number = new_number()
    assert _post(api, key, {"to_number": number, "message": "First"}).status_code == 201
    response = _post(api, key, {"to_number": number, "message": "Second"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert count(db, "SELECT count(*) FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id WHERE p.number = %s", number) == 1


def test_concurrent_requests_with_one_idempotency_key_make_one_message(api, db):
    key = str(uuid.uuid4())
    body = {"to_number": new_number(), "message": "Race"}
    clients = [Api(api.key) for _ in range(8)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda c: _post(c, key, body), clients))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert count(db, "SELECT count(*) FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id WHERE p.number = %s", body["to_number"]) == 1


def test_idempotency_keys_are_scoped_to_the_api_key_and_expire_after_24_hours(api, db):
    key = str(uuid.uuid4())
    body = {"to_number": new_number(), "message": "Scoped"}
    first = _post(api, key, body).json()["id"]
    other = _post(Api(create_api_key("other")), key, body)
    assert other.status_code == 201 and other.json()["id"] != first
    db.execute("UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 minute' WHERE key = %s", (key,))
    later = _post(api, key, body)
    assert later.status_code == 201 and later.json()["id"] != first
    assert "Idempotent-Replayed" not in later.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\tkey"])
def test_malformed_idempotency_key_is_422(api, key):
    response = api.raw("POST", "/messages", json={"to_number": new_number(), "message": "hi"}, headers={"Idempotency-Key": key})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_idempotency_key"


# --- SMS rules through the API --------------------------------------------------------------

@pytest.mark.parametrize("raw, e164", [
    ("+1 (555) 010-0123", "+15550100123"),
    ("555.010.0124", "+15550100124"),
    ("+44 20 7946 0958", "+442079460958"),
])
def test_numbers_are_normalised(api, raw, e164):
    response = api.post_message(raw)
    assert response.status_code == 201, response.text
    assert response.json()["to_number"] == e164


@pytest.mark.parametrize("text, encoding, segments", [
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("€" * 80, "GSM-7", 1),        # extension table: two septets each, 160 in all
    ("€" * 81, "GSM-7", 2),
    ("é" * 70, "GSM-7", 1),        # é is in the GSM-7 basic table
    ("ç" * 70, "UCS-2", 1),        # ç is not
    ("ç" * 71, "UCS-2", 2),
    ("a" * 66 + "😀", "UCS-2", 1),  # 68 UTF-16 units
    ("a" * 66 + "😀" * 3, "UCS-2", 2),  # the pair at 67/68 is not split
])
def test_encoding_and_segments_are_reported(api, text, encoding, segments):
    response = api.post_message(new_number(), text)
    assert response.status_code == 201, response.text
    assert (response.json()["encoding"], response.json()["segments"]) == (encoding, segments)
    assert response.json()["message"] == text


# --- listing ----------------------------------------------------------------------------------

def test_listing_is_newest_first_with_keyset_pagination(api):
    number = new_number()
    ids = [api.post_message(number, f"m{i}").json()["id"] for i in range(7)]
    seen, after = [], None
    for _ in range(10):
        response = api.raw("GET", "/messages?limit=3" + (f"&after={after}" if after else ""))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["messages"]) <= 3
        seen += [m["id"] for m in page["messages"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == list(reversed(ids))


def test_listing_pages_run_from_this_span_into_months_old_ones(api, db):
    """Messages are partitioned by time (spans of 24.86 days); a page reads the newest spans
    first and the older ones only when those do not fill it (MessageStore.list). Pages walk
    from today's messages into ones made months ago, newest first, each once, with and
    without filters, whichever read fills them."""
    owner = db.execute("SELECT max(id) FROM api_keys").fetchone()[0]  # the key `api` just made
    now = db.execute("SELECT history_span_of(now())").fetchone()[0]
    for span in range(now - 4, now):
        db.execute("SELECT create_history_partition('messages', %s)", (span,))
    number = new_number()
    first_seen = db.execute("SELECT 1577836800000 + (%s::bigint << 31) + 3600000", (now - 4,)).fetchone()[0]
    db.execute("INSERT INTO phone_numbers (number, created_at) VALUES (%s, to_timestamp(%s / 1000.0))", (number, first_seen))
    old = []
    try:
        # Two messages four spans ago, one two spans ago, one in the span before this one.
        for span, offset in ((now - 4, 7_200_000), (now - 4, 7_300_000), (now - 2, 5_000), (now - 1, 5_000)):
            old.append(db.execute(
                """INSERT INTO messages (id, public_id, phone_number_id, body, encoding, segments, api_key_id, status, created_at)
                   SELECT message_id_for(t.u), t.u, (SELECT id FROM phone_numbers WHERE number = %s), 'months ago', 'GSM-7', 1, %s,
                          'delivered', to_timestamp(t.ms / 1000.0)
                   FROM (SELECT 1577836800000 + (%s::bigint << 31) + %s AS ms) s CROSS JOIN LATERAL (SELECT s.ms, uuid_v7_at(s.ms) AS u) t
                   RETURNING public_id::text""", (number, owner, span, offset)).fetchone()[0])
        recent = [api.post_message(number, f"today {i}").json()["id"] for i in range(2)]
        newest_first = list(reversed(old + recent))

        def walk(query, limit):
            seen, after = [], None
            for _ in range(20):
                response = api.raw("GET", f"/messages?limit={limit}&{query}" + (f"&after={after}" if after else ""))
                assert response.status_code == 200, response.text
                seen += [m["id"] for m in response.json()["messages"]]
                after = response.json()["next_after"]
                if after is None:
                    return seen
            raise AssertionError(f"more than 20 pages of {query}")

        quoted = number.replace("+", "%2B")
        for limit in (1, 2, 3, 100):
            assert walk("", limit) == newest_first, limit
            assert walk(f"to_number={quoted}", limit) == newest_first, limit
            assert walk("status=delivered", limit) == list(reversed(old)), limit
            assert walk(f"to_number={quoted}&status=delivered", limit) == list(reversed(old)), limit
    finally:
        db.execute("DELETE FROM messages WHERE public_id = ANY(%s::uuid[])", (old,))


def test_a_listing_by_status_reads_a_bounded_walk_and_its_next_after_leads_on(api, db):
    """No index of messages names the status (migration 0032: so that status updates can be
    HOT), so a listing by status walks the key's newest messages, ten per message asked for
    (MessageStore.statusWalkRows), and keeps those in the status. Behind more messages than
    that, a page comes back short, even empty, with a next_after that leads on to the rest.
    Failed messages have an index of their own (by failed_at): found in one page however many
    newer messages there are."""
    owner = db.execute("SELECT max(id) FROM api_keys").fetchone()[0]  # the key `api` just made
    number = new_number()
    db.execute("INSERT INTO phone_numbers (number) VALUES (%s)", (number,))

    def insert(status, failed=False):
        return db.execute(
            """INSERT INTO messages (phone_number_id, body, encoding, segments, api_key_id, status, failed_at)
               SELECT id, 'walked', 'GSM-7', 1, %s, %s::message_status, CASE WHEN %s THEN now() END FROM phone_numbers WHERE number = %s
               RETURNING public_id::text""", (owner, status, failed, number)).fetchone()[0]

    canceled = insert("canceled")
    failed = insert("failed", failed=True)
    for _ in range(25):
        insert("delivered")
    first = api.raw("GET", "/messages?status=canceled&limit=1")
    assert first.status_code == 200, first.text
    # A limit of 1 walks 20 messages (two rows asked for, to tell a next page), all delivered.
    assert first.json()["messages"] == [] and first.json()["next_after"], first.json()
    second = api.raw("GET", f"/messages?status=canceled&limit=1&after={first.json()['next_after']}")
    assert [m["id"] for m in second.json()["messages"]] == [canceled], second.json()
    assert second.json()["next_after"] is None, second.json()
    found = api.raw("GET", "/messages?status=failed&limit=1")
    assert [m["id"] for m in found.json()["messages"]] == [failed], found.json()
    assert found.json()["next_after"] is None, found.json()


def test_listing_filters_by_number_and_status(api, mocks, empty_queue):
    number, other = new_number(), new_number()
    later = api.post_message(number, "later", send_at=_in(3600)).json()["id"]
    now = api.post_message(number, "now").json()["id"]
    api.post_message(other, "elsewhere")
    run_sender()
    by_number = api.raw("GET", "/messages", params={"to_number": number}).json()["messages"]
    assert {m["id"] for m in by_number} == {later, now}
    # The same number written another way finds the same messages.
    national = api.raw("GET", "/messages", params={"to_number": number[2:]}).json()["messages"]
    assert {m["id"] for m in national} == {later, now}
    queued = api.raw("GET", "/messages", params={"to_number": number, "status": "queued"}).json()["messages"]
    assert [m["id"] for m in queued] == [later]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "status=lost", "after=bogus", "after=djE6LTE", "to_number=12", "color=red"])
def test_bad_listing_parameters_are_422(api, query):
    response = api.raw("GET", f"/messages?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"


# --- cancel, send_at, validity --------------------------------------------------------------

def test_queued_message_can_be_canceled_and_is_never_sent(api, db, mocks, empty_queue):
    message_id = api.post_message(new_number(), send_at=_in(1)).json()["id"]
    response = api.raw("POST", f"/messages/{message_id}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "canceled" and response.json()["canceled_at"]
    assert count(db, "SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id WHERE m.public_id = %s", message_id) == 0
    again = api.raw("POST", f"/messages/{message_id}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "message_not_cancelable"
    time.sleep(1.1)
    run_sender()
    assert api.status_of(message_id) == "canceled"
    assert mocks.accepted_by_key()[message_id] == 0


def test_sent_message_cannot_be_canceled(api, mocks, empty_queue):
    message_id = api.post_message(new_number()).json()["id"]
    run_sender()
    response = api.raw("POST", f"/messages/{message_id}/cancel")
    assert response.status_code == 409
    assert response.json()["code"] == "message_not_cancelable"
    assert api.status_of(message_id) in ("sent", "delivered")


def test_send_at_in_the_future_waits_until_then(api, mocks, empty_queue):
    response = api.post_message(new_number(), send_at=_in(2))
    assert response.status_code == 201
    message = response.json()
    assert message["send_at"] is not None
    run_sender()
    assert api.status_of(message["id"]) == "queued"
    assert mocks.accepted_by_key()[message["id"]] == 0
    time.sleep(2.1)
    run_sender()
    assert api.status_of(message["id"]) in ("sent", "delivered")


@pytest.mark.parametrize("body, field", [
    ({"send_at": "tomorrow"}, "send_at"),
    ({"send_at": _in(40 * 24 * 3600)}, "send_at"),
    ({"validity_period": 0}, "validity_period"),
    ({"validity_period": 1.5}, "validity_period"),
    ({"validity_period": 8 * 24 * 3600}, "validity_period"),
])
def test_bad_schedule_fields_are_422(api, body, field):
    response = api.raw("POST", "/messages", json={"to_number": new_number(), "message": "hi", **body})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


# --- rate limiting ----------------------------------------------------------------------------

def test_flooding_one_key_gets_429_problem_documents_from_nginx():
    client_key = create_api_key("flood")
    clients = [Api(client_key) for _ in range(8)]
    # Not an id at all: answered 404 once the key is checked, without a lookup.
    missing = "/messages/not-a-message-id"

    # The limit lets 1,000 through, then 200/s: how many requests it takes to be refused
    # depends on how fast they come (each is authenticated against the database), so the
    # flood goes on until the first 429 anywhere, up to a bound of 16,000 requests (enough
    # down to about 215 requests/s; 1,300 or so on an idle machine).
    refused = threading.Event()

    def burst(client):
        statuses = []
        for _ in range(2000):  # bounded: 16,000 requests in all
            if refused.is_set():
                break
            response = client.raw("GET", missing)
            statuses.append((response.status_code, response.headers.get("Content-Type"), response.headers.get("Retry-After"), response.text))
            if response.status_code == 429:
                refused.set()
        return statuses

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = [s for batch in pool.map(burst, clients) for s in batch]
    limited = [r for r in results if r[0] == 429]
    assert limited, "no 429 after %d requests" % len(results)
    status, content_type, retry_after, text = limited[0]
    assert content_type == "application/problem+json"
    assert retry_after == "1"
    assert '"code":"rate_limited"' in text
    assert all(r[0] in (404, 429) for r in results)
    # Another key is not limited by this one's flood.
    assert Api(create_api_key("calm")).raw("GET", missing).status_code == 404


def test_message_ids_are_time_ordered_and_old_random_ids_still_work(api, db):
    """Ids are UUIDv7: the first 48 bits are the milliseconds the message was accepted, so
    later messages sort later; an id made before (random, version 4) is still found."""
    ids = []
    for i in range(5):
        ids.append(api.post_message(new_number(), f"ordered {i}").json()["id"])
        time.sleep(0.002)
    assert all(i[14] == "7" and i[19] in "89ab" for i in ids), ids
    assert ids == sorted(ids), ids
    for message_id in ids:
        made_ms = int(message_id.replace("-", "")[:12], 16)
        created = db.execute("SELECT extract(epoch FROM created_at) * 1000 FROM messages WHERE public_id = %s", (message_id,)).fetchone()[0]
        assert abs(float(created) - made_ms) < 5000, (message_id, created)
    old = db.execute(
        """WITH n AS (INSERT INTO phone_numbers (number) VALUES (%s) RETURNING id)
           INSERT INTO messages (public_id, phone_number_id, body, encoding, segments, api_key_id, status)
           SELECT gen_random_uuid(), n.id, 'from before', 'GSM-7', 1, (SELECT api_key_id FROM messages WHERE public_id = %s), 'sent'
           FROM n RETURNING public_id::text""", (new_number(), ids[0])).fetchone()[0]
    assert old[14] == "4"
    assert api.get_message(old).json()["message"] == "from before"
    # Rows made in SQL (replies, events, inbound messages) get theirs from the database's default.
    made, now_ms = db.execute("SELECT uuid_v7()::text, extract(epoch FROM clock_timestamp()) * 1000").fetchone()
    assert made[14] == "7" and made[19] in "89ab", made
    assert abs(int(made.replace("-", "")[:12], 16) - float(now_ms)) < 1000, (made, now_ms)
    assert db.execute("SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
                      "WHERE d.adrelid = 'messages'::regclass AND a.attname = 'public_id'").fetchone()[0] == "uuid_v7()"

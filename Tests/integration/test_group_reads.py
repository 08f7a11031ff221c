"""GET /messages/{id} reads concurrent requests together (MessageReader: one statement on one
of a few reader connections for whatever reads are waiting). Each request must still get
exactly its own answer, its key checked in the same statement, whatever shared its read."""
import concurrent.futures
import threading
import time
import uuid

import psycopg

from conftest import BASE_URL, DATABASE_URL, STACK_ENV, Api, create_api_key, new_number, textingctl, wait_for

READERS = int(STACK_ENV.get("TEXTING_READ_CONNECTIONS", "1"))  # 1: its default


def _backends_waiting_for_the_lock(db):
    return db.execute("""SELECT count(*) FROM pg_stat_activity
                         WHERE application_name = 'MessagesFCGI' AND wait_event_type = 'Lock'""").fetchone()[0]


def test_concurrent_reads_share_statements_and_each_gets_its_own_answer(db):
    mine, other, revoked = (Api(create_api_key(name)) for name in ("reads-mine", "reads-other", "reads-revoked"))
    my_ids = mine.post_messages(12, "Read together")
    other_id = other.post_messages(1, "Not yours")[0]
    revoked_id = revoked.post_messages(1, "Revoked since")[0]
    # Every key is remembered (APIKeyCache) before the revocation: the read itself must refuse it.
    for client, message_id in ((mine, my_ids[0]), (other, other_id), (revoked, revoked_id)):
        assert client.get_message(message_id).status_code == 200
    key_id = db.execute("""SELECT k.public_id::text FROM api_keys k JOIN messages m ON m.api_key_id = k.id
                           WHERE m.public_id = %s""", (revoked_id,)).fetchone()[0]
    assert textingctl("keys", "revoke", key_id).returncode == 0
    # A v7 id of a span with no partition (long before any message), and a random (v4) id.
    nowhere = db.execute("SELECT uuid_v7_at(1577836800000 + (3::bigint << 31))::text").fetchone()[0]
    reads = [(mine, i, 200) for i in my_ids] + [
        (mine, other_id, 404), (other, my_ids[1], 404), (revoked, revoked_id, 401), (revoked, my_ids[2], 401),
        (mine, nowhere, 404), (mine, str(uuid.uuid4()), 404), (other, other_id, 200), (mine, my_ids[3], 200),
    ]
    assert len(reads) < 32  # fewer than MessagesFCGI's workers: every read is in the process at once
    local = threading.local()

    def read(entry):
        client, message_id, _ = entry
        if not hasattr(local, "session"):
            local.session = {}
        session = local.session.setdefault(client.key, Api(client.key).session)
        return session.get(f"{BASE_URL}/messages/{message_id}")

    # The reads' statements wait behind a lock while all the requests arrive, so they pile up
    # in MessagesFCGI: each reader connection takes one statement at most, however many wait.
    with psycopg.connect(DATABASE_URL) as locker:
        locker.execute("LOCK TABLE phone_numbers IN ACCESS EXCLUSIVE MODE")
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(reads)) as pool:
            pending = [pool.submit(read, entry) for entry in reads]
            wait_for(lambda: _backends_waiting_for_the_lock(db) >= 1, what="a read waiting for the lock")
            time.sleep(1)  # room for every request to reach MessagesFCGI (the check below holds at any time)
            assert 1 <= _backends_waiting_for_the_lock(db) <= READERS
            assert not any(f.done() for f in pending)
            locker.rollback()
            responses = [f.result(timeout=60) for f in pending]

    bodies = {message_id: f"Read together {i}" for i, message_id in enumerate(my_ids)} | {other_id: "Not yours 0"}
    for (client, message_id, status), response in zip(reads, responses):
        assert response.status_code == status, (message_id, response.text)
        if status == 200:
            answer = response.json()
            assert (answer["id"], answer["message"]) == (message_id, bodies[message_id])
        elif status == 401:
            assert response.json()["code"] == "unauthorized"
        else:
            assert response.json()["code"] == "not_found"


def test_reads_of_unknown_ids_never_hold_up_the_reader(api, db):
    """An id its span does not hold is looked for through the partitioned table on the
    request's own connection: a client asking for ids that do not exist waits alone, and
    everyone else's reads, answered by the shared reader, go on."""
    known = api.post_messages(8, "Known")
    span = db.execute("SELECT history_span_of(now()) - 3").fetchone()[0]
    made = db.execute("SELECT create_history_partition('messages', %s)", (span,)).fetchone()[0]
    try:
        old = db.execute("SELECT name FROM history_partitions WHERE parent = 'messages' AND span = %s", (span,)).fetchone()[0]
        unknown = [str(uuid.uuid4()) for _ in range(6)] + [known[0][:-4] + "0000"]
        with psycopg.connect(DATABASE_URL) as locker:
            # The partitioned table's lookup locks every partition: held here, it waits.
            locker.execute(f"LOCK TABLE {old} IN ACCESS EXCLUSIVE MODE")
            with concurrent.futures.ThreadPoolExecutor(max_workers=len(unknown)) as pool:
                waiting = [pool.submit(Api(api.key).get_message, message_id) for message_id in unknown]
                wait_for(lambda: _backends_waiting_for_the_lock(db) >= len(unknown), what="the unknown ids' lookups waiting for the lock")
                with concurrent.futures.ThreadPoolExecutor(max_workers=len(known)) as readers:
                    answers = list(readers.map(lambda message_id: Api(api.key).session.get(f"{BASE_URL}/messages/{message_id}", timeout=30), known))
                assert [a.status_code for a in answers] == [200] * len(known), [a.text for a in answers]
                assert [a.json()["id"] for a in answers] == known
                assert not any(f.done() for f in waiting)
                locker.rollback()
                assert [f.result(timeout=60).status_code for f in waiting] == [404] * len(unknown)
    finally:
        if made:  # the test stack keeps its partitions between runs: not this one
            db.execute(f"ALTER TABLE messages DETACH PARTITION {made}")
            db.execute(f"DROP TABLE {made}")

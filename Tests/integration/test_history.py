"""Years of messages (migration 0016, History): messages, delivery reports, events and webhook
attempts are partitioned by time in spans of 2^31 ms (24.86 days); the spans ahead are made
before they are needed, spans past TEXTING_RETENTION_DAYS are dropped whole (never one of
which a message is still queued or an event still waits for a webhook delivery, and with
TEXTING_RETENTION_AFTER_EXPORT only once `textingctl messages export` wrote them out), with
their status counts; and an installation made with the previous schema is turned into the
new layout in place.

Each test has a database of its own (old spans made by hand, an older schema), driven by the
real `textingctl`."""
import contextlib
import json
import os
import shutil
import threading
import time

import psycopg
import pytest

from conftest import STACK_ENV, scratch_database, textingctl

MIGRATIONS = STACK_ENV["TEXTING_MIGRATIONS_DIR"]
# The tables partitioned in place by migration 0016, and every table of the history since 0034.
LEGACY_TABLES = ("messages", "delivery_events", "events", "webhook_attempts")
TABLES = LEGACY_TABLES + ("send_failures", "provider_message_ids")


def ctl(env, *args, **settings):
    result = textingctl(*args, env={**env, **settings})
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def history():
    with scratch_database("texting_history") as env:
        ctl(env, "migrate")
        with psycopg.connect(env["TEXTING_DATABASE_URL"], autocommit=True, prepare_threshold=None) as db:
            db.execute("INSERT INTO api_keys (name, prefix, key_hash) VALUES ('history', 'hist', 'hash-history')")
            yield env, db


def current_span(db):
    return db.execute("SELECT history_span_of(now())").fetchone()[0]


def add_messages(db, span, n, status="delivered", offset_ms=0, provider_ids=True):
    """n messages of the test's key made inside span `span` (ids made from a time in it), each
    to a new number, with a send a provider did not accept, the id the provider gave it (not
    with `provider_ids` False: a schema before 0034 has no table for it), a delivery report, an
    event and a webhook attempt each, all in the span; their public ids."""
    provider_id = """
           ), k AS (
               INSERT INTO provider_message_ids (id, provider, provider_message_id, message_id)
               SELECT time_id(1577836800000 + (%(span)s::bigint << 31) + %(offset)s::bigint + 4500, nextval('provider_message_ids_id_low')),
                      'p1', 'old-' || public_id, id
               FROM m""" if provider_ids else ""
    rows = db.execute(
        """WITH n AS (
               INSERT INTO phone_numbers (number)
               SELECT '+1558' || lpad((g + coalesce((SELECT max(id) FROM phone_numbers), 0))::text, 7, '0')
               FROM generate_series(1, %(n)s) g RETURNING id
           ), m AS (
               INSERT INTO messages (id, public_id, phone_number_id, body, encoding, segments, api_key_id, status, created_at)
               SELECT message_id_for(t.u), t.u, n.id, 'old', 'GSM-7', 1,
                      (SELECT id FROM api_keys), %(status)s::message_status, to_timestamp(t.ms / 1000.0)
               FROM n CROSS JOIN LATERAL (SELECT 1577836800000 + (%(span)s::bigint << 31) + %(offset)s::bigint + n.id AS ms) s
               CROSS JOIN LATERAL (SELECT s.ms, uuid_v7_at(s.ms) AS u) t
               RETURNING id, public_id
           ), f AS (
               INSERT INTO send_failures (id, message_id, attempt, provider, answer, final)
               SELECT time_id(1577836800000 + (%(span)s::bigint << 31) + %(offset)s::bigint + 4000, nextval('send_failures_id_low')), id, 1,
                      'p1', 'provider answered 503: busy', false
               FROM m""" + provider_id + """
           ), r AS (
               INSERT INTO delivery_events (id, message_id, reported_status, applied)
               SELECT time_id(1577836800000 + (%(span)s::bigint << 31) + %(offset)s::bigint + 5000, nextval('delivery_events_id_low')), id, 'delivered', true
               FROM m
           ), e AS (
               INSERT INTO events (id, api_key_id, type, message_id)
               SELECT time_id(1577836800000 + (%(span)s::bigint << 31) + %(offset)s::bigint + 6000, nextval('events_id_low')),
                      (SELECT id FROM api_keys), 'message.delivered', id
               FROM m RETURNING id
           ), a AS (
               INSERT INTO webhook_attempts (id, event_id, api_key_id, url, attempt, outcome, latency_ms)
               SELECT time_id(1577836800000 + (%(span)s::bigint << 31) + %(offset)s::bigint + 7000, nextval('webhook_attempts_id_low')),
                      e.id, (SELECT id FROM api_keys), 'https://example.com/hook', 1, 'delivered', 5
               FROM e
           )
           SELECT public_id::text FROM m""", {"n": n, "status": status, "span": span, "offset": offset_ms}).fetchall()
    return [r[0] for r in rows]


@contextlib.contextmanager
def migrated_before(tmp_path, version, name):
    """A scratch database migrated by `textingctl migrate` with the migrations before
    `version` only (an installation made by an older release): yields its environment."""
    previous = tmp_path / "previous"
    previous.mkdir()
    for migration in sorted(os.listdir(MIGRATIONS)):
        if migration.endswith(".sql") and migration < version:
            shutil.copy(os.path.join(MIGRATIONS, migration), previous / migration)
    with scratch_database(name) as env:
        ctl(env, "migrate", TEXTING_MIGRATIONS_DIR=str(previous))
        yield env


def record_sent(connection, statement, message_id, provider_id):
    """The sender's record of one message sent to p1 with `provider_id` (`jobs.mark_sent`,
    `statement` as `textingctl sql` prints it), on `connection`; the libpq result."""
    message = str(message_id).encode()
    return connection.pgconn.exec_params(statement, [
        b"{" + message + b"}", b"{p1}", b'{"' + provider_id.encode() + b'"}', b"{1}", b"{sending}", b'{""}', message, message])


def partitions(db, parent):
    return {row[0]: row[1] for row in db.execute("SELECT span, name FROM history_partitions WHERE parent = %s", (parent,))}


def counted(db):
    """The status counts as /metrics reads them (folded and pending added), beside a count."""
    kept = dict(db.execute("""SELECT status, sum(count)::bigint FROM (
                                  SELECT status, count FROM status_counts WHERE kind = 'messages'
                                  UNION ALL SELECT status, delta FROM status_count_changes WHERE kind = 'messages') c
                              GROUP BY status HAVING sum(count) <> 0""").fetchall())
    actual = dict(db.execute("SELECT status::text, count(*) FROM messages GROUP BY status").fetchall())
    return kept, actual


def test_the_spans_ahead_are_made_before_they_are_needed(history):
    env, db = history
    now = current_span(db)
    for parent in TABLES:
        assert {now, now + 1, now + 2} <= set(partitions(db, parent)), partitions(db, parent)
    # A span ahead that is missing (as when a new span comes into view) is made by the next
    # maintenance, for each table, and then takes the rows of its time.
    gone = {parent: partitions(db, parent)[now + 2] for parent in TABLES}
    for parent, name in gone.items():
        db.execute(f"ALTER TABLE {parent} DETACH PARTITION {name}")
        db.execute(f"DROP TABLE {name}")
    output = ctl(env, "partitions", "maintain")
    for parent, name in gone.items():
        assert name in output, output
        assert partitions(db, parent)[now + 2] == name
    gone = gone["messages"]
    [public_id] = add_messages(db, now + 2, 1)
    assert db.execute("SELECT tableoid::regclass::text FROM messages WHERE public_id = %s", (public_id,)).fetchone()[0] == gone
    listing = ctl(env, "partitions")
    assert listing.splitlines()[0].split("\t") == ["table", "span", "partition", "from", "until", "estimated_rows", "state"]
    assert any(line.split("\t")[2] == gone for line in listing.splitlines()[1:]), listing
    # Nothing is dropped without a retention.
    assert "dropped none" in output


def test_spans_past_retention_are_dropped_whole_with_their_counts_but_not_with_a_queued_message(history):
    env, db = history
    now = current_span(db)
    old, older = now - 4, now - 6   # about 100 and 150 days ago
    for span in (old, older):
        for parent in TABLES:
            assert db.execute("SELECT create_history_partition(%s, %s)", (parent, span)).fetchone()[0]
    add_messages(db, older, 50)
    add_messages(db, older, 20, status="failed")
    kept_ids = add_messages(db, old, 30)
    queued = add_messages(db, old, 1, status="queued")
    db.execute("INSERT INTO jobs (message_id, run_at) SELECT id, now() + interval '1 day' FROM messages WHERE public_id = %s", (queued[0],))
    recent = add_messages(db, now, 10)
    db.execute("SELECT compact_status_counts()")
    names = partitions(db, "messages")

    output = ctl(env, "partitions", "maintain", TEXTING_RETENTION_DAYS="30")

    assert all(older not in partitions(db, parent) for parent in TABLES), output
    assert names[older] in output
    # The span with a queued message stays, whole; its delivery reports, events and attempts
    # may go.
    assert old in partitions(db, "messages"), output
    assert f"{names[old]}: 1 of its messages are still queued" in output, output
    assert db.execute("SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[])", (kept_ids + queued + recent,)).fetchone()[0] == 41
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 41
    # The figures lost the dropped span's messages, and only those.
    kept, actual = counted(db)
    assert kept == actual == {"delivered": 40, "queued": 1}, (kept, actual)
    # Once the message has left the queue, its span goes too.
    db.execute("DELETE FROM jobs")
    output = ctl(env, "partitions", "maintain", TEXTING_RETENTION_DAYS="30")
    assert old not in partitions(db, "messages"), output
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] == db.execute("SELECT count(*) FROM webhook_attempts").fetchone()[0] == 10
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == db.execute("SELECT count(*) FROM send_failures").fetchone()[0] == 10
    assert db.execute("SELECT count(*) FROM provider_message_ids").fetchone()[0] == 10
    kept, actual = counted(db)
    assert kept == actual == {"delivered": 10}, (kept, actual)
    # A retention longer than the spans' age keeps them.
    assert now in partitions(db, "messages")


@pytest.mark.parametrize("statement", ["messages.find_by_id", "events.find"])
def test_a_public_id_is_looked_up_in_the_one_span_its_time_names(history, statement):
    env, db = history
    now = current_span(db)
    for span in range(now - 6, now):
        for parent in TABLES:
            db.execute("SELECT create_history_partition(%s, %s)", (parent, span))
    # A day into each span: within the hour's slack of a span's edge, the lookup reads both sides.
    ids = {span: add_messages(db, span, 3, offset_ms=86_400_000) for span in (now - 5, now - 2, now)}
    table = "messages" if statement.startswith("messages") else "events"
    key = db.execute("SELECT id FROM api_keys").fetchone()[0]
    sql_text = ctl(env, "sql", statement)
    for span, public_ids in ids.items():
        public_id = public_ids[0]
        if table == "events":
            public_id = db.execute("""UPDATE events SET public_id = uuid_v7_at((id >> 22) + 1577836800000)
                                      WHERE message_id = (SELECT id FROM messages WHERE public_id = %s) RETURNING public_id::text""",
                                   (public_id,)).fetchone()[0]
        # As the service runs it (prepared, a generic plan once warm), and planned for the value.
        for mode in ("force_generic_plan", "force_custom_plan"):
            db.execute(f"SET plan_cache_mode = {mode}")
            db.execute("DEALLOCATE ALL")
            spans = set(partitions(db, table).values())
            if statement == "messages.find_by_id":
                # Through message_by_public_id (0026), whose own query has a generic plan:
                # EXPLAIN shows a function scan, so the nested plan is taken by auto_explain
                # (loaded by the database's superuser, in a session of its own).
                found, plan = nested_lookup(env, sql_text, public_id, key, mode)
                assert len(found) == 1 and found[0][0] == public_id, (mode, found)
            else:
                db.execute(f"PREPARE lookup AS {sql_text}")
                plan = db.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE lookup('{public_id}', {key})").fetchone()[0][0]["Plan"]
                db.execute("DEALLOCATE ALL")
            read = [n for n in walk(plan) if n.get("Relation Name") in spans and n.get("Actual Loops", 0) > 0]
            assert [n["Relation Name"] for n in read] == [partitions(db, table)[span]], (mode, json.dumps(plan, indent=1))
            assert sum(n["Actual Rows"] for n in read) == 1
    db.execute("RESET plan_cache_mode")


def test_a_number_s_messages_are_listed_from_the_spans_since_it_was_first_seen(history):
    """GET /messages?to_number= reads only the spans since the number was first seen (its
    messages are never older), and lists every message of it there."""
    env, db = history
    now = current_span(db)
    for span in range(now - 6, now):
        for parent in TABLES:
            db.execute("SELECT create_history_partition(%s, %s)", (parent, span))
    add_messages(db, now - 5, 50)   # other numbers, in an older span
    first_seen_ms = db.execute("SELECT 1577836800000 + ((%s::bigint) << 31) + 86400000", (now - 2,)).fetchone()[0]
    number_id = db.execute("INSERT INTO phone_numbers (number, created_at) VALUES ('+15550001234', to_timestamp(%s / 1000.0)) RETURNING id",
                           (first_seen_ms,)).fetchone()[0]
    made = []
    for ms in (first_seen_ms + 1000, first_seen_ms + 2 * 86400000, db.execute("SELECT epoch_ms(now())").fetchone()[0]):
        made.append(db.execute("""INSERT INTO messages (id, public_id, phone_number_id, body, encoding, segments, api_key_id)
                                  SELECT message_id_for(u), u, %s, 'to one number', 'GSM-7', 1, (SELECT id FROM api_keys)
                                  FROM (SELECT uuid_v7_at(%s) AS u) v RETURNING public_id::text""", (number_id, ms)).fetchone()[0])
    looked_up = db.pgconn.exec_params(ctl(env, "sql", "messages.list_number_id").encode(), [b"+15550001234"])
    assert looked_up.ntuples == 1, looked_up.error_message
    number, since = looked_up.get_value(0, 0), looked_up.get_value(0, 1)
    key = str(db.execute("SELECT id FROM api_keys").fetchone()[0]).encode()
    listing = ctl(env, "sql", "messages.list_number")
    listed = db.pgconn.exec_params(listing.encode(), [key, b"21", None, since, number])
    assert listed.ntuples == 3, listed.error_message
    assert sorted(listed.get_value(i, 0).decode() for i in range(3)) == sorted(made)
    plan = db.pgconn.exec_params(b"EXPLAIN (FORMAT JSON) " + listing.encode(), [key, b"21", None, since, number])
    spans = set(partitions(db, "messages").values())
    read = {n["Relation Name"] for n in walk(json.loads(plan.get_value(0, 0))[0]["Plan"]) if n.get("Relation Name") in spans}
    assert read == {partitions(db, "messages")[s] for s in partitions(db, "messages") if s >= now - 2}, read


def test_a_claim_reads_the_messages_of_its_jobs_from_their_spans_only(history):
    """JobQueue.claim leases due jobs (`jobs.claim`, jobs only), then reads and marks their
    messages (`jobs.claimed_messages`) given the lowest and highest id leased: planned for
    those values (as the service runs it, unnamed), it reads only the spans the ids lie in,
    however many spans are kept. Its messages are marked `sending`; each job comes back
    with its attempt and when it was due."""
    env, db = history
    now = current_span(db)
    for span in range(now - 6, now):
        for parent in TABLES:
            db.execute("SELECT create_history_partition(%s, %s)", (parent, span))
    add_messages(db, now - 5, 20, status="queued")   # queued long ago, no job: never claimed
    queued = add_messages(db, now, 5, status="queued", offset_ms=1000)
    db.execute("""INSERT INTO jobs (message_id, run_at)
                  SELECT id, now() - make_interval(secs => row_number() OVER (ORDER BY id)) FROM messages WHERE public_id = ANY(%s::uuid[])""",
               (queued,))
    lease = db.pgconn.exec_params(ctl(env, "sql", "jobs.claim").encode(), [b"100", b"60", b"test-sender"])
    assert lease.ntuples == 5, lease.error_message
    columns = [lease.fname(i).decode() for i in range(lease.nfields)]
    leased = [dict(zip(columns, (lease.get_value(r, c).decode() if lease.get_value(r, c) is not None else None for c in range(lease.nfields))))
              for r in range(lease.ntuples)]
    assert all(row["attempts"] == "1" and row["last_provider"] is None and int(row["due_at_us"]) > 0 for row in leased), leased
    ids = [int(row["message_id"]) for row in leased]
    arguments = ["{" + ",".join(map(str, ids)) + "}", "{" + ",".join("1" for _ in ids) + "}", "{" + ",".join('""' for _ in ids) + "}",
                 "{" + ",".join(row["due_at_us"] for row in leased) + "}", str(min(ids)), str(max(ids))]
    statement = ctl(env, "sql", "jobs.claimed_messages")
    plan = db.pgconn.exec_params(b"EXPLAIN (ANALYZE, FORMAT JSON) " + statement.encode(), [a.encode() for a in arguments])
    assert plan.ntuples == 1, plan.error_message
    spans = set(partitions(db, "messages").values())
    read = {n["Relation Name"] for n in walk(json.loads(plan.get_value(0, 0))[0]["Plan"]) if n.get("Relation Name") in spans}
    assert read == {partitions(db, "messages")[now]}, read
    assert db.execute("SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[]) AND status = 'sending'", (queued,)).fetchone()[0] == 5
    held = db.execute("SELECT count(*) FROM jobs WHERE leased_by = 'test-sender' AND attempts = 1").fetchone()[0]
    assert held == 5


def nested_lookup(env, sql_text, public_id, key, mode):
    """Runs the prepared lookup as `mode` plans it, with auto_explain logging the plans of the
    statements it runs inside functions; its rows and the plan of the one that reads messages."""
    admin = psycopg.conninfo.make_conninfo(env["TEXTING_DATABASE_URL"], user="postgres")
    notices = []
    with psycopg.connect(admin, autocommit=True, prepare_threshold=None) as connection:
        connection.add_notice_handler(lambda diagnostic: notices.append(diagnostic.message_primary))
        connection.execute("LOAD 'auto_explain'")
        for setting in ("log_min_duration = 0", "log_nested_statements = on", "log_analyze = on", "log_format = json",
                        "log_level = notice"):
            connection.execute(f"SET auto_explain.{setting}")
        connection.execute(f"SET plan_cache_mode = {mode}")
        connection.execute(f"PREPARE lookup AS {sql_text}")
        found = connection.execute(f"EXECUTE lookup('{public_id}', {key})").fetchall()
    plans = [json.loads(text[text.index("{"):]) for text in notices if text.startswith("duration:") and "{" in text]
    [plan] = [p["Plan"] for p in plans if "FROM messages m" in p["Query Text"]]
    return found, plan


def walk(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from walk(child)


def test_writers_never_wait_for_a_span_being_dropped(history):
    """While a span goes, requests go on: inserts of new messages and events (with their
    numbers and keys) all succeed. A partition with a foreign key to phone_numbers or api_keys
    was seen taking them ACCESS EXCLUSIVE as it was dropped, and deadlocking with inserts;
    the history's tables have none (migration 0016)."""
    env, db = history
    old = current_span(db) - 4
    for parent in TABLES:
        db.execute("SELECT create_history_partition(%s, %s)", (parent, old))
    add_messages(db, old, 2000)
    assert db.execute("""SELECT count(*) FROM pg_constraint c JOIN history_partitions h ON h.name = c.conrelid::regclass::text
                         WHERE c.contype = 'f'""").fetchone()[0] == 0
    stop = threading.Event()
    failures, done = [], []

    def insert():
        with psycopg.connect(env["TEXTING_DATABASE_URL"], autocommit=True) as connection:
            for i in range(5000):  # bounded; stops as soon as the drop is over
                if stop.is_set():
                    break
                try:
                    connection.execute("""WITH n AS (INSERT INTO phone_numbers (number) VALUES (%s)
                                                     ON CONFLICT (number) DO UPDATE SET number = EXCLUDED.number RETURNING id),
                                               m AS (INSERT INTO messages (phone_number_id, body, encoding, segments, api_key_id)
                                                     SELECT n.id, 'during', 'GSM-7', 1, (SELECT id FROM api_keys) FROM n RETURNING id)
                                          INSERT INTO events (api_key_id, type, message_id) SELECT (SELECT id FROM api_keys), 'message.sent', id FROM m""",
                                       (f"+1556{threading.get_ident() % 1000:03d}{i % 10000:04d}",))
                    done.append(1)
                except psycopg.Error as error:
                    failures.append(str(error))

    writers = [threading.Thread(target=insert) for _ in range(4)]
    for writer in writers:
        writer.start()
    try:
        output = ctl(env, "partitions", "maintain", TEXTING_RETENTION_DAYS="30")
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=60)
    assert not failures, failures[:3]
    assert done, "the writers wrote nothing"
    assert all(old not in partitions(db, parent) for parent in TABLES), output


def test_a_span_of_events_waits_for_its_webhook_deliveries(history):
    env, db = history
    old = current_span(db) - 4
    for parent in TABLES:
        db.execute("SELECT create_history_partition(%s, %s)", (parent, old))
    add_messages(db, old, 3)
    db.execute("""INSERT INTO webhook_deliveries (event_id, api_key_id, message_id, url)
                  SELECT id, api_key_id, message_id, 'https://example.com/hook' FROM events LIMIT 1""")
    name = partitions(db, "events")[old]
    output = ctl(env, "partitions", "maintain", TEXTING_RETENTION_DAYS="30")
    assert f"{name}: 1 of its events still wait for webhook deliveries" in output, output
    assert partitions(db, "events").get(old) == name
    assert old not in partitions(db, "messages") and old not in partitions(db, "webhook_attempts"), output
    db.execute("DELETE FROM webhook_deliveries")
    output = ctl(env, "partitions", "maintain", TEXTING_RETENTION_DAYS="30")
    assert old not in partitions(db, "events"), output


def test_a_span_past_retention_waits_while_the_queue_is_over_its_bound(history):
    """Detaching a span of messages, PostgreSQL checks every Idempotency-Key record (the one
    reference to messages with a foreign key) against it while new ones wait: over 100,000
    of them (none in the span), the span is kept for a later run, and goes once there are fewer."""
    env, db = history
    now = current_span(db)
    old = now - 4
    for parent in TABLES:
        db.execute("SELECT create_history_partition(%s, %s)", (parent, old))
    add_messages(db, old, 5)
    name = partitions(db, "messages")[old]
    db.execute("""WITH n AS (INSERT INTO phone_numbers (number) SELECT '+1559' || lpad(g::text, 7, '0') FROM generate_series(1, 100001) g RETURNING id),
                  m AS (INSERT INTO messages (phone_number_id, body, encoding, segments, api_key_id)
                        SELECT id, 'backlog', 'GSM-7', 1, (SELECT id FROM api_keys) FROM n RETURNING id)
                  INSERT INTO idempotency_keys (api_key_id, key, request_hash, message_id) SELECT (SELECT id FROM api_keys), 'k' || id, 'h', id FROM m""")
    output = ctl(env, "partitions", "maintain", TEXTING_RETENTION_DAYS="30")
    assert f"{name}: over 100000 Idempotency-Keys are kept" in output, output
    assert partitions(db, "messages").get(old) == name
    db.execute("DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys LIMIT 2)")
    output = ctl(env, "partitions", "maintain", TEXTING_RETENTION_DAYS="30")
    assert old not in partitions(db, "messages"), output


def test_a_job_made_for_a_span_while_it_is_detached_goes_with_it(history):
    """A job has no foreign key to its message (migration 0022): one made for a message of a
    span past retention after the span was found with none (a requeue, while the detach waits
    for the transactions that can see the span) would name a message that is gone. The drop
    deletes it with the span."""
    env, db = history
    old = current_span(db) - 4
    for parent in TABLES:
        db.execute("SELECT create_history_partition(%s, %s)", (parent, old))
    [public_id] = add_messages(db, old, 1, status="failed")
    name = partitions(db, "messages")[old]
    with psycopg.connect(env["TEXTING_DATABASE_URL"]) as requeue:  # a transaction, open across the detach
        message_id = requeue.execute("SELECT id FROM messages WHERE public_id = %s FOR UPDATE", (public_id,)).fetchone()[0]
        maintain = threading.Thread(target=lambda: outputs.append(ctl(env, "partitions", "maintain", TEXTING_RETENTION_DAYS="30")))
        outputs = []
        maintain.start()
        for _ in range(600):  # the detach waits for this transaction (bounded: 60 s)
            if db.execute("""SELECT count(*) FROM pg_stat_activity
                             WHERE query LIKE 'ALTER TABLE messages DETACH PARTITION%%' AND wait_event_type = 'Lock'""").fetchone()[0]:
                break
            threading.Event().wait(0.1)
        else:
            pytest.fail("the detach never waited for the open transaction")
        requeue.execute("INSERT INTO jobs (message_id, run_at) VALUES (%s, now())", (message_id,))
        requeue.commit()
    maintain.join(timeout=60)
    assert outputs and f"{name} (with 1 jobs that came to name it while it was detached)" in outputs[0], outputs
    assert old not in partitions(db, "messages")
    assert db.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0


def test_the_export_writes_out_every_message_made_before_the_date_and_retention_can_wait_for_it(history):
    env, db = history
    now = current_span(db)
    old = now - 4
    for parent in TABLES:
        db.execute("SELECT create_history_partition(%s, %s)", (parent, old))
    before = add_messages(db, old, 25) + add_messages(db, old, 5, status="failed", offset_ms=1000)
    after = add_messages(db, now, 3)
    end_of_old = db.execute("""SELECT to_char(history_span_start(%s) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')""", (old + 1,)).fetchone()[0]

    # Asked to wait for the export, retention keeps the span.
    output = ctl(env, "partitions", "maintain", TEXTING_RETENTION_DAYS="30", TEXTING_RETENTION_AFTER_EXPORT="on")
    assert old in partitions(db, "messages"), output
    assert "not exported yet" in output, output

    exported = ctl(env, "messages", "export", "--before", end_of_old)
    lines = [json.loads(line) for line in exported.splitlines()]
    assert sorted(m["id"] for m in lines) == sorted(before), "every message made before the date, and no other"
    key = db.execute("SELECT public_id::text FROM api_keys").fetchone()[0]
    assert all(m["api_key"] == key and m["message"] == "old" and m["to_number"].startswith("+1558") for m in lines)
    assert sorted(m["status"] for m in lines).count("failed") == 5
    assert [m["id"] for m in lines] == [m["id"] for m in sorted(lines, key=lambda m: m["created_at"])], "oldest first"

    output = ctl(env, "partitions", "maintain", TEXTING_RETENTION_DAYS="30", TEXTING_RETENTION_AFTER_EXPORT="on")
    assert old not in partitions(db, "messages"), output
    assert sorted(r[0] for r in db.execute("SELECT public_id::text FROM messages")) == sorted(after)


@pytest.mark.parametrize("command", [["messages", "export"], ["messages", "export", "--before"], ["messages", "export", "--before", "yesterday"],
                                     ["messages", "export", "--before", "2026-13-01x"], ["partitions", "drop"]])
def test_malformed_history_commands_are_refused_before_touching_the_database(command):
    result = textingctl(*command)
    assert result.returncode == 2, result
    assert result.stdout == "" and result.stderr.count("\n") == 1, result


def test_an_installation_made_with_the_previous_schema_is_upgraded_in_place(tmp_path):
    """The four tables as they were before 0016 become span 0 of the partitioned tables as
    they are: the same files (attached, not copied), every row and reference kept, old ids
    found by the service's own statements, new rows in the current span."""
    with migrated_before(tmp_path, "0016", "texting_upgrade") as env:
        with psycopg.connect(env["TEXTING_DATABASE_URL"], autocommit=True, prepare_threshold=None) as db:
            assert db.execute("SELECT relkind FROM pg_class WHERE relname = 'messages'").fetchone()[0] == "r"
            db.execute("INSERT INTO api_keys (name, prefix, key_hash) VALUES ('upgrade', 'upg', 'hash-upgrade')")
            db.execute("INSERT INTO phone_numbers (number) SELECT '+1559' || lpad(g::text, 7, '0') FROM generate_series(1, 200) g")
            db.execute("""INSERT INTO messages (public_id, phone_number_id, body, encoding, segments, api_key_id, status)
                          SELECT CASE WHEN g % 2 = 0 THEN gen_random_uuid() ELSE uuid_v7() END, p.id, 'before', 'GSM-7', 1,
                                 (SELECT id FROM api_keys), (CASE WHEN g % 10 = 0 THEN 'queued' ELSE 'delivered' END)::message_status
                          FROM generate_series(1, 1000) g JOIN phone_numbers p ON p.number = '+1559' || lpad((g % 200 + 1)::text, 7, '0')""")
            db.execute("INSERT INTO jobs (message_id, run_at) SELECT id, now() FROM messages WHERE status = 'queued'")
            db.execute("""INSERT INTO idempotency_keys (api_key_id, key, request_hash, message_id)
                          SELECT api_key_id, 'upgrade-1', 'h', min(id) FROM messages GROUP BY api_key_id""")
            db.execute("INSERT INTO delivery_events (message_id, reported_status, applied) SELECT id, 'delivered', true FROM messages WHERE status = 'delivered'")
            db.execute("""INSERT INTO events (api_key_id, type, message_id)
                          SELECT api_key_id, 'message.delivered', id FROM messages WHERE status = 'delivered' ORDER BY id LIMIT 300""")
            db.execute("""INSERT INTO webhook_attempts (event_id, api_key_id, url, attempt, outcome, latency_ms)
                          SELECT id, api_key_id, 'https://example.com/hook', 1, 'delivered', 5 FROM events""")
            db.execute("""INSERT INTO webhook_deliveries (event_id, api_key_id, message_id, url)
                          SELECT id, api_key_id, message_id, 'https://example.com/hook' FROM events ORDER BY id LIMIT 1""")
            db.execute("SELECT compact_status_counts()")
            files = dict(db.execute(f"SELECT relname, relfilenode FROM pg_class WHERE relname IN {LEGACY_TABLES}").fetchall())
            old_events = [r[0] for r in db.execute("SELECT public_id::text FROM events ORDER BY id LIMIT 3")]
            before = db.execute("SELECT id, public_id::text, status::text FROM messages ORDER BY id").fetchall()

            output = ctl(env, "migrate")
            assert "0016_history_partitions.sql" in output and "0017_validate_history_references.sql" in output, output

            # Attached as they were: the same files, now span 0 of each partitioned table.
            for table in LEGACY_TABLES:
                kinds = dict(db.execute("SELECT relname, relkind FROM pg_class WHERE relname IN (%s, %s)", (table, table + "_legacy")).fetchall())
                assert kinds == {table: "p", table + "_legacy": "r"}, kinds
                assert db.execute("SELECT relfilenode FROM pg_class WHERE relname = %s", (table + "_legacy",)).fetchone()[0] == files[table]
                assert partitions(db, table)[0] == table + "_legacy"
            assert db.execute("SELECT id, public_id::text, status::text FROM messages ORDER BY id").fetchall() == before
            assert [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in LEGACY_TABLES[1:]] == [900, 300, 300]
            # The references hold, checked: an Idempotency-Key record still names its message
            # and a queued webhook delivery its event, and each keeps its span (a job has no
            # key since 0022; its span is kept by retention, test_spans_past_retention_...).
            assert db.execute("""SELECT count(*) FILTER (WHERE convalidated) FROM pg_constraint WHERE conname IN
                                 ('idempotency_keys_message_id_fkey', 'webhook_deliveries_event_id_fkey')""").fetchone()[0] == 2
            assert db.execute("SELECT count(*) FROM jobs j LEFT JOIN messages m ON m.id = j.message_id WHERE m.id IS NULL").fetchone()[0] == 0
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                db.execute("ALTER TABLE messages DETACH PARTITION messages_legacy")
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                db.execute("ALTER TABLE events DETACH PARTITION events_legacy")
            kept, actual = counted(db)
            assert kept == actual == {"delivered": 900, "queued": 100}, (kept, actual)
            # Old ids, random and time-ordered, are found by the statements the service runs.
            find = ctl(env, "sql", "messages.find_by_id")
            key = db.execute("SELECT id FROM api_keys").fetchone()[0]
            for _, public_id, status in before[:4]:
                found = db.pgconn.exec_params(find.encode(), [public_id.encode(), str(key).encode()])
                assert found.ntuples == 1 and found.get_value(0, 0).decode() == public_id, (public_id, found.error_message)
            find_event = ctl(env, "sql", "events.find")
            for public_id in old_events:
                found = db.pgconn.exec_params(find_event.encode(), [public_id.encode(), str(key).encode()])
                assert found.ntuples == 1, (public_id, found.error_message)
            # New messages go to the current span, and are counted.
            db.execute("""INSERT INTO messages (id, public_id, phone_number_id, body, encoding, segments, api_key_id)
                          SELECT message_id_for(u), u, (SELECT min(id) FROM phone_numbers), 'after', 'GSM-7', 1, (SELECT id FROM api_keys)
                          FROM (SELECT uuid_v7() AS u) v""")
            span = db.execute("SELECT id >> 53, tableoid::regclass::text FROM messages WHERE body = 'after'").fetchone()
            assert span[0] == current_span(db) and span[1] == partitions(db, "messages")[span[0]]
            kept, actual = counted(db)
            assert kept == actual == {"delivered": 900, "queued": 101}, (kept, actual)


def test_provider_ids_stored_before_their_table_keep_their_messages(tmp_path):
    """Migration 0034 moves the rule "a provider's id names one message of that provider" from
    an index of each messages partition to provider_message_ids: the ids messages held are
    copied there (from every span), the indexes go, and the sender's record then gives an id
    held since before the migration to no other message, while the message holding it may get
    it again."""
    with migrated_before(tmp_path, "0034", "texting_provider_ids") as env:
        with psycopg.connect(env["TEXTING_DATABASE_URL"], autocommit=True, prepare_threshold=None) as db:
            db.execute("INSERT INTO api_keys (name, prefix, key_hash) VALUES ('ids', 'ids', 'hash-ids')")
            now = current_span(db)
            db.execute("SELECT count(create_history_partition(p, %s)) FROM unnest(%s::text[]) p", (now - 1, list(TABLES[:-1])))
            old, new = (add_messages(db, span, 3, status="queued", provider_ids=False) for span in (now - 1, now))
            db.execute("""UPDATE messages SET status = 'sent', provider = 'p1', provider_message_id = 'p1-' || public_id::text
                          WHERE public_id = ANY(%s::uuid[])""", (old + new[:2],))
            assert db.execute("""SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'messages%%'
                                 AND indexdef LIKE '%%(provider, provider_message_id)%%'""").fetchone()[0] >= 2

            output = ctl(env, "migrate")
            assert "0034_provider_ids_in_a_table_of_their_own.sql" in output, output

            held = db.execute("""SELECT m.public_id::text FROM provider_message_ids k JOIN messages m ON m.id = k.message_id
                                 WHERE k.provider = 'p1' AND k.provider_message_id = 'p1-' || m.public_id::text""").fetchall()
            assert sorted(r[0] for r in held) == sorted(old + new[:2])
            assert db.execute("""SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'messages%%'
                                 AND indexdef LIKE '%%provider_message_id%%'""").fetchone()[0] == 0
            assert db.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'provider_message_ids_%%_unique'").fetchone()[0] == 3

            # The last message of the current span is sent; the provider answers with the id of
            # an old message (refused: it keeps none), then, sent again, with its own new id.
            mark_sent = ctl(env, "sql", "jobs.mark_sent").encode()
            holder, taker = old[0], new[2]
            [(taker_id,)] = db.execute("SELECT id FROM messages WHERE public_id = %s", (taker,)).fetchall()
            [(holder_id,)] = db.execute("SELECT id FROM messages WHERE public_id = %s", (holder,)).fetchall()

            def record(message_id, provider_id):
                db.execute("UPDATE messages SET status = 'sending' WHERE id = %s", (message_id,))
                result = record_sent(db, mark_sent, message_id, provider_id)
                assert result.error_message == b"", result.error_message
                return db.execute("SELECT status::text, provider_message_id FROM messages WHERE id = %s", (message_id,)).fetchone()

            assert record(taker_id, "p1-" + holder) == ("sent", None)
            assert record(taker_id, "p1-fresh") == ("sent", "p1-fresh")
            # The holder, sent again (a requeue), is given its own id back and keeps it.
            assert record(holder_id, "p1-" + holder) == ("sent", "p1-" + holder)
            assert db.execute("""SELECT count(*) FROM provider_message_ids WHERE provider_message_id IN (%s, 'p1-fresh')""",
                              ("p1-" + holder,)).fetchone()[0] == 2



def test_one_provider_id_recorded_by_two_senders_at_once_goes_to_one_message(history):
    """Two senders record the same provider id for two messages at the same moment (a provider
    at fault): the second waits for the first's transaction, then records its message without
    the id; neither fails its round (a unique violation aborted the whole round before 0034)."""
    env, db = history
    first, second = add_messages(db, current_span(db), 2, status="sending")
    ids = {public_id: db.execute("SELECT id FROM messages WHERE public_id = %s", (public_id,)).fetchone()[0] for public_id in (first, second)}
    mark_sent = ctl(env, "sql", "jobs.mark_sent").encode()

    with psycopg.connect(env["TEXTING_DATABASE_URL"], prepare_threshold=None) as one, \
            psycopg.connect(env["TEXTING_DATABASE_URL"], autocommit=True, prepare_threshold=None) as other:
        one.execute("SELECT 1")  # its transaction is open from here
        assert record_sent(one, mark_sent, ids[first], "twice").error_message == b""
        results = {}
        waiting = threading.Thread(target=lambda: results.update(second=record_sent(other, mark_sent, ids[second], "twice")))
        waiting.start()
        for _ in range(100):
            if db.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()").fetchone()[0]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the second record did not wait for the first")
        one.commit()
        waiting.join(timeout=30)
    assert results["second"].error_message == b"", results["second"].error_message
    rows = dict(db.execute("SELECT public_id::text, provider_message_id FROM messages WHERE public_id IN (%s, %s)", (first, second)).fetchall())
    assert rows == {first: "twice", second: None}, rows
    assert db.execute("SELECT count(*) FROM provider_message_ids WHERE provider_message_id = 'twice'").fetchone()[0] == 1

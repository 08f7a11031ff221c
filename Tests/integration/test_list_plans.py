"""GET /messages: every combination of filters runs a statement of its own, planned for each
execution (MessageStore.listQueries: a generic plan cannot tell a small key from one that
owns most messages, and was seen walking the primary key backwards with a filter), whose plan
reads the page from an index that holds the key, the filters and the id: the cursor is an
index condition, nothing is sorted and no table is scanned. So a page costs the same whatever
the size of the table.

The plans are taken in a database of their own holding messages in the shape a busy service
has (a few keys, one with most of the messages, most of them delivered, many to a few
numbers), analyzed: what the planner picks for the test stack's shared tables depends on
whatever the earlier tests happened to leave in them (on a fresh, nearly empty table, a
bitmap scan and a sort of three rows is the right plan)."""
import itertools
import json

import psycopg
import pytest
from psycopg import sql

from conftest import scratch_database, textingctl

MESSAGES = 60_000

INDEXES = {
    (): "messages_api_key_id",
    ("number",): "messages_api_key_phone_number",
    ("status",): "messages_api_key_status",
    ("number", "status"): "messages_phone_number_key_status",
    ("client_ref",): "messages_api_key_client_ref",
}


@pytest.fixture(scope="module")
def db():
    """The database the plans are taken in: every migration, then 60,000 messages of three
    keys (key 1 owns 90 %, key 3 one in a thousand) to 1,000 numbers (a tenth of them to
    +15555550100), each fifth with a client reference, 95 % delivered and the rest queued,
    failed or sent."""
    with scratch_database("texting_list_plans") as env:
        result = textingctl("migrate", env=env)
        assert result.returncode == 0, result.stderr
        # No automatic prepared statements: the tests DEALLOCATE ALL around their own.
        with psycopg.connect(env["TEXTING_DATABASE_URL"], autocommit=True, prepare_threshold=None) as connection:
            connection.execute("""
                INSERT INTO api_keys (id, name, key_hash, prefix)
                OVERRIDING SYSTEM VALUE
                SELECT k, 'plans-' || k, 'hash-' || k, 'plans' || k FROM generate_series(1, 3) k""")
            connection.execute("""
                INSERT INTO phone_numbers (number)
                SELECT '+1555555' || lpad((100 + g)::text, 4, '0') FROM generate_series(0, 999) g""")
            connection.execute("""
                INSERT INTO messages (phone_number_id, body, encoding, segments, api_key_id, status, client_ref)
                SELECT CASE WHEN g %% 10 = 0 THEN (SELECT id FROM phone_numbers WHERE number = '+15555550100')
                            ELSE (SELECT min(id) FROM phone_numbers) + g %% 1000 END,
                       'plan', 'GSM-7', 1,
                       CASE WHEN g %% 1000 = 7 THEN 3 WHEN g %% 10 < 9 THEN 1 ELSE 2 END,
                       (CASE WHEN g / 7 %% 100 < 95 THEN 'delivered' WHEN g / 7 %% 100 < 97 THEN 'queued'
                             WHEN g / 7 %% 100 < 99 THEN 'failed' ELSE 'sent' END)::message_status,
                       CASE WHEN g / 3 %% 5 = 0 THEN 'order-' || g END
                FROM generate_series(1, %s) g""", (MESSAGES,))
            connection.execute("ANALYZE")
            yield connection


def statement(name):
    result = textingctl("sql", name)
    assert result.returncode == 0, result.stderr
    return result.stdout


def nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.mark.parametrize("filters", [combo for n in range(4) for combo in itertools.combinations(("number", "status", "client_ref"), n)],
                         ids=lambda f: "+".join(f) or "none")
@pytest.mark.parametrize("key", [1, 3], ids=["key with most messages", "key with few"])
@pytest.mark.parametrize("cursor", [None, 10**9], ids=["first page", "next page"])
def test_each_filter_reads_its_page_from_an_index_with_the_cursor_in_it(db, filters, key, cursor):
    name = "messages.list" + "".join("_" + f for f in filters)
    values = {"number": "+15555550100", "status": "queued", "client_ref": "order-1" if key == 1 else "order-1007"}
    page = 21
    arguments = [key, page, cursor] + [values[f] for f in filters]
    db.execute("DEALLOCATE ALL")
    # As the service runs them (MessageStore.listQueries: planned for each execution).
    db.execute("SET plan_cache_mode = force_custom_plan")
    try:
        db.execute(f"PREPARE listing AS {statement(name)}")
        # EXECUTE takes no bound parameters: the values go in as literals.
        values = sql.SQL(", ").join(sql.Literal(a) for a in arguments)
        plan = db.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE listing({})").format(values)).fetchone()[0]
    finally:
        db.execute("DEALLOCATE ALL")
        db.execute("RESET plan_cache_mode")
    plan = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
    on_messages = [n for n in nodes(plan) if n.get("Relation Name") == "messages"]
    assert len(on_messages) == 1, json.dumps(plan, indent=1)
    scan = on_messages[0]
    assert scan["Node Type"] in ("Index Scan", "Index Only Scan"), json.dumps(plan, indent=1)
    condition = scan.get("Index Cond", "").replace("(", "").replace("m.", "")
    assert " id < " in f" {condition}", json.dumps(plan, indent=1)
    assert not any(n["Node Type"] in ("Sort", "Incremental Sort", "Seq Scan", "Bitmap Heap Scan") for n in nodes(plan)
                   if n.get("Relation Name") in (None, "messages")), json.dumps(plan, indent=1)
    # The page costs about a page: for the key that owns nine in ten messages, walking the
    # newest messages and skipping other keys' is as good as its own index.
    examined = scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0)
    assert examined <= 2 * page, json.dumps(plan, indent=1)
    if key == 3:
        # A key with few messages has to read them from the index that starts with it. With a
        # client reference, its own index or that of the other filters (a reference names
        # about one message, so the planner may well check it on the few rows the others leave).
        others = tuple(f for f in filters if f != "client_ref")
        expected = {INDEXES[others]} | ({INDEXES[("client_ref",)]} if "client_ref" in filters else set())
        assert scan["Index Name"] in expected, json.dumps(plan, indent=1)

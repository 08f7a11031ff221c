"""GET /messages: every combination of filters runs a statement of its own, planned for each
execution (MessageStore.listQueries: a generic plan cannot tell a small key from one that
owns most messages, and was seen walking the primary key backwards with a filter), and an
index holds the key, the filters and the id for each (migrations 0002, 0007, 0015; the status
is no index's since 0032: a walk by status reads at most ten rows per row asked for), so a
page reads about a page of rows whatever the size of the table: the newest partitions of
messages first (it is partitioned by time, migration 0016), from the cursor on, until the
page is full. Measured here as the rows the plan reads from messages, with EXPLAIN ANALYZE:
a missing index, a plan that sorts every match or one that scans reads thousands.

The plans are taken in a database of their own holding messages in the shape a busy service
has (a few keys, one with most of the messages, most of them delivered, many to a few
numbers, over two spans), analyzed: what the planner picks for the test stack's shared
tables depends on whatever the earlier tests happened to leave in them."""
import itertools
import json

import pytest

from conftest import explain, plan_database, plan_nodes

MESSAGES = 60_000

@pytest.fixture(scope="module")
def db():
    """The database the plans are taken in: every migration, then 60,000 messages, one a
    minute from now on (over the current span and the next), of three keys (key 1 owns 90 %,
    key 3 one in a thousand) to 1,000 numbers (a tenth of them to +15555550100), each fifth
    with a client reference, 85 % delivered, 10 % queued, the rest failed or sent."""
    with plan_database("texting_list_plans", keys=3) as connection:
        connection.execute("""
            INSERT INTO phone_numbers (number)
            SELECT '+1555555' || lpad((100 + g)::text, 4, '0') FROM generate_series(0, 999) g""")
        connection.execute("""
            INSERT INTO messages (id, phone_number_id, body, encoding, segments, api_key_id, status, client_ref, failed_at)
            SELECT time_id(epoch_ms(now()) + g::bigint * 60000, g),
                   CASE WHEN g %% 10 = 0 THEN (SELECT id FROM phone_numbers WHERE number = '+15555550100')
                        ELSE (SELECT min(id) FROM phone_numbers) + g %% 1000 END,
                   'plan', 'GSM-7', 1,
                   CASE WHEN g %% 1000 = 7 THEN 3 WHEN g %% 10 < 9 THEN 1 ELSE 2 END,
                   (CASE WHEN abs(hashint4(g)) %% 100 < 85 THEN 'delivered' WHEN abs(hashint4(g)) %% 100 < 95 THEN 'queued'
                         WHEN abs(hashint4(g)) %% 100 < 98 THEN 'failed' ELSE 'sent' END)::message_status,
                   CASE WHEN g / 3 %% 5 = 0 THEN 'order-' || g END,
                   CASE WHEN abs(hashint4(g)) %% 100 BETWEEN 95 AND 97 THEN now() END
            FROM generate_series(1, %s) g""", (MESSAGES,))
        connection.execute("ANALYZE")
        yield connection


@pytest.mark.parametrize("filters", [combo for n in range(4) for combo in itertools.combinations(("number", "status", "client_ref"), n)],
                         ids=lambda f: "+".join(f) or "none")
@pytest.mark.parametrize("key", [1, 3], ids=["key with most messages", "key with few"])
@pytest.mark.parametrize("page_of", ["first", "middle"], ids=["first page", "next page"])
def test_each_filter_reads_about_a_page_of_rows(db, filters, key, page_of):
    name = "messages.list" + "".join("_" + f for f in filters)
    # The number as MessageStore.list passes it: its id, and the lowest id its messages can
    # have as the lowest id read (else none: the whole history, as the second read of a page
    # the newest spans did not fill).
    number, since = db.execute("SELECT id, history_ids_since(created_at) FROM phone_numbers WHERE number = '+15555550100'").fetchone()
    low = since if "number" in filters else -2**63
    values = {"number": number, "status": "queued", "client_ref": "order-1" if key == 1 else "order-1007"}
    page = 21
    cursor = None
    if page_of == "middle":
        cursor = db.execute("SELECT id FROM messages WHERE api_key_id = %s ORDER BY id LIMIT 1 OFFSET (SELECT count(*) / 2 FROM messages WHERE api_key_id = %s)",
                            (key, key)).fetchone()[0]
    # A listing by status walks at most ten rows per row asked for (MessageStore.statusWalkRows).
    arguments = [key, page, cursor, low] + [values[f] for f in filters] + ([10 * page] if "status" in filters else [])
    examined, plan = rows_read(db, name, arguments)
    # A page reads a few pages' worth at most (walking the newest messages and skipping the
    # one in ten that is not the number's is as good as an index), never all that match
    # (for key 1: 54,000 messages, 5,400 queued, 6,000 to the number and 600 of those queued),
    # whichever page it is.
    assert examined <= 12 * page, json.dumps(plan, indent=1)


def rows_read(db, name, arguments):
    """The rows statement `name` reads from messages' partitions with `arguments`, as the
    service runs it (MessageStore.listQueries: planned for each execution), and its plan."""
    db.execute("SET plan_cache_mode = force_custom_plan")
    try:
        plan = explain(db, name, arguments)
    finally:
        db.execute("RESET plan_cache_mode")
    partitions = {row[0] for row in db.execute("SELECT name FROM history_partitions WHERE parent = 'messages'")}
    on_messages = [n for n in plan_nodes(plan) if n.get("Relation Name") in partitions]
    assert on_messages, json.dumps(plan, indent=1)
    # Whatever the plan (a scan of an empty partition is fine), the rows it reads are the bound.
    return sum(n.get("Actual Rows", 0) * n.get("Actual Loops", 1) + n.get("Rows Removed by Filter", 0) + n.get("Rows Removed by Index Recheck", 0)
               for n in on_messages), plan


def test_failed_messages_fill_their_page_from_an_index_of_their_own(db):
    """No index names the status (migration 0032), so a listing by status walks the newest
    messages, at most ten per row asked for: a page of queued messages (one in ten) reads
    that many. Failed and invalid ones, rare, are read through the index by failed_at: their
    page is full, and it reads only them."""
    page = 21
    examined, plan = rows_read(db, "messages.list_status", [1, page, None, -2**63, "failed", 10 * page])
    returned = plan.get("Actual Rows", 0)
    assert returned == page, json.dumps(plan, indent=1)
    assert examined <= page + 2, json.dumps(plan, indent=1)
    # The same walk for a status with no index of its own stops at its bound, a page short.
    examined, plan = rows_read(db, "messages.list_status", [1, page, None, -2**63, "sent", 10 * page])
    assert 10 * page <= examined <= 12 * page, json.dumps(plan, indent=1)
    assert plan.get("Actual Rows", 0) < page, json.dumps(plan, indent=1)

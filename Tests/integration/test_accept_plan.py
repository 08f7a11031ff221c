"""messages.accept (POST /messages and /messages/batch, through group commit) plans a batch's
own rows as sets: every step made of the batch's rows (the messages, their numbers, what fits
each key's limits, what was stored) is read once by each step that needs it, never once per
message. Joins between them are planned from estimates of a row or two, and a nested loop
over such a pair reads one of them again for each message: a batch of N costs N x N. Seen
by profiling the batch ingest (issue 18): the messages' join to their numbers took half the
messages insert of a batch of 100, and with a limited key the anti-join with the verdicts
took 54 of a 1,000-message batch's 72 ms.

Taken with EXPLAIN ANALYZE in a database of its own, for a batch that mixes a key without
limits and a limited key with a pool of senders, as group commit gathers them."""
import json

import pytest

from conftest import explain, plan_database, plan_nodes

# A batch of the largest size POST /messages/batch takes is 1,000; group commit gathers
# several requests' messages into one statement: 600 shows a rescan as clearly.
SIZE = 600

# The statement's steps whose rows are the batch's own (see MessageStore.accept).
BATCH_ROWS = {"input", "item", "number", "eligible", "verdict", "m"}


@pytest.fixture(scope="module")
def db():
    with plan_database("texting_accept_plan", keys=2) as connection:
        connection.execute("""
            INSERT INTO api_key_limits (api_key_id, rate, burst, tokens, segments_per_day, segments_per_month)
            VALUES (2, 100000, 100000, 100000, 1000000, 10000000)""")
        connection.execute("""
            INSERT INTO api_key_senders (api_key_id, sender, pooled, is_default)
            VALUES (2, '+15550001', true, false), (2, '+15550002', true, false), (2, 'ACME', false, false)""")
        yield connection


def test_each_step_of_a_batch_reads_the_batchs_rows_once(db):
    # The service's parameters, made in SQL and passed back as literals: every other message
    # of the limited key, each to a number of its own, one in ten of the limited key's asking
    # for the sender it may use.
    series = f"generate_series(1, {SIZE}) g"
    arguments = [
        f"ARRAY(SELECT uuid_v7() FROM {series})",
        f"ARRAY(SELECT '+1555' || lpad(g::text, 7, '0') FROM {series})",
        f"ARRAY(SELECT 'plan ' || g FROM {series})",
        f"array_fill('GSM-7'::text, ARRAY[{SIZE}])",
        f"array_fill(1, ARRAY[{SIZE}])",
        f"array_fill(-1::bigint, ARRAY[{SIZE}])",
        f"array_fill(0, ARRAY[{SIZE}])",
        f"array_fill(''::text, ARRAY[{SIZE}])",
        f"array_fill(''::text, ARRAY[{SIZE}])",
        f"ARRAY(SELECT 1 + g % 2 FROM {series})::bigint[]",
        f"ARRAY(SELECT CASE WHEN g % 20 = 1 THEN 'ACME' ELSE '' END FROM {series})",
    ]
    plan = explain(db, "messages.accept", db.execute(f"SELECT {', '.join(arguments)}").fetchone())
    # Every message was stored (the plan is of a statement that did its work).
    assert db.execute("SELECT count(*), count(DISTINCT api_key_id), count(sender) FROM messages").fetchone() == (SIZE, 2, SIZE // 2)
    scans = [n for n in plan_nodes(plan) if n["Node Type"] == "CTE Scan" and n.get("CTE Name") in BATCH_ROWS]
    assert {n["CTE Name"] for n in scans} >= {"item", "number", "verdict", "m"}, json.dumps(plan, indent=1)
    rescanned = [(n["CTE Name"], n["Actual Loops"]) for n in scans if n["Actual Loops"] > 1]
    assert rescanned == [], json.dumps(plan, indent=1)

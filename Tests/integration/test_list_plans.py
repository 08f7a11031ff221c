"""GET /messages: every combination of filters runs a statement of its own, planned for each
execution (MessageStore.listQueries: a generic plan cannot tell a small key from one that
owns most messages, and was seen walking the primary key backwards with a filter), whose plan
reads the page from an index that holds the key, the filters and the id: the cursor is an
index condition, nothing is sorted and no table is scanned. So a page costs the same whatever
the size of the table."""
import itertools
import json

import pytest
from psycopg import sql

from conftest import textingctl

INDEXES = {
    (): "messages_api_key_id",
    ("number",): "messages_api_key_phone_number",
    ("status",): "messages_api_key_status",
    ("number", "status"): "messages_phone_number_key_status",
    ("client_ref",): "messages_api_key_client_ref",
}


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
@pytest.mark.parametrize("mode", ["force_custom_plan"])
@pytest.mark.parametrize("cursor", [None, 10**9], ids=["first page", "next page"])
def test_each_filter_reads_its_page_from_an_index_with_the_cursor_in_it(db, filters, mode, cursor):
    name = "messages.list" + "".join("_" + f for f in filters)
    values = {"number": "+15555550100", "status": "queued", "client_ref": "order-1"}
    arguments = [1, 21, cursor] + [values[f] for f in filters]
    db.execute("DEALLOCATE ALL")
    db.execute(f"SET plan_cache_mode = {mode}")
    try:
        db.execute(f"PREPARE listing AS {statement(name)}")
        # EXECUTE takes no bound parameters: the values go in as literals.
        values = sql.SQL(", ").join(sql.Literal(a) for a in arguments)
        plan = db.execute(sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE listing({})").format(values)).fetchone()[0]
    finally:
        db.execute("DEALLOCATE ALL")
        db.execute("RESET plan_cache_mode")
    plan = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
    on_messages = [n for n in nodes(plan) if n.get("Relation Name") == "messages"]
    assert len(on_messages) == 1, json.dumps(plan, indent=1)
    scan = on_messages[0]
    assert scan["Node Type"] in ("Index Scan", "Index Only Scan"), json.dumps(plan, indent=1)
    # With a client reference, its own index or that of the other filters (a reference names
    # about one message, so the planner may well check it on the few rows the others leave).
    others = tuple(f for f in filters if f != "client_ref")
    expected = {INDEXES[others]} | ({INDEXES[("client_ref",)]} if "client_ref" in filters else set())
    assert scan["Index Name"] in expected, json.dumps(plan, indent=1)
    condition = scan.get("Index Cond", "").replace("(", "").replace("m.", "")
    assert " id < " in f" {condition}", json.dumps(plan, indent=1)
    assert not any(n["Node Type"] in ("Sort", "Incremental Sort", "Seq Scan", "Bitmap Heap Scan") for n in nodes(plan)
                   if n.get("Relation Name") in (None, "messages")), json.dumps(plan, indent=1)

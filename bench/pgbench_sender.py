#!/usr/bin/env python3
"""Renders the pgbench script for the sender's database ceiling from the service's own SQL.

One pgbench transaction is one sender batch, as far as the database sees it: `jobs.claim` and
`jobs.claimed_messages` (JobQueue.claim: up to BATCH due jobs, FOR UPDATE SKIP LOCKED,
leased, then their messages marked and read, in one transaction) and then `jobs.mark_sent` (JobQueue.record for a batch of accepted sends: one
statement taking arrays) inside BEGIN/COMMIT, as the sender's recorder runs it. The
statements and the defaults come from the built service (`textingctl sql`, `textingctl
settings example`), so the ceiling keeps running what the sender runs. Left out: the provider-health statements the sender runs around them (snapshot
before a claim, tallies and the sends counted per provider and prefix in the record transaction),
and the HTTP in between. The sends carry no cost (`;cost=` unset, as the bench's providers).

The claim's rows are aggregated in the database into the arrays its second statement and
mark_sent take (pgbench cannot keep a multi-row result); every column the sender reads is
still formed, to text.
Run with -M prepared (the sender's default, TEXTING_DATABASE_PREPARED_STATEMENTS=on): the
arrays then travel as text parameters, as PostgresArray.literal sends them.

  usage: pgbench_sender.py TEXTINGCTL PROJECT_DIR > sender.pgbench
  prints the batch size on standard error as `batch=N` (what the claim asks for).
"""
import re
import sys

from service_sql import setting_default, statement, substitute


def predecessors(status_source, target):
    """MessageStatus.predecessors(of: target): the statuses whose transitions include it, in
    declaration order (the `sentFrom` array mark_sent is given)."""
    cases = re.search(r'case ([a-z, ]+)\n', status_source)
    table = re.search(r'transitions: \[MessageStatus: Set<MessageStatus>\] = \[(.*?)\n\s*\]', status_source, re.S)
    if not cases or not table:
        sys.exit("pgbench_sender: cannot read MessageStatus's transition table; update bench/pgbench_sender.py")
    moves = {}
    for source, targets in re.findall(r'\.(\w+): \[([^\]]*)\]', table.group(1)):
        moves[source] = re.findall(r'\.(\w+)', targets)
    order = [c.strip() for c in cases.group(1).split(',')]
    found = [s for s in order if target in moves.get(s, [])]
    if not found:
        sys.exit(f"pgbench_sender: no status may move to {target}; update bench/pgbench_sender.py")
    return found


def main():
    textingctl, project = sys.argv[1], sys.argv[2]
    # The status table is a domain rule, not SQL: read from its one Swift file.
    status = open(f"{project}/Sources/Common/TextingDomain/Messages/MessageStatus.swift", encoding="utf-8").read()

    batch = setting_default(textingctl, "TEXTING_SENDER_BATCH_SIZE", "pgbench_sender")
    timeout_ms = setting_default(textingctl, "TEXTING_PROVIDER_TIMEOUT_MS", "pgbench_sender")
    # SenderConfiguration.defaultLeaseSeconds
    lease_seconds = (timeout_ms * 2) // 1000 + 30
    sent_from = "{" + ",".join(predecessors(status, "sent")) + "}"

    lease = statement(textingctl, "jobs.claim", "pgbench_sender")
    claimed = statement(textingctl, "jobs.claimed_messages", "pgbench_sender")
    mark_sent = statement(textingctl, "jobs.mark_sent", "pgbench_sender")

    def last_select_as(sql, name, reads):
        """The statement's last top-level SELECT (what the sender reads) as a CTE `name` of its
        own, for an outer query to aggregate."""
        selects = [m.start() for m in re.finditer(r'^\s*SELECT\b', sql, re.M)]
        if not selects or not sql.lstrip().startswith("WITH"):
            sys.exit(f"pgbench_sender: the claim's statements are no longer `WITH … SELECT …`; update bench/pgbench_sender.py")
        last = selects[-1]
        if not re.search(r'\bFROM ' + reads + r'\b', sql[last:]):
            sys.exit(f"pgbench_sender: a claim statement's final SELECT no longer reads `{reads}`; update bench/pgbench_sender.py")
        return sql[:last].rstrip() + f", {name} AS (\n" + sql[last:].strip() + "\n)\n"

    # The lease's jobs become the arrays the second statement takes.
    lease = substitute(last_select_as(lease, "leased", "claimed"), {
        1: str(batch), 2: str(lease_seconds), 3: "'pgbench:' || :client_id",
    }, "pgbench_sender")
    lease += (
        "SELECT coalesce(array_agg(l.message_id), '{}')::text AS leased_ids,\n"
        "       coalesce(array_agg(l.attempts), '{}')::text AS leased_attempts,\n"
        "       coalesce(array_agg(coalesce(l.last_provider, '')), '{}')::text AS leased_providers,\n"
        "       coalesce(array_agg(l.due_at_us), '{}')::text AS leased_due,\n"
        "       coalesce(min(l.message_id), 0) AS leased_low, coalesce(max(l.message_id), 0) AS leased_high\n"
        "FROM leased l"
    )
    # The messages read become mark_sent's arguments, as if every send had been accepted.
    claim = substitute(last_select_as(claimed, "batch", "claimed"), {
        1: ":leased_ids", 2: ":leased_attempts", 3: ":leased_providers", 4: ":leased_due", 5: ":leased_low", 6: ":leased_high",
    }, "pgbench_sender")
    claim += (
        "SELECT count(*) AS claimed,\n"
        "       coalesce(sum(octet_length(b::text)), 0) AS claimed_bytes,\n"
        "       coalesce(array_agg(b.message_id ORDER BY b.message_id), '{}')::text AS ids,\n"
        "       coalesce(array_agg(CASE WHEN b.message_id % 2 = 0 THEN 'p1' ELSE 'p2' END ORDER BY b.message_id), '{}')::text AS providers,\n"
        "       coalesce(array_agg('pgbench-' || b.message_id ORDER BY b.message_id), '{}')::text AS provider_message_ids,\n"
        "       coalesce(array_agg(b.attempts ORDER BY b.message_id), '{}')::text AS attempts,\n"
        "       coalesce(array_agg(''::text ORDER BY b.message_id), '{}')::text AS costs,\n"
        "       coalesce(array_agg(b.number) FILTER (WHERE b.recipient_held), '{}')::text AS held,\n"
        "       coalesce(min(b.message_id), 0) AS low_id, coalesce(max(b.message_id), 0) AS high_id\n"
        "FROM batch b"
    )
    mark_sent = substitute(mark_sent, {
        1: ":ids", 2: ":providers", 3: ":provider_message_ids", 4: ":attempts", 5: f"'{sent_from}'", 6: ":costs",
        7: ":low_id", 8: ":high_id",
    }, "pgbench_sender")

    print("-- Rendered by bench/pgbench_sender.py from `textingctl sql jobs.claim`, `jobs.claimed_messages` and")
    print(f"-- `jobs.mark_sent`: one sender batch ({batch} jobs, lease {lease_seconds} s): the claim's two statements in a")
    print("-- transaction, then jobs.mark_sent in another.")
    print("-- JobQueue.claim")
    print("BEGIN;")
    print(lease.strip() + " \\gset")
    print(claim.strip() + " \\gset")
    print("COMMIT;")
    print("-- JobQueue.record: every send accepted, one statement for the batch")
    print("BEGIN;")
    print(mark_sent.strip() + ";")
    print("COMMIT;")
    print("-- The recipients the claim held, let go of as the sender does before its next claim")
    print("SELECT release_recipients(:held::text[]);")
    print(f"batch={batch}", file=sys.stderr)


main()

#!/usr/bin/env python3
"""Renders the pgbench script for the ingest ceiling from the service's own SQL.

The statements are read from the Swift sources, so the ceiling keeps running exactly what
`POST /messages` runs (without an Idempotency-Key): the API-key lookup
(APIKeyStore.findActive), then the accept statement (MessageStore.accept), each in its own
implicit transaction, as PQexecParams runs them. Parameters become literals or pgbench
variables (pgbench -M simple sends no parameters):

  usage: pgbench_ingest.py PROJECT_DIR KEY_HASH > ingest.pgbench
"""
import re
import sys


# bench/ingest.lua's text (GSM-7, no quotes): bodies are its first 20 to 144 characters.
TEXT = ("Benchmark message: your code is 482913. It expires in 10 minutes. Do not share it with anyone; "
        "we never ask for it by phone or e-mail. Thank you")


def swift_multiline(source, name, label):
    """The text of `static let NAME = Query("LABEL", \"\"\" ... \"\"\")`."""
    pattern = (r'static let ' + re.escape(name) + r'\s*=\s*Query\("' + re.escape(label)
               + r'",\s*"""\n(.*?)\n\s*"""\)')
    match = re.search(pattern, source, re.S)
    if not match:
        sys.exit(f"pgbench_ingest: cannot find the query {label} ({name}) in the Swift sources; update bench/pgbench_ingest.py")
    return match.group(1)


def swift_single_line(source, name, label):
    pattern = r'static let ' + re.escape(name) + r'\s*=\s*Query\("' + re.escape(label) + r'",\s*"((?:[^"\\]|\\.)*)"\)'
    match = re.search(pattern, source)
    if not match:
        sys.exit(f"pgbench_ingest: cannot find the query {label} ({name}) in the Swift sources; update bench/pgbench_ingest.py")
    return match.group(1).replace('\\"', '"')


def record_columns(source):
    match = re.search(r'public static let columns = """\n(.*?)\n\s*"""', source, re.S)
    if not match:
        sys.exit("pgbench_ingest: cannot find MessageRecord.columns; update bench/pgbench_ingest.py")
    text = match.group(1)
    template = re.search(r'private static func timestamp\(_ column: String, _ name: String\) -> String \{\s*"(.*?)"\s*\}',
                         source, re.S)
    if not template:
        sys.exit("pgbench_ingest: cannot find MessageRecord.timestamp; update bench/pgbench_ingest.py")
    shape = template.group(1).replace('\\"', '"')

    def expand(m):
        return shape.replace(r'\(column)', m.group(1)).replace(r'\(name)', m.group(2))

    return re.sub(r'\\\(timestamp\("([^"]+)", "([^"]+)"\)\)', expand, text)


def substitute(sql, values):
    # $7 before $1 so that $1 does not match the start of $10+ (there are none today).
    for number in sorted(values, reverse=True):
        sql = re.sub(r'\$' + str(number) + r'(?![0-9])', '(' + values[number] + ')', sql)
    return sql


def main():
    project, key_hash = sys.argv[1], sys.argv[2]
    if not re.fullmatch(r'[0-9A-Za-z+/=_-]+', key_hash):
        sys.exit("pgbench_ingest: unexpected key hash")
    read = lambda path: open(f"{project}/{path}", encoding="utf-8").read()
    store = read("Sources/Common/Messaging/MessageStore.swift")
    record = read("Sources/Common/Messaging/MessageRecord.swift")
    keys = read("Sources/Common/Auth/APIKeyStore.swift")

    accept = swift_multiline(store, "accept", "messages.accept")
    accept = accept.replace(r'\(MessageRecord.columns)', record_columns(record))
    lookup = swift_single_line(keys, "findActive", "api_keys.find_active")
    for text in (accept, lookup):
        if '\\(' in text:
            sys.exit("pgbench_ingest: an unexpanded Swift interpolation is left; update bench/pgbench_ingest.py")
    if not re.match(r'\s*SELECT id FROM', lookup):
        sys.exit("pgbench_ingest: the API-key lookup no longer selects `id`; update bench/pgbench_ingest.py")

    lookup = substitute(lookup, {1: f"'{key_hash}'"})
    # As MessagesAPI.accept sends them for {"to_number": "+1555…", "message": <20 to 144
    # characters of bench/ingest.lua's text>}: number, body, encoding, segments, send_at
    # (none), validity (none), owner.
    accept = substitute(accept, {
        1: "'+1555' || lpad(:n::text, 7, '0')",
        2: f"left('{TEXT}', :len)",
        3: "'GSM-7'",
        4: "'1'",
        5: "NULL",
        6: "NULL",
        7: ":id",
    })
    print("-- Rendered by bench/pgbench_ingest.py from the Swift sources: what POST /messages runs.")
    print("\\set n random(0, 9999999)")
    print("\\set len 20 + random(0, 124)")
    print("-- APIKeyStore.findActive (its id is the owner, as in MessagesAPI.authenticate)")
    print(lookup.strip() + " \\gset")
    print("-- MessageStore.accept")
    print(accept.strip() + ";")


main()

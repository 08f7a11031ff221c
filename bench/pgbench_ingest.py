#!/usr/bin/env python3
"""Renders the pgbench script for the ingest diagnostic from the service's own SQL.

The statement comes from the built service (`textingctl sql messages.accept`), so the
diagnostic keeps running exactly what
`POST /messages` commits (without an Idempotency-Key): MessageStore.accept, here with one
message per statement and transaction, as a lone request commits it. Under load
MessageAcceptor puts many concurrent requests in one such statement (group commit); the
difference between this figure and the ingest figure is what that buys. The API-key lookup
is not in it: POST /messages remembers keys (APIKeyCache) and the statement checks
revocation itself. Parameters become literals or pgbench variables (pgbench -M simple sends
no parameters):

  usage: pgbench_ingest.py TEXTINGCTL OWNER_ID > ingest.pgbench
"""
import re
import sys

from service_sql import statement, substitute


# bench/ingest.lua's text (GSM-7, no quotes): bodies are its first 20 to 144 characters.
TEXT = ("Benchmark message: your code is 482913. It expires in 10 minutes. Do not share it with anyone; "
        "we never ask for it by phone or e-mail. Thank you")


def main():
    textingctl, owner = sys.argv[1], sys.argv[2]
    if not re.fullmatch(r'[0-9]+', owner):
        sys.exit("pgbench_ingest: the owner must be an API key's id")
    accept = statement(textingctl, "messages.accept", "pgbench_ingest")

    # A batch of one, as MessageStore.accept sends it for {"to_number": "+1555…", "message":
    # <20 to 144 characters of bench/ingest.lua's text>}: public id, number, body, encoding,
    # segments, send_at (-1: none), validity (0: none), client_ref ('': none),
    # status_callback ('': none), owner, sender ('': none).
    accept = substitute(accept, {
        1: "ARRAY[uuid_v7()]",
        2: "ARRAY['+1555' || lpad(:n::text, 7, '0')]",
        3: f"ARRAY[left('{TEXT}', :len)]",
        4: "ARRAY['GSM-7']",
        5: "ARRAY[1]",
        6: "ARRAY[-1]",
        7: "ARRAY[0]",
        8: "ARRAY[''::text]",
        9: "ARRAY[''::text]",
        10: f"ARRAY[{owner}]",
        11: "ARRAY[''::text]",
    }, "pgbench_ingest")
    print("-- Rendered by bench/pgbench_ingest.py from `textingctl sql messages.accept`: what POST /messages commits for a lone request.")
    print("\\set n random(0, 9999999)")
    print("\\set len 20 + random(0, 124)")
    print("-- MessageStore.accept, a batch of one")
    print(accept.strip() + ";")


if __name__ == "__main__":
    main()

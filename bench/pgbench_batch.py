#!/usr/bin/env python3
"""Renders the pgbench script for the batch ingest ceiling from the service's own SQL.

The statement comes from the built service (`textingctl sql messages.accept`): what
`POST /messages/batch` commits for a batch of BATCH messages, the same rows as
bench/batch.lua sends (each message another number, 20 to 144 characters of the same text),
here one batch per transaction straight into PostgreSQL: a multi-row insert into
phone_numbers, messages and jobs with nothing in front of it. The API-key lookup is not in it
(the key is remembered; the statement checks revocation itself). pgbench -M simple sends no
parameters, so each becomes an array built in SQL; public ids are UUIDv7, as MessagesFCGI
makes them (uuid_v7(), migration 0013: each names the span its message goes to):

  usage: pgbench_batch.py TEXTINGCTL OWNER_ID [BATCH] > batch.pgbench
"""
import re
import sys

from pgbench_ingest import TEXT
from service_sql import statement, substitute


def main():
    textingctl, owner = sys.argv[1], sys.argv[2]
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    if not re.fullmatch(r'[0-9]+', owner) or not 1 <= size <= 1000:
        sys.exit("pgbench_batch: the owner must be an API key's id and the batch 1 to 1000")
    accept = statement(textingctl, "messages.accept", "pgbench_batch")
    series = f"generate_series(1, {size}) g"
    accept = substitute(accept, {
        1: f"ARRAY(SELECT uuid_v7() FROM {series})",
        2: f"ARRAY(SELECT '+1555' || lpad(((:n + g) % 10000000)::text, 7, '0') FROM {series})",
        3: f"ARRAY(SELECT left('{TEXT}', 20 + ((:n + g) * 7) % 125) FROM {series})",
        4: f"array_fill('GSM-7'::text, ARRAY[{size}])",
        5: f"array_fill(1, ARRAY[{size}])",
        6: f"array_fill(-1::bigint, ARRAY[{size}])",
        7: f"array_fill(0, ARRAY[{size}])",
        8: f"array_fill(''::text, ARRAY[{size}])",
        9: f"array_fill(''::text, ARRAY[{size}])",
        10: f"array_fill({owner}::bigint, ARRAY[{size}])",
        11: f"array_fill(''::text, ARRAY[{size}])",
    }, "pgbench_batch")
    print(f"-- Rendered by bench/pgbench_batch.py from `textingctl sql messages.accept`: what POST /messages/batch commits for {size} messages.")
    print(f"\\set n random(0, {9999999 - size})")
    print(accept.strip() + ";")


if __name__ == "__main__":
    main()

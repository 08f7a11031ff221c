"""The database side: migrations applied once, and the service riding out a PostgreSQL restart."""
import os
import subprocess

import psycopg

from conftest import BIN, DATABASE_URL, RUN_DIR, STACK_ENV, count, new_number

PG_CTL = "/usr/lib/postgresql/15/bin/pg_ctl"
PGDATA = os.path.join(RUN_DIR, "pgdata")


def _pg_ctl(*args):
    command = [PG_CTL, "-D", PGDATA, "-w", *args]
    if os.geteuid() == 0:  # the cluster runs as the postgres user (initdb refuses root)
        command = ["runuser", "-u", "postgres", "--", *command]
    # No pipes: the postmaster would inherit them and the call would wait for it to exit.
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


def test_applying_migrations_twice_changes_nothing(db):
    before = db.execute("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version").fetchall()
    assert before and before[0][0] == 1
    env = {**os.environ, **STACK_ENV, "TEXTING_MIGRATIONS_DIR": os.path.join(os.path.dirname(__file__), "..", "..", "migrations")}
    result = subprocess.run([os.path.join(BIN, "textingctl"), "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    after = db.execute("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version").fetchall()
    assert after == before


def test_no_session_of_the_database_compiles_statements_with_jit(db):
    # Migration 0031: JIT compiled the reports' statement once the hour its ids are planned
    # over held enough messages, 250 ms of CPU for a 2 ms statement. A new session (as every
    # service's is) gets the database's setting; jit_above_cost 0 makes any statement
    # eligible, so only `jit = off` keeps the plan below from being compiled.
    with psycopg.connect(DATABASE_URL, autocommit=True) as session:
        assert session.execute("SHOW jit").fetchone()[0] == "off"
        session.execute("SET jit_above_cost = 0")
        [[plan]] = session.execute("EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*), sum(segments) FROM messages").fetchall()
        assert "JIT" not in plan[0], plan


def test_the_claim_and_the_report_update_a_message_in_place(db):
    # Migration 0032: no index of messages names the status, and its pages keep room, so the
    # claim's `sending` and the report's `delivered` are HOT updates (no new index entries).
    # Migration 0034: the provider's id, which the sender's `sent` sets, is held unique in
    # provider_message_ids, not by an index of messages, so that update is HOT too. The
    # statements change what the sender's and DeliveryFCGI's change; counted in the
    # transaction (pg_stat_get_xact_*), which is rolled back.
    number = new_number()
    with psycopg.connect(DATABASE_URL) as session:
        session.execute("INSERT INTO phone_numbers (number) VALUES (%s)", (number,))
        [(message, partition)] = session.execute(
            """INSERT INTO messages (phone_number_id, body, encoding, segments)
               SELECT id, 'in place', 'GSM-7', 1 FROM phone_numbers WHERE number = %s RETURNING id, tableoid""", (number,)).fetchall()

        def hot_and_all():
            return session.execute("SELECT pg_stat_get_xact_tuples_hot_updated(%s), pg_stat_get_xact_tuples_updated(%s)",
                                   (partition, partition)).fetchone()

        session.execute("UPDATE messages SET status = 'sending', updated_at = now() WHERE id = %s", (message,))
        assert hot_and_all() == (1, 1)
        session.execute("""UPDATE messages SET status = 'sent', provider = 'p1', provider_message_id = 'in-place-1', attempts = 1,
                           sent_at = now(), updated_at = now() WHERE id = %s""", (message,))
        assert hot_and_all() == (2, 2)
        session.execute("UPDATE messages SET status = 'delivered', delivered_at = now(), updated_at = now() WHERE id = %s", (message,))
        assert hot_and_all() == (3, 3)
        [[fillfactor]] = session.execute("SELECT reloptions FROM pg_class WHERE oid = %s", (partition,)).fetchall()
        assert "fillfactor=70" in fillfactor
        session.rollback()


def test_database_down_is_503_with_retry_after_and_back_up_works_without_restarting_anything(api):
    assert api.post_message(new_number()).status_code == 201  # every worker may hold a connection now
    _pg_ctl("stop", "-m", "fast")
    try:
        for _ in range(3):
            response = api.post_message(new_number())
            assert response.status_code == 503, response.text
            assert response.headers["Content-Type"] == "application/problem+json"
            assert response.headers["Retry-After"]
            assert response.json()["code"] == "service_unavailable"
        assert api.raw("GET", "/healthz").status_code == 503
    finally:
        _pg_ctl("start", "-l", os.path.join(RUN_DIR, "log", "postgres.log"), "-o",
                f"-c listen_addresses=127.0.0.1 -p {_port()} -k {os.path.join(RUN_DIR, 'pg')}")
    # The FastCGI workers reconnect by themselves: every request after the restart succeeds.
    for _ in range(20):
        response = api.post_message(new_number())
        assert response.status_code == 201, response.text


def test_idle_connections_reconnect_after_a_server_restart(api, db):
    for _ in range(20):
        assert api.post_message(new_number()).status_code == 201
    _pg_ctl("restart", "-m", "fast", "-l", os.path.join(RUN_DIR, "log", "postgres.log"))
    # No request may fail: a worker notices its idle connection was closed and reconnects first.
    for _ in range(40):
        response = api.post_message(new_number())
        assert response.status_code == 201, response.text


def _port():
    for part in STACK_ENV["TEXTING_DATABASE_URL"].split():
        if part.startswith("port="):
            return part.split("=", 1)[1]
    raise AssertionError("no port in TEXTING_DATABASE_URL")

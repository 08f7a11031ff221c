"""Integration tests: the real stack (PostgreSQL, nginx running deploy/nginx.conf, the real
binaries) brought up by scripts/test; the only stand-in is our mock SMS provider over HTTP.

scripts/test exports RUN_DIR (the test stack's folder, holding texting.env), TEXTING_BIN
(the folder of the built binaries) and TEXTING_TEST_BASE_URL (nginx)."""
import collections
import contextlib
import hashlib
import hmac
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid

import sys

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from texting_support.mocks import Mocks as _Mocks  # noqa: E402
from texting_support.stack import MESSAGE_TABLES, Stack  # noqa: E402

STACK = Stack()
RUN_DIR = STACK.run_dir
BIN = STACK.bin
BASE_URL = STACK.base_url
STACK_ENV = STACK.env
DATABASE_URL = STACK.database_url
MOCK_BASE = STACK.mock_bases
DEFAULT_MOCK_SETTINGS = {"latency_ms": 0, "failure_rate": 0, "rate_limit_rate": 0, "reject_rate": 0, "tps": 0, "retry_after_seconds": 1,
                         "callback_delay_ms": 100, "callback_statuses": {"delivered": 1}, "callback_before_answer": False}


def new_number():
    """A fresh NANP test number (+1 555 …), so tests never share a number's state."""
    return "+1555%07d" % random.randrange(10**7)


def wait_for(predicate, timeout=15.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def current_attempt(message_id):
    """The attempt that holds a message now, as the sender would have named it in the callback
    URL it gave that attempt's provider: (generation, attempt number, provider). The attempt in
    flight when its job is leased, else the one recorded on the message; (0, 1, "p1") for a
    message that does not exist."""
    try:
        public_id = uuid.UUID(message_id)
    except ValueError:
        return (0, 1, "p1")
    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        row = connection.execute(
            """SELECT m.requeues, CASE WHEN j.leased_by IS NOT NULL THEN j.attempts ELSE m.attempts END,
                      coalesce(m.provider, j.last_provider, 'p1')
               FROM messages m LEFT JOIN jobs j ON j.message_id = m.id WHERE m.public_id = %s""", (public_id,)).fetchone()
    return tuple(row) if row else (0, 1, "p1")


def sign_callback(message_id, issued_at=None, secret=None, attempt=None):
    """The query string the sender puts on a callback URL (see CallbackSigner.swift): bound to
    `attempt` (generation, number, provider), by default the message's current one; with
    attempt="v1", a URL as signed before attempts were bound."""
    issued_at = int(time.time()) if issued_at is None else issued_at
    key = (secret or STACK_ENV["TEXTING_CALLBACK_SECRET"]).encode()
    if attempt == "v1":
        sig = hmac.new(key, f"v1|{message_id}|{issued_at}".encode(), hashlib.sha256).hexdigest()
        return urllib.parse.urlencode({"mid": message_id, "ts": issued_at, "sig": sig})
    gen, att, prv = current_attempt(message_id) if attempt is None else attempt
    sig = hmac.new(key, f"v2|{message_id}|{gen}|{att}|{prv}|{issued_at}".encode(), hashlib.sha256).hexdigest()
    return urllib.parse.urlencode({"mid": message_id, "gen": gen, "att": att, "prv": prv, "ts": issued_at, "sig": sig})


def textingctl(*args, env=None):
    """Runs the real admin CLI against the test stack's database (or the one `env` names)."""
    env = {**os.environ, **(env or STACK_ENV)}
    return subprocess.run([os.path.join(BIN, "textingctl"), *args], env=env, capture_output=True, text=True, timeout=60)


@contextlib.contextmanager
def scratch_database(name):
    """A database of its own on the test stack's server, owned by the service's role, with
    every migration applied by the real `textingctl migrate`: for tests that need the tables in
    a shape of their own (a large table to plan against, an older schema to upgrade), away
    from the shared database the other tests use. Yields the environment that points the
    binaries at it; dropped afterwards."""
    admin = make_conninfo(DATABASE_URL, dbname="postgres", user="postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}" OWNER texting')
    env = {**STACK_ENV, "TEXTING_DATABASE_URL": make_conninfo(DATABASE_URL, dbname=name)}
    try:
        yield env
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def plan_database(name, keys):
    """A scratch database (`scratch_database`) migrated by `textingctl migrate`, with API keys
    1 to `keys` made in SQL (named after the database), for tests that read the plans of the
    service's statements: yields an autocommit connection without automatic prepared
    statements (`explain` prepares its own)."""
    with scratch_database(name) as env:
        result = textingctl("migrate", env=env)
        assert result.returncode == 0, result.stderr
        with psycopg.connect(env["TEXTING_DATABASE_URL"], autocommit=True, prepare_threshold=None) as connection:
            connection.execute("""
                INSERT INTO api_keys (id, name, key_hash, prefix)
                OVERRIDING SYSTEM VALUE
                SELECT k, %s || '-' || k, 'hash-' || k, 'plan' || k FROM generate_series(1, %s) k""", (name, keys))
            yield connection


def explain(connection, name, arguments):
    """EXPLAIN ANALYZE of the service's statement `name` (`textingctl sql`), prepared as the
    service prepares it and executed with `arguments`: the plan's root node. EXECUTE takes no
    bound parameters, so the values go in as literals."""
    text = textingctl("sql", name)
    assert text.returncode == 0, text.stderr
    connection.execute("DEALLOCATE ALL")
    try:
        connection.execute(f"PREPARE explained AS {text.stdout}")
        values = sql.SQL(", ").join(sql.Literal(a) for a in arguments)
        plan = connection.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE explained({})").format(values)).fetchone()[0]
    finally:
        connection.execute("DEALLOCATE ALL")
    return (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]


def plan_nodes(plan):
    """Every node of a plan (`explain`), the root first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def create_api_key(name="integration-test"):
    result = textingctl("keys", "create", name)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class Api:
    """A client of the API with its own key (per-key rate limits and ownership keep tests apart)."""

    def __init__(self, key=None):
        self.key = key
        self.session = requests.Session()
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def post_message(self, to_number, message="Hello from the tests", **extra):
        return self.session.post(f"{BASE_URL}/messages", json={"to_number": to_number, "message": message, **extra})

    def post_messages(self, n, text="Message"):
        """POSTs n messages, each to a new number and each answered 201; their ids."""
        ids = []
        for i in range(n):
            response = self.post_message(new_number(), f"{text} {i}")
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        return ids

    def get_message(self, message_id):
        return self.session.get(f"{BASE_URL}/messages/{message_id}")

    def status_of(self, message_id):
        response = self.get_message(message_id)
        assert response.status_code == 200, response.text
        return response.json()["status"]

    def callback(self, message_id, body, query=None):
        query = sign_callback(message_id) if query is None else query
        return self.session.post(f"{BASE_URL}/messages/delivery_status?{query}", json=body)

    def raw(self, method, path, **kwargs):
        return self.session.request(method, f"{BASE_URL}{path}", **kwargs)


RawResponse = collections.namedtuple("RawResponse", "status headers body")


def _read_raw_response(reader):
    """One HTTP/1.1 response from a buffered socket reader: (status, headers with lowercased
    names, body), or None when nginx closed the connection first."""
    line = reader.readline()
    if not line:
        return None
    status = int(line.split()[1])
    headers = {}
    while True:
        line = reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode("latin-1")
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(reader.readline().split(b";")[0], 16)
            body += reader.read(size + 2)[:size]
            if size == 0:
                break
    else:
        body = reader.read(int(headers.get("content-length", "0")))
    return RawResponse(status, headers, body)


def flood(raw_requests, total, connections=8, batch=50, stop=None, deadline_seconds=60):
    """Sends up to `total` raw HTTP/1.1 requests (the list cycled) to nginx, pipelined in
    batches over `connections` kept-alive connections: far more requests a second than
    `requests` makes, so that a rate limit is reached on a slow machine too. Each connection
    stops after a batch with an answer for which stop(response) is true, or at the deadline.
    The answers, in no particular order (a request cut off by a closing connection has none)."""
    url = urllib.parse.urlsplit(BASE_URL)
    answers, lock = [], threading.Lock()
    sent = [0]
    deadline = time.monotonic() + deadline_seconds

    def run(offset):
        connection = reader = None
        served = 0  # nginx closes a connection after keepalive_requests (1000) requests
        try:
            while time.monotonic() < deadline:
                with lock:
                    n = min(batch, total - sent[0])
                    sent[0] += max(n, 0)
                if n <= 0:
                    return
                if connection is None or served + n > 900:
                    if connection is not None:
                        connection.close()
                    connection = socket.create_connection((url.hostname, url.port), timeout=30)
                    reader, served = connection.makefile("rb"), 0
                start = offset + sent[0]
                connection.sendall(b"".join(raw_requests[(start + i) % len(raw_requests)] for i in range(n)))
                got = []
                for _ in range(n):
                    response = _read_raw_response(reader)
                    if response is None:
                        break
                    got.append(response)
                    if response.headers.get("connection", "").lower() == "close":
                        break
                served = 900 if len(got) < n else served + n
                with lock:
                    answers.extend(got)
                if stop and any(stop(r) for r in got):
                    return
        finally:
            if connection is not None:
                connection.close()

    threads = [threading.Thread(target=run, args=(i * 7,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


class Mocks(_Mocks):
    """The mock providers, reset to the integration tests' defaults."""

    def __init__(self):
        super().__init__(MOCK_BASE, DEFAULT_MOCK_SETTINGS)


@pytest.fixture(scope="session", autouse=True)
def fresh_database():
    """Each run starts from empty tables: a number an earlier run made inactive, or jobs it
    left behind, must not change what this run's tests see. (The test stack's database is
    kept between runs, like make run's.) The chaos suite, which runs the OpenAPI contract test
    against its own stack mid-run, sets TEXTING_TEST_KEEP_DATABASE=1 to keep its data."""
    if os.environ.get("TEXTING_TEST_KEEP_DATABASE") == "1":
        yield
        return
    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        connection.execute(f"""TRUNCATE {MESSAGE_TABLES}, provider_health, provider_attempts, provider_answer_minutes, provider_sends, provider_rates, idle_senders, api_keys, service_counters,
                               webhook_endpoints, webhook_secrets, api_key_limits, api_key_senders""")
    yield


@pytest.fixture
def api():
    return Api(create_api_key())


@pytest.fixture
def drains_callback_limit():
    """For tests that flood callbacks until nginx answers 429: afterwards, waits until the
    per-address callback limit (deploy/nginx.conf: bursts of 5000, refilled at 1000/s) has its
    whole burst again, so that later tests' callbacks from 127.0.0.1 (the mock providers',
    which are not retried) are not refused."""
    yield
    time.sleep(5000 / 1000 + 0.5)


@pytest.fixture
def db():
    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        yield connection


def count(db, sql, *params):
    return db.execute(sql, params).fetchone()[0]


@pytest.fixture
def mocks():
    m = Mocks()
    m.reset()
    yield m
    m.reset()


@pytest.fixture
def empty_queue(db):
    """Tests that count what the sender does start from an empty queue (whatever earlier
    tests left due is taken out of it, and marked so) and with every provider healthy."""
    db.execute("DELETE FROM provider_health")
    db.execute("""
        WITH gone AS (DELETE FROM jobs RETURNING message_id)
        UPDATE messages SET status = 'failed', error_code = 'test_cleanup'
        WHERE id IN (SELECT message_id FROM gone) AND status IN ('queued', 'sending')""")
    yield


def store_messages(db, owner, n, body, status="sent"):
    """n messages of API key `owner` written straight into the tables (as the sender leaves
    them, by default: accepted by p1 at the first attempt), each to a new number; their public ids. For growing the messages table
    fast."""
    rows = db.execute(
        """WITH n AS (
               INSERT INTO phone_numbers (number)
               SELECT '+1557' || lpad((g + coalesce((SELECT max(id) FROM phone_numbers), 0))::text, 7, '0')
               FROM generate_series(1, %s) g RETURNING id
           )
           INSERT INTO messages (phone_number_id, body, encoding, segments, api_key_id, status, sent_at, provider, attempts)
           SELECT id, %s, 'GSM-7', 1, %s, %s::message_status, now(), 'p1', 1 FROM n
           RETURNING public_id::text""", (n, body, owner, status)).fetchall()
    return [r[0] for r in rows]


def messages_rows_read_by_sequential_scans(db):
    """pg_stat_user_tables.seq_tup_read for messages' partitions: rows read by scanning the whole table, as
    far as the connections have published their counts (when idle, at most once a second, and
    as they end). This connection's own reads are published first."""
    db.execute("SELECT pg_stat_force_next_flush()")
    # messages is partitioned (migration 0016): the reads of every partition.
    return db.execute("""SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_user_tables
                         WHERE relname IN (SELECT name FROM history_partitions WHERE parent = 'messages')""").fetchone()[0]


def run_sender(once=True, timeout=300, **overrides):
    """Runs the real SenderCron with the stack's configuration (plus overrides) and returns
    the finished process."""
    env = dict(os.environ)
    env.update(STACK_ENV)
    env.update({k: str(v) for k, v in overrides.items()})
    args = [os.path.join(BIN, "SenderCron")] + (["--once"] if once else [])
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result


def start_sender(once=True, **overrides):
    env = dict(os.environ)
    env.update(STACK_ENV)
    env.update({k: str(v) for k, v in overrides.items()})
    args = [os.path.join(BIN, "SenderCron")] + (["--once"] if once else [])
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@contextlib.contextmanager
def running_sender(**overrides):
    """A timed SenderCron run (not --once) for the block; then SIGTERM, on which it records
    what it sent and exits."""
    sender = start_sender(once=False, **overrides)
    try:
        yield sender
    finally:
        sender.send_signal(signal.SIGTERM)
        sender.communicate(timeout=60)

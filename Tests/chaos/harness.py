"""The chaos suite's harness: the stack scripts/chaos brought up (RUN_DIR, TEXTING_BIN,
TEXTING_TEST_BASE_URL, like the integration tests), fast HTTP clients, our own SenderCron
processes (started, SIGKILLed and stopped by their PIDs only), PostgreSQL control, and the
accounting every scenario ends with.

Everything talks to 127.0.0.1 only, and every loop is bounded in count and in time."""
import collections
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid

import sys

import psycopg

PROJECT = os.environ.get("PROJECT") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(PROJECT, "Tests", "support"))
from texting_support import processes  # noqa: E402
from texting_support.mocks import Mocks as _Mocks  # noqa: E402
from texting_support import stack  # noqa: E402
from texting_support.stack import MESSAGE_TABLES, Stack, database_port  # noqa: E402,F401 (MESSAGE_TABLES: for the scenarios)

STACK = Stack()
RUN_DIR = STACK.run_dir
BIN = STACK.bin
BASE_URL = STACK.base_url
HOST = "127.0.0.1"
PORT = int(urllib.parse.urlsplit(BASE_URL).port or 80)
SHORT = os.environ.get("CHAOS_SHORT") == "1"
PG_CTL = "/usr/lib/postgresql/15/bin/pg_ctl"


STACK_ENV = STACK.env
MOCK_BASE = STACK.mock_bases
PG_PORT = database_port(STACK_ENV)

# The senders' settings for the suite: short backoffs and cool-downs so that a scenario's
# retries happen within its seconds, and attempts enough to outlast a provider outage.
SENDER_SETTINGS = dict(TEXTING_BACKOFF_BASE_MS=100, TEXTING_BACKOFF_MAX_MS=1000, TEXTING_MAX_ATTEMPTS=30,
                       TEXTING_BREAKER_FAILURES=5, TEXTING_BREAKER_COOLDOWN_SECONDS=2,
                       TEXTING_PROVIDER_TIMEOUT_MS=2000, TEXTING_SENDER_RUN_SECONDS=20,
                       TEXTING_SENDER_BATCH_SIZE=100, TEXTING_SENDER_CONCURRENCY=200)
MOCK_DEFAULTS = {"latency_ms": 5, "failure_rate": 0, "rate_limit_rate": 0, "tps": 0, "callback_delay_ms": 50,
                 "callback_statuses": {"delivered": 1}, "callback_before_answer": False}


def log(*args):
    print("chaos:", *args, flush=True)


def new_number(rng=random):
    return "+1555%07d" % rng.randrange(10**7)


# ---------------------------------------------------------------------------------------
# Database, keys, processes

def db():
    return psycopg.connect(STACK.database_url, autocommit=True, connect_timeout=5)


def scalar(sql, *params):
    with db() as c:
        return c.execute(sql, params).fetchone()[0]


def create_keys(prefix, n):
    """n API keys named <prefix>-<i> (each key has its own nginx rate limit: 200/s, burst 1000)."""
    keys = []
    env = {**os.environ, **STACK_ENV}
    for i in range(n):
        result = subprocess.run([os.path.join(BIN, "textingctl"), "keys", "create", f"{prefix}-{i}"],
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        keys.append(result.stdout.strip())
    return keys


def stack_pid(name):
    """The PID scripts/stack recorded for this stack's process `name`."""
    return processes.stack_pid(RUN_DIR, name)


pid_alive = processes.pid_alive


def rss_kib(pid):
    rss = processes.rss_kib(pid)
    assert rss is not None, f"no VmRSS for {pid}"
    return rss


def stack_up():
    """`scripts/stack up` again: restarts whichever stack process is missing (locally it stands
    in for systemd's Restart=on-failure / socket activation); the environment is scripts/chaos's."""
    result = stack.script("up", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def pg_ctl(*args):
    command = [PG_CTL, "-D", os.path.join(RUN_DIR, "pgdata"), "-w", "-t", "60", *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=90, cwd="/")


def pg_stop():
    pg_ctl("stop", "-m", "fast")


def pg_start():
    pg_ctl("start", "-l", os.path.join(RUN_DIR, "log", "postgres.log"), "-o",
           f"-c listen_addresses=127.0.0.1 -p {PG_PORT} -k {os.path.join(RUN_DIR, 'pg')} -c fsync=on")


def pg_running():
    command = [PG_CTL, "status", "-D", os.path.join(RUN_DIR, "pgdata")]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/").returncode == 0


# ---------------------------------------------------------------------------------------
# HTTP

class Conn:
    """One kept-alive HTTP/1.1 connection to nginx (http.client: far cheaper than requests)."""

    def __init__(self, key=None, timeout=15):
        self.key = key
        self.timeout = timeout
        self.c = None

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body); status 0 when nginx gave no answer at all."""
        h = {"Host": f"{HOST}:{PORT}"}
        if self.key:
            h["Authorization"] = f"Bearer {self.key}"
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        for attempt in range(2):
            reused = self.c is not None
            if self.c is None:
                self.c = http.client.HTTPConnection(HOST, PORT, timeout=self.timeout)
            try:
                self.c.request(method, path, body=body, headers=h)
                r = self.c.getresponse()
                data = r.read()
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                if hdrs.get("connection", "").lower() == "close":
                    self.close()
                return r.status, hdrs, data
            except socket.timeout:
                self.close()
                return -1, {}, b""  # -1: no answer within the timeout (a hang)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, http.client.BadStatusLine):
                # A kept-alive connection nginx had closed: one retry on a new one (POSTs carry
                # an Idempotency-Key, so a retry never makes a second message).
                self.close()
                if not reused or attempt == 1:
                    return 0, {}, b""
            except OSError:
                self.close()
                return 0, {}, b""
        return 0, {}, b""

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None


def post_message(conn, rng, i, idem=None, fields=None):
    body = json.dumps({"to_number": new_number(rng), "message": f"chaos {i}", **(fields or {})})
    return conn.request("POST", "/messages", body, {"Idempotency-Key": idem or str(uuid.uuid4())})


class Tally:
    """What a load generator saw: statuses, the ids answered 201, 5xx details."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = collections.Counter()
        self.ids = []
        self.bad_5xx = []      # 5xx that are not the documented 503 problem document with Retry-After
        self.ok_503 = 0
        self.timeline = []     # (monotonic, status) of every answer

    def add(self, status, headers, body):
        t = time.monotonic()
        with self.lock:
            self.statuses[status] += 1
            self.timeline.append((t, status))
            if status == 201:
                self.ids.append(json.loads(body)["id"])
            elif status >= 500 or status <= 0:
                ok = False
                if status == 503:
                    try:
                        doc = json.loads(body)
                        ok = (headers.get("content-type", "").startswith("application/problem+json")
                              and doc.get("code") == "service_unavailable" and headers.get("retry-after"))
                    except ValueError:
                        ok = False
                if ok:
                    self.ok_503 += 1
                else:
                    self.bad_5xx.append((status, headers.get("content-type"), body[:200]))

    @property
    def requests(self):
        return sum(self.statuses.values())

    @property
    def fivexx(self):
        return sum(n for s, n in self.statuses.items() if s >= 500)


def run_load(keys, seconds, tally, per_thread_rate=120, stop=None, max_requests=200_000, seed=1, fields=None):
    """One thread per key POSTing messages (paced, under nginx's 200/s per key) for `seconds`
    or until `stop` is set; bounded by max_requests per thread. `fields`: extra fields of the
    messages, by key index. Returns the threads."""
    deadline = time.monotonic() + seconds
    stop = stop or threading.Event()

    def worker(index, key):
        rng = random.Random(seed * 1000 + index)
        conn = Conn(key)
        interval = 1.0 / per_thread_rate
        next_at = time.monotonic()
        for i in range(max_requests):
            now = time.monotonic()
            if now >= deadline or stop.is_set():
                break
            if next_at > now:
                time.sleep(next_at - now)
            next_at = max(next_at + interval, time.monotonic() - 1)
            tally.add(*post_message(conn, rng, i, fields=(fields or {}).get(index)))
        conn.close()

    threads = [threading.Thread(target=worker, args=(i, k), daemon=True) for i, k in enumerate(keys)]
    for t in threads:
        t.start()
    return threads


def join_all(threads, timeout):
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a load thread did not finish in time (a hang)"


def metrics():
    status, _, body = Conn(timeout=5).request("GET", "/metrics")
    if status != 200:
        return None
    samples = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def healthz():
    return Conn(timeout=5).request("GET", "/healthz")[0]


# ---------------------------------------------------------------------------------------
# Mock providers

class Mocks(_Mocks):
    """The mock providers, reset to the suite's defaults."""

    def __init__(self):
        super().__init__(MOCK_BASE, MOCK_DEFAULTS)


# ---------------------------------------------------------------------------------------
# Senders: our own SenderCron processes, restarted after each exit as the systemd timer does

class Senders:
    def __init__(self, count, restart_delay=1.0, **overrides):
        self.count = count
        self.restart_delay = restart_delay
        self.env = {**os.environ, **STACK_ENV, **{k: str(v) for k, v in {**SENDER_SETTINGS, **overrides}.items()}}
        self.lock = threading.Lock()
        self.procs = []
        self.started = 0
        self.exits = collections.Counter()
        self.stopping = threading.Event()
        self.logfile = open(os.path.join(RUN_DIR, "log", "chaos-senders.log"), "a")
        self.thread = threading.Thread(target=self._supervise, daemon=True)

    def start(self):
        for _ in range(self.count):
            self._spawn()
        self.thread.start()
        return self

    def _spawn(self):
        p = subprocess.Popen([os.path.join(BIN, "SenderCron")], env=self.env, stdin=subprocess.DEVNULL,
                             stdout=self.logfile, stderr=self.logfile)
        with self.lock:
            self.procs.append(p)
            self.started += 1

    def _supervise(self):
        pending = []  # restart times
        while not self.stopping.is_set():
            with self.lock:
                alive = []
                for p in self.procs:
                    code = p.poll()
                    if code is None:
                        alive.append(p)
                    else:
                        self.exits[code] += 1
                        pending.append(time.monotonic() + self.restart_delay)
                self.procs = alive
            now = time.monotonic()
            due = [t for t in pending if t <= now]
            pending = [t for t in pending if t > now]
            for _ in due:
                if not self.stopping.is_set():
                    self._spawn()
            time.sleep(0.02)

    def kill_one(self, rng):
        """SIGKILL one of our running senders, by its PID. Returns the PID or None."""
        with self.lock:
            alive = [p for p in self.procs if p.poll() is None]
            if not alive:
                return None
            p = rng.choice(alive)
            p.send_signal(signal.SIGKILL)
            return p.pid

    def stop(self):
        """SIGTERM (a sender records what is in flight and exits), SIGKILL after 15 s."""
        self.stopping.set()
        self.thread.join(5)
        with self.lock:
            procs = list(self.procs)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                code = p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                code = p.wait(5)
            self.exits[code] += 1
        self.logfile.close()


def sender_log_count(text):
    """How many lines of our senders' log (every scenario's) contain `text`."""
    try:
        with open(os.path.join(RUN_DIR, "log", "chaos-senders.log"), errors="replace") as f:
            return sum(text in line for line in f)
    except FileNotFoundError:
        return 0


Kills = collections.namedtuple("Kills", "kills bound leased webhooks_leased")


def kill_senders(senders, seconds, rng, pause, max_kills, leased_ids=None):
    """SIGKILLs one of `senders` after every pause drawn from `pause` (seconds, a range) for
    `seconds`. Returns how many were killed and the duplicate bound: what the killed senders
    held unrecorded at their deaths (claimed, in flight, or answered but not written down:
    the jobs still leased to them, leased_by being "<host>:<pid>"), at most the concurrency
    per kill; and the same for their webhook dispatchers (deliveries leased to
    "<host>:<pid>:webhooks"), the bound of webhooks sent twice. `leased_ids`, a set: gets the
    public ids of the messages whose jobs the killed senders held."""
    kills, leased_at_kill, webhooks_at_kill = 0, [], []
    deadline = time.monotonic() + seconds
    with db() as c:
        while time.monotonic() < deadline and kills < max_kills:
            time.sleep(rng.uniform(*pause))
            pid = senders.kill_one(rng)
            if pid is not None:
                kills += 1
                leased_at_kill.append(c.execute("SELECT count(*) FROM jobs WHERE leased_by LIKE %s", (f"%:{pid}",)).fetchone()[0])
                if leased_ids is not None:
                    leased_ids.update(row[0] for row in c.execute(
                        """SELECT m.public_id::text FROM jobs j JOIN messages m ON m.id = j.message_id
                           WHERE j.leased_by LIKE %s""", (f"%:{pid}",)).fetchall())
                webhooks_at_kill.append(c.execute("SELECT count(*) FROM webhook_deliveries WHERE leased_by LIKE %s",
                                                  (f"%:{pid}:webhooks",)).fetchone()[0])
    return Kills(kills, min(kills * SENDER_SETTINGS["TEXTING_SENDER_CONCURRENCY"], sum(leased_at_kill)), sum(leased_at_kill),
                 sum(webhooks_at_kill))


def run_sender_once(timeout=120, **overrides):
    env = {**os.environ, **STACK_ENV, **{k: str(v) for k, v in {**SENDER_SETTINGS, **overrides}.items()}}
    with open(os.path.join(RUN_DIR, "log", "chaos-senders.log"), "a") as logfile:
        return subprocess.run([os.path.join(BIN, "SenderCron"), "--once"], env=env, stdin=subprocess.DEVNULL,
                              stdout=logfile, stderr=logfile, timeout=timeout).returncode


# ---------------------------------------------------------------------------------------
# Accounting

UNFINISHED = ("queued", "sending")


def drain(key_prefix, timeout, mocks, hasten_retries=False, **sender_overrides):
    """With no sender of ours running: end the leases dead senders left (as time would, one
    lease later), then run `SenderCron --once` until the scenario's messages are out of the
    queue and the mocks have made every callback they owe (a report the provider made while
    DeliveryFCGI could not store it is not sent again by the mock; account() decides whether
    'sent' is acceptable), and the service's own messages with them. With `hasten_retries`, retries waiting out their backoff are made
    due at each round, as time would make them, for a scenario whose providers misbehave only
    in ways waiting does not change (the backoff reaches a minute by the sixth attempt: waiting
    for it only made the drain's bound a race with the machine's load). Bounded by `timeout`
    seconds."""
    deadline = time.monotonic() + timeout
    with db() as c:
        c.execute("UPDATE jobs SET run_at = now(), leased_until = now() WHERE leased_by IS NOT NULL")
    while time.monotonic() < deadline:
        with db() as c:
            # The service's own messages too (answers to recipients' keywords, no key): one left
            # queued would be sent during the next scenario, a message it never accepted.
            queued = c.execute(
                """SELECT count(*) FROM messages m LEFT JOIN api_keys a ON a.id = m.api_key_id
                   WHERE (a.name LIKE %s OR m.api_key_id IS NULL) AND m.status::text = ANY(%s)""",
                (key_prefix + "-%", list(UNFINISHED))).fetchone()[0]
            if queued and hasten_retries:
                c.execute("""UPDATE jobs j SET run_at = now() FROM messages m JOIN api_keys a ON a.id = m.api_key_id
                             WHERE m.id = j.message_id AND a.name LIKE %s AND j.run_at > now() AND j.leased_by IS NULL""",
                          (key_prefix + "-%",))
        if queued:
            run_sender_once(**sender_overrides)
        elif mocks.callbacks_outstanding() == 0:
            # Nothing left to send, so no new callback: every report is in, or never will be.
            return True
        time.sleep(0.2)
    return False


def history(public_ids, mocks):
    """What became of some messages, for a problem report: the message's row, its job, its
    delivery events and what the mocks saw."""
    seen = []
    with db() as c:
        for public_id in public_ids:
            row = c.execute(
                """SELECT m.status::text, m.attempts, m.provider, m.provider_message_id, m.error_code,
                          m.created_at::time(3)::text, m.sent_at::time(3)::text, m.updated_at::time(3)::text,
                          (SELECT row(j.run_at::time(3), j.attempts, j.leased_by, j.last_error)::text
                           FROM jobs j WHERE j.message_id = m.id),
                          (SELECT string_agg(e.reported_status || ' applied=' || e.applied || ' at ' || e.received_at::time(3)::text, '; ')
                           FROM delivery_events e WHERE e.message_id = m.id)
                   FROM messages m WHERE m.public_id = %s""", (public_id,)).fetchone()
            seen.append((public_id, row))
    callbacks = {name: {k: v for k, v in mocks.stats(name).items() if k.startswith("callbacks")} for name in MOCK_BASE}
    return f"{seen}; mock callbacks {callbacks}"


def account(key_prefix, tally, mocks, dup_bound, allowed_failures=(), allow_sent=False, own=()):
    """The closing query: every message answered 201 is stored, in a state that matches what
    happened (delivered, or failed with an allowed reason), was accepted by a provider when it
    says so, and no provider got it more often than the bound allows in total. `own`: ids of
    the service's own messages (answers to recipients' keywords) providers may have accepted
    too."""
    ids = set(tally.ids)
    with db() as c:
        rows = c.execute(
            """SELECT m.public_id::text, m.status::text, m.error_code, m.attempts
               FROM messages m JOIN api_keys a ON a.id = m.api_key_id WHERE a.name LIKE %s""",
            (key_prefix + "-%",)).fetchall()
        queued_without_job = c.execute(
            """SELECT count(*) FROM messages m JOIN api_keys a ON a.id = m.api_key_id
               WHERE a.name LIKE %s AND m.status = 'queued'
                 AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.message_id = m.id)""", (key_prefix + "-%",)).fetchone()[0]
    stored = {r[0]: r for r in rows}
    accepted = mocks.accepted_by_key()
    missing = [i for i in ids if i not in stored]
    wrong = []
    for i in ids:
        r = stored.get(i)
        if r is None:
            continue
        status, error = r[1], r[2]
        if status in ("sent", "delivered"):
            if status == "sent" and not allow_sent:
                wrong.append((i, status, "its delivery report never arrived"))
            elif accepted[i] == 0:
                wrong.append((i, status, "no provider accepted it"))
        elif status == "failed" and error in allowed_failures:
            pass
        else:
            wrong.append((i, status, error))
    extra = [i for i in stored if i not in ids]  # stored, but the client got no 201
    duplicates = sum(n - 1 for i, n in accepted.items() if n > 1 and i in stored)
    strangers = [i for i in accepted if i not in stored and i not in own]
    statuses = collections.Counter(r[1] for r in rows)
    lost = len(missing) + len(wrong)
    problems = []
    if missing:
        problems.append(f"{len(missing)} messages answered 201 are not stored: {missing[:3]}")
    if wrong:
        problems.append(f"{len(wrong)} messages not delivered nor failed for an allowed reason: {wrong[:3]}; "
                        f"their history: {history([w[0] for w in wrong[:3]], mocks)}")
    if duplicates > dup_bound:
        problems.append(f"{duplicates} duplicate sends, more than the bound {dup_bound}")
    if strangers:
        problems.append(f"providers accepted {len(strangers)} ids that are not stored messages: {strangers[:3]}")
    if queued_without_job:
        problems.append(f"{queued_without_job} messages queued without a job")
    return dict(lost=lost, duplicates=duplicates, statuses=dict(statuses), extra=len(extra), extra_ids=extra[:3],
                problems=problems, stored=len(rows))


def topology_folder(r, run_dir, name):
    """A fresh folder under `run_dir` for a scenario's multi-host topology (scenarios 12-14),
    or None, with the reason noted as the scenario's problem, when the topology cannot be
    made here (texting_support.topology.available)."""
    from texting_support import topology
    why_not = topology.available()
    if why_not:
        r.problems.append(f"the topology cannot be made here: {why_not}")
        return None
    work = os.path.join(run_dir, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    return work


def count_topology_answers(r, result, label=""):
    """A topology load's answers (load_client.run's result) added to the scenario's figures:
    only 201 and 503 may come back (a 503: a host or the database was away; no answer at all
    counts as a 5xx too). Returns the answers counted by status."""
    statuses = collections.Counter(s for _, s in result["answers"])
    r.requests += result["sent"]
    r.fivexx += sum(n for s, n in statuses.items() if s is None or s >= 500)
    r.check(set(statuses) <= {201, 503}, f"{label}answers other than 201 and 503: {dict(statuses)}")
    return statuses


def account_topology(r, hosts, accepted, bound, wait_seconds):
    """The closing accounting of a scenario on the multi-host topology (scenarios 12 and 13):
    waits (at most `wait_seconds`) until none of the `accepted` messages is queued or being
    sent and the mock provider owes no callback; then each must be stored and delivered, or
    left `sent` with the provider having accepted it when its report was lost (a dying host or
    database cut it off: a real provider calls again, the mock does not), at most as many as
    the mock's failed callbacks; and no message sent more often than `bound` allows in all.
    Returns (stored, left sent, the mock's failed callbacks by reason, duplicates)."""
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        pending = hosts.sql("""SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[])
                               AND status IN ('queued', 'sending')""", accepted)[0][0]
        if pending == 0 and hosts.on("client", lambda: hosts.mocks.callbacks_outstanding()) == 0:
            break
        time.sleep(0.5)
    stored = dict(hosts.sql("SELECT public_id::text, status::text FROM messages WHERE public_id = ANY(%s::uuid[])", accepted))
    by_key = hosts.on("client", lambda: hosts.mocks.accepted_by_key())
    stats = hosts.on("client", lambda: hosts.mocks.stats("p1"))
    missing = [i for i in accepted if i not in stored]
    unreported = [i for i, s in stored.items() if s == "sent" and by_key[i] > 0]
    undelivered = [(i, s) for i, s in stored.items() if s != "delivered" and i not in unreported]
    r.lost += len(missing) + len(undelivered)
    r.check(not missing, f"{len(missing)} messages answered 201 are not stored: {missing[:3]}")
    r.check(not undelivered, f"{len(undelivered)} stored messages neither delivered nor sent: {undelivered[:3]}")
    r.check(len(unreported) <= stats["callbacks_failed"],
            f"{len(unreported)} messages stay sent, more than the {stats['callbacks_failed']} reports the mock failed to make")
    duplicates = sum(n - 1 for n in by_key.values() if n > 1)
    r.duplicates += duplicates
    r.dup_bound += bound
    r.check(duplicates <= bound, f"{duplicates} duplicate sends, more than the bound {bound}")
    return stored, unreported, stats["callbacks_failed_by_reason"], duplicates

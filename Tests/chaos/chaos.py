"""The chaos suite (`make chaos`; `CHAOS_SHORT=1` for the short form `make test` runs): fourteen
fault-injection scenarios against the real stack scripts/chaos brought up (nginx with the
shipped site file, MessagesFCGI, DeliveryFCGI, SenderCron processes of our own, PostgreSQL,
the mock providers). Each ends with the accounting query (harness.account): every 201 is a
stored message in a state that matches what happened to it, none is missing, and no provider
got a message more often than the documented bound (one extra send per message per sender
crash, at most what was in flight).

Usage: python Tests/chaos/chaos.py [scenario-number ...]   (default: all fourteen)
Prints the table (scenario, requests, 5xx, lost, duplicates, result) and writes it to
Tests/chaos/results/latest.md (a full run of all fourteen; other runs to $RUN_DIR/chaos-results.md);
exits 1 if any scenario failed."""
import collections
import datetime
import heapq
import itertools
import json
import os
import subprocess
import random
import signal
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import SHORT, log  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from hostile_provider import Drip, HostileProvider, Huge, Json, Raw, Reset  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "latest.md")


class Result:
    def __init__(self, name):
        self.name = name
        self.requests = 0
        self.fivexx = 0
        self.lost = 0
        self.duplicates = 0
        self.dup_bound = 0
        self.problems = []
        self.notes = []
        self.seconds = 0.0
        # Measured where a scenario's peers are hostile (None: not measured there).
        self.aborted = None
        self.stale_applied = None
        self.provider_5xx = None
        # Where webhooks are checked: (lost, out of order, bad signatures, duplicates, bound).
        self.webhooks = None
        # Where opt-outs are checked: sends that reached a provider after their number's
        # opt-out committed.
        self.after_opt_out = None

    def check(self, condition, problem):
        if not condition:
            self.problems.append(problem)

    def take(self, tally, accounting, dup_bound):
        self.requests += tally.requests
        self.fivexx += tally.fivexx
        self.lost += accounting["lost"]
        self.duplicates += accounting["duplicates"]
        self.dup_bound += dup_bound
        self.problems += accounting["problems"]
        if tally.bad_5xx:
            self.problems.append(f"{len(tally.bad_5xx)} answers were 5xx other than the 503 problem document "
                                 f"with Retry-After (or no answer): {tally.bad_5xx[:3]}")
        self.notes.append(f"statuses {dict(sorted(tally.statuses.items()))}; stored {accounting['statuses']}")
        if accounting["extra"]:
            self.notes.append(f"{accounting['extra']} messages stored whose client got a 503 instead of the 201 (cut off as "
                              f"it was committed; a retry with its Idempotency-Key gets the message), e.g. {accounting['extra_ids']}")

    @property
    def ok(self):
        return not self.problems


def pick(full, short):
    return short if SHORT else full


def fresh(mocks):
    mocks.reset()
    with h.db() as c:
        c.execute("DELETE FROM provider_health")


# ---------------------------------------------------------------------------------------
# 1. Load with accounting

def s1_load(r, mocks):
    seconds = pick(60, 15)
    fresh(mocks)
    keys = h.create_keys("chaos-s1", 8)
    senders = h.Senders(2).start()
    tally = h.Tally()
    threads = h.run_load(keys, seconds, tally, per_thread_rate=120, seed=1)
    h.join_all(threads, seconds + 30)
    senders.stop()
    r.check(h.drain("chaos-s1", 60, mocks), "the queue did not drain within 60 s")
    r.check(tally.fivexx == 0, f"{tally.fivexx} answers were 5xx (zero allowed)")
    r.take(tally, h.account("chaos-s1", tally, mocks, dup_bound=0), 0)
    r.notes.append(f"{seconds} s of POSTs from 8 keys, {tally.statuses[201] / seconds:.0f} accepted/s; senders exited {dict(senders.exits)}")


# ---------------------------------------------------------------------------------------
# 2. PostgreSQL stopped and started under load

def s2_postgres(r, mocks):
    seconds, down_for, restarts = pick((45, 5, 3), (16, 3, 1))
    fresh(mocks)
    keys = h.create_keys("chaos-s2", 4)
    pids = {name: h.stack_pid(name) for name in ("messages", "delivery")}
    senders = h.Senders(2).start()
    tally = h.Tally()
    threads = h.run_load(keys, seconds, tally, per_thread_rate=60, seed=2)
    windows = []
    gap = (seconds - 2) / restarts
    try:
        for n in range(restarts):
            time.sleep(max(0.5, gap - down_for - 1))
            stopped = time.monotonic()
            h.pg_stop()
            time.sleep(down_for)
            health_down = h.healthz()
            r.check(health_down == 503, f"GET /healthz answered {health_down} while PostgreSQL was down")
            started = time.monotonic()
            h.pg_start()
            windows.append((stopped, started))
    finally:
        if not h.pg_running():
            h.pg_start()
    # Recovery without restarting anything: 201s come back by themselves.
    recovered_at = None
    last_start = windows[-1][1] if windows else time.monotonic()
    h.join_all(threads, seconds + 60)
    for t, status in sorted(tally.timeline):
        if t > last_start + 1 and status == 201:
            recovered_at = t
            break
    r.check(recovered_at is not None, "no POST was accepted after PostgreSQL came back")
    # The sender resumes: messages accepted after the restart reach a provider while the
    # same sender processes (or their timer-started successors) run.
    after_ids = []
    api = h.Conn(keys[0])
    rng = random.Random(22)
    for i in range(20):
        status, _, body = h.post_message(api, rng, i)
        r.check(status == 201, f"POST after recovery answered {status}")
        if status == 201:
            after_ids.append(json.loads(body)["id"])
            tally.ids.append(after_ids[-1])
            tally.statuses[201] += 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if h.scalar("SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[]) AND status IN ('sent', 'delivered')",
                    after_ids) == len(after_ids):
            break
        time.sleep(0.2)
    else:
        r.problems.append("messages accepted after the restart were not sent within 30 s by the running senders")
    senders.stop()
    for name, pid in pids.items():
        r.check(h.pid_alive(pid) and h.stack_pid(name) == pid, f"{name} (pid {pid}) did not survive the restart")
    during = [s for t, s in tally.timeline if any(a <= t <= b for a, b in windows)]
    r.check(503 in during, "no request was answered 503 while PostgreSQL was down")
    # 201s during the outage would be for messages not stored; the accounting proves each is stored.
    r.check(h.drain("chaos-s2", 90, mocks), "the queue did not drain within 90 s")
    # 'sent' is an honest end state here: the provider accepted the message and called back
    # while the database was down; DeliveryFCGI answered 503 and the mock does not call again.
    acc = h.account("chaos-s2", tally, mocks, dup_bound=0, allow_sent=True)
    # A sender that loses its database mid-run cannot record what it sent: like a crash, each
    # such run may repeat at most what it had in flight.
    bound = sum(n for code, n in senders.exits.items() if code not in (0, None)) * h.SENDER_SETTINGS["TEXTING_SENDER_CONCURRENCY"]
    acc["problems"] = [p for p in acc["problems"] if "duplicate sends" not in p]
    if acc["duplicates"] > bound:
        acc["problems"].append(f"{acc['duplicates']} duplicate sends, more than the bound {bound}")
    r.take(tally, acc, bound)
    first_201 = f"{recovered_at - last_start:.1f} s" if recovered_at else "never"
    r.notes.append(f"{restarts} stop/start of {down_for} s; answers between each stop and start: "
                   f"{dict(collections.Counter(during))} (201s: committed before the stop took effect); "
                   f"first 201 {first_201} after the last start")
    r.notes.append(f"FastCGI pids unchanged {pids}; sender exit codes {dict(senders.exits)}")


# ---------------------------------------------------------------------------------------
# 3. Senders SIGKILLed several times a second under load

def s3_sender_kill(r, mocks):
    seconds = pick(45, 15)
    fresh(mocks)
    for name in h.MOCK_BASE:
        mocks.configure(name, latency_ms=20)  # so that sends are in flight when the kill comes
    # p1 reports nothing back: a message it accepted stays 'sent', so when the sender that sent
    # it died before recording that, the reclaim sends it again (p2's reports, 50 ms later,
    # mark a message delivered long before its lease ends, and a reclaim then skips it).
    mocks.configure("p1", callback_delay_ms=-1)
    keys = h.create_keys("chaos-s3", 4)
    senders = h.Senders(3, restart_delay=0.1).start()
    tally = h.Tally()
    threads = h.run_load(keys, seconds, tally, per_thread_rate=100, seed=3)
    kills, bound, leased, _ = h.kill_senders(senders, seconds, random.Random(3), pause=(0.1, 0.4), max_kills=2000)
    h.join_all(threads, 30)
    senders.stop()
    r.check(kills >= pick(50, 15), f"only {kills} kills")
    r.check(h.drain("chaos-s3", 90, mocks), "the queue did not drain within 90 s")
    r.take(tally, h.account("chaos-s3", tally, mocks, dup_bound=bound, allow_sent=True), bound)
    r.notes.append(f"{kills} SIGKILLs over {seconds} s (3 senders, restarted 0.1 s after each death); "
                   f"duplicate bound min({kills} kills x {h.SENDER_SETTINGS['TEXTING_SENDER_CONCURRENCY']}, {leased} jobs leased "
                   f"to the killed senders at their deaths) = {bound}")


# ---------------------------------------------------------------------------------------
# 4. MessagesFCGI killed under load

def s4_fcgi_kill(r, mocks):
    seconds, kills = pick((30, 4), (12, 2))
    fresh(mocks)
    keys = h.create_keys("chaos-s4", 6)
    senders = h.Senders(2).start()
    tally = h.Tally()
    threads = h.run_load(keys, seconds, tally, per_thread_rate=100, seed=4)
    gap = seconds / (kills + 1)
    pids = []
    half_written = []
    restart_times = []
    for n in range(kills):
        time.sleep(gap * 0.7)
        pid = h.stack_pid("messages")
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        time.sleep(0.5)  # requests meanwhile: nginx answers 502 -> our 503 problem document
        h.stack_up()   # stands in for systemd's Restart=on-failure / socket activation
        restart_times.append(time.monotonic() - killed)
        new_pid = h.stack_pid("messages")
        r.check(new_pid != pid and h.pid_alive(new_pid), f"MessagesFCGI did not come back after kill {n + 1}")
        pids.append((pid, new_pid))
        # Half-written: a queued message without its job, or an idempotency key without its message.
        half_written.append(h.scalar(
            """SELECT (SELECT count(*) FROM messages m WHERE m.status = 'queued'
                         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.message_id = m.id))
                    + (SELECT count(*) FROM idempotency_keys WHERE message_id IS NULL)"""))
    h.join_all(threads, seconds + 30)
    senders.stop()
    r.check(h.healthz() == 200, "GET /healthz is not 200 after the restarts")
    r.check(tally.ok_503 > 0, "no request was answered 503 while MessagesFCGI was down")
    r.check(not any(half_written), f"half-written rows right after a kill: {half_written}")
    r.check(h.drain("chaos-s4", 60, mocks), "the queue did not drain within 60 s")
    r.take(tally, h.account("chaos-s4", tally, mocks, dup_bound=0), 0)
    r.notes.append(f"{kills} SIGKILLs of MessagesFCGI {pids}; back after {', '.join(f'{t:.1f}' for t in restart_times)} s "
                   f"(`scripts/stack up` again, standing in for systemd's Restart=on-failure); "
                   f"503s while it was down: {tally.ok_503}")


# ---------------------------------------------------------------------------------------
# 5. Provider outage and flapping

def s5_providers(r, mocks):
    phase = pick(10, 4)
    fresh(mocks)
    keys = h.create_keys("chaos-s5", 2)
    senders = h.Senders(2).start()
    tally = h.Tally()
    threads = h.run_load(keys, phase * 4, tally, per_thread_rate=25, seed=5)
    seen = {}  # phase -> set of (provider, open)
    stop_sampling = threading.Event()
    current = ["before"]

    def sample():
        while not stop_sampling.is_set():
            m = h.metrics() or {}
            for name in h.MOCK_BASE:
                value = m.get(f'texting_provider_breaker_open{{provider="{name}"}}')
                if value is not None:
                    seen.setdefault(current[0], set()).add((name, int(value)))
            stop_sampling.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    time.sleep(phase * 0.5)
    current[0] = "p1 down"
    mocks.configure("p1", failure_rate=1.0)
    time.sleep(phase)
    current[0] = "both down"
    mocks.configure("p2", failure_rate=1.0)
    time.sleep(phase)
    current[0] = "flapping"
    flips = 0
    end = time.monotonic() + phase
    while time.monotonic() < end and flips < 100:
        name = "p1" if flips % 2 == 0 else "p2"
        mocks.configure(name, failure_rate=0.0 if (flips // 2) % 2 == 0 else 1.0)
        flips += 1
        time.sleep(0.5)
    current[0] = "back"
    for name in h.MOCK_BASE:
        mocks.configure(name, failure_rate=0.0)
    h.join_all(threads, phase * 4 + 30)
    # Every message goes out after recovery, by the running senders (breakers close by themselves).
    deadline = time.monotonic() + pick(60, 30)
    while time.monotonic() < deadline:
        left = h.scalar("""SELECT count(*) FROM messages m JOIN api_keys a ON a.id = m.api_key_id
                           WHERE a.name LIKE 'chaos-s5-%%' AND m.status IN ('queued', 'sending', 'sent')""")
        if left == 0:
            break
        time.sleep(0.5)
    else:
        r.problems.append(f"{left} messages still not delivered {pick(60, 30)} s after the providers came back")
    time.sleep(3)  # one cool-down: breakers are closed by now (the probe answered)
    stop_sampling.set()
    sampler.join(5)
    final = h.metrics() or {}
    senders.stop()
    r.check(("p1", 1) in seen.get("p1 down", set()), f"p1's breaker was never seen open in /metrics while p1 was down: {seen}")
    r.check(("p2", 0) in seen.get("p1 down", set()), f"p2's breaker was open while only p1 was down: {seen}")
    r.check({("p1", 1), ("p2", 1)} <= seen.get("both down", set()) | seen.get("flapping", set()),
            f"both breakers were never seen open while both were down: {seen}")
    for name in h.MOCK_BASE:
        r.check(final.get(f'texting_provider_breaker_open{{provider="{name}"}}') == 0, f"{name}'s breaker still open at the end")
    r.check(h.drain("chaos-s5", 30, mocks), "the queue did not drain")
    r.take(tally, h.account("chaos-s5", tally, mocks, dup_bound=0), 0)
    attempts = h.scalar("""SELECT coalesce(max(m.attempts), 0) FROM messages m JOIN api_keys a ON a.id = m.api_key_id
                           WHERE a.name LIKE 'chaos-s5-%%'""")
    r.notes.append(f"phases of {phase} s: p1 down, both down, flapping ({flips} flips), back; breaker states seen "
                   f"{ {k: sorted(v) for k, v in seen.items()} }; most attempts for one message {attempts} "
                   f"(TEXTING_MAX_ATTEMPTS={h.SENDER_SETTINGS['TEXTING_MAX_ATTEMPTS']})")


# ---------------------------------------------------------------------------------------
# 6. Hostile input (byte-level fuzz; schemathesis in Tests/integration/test_openapi.py
#    covers the documented API's shapes, this covers the bytes around and under them)

def s6_fuzz(r, mocks):
    import fuzz
    seconds = pick(60, 12)
    fresh(mocks)
    keys = h.create_keys("chaos-s6", 6)
    pids = {name: h.stack_pid(name) for name in ("messages", "delivery", "nginx")}
    before = {t: h.scalar(f"SELECT count(*) FROM {t}") for t in ("messages", "phone_numbers", "jobs", "idempotency_keys")}
    outcome = fuzz.run(keys, seconds, seed=6)
    after = {t: h.scalar(f"SELECT count(*) FROM {t}") for t in before}
    accepted = outcome["accepted_ids"]
    r.requests = outcome["requests"]
    r.fivexx = outcome["fivexx"]
    r.check(not outcome["bad"], f"{len(outcome['bad'])} answers were 5xx other than the 503 problem document: {outcome['bad'][:3]}")
    r.check(outcome["ok_503"] == 0, f"{outcome['ok_503']} answers were 503 though nothing was down: {outcome['ok_503_samples'][:3]}")
    r.check(not outcome["hangs"], f"{len(outcome['hangs'])} requests got no answer within the timeout: {outcome['hangs'][:3]}")
    for name, pid in pids.items():
        r.check(h.pid_alive(pid) and h.stack_pid(name) == pid, f"{name} (pid {pid}) died during the fuzz")
    stored = h.scalar("""SELECT count(*) FROM messages m JOIN api_keys a ON a.id = m.api_key_id WHERE a.name LIKE 'chaos-s6-%%'""")
    r.check(stored == len(accepted), f"{stored} messages stored for {len(accepted)} answered 201: a rejected request wrote a row")
    r.check(after["messages"] - before["messages"] == len(accepted),
            f"messages grew by {after['messages'] - before['messages']} for {len(accepted)} 201s")
    r.check(after["phone_numbers"] - before["phone_numbers"] <= len(accepted), "phone_numbers grew by more than the 201s")
    r.check(after["idempotency_keys"] - before["idempotency_keys"] <= len(accepted), "idempotency_keys grew by more than the 201s")
    r.check(h.healthz() == 200, "GET /healthz is not 200 after the fuzz")
    # The documented shapes: schemathesis against docs/openapi.yaml, both programs, through
    # this stack's nginx (the contract test of Tests/integration, run here on the chaos stack).
    project = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    contract = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         os.path.join(project, "Tests", "integration", "test_openapi.py"), "-k", "answers_as_the_document"],
        env={**os.environ, "TEXTING_TEST_KEEP_DATABASE": "1"}, capture_output=True, text=True, timeout=300, cwd=project)
    summary = (contract.stdout.strip().splitlines() or ["no output"])[-1]
    r.check(contract.returncode == 0, f"schemathesis found answers that break docs/openapi.yaml or 5xx: {contract.stdout[-1500:]}")
    for name, pid in pids.items():
        r.check(h.pid_alive(pid) and h.stack_pid(name) == pid, f"{name} (pid {pid}) died during schemathesis")
    r.notes.append(f"{seconds} s, seed 6, {outcome['requests']} requests ({outcome['raw']} over raw sockets), "
                   f"statuses {dict(sorted(outcome['statuses'].items()))}, closed without an answer "
                   f"{outcome['no_answer']} (truncated bodies), {len(accepted)} mutated-but-valid bodies accepted; "
                   f"pids unchanged {pids}; then schemathesis against docs/openapi.yaml: {summary}")


# ---------------------------------------------------------------------------------------
# 7. Memory: RSS after N requests within a few MiB of RSS after the first 1,000

def s7_memory(r, mocks):
    import memory
    total = pick(100_000, 20_000)
    fresh(mocks)
    outcome = memory.run(total, mocks)
    # wrk ran DeliveryFCGI's share far past nginx's per-address limit for callbacks, which the
    # mocks' reports (from the same 127.0.0.1) share: let the limit's burst refill (5000 at
    # 1000/s) before the drain makes them report, as the mocks do not call again after a 429.
    time.sleep(6)
    r.requests = outcome["requests"]
    r.fivexx = outcome["fivexx"]
    r.check(not outcome["bad"], f"unexpected answers: {outcome['bad'][:3]}")
    limit_kib = 4 * 1024
    for name, (first, last) in outcome["rss"].items():
        r.check(last - first <= limit_kib, f"{name}: RSS grew {(last - first) / 1024:.1f} MiB "
                                           f"({first / 1024:.1f} -> {last / 1024:.1f} MiB), more than {limit_kib // 1024} MiB")
    r.notes.append(", ".join(f"{name} RSS {first / 1024:.1f} MiB after 1,000 -> {last / 1024:.1f} MiB after {total:,}"
                             for name, (first, last) in outcome["rss"].items())
                   + f" requests each ({'short form: 20,000 instead of 100,000' if SHORT else 'full'}); mix {outcome['mix']}")
    # wrk does not keep the ids it was given; the accounting here is by count: the messages
    # stored for this scenario's keys (no more than its 201s) all get delivered, each once.
    # Drained at most 4 sends at a time (the mocks answer after 5 ms: under 800/s), so that
    # the mocks' reports stay under nginx's 1000/s per address for them: a fast drain of the
    # ~15,000 stored here had 1,349 reports refused 429, which the mocks do not send again.
    r.check(h.drain("chaos-s7", 120, mocks, TEXTING_SENDER_CONCURRENCY=4, TEXTING_SENDER_BATCH_SIZE=4), "the queue did not drain")
    with h.db() as c:
        rows = c.execute("""SELECT m.public_id::text, m.status::text FROM messages m JOIN api_keys a ON a.id = m.api_key_id
                            WHERE a.name LIKE 'chaos-s7-%'""").fetchall()
    accepted = mocks.accepted_by_key()
    r.lost = sum(1 for i, status in rows if status != "delivered" or accepted[i] == 0)
    r.duplicates = sum(accepted[i] - 1 for i, _ in rows if accepted[i] > 1)
    r.check(r.lost == 0, f"{r.lost} of {len(rows)} stored messages were not delivered")
    r.check(r.duplicates == 0, f"{r.duplicates} duplicate sends")


# ---------------------------------------------------------------------------------------
# 8. Hostile providers under load, while senders are killed

class HostileFleet:
    """Two providers (hostile_provider.HostileProvider, raw sockets) that answer each send at
    random: mostly a clean acceptance, else ids with NUL or control characters or 10 KB long,
    500s, 429s, 400s, 2xx without an id, HTML, a 100 MB body, a slow drip past the timeout,
    resets, redirects, bytes that are not HTTP. Accepted sends are reported back 1-3 times,
    early (before the answer), or late; reports for attempts that failed are posted once a
    later attempt of the message has reached either provider (stale by construction), and
    forged ones for messages never given. What the service answered to each report is
    counted, and so is every acceptance per message (the duplicate count)."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.accepted = collections.Counter()   # message id -> clean acceptances (an SMS went out)
        self.attempts = collections.Counter()   # message id -> sends received
        self.failed_urls = collections.defaultdict(list)  # message id -> callback URLs of failed attempts
        self.reports = []                        # a heap of (due, sequence, url, body, kind)
        self.sequence = itertools.count()
        self.answers = collections.Counter()     # (kind, status or error) of the service's answers to reports
        self.stale_applied = []
        self.outstanding = 0
        self.stopping = False
        self.providers = [HostileProvider(self._rule) for _ in range(2)]
        # Reports go out from several threads, as a provider's callbacks do: one thread posting
        # them one after another fell minutes behind the load (each waits for its answer), and
        # the drain's bound then measured this harness instead of the service.
        self.posters = [threading.Thread(target=self._post_reports, daemon=True) for _ in range(self.POSTERS)]
        for poster in self.posters:
            poster.start()

    @property
    def setting(self):
        return ",".join(f"h{n + 1}={p.url}" for n, p in enumerate(self.providers))

    def _schedule(self, delay, url, body, kind):
        with self.lock:
            heapq.heappush(self.reports, (time.monotonic() + delay, next(self.sequence), url, body, kind))
            self.outstanding += 1

    @staticmethod
    def _attempt(url):
        """(generation, attempt number) the callback URL names."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        return int(query["gen"][0]), int(query["att"][0])

    def _rule(self, request):
        key, url = request.key, request.callback_url
        attempt = self._attempt(url)
        with self.lock:
            self.attempts[key] += 1
            # A later attempt has arrived: every earlier failed attempt of this message is over.
            # (The same attempt can arrive twice: curl sends a request again, once, when a
            # kept-alive connection died before any answer.)
            over = [u for a, u in self.failed_urls[key] if a < attempt]
            self.failed_urls[key] = [(a, u) for a, u in self.failed_urls[key] if a >= attempt]
            for stale in over:
                for status in ("failed", "invalid", "delivered"):
                    heapq.heappush(self.reports, (time.monotonic() + self.rng.uniform(0, 0.5), next(self.sequence), stale,
                                                  {"status": status, "message_id": "stale-" + key}, "stale"))
                    self.outstanding += 1
            roll = self.rng.random()
            delay = self.rng.uniform(0, 0.05)
        time.sleep(delay)
        provider_id = "h-" + key
        if roll < 0.62:
            answer = Json(200, {"message_id": provider_id})
        elif roll < 0.66:
            answer = Json(200, self.rng.choice(['{"message_id":"nul\\u0000id"}', '{"message_id":"cr\\r\\nlf"}',
                                                json.dumps({"message_id": "x" * 10_000})]))
            provider_id = None  # not kept by the service: reported under another id
        else:
            with self.lock:
                self.failed_urls[key].append((attempt, url))
            failures = [Json(500, "down"), Json(429, "slow down", headers=(("Retry-After", "0"),)), Json(204, b""),
                        Json(200, b"<html>gateway</html>"), Json(302, {"message_id": "moved"}, headers=(("Location", "http://127.0.0.1:9/"),)),
                        Reset(), Raw(b"\x00 not http\r\n\r\n"), Huge(200, 100 * 1024 * 1024), Drip(interval=0.5, total=100)]
            weights = [30, 10, 8, 6, 4, 10, 4, 2, 2]
            if roll > 0.985:
                failures, weights = [Json(400, "rejected\r\nforged: line")], [1]
            return self.rng.choices(failures, weights)[0]
        with self.lock:
            self.accepted[key] += 1
            copies = self.rng.choice([1, 1, 1, 2, 3])
            early = self.rng.random() < 0.2
        status = "delivered" if self.rng.random() < 0.9 else "failed"
        body = {"status": status, "message_id": provider_id or "unkept-" + key}
        if early:
            # Before the answer: the attempt in flight holds the message.
            self._post(url, body, "early")
            copies -= 1
        for _ in range(copies):
            self._schedule(self.rng.uniform(0.01, 1.5), url, body, "report")
        if self.rng.random() < 0.05:
            # A report for a message this provider was never given: the signature cannot match.
            forged = url.replace(key, str(uuid.uuid4()))
            self._schedule(0.1, forged, {"status": "invalid", "message_id": "forged"}, "forged")
        return answer

    def _post(self, url, body, kind):
        try:
            response = requests.post(url, json=body, timeout=30)
            outcome = response.status_code
            applied = response.json().get("applied") if response.status_code == 200 else None
        except (requests.RequestException, ValueError) as e:
            outcome, applied = type(e).__name__, None
        with self.lock:
            self.answers[(kind, outcome)] += 1
            if kind == "stale" and applied:
                self.stale_applied.append((url, body))

    POSTERS = 8

    def _post_reports(self):
        """One of the posting threads: takes the earliest due report, posts it, and so on."""
        while not self.stopping:
            now = time.monotonic()
            with self.lock:
                report = heapq.heappop(self.reports) if self.reports and self.reports[0][0] <= now else None
            if report is None:
                time.sleep(0.01)
                continue
            _, _, url, body, kind = report
            self._post(url, body, kind)
            with self.lock:
                self.outstanding -= 1

    # What drain() and account() ask of the providers.
    def callbacks_outstanding(self):
        with self.lock:
            return self.outstanding

    def accepted_by_key(self):
        with self.lock:
            return collections.Counter(self.accepted)

    def stats(self, name):
        return {}

    def stop(self):
        self.stopping = True
        for poster in self.posters:
            poster.join(10)
        for provider in self.providers:
            provider.stop()


def s8_hostile_providers(r, mocks):
    seconds = pick(40, 12)
    fresh(mocks)
    fleet = HostileFleet(seed=8)
    aborted_before = h.sender_log_count("run aborted")
    senders = None
    try:
        keys = h.create_keys("chaos-s8", 4)
        senders = h.Senders(2, restart_delay=0.1, TEXTING_PROVIDERS=fleet.setting).start()
        tally = h.Tally()
        threads = h.run_load(keys, seconds, tally, per_thread_rate=40, seed=8)
        kills, bound, _, _ = h.kill_senders(senders, seconds, random.Random(8), pause=(0.5, 1.5), max_kills=500)
        h.join_all(threads, 30)
        senders.stop()
        drained = h.drain("chaos-s8", 120, fleet, hasten_retries=True, TEXTING_PROVIDERS=fleet.setting)
        r.check(drained, "the queue did not drain within 120 s")
        r.take(tally, h.account("chaos-s8", tally, fleet, dup_bound=bound, allow_sent=True,
                                allowed_failures=("provider_rejected", "provider_reported_failed", "retries_exhausted")), bound)
    finally:
        fleet.stop()
    r.aborted = h.sender_log_count("run aborted") - aborted_before + (senders.exits.get(1, 0) if senders else 0)
    r.stale_applied = len(fleet.stale_applied)
    r.provider_5xx = sum(n for (kind, outcome), n in fleet.answers.items() if isinstance(outcome, int) and outcome >= 500)
    r.check(r.aborted == 0, f"{r.aborted} sender runs aborted (zero allowed)")
    r.check(r.stale_applied == 0, f"{r.stale_applied} reports from stale attempts were applied: {fleet.stale_applied[:3]}")
    r.check(r.provider_5xx == 0, f"{r.provider_5xx} reports were answered 5xx: {dict(fleet.answers)}")
    no_answer = sum(n for (kind, outcome), n in fleet.answers.items() if not isinstance(outcome, int))
    r.check(no_answer == 0, f"{no_answer} reports got no answer: {dict(fleet.answers)}")
    answers_by_kind = collections.defaultdict(dict)
    for (kind, outcome), n in sorted(fleet.answers.items(), key=str):
        answers_by_kind[kind][outcome] = n
    r.check(set(answers_by_kind["forged"]) <= {401}, f"forged reports answered {answers_by_kind['forged']} (401 expected)")
    attempts = fleet.attempts
    r.notes.append(f"{seconds} s, {sum(attempts.values())} sends to 2 hostile providers for {len(attempts)} messages "
                   f"(most sends for one message {max(attempts.values(), default=0)}), {sum(fleet.accepted.values())} acceptances; "
                   f"{kills} sender SIGKILLs, duplicate bound {bound}; the service's answers to reports by kind "
                   f"{dict(answers_by_kind)} (stale: none applied); senders exited {dict(senders.exits)}")


# ---------------------------------------------------------------------------------------
# 9. Webhooks: the receiver down, flapping, slow and answering garbage while senders die

def s9_webhooks(r, mocks):
    import webhooks
    fresh(mocks)
    webhooks.run(r, mocks)


# ---------------------------------------------------------------------------------------
# 10. Opt-outs while thousands of messages to those numbers wait and senders die

def s10_opt_outs(r, mocks):
    import opt_outs
    fresh(mocks)
    opt_outs.run(r, mocks)


# ---------------------------------------------------------------------------------------
# 11. A provider whose real limit is lower than configured (429 above it)

def s11_rate_limits(r, mocks):
    import rate_limits
    fresh(mocks)
    rate_limits.run(r, mocks)


# ---------------------------------------------------------------------------------------
# 12. App hosts die under load (several hosts: network namespaces, nginx over TCP)

def s12_app_hosts(r, mocks):
    import app_hosts
    app_hosts.run(r, h.BIN, h.RUN_DIR)


# ---------------------------------------------------------------------------------------
# 13. The database's primary dies; its synchronous standby takes over (and back)

def s13_failover(r, mocks):
    import failover
    failover.run(r, h.BIN, h.RUN_DIR)


# ---------------------------------------------------------------------------------------
# 14. PgBouncer, and PostgreSQL behind it, fail under load (several hosts)

def s14_pgbouncer(r, mocks):
    import pooler
    pooler.run(r, h.BIN, h.RUN_DIR)


SCENARIOS = [
    ("1 load with accounting", s1_load),
    ("2 PostgreSQL restarts", s2_postgres),
    ("3 sender SIGKILLs", s3_sender_kill),
    ("4 MessagesFCGI killed", s4_fcgi_kill),
    ("5 provider outage/flapping", s5_providers),
    ("6 hostile input fuzz", s6_fuzz),
    ("7 memory (RSS)", s7_memory),
    ("8 hostile providers", s8_hostile_providers),
    ("9 webhook receiver down/flapping/slow/garbage", s9_webhooks),
    ("10 opt-outs under load, senders killed", s10_opt_outs),
    ("11 provider limit lower than configured", s11_rate_limits),
    ("12 app hosts killed (several hosts)", s12_app_hosts),
    ("13 primary killed, standby promoted", s13_failover),
    ("14 PgBouncer killed, PostgreSQL behind it stopped", s14_pgbouncer),
]


def table(results):
    lines = ["| scenario | requests | 5xx | lost | duplicates | runs aborted | stale reports applied | 5xx to providers "
             "| webhooks lost / out of order / bad signature / duplicates | sent after opt-out | result | seconds |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    measured = lambda value: "–" if value is None else str(value)  # noqa: E731
    for r in results:
        dup = f"{r.duplicates} (bound {r.dup_bound})" if r.dup_bound else str(r.duplicates)
        hooks = "–" if r.webhooks is None else "{} / {} / {} / {} (bound {})".format(*r.webhooks)
        lines.append(f"| {r.name} | {r.requests:,} | {r.fivexx} | {r.lost} | {dup} | {measured(r.aborted)} | {measured(r.stale_applied)} "
                     f"| {measured(r.provider_5xx)} | {hooks} | {measured(r.after_opt_out)} | {'pass' if r.ok else 'FAIL'} | {r.seconds:.0f} |")
    return "\n".join(lines)


def main(argv):
    wanted = {a for a in argv if a.isdigit()}
    mocks = h.Mocks()
    with h.db() as c:
        c.execute(f"TRUNCATE {h.MESSAGE_TABLES}, provider_health, provider_attempts, provider_answer_minutes, idle_senders, webhook_endpoints, webhook_secrets")
        c.execute("DELETE FROM api_keys WHERE name LIKE 'chaos-%'")
    results = []
    started = time.monotonic()
    for name, fn in SCENARIOS:
        if wanted and name.split()[0] not in wanted:
            continue
        r = Result(name)
        log(f"--- scenario {name} ({'short' if SHORT else 'full'})")
        t0 = time.monotonic()
        try:
            fn(r, mocks)
        except Exception as e:  # a scenario that breaks is a failed scenario; the rest still run
            r.problems.append(f"{type(e).__name__}: {e}")
            traceback.print_exc()
            if not h.pg_running():
                h.pg_start()
        r.seconds = time.monotonic() - t0
        for note in r.notes:
            log(f"    {note}")
        for problem in r.problems:
            log(f"    PROBLEM: {problem}")
        log(f"--- {name}: {'pass' if r.ok else 'FAIL'} in {r.seconds:.0f} s")
        results.append(r)
    text = table(results)
    print("\n" + text + "\n", flush=True)
    # Repeated under the table: a CI log shows only its tail.
    for r in results:
        for problem in r.problems:
            log(f"{r.name}: PROBLEM: {problem}")
    # Only a full run of every scenario replaces the committed table; the short form (make test)
    # and partial runs write theirs beside the stack, so a test run leaves the tree clean.
    path = RESULTS if not SHORT and len(results) == len(SCENARIOS) else os.path.join(os.environ["RUN_DIR"], "chaos-results.md")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(f"# Chaos suite: latest run\n\n{datetime.datetime.now().astimezone().isoformat(timespec='seconds')}, "
                f"{'short form (CHAOS_SHORT=1)' if SHORT else 'full form'}, {os.cpu_count()} cores, "
                f"{time.monotonic() - started:.0f} s in all.\n\n{text}\n\n## Details\n\n")
        for r in results:
            f.write(f"### {r.name}: {'pass' if r.ok else 'FAIL'}\n\n")
            for note in r.notes:
                f.write(f"- {note}\n")
            for problem in r.problems:
                f.write(f"- **problem**: {problem}\n")
            f.write("\n")
    log(f"table written to {path}; {time.monotonic() - started:.0f} s in all")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""The benchmark driver (`make bench`, `BENCH_SMOKE=1 scripts/bench`). Benchmarks, not tests:
nothing is asserted; each figure is printed beside its ceiling measured on the same machine
in the same run, the two interleaved (figure, ceiling, figure, ceiling, …) over BENCH_REPS
repetitions, medians quoted, with the ratio and, where the project sets one, whether the
target is met. It installs what is missing (scripts/stack deps, wrk, pgbench, kannel), builds
release, brings up a stack of its own under .run/bench (scripts/stack: nginx 38080,
PostgreSQL 55633, mock providers 39101 and 39102; bench ceilings on 38081; Kannel's ports
from 38130), measures, writes bench/results/latest.md (texting_support.bench_report), and
stops everything it started on any exit, by PID.

Each repetition, in this order:
  ingest  POST /messages through nginx and MessagesFCGI (wrk, bench/ingest.lua) against nginx
          answering alone; pgbench running the service's own accept statement one message per
          transaction (bench/pgbench_ingest.py, from `textingctl sql`; a diagnostic: what group
          commit buys); pgbench running the obvious transaction (bench/pgbench_obvious.sql);
          and Kannel's sendsms (bench/sendsms.lua) with its forwarding held back, so it only
          accepts and stores, as POST /messages does with no sender running
  batch   POST /messages/batch, BENCH_BATCH messages a request (wrk, bench/batch.lua), against
          pgbench running the service's accept statement with the same rows, one batch per
          transaction (bench/pgbench_batch.py, from `textingctl sql`)
  reads   GET /messages/{id} (bench/read.lua) against a trivial FastCGI responder behind the
          same nginx (bench/trivial_fcgi.c, 32 threads, answering a saved real answer)
  sender  SenderCron --once draining BENCH_SENDER_MESSAGES queued messages to the 2 mock
          providers; SenderCron --once dispatching as many queued webhooks (one
          message.delivered per message) to a receiver (nginx: 204, bench/nginx-bench.conf);
          the mock providers alone (bench/provider.lua); pgbench draining the same
          queue with the sender's claim and record statements (bench/pgbench_sender.py);
          SenderCron --once draining to the bench provider endpoint; Kannel forwarding what it
          accepted above to that same endpoint (rate from the endpoint's access log); a timed
          SenderCron draining BENCH_RATE_TPS × 5 messages to mock p1 alone, configured and
          enforcing `;tps=BENCH_RATE_TPS` (its rate and 429s from the mock's record)
Then once: accept-to-provider latency at BENCH_LATENCY_RATE messages/s for
BENCH_LATENCY_SECONDS (bench/paced_post.py, open loop) with the sender running as its timer
runs it (scripts/stack sender-loop), the providers only accepting; the same with callbacks (a
diagnostic) and a webhook endpoint, measuring each report's time to its webhook; the CPU each
process used meanwhile; the idle sender's cost; the memory of every
process. Then the whole loop (issue 19): accept, send, record and report at once, the mock
providers calling back, at each of a ladder of offered rates (probes of a third of
BENCH_WHOLE_LOOP_SECONDS) until one falls behind, the highest that kept up measured for
BENCH_WHOLE_LOOP_SECONDS: CPU per process, WAL, rows and index entries written per table and
the HOT share of the messages' updates, per delivered message; on an empty database here, and
again over the large history below (`whole_loop`). Last, growth: a history of 1,000 finished messages and one of BENCH_GROWTH_MESSAGES,
each loaded in SQL over the last 360 days, and over each the median of single requests
(GET /messages/{id}, each list filter, a /metrics scrape) and BENCH_DURATION s of ingest
(wrk); then, over the large one, the oldest span dropped by retention while wrk ingests.

Settings (environment): BENCH_DURATION=5, BENCH_REPS=3, BENCH_BATCH=100, BENCH_SENDER_MESSAGES=20000, BENCH_RATE_TPS=2000,
BENCH_GROWTH_MESSAGES=20000000 (up to 20000000; about a minute to load per 2 million),
BENCH_READ_MESSAGES=10000, BENCH_LATENCY_RATE=1000, BENCH_LATENCY_SECONDS=10,
BENCH_LATENCY_CALLBACK_MS=100 (-1 skips that run; the whole loop then calls back at once), BENCH_KANNEL=1 (0 skips the peer),
BENCH_WHOLE_LOOP_SECONDS=60, BENCH_ONLY=whole-loop (the whole loop's rows alone, on an empty
database and over BENCH_GROWTH_MESSAGES, written to <run folder>/bench/whole-loop.md),
BENCH_ONLY=batch (batch ingest beside pgbench's same batches and Kannel's sendsms alone, a few
minutes, written to <run folder>/bench/batch.md), BENCH_ONLY=reads (GET /messages/{id} beside
the trivial FastCGI responder alone, about a minute, written to <run folder>/bench/reads.md),
BENCH_SMOKE=1 (a smoke run for `make test`: 1 repetition of 1 s, 500 messages, 100/s for 2 s, a rate of 200/s, 20,000 of history,
Kannel skipped if it cannot be installed, a stack of its own under .run/bench-smoke on ports
from 28180, results in .run/bench-smoke/bench/smoke.md), BENCH_RUN_DIR (another folder; it is
removed at the start), BENCH_PORT (nginx; the ceilings take the next port, Kannel from +50),
BENCH_PG_PORT, BENCH_MOCK_PORTS. Runs sharing a folder wait for each other (RUN_DIR.lock).
Only 127.0.0.1 is ever a target; every load is bounded in count and time.
"""
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(PROJECT, "Tests", "support"))
from kannel import Kannel, KannelError  # noqa: E402
from texting_support import processes, stats  # noqa: E402
from texting_support.bench_report import render, render_batch, render_reads, render_whole_loop  # noqa: E402
from texting_support.mocks import MockError, Mocks  # noqa: E402
from texting_support.stack import MESSAGE_TABLES, SCRIPT as STACK, exported, mock_bases, providers  # noqa: E402

PG_BIN = "/usr/lib/postgresql/15/bin"
WRK_THREADS, WRK_CONNECTIONS, PGBENCH_CLIENTS = 2, 32, 8
FCGI_THREADS = 32       # MessagesFCGI's (TEXTING_FCGI_THREADS, scripts/stack's default)
PACED_CONNECTIONS = 256  # the most bench/paced_post.py opens for the latency load
FCGI_LIMIT_KIB, SENDER_LIMIT_KIB = 32 * 1024, 64 * 1024
TEXT = ("Benchmark message: your code is 482913. It expires in 10 minutes. Do not share it with anyone; "
        "we never ask for it by phone or e-mail. Thank you")


class BenchError(Exception):
    """A step that cannot go on: the run stops with this one line."""


def say(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Settings:
    """BENCH_* from the environment, checked (a bad one: one line, exit status 2)."""

    def __init__(self, environ):
        smoke = environ.get("BENCH_SMOKE", "0")
        if smoke not in ("0", "1"):
            raise SystemExit(f"bench: BENCH_SMOKE must be 0 or 1; got '{smoke}'")
        self.smoke = smoke == "1"
        defaults = dict(DURATION=1, REPS=1, SENDER_MESSAGES=500, READ_MESSAGES=200, LATENCY_RATE=100, LATENCY_SECONDS=2, RATE_TPS=200,
                        GROWTH_MESSAGES=20_000, BATCH=100, WHOLE_LOOP_SECONDS=2) \
            if self.smoke else dict(DURATION=5, REPS=3, SENDER_MESSAGES=20000, READ_MESSAGES=10000, LATENCY_RATE=1000, LATENCY_SECONDS=10,
                                    RATE_TPS=2000, GROWTH_MESSAGES=20_000_000, BATCH=100, WHOLE_LOOP_SECONDS=60)
        limits = dict(DURATION=60, REPS=9, SENDER_MESSAGES=200_000, READ_MESSAGES=100_000, LATENCY_RATE=2000, LATENCY_SECONDS=60,
                      RATE_TPS=100_000, GROWTH_MESSAGES=20_000_000, BATCH=1000, WHOLE_LOOP_SECONDS=300)
        for name, default in defaults.items():
            text = environ.get(f"BENCH_{name}", str(default))
            if not re.fullmatch(r"[1-9][0-9]*", text):
                raise SystemExit(f"bench: BENCH_{name} must be a positive whole number; got '{text}'")
            if int(text) > limits[name]:
                raise SystemExit("bench: settings too large (at most 60 s, 9 repetitions, 200000 messages, 100000 reads, 2000/s for 60 s, "
                                 "a rate of 100000/s, 20000000 messages of history, batches of 1000, a whole loop of 300 s)")
            setattr(self, name.lower(), int(text))
        self.idle_seconds = 1 if self.smoke else 5
        self.run_dir = environ.get("BENCH_RUN_DIR") or os.path.join(PROJECT, ".run", "bench-smoke" if self.smoke else "bench")
        if not self.run_dir.startswith("/") or self.run_dir == "/":
            raise SystemExit(f"bench: BENCH_RUN_DIR must be an absolute path; got '{self.run_dir}'")
        # The smoke run's ports lie below the ephemeral range (32768-60999), where no outgoing
        # connection of another program can be holding them: `make test` must not fail for that.
        self.port = self._port(environ, "BENCH_PORT", 28180 if self.smoke else 38080)
        self.pg_port = self._port(environ, "BENCH_PG_PORT", 28634 if self.smoke else 55633)
        self.mock_ports = environ.get("BENCH_MOCK_PORTS", "29111 29112" if self.smoke else "39101 39102").split()
        self.ceiling_port = self.port + 1
        self.kannel_ports_from = self.port + 50
        self.results_file = os.path.join(self.run_dir, "bench", "smoke.md") if self.smoke else os.path.join(PROJECT, "bench", "results", "latest.md")
        self.use_kannel = environ.get("BENCH_KANNEL", "1")
        if self.use_kannel not in ("0", "1"):
            raise SystemExit(f"bench: BENCH_KANNEL must be 0 or 1; got '{self.use_kannel}'")
        self.use_kannel = self.use_kannel == "1"
        callback = environ.get("BENCH_LATENCY_CALLBACK_MS", "100")
        if not re.fullmatch(r"-1|[0-9]{1,5}", callback):
            raise SystemExit(f"bench: BENCH_LATENCY_CALLBACK_MS must be -1 (off) or milliseconds; got '{callback}'")
        self.callback_ms = int(callback)
        self.only = environ.get("BENCH_ONLY", "")
        if self.only not in ("", "whole-loop", "batch", "reads"):
            raise SystemExit(f"bench: BENCH_ONLY must be whole-loop, batch or reads (or unset: everything); got '{self.only}'")
        if self.only:
            self.results_file = os.path.join(self.run_dir, "bench", f"{self.only}.md")

    @staticmethod
    def _port(environ, name, default):
        text = environ.get(name, str(default))
        if not re.fullmatch(r"[1-9][0-9]{2,4}", text) or int(text) > 65000:
            raise SystemExit(f"bench: {name} must be a port number; got '{text}'")
        return int(text)


class Bench:
    """One run: the stack, the measurements, the results."""

    def __init__(self, settings):
        self.s = settings
        self.work = os.path.join(settings.run_dir, "bench")  # raw outputs of every measurement
        self.started = time.monotonic()
        self.env = self._clean_environment()
        self.children = []   # background processes started here, stopped at the end by PID
        self.loop = None     # scripts/stack sender-loop, while it runs
        self.trivial = None
        self.kannel = None
        self.problems = []
        self.series = {name: [] for name in (
            "ingest", "ingest_p50", "ingest_p99", "nginx_alone", "pgbench", "pgbench_obvious", "kannel_accept", "kannel_p50",
            "kannel_p99", "batch", "batch_p50", "batch_p99", "pgbench_batch", "reads", "reads_p50", "reads_p99", "trivial", "trivial_p50", "trivial_p99", "drain", "mock_alone",
            "pg_sender", "drain_same", "kannel_forward", "kannel_forwarded", "webhooks", "rate_limited", "rate_limited_429")}
        self.sender_peaks = []
        self.kannel_rss = {"bearerbox": [], "smsbox": []}
        self.pgbench_failed = 0
        self.kannel_note = ""
        self.sender_batch = None
        self.growth_figures = None
        self.whole_loop_figures = {}

    def _clean_environment(self):
        """The caller's shell may hold another stack's settings: the bench stack takes none."""
        env = {k: v for k, v in os.environ.items()
               if not re.match(r"(TEXTING_|MOCK_|PG|STACK_)", k) and k not in ("BIN_DIR", "RUN_DIR", "PORT", "PG_PORT", "MOCK_PORTS")}
        env.update(RUN_DIR=self.s.run_dir, PORT=str(self.s.port), PG_PORT=str(self.s.pg_port), MOCK_PORTS=" ".join(self.s.mock_ports),
                   BUILD_CONFIG="release")
        return env

    # --- running things --------------------------------------------------------------------

    def run(self, command, timeout, output=None, env=None, check=True, what=None):
        """A bounded command; its output to `output` (a file in the work folder) or returned."""
        with open(output, "w") if output else open(os.devnull, "w") as sink:
            result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=sink if output else subprocess.PIPE,
                                    stderr=subprocess.STDOUT if output else subprocess.PIPE, text=True, timeout=timeout,
                                    env=env or self.env)
        if check and result.returncode != 0:
            detail = open(output).read()[-2000:] if output else (result.stderr or result.stdout)[-2000:]
            print(detail, file=sys.stderr)
            raise BenchError(f"{what or command[0]} failed (exit {result.returncode}{', ' + output if output else ''})")
        return result

    def start(self, command, log, env=None):
        """A background process of this run, in a session of its own."""
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=open(log, "a"), stderr=subprocess.STDOUT,
                                   env=env or self.env, start_new_session=True)
        self.children.append(process)
        return process

    def db(self, sql, admin=False, env=None):
        command = [f"{PG_BIN}/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"] + (["-U", "postgres"] if admin else []) + ["-c", sql]
        return self.run(command, 600, env=env, what="psql").stdout.strip()

    def log(self, name):
        return os.path.join(self.s.run_dir, "log", name)

    def out(self, name):
        return os.path.join(self.work, name)

    # --- measurements' tools ----------------------------------------------------------------

    def wrk(self, name, *arguments):
        """wrk, bounded: its Requests/sec; the whole output stays in the work folder."""
        path = self.out(f"{name}.txt")
        self.run(["timeout", "--kill-after=5", str(self.s.duration + 30), "wrk", *arguments], self.s.duration + 60, output=path, what="wrk")
        match = re.search(r"^Requests/sec:\s*([0-9.]+)", open(path).read(), re.M)
        if not match:
            raise BenchError(f"no Requests/sec in {path}")
        return float(match.group(1))

    def wrk_answers(self, name, label, ok):
        """The latency percentiles of a wrk run (from the Lua scripts' lines), and a problem
        noted for answers other than `ok` and for socket errors."""
        text = open(self.out(f"{name}.txt")).read()
        bad = []
        statuses = re.search(r"^statuses:(.*)$", text, re.M)
        if statuses:
            bad += [entry for entry in statuses.group(1).split() if not entry.startswith(f"{ok}=")]
        errors = re.search(r"^\s*(Socket errors.*)$", text, re.M)
        if errors:
            bad.append(f"({errors.group(1).strip()})")
        if bad:
            self.problems.append(f"{label}, answers other than {ok}: {' '.join(bad)}")
        p50 = re.search(r"^latency_ms: p50=([0-9.]+)", text, re.M)
        p99 = re.search(r"^latency_ms: .*p99=([0-9.]+)", text, re.M)
        return (float(p50.group(1)) if p50 else None, float(p99.group(1)) if p99 else None)

    def pgbench(self, name, limit, *arguments, env=None):
        """pgbench, bounded: its tps (without initial connection time); counts failed transactions."""
        path = self.out(f"{name}.txt")
        self.run(["timeout", "--kill-after=5", str(limit), f"{PG_BIN}/pgbench", *arguments], limit + 30, output=path, env=env, what="pgbench")
        text = open(path).read()
        tps = re.search(r"^tps = ([0-9.]+) \(without initial connection time\)", text, re.M)
        if not tps:
            raise BenchError(f"no tps in {path}")
        failed = re.search(r"^number of failed transactions: ([0-9]+)", text, re.M)
        self.pgbench_failed += int(failed.group(1)) if failed else 0
        return float(tps.group(1))

    def reset_data(self):
        """An empty service (API keys kept) and a checkpoint, so each measurement starts alike;
        first waits (at most 10 s) for requests still in hand (a TRUNCATE racing an accept can
        deadlock with it, then it is tried again)."""
        for _ in range(100):
            if self.db("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' "
                       "AND state <> 'idle' AND pid <> pg_backend_pid()") == "0":
                break
            time.sleep(0.1)
        for attempt in range(3):
            try:
                self.db(f"TRUNCATE {MESSAGE_TABLES}, provider_health, provider_attempts, provider_answer_minutes")
                break
            except BenchError:
                if attempt == 2:
                    raise BenchError("could not empty the tables") from None
                time.sleep(0.5)
        self.db("CHECKPOINT", admin=True)

    def preload(self, count, status="queued"):
        """`count` messages as POST /messages would have stored them, in one statement; queued
        with a job due now unless `status` says otherwise; analyzed and checkpointed."""
        self.reset_data()
        self.db(f"""WITH n AS (
                INSERT INTO phone_numbers (number) SELECT '+1556' || lpad(g::text, 7, '0') FROM generate_series(1, {count}) g RETURNING id
            ), m AS (
                INSERT INTO messages (phone_number_id, body, encoding, segments, api_key_id, status)
                SELECT id, left('{TEXT}', (20 + (id * 7) % 125)::integer), 'GSM-7', 1, {self.owner}, '{status}' FROM n RETURNING id
            )
            INSERT INTO jobs (message_id, run_at) SELECT id, now() FROM m WHERE '{status}' = 'queued'""")
        self.db("ANALYZE phone_numbers; ANALYZE messages; ANALYZE jobs")
        self.db("CHECKPOINT", admin=True)

    def sent_count(self):
        return int(self.db("SELECT count(*) FROM messages WHERE status = 'sent'"))

    def sender_once(self, name, expected, label, **extra):
        """SenderCron --once on the queue as it is: messages sent per second of its whole run;
        its peak RSS is kept (sampled every 50 ms); a problem noted unless it sent all
        `expected` and exited 0."""
        started = time.monotonic()
        process = self.start([os.path.join(self.bin_dir, "SenderCron"), "--once"], self.log(f"bench-{name}.log"), env={**self.env, **extra})
        peak, deadline = 0, time.monotonic() + 300
        while process.poll() is None:
            peak = max(peak, processes.rss_kib(process.pid) or 0)
            if time.monotonic() > deadline:
                say("SenderCron --once still running after 300 s: stopping it")
                processes.stop(process, grace_seconds=30)
            time.sleep(0.05)
        seconds = time.monotonic() - started
        sent = self.sent_count()
        if process.returncode != 0 or sent != expected:
            self.problems.append(f"{label}: exit status {process.returncode}, sent {sent} of {expected}")
        self.sender_peaks.append(peak)
        return stats.per_second(sent, seconds)

    # --- 0. what it needs, the build, the stack ---------------------------------------------

    def install(self, *packages):
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        say(f"installing Debian packages: {' '.join(packages)}")
        apt = [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", "DPkg::Lock::Timeout=300"]
        self.run([*apt, "update"], 900, what="apt-get update")
        self.run([*apt, "install", "-y", "--no-install-recommends", *packages], 1800, what="apt-get install")

    def dependencies(self):
        self.run([STACK, "deps"], 1800, what="scripts/stack deps")
        if not shutil.which("wrk"):
            self.install("wrk")
        if not os.access(f"{PG_BIN}/pgbench", os.X_OK):
            self.install("postgresql-15", "postgresql-client-15")
        if not shutil.which("gcc"):
            self.install("gcc", "libc6-dev")
        for tool, path in (("wrk", shutil.which("wrk")), ("pgbench", f"{PG_BIN}/pgbench"), ("gcc", shutil.which("gcc")),
                           ("ss (iproute2)", shutil.which("ss")), ("libfcgi-dev", "/usr/include/fcgiapp.h")):
            if not path or not os.path.exists(path):
                raise BenchError(f"{tool} is missing")
        if self.s.use_kannel and not os.access("/usr/sbin/bearerbox", os.X_OK):
            if self.s.smoke:
                # No `apt-get update` here: the smoke run only takes Kannel if it installs quickly.
                say("smoke run: trying to install kannel (skipped if that fails)")
                self.run(["timeout", "120", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", "DPkg::Lock::Timeout=60", "install",
                          "-y", "--no-install-recommends", "kannel"], 200, output=os.path.join(PROJECT, ".run", "bench-smoke-kannel-install.log"),
                         check=False)
            else:
                try:
                    self.install("kannel")
                except BenchError:
                    say("apt-get install kannel failed")
        if self.s.use_kannel and not (os.access("/usr/sbin/bearerbox", os.X_OK) and os.access("/usr/sbin/smsbox", os.X_OK)):
            if not self.s.smoke:
                raise BenchError("Kannel (Debian package kannel) could not be installed; BENCH_KANNEL=0 runs without the peer")
            self.s.use_kannel = False
            self.kannel_note = "Kannel could not be installed: skipped"
            say(self.kannel_note)
        elif not self.s.use_kannel:
            self.kannel_note = "Kannel skipped (BENCH_KANNEL=0)"

    def bring_up(self):
        say("building (release)")
        build = self.run([STACK, "build"], 3600, what="scripts/stack build")
        self.bin_dir = build.stdout.strip().splitlines()[-1]
        if not (os.access(os.path.join(self.bin_dir, "SenderCron"), os.X_OK) and os.access(os.path.join(self.bin_dir, "textingctl"), os.X_OK)):
            raise BenchError(f"the build left no binaries in '{self.bin_dir}'")
        self.env["BIN_DIR"] = self.bin_dir
        # A fresh stack: stop one a previous run may have left, and start from an empty cluster.
        if os.path.isdir(self.s.run_dir):
            self.run([STACK, "down"], 120, check=False)
            shutil.rmtree(self.s.run_dir)
        for folder in (os.path.join(self.s.run_dir, "log"), self.work):
            os.makedirs(folder, exist_ok=True)
        say("compiling the trivial FastCGI responder (bench/trivial_fcgi.c)")
        self.run(["gcc", "-O2", "-Wall", "-o", self.out("trivial_fcgi"), os.path.join(PROJECT, "bench", "trivial_fcgi.c"), "-lfcgi", "-lpthread"],
                 300, output=self.out("trivial_fcgi-gcc.txt"), what="gcc (bench/trivial_fcgi.c)")
        say(f"starting the bench stack in {self.s.run_dir} (log: {self.log('bench-stack.log')})")
        for attempt in range(3):
            self.wait_for_ports()
            # Callbacks off until the latency measurement turns them on.
            up = self.run([STACK, "up"], 300, output=self.log("bench-stack-up.txt"), env={**self.env, "MOCK_CALLBACK_DELAY_MS": "-1"}, check=False)
            if up.returncode == 0:
                break
            print(open(self.log("bench-stack-up.txt")).read()[-3000:], file=sys.stderr)
            if attempt == 2:
                raise BenchError("the bench stack did not come up")
            say("the bench stack did not come up (a port taken?): stopping it and trying again")
            self.run([STACK, "down"], 120, check=False)
            time.sleep(2)
        self.env.update(exported(self.run([STACK, "env"], 60).stdout))
        self.mocks = Mocks(mock_bases(self.env), {})
        self.nginx_for_bench()
        self.api_key = self.run([os.path.join(self.bin_dir, "textingctl"), "keys", "create", "bench"], 60).stdout.strip()
        if not self.api_key.startswith("txk_"):
            raise BenchError("textingctl keys create printed no key")
        self.owner = self.db("SELECT id FROM api_keys WHERE name = 'bench' ORDER BY id DESC LIMIT 1")
        self.start_trivial_responder()
        self.render_pgbench_scripts()

    def wait_for_ports(self):
        """The bench stack's ports may lie in the ephemeral range: another program's outgoing
        connection may hold one (then it stays in TIME-WAIT for 60 s). Waits, at most 65 s, until
        none of ours is held by a connection to a port something listens on."""
        waited = 0
        for port in [self.s.port, self.s.ceiling_port, self.s.pg_port, *map(int, self.s.mock_ports)]:
            while waited < 130 and self.port_held(port):
                if waited == 0:
                    say(f"port {port} is held by another program's connection (TIME-WAIT): waiting for it (at most 65 s)")
                time.sleep(0.5)
                waited += 1

    @staticmethod
    def port_held(port):
        listening = {line.split()[3].rsplit(":", 1)[-1] for line in subprocess.run(["ss", "-Htln"], capture_output=True, text=True).stdout.splitlines()
                     if len(line.split()) > 3}
        sockets = subprocess.run(["ss", "-Htan", f"( sport = :{port} )"], capture_output=True, text=True).stdout.splitlines()
        return any(line.split()[0] != "LISTEN" and line.split()[4].rsplit(":", 1)[-1] in listening for line in sockets if len(line.split()) > 4)

    def nginx_for_bench(self):
        """The shipped site as `up` rendered it minus its limit_req lines (one client address at
        full speed is exactly what they stop), plus a bench-only server (bench/nginx-bench.conf)
        on the ceiling port: nginx alone, the provider endpoint, the trivial responder.
        deploy/nginx.conf is untouched."""
        nginx_dir = os.path.join(self.s.run_dir, "nginx")
        self.nginx_conf = os.path.join(nginx_dir, "nginx.conf")
        self.trivial_socket = os.path.join(self.s.run_dir, "sock", "bench-trivial.sock")
        self.provider_log = self.log("bench-provider-access.log")
        self.webhook_log = self.log("bench-webhook-access.log")
        site = os.path.join(nginx_dir, "texting.conf")
        text = re.sub(r"(?m)^[ \t]*limit_req(_status|_log_level)?[ \t].*\n", "", open(site).read())
        open(site, "w").write(text)
        bench_conf = os.path.join(nginx_dir, "bench.conf")
        template = open(os.path.join(PROJECT, "bench", "nginx-bench.conf")).read()
        open(bench_conf, "w").write(template.replace("@PORT@", str(self.s.ceiling_port)).replace("@TRIVIAL_SOCKET@", self.trivial_socket)
                                    .replace("@PROVIDER_LOG@", self.provider_log).replace("@WEBHOOK_LOG@", self.webhook_log))
        main = open(self.nginx_conf).read()
        include = f"include {site};"
        if f"include {bench_conf};" not in main:
            if include not in main:
                raise BenchError(f"could not add the bench server to {self.nginx_conf}")
            main = main.replace(include, f"{include}\n    include {bench_conf};", 1)
            open(self.nginx_conf, "w").write(main)
        self.run(["/usr/sbin/nginx", "-t", "-q", "-e", self.log("nginx-error.log"), "-c", self.nginx_conf, "-p", nginx_dir], 60,
                 what="nginx -t (the bench configuration)")
        pid = processes.stack_pid(self.s.run_dir, "nginx", self.nginx_conf)
        if pid is None:
            raise BenchError("the stack's nginx is not running")
        os.kill(pid, signal.SIGHUP)  # the stack's own nginx, by the PID scripts/stack recorded
        if not self.poll(lambda: self.http(f"http://127.0.0.1:{self.s.ceiling_port}/bench/nginx-alone")[1] == b"ok", 5):
            raise BenchError("nginx did not take the bench configuration")
        time.sleep(0.5)  # old workers finish
        say("rate limits off for capacity measurement (limit_req removed from the rendered site)")

    @staticmethod
    def http(url, method="GET", body=None, headers=None):
        """(status, body) of a request to 127.0.0.1; (0, b"") when there is no answer."""
        import urllib.error
        import urllib.request
        request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except OSError:
            return 0, b""

    @staticmethod
    def poll(predicate, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.1)
        return predicate()

    def post_message(self, number, text):
        return self.http(f"http://127.0.0.1:{self.s.port}/messages", "POST", json.dumps({"to_number": number, "message": text}).encode(),
                         {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"})

    def start_trivial_responder(self):
        """The trivial responder answers what GET /messages/{id} answers for a stored message."""
        status, body = self.post_message("+15557000001", "Benchmark message: your code is 482913.")
        if status != 201:
            raise BenchError(f"POST /messages answered {status}")
        one = json.loads(body)["id"]
        status, answer = self.http(f"http://127.0.0.1:{self.s.port}/messages/{one}", headers={"Authorization": f"Bearer {self.api_key}"})
        if status != 200:
            raise BenchError(f"GET /messages/{one} did not answer 200")
        self.read_answer = self.out("read-answer.json")
        open(self.read_answer, "wb").write(answer)
        self.trivial = self.start([self.out("trivial_fcgi"), self.trivial_socket, str(FCGI_THREADS), self.read_answer],
                                  self.log("bench-trivial-fcgi.log"))
        url = f"http://127.0.0.1:{self.s.ceiling_port}/bench/trivial/messages/{one}"
        if not self.poll(lambda: self.http(url) == (200, answer), 5):
            raise BenchError("the trivial FastCGI responder does not answer")

    def render_pgbench_scripts(self):
        """The pgbench scripts, each checked once: the service's SQL and the obvious transaction
        must store a message with its job, the sender's must send a queued message."""
        textingctl = os.path.join(self.bin_dir, "textingctl")
        self.ingest_script, self.sender_script = self.out("ingest.pgbench"), self.out("sender.pgbench")
        self.batch_script = self.out("batch.pgbench")
        self.run([sys.executable, os.path.join(PROJECT, "bench", "pgbench_ingest.py"), textingctl, self.owner], 60, output=self.ingest_script,
                 what="bench/pgbench_ingest.py")
        self.run([sys.executable, os.path.join(PROJECT, "bench", "pgbench_batch.py"), textingctl, self.owner, str(self.s.batch)], 60,
                 output=self.batch_script, what="bench/pgbench_batch.py")
        sender = subprocess.run([sys.executable, os.path.join(PROJECT, "bench", "pgbench_sender.py"), textingctl, PROJECT],
                                capture_output=True, text=True, timeout=60)
        batch = re.search(r"^batch=([1-9][0-9]*)$", sender.stderr, re.M)
        if sender.returncode != 0 or not batch:
            raise BenchError(f"bench/pgbench_sender.py failed: {sender.stderr.strip()[:300]}")
        open(self.sender_script, "w").write(sender.stdout)
        self.sender_batch = int(batch.group(1))
        for script, options, expected in ((self.ingest_script, ["-M", "simple"], 1),
                                          (os.path.join(PROJECT, "bench", "pgbench_obvious.sql"), ["-M", "prepared", "-D", f"owner={self.owner}"], 1),
                                          (self.batch_script, ["-M", "simple"], self.s.batch)):
            self.reset_data()
            self.run([f"{PG_BIN}/pgbench", "-n", *options, "-t", "1", "-f", script], 120, output=self.out("pgbench-check.txt"), what=f"pgbench {script}")
            stored = self.db(f"SELECT count(*) FROM messages m JOIN jobs j ON j.message_id = m.id WHERE m.api_key_id = {self.owner}")
            if stored != str(expected):
                raise BenchError(f"the pgbench script {script} stored {stored} messages with their jobs, not {expected}")
        self.preload(3)
        self.run([f"{PG_BIN}/pgbench", "-n", "-M", "prepared", "-t", "1", "-f", self.sender_script], 120, output=self.out("pgbench-check.txt"),
                 what="pgbench (the rendered sender script)")
        if self.db("SELECT count(*) FROM messages WHERE status = 'sent' AND sent_at IS NOT NULL") != "3" or self.db("SELECT count(*) FROM jobs") != "0":
            raise BenchError(f"the rendered sender pgbench script did not send the queued messages ({self.sender_script})")

    # --- 1. the repetitions -----------------------------------------------------------------

    def repetition(self, rep):
        s, out = self.s, self.series
        wrk_load = [f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{s.duration}s"]
        say(f"ingest {rep}/{s.reps}: nginx alone, POST /messages, pgbench (the service's accept), pgbench (the obvious transaction)"
            f"{', Kannel sendsms' if s.use_kannel else ''}, {s.duration} s each")
        out["nginx_alone"].append(self.wrk(f"nginx-alone-{rep}", *wrk_load, f"http://127.0.0.1:{s.ceiling_port}/bench/nginx-alone"))
        self.reset_data()
        out["ingest"].append(self.wrk(f"ingest-{rep}", *wrk_load, "-s", os.path.join(PROJECT, "bench", "ingest.lua"), f"http://127.0.0.1:{s.port}",
                                      "--", self.api_key, str(rep * 3_000_000)))
        p50, p99 = self.wrk_answers(f"ingest-{rep}", f"ingest, repetition {rep}", 201)
        out["ingest_p50"].append(p50)
        out["ingest_p99"].append(p99)
        self.reset_data()
        out["pgbench"].append(self.pgbench(f"pgbench-{rep}", s.duration + 30, "-n", "-M", "simple", "-c", str(PGBENCH_CLIENTS), "-j", "2",
                                           "-T", str(s.duration), "-f", self.ingest_script))
        self.reset_data()
        out["pgbench_obvious"].append(self.pgbench(f"pgbench-obvious-{rep}", s.duration + 30, "-n", "-M", "prepared", "-c", str(PGBENCH_CLIENTS),
                                                   "-j", "2", "-T", str(s.duration), "-D", f"owner={self.owner}",
                                                   "-f", os.path.join(PROJECT, "bench", "pgbench_obvious.sql")))
        accepted_by_kannel = self.kannel_accepts(rep, wrk_load) if s.use_kannel else None

        self.batch(rep, wrk_load)
        self.reads(rep, wrk_load)
        self.senders(rep, accepted_by_kannel)

    def batch(self, rep, wrk_load):
        """POST /messages/batch, then pgbench committing the same batches with the service's SQL."""
        s, out = self.s, self.series
        say(f"batch {rep}/{s.reps}: POST /messages/batch, {s.batch} messages a request; pgbench (the service's accept, the same rows), "
            f"{s.duration} s each")
        self.reset_data()
        out["batch"].append(s.batch * self.wrk(f"batch-{rep}", *wrk_load, "-s", os.path.join(PROJECT, "bench", "batch.lua"),
                                               f"http://127.0.0.1:{s.port}", "--", self.api_key, str(rep * 3_000_000), str(s.batch)))
        p50, p99 = self.wrk_answers(f"batch-{rep}", f"batch ingest, repetition {rep}", 200)
        out["batch_p50"].append(p50)
        out["batch_p99"].append(p99)
        self.reset_data()
        out["pgbench_batch"].append(s.batch * self.pgbench(f"pgbench-batch-{rep}", s.duration + 30, "-n", "-M", "simple", "-c",
                                                           str(PGBENCH_CLIENTS), "-j", "2", "-T", str(s.duration), "-f", self.batch_script))

    def reads(self, rep, wrk_load):
        """GET /messages/{id} over stored messages, then the trivial FastCGI responder."""
        s, out = self.s, self.series
        say(f"reads {rep}/{s.reps}: GET /messages/{{id}} over {s.read_messages} stored messages, then the trivial FastCGI responder ({s.duration} s each)")
        self.preload(s.read_messages, "sent")
        ids = self.out("read-ids.txt")
        open(ids, "w").write(self.db("SELECT public_id FROM messages ORDER BY random()") + "\n")
        read = os.path.join(PROJECT, "bench", "read.lua")
        out["reads"].append(self.wrk(f"reads-{rep}", *wrk_load, "-s", read, f"http://127.0.0.1:{s.port}", "--", self.api_key, ids, "/messages"))
        p50, p99 = self.wrk_answers(f"reads-{rep}", f"reads, repetition {rep}", 200)
        out["reads_p50"].append(p50)
        out["reads_p99"].append(p99)
        out["trivial"].append(self.wrk(f"trivial-{rep}", *wrk_load, "-s", read, f"http://127.0.0.1:{s.ceiling_port}", "--", self.api_key, ids,
                                       "/bench/trivial/messages"))
        p50, p99 = self.wrk_answers(f"trivial-{rep}", f"trivial FastCGI responder, repetition {rep}", 200)
        out["trivial_p50"].append(p50)
        out["trivial_p99"].append(p99)

    def senders(self, rep, accepted_by_kannel):
        """The sender's drains, the webhooks', the mocks alone, pgbench with the sender's SQL,
        Kannel forwarding, and a provider with a contracted rate."""
        s, out = self.s, self.series
        say(f"sender {rep}/{s.reps}: SenderCron --once draining {s.sender_messages} to the mock providers; the mock providers alone "
            f"({s.duration} s); pgbench draining them with the sender's SQL; SenderCron --once to the provider endpoint"
            f"{'; Kannel forwarding to it' if s.use_kannel else ''}")
        self.preload(s.sender_messages)
        self.mocks.reset()
        self.mocks.configure_all(callback_delay_ms=-1)
        out["drain"].append(self.sender_once(f"sender-{rep}", s.sender_messages, f"sender drain to the mock providers, repetition {rep}"))
        out["webhooks"].append(self.webhook_drain(rep))
        out["mock_alone"].append(self.mocks_alone(rep))
        # The database ceiling: the same queue drained by the sender's own claim and record SQL.
        self.preload(s.sender_messages)
        transactions = -(-s.sender_messages // self.sender_batch)
        tps = self.pgbench(f"pgbench-sender-{rep}", 300, "-n", "-M", "prepared", "-c", "1", "-t", str(transactions), "-f", self.sender_script)
        out["pg_sender"].append(tps * s.sender_messages / transactions)
        sent = self.sent_count()
        if sent != s.sender_messages:
            self.problems.append(f"pgbench with the sender's SQL, repetition {rep}: sent {sent} of {s.sender_messages}")
        # The same queue to the provider endpoint Kannel forwards to.
        self.preload(s.sender_messages)
        out["drain_same"].append(self.sender_once(f"sender-endpoint-{rep}", s.sender_messages, f"sender drain to the provider endpoint, repetition {rep}",
                                                  TEXTING_PROVIDERS=f"p1=http://127.0.0.1:{s.ceiling_port}/bench/provider-send"))
        if s.use_kannel:
            self.kannel_forwards(rep, accepted_by_kannel)
        rate, refused = self.rate_limited(rep)
        out["rate_limited"].append(rate)
        out["rate_limited_429"].append(refused)

    # What a client that wants to hear how its messages ended subscribes to.
    WEBHOOK_EVENT_TYPES = ["message.delivered", "message.failed"]

    def webhook_endpoint(self):
        """A webhook endpoint of the bench key, to the receiver on the ceiling port, for the
        final outcomes (WEBHOOK_EVENT_TYPES); its id. Made only for the webhook measurements
        (then deleted): with it, every status change of the other measurements would queue a
        delivery too."""
        status, body = self.http(f"http://127.0.0.1:{self.s.port}/webhook_endpoints", "POST",
                                 json.dumps({"url": f"http://127.0.0.1:{self.s.ceiling_port}/bench/webhook",
                                             "event_types": self.WEBHOOK_EVENT_TYPES}).encode(),
                                 {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"})
        if status != 201:
            raise BenchError(f"POST /webhook_endpoints answered {status}: {body[:200]!r}")
        return json.loads(body)["id"]

    def delete_webhook_endpoint(self, endpoint):
        status, _ = self.http(f"http://127.0.0.1:{self.s.port}/webhook_endpoints/{endpoint}", "DELETE",
                              headers={"Authorization": f"Bearer {self.api_key}"})
        if status != 204:
            raise BenchError(f"DELETE /webhook_endpoints/{endpoint} answered {status}")

    def webhook_drain(self, rep):
        """SenderCron --once dispatching one `message.delivered` webhook for each of
        BENCH_SENDER_MESSAGES messages (queued by the status change, in one statement) to the
        receiver: deliveries per second of its whole run, every attempt recorded."""
        count = self.s.sender_messages
        self.preload(count, "sent")
        endpoint = self.webhook_endpoint()
        self.db("UPDATE messages SET status = 'delivered', delivered_at = now()")
        self.db("ANALYZE events; ANALYZE webhook_deliveries")
        self.db("CHECKPOINT", admin=True)
        queued = int(self.db("SELECT count(*) FROM webhook_deliveries"))
        started = time.monotonic()
        self.run([os.path.join(self.bin_dir, "SenderCron"), "--once"], 300, output=self.log(f"bench-webhooks-{rep}.log"),
                 what="SenderCron --once (webhooks)")
        seconds = time.monotonic() - started
        delivered = int(self.db("SELECT count(*) FROM webhook_attempts WHERE outcome = 'delivered'"))
        left = int(self.db("SELECT count(*) FROM webhook_deliveries"))
        self.delete_webhook_endpoint(endpoint)
        if queued != count or delivered != count or left != 0:
            self.problems.append(f"webhook dispatch, repetition {rep}: {queued} queued for {count} messages, {delivered} delivered, "
                                 f"{left} left in the queue")
        return stats.per_second(delivered, seconds)

    def webhook_latency(self, mark, since):
        """From each `message.delivered` event of the load (written in the transaction that
        applied the provider's report) to the receiver logging its webhook: percentiles over
        every such event, an event whose webhook never came counting as a problem."""
        self.poll(lambda: self.db("SELECT count(*) FROM webhook_deliveries") == "0", 30)
        time.sleep(1.5)  # nginx writes its access log buffer every second
        arrived = {}
        for line in open(self.webhook_log, errors="replace"):
            parts = line.split()
            if len(parts) == 3 and parts[1] == "204" and float(parts[0]) >= since:
                arrived.setdefault(parts[2], float(parts[0]))
        rows = self.db(f"""SELECT e.public_id, extract(epoch FROM e.created_at) FROM events e
                           WHERE e.type = 'message.delivered' AND e.message_id > {mark}""")
        delays = []
        missing = 0
        for row in rows.splitlines():
            event, written = row.split("|")
            if event in arrived:
                delays.append(1000 * (arrived[event] - float(written)))
            else:
                missing += 1
        if missing or not delays:
            self.problems.append(f"report to webhook: {missing} of {len(delays) + missing} delivered events never reached the receiver")
        def percentile(q):
            value = stats.percentile(delays, q)
            return None if value is None else round(value, 1)

        return dict(count=len(delays) + missing, arrived=len(delays), p50=percentile(0.50), p90=percentile(0.90),
                    p99=percentile(0.99), max=percentile(1.0))

    def rate_limited(self, rep):
        """A provider with a contracted rate: SenderCron as the timer runs it (a timed run, so it
        waits for tokens rather than exiting) drains BENCH_RATE_TPS × 5 queued messages (at most
        BENCH_SENDER_MESSAGES) to mock p1 alone, configured `;tps=BENCH_RATE_TPS`, the mock
        answering 429 above that rate (its `tps`). Returns the rate the mock accepted them at
        (from its own record of each acceptance, first to last) and how many it refused."""
        s = self.s
        count = min(s.sender_messages, s.rate_tps * 5)
        say(f"sender {rep}/{s.reps}: a provider limited to {s.rate_tps}/s, {count} messages")
        self.preload(count)
        self.db("DELETE FROM provider_rates")
        self.mocks.reset()
        self.mocks.configure_all(callback_delay_ms=-1)
        name, url = providers(self.env)[0]
        self.mocks.configure(name, tps=s.rate_tps)
        process = self.start([os.path.join(self.bin_dir, "SenderCron")], self.log(f"bench-rate-{rep}.log"),
                             env={**self.env, "TEXTING_PROVIDERS": f"{name}={url};tps={s.rate_tps}", "TEXTING_SENDER_RUN_SECONDS": "300"})
        try:
            drained = self.poll(lambda: self.db("SELECT count(*) FROM jobs") == "0", 30 + 2 * count / s.rate_tps)
        finally:
            processes.stop(process, grace_seconds=30)
        accepted = sorted(at for _, at, _ in self.mocks.sends(name) if at is not None)
        refused = self.mocks.stats(name)["answered_429"]
        # A reset keeps the settings: the next measurements need the mock unlimited again.
        self.mocks.configure(name, tps=0)
        self.mocks.reset()
        if not drained or len(accepted) != count:
            self.problems.append(f"rate-limited sender, repetition {rep}: {len(accepted)} of {count} accepted")
        return (round((len(accepted) - 1) / (accepted[-1] - accepted[0]), 1) if len(accepted) > 1 else None), refused

    def mocks_alone(self, rep):
        """The ceiling: both mock providers at once, as the sender spreads over both."""
        self.mocks.reset()
        runs = []
        for index, port in enumerate(self.s.mock_ports, 1):
            path = self.out(f"mock-alone-{rep}-{port}.txt")
            command = ["timeout", "--kill-after=5", str(self.s.duration + 30), "wrk", "-t1", f"-c{WRK_CONNECTIONS // 2}", f"-d{self.s.duration}s",
                       "-s", os.path.join(PROJECT, "bench", "provider.lua"), f"http://127.0.0.1:{port}", "--", f"http://127.0.0.1:{self.s.port}",
                       f"{rep}{index}"]
            runs.append((port, path, subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=open(path, "w"), stderr=subprocess.STDOUT)))
        total = 0.0
        for port, path, process in runs:
            if process.wait(timeout=self.s.duration + 60) != 0:
                raise BenchError(f"wrk against a mock provider failed ({path})")
            rate = re.search(r"^Requests/sec:\s*([0-9.]+)", open(path).read(), re.M)
            if not rate:
                raise BenchError(f"no Requests/sec in {path}")
            total += float(rate.group(1))
            self.wrk_answers(os.path.basename(path)[:-4], f"mock provider on {port} alone, repetition {rep}", 200)
        self.mocks.reset()
        return round(total, 2)

    def kannel_accepts(self, rep, wrk_load):
        """Kannel's sendsms with forwarding held back (throughput = 1 message/s); resumed in the
        sender part by a bearerbox started without the hold on the same file store."""
        out = self.series
        self.kannel.clear_store()
        self.kannel.start_bearerbox(hold=True)
        self.kannel.start_smsbox()
        self.kannel_started = time.time()
        out["kannel_accept"].append(self.wrk(f"kannel-sendsms-{rep}", *wrk_load, "-s", os.path.join(PROJECT, "bench", "sendsms.lua"),
                                             f"http://127.0.0.1:{self.kannel.sendsms_port}", "--", "bench", self.kannel.password,
                                             str(rep * 3_000_000)))
        p50, p99 = self.wrk_answers(f"kannel-sendsms-{rep}", f"Kannel sendsms, repetition {rep}", 202)
        out["kannel_p50"].append(p50)
        out["kannel_p99"].append(p99)
        accepted = re.search(r"^statuses:.*\b202=([0-9]+)", open(self.out(f"kannel-sendsms-{rep}.txt")).read(), re.M)
        open(self.out(f"kannel-status-accepted-{rep}.txt"), "w").write(self.kannel.status())
        self.kannel_rss["bearerbox"].append(processes.rss_kib(self.kannel.bearerbox.pid))
        self.kannel_rss["smsbox"].append(processes.rss_kib(self.kannel.smsbox.pid))
        self.kannel.stop()
        return int(accepted.group(1)) if accepted else None

    def kannel_forwards(self, rep, accepted):
        """bearerbox again, without the hold, on the store it kept: it reloads what sendsms
        accepted and forwards it; the rate is the forwarded lines in the endpoint's access log
        after this start, from the first to the last."""
        time.sleep(1.2)  # the access log's buffer (flush=1s) is written out
        drain_started = time.time()
        self.kannel.start_bearerbox(hold=False)
        size = self.kannel.wait_drained(accepted or 1, 120)
        if size != 0:
            self.problems.append(f"Kannel forwarding, repetition {rep}: store size still {size} after 120 s")
        open(self.out(f"kannel-status-forwarded-{rep}.txt"), "w").write(self.kannel.status())
        self.kannel.stop()
        time.sleep(1.2)
        times = [float(line.split()[0]) for line in open(self.provider_log) if len(line.split()) > 1 and line.split()[1] == "200"]
        forwarded = [t for t in times if t >= drain_started]
        rate = (len(forwarded) - 1) / (forwarded[-1] - forwarded[0]) if len(forwarded) > 1 and forwarded[-1] > forwarded[0] else None
        self.series["kannel_forward"].append(rate)
        self.series["kannel_forwarded"].append(len(forwarded))
        total = sum(1 for t in times if t >= self.kannel_started)
        if total < (accepted or 0):
            self.problems.append(f"Kannel, repetition {rep}: forwarded {total} of the {accepted} messages sendsms accepted")
        self.kannel.clear_store()

    # --- 2. latency, idle, memory ----------------------------------------------------------

    def stack_process(self, name, marker):
        try:
            return processes.stack_pid(self.s.run_dir, name, marker)
        except OSError:
            return None

    def cpu_snapshot(self):
        """Each process's CPU time (all its threads), clock ticks: the stack's, PostgreSQL's
        (the postmaster's children), and the machine's busy and total."""
        snapshot = {}
        for name, marker in (("nginx", self.nginx_conf), ("messages", "MessagesFCGI"), ("delivery", "DeliveryFCGI"),
                             ("mock-p1", "MockProvider"), ("mock-p2", "MockProvider"), ("sender", "SenderCron")):
            pid = self.stack_process(name, marker)
            if pid is not None:
                pids = [pid] + (processes.children_of(pid) if name == "nginx" else [])
                snapshot[name] = sum(map(processes.cpu_ticks, pids))
        snapshot["postgres"] = sum(map(processes.cpu_ticks, [self.postmaster] + processes.children_of(self.postmaster)))
        cpu = open("/proc/stat").readline().split()[1:9]
        ticks = list(map(int, cpu))
        snapshot["machine-busy"] = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
        snapshot["machine-all"] = sum(ticks)
        return snapshot

    @staticmethod
    def cpu_report(before, after, seconds):
        """"MessagesFCGI 45 %, …" in % of one core; the machine's busy share over all its cores."""
        hz = os.sysconf("SC_CLK_TCK")
        labels = (("nginx", "nginx"), ("messages", "MessagesFCGI"), ("delivery", "DeliveryFCGI"), ("mock-p1", "MockProvider-p1"),
                  ("mock-p2", "MockProvider-p2"), ("sender", "SenderCron"), ("postgres", "PostgreSQL"))
        parts = [f"{label} {100 * (after[name] - before.get(name, 0)) / hz / seconds:.0f} %" for name, label in labels if name in after]
        text = ", ".join(parts)
        total = after["machine-all"] - before["machine-all"]
        if total > 0:
            text += f"; the whole machine {100 * (after['machine-busy'] - before['machine-busy']) / total:.0f} % busy ({os.cpu_count()} cores, everyone)"
        return text

    def start_sender_loop(self):
        if self.loop is not None:
            processes.stop(self.loop)
        self.loop = self.start([STACK, "sender-loop"], self.log("bench-sender-loop.log"))
        if not self.poll(lambda: self.stack_process("sender", "SenderCron") is not None, 10):
            raise BenchError("the sender loop started no SenderCron")
        return self.stack_process("sender", "SenderCron")

    def latency(self, name, callback_ms, webhooks=False):
        """A fresh sender loop (its SenderCron starts a 55 s run, as after a timer start), the
        mock providers calling back after `callback_ms` (-1: not at all), the paced load, then
        every message's sent_at - created_at. `webhooks`: the bench key has a webhook endpoint
        meanwhile, and the time from each report to its webhook is measured too."""
        s = self.s
        say(f"latency ({name}): sender loop running, POST /messages at {s.latency_rate}/s for {s.latency_seconds} s, provider callbacks "
            f"{f'after {callback_ms} ms' if callback_ms >= 0 else 'off'}")
        if self.loop is not None:
            processes.stop(self.loop)
            self.loop = None
        self.reset_data()
        self.mocks.reset()
        self.mocks.configure_all(callback_delay_ms=callback_ms)
        endpoint = self.webhook_endpoint() if webhooks else None
        since = time.time()
        sender = self.start_sender_loop()
        # One message first: it proves the sender is listening and warms every connection up.
        self.post_message("+15557000000", "warm-up")
        self.poll(lambda: int(self.db("SELECT count(*) FROM messages WHERE sent_at IS NOT NULL")) >= 1, 10)
        mark = self.db("SELECT coalesce(max(id), 0) FROM messages")
        before, started = self.cpu_snapshot(), time.monotonic()
        load_file = self.out(f"latency-{name}.json")
        self.run(["timeout", "--kill-after=5", str(s.latency_seconds + 30), sys.executable, os.path.join(PROJECT, "bench", "paced_post.py"),
                  f"http://127.0.0.1:{s.port}", self.api_key, str(s.latency_rate), str(s.latency_seconds), str(PACED_CONNECTIONS)],
                 s.latency_seconds + 60, output=load_file, what="the paced load")
        cpu = self.cpu_report(before, self.cpu_snapshot(), time.monotonic() - started)
        # Wait (at most 30 s) until every message of the load has left the queue.
        self.poll(lambda: self.db(f"SELECT count(*) FROM messages WHERE id > {mark} AND status IN ('queued', 'sending')") == "0", 30)
        row = self.db(f"""SELECT count(*), count(sent_at),
                   round(count(*) / greatest(extract(epoch FROM max(created_at) - min(created_at)), 0.001)),
                   round(percentile_cont(0.50) WITHIN GROUP (ORDER BY ms)::numeric, 1),
                   round(percentile_cont(0.90) WITHIN GROUP (ORDER BY ms)::numeric, 1),
                   round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
                   round(max(ms)::numeric, 1)
            FROM (SELECT created_at, sent_at, extract(epoch FROM sent_at - created_at) * 1000 AS ms FROM messages WHERE id > {mark}) t""")
        count, sent, accepted, p50, p90, p99, top = (value or None for value in row.split("|"))
        load = json.loads(open(load_file).read())
        answer = load["answer_ms"]
        result = dict(count=int(count), sent=int(sent), accepted=float(accepted) if accepted else None,
                      p50=float(p50) if p50 else None, p90=float(p90) if p90 else None, p99=float(p99) if p99 else None,
                      max=float(top) if top else None, issued=load["rate"], cpu=cpu,
                      load=(f"{load['issued']} requests issued in {load['seconds']:.1f} s ({load['rate']:.0f}/s), {load['sent']} answered "
                            f"({' '.join(f'{k}={v}' for k, v in sorted(load['statuses'].items()))}), POST answered p50 {answer.get('p50')} ms, "
                            f"p99 {answer.get('p99')} ms, max {answer.get('max')} ms after its scheduled time, worst wait for a connection "
                            f"{load['worst_lag_ms']:.0f} ms, at most {load['most_connections']} connections"))
        # Unsent messages count as never delivered: percentiles over the sent ones only would flatter.
        if result["sent"] != result["count"]:
            self.problems.append(f"latency ({name}): only {result['sent']} of {result['count']} messages were sent within 30 s of the load")
        if result["accepted"] is not None and result["accepted"] < 0.95 * s.latency_rate:
            self.problems.append(f"latency ({name}): the service accepted {result['accepted']:.0f} messages/s of the {s.latency_rate}/s offered "
                                 "(requests waited, see its load line); the percentiles are of what it accepted")
        if endpoint:
            result["webhook"] = self.webhook_latency(mark, since)
            self.delete_webhook_endpoint(endpoint)
        after = self.stack_process("sender", "SenderCron")
        if after != sender:
            self.problems.append(f"latency ({name}): the timer started another SenderCron during the load (pids {sender}, {after or 'none'})")
        return result

    # --- the whole loop: accept, send, record and report at once ------------------------------

    # The offered rates tried, lowest first, until one does not keep up (issue 19).
    WHOLE_LOOP_RATES = (250, 300, 400, 500, 600, 750, 900, 1100, 1400, 1700, 2100, 2500)
    # What "keeps up" means: every message delivered within this of the load's end, and 99 %
    # of them delivered within WHOLE_LOOP_P99_MS of being accepted.
    WHOLE_LOOP_DRAIN_SECONDS = 30
    WHOLE_LOOP_P99_MS = 1000

    def whole_loop(self, label, empty):
        """The highest offered rate at which accept, send and report all keep up: POST
        /messages at each of WHOLE_LOOP_RATES in turn for a short probe (a third of
        BENCH_WHOLE_LOOP_SECONDS), the sender loop running, the mock providers calling back
        after BENCH_LATENCY_CALLBACK_MS (100 ms unless set), until one does not keep up; then
        the highest that did, again for BENCH_WHOLE_LOOP_SECONDS, measured (a rung lower if it
        no longer keeps up). `empty`: each run starts from an empty database; otherwise on what
        is stored (the growth history)."""
        s = self.s
        callback = max(s.callback_ms, 0)
        self.mocks.reset()
        self.mocks.configure_all(callback_delay_ms=callback, callback_statuses={"delivered": 1})
        self.start_sender_loop()
        rates = (100,) if s.smoke else self.WHOLE_LOOP_RATES
        probe_seconds = max(2, s.whole_loop_seconds // 3)
        kept = []
        probes = []
        for rate in rates:
            probe = self.whole_loop_run(label, rate, probe_seconds, empty)
            probes.append(f"{rate}/s {'kept up' if probe['kept_up'] else 'fell behind: ' + probe['why']}")
            if not probe["kept_up"]:
                break
            kept.append(rate)
        result = {"label": label, "probe_seconds": probe_seconds, "probes": probes, "callback_ms": callback}
        for rate in reversed(kept[-2:]):
            measured = self.whole_loop_run(label, rate, s.whole_loop_seconds, empty, detailed=True)
            result["measured"] = measured
            if measured["kept_up"]:
                break
        if "measured" not in result:
            result["measured"] = self.whole_loop_run(label, rates[0], s.whole_loop_seconds, empty, detailed=True)
        if not result["measured"]["kept_up"]:
            self.problems.append(f"whole loop ({label}): no offered rate kept up for {s.whole_loop_seconds} s "
                                 f"({result['measured']['rate']}/s: {result['measured']['why']})")
        processes.stop(self.loop)
        self.loop = None
        return result

    def whole_loop_run(self, label, rate, seconds, empty, detailed=False):
        """One run of the whole loop at `rate`/s for `seconds`: whether it kept up (every
        message accepted at the offered rate, delivered within WHOLE_LOOP_DRAIN_SECONDS of the
        load's end, p99 accepted -> delivered under WHOLE_LOOP_P99_MS, the queue no deeper in
        the load's second half than a second of messages) and, `detailed`, what it cost per
        delivered message: CPU per process, WAL bytes, rows and index entries written, and the
        share of the messages' updates that were HOT."""
        s = self.s
        say(f"whole loop ({label}): POST /messages at {rate}/s for {seconds} s, sender loop running, callbacks after "
            f"{max(s.callback_ms, 0)} ms{' (measured)' if detailed else ''}")
        if empty:
            self.reset_data()
        # One message first: the sender is listening and every connection is warm.
        warm = int(self.db("SELECT count(*) FROM messages WHERE status = 'delivered'"))
        self.post_message("+15557000000", "warm-up")
        self.poll(lambda: int(self.db("SELECT count(*) FROM messages WHERE status = 'delivered'")) > warm, 15)
        mark = self.db("SELECT coalesce(max(id), 0) FROM messages")
        if detailed:
            # A backend hands its statistics to the shared counters when it is next idle, at
            # most 10 s later: what the probes before wrote must be in before the counters are
            # read, and this run's before they are read again.
            time.sleep(11)
            writes_before = self.whole_loop_counters()
            wal_before = self.db("SELECT pg_current_wal_lsn()")
            cpu_before = self.whole_loop_cpu()
        depths, stop = [], threading.Event()

        def sample():
            while not stop.wait(1):
                try:
                    depths.append((time.monotonic(), int(self.db("SELECT count(*) FROM jobs"))))
                except BenchError:
                    pass

        sampler = threading.Thread(target=sample, daemon=True)
        started = time.monotonic()
        sampler.start()
        load_file = self.out(f"whole-loop-{label}-{rate}-{seconds}.json")
        try:
            self.run(["timeout", "--kill-after=5", str(seconds + 30), sys.executable, os.path.join(PROJECT, "bench", "paced_post.py"),
                      f"http://127.0.0.1:{s.port}", self.api_key, str(rate), str(seconds), str(PACED_CONNECTIONS)],
                     seconds + 60, output=load_file, what="the paced load")
        finally:
            stop.set()
            sampler.join(timeout=30)
        load_end = time.monotonic()
        self.poll(lambda: self.db(f"SELECT count(*) FROM messages WHERE id > {mark} AND status <> 'delivered'") == "0",
                  self.WHOLE_LOOP_DRAIN_SECONDS)
        drained = time.monotonic()
        if detailed:
            # CPU and WAL up to the drain's end (the statistics' wait below is idle time).
            cpu_after = self.whole_loop_cpu()
            wal_bytes = int(self.db(f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{wal_before}')"))
        load = json.loads(open(load_file).read())
        row = self.db(f"""SELECT count(*), count(delivered_at),
                   round(percentile_cont(0.50) WITHIN GROUP (ORDER BY ms)::numeric, 1),
                   round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1)
            FROM (SELECT delivered_at, extract(epoch FROM coalesce(delivered_at, now()) - created_at) * 1000 AS ms
                  FROM messages WHERE id > {mark}) t""").split("|")
        count, delivered = int(row[0]), int(row[1])
        p50, p99 = (float(v) if v else None for v in row[2:4])
        second_half = [depth for at, depth in depths if at >= started + (load_end - started) / 2 and at <= load_end]
        deepest = max(second_half, default=0)
        result = dict(rate=rate, seconds=seconds, count=count, delivered=delivered, p50=p50, p99=p99, deepest=deepest,
                      issued=load["rate"], answered=load["sent"], statuses=load["statuses"])
        why = []
        if load["rate"] < 0.95 * rate:
            why.append(f"only {load['rate']:.0f}/s offered (the load's connections waited: worst {load['worst_lag_ms']:.0f} ms)")
        if load["statuses"].get("201", 0) < 0.99 * load["issued"]:
            why.append(f"answers {' '.join(f'{k}={v}' for k, v in sorted(load['statuses'].items()))}")
        if delivered < count:
            why.append(f"{count - delivered} of {count} not delivered {self.WHOLE_LOOP_DRAIN_SECONDS} s after the load")
        if p99 is None or p99 >= self.WHOLE_LOOP_P99_MS:
            why.append(f"p99 accepted -> delivered {p99} ms")
        if deepest > rate:
            why.append(f"queue {deepest} deep in the load's second half")
        result["kept_up"] = not why
        result["why"] = "; ".join(why)
        if detailed:
            # Statistics reach the shared counters when each backend next reports (at most every
            # 10 s when idle): wait for them.
            time.sleep(11)
            hz = os.sysconf("SC_CLK_TCK")
            per = max(delivered, 1)
            result["cpu_us"] = {name: round((cpu_after[name] - cpu_before.get(name, 0)) / hz * 1e6 / per)
                                for name in cpu_after if name in cpu_before}
            result["cpu_seconds"] = round(drained - started, 1)
            result["wal_bytes"] = round(wal_bytes / per)
            after = self.whole_loop_counters()
            result["tables"] = {}
            for name, counts in after.items():
                diff = [a - b for a, b in zip(counts, writes_before.get(name, (0,) * len(counts)))]
                if diff[0] + diff[1] + diff[3] > 0:
                    result["tables"][name] = dict(inserted=diff[0] / per, updated=diff[1] / per, hot=diff[2] / per, deleted=diff[3] / per,
                                                  index_entries=diff[4] / per)
        return result

    def whole_loop_cpu(self):
        """CPU ticks so far of each of the loop's processes, ended ones included (the sender loop
        starts a SenderCron every run; PostgreSQL's backends come and go with them)."""
        ticks = {}
        for name, marker in (("nginx", self.nginx_conf), ("MessagesFCGI", "MessagesFCGI"), ("DeliveryFCGI", "DeliveryFCGI"),
                             ("mock providers", "MockProvider")):
            key = {"nginx": "nginx", "MessagesFCGI": "messages", "DeliveryFCGI": "delivery", "mock providers": "mock-p1"}[name]
            pid = self.stack_process(key, marker)
            if pid is not None:
                ticks[name] = processes.tree_ticks(pid)
        other = self.stack_process("mock-p2", "MockProvider")
        if other is not None and "mock providers" in ticks:
            ticks["mock providers"] += processes.tree_ticks(other)
        if self.loop is not None:
            ticks["SenderCron"] = processes.tree_ticks(self.loop.pid)
        ticks["PostgreSQL"] = processes.tree_ticks(self.postmaster)
        return ticks

    def whole_loop_counters(self):
        """Each table's rows inserted, updated, updated HOT and deleted so far, and the index
        entries those took at most (every index of the table, partial ones included, for each
        row version that was not HOT: an upper bound), partitions summed under their table."""
        rows = self.db("""
            SELECT coalesce(parent.relname, c.relname), sum(s.n_tup_ins), sum(s.n_tup_upd), sum(s.n_tup_hot_upd), sum(s.n_tup_del),
                   sum((s.n_tup_ins + s.n_tup_upd - s.n_tup_hot_upd) * (SELECT count(*) FROM pg_index x WHERE x.indrelid = c.oid))
            FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
            LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class parent ON parent.oid = i.inhparent
            GROUP BY 1""")
        return {line.split("|")[0]: tuple(int(v) for v in line.split("|")[1:]) for line in rows.splitlines()}

    def idle(self):
        """The sender loop idling on an empty queue: what it costs meanwhile (it should sleep
        on LISTEN, waking about once a second)."""
        time.sleep(1)
        sender = self.stack_process("sender", "SenderCron")

        def ticks():
            pids = [self.postmaster] + processes.children_of(self.postmaster) + ([sender] if sender else [])
            return sum(map(processes.cpu_ticks, pids))

        def transactions():
            return int(self.db("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"))

        ticks_before, transactions_before = ticks(), transactions()
        time.sleep(self.s.idle_seconds)
        ticks_after, transactions_after = ticks(), transactions()
        return dict(seconds=self.s.idle_seconds, tps=round((transactions_after - transactions_before - 1) / self.s.idle_seconds),
                    cpu=round(100 * (ticks_after - ticks_before) / os.sysconf("SC_CLK_TCK") / self.s.idle_seconds),
                    queue=self.db("SELECT count(*) FROM jobs"))

    def memory(self):
        """VmRSS now and VmHWM (the process's peak) of every process, after the run."""
        rows = []

        def row(label, pid, limit=None):
            rss, hwm = processes.rss_kib(pid), processes.peak_rss_kib(pid)
            target = "–" if limit is None else f"< {limit // 1024} MiB: {stats.target_below(rss, limit)}"
            rows.append([label, stats.mib(rss), stats.mib(hwm), target])

        nginx = self.stack_process("nginx", self.nginx_conf)
        if nginx:
            for worker in processes.children_of(nginx):
                row("nginx worker", worker)
            row("nginx master", nginx)
        for name, marker in (("messages", "MessagesFCGI"), ("delivery", "DeliveryFCGI"), ("mock-p1", "MockProvider"), ("mock-p2", "MockProvider")):
            mock = name.startswith("mock-")
            label = f"MockProvider {name[5:]} (FastCGI; the test double, not the service)" if mock else f"{marker} (FastCGI)"
            pid = self.stack_process(name, marker)
            if pid:
                row(label, pid, None if mock else FCGI_LIMIT_KIB)
            else:
                rows.append([label, "not running", "–", "–" if mock else "not measured"])
        sender = self.stack_process("sender", "SenderCron")
        if sender:
            row("SenderCron as the timer runs it, after the latency load", sender, SENDER_LIMIT_KIB)
        else:
            rows.append(["SenderCron as the timer runs it", "not running", "–", "not measured"])
        peak = stats.maximum(self.sender_peaks)
        rows.append([f"SenderCron --once, draining {stats.whole(self.s.sender_messages)} (largest of {len(self.sender_peaks)} drains, sampled every 50 ms)",
                     stats.mib(peak), "–", f"< 64 MiB: {stats.target_below(peak, SENDER_LIMIT_KIB)}"])
        row(f"trivial FastCGI responder (bench/trivial_fcgi.c, {FCGI_THREADS} threads)", self.trivial.pid)
        if self.kannel_rss["bearerbox"]:
            rows.append([f"Kannel bearerbox, holding what sendsms accepted (largest of {self.s.reps})", stats.mib(stats.maximum(self.kannel_rss["bearerbox"])), "–", "–"])
            rows.append([f"Kannel smsbox, after the sendsms load (largest of {self.s.reps})", stats.mib(stats.maximum(self.kannel_rss["smsbox"])), "–", "–"])
        return rows

    # --- the run ----------------------------------------------------------------------------

    def measure(self):
        self.dependencies()
        self.bring_up()
        if self.s.only == "whole-loop":
            return self.measure_whole_loop()
        if self.s.use_kannel:
            self.kannel = Kannel(PROJECT, os.path.join(self.s.run_dir, "kannel"), self.s.kannel_ports_from,
                                 f"http://127.0.0.1:{self.s.ceiling_port}/bench/provider-send", self.start, say)
        if self.s.only == "batch":
            return self.measure_batch()
        if self.s.only == "reads":
            return self.measure_reads()
        for rep in range(1, self.s.reps + 1):
            self.repetition(rep)
        self.postmaster = int(open(os.path.join(self.s.run_dir, "pgdata", "postmaster.pid")).readline())
        latency = {"target": self.latency("target", -1)}
        if self.s.callback_ms >= 0:
            latency["callbacks"] = self.latency("callbacks", self.s.callback_ms, webhooks=True)
        idle = self.idle()
        memory = self.memory()
        self.whole_loop_figures = {"empty": self.whole_loop("empty database", empty=True)}
        self.growth_figures = self.growth()
        return self.results(latency, idle, memory)

    def measure_batch(self):
        """BENCH_ONLY=batch: Kannel's sendsms, batch ingest and pgbench's same batches, one after
        the other in each repetition, to measure a change to the batch path without the rest."""
        wrk_load = [f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{self.s.duration}s"]
        for rep in range(1, self.s.reps + 1):
            if self.s.use_kannel:
                say(f"Kannel sendsms {rep}/{self.s.reps}, {self.s.duration} s")
                self.kannel_accepts(rep, wrk_load)
            self.batch(rep, wrk_load)
        self.growth_figures, self.whole_loop_figures = {}, {}
        results = self.results({}, {}, [])
        results["only"] = "batch"
        return results

    def measure_reads(self):
        """BENCH_ONLY=reads: GET /messages/{id} and the trivial FastCGI responder, one after the
        other in each repetition, to measure a change to the read path without the rest."""
        wrk_load = [f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{self.s.duration}s"]
        for rep in range(1, self.s.reps + 1):
            self.reads(rep, wrk_load)
        self.growth_figures, self.whole_loop_figures = {}, {}
        results = self.results({}, {}, [])
        results["only"] = "reads"
        return results

    def measure_whole_loop(self):
        """BENCH_ONLY=whole-loop: the whole loop's rows alone (on an empty database, then over
        BENCH_GROWTH_MESSAGES loaded in SQL), to measure a change to it without the rest."""
        self.postmaster = int(open(os.path.join(self.s.run_dir, "pgdata", "postmaster.pid")).readline())
        self.whole_loop_figures = {"empty": self.whole_loop("empty database", empty=True)}
        say(f"whole loop: loading {self.s.growth_messages} messages of history")
        self.load_history(self.s.growth_messages)
        self.whole_loop_figures["stored"] = self.whole_loop(f"{stats.whole(self.s.growth_messages)} messages stored", empty=False)
        results = self.results({}, {}, [])
        results["only"] = "whole-loop"
        return results

    def results(self, latency, idle, memory):
        model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "unknown CPU")
        memory_gib = int(open("/proc/meminfo").readline().split()[1]) / 1048576
        revision = subprocess.run(["git", "-C", PROJECT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "unknown"
        dirty = subprocess.run(["git", "-C", PROJECT, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        kannel = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "kannel"], capture_output=True, text=True)
        return {
            "command": "make bench" if not self.s.smoke else "BENCH_SMOKE=1 scripts/bench (smoke run: durations too short to mean anything)",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "revision": revision + (" (with uncommitted changes)" if dirty else ""),
            "elapsed": round(time.monotonic() - self.started),
            "machine": f"{os.cpu_count()} cores, {model}, {memory_gib:.0f} GiB RAM, {os.uname().sysname} {os.uname().release}",
            "load": " ".join(open("/proc/loadavg").read().split()[:3]),
            "reps": self.s.reps, "duration": self.s.duration, "wrk_threads": WRK_THREADS, "wrk_connections": WRK_CONNECTIONS,
            "pgbench_clients": PGBENCH_CLIENTS, "fcgi_threads": FCGI_THREADS, "read_messages": self.s.read_messages,
            "sender_messages": self.s.sender_messages, "sender_batch": self.sender_batch, "batch": self.s.batch,
            "kannel_version": kannel.stdout.strip() if kannel.returncode == 0 and kannel.stdout.strip() else "not installed",
            "kannel_note": self.kannel_note, "series": self.series, "latency_rate": self.s.latency_rate,
            "latency_seconds": self.s.latency_seconds, "callback_ms": self.s.callback_ms, "rate_tps": self.s.rate_tps, "latency": latency, "idle": idle,
            "memory": memory, "growth": self.growth_figures, "whole_loop": self.whole_loop_figures, "problems": self.problems, "pgbench_failed": self.pgbench_failed,
            "work_dir": os.path.relpath(self.work, PROJECT),
        }

    # --- growth: the same requests over a small history and a large one ------------------------

    GROWTH_SMALL = 1_000

    # Where the growth table's ingest ceiling runs: an empty database of the same schema.
    CEILING_DATABASE = "texting_ceiling"

    def make_ceiling_database(self):
        """An empty database of the service's schema beside its own, with one API key: the
        growth table's ingest ceiling is pgbench's obvious transaction on its empty tables,
        measured at the same moments as the ingest over each history, so that the machine's
        drift between the two (minutes apart, on a shared machine) cancels out of the ratio.
        Its settings (environment) and the key's id."""
        name = self.CEILING_DATABASE
        env = {**self.env, "PGDATABASE": name,
               "TEXTING_DATABASE_URL": re.sub(r"dbname=\S+", f"dbname={name}", self.env["TEXTING_DATABASE_URL"])}
        self.db(f"DROP DATABASE IF EXISTS {name}", admin=True)
        self.db(f"CREATE DATABASE {name} OWNER texting", admin=True)
        self.run([os.path.join(self.bin_dir, "textingctl"), "migrate"], 120, env=env, what="textingctl migrate (ceiling database)")
        self.run([os.path.join(self.bin_dir, "textingctl"), "keys", "create", "ceiling"], 60, env=env, what="textingctl keys create (ceiling)")
        return env, self.db("SELECT id FROM api_keys", env=env)

    def ceiling_ingest(self, name):
        """pgbench's obvious transaction on the ceiling database's emptied tables, as the main
        ingest ceiling runs it: transactions per second."""
        env, owner = self.ceiling
        self.db(f"TRUNCATE {MESSAGE_TABLES}", env=env)
        return self.pgbench(name, self.s.duration + 30, "-n", "-M", "prepared", "-c", str(PGBENCH_CLIENTS), "-j", "2", "-T", str(self.s.duration),
                            "-D", f"owner={owner}", "-f", os.path.join(PROJECT, "bench", "pgbench_obvious.sql"), env=env)

    # Days the loaded history spans: about fifteen spans of messages' partitions (migration 0016).
    GROWTH_DAYS = 360

    def load_history(self, count):
        """`count` finished messages of the bench key (as years of traffic leave them: 97 %
        delivered, 2 % failed, 1 % sent), four to a number, made evenly over the last
        GROWTH_DAYS days (public ids, ids and created_at of their time, as the service makes
        them, so in the partitions of their spans, made first; each number first seen with its
        first message), written in SQL a million at a time; analyzed and checkpointed."""
        self.reset_data()
        self.db(f"""SELECT count(create_history_partition(p, s))
                    FROM generate_series(history_span_of(now() - interval '{self.GROWTH_DAYS} days'), history_span_of(now())) s
                    CROSS JOIN unnest(ARRAY['messages', 'delivery_events']) p""")
        first_ms = int(self.db("SELECT epoch_ms(now())")) - self.GROWTH_DAYS * 86_400_000
        step = self.GROWTH_DAYS * 86_400_000 / max(count, 1)
        for start in range(0, count, 1_000_000):
            n = min(1_000_000, count - start)
            self.db(f"""WITH n AS (
                    INSERT INTO phone_numbers (number, created_at)
                    SELECT '+1557' || lpad(g::text, 7, '0'), to_timestamp(({first_ms} + floor((4 * g - 4) * {step})::bigint) / 1000.0)
                    FROM generate_series({start // 4 + 1}, {(start + n + 3) // 4}) g RETURNING id, number
                ), numbered AS (
                    SELECT id, row_number() OVER (ORDER BY number) AS k FROM n
                )
                INSERT INTO messages (id, public_id, phone_number_id, body, encoding, segments, api_key_id, status, provider, attempts, created_at, sent_at,
                                      delivered_at)
                SELECT message_id_for(t.u), t.u, id, left('{TEXT}', 60), 'GSM-7', 1, {self.owner},
                       (CASE WHEN (k * 4 + g) % 100 < 2 THEN 'failed' WHEN (k * 4 + g) % 100 < 3 THEN 'sent' ELSE 'delivered' END)::message_status,
                       'p1', 1, to_timestamp(t.ms / 1000.0), to_timestamp(t.ms / 1000.0), to_timestamp(t.ms / 1000.0)
                FROM numbered CROSS JOIN generate_series(0, 3) g
                CROSS JOIN LATERAL (SELECT {first_ms} + floor(({start} + k * 4 + g - 4) * {step})::bigint AS ms) made
                CROSS JOIN LATERAL (SELECT made.ms, uuid_v7_at(made.ms) AS u) t
                WHERE k * 4 + g - 4 < {n}""")
        self.db("SELECT compact_status_counts()")
        self.db("VACUUM ANALYZE phone_numbers")  # one statement per psql -c: VACUUM cannot run in a transaction block
        self.db("VACUUM ANALYZE messages")
        self.db("CHECKPOINT", admin=True)
        # And whatever else the load left for the disk (a run over the large history once
        # stalled for 40 s right after it).
        os.sync()

    def drop_oldest_span(self):
        """Retention at work over the large history: `textingctl partitions maintain` with the
        retention that puts exactly the oldest span of messages past it (about 25 days of
        them), timed, while wrk ingests; the ingest rate meanwhile, and what was dropped."""
        oldest = self.db("""SELECT span || ' ' || floor(extract(epoch FROM now() - ends_at) / 86400)::bigint || ' ' || name
                            FROM history_partitions WHERE parent = 'messages' AND span > 0 ORDER BY span LIMIT 1""").split()
        span, days, name = int(oldest[0]), int(oldest[1]), oldest[2]
        messages = int(self.db(f"SELECT count(*) FROM {name}"))
        say(f"growth: dropping the oldest span ({name}, {messages} messages) with TEXTING_RETENTION_DAYS={days} while wrk ingests")
        path = self.out("growth-ingest-drop.txt")
        wrk = self.start(["timeout", "--kill-after=5", str(self.s.duration + 30), "wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}",
                          f"-d{self.s.duration}s", "-s", os.path.join(PROJECT, "bench", "ingest.lua"), f"http://127.0.0.1:{self.s.port}",
                          "--", self.api_key, str(96_000_000)], path)
        time.sleep(min(2, self.s.duration / 3))
        started = time.monotonic()
        result = self.run([os.path.join(self.bin_dir, "textingctl"), "partitions", "maintain"], 300,
                          env={**self.env, "TEXTING_RETENTION_DAYS": str(days)}, check=False)
        seconds = time.monotonic() - started
        wrk.wait(timeout=self.s.duration + 60)
        if result.returncode != 0 or name not in result.stdout:
            self.problems.append(f"growth: textingctl partitions maintain did not drop {name}: {result.stdout.strip()} {result.stderr.strip()}")
        if span in {int(x) for x in self.db("SELECT span FROM history_partitions WHERE parent = 'messages'").split()}:
            self.problems.append(f"growth: span {span} is still there after the retention run")
        match = re.search(r"^Requests/sec:\s*([0-9.]+)", open(path).read(), re.M)
        if not match:
            raise BenchError(f"no Requests/sec in {path}")
        rate = float(match.group(1))
        self.wrk_answers("growth-ingest-drop", "growth ingest while a span is dropped", 201)
        return {"seconds": round(seconds, 3), "messages": messages, "partition": name, "days": days, "ingest": rate,
                "ceiling": self.ceiling_ingest("growth-ceiling-drop"), "output": result.stdout.strip()}

    def timed_gets(self, paths, rounds=1):
        """Milliseconds of each GET, one at a time (the latency of a lone request, not a load)."""
        headers = {"Authorization": f"Bearer {self.api_key}"}
        times = []
        for _ in range(rounds):
            for path in paths:
                started = time.monotonic()
                status, _ = self.http(f"http://127.0.0.1:{self.s.port}{path}", headers=headers)
                times.append((time.monotonic() - started) * 1000)
                if status != 200:
                    self.problems.append(f"growth: GET {path} answered {status}")
        return times

    def growth_requests(self, label):
        """Each request's median over repeated single requests, and the ingest rate (wrk)."""
        s = self.s
        ids = self.db("SELECT public_id FROM messages TABLESAMPLE SYSTEM (1) LIMIT 200").split() or \
            self.db("SELECT public_id FROM messages LIMIT 200").split()
        number = self.db(f"SELECT number FROM phone_numbers ORDER BY id DESC LIMIT 1 OFFSET {self.GROWTH_SMALL // 8}")
        rounds = 2 if s.smoke else 20
        number_query = number.replace('+', '%2B')
        # One untimed pass first: the first requests after a load (cold caches, plans not yet
        # made by these workers) would otherwise count against the smaller history only.
        self.timed_gets([f"/messages/{i}" for i in ids[:20]] + ["/messages?limit=20", "/messages?status=failed&limit=20",
                        f"/messages?to_number={number_query}&limit=20", "/metrics"])
        figures = {
            "get": stats.median(self.timed_gets([f"/messages/{i}" for i in ids])),
            "list": stats.median(self.timed_gets(["/messages?limit=20"], rounds)),
            "list_failed": stats.median(self.timed_gets(["/messages?status=failed&limit=20"], rounds)),
            "list_queued": stats.median(self.timed_gets(["/messages?status=queued&limit=20"], rounds)),
            "list_number": stats.median(self.timed_gets([f"/messages?to_number={number_query}&limit=20"], rounds)),
            "list_number_status": stats.median(self.timed_gets([f"/messages?to_number={number_query}&status=delivered&limit=20"], rounds)),
        }
        headers = {}
        scrapes = []
        for _ in range(rounds):
            started = time.monotonic()
            status, _ = self.http(f"http://127.0.0.1:{s.port}/metrics", headers=headers)
            scrapes.append((time.monotonic() - started) * 1000)
            if status != 200:
                self.problems.append(f"growth: GET /metrics answered {status}")
        figures["scrape"] = stats.median(scrapes)
        # Ingest a few times over, each run followed by its ceiling (a single 5 s run on this
        # shared machine moved by 20 % from one to the next): the medians, and each run.
        runs, ceilings = [], []
        for run in range(1 if s.smoke else 3):
            name = f"growth-ingest-{label}-{run + 1}"
            runs.append(self.wrk(name, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{s.duration}s",
                                 "-s", os.path.join(PROJECT, "bench", "ingest.lua"), f"http://127.0.0.1:{s.port}", "--", self.api_key,
                                 str(80_000_000 + (0 if label == "small" else 6_000_000) + run * 2_000_000)))
            self.wrk_answers(name, f"growth ingest over the {label} history", 201)
            ceilings.append(self.ceiling_ingest(f"growth-ceiling-{label}-{run + 1}"))
        figures["ingest"] = stats.median(runs)
        figures["ingest_runs"] = runs
        figures["ceiling"] = stats.median(ceilings)
        figures["ceiling_runs"] = ceilings
        return figures

    def growth(self):
        """Issue 16's growth table: the same requests over a history of GROWTH_SMALL messages
        and of BENCH_GROWTH_MESSAGES, loaded in SQL (not HTTP)."""
        figures = {"messages": self.s.growth_messages, "small_messages": self.GROWTH_SMALL, "days": self.GROWTH_DAYS}
        # Requests alone, as the ingest figure above: the latency runs' sender loop would send
        # what the ingest accepts, on the same cores.
        if self.loop is not None:
            processes.stop(self.loop)
            self.loop = None
        self.ceiling = self.make_ceiling_database()
        for label, count in (("small", self.GROWTH_SMALL), ("large", self.s.growth_messages)):
            say(f"growth: loading {count} messages of history, then single requests, a scrape and {self.s.duration} s of ingest")
            started = time.monotonic()
            self.load_history(count)
            figures[f"{label}_load_seconds"] = round(time.monotonic() - started, 1)
            if label == "large":
                # The whole loop over the history as loaded (vacuumed, checkpointed, no queue);
                # its messages are added to it, a few ‰ of it.
                self.whole_loop_figures["stored"] = self.whole_loop(f"{stats.whole(count)} messages stored", empty=False)
            figures[label] = self.growth_requests(label)
        figures["drop"] = self.drop_oldest_span()
        self.reset_data()
        self.db(f"DROP DATABASE {self.CEILING_DATABASE}", admin=True)
        return figures

    def cleanup(self):
        """Everything this run started, by PID, then the stack (scripts/stack down, by its PID files)."""
        if self.kannel:
            self.kannel.stop()
        for process in reversed(self.children):
            processes.stop(process)
        if os.path.exists(os.path.join(self.s.run_dir, "stack.env")):
            say("stopping the bench stack")
            result = self.run([STACK, "down"], 180, check=False)
            if result.returncode != 0:
                say("scripts/stack down failed")


def locked(path):
    """Runs sharing a folder wait for each other, at most 15 minutes (two `make test` at once
    would share .run/bench-smoke, and each run starts by removing the folder)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lock = open(path, "w")
    deadline = time.monotonic() + 900
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: another scripts/bench run held {path} for 15 minutes; giving up") from None
            time.sleep(1)


def main():
    settings = Settings(os.environ)
    lock = locked(settings.run_dir + ".lock")
    # SIGTERM and SIGINT end the run through its cleanup, like any error.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = Bench(settings)
    status = 0
    try:
        results = bench.measure()
        os.makedirs(os.path.dirname(settings.results_file), exist_ok=True)
        with open(bench.out("results.json"), "w") as f:
            json.dump(results, f, indent=1)
        report = {"whole-loop": render_whole_loop, "batch": render_batch, "reads": render_reads}.get(results.get("only"), render)(results)
        with open(settings.results_file + ".tmp", "w") as f:
            f.write(report)
        os.replace(settings.results_file + ".tmp", settings.results_file)
        print("\n" + report)
        say(f"written to {os.path.relpath(settings.results_file, PROJECT)}; took {results['elapsed']} s")
    except (BenchError, KannelError, MockError, subprocess.TimeoutExpired) as error:
        say(f"error: {error}")
        status = 1
    except KeyboardInterrupt:
        status = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        bench.cleanup()
        lock.close()
    return status


if __name__ == "__main__":
    sys.exit(main())

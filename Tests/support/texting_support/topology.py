"""Several hosts on one machine: network namespaces joined by veth links to a bridge (in a
namespace of its own), so that nginx, the app hosts and PostgreSQL talk over a network as
they would on separate machines, and one host can be killed or cut off alone.

    client 127.77.0.30 ──┐
    edge   127.77.0.20 ──┤  nginx (the shipped site, both app hosts in each upstream) and
                         │  the mock provider
    app1   127.77.0.11 ──┼─ bridge
    app2   127.77.0.12 ──┤  each: MessagesFCGI :9001, DeliveryFCGI :9002 (TEXTING_FCGI_LISTEN,
                         │  serving the edge only), SenderCron (again 0.1 s after each exit)
    db     127.77.0.10 ──┤  PostgreSQL :5432; with `pgbouncer`, PgBouncer :6432 in front of it
    db2    127.77.0.13 ──┘  with `standby`: its synchronous standby, which a failover promotes

The addresses are in 127.0.0.0/8 (route_localnet lets them cross the links): nothing outside
this machine is ever addressed, and nothing in the machine's own network namespace changes.
Everything here is made by `up` and removed by `down`: the namespaces (named after this
process's PID), and the processes, each started by this module and stopped by its PID.
Needs root (namespaces) and the project's binaries; the PostgreSQL cluster runs as the
`postgres` user when root, as scripts/stack does."""
import concurrent.futures
import ctypes
import os
import shutil
import signal
import subprocess
import threading
import time

from texting_support import load_client, mocks, processes
from texting_support.stack import SCRIPT as STACK_SCRIPT

PG_BIN = "/usr/lib/postgresql/15/bin"
PROJECT = os.path.dirname(os.path.dirname(STACK_SCRIPT))
NETWORK = "127.77.0"
HOSTS = {"db": 10, "app1": 11, "app2": 12, "db2": 13, "edge": 20, "client": 30}
DATABASE_HOSTS = ("db", "db2")
APP_HOSTS = ("app1", "app2")
EDGE_PORT, MESSAGES_PORT, DELIVERY_PORT, MOCK_PORT, PG_PORT, PGBOUNCER_PORT = 8080, 9001, 9002, 9101, 5432, 6432


CLONE_NEWNET = 0x40000000
_LIBC = ctypes.CDLL(None, use_errno=True)


class TopologyError(Exception):
    pass


def available():
    """Why the topology cannot be made here, or None: it needs root (network namespaces) and `ip`."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    return None


class Repeating:
    """A program started again a tenth of a second after each exit, as texting-sender.timer
    runs SenderCron (OnUnitInactiveSec=100ms: a run that ended, or aborted because the
    database went away, is followed by the next). Stands in for its Popen where this module and
    processes.stop use one: running (poll() is None) until stopped by a signal or kill."""

    def __init__(self, spawn):
        self._spawn = spawn
        self._lock = threading.Lock()
        self._stopped = False
        self.current = spawn()
        self.runs = 1
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            self.current.wait()
            deadline = time.monotonic() + 0.1
            while time.monotonic() < deadline:
                if self._stopped:
                    return
                time.sleep(0.05)
            with self._lock:
                if self._stopped:
                    return
                self.current = self._spawn()
                self.runs += 1

    @property
    def pid(self):
        return self.current.pid

    @property
    def returncode(self):
        return self.current.returncode

    def poll(self):
        with self._lock:
            return self.current.poll() if self._stopped else None

    def send_signal(self, sig):
        with self._lock:
            self._stopped = True
            self.current.send_signal(sig)

    def kill(self):
        with self._lock:
            self._stopped = True
            self.current.kill()

    def wait(self, timeout=None):
        return self.current.wait(timeout=timeout)


class Topology:
    def __init__(self, work_dir, bin_dir, settings=None, standby=False, pgbouncer=False):
        """`standby`: a second database host (db2) streaming from db as its synchronous
        standby, and the services given both (libpq's multi-host conninfo, read-write).
        `pgbouncer`: the shipped deploy/pgbouncer.ini's PgBouncer on the database host, in
        transaction mode, between the FastCGI processes and PostgreSQL; the senders and the
        migrator connect to PostgreSQL itself (TEXTING_DATABASE_DIRECT_URL)."""
        if standby and pgbouncer:
            raise TopologyError("a PgBouncer that follows a failover is not part of this topology")
        self.work = work_dir
        self.bin = bin_dir
        self.standby = standby
        self.pgbouncer = pgbouncer
        self.tag = f"tx{os.getpid() % 100000}"
        self.settings = dict(settings or {})
        self.started = []  # (host, name, Popen), in start order
        self.killed = set()  # PIDs kill_host ended on purpose
        self.namespaces = []
        self.secret = os.urandom(32).hex()
        self._connection = None

    # --- addresses and commands ------------------------------------------------------------

    @staticmethod
    def address(host):
        return f"{NETWORK}.{HOSTS[host]}"

    def namespace(self, host):
        return f"{self.tag}-{host}"

    @property
    def url(self):
        """The service's address as clients see it: the edge's nginx."""
        return f"http://{self.address('edge')}:{EDGE_PORT}"

    @property
    def database_url(self):
        """What the services are given: the database host, or with a standby both, libpq
        finding the one that takes writes (as a deployment behind Patroni would, without a
        virtual IP)."""
        hosts = ",".join(self.address(h) for h in (DATABASE_HOSTS if self.standby else DATABASE_HOSTS[:1]))
        return f"host={hosts} port={PG_PORT} dbname=texting user=texting target_session_attrs=read-write connect_timeout=3"

    def service_env(self):
        """The settings every app host's processes get (as its texting.env would hold)."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TEXTING_DATABASE_URL": self.database_url,
            "TEXTING_PUBLIC_BASE_URL": self.url,
            "TEXTING_CALLBACK_SECRET": self.secret,
            "TEXTING_PROVIDERS": f"p1=http://{self.address('edge')}:{MOCK_PORT}/send",
            "TEXTING_DEFAULT_COUNTRY_CODE": "1",
            "TEXTING_MIGRATIONS_DIR": os.path.join(PROJECT, "migrations"),
            "TEXTING_FCGI_THREADS": "8",
            "TEXTING_WEBHOOK_ALLOW_HTTP": "on",
            "TEXTING_WEBHOOK_DESTINATIONS": "local",
        }
        if self.pgbouncer:
            env.update({
                "TEXTING_DATABASE_URL": f"host={self.address('db')} port={PGBOUNCER_PORT} dbname=texting user=texting connect_timeout=3",
                "TEXTING_DATABASE_PREPARED_STATEMENTS": "off",
                "TEXTING_DATABASE_DIRECT_URL": self.database_url,
            })
        env.update(self.settings)
        return env

    def _ip(self, *arguments):
        result = subprocess.run(["ip", *arguments], capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise TopologyError(f"ip {' '.join(arguments)}: {result.stderr.strip()}")

    def _in(self, host, argv):
        return ["ip", "netns", "exec", self.namespace(host), *argv]

    def run(self, host, argv, env=None, timeout=120, check=True):
        """Runs a command on `host` to its end, output captured."""
        result = subprocess.run(self._in(host, argv), capture_output=True, text=True, timeout=timeout, env=env,
                                stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise TopologyError(f"{host}: {' '.join(argv)} exited {result.returncode}: {result.stderr.strip()[-2000:]}")
        return result

    def log_path(self, host, name):
        return os.path.join(self.work, "log", f"{host}-{name}.log")

    def _spawn(self, host, name, argv, env=None):
        log = open(self.log_path(host, name), "ab")
        try:
            return subprocess.Popen(self._in(host, argv), env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()

    def start(self, host, name, argv, env=None, again=False):
        """Starts a long-running process on `host` (its own session, output to its log);
        `ip netns exec` execs the command, so the PID is the program's own. `again`: started
        again a tenth of a second after each exit, as texting-sender.timer does."""
        process = Repeating(lambda: self._spawn(host, name, argv, env)) if again else self._spawn(host, name, argv, env)
        self.started.append((host, name, process))
        return process

    def process(self, host, name):
        return next(p for h, n, p in reversed(self.started) if h == host and n == name)

    # --- up ----------------------------------------------------------------------------------

    def up(self):
        """Every host, in order: the network, PostgreSQL, migrations, the app hosts, the edge;
        returns once nginx answers through both app hosts. On failure, `down` still cleans up."""
        os.makedirs(os.path.join(self.work, "log"), exist_ok=True)
        os.chmod(self.work, 0o755)
        self._network()
        self._database()
        self.run("app1", [os.path.join(self.bin, "textingctl"), "migrate"], env=self.service_env())
        for host in APP_HOSTS:
            self.start_app(host)
        self._edge()
        self._wait(lambda: self.http_status(f"{self.url}/messages") == 401, "nginx to answer through the app hosts")

    def _network(self):
        switch = self.namespace("switch")
        self._ip("netns", "add", switch)
        self.namespaces.append(switch)
        self._ip("-n", switch, "link", "add", "br0", "type", "bridge")
        self._ip("-n", switch, "link", "set", "br0", "up")
        for index, host in enumerate(h for h in HOSTS if self.standby or h != "db2"):
            namespace = self.namespace(host)
            self._ip("netns", "add", namespace)
            self.namespaces.append(namespace)
            # Interface names hold at most 15 characters: the tag, the host's index, a side.
            outer, inner = f"{self.tag}{index}s", f"{self.tag}{index}h"
            self._ip("link", "add", outer, "type", "veth", "peer", "name", inner)
            self._ip("link", "set", outer, "netns", switch)
            self._ip("link", "set", inner, "netns", namespace)
            self._ip("-n", switch, "link", "set", outer, "master", "br0", "up")
            self._ip("-n", namespace, "link", "set", inner, "name", "eth0")
            self._ip("-n", namespace, "link", "set", "lo", "up")
            self._ip("-n", namespace, "link", "set", "eth0", "up")
            self.run(host, ["sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet && "
                                        "echo 1 > /proc/sys/net/ipv4/conf/eth0/route_localnet"])
            self._ip("-n", namespace, "address", "add", f"{self.address(host)}/24", "dev", "eth0")

    def _as_postgres(self, argv):
        """PostgreSQL refuses to run as root: as the `postgres` user then, as scripts/stack does."""
        if os.geteuid() == 0:
            return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *argv]
        return argv

    def data_dir(self, host):
        return os.path.join(self.work, host, "pgdata")

    def _database_folders(self, host):
        data, sockets = self.data_dir(host), os.path.join(self.work, host, "sock")
        os.makedirs(data, mode=0o700)
        os.makedirs(sockets)
        if os.geteuid() == 0:
            for path in (os.path.dirname(data), data, sockets):
                shutil.chown(path, "postgres", "postgres")

    def _database(self):
        self._database_folders("db")
        # Checksums: pg_rewind needs them (or wal_log_hints) to bring a failed primary back.
        self.run("db", self._as_postgres([f"{PG_BIN}/initdb", "-D", self.data_dir("db"), "--auth=trust", "-U", "postgres", "--encoding=UTF8",
                                          "--locale=C.UTF-8", "--no-sync", "--data-checksums"]))
        with open(os.path.join(self.data_dir("db"), "pg_hba.conf"), "a", encoding="utf-8") as hba:
            hba.write(f"host all all {NETWORK}.0/24 trust\nhost replication all {NETWORK}.0/24 trust\n")
        with open(os.path.join(self.data_dir("db"), "postgresql.conf"), "a", encoding="utf-8") as conf:
            conf.write("max_connections = 200\nfsync = on\nwal_keep_size = '256MB'\nsynchronous_commit = on\n")
        self.start_database("db")
        self._wait(lambda: self.psql("db", "SELECT 1", check=False).returncode == 0, "PostgreSQL to accept connections")
        self.psql("db", "CREATE ROLE texting LOGIN", "CREATE DATABASE texting OWNER texting")
        if self.standby:
            self._database_folders("db2")
            os.rmdir(self.data_dir("db2"))  # pg_basebackup makes it
            self.run("db2", self._as_postgres([f"{PG_BIN}/pg_basebackup", "-h", self.address("db"), "-p", str(PG_PORT), "-U", "postgres",
                                               "-D", self.data_dir("db2"), "-R", "-X", "stream", "--checkpoint=fast"]))
            self.start_database("db2")
            self._make_synchronous("db")
        if self.pgbouncer:
            self.run("db", ["psql", "-X", "-q", "-h", self.address("db"), "-p", str(PG_PORT), "-U", "postgres", "-d", "postgres",
                            "-v", "ON_ERROR_STOP=1", "-f", os.path.join(PROJECT, "deploy", "pgbouncer-role.sql")])
            self.start_pgbouncer()
            self._wait(lambda: self.run("db", ["psql", "-X", "-q", "-h", self.address("db"), "-p", str(PGBOUNCER_PORT), "-U", "texting",
                                               "-d", "texting", "-c", "SELECT 1"], check=False).returncode == 0,
                       "PgBouncer to accept connections")

    def start_pgbouncer(self):
        """PgBouncer on the database host (as its systemd unit would start it again after a
        crash), configured by scripts/stack render-pgbouncer from deploy/pgbouncer.ini: its
        address, PostgreSQL's socket folder on this host."""
        rendered = subprocess.run([STACK_SCRIPT, "render-pgbouncer"], capture_output=True, text=True, timeout=60, env={
            **os.environ, "RUN_DIR": os.path.join(self.work, "db"), "LISTEN_HOST": self.address("db"),
            "PGBOUNCER_PORT": str(PGBOUNCER_PORT), "PG_PORT": str(PG_PORT), "PG_HOST": os.path.join(self.work, "db", "sock")})
        if rendered.returncode != 0:
            raise TopologyError(f"scripts/stack render-pgbouncer: {rendered.stderr.strip()}")
        conf = rendered.stdout.strip().splitlines()[-1]
        user = ["-u", "postgres"] if os.geteuid() == 0 else []
        return self.start("db", "pgbouncer", ["/usr/sbin/pgbouncer", *user, conf])

    def start_database(self, host):
        """The host's PostgreSQL (its data folder as made by up, or by rejoin), listening on
        the host's address."""
        return self.start(host, "postgres", self._as_postgres([
            f"{PG_BIN}/postgres", "-D", self.data_dir(host), "-c", f"listen_addresses={self.address(host)}", "-p", str(PG_PORT),
            "-c", f"unix_socket_directories={os.path.join(self.work, host, 'sock')}"]))

    def psql(self, host, *statements, check=True):
        """Statements as the superuser on `host`'s server, run from that host."""
        arguments = [a for statement in statements for a in ("-c", statement)]
        return self.run(host, ["psql", "-X", "-q", "-At", "-h", self.address(host), "-p", str(PG_PORT), "-U", "postgres", "-d", "postgres",
                               "-v", "ON_ERROR_STOP=1", *arguments], check=check)

    def replicating(self, primary, sync_state="sync"):
        """Whether a standby streams from `primary` (in that sync_state: sync, or async or
        potential before synchronous_standby_names names it)."""
        states = "('async', 'potential')" if sync_state == "potential" else f"('{sync_state}')"
        result = self.psql(primary, f"SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND sync_state IN {states}",
                           check=False)
        return result.returncode == 0 and result.stdout.strip() not in ("", "0")

    # --- failover, as a manager such as Patroni drives it ----------------------------------------

    def promote(self, host):
        """Promotes the standby on `host` (pg_ctl promote, waiting until it takes writes), and,
        having no standby of its own yet, lets it commit without one (Patroni's
        synchronous_mode does the same until a standby is back)."""
        self.run(host, self._as_postgres([f"{PG_BIN}/pg_ctl", "promote", "-w", "-t", "60", "-D", self.data_dir(host)]))
        self.psql(host, "ALTER SYSTEM SET synchronous_standby_names = ''", "SELECT pg_reload_conf()")

    def rejoin(self, host, primary):
        """Brings the failed primary on `host` back as the standby of `primary`: pg_rewind (it
        finishes the crash recovery first), recovery settings written (-R), started; then
        `primary` waits for it again before acknowledging a commit."""
        # A promoted server records its new timeline in its control file at its next
        # checkpoint; until then pg_rewind sees one timeline and rewinds nothing.
        self.psql(primary, "CHECKPOINT")
        self.run(host, self._as_postgres([
            f"{PG_BIN}/pg_rewind", "-D", self.data_dir(host), "-R",
            f"--source-server=host={self.address(primary)} port={PG_PORT} user=postgres dbname=postgres"]), timeout=300)
        self.start_database(host)
        self._make_synchronous(primary)

    def _make_synchronous(self, primary):
        """Once a standby streams from `primary`, a commit there is acknowledged only when the
        standby has it too (synchronous_commit = on), so a failover loses nothing a client was
        answered 201 for. Set only then: a primary waiting for a standby that is not there
        yet would hold every commit."""
        self._wait(lambda: self.replicating(primary, "potential"), f"a standby to stream from {primary}")
        self.psql(primary, "ALTER SYSTEM SET synchronous_standby_names = '*'", "SELECT pg_reload_conf()")
        self._wait(lambda: self.replicating(primary), f"{primary}'s standby to be synchronous")

    def start_app(self, host):
        """MessagesFCGI and DeliveryFCGI on TCP, serving the edge only, and a sender."""
        env = self.service_env()
        edge = self.address("edge")
        for name, port in (("MessagesFCGI", MESSAGES_PORT), ("DeliveryFCGI", DELIVERY_PORT)):
            self.start(host, name, [os.path.join(self.bin, name)],
                       env={**env, "TEXTING_FCGI_LISTEN": f"{self.address(host)}:{port}", "TEXTING_FCGI_PEERS": edge})
        self.start(host, "SenderCron", [os.path.join(self.bin, "SenderCron")], env=env, again=True)

    def _edge(self):
        edge = os.path.join(self.work, "edge")
        app_addresses = [self.address(h) for h in APP_HOSTS]
        stack_env = {
            **os.environ, "RUN_DIR": edge, "PORT": str(EDGE_PORT), "LISTEN_HOST": self.address("edge"), "MOCK_PORTS": str(MOCK_PORT),
            "MESSAGES_UPSTREAMS": " ".join(f"{a}:{MESSAGES_PORT}" for a in app_addresses),
            "DELIVERY_UPSTREAMS": " ".join(f"{a}:{DELIVERY_PORT}" for a in app_addresses),
        }
        rendered = subprocess.run([STACK_SCRIPT, "render-nginx"], capture_output=True, text=True, timeout=60, env=stack_env)
        if rendered.returncode != 0:
            raise TopologyError(f"scripts/stack render-nginx: {rendered.stderr.strip()}")
        conf = rendered.stdout.strip().splitlines()[-1]
        self.start("edge", "MockProvider", [os.path.join(self.bin, "MockProvider")], env={
            "PATH": os.environ.get("PATH", ""), "MOCK_NAME": "p1", "TEXTING_CALLBACK_SECRET": self.secret,
            "TEXTING_PUBLIC_BASE_URL": self.url, "TEXTING_FCGI_SOCKET": os.path.join(edge, "sock", "mock-p1.sock")})
        self.start("edge", "nginx", ["/usr/sbin/nginx", "-e", os.path.join(edge, "log", "nginx-error.log"), "-c", conf,
                                     "-p", os.path.dirname(conf)])

    def _wait(self, predicate, what, timeout=60):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TopologyError(f"timed out waiting for {what} (logs: {os.path.join(self.work, 'log')})")
            for host, name, process in self.started:
                if process.poll() is not None and process.pid not in self.killed:
                    raise TopologyError(f"{name} on {host} exited with {process.returncode} while waiting for {what} "
                                        f"(log: {self.log_path(host, name)})")
            time.sleep(0.2)

    def http_status(self, url, host="client"):
        """The status of a GET from `host` (the client, by default), or None when unreachable."""
        result = self.run(host, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3", url], check=False)
        return int(result.stdout) if result.stdout.strip().isdigit() and result.stdout.strip() != "000" else None

    # --- faults ------------------------------------------------------------------------------

    def kill(self, host, name, sig=signal.SIGKILL):
        """The process `name` on `host` ended with `sig` (SIGKILL: it crashed; SIGQUIT to a
        postmaster: PostgreSQL's immediate shutdown, as a crash to its data); waits for its
        exit and returns the wall-clock time the signal was sent."""
        process = self.process(host, name)
        self.killed.add(process.pid)
        sent = time.time()
        process.send_signal(sig)
        process.wait(timeout=60)
        return sent

    def kill_host(self, host):
        """Every process this topology runs on `host`, SIGKILLed at once (the host died; a
        database host's server processes die with their postmaster)."""
        victims = [p for h, _, p in self.started if h == host and p.poll() is None]
        for process in victims:
            self.killed.add(process.pid)
            process.kill()
        for process in victims:
            process.wait(timeout=30)
        return len(victims)

    def requests_served(self, host):
        """POST /messages requests the app host's MessagesFCGI logged (one line each, over
        every start of it)."""
        with open(self.log_path(host, "MessagesFCGI"), encoding="utf-8", errors="replace") as log:
            return sum(1 for line in log if "method=POST path=/messages " in line)

    # --- queries -----------------------------------------------------------------------------

    def sql(self, statement, *parameters):
        """One statement's rows, on a connection of this process's made from an app host to
        whichever database host takes writes (made again once, after a failover)."""
        import psycopg
        for attempt in range(2):
            try:
                if self._connection is None or self._connection.closed:
                    self._connection = self.connect()
                return self._connection.execute(statement, parameters).fetchall()
            except psycopg.OperationalError:
                if attempt == 1:
                    raise
                self._connection = None

    def textingctl(self, *arguments, host="app2"):
        return self.run(host, [os.path.join(self.bin, "textingctl"), *arguments], env=self.service_env()).stdout

    def in_namespace(self, host, function, *arguments):
        """Starts `function(*arguments)` on a thread of this process moved into `host`'s network
        namespace (setns): the sockets it opens (and the threads it starts) are that host's,
        and stay usable from any thread afterwards. Returns a Future."""
        future = concurrent.futures.Future()
        path = f"/run/netns/{self.namespace(host)}"

        def body():
            try:
                descriptor = os.open(path, os.O_RDONLY)
                try:
                    if _LIBC.setns(descriptor, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), f"setns into {path} failed")
                finally:
                    os.close(descriptor)
                future.set_result(function(*arguments))
            except BaseException as error:  # noqa: B036 (handed to the caller)
                future.set_exception(error)

        threading.Thread(target=body, daemon=True, name=f"in-{host}").start()
        return future

    def on(self, host, function, *arguments, timeout=300):
        """`function(*arguments)` run in `host`'s network namespace, to its end."""
        return self.in_namespace(host, function, *arguments).result(timeout=timeout)

    def connect(self):
        """A psycopg connection to the topology's database (made from an app host), autocommit."""
        import psycopg
        return self.on("app2", lambda: psycopg.connect(self.database_url, autocommit=True, prepare_threshold=None))

    def start_load(self, key, seconds, rate, threads=8):
        """POST /messages from the client host for `seconds` at about `rate` requests a second
        (bounded: at most rate × seconds requests), in the background: a Future of
        load_client.run's result (each answer, the ids answered 201)."""
        return self.in_namespace("client", load_client.run, self.url, key, seconds, rate, threads)

    def load(self, key, seconds, rate, threads=8):
        """The same, to its end."""
        return self.start_load(key, seconds, rate, threads).result(timeout=seconds + 120)

    @property
    def mocks(self):
        """The mock provider, controlled over HTTP: call its methods through `on("client", …)`."""
        return mocks.Mocks({"p1": f"http://{self.address('edge')}:{MOCK_PORT}"}, {})

    # --- down --------------------------------------------------------------------------------

    def down(self):
        """Stops every process started here, by PID (nginx first, PostgreSQL last), then
        removes the namespaces, and with them the links and addresses."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        for host, name, process in sorted(reversed(self.started), key=lambda s: s[1] == "postgres"):
            if name == "postgres" and process.poll() is None:
                process.send_signal(signal.SIGINT)  # fast shutdown
            processes.stop(process)
        self.started = []
        for namespace in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=30)
        self.namespaces = []

    def __enter__(self):
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *_):
        self.down()

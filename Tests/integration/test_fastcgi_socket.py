"""The FastCGI processes' own sockets, spoken to directly (not through nginx), as any process
in the socket's group could: nonsense parameters are answered 400 with a problem document,
malformed records and abrupt closes cost nothing, and the process stays the same process
(same PID) with nginx's /healthz still 200. And SIGTERM twice during a drain: every request
in hand is answered in full, and the process exits 0."""
import errno
import json
import os
import random
import signal
import socket
import struct
import subprocess
import threading
import time

import psycopg
import pytest
import requests

from conftest import BASE_URL, BIN, DATABASE_URL, RUN_DIR, STACK_ENV, create_api_key, new_number, wait_for

# FastCGI 1.0 record types and roles.
VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR, DATA, GET_VALUES = 1, 2, 3, 4, 5, 6, 7, 8, 9
UNKNOWN_TYPE = 11
RESPONDER = 1
KEEP_CONN = 1


# -- A small FastCGI client -------------------------------------------------------------------

def record(kind, request_id, content=b"", padding=0, version=VERSION, declared_length=None):
    """One record: header (version, type, request id, content length, padding length), content, padding."""
    length = len(content) if declared_length is None else declared_length
    return struct.pack(">BBHHBx", version, kind, request_id, length, padding) + content + b"\0" * padding


def encode_length(n, long_form=False):
    """A name-value length: one byte below 128, else four bytes with the top bit set."""
    return struct.pack(">I", n | 0x80000000) if long_form or n > 127 else bytes([n])


def name_value(name, value, long_form=False):
    name = name.encode() if isinstance(name, str) else name
    value = value.encode() if isinstance(value, str) else value
    return encode_length(len(name), long_form) + encode_length(len(value), long_form) + name + value


def begin(request_id=1, flags=0, role=RESPONDER):
    return record(BEGIN_REQUEST, request_id, struct.pack(">HB5x", role, flags))


def params_stream(pairs, request_id=1, long_form=False):
    """PARAMS records (split at 65535 bytes) and the empty one that ends them."""
    data = b"".join(name_value(n, v, long_form) for n, v in pairs)
    chunks = [data[i:i + 65535] for i in range(0, len(data), 65535)]
    return b"".join(record(PARAMS, request_id, c) for c in chunks) + record(PARAMS, request_id)


def stdin_stream(body, request_id=1):
    return (record(STDIN, request_id, body) if body else b"") + record(STDIN, request_id)


def base_params(method="GET", path="/healthz", content_length="", query=""):
    """What nginx sends (fastcgi_params and deploy/nginx.conf's own), as an ordered list."""
    return [("QUERY_STRING", query), ("REQUEST_METHOD", method), ("CONTENT_TYPE", ""),
            ("CONTENT_LENGTH", content_length), ("SCRIPT_NAME", path), ("REQUEST_URI", path),
            ("DOCUMENT_URI", path), ("DOCUMENT_ROOT", "/etc/nginx/html"), ("SERVER_PROTOCOL", "HTTP/1.1"),
            ("REQUEST_SCHEME", "http"), ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "nginx"),
            ("REMOTE_ADDR", "127.0.0.1"), ("REMOTE_PORT", "40000"), ("SERVER_ADDR", "127.0.0.1"),
            ("SERVER_PORT", "80"), ("SERVER_NAME", "_"), ("REQUEST_ID", "0123456789abcdef0123456789abcdef"),
            ("HTTP_HOST", "127.0.0.1"), ("HTTP_USER_AGENT", "test_fastcgi_socket")]


def with_param(pairs, name, value):
    """pairs with name's value replaced, or name added (name's bytes may be any)."""
    if not any(n == name for n, _ in pairs):
        return pairs + [(name, value)]
    return [(n, value if n == name else v) for n, v in pairs]


def request_bytes(pairs, body=b"", request_id=1):
    return begin(request_id) + params_stream(pairs, request_id) + stdin_stream(body, request_id)


class Answer:
    """What came back on one connection, records parsed as far as they are whole."""

    def __init__(self, data):
        self.data = data
        self.records = []
        offset = 0
        while offset + 8 <= len(data):
            version, kind, request_id, length, padding = struct.unpack(">BBHHBx", data[offset:offset + 8])
            if offset + 8 + length + padding > len(data):
                break
            self.records.append((kind, request_id, data[offset + 8:offset + 8 + length]))
            offset += 8 + length + padding

    def stdout(self, request_id=1):
        return b"".join(c for k, r, c in self.records if k == STDOUT and r == request_id)

    def ended(self, request_id=1):
        return any(k == END_REQUEST and r == request_id for k, r, c in self.records)

    @property
    def status(self):
        head = self.stdout().split(b"\r\n", 1)[0]
        return int(head.split()[1]) if head.startswith(b"Status: ") else None

    @property
    def complete(self):
        """A whole answer: an END_REQUEST, a status line and as many body bytes as its Content-Length."""
        out = self.stdout()
        if not self.ended() or self.status is None or b"\r\n\r\n" not in out:
            return False
        head, body = out.split(b"\r\n\r\n", 1)
        lengths = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
        return not lengths or lengths[0] == len(body)

    def problem(self):
        return json.loads(self.stdout().split(b"\r\n\r\n", 1)[1])


def exchange(path, data, timeout=10.0, close_write=True, source=None):
    """Sends data on a new connection to the socket at path (or a TCP (host, port), from the
    address `source` if given) and reads until the server closes (or timeout: then what
    arrived). The server may close before reading everything: fine."""
    sock = socket.socket(socket.AF_INET if isinstance(path, tuple) else socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    received = b""
    try:
        if source:
            sock.bind((source, 0))
        sock.connect(path)
        try:
            sock.sendall(data)
            if close_write:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except OSError as error:  # closed by the server before the shutdown (ENOTCONN)
            if error.errno != errno.ENOTCONN:
                raise
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            received += chunk
    finally:
        sock.close()
    return Answer(received)


# -- The processes under test -----------------------------------------------------------------

SERVICES = {"messages": "MessagesFCGI", "delivery": "DeliveryFCGI"}


def socket_path(service):
    return os.path.join(RUN_DIR, "sock", f"{service}.sock")


def pid_of(service):
    with open(os.path.join(RUN_DIR, "pids", f"{service}.pid")) as f:
        return int(f.read().strip())


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def assert_still_serving(pids):
    """Each process is the one we started with, and nginx still answers /healthz 200."""
    for service, pid in pids.items():
        assert alive(pid), f"{SERVICES[service]} (pid {pid}) died"
        assert pid_of(service) == pid, f"{SERVICES[service]} was restarted"
    response = requests.get(f"{BASE_URL}/healthz", timeout=10)
    assert response.status_code == 200, response.text


@pytest.fixture
def pids():
    found = {service: pid_of(service) for service in SERVICES}
    for service, pid in found.items():
        assert alive(pid), f"{SERVICES[service]} is not running before the test"
    yield found
    assert_still_serving(found)


def test_client_speaks_fastcgi_a_plain_request_is_answered(pids):
    answer = exchange(socket_path("messages"), request_bytes(base_params()))
    assert answer.complete and answer.status == 200, answer.data[:300]


# -- Nonsense parameters: 400 problem documents -----------------------------------------------

NONSENSE = [
    ("CONTENT_LENGTH", "-1"),
    ("CONTENT_LENGTH", "-99999"),
    ("CONTENT_LENGTH", "abc"),
    ("CONTENT_LENGTH", "+5"),
    ("CONTENT_LENGTH", " 5"),
    ("CONTENT_LENGTH", "5 "),
    ("CONTENT_LENGTH", "0x10"),
    ("CONTENT_LENGTH", "99999999999999999999999999999"),
    ("CONTENT_LENGTH", "9223372036854775808"),
    ("REQUEST_METHOD", "GE T"),
    ("REQUEST_METHOD", "GET\r\nX: y"),
    ("REQUEST_METHOD", ""),
    ("REQUEST_METHOD", "G" * 100),
    ("DOCUMENT_URI", "healthz"),
    ("DOCUMENT_URI", "/healthz\n"),
    ("DOCUMENT_URI", "/healthz\x1b[2J"),
    ("DOCUMENT_URI", b"/healthz\xff"),
    ("SCRIPT_NAME", "*"),
    ("QUERY_STRING", "a=1\r\nb=2"),
    ("QUERY_STRING", "a" * 100_000),
    ("QUERY_STRING", b"a=\xc3"),
    ("REQUEST_ID", "id\nforged log line"),
    ("REQUEST_ID", "r" * 10_000),
    ("HTTP_AUTHORIZATION", "a\x01b"),
    ("HTTP_AUTHORIZATION", "u" * 100_000),
    ("HTTP_IDEMPOTENCY_KEY", b"\xed\xa0\x80"),
]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("name, value", NONSENSE, ids=lambda v: repr(v)[:40] if isinstance(v, (str, bytes)) else None)
def test_nonsense_parameter_is_a_400_problem_and_the_process_lives(pids, service, name, value):
    answer = exchange(socket_path(service), request_bytes(with_param(base_params(), name, value)))
    assert answer.complete, answer.data[:300]
    assert answer.status == 400, answer.stdout()[:300]
    assert b"Content-Type: application/problem+json" in answer.stdout()
    problem = answer.problem()
    assert problem["code"] == "bad_request" and problem["status"] == 400 and problem["detail"]
    assert alive(pids[service])


@pytest.mark.parametrize("service", SERVICES)
def test_a_parameter_no_handler_reads_is_ignored_whatever_it_holds(pids, service):
    # REMOTE_ADDR: nginx's limits see the address; the responders never read it.
    answer = exchange(socket_path(service), request_bytes(with_param(base_params(), "REMOTE_ADDR", b"127.0.0.\xff\x01")))
    assert answer.complete, answer.data[:300]
    assert answer.status != 400, answer.stdout()[:300]
    assert alive(pids[service])


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("value", ["a\x01b", "u" * 9000, b"caf\xe9"], ids=["control", "long", "latin-1"])
def test_a_bad_value_in_a_header_no_handler_reads_is_dropped_not_refused(pids, service, value):
    # A provider's Latin-1 User-Agent must not cost it its delivery reports.
    answer = exchange(socket_path(service), request_bytes(with_param(base_params(), "HTTP_USER_AGENT", value)))
    assert answer.complete, answer.data[:300]
    assert answer.status != 400, answer.stdout()[:300]
    assert alive(pids[service])


@pytest.mark.parametrize("name", ["HTTP_", "HTTP_x_lower", "HTTP_X-DASH", "HTTP_X Y", b"HTTP_\xff"])
def test_odd_header_parameter_name_is_a_400(pids, name):
    answer = exchange(socket_path("messages"), request_bytes(base_params() + [(name, "v")]))
    assert answer.complete and answer.status == 400, answer.stdout()[:300]


def test_many_parameters_are_a_400(pids):
    many = [(f"HTTP_X_{i}", "v") for i in range(5000)]
    answer = exchange(socket_path("messages"), request_bytes(base_params() + many))
    assert answer.complete and answer.status == 400, answer.stdout()[:300]


@pytest.mark.parametrize("service", SERVICES)
def test_body_shorter_than_content_length_is_a_400(pids, service):
    answer = exchange(socket_path(service), request_bytes(base_params(content_length="10"), body=b"abc"))
    assert answer.complete and answer.status == 400, answer.stdout()[:300]
    assert "3 of the 10" in answer.problem()["detail"]


def test_content_length_over_the_limit_is_413_unread(pids):
    answer = exchange(socket_path("messages"), request_bytes(base_params(content_length="2147483648")))
    assert answer.complete and answer.status == 413, answer.stdout()[:300]


def test_a_nul_byte_ends_a_parameter_where_libfcgi_stores_it(pids):
    # libfcgi keeps parameters as C strings: "/healthz\0/x" arrives as "/healthz".
    pairs = with_param(base_params(), "DOCUMENT_URI", b"/healthz\0/elsewhere")
    pairs = with_param(pairs, "CONTENT_LENGTH", b"\0-1")
    answer = exchange(socket_path("messages"), request_bytes(pairs))
    assert answer.complete and answer.status == 200, answer.stdout()[:300]


# -- Malformed records: no answer needed, but nothing may break ---------------------------------

def malformed_cases():
    good = request_bytes(base_params())
    params = params_stream(base_params())
    nv = name_value("DOCUMENT_URI", "/healthz")
    return {
        "truncated header": begin()[:5],
        "truncated begin body": begin()[:12],
        "truncated mid params": begin() + params[:len(params) // 2],
        "truncated mid stdin": begin() + params + record(STDIN, 1, b"x" * 100)[:50],
        "wrong version": record(BEGIN_REQUEST, 1, struct.pack(">HB5x", RESPONDER, 0), version=2) + params + stdin_stream(b""),
        "version 0 params": begin() + record(PARAMS, 1, nv, version=0) + record(PARAMS, 1) + stdin_stream(b""),
        "huge declared content, little sent": begin() + record(PARAMS, 1, nv, declared_length=65535),
        "declared longer than the name-value pairs": begin() + record(PARAMS, 1, nv + b"\x7f\x7f") + record(PARAMS, 1) + stdin_stream(b""),
        "4-byte lengths beyond the record": begin() + record(PARAMS, 1, encode_length(0x7ffffff0, True) + encode_length(5, True) + b"ab") + record(PARAMS, 1) + stdin_stream(b""),
        "4-byte value length beyond the record": begin() + record(PARAMS, 1, b"\x03" + encode_length(0x7fffffff, True) + b"abc") + record(PARAMS, 1) + stdin_stream(b""),
        "long form for short lengths": begin() + params_stream(base_params(), long_form=True) + stdin_stream(b""),
        "padding everywhere": record(BEGIN_REQUEST, 1, struct.pack(">HB5x", RESPONDER, 0), padding=255) + b"".join(
            record(PARAMS, 1, name_value(n, v), padding=7) for n, v in base_params()) + record(PARAMS, 1, padding=3) + record(STDIN, 1, padding=200),
        "unknown record type": begin() + record(200, 1, b"what") + params + stdin_stream(b""),
        "unknown management record": record(200, 0, b"what") + good,
        "get values": record(GET_VALUES, 0, name_value("FCGI_MAX_CONNS", "") + name_value("FCGI_MPXS_CONNS", "")) + good,
        "request id 0": request_bytes(base_params(), request_id=0),
        "unknown role": record(BEGIN_REQUEST, 1, struct.pack(">HB5x", 9, 0)) + params + stdin_stream(b""),
        "params before begin": params + begin() + params + stdin_stream(b""),
        "abort before params end": begin() + record(PARAMS, 1, nv) + record(ABORT_REQUEST, 1),
        "abort after request": good + record(ABORT_REQUEST, 1),
        "multiplexed ids": begin(1) + begin(2) + record(PARAMS, 2, nv) + params + record(PARAMS, 2) + stdin_stream(b"", 2) + stdin_stream(b""),
        "stdin for another id": begin() + params + record(STDIN, 7, b"zzz") + stdin_stream(b""),
        "keep-conn then garbage": begin(flags=KEEP_CONN) + params + stdin_stream(b"") + b"\xff" * 64,
        "stdin beyond content length": request_bytes(base_params(content_length="2"), body=b"abcdefgh"),
        "data record": begin() + params + record(DATA, 1, b"x") + stdin_stream(b""),
        "parameters over 128 KiB": request_bytes(base_params() + [("HTTP_X_BIG", "b" * 200_000)]),
        "only garbage": bytes(range(256)) * 4,
        "empty": b"",
    }


@pytest.mark.parametrize("service", SERVICES)
def test_malformed_records_and_abrupt_closes_leave_the_process_serving(pids, service):
    for name, data in malformed_cases().items():
        exchange(socket_path(service), data, timeout=10)
        assert alive(pids[service]), f"{SERVICES[service]} died on: {name}"
    # Abrupt closes: the connection goes away mid-record, without a shutdown first.
    good = request_bytes(base_params(content_length="50"), body=b"x" * 50)
    for cut in range(1, len(good), max(1, len(good) // 40)):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(socket_path(service))
        sock.sendall(good[:cut])
        sock.close()
    assert_still_serving(pids)
    answer = exchange(socket_path(service), request_bytes(base_params()))
    assert answer.complete, answer.data[:300]


def test_many_connections_dropped_at_once_leave_the_process_serving(pids):
    socks = []
    for _ in range(64):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(socket_path("messages"))
        sock.sendall(begin() + record(PARAMS, 1, name_value("REQUEST_METHOD", "GET")))
        socks.append(sock)
    for sock in socks:
        sock.close()
    assert_still_serving(pids)


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(6)
        position = rng.randrange(len(data) + 1)
        if choice == 0 and data:
            data[min(position, len(data) - 1)] = rng.randrange(256)
        elif choice == 1:
            data = data[:position]
        elif choice == 2:
            data[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif choice == 3 and data:
            end = min(len(data), position + rng.randint(1, 64))
            data[position:position] = data[position:end]
        elif choice == 4:
            # A 4-byte length with the top bit set where a length could be.
            data[position:position] = struct.pack(">I", rng.randrange(2**31) | 0x80000000)
        elif choice == 5 and len(data) > 8:
            del data[position:position + rng.randint(1, 32)]
    return bytes(data)


@pytest.mark.parametrize("service", SERVICES)
def test_seeded_random_mutations_leave_the_process_serving(pids, service):
    rng = random.Random(20261107)
    seeds = [request_bytes(base_params()),
             request_bytes(base_params(method="POST", path="/messages", content_length="20"), body=b'{"to_number": "+1"}x'),
             request_bytes(with_param(base_params(), "CONTENT_LENGTH", "-1"))]
    deadline = time.monotonic() + 20
    cases = 0
    while cases < 300 and time.monotonic() < deadline:
        data = mutate(rng, rng.choice(seeds))
        answer = exchange(socket_path(service), data, timeout=5)
        if answer.ended() and answer.stdout():
            assert answer.status is not None, (cases, data[:200], answer.data[:200])
        cases += 1
        if cases % 50 == 0:
            assert alive(pids[service]), f"{SERVICES[service]} died at mutation {cases}"
    assert cases >= 50
    assert_still_serving(pids)


# -- Signals: two SIGTERMs during the drain -----------------------------------------------------

def start_messages_fcgi(sock_path, threads):
    env = dict(os.environ)
    env.update(STACK_ENV)
    env.update({"TEXTING_FCGI_SOCKET": sock_path, "TEXTING_FCGI_THREADS": str(threads)})
    return subprocess.Popen([os.path.join(BIN, "MessagesFCGI")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def post_message(sock_path, key):
    body = json.dumps({"to_number": new_number(), "message": "drain test"}).encode()
    pairs = base_params(method="POST", path="/messages", content_length=str(len(body)))
    pairs = with_param(pairs, "CONTENT_TYPE", "application/json") + [("HTTP_AUTHORIZATION", f"Bearer {key}")]
    return exchange(sock_path, request_bytes(pairs, body=body), timeout=60)


@pytest.mark.parametrize("first, second", [(signal.SIGTERM, signal.SIGTERM), (signal.SIGTERM, signal.SIGINT), (signal.SIGINT, signal.SIGINT)],
                         ids=["TERM-TERM", "TERM-INT", "INT-INT"])
def test_second_stop_signal_during_the_drain_is_harmless_and_requests_in_hand_are_answered(db, first, second):
    key = create_api_key("fastcgi-signals")
    sock_path = os.path.join(RUN_DIR, "sock", f"signals-{os.getpid()}.sock")
    threads = 8
    process = start_messages_fcgi(sock_path, threads)
    try:
        wait_for(lambda: os.path.exists(sock_path) and exchange(sock_path, request_bytes(base_params())).status == 200,
                 timeout=30, what="the test's MessagesFCGI to serve")

        # Requests in hand: the accepting transactions wait for this lock until it goes.
        locker = psycopg.connect(DATABASE_URL)
        locker.execute("LOCK TABLE messages IN EXCLUSIVE MODE")
        in_hand, load = [], []

        def send(into):
            into.append(post_message(sock_path, key))

        workers = [threading.Thread(target=send, args=(in_hand,)) for _ in range(threads - 2)]
        for worker in workers:
            worker.start()
        wait_for(lambda: db.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'messages'::regclass").fetchone()[0] > 0,
                 timeout=30, what="requests waiting for the messages lock")

        # A bounded load on top: a few threads for about 2 s, each request either answered in
        # full or (queued past the workers when the process stopped listening) not at all.
        stop_load = threading.Event()

        def load_loop():
            for _ in range(200):
                if stop_load.is_set():
                    return
                try:
                    answer = post_message(sock_path, key)
                except (FileNotFoundError, ConnectionRefusedError):
                    return
                load.append(answer)
                if not answer.data:
                    return

        loaders = [threading.Thread(target=load_loop) for _ in range(3)]
        for loader in loaders:
            loader.start()
        time.sleep(0.5)

        process.send_signal(first)
        time.sleep(0.1)
        process.send_signal(second)
        time.sleep(0.5)
        locker.rollback()
        locker.close()
        stop_load.set()
        for thread in workers + loaders:
            thread.join(timeout=90)
        code = process.wait(timeout=60)
        stderr = process.stderr.read()

        assert code == 0, f"exit {code}: {stderr[-2000:]}"
        assert len(in_hand) == len(workers)
        for answer in in_hand:
            assert answer.complete, answer.data[:300]
            assert answer.status == 201, answer.stdout()[:300]
        for answer in load:
            assert answer.complete or not answer.data, answer.data[:300]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if os.path.exists(sock_path):
            os.unlink(sock_path)


# -- TCP: for nginx on another host, serving only the addresses listed -------------------------

def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_with(env_changes, seconds=10):
    """Runs MessagesFCGI with the stack's settings changed (None removes one); its exit code
    and standard error, or None and the process if it is still running after `seconds`."""
    env = {**os.environ, **STACK_ENV, **{k: v for k, v in env_changes.items() if v is not None}}
    for name in [k for k, v in env_changes.items() if v is None]:
        env.pop(name, None)
    process = subprocess.Popen([os.path.join(BIN, "MessagesFCGI")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = process.communicate(timeout=seconds)
        return process.returncode, stderr
    except subprocess.TimeoutExpired:
        return None, process


@pytest.mark.parametrize("settings, named", [
    ({"TEXTING_FCGI_LISTEN": "127.0.0.1:9"}, "TEXTING_FCGI_PEERS"),
    ({"TEXTING_FCGI_LISTEN": "127.0.0.1:9", "TEXTING_FCGI_PEERS": "127.0.0.1", "TEXTING_FCGI_SOCKET": "/tmp/x.sock"}, "TEXTING_FCGI_LISTEN"),
    ({"TEXTING_FCGI_LISTEN": "localhost:9001", "TEXTING_FCGI_PEERS": "127.0.0.1"}, "TEXTING_FCGI_LISTEN"),
    ({"TEXTING_FCGI_LISTEN": "::1:9001", "TEXTING_FCGI_PEERS": "127.0.0.1"}, "TEXTING_FCGI_LISTEN"),
    ({"TEXTING_FCGI_LISTEN": "127.0.0.1:70000", "TEXTING_FCGI_PEERS": "127.0.0.1"}, "TEXTING_FCGI_LISTEN"),
    ({"TEXTING_FCGI_LISTEN": "127.0.0.1:9001", "TEXTING_FCGI_PEERS": "127.0.0.1,nginx.example"}, "TEXTING_FCGI_PEERS"),
], ids=["no peers", "and a socket", "a name", "unbracketed IPv6", "port", "a peer by name"])
def test_a_bad_tcp_listener_setting_ends_the_process_naming_it(settings, named):
    code, stderr = run_with({"TEXTING_FCGI_SOCKET": None, **settings})
    assert code == 1, stderr
    assert named in stderr and len(stderr.strip().splitlines()) == 1, stderr


def test_a_tcp_listener_serves_the_peers_listed_and_closes_any_other(db):
    port = free_port()
    key = create_api_key("fastcgi-tcp")
    code, process = run_with({"TEXTING_FCGI_SOCKET": None, "TEXTING_FCGI_LISTEN": f"127.0.0.1:{port}",
                              "TEXTING_FCGI_PEERS": "127.0.0.3, 127.0.0.1", "TEXTING_FCGI_THREADS": "2"}, seconds=1)
    assert code is None, process
    address = ("127.0.0.1", port)
    try:
        wait_for(lambda: exchange(address, request_bytes(base_params()), timeout=2).status == 200, timeout=30,
                 what="MessagesFCGI to serve on TCP")
        body = json.dumps({"to_number": new_number(), "message": "over TCP"}).encode()
        pairs = base_params(method="POST", path="/messages", content_length=str(len(body)))
        pairs = with_param(pairs, "CONTENT_TYPE", "application/json") + [("HTTP_AUTHORIZATION", f"Bearer {key}")]
        answer = exchange(address, request_bytes(pairs, body=body), source="127.0.0.3")
        assert answer.status == 201, answer.stdout()
        created = json.loads(answer.stdout().split(b"\r\n\r\n", 1)[1])["id"]
        assert db.execute("SELECT count(*) FROM messages WHERE public_id = %s", (created,)).fetchone()[0] == 1
        # Another address on this machine: closed unanswered, a hundred times; one log line.
        for _ in range(100):
            refused = exchange(address, request_bytes(pairs, body=body), source="127.0.0.2", timeout=5)
            assert refused.data == b""
        assert exchange(address, request_bytes(base_params())).status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    lines = [line for line in stderr.splitlines() if "not in TEXTING_FCGI_PEERS" in line]
    assert len(lines) == 1 and "127.0.0.2" in lines[0], stderr
    assert f"127.0.0.1:{port} (peers: 127.0.0.1, 127.0.0.3)" in stderr

"""A provider that does not play by the contract, for the tests (and the chaos suite) that
treat providers as hostile peers: a raw-socket HTTP server on 127.0.0.1 whose answer to each
`POST /send` is chosen by a rule from the request, and can be any bytes at any pace.

The rule gets the request (`Request`: its JSON body, `Idempotency-Key` and callback URL) and
returns one of the answers below. Every request is recorded, so a test can count sends per
message and post reports to the callback URLs the sender handed out."""
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Request:
    body: dict
    key: str
    callback_url: str
    received_at: float = field(default_factory=time.monotonic)


# Answers: each a small object the server knows how to send.
@dataclass
class Json:
    """`status` with `body` serialized as JSON (a str or bytes body is sent as it is)."""
    status: int = 200
    body: object = None
    headers: tuple = ()


@dataclass
class Raw:
    """These bytes as the whole response, then the connection is closed."""
    data: bytes


@dataclass
class Drip:
    """A 200 whose body comes one byte every `interval` seconds, for `total` bytes."""
    interval: float = 0.2
    total: int = 1000


@dataclass
class Huge:
    """`status` with a body of `size` bytes, streamed (Content-Length set)."""
    status: int = 200
    size: int = 100 * 1024 * 1024


@dataclass
class Reset:
    """The connection reset (RST) before any answer."""


@dataclass
class Hold:
    """Waits until `event` is set (at most `timeout` seconds), then gives `then`."""
    event: threading.Event
    then: object
    timeout: float = 30


def _reason(status):
    return {200: "OK", 201: "Created", 204: "No Content", 302: "Found", 400: "Bad Request", 429: "Too Many Requests",
            500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Whatever")


class HostileProvider:
    def __init__(self, rule):
        self.rule = rule
        self.requests = []
        self._lock = threading.Lock()
        self._stopping = False
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/send"
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stopping = True
        self._thread.join(timeout=5)
        self._listener.close()

    def sends_by_key(self):
        counts = {}
        with self._lock:
            for request in self.requests:
                counts[request.key] = counts.get(request.key, 0) + 1
        return counts

    def requests_for(self, predicate):
        with self._lock:
            return [r for r in self.requests if predicate(r)]

    # --- the server

    def _accept_loop(self):
        while not self._stopping:
            try:
                connection, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection):
        connection.settimeout(30)
        buffer = b""
        try:
            while not self._stopping:
                while b"\r\n\r\n" not in buffer:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                while len(buffer) < length:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                body, buffer = buffer[:length], buffer[length:]
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {}
                request = Request(body=payload, key=headers.get("idempotency-key", ""), callback_url=payload.get("callback_url", ""))
                with self._lock:
                    self.requests.append(request)
                if not self._answer(connection, self.rule(request)):
                    return
        except OSError:
            return
        finally:
            try:
                connection.close()
            except OSError:
                pass

    def _answer(self, connection, answer):
        """Sends `answer`; False when the connection is done."""
        if isinstance(answer, Hold):
            answer.event.wait(answer.timeout)
            return self._answer(connection, answer.then)
        if isinstance(answer, Json):
            body = answer.body if isinstance(answer.body, (bytes, str)) else json.dumps(answer.body)
            body = body.encode() if isinstance(body, str) else body
            head = f"HTTP/1.1 {answer.status} {_reason(answer.status)}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            head += "".join(f"{name}: {value}\r\n" for name, value in answer.headers)
            connection.sendall(head.encode("latin-1") + b"\r\n" + body)
            return True
        if isinstance(answer, Raw):
            connection.sendall(answer.data)
            return False
        if isinstance(answer, Drip):
            connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {answer.total}\r\n\r\n".encode())
            for _ in range(answer.total):
                if self._stopping:
                    return False
                connection.sendall(b" ")
                time.sleep(answer.interval)
            return False
        if isinstance(answer, Huge):
            connection.sendall(f"HTTP/1.1 {answer.status} {_reason(answer.status)}\r\nContent-Length: {answer.size}\r\n\r\n".encode())
            chunk = b"x" * 65536
            sent = 0
            while sent < answer.size and not self._stopping:
                connection.sendall(chunk)
                sent += len(chunk)
            return False
        if isinstance(answer, Reset):
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        raise ValueError(f"unknown answer {answer!r}")

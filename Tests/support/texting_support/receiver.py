"""A webhook receiver on 127.0.0.1 for tests, chaos and benchmarks: it records every request
(headers, body, arrival time, what it answered and when) and answers as told (a status per
request in turn, a delay, garbage), and can go down and come back on the same port. Standard
library only, so the benchmark runs it without the tests' virtualenv."""
import collections
import http.server
import threading
import time

# `status`: what was answered (None: garbage, or nothing yet); `answered`: when the answer
# began to be written (None: not yet), so that a test can tell what the sender could have known.
Received = collections.namedtuple("Received", "path headers body at status answered", defaults=(None, None))


class _QuietServer(http.server.ThreadingHTTPServer):
    """A sender that gives up or dies mid-request resets its connection: expected here, so
    not printed as a traceback."""

    def handle_error(self, request, client_address):
        import sys
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class Receiver:
    """Start with `with Receiver() as r:`; `r.url(path)` is where to point an endpoint.

    `answers`: statuses for the next requests, in turn (then `default_status`). `decide`: a
    function of the request (`Received`) returning a status, or None for the above. `delay`:
    seconds to wait before answering. `garbage`: answer with bytes that are not HTTP.
    `body_bytes`: the size of each answer's body."""

    def __init__(self, default_status=200, keep_bodies=True):
        self.default_status = default_status
        self.keep_bodies = keep_bodies
        self.answers = collections.deque()
        self.delay = 0.0
        self.garbage = False
        self.decide = None
        self.body_bytes = 11
        self.headers = {}
        self.received = []
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
                with receiver.lock:
                    receiver.count += 1
                    index = len(receiver.received)
                    if receiver.keep_bodies:
                        receiver.received.append(request)
                    status = receiver.decide(request) if receiver.decide else None
                    if status is None:
                        status = receiver.answers.popleft() if receiver.answers else receiver.default_status
                    delay, garbage, size, extra = receiver.delay, receiver.garbage, receiver.body_bytes, dict(receiver.headers)
                if delay:
                    time.sleep(delay)
                # When the answer was given: taken before it is written, since the sender may
                # read it and send its next request before this thread runs again.
                answered = time.time()
                try:
                    if garbage:
                        status = None
                        self.wfile.write(b"\x00\xffnot http at all\r\n\r\n")
                        self.close_connection = True
                    else:
                        payload = b'{"ok":true}' if size == 11 else b"x" * size
                        self.send_response(status)
                        for name, value in extra.items():
                            self.send_header(name, value)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    status = None  # the sender had given up waiting: it never saw this answer
                    self.close_connection = True
                finally:
                    if receiver.keep_bodies:
                        with receiver.lock:
                            receiver.received[index] = request._replace(status=status, answered=answered)

            def log_message(self, *args):
                pass

        self.handler = Handler
        self.port = 0
        self.server = None
        self.thread = None

    def _listen(self):
        self.server = _QuietServer(("127.0.0.1", self.port), self.handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def down(self):
        """Stop listening: connections are refused until `up()`."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def up(self):
        """Listen again, on the same port."""
        self._listen()

    def url(self, path="/hooks"):
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        self._listen()
        return self

    def __exit__(self, *exc):
        self.down()

    def requests(self, path=None):
        with self.lock:
            return [r for r in self.received if path is None or r.path == path]

    def answer_next(self, *statuses):
        with self.lock:
            self.answers.extend(statuses)

"""Scenario 6's byte-level fuzz: hostile requests over raw sockets (so that nothing between us
and nginx repairs them): mutated JSON bodies, truncated and oversized bodies, invalid UTF-8,
NULs, deep nesting, huge numbers, duplicate keys, odd Content-Lengths and chunked bodies,
headers of odd sizes, garbage request lines, forged and odd delivery callbacks.

schemathesis (Tests/integration/test_openapi.py) already generates requests from the
documented API's shapes; this fuzz works on the bytes instead and is not a copy of it.
Seeded (the same requests every run for a seed), bounded in time and in count."""
import collections
import hashlib
import hmac
import json
import random
import socket
import threading
import time
import uuid

import harness as h

TIMEOUT = 10  # a request without an answer (or a close) by then is a hang

VALID = {"to_number": "+15555550100", "message": "Hello"}
UTF8_BAD = [b"\xff", b"\xfe\xff", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80",
            b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98"]
NUMBERS = [b"1e999999", b"-1e999999", b"123456789012345678901234567890", b"1.0000000000000000000001", b"-0",
           b"0.0", b"1e-400", b"NaN", b"Infinity", b"-Infinity", b"0x10", b"01", b"1.", b".5", b"+1",
           b"9223372036854775808", b"-9223372036854775809", b"18446744073709551616", b"604800.0000001",
           b"1" * 5000]


def _valid_body(rng):
    body = dict(VALID)
    body["to_number"] = h.new_number(rng)
    if rng.random() < 0.3:
        body["validity_period"] = rng.choice([1, 60, 604800])
    return json.dumps(body).encode()


def _mutate(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(7)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[pos:pos] = bytes([rng.randrange(256)])
        elif op == 2 and data:
            del data[pos:pos + rng.randint(1, 4)]
        elif op == 3:
            data[pos:pos] = rng.choice(UTF8_BAD)
        elif op == 4:
            data[pos:pos] = rng.choice([b"\x00", b"\\u0000", b"\\ud800", b"\\udfff", b'"', b"\\", b"{", b"[", b"}", b"]", b","])
        elif op == 5:
            data = data[:pos]
        else:
            seg = data[pos:pos + rng.randint(1, 20)]
            data[pos:pos] = seg * rng.randint(1, 50)
    return bytes(data)


def _body_cases(rng):
    """A hostile POST /messages body."""
    k = rng.randrange(12)
    number = h.new_number(rng).encode()
    if k == 0:
        return _mutate(_valid_body(rng), rng)
    if k == 1:
        depth = rng.choice([10, 100, 1000, 5000, 8000])
        return b"[" * depth + b"]" * depth if rng.random() < 0.5 else b'{"a":' * depth + b"1" + b"}" * depth
    if k == 2:
        depth = rng.choice([100, 1000, 3000])
        return b'{"to_number":"' + number + b'","message":' + b"[" * depth + b'"x"' + b"]" * depth + b"}"
    if k == 3:
        return b'{"to_number":"' + number + b'","message":"hi","validity_period":' + rng.choice(NUMBERS) + b"}"
    if k == 4:  # duplicate keys
        return (b'{"to_number":"' + number + b'","to_number":"' + h.new_number(rng).encode()
                + b'","message":"a","message":' + rng.choice([b'"b"', b"1", b"null", b'""']) + b"}")
    if k == 5:  # invalid UTF-8 and NULs in the strings
        return b'{"to_number":"' + number + b'","message":"x' + rng.choice(UTF8_BAD + [b"\x00", b"\\u0000"]) + b'y"}'
    if k == 6:
        return b'{"to_number":"' + number + rng.choice([b"\x00", b"\xff", b"\\u0000"]) + b'","message":"hi"}'
    if k == 7:  # oversized: at the limit, just over, far over
        size = rng.choice([16 * 1024 - 40, 16 * 1024 + 1, 64 * 1024, 1024 * 1024])
        return b'{"to_number":"' + number + b'","message":"' + b"a" * size + b'"}'
    if k == 8:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    if k == 9:
        return rng.choice([b"", b"null", b"true", b"0", b'""', b"[]", b"{}", b"\xef\xbb\xbf{}", b" " * 10000,
                           b'{"to_number":"' + number + b'","message":"\\u' + b"d83d" + b'"}'])
    if k == 10:  # many keys
        n = rng.choice([100, 1000])
        return b"{" + b",".join(b'"k%d":%d' % (i, i) for i in range(n)) + b"}"
    return b'{"to_number":"' + number + b'","message":"' + "\U0001F600".encode() * rng.randint(1, 1700) + b'"}'


def _request(rng, keys, secret):
    """(bytes to send, label, whether the body may legitimately be cut short)."""
    key = rng.choice(keys)
    auth = f"Authorization: Bearer {key}\r\n".encode()
    host = f"Host: 127.0.0.1:{h.PORT}\r\n".encode()
    k = rng.randrange(10)
    if k <= 3:
        body = _body_cases(rng)
        ctype = rng.choice([b"application/json", b"application/json", b"application/json; charset=utf-8",
                            b"text/plain", b"application/json; charset=latin1", b"", b"application/json\x01"])
        cl = len(body)
        truncated = False
        choice = rng.random()
        extra = b""
        if choice < 0.1:
            cl = len(body) + rng.randint(1, 100)   # the body is cut short
            truncated = True
        elif choice < 0.15:
            extra = b"Content-Length: 5\r\n"        # two Content-Lengths
        idem = b""
        if rng.random() < 0.3:
            idem = b"Idempotency-Key: " + rng.choice([str(uuid.uuid4()).encode(), b"x" * rng.choice([255, 256, 4000]),
                                                     b"\x7f", b"a b", b"\xc3\xa9"]) + b"\r\n"
        head = (b"POST /messages HTTP/1.1\r\n" + host + auth + b"Content-Type: " + ctype + b"\r\n"
                + b"Content-Length: %d\r\n" % cl + extra + idem + b"Connection: close\r\n\r\n")
        return head + body, "body", truncated
    if k == 4:  # chunked bodies, well-formed or not
        body = _valid_body(rng) if rng.random() < 0.5 else _body_cases(rng)
        complete = rng.random() < 0.5
        if complete:
            chunks = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
        else:
            chunks = rng.choice([b"zz\r\n" + body, b"fffffffffffffffff\r\n" + body, b"%x\r\n" % (len(body) + 10) + body,
                                 b"-1\r\n\r\n", b"0\r\n" + body])
        head = (b"POST /messages HTTP/1.1\r\n" + host + auth + b"Content-Type: application/json\r\n"
                + rng.choice([b"Transfer-Encoding: chunked\r\n", b"Transfer-Encoding: gzip, chunked\r\n",
                              b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"])
                + b"Connection: close\r\n\r\n")
        return head + chunks, "chunked", not complete
    if k == 5:  # headers of odd sizes and counts
        size = rng.choice([0, 1, 1000, 4000, 7000, 9000, 16000, 40000])
        name = rng.choice([b"X-Pad", b"Authorization", b"Idempotency-Key", b"Content-Type", b"Cookie"])
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(rng.choice([0, 10, 100, 300])))
        value = bytes(rng.choice(b"abcxyz0123456789 \t") for _ in range(size))
        hdr = name + b": " + value + b"\r\n"
        body = _valid_body(rng)
        head = b"POST /messages HTTP/1.1\r\n" + host + (b"" if name == b"Authorization" else auth)
        head += hdr + many + b"Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        return head + body, "headers", False
    if k == 6:  # request lines
        line = rng.choice([
            b"GET /messages/" + bytes(rng.randrange(33, 127) for _ in range(rng.randint(0, 60))) + b" HTTP/1.1",
            b"GET /messages?limit=" + rng.choice(NUMBERS) + b" HTTP/1.1",
            b"GET /messages?after=" + bytes(rng.randrange(33, 127) for _ in range(40)) + b" HTTP/1.1",
            b"GET /messages?to_number=%00&status=%ff HTTP/1.1",
            b"GET /" + b"a" * rng.choice([100, 5000, 20000]) + b" HTTP/1.1",
            b"FOO /messages HTTP/1.1", b"TRACE /messages HTTP/1.1", b"POST /messages HTTP/2.0",
            b"POST /messages HTTP/9.9", b"GET /messages", b"\x00\x01\x02", b"GET  HTTP/1.1",
            bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))),
            b"GET /messages/%2e%2e/%2e%2e/metrics HTTP/1.1", b"POST /messages/00000000-0000-0000-0000-000000000000/cancel HTTP/1.1",
        ])
        return line + b"\r\n" + host + auth + b"Connection: close\r\n\r\n", "request line", False
    if k == 7 or k == 8:  # delivery callbacks: forged, stale, or signed for an unknown message
        mid = rng.choice([str(uuid.uuid4()), "x", "", "%00", "1" * 500])
        ts = rng.choice([int(time.time()), 0, -1, 10**30, int(time.time()) + 10**6])
        sig = hmac.new(secret.encode(), f"v1|{mid}|{ts}".encode(), hashlib.sha256).hexdigest()
        if rng.random() < 0.5:
            sig = rng.choice(["", "00", sig[:-1] + "0", sig.upper(), "z" * 64])
        body = rng.choice([b'{"status":"delivered","message_id":"x"}', b'{"status":"bogus"}',
                           _mutate(b'{"status":"delivered","message_id":"abc"}', rng), _body_cases(rng)])
        query = f"mid={mid}&ts={ts}&sig={sig}".encode()
        if rng.random() < 0.2:
            query += b"&mid=" + str(uuid.uuid4()).encode()
        head = (b"POST /messages/delivery_status?" + query + b" HTTP/1.1\r\n" + host
                + b"Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
        return head + body, "callback", False
    # a valid request among the rest, so that mutated ones meet warm workers
    body = _valid_body(rng)
    return (b"POST /messages HTTP/1.1\r\n" + host + auth + b"Content-Type: application/json\r\n"
            + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body), "valid", False


def _send(data, half_close):
    """Sends, reads until nginx closes (every request says Connection: close). A request whose
    body may be cut short is half-closed after sending, so that nginx sees the end instead of
    waiting out client_body_timeout; complete ones are not (nginx takes a half-close for a
    client that went away, and drops the answer). (status or 0 for none, body, headers), or
    None on a hang."""
    s = socket.create_connection((h.HOST, h.PORT), timeout=TIMEOUT)
    try:
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # nginx answered (e.g. 413) and closed before taking it all
        chunks = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                return None
            if not chunk:
                break
            chunks.append(chunk)
        else:
            return None
        reply = b"".join(chunks)
    finally:
        s.close()
    if not reply:
        return 0, reply, {}
    if not reply.startswith(b"HTTP/"):
        return 9, reply, {}  # an HTTP/0.9 answer (a request line without a version): no status line
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return status, body, headers


def run(keys, seconds, seed, threads=3, max_requests=100_000):
    secret = h.STACK_ENV["TEXTING_CALLBACK_SECRET"]
    lock = threading.Lock()
    out = dict(requests=0, raw=0, fivexx=0, statuses=collections.Counter(), bad=[], ok_503=0, ok_503_samples=[],
               hangs=[], no_answer=0, accepted_ids=[])
    deadline = time.monotonic() + seconds

    def worker(index):
        rng = random.Random(seed * 100 + index)
        for _ in range(max_requests // threads):
            if time.monotonic() >= deadline:
                return
            data, label, may_be_cut = _request(rng, keys, secret)
            try:
                result = _send(data, may_be_cut)
            except OSError as e:
                result = (0, str(e).encode(), {})
            with lock:
                out["requests"] += 1
                out["raw"] += 1
                if result is None:
                    out["hangs"].append((label, data[:120]))
                    continue
                status, body, headers = result
                out["statuses"][status] += 1
                if status == 0:
                    out["no_answer"] += 1
                    if not may_be_cut:
                        out["bad"].append(("no answer", label, data[:120]))
                elif status >= 500:
                    out["fivexx"] += 1
                    doc = {}
                    try:
                        doc = json.loads(body)
                    except ValueError:
                        pass
                    if status == 503 and doc.get("code") == "service_unavailable" and headers.get("retry-after"):
                        out["ok_503"] += 1
                        out["ok_503_samples"].append((label, data[:200]))
                    else:
                        out["bad"].append((status, label, data[:200], body[:200]))
                elif status == 201:
                    try:
                        out["accepted_ids"].append(json.loads(body)["id"])
                    except (ValueError, KeyError):
                        out["bad"].append(("201 without an id", label, body[:200]))

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(seconds + 3 * TIMEOUT)
    if any(w.is_alive() for w in workers):
        out["hangs"].append(("a fuzz thread did not finish", b""))
    return out

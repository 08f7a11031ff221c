#!/usr/bin/env python3
"""POSTs messages at a fixed rate (open loop: request i is due at start + i / RATE whatever
became of the others, so a slow answer does not lower the offered rate the way a closed loop
would), for the latency figure.

  usage: paced_post.py URL API_KEY RATE SECONDS [MAX_CONNECTIONS]

One asyncio loop, HTTP/1.1 keep-alive: a due request takes an idle connection, or opens a
new one while fewer than MAX_CONNECTIONS (default 256) are open; only past that does it wait
(and the lag behind schedule is reported). Numbers and bodies vary as bench/ingest.lua varies
them. Bounded: at most RATE x SECONDS requests, and it stops at SECONDS + 10 s whatever
happens. Prints one JSON line: requests issued and answered, statuses, the rate they were
issued at (seconds: from the first to the last issue), how far behind schedule a request
fell at worst, the most connections it had open, and the answer times (p50, p99, max, from
each request's scheduled time, so waiting for a connection counts).
"""
import asyncio
import json
import sys
import time
import urllib.parse

TEXT = ("Benchmark message: your code is 482913. It expires in 10 minutes. Do not share it with anyone; "
        "we never ask for it by phone or e-mail. Thank you")


def percentiles(values):
    if not values:
        return {}
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return {"p50": round(pick(0.50), 1), "p99": round(pick(0.99), 1), "max": round(ordered[-1], 1)}


class Load:
    def __init__(self, url, key, rate, seconds, max_connections):
        target = urllib.parse.urlsplit(url)
        self.host, self.port = target.hostname, target.port or 80
        self.key, self.rate, self.seconds = key, rate, seconds
        self.max_connections = max_connections
        self.idle = []                  # (reader, writer) ready for a request
        self.open = 0
        self.most_open = 0
        self.freed = asyncio.Event()
        self.statuses = {}
        self.done = 0
        self.worst_lag = 0.0
        self.answer_ms = []             # answered requests: answer time minus scheduled time

    def request_bytes(self, i):
        body = json.dumps({"to_number": "+1555%07d" % (9000000 + i % 1000000),
                           "message": TEXT[:20 + (i * 7) % 125]}).encode()
        head = (f"POST /messages HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Authorization: Bearer {self.key}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        return head + body

    async def connection(self):
        while True:
            if self.idle:
                return self.idle.pop()
            if self.open < self.max_connections:
                self.open += 1
                self.most_open = max(self.most_open, self.open)
                try:
                    return await asyncio.open_connection(self.host, self.port)
                except OSError:
                    self.open -= 1
                    raise
            self.freed.clear()
            await self.freed.wait()

    def release(self, conn, reusable):
        if reusable:
            self.idle.append(conn)
        else:
            conn[1].close()
            self.open -= 1
        self.freed.set()

    async def one(self, i, due):
        status = "error"
        conn = None
        reusable = False
        try:
            conn = await self.connection()
            self.worst_lag = max(self.worst_lag, time.monotonic() - due)
            reader, writer = conn
            writer.write(self.request_bytes(i))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            length = int(headers.get("content-length", "0"))
            if length:
                await asyncio.wait_for(reader.readexactly(length), 10)
            reusable = headers.get("connection", "").lower() != "close"
            self.answer_ms.append((time.monotonic() - due) * 1000)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, asyncio.TimeoutError, asyncio.LimitOverrunError):
            status = "error"
        finally:
            if conn is not None:
                self.release(conn, reusable)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.done += 1

    async def run(self):
        total = int(self.rate * self.seconds)
        start = time.monotonic() + 0.2
        hard_stop = start + self.seconds + 10
        tasks = []
        last_issued = start
        for i in range(total):
            due = start + i / self.rate
            now = time.monotonic()
            if now >= hard_stop:
                break
            if due > now:
                await asyncio.sleep(due - now)
            tasks.append(asyncio.create_task(self.one(i, due)))
            last_issued = max(due, time.monotonic())
        remaining = max(0.0, hard_stop - time.monotonic())
        if tasks:
            await asyncio.wait(tasks, timeout=remaining + 1)
        elapsed = time.monotonic() - start
        issuing = last_issued - start + 1 / self.rate
        for task in tasks:
            task.cancel()
        for reader_writer in self.idle:
            reader_writer[1].close()
        return {
            "issued": len(tasks),
            "sent": self.done,
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "seconds": round(issuing, 3),
            "rate": round(len(tasks) / issuing, 1) if issuing > 0 else 0,
            "answered_within_seconds": round(elapsed, 3),
            "worst_lag_ms": round(self.worst_lag * 1000, 1),
            "most_connections": self.most_open,
            "answer_ms": percentiles(self.answer_ms),
        }


def main():
    url, key = sys.argv[1], sys.argv[2]
    rate, seconds = float(sys.argv[3]), float(sys.argv[4])
    max_connections = int(sys.argv[5]) if len(sys.argv) > 5 else 256
    print(json.dumps(asyncio.run(Load(url, key, rate, seconds, max_connections).run())))


main()

#!/usr/bin/env python3
"""POSTs messages at a fixed rate (open loop: each request has its slot in a schedule, so a
slow answer does not lower the rate the way a closed loop would), for the latency figure.

  usage: paced_post.py URL API_KEY RATE SECONDS [THREADS]

Bounded: at most RATE x SECONDS requests, and it stops at SECONDS + 10 s whatever happens.
Prints one JSON line: sent, statuses, achieved rate, how far behind schedule it fell.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse


def main():
    url, key = sys.argv[1], sys.argv[2]
    rate, seconds = float(sys.argv[3]), float(sys.argv[4])
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    total = int(rate * seconds)
    target = urllib.parse.urlsplit(url)
    start = time.monotonic() + 0.2
    hard_stop = start + seconds + 10
    lock = threading.Lock()
    statuses = {}
    worst_lag = [0.0]
    done = [0]

    def worker(index):
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        # Request i goes out at start + i / rate; thread k takes i = k, k + threads, ...
        for i in range(index, total, threads):
            due = start + i / rate
            now = time.monotonic()
            if now >= hard_stop:
                break
            if due > now:
                time.sleep(due - now)
            lag = time.monotonic() - due
            body = json.dumps({"to_number": "+1555%07d" % (9000000 + i), "message": "Latency probe %d" % i})
            try:
                connection.request("POST", "/messages", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = "error"
                connection.close()
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                worst_lag[0] = max(worst_lag[0], lag)
                done[0] += 1
        connection.close()

    workers = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(max(0.0, hard_stop - time.monotonic()) + 1)
    elapsed = time.monotonic() - start
    print(json.dumps({
        "sent": done[0],
        "statuses": {str(k): v for k, v in statuses.items()},
        "seconds": round(elapsed, 3),
        "rate": round(done[0] / elapsed, 1) if elapsed > 0 else 0,
        "worst_lag_ms": round(worst_lag[0] * 1000, 1),
    }))


main()

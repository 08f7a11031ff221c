"""A bounded POST /messages load from one host of the multi-host topology
(texting_support.topology runs it on a thread moved into the client's network namespace;
the threads it starts are that host's too). Standard library only."""
import http.client
import json
import random
import threading
import time
import urllib.parse


def run(url, key, seconds, rate, threads):
    """Sends at most rate × seconds requests, paced at about `rate` a second over `threads`
    threads, each to a new number; each answer's time (the wall clock's, which every
    namespace shares) and status (None: no answer), and the public ids answered 201."""
    target = urllib.parse.urlsplit(url)
    total = int(rate * seconds)
    started = time.monotonic()
    lock = threading.Lock()
    answers = []  # (wall clock time of the answer, status or None, id or None)
    counter = iter(range(total))

    def worker(seed):
        rng = random.Random(seed)
        connection = None
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            due = started + index / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = json.dumps({"to_number": "+1555%07d" % rng.randrange(10**7), "message": f"topology {index}"})
            status, message_id = None, None
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
                connection.request("POST", "/messages", body=body,
                                   headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
                response = connection.getresponse()
                data = response.read()
                status = response.status
                if status == 201:
                    message_id = json.loads(data)["id"]
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException, ValueError):
                if connection is not None:
                    connection.close()
                connection = None
            with lock:
                answers.append((round(time.time(), 3), status, message_id))

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    answers.sort()
    return {
        "sent": len(answers),
        "seconds": round(time.monotonic() - started, 3),
        "answers": [[t, s] for t, s, _ in answers],
        "accepted": [i for _, s, i in answers if s == 201],
    }

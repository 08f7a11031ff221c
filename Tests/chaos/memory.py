"""Scenario 7: does a FastCGI process leak? RSS of MessagesFCGI and of DeliveryFCGI after their
first 1,000 requests, then after N (100,000; the short form 20,000). The load is wrk (as in
bench/) cycling through a fixed mix of requests prepared here, and stopping each of its threads
once its share of answers from the FastCGI process has come back (nginx's own 429s do not
count: they never reach the process)."""
import hashlib
import hmac
import json
import os
import random
import signal
import subprocess
import threading
import time
import uuid

import harness as h

WRK = "/usr/bin/wrk"
THREADS = 2
CONNECTIONS = 16
KEYS = 20  # each key's nginx limit is 200/s; the per-address ceiling (2000/s) binds first

LUA = r"""
local reqs = dofile(os.getenv("CHAOS_WRK_REQUESTS"))
local quota = tonumber(os.getenv("CHAOS_WRK_QUOTA"))
local threads = {}
local next_id = 0
function setup(thread)
    thread:set("tid", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end
function init(args)
    i = tid * 7919
    counted = 0
    statuses = {}
end
function request()
    i = i + 1
    return reqs[(i % #reqs) + 1]
end
function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    if status ~= 429 then
        counted = counted + 1
        if counted == quota then
            -- wrk's main thread sleeps out -d whatever its threads do: leave a mark for
            -- memory.py, which then interrupts it (SIGINT: wrk stops and reports).
            local f = io.open(os.getenv("CHAOS_WRK_MARKS") .. "/done-" .. tid, "w")
            f:close()
            wrk.thread:stop()
        end
    end
end
function done(summary, latency, requests)
    local totals = {}
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("statuses")) do
            totals[status] = (totals[status] or 0) + count
        end
    end
    for status, count in pairs(totals) do io.write("STATUS " .. status .. " " .. count .. "\n") end
end
"""


def _lua_string(data):
    out = []
    for b in data:
        c = chr(b)
        out.append(c if 32 <= b < 127 and c not in '"\\' else "\\%03d" % b)
    return '"' + "".join(out) + '"'


def _http(method, path, headers, body=b""):
    head = f"{method} {path} HTTP/1.1\r\nHost: {h.HOST}:{h.PORT}\r\n"
    for k, v in headers.items():
        head += f"{k}: {v}\r\n"
    if body or method == "POST":
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def _messages_mix(rng, keys, known_id):
    """(request bytes, kind) for MessagesFCGI: valid POSTs, reads, lists, and rejected input."""
    reqs = []
    for n in range(2000):
        key = keys[n % len(keys)]
        auth = {"Authorization": f"Bearer {key}"}
        json_h = {**auth, "Content-Type": "application/json"}
        k = n % 20
        if k < 4:  # 20 % valid POSTs (some with an Idempotency-Key, replayed later in the cycle)
            body = json.dumps({"to_number": h.new_number(rng), "message": f"memory {n} " + "x" * rng.randrange(150)}).encode()
            extra = {"Idempotency-Key": f"mem-{n % 100}-{uuid.UUID(int=n)}"} if k == 3 else {}
            reqs.append((_http("POST", "/messages", {**json_h, **extra}, body), "post"))
        elif k < 8:
            reqs.append((_http("GET", f"/messages/{known_id[key]}", auth), "get"))
        elif k < 11:
            reqs.append((_http("GET", "/messages?limit=" + str(rng.choice([1, 20, 100])), auth), "list"))
        elif k < 14:
            body = json.dumps({"to_number": "12", "message": "é" * rng.randrange(1, 2000)}).encode()
            reqs.append((_http("POST", "/messages", json_h, body), "422"))
        elif k < 16:
            reqs.append((_http("POST", "/messages", json_h, b'{"to_number": "+1555' + b"[" * rng.randrange(1, 500)), "400"))
        elif k < 17:
            reqs.append((_http("GET", f"/messages/{uuid.uuid4()}", auth), "404"))
        elif k < 18:
            reqs.append((_http("GET", "/messages", {"Authorization": "Bearer txk_nope"}), "401"))
        else:
            reqs.append((_http("GET", "/healthz", {}), "health"))
    return reqs


def _delivery_mix(rng, message_ids, provider_ids):
    """Callbacks for DeliveryFCGI: repeats for real messages (applied: false), forged
    signatures, unknown statuses, malformed bodies."""
    secret = h.STACK_ENV["TEXTING_CALLBACK_SECRET"]
    reqs = []
    for n in range(2000):
        mid = message_ids[n % len(message_ids)]
        ts = int(time.time())
        sig = hmac.new(secret.encode(), f"v1|{mid}|{ts}".encode(), hashlib.sha256).hexdigest()
        k = n % 10
        status = "delivered"
        if k == 6:
            sig = "0" * 64
        if k == 7:
            status = "bogus"
        body = json.dumps({"status": status, "message_id": provider_ids.get(mid) or "x"}).encode()
        if k == 8:
            body = body[: rng.randrange(len(body))]
        path = f"/messages/delivery_status?mid={mid}&ts={ts}&sig={sig}"
        reqs.append((_http("POST", path, {"Content-Type": "application/json"}, body), "callback"))
    return reqs


def _wrk(lua_path, reqs_path, quota, seconds_limit):
    marks = reqs_path + ".marks"
    os.makedirs(marks, exist_ok=True)
    for name in os.listdir(marks):
        os.unlink(os.path.join(marks, name))
    env = {**os.environ, "CHAOS_WRK_REQUESTS": reqs_path, "CHAOS_WRK_QUOTA": str(max(1, quota // THREADS)),
           "CHAOS_WRK_MARKS": marks}
    proc = subprocess.Popen([WRK, "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds_limit}s", "--timeout", "10s",
                             "-s", lua_path, f"http://{h.HOST}:{h.PORT}/"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + seconds_limit + 5
    while proc.poll() is None and time.monotonic() < deadline:
        if len(os.listdir(marks)) >= THREADS:
            time.sleep(0.2)
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.1)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    statuses = {}
    for line in stdout.splitlines():
        if line.startswith("STATUS "):
            _, code, n = line.split()
            statuses[int(code)] = int(n)
    return statuses, stdout


def run(total, mocks):
    rng = random.Random(7)
    keys = h.create_keys("chaos-s7", KEYS)
    # One message per key to read back, and a few delivered ones to repeat callbacks for.
    known = {}
    for key in keys:
        status, _, body = h.post_message(h.Conn(key), rng, 0)
        assert status == 201, body
        known[key] = json.loads(body)["id"]
    assert h.run_sender_once() == 0
    time.sleep(0.5)
    with h.db() as c:
        provider_ids = dict(c.execute("SELECT public_id::text, provider_message_id FROM messages WHERE public_id = ANY(%s::uuid[])",
                                      (list(known.values()),)).fetchall())
    folder = os.path.join(h.RUN_DIR, "chaos-wrk")
    os.makedirs(folder, exist_ok=True)
    lua_path = os.path.join(folder, "mix.lua")
    with open(lua_path, "w") as f:
        f.write(LUA)
    mixes = {"messages": _messages_mix(rng, keys, known), "delivery": _delivery_mix(rng, list(known.values()), provider_ids)}
    paths = {}
    for name, reqs in mixes.items():
        paths[name] = os.path.join(folder, f"{name}.lua")
        with open(paths[name], "w") as f:
            f.write("return {\n" + ",\n".join(_lua_string(r) for r, _ in reqs) + "\n}\n")
    pids = {name: h.stack_pid(name) for name in ("messages", "delivery")}
    all_statuses = {name: {} for name in pids}

    def phase(quota):
        outs = {}

        def one(name):
            try:
                outs[name] = _wrk(lua_path, paths[name], quota, seconds_limit=max(30, quota // 200))
            except Exception as e:  # reported below as too few answers
                outs[name] = ({}, str(e))
        threads = [threading.Thread(target=one, args=(name,)) for name in pids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for name, (statuses, _) in outs.items():
            for code, n in statuses.items():
                all_statuses[name][code] = all_statuses[name].get(code, 0) + n

    phase(1000)
    first = {name: h.rss_kib(pid) for name, pid in pids.items()}
    phase(total - 1000)
    last = {name: h.rss_kib(pid) for name, pid in pids.items()}
    for name, pid in pids.items():
        assert h.pid_alive(pid) and h.stack_pid(name) == pid, f"{name} (pid {pid}) died"
    bad = []
    fivexx = 0
    requests = 0
    for name, statuses in all_statuses.items():
        served = sum(n for code, n in statuses.items() if code != 429)
        requests += sum(statuses.values())
        fivexx += sum(n for code, n in statuses.items() if code >= 500)
        if served < total:
            bad.append(f"{name}: only {served} answers from the process, fewer than {total}")
        unexpected = {code: n for code, n in statuses.items() if code >= 500 or code in (0,)}
        if unexpected:
            bad.append(f"{name}: {unexpected}")
    posts = all_statuses["messages"].get(201, 0)
    # Every message accepted here must be stored (idempotent replays answer 201 without a new one).
    stored = h.scalar("SELECT count(*) FROM messages m JOIN api_keys a ON a.id = m.api_key_id WHERE a.name LIKE 'chaos-s7-%%'")
    kinds = {}
    for name, reqs in mixes.items():
        for _, kind in reqs:
            kinds[kind] = kinds.get(kind, 0) + 1
    mix = ", ".join(f"{k} {v * 100 // 2000}%" for k, v in kinds.items() if k != "callback")
    mix += f"; DeliveryFCGI: signed repeats, forged, unknown status, cut bodies; statuses {all_statuses}; stored {stored} for {posts} 201s (replays included)"
    if stored > posts + len(keys):
        bad.append(f"{stored} messages stored for {posts} 201s")
    return dict(requests=requests, fivexx=fivexx, bad=bad, rss={n: (first[n], last[n]) for n in pids}, mix=mix,
                tally=None)

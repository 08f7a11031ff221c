"""Scenario 12: app hosts die under load, on the multi-host topology (texting_support.topology:
a database host, two app hosts each running MessagesFCGI and DeliveryFCGI on TCP and a sender,
an edge host with the shipped nginx site listing both, in network namespaces of their own).

Under a steady load with the mock provider calling back, every process on app1 is SIGKILLed
(the host died); in the full form app1 then comes back and, once nginx sends it requests
again, app2 dies in turn. nginx moves on
to the host alive: a request a dying host held is answered 503, none after; every 201 is a
stored message, and every stored one is sent and delivered through the host alive, those the
dead host's sender had claimed once their lease ends (or stays `sent`, accepted by the
provider, when its report died with the host that was taking it: the mock does not call
again, and its failed callbacks bound those). A provider may get a message twice only if the
dead sender had claimed it: the bound is the jobs leased to it when it died."""
import collections
import os
import shutil
import time

from harness import SHORT, log
from texting_support import topology

LEASE_SECONDS = 4


def _leased_to(hosts, host):
    pid = hosts.process(host, "SenderCron").pid
    return hosts.sql("SELECT count(*) FROM jobs WHERE leased_by LIKE %s", f"%:{pid}")[0][0]


def run(r, bin_dir, run_dir):
    why_not = topology.available()
    if why_not:
        r.problems.append(f"the topology cannot be made here: {why_not}")
        return
    seconds, rate = (10, 80) if SHORT else (40, 200)
    work = os.path.join(run_dir, "topology-chaos")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    with topology.Topology(work, bin_dir, settings={"TEXTING_SENDER_LEASE_SECONDS": str(LEASE_SECONDS)}) as hosts:
        key = hosts.textingctl("keys", "create", "chaos-s12").strip()
        load = hosts.start_load(key, seconds=seconds, rate=rate, threads=16)
        deaths = []  # (host, wall-clock time, jobs leased to its sender)
        plan = [("app1", seconds / 3)] if SHORT else [("app1", seconds / 4), ("app2", seconds * 3 / 4)]
        started = time.monotonic()
        for victim, at in plan:
            time.sleep(max(0.0, at - (time.monotonic() - started)))
            if victim == "app2":
                # app1 back first (as systemd would bring it back), then app2 dies, once nginx
                # has app1 in rotation again: it tries a failed server again only after its
                # fail_timeout (5 s), and both down at once is another scenario.
                served = hosts.requests_served("app1")
                hosts.start_app("app1")
                back_by = time.monotonic() + 20
                while hosts.requests_served("app1") == served and time.monotonic() < back_by:
                    time.sleep(0.1)
                r.check(hosts.requests_served("app1") > served, "nginx sent app1 nothing within 20 s of its return")
            killed = time.time()
            count = hosts.kill_host(victim)
            r.check(count == 3, f"{victim}: {count} processes killed, not 3")
            deaths.append((victim, killed, _leased_to(hosts, victim)))
            log(f"    killed {victim} ({count} processes); its sender held {deaths[-1][2]} jobs")
        result = load.result(timeout=seconds + 120)
        statuses = collections.Counter(s for _, s in result["answers"])
        r.requests += result["sent"]
        r.fivexx += sum(n for s, n in statuses.items() if s is None or s >= 500)
        r.check(set(statuses) <= {201, 503}, f"answers other than 201 and 503: {dict(statuses)}")
        late = [(t, s) for t, s in result["answers"] if s != 201 and not any(k <= t <= k + 1 for _, k, _ in deaths)]
        r.check(not late, f"{len(late)} answers other than 201 more than a second after any death: {late[:5]}")

        accepted = result["accepted"]
        deadline = time.monotonic() + LEASE_SECONDS + 90
        while time.monotonic() < deadline:
            pending = hosts.sql("""SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[])
                                   AND status IN ('queued', 'sending')""", accepted)[0][0]
            callbacks = hosts.on("client", lambda: hosts.mocks.callbacks_outstanding())
            if pending == 0 and callbacks == 0:
                break
            time.sleep(0.5)
        stored = dict(hosts.sql("SELECT public_id::text, status::text FROM messages WHERE public_id = ANY(%s::uuid[])", accepted))
        by_key = hosts.on("client", lambda: hosts.mocks.accepted_by_key())
        stats = hosts.on("client", lambda: hosts.mocks.stats("p1"))
        missing = [i for i in accepted if i not in stored]
        # A report the dying host was taking is lost with it: a real provider calls again, the
        # mock does not (its failed callbacks say so). Its message stays `sent`, accepted by the
        # provider: not lost, and at most as many as the failed callbacks.
        unreported = [i for i, s in stored.items() if s == "sent" and by_key[i] > 0]
        undelivered = [(i, s) for i, s in stored.items() if s != "delivered" and i not in unreported]
        r.lost += len(missing) + len(undelivered)
        r.check(not missing, f"{len(missing)} messages answered 201 are not stored: {missing[:3]}")
        r.check(not undelivered, f"{len(undelivered)} stored messages neither delivered nor sent: {undelivered[:3]}")
        r.check(len(unreported) <= stats["callbacks_failed"],
                f"{len(unreported)} messages stay sent, more than the {stats['callbacks_failed']} reports the mock failed to make")
        duplicates = sum(n - 1 for i, n in by_key.items() if n > 1)
        bound = sum(leased for _, _, leased in deaths)
        r.duplicates += duplicates
        r.dup_bound += bound
        r.check(duplicates <= bound, f"{duplicates} duplicate sends, more than the bound {bound}")
        served = {host: hosts.requests_served(host) for host in topology.APP_HOSTS}
        r.check(all(served.values()), f"an app host served nothing: {served}")
        r.notes.append(f"{result['sent']} requests at {rate}/s over {seconds} s through the edge: {dict(statuses)}; deaths "
                       f"{[(h, leased) for h, _, leased in deaths]} (host, jobs its sender held); POST /messages served per host "
                       f"{served}; {len(stored)} stored, {len(unreported)} of them left sent (their report failed with the host: "
                       f"{stats['callbacks_failed_by_reason']}), the rest delivered; duplicates {duplicates} (bound {bound})")

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
import time

import harness as h
from harness import SHORT, log
from texting_support import topology

LEASE_SECONDS = 4


def _leased_to(hosts, host):
    pid = hosts.process(host, "SenderCron").pid
    return hosts.sql("SELECT count(*) FROM jobs WHERE leased_by LIKE %s", f"%:{pid}")[0][0]


def run(r, bin_dir, run_dir):
    work = h.topology_folder(r, run_dir, "topology-chaos")
    if work is None:
        return
    seconds, rate = (10, 80) if SHORT else (40, 200)
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
        statuses = h.count_topology_answers(r, result)
        late = [(t, s) for t, s in result["answers"] if s != 201 and not any(k <= t <= k + 1 for _, k, _ in deaths)]
        r.check(not late, f"{len(late)} answers other than 201 more than a second after any death: {late[:5]}")

        bound = sum(leased for _, _, leased in deaths)
        stored, unreported, failed, duplicates = h.account_topology(r, hosts, result["accepted"], bound, LEASE_SECONDS + 90)
        served = {host: hosts.requests_served(host) for host in topology.APP_HOSTS}
        r.check(all(served.values()), f"an app host served nothing: {served}")
        r.notes.append(f"{result['sent']} requests at {rate}/s over {seconds} s through the edge: {dict(statuses)}; deaths "
                       f"{[(h, leased) for h, _, leased in deaths]} (host, jobs its sender held); POST /messages served per host "
                       f"{served}; {len(stored)} stored, {len(unreported)} of them left sent (their report failed with the host: "
                       f"{failed}), the rest delivered; duplicates {duplicates} (bound {bound})")

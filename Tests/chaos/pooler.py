"""Scenario 14: PgBouncer and the database behind it fail under load, on the multi-host
topology with PgBouncer (texting_support.topology, pgbouncer): the shipped deploy/pgbouncer.ini
in transaction mode on the database host, both app hosts' FastCGI processes reaching
PostgreSQL through it with prepared statements off, their senders and the migrator directly
(TEXTING_DATABASE_DIRECT_URL).

Under a steady load with the mock provider calling back, first PgBouncer is SIGKILLed and
started again a second later (its systemd unit's Restart=), then PostgreSQL behind it stops
at once (SIGQUIT: immediate shutdown, crash recovery on the next start, as after a crash) and
is started again. Answers are 201 or 503, and 503 only from each fault to a second after the
first 201 once it is over; the seconds from the fault to that first 201 are measured. Every
201 is a stored message, delivered (or left `sent` when its report died in a gap: the mock
does not call again, and its failed callbacks bound those); a provider got a message twice at
most as often as jobs were leased to senders when PostgreSQL went down (PgBouncer's death
does not touch the senders: they do not go through it)."""
import signal
import time

import harness as h
from harness import SHORT, log
from texting_support import topology

LEASE_SECONDS = 4


def _sender_pids(hosts):
    return [hosts.process(host, "SenderCron").pid for host in topology.APP_HOSTS]


def run(r, bin_dir, run_dir):
    work = h.topology_folder(r, run_dir, "topology-pgbouncer")
    if work is None:
        return
    seconds, rate = (16, 60) if SHORT else (40, 200)
    with topology.Topology(work, bin_dir, settings={"TEXTING_SENDER_LEASE_SECONDS": str(LEASE_SECONDS)}, pgbouncer=True) as hosts:
        key = hosts.textingctl("keys", "create", "chaos-s14").strip()
        load = hosts.start_load(key, seconds=seconds, rate=rate, threads=16)
        started = time.monotonic()
        faults = []  # (what, wall-clock time it began, wall-clock time it was over)

        time.sleep(seconds / 4)
        killed = hosts.kill("db", "pgbouncer")
        time.sleep(1)
        hosts.start_pgbouncer()
        faults.append(("PgBouncer killed", killed, time.time()))
        log(f"    PgBouncer SIGKILLed and started again {faults[-1][2] - killed:.1f} s later")

        time.sleep(max(0.0, seconds * 3 / 4 - (time.monotonic() - started)))
        senders = _sender_pids(hosts)
        stopped = hosts.kill("db", "postgres", signal.SIGQUIT)
        hosts.start_database("db")
        # Crash recovery, then PgBouncer's next login (server_login_retry) finds it.
        back_by = time.monotonic() + 60
        while hosts.psql("db", "SELECT 1", check=False).returncode != 0 and time.monotonic() < back_by:
            time.sleep(0.1)
        faults.append(("PostgreSQL stopped at once (SIGQUIT)", stopped, time.time()))
        # The jobs the senders of the moment held: a send whose record the stop cut off is sent
        # again once its lease ends. Counted after the restart, by those senders' PIDs.
        bound = hosts.sql("SELECT count(*) FROM jobs WHERE leased_until > now() AND leased_by LIKE ANY(%s)",
                          [f"%:{pid}" for pid in senders])[0][0]
        log(f"    PostgreSQL stopped (SIGQUIT) and up again {faults[-1][2] - stopped:.1f} s later; {bound} jobs were leased")

        result = load.result(timeout=seconds + 120)
        statuses = h.count_topology_answers(r, result)
        gaps, windows = [], []
        for what, began, over in faults:
            after = [t for t, s in result["answers"] if s == 201 and t > over]
            r.check(bool(after), f"{what}: no 201 after it was over")
            first = min(after) if after else over
            gaps.append((what, round(first - began, 2)))
            windows.append((began, first + 1))
        late = [(t, s) for t, s in result["answers"] if s != 201 and not any(a <= t <= b for a, b in windows)]
        r.check(not late, f"{len(late)} answers other than 201 outside the faults' gaps (seconds after each fault began, "
                          f"status): {[([round(t - a, 2) for a, _ in windows], s) for t, s in late[:5]]}; gaps {gaps}")

        stored, unreported, failed, duplicates = h.account_topology(r, hosts, result["accepted"], bound, LEASE_SECONDS + 90)
        served = {host: hosts.requests_served(host) for host in topology.APP_HOSTS}
        r.check(all(served.values()), f"an app host served nothing: {served}")
        r.notes.append(f"{result['sent']} requests at {rate}/s over {seconds} s through the edge, the FastCGI processes through "
                       f"PgBouncer: {dict(statuses)}; seconds from each fault to the first 201 after it: {gaps}; "
                       f"{len(stored)} stored, none lost; {len(unreported)} left sent (their report failed in a gap: {failed}); "
                       f"duplicates {duplicates} (bound {bound}, the jobs leased when PostgreSQL stopped)")

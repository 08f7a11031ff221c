"""Scenario 13: the database's primary dies under load and its synchronous standby takes over,
on the multi-host topology with a second database host (texting_support.topology, standby):
PostgreSQL 15 streaming to a synchronous standby (synchronous_standby_names = '*',
synchronous_commit = on), the services given both hosts in libpq's multi-host conninfo
(`host=db,db2 … target_session_attrs=read-write`), so that they find the new primary by
themselves.

Under load with the mock provider calling back, the primary's postmaster is SIGKILLed (its
server processes die with it), and a second later the standby is promoted (`pg_ctl promote`,
as Patroni would, which also lets the new primary commit without a standby until one is
back). Every message answered 201 must be on the new primary (0 lost: the standby had each
commit before it was acknowledged); answers are 201 or 503, and 503 only from the kill to a
second after the first 201 once the standby took writes; the seconds from the kill to the
promotion and to that first 201 are measured. Then the old primary rejoins as the new one's
standby (pg_rewind) and, in the full form, a second failover goes back. At the end every
stored message is delivered (or `sent` when its report was lost in the gap: the mock does not
call again, and its failed callbacks bound those), and a provider got a message twice at most
as often as jobs were leased when a primary died (a sender's record of a send lost with the
primary: sent again after the lease)."""
import time

import harness as h
from harness import SHORT, log
from texting_support import topology

LEASE_SECONDS = 4


def run(r, bin_dir, run_dir):
    work = h.topology_folder(r, run_dir, "topology-failover")
    if work is None:
        return
    seconds, rate = (12, 60) if SHORT else (30, 150)
    failovers = [("db", "db2")] if SHORT else [("db", "db2"), ("db2", "db")]
    with topology.Topology(work, bin_dir, settings={"TEXTING_SENDER_LEASE_SECONDS": str(LEASE_SECONDS)}, standby=True) as hosts:
        key = hosts.textingctl("keys", "create", "chaos-s13").strip()
        accepted, gaps, bound = [], [], 0
        for primary, standby in failovers:
            load = hosts.start_load(key, seconds=seconds, rate=rate, threads=16)
            time.sleep(seconds / 3)
            killed = time.time()
            hosts.kill_host(primary)
            time.sleep(1)  # the manager notices (Patroni: its loop_wait, 10 s by default)
            hosts.promote(standby)
            promoted = time.time()
            # Leases the dead primary's commits handed out, as the standby had them.
            leased = hosts.sql("SELECT count(*) FROM jobs WHERE leased_until > now()")[0][0]
            bound += leased
            result = load.result(timeout=seconds + 120)
            statuses = h.count_topology_answers(r, result, f"{primary} killed: ")
            # Recovered: the first 201 once the standby took writes (a 201 just after the kill
            # can be a commit the primary made just before it).
            after = [t for t, s in result["answers"] if s == 201 and t > promoted]
            r.check(bool(after), f"{primary} killed: no 201 after the promotion")
            first = min(after) if after else killed
            gaps.append((round(promoted - killed, 2), round(first - killed, 2)))
            late = [(t, s) for t, s in result["answers"] if s != 201 and not killed <= t <= first + 1]
            r.check(not late, f"{primary} killed: {len(late)} answers other than 201 outside the gap: {late[:5]}")
            accepted += result["accepted"]
            stored = hosts.sql("SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[])", accepted)[0][0]
            r.check(stored == len(accepted), f"after {primary}'s death {len(accepted) - stored} messages answered 201 are not stored")
            log(f"    {primary} killed, {standby} promoted {gaps[-1][0]} s later: {dict(statuses)}; first 201 after it {gaps[-1][1]} s "
                f"after the kill; "
                f"{leased} jobs leased; all {stored} accepted so far stored")
            hosts.rejoin(primary, standby)
            log(f"    {primary} rejoined as {standby}'s synchronous standby (pg_rewind)")

        stored, unreported, failed, duplicates = h.account_topology(r, hosts, accepted, bound, LEASE_SECONDS + 90)
        r.notes.append(f"{r.requests} requests at {rate}/s; failovers {failovers} (primary killed, standby promoted), seconds from the "
                       f"kill to the promotion and to the first 201 after it: {gaps}; {len(stored)} stored, none lost; {len(unreported)} left sent (their report "
                       f"failed in the gap: {failed}); duplicates {duplicates} (bound {bound})")

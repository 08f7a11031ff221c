"""Past one machine, on one machine: a database host, two app hosts and an edge host running
the shipped nginx site with both app hosts in each upstream, each in a network namespace of
its own (texting_support.topology). Requests and the providers' callbacks spread over both
app hosts; when one app host dies under load (every process on it SIGKILLed), nginx goes on
with the other, every message answered 201 is stored, and every stored message is sent, the
ones the dead host's sender had claimed too, once their lease is over.

The short form of chaos scenario 12 (`make chaos` runs it longer, at a higher rate)."""
import collections
import os
import shutil
import time

import pytest

from conftest import BIN, RUN_DIR
from texting_support import topology

pytestmark = pytest.mark.skipif(topology.available() is not None, reason=f"multi-host topology: {topology.available()}")

LEASE_SECONDS = 4


@pytest.fixture(scope="module")
def hosts():
    work = os.path.join(RUN_DIR, "topology")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    with topology.Topology(work, BIN, settings={"TEXTING_SENDER_LEASE_SECONDS": str(LEASE_SECONDS)}) as hosts:
        yield hosts


def test_requests_spread_over_both_app_hosts_and_messages_go_out(hosts):
    key = hosts.textingctl("keys", "create", "topology-spread").strip()
    result = hosts.load(key, seconds=2, rate=50, threads=4)
    assert collections.Counter(s for _, s in result["answers"]) == {201: result["sent"]}, result["answers"]
    assert all(hosts.requests_served(host) > 0 for host in topology.APP_HOSTS)
    ids = result["accepted"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if hosts.sql("SELECT count(*) FROM messages WHERE status IN ('queued', 'sending')")[0][0] == 0:
            break
        time.sleep(0.5)
    statuses = collections.Counter(row[0] for row in hosts.sql("SELECT status::text FROM messages WHERE public_id = ANY(%s::uuid[])", ids))
    assert sum(statuses.values()) == len(ids)
    assert set(statuses) <= {"sent", "delivered"}, statuses


def test_an_app_host_dies_under_load_nothing_accepted_is_lost(hosts):
    key = hosts.textingctl("keys", "create", "topology-kill").strip()
    seconds, rate = 8, 80
    load = hosts.start_load(key, seconds=seconds, rate=rate, threads=8)
    time.sleep(seconds / 3)
    killed_at = time.time()  # the wall clock, as the load's answers are stamped
    assert hosts.kill_host("app1") == 3
    result = load.result(timeout=seconds + 120)
    statuses = collections.Counter(s for _, s in result["answers"])
    # Connections app1 refused went to app2 (nginx's next upstream); a request app1 held at
    # the kill is answered 503 (a POST is never sent twice), so at most the load's threads.
    assert statuses[201] >= result["sent"] - 8, statuses
    assert set(statuses) <= {201, 503}, statuses
    late = [s for t, s in result["answers"] if t > killed_at + 1 and s != 201]
    assert not late, f"answers other than 201 a second after the kill: {late}"
    # Every message answered 201 is stored, and goes out through app2's sender, those app1's
    # sender had claimed once their lease ended.
    accepted = result["accepted"]
    assert len(accepted) == statuses[201]
    assert hosts.sql("SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[])", accepted)[0][0] == len(accepted)
    deadline = time.monotonic() + LEASE_SECONDS + 60
    while time.monotonic() < deadline:
        waiting = hosts.sql("SELECT count(*) FROM messages WHERE public_id = ANY(%s::uuid[]) AND status IN ('queued', 'sending')",
                            accepted)[0][0]
        if waiting == 0:
            break
        time.sleep(0.5)
    assert waiting == 0, f"{waiting} accepted messages still not sent after app1's death"
    assert hosts.requests_served("app2") > 0

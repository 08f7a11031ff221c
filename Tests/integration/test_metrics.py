"""GET /metrics: Prometheus text for local scrapers, with figures that follow the system."""
import datetime
import re

from conftest import messages_rows_read_by_sequential_scans, new_number, run_sender, running_sender, store_messages, textingctl, wait_for


def _metrics(api):
    response = api.raw("GET", "/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return response.text, samples


def test_metrics_show_queue_depth_statuses_and_attempts(api, mocks, empty_queue):
    _, before = _metrics(api)
    assert before["texting_queue_due_jobs"] == 0
    for _ in range(3):
        assert api.post_message(new_number()).status_code == 201
    text, queued = _metrics(api)
    assert queued["texting_queue_jobs"] == 3 and queued["texting_queue_due_jobs"] == 3
    assert queued["texting_queue_oldest_due_seconds"] >= 0
    assert queued['texting_messages{status="queued"}'] >= 3
    # Every metric family is declared once, before its samples.
    families = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M)
    assert len(families) == len({name for name, _ in families})
    run_sender()
    _, after = _metrics(api)
    assert after["texting_queue_jobs"] == 0
    accepted = sum(v for k, v in after.items() if k.startswith("texting_provider_attempts_total{") and 'outcome="accepted"' in k)
    accepted_before = sum(v for k, v in before.items() if k.startswith("texting_provider_attempts_total{") and 'outcome="accepted"' in k)
    assert accepted - accepted_before == 3


def test_metrics_are_refused_to_remote_addresses(api):
    # nginx allows only loopback: 127.0.0.2 is loopback on Linux too, so check the rule by
    # asking from an address it does not list.
    import socket
    sock = socket.create_connection(("127.0.0.1", int(api.raw("GET", "/healthz").url.split(":")[2].split("/")[0])), source_address=("127.0.0.2", 0))
    try:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    finally:
        sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403"), head
    assert b"application/problem+json" in head


def _counted(db, table):
    return {status: n for status, n in db.execute(f"SELECT status::text, count(*) FROM {table} GROUP BY status").fetchall()}


def _shown(samples, family):
    return {re.search(r'status="([a-z_]+)"', k).group(1): int(v) for k, v in samples.items() if k.startswith(family + "{") and v}


def test_status_figures_stay_exact_through_every_kind_of_change_and_read_no_message_rows(api, db, mocks, empty_queue):
    """Messages and numbers by status come from counts the changing statements keep
    (migration 0014), not from a count(*): after accepts, sends, reports, a cancel, an
    invalid number, direct deletes and compactions they equal a full count, and a scrape
    reads no row of messages."""
    mocks.configure_all(callback_delay_ms=-1)
    ids = [api.post_message(new_number(), f"counted {i}").json()["id"] for i in range(6)]
    tomorrow = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = api.post_message(new_number(), "canceled", send_at=tomorrow).json()["id"]
    assert api.raw("POST", f"/messages/{later}/cancel").status_code == 200
    run_sender()
    provider_ids = {i: api.get_message(i).json()["provider_message_id"] for i in ids}
    assert api.callback(ids[0], {"status": "delivered", "message_id": provider_ids[ids[0]]}).status_code == 200
    assert api.callback(ids[1], {"status": "failed", "message_id": provider_ids[ids[1]]}).status_code == 200
    assert api.callback(ids[2], {"status": "invalid", "message_id": provider_ids[ids[2]]}).status_code == 200
    for compact in (False, True):
        if compact:
            assert textingctl("prune").returncode == 0
            assert db.execute("SELECT count(*) FROM status_count_changes").fetchone()[0] == 0
        _, samples = _metrics(api)
        assert _shown(samples, "texting_messages") == _counted(db, "messages")
        assert _shown(samples, "texting_phone_numbers") == _counted(db, "phone_numbers")
    # Rows written and deleted behind the service's back (an operator's import and cleanup)
    # leave the counts exact too.
    owner = db.execute("SELECT api_key_id FROM messages WHERE public_id = %s", (ids[0],)).fetchone()[0]
    imported = store_messages(db, owner, 3, "imported", status="delivered")
    _, samples = _metrics(api)
    assert _shown(samples, "texting_messages") == _counted(db, "messages")
    db.execute("DELETE FROM messages WHERE public_id = ANY(%s::uuid[])", (imported,))
    _, samples = _metrics(api)
    assert _shown(samples, "texting_messages") == _counted(db, "messages")
    before = messages_rows_read_by_sequential_scans(db)
    for _ in range(3):
        _metrics(api)
    assert messages_rows_read_by_sequential_scans(db) == before


def test_a_running_sender_folds_the_counts_changes_every_few_seconds_not_only_at_its_end(api, db, mocks, empty_queue):
    """A scrape sums the changes not yet folded into the counts: a sender folds them every
    few seconds while it runs (Sender.foldChangesEverySeconds), so a busy run leaves a scrape
    seconds of them to read, not the run's whole minute."""
    with running_sender(TEXTING_SENDER_RUN_SECONDS=600) as sender:
        ids = [api.post_message(new_number(), f"folded {i}").json()["id"] for i in range(5)]
        wait_for(lambda: all(api.status_of(i) == "delivered" for i in ids), what="the messages delivered")
        wait_for(lambda: db.execute("SELECT count(*) FROM status_count_changes").fetchone()[0] == 0, timeout=20,
                 what="the changes folded while the sender still runs")
        assert sender.poll() is None
    _, samples = _metrics(api)
    assert _shown(samples, "texting_messages") == _counted(db, "messages")

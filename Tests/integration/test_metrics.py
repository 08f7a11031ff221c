"""GET /metrics: Prometheus text for local scrapers, with figures that follow the system."""
import re

from conftest import new_number, run_sender


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

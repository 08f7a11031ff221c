import copy

from texting_support.bench_report import render, render_batch, render_reads

SERIES = {
    "ingest": [900.0, 1100.0, 1000.0], "ingest_p50": [1.0, 1.1, 1.2], "ingest_p99": [9.0, 9.5, 8.0],
    "nginx_alone": [20000.0, 21000.0, 19000.0], "pgbench": [400.0, 420.0, 410.0], "pgbench_obvious": [1000.0, 1000.0, 1000.0],
    "kannel_accept": [500.0, 500.0, 500.0], "kannel_p50": [2.0] * 3, "kannel_p99": [20.0] * 3,
    "reads": [5000.0] * 3, "reads_p50": [1.0] * 3, "reads_p99": [4.0] * 3, "trivial": [10000.0] * 3, "trivial_p50": [0.5] * 3,
    "trivial_p99": [2.0] * 3, "drain": [3000.0, 3100.0, None], "mock_alone": [6000.0] * 3, "pg_sender": [9000.0] * 3,
    "drain_same": [3500.0] * 3, "kannel_forward": [3000.0] * 3, "kannel_forwarded": [1000] * 3,
    "webhooks": [3300.0, 2900.0, 3200.0],
}
LATENCY = {"count": 1000, "sent": 1000, "accepted": 990, "issued": 1000.0, "p50": 12.5, "p90": 20.0, "p99": 80.0, "max": 120.0,
           "load": "1000 requests issued", "cpu": "MessagesFCGI 20 %"}
RESULTS = {
    "command": "make bench", "date": "2026-12-03 12:00 UTC", "revision": "abc1234", "elapsed": 300,
    "machine": "2 cores, a CPU, 24 GiB RAM, Linux 6", "load": "1.0 1.0 1.0", "reps": 3, "duration": 5,
    "wrk_threads": 2, "wrk_connections": 32, "pgbench_clients": 8, "fcgi_threads": 32, "read_messages": 10000,
    "sender_messages": 20000, "sender_batch": 100, "kannel_version": "1.4.5", "kannel_note": "",
    "series": SERIES, "latency_rate": 1000, "latency_seconds": 10, "callback_ms": 100,
    "latency": {"target": LATENCY, "callbacks": None},
    "idle": {"seconds": 5, "tps": 3, "cpu": 1, "queue": 0},
    "memory": [["MessagesFCGI (FastCGI)", "10.0 MiB", "12.0 MiB", "< 32 MiB: met"]],
    "problems": [], "pgbench_failed": 0, "work_dir": ".run/bench/bench",
}


def _row(report, start):
    return next(line for line in report.splitlines() if line.startswith(start))


def test_each_figure_is_its_median_beside_its_ceiling_with_the_ratio_and_target():
    report = render(RESULTS)
    row = _row(report, "| Ingest: `POST /messages`")
    assert "| 1,000 requests/s |" in row and "1,000 transactions/s | 100 % | ≥ 100 %: met |" in row
    assert "| 2,000 requests/s" not in row
    kannel = _row(report, "| Ingest, as above | 1,000 requests/s | Kannel")
    assert "500 accepted/s | 200 % | aim past the target, ≥ 100 %: reached |" in kannel
    # A failed repetition is left out of the median and shown as n/a among the raw values.
    assert "| 3,050 messages/s |" in _row(report, "| Sender: `SenderCron --once` draining 20,000 queued")
    assert "- sender drain to the mock providers, messages/s: 3000.0, 3100.0, n/a" in report


def test_latency_targets_and_an_unsustained_load_are_said():
    report = render(RESULTS)
    row = _row(report, "| Accepted → sent")
    assert "p50 < 100 ms: met; p99 < 1 s: met |" in row and "not sustained" not in row
    slow = copy.deepcopy(RESULTS)
    slow["latency"]["target"].update(accepted=600, p99=1500.0)
    row = _row(render(slow), "| Accepted → sent")
    assert "p99 < 1 s: **not met**; but **the fixed load was not sustained** (600/s accepted of 1000/s)" in row
    assert "Diagnostic: the same with the mock providers calling back" not in render(RESULTS)
    with_callbacks = copy.deepcopy(RESULTS)
    with_callbacks["latency"]["callbacks"] = dict(LATENCY, p50=30.0)
    assert "calling back after 100 ms" in _row(render(with_callbacks), "| Diagnostic: the same")


def test_webhook_dispatch_is_set_beside_the_sender_and_report_latency_has_its_targets():
    report = render(RESULTS)
    row = _row(report, "| Webhooks: `SenderCron --once` dispatching 20,000")
    # Median 3,200 against the sender's median 3,050: 105 %.
    assert "| 3,200 deliveries/s |" in row and "3,050 messages/s | 105 % | ≥ 100 %: met |" in row
    assert "not measured (it is measured in the run with callbacks" in _row(report, "| Provider's report → the client's webhook")
    measured = copy.deepcopy(RESULTS)
    measured["latency"]["callbacks"] = dict(LATENCY, webhook={"count": 1000, "arrived": 1000, "p50": 40.0, "p90": 80.0,
                                                              "p99": 1200.0, "max": 1500.0})
    row = _row(render(measured), "| Provider's report → the client's webhook")
    assert "p50 40.0 ms" in row and "(1000 of 1000 arrived)" in row
    assert "p50 < 100 ms: met; p99 < 1 s: **not met** |" in row
    slow = copy.deepcopy(RESULTS)
    slow["series"]["webhooks"] = [1000.0] * 3
    assert "| 33 % | ≥ 100 %: **not met** |" in _row(render(slow), "| Webhooks:")


def test_without_kannel_its_cells_say_why_and_no_ratio_is_claimed():
    no_kannel = copy.deepcopy(RESULTS)
    no_kannel["kannel_note"] = "Kannel skipped (BENCH_KANNEL=0)"
    for name in ("kannel_accept", "kannel_p50", "kannel_p99", "kannel_forward", "kannel_forwarded"):
        no_kannel["series"][name] = []
    report = render(no_kannel)
    kannel = _row(report, "| Ingest, as above | 1,000 requests/s | Kannel")
    assert "not measured (Kannel skipped (BENCH_KANNEL=0)) | n/a | aim past the target, ≥ 100 %: not measured |" in kannel
    assert "- Kannel skipped (BENCH_KANNEL=0)" in report


def test_problems_and_memory_are_listed():
    report = render(dict(RESULTS, problems=["ingest, repetition 2, answers other than 201: 503=4"]))
    assert "**Problems in this run:**\n\n- ingest, repetition 2, answers other than 201: 503=4" in report
    assert "| MessagesFCGI (FastCGI) | 10.0 MiB | 12.0 MiB | < 32 MiB: met |" in report
    assert "**Problems in this run:**" not in render(RESULTS)


def test_growth_compares_each_request_and_ingest_as_its_ratio_to_the_ceiling_run_after_it():
    requests = {"get": 2.0, "list": 9.0, "list_failed": 7.0, "list_queued": 5.0, "list_number": 3.0, "list_number_status": 2.5, "scrape": 3.0}
    grown = dict(requests, list_failed=9.0, scrape=60.0)
    growth = {
        "messages": 20_000_000, "small_messages": 1_000, "days": 360, "large_load_seconds": 400.0,
        "small": dict(requests, ingest=4000.0, ingest_runs=[4100.0, 4000.0, 3000.0], ceiling=2000.0, ceiling_runs=[2000.0, 2100.0, 1900.0]),
        # The machine slowed down between the two: the ceiling fell with the ingest.
        "large": dict(grown, ingest=3000.0, ingest_runs=[3000.0, 3100.0, 2900.0], ceiling=1550.0, ceiling_runs=[1550.0, 1500.0, 1600.0]),
        "drop": {"seconds": 0.5, "messages": 900_000, "partition": "messages_20251202", "days": 342, "ingest": 2500.0, "ceiling": 1500.0,
                 "output": ""},
    }
    report = render(dict(RESULTS, growth=growth))
    assert "| 2.00 ms | 2.00 ms | 100 % | ≤ 120 %: met |" in _row(report, "| `GET /messages/{id}`")
    assert "| 129 % | ≤ 120 %: **not met** |" in _row(report, "| `GET /messages?status=failed")
    assert "< 50 ms: **not met** |" in _row(report, "| `GET /metrics`")
    # 4,000 / 2,000 = 200 % at first, 3,000 / 1,550 = 194 % later: 97 % of it.
    ingest = _row(report, "| Ingest: `POST /messages` (wrk, 5 s, medians of 3 runs)")
    assert "| 4,000 requests/s, 200 % of 2,000 | 3,000 requests/s, 194 % of 1,550 | 97 % | ≥ 95 %: met |" in ingest
    # 2,500 / 1,500 = 167 % during the drop against 194 %: 86 %.
    assert "| 86 % | ≥ 95 %: **not met** |" in _row(report, "| Ingest while it runs")
    assert "- growth ingest requests/s over 1,000 messages: 4100, 4000, 3000 (ceilings after each, transactions/s: 2000, 2100, 1900)" in report


def test_batch_ingest_is_set_beside_the_same_inserts_in_pgbench_and_beside_kannel():
    results = copy.deepcopy(RESULTS)
    results["batch"] = 100
    results["series"].update({"batch": [30000.0, 36000.0, 34000.0], "batch_p50": [50.0] * 3, "batch_p99": [90.0] * 3,
                              "pgbench_batch": [50000.0, 40000.0, 45000.0]})
    report = render(results)
    row = _row(report, "| Batch ingest: `POST /messages/batch`, 100 messages a request")
    assert "| 34,000 messages/s |" in row and "45,000 messages/s | 76 % | ≥ 70 %: met |" in row
    kannel = _row(report, "| Batch ingest, as above")
    assert "500 accepted/s | 6800 % | ≥ 200 %: met |" in kannel
    assert "- batch ingest messages/s: 30000, 36000, 34000;" in report
    results["series"]["pgbench_batch"] = [60000.0] * 3
    assert "≥ 70 %: **not met**" in _row(render(results), "| Batch ingest: `POST /messages/batch`")
    # Not measured (an older run): no row.
    assert "Batch ingest" not in render(RESULTS)


def test_the_batch_rows_alone_have_their_ratios_and_raw_values():
    results = copy.deepcopy(RESULTS)
    results["batch"] = 100
    results["series"] = {"batch": [30000.0, 36000.0, 34000.0], "batch_p50": [50.0] * 3, "batch_p99": [90.0] * 3,
                         "pgbench_batch": [50000.0, 40000.0, 45000.0], "kannel_accept": [20000.0, 16000.0, 18000.0]}
    report = render_batch(results)
    assert report.startswith("# Benchmark results: batch ingest alone (BENCH_ONLY=batch)")
    assert "45,000 messages/s | 76 % | ≥ 70 %: met |" in _row(report, "| Batch ingest: `POST /messages/batch`")
    # 34,000 against 18,000: 189 %.
    assert "18,000 accepted/s | 189 % | ≥ 200 %: **not met** |" in _row(report, "| Batch ingest, as above")
    assert "- Kannel sendsms accepted/s: 20000, 16000, 18000" in report


def test_the_reads_rows_alone_hold_the_read_path_to_half_the_trivial_responder():
    results = copy.deepcopy(RESULTS)
    results["series"] = {"reads": [3000.0, 3300.0, 3200.0], "reads_p50": [5.0] * 3, "reads_p99": [9.0] * 3,
                         "trivial": [11000.0, 12000.0, 10000.0], "trivial_p50": [1.0] * 3, "trivial_p99": [2.0] * 3}
    report = render_reads(results)
    assert report.startswith("# Benchmark results: the read path alone (BENCH_ONLY=reads)")
    # 3,200 against 11,000: 29 %.
    assert "| 3,200 requests/s |" in _row(report, "| Reads:") and "| 29 % | ≥ 50 %: **not met** |" in _row(report, "| Reads:")
    assert "- reads requests/s: 3000, 3300, 3200" in report
    results["series"]["reads"] = [6000.0] * 3
    assert "| 55 % | ≥ 50 %: met |" in _row(render_reads(results), "| Reads:")
    # The full report's row is the same one.
    full = copy.deepcopy(RESULTS)
    full["series"].update(results["series"])
    assert _row(render(full), "| Reads:") == _row(render_reads(results), "| Reads:")


def _whole_loop_run(rate, wal, updated, hot, kept_up=True):
    measured = {"rate": rate, "seconds": 60, "count": rate * 60, "delivered": rate * 60, "p50": 40.0, "p99": 300.0, "kept_up": kept_up,
                "why": "" if kept_up else "p99 accepted -> delivered 1500.0 ms", "wal_bytes": wal,
                "cpu_us": {"PostgreSQL": 700, "MessagesFCGI": 120},
                "tables": {"messages": {"inserted": 1.0, "updated": updated, "hot": hot, "deleted": 0.0, "index_entries": 30.0},
                           "jobs": {"inserted": 1.0, "updated": 1.0, "hot": 0.0, "deleted": 1.0, "index_entries": 4.0}}}
    return {"label": "x", "probe_seconds": 20, "probes": [f"{rate}/s kept up"], "callback_ms": 100, "measured": measured}


def test_the_whole_loop_says_the_rate_kept_up_and_what_each_message_wrote_against_its_targets():
    whole_loop = {"empty": dict(_whole_loop_run(900, 4200, 3.0, 0.0), label="empty database"),
                  "stored": dict(_whole_loop_run(700, 2900, 3.0, 2.85), label="20,000,000 messages stored")}
    report = render(dict(RESULTS, whole_loop=whole_loop))
    empty = _row(report, "| empty database |")
    # Rows: messages 1 + 3 + 0, jobs 1 + 1 + 1 = 7; index entries 30 + 4.
    assert "| 900 messages/s for 60 s | 40.0 / 300.0 ms (54,000 of 54,000 delivered) | 4,200 bytes | 0 % | 7.0 / 34.0 |" in empty
    assert "PostgreSQL 700 µs, MessagesFCGI 120 µs" in empty
    assert "WAL ≤ 2 KB: **not met**; HOT ≥ 90 %: **not met** |" in empty
    stored = _row(report, "| 20,000,000 messages stored |")
    # 2,900 against 1.5 × 4,200; 2.85 of 3 updates HOT.
    assert "| 95 % |" in stored and "WAL ≤ 1.5 × the empty database's: met; HOT ≥ 90 %: met |" in stored
    assert "- whole loop (empty database), probes of 20 s: 900/s kept up" in report


def test_a_whole_loop_that_never_kept_up_says_why():
    whole_loop = {"empty": dict(_whole_loop_run(300, 4000, 3.0, 0.0, kept_up=False), label="empty database")}
    row = _row(render(dict(RESULTS, whole_loop=whole_loop)), "| empty database |")
    assert "**none** (300/s: p99 accepted -> delivered 1500.0 ms)" in row

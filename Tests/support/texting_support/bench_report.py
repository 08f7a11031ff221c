"""The benchmark's report (bench/results/latest.md), rendered from one run's results: a
pure function of the dictionary the driver (bench/bench.py) fills, so its wording and
arithmetic are tested without a stack."""
from .stats import aim_ratio, joined, median, ratio, target_below, target_ratio, whole


def _kannel_cell(value, unit, note):
    return f"not measured ({note or 'no Kannel'})" if value is None else f"{whole(value)} {unit}"


def _batch_rows(r, m, kannel, note):
    """Batch ingest, when measured: against the database doing the same inserts, and Kannel."""
    batch = m.get("batch")
    if batch is None:
        return []
    size, wt, wc, pc = r.get("batch", 100), r["wrk_threads"], r["wrk_connections"], r["pgbench_clients"]
    return [
        f"| Batch ingest: `POST /messages/batch`, {size} messages a request (wrk -t{wt} -c{wc}, API key, varied numbers and bodies, "
        f"every message accepted) | {whole(batch)} messages/s | pgbench, the service's own `messages.accept` with the same {size} rows a "
        f"transaction (a multi-row insert into phone_numbers, messages and jobs; -M simple, {pc} clients): {whole(m.get('pgbench_batch'))} "
        f"messages/s | {ratio(batch, m.get('pgbench_batch'))} | ≥ 70 %: {target_ratio(batch, m.get('pgbench_batch'), 0.7)} |",
        f"| Batch ingest, as above | {whole(batch)} messages/s | Kannel `sendsms`, as above: {_kannel_cell(kannel, 'accepted/s', note)} | "
        f"{ratio(batch, kannel)} | ≥ 200 %: {target_ratio(batch, kannel, 2.0)} |",
    ]


def _rate_rows(r, m):
    """The sender against a provider with a contracted rate, when measured."""
    tps = r.get("rate_tps")
    if tps is None:
        return []
    rate, refused = m.get("rate_limited"), max((n for n in r["series"].get("rate_limited_429", []) if n is not None), default=None)
    count = min(r["sender_messages"], tps * 5)
    met = "not measured" if rate is None or refused is None else "met" if rate >= 0.95 * tps and refused == 0 else "**not met**"
    return [f"| A provider with a contracted rate: SenderCron as the timer runs it draining {whole(count)} messages to one mock "
            f"provider configured `;tps={tps}`, the mock answering 429 above that rate | {whole(rate)} messages/s accepted; "
            f"{'n/a' if refused is None else refused} answered 429 (most in a repetition) | the contracted rate: {whole(tps)}/s | "
            f"{ratio(rate, tps)} | ≥ 95 % and no 429: {met} |"]


def _latency_rows(r):
    t = r["latency"]["target"]
    rate = r["latency_rate"]
    sustained = "" if t["accepted"] is None or t["accepted"] >= 0.95 * rate else \
        f"; but **the fixed load was not sustained** ({t['accepted']:.0f}/s accepted of {rate}/s)"
    rows = [
        f"| Accepted → sent (`sent_at - created_at`), {whole(rate)} messages/s offered for {r['latency_seconds']} s (open loop; "
        f"issued at {whole(t['issued'])}/s, accepted at {whole(t['accepted'])}/s), sender started as the timer starts it "
        f"(`scripts/stack sender-loop`), the providers accepting only | p50 {t['p50']} ms, p90 {t['p90']} ms, p99 {t['p99']} ms, "
        f"max {t['max']} ms ({t['sent']} of {t['count']} sent) | – | – | p50 < 100 ms: {target_below(t['p50'], 100)}; "
        f"p99 < 1 s: {target_below(t['p99'], 1000)}{sustained} |"
    ]
    c = r["latency"].get("callbacks")
    if c:
        rows.append(
            f"| Diagnostic: the same with the mock providers calling back after {r['callback_ms']} ms (DeliveryFCGI records each "
            f"callback; the mocks send them from these cores too); issued at {whole(c['issued'])}/s, accepted at {whole(c['accepted'])}/s "
            f"| p50 {c['p50']} ms, p90 {c['p90']} ms, p99 {c['p99']} ms, max {c['max']} ms ({c['sent']} of {c['count']} sent) | – | – | – |")
    w = (c or {}).get("webhook")
    if w:
        rows.append(
            f"| Provider's report → the client's webhook, in that run (a webhook endpoint of the key for `message.delivered` and "
            f"`message.failed` on a local receiver, nginx answering 204; from the `message.delivered` event, written in the transaction that applied the report, to the "
            f"receiver's log line) | p50 {w['p50']} ms, p90 {w['p90']} ms, p99 {w['p99']} ms, max {w['max']} ms ({w['arrived']} of "
            f"{w['count']} arrived) | – | – | p50 < 100 ms: {target_below(w['p50'], 100)}; p99 < 1 s: {target_below(w['p99'], 1000)} |")
    else:
        rows.append("| Provider's report → the client's webhook | not measured (it is measured in the run with callbacks; "
                    "BENCH_LATENCY_CALLBACK_MS=-1 skips it) | – | – | – |")
    return rows


def _latency_raw(r):
    lines = [f"- latency load (providers accepting only): {r['latency']['target']['load']}",
             f"- CPU meanwhile, % of one core: {r['latency']['target']['cpu']}"]
    c = r["latency"].get("callbacks")
    if c:
        lines += [f"- latency load with callbacks: {c['load']}", f"- CPU meanwhile, % of one core: {c['cpu']}"]
    return lines


GROWTH_REQUESTS = [
    ("get", "`GET /messages/{id}` (200 ids, one at a time)"),
    ("list", "`GET /messages?limit=20`"),
    ("list_failed", "`GET /messages?status=failed&limit=20`"),
    ("list_queued", "`GET /messages?status=queued&limit=20` (none queued)"),
    ("list_number", "`GET /messages?to_number=…&limit=20`"),
    ("list_number_status", "`GET /messages?to_number=…&status=delivered&limit=20`"),
    ("scrape", "`GET /metrics` (a scrape)"),
]


def _growth_rows(r):
    """Issue 16's table: each request over a small history and a large one."""
    g = r.get("growth")
    if not g:
        return []
    small, large = g["small"], g["large"]
    lines = [
        "",
        f"Growth: the same requests over {whole(g['small_messages'])} stored messages and over {whole(g['messages'])} (loaded in SQL in "
        f"{g['large_load_seconds']} s: 97 % delivered, 2 % failed, 1 % sent, four to a number, one key, made over the last "
        f"{g.get('days', 360)} days, so in the partitions of about fifteen spans); each a median of single requests "
        "through nginx, the ingest wrk as above:",
        "",
        f"| request | over {whole(g['small_messages'])} | over {whole(g['messages'])} | ratio | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, label in GROWTH_REQUESTS:
        a, b = small[key], large[key]
        target = "≤ 120 %: " + ("met" if b <= 1.2 * a else "**not met**")
        if key == "scrape":
            target += "; < 50 ms: " + ("met" if b < 50 else "**not met**")
        lines.append(f"| {label} | {a:.2f} ms | {b:.2f} ms | {ratio(b, a)} | {target} |")
    # Ingest as its ratio to the ceiling measured right after it (pgbench's obvious transaction
    # on an empty database): what the history costs, not the machine's drift between the two.
    a, b = small["ingest"] / small["ceiling"], large["ingest"] / large["ceiling"]
    runs = len(small["ingest_runs"])
    lines.append(f"| Ingest: `POST /messages` (wrk, {r['duration']} s{f', medians of {runs} runs' if runs > 1 else ''}), as a ratio to pgbench's "
                 f"obvious transaction on an empty database run after each | {whole(small['ingest'])} requests/s, {ratio(small['ingest'], small['ceiling'])} "
                 f"of {whole(small['ceiling'])} | {whole(large['ingest'])} requests/s, {ratio(large['ingest'], large['ceiling'])} of "
                 f"{whole(large['ceiling'])} | {ratio(b, a)} | ≥ 95 %: {'met' if b >= 0.95 * a else '**not met**'} |")
    drop = g.get("drop")
    if drop:
        during = drop["ingest"] / drop["ceiling"]
        lines += [
            "",
            f"Retention over the large history: `textingctl partitions maintain` with TEXTING_RETENTION_DAYS={drop['days']} drops its "
            f"oldest span (`{drop['partition']}`, {whole(drop['messages'])} messages) while wrk ingests:",
            "",
            "| figure | value | compared with | ratio | target |",
            "| --- | --- | --- | --- | --- |",
            f"| Dropping the span (detached concurrently, dropped, its status counts forgotten; the whole command) | {drop['seconds']:.2f} s "
            f"| – | – | < 1 s: {'met' if drop['seconds'] < 1 else '**not met**'} |",
            f"| Ingest while it runs (wrk, {r['duration']} s), as a ratio to the same ceiling run after it | {whole(drop['ingest'])} requests/s, "
            f"{ratio(drop['ingest'], drop['ceiling'])} of {whole(drop['ceiling'])} | ingest over the large history: {ratio(large['ingest'], large['ceiling'])} "
            f"| {ratio(during, b)} | ≥ 95 %: {'met' if during >= 0.95 * b else '**not met**'} |",
        ]
    return lines


def _whole_loop_rows(r):
    """Issue 19's table: the whole loop at once (accept, send, record, report), on an empty
    database and over the stored history, with what each delivered message cost."""
    w = r.get("whole_loop")
    if not w:
        return []
    empty = w.get("empty", {}).get("measured", {})

    def per_message(m):
        tables = m.get("tables", {})
        rows = sum(t["inserted"] + t["updated"] + t["deleted"] for t in tables.values())
        entries = sum(t["index_entries"] for t in tables.values())
        messages = tables.get("messages", {})
        hot = messages["hot"] / messages["updated"] if messages.get("updated") else None
        return rows, entries, hot

    lines = ["", f"The whole loop (accept, send, record, report at once; the mock providers calling back after "
                 f"{w['empty']['callback_ms']} ms): the highest offered rate of those tried that kept up for the measured run "
                 f"(every message accepted, all delivered within 30 s of the load's end, p99 accepted → delivered under 1 s, the "
                 f"queue never deeper than a second of messages in the load's second half), and what each delivered message cost "
                 f"then (statistics from `pg_stat_user_tables` and `pg_current_wal_lsn`; index entries: every index of a table for "
                 f"each row version that was not HOT, so partial indexes count as if they took every row: an upper bound):", "",
             "| stored | kept up at | p50 / p99 accepted → delivered | WAL per message | HOT share of `messages` updates | rows / index entries written per message | CPU per message | target |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for key in ("empty", "stored"):
        if key not in w:
            continue
        run = w[key]
        m = run["measured"]
        rows, entries, hot = per_message(m)
        cpu = ", ".join(f"{name} {us} µs" for name, us in sorted(m.get("cpu_us", {}).items(), key=lambda item: -item[1]))
        kept = f"{whole(m['rate'])} messages/s for {m['seconds']} s" if m["kept_up"] else f"**none** ({whole(m['rate'])}/s: {m['why']})"
        wal = m.get("wal_bytes")
        if key == "empty":
            target = f"WAL ≤ 2 KB: {target_below(wal, 2048)}; HOT ≥ 90 %: {'met' if hot is not None and hot >= 0.9 else '**not met**'}"
        else:
            fresh = empty.get("wal_bytes")
            target = (f"WAL ≤ 1.5 × the empty database's: {target_below(wal, 1.5 * fresh) if fresh else 'not measured'}; "
                      f"HOT ≥ 90 %: {'met' if hot is not None and hot >= 0.9 else '**not met**'}")
        lines.append(f"| {run['label']} | {kept} | {m['p50']} / {m['p99']} ms ({whole(m['delivered'])} of {whole(m['count'])} delivered) | "
                     f"{whole(wal)} bytes | {'n/a' if hot is None else f'{100 * hot:.0f} %'} | {rows:.1f} / {entries:.1f} | {cpu} | {target} |")
    lines.append("")
    for key in ("empty", "stored"):
        if key not in w:
            continue
        run = w[key]
        lines.append(f"- whole loop ({run['label']}), probes of {run['probe_seconds']} s: {'; '.join(run['probes'])}")
        tables = run["measured"].get("tables", {})
        if tables:
            lines.append(f"- whole loop ({run['label']}), per delivered message, each table's rows inserted / updated (HOT) / deleted, "
                         "index entries: " + "; ".join(
                             f"{name} {t['inserted']:.2f} / {t['updated']:.2f} ({t['hot']:.2f}) / {t['deleted']:.2f}, {t['index_entries']:.1f}"
                             for name, t in sorted(tables.items(), key=lambda item: -item[1]["index_entries"])))
    return lines


def _growth_raw(r):
    g = r.get("growth")
    if not g:
        return []
    return [f"- growth ingest requests/s over {whole(g['small_messages'])} messages: {joined(g['small']['ingest_runs'])} (ceilings after each, "
            f"transactions/s: {joined(g['small']['ceiling_runs'])}); over {whole(g['messages'])}: {joined(g['large']['ingest_runs'])} "
            f"(ceilings {joined(g['large']['ceiling_runs'])})"]


def render(r):
    """The report's Markdown."""
    s = r["series"]
    m = {name: median(values) for name, values in s.items()}
    wt, wc, pc = r["wrk_threads"], r["wrk_connections"], r["pgbench_clients"]
    kannel_accept = m.get("kannel_accept")
    kannel_forward = m.get("kannel_forward")
    note = r.get("kannel_note") or ""
    ingest, drain, drain_same = m["ingest"], m["drain"], m["drain_same"]
    lines = [
        "# Benchmark results",
        "",
        f"- Command: `{r['command']}` (scripts/bench), {r['date']}, revision {r['revision']}; whole run {r['elapsed']} s",
        f"- Machine: {r['machine']}; load average at the end: {r['load']}",
        "- Everything on 127.0.0.1, load generators included, on the same cores. Each figure and its ceiling measured one after "
        f"the other, {r['reps']} times ({r['duration']} s each, figure, ceiling, figure, ceiling, …); medians quoted, raw values below. "
        "The machine is shared and noisy: compare ratios rather than absolute figures.",
        "- nginx: rate limits off for capacity measurement (the shipped site's `limit_req` lines removed from the rendered copy "
        f"only); 1 worker, as scripts/stack runs it. Kannel: Debian's kannel {r['kannel_version']}, bench/kannel.conf.",
        "",
        "| figure | value | ceiling (same run) | ratio | target |",
        "| --- | --- | --- | --- | --- |",
        f"| Ingest: `POST /messages` through nginx + MessagesFCGI (wrk -t{wt} -c{wc}, API key, varied numbers and bodies) | "
        f"{whole(ingest)} requests/s | pgbench, the obvious transaction (upsert the number, insert the message, insert the job; "
        f"3 prepared statements, -M prepared), {pc} clients, unix socket, synchronous commit on: {whole(m['pgbench_obvious'])} "
        f"transactions/s | {ratio(ingest, m['pgbench_obvious'])} | ≥ 100 %: {target_ratio(ingest, m['pgbench_obvious'])} |",
        f"| Ingest, as above | {whole(ingest)} requests/s | Kannel `sendsms` (wrk -t{wt} -c{wc}, GET, file store, forwarding held "
        f"back): {_kannel_cell(kannel_accept, 'accepted/s', note)} | {ratio(ingest, kannel_accept)} | aim past the target, ≥ 100 %: "
        f"{aim_ratio(ingest, kannel_accept)} |",
        *_batch_rows(r, m, kannel_accept, note),
        f"| Ingest, as above (diagnostic) | {whole(ingest)} requests/s | pgbench, the service's own `messages.accept` one message "
        f"per transaction (a lone request's commit; group commit batches them), -M simple, {pc} clients: {whole(m['pgbench'])} "
        f"transactions/s | {ratio(ingest, m['pgbench'])} | – |",
        f"| Ingest, as above | {whole(ingest)} requests/s | nginx alone (`return 200`, same worker): {whole(m['nginx_alone'])} "
        f"requests/s | {ratio(ingest, m['nginx_alone'])} | – |",
        _reads_row(r, m),
        f"| Sender: `SenderCron --once` draining {whole(r['sender_messages'])} queued messages to the 2 mock providers (callbacks "
        f"off), every outcome recorded | {whole(drain)} messages/s | the 2 mock providers alone, `POST /send` with the same body "
        f"shape (wrk, 2 × {wc // 2} connections): {whole(m['mock_alone'])} requests/s | {ratio(drain, m['mock_alone'])} | – |",
        f"| Sender, as above | {whole(drain)} messages/s | pgbench draining the same queue with the sender's claim and record SQL "
        f"(`jobs.claim` {r['sender_batch']}, `jobs.mark_sent` for the batch; -M prepared, 1 client): {whole(m['pg_sender'])} jobs/s "
        f"| {ratio(drain, m['pg_sender'])} | – |",
        f"| Sender: `SenderCron --once` draining {whole(r['sender_messages'])} to the provider endpoint Kannel forwards to (nginx: "
        f"200 `{{\"message_id\":…}}`) | {whole(drain_same)} messages/s | Kannel forwarding what it accepted (its file store "
        f"reloaded) to the same endpoint, `max-pending-submits = 100`: {_kannel_cell(kannel_forward, 'messages/s', note)} | "
        f"{ratio(drain_same, kannel_forward)} | ≥ 100 %: {target_ratio(drain_same, kannel_forward)} |",
        f"| Webhooks: `SenderCron --once` dispatching {whole(r['sender_messages'])} queued `message.delivered` webhooks (signed, "
        f"one per message) to a local receiver (nginx: 204), every attempt recorded | {whole(m.get('webhooks'))} deliveries/s | the "
        f"sender draining {whole(r['sender_messages'])} messages to the 2 mock providers, same run: {whole(drain)} messages/s | "
        f"{ratio(m.get('webhooks'), drain)} | ≥ 100 %: {target_ratio(m.get('webhooks'), drain)} |",
        *_rate_rows(r, m),
        *_latency_rows(r),
        f"| Sender loop idle after that load (queue: {r['idle']['queue']} jobs), over {r['idle']['seconds']} s | "
        f"{r['idle']['tps']} database transactions/s; SenderCron + PostgreSQL use {r['idle']['cpu']} % of a core | – | – | – |",
        "",
        "Memory after the run (VmRSS; VmHWM is the process's peak):",
        "",
        "| process | RSS | peak | target |",
        "| --- | --- | --- | --- |",
        *[f"| {label} | {rss} | {peak} | {target} |" for label, rss, peak, target in r["memory"]],
        *_growth_rows(r),
        *_whole_loop_rows(r),
        "",
        "Raw values, in repetition order:",
        "",
        f"- ingest requests/s: {joined(s['ingest'])}; wrk latency p50 ms: {joined(s['ingest_p50'])}, p99 ms: {joined(s['ingest_p99'])}",
        f"- pgbench, the obvious transaction, transactions/s: {joined(s['pgbench_obvious'])}",
        *([f"- batch ingest messages/s: {joined(s['batch'])}; wrk latency p50 ms: {joined(s['batch_p50'])}, p99 ms: {joined(s['batch_p99'])}; "
           f"pgbench with the same batches, messages/s: {joined(s['pgbench_batch'])}"] if s.get("batch") else []),
        f"- pgbench, the service's accept one message per transaction, transactions/s: {joined(s['pgbench'])} "
        f"(failed transactions in both: {r['pgbench_failed']})",
        f"- Kannel sendsms accepted/s: {joined(s['kannel_accept'])}; wrk latency p50 ms: {joined(s['kannel_p50'])}, "
        f"p99 ms: {joined(s['kannel_p99'])}",
        f"- nginx alone requests/s: {joined(s['nginx_alone'])}",
        f"- reads requests/s: {joined(s['reads'])}; p50 ms: {joined(s['reads_p50'])}, p99 ms: {joined(s['reads_p99'])}",
        f"- trivial FastCGI responder requests/s: {joined(s['trivial'])}; p50 ms: {joined(s['trivial_p50'])}, "
        f"p99 ms: {joined(s['trivial_p99'])}",
        f"- sender drain to the mock providers, messages/s: {joined(s['drain'], 1)}",
        f"- mock providers alone requests/s (sum of both): {joined(s['mock_alone'], 2)}",
        f"- pgbench with the sender's SQL, jobs/s: {joined(s['pg_sender'], 1)}",
        f"- sender drain to the provider endpoint, messages/s: {joined(s['drain_same'], 1)}",
        f"- webhook dispatch to the receiver, deliveries/s: {joined(s.get('webhooks', []), 1)}",
        f"- sender to a provider with a contracted rate, messages/s: {joined(s.get('rate_limited', []), 1)} "
        f"(429s: {joined(s.get('rate_limited_429', []))})",
        f"- Kannel forwarding to the provider endpoint, messages/s: {joined(s['kannel_forward'], 1)} (messages forwarded: "
        f"{joined(s['kannel_forwarded'])})",
        *_latency_raw(r),
        *_growth_raw(r),
    ]
    if note:
        lines.append(f"- {note}")
    if r["problems"]:
        lines += ["", "**Problems in this run:**", ""] + [f"- {p}" for p in r["problems"]]
    lines += [
        "",
        "How: the pgbench scripts for the service's SQL are rendered from `textingctl sql`",
        "(bench/pgbench_ingest.py, bench/pgbench_sender.py), so those ceilings run the statements the",
        "service runs; the obvious transaction is bench/pgbench_obvious.sql. Tables are emptied and",
        "checkpointed before each measurement that writes; queues are inserted in one statement and",
        "analyzed. Drain rates are messages over the whole SenderCron run (start-up included) and,",
        "for Kannel, forwarded messages from the first to the last forward after bearerbox restarted",
        "on its store. Kannel accepts with forwarding held back (`throughput = 1`), as POST /messages",
        "accepts with no sender running; its file store does not fsync each message, PostgreSQL",
        f"commits each accept durably. Raw outputs of this run: {r['work_dir']}/.",
    ]
    return "\n".join(lines) + "\n"


def render_batch(r):
    """The report of `BENCH_ONLY=batch`: batch ingest beside pgbench and Kannel alone."""
    s = r["series"]
    m = {name: median(values) for name, values in s.items()}
    note = r.get("kannel_note") or ""
    return "\n".join([
        "# Benchmark results: batch ingest alone (BENCH_ONLY=batch)",
        "",
        f"- Command: `BENCH_ONLY=batch scripts/bench`, {r['date']}, revision {r['revision']}; whole run {r['elapsed']} s",
        f"- Machine: {r['machine']}; load average at the end: {r['load']}",
        f"- {r['reps']} repetitions of {r['duration']} s each (Kannel, batch, pgbench, …); medians quoted, raw values below.",
        "",
        "| figure | value | ceiling (same run) | ratio | target |",
        "| --- | --- | --- | --- | --- |",
        *_batch_rows(r, m, m.get("kannel_accept"), note),
        "",
        f"- batch ingest messages/s: {joined(s['batch'])}; wrk latency p50 ms: {joined(s['batch_p50'])}, p99 ms: {joined(s['batch_p99'])}; "
        f"pgbench with the same batches, messages/s: {joined(s['pgbench_batch'])}",
        f"- Kannel sendsms accepted/s: {joined(s['kannel_accept'])}",
        *([f"- {note}"] if note else []),
        *([""] + ["**Problems in this run:**", ""] + [f"- {p}" for p in r["problems"]] if r["problems"] else []),
    ]) + "\n"


def _reads_row(r, m):
    """The reads row: GET /messages/{id} beside the trivial responder, against half of it."""
    reads, trivial = m["reads"], m["trivial"]
    met = "met" if reads is not None and trivial and reads >= 0.5 * trivial else "**not met**"
    return (f"| Reads: `GET /messages/{{id}}` through nginx + MessagesFCGI (wrk -t{r['wrk_threads']} -c{r['wrk_connections']}, API key, "
            f"{whole(r['read_messages'])} stored ids) | {whole(reads)} requests/s | a trivial FastCGI responder (C, libfcgi, "
            f"{r['fcgi_threads']} threads, the same answer bytes) behind the same nginx: {whole(trivial)} requests/s | "
            f"{ratio(reads, trivial)} | ≥ 50 %: {met} |")


def render_reads(r):
    """The report of `BENCH_ONLY=reads`: GET /messages/{id} beside the trivial responder alone."""
    s = r["series"]
    m = {name: median(values) for name, values in s.items()}
    return "\n".join([
        "# Benchmark results: the read path alone (BENCH_ONLY=reads)",
        "",
        f"- Command: `BENCH_ONLY=reads scripts/bench`, {r['date']}, revision {r['revision']}; whole run {r['elapsed']} s",
        f"- Machine: {r['machine']}; load average at the end: {r['load']}",
        f"- {r['reps']} repetitions of {r['duration']} s each (the service's reads, then the trivial responder's); medians quoted, raw values below.",
        "",
        "| figure | value | ceiling (same run) | ratio | target |",
        "| --- | --- | --- | --- | --- |",
        _reads_row(r, m),
        "",
        f"- reads requests/s: {joined(s['reads'])}; p50 ms: {joined(s['reads_p50'])}, p99 ms: {joined(s['reads_p99'])}",
        f"- trivial FastCGI responder requests/s: {joined(s['trivial'])}; p50 ms: {joined(s['trivial_p50'])}, "
        f"p99 ms: {joined(s['trivial_p99'])}",
        *([""] + ["**Problems in this run:**", ""] + [f"- {p}" for p in r["problems"]] if r["problems"] else []),
    ]) + "\n"


def render_whole_loop(r):
    """The report of `BENCH_ONLY=whole-loop`: the whole loop's table alone."""
    return "\n".join([
        "# Benchmark results: the whole loop alone (BENCH_ONLY=whole-loop)",
        "",
        f"- Command: `BENCH_ONLY=whole-loop scripts/bench`, {r['date']}, revision {r['revision']}; whole run {r['elapsed']} s",
        f"- Machine: {r['machine']}; load average at the end: {r['load']}",
        *_whole_loop_rows(r),
        *([""] + ["**Problems in this run:**", ""] + [f"- {p}" for p in r["problems"]] if r["problems"] else []),
    ]) + "\n"

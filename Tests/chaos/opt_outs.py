"""Scenario 10 of the chaos suite: opt-outs while thousands of messages to those numbers wait
and senders die.

Keys queue thousands of messages to a set of numbers; slowed senders (a few sends in flight
each, the mock providers taking their time) work through them while they are SIGKILLed again
and again, and meanwhile every number is opted out: half by the recipient replying STOP
(relayed by a mock provider to the signed inbound URL), half by an operator (`textingctl optouts
add`), several at once. Then the queue drains and the mock providers' own record of every send
they got (GET /_mock/sends: when it arrived, which message) is held against the moment each
opt-out committed (PostgreSQL's commit timestamp of its `opt_out_changes` row):

- nothing arrived at a provider for a number after its opt-out committed, but the one
  confirmation of a STOP (the rule allows it);
- every message answered 201 is stored and ended sent/delivered or failed with
  `recipient_opted_out` (harness.account, with the usual duplicate bound for the kills);
- every number is on the list, each STOP confirmed once, and a new message to any of them is
  refused."""
import os
import random
import subprocess
import threading
import time

import harness as h
from harness import SHORT


def pick(full, short):
    return short if SHORT else full


def opt_out_by_operator(number):
    result = subprocess.run([os.path.join(h.BIN, "textingctl"), "optouts", "add", number, "chaos scenario 10"],
                            env={**os.environ, **h.STACK_ENV}, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    return result.returncode == 0 and "opted out" in result.stdout, (result.stdout + result.stderr).strip()[:200]


def opt_out_by_reply(mocks, number, provider):
    answer = mocks.relay_inbound(provider, number, "STOP")
    ok = answer.get("status") == 200 and answer.get("answer", {}).get("keyword") == "opt_out"
    return ok, str(answer)[:200]


def queue_messages(keys, numbers, per_number, tally, rate):
    """Each key POSTs its share of `per_number` messages to every number, paced at `rate`/s."""
    jobs = [(number, i) for i in range(per_number) for number in numbers]
    shares = [jobs[k::len(keys)] for k in range(len(keys))]

    def worker(key, share):
        conn = h.Conn(key)
        next_at = time.monotonic()
        for number, i in share:
            now = time.monotonic()
            if next_at > now:
                time.sleep(next_at - now)
            next_at = max(next_at + 1.0 / rate, time.monotonic() - 1)
            body = f'{{"to_number": "{number}", "message": "chaos 10 #{i}"}}'
            tally.add(*conn.request("POST", "/messages", body, {"Idempotency-Key": f"s10-{number}-{i}"}))
        conn.close()

    threads = [threading.Thread(target=worker, args=(k, s), daemon=True) for k, s in zip(keys, shares)]
    for t in threads:
        t.start()
    return threads


def run(r, mocks):
    rng = random.Random(10)
    count, per_number, spread, latency = pick((200, 30, 25, 50), (40, 25, 8, 100))
    numbers = []
    while len(numbers) < count:
        number = h.new_number(rng)
        if number not in numbers:
            numbers.append(number)
    mocks.configure_all(latency_ms=latency)
    keys = h.create_keys("chaos-s10", 8)
    tally = h.Tally()
    for t in queue_messages(keys, numbers, per_number, tally, rate=150):
        t.join(120)
    queued = h.scalar("""SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id
                         JOIN api_keys a ON a.id = m.api_key_id WHERE a.name LIKE %s""", "chaos-s10-%")
    # Slow senders, so that thousands still wait while the opt-outs come.
    senders = h.Senders(3, restart_delay=0.1, TEXTING_SENDER_CONCURRENCY=4, TEXTING_SENDER_BATCH_SIZE=4).start()

    order = list(numbers)
    rng.shuffle(order)
    outcomes, durations, lock = [], [], threading.Lock()

    def opt_outs(part, seed):
        local = random.Random(seed)
        for n, number in enumerate(part):
            time.sleep(local.uniform(0, 2 * spread / max(1, len(part))))
            started = time.monotonic()
            if n % 2 == 0:
                ok, said = opt_out_by_reply(mocks, number, local.choice(sorted(h.MOCK_BASE)))
                how = "reply"
            else:
                ok, said = opt_out_by_operator(number)
                how = "operator"
            with lock:
                outcomes.append((number, how, ok, said))
                durations.append(time.monotonic() - started)

    workers = [threading.Thread(target=opt_outs, args=(order[k::4], k), daemon=True) for k in range(4)]
    for t in workers:
        t.start()
    killed_with = set()  # messages whose sender was killed while it held them
    kills = h.kill_senders(senders, spread, rng, pause=(0.2, 0.6), max_kills=500, leased_ids=killed_with)
    for t in workers:
        t.join(120)
    # Refused now, whoever asks.
    refused = h.Tally()
    conn = h.Conn(keys[0])
    for number in numbers[:10]:
        refused.add(*conn.request("POST", "/messages", f'{{"to_number": "{number}", "message": "after"}}'))
    conn.close()
    senders.stop()
    r.check(h.drain("chaos-s10", 120, mocks), "the queue did not drain within 120 s")

    failed_opt_outs = [o for o in outcomes if not o[2]]
    r.check(len(outcomes) == count and not failed_opt_outs, f"{len(failed_opt_outs)} opt-outs failed: {failed_opt_outs[:3]}")
    r.check(refused.statuses == {422: 10}, f"new messages to opted-out numbers were answered {dict(refused.statuses)}")
    with h.db() as c:
        committed = dict(c.execute(
            """SELECT p.number, extract(epoch FROM pg_xact_commit_timestamp(x.xmin))::float8 FROM opt_out_changes x
               JOIN phone_numbers p ON p.id = x.phone_number_id WHERE x.action = 'opt_out' AND p.number = ANY(%s)""",
            (numbers,)).fetchall())
        confirmations = dict(c.execute(
            """SELECT m.public_id::text, p.number FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id
               WHERE m.kind = 'opt_out_reply' AND p.number = ANY(%s)""", (numbers,)).fetchall())
        on_list = c.execute("SELECT count(*) FROM phone_numbers WHERE number = ANY(%s) AND opted_out_at IS NOT NULL",
                            (numbers,)).fetchone()[0]
        failed_by_opt_out = c.execute(
            """SELECT count(*) FROM messages m JOIN api_keys a ON a.id = m.api_key_id
               WHERE a.name LIKE %s AND m.error_code = 'recipient_opted_out'""", ("chaos-s10-%",)).fetchone()[0]
    r.check(on_list == count and len(committed) == count, f"{on_list} of {count} numbers on the list, {len(committed)} opt-outs recorded")
    replies = sum(1 for o in outcomes if o[1] == "reply")
    r.check(len(confirmations) == replies, f"{len(confirmations)} STOP confirmations queued for {replies} STOP replies")

    sends, unrecorded = mocks.sends_by_number()
    r.check(unrecorded == 0, f"the mock providers stopped recording after their cap ({unrecorded} sends unrecorded)")
    # Two measures: a send that arrived at a provider after the opt-out committed (the message
    # left the service after the recipient said stop); and one the provider accepted after it
    # (arrived before, answered after), which the hold also rules out, except for a send in
    # flight when its sender was killed: its hold went with its database session.
    late, accepted_late, excepted, before, closest = [], [], [], 0, None
    for number in numbers:
        cutoff = committed.get(number)
        for arrived, accepted, message_id in sends.get(number, []):
            if message_id in confirmations or cutoff is None:
                continue
            if arrived > cutoff:
                late.append((number, message_id, round(arrived - cutoff, 4)))
            elif accepted is not None and accepted > cutoff:
                (excepted if message_id in killed_with else accepted_late).append((number, message_id, round(accepted - cutoff, 4)))
            else:
                before += 1
                closest = min(closest if closest is not None else 1e9, cutoff - (accepted or arrived))
    r.after_opt_out = len(late) + len(accepted_late)
    r.check(not late, f"{len(late)} sends reached a provider after their number's opt-out committed: {late[:5]}")
    r.check(not accepted_late, f"{len(accepted_late)} sends were accepted by a provider after their number's opt-out committed "
                               f"(their senders alive): {accepted_late[:5]}")
    r.take(tally, h.account("chaos-s10", tally, mocks, dup_bound=kills.bound, allowed_failures=("recipient_opted_out",),
                            allow_sent=True, own=set(confirmations)), kills.bound)
    durations.sort()
    r.notes.append(f"{count} numbers, {tally.statuses[201]} messages accepted ({per_number} each), {queued} still queued when the "
                   f"senders started (3, 4 sends in flight each, providers answering after {latency} ms); {count} opt-outs over "
                   f"{spread} s ({replies} STOP replies, {count - replies} by the operator), each taking p50 "
                   f"{durations[len(durations) // 2]:.3f} s, max {durations[-1]:.3f} s (waiting for the sends in flight)")
    r.notes.append(f"{kills.kills} SIGKILLs of senders meanwhile; sends counted from the mocks: {before} accepted before their "
                   f"number's opt-out committed (the closest {closest if closest is None else round(closest * 1000, 1)} ms before), "
                   f"{len(late)} arrived after, {len(accepted_late)} accepted after, {len(excepted)} arrived before and accepted after "
                   f"with their sender killed mid-send (the documented exception), "
                   f"{len(confirmations)} STOP confirmations after (allowed); {failed_by_opt_out} messages "
                   f"failed recipient_opted_out; duplicate bound (jobs leased to the killed senders at their deaths) {kills.bound}")

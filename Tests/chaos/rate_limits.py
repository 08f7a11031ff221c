"""Scenario 11 of the chaos suite: a provider whose real limit is lower than configured.

The senders are told p1 takes 300 messages a second (`;tps=300`) while the mock p1 really
takes 100 and answers 429 above it (its `tps`: a token bucket holding a fifth of a second's
worth); p2 is told 120 a second (and takes all it gets), so what p1 refuses has somewhere to
go and the queue drains at a known pace. Keys queue a backlog of thousands of messages first;
then 2 senders (with the product's default TEXTING_MAX_ATTEMPTS, not the suite's 30) work
through it while one is SIGKILLed twice, and the queue drains. While the backlog lasts every
claim is full: the senders send p1 all its bucket gives, so only the rate p1's 429s leave it
(halved at most once a second, then growing back by 5 % of the configured rate a second)
keeps the service under p1's real limit. From the mocks' own record of each send (GET
/_mock/sends: when it arrived at p1, whether p1 accepted it or answered 429):

- every message answered 201 is stored and delivered, none failed (no `retries_exhausted`:
  a 429 is retried, on p2 when it has a token), duplicates within the kill bound
  (harness.account);
- p1 was pressed: at least 100 jobs (a full claim) were due for a good while (the backlog);
- the service converges below p1's limit: what it sent p1 (every send that arrived, accepted
  or refused) over the latter two thirds of the backlog averages at most the real limit, plus
  p1's burst bucket spread over that span (a rate that only probes above the limit and is cut
  back, averaging under it);
- the 429s are bounded: fewer in the latter two thirds than in the first third (most come
  while the service learns the limit), and under a tenth of p1's sends there (a sender that
  kept to the configured rate would see p1 refuse two thirds of what it sends).

Figures (rates, 429s by part and by second, the effective rate in `provider_rates`, p1's
breaker) go to the notes."""
import collections
import random
import threading
import time

import harness as h
from harness import SHORT

REAL_TPS = 100        # what mock p1 takes: 429 above it
CONFIGURED_TPS = 300  # what the senders are told it takes (`;tps=`): three times too much
P2_TPS = 120          # p2's contracted rate, honest (the mock takes everything)
# The product's default (ServiceSettings, TEXTING_MAX_ATTEMPTS): a 429 spends an attempt, and
# none may fail for it with the attempts a deployment has, not the suite's 30.
MAX_ATTEMPTS = 6
MOCK_BURST_SECONDS = 0.2  # MockRateLimit.burstSeconds: p1 accepts up to REAL_TPS * 0.2 at once
FULL_CLAIM = 100          # the suite's TEXTING_SENDER_BATCH_SIZE: a claim with this many due is full
OURS = {"keys": "chaos-s11-%"}  # the scenario's messages: those of its keys


def pick(full, short):
    return short if SHORT else full


def providers_setting():
    return f"p1={h.MOCK_BASE['p1']}/send;tps={CONFIGURED_TPS},p2={h.MOCK_BASE['p2']}/send;tps={P2_TPS}"


class Sampler:
    """Every 0.2 s: the scenario's due jobs, p1's effective rate in `provider_rates`, and
    whether its breaker is open (`provider_health`), with the wall-clock time (the mocks' clock)."""

    def __init__(self):
        self.samples = []  # (unix time, due jobs, rate or None, breaker open)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        with h.db() as c:
            while not self.stopping.is_set():
                due = c.execute("""SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id
                                   JOIN api_keys a ON a.id = m.api_key_id
                                   WHERE a.name LIKE %(keys)s AND j.run_at <= now()""", OURS).fetchone()[0]
                row = c.execute("SELECT rate FROM provider_rates WHERE provider = 'p1'").fetchone()
                is_open = c.execute("SELECT coalesce(bool_or(open_until > now()), false) FROM provider_health "
                                    "WHERE provider = 'p1'").fetchone()[0]
                self.samples.append((time.time(), due, row[0] if row else None, bool(is_open)))
                self.stopping.wait(0.2)

    def stop(self):
        self.stopping.set()
        self.thread.join(5)


def window(sends, start, end):
    """Sends that arrived in [start, end): (how many, how many were answered 429)."""
    arrived = [s for s in sends if start <= s[0] < end]
    return len(arrived), sum(1 for s in arrived if s[1] is None)


def busiest_second(sends, start, end):
    """The most sends that arrived within one second (a sliding window) in [start, end)."""
    times = sorted(s[0] for s in sends if start <= s[0] < end)
    best, first = 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def run(r, mocks):
    count = pick(7200, 3000)
    # How long the backlog should last: p1 at about 90/s on average, p2 at its rate.
    expected = count / (0.9 * REAL_TPS + P2_TPS)
    rng = random.Random(11)
    overrides = dict(TEXTING_PROVIDERS=providers_setting(), TEXTING_MAX_ATTEMPTS=MAX_ATTEMPTS)
    with h.db() as c:
        # No state from an earlier run or scenario: p1's bucket starts at the configured rate.
        c.execute("DELETE FROM provider_rates")
        c.execute("DELETE FROM provider_health")
    senders = sampler = None
    try:
        mocks.configure("p1", tps=REAL_TPS)
        keys = h.create_keys("chaos-s11", 8)
        tally = h.Tally()
        # The backlog, before any sender runs (under nginx's 200/s per key).
        per_key = -(-count // len(keys))
        posting = time.monotonic()
        threads = h.run_load(keys, 120, tally, per_thread_rate=150, max_requests=per_key, seed=11)
        h.join_all(threads, 150)
        queued_s = time.monotonic() - posting
        sampler = Sampler().start()
        start = time.time()
        senders = h.Senders(2, **overrides).start()
        killed_with = set()  # messages whose sender was killed while it held them
        kills = h.kill_senders(senders, expected * 0.8, rng, pause=(expected * 0.25, expected * 0.35), max_kills=2,
                               leased_ids=killed_with)
        # Until the backlog is gone: fewer due jobs than a full claim.
        deadline = time.monotonic() + expected * 3 + 30
        while time.monotonic() < deadline and not any(t > start + 1 and due < FULL_CLAIM for t, due, _, _ in list(sampler.samples)):
            time.sleep(0.2)
        end = next((t for t, due, _, _ in list(sampler.samples) if t > start + 1 and due < FULL_CLAIM), time.time())
        # The rest (the retries of the 429s) by the running senders, for a few seconds.
        settle = time.monotonic() + 10
        while time.monotonic() < settle and h.scalar(
                """SELECT count(*) FROM jobs j JOIN messages m ON m.id = j.message_id JOIN api_keys a ON a.id = m.api_key_id
                   WHERE a.name LIKE %s AND j.leased_by IS NULL""", OURS["keys"]) > 0:
            time.sleep(0.2)
        senders.stop()
        exits = dict(senders.exits)
        senders = None
        sampler.stop()
        final_rate = h.scalar("SELECT rate FROM provider_rates WHERE provider = 'p1'")
        r.check(kills.kills >= 1, f"no sender was SIGKILLed ({kills.kills} kills)")
        r.check(h.drain("chaos-s11", 60, mocks, **overrides), "the queue did not drain within 60 s")

        # Nothing lost, nothing failed: a 429 is a temporary failure, retried.
        acc = h.account("chaos-s11", tally, mocks, dup_bound=kills.bound)
        r.take(tally, acc, kills.bound)
        with h.db() as c:
            failed = dict(c.execute(
                """SELECT coalesce(m.error_code, '?'), count(*) FROM messages m JOIN api_keys a ON a.id = m.api_key_id
                   WHERE a.name LIKE %(keys)s AND m.status = 'failed' GROUP BY 1""", OURS).fetchall())
            attempts = dict(c.execute(
                """SELECT m.attempts, count(*) FROM messages m JOIN api_keys a ON a.id = m.api_key_id
                   WHERE a.name LIKE %(keys)s GROUP BY 1 ORDER BY 1""", OURS).fetchall())
            by_provider = dict(c.execute(
                """SELECT coalesce(m.provider, '-'), count(*) FROM messages m JOIN api_keys a ON a.id = m.api_key_id
                   WHERE a.name LIKE %(keys)s GROUP BY 1 ORDER BY 1""", OURS).fetchall())
            unrecorded = [row[0] for row in c.execute(
                """SELECT m.public_id::text FROM messages m JOIN api_keys a ON a.id = m.api_key_id
                   WHERE a.name LIKE %(keys)s AND m.provider IS NULL""", OURS).fetchall()]
        r.check(not failed, f"messages failed: {failed} (TEXTING_MAX_ATTEMPTS={MAX_ATTEMPTS})")

        # The mocks' record of every send: (arrived, accepted or None, message id).
        p1 = mocks.sends("p1")
        p2 = mocks.sends("p2")
        stats = mocks.stats("p1")
        r.check(stats["answered_500"] == 0 and stats["answered_400"] == 0 and stats["answered_429"] == stats["answered_429_over_tps"],
                f"p1 answered otherwise than an acceptance or a 429 over its rate: {stats}")
        total_429 = sum(1 for s in p1 if s[1] is None)
        r.check(total_429 == stats["answered_429_over_tps"],
                f"{total_429} refused sends recorded, p1 counted {stats['answered_429_over_tps']} 429s (sends unrecorded?)")
        r.check(total_429 > 0, "p1 never answered 429: its real limit was never reached, the scenario tested nothing")

        span = end - start
        r.check(span >= pick(20, 8), f"the backlog lasted {span:.1f} s only: p1 was not pressed long enough to measure")
        learned = start + span / 3
        window_s = end - learned
        first_sent, first_429 = window(p1, start, learned)
        later_sent, later_429 = window(p1, learned, end)
        later_rate = later_sent / window_s
        p2_later, _ = window(p2, learned, end)
        # Converges below it: what the service sent p1 over the latter two thirds, accepted
        # or not, at most the real limit plus the burst p1 holds, spread over that span.
        ceiling = REAL_TPS + REAL_TPS * MOCK_BURST_SECONDS / window_s
        r.check(later_rate <= ceiling, f"the service sent p1 {later_rate:.1f} messages/s over the latter two thirds of the backlog "
                                       f"({window_s:.1f} s), above its real limit ({REAL_TPS}/s; {ceiling:.1f} with its burst)")
        # The 429s are bounded: most while the service learns the limit; then only the few of
        # each probe above it.
        r.check(later_429 < first_429, f"{later_429} 429s over the latter two thirds of the backlog, not fewer than the "
                                       f"{first_429} of its first third: the service did not settle under p1's limit")
        r.check(later_429 <= 0.1 * max(1, later_sent), f"{later_429} of p1's {later_sent} sends over the latter two thirds of the "
                                                       f"backlog were refused 429 (more than a tenth)")

        samples = sampler.samples
        rates = [rate for t, _, rate, _ in samples if learned <= t < end and rate is not None]
        opened = [t for t, _, _, is_open in samples if is_open]
        breaker = (f"p1's breaker seen open in {len(opened)} of {len(samples)} samples (0.2 s apart), first "
                   f"{opened[0] - start:.1f} s, last {opened[-1] - start:.1f} s after the senders started" if opened
                   else f"p1's breaker never seen open ({len(samples)} samples 0.2 s apart)")
        rate_figures = (f"p1's effective rate (provider_rates) over the latter two thirds min {min(rates):.0f} / mean "
                        f"{sum(rates) / len(rates):.0f} / max {max(rates):.0f}/s" if rates else "no provider_rates sample")
        per_second = collections.Counter(int(s[0] - start) for s in p1 if s[1] is None and s[0] >= start)
        r.notes.append(f"{tally.statuses[201]} messages queued by 8 keys in {queued_s:.1f} s before the senders started; p1 told tps {CONFIGURED_TPS}, "
                       f"taking {REAL_TPS}/s (429 above), p2 told tps {P2_TPS}; the backlog (>= {FULL_CLAIM} due) lasted "
                       f"{span:.1f} s; {kills.kills} sender SIGKILLs, duplicate bound {kills.bound}; senders exited {exits}")
        r.notes.append(f"p1 over the latter two thirds ({window_s:.1f} s): {later_rate:.1f} sends/s arrived (ceiling {ceiling:.1f}), "
                       f"{(later_sent - later_429) / window_s:.1f}/s accepted, busiest second {busiest_second(p1, learned, end)} "
                       f"sends; p2 {p2_later / window_s:.1f}/s")
        r.notes.append(f"p1 429s: {total_429} in all ({stats['received']} sends, {stats['accepted']} accepted); {first_429} of "
                       f"{first_sent} sends in the backlog's first third, {later_429} of {later_sent} after; by second since the "
                       f"senders started {dict(sorted(per_second.items()))}")
        r.notes.append(f"{rate_figures}; after the backlog {final_rate if final_rate is None else round(final_rate)}/s "
                       f"(configured {CONFIGURED_TPS}); {breaker}")
        held = sum(1 for i in unrecorded if i in killed_with)
        r.notes.append(f"messages by attempts {attempts} (TEXTING_MAX_ATTEMPTS={MAX_ATTEMPTS}), by provider {by_provider}; "
                       f"of the {len(unrecorded)} without a provider, {held} were held by a sender when it was killed (sent, "
                       f"delivered by the provider's report, the send never recorded)")
    finally:
        if sampler is not None:
            sampler.stop()
        if senders is not None:
            senders.stop()
        # Later scenarios expect the mocks' defaults (no rate) and no bucket of ours.
        mocks.configure_all(**h.MOCK_DEFAULTS)
        with h.db() as c:
            c.execute("DELETE FROM provider_rates")

"""Controlling the mock providers over HTTP (/_mock/config, /_mock/reset, /_mock/stats,
/_mock/sends, /_mock/inbound).
Standard library only, so the benchmark runs it without the tests' virtualenv."""
import collections
import json
import urllib.request


class MockError(Exception):
    """A mock provider refused a control request."""


class Mocks:
    """The mock providers at `bases` (name → base URL); `reset` puts `defaults` back on each."""

    def __init__(self, bases, defaults, timeout=30):
        self.bases = dict(bases)
        self.defaults = dict(defaults)
        self.timeout = timeout

    def _call(self, name, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.bases[name]}{path}", data=data, method="GET" if body is None else "POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise MockError(f"mock provider {name}: {path} answered {error.code}: {error.read()[:300]!r}") from None

    def configure(self, name, **settings):
        self._call(name, "/_mock/config", settings)

    def configure_all(self, **settings):
        for name in self.bases:
            self.configure(name, **settings)

    def reset(self):
        """Every mock back to the defaults, its counters cleared."""
        for name in self.bases:
            self.configure(name, **self.defaults)
            self._call(name, "/_mock/reset", {})

    def stats(self, name):
        return self._call(name, "/_mock/stats")

    def callbacks_outstanding(self):
        """Callbacks the mocks have yet to make or to hear the answer of."""
        return sum(s["callbacks_pending"] + s["callbacks_in_flight"] for s in map(self.stats, self.bases))

    def relay_inbound(self, name, number, text):
        """Plays the recipient `number` replying `text` through provider `name`; the service's
        answer as the mock relays it ({"status": …, "answer": …})."""
        return self._call(name, "/_mock/inbound", {"from": number, "message": text})

    def sends(self, name):
        """Each send provider `name` got: (when it arrived, when it accepted it or None, message
        id), times in Unix seconds, in arrival order per number."""
        return [(send["arrived_ms"] / 1000, send["accepted_ms"] and send["accepted_ms"] / 1000, send["message_id"])
                for times in self._call(name, "/_mock/sends")["by_number"].values() for send in times]

    def sends_by_number(self):
        """Each send to each number, over all providers: (when it arrived, when the provider
        accepted it or None, message id), times in Unix seconds; and how many sends the mocks
        no longer recorded (past their cap)."""
        arrivals = collections.defaultdict(list)
        unrecorded = 0
        for name in self.bases:
            sends = self._call(name, "/_mock/sends")
            unrecorded += int(sends["not_recorded"])
            for number, times in sends["by_number"].items():
                arrivals[number] += [(send["arrived_ms"] / 1000, send["accepted_ms"] and send["accepted_ms"] / 1000, send["message_id"])
                                     for send in times]
        return arrivals, unrecorded

    def sent_from(self):
        """The `from` each message id was sent with, over all providers (None: none given)."""
        return {send["message_id"]: send.get("from") for name in self.bases
                for times in self._call(name, "/_mock/sends")["by_number"].values() for send in times}

    def accepted_by_key(self):
        """How many times each message id (Idempotency-Key) was accepted, over all providers."""
        total = collections.Counter()
        for name in self.bases:
            total.update(self.stats(name)["accepted_by_key"])
        return total

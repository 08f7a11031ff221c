"""Controlling the mock providers over HTTP (/_mock/config, /_mock/reset, /_mock/stats).
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

    def accepted_by_key(self):
        """How many times each message id (Idempotency-Key) was accepted, over all providers."""
        total = collections.Counter()
        for name in self.bases:
            total.update(self.stats(name)["accepted_by_key"])
        return total

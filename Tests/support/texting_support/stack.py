"""The running stack as scripts/stack left it: its settings file and what follows from it."""
import os
import shlex
import subprocess


# scripts/stack: the one place that starts and stops the stack's processes.
SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "scripts", "stack")


# The messages and every row that hangs off them (a migration that adds such a table adds it
# here): what the tests, the chaos suite and the benchmark empty with one TRUNCATE, each adding
# the tables it also wants empty (keys, counters, endpoints). TRUNCATE locks them in this order;
# events comes before messages: an autovacuum ANALYZE of an events partition (whose snapshot
# column has messages' row type, migration 0033) holds it and then wants messages, so a TRUNCATE
# holding messages first and waiting for events deadlocked with it.
MESSAGE_TABLES = ("events, webhook_deliveries, webhook_attempts, delivery_events, idempotency_keys, jobs, messages, phone_numbers, "
                  "opt_out_changes, inbound_messages, send_failures, provider_message_ids, key_usage, key_usage_changes")


def script(*arguments, environ=None, timeout=300):
    """Runs `scripts/stack ARGUMENTS` (up, down, env, build, …), bounded, output captured."""
    return subprocess.run([SCRIPT, *arguments], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env=environ)


def load_env(path):
    """The KEY=value lines of an environment file (scripts/stack's texting.env), comments
    and blank lines skipped, surrounding quotes removed."""
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key] = value.strip().strip('"').strip("'")
    return values


def providers(stack_env):
    """`TEXTING_PROVIDERS` as (name, url) pairs, weights dropped."""
    return [tuple(entry.split(";")[0].split("=", 1)) for entry in stack_env["TEXTING_PROVIDERS"].split(",")]


def mock_bases(stack_env):
    """Each provider's base URL (its send URL without the last path segment): where the mock
    provider answers /_mock/…."""
    return {name: url.rsplit("/", 1)[0] for name, url in providers(stack_env)}


def database_port(stack_env):
    """The port in `TEXTING_DATABASE_URL` (a key=value connection string)."""
    return next(part.split("=", 1)[1] for part in stack_env["TEXTING_DATABASE_URL"].split() if part.startswith("port="))


class Stack:
    """The stack a suite runs against, from what scripts/test, scripts/chaos or scripts/bench
    exported: RUN_DIR (the stack's folder, holding texting.env), TEXTING_BIN (the built
    binaries) and TEXTING_TEST_BASE_URL (nginx)."""

    def __init__(self, environ=os.environ):
        self.run_dir = environ["RUN_DIR"]
        self.bin = environ["TEXTING_BIN"]
        self.base_url = environ["TEXTING_TEST_BASE_URL"].rstrip("/")
        self.env = load_env(os.path.join(self.run_dir, "texting.env"))
        self.mock_bases = mock_bases(self.env)
        # The suites' own connections go to PostgreSQL itself, also when the services go
        # through PgBouncer (scripts/stack, PGBOUNCER_PORT): psycopg prepares statements.
        self.database_url = self.env.get("TEXTING_DATABASE_DIRECT_URL") or self.env["TEXTING_DATABASE_URL"]


def exported(text):
    """The variables of `scripts/stack env`'s `export KEY='value' …` lines."""
    values = {}
    for line in text.splitlines():
        words = shlex.split(line)
        if words[:1] == ["export"]:
            for word in words[1:]:
                key, _, value = word.partition("=")
                values[key] = value
    return values

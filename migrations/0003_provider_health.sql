-- Provider health shared by every sender (the circuit breaker), and attempt counters for
-- /metrics. Both are written once per batch of outcomes, not per message.

CREATE TABLE provider_health (
    provider             text PRIMARY KEY,
    -- Temporary failures (5xx, 429, timeouts, refused connections) since the last acceptance.
    consecutive_failures integer NOT NULL DEFAULT 0,
    -- While in the future, senders skip this provider (unless every provider is skipped).
    open_until           timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE provider_attempts (
    provider text NOT NULL,
    outcome  text NOT NULL CHECK (outcome IN ('accepted', 'temporary_failure', 'permanent_failure')),
    count    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, outcome)
);

-- Providers as they really are: what a send cost, the provider's own error code, operators
-- pausing a provider for every sender at once, and sends and cost counted per provider and
-- per destination prefix.

-- What the send that the provider accepted cost (its `;cost=` per segment times the
-- message's segments), and the provider's own code when it rejected or failed the message.
ALTER TABLE messages
    ADD COLUMN cost numeric(14, 6),
    ADD COLUMN provider_error_code text CHECK (char_length(provider_error_code) BETWEEN 1 AND 64);

-- `textingctl providers pause NAME`: while `paused_at` is set, no sender sends to it; the
-- messages only it takes wait, spending no attempt. Kept with the breaker's row, which every
-- sender already reads before each claim.
ALTER TABLE provider_health
    ADD COLUMN paused_at    timestamptz,
    ADD COLUMN paused_by    text,
    ADD COLUMN pause_reason text;

-- Accepted sends, their segments and their cost, per provider and per the prefix that
-- routed them (`''`: a provider that takes every number). Added to once per provider and
-- prefix by each round of recorded outcomes (not per message), like provider_attempts.
CREATE TABLE provider_sends (
    provider text NOT NULL,
    prefix   text NOT NULL,
    sends    bigint NOT NULL DEFAULT 0,
    segments bigint NOT NULL DEFAULT 0,
    cost     numeric(20, 6) NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, prefix)
);

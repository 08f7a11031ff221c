-- API keys (stored only as a SHA-256 hash: a key is 256 random bits, so a fast hash is enough
-- and a stolen table reveals none), message ownership, and Idempotency-Key records.

CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id    uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    -- The first characters of the key, to tell keys apart in listings without revealing them.
    prefix       text NOT NULL,
    key_hash     text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

-- Messages accepted before keys existed keep a NULL owner and are visible to no key.
ALTER TABLE messages ADD COLUMN api_key_id bigint REFERENCES api_keys (id);
-- Listing is newest first per key (keyset on id), optionally by number and status.
CREATE INDEX messages_api_key_id ON messages (api_key_id, id DESC);
CREATE INDEX messages_api_key_phone_number ON messages (api_key_id, phone_number_id, id DESC);

-- One row per (API key, Idempotency-Key): the request's fingerprint and the response to
-- replay. Rows older than 24 hours no longer count and are deleted by the sender.
CREATE TABLE idempotency_keys (
    api_key_id      bigint NOT NULL REFERENCES api_keys (id),
    key             text NOT NULL,
    request_hash    text NOT NULL,
    message_id      bigint REFERENCES messages (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

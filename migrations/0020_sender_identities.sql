-- Sender identities: the `from` a message is sent with (an E.164 number, a short code or an
-- alphanumeric sender id), limited per API key to the senders an operator allowed
-- (`textingctl keys senders`). One of them may be the key's default; the key's pooled senders
-- are shared among its recipients, each recipient keeping the same one (messages.accept picks
-- by rendezvous hashing: the pooled sender with the highest md5(sender || ':' || number), so
-- adding a sender to the pool moves only the recipients it now wins, and removing one only
-- those it had).
CREATE TABLE api_key_senders (
    api_key_id bigint NOT NULL REFERENCES api_keys (id),
    sender     text NOT NULL CHECK (char_length(sender) BETWEEN 1 AND 16),
    pooled     boolean NOT NULL DEFAULT false,
    is_default boolean NOT NULL DEFAULT false,
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (api_key_id, sender)
);
-- At most one default per key.
CREATE UNIQUE INDEX api_key_senders_default ON api_key_senders (api_key_id) WHERE is_default;

-- The `from` a message goes out with (NULL: the provider's own default). A new column with no
-- default: no table rewrite.
ALTER TABLE messages ADD COLUMN sender text;

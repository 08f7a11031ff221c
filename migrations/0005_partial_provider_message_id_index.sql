-- A message has a provider id only once a provider accepted it, yet the unique constraint's
-- index took an entry (NULL, NULL) for every message at accept time: one index insertion per
-- POST /messages that never enforced anything. A partial unique index enforces the same rule
-- (one message per provider id of a provider) and is still used by the lookups by provider
-- id (their `provider_message_id = $n` implies NOT NULL).
ALTER TABLE messages DROP CONSTRAINT messages_provider_message_id_unique;
CREATE UNIQUE INDEX messages_provider_message_id_unique ON messages (provider, provider_message_id)
    WHERE provider_message_id IS NOT NULL;

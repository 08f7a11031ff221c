-- POST /messages/batch takes one Idempotency-Key for the whole batch: what it answered (one
-- result per message) is kept with the key, and a repeat of the request gets it again.
ALTER TABLE idempotency_keys ADD COLUMN response text;

-- A message's status changes three times in its first second (sending, sent, delivered).
-- While `status` was a column of two of messages' indexes (and the predicate of a third),
-- PostgreSQL could make none of those updates HOT: each one wrote a new entry into every
-- index of the table (seven), and a new heap tuple wherever there was room. Measured on the
-- test stack (100 messages/s through the whole loop, pg_walinspect): messages' indexes were
-- 2.6 KB of the 9.4 KB of WAL a message cost, and 0 of its updates were HOT.
--
-- Now no index of messages names `status`:
-- * GET /messages?status= and the console's list by status walk the key's newest messages
--   (messages_api_key_id, messages_api_key_phone_number, messages_api_key_client_ref) and keep
--   those in the status, reading a bounded number of rows per request (MessageStore.list);
--   a page can then hold fewer than `limit` messages and still have a `next_after`.
-- * Failed and invalid messages, rare and the ones a client looks for, keep an index of their
--   own, by `failed_at`: it is set once, by the update that fails the message, so only that
--   update is kept from being HOT.
-- The provider's id stays in a unique index (one message per provider id of a provider; a
-- report finds its message by the id its signed URL names, and checks the provider's), so the
-- `sent` update, which sets it, is still not HOT.
--
-- The index by failed_at must hold every failed and invalid message: those that an older
-- version failed without the time get their last update's.
UPDATE messages SET failed_at = updated_at WHERE status IN ('failed', 'invalid') AND failed_at IS NULL;

DROP INDEX IF EXISTS messages_api_key_status;
DROP INDEX IF EXISTS messages_phone_number_key_status;
DROP INDEX IF EXISTS messages_failed_error_code;
CREATE INDEX messages_api_key_failed ON messages (api_key_id, id DESC) WHERE failed_at IS NOT NULL;
CREATE INDEX messages_failed_error_code ON messages (error_code, id DESC) WHERE failed_at IS NOT NULL;

-- Room on each page for the new versions: a HOT update needs its new tuple on the same page.
-- A message is updated within a second of its insert, mostly while its page still takes
-- inserts, so little room is enough. Measured on the test stack (400 messages/s for 15 s
-- through the whole loop, each setting from an empty table; the `sent` update cannot be HOT,
-- so two thirds, 66.7 %, is the most): fillfactor 100 62.3 % of updates HOT, 85 65.1-65.8 %,
-- 70 66.5 %, 50 66.7 %. At the bench's 600-750/s (larger batches) 85 made 55-62 % where 50
-- made 65-66 %, for 2-5 % more WAL a message. 85: 18 % more heap, where 50 doubles it.
DO $$
DECLARE
    partition regclass;
BEGIN
    FOR partition IN SELECT i.inhrelid::regclass FROM pg_inherits i WHERE i.inhparent = 'messages'::regclass LOOP
        EXECUTE format('ALTER TABLE %s SET (fillfactor = 85)', partition);
    END LOOP;
END;
$$;

-- 0029's function, with messages' partitions made with that fillfactor.
CREATE OR REPLACE FUNCTION create_history_partition(parent text, span bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    name text := format('%s_%s', parent, to_char(history_span_start(span) AT TIME ZONE 'UTC', 'YYYYMMDD'));
BEGIN
    IF parent NOT IN ('messages', 'delivery_events', 'events', 'webhook_attempts', 'send_failures') OR span < 1 THEN
        RAISE EXCEPTION 'no history partition % of %', span, parent;
    END IF;
    IF to_regclass(name) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', name, parent);
    -- The unique indexes each partition keeps for itself (see partition_in_place): a public
    -- id names its span (the id is made from its time), so unique in it is unique overall;
    -- the sender checks a provider's id across spans itself (JobQueue).
    IF parent IN ('messages', 'events') THEN
        EXECUTE format('CREATE UNIQUE INDEX %I ON %I (public_id)', name || '_public_id', name);
    END IF;
    IF parent = 'messages' THEN
        EXECUTE format('CREATE UNIQUE INDEX %I ON %I (provider, provider_message_id) WHERE provider_message_id IS NOT NULL',
                       name || '_provider_message_id', name);
        EXECUTE format('ALTER TABLE %I SET (fillfactor = 85)', name);
    END IF;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', parent, name, span << 53, (span + 1) << 53);
    RETURN name;
END;
$$;

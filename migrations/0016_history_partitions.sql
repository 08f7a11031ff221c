-- Years of messages: the tables that grow with traffic, `messages`, `delivery_events`,
-- `events` and `webhook_attempts`, become partitioned by time, so that retention drops whole
-- partitions (no DELETE storm, no vacuum debt) and a lookup by a public id reads one
-- partition.
--
-- Time ids. A row's id is its creation time in milliseconds since 2020-01-01 UTC shifted
-- left 22 bits, with the low 22 bits from a sequence: ids still grow with time (the cursor
-- of GET /messages, the primary key's right edge), and a time names a range of ids. The
-- tables are partitioned by range of id in spans of 2^31 ms (24.86 days): partition k holds
-- the ids from k << 53 up to (k + 1) << 53, so the span of an id is `id >> 53`, one shift
-- (the status counts keep their figures per span with it, and drop a span's with it).
-- 41 bits of milliseconds last until 2089; 2^22 ids per millisecond are never used up.
--
-- Upgrade in place. The ids made so far came from identity sequences: all far below 2^53
-- (span 0, which no time id reaches: it ended on 2020-01-25). So each table as it stands is
-- attached whole as span 0 (`<table>_legacy`) under a new partitioned parent of the same
-- name: renaming, creating an empty parent and attaching are catalog changes, its indexes
-- match the parent's and are attached, not rebuilt. What takes time is proving that every
-- row belongs to span 0 (a check constraint, one pass over the table, about a second per few
-- million rows) and the migration's transaction holds the tables meanwhile. On a large
-- installation, validate the constraint by hand first, under a lock that lets writers go on:
--   ALTER TABLE messages ADD CONSTRAINT messages_legacy_span CHECK (id < 9007199254740992) NOT VALID;
--   ALTER TABLE messages VALIDATE CONSTRAINT messages_legacy_span;
--   (the same for delivery_events, events and webhook_attempts: constraint <table>_legacy_span)
-- This migration then finds it and takes a moment.
--
-- References. jobs and idempotency_keys keep their foreign keys to messages, and
-- webhook_deliveries its to events, now to the partitioned tables (added NOT VALID here,
-- validated in 0017 under a lock that lets writers go on): a partition of which a message
-- still has a job, or an event a queued webhook delivery, cannot be detached, so nothing
-- still on its way is dropped. The history's own foreign keys go: those of delivery_events,
-- events, webhook_attempts and inbound_messages.in_reply_to to messages and events (they
-- record what happened, in the same transaction as the change they record, and outlive or
-- go with the rows they name: a foreign key would make dropping a span delete their rows one
-- by one first), and those of messages, events and webhook_attempts to phone_numbers,
-- api_keys, inbound_messages and webhook_endpoints: dropping a partition that has one takes
-- an ACCESS EXCLUSIVE lock on the table it references, which holds off every request that
-- checks a key against it (and was seen deadlocking with them). Those rows are written by
-- the statements that look the referenced rows up; numbers and keys are never deleted; a
-- deleted webhook endpoint's attempts are deleted with it by WebhookEndpointStore.delete.

CREATE FUNCTION epoch_ms(at timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN floor(extract(epoch FROM at) * 1000)::bigint;

-- The id of milliseconds `ms` with `low` in its low 22 bits.
CREATE FUNCTION time_id(ms bigint, low bigint) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ((ms - 1577836800000) << 22) | (low & 4194303);

-- A UUIDv7 of milliseconds `ms` (0013's uuid_v7() is now this of the clock): for rows made
-- for a time of their own (a history loaded in SQL), whose id and public id must agree.
CREATE FUNCTION uuid_v7_at(ms bigint) RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE
    RETURN encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING substring(int8send(ms) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1),
                  'hex')::uuid;
CREATE OR REPLACE FUNCTION uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE
    RETURN uuid_v7_at(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint);

-- The milliseconds of a UUIDv7 (its first 48 bits); NULL for any other version.
CREATE FUNCTION uuid_v7_ms(u uuid) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN get_byte(uuid_send(u), 6) >> 4 = 7
                THEN ('x' || encode(substring(uuid_send(u) FROM 1 FOR 6), 'hex'))::bit(48)::bigint END;

-- When a span begins and ends.
CREATE FUNCTION history_span_start(span bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_timestamp((1577836800000 + (span << 31)) / 1000.0);
CREATE FUNCTION history_span_of(at timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (epoch_ms(at) - 1577836800000) >> 31;

CREATE SEQUENCE messages_id_low;
CREATE SEQUENCE delivery_events_id_low;
CREATE SEQUENCE events_id_low;
CREATE SEQUENCE webhook_attempts_id_low;

-- A message's id made from its public id's time (MessagesFCGI makes UUIDv7 public ids), so
-- that the public id names the span the message is in.
CREATE FUNCTION message_id_for(public_id uuid) RETURNS bigint LANGUAGE sql VOLATILE PARALLEL SAFE
    RETURN time_id(coalesce(uuid_v7_ms(public_id), epoch_ms(clock_timestamp())), nextval('messages_id_low'));

-- The layout's one fact: when the tables were partitioned (rows made before are in span 0).
-- And, for TEXTING_RETENTION_AFTER_EXPORT, up to when `textingctl messages export` has
-- written out every message.
CREATE TABLE history_layout (
    one             boolean PRIMARY KEY DEFAULT true CHECK (one),
    partitioned_at  timestamptz NOT NULL,
    exported_before timestamptz
);
INSERT INTO history_layout (partitioned_at) VALUES (now());

-- The ids a row (a message, an event) with public id `u` can have: [history_ids_from(u),
-- history_ids_before(u)). A condition on both lets PostgreSQL read only the span the id's
-- time names (and, with an hour's slack either way, rows whose id and public id were made
-- apart: SQL defaults, events). A v7 id older than the partitioning may be in span 0 too;
-- ids of other versions (v4, made before 0013: in span 0, unless a row was written by hand
-- since) name no time: every span.
DO $$
DECLARE
    -- A new installation has nothing in span 0: every v7 id names its span from the start.
    started bigint := CASE WHEN EXISTS (SELECT 1 FROM messages) OR EXISTS (SELECT 1 FROM events)
                           THEN epoch_ms((SELECT partitioned_at FROM history_layout)) + 3600000
                           ELSE 1577836800000 + 3600000 END;
BEGIN
    -- The lowest id a row made at or after `ms` can have (NULL: no time, every span).
    EXECUTE format($f$
        CREATE FUNCTION history_ids_from_ms(ms bigint) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
            RETURN CASE WHEN ms >= %1$s AND ms < 1577836800000 + (1::bigint << 41) - 3600000
                        THEN time_id(ms - 3600000, 0)
                        ELSE -9223372036854775808 END
    $f$, started);
END;
$$;
CREATE FUNCTION history_ids_from(u uuid) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN history_ids_from_ms(uuid_v7_ms(u));
-- The same for a row made at or after `at`: a number's messages are never older than the
-- number (GET /messages?to_number= reads only the spans since it was first seen).
CREATE FUNCTION history_ids_since(at timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN history_ids_from_ms(epoch_ms(at));
CREATE FUNCTION history_ids_before(u uuid) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN uuid_v7_ms(u) IS NULL THEN 9223372036854775807
                WHEN uuid_v7_ms(u) >= 1577836800000 AND uuid_v7_ms(u) < 1577836800000 + (1::bigint << 41) - 3600000
                THEN time_id(uuid_v7_ms(u) + 3600000, 0)
                ELSE 9223372036854775807 END;

-- The status counts (0014) are kept per span, so that dropping a span drops its figures.
ALTER TABLE status_counts ADD COLUMN span bigint NOT NULL DEFAULT 0;
ALTER TABLE status_counts DROP CONSTRAINT status_counts_pkey, ADD PRIMARY KEY (kind, span, status);
ALTER TABLE status_count_changes ADD COLUMN span bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION count_status_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Messages by span (`id >> 53`), phone numbers in span 0.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO status_count_changes (kind, span, status, delta)
        SELECT TG_TABLE_NAME, CASE WHEN TG_TABLE_NAME = 'messages' THEN id >> 53 ELSE 0 END AS span, status::text, count(*)
        FROM new_rows GROUP BY 2, 3;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO status_count_changes (kind, span, status, delta)
        SELECT TG_TABLE_NAME, span, status, sum(delta) FROM (
            SELECT CASE WHEN TG_TABLE_NAME = 'messages' THEN id >> 53 ELSE 0 END AS span, status::text AS status, 1 AS delta FROM new_rows
            UNION ALL
            SELECT CASE WHEN TG_TABLE_NAME = 'messages' THEN id >> 53 ELSE 0 END, status::text, -1 FROM old_rows
        ) changed
        GROUP BY span, status HAVING sum(delta) <> 0;
    ELSE
        INSERT INTO status_count_changes (kind, span, status, delta)
        SELECT TG_TABLE_NAME, CASE WHEN TG_TABLE_NAME = 'messages' THEN id >> 53 ELSE 0 END AS span, status::text, -count(*)
        FROM old_rows GROUP BY 2, 3;
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION compact_status_counts() RETURNS bigint LANGUAGE sql AS $$
    WITH moved AS (
        DELETE FROM status_count_changes RETURNING kind, span, status, delta
    ), folded AS (
        INSERT INTO status_counts AS c (kind, span, status, count)
        SELECT kind, span, status, sum(delta) FROM moved GROUP BY kind, span, status ORDER BY kind, span, status
        ON CONFLICT (kind, span, status) DO UPDATE SET count = c.count + EXCLUDED.count
        RETURNING 1
    )
    SELECT count(*) FROM moved
$$;

-- Turns table `parent` into a partitioned table of the same name whose span 0 is the table
-- as it was (`<parent>_legacy`), attached with its indexes, constraints and rows as they are.
-- The parent gets the same columns, checks, defaults (the id's now made from time, from
-- sequence `<parent>_id_low`), primary key and non-unique indexes (a unique
-- index over partitions must hold the partition key: other unique indexes stay each
-- partition's own, made by create_history_partition), and the table's triggers, which move
-- to it (a trigger with transition tables cannot be on a partition; row triggers on the
-- parent are cloned onto each partition). The table's own foreign keys are dropped (see
-- above); references to it are the caller's.
CREATE FUNCTION partition_in_place(parent text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    legacy text := parent || '_legacy';
    item record;
BEGIN
    EXECUTE format('ALTER TABLE %I RENAME TO %I', parent, legacy);
    EXECUTE format('ALTER TABLE %I ALTER COLUMN id DROP IDENTITY', legacy);
    -- Every row in span 0, proved once (or found proved already: see above).
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = legacy::regclass AND conname = legacy || '_span' AND convalidated) THEN
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (id < 9007199254740992)', legacy, legacy || '_span');
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE) PARTITION BY RANGE (id)',
                   parent, legacy);
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', parent, legacy || '_span');
    EXECUTE format('ALTER TABLE %I ALTER COLUMN id SET DEFAULT time_id(epoch_ms(clock_timestamp()), nextval(%L))', parent, parent || '_id_low');
    -- The legacy table's indexes take its name; the parent gets the primary key and the
    -- non-unique ones under their old names, and ATTACH finds the legacy's as its copies.
    FOR item IN SELECT c.relname::text AS name, i.indisprimary, i.indisunique, pg_get_indexdef(i.indexrelid) AS definition
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = legacy::regclass LOOP
        EXECUTE format('ALTER INDEX %I RENAME TO %I', item.name, legacy || substr(item.name, length(parent) + 1));
        IF item.indisprimary THEN
            EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id)', parent);
        ELSIF NOT item.indisunique THEN
            -- "CREATE INDEX <name> ON public.<legacy> USING …" for the parent, under the old name.
            EXECUTE regexp_replace(item.definition, '^CREATE INDEX \S+ ON \S+ ', format('CREATE INDEX %I ON %I ', item.name, parent));
        END IF;
    END LOOP;
    -- No foreign keys from the history's tables (see above): dropping a partition that has one
    -- locks the table it references (phone_numbers, api_keys…) ACCESS EXCLUSIVE, which stops
    -- every request that checks a key against it, and deadlocks with them.
    FOR item IN SELECT conname::text AS name FROM pg_constraint WHERE conrelid = legacy::regclass AND contype = 'f' LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', legacy, item.name);
    END LOOP;
    FOR item IN SELECT tgname::text AS name, pg_get_triggerdef(oid) AS definition
                FROM pg_trigger WHERE tgrelid = legacy::regclass AND NOT tgisinternal LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', item.name, legacy);
        -- "… ON <schema>.<legacy> …" (pg_get_triggerdef qualifies the table) for the parent.
        IF position(format(' ON %I.%I ', current_schema(), legacy) IN item.definition) = 0 THEN
            RAISE EXCEPTION 'trigger % of %: unexpected definition %', item.name, legacy, item.definition;
        END IF;
        EXECUTE replace(item.definition, format(' ON %I.%I ', current_schema(), legacy), format(' ON %I ', parent));
    END LOOP;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (9007199254740992)', parent, legacy);
END;
$$;

-- References from tables that record what happened go (see above); the queues' come back
-- to the partitioned tables below.
ALTER TABLE delivery_events DROP CONSTRAINT delivery_events_message_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_message_id_fkey;
ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_in_reply_to_fkey;
ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_event_id_fkey;
ALTER TABLE jobs DROP CONSTRAINT jobs_message_id_fkey;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_message_id_fkey;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_event_id_fkey;

SELECT partition_in_place('messages');
SELECT partition_in_place('delivery_events');
SELECT partition_in_place('events');
SELECT partition_in_place('webhook_attempts');

ALTER TABLE jobs ADD CONSTRAINT jobs_message_id_fkey FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_message_id_fkey FOREIGN KEY (message_id) REFERENCES messages (id) NOT VALID;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES events (id) NOT VALID;

-- A function taking an events row was bound to the table's row type, now events_legacy's:
-- made again for the partitioned events' (the body as in 0007).
DROP FUNCTION queue_webhook_deliveries(events_legacy, text);
CREATE FUNCTION queue_webhook_deliveries(event events, callback text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (event_id, api_key_id, endpoint_id, message_id, url)
    SELECT event.id, event.api_key_id, w.id, event.message_id, w.url
    FROM webhook_endpoints w
    WHERE w.api_key_id = event.api_key_id AND w.disabled_at IS NULL
      AND (w.event_types = '{}' OR event.type = ANY(w.event_types));
    IF callback IS NOT NULL THEN
        INSERT INTO webhook_deliveries (event_id, api_key_id, endpoint_id, message_id, url)
        VALUES (event.id, event.api_key_id, NULL, event.message_id, callback);
    END IF;
END;
$$;

-- Makes span `span` of `parent` (one of the four) if it does not exist yet;
-- returns its name, or NULL when it existed. Made on its own and then attached, which locks
-- the parent only against other DDL (creating a partition in place would hold off every
-- reader and writer while it waits for theirs).
CREATE FUNCTION create_history_partition(parent text, span bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    name text := format('%s_%s', parent, to_char(history_span_start(span) AT TIME ZONE 'UTC', 'YYYYMMDD'));
BEGIN
    IF parent NOT IN ('messages', 'delivery_events', 'events', 'webhook_attempts') OR span < 1 THEN
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
    END IF;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', parent, name, span << 53, (span + 1) << 53);
    RETURN name;
END;
$$;

-- Makes the spans of the four tables from the current one to `ahead` spans on that do not
-- exist yet; returns their names. The sender does this at the end of each run, and
-- `textingctl partitions maintain`.
CREATE FUNCTION create_history_partitions(ahead integer) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT made FROM generate_series(history_span_of(now()), history_span_of(now()) + ahead) span
    CROSS JOIN unnest(ARRAY['messages', 'delivery_events', 'events', 'webhook_attempts']) parent
    CROSS JOIN LATERAL create_history_partition(parent, span) made
    WHERE made IS NOT NULL
    ORDER BY span, parent
$$;

-- Every partition of the four tables: its span, the ids it holds [low, high), the times they
-- were made in [starts_at, ends_at) (span 0: every row made before the partitioning), the
-- planner's estimate of its rows, and whether a DETACH … CONCURRENTLY of it was interrupted.
CREATE VIEW history_partitions AS
SELECT parent.relname::text AS parent, child.relname::text AS name, s.span,
       CASE WHEN s.span = 0 THEN -9223372036854775808 ELSE s.span << 53 END AS low,
       (s.span + 1) << 53 AS high,
       CASE WHEN s.span = 0 THEN NULL ELSE history_span_start(s.span) END AS starts_at,
       CASE WHEN s.span = 0 THEN (SELECT partitioned_at FROM history_layout) ELSE history_span_start(s.span + 1) END AS ends_at,
       greatest(child.reltuples, 0)::bigint AS estimated_rows,
       i.inhdetachpending AS detaching
FROM pg_inherits i
JOIN pg_class child ON child.oid = i.inhrelid
JOIN pg_class parent ON parent.oid = i.inhparent
CROSS JOIN LATERAL (
    SELECT coalesce(substring(pg_get_expr(child.relpartbound, child.oid) FROM 'FROM \(''(-?[0-9]+)''\)')::bigint >> 53, 0) AS span
) s
WHERE parent.oid IN ('messages'::regclass, 'delivery_events'::regclass, 'events'::regclass, 'webhook_attempts'::regclass);

SELECT count(*) FROM create_history_partitions(2);

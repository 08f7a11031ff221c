-- A provider's id names one message of that provider: a report may name a message by it, and
-- two messages with one id would be one message to whoever reads them. The rule was a unique
-- index of each messages partition on (provider, provider_message_id). That index kept the
-- `sent` update, which sets the id, from being HOT: a third of a message's status updates
-- (`sending`, `sent`, `delivered`) wrote a new entry into each of messages' indexes (the most
-- HOT could reach was 66.7 %, migration 0032).
--
-- The rule now has a table of its own, `provider_message_ids`: one row for each id a provider
-- gave a message, unique per provider in each partition. The sender's record (JobQueue.markSent)
-- inserts the ids it receives there (ON CONFLICT DO NOTHING, and not when another span already
-- holds the id for another message) and stores on the message only those it won, so
-- messages.provider_message_id keeps holding each id once, with no index on it, and every
-- status update can be HOT.
--
-- A row stays when its message is requeued (the message's column is cleared): an id a
-- provider gave a message is that message's; the provider giving it again to the same message
-- keeps it, to another one does not. The table grows with traffic, so it is a sixth table of the
-- history: partitioned by time like send_failures (its rows' ids are made when they are
-- written, at or after their message's span) and dropped span by span with the rest
-- (History.maintain). Its span lives at least as long as its message's.
CREATE SEQUENCE provider_message_ids_id_low;

CREATE TABLE provider_message_ids (
    id                  bigint NOT NULL DEFAULT time_id(epoch_ms(clock_timestamp()), nextval('provider_message_ids_id_low')),
    provider            text NOT NULL,
    provider_message_id text NOT NULL,
    message_id          bigint NOT NULL
) PARTITION BY RANGE (id);

-- The tables of the history, in one place: create_history_partition, create_history_partitions
-- and the history_partitions view (and through it History, which makes and drops the spans)
-- read them here. Each table added before named all of them in each of those three (0016, 0029);
-- a table added after redefines this function, and create_history_partition only if its
-- partitions need indexes of their own.
CREATE FUNCTION history_tables() RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT ARRAY['messages', 'delivery_events', 'events', 'webhook_attempts', 'send_failures', 'provider_message_ids']
$$;

-- 0032's function, for the tables history_tables() names: a partition of provider_message_ids
-- has the unique index, and a new messages partition no longer does; it keeps 30 % of each page
-- free (below).
CREATE OR REPLACE FUNCTION create_history_partition(parent text, span bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    name text := format('%s_%s', parent, to_char(history_span_start(span) AT TIME ZONE 'UTC', 'YYYYMMDD'));
BEGIN
    IF NOT parent = ANY(history_tables()) OR span < 1 THEN
        RAISE EXCEPTION 'no history partition % of %', span, parent;
    END IF;
    IF to_regclass(name) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', name, parent);
    -- The unique indexes each partition keeps for itself (see partition_in_place): a public
    -- id names its span (the id is made from its time), so unique in it is unique overall;
    -- the sender checks a provider's id across spans itself (JobQueue.markSent).
    IF parent IN ('messages', 'events') THEN
        EXECUTE format('CREATE UNIQUE INDEX %I ON %I (public_id)', name || '_public_id', name);
    END IF;
    IF parent = 'provider_message_ids' THEN
        EXECUTE format('CREATE UNIQUE INDEX %I ON %I (provider, provider_message_id)', name || '_unique', name);
    END IF;
    IF parent = 'messages' THEN
        EXECUTE format('ALTER TABLE %I SET (fillfactor = 70)', name);
    END IF;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', parent, name, span << 53, (span + 1) << 53);
    RETURN name;
END;
$$;

CREATE OR REPLACE FUNCTION create_history_partitions(ahead integer) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT made FROM generate_series(history_span_of(now()), history_span_of(now()) + ahead) span
    CROSS JOIN unnest(history_tables()) parent
    CROSS JOIN LATERAL create_history_partition(parent, span) made
    WHERE made IS NOT NULL
    ORDER BY span, parent
$$;

CREATE OR REPLACE VIEW history_partitions AS
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
WHERE parent.oid IN (SELECT to_regclass(t) FROM unnest(history_tables()) t);

-- The spans the other five have: from the current one, as many ahead as the senders keep.
SELECT count(*) FROM create_history_partitions(2);

-- The ids messages hold now, into the current span (a message of any span may hold one). Each
-- partition of messages held its ids once; should two spans hold one id, the older message
-- keeps it and the other keeps the copy it has, as it did.
INSERT INTO provider_message_ids (provider, provider_message_id, message_id)
SELECT provider, provider_message_id, id FROM messages
WHERE provider_message_id IS NOT NULL AND provider IS NOT NULL
ORDER BY id
ON CONFLICT DO NOTHING;

-- And the index each partition of messages had on them goes (span 0's too, made by 0005 and
-- kept by partition_in_place).
DO $$
DECLARE
    index regclass;
BEGIN
    FOR index IN
        SELECT x.indexrelid::regclass FROM pg_index x
        JOIN pg_inherits i ON i.inhrelid = x.indrelid AND i.inhparent = 'messages'::regclass
        WHERE x.indisunique
          AND (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)
               JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum) = ARRAY['provider', 'provider_message_id']
    LOOP
        EXECUTE format('DROP INDEX %s', index);
    END LOOP;
END;
$$;

-- Room on each page for three new versions of a row instead of two. With every update able to
-- be HOT, 15 % free (0032) was not enough at high rates: measured on the test stack, 750
-- messages/s for 20 s through the whole loop, settings alternated on one partition: fillfactor
-- 85 made 80.3 / 88.2 / 88.6 % of messages' updates HOT, 75 made 90.7 / 92.8 %, 70 made 91.7 /
-- 92.4 / 94.2 / 96.4 % (and no more WAL: 4,606-5,059 bytes a message against 4,726-5,756 with 85).
-- The cost: the heap of messages made from now on takes about a fifth more room than with 85
-- (100/70 against 100/85 of its rows); the indexes do not grow. Pages filled before keep theirs.
DO $$
DECLARE
    partition regclass;
BEGIN
    FOR partition IN SELECT i.inhrelid::regclass FROM pg_inherits i WHERE i.inhparent = 'messages'::regclass LOOP
        EXECUTE format('ALTER TABLE %s SET (fillfactor = 70)', partition);
    END LOOP;
END;
$$;

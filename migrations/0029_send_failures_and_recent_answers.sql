-- What each provider answered, kept for the people who run the service (the operator console):
--
-- 1. `send_failures`: every send attempt a provider did not accept (a temporary failure that
--    was retried, or the answer that failed the message), with its provider and answer. A
--    message's attempts are these plus, when it was sent, the accepting one, which the message
--    row itself records (provider, provider's id, attempts, sent_at): so the common case, a
--    message accepted at its first attempt, writes nothing more than before. It grows with
--    traffic (a provider outage retries every message), so it is a fifth table of the history:
--    partitioned by time like events (its rows' ids are made when they are written, after
--    their message) and dropped span by span with the rest (History.maintain).
-- 2. `provider_answer_minutes`: each provider's answers per outcome and minute over the last
--    hour, a ring of 60 slots per provider and outcome (the minute of the hour), so it never
--    grows and needs no pruning; written with the all-time counts (provider_attempts), once
--    per provider per round of outcomes, not per message.
-- 3. `provider_health.last_failure(_at)`: the last answer that was not an acceptance, quoted
--    as the sender's rules quote it (ProviderAnswer: bounded, control characters escaped,
--    the number and text masked).

CREATE SEQUENCE send_failures_id_low;

CREATE TABLE send_failures (
    id                  bigint NOT NULL DEFAULT time_id(epoch_ms(clock_timestamp()), nextval('send_failures_id_low')),
    message_id          bigint NOT NULL,
    -- The attempt number the claim gave the job (jobs.attempts then).
    attempt             integer NOT NULL,
    provider            text NOT NULL,
    -- The provider's answer, or what happened instead (a timeout, a refused connection).
    answer              text NOT NULL,
    -- The provider's own error code, when it gave a usable one (ProviderErrorCode).
    provider_error_code text,
    -- This answer failed the message (no retry followed).
    final               boolean NOT NULL,
    made_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
) PARTITION BY RANGE (id);
CREATE INDEX send_failures_message_id ON send_failures (message_id);

-- 0016's functions and view, for five tables instead of four.
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
    END IF;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', parent, name, span << 53, (span + 1) << 53);
    RETURN name;
END;
$$;

CREATE OR REPLACE FUNCTION create_history_partitions(ahead integer) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT made FROM generate_series(history_span_of(now()), history_span_of(now()) + ahead) span
    CROSS JOIN unnest(ARRAY['messages', 'delivery_events', 'events', 'webhook_attempts', 'send_failures']) parent
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
WHERE parent.oid IN ('messages'::regclass, 'delivery_events'::regclass, 'events'::regclass, 'webhook_attempts'::regclass,
                     'send_failures'::regclass);

-- The spans the other four have: from the current one, as many ahead as the senders keep.
SELECT count(*) FROM create_history_partitions(2);

CREATE TABLE provider_answer_minutes (
    provider text NOT NULL,
    outcome  text NOT NULL CHECK (outcome IN ('accepted', 'temporary_failure', 'permanent_failure')),
    -- The minute of the hour (0-59) `minute` fell in: a slot is reused an hour later.
    slot     smallint NOT NULL CHECK (slot BETWEEN 0 AND 59),
    minute   timestamptz NOT NULL,
    count    bigint NOT NULL,
    PRIMARY KEY (provider, outcome, slot)
);

ALTER TABLE provider_health ADD COLUMN last_failure text, ADD COLUMN last_failure_at timestamptz;

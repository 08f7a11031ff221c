-- What each API key may send and what it has sent.
--
-- key_usage: messages and segments accepted per key and UTC day, for every key (GET /usage,
-- `textingctl stats`, /metrics). Kept like status_counts (0014): the statement that inserts
-- messages appends one row per key and day to key_usage_changes (a statement-level trigger:
-- no row lock, so concurrent writers never wait for each other here), and compaction folds
-- them into key_usage; a reader adds both.
--
-- api_key_limits: the limits an operator set on a key (`textingctl keys limits`): a rate
-- (a token bucket of `burst` messages refilled at `rate` a second) and segment quotas per
-- UTC day and calendar month (UTC). messages.accept reads and updates the row of each key in
-- its batch under a row lock, in the statement that stores the messages: concurrent batches
-- of a limited key take turns on it, so its counters are exact and a quota is never
-- overshot. Keys without a row have no limits and take no lock.

CREATE TABLE key_usage (
    api_key_id bigint NOT NULL REFERENCES api_keys (id),
    day        date NOT NULL,
    messages   bigint NOT NULL,
    segments   bigint NOT NULL,
    PRIMARY KEY (api_key_id, day)
);

-- Appended to, never updated; emptied by compaction.
CREATE TABLE key_usage_changes (
    api_key_id bigint NOT NULL,
    day        date NOT NULL,
    messages   bigint NOT NULL,
    segments   bigint NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000,
        autovacuum_vacuum_insert_scale_factor = 0.0, autovacuum_vacuum_insert_threshold = 1000);
CREATE INDEX key_usage_changes_key_day ON key_usage_changes (api_key_id, day);

CREATE FUNCTION count_key_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO key_usage_changes (api_key_id, day, messages, segments)
    SELECT api_key_id, (created_at AT TIME ZONE 'UTC')::date, count(*), sum(segments)
    FROM new_rows WHERE api_key_id IS NOT NULL
    GROUP BY 1, 2;
    RETURN NULL;
END;
$$;
CREATE TRIGGER messages_count_key_usage AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_key_usage();

CREATE FUNCTION compact_key_usage() RETURNS bigint LANGUAGE sql AS $$
    WITH moved AS (
        DELETE FROM key_usage_changes RETURNING api_key_id, day, messages, segments
    ), folded AS (
        INSERT INTO key_usage AS u (api_key_id, day, messages, segments)
        SELECT api_key_id, day, sum(messages), sum(segments) FROM moved GROUP BY api_key_id, day ORDER BY api_key_id, day
        ON CONFLICT (api_key_id, day) DO UPDATE SET messages = u.messages + EXCLUDED.messages, segments = u.segments + EXCLUDED.segments
        RETURNING 1
    )
    SELECT count(*) FROM moved
$$;

-- A key's usage from `since` (a UTC day) on: messages and segments, folded and not yet folded.
CREATE FUNCTION key_usage_since(key bigint, since date) RETURNS TABLE (messages bigint, segments bigint)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(messages), 0)::bigint, coalesce(sum(segments), 0)::bigint FROM (
        SELECT messages, segments FROM key_usage WHERE api_key_id = key AND day >= since
        UNION ALL
        SELECT messages, segments FROM key_usage_changes WHERE api_key_id = key AND day >= since
    ) counted
$$;

CREATE TABLE api_key_limits (
    api_key_id         bigint PRIMARY KEY REFERENCES api_keys (id),
    -- Messages a second (NULL: no rate) and the bucket's size (messages at once).
    rate               double precision CHECK (rate > 0),
    burst              integer CHECK (burst >= 1),
    -- Segments per UTC day and per calendar month (UTC); NULL: no quota.
    segments_per_day   bigint CHECK (segments_per_day >= 0),
    segments_per_month bigint CHECK (segments_per_month >= 0),
    -- The bucket: `tokens` as of `tokens_at`.
    tokens             double precision NOT NULL DEFAULT 0,
    tokens_at          timestamptz NOT NULL DEFAULT now(),
    -- Segments accepted in the day and month that start on `day` and `month`; a counter of a
    -- past period counts as 0.
    day                date NOT NULL DEFAULT '1970-01-01',
    day_segments       bigint NOT NULL DEFAULT 0,
    month              date NOT NULL DEFAULT '1970-01-01',
    month_segments     bigint NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((rate IS NULL) = (burst IS NULL))
);

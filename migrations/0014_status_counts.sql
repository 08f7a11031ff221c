-- Figures that do not scan: messages and phone numbers by status, kept exact by the
-- statements that change them, so /metrics and `textingctl stats` cost the same at 100
-- million messages as at none (a count(*) over messages took over a second at 8 million).
--
-- Each statement that inserts, updates or deletes rows of messages or phone_numbers appends
-- what it changed per status to status_count_changes (a statement-level trigger over its
-- transition tables: one small INSERT per statement, whatever its number of rows, and no row
-- lock, so concurrent writers never wait for each other here). compact_status_counts() folds
-- the changes into status_counts (the sender does at the end of each run, and `textingctl
-- prune`); a reader adds both, so the figures are exact whenever it reads.

CREATE TABLE status_counts (
    kind   text NOT NULL,   -- the table counted: messages, phone_numbers
    status text NOT NULL,
    count  bigint NOT NULL,
    PRIMARY KEY (kind, status)
);

-- Appended to, never updated; emptied by compaction.
CREATE TABLE status_count_changes (
    kind   text NOT NULL,
    status text NOT NULL,
    delta  bigint NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000,
        autovacuum_vacuum_insert_scale_factor = 0.0, autovacuum_vacuum_insert_threshold = 1000);

CREATE FUNCTION count_status_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO status_count_changes (kind, status, delta)
        SELECT TG_TABLE_NAME, status::text, count(*) FROM new_rows GROUP BY status;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO status_count_changes (kind, status, delta)
        SELECT TG_TABLE_NAME, status, sum(delta) FROM (
            SELECT status::text AS status, 1 AS delta FROM new_rows
            UNION ALL
            SELECT status::text, -1 FROM old_rows
        ) changed
        GROUP BY status HAVING sum(delta) <> 0;
    ELSE
        INSERT INTO status_count_changes (kind, status, delta)
        SELECT TG_TABLE_NAME, status::text, -count(*) FROM old_rows GROUP BY status;
    END IF;
    RETURN NULL;
END;
$$;

-- A TRUNCATE (tests, the benchmark) empties the table: its counts go with it.
CREATE FUNCTION forget_status_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM status_counts WHERE kind = TG_TABLE_NAME;
    DELETE FROM status_count_changes WHERE kind = TG_TABLE_NAME;
    RETURN NULL;
END;
$$;

-- Folds the changes appended so far into status_counts. Concurrent compactions each move
-- what they deleted (a row is deleted once), and lock the few status_counts rows in order.
CREATE FUNCTION compact_status_counts() RETURNS bigint LANGUAGE sql AS $$
    WITH moved AS (
        DELETE FROM status_count_changes RETURNING kind, status, delta
    ), folded AS (
        INSERT INTO status_counts AS c (kind, status, count)
        SELECT kind, status, sum(delta) FROM moved GROUP BY kind, status ORDER BY kind, status
        ON CONFLICT (kind, status) DO UPDATE SET count = c.count + EXCLUDED.count
        RETURNING 1
    )
    SELECT count(*) FROM moved
$$;

CREATE TRIGGER messages_count_inserts AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_status_changes();
CREATE TRIGGER messages_count_updates AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_status_changes();
CREATE TRIGGER messages_count_deletes AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_status_changes();
CREATE TRIGGER messages_count_truncate AFTER TRUNCATE ON messages FOR EACH STATEMENT EXECUTE FUNCTION forget_status_counts();

CREATE TRIGGER phone_numbers_count_inserts AFTER INSERT ON phone_numbers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_status_changes();
CREATE TRIGGER phone_numbers_count_updates AFTER UPDATE ON phone_numbers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_status_changes();
CREATE TRIGGER phone_numbers_count_deletes AFTER DELETE ON phone_numbers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_status_changes();
CREATE TRIGGER phone_numbers_count_truncate AFTER TRUNCATE ON phone_numbers FOR EACH STATEMENT EXECUTE FUNCTION forget_status_counts();

-- What exists now, counted once while the triggers' creation holds off every writer (a
-- SHARE ROW EXCLUSIVE lock until this migration commits): about a second per few million
-- rows, once.
INSERT INTO status_counts (kind, status, count)
SELECT 'messages', status::text, count(*) FROM messages GROUP BY status;
INSERT INTO status_counts (kind, status, count)
SELECT 'phone_numbers', status::text, count(*) FROM phone_numbers GROUP BY status;

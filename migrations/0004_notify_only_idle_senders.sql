-- NOTIFY takes a database-wide lock from pre-commit to the end of the commit, so a NOTIFY in
-- every accepting transaction stopped commits from being grouped (measured: 1.3-2.9x fewer
-- ingests per second). Senders that are busy do not need waking: an idle sender now says so
-- in `idle_senders`, and new jobs notify only while one is there.

-- Unlogged: a few rows, rewritten often, worthless after a crash.
CREATE UNLOGGED TABLE idle_senders (
    sender_id text PRIMARY KEY,
    -- Refreshed before each sleep; rows of senders that died stop counting after a minute.
    since     timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION notify_jobs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM idle_senders WHERE since > now() - interval '1 minute') THEN
        PERFORM pg_notify('texting_jobs', '');
    END IF;
    RETURN NULL;
END;
$$;

-- The texting service's first schema: phone numbers, messages, the job queue, and the audit
-- trail of provider callbacks. Applied by `textingctl migrate`, inside one transaction.

CREATE TYPE phone_number_status AS ENUM ('active', 'inactive');
CREATE TYPE message_status AS ENUM ('queued', 'sending', 'sent', 'delivered', 'failed', 'invalid', 'canceled');

CREATE TABLE phone_numbers (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id      uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    number         text NOT NULL UNIQUE CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
    status         phone_number_status NOT NULL DEFAULT 'active',
    inactivated_at timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE messages (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id           uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    phone_number_id     bigint NOT NULL REFERENCES phone_numbers (id),
    body                text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 1600),
    status              message_status NOT NULL DEFAULT 'queued',
    encoding            text NOT NULL CHECK (encoding IN ('GSM-7', 'UCS-2')),
    segments            integer NOT NULL CHECK (segments >= 1),
    provider            text,
    provider_message_id text,
    attempts            integer NOT NULL DEFAULT 0,
    error_code          text,
    error_detail        text,
    send_at             timestamptz,
    expires_at          timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz,
    delivered_at        timestamptz,
    failed_at           timestamptz,
    canceled_at         timestamptz,
    CONSTRAINT messages_provider_message_id_unique UNIQUE (provider, provider_message_id)
);
CREATE INDEX messages_phone_number_status ON messages (phone_number_id, status);

-- One row per message that still has to be sent; deleted when it leaves the queue, so this
-- hot table stays small. `run_at` is when it is next due; a sender's claim moves it to the
-- end of its lease, so a job whose sender died comes due again by itself.
CREATE TABLE jobs (
    message_id    bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    run_at        timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    last_provider text,
    last_error    text,
    leased_by     text,
    leased_until  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
) WITH (
    -- Every row is inserted, updated a few times and deleted within seconds: vacuum early
    -- and often so the claim query does not wade through dead tuples.
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0.0,
    autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.0,
    autovacuum_analyze_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0,
    fillfactor = 70
);
CREATE INDEX jobs_run_at ON jobs (run_at);

-- Wake sleeping senders (LISTEN texting_jobs) when work arrives; one notification per
-- statement, and PostgreSQL folds repeats within a transaction.
CREATE FUNCTION notify_jobs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('texting_jobs', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER jobs_inserted AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION notify_jobs_inserted();

-- Every provider callback, applied or not, kept for audit.
CREATE TABLE delivery_events (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id          bigint REFERENCES messages (id),
    provider_message_id text,
    reported_status     text NOT NULL,
    applied             boolean NOT NULL,
    request_id          text,
    received_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_events_message ON delivery_events (message_id);

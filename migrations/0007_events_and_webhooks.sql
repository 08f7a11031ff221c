-- Clients hear back. Every status change of a message (and a number becoming inactive)
-- writes one event in the same transaction as the change, from a trigger, so that no code
-- path can change a status without its event or write an event without its change (an
-- outbox). Events are pulled (GET /events) and pushed to the key's webhook endpoints and a
-- message's own status_callback through the webhook_deliveries queue.

-- The client's own reference (1-64 visible characters) and the message's own webhook URL.
ALTER TABLE messages ADD COLUMN client_ref text;
ALTER TABLE messages ADD COLUMN status_callback text;
-- GET /messages?client_ref=… lists newest first like the other filters.
CREATE INDEX messages_api_key_client_ref ON messages (api_key_id, client_ref, id DESC) WHERE client_ref IS NOT NULL;

CREATE TABLE events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id    uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    -- The writing transaction. A pull lists only events of transactions older than every
    -- running one, ordered by (xact, id), so an event that commits late can never land
    -- behind a cursor a client already holds (ids alone are handed out before commit).
    xact         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    api_key_id   bigint NOT NULL REFERENCES api_keys (id),
    type         text NOT NULL,
    message_id   bigint REFERENCES messages (id),
    -- The messages row as it was right after the change; the API's message JSON is rendered
    -- from it (jsonb_populate_record), so an event keeps showing the message as it was.
    message      jsonb,
    -- For phone_number.* events: the number concerned.
    phone_number text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_api_key_xact ON events (api_key_id, xact, id);
CREATE INDEX events_message ON events (message_id);

CREATE TABLE webhook_endpoints (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id       uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    api_key_id      bigint NOT NULL REFERENCES api_keys (id),
    url             text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
    -- Empty: every event type.
    event_types     text[] NOT NULL DEFAULT '{}',
    description     text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- The first failed attempt since the last success; an endpoint failing for longer than
    -- the configured time is disabled.
    failing_since   timestamptz,
    last_success_at timestamptz,
    disabled_at     timestamptz,
    disabled_reason text
);
CREATE INDEX webhook_endpoints_api_key ON webhook_endpoints (api_key_id, id);

-- Signing secrets (32 random bytes, base64; shown once as whsec_…). An endpoint's, or an API
-- key's own for the status_callback URLs of its messages (endpoint_id NULL). A rotated secret
-- keeps signing beside its successor until expires_at.
CREATE TABLE webhook_secrets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    api_key_id  bigint NOT NULL REFERENCES api_keys (id),
    endpoint_id bigint REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    secret      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz
);
CREATE INDEX webhook_secrets_owner ON webhook_secrets (api_key_id, endpoint_id);

-- The push queue: one row per (event, destination) not yet delivered, deleted once it is
-- (like jobs, so the hot table stays small). endpoint_id NULL: the message's status_callback.
CREATE TABLE webhook_deliveries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     bigint NOT NULL REFERENCES events (id),
    api_key_id   bigint NOT NULL,
    endpoint_id  bigint REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    message_id   bigint,
    url          text NOT NULL,
    run_at       timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0,
    leased_by    text,
    leased_until timestamptz,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now()
) WITH (
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0.0,
    autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.0,
    autovacuum_analyze_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0,
    fillfactor = 70
);
CREATE INDEX webhook_deliveries_run_at ON webhook_deliveries (run_at);
-- The claim's "no earlier event of this message still waits for this destination".
CREATE INDEX webhook_deliveries_message ON webhook_deliveries (message_id, id) WHERE message_id IS NOT NULL;
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id);

-- Every attempt, for GET /webhook_endpoints/{id}/deliveries and for audit.
CREATE TABLE webhook_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    bigint NOT NULL REFERENCES events (id),
    api_key_id  bigint NOT NULL,
    endpoint_id bigint REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    url         text NOT NULL,
    attempt     integer NOT NULL,
    -- delivered, retrying, failed (given up), disabled (the endpoint was disabled)
    outcome     text NOT NULL,
    http_status integer,
    error       text,
    latency_ms  integer NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id DESC);
CREATE INDEX webhook_attempts_event ON webhook_attempts (event_id);

-- Queues an event for every enabled endpoint of the key that wants its type, and for the
-- message's status_callback.
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

-- One event per status change a client hears about; `queued` and `sending` are the
-- service's own business.
CREATE FUNCTION record_message_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    event events;
BEGIN
    IF NEW.api_key_id IS NULL THEN
        RETURN NULL;  -- messages from before API keys belong to nobody who could hear
    END IF;
    INSERT INTO events (api_key_id, type, message_id, message, phone_number)
    VALUES (
        NEW.api_key_id,
        CASE WHEN NEW.status = 'failed' AND NEW.error_code = 'expired' THEN 'message.expired'
             ELSE 'message.' || NEW.status::text END,
        NEW.id, to_jsonb(NEW), NULL)
    RETURNING * INTO event;
    PERFORM queue_webhook_deliveries(event, NEW.status_callback);
    RETURN NULL;
END;
$$;
CREATE TRIGGER messages_status_event AFTER UPDATE OF status ON messages FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status NOT IN ('queued', 'sending'))
    EXECUTE FUNCTION record_message_event();

-- A number nobody may text any more: every key that has texted it hears so once.
CREATE FUNCTION record_phone_number_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    event events;
BEGIN
    FOR event IN
        INSERT INTO events (api_key_id, type, phone_number)
        SELECT DISTINCT m.api_key_id, 'phone_number.inactive', NEW.number
        FROM messages m WHERE m.phone_number_id = NEW.id AND m.api_key_id IS NOT NULL
        RETURNING *
    LOOP
        PERFORM queue_webhook_deliveries(event, NULL);
    END LOOP;
    RETURN NULL;
END;
$$;
CREATE TRIGGER phone_numbers_inactive_event AFTER UPDATE OF status ON phone_numbers FOR EACH ROW
    WHEN (OLD.status = 'active' AND NEW.status = 'inactive')
    EXECUTE FUNCTION record_phone_number_event();

-- Wake an idle webhook dispatcher (LISTEN texting_webhooks) when deliveries are queued, only
-- while one says it sleeps: a NOTIFY in every status change would serialise their commits
-- (see 0004). idle_senders now says which channel each sleeper listens on.
ALTER TABLE idle_senders ADD COLUMN channel text NOT NULL DEFAULT 'texting_jobs';

CREATE OR REPLACE FUNCTION notify_jobs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM idle_senders WHERE channel = 'texting_jobs' AND since > now() - interval '1 minute') THEN
        PERFORM pg_notify('texting_jobs', '');
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION notify_webhooks_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM idle_senders WHERE channel = 'texting_webhooks' AND since > now() - interval '1 minute') THEN
        PERFORM pg_notify('texting_webhooks', '');
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER webhook_deliveries_inserted AFTER INSERT ON webhook_deliveries FOR EACH STATEMENT
    EXECUTE FUNCTION notify_webhooks_queued();

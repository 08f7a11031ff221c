-- Two rules that 0021 and 0023 each wrote out in both places that queue webhook deliveries
-- (queue_webhook_deliveries for opt-out and inbound events, record_message_events for
-- status events) become one SQL function each, so a change to either rule is made once:
-- when a new delivery is due, and which events an endpoint receives. Behaviour unchanged.

-- When a new delivery of `message` to a destination (an endpoint, or with none the `url` of
-- a status_callback) is due: now, or when an earlier one waiting out its backoff is.
CREATE FUNCTION webhook_due_at(message bigint, endpoint bigint, url text) RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT greatest(now(), (SELECT max(earlier.run_at) FROM webhook_deliveries earlier
                            WHERE earlier.message_id = $1 AND earlier.leased_by IS NULL
                              AND earlier.endpoint_id IS NOT DISTINCT FROM $2
                              AND ($2 IS NOT NULL OR earlier.url = $3)))
$$;

-- Whether an endpoint receives events of `type`.
CREATE FUNCTION webhook_endpoint_wants(w webhook_endpoints, type text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT w.disabled_at IS NULL AND (w.event_types = '{}' OR $2 = ANY(w.event_types))
$$;

CREATE OR REPLACE FUNCTION queue_webhook_deliveries(event events, callback text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (event_id, api_key_id, endpoint_id, message_id, url, run_at)
    SELECT event.id, event.api_key_id, w.id, event.message_id, w.url, webhook_due_at(event.message_id, w.id, w.url)
    FROM webhook_endpoints w
    WHERE w.api_key_id = event.api_key_id AND webhook_endpoint_wants(w, event.type);
    IF callback IS NOT NULL THEN
        INSERT INTO webhook_deliveries (event_id, api_key_id, endpoint_id, message_id, url, run_at)
        VALUES (event.id, event.api_key_id, NULL, event.message_id, callback, webhook_due_at(event.message_id, NULL, callback));
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION record_message_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH changed AS (
        -- One event per status change a client hears about; `queued` and `sending` are the
        -- service's own business, and messages without a key belong to nobody who could hear.
        SELECT n AS message FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o.status IS DISTINCT FROM n.status AND n.status NOT IN ('queued', 'sending') AND n.api_key_id IS NOT NULL
    ), event AS (
        INSERT INTO events (api_key_id, type, message_id, message, phone_number)
        SELECT (c.message).api_key_id,
               CASE WHEN (c.message).status = 'failed' AND (c.message).error_code = 'expired' THEN 'message.expired'
                    ELSE 'message.' || (c.message).status::text END,
               (c.message).id, to_jsonb(c.message), NULL
        FROM changed c ORDER BY (c.message).id
        RETURNING id, api_key_id, type, message_id
    ), to_endpoints AS (
        INSERT INTO webhook_deliveries (event_id, api_key_id, endpoint_id, message_id, url, run_at)
        SELECT e.id, e.api_key_id, w.id, e.message_id, w.url, webhook_due_at(e.message_id, w.id, w.url)
        FROM event e JOIN webhook_endpoints w ON w.api_key_id = e.api_key_id AND webhook_endpoint_wants(w, e.type)
        ORDER BY e.id, w.id
    )
    INSERT INTO webhook_deliveries (event_id, api_key_id, endpoint_id, message_id, url, run_at)
    SELECT e.id, e.api_key_id, NULL, e.message_id, (c.message).status_callback,
           webhook_due_at(e.message_id, NULL, (c.message).status_callback)
    FROM event e JOIN changed c ON (c.message).id = e.message_id
    WHERE (c.message).status_callback IS NOT NULL
    ORDER BY e.id;
    RETURN NULL;
END;
$$;

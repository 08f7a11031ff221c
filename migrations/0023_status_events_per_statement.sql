-- A message's status events (and their webhook deliveries) are written once per statement,
-- set-based, from the statement's transition tables, instead of by a PL/pgSQL function
-- called for each changed row: the sender records a hundred messages in one statement, and
-- the per-row calls (an INSERT planned and run per row, and one per webhook destination)
-- were most of what recording a send cost the database. The same events, the same
-- deliveries (with 0021's due times), in the same transaction as the change.
DROP TRIGGER messages_status_event ON messages;

CREATE FUNCTION record_message_events() RETURNS trigger LANGUAGE plpgsql AS $$
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
        SELECT e.id, e.api_key_id, w.id, e.message_id, w.url,
               greatest(now(), (SELECT max(earlier.run_at) FROM webhook_deliveries earlier
                                WHERE earlier.message_id = e.message_id AND earlier.endpoint_id = w.id AND earlier.leased_by IS NULL))
        FROM event e
        JOIN webhook_endpoints w ON w.api_key_id = e.api_key_id AND w.disabled_at IS NULL
                                AND (w.event_types = '{}' OR e.type = ANY(w.event_types))
        ORDER BY e.id, w.id
    )
    INSERT INTO webhook_deliveries (event_id, api_key_id, endpoint_id, message_id, url, run_at)
    SELECT e.id, e.api_key_id, NULL, e.message_id, (c.message).status_callback,
           greatest(now(), (SELECT max(earlier.run_at) FROM webhook_deliveries earlier
                            WHERE earlier.message_id = e.message_id AND earlier.endpoint_id IS NULL
                              AND earlier.url = (c.message).status_callback AND earlier.leased_by IS NULL))
    FROM event e JOIN changed c ON (c.message).id = e.message_id
    WHERE (c.message).status_callback IS NOT NULL
    ORDER BY e.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER messages_status_events AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_message_events();

DROP FUNCTION record_message_event();

-- A status event keeps the message as it was right after the change (webhooks and GET /events
-- send it as such). It was kept as JSON (to_jsonb of the row): every column's name spelled
-- out, timestamps as text, about 920 bytes for a message with a 140-character body, and
-- PostgreSQL never compresses a row that small. Two events a message made the events table
-- the largest single part of the WAL a message cost (2.6 of 9.4 KB, pg_walinspect, test stack,
-- 100 messages/s through the whole loop).
--
-- The snapshot is now the row itself, a column of messages' row type: about 320 bytes for the
-- same message, read back with the same columns and types (EventRecord.messageAsOfEvent).
--
-- Events written before keep their JSON in `message` and are read as before: the reader takes
-- the row where there is one and the JSON where there is not. They leave with their spans; no
-- row is rewritten here.
--
-- For whoever changes messages later: adding or dropping a column of messages works as
-- before (a snapshot without the column reads it as NULL). Changing a column's type does not:
-- PostgreSQL refuses it while events.snapshot uses the row type ("cannot alter table
-- "messages" because column "events.snapshot" uses its row type"), so such a migration must
-- say what the stored snapshots become.
ALTER TABLE events ADD COLUMN snapshot messages;

-- 0024's function, with the row stored instead of its JSON.
CREATE OR REPLACE FUNCTION record_message_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH changed AS (
        -- One event per status change a client hears about; `queued` and `sending` are the
        -- service's own business, and messages without a key belong to nobody who could hear.
        SELECT ROW(n.*)::messages AS message FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o.status IS DISTINCT FROM n.status AND n.status NOT IN ('queued', 'sending') AND n.api_key_id IS NOT NULL
    ), event AS (
        INSERT INTO events (api_key_id, type, message_id, snapshot, phone_number)
        SELECT (c.message).api_key_id,
               CASE WHEN (c.message).status = 'failed' AND (c.message).error_code = 'expired' THEN 'message.expired'
                    ELSE 'message.' || (c.message).status::text END,
               (c.message).id, c.message, NULL
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

-- A status change wakes a sleeping webhook dispatcher only when it queued a delivery. The
-- statement-level trigger on webhook_deliveries fires for every INSERT statement, also one
-- that inserted nothing, and every status change runs one (record_message_events: a key
-- without endpoints, a message without status_callback). So an idle dispatcher was woken
-- for every status change of every message, to read an empty queue and go back to sleep:
-- a NOTIFY, an idle_senders check, its due query, a next-due query and two idle_senders
-- writes per change, 6 % of the database's statement time in the whole loop
-- (pg_stat_statements). Now the trigger sees the rows inserted and notifies only if any.
CREATE OR REPLACE FUNCTION notify_webhooks_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted)
       AND EXISTS (SELECT 1 FROM idle_senders WHERE channel = 'texting_webhooks' AND since > now() - interval '1 minute') THEN
        PERFORM pg_notify('texting_webhooks', '');
    END IF;
    RETURN NULL;
END;
$$;
DROP TRIGGER webhook_deliveries_inserted ON webhook_deliveries;
CREATE TRIGGER webhook_deliveries_inserted AFTER INSERT ON webhook_deliveries REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION notify_webhooks_queued();

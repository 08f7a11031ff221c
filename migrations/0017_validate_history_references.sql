-- The foreign keys 0016 added NOT VALID from jobs and idempotency_keys to the partitioned
-- messages, and from webhook_deliveries to events: checked here, in a transaction of its
-- own, under a lock that lets readers and writers of the tables go on (new rows were checked
-- from the start).
ALTER TABLE jobs VALIDATE CONSTRAINT jobs_message_id_fkey;
ALTER TABLE idempotency_keys VALIDATE CONSTRAINT idempotency_keys_message_id_fkey;
ALTER TABLE webhook_deliveries VALIDATE CONSTRAINT webhook_deliveries_event_id_fkey;

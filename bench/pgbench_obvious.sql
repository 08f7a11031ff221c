-- The ingest ceiling the issue names: the obvious transaction for accepting a message, written
-- by hand (not the service's SQL): upsert the phone number, insert the message, insert its
-- job, three statements in one transaction. scripts/bench runs it with -M prepared (three
-- prepared statements), 8 clients over the unix socket, synchronous_commit on, -D owner=ID.
-- Numbers and body lengths vary as bench/ingest.lua varies them.
\set n random(0, 9999999)
\set len 20 + random(0, 124)
BEGIN;
INSERT INTO phone_numbers (number) VALUES ('+1558' || lpad(:n::text, 7, '0'))
    ON CONFLICT (number) DO UPDATE SET number = excluded.number
    RETURNING id AS phone_number_id \gset
INSERT INTO messages (phone_number_id, body, encoding, segments, api_key_id)
    VALUES (:phone_number_id, left('Benchmark message: your code is 482913. It expires in 10 minutes. Do not share it with anyone; we never ask for it by phone or e-mail. Thank you', :len), 'GSM-7', 1, :owner)
    RETURNING id AS message_id \gset
INSERT INTO jobs (message_id, run_at) VALUES (:message_id, now());
COMMIT;

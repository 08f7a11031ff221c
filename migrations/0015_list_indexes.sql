-- Every filter of GET /messages served by an index that also holds the cursor (the id), so
-- a page costs the same at 100 million messages as at none (MessageStore.listQueries: one
-- statement per combination of filters). Before, `status=` read every message of the key
-- with a filter on status (1.1 s at 8 million messages).
--
--   key                 messages_api_key_id            (api_key_id, id DESC)             0002
--   key, number         messages_api_key_phone_number  (api_key_id, phone_number_id, id)  0002
--   key, status         messages_api_key_status        (api_key_id, status, id)          here
--   key, number, status messages_phone_number_key_status (phone_number_id, api_key_id, status, id)  here
--   key, client_ref     messages_api_key_client_ref    (api_key_id, client_ref, id)       0007
--
-- The last also serves what messages_phone_number_status (phone_number_id, status) did (a
-- number's messages, for an `invalid` report or an opt-out), so that one goes: one index
-- more in all on the table every status change writes.
--
-- Built inside the migration's transaction, which holds off writes to messages while it
-- builds (seconds per few million rows). On a large installation, build the two first with
-- CREATE INDEX CONCURRENTLY under these names: IF NOT EXISTS then finds them.
CREATE INDEX IF NOT EXISTS messages_api_key_status ON messages (api_key_id, status, id DESC);
CREATE INDEX IF NOT EXISTS messages_phone_number_key_status ON messages (phone_number_id, api_key_id, status, id DESC);
DROP INDEX IF EXISTS messages_phone_number_status;

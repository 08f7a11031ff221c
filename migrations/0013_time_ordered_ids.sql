-- Time-ordered public ids (UUID version 7, RFC 9562) for the tables that grow with traffic:
-- the first 48 bits are the Unix milliseconds when the row was made, so their unique
-- indexes grow at the right edge (a random id touches a page anywhere in an index that no
-- longer fits in memory). MessagesFCGI makes its messages' ids itself (RandomUUID.makeTimeOrdered);
-- this default serves the rows made in SQL (replies to keywords, events, inbound messages).
-- Ids made before stay valid: a uuid is a uuid.
CREATE FUNCTION uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;

ALTER TABLE messages ALTER COLUMN public_id SET DEFAULT uuid_v7();
ALTER TABLE events ALTER COLUMN public_id SET DEFAULT uuid_v7();
ALTER TABLE inbound_messages ALTER COLUMN public_id SET DEFAULT uuid_v7();

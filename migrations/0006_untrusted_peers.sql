-- Peers are untrusted: a delivery report counts only for the attempt that holds its message,
-- and a sender that lost its lease records nothing.

-- How many times an operator requeued the message: attempt numbers restart at a requeue, so
-- a callback URL names the generation too, and an old URL cannot undo the requeue.
ALTER TABLE messages ADD COLUMN requeues integer NOT NULL DEFAULT 0;

-- The attempt the report's signed URL named ("generation.attempt@provider"); NULL for URLs
-- signed before attempts were bound.
ALTER TABLE delivery_events ADD COLUMN attempt text;

-- Counters of events that change no row, so they cannot be counted from the tables: outcomes
-- a sender could not record because its lease was gone, and the like. /metrics shows them.
CREATE TABLE service_counters (
    name  text PRIMARY KEY,
    count bigint NOT NULL DEFAULT 0
);

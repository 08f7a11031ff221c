-- Replies from recipients, relayed by providers (POST /messages/inbound): stored once per
-- provider and provider id. A reply that is a keyword changes the opt-out list (0008) in the
-- same transaction; the key that last texted the number hears of the reply as an event.

CREATE TABLE inbound_messages (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id           uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    provider            text NOT NULL,
    provider_message_id text NOT NULL,
    -- The recipient who replied.
    phone_number_id     bigint NOT NULL REFERENCES phone_numbers (id),
    -- The number or short code the reply was sent to.
    to_number           text NOT NULL,
    body                text NOT NULL,
    -- 'opt_out', 'opt_in' or 'help' when the whole reply was such a keyword.
    keyword             text,
    -- The key that last texted the number hears of the reply (NULL: no key ever did).
    api_key_id          bigint REFERENCES api_keys (id),
    -- That key's last message to the number: the conversation the reply continues.
    in_reply_to         bigint REFERENCES messages (id),
    received_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, provider_message_id)
);
CREATE INDEX inbound_messages_number ON inbound_messages (phone_number_id, id);

-- `message.received` events carry the reply.
ALTER TABLE events ADD COLUMN inbound_message_id bigint REFERENCES inbound_messages (id);

CREATE FUNCTION record_inbound_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    event events;
BEGIN
    IF NEW.api_key_id IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO events (api_key_id, type, inbound_message_id, message_id)
    VALUES (NEW.api_key_id, 'message.received', NEW.id, NULL)
    RETURNING * INTO event;
    PERFORM queue_webhook_deliveries(event, NULL);
    RETURN NULL;
END;
$$;
CREATE TRIGGER inbound_messages_event AFTER INSERT ON inbound_messages FOR EACH ROW
    EXECUTE FUNCTION record_inbound_event();

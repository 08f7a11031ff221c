-- Recipients have a say: a number on the opt-out list receives nothing more (but the one
-- confirmation of its opt-out) until it opts in again. The list is distinct from a number's
-- `status` (`inactive`: a provider's verdict that the number is invalid): both hold.

-- When the number opted out; NULL: it receives messages.
ALTER TABLE phone_numbers ADD COLUMN opted_out_at timestamptz;

-- Every change of the list, with who made it, when and why.
CREATE TABLE opt_out_changes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone_number_id bigint NOT NULL REFERENCES phone_numbers (id),
    -- 'opt_out' or 'opt_in'.
    action          text NOT NULL,
    -- 'keyword' (the recipient's reply; actor: the provider that relayed it) or 'operator'
    -- (textingctl; actor: the operator's login name).
    source          text NOT NULL,
    actor           text NOT NULL,
    reason          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX opt_out_changes_number ON opt_out_changes (phone_number_id, id);

-- What a message is: a client's ('client'), or the service's own answer to a recipient's
-- keyword. Only an opt-out confirmation ('opt_out_reply') may go to a number that opted out.
ALTER TABLE messages ADD COLUMN kind text NOT NULL DEFAULT 'client';

-- Every key that has texted the number hears of its opt-out and opt-in (events, webhooks),
-- as of its becoming inactive (0007).
CREATE OR REPLACE FUNCTION record_phone_number_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    event events;
    event_type text;
BEGIN
    IF OLD.status = 'active' AND NEW.status = 'inactive' THEN
        event_type := 'phone_number.inactive';
    ELSIF OLD.opted_out_at IS NULL AND NEW.opted_out_at IS NOT NULL THEN
        event_type := 'phone_number.opted_out';
    ELSIF OLD.opted_out_at IS NOT NULL AND NEW.opted_out_at IS NULL THEN
        event_type := 'phone_number.opted_in';
    ELSE
        RETURN NULL;
    END IF;
    FOR event IN
        INSERT INTO events (api_key_id, type, phone_number)
        SELECT DISTINCT m.api_key_id, event_type, NEW.number
        FROM messages m WHERE m.phone_number_id = NEW.id AND m.api_key_id IS NOT NULL
        RETURNING *
    LOOP
        PERFORM queue_webhook_deliveries(event, NULL);
    END LOOP;
    RETURN NULL;
END;
$$;
DROP TRIGGER phone_numbers_inactive_event ON phone_numbers;
CREATE TRIGGER phone_numbers_event AFTER UPDATE OF status, opted_out_at ON phone_numbers FOR EACH ROW
    WHEN ((OLD.status = 'active' AND NEW.status = 'inactive') OR (OLD.opted_out_at IS NULL) <> (NEW.opted_out_at IS NULL))
    EXECUTE FUNCTION record_phone_number_event();

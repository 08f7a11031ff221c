-- A send and an opt-out of its recipient exclude each other, so that nothing reaches a number
-- after its opt-out committed: not even a message claimed just before.
--
-- A sender holds its recipients in a shared advisory lock (session level) from just before it
-- sends until the provider's answer is recorded; an opt-out takes the same lock exclusively
-- (transaction level) before anything else, so it waits for the sends in flight to that
-- number and commits after them, and no send starts while it runs. The key is the number's
-- text hashed into the second half of a two-part key whose first half, 7301, is this
-- service's (two numbers with one hash only wait for each other a little: never a wrong
-- answer). The functions below are the only places that know the key.

-- For an opt-out, first in its transaction: waits for the sends in flight to `number`, and
-- keeps new ones from starting until the transaction ends.
CREATE FUNCTION hold_sends_to(number text) RETURNS void LANGUAGE sql VOLATILE AS $$
    SELECT pg_advisory_xact_lock(7301, hashtext(number))
$$;

-- For a sender: lets go of recipients whose sends are over (one entry per hold taken).
CREATE FUNCTION release_recipients(numbers text[]) RETURNS integer LANGUAGE sql VOLATILE AS $$
    SELECT count(*)::integer FROM unnest(numbers) AS n WHERE pg_advisory_unlock_shared(7301, hashtext(n))
$$;

-- For a sender, between its claim and its sends: releases `released`, then holds the recipient
-- of each message in `message_ids` and says, per message, 'send'; 'opted_out' (held, but an
-- opt-out committed since the claim: release it once this outcome is recorded); or 'busy' (not
-- held: an opt-out of that number is being recorded; try again later). Never waits. Its
-- queries are planned at each call (EXECUTE): a plan cached while messages was small would
-- scan the whole table once it has grown.
CREATE FUNCTION hold_recipients(message_ids bigint[], released text[]) RETURNS TABLE (message_id bigint, verdict text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    item record;
    held bigint[] := '{}';
BEGIN
    PERFORM release_recipients(released);
    FOR item IN EXECUTE
        'SELECT m.id, p.number FROM unnest($1) AS u(id) JOIN messages m ON m.id = u.id
         JOIN phone_numbers p ON p.id = m.phone_number_id ORDER BY m.id' USING message_ids
    LOOP
        IF pg_try_advisory_lock_shared(7301, hashtext(item.number)) THEN
            held := held || item.id;
        END IF;
    END LOOP;
    -- A statement of its own, so a snapshot taken after the holds: it sees every opt-out that
    -- committed before them, and none can commit while they last.
    RETURN QUERY EXECUTE
        'SELECT m.id,
                CASE WHEN NOT m.id = ANY($2) THEN ''busy''
                     WHEN p.opted_out_at IS NOT NULL AND m.kind <> ''opt_out_reply'' THEN ''opted_out''
                     ELSE ''send'' END
         FROM unnest($1) AS u(id) JOIN messages m ON m.id = u.id JOIN phone_numbers p ON p.id = m.phone_number_id'
        USING message_ids, held;
END;
$$;

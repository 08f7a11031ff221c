-- A send and an opt-out of its recipient exclude each other, so that nothing reaches a number
-- after its opt-out committed: not even a message claimed just before.
--
-- A sender holds its recipients in a shared advisory lock (session level) from its claim
-- until the provider's answer is recorded; an opt-out takes the same lock exclusively
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

-- For a sender, in its claim (`jobs.claim`), for each job it claims: holds the recipient
-- unless an opt-out of it is being recorded (then false: the job waits a moment). Never waits.
-- The claim needs no second look at the list once it holds: an opt-out that committed after
-- the claim's snapshot deleted the number's jobs first, so the claim, which locks each job it
-- takes, cannot have taken one of them.
CREATE FUNCTION hold_recipient(number text) RETURNS boolean LANGUAGE sql VOLATILE AS $$
    SELECT pg_try_advisory_lock_shared(7301, hashtext(number))
$$;

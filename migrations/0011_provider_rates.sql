-- Providers' contracted rates (`;tps=N` in TEXTING_PROVIDERS), held by every sender on every
-- host together: a token bucket per provider in this table, taken from in one statement
-- before each claim (take_provider_tokens), so a sender claims only what it may send now and
-- the rest stays queued, in order, spending no attempt. A 429 from the provider halves the rate
-- it is given (at most once a second); the rate then grows back by 5 % of the contracted one
-- per second (additive increase, multiplicative decrease).
CREATE TABLE provider_rates (
    provider  text PRIMARY KEY,
    -- The contracted rate, messages per second, as the last sender to take tokens was told.
    tps       double precision NOT NULL,
    -- The rate the bucket fills at: the contracted one, or less for a while after a 429.
    rate      double precision NOT NULL,
    -- Tokens left; the bucket holds a tenth of a second's worth of `rate` (at least one).
    tokens    double precision NOT NULL,
    filled_at timestamptz NOT NULL,
    -- When a 429 last halved `rate`.
    cut_at    timestamptz
);

-- Takes up to `wanted` tokens in all from the providers named (their contracted rates and
-- weights beside them), each giving at most what its bucket holds: first a share by weight,
-- then what is left from whoever has some. Returns, per provider, the tokens taken and, for
-- one that gave none, the milliseconds until it has one. Rows are locked in name order.
CREATE FUNCTION take_provider_tokens(names text[], rates double precision[], weights integer[], wanted integer)
RETURNS TABLE (provider text, taken integer, wait_ms integer) LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    n integer := coalesce(array_length(names, 1), 0);
    order_by_name integer[];
    i integer;
    k integer;
    bucket provider_rates;
    elapsed double precision;
    rate_now double precision[] := '{}';
    available double precision[] := '{}';
    given integer[] := '{}';
    total_weight integer := 0;
    left_over integer := wanted;
    extra integer;
BEGIN
    SELECT array_agg(o.ord ORDER BY o.name) INTO order_by_name FROM unnest(names) WITH ORDINALITY AS o(name, ord);
    FOR k IN 1..n LOOP
        i := order_by_name[k];
        INSERT INTO provider_rates AS r (provider, tps, rate, tokens, filled_at)
        VALUES (names[i], rates[i], rates[i], greatest(1, rates[i] * 0.1), clock_timestamp())
        ON CONFLICT ON CONSTRAINT provider_rates_pkey DO NOTHING;
        SELECT * INTO bucket FROM provider_rates r WHERE r.provider = names[i] FOR UPDATE;
        elapsed := greatest(0, extract(epoch FROM clock_timestamp() - bucket.filled_at));
        rate_now[i] := least(rates[i], bucket.rate + rates[i] * 0.05 * elapsed);
        available[i] := least(greatest(1, rate_now[i] * 0.1), bucket.tokens + elapsed * rate_now[i]);
        given[i] := 0;
        total_weight := total_weight + greatest(1, weights[i]);
    END LOOP;
    FOR i IN 1..n LOOP
        given[i] := least(floor(available[i])::integer, ceil(wanted::double precision * greatest(1, weights[i]) / total_weight)::integer,
                          greatest(0, left_over));
        left_over := left_over - given[i];
    END LOOP;
    FOR i IN 1..n LOOP
        extra := least(floor(available[i])::integer - given[i], greatest(0, left_over));
        given[i] := given[i] + extra;
        left_over := left_over - extra;
    END LOOP;
    FOR i IN 1..n LOOP
        UPDATE provider_rates r SET tps = rates[i], rate = rate_now[i], tokens = available[i] - given[i], filled_at = clock_timestamp()
        WHERE r.provider = names[i];
        provider := names[i];
        taken := given[i];
        wait_ms := CASE WHEN given[i] > 0 THEN 0
                        ELSE greatest(1, ceil((1 - (available[i] - given[i])) / rate_now[i] * 1000))::integer END;
        RETURN NEXT;
    END LOOP;
END;
$$;

-- The provider answered 429: the rate it is given halves (not below a twentieth of the
-- contracted one), at most once a second, however many sends it refused meanwhile.
CREATE FUNCTION slow_provider_down(name text) RETURNS void LANGUAGE sql VOLATILE AS $$
    UPDATE provider_rates
    SET rate = greatest(tps * 0.05, rate / 2), tokens = least(tokens, greatest(1, greatest(tps * 0.05, rate / 2) * 0.1)),
        cut_at = clock_timestamp()
    WHERE provider = name AND (cut_at IS NULL OR cut_at < clock_timestamp() - interval '1 second')
$$;

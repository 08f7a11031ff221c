-- The range of internal ids a public id names (0016) is computed by PL/pgSQL instead of SQL
-- functions. A lookup by public id (GET /messages/{id}, events, reports, requeues) is
-- planned for its value, and PostgreSQL evaluates an SQL function with constant arguments
-- at plan time by parsing and planning its body anew on every call (and the helpers it
-- calls, each in turn): that was a third of the database's CPU for GET /messages/{id}
-- (perf: fmgr_sql under the planner). A PL/pgSQL function is compiled once per session and
-- its expressions planned once, with the SQL helpers inlined into them. Measured on the test
-- stack (one session, 1,500 lookups by id, backend CPU per lookup): planned per value 960 ->
-- 650 us; with a generic plan (its bounds evaluated at executor start) 320 -> 200 us.
-- Same results: both are still IMMUTABLE, so a planned lookup still reads one span and a
-- generic one still prunes the others when it starts (test_history).
CREATE OR REPLACE FUNCTION history_ids_from(u uuid) RETURNS bigint LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN history_ids_from_ms(uuid_v7_ms(u));
END;
$$;

CREATE OR REPLACE FUNCTION history_ids_before(u uuid) RETURNS bigint LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    ms bigint := uuid_v7_ms(u);
BEGIN
    RETURN CASE WHEN ms IS NULL THEN 9223372036854775807
                WHEN ms >= 1577836800000 AND ms < 1577836800000 + (1::bigint << 41) - 3600000 THEN time_id(ms + 3600000, 0)
                ELSE 9223372036854775807 END;
END;
$$;

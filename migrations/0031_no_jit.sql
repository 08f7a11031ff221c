-- No JIT compilation in this database. PostgreSQL compiles a statement's expressions with
-- LLVM when its estimated cost passes jit_above_cost (100,000 by default). The service's
-- statements touch a few rows each, but some are estimated over a range of ids that grows
-- with the traffic: a provider's report is planned over the ids of an hour either side of
-- its message's time. Measured on the test stack at 200 messages a second: after three
-- minutes (the span holding 146,000 messages, 80,650 of them estimated in that range, cost
-- 110,798) every report statement was compiled, 125 functions and about 250 ms of CPU for a
-- statement that runs in 2; reports took 200-380 ms, the delivery service fell behind, and
-- messages waited 40 s (p50) from sent to delivered.
-- Set on the database, so that every session gets it: the services', the sender's, those
-- through PgBouncer (which passes no startup options) and an operator's psql. A session that
-- wants JIT for a report of its own can still SET jit = on.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
END;
$$;

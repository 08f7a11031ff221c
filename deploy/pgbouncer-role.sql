-- The texting role's session timeouts, for connections through PgBouncer: the service sends
-- them in the `options` startup parameter, which PgBouncer ignores (pgbouncer.ini), so the
-- role carries them. The same values as the service's defaults (TEXTING_DATABASE_*_MS):
-- no statement, lock wait or forgotten transaction holds the database for long.
-- Run once as the database superuser: psql -f deploy/pgbouncer-role.sql texting
ALTER ROLE texting SET statement_timeout = '30s';
ALTER ROLE texting SET lock_timeout = '10s';
ALTER ROLE texting SET idle_in_transaction_session_timeout = '60s';

-- The operator console (AdminFCGI, /admin): operators and their tokens, their sessions, and
-- the audit log of every operator action, from the console and from textingctl alike.
--
-- Operators are not clients: their tokens (`txo_…`) are made with `textingctl operators
-- create` and stored hashed like API keys (SHA-256 of 256 random bits: no slow hash needed),
-- and an API key never opens the console. No foreign key reaches api_keys or the history:
-- the tests and the benchmark truncate those.

CREATE TABLE operators (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id   uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    -- The token's first characters, to tell tokens apart in a list; never the token.
    prefix      text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- A signed-in browser. The cookie holds a random session token; only its hash is kept, so a
-- copy of this table opens no session. Each session has its own CSRF token, which every form
-- of the console carries and every POST must send back.
CREATE TABLE operator_sessions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id     bigint NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    session_hash    text NOT NULL UNIQUE,
    csrf_token      text NOT NULL,
    remote_address  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
-- Expired sessions are deleted by the next sign-in (OperatorSessionStore.open).
CREATE INDEX operator_sessions_expires_at ON operator_sessions (expires_at);

-- Who did what, when, from where: one row per operator action, written in the transaction of
-- the action itself (OperatorActions), so a change without its entry cannot commit. Appended
-- to, never updated.
CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    -- The operator's name (console), or the login name (textingctl).
    actor           text NOT NULL,
    -- `console` or `textingctl`.
    channel         text NOT NULL,
    -- The browser's address as nginx saw it; NULL for textingctl.
    remote_address  text,
    -- e.g. `messages.requeue`, `keys.revoke`, `session.login`.
    action          text NOT NULL,
    -- What it acted on: a message id, a key id, a number, an error code.
    target          text NOT NULL,
    -- What came of it, one line: `requeued`, `refused: it is delivered; …`.
    outcome         text NOT NULL
);

-- The console's failed-messages page: failed messages by error code, and requeueing all of one
-- code, read only the failed ones (a small part of the history) instead of every message.
CREATE INDEX IF NOT EXISTS messages_failed_error_code ON messages (error_code, id DESC) WHERE status = 'failed';

-- agentstore install script, part 10: sessions, app and user state, summaries.
--
-- Distribution key of this family: app_name (every primary and unique key
-- starts with it).  A session row is one *incarnation* of the key
-- (app_name, user_id, session_id): soft delete stamps deleted_at and the key
-- can be created again as a new row with a new id.  The session's events live
-- in agentstore.events under the stream name 'session-<id>' (see part 20).
-- Operators and functions in DDL (CHECK, DEFAULT, index predicates) are bound
-- when the script runs, with pg_catalog first, so they need no qualification.

CREATE SEQUENCE agentstore.sessions_id_seq AS bigint;

CREATE TABLE agentstore.sessions (
    app_name    text NOT NULL,
    id          bigint NOT NULL DEFAULT pg_catalog.nextval('agentstore.sessions_id_seq'),
    user_id     text NOT NULL,
    session_id  text NOT NULL,
    state       jsonb NOT NULL DEFAULT '{}',
    -- seed 000 (Agno-style) session columns
    agent_id    text,
    team_id     text,
    workflow_id text,
    name        text,
    metadata    jsonb,
    agent_data  jsonb,
    runs        jsonb,
    summary     jsonb,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at  timestamptz,
    deleted_at  timestamptz,
    PRIMARY KEY (app_name, id),
    CONSTRAINT sessions_app_name_check CHECK (length(app_name) > 0 AND length(app_name) <= 255),
    CONSTRAINT sessions_user_id_check CHECK (length(user_id) > 0 AND length(user_id) <= 255),
    CONSTRAINT sessions_session_id_check CHECK (length(session_id) > 0 AND length(session_id) <= 255),
    CONSTRAINT sessions_state_check CHECK (jsonb_typeof(state) = 'object')
);
ALTER SEQUENCE agentstore.sessions_id_seq OWNED BY agentstore.sessions.id;
COMMENT ON TABLE agentstore.sessions IS 'one row per session incarnation; the active one per key has deleted_at IS NULL';

-- At most one active session per key; a soft-deleted key can be created again.
CREATE UNIQUE INDEX sessions_active_key
    ON agentstore.sessions (app_name, user_id, session_id)
    WHERE deleted_at IS NULL;
-- Keyset pagination of list_sessions, newest-updated first, per user and per app.
CREATE INDEX sessions_user_recent
    ON agentstore.sessions (app_name, user_id, updated_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX sessions_app_recent
    ON agentstore.sessions (app_name, updated_at DESC, id DESC)
    WHERE deleted_at IS NULL;
-- The TTL worker finds expired sessions and purgeable rows through these.
CREATE INDEX sessions_expires_at
    ON agentstore.sessions (expires_at)
    WHERE expires_at IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX sessions_deleted_at
    ON agentstore.sessions (deleted_at)
    WHERE deleted_at IS NOT NULL;

-- App state: one row per (app_name, key).
CREATE SEQUENCE agentstore.app_states_id_seq AS bigint;
CREATE TABLE agentstore.app_states (
    app_name    text NOT NULL,
    id          bigint NOT NULL DEFAULT pg_catalog.nextval('agentstore.app_states_id_seq'),
    key         text NOT NULL,
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at  timestamptz,
    deleted_at  timestamptz,
    PRIMARY KEY (app_name, id)
);
ALTER SEQUENCE agentstore.app_states_id_seq OWNED BY agentstore.app_states.id;
CREATE UNIQUE INDEX app_states_active_key
    ON agentstore.app_states (app_name, key)
    WHERE deleted_at IS NULL;
CREATE INDEX app_states_expires_at
    ON agentstore.app_states (expires_at)
    WHERE expires_at IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX app_states_deleted_at
    ON agentstore.app_states (deleted_at)
    WHERE deleted_at IS NOT NULL;

-- User state: one row per (app_name, user_id, key).
CREATE SEQUENCE agentstore.user_states_id_seq AS bigint;
CREATE TABLE agentstore.user_states (
    app_name    text NOT NULL,
    id          bigint NOT NULL DEFAULT pg_catalog.nextval('agentstore.user_states_id_seq'),
    user_id     text NOT NULL,
    key         text NOT NULL,
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at  timestamptz,
    deleted_at  timestamptz,
    PRIMARY KEY (app_name, id)
);
ALTER SEQUENCE agentstore.user_states_id_seq OWNED BY agentstore.user_states.id;
CREATE UNIQUE INDEX user_states_active_key
    ON agentstore.user_states (app_name, user_id, key)
    WHERE deleted_at IS NULL;
CREATE INDEX user_states_expires_at
    ON agentstore.user_states (expires_at)
    WHERE expires_at IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX user_states_deleted_at
    ON agentstore.user_states (deleted_at)
    WHERE deleted_at IS NOT NULL;

-- Summaries: one per (session incarnation, filter_key); '' = whole session.
-- They expire and are deleted with their session.
CREATE TABLE agentstore.session_summaries (
    app_name    text NOT NULL,
    session_ref bigint NOT NULL,          -- agentstore.sessions.id
    filter_key  text NOT NULL DEFAULT '',
    summary     jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    deleted_at  timestamptz,
    PRIMARY KEY (app_name, session_ref, filter_key)
);
CREATE INDEX session_summaries_deleted_at
    ON agentstore.session_summaries (deleted_at)
    WHERE deleted_at IS NOT NULL;

SELECT pg_catalog.pg_extension_config_dump('agentstore.sessions', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.sessions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.app_states', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.app_states_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.user_states', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.user_states_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.session_summaries', '');

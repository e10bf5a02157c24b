-- agentstore install script, part 10: sessions, app and user state, summaries.
--
-- Distribution key of this family: app_name (every primary and unique key
-- starts with it).  A session row is one *incarnation* of the key
-- (app_name, user_id, session_id): soft delete stamps deleted_at and the key
-- can be created again as a new row with a new id.  The session's events live
-- in agentstore.events under the stream name 'session-<id>', its track events
-- under 'track-<id>-<track>' (see part 20).
-- Operators and functions in DDL (CHECK, DEFAULT, index predicates) are bound
-- when the script runs, with pg_catalog first, so they need no qualification.
--
-- TTL: expires_at = now() + ttl on every write (sliding), never on a read.
-- The ttl column holds a TTL given explicitly for that row; NULL means "the
-- agentstore.*_ttl parameter at the time of the write".  An expired row that
-- the TTL worker has not removed yet is treated as absent by every function.

CREATE SEQUENCE agentstore.sessions_id_seq AS bigint;

CREATE TABLE agentstore.sessions (
    app_name    text NOT NULL,
    id          bigint NOT NULL DEFAULT pg_catalog.nextval('agentstore.sessions_id_seq'),
    user_id     text NOT NULL,
    session_id  text NOT NULL,
    state       jsonb NOT NULL DEFAULT '{}',
    -- the session columns of agent-go's batch writer (Agno-style)
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
    ttl         interval,                 -- NULL: agentstore.session_ttl
    event_count bigint NOT NULL DEFAULT 0,  -- events in the session stream (see trim_session_events)
    trim_needed boolean NOT NULL DEFAULT false,  -- event_count went past agentstore.session_event_retention
    PRIMARY KEY (app_name, id),
    CONSTRAINT sessions_app_name_check CHECK (length(app_name) > 0 AND length(app_name) <= 255),
    CONSTRAINT sessions_user_id_check CHECK (length(user_id) > 0 AND length(user_id) <= 255),
    CONSTRAINT sessions_session_id_check CHECK (length(session_id) > 0 AND length(session_id) <= 255),
    CONSTRAINT sessions_state_check CHECK (jsonb_typeof(state) = 'object'),
    CONSTRAINT sessions_ttl_check CHECK (ttl >= interval '0')
);
ALTER SEQUENCE agentstore.sessions_id_seq OWNED BY agentstore.sessions.id;
COMMENT ON TABLE agentstore.sessions IS 'one row per session incarnation; the active one per key has deleted_at IS NULL';

-- At most one active session per key; a soft-deleted key can be created again.
CREATE UNIQUE INDEX sessions_active_key
    ON agentstore.sessions (app_name, user_id, session_id)
    WHERE deleted_at IS NULL;
-- Keyset pagination of list_sessions, newest-updated first, per user and per
-- app.  Each has a predicate that only its own listing query states (true of
-- every row: both columns are NOT NULL): without it, a plan made before the
-- table's first ANALYZE takes these indexes for exact key lookups and reads
-- every session of the app for each one.  Not "IS NOT NULL": from
-- PostgreSQL 17 the planner drops that clause from a query on a NOT NULL
-- column, and then cannot prove such a predicate.
CREATE INDEX sessions_user_recent
    ON agentstore.sessions (app_name, user_id, updated_at DESC, id DESC)
    WHERE deleted_at IS NULL AND updated_at <= 'infinity'::timestamptz;
CREATE INDEX sessions_app_recent
    ON agentstore.sessions (app_name, updated_at DESC, id DESC)
    WHERE deleted_at IS NULL AND created_at <= 'infinity'::timestamptz;
-- The TTL worker finds expired sessions and purgeable rows through these,
-- one session after another: the key after the time makes each lookup start
-- right after the previous session, even among many sessions with one
-- expires_at (as a bulk import gives them).
CREATE INDEX sessions_expires_at
    ON agentstore.sessions (expires_at, app_name, id)
    WHERE expires_at IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX sessions_deleted_at
    ON agentstore.sessions (deleted_at, app_name, id)
    WHERE deleted_at IS NOT NULL;
-- trim_session_events() finds the sessions to trim through this; it holds
-- only them, so that an append to any other session does not touch it.
CREATE INDEX sessions_trim_needed
    ON agentstore.sessions (app_name, id)
    WHERE trim_needed AND deleted_at IS NULL;

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
    ttl         interval,                 -- NULL: agentstore.app_state_ttl
    PRIMARY KEY (app_name, id),
    CONSTRAINT app_states_app_name_check CHECK (length(app_name) > 0 AND length(app_name) <= 255),
    CONSTRAINT app_states_key_check CHECK (length(key) > 0 AND length(key) <= 255),
    CONSTRAINT app_states_ttl_check CHECK (ttl >= interval '0')
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
    ttl         interval,                 -- NULL: agentstore.user_state_ttl
    PRIMARY KEY (app_name, id),
    CONSTRAINT user_states_app_name_check CHECK (length(app_name) > 0 AND length(app_name) <= 255),
    CONSTRAINT user_states_user_id_check CHECK (length(user_id) > 0 AND length(user_id) <= 255),
    CONSTRAINT user_states_key_check CHECK (length(key) > 0 AND length(key) <= 255),
    CONSTRAINT user_states_ttl_check CHECK (ttl >= interval '0')
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
    PRIMARY KEY (app_name, session_ref, filter_key),
    CONSTRAINT session_summaries_filter_key_check CHECK (length(filter_key) <= 255)
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

-------------------------------------------------------------------------------
-- Session functions (src/session_*.c).  All run with the caller's rights;
-- none is STRICT, so that a NULL argument gets a clear error.  Writers take
-- an optional session_ref: the id of the incarnation the caller holds
-- (session_info.id, get_session's "id"); when another incarnation of the
-- key is active, the call fails with SQLSTATE SV002 (stale session).
-------------------------------------------------------------------------------

-- What create_session and get_or_create_session return: the session row
-- (its own state, without app and user state) and whether the call created it.
CREATE TYPE agentstore.session_info AS (
    id          bigint,
    app_name    text,
    user_id     text,
    session_id  text,
    state       jsonb,
    created_at  timestamptz,
    updated_at  timestamptz,
    expires_at  timestamptz,
    created     boolean
);
COMMENT ON TYPE agentstore.session_info IS 'a session row as create_session and get_or_create_session return it; created tells whether this call created it';

CREATE FUNCTION agentstore.create_session(
    app_name text, user_id text, session_id text DEFAULT NULL,
    state jsonb DEFAULT '{}', ttl interval DEFAULT NULL)
RETURNS agentstore.session_info
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_create_session';
COMMENT ON FUNCTION agentstore.create_session(text, text, text, jsonb, interval) IS
    'create a session; an active session with that key is a unique_violation';

CREATE FUNCTION agentstore.get_or_create_session(
    app_name text, user_id text, session_id text,
    state jsonb DEFAULT '{}', ttl interval DEFAULT NULL)
RETURNS agentstore.session_info
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_get_or_create_session';
COMMENT ON FUNCTION agentstore.get_or_create_session(text, text, text, jsonb, interval) IS
    'return the active session of the key, creating it if there is none; a hit writes nothing';

CREATE FUNCTION agentstore.get_session(
    app_name text, user_id text, session_id text,
    num_recent_events integer DEFAULT NULL, after timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'agentstore_get_session';
COMMENT ON FUNCTION agentstore.get_session(text, text, text, integer, timestamptz) IS
    'the session with app/user state overlaid, its summaries and its last events, as one document';

CREATE FUNCTION agentstore.list_sessions(
    app_name text, user_id text DEFAULT NULL,
    page_size integer DEFAULT 20, page_token text DEFAULT NULL)
RETURNS jsonb
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'agentstore_list_sessions';
COMMENT ON FUNCTION agentstore.list_sessions(text, text, integer, text) IS
    'one page of sessions, newest-updated first, with the token of the next page';

CREATE FUNCTION agentstore.delete_session(
    app_name text, user_id text, session_id text, hard boolean DEFAULT NULL,
    session_ref bigint DEFAULT NULL)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_delete_session';
COMMENT ON FUNCTION agentstore.delete_session(text, text, text, boolean, bigint) IS
    'delete a session with its events, track events and summaries (soft by default)';

CREATE FUNCTION agentstore.update_session_state(
    app_name text, user_id text, session_id text, delta jsonb,
    session_ref bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_update_session_state';
COMMENT ON FUNCTION agentstore.update_session_state(text, text, text, jsonb, bigint) IS
    'apply a state delta: app:/user: keys to app/user state, temp: dropped, the rest merged';

-- App and user state.
CREATE FUNCTION agentstore.set_app_state(
    app_name text, key text, value jsonb, ttl interval DEFAULT NULL)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_set_app_state';
COMMENT ON FUNCTION agentstore.set_app_state IS 'set one key of an app''s state (a JSON null removes it); every write slides the key''s TTL';
CREATE FUNCTION agentstore.get_app_state(app_name text, key text)
RETURNS jsonb
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'agentstore_get_app_state';
COMMENT ON FUNCTION agentstore.get_app_state IS 'one key of an app''s state, NULL when absent or expired';
CREATE FUNCTION agentstore.list_app_state(app_name text)
RETURNS jsonb
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'agentstore_list_app_state';
COMMENT ON FUNCTION agentstore.list_app_state IS 'an app''s whole state as one JSON object';
CREATE FUNCTION agentstore.delete_app_state(app_name text, key text)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_delete_app_state';
COMMENT ON FUNCTION agentstore.delete_app_state IS 'delete one key of an app''s state; whether it existed';
CREATE FUNCTION agentstore.set_user_state(
    app_name text, user_id text, key text, value jsonb, ttl interval DEFAULT NULL)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_set_user_state';
COMMENT ON FUNCTION agentstore.set_user_state IS 'set one key of a user''s state (a JSON null removes it); every write slides the key''s TTL';
CREATE FUNCTION agentstore.get_user_state(app_name text, user_id text, key text)
RETURNS jsonb
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'agentstore_get_user_state';
COMMENT ON FUNCTION agentstore.get_user_state IS 'one key of a user''s state, NULL when absent or expired';
CREATE FUNCTION agentstore.list_user_state(app_name text, user_id text)
RETURNS jsonb
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'agentstore_list_user_state';
COMMENT ON FUNCTION agentstore.list_user_state IS 'a user''s whole state as one JSON object';
CREATE FUNCTION agentstore.delete_user_state(app_name text, user_id text, key text)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_delete_user_state';
COMMENT ON FUNCTION agentstore.delete_user_state IS 'delete one key of a user''s state; whether it existed';

-- Summaries.
CREATE FUNCTION agentstore.put_session_summary(
    app_name text, user_id text, session_id text, summary jsonb,
    filter_key text DEFAULT '', session_ref bigint DEFAULT NULL)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_put_session_summary';
COMMENT ON FUNCTION agentstore.put_session_summary IS 'store a session''s summary for a filter key ('''' = the whole session); slides the session''s TTL';
CREATE FUNCTION agentstore.get_session_summary(
    app_name text, user_id text, session_id text, filter_key text DEFAULT '')
RETURNS jsonb
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'agentstore_get_session_summary';
COMMENT ON FUNCTION agentstore.get_session_summary IS 'a session''s summary for a filter key, falling back to the whole session''s ('''')';

-- Batch upsert of agent-go's session objects.  The json overload walks the
-- array element by element instead of building one jsonb of the whole batch.
CREATE FUNCTION agentstore.upsert_sessions(
    sessions jsonb, preserve_updated_at boolean DEFAULT false,
    app_name text DEFAULT 'default',
    OUT inserted bigint, OUT updated bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_upsert_sessions_jsonb';
COMMENT ON FUNCTION agentstore.upsert_sessions(jsonb, boolean, text) IS 'batch upsert of session objects (agent-go''s 13 fields) given as a JSON array; keys inserted and updated';
CREATE FUNCTION agentstore.upsert_sessions(
    sessions json, preserve_updated_at boolean DEFAULT false,
    app_name text DEFAULT 'default',
    OUT inserted bigint, OUT updated bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_upsert_sessions_json';
COMMENT ON FUNCTION agentstore.upsert_sessions(json, boolean, text) IS 'batch upsert as the jsonb form, reading the json text element by element';

-- The bulk path: COPY agentstore.session_import FROM STDIN (or INSERT INTO
-- it) upserts with upsert_sessions' semantics.  The view itself never has
-- rows; its triggers buffer what arrives and write it in chunks of
-- agentstore.batch_size with the executor's bulk-insert API.
CREATE VIEW agentstore.session_import AS
SELECT NULL::text AS app_name,
       NULL::text AS session_id,
       NULL::text AS user_id,
       NULL::text AS agent_id,
       NULL::text AS team_id,
       NULL::text AS workflow_id,
       NULL::text AS name,
       NULL::jsonb AS metadata,
       NULL::jsonb AS state,
       NULL::jsonb AS agent_data,
       NULL::jsonb AS runs,
       NULL::jsonb AS summary,
       NULL::timestamptz AS created_at,
       NULL::timestamptz AS updated_at,
       NULL::boolean AS preserve_updated_at
 WHERE false;
ALTER VIEW agentstore.session_import ALTER COLUMN app_name SET DEFAULT 'default';
ALTER VIEW agentstore.session_import ALTER COLUMN preserve_updated_at SET DEFAULT false;
COMMENT ON VIEW agentstore.session_import IS
    'COPY or INSERT session rows here to upsert them into agentstore.sessions in bulk';

-- Each statement that writes to the view gets its own writer: the BEFORE
-- statement trigger begins it, the row trigger buffers rows in it, the AFTER
-- statement trigger writes the rest (so that an import nested in another,
-- by a function the outer statement calls, keeps its rows apart).  The
-- trigger functions refuse to run on any other relation.
CREATE FUNCTION agentstore.session_import_begin()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'agentstore_session_import_begin';
COMMENT ON FUNCTION agentstore.session_import_begin IS 'BEFORE statement trigger of the session_import view: begins the statement''s own import buffer (refuses to run as anything else)';
CREATE FUNCTION agentstore.session_import_row()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'agentstore_session_import_row';
COMMENT ON FUNCTION agentstore.session_import_row IS 'INSTEAD OF row trigger of the session_import view: buffers one row (refuses to run as anything else)';
CREATE FUNCTION agentstore.session_import_flush()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'agentstore_session_import_flush';
COMMENT ON FUNCTION agentstore.session_import_flush IS 'AFTER statement trigger of the session_import view: writes the buffered rows (refuses to run as anything else)';
CREATE TRIGGER session_import_begin
    BEFORE INSERT ON agentstore.session_import
    FOR EACH STATEMENT EXECUTE FUNCTION agentstore.session_import_begin();
CREATE TRIGGER session_import_row
    INSTEAD OF INSERT ON agentstore.session_import
    FOR EACH ROW EXECUTE FUNCTION agentstore.session_import_row();
CREATE TRIGGER session_import_flush
    AFTER INSERT ON agentstore.session_import
    FOR EACH STATEMENT EXECUTE FUNCTION agentstore.session_import_flush();

CREATE FUNCTION agentstore.session_import_result(OUT inserted bigint, OUT updated bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_session_import_result';
COMMENT ON FUNCTION agentstore.session_import_result() IS
    'rows inserted and updated by the last statement that wrote to session_import in this session';

-- Session events (the agent framework's hot path) and track events.
CREATE FUNCTION agentstore.append_event(
    app_name text, user_id text, session_id text, event jsonb,
    state_delta jsonb DEFAULT NULL, expected_version bigint DEFAULT NULL,
    session_ref bigint DEFAULT NULL,
    OUT version bigint, OUT "position" bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_append_event';
COMMENT ON FUNCTION agentstore.append_event IS 'append one event to a session, apply its state delta and slide the TTL in one call; idempotent by the event''s id';
CREATE FUNCTION agentstore.append_session_events(
    app_name text, user_id text, session_id text, events jsonb,
    state_delta jsonb DEFAULT NULL, expected_version bigint DEFAULT NULL,
    session_ref bigint DEFAULT NULL,
    OUT first_version bigint, OUT last_version bigint,
    OUT first_position bigint, OUT last_position bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_append_session_events';
COMMENT ON FUNCTION agentstore.append_session_events IS 'append an array of events to a session with one state delta, all or nothing';
CREATE FUNCTION agentstore.append_track_event(
    app_name text, user_id text, session_id text, track text, event jsonb,
    ttl interval DEFAULT NULL, session_ref bigint DEFAULT NULL,
    OUT version bigint, OUT "position" bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_append_track_event';
COMMENT ON FUNCTION agentstore.append_track_event IS 'append an event to one track of a session, with its own TTL';
CREATE FUNCTION agentstore.get_track_events(
    app_name text, user_id text, session_id text, track text,
    num_recent_events integer DEFAULT NULL, after timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'agentstore_get_track_events';
COMMENT ON FUNCTION agentstore.get_track_events IS 'the last events of one track of a session, as a JSON array in append order';
CREATE FUNCTION agentstore.trim_session_events(batch_size integer DEFAULT NULL)
RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_trim_session_events';
COMMENT ON FUNCTION agentstore.trim_session_events(integer) IS
    'remove the events of active sessions beyond agentstore.session_event_retention (0, the default: none), at most batch_size of them';

-- agentstore install script, part 00: the schema and what every feature shares.
--
-- The install script is the concatenation of sql/NN_*.sql in name order; each
-- feature owns one file.  The script runs with search_path = <extension
-- schema>, pg_temp, but every name below is schema-qualified anyway so that
-- nothing depends on it.  Every function pins search_path.

\echo Use "CREATE EXTENSION agentstore" to load this file. \quit

-- The control file names the schema (schema = agentstore), so PostgreSQL
-- creates it, owned by the caller, before this script runs, refuses any
-- other schema, and leaves the schema behind on DROP EXTENSION (it is not a
-- member: DROP SCHEMA agentstore removes it).  An existing schema of that
-- name is used only if it is empty and owned by a superuser: its owner could
-- drop or replace every object in it.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_namespace n
                 JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
                WHERE n.nspname OPERATOR(pg_catalog.=) 'agentstore' AND NOT r.rolsuper) THEN
        RAISE EXCEPTION 'schema "agentstore" is owned by a role that is not a superuser'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Drop or rename that schema, or give it to a superuser, then create the extension again.';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_depend d
                WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
                  AND d.refobjid OPERATOR(pg_catalog.=) 'agentstore'::pg_catalog.regnamespace
                  AND d.classid OPERATOR(pg_catalog.<>) 'pg_catalog.pg_extension'::pg_catalog.regclass) THEN
        RAISE EXCEPTION 'schema "agentstore" already exists and is not empty'
            USING ERRCODE = 'duplicate_schema',
                  HINT = 'agentstore needs a schema of its own: drop or rename that schema, then create the extension again.';
    END IF;
END
$$;
COMMENT ON SCHEMA agentstore IS 'agentstore: sessions, event streams, checkpoints and TTL expiry for AI-agent frameworks';
REVOKE ALL ON SCHEMA agentstore FROM PUBLIC;

-- Whether this backend's agentstore library was loaded through
-- shared_preload_libraries (so that the TTL background worker runs).
CREATE FUNCTION agentstore.preloaded()
RETURNS boolean
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'agentstore_preloaded';
COMMENT ON FUNCTION agentstore.preloaded IS 'whether the server loaded agentstore through shared_preload_libraries (so that the TTL worker runs)';

-- Say once, at install time, when the background worker cannot run.
CREATE FUNCTION agentstore._warn_if_not_preloaded()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_warn_if_not_preloaded';

SELECT agentstore._warn_if_not_preloaded();
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
-- The TTL worker finds expired sessions and purgeable rows through these.
CREATE INDEX sessions_expires_at
    ON agentstore.sessions (expires_at)
    WHERE expires_at IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX sessions_deleted_at
    ON agentstore.sessions (deleted_at)
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
-- agentstore install script, part 20: event streams.
--
-- One table holds every event: free-standing streams ('order-42'), session
-- streams ('session-<sessions.id>') and track streams
-- ('track-<sessions.id>-<track>').  Distribution key: stream.
--
-- version:        1, 2, 3... per stream, gap-free, assigned under a per-stream
--                 lock held to commit (never from a sequence) by the version
--                 trigger or append_events; a row inserted with a version
--                 keeps it ("import mode": pg_dump, migrations).
-- position:       global position from a sequence: unique, but it commits
--                 out of order, so it is never read alone.
-- transaction_id: the writing transaction (xid8), always stamped by the
--                 trigger; commit-ordered readers see only rows older than
--                 the oldest running transaction and order by
--                 (transaction_id, position).
-- The C code is in src/stream_*.c and src/version_trigger.c; docs/streams.md
-- documents the functions.

CREATE SEQUENCE agentstore.events_position_seq AS bigint;

CREATE TABLE agentstore.events (
    stream          text COLLATE "C" NOT NULL,
    version         bigint NOT NULL,
    position        bigint NOT NULL DEFAULT nextval('agentstore.events_position_seq'),
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        text COLLATE "C",
    type            text NOT NULL DEFAULT '',
    data            jsonb NOT NULL DEFAULT '{}',
    metadata        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    deleted_at      timestamptz,
    PRIMARY KEY (stream, version),
    CONSTRAINT events_stream_check CHECK (length(stream) > 0 AND length(stream) <= 1024),
    CONSTRAINT events_version_check CHECK (version > 0),
    CONSTRAINT events_event_id_check CHECK (length(event_id) > 0 AND length(event_id) <= 255)
);
ALTER SEQUENCE agentstore.events_position_seq OWNED BY agentstore.events.position;
COMMENT ON TABLE agentstore.events IS 'every event of every stream; versions are gap-free per stream';

-- Idempotent appends: an event id appears at most once per stream.
CREATE UNIQUE INDEX events_stream_event_id
    ON agentstore.events (stream, event_id)
    WHERE event_id IS NOT NULL;
-- Commit-ordered global reads (read_all, read_category).
CREATE INDEX events_commit_order
    ON agentstore.events (transaction_id, position);
-- read_category filters the commit-order scan by category.  An index on
-- (split_part(stream, '-', 1), transaction_id, position) makes it fast for
-- rare categories, and its query uses one if it exists, but it is not
-- created here: it costs every insert about 70% more (see docs/streams.md).
-- read_all with a cursor given by its position alone looks the position up.
-- BRIN: position grows with the table, and the insert path stays cheap.
CREATE INDEX events_position
    ON agentstore.events USING brin (position) WITH (pages_per_range = 32);
CREATE INDEX events_expires_at
    ON agentstore.events (expires_at)
    WHERE expires_at IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX events_deleted_at
    ON agentstore.events (deleted_at)
    WHERE deleted_at IS NOT NULL;

-- The version trigger (src/version_trigger.c): numbers rows that arrive
-- without a version (plain INSERT, INSERT ... SELECT, COPY) under the
-- stream's lock, keeps the version of rows that carry one (pg_dump restore,
-- migrations: "import mode"), and stamps transaction_id with the writing
-- transaction.  Triggers fire in name order: "zz_" makes it the last BEFORE
-- trigger, so that a user trigger that changes the stream or skips the row
-- runs before a version is handed out.
CREATE FUNCTION agentstore.version_trigger()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'agentstore_version_trigger';
COMMENT ON FUNCTION agentstore.version_trigger() IS 'BEFORE INSERT row trigger of agentstore.events: gap-free per-stream versions';

CREATE TRIGGER zz_events_version
    BEFORE INSERT ON agentstore.events
    FOR EACH ROW EXECUTE FUNCTION agentstore.version_trigger();

-- The high-water mark of every stream whose events have been deleted (the
-- TTL purge, delete_session, a DELETE of yours): the greatest version ever
-- deleted from it.  The version probe takes the greater of this and the
-- greatest version left in agentstore.events, so that a version, once
-- issued, is never issued again.  Written only by the DELETE trigger below
-- (src/stream_heads.c), as this table's owner: deleting events needs no
-- grant on it.
CREATE TABLE agentstore.stream_heads (
    stream          text COLLATE "C" PRIMARY KEY,
    version         bigint NOT NULL,
    CONSTRAINT stream_heads_version_check CHECK (version > 0)
);
COMMENT ON TABLE agentstore.stream_heads IS 'highest version deleted from each stream: versions are never issued twice';

CREATE FUNCTION agentstore.stream_heads_trigger()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'agentstore_stream_heads_trigger';
COMMENT ON FUNCTION agentstore.stream_heads_trigger() IS 'AFTER DELETE statement trigger of agentstore.events: records the high-water mark of each stream';

CREATE TRIGGER zz_events_stream_heads
    AFTER DELETE ON agentstore.events
    REFERENCING OLD TABLE AS deleted_events
    FOR EACH STATEMENT EXECUTE FUNCTION agentstore.stream_heads_trigger();

SELECT pg_catalog.pg_extension_config_dump('agentstore.events', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.stream_heads', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.events_position_seq', '');

-- Expected-version constants of the append functions.  NULL means "any";
-- a version >= 0 is exact (0: the stream has no event yet).
CREATE FUNCTION agentstore.no_stream()
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN -1;
COMMENT ON FUNCTION agentstore.no_stream() IS 'expected version -1: the stream must not exist (have no event)';

CREATE FUNCTION agentstore.stream_exists()
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN -2;
COMMENT ON FUNCTION agentstore.stream_exists() IS 'expected version -2: the stream must have at least one event';

-- Append an array of events to one stream (src/stream_append.c).
CREATE FUNCTION agentstore.append_events(
    stream text,
    events jsonb,
    expected_version bigint DEFAULT NULL,
    OUT first_version bigint,
    OUT last_version bigint,
    OUT first_position bigint,
    OUT last_position bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_append_events';
COMMENT ON FUNCTION agentstore.append_events(text, jsonb, bigint) IS 'append events to a stream, with an optional expected version; idempotent by event_id';

-- The same with the events as JSON text, converted to jsonb event by event
-- (about twice as fast for large arrays).  An untyped literal or parameter
-- resolves to this form: text is the preferred type of its category.
CREATE FUNCTION agentstore.append_events(
    stream text,
    events text,
    expected_version bigint DEFAULT NULL,
    OUT first_version bigint,
    OUT last_version bigint,
    OUT first_position bigint,
    OUT last_position bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_append_events_text';
COMMENT ON FUNCTION agentstore.append_events(text, text, bigint) IS 'append events given as JSON text to a stream (see the jsonb form)';

-- Append to several streams, each with its own expectation: all or nothing.
CREATE FUNCTION agentstore.append_streams(
    appends jsonb,
    OUT stream text,
    OUT first_version bigint,
    OUT last_version bigint,
    OUT first_position bigint,
    OUT last_position bigint)
RETURNS SETOF record
LANGUAGE c VOLATILE
ROWS 10
AS 'MODULE_PATHNAME', 'agentstore_append_streams';
COMMENT ON FUNCTION agentstore.append_streams(jsonb) IS 'append to several streams atomically, each with its own expected version';

-- Reads (src/stream_read.c).  They return rows of this type: the columns of
-- agentstore.events that a reader needs.
CREATE TYPE agentstore.event AS (
    stream          text COLLATE "C",
    version         bigint,
    "position"      bigint,
    transaction_id  xid8,
    event_id        text COLLATE "C",
    type            text,
    data            jsonb,
    metadata        jsonb,
    created_at      timestamptz,
    expires_at      timestamptz
);
COMMENT ON TYPE agentstore.event IS 'an event as the read functions return it';

-- One stream from a version on, in version order.
CREATE FUNCTION agentstore.read_stream(
    stream text,
    from_version bigint DEFAULT 1,
    max_count integer DEFAULT 1000)
RETURNS SETOF agentstore.event
LANGUAGE c STABLE
ROWS 100
AS 'MODULE_PATHNAME', 'agentstore_read_stream';
COMMENT ON FUNCTION agentstore.read_stream(text, bigint, integer) IS 'events of one stream from a version on, in version order';

-- Every stream, in commit order; the cursor is (transaction_id, position)
-- of the last event read.
CREATE FUNCTION agentstore.read_all(
    after_position bigint DEFAULT 0,
    max_count integer DEFAULT 1000,
    after_transaction_id xid8 DEFAULT NULL)
RETURNS SETOF agentstore.event
LANGUAGE c STABLE
ROWS 100
AS 'MODULE_PATHNAME', 'agentstore_read_all';
COMMENT ON FUNCTION agentstore.read_all(bigint, integer, xid8) IS 'events of all streams in commit order, never skipping a late commit';

-- The streams of one category, in commit order, optionally partitioned by
-- stream among the members of a consumer group.
CREATE FUNCTION agentstore.read_category(
    category text,
    after_position bigint DEFAULT 0,
    max_count integer DEFAULT 1000,
    member integer DEFAULT NULL,
    group_size integer DEFAULT NULL,
    after_transaction_id xid8 DEFAULT NULL)
RETURNS SETOF agentstore.event
LANGUAGE c STABLE
ROWS 100
AS 'MODULE_PATHNAME', 'agentstore_read_category';
COMMENT ON FUNCTION agentstore.read_category(text, bigint, integer, integer, integer, xid8) IS 'events of one category in commit order, with consumer groups';

-- The current version of a stream as the caller's snapshot sees it (0: none).
CREATE FUNCTION agentstore.stream_version(stream text)
RETURNS bigint
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'agentstore_stream_version';
COMMENT ON FUNCTION agentstore.stream_version(text) IS 'highest version of a stream, 0 if it has no event';

-- The last expected-version conflict (SV001) this session raised for the
-- current role, with the full stream name (the DETAIL quotes a bounded
-- prefix): for clients that map conflicts to their own error type
-- (src/stream_conflict.c).
CREATE FUNCTION agentstore.last_version_conflict(
    OUT stream text,
    OUT expected_version bigint,
    OUT actual_version bigint)
RETURNS SETOF record
LANGUAGE c VOLATILE
ROWS 1
AS 'MODULE_PATHNAME', 'agentstore_last_version_conflict';
COMMENT ON FUNCTION agentstore.last_version_conflict() IS 'stream, expected and actual version of the last SV001 of this session';
-- agentstore install script, part 30: LangGraph-style checkpoints.
--
-- The three tables of LangGraph's PostgresSaver, plus one row per thread for
-- its TTL.  Distribution key: thread_id.  Identifiers use the "C" collation so
-- that "latest checkpoint" is the greatest checkpoint_id byte-wise, as
-- LangGraph's time-ordered ids require.
--
-- Writes to a thread (put_checkpoint, put_writes) and its removal
-- (delete_thread, prune_checkpoints, expire_checkpoint_threads) are ordered
-- by a per-thread heavyweight lock (src/checkpoint_lock.c): writers share
-- it, removers take it exclusively.  Channel values that are not kept
-- inline in the checkpoint are blobs keyed by (channel, version) and shared
-- by every checkpoint whose channel_versions names that version.  Pending
-- writes may be stored before their checkpoint (LangGraph.js does not wait
-- for the put); such a thread always has its row in checkpoint_threads, so
-- that writes whose checkpoint never comes go with the thread's deletion or
-- expiry (docs/checkpoints.md).

-- Key limits (thread_id, checkpoint_id, task_id, channel, version: 1 to 255
-- characters; checkpoint_ns and task_path: at most 1,024, for nested
-- subgraph paths).  The functions check them with clear errors; these CHECK
-- constraints hold them for rows written by other means.  One C call each:
-- PostgreSQL rebuilds CHECK expressions for every statement that writes a
-- table, and char_length() comparisons cost a put a measurable share.
CREATE FUNCTION agentstore._checkpoint_keys_ok(
    thread_id text, checkpoint_ns text, key1 text, key2 text, key3 text, path text)
RETURNS boolean
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'agentstore_checkpoint_keys_ok';

CREATE TABLE agentstore.checkpoint_threads (
    thread_id   text COLLATE "C" NOT NULL PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at  timestamptz,
    CONSTRAINT checkpoint_threads_key_length
        CHECK (agentstore._checkpoint_keys_ok(thread_id, NULL, NULL, NULL, NULL, NULL))
);
CREATE INDEX checkpoint_threads_expires_at
    ON agentstore.checkpoint_threads (expires_at)
    WHERE expires_at IS NOT NULL;

CREATE TABLE agentstore.checkpoints (
    thread_id            text COLLATE "C" NOT NULL,
    checkpoint_ns        text COLLATE "C" NOT NULL DEFAULT '',
    checkpoint_id        text COLLATE "C" NOT NULL,
    parent_checkpoint_id text COLLATE "C",
    type                 text,
    checkpoint           jsonb NOT NULL,
    metadata             jsonb NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id),
    CONSTRAINT checkpoints_key_length CHECK (
        agentstore._checkpoint_keys_ok(thread_id, checkpoint_ns, checkpoint_id, NULL, NULL, NULL))
);

-- Finds a checkpoint by id alone (langgraphgo loads and deletes by
-- checkpoint id) and orders listings across threads.
CREATE INDEX checkpoints_checkpoint_id ON agentstore.checkpoints (checkpoint_id);

CREATE TABLE agentstore.checkpoint_blobs (
    thread_id     text COLLATE "C" NOT NULL,
    checkpoint_ns text COLLATE "C" NOT NULL DEFAULT '',
    channel       text COLLATE "C" NOT NULL,
    version       text COLLATE "C" NOT NULL,
    type          text NOT NULL,
    blob          bytea,
    PRIMARY KEY (thread_id, checkpoint_ns, channel, version),
    CONSTRAINT checkpoint_blobs_key_length CHECK (
        agentstore._checkpoint_keys_ok(thread_id, checkpoint_ns, channel, version, NULL, NULL))
);

CREATE TABLE agentstore.checkpoint_writes (
    thread_id     text COLLATE "C" NOT NULL,
    checkpoint_ns text COLLATE "C" NOT NULL DEFAULT '',
    checkpoint_id text COLLATE "C" NOT NULL,
    task_id       text COLLATE "C" NOT NULL,
    idx           integer NOT NULL,
    channel       text NOT NULL,
    type          text,
    blob          bytea NOT NULL,
    task_path     text COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx),
    CONSTRAINT checkpoint_writes_key_length CHECK (
        agentstore._checkpoint_keys_ok(thread_id, checkpoint_ns, checkpoint_id, task_id, channel, task_path))
);

-- The hash of a blob's key, for the index through which get_checkpoint and
-- list_checkpoints find one channel's blob (an integer search instead of a
-- four-column text comparison at every level of the primary key).
CREATE FUNCTION agentstore._checkpoint_blob_key(
    thread_id text, checkpoint_ns text, channel text, version text)
RETURNS bigint
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'agentstore_checkpoint_blob_key';
CREATE INDEX checkpoint_blobs_key ON agentstore.checkpoint_blobs
    (agentstore._checkpoint_blob_key(thread_id, checkpoint_ns, channel, version));

SELECT pg_catalog.pg_extension_config_dump('agentstore.checkpoint_threads', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.checkpoints', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.checkpoint_blobs', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.checkpoint_writes', '');

-- One checkpoint as get_checkpoint and list_checkpoints return it: LangGraph's
-- CheckpointTuple.  checkpoint is the stored document; channel_values has
-- every channel value, {channel: [type, value]} (inline values and blobs of
-- type "json" as JSON, other blobs as base64 strings); pending_writes is
-- [[task_id, channel, type, value], ...] in (task_path, task_id, idx) order;
-- pending_sends, only for checkpoints older than format 4, is the parent's
-- writes to __pregel_tasks as [[type, value], ...].
CREATE TYPE agentstore.checkpoint_tuple AS (
    thread_id            text,
    checkpoint_ns        text,
    checkpoint_id        text,
    parent_checkpoint_id text,
    checkpoint           jsonb,
    metadata             jsonb,
    channel_values       json,
    pending_writes       json,
    pending_sends        json
);
COMMENT ON TYPE agentstore.checkpoint_tuple IS 'LangGraph''s CheckpointTuple: the checkpoint, its metadata, every channel value and the pending writes';

-- LangGraph's put: stores a checkpoint, its new channel values and the
-- thread's sliding TTL; returns the checkpoint id.
CREATE FUNCTION agentstore.put_checkpoint(
    thread_id            text,
    checkpoint_ns        text,
    checkpoint           jsonb,
    metadata             json,
    new_versions         jsonb,
    blobs                jsonb DEFAULT NULL,
    parent_checkpoint_id text DEFAULT NULL,
    ttl                  interval DEFAULT NULL)
RETURNS text
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_put_checkpoint';
COMMENT ON FUNCTION agentstore.put_checkpoint IS 'store a LangGraph checkpoint, its metadata and its new channel values; returns its id';

-- LangGraph's put_writes: a task's pending writes against a checkpoint,
-- stored or still to be put; returns how many were inserted or replaced.
CREATE FUNCTION agentstore.put_writes(
    thread_id     text,
    checkpoint_ns text,
    checkpoint_id text,
    task_id       text,
    writes        jsonb,
    task_path     text DEFAULT '')
RETURNS integer
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_put_writes';
COMMENT ON FUNCTION agentstore.put_writes IS 'store a task''s pending writes against a checkpoint; returns the writes inserted or replaced';

-- LangGraph's get_tuple: one checkpoint tuple, the latest without an id.
CREATE FUNCTION agentstore.get_checkpoint(
    thread_id     text,
    checkpoint_ns text DEFAULT '',
    checkpoint_id text DEFAULT NULL)
RETURNS SETOF agentstore.checkpoint_tuple
LANGUAGE c STABLE PARALLEL SAFE ROWS 1
AS 'MODULE_PATHNAME', 'agentstore_get_checkpoint';
COMMENT ON FUNCTION agentstore.get_checkpoint IS 'the latest checkpoint of a thread and namespace, or the one with an id, as a checkpoint_tuple';

-- LangGraph's list: checkpoint tuples newest first; every argument given
-- narrows the list.
CREATE FUNCTION agentstore.list_checkpoints(
    thread_id     text DEFAULT NULL,
    checkpoint_ns text DEFAULT NULL,
    filter        jsonb DEFAULT NULL,
    before        text DEFAULT NULL,
    max_count     integer DEFAULT NULL,
    checkpoint_id text DEFAULT NULL)
RETURNS SETOF agentstore.checkpoint_tuple
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'agentstore_list_checkpoints';
COMMENT ON FUNCTION agentstore.list_checkpoints IS 'checkpoint tuples newest first, narrowed by thread, namespace, metadata filter, before and id';

-- The exclusive lock on a thread, taken by the functions that remove its
-- rows; with nowait, false instead of waiting for writers.
CREATE FUNCTION agentstore._checkpoint_lock_thread(thread_id text, nowait boolean)
RETURNS boolean
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'agentstore_checkpoint_lock_thread';

-- Raise the error every checkpoint function raises for a missing argument.
CREATE FUNCTION agentstore._checkpoint_require(value anyelement, name text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be null', name USING ERRCODE = 'null_value_not_allowed';
    END IF;
END
$$;

-- Remove every row of one thread; the caller holds the thread's exclusive
-- lock.  Returns the checkpoints removed.
CREATE FUNCTION agentstore._checkpoint_remove_thread(thread text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed bigint;
BEGIN
    DELETE FROM agentstore.checkpoints c WHERE c.thread_id = thread;
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM agentstore.checkpoint_writes w WHERE w.thread_id = thread;
    DELETE FROM agentstore.checkpoint_blobs b WHERE b.thread_id = thread;
    RETURN removed;
END
$$;

-- LangGraph's delete_thread: every namespace, every kind of row, and the
-- thread's own row.  Returns the number of checkpoints removed.
CREATE FUNCTION agentstore.delete_thread(thread_id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM agentstore._checkpoint_require(delete_thread.thread_id, 'thread_id');
    -- The thread lock first: this waits for writes in flight on the thread,
    -- and a write that comes later waits for this transaction and then
    -- finds its checkpoint gone.
    PERFORM agentstore._checkpoint_lock_thread(delete_thread.thread_id, false);
    DELETE FROM agentstore.checkpoint_threads t WHERE t.thread_id = delete_thread.thread_id;
    RETURN agentstore._checkpoint_remove_thread(delete_thread.thread_id);
END
$$;
COMMENT ON FUNCTION agentstore.delete_thread IS 'remove every checkpoint, blob and write of a thread; returns the checkpoints removed';

-- Remove one checkpoint (in every thread and namespace that has that id,
-- unless they are given), its writes, and the blobs no other checkpoint of
-- its thread names.  langgraphgo's Delete.  Returns the checkpoints removed.
CREATE FUNCTION agentstore.delete_checkpoint(
    checkpoint_id text,
    thread_id     text DEFAULT NULL,
    checkpoint_ns text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    thread text;
    gone record;
    removed bigint := 0;
BEGIN
    PERFORM agentstore._checkpoint_require(delete_checkpoint.checkpoint_id, 'checkpoint_id');
    FOR thread IN
        SELECT DISTINCT c.thread_id FROM agentstore.checkpoints c
         WHERE c.checkpoint_id = delete_checkpoint.checkpoint_id
           AND (delete_checkpoint.thread_id IS NULL OR c.thread_id = delete_checkpoint.thread_id)
         ORDER BY 1
    LOOP
        PERFORM agentstore._checkpoint_lock_thread(thread, false);
        FOR gone IN
            DELETE FROM agentstore.checkpoints c
             WHERE c.thread_id = thread AND c.checkpoint_id = delete_checkpoint.checkpoint_id
               AND (delete_checkpoint.checkpoint_ns IS NULL OR c.checkpoint_ns = delete_checkpoint.checkpoint_ns)
            RETURNING c.checkpoint_ns, c.checkpoint -> 'channel_versions' AS versions
        LOOP
            DELETE FROM agentstore.checkpoint_writes w
             WHERE w.thread_id = thread AND w.checkpoint_ns = gone.checkpoint_ns
               AND w.checkpoint_id = delete_checkpoint.checkpoint_id;
            DELETE FROM agentstore.checkpoint_blobs b
             USING jsonb_each_text(CASE jsonb_typeof(gone.versions) WHEN 'object' THEN gone.versions END) AS v
             WHERE b.thread_id = thread AND b.checkpoint_ns = gone.checkpoint_ns
               AND b.channel = v.key AND b.version = v.value
               AND NOT EXISTS (SELECT FROM agentstore.checkpoints c
                                WHERE c.thread_id = thread AND c.checkpoint_ns = gone.checkpoint_ns
                                  AND c.checkpoint -> 'channel_versions' ->> v.key = v.value);
            removed := removed + 1;
        END LOOP;
    END LOOP;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION agentstore.delete_checkpoint IS 'remove one checkpoint, its writes and the blobs no other checkpoint of its thread names';

-- The expires_at a write sets: now() + ttl, ttl defaulting to
-- agentstore.checkpoint_ttl; a zero TTL never expires.
CREATE FUNCTION agentstore._checkpoint_expires_at(ttl interval)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t interval := coalesce(ttl, pg_catalog.current_setting('agentstore.checkpoint_ttl')::interval);
BEGIN
    IF t < interval '0' THEN
        RAISE EXCEPTION 'ttl must not be negative'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('ttl is %s.', t);
    END IF;
    RETURN CASE WHEN t = interval '0' THEN NULL ELSE pg_catalog.now() + t END;
END
$$;

-- Copy a thread (every namespace, checkpoint, blob and write) to a new
-- thread id, which must not exist yet.  Returns the checkpoints copied.
CREATE FUNCTION agentstore.copy_thread(
    from_thread_id text,
    to_thread_id   text,
    ttl            interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    copied bigint;
BEGIN
    PERFORM agentstore._checkpoint_require(from_thread_id, 'from_thread_id');
    PERFORM agentstore._checkpoint_require(to_thread_id, 'to_thread_id');
    IF char_length(to_thread_id) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'to_thread_id must have 1 to 255 characters'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It has %s characters.', char_length(to_thread_id));
    END IF;
    IF from_thread_id = to_thread_id THEN
        RAISE EXCEPTION 'cannot copy thread "%" onto itself', from_thread_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The target is created here: no write to it may interleave.
    PERFORM agentstore._checkpoint_lock_thread(to_thread_id, false);
    IF NOT EXISTS (SELECT FROM agentstore.checkpoints c WHERE c.thread_id = from_thread_id) THEN
        RAISE EXCEPTION 'thread "%" has no checkpoints', from_thread_id
            USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO agentstore.checkpoint_threads (thread_id, expires_at)
    VALUES (to_thread_id, agentstore._checkpoint_expires_at(ttl))
    ON CONFLICT DO NOTHING;
    IF NOT FOUND OR EXISTS (SELECT FROM agentstore.checkpoints c WHERE c.thread_id = to_thread_id) THEN
        RAISE EXCEPTION 'thread "%" already exists', to_thread_id
            USING ERRCODE = 'unique_violation',
                  HINT = 'Delete it first with agentstore.delete_thread().';
    END IF;
    INSERT INTO agentstore.checkpoints
        (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata)
    SELECT to_thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.type,
           c.checkpoint, c.metadata
      FROM agentstore.checkpoints c WHERE c.thread_id = from_thread_id;
    GET DIAGNOSTICS copied = ROW_COUNT;
    INSERT INTO agentstore.checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
    SELECT to_thread_id, b.checkpoint_ns, b.channel, b.version, b.type, b.blob
      FROM agentstore.checkpoint_blobs b WHERE b.thread_id = from_thread_id;
    INSERT INTO agentstore.checkpoint_writes
        (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path)
    SELECT to_thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.idx, w.channel, w.type,
           w.blob, w.task_path
      FROM agentstore.checkpoint_writes w WHERE w.thread_id = from_thread_id;
    RETURN copied;
END
$$;
COMMENT ON FUNCTION agentstore.copy_thread IS 'copy every checkpoint, blob and write of a thread to a new thread; returns the checkpoints copied';

-- Keep the newest keep_last checkpoints of each namespace of a thread;
-- remove the older ones, their writes, every blob no kept checkpoint names
-- in its channel_versions, and writes left without a checkpoint.
CREATE FUNCTION agentstore.prune_checkpoints(thread_id text, keep_last integer)
RETURNS TABLE (checkpoints_removed bigint, blobs_removed bigint, writes_removed bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM agentstore._checkpoint_require(prune_checkpoints.thread_id, 'thread_id');
    PERFORM agentstore._checkpoint_require(keep_last, 'keep_last');
    IF keep_last < 1 THEN
        RAISE EXCEPTION 'keep_last must be at least 1'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('keep_last is %s.', keep_last),
                  HINT = 'To remove every checkpoint of a thread, use agentstore.delete_thread().';
    END IF;
    -- The thread lock first: writes in flight finish before, later ones wait.
    PERFORM agentstore._checkpoint_lock_thread(prune_checkpoints.thread_id, false);

    WITH ranked AS (
        SELECT c.checkpoint_ns, c.checkpoint_id,
               row_number() OVER (PARTITION BY c.checkpoint_ns ORDER BY c.checkpoint_id DESC) AS n
          FROM agentstore.checkpoints c
         WHERE c.thread_id = prune_checkpoints.thread_id)
    DELETE FROM agentstore.checkpoints c
     USING ranked r
     WHERE c.thread_id = prune_checkpoints.thread_id
       AND c.checkpoint_ns = r.checkpoint_ns AND c.checkpoint_id = r.checkpoint_id
       AND r.n > keep_last;
    GET DIAGNOSTICS checkpoints_removed = ROW_COUNT;

    -- The writes of the removed checkpoints, and those whose checkpoint was
    -- never stored and can no longer come: a checkpoint still to be put is
    -- newer than every stored one of its namespace (LangGraph's ids are
    -- time-ordered), so writes waiting for it are kept.
    DELETE FROM agentstore.checkpoint_writes w
     WHERE w.thread_id = prune_checkpoints.thread_id
       AND NOT EXISTS (SELECT FROM agentstore.checkpoints c
                        WHERE c.thread_id = w.thread_id AND c.checkpoint_ns = w.checkpoint_ns
                          AND c.checkpoint_id = w.checkpoint_id)
       AND w.checkpoint_id < (SELECT max(c.checkpoint_id) FROM agentstore.checkpoints c
                               WHERE c.thread_id = w.thread_id
                                 AND c.checkpoint_ns = w.checkpoint_ns);
    GET DIAGNOSTICS writes_removed = ROW_COUNT;

    WITH referenced AS MATERIALIZED (
        SELECT DISTINCT c.checkpoint_ns, v.key AS channel, v.value AS version
          FROM agentstore.checkpoints c,
               jsonb_each_text(c.checkpoint -> 'channel_versions') AS v
         WHERE c.thread_id = prune_checkpoints.thread_id)
    DELETE FROM agentstore.checkpoint_blobs b
     WHERE b.thread_id = prune_checkpoints.thread_id
       AND NOT EXISTS (SELECT FROM referenced r
                        WHERE r.checkpoint_ns = b.checkpoint_ns AND r.channel = b.channel
                          AND r.version = b.version);
    GET DIAGNOSTICS blobs_removed = ROW_COUNT;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION agentstore.prune_checkpoints IS 'keep the newest keep_last checkpoints of each namespace and the blobs they name; remove the rest';

-- For the TTL worker: remove up to max_threads threads whose expires_at has
-- passed, with all their rows, skipping threads being written to (a put
-- that slides the TTL wins).  Returns the number of threads removed.
CREATE FUNCTION agentstore.expire_checkpoint_threads(max_threads integer DEFAULT 100)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    thread text;
    expired integer := 0;
BEGIN
    PERFORM agentstore._checkpoint_require(max_threads, 'max_threads');
    IF max_threads < 1 THEN
        RAISE EXCEPTION 'max_threads must be at least 1'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('max_threads is %s.', max_threads);
    END IF;
    FOR thread IN
        SELECT t.thread_id FROM agentstore.checkpoint_threads t
         WHERE t.expires_at <= pg_catalog.now()
         ORDER BY t.expires_at
         LIMIT max_threads
           FOR UPDATE SKIP LOCKED
    LOOP
        CONTINUE WHEN NOT agentstore._checkpoint_lock_thread(thread, true);
        DELETE FROM agentstore.checkpoint_threads t WHERE t.thread_id = thread;
        PERFORM agentstore._checkpoint_remove_thread(thread);
        expired := expired + 1;
    END LOOP;
    RETURN expired;
END
$$;
COMMENT ON FUNCTION agentstore.expire_checkpoint_threads IS 'remove up to max_threads checkpoint threads whose TTL has passed, oldest first, skipping threads being written to';
-- agentstore install script, part 40: TTL expiry.
--
-- The background worker (src/ttl_*.c) and agentstore.expire_now() expire
-- what the other parts' expires_at columns say has expired, and purge what
-- was soft-deleted longer ago than agentstore.ttl_purge_after.  Each pass is
-- recorded in ttl_runs; the history is bounded: every finished pass removes
-- all but the last 1000 runs.  Local to each database: not distributed.

CREATE SEQUENCE agentstore.ttl_runs_id_seq AS bigint;
CREATE TABLE agentstore.ttl_runs (
    id           bigint NOT NULL DEFAULT nextval('agentstore.ttl_runs_id_seq') PRIMARY KEY,
    origin       text NOT NULL,                 -- 'worker' or 'expire_now'
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,                   -- NULL while running, or if interrupted
    transactions integer NOT NULL DEFAULT 0,    -- committed by the pass
    expired      jsonb NOT NULL DEFAULT '{}',   -- rows expired per table
    purged       jsonb NOT NULL DEFAULT '{}',   -- soft-deleted rows removed per table
    trimmed      bigint NOT NULL DEFAULT 0,     -- events over session_event_retention removed
    error        text,                          -- why the pass failed or stopped
    CONSTRAINT ttl_runs_origin_check CHECK (origin IN ('worker', 'expire_now'))
);
ALTER SEQUENCE agentstore.ttl_runs_id_seq OWNED BY agentstore.ttl_runs.id;
COMMENT ON TABLE agentstore.ttl_runs IS 'expiry passes of this database, the last 1000 kept; counts are those committed';

SELECT pg_catalog.pg_extension_config_dump('agentstore.ttl_runs', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.ttl_runs_id_seq', '');

-- One full expiry pass now, in the caller's transaction: what the worker
-- does at every interval, for tests, operations and servers without the
-- worker.  Returns one row per table.
CREATE FUNCTION agentstore.expire_now()
RETURNS TABLE (table_name text, expired bigint, purged bigint, trimmed bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_expire_now';
COMMENT ON FUNCTION agentstore.expire_now() IS 'run one expiry pass now in this transaction; rows expired, purged and trimmed per table';
REVOKE ALL ON FUNCTION agentstore.expire_now() FROM PUBLIC;

-- The plans of the statements an expiry pass runs, for this database's
-- data: every one should use an index.
CREATE FUNCTION agentstore.ttl_explain()
RETURNS TABLE (statement text, plan text)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_ttl_explain';
COMMENT ON FUNCTION agentstore.ttl_explain() IS 'EXPLAIN (COSTS OFF) of every statement of an expiry pass';
REVOKE ALL ON FUNCTION agentstore.ttl_explain() FROM PUBLIC;

-- The state of expiry in this database: its last pass, the worker now
-- running here (if any), and how far behind expiry is.  It runs with the
-- rights of whoever reads it (security_invoker): the reader needs SELECT on
-- ttl_runs and on the tables it looks at, and their row-level security
-- applies to the reader.
CREATE VIEW agentstore.ttl_status WITH (security_invoker = true) AS
SELECT current_database() AS database,
       (SELECT a.pid FROM pg_catalog.pg_stat_activity a
         WHERE a.backend_type = 'agentstore ttl worker'
           AND a.datname = current_database()
         LIMIT 1) AS worker_pid,
       r.id AS last_run_id,
       r.origin AS last_origin,
       r.started_at AS last_started_at,
       r.finished_at AS last_finished_at,
       CASE WHEN r.id IS NULL THEN NULL
            WHEN r.error IS NOT NULL AND r.finished_at IS NULL THEN 'interrupted'
            WHEN r.error IS NOT NULL THEN 'failed'
            WHEN r.finished_at IS NULL THEN 'running'
            ELSE 'finished' END AS last_state,
       (SELECT sum(j.value::bigint) FROM jsonb_each_text(r.expired) j) AS last_expired,
       (SELECT sum(j.value::bigint) FROM jsonb_each_text(r.purged) j) AS last_purged,
       r.trimmed AS last_trimmed,
       r.error AS last_error,
       ok.finished_at AS last_success_at,
       (SELECT count(*) FROM agentstore.ttl_runs f
         WHERE f.error IS NOT NULL AND f.id > coalesce(ok.id, 0)) AS failures_since_success,
       least((SELECT min(expires_at) FROM agentstore.sessions
               WHERE expires_at <= now() AND deleted_at IS NULL),
             (SELECT min(expires_at) FROM agentstore.events
               WHERE expires_at <= now() AND deleted_at IS NULL),
             (SELECT min(expires_at) FROM agentstore.app_states
               WHERE expires_at <= now() AND deleted_at IS NULL),
             (SELECT min(expires_at) FROM agentstore.user_states
               WHERE expires_at <= now() AND deleted_at IS NULL),
             (SELECT min(expires_at) FROM agentstore.checkpoint_threads
               WHERE expires_at <= now())) AS overdue_since
  FROM (VALUES (1)) AS one(x)
  LEFT JOIN LATERAL (SELECT * FROM agentstore.ttl_runs ORDER BY id DESC LIMIT 1) r ON true
  LEFT JOIN LATERAL (SELECT id, finished_at FROM agentstore.ttl_runs
                      WHERE error IS NULL AND finished_at IS NOT NULL
                      ORDER BY id DESC LIMIT 1) ok ON true;
COMMENT ON VIEW agentstore.ttl_status IS 'last expiry pass of this database, running worker, and the oldest overdue expires_at';
-- agentstore install script, part 90: privileges on the functions.
--
-- The model (docs/security.md): PUBLIC gets nothing on the schema, so a role
-- needs USAGE on it before it can name anything here; past that, every
-- function runs with the caller's rights and checks the caller's privileges
-- on the tables it reads and writes, so the API functions keep PostgreSQL's
-- default EXECUTE for PUBLIC and the table grants decide what a call may do.
--
-- A function that can do something the caller's table privileges would not
-- allow is not executable by PUBLIC.  This part comes last, so that it
-- covers every feature's functions; a new internal function must be added
-- here or to the list of harmless ones below, or the role matrix
-- (test/sql/security_roles.sql) fails.
--
-- Not executable by PUBLIC:
--  - _checkpoint_lock_thread(): takes a thread's exclusive lock, which makes
--    every writer of the thread wait, without touching a table.  The
--    functions that remove a thread's rows (delete_thread, delete_checkpoint,
--    copy_thread, prune_checkpoints, expire_checkpoint_threads) call it with
--    the caller's rights: grant EXECUTE on it to the roles that may call them.
--  - the trigger functions: fired as triggers they need no EXECUTE privilege
--    (PostgreSQL checks it only in CREATE TRIGGER), and attached by another
--    role to a table of its own (a temporary table needs no privilege at
--    all) version_trigger() would take the stream locks of agentstore.events.
--  - _warn_if_not_preloaded(): for the install script only.
--
-- Executable by PUBLIC although internal, because they are harmless and
-- needed: _checkpoint_keys_ok() and _checkpoint_blob_key() are evaluated
-- with the writer's rights by the checkpoint tables' CHECK constraints and
-- index; _checkpoint_require() and _checkpoint_expires_at() compute a value;
-- _checkpoint_remove_thread() deletes with the caller's rights what the
-- caller could delete itself.
--
-- expire_now() and ttl_explain() are revoked in part 40.

REVOKE ALL ON FUNCTION agentstore._warn_if_not_preloaded() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore._checkpoint_lock_thread(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.version_trigger() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.session_import_row() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.session_import_flush() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.session_import_begin() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.stream_heads_trigger() FROM PUBLIC;

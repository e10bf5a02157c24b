-- agentstore 0.1.0 -> 0.2.0 (ALTER EXTENSION agentstore UPDATE).
\echo Use "ALTER EXTENSION agentstore UPDATE TO '0.2.0'" to load this file. \quit

-- 0.2.0 names its schema in agentstore.control, so that PostgreSQL creates
-- it and CREATE EXTENSION ... SCHEMA x is refused; the schema is no longer a
-- member of the extension (DROP EXTENSION leaves it, empty).
ALTER EXTENSION agentstore DROP SCHEMA agentstore;

-- Sessions: writers take an optional session_ref (stale-session check).
DROP FUNCTION agentstore.delete_session(text, text, text, boolean);
DROP FUNCTION agentstore.update_session_state(text, text, text, jsonb);
DROP FUNCTION agentstore.put_session_summary(text, text, text, jsonb, text);
DROP FUNCTION agentstore.append_event(text, text, text, jsonb, jsonb, bigint);
DROP FUNCTION agentstore.append_session_events(text, text, text, jsonb, jsonb, bigint);
DROP FUNCTION agentstore.append_track_event(text, text, text, text, jsonb, interval);
CREATE FUNCTION agentstore.delete_session(
    app_name text, user_id text, session_id text, hard boolean DEFAULT NULL,
    session_ref bigint DEFAULT NULL)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_delete_session';

CREATE FUNCTION agentstore.update_session_state(
    app_name text, user_id text, session_id text, delta jsonb,
    session_ref bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_update_session_state';

CREATE FUNCTION agentstore.put_session_summary(
    app_name text, user_id text, session_id text, summary jsonb,
    filter_key text DEFAULT '', session_ref bigint DEFAULT NULL)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_put_session_summary';

CREATE FUNCTION agentstore.append_event(
    app_name text, user_id text, session_id text, event jsonb,
    state_delta jsonb DEFAULT NULL, expected_version bigint DEFAULT NULL,
    session_ref bigint DEFAULT NULL,
    OUT version bigint, OUT "position" bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_append_event';

CREATE FUNCTION agentstore.append_session_events(
    app_name text, user_id text, session_id text, events jsonb,
    state_delta jsonb DEFAULT NULL, expected_version bigint DEFAULT NULL,
    session_ref bigint DEFAULT NULL,
    OUT first_version bigint, OUT last_version bigint,
    OUT first_position bigint, OUT last_position bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_append_session_events';

CREATE FUNCTION agentstore.append_track_event(
    app_name text, user_id text, session_id text, track text, event jsonb,
    ttl interval DEFAULT NULL, session_ref bigint DEFAULT NULL,
    OUT version bigint, OUT "position" bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_append_track_event';

-- Sessions: each statement writing to session_import gets its own writer.
CREATE FUNCTION agentstore.session_import_begin()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'agentstore_session_import_begin';

CREATE TRIGGER session_import_begin
    BEFORE INSERT ON agentstore.session_import
    FOR EACH STATEMENT EXECUTE FUNCTION agentstore.session_import_begin();

-- Checkpoints: writes may come before their checkpoint; prune removes the orphans.
CREATE OR REPLACE FUNCTION agentstore.prune_checkpoints(thread_id text, keep_last integer)
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

-- Privileges: internal and trigger functions are not executable by PUBLIC.
REVOKE ALL ON FUNCTION agentstore._warn_if_not_preloaded() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore._checkpoint_lock_thread(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.version_trigger() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.session_import_row() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.session_import_flush() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.session_import_begin() FROM PUBLIC;

-- Streams: a high-water mark per stream whose events were deleted, so that
-- versions are never issued twice.
CREATE TABLE agentstore.stream_heads (
    stream          text COLLATE "C" PRIMARY KEY,
    version         bigint NOT NULL,
    CONSTRAINT stream_heads_version_check CHECK (version > 0)
);

CREATE FUNCTION agentstore.stream_heads_trigger()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'agentstore_stream_heads_trigger';

CREATE TRIGGER zz_events_stream_heads
    AFTER DELETE ON agentstore.events
    REFERENCING OLD TABLE AS deleted_events
    FOR EACH STATEMENT EXECUTE FUNCTION agentstore.stream_heads_trigger();

SELECT pg_catalog.pg_extension_config_dump('agentstore.stream_heads', '');
REVOKE ALL ON FUNCTION agentstore.stream_heads_trigger() FROM PUBLIC;

-- Sessions: the listing indexes get predicates that PostgreSQL 17 and later
-- can still prove (they drop "IS NOT NULL" on a NOT NULL column from the
-- query); see sql/10_sessions.sql.
DROP INDEX agentstore.sessions_user_recent;
DROP INDEX agentstore.sessions_app_recent;
CREATE INDEX sessions_user_recent
    ON agentstore.sessions (app_name, user_id, updated_at DESC, id DESC)
    WHERE deleted_at IS NULL AND updated_at <= 'infinity'::timestamptz;
CREATE INDEX sessions_app_recent
    ON agentstore.sessions (app_name, updated_at DESC, id DESC)
    WHERE deleted_at IS NULL AND created_at <= 'infinity'::timestamptz;

-- TTL: ttl_status runs with the rights of whoever reads it.
ALTER VIEW agentstore.ttl_status SET (security_invoker = true);
-- Streams: the last expected-version conflict of the session, machine-readable.
CREATE FUNCTION agentstore.last_version_conflict(
    OUT stream text,
    OUT expected_version bigint,
    OUT actual_version bigint)
RETURNS SETOF record
LANGUAGE c VOLATILE
ROWS 1
AS 'MODULE_PATHNAME', 'agentstore_last_version_conflict';

-- Every public object's COMMENT, as a fresh install has it (docs/api.md is
-- generated from them).
COMMENT ON SCHEMA agentstore IS 'agentstore: sessions, event streams, checkpoints and TTL expiry for AI-agent frameworks';
COMMENT ON FUNCTION agentstore.preloaded IS 'whether the server loaded agentstore through shared_preload_libraries (so that the TTL worker runs)';
COMMENT ON TABLE agentstore.sessions IS 'one row per session incarnation; the active one per key has deleted_at IS NULL';
COMMENT ON TYPE agentstore.session_info IS 'a session row as create_session and get_or_create_session return it; created tells whether this call created it';
COMMENT ON FUNCTION agentstore.create_session(text, text, text, jsonb, interval) IS
    'create a session; an active session with that key is a unique_violation';
COMMENT ON FUNCTION agentstore.get_or_create_session(text, text, text, jsonb, interval) IS
    'return the active session of the key, creating it if there is none; a hit writes nothing';
COMMENT ON FUNCTION agentstore.get_session(text, text, text, integer, timestamptz) IS
    'the session with app/user state overlaid, its summaries and its last events, as one document';
COMMENT ON FUNCTION agentstore.list_sessions(text, text, integer, text) IS
    'one page of sessions, newest-updated first, with the token of the next page';
COMMENT ON FUNCTION agentstore.delete_session(text, text, text, boolean, bigint) IS
    'delete a session with its events, track events and summaries (soft by default)';
COMMENT ON FUNCTION agentstore.update_session_state(text, text, text, jsonb, bigint) IS
    'apply a state delta: app:/user: keys to app/user state, temp: dropped, the rest merged';
COMMENT ON FUNCTION agentstore.set_app_state IS 'set one key of an app''s state (a JSON null removes it); every write slides the key''s TTL';
COMMENT ON FUNCTION agentstore.get_app_state IS 'one key of an app''s state, NULL when absent or expired';
COMMENT ON FUNCTION agentstore.list_app_state IS 'an app''s whole state as one JSON object';
COMMENT ON FUNCTION agentstore.delete_app_state IS 'delete one key of an app''s state; whether it existed';
COMMENT ON FUNCTION agentstore.set_user_state IS 'set one key of a user''s state (a JSON null removes it); every write slides the key''s TTL';
COMMENT ON FUNCTION agentstore.get_user_state IS 'one key of a user''s state, NULL when absent or expired';
COMMENT ON FUNCTION agentstore.list_user_state IS 'a user''s whole state as one JSON object';
COMMENT ON FUNCTION agentstore.delete_user_state IS 'delete one key of a user''s state; whether it existed';
COMMENT ON FUNCTION agentstore.put_session_summary IS 'store a session''s summary for a filter key ('''' = the whole session); slides the session''s TTL';
COMMENT ON FUNCTION agentstore.get_session_summary IS 'a session''s summary for a filter key, falling back to the whole session''s ('''')';
COMMENT ON FUNCTION agentstore.upsert_sessions(jsonb, boolean, text) IS 'batch upsert of session objects (agent-go''s 13 fields) given as a JSON array; keys inserted and updated';
COMMENT ON FUNCTION agentstore.upsert_sessions(json, boolean, text) IS 'batch upsert as the jsonb form, reading the json text element by element';
COMMENT ON VIEW agentstore.session_import IS
    'COPY or INSERT session rows here to upsert them into agentstore.sessions in bulk';
COMMENT ON FUNCTION agentstore.session_import_begin IS 'BEFORE statement trigger of the session_import view: begins the statement''s own import buffer (refuses to run as anything else)';
COMMENT ON FUNCTION agentstore.session_import_row IS 'INSTEAD OF row trigger of the session_import view: buffers one row (refuses to run as anything else)';
COMMENT ON FUNCTION agentstore.session_import_flush IS 'AFTER statement trigger of the session_import view: writes the buffered rows (refuses to run as anything else)';
COMMENT ON FUNCTION agentstore.session_import_result() IS
    'rows inserted and updated by the last statement that wrote to session_import in this session';
COMMENT ON FUNCTION agentstore.append_event IS 'append one event to a session, apply its state delta and slide the TTL in one call; idempotent by the event''s id';
COMMENT ON FUNCTION agentstore.append_session_events IS 'append an array of events to a session with one state delta, all or nothing';
COMMENT ON FUNCTION agentstore.append_track_event IS 'append an event to one track of a session, with its own TTL';
COMMENT ON FUNCTION agentstore.get_track_events IS 'the last events of one track of a session, as a JSON array in append order';
COMMENT ON FUNCTION agentstore.trim_session_events(integer) IS
    'remove the events of active sessions beyond agentstore.session_event_retention (0, the default: none), at most batch_size of them';
COMMENT ON TABLE agentstore.events IS 'every event of every stream; versions are gap-free per stream';
COMMENT ON FUNCTION agentstore.version_trigger() IS 'BEFORE INSERT row trigger of agentstore.events: gap-free per-stream versions';
COMMENT ON TABLE agentstore.stream_heads IS 'highest version deleted from each stream: versions are never issued twice';
COMMENT ON FUNCTION agentstore.stream_heads_trigger() IS 'AFTER DELETE statement trigger of agentstore.events: records the high-water mark of each stream';
COMMENT ON FUNCTION agentstore.no_stream() IS 'expected version -1: the stream must not exist (have no event)';
COMMENT ON FUNCTION agentstore.stream_exists() IS 'expected version -2: the stream must have at least one event';
COMMENT ON FUNCTION agentstore.append_events(text, jsonb, bigint) IS 'append events to a stream, with an optional expected version; idempotent by event_id';
COMMENT ON FUNCTION agentstore.append_events(text, text, bigint) IS 'append events given as JSON text to a stream (see the jsonb form)';
COMMENT ON FUNCTION agentstore.append_streams(jsonb) IS 'append to several streams atomically, each with its own expected version';
COMMENT ON TYPE agentstore.event IS 'an event as the read functions return it';
COMMENT ON FUNCTION agentstore.read_stream(text, bigint, integer) IS 'events of one stream from a version on, in version order';
COMMENT ON FUNCTION agentstore.read_all(bigint, integer, xid8) IS 'events of all streams in commit order, never skipping a late commit';
COMMENT ON FUNCTION agentstore.read_category(text, bigint, integer, integer, integer, xid8) IS 'events of one category in commit order, with consumer groups';
COMMENT ON FUNCTION agentstore.stream_version(text) IS 'highest version of a stream, 0 if it has no event';
COMMENT ON FUNCTION agentstore.last_version_conflict() IS 'stream, expected and actual version of the last SV001 of this session';
COMMENT ON TYPE agentstore.checkpoint_tuple IS 'LangGraph''s CheckpointTuple: the checkpoint, its metadata, every channel value and the pending writes';
COMMENT ON FUNCTION agentstore.put_checkpoint IS 'store a LangGraph checkpoint, its metadata and its new channel values; returns its id';
COMMENT ON FUNCTION agentstore.put_writes IS 'store a task''s pending writes against a checkpoint; returns the writes inserted or replaced';
COMMENT ON FUNCTION agentstore.get_checkpoint IS 'the latest checkpoint of a thread and namespace, or the one with an id, as a checkpoint_tuple';
COMMENT ON FUNCTION agentstore.list_checkpoints IS 'checkpoint tuples newest first, narrowed by thread, namespace, metadata filter, before and id';
COMMENT ON FUNCTION agentstore.delete_thread IS 'remove every checkpoint, blob and write of a thread; returns the checkpoints removed';
COMMENT ON FUNCTION agentstore.delete_checkpoint IS 'remove one checkpoint, its writes and the blobs no other checkpoint of its thread names';
COMMENT ON FUNCTION agentstore.copy_thread IS 'copy every checkpoint, blob and write of a thread to a new thread; returns the checkpoints copied';
COMMENT ON FUNCTION agentstore.prune_checkpoints IS 'keep the newest keep_last checkpoints of each namespace and the blobs they name; remove the rest';
COMMENT ON FUNCTION agentstore.expire_checkpoint_threads IS 'remove up to max_threads checkpoint threads whose TTL has passed, oldest first, skipping threads being written to';
COMMENT ON TABLE agentstore.ttl_runs IS 'expiry passes of this database, the last 1000 kept; counts are those committed';
COMMENT ON FUNCTION agentstore.expire_now() IS 'run one expiry pass now in this transaction; rows expired, purged and trimmed per table';
COMMENT ON FUNCTION agentstore.ttl_explain() IS 'EXPLAIN (COSTS OFF) of every statement of an expiry pass';
COMMENT ON VIEW agentstore.ttl_status IS 'last expiry pass of this database, running worker, and the oldest overdue expires_at';

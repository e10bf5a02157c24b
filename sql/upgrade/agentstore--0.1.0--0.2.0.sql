-- agentstore 0.1.0 -> 0.2.0 (ALTER EXTENSION agentstore UPDATE).
\echo Use "ALTER EXTENSION agentstore UPDATE TO '0.2.0'" to load this file. \quit

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

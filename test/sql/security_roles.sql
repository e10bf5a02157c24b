-- The role matrix (docs/security.md): what every function of the schema,
-- the ttl_status view, INSERT and COPY into agentstore.session_import and
-- agentstore.events do for
--   owner       the extension's owner (the bootstrap superuser here),
--   writer      the documented application grants,
--   writer_col  the same without UPDATE on one column (sessions.name),
--   reader      the documented read-only grants,
--   usage       USAGE on the schema and nothing else,
--   nobody      nothing at all.
-- Each cell is the outcome of one call on the same data: "ok" (read only),
-- "ok+w" (wrote), or the SQLSTATE of its error; a "!" after an SQLSTATE means
-- that the failed call left something behind (a sequence value, say).  Each
-- call runs in a subtransaction that is rolled back, so every call sees the
-- same rows.  The roles are tried from the most to the least privileged, so
-- that nothing a privileged call caches can let a later one through.
-- Functions are enumerated from pg_proc: one missing from the matrix is
-- listed after it (the list must be empty).  Then: a writer without SELECT
-- on events, a role with SELECT on the ttl_status view alone, and COPY.
SET client_min_messages = warning;
\set VERBOSITY sqlstate

-- The sequences' positions, restored at the end so that the tests that
-- follow see the values they would see without this one.
CREATE TEMP TABLE sequences_before AS
SELECT format('%I.%I', schemaname, sequencename) AS seq, last_value
  FROM pg_sequences WHERE schemaname = 'agentstore';

-- The roles and the documented grants (docs/security.md, copied as they are).
CREATE ROLE regress_nobody;
CREATE ROLE regress_usage;
CREATE ROLE regress_reader;
CREATE ROLE regress_writer;
CREATE ROLE regress_writer_col;
GRANT USAGE ON SCHEMA agentstore TO regress_usage;

-- reader
GRANT USAGE ON SCHEMA agentstore TO regress_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA agentstore TO regress_reader;

-- writer (the application)
GRANT USAGE ON SCHEMA agentstore TO regress_writer, regress_writer_col;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    agentstore.sessions, agentstore.app_states, agentstore.user_states,
    agentstore.session_summaries, agentstore.events,
    agentstore.checkpoint_threads, agentstore.checkpoints,
    agentstore.checkpoint_blobs, agentstore.checkpoint_writes
    TO regress_writer, regress_writer_col;
GRANT INSERT ON agentstore.session_import TO regress_writer, regress_writer_col;
GRANT USAGE ON SEQUENCE
    agentstore.sessions_id_seq, agentstore.app_states_id_seq,
    agentstore.user_states_id_seq, agentstore.events_position_seq
    TO regress_writer, regress_writer_col;
GRANT EXECUTE ON FUNCTION agentstore._checkpoint_lock_thread(text, boolean)
    TO regress_writer, regress_writer_col;

-- writer_col: UPDATE on every column of sessions but name.
REVOKE UPDATE ON agentstore.sessions FROM regress_writer_col;
DO $$
BEGIN
    EXECUTE format('GRANT UPDATE (%s) ON agentstore.sessions TO regress_writer_col',
        (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
           FROM pg_attribute
          WHERE attrelid = 'agentstore.sessions'::regclass AND attnum > 0
            AND NOT attisdropped AND attname <> 'name'));
END
$$;
SELECT has_column_privilege('regress_writer_col', 'agentstore.sessions', 'name', 'UPDATE') AS name_updatable,
       has_column_privilege('regress_writer_col', 'agentstore.sessions', 'state', 'UPDATE') AS state_updatable;

-- The data every call sees: a session with app and user state, a summary,
-- an event and a track event; a stream; a checkpoint thread.
SELECT (agentstore.create_session('demo', 'u', 's1', '{"a": 1}')).created;
SELECT agentstore.set_app_state('demo', 'k', '1');
SELECT agentstore.set_user_state('demo', 'u', 'k', '1');
SELECT agentstore.put_session_summary('demo', 'u', 's1', '{"t": 0}');
SELECT version FROM agentstore.append_event('demo', 'u', 's1', '{"id": "e1"}');
SELECT version FROM agentstore.append_track_event('demo', 'u', 's1', 'tools', '{"t": 1}');
SELECT last_version FROM agentstore.append_events('order-1',
    '[{"event_id": "o1"}, {"event_id": "o2"}]'::jsonb);
SELECT agentstore.put_checkpoint('thread-1', '',
    '{"v": 4, "id": "cp-1", "channel_values": {"step": 1}, "channel_versions": {"step": 1, "msgs": 1}, "versions_seen": {}}',
    '{"step": 1, "run_id": "run-1"}', '{"step": 1, "msgs": 1}', '{"msgs": ["bytes", "AAEC"]}');
SELECT agentstore.put_checkpoint('thread-1', '',
    '{"v": 4, "id": "cp-2", "channel_values": {"step": 2}, "channel_versions": {"step": 2, "msgs": 1}, "versions_seen": {}}',
    '{"step": 2}', '{"step": 2}', NULL, 'cp-1');
SELECT agentstore.put_writes('thread-1', '', 'cp-2', 'task-1', '[["msgs", "hi"]]');

-- A checksum of every table and sequence of the schema.
CREATE FUNCTION pg_temp.agentstore_checksum() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    acc text := '';
    s text;
BEGIN
    FOR r IN SELECT c.oid::regclass AS rel, c.relkind
               FROM pg_class c
              WHERE c.relnamespace = 'agentstore'::regnamespace AND c.relkind IN ('r', 'S')
              ORDER BY c.relname
    LOOP
        IF r.relkind = 'r' THEN
            EXECUTE format('SELECT md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) FROM %s t',
                           E'\n', '', r.rel) INTO s;
        ELSE
            EXECUTE format('SELECT last_value::text || is_called::text FROM %s', r.rel) INTO s;
        END IF;
        acc := acc || r.rel::text || ':' || s || ';';
    END LOOP;
    RETURN md5(acc);
END
$$;

-- Run one call as a role (NULL: the owner) in a subtransaction rolled back
-- afterwards; return its outcome.
CREATE FUNCTION pg_temp.try_call(role text, call text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    before text := pg_temp.agentstore_checksum();
    outcome text;
BEGIN
    BEGIN
        IF role IS NOT NULL THEN
            EXECUTE format('SET LOCAL ROLE %I', role);
        END IF;
        EXECUTE call;
        EXECUTE 'RESET ROLE';
        outcome := CASE WHEN pg_temp.agentstore_checksum() = before THEN 'ok' ELSE 'ok+w' END;
        RAISE SQLSTATE 'ZZ999';
    EXCEPTION
        WHEN SQLSTATE 'ZZ999' THEN
            NULL;
        WHEN OTHERS THEN
            outcome := SQLSTATE;
            IF pg_temp.agentstore_checksum() <> before THEN
                outcome := outcome || '!';
            END IF;
    END;
    RETURN outcome;
END
$$;

CREATE TEMP TABLE calls (n serial, fn regprocedure, label text, call text);
INSERT INTO calls (fn, label, call) VALUES
('agentstore.preloaded()', 'preloaded', $$SELECT agentstore.preloaded()$$),
('agentstore._warn_if_not_preloaded()', '_warn_if_not_preloaded', $$SELECT agentstore._warn_if_not_preloaded()$$),
-- sessions
('agentstore.create_session(text,text,text,jsonb,interval)', 'create_session',
 $$SELECT agentstore.create_session('demo', 'u', 's-new')$$),
('agentstore.get_or_create_session(text,text,text,jsonb,interval)', 'get_or_create_session hit',
 $$SELECT agentstore.get_or_create_session('demo', 'u', 's1')$$),
('agentstore.get_or_create_session(text,text,text,jsonb,interval)', 'get_or_create_session miss',
 $$SELECT agentstore.get_or_create_session('demo', 'u', 's-new')$$),
('agentstore.get_session(text,text,text,integer,timestamptz)', 'get_session',
 $$SELECT agentstore.get_session('demo', 'u', 's1')$$),
('agentstore.list_sessions(text,text,integer,text)', 'list_sessions',
 $$SELECT agentstore.list_sessions('demo', 'u')$$),
('agentstore.delete_session(text,text,text,boolean,bigint)', 'delete_session soft',
 $$SELECT agentstore.delete_session('demo', 'u', 's1')$$),
('agentstore.delete_session(text,text,text,boolean,bigint)', 'delete_session hard',
 $$SELECT agentstore.delete_session('demo', 'u', 's1', true)$$),
('agentstore.update_session_state(text,text,text,jsonb,bigint)', 'update_session_state',
 $$SELECT agentstore.update_session_state('demo', 'u', 's1', '{"b": 2, "app:x": 1, "user:y": 2}')$$),
('agentstore.set_app_state(text,text,jsonb,interval)', 'set_app_state',
 $$SELECT agentstore.set_app_state('demo', 'k2', '2')$$),
('agentstore.get_app_state(text,text)', 'get_app_state',
 $$SELECT agentstore.get_app_state('demo', 'k')$$),
('agentstore.list_app_state(text)', 'list_app_state',
 $$SELECT agentstore.list_app_state('demo')$$),
('agentstore.delete_app_state(text,text)', 'delete_app_state',
 $$SELECT agentstore.delete_app_state('demo', 'k')$$),
('agentstore.set_user_state(text,text,text,jsonb,interval)', 'set_user_state',
 $$SELECT agentstore.set_user_state('demo', 'u', 'k2', '2')$$),
('agentstore.get_user_state(text,text,text)', 'get_user_state',
 $$SELECT agentstore.get_user_state('demo', 'u', 'k')$$),
('agentstore.list_user_state(text,text)', 'list_user_state',
 $$SELECT agentstore.list_user_state('demo', 'u')$$),
('agentstore.delete_user_state(text,text,text)', 'delete_user_state',
 $$SELECT agentstore.delete_user_state('demo', 'u', 'k')$$),
('agentstore.put_session_summary(text,text,text,jsonb,text,bigint)', 'put_session_summary',
 $$SELECT agentstore.put_session_summary('demo', 'u', 's1', '{"t": 1}')$$),
('agentstore.get_session_summary(text,text,text,text)', 'get_session_summary',
 $$SELECT agentstore.get_session_summary('demo', 'u', 's1')$$),
('agentstore.upsert_sessions(jsonb,boolean,text)', 'upsert_sessions jsonb existing',
 $$SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s1", "user_id": "u", "name": "overwritten"}]'::jsonb, false, 'demo')$$),
('agentstore.upsert_sessions(jsonb,boolean,text)', 'upsert_sessions jsonb new',
 $$SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s-new", "user_id": "u", "name": "new"}]'::jsonb, false, 'demo')$$),
('agentstore.upsert_sessions(json,boolean,text)', 'upsert_sessions json existing',
 $$SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s1", "user_id": "u", "name": "overwritten"}]'::json, false, 'demo')$$),
('agentstore.upsert_sessions(json,boolean,text)', 'upsert_sessions json new',
 $$SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s-new", "user_id": "u", "name": "new"}]'::json, false, 'demo')$$),
('agentstore.session_import_row()', 'INSERT INTO session_import existing',
 $$INSERT INTO agentstore.session_import (app_name, session_id, user_id, name) VALUES ('demo', 's1', 'u', 'imported')$$),
('agentstore.session_import_row()', 'INSERT INTO session_import new',
 $$INSERT INTO agentstore.session_import (app_name, session_id, user_id, name) VALUES ('demo', 's-new', 'u', 'imported')$$),
('agentstore.session_import_row()', 'session_import_row on own view',
 $$CREATE TEMP VIEW own_import AS SELECT 1 AS x;
   CREATE TRIGGER r INSTEAD OF INSERT ON own_import FOR EACH ROW EXECUTE FUNCTION agentstore.session_import_row()$$),
('agentstore.session_import_flush()', 'session_import_flush on own view',
 $$CREATE TEMP VIEW own_import AS SELECT 1 AS x;
   CREATE TRIGGER f AFTER INSERT ON own_import FOR EACH STATEMENT EXECUTE FUNCTION agentstore.session_import_flush()$$),
('agentstore.session_import_begin()', 'session_import_begin on own view',
 $$CREATE TEMP VIEW own_import AS SELECT 1 AS x;
   CREATE TRIGGER b BEFORE INSERT ON own_import FOR EACH STATEMENT EXECUTE FUNCTION agentstore.session_import_begin()$$),
('agentstore.session_import_result()', 'session_import_result',
 $$SELECT * FROM agentstore.session_import_result()$$),
('agentstore.append_event(text,text,text,jsonb,jsonb,bigint,bigint)', 'append_event',
 $$SELECT * FROM agentstore.append_event('demo', 'u', 's1', '{"id": "e2"}', '{"c": 3}')$$),
('agentstore.append_event(text,text,text,jsonb,jsonb,bigint,bigint)', 'append_event replay',
 $$SELECT * FROM agentstore.append_event('demo', 'u', 's1', '{"id": "e1"}')$$),
('agentstore.append_event(text,text,text,jsonb,jsonb,bigint,bigint)', 'append_event wrong version',
 $$SELECT * FROM agentstore.append_event('demo', 'u', 's1', '{"id": "e3"}', NULL, 99)$$),
('agentstore.append_session_events(text,text,text,jsonb,jsonb,bigint,bigint)', 'append_session_events',
 $$SELECT * FROM agentstore.append_session_events('demo', 'u', 's1', '[{"id": "e2"}, {"id": "e3"}]', '{"c": 4}')$$),
('agentstore.append_track_event(text,text,text,text,jsonb,interval,bigint)', 'append_track_event',
 $$SELECT * FROM agentstore.append_track_event('demo', 'u', 's1', 'tools', '{"t": 2}')$$),
('agentstore.get_track_events(text,text,text,text,integer,timestamptz)', 'get_track_events',
 $$SELECT agentstore.get_track_events('demo', 'u', 's1', 'tools')$$),
('agentstore.trim_session_events(integer)', 'trim_session_events',
 $$SELECT agentstore.trim_session_events(10)$$),
-- streams
('agentstore.version_trigger()', 'INSERT INTO events',
 $$INSERT INTO agentstore.events (stream, type) VALUES ('order-1', 'inserted')$$),
('agentstore.stream_heads_trigger()', 'stream_heads_trigger on own table',
 $$CREATE TEMP TABLE own_deleted (stream text, version bigint);
   CREATE TRIGGER h AFTER DELETE ON own_deleted REFERENCING OLD TABLE AS deleted_events
     FOR EACH STATEMENT EXECUTE FUNCTION agentstore.stream_heads_trigger()$$),
('agentstore.version_trigger()', 'version_trigger on own table',
 $$CREATE TEMP TABLE own_events (stream text COLLATE "C" NOT NULL, version bigint,
                                 transaction_id xid8, PRIMARY KEY (stream, version));
   CREATE TRIGGER v BEFORE INSERT ON own_events FOR EACH ROW EXECUTE FUNCTION agentstore.version_trigger();
   INSERT INTO own_events (stream) VALUES ('order-1')$$),
('agentstore.no_stream()', 'no_stream', $$SELECT agentstore.no_stream()$$),
('agentstore.stream_exists()', 'stream_exists', $$SELECT agentstore.stream_exists()$$),
('agentstore.append_events(text,jsonb,bigint)', 'append_events jsonb',
 $$SELECT * FROM agentstore.append_events('order-1', '[{"event_id": "o3"}]'::jsonb)$$),
('agentstore.append_events(text,jsonb,bigint)', 'append_events jsonb replay',
 $$SELECT * FROM agentstore.append_events('order-1', '[{"event_id": "o1"}]'::jsonb)$$),
('agentstore.append_events(text,jsonb,bigint)', 'append_events jsonb [] wrong version',
 $$SELECT * FROM agentstore.append_events('order-1', '[]'::jsonb, 99)$$),
('agentstore.append_events(text,text,bigint)', 'append_events text',
 $$SELECT * FROM agentstore.append_events('order-1', '[{"event_id": "o3"}]'::text)$$),
('agentstore.append_events(text,text,bigint)', 'append_events text [] wrong version',
 $$SELECT * FROM agentstore.append_events('order-1', '[]'::text, 99)$$),
('agentstore.append_streams(jsonb)', 'append_streams',
 $$SELECT * FROM agentstore.append_streams('[{"stream": "order-1", "events": [{"event_id": "o3"}]},
                                            {"stream": "order-2", "events": [{}]}]')$$),
('agentstore.append_streams(jsonb)', 'append_streams wrong version',
 $$SELECT * FROM agentstore.append_streams('[{"stream": "order-1", "events": [], "expected_version": 99}]')$$),
('agentstore.read_stream(text,bigint,integer)', 'read_stream',
 $$SELECT * FROM agentstore.read_stream('order-1')$$),
('agentstore.read_all(bigint,integer,xid8)', 'read_all',
 $$SELECT * FROM agentstore.read_all(0)$$),
('agentstore.read_category(text,bigint,integer,integer,integer,xid8)', 'read_category',
 $$SELECT * FROM agentstore.read_category('order')$$),
('agentstore.stream_version(text)', 'stream_version',
 $$SELECT agentstore.stream_version('order-1')$$),
('agentstore.last_version_conflict()', 'last_version_conflict',
 $$SELECT * FROM agentstore.last_version_conflict()$$),
-- checkpoints
('agentstore._checkpoint_keys_ok(text,text,text,text,text,text)', '_checkpoint_keys_ok',
 $$SELECT agentstore._checkpoint_keys_ok('t', '', 'c', NULL, NULL, NULL)$$),
('agentstore._checkpoint_blob_key(text,text,text,text)', '_checkpoint_blob_key',
 $$SELECT agentstore._checkpoint_blob_key('t', '', 'ch', '1')$$),
('agentstore.put_checkpoint(text,text,jsonb,json,jsonb,jsonb,text,interval)', 'put_checkpoint',
 $$SELECT agentstore.put_checkpoint('thread-1', '',
     '{"v": 4, "id": "cp-3", "channel_values": {"step": 3}, "channel_versions": {"step": 3, "msgs": 1}, "versions_seen": {}}',
     '{"step": 3}', '{"step": 3}', NULL, 'cp-2')$$),
('agentstore.put_writes(text,text,text,text,jsonb,text)', 'put_writes',
 $$SELECT agentstore.put_writes('thread-1', '', 'cp-2', 'task-2', '[["msgs", "ho"]]')$$),
('agentstore.get_checkpoint(text,text,text)', 'get_checkpoint',
 $$SELECT * FROM agentstore.get_checkpoint('thread-1')$$),
('agentstore.list_checkpoints(text,text,jsonb,text,integer,text)', 'list_checkpoints',
 $$SELECT * FROM agentstore.list_checkpoints('thread-1')$$),
('agentstore.delta_channel_history(text,text,text,text[])', 'delta_channel_history',
 $$SELECT agentstore.delta_channel_history('thread-1', '', 'cp-2', '{msgs,step}')$$),
('agentstore._checkpoint_lock_thread(text,boolean)', '_checkpoint_lock_thread',
 $$SELECT agentstore._checkpoint_lock_thread('thread-1', true)$$),
('agentstore._checkpoint_require(anyelement,text)', '_checkpoint_require',
 $$SELECT agentstore._checkpoint_require(1, 'x')$$),
('agentstore._checkpoint_remove_thread(text)', '_checkpoint_remove_thread',
 $$SELECT agentstore._checkpoint_remove_thread('thread-1')$$),
('agentstore.delete_thread(text)', 'delete_thread',
 $$SELECT agentstore.delete_thread('thread-1')$$),
('agentstore.delete_checkpoint(text,text,text)', 'delete_checkpoint',
 $$SELECT agentstore.delete_checkpoint('cp-1', 'thread-1')$$),
('agentstore.delete_runs(text[])', 'delete_runs',
 $$SELECT agentstore.delete_runs(ARRAY['run-1'])$$),
('agentstore._checkpoint_remove_unreferenced_blobs(text)', '_checkpoint_remove_unreferenced',
 $$SELECT agentstore._checkpoint_remove_unreferenced_blobs('thread-1')$$),
('agentstore._checkpoint_expires_at(interval)', '_checkpoint_expires_at',
 $$SELECT agentstore._checkpoint_expires_at('1 day')$$),
('agentstore.copy_thread(text,text,interval)', 'copy_thread',
 $$SELECT agentstore.copy_thread('thread-1', 'thread-2')$$),
('agentstore.prune_checkpoints(text,integer)', 'prune_checkpoints',
 $$SELECT * FROM agentstore.prune_checkpoints('thread-1', 1)$$),
('agentstore.expire_checkpoint_threads(integer)', 'expire_checkpoint_threads',
 $$SELECT agentstore.expire_checkpoint_threads(10)$$),
-- TTL
('agentstore.expire_now()', 'expire_now', $$SELECT * FROM agentstore.expire_now()$$),
('agentstore.ttl_explain()', 'ttl_explain', $$SELECT * FROM agentstore.ttl_explain()$$),
(NULL, 'SELECT FROM ttl_status', $$SELECT * FROM agentstore.ttl_status$$),
(NULL, 'SELECT FROM ttl_runs', $$SELECT * FROM agentstore.ttl_runs$$),
(NULL, 'INSERT INTO ttl_runs',
 $$INSERT INTO agentstore.ttl_runs (origin, started_at) VALUES ('worker', now())$$),
(NULL, 'DELETE FROM ttl_runs', $$DELETE FROM agentstore.ttl_runs$$);

SELECT label,
       pg_temp.try_call(NULL, call) AS owner,
       pg_temp.try_call('regress_writer', call) AS writer,
       pg_temp.try_call('regress_writer_col', call) AS writer_col,
       pg_temp.try_call('regress_reader', call) AS reader,
       pg_temp.try_call('regress_usage', call) AS usage,
       pg_temp.try_call('regress_nobody', call) AS nobody
  FROM calls ORDER BY n;

-- Every function of the schema is in the matrix.
SELECT p.oid::regprocedure AS "function missing from the matrix"
  FROM pg_proc p
 WHERE p.pronamespace = 'agentstore'::regnamespace
   AND p.oid NOT IN (SELECT fn FROM calls WHERE fn IS NOT NULL)
 ORDER BY 1;

-- A writer without SELECT on agentstore.events may insert events (a plain
-- INSERT without RETURNING), but learns nothing about a stream: every
-- function that returns or compares a version or position needs SELECT, as
-- INSERT ... RETURNING would.
CREATE ROLE regress_writer_nosel;
GRANT USAGE ON SCHEMA agentstore TO regress_writer_nosel;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    agentstore.sessions, agentstore.app_states, agentstore.user_states,
    agentstore.session_summaries, agentstore.events
    TO regress_writer_nosel;
GRANT USAGE ON SEQUENCE
    agentstore.sessions_id_seq, agentstore.app_states_id_seq,
    agentstore.user_states_id_seq, agentstore.events_position_seq
    TO regress_writer_nosel;
REVOKE SELECT ON agentstore.events FROM regress_writer_nosel;
SELECT label, pg_temp.try_call('regress_writer_nosel', call) AS writer_nosel
  FROM calls
 WHERE label ~ '^(append_|INSERT INTO events|stream_version|get_session$|read_)'
 ORDER BY n;
DROP OWNED BY regress_writer_nosel;
DROP ROLE regress_writer_nosel;

-- A role with SELECT on the ttl_status view alone reads nothing through it:
-- the view runs with the caller's rights (security_invoker).
CREATE ROLE regress_monitor;
GRANT USAGE ON SCHEMA agentstore TO regress_monitor;
GRANT SELECT ON agentstore.ttl_status TO regress_monitor;
SELECT pg_temp.try_call('regress_monitor', 'SELECT * FROM agentstore.ttl_status') AS "ttl_status without table privileges";
DROP OWNED BY regress_monitor;
DROP ROLE regress_monitor;

-- COPY into the view session_import and into events, as each role, with
-- psql's \copy from files in test/data, read relative to the directory
-- pg_regress runs in (a COPY refused before it starts must not leave its
-- data to be read as SQL).  Each role's COPY runs in a transaction rolled back
-- afterwards; a refused COPY must leave nothing behind.
\set ON_ERROR_ROLLBACK on

BEGIN;
SET LOCAL ROLE regress_writer;
\copy agentstore.session_import (app_name, session_id, user_id, name) FROM 'test/data/security_session_existing.csv' WITH (FORMAT csv)
\copy agentstore.session_import (app_name, session_id, user_id, name) FROM 'test/data/security_session_new.csv' WITH (FORMAT csv)
\copy agentstore.events (stream, type) FROM 'test/data/security_events.csv' WITH (FORMAT csv)
RESET ROLE;
SELECT session_id, name FROM agentstore.sessions WHERE app_name = 'demo' ORDER BY 1;
SELECT version, type FROM agentstore.events WHERE stream = 'order-1' ORDER BY 1;
ROLLBACK;

BEGIN;
SELECT pg_temp.agentstore_checksum() AS before \gset
SET LOCAL ROLE regress_writer_col;
\copy agentstore.session_import (app_name, session_id, user_id, name) FROM 'test/data/security_session_existing.csv' WITH (FORMAT csv)
\copy agentstore.session_import (app_name, session_id, user_id, name) FROM 'test/data/security_session_new.csv' WITH (FORMAT csv)
RESET ROLE;
SELECT pg_temp.agentstore_checksum() = :'before' AS "writer_col: nothing changed";
SET LOCAL ROLE regress_writer_col;
\copy agentstore.events (stream, type) FROM 'test/data/security_events.csv' WITH (FORMAT csv)
ROLLBACK;

BEGIN;
SELECT pg_temp.agentstore_checksum() AS before \gset
SET LOCAL ROLE regress_reader;
\copy agentstore.session_import (app_name, session_id, user_id, name) FROM 'test/data/security_session_existing.csv' WITH (FORMAT csv)
\copy agentstore.events (stream, type) FROM 'test/data/security_events.csv' WITH (FORMAT csv)
RESET ROLE;
SELECT pg_temp.agentstore_checksum() = :'before' AS "reader: nothing changed";
ROLLBACK;

BEGIN;
SELECT pg_temp.agentstore_checksum() AS before \gset
SET LOCAL ROLE regress_usage;
\copy agentstore.session_import (app_name, session_id, user_id, name) FROM 'test/data/security_session_existing.csv' WITH (FORMAT csv)
\copy agentstore.events (stream, type) FROM 'test/data/security_events.csv' WITH (FORMAT csv)
RESET ROLE;
SELECT pg_temp.agentstore_checksum() = :'before' AS "usage: nothing changed";
ROLLBACK;

BEGIN;
SELECT pg_temp.agentstore_checksum() AS before \gset
SET LOCAL ROLE regress_nobody;
\copy agentstore.session_import (app_name, session_id, user_id, name) FROM 'test/data/security_session_existing.csv' WITH (FORMAT csv)
\copy agentstore.events (stream, type) FROM 'test/data/security_events.csv' WITH (FORMAT csv)
RESET ROLE;
SELECT pg_temp.agentstore_checksum() = :'before' AS "nobody: nothing changed";
ROLLBACK;
\set ON_ERROR_ROLLBACK off

-- Leave nothing behind for the tests that follow.
DELETE FROM agentstore.events e USING agentstore.sessions s
 WHERE s.app_name = 'demo' AND (e.stream = 'session-' || s.id OR e.stream LIKE 'track-' || s.id || '-%');
DELETE FROM agentstore.events WHERE stream = 'order-1';
-- the high-water marks of the streams deleted here, as the sequences are restored
DELETE FROM agentstore.stream_heads WHERE stream = 'order-1' OR stream ~ '^(session|track)-';
DELETE FROM agentstore.sessions WHERE app_name = 'demo';
DELETE FROM agentstore.app_states WHERE app_name = 'demo';
DELETE FROM agentstore.user_states WHERE app_name = 'demo';
DELETE FROM agentstore.session_summaries WHERE app_name = 'demo';
SELECT agentstore.delete_thread('thread-1');
SELECT count(*) AS sequences_restored
  FROM (SELECT CASE WHEN last_value IS NULL THEN setval(seq, 1, false) ELSE setval(seq, last_value) END
          FROM sequences_before) s;

DROP OWNED BY regress_usage, regress_reader, regress_writer, regress_writer_col;
DROP ROLE regress_nobody, regress_usage, regress_reader, regress_writer, regress_writer_col;

-- Tenant isolation under row-level security (docs/security.md, "Row-level
-- security").  A tenant policy on every agentstore table that holds tenant
-- data: a tenant role owns the sessions, state and summaries of the app
-- named after it, the streams of the category named after it (and the
-- session and track streams of its sessions), and the checkpoint threads
-- whose id starts with its name and a '-'.  Two tenants, regress_ta and
-- regress_tb, have the documented writer grants.
--
-- regress_ta calls every function on regress_tb's keys ("tb: ...") and on
-- its own ("own: ..."): each call must honour the policy -- behave as if
-- the other tenant's rows did not exist -- or refuse with 42501 or a
-- documented 0A000, and must never return, reveal (a version, a position,
-- existence in an error's DETAIL) or write the other tenant's rows.  Each
-- line shows what is allowed and "ok", or what happened instead; a call
-- that changed any of regress_tb's rows says so.  Each call runs in a
-- subtransaction rolled back afterwards, so every call sees the same rows.
SET client_min_messages = warning;

-- The sequences' positions, restored at the end so that the tests that
-- follow see the values they would see without this one.
CREATE TEMP TABLE sequences_before AS
SELECT format('%I.%I', schemaname, sequencename) AS seq, last_value
  FROM pg_sequences WHERE schemaname = 'agentstore';

CREATE ROLE regress_ta;
CREATE ROLE regress_tb;
GRANT USAGE ON SCHEMA agentstore TO regress_ta, regress_tb;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    agentstore.sessions, agentstore.app_states, agentstore.user_states,
    agentstore.session_summaries, agentstore.events,
    agentstore.checkpoint_threads, agentstore.checkpoints,
    agentstore.checkpoint_blobs, agentstore.checkpoint_writes
    TO regress_ta, regress_tb;
GRANT INSERT ON agentstore.session_import TO regress_ta, regress_tb;
GRANT USAGE ON SEQUENCE
    agentstore.sessions_id_seq, agentstore.app_states_id_seq,
    agentstore.user_states_id_seq, agentstore.events_position_seq
    TO regress_ta, regress_tb;
GRANT EXECUTE ON FUNCTION agentstore._checkpoint_lock_thread(text, boolean) TO regress_ta, regress_tb;
-- and the monitoring view (with what it reads)
GRANT SELECT ON agentstore.ttl_status, agentstore.ttl_runs TO regress_ta, regress_tb;

-- The tenant policies.
ALTER TABLE agentstore.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.app_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.user_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.session_summaries ENABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.checkpoint_threads ENABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.checkpoint_blobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.checkpoint_writes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON agentstore.sessions USING (app_name = current_user);
CREATE POLICY tenant ON agentstore.app_states USING (app_name = current_user);
CREATE POLICY tenant ON agentstore.user_states USING (app_name = current_user);
CREATE POLICY tenant ON agentstore.session_summaries USING (app_name = current_user);
CREATE POLICY tenant ON agentstore.events USING (
    split_part(stream, '-', 1) = current_user
    OR (split_part(stream, '-', 1) IN ('session', 'track')
        AND EXISTS (SELECT FROM agentstore.sessions s
                     WHERE s.id::text = split_part(stream, '-', 2))));
CREATE POLICY tenant ON agentstore.checkpoint_threads USING (split_part(thread_id, '-', 1) = current_user);
CREATE POLICY tenant ON agentstore.checkpoints USING (split_part(thread_id, '-', 1) = current_user);
CREATE POLICY tenant ON agentstore.checkpoint_blobs USING (split_part(thread_id, '-', 1) = current_user);
CREATE POLICY tenant ON agentstore.checkpoint_writes USING (split_part(thread_id, '-', 1) = current_user);

-- Both tenants' rows, written by the owner (who is not subject to RLS).
-- regress_tb has more of everything, so that its versions differ.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['regress_ta', 'regress_tb'] LOOP
        PERFORM agentstore.create_session(t, 'u', 's1', jsonb_build_object('secret', t));
        PERFORM agentstore.append_event(t, 'u', 's1', '{"id": "e1"}');
        PERFORM agentstore.set_app_state(t, 'k', to_jsonb(t));
        PERFORM agentstore.set_user_state(t, 'u', 'k', to_jsonb(t));
        PERFORM agentstore.put_session_summary(t, 'u', 's1', jsonb_build_object('t', t));
        PERFORM agentstore.append_track_event(t, 'u', 's1', 'tools', '{}');
        PERFORM agentstore.append_events(t || '-orders', '[{"event_id": "o1"}]'::jsonb);
        PERFORM agentstore.put_checkpoint(t || '-t1', '',
            '{"v": 4, "id": "c1", "channel_values": {"step": 1}, "channel_versions": {"step": 1, "m": 1}, "versions_seen": {}}',
            '{"source": "input", "run_id": "run-1"}', '{"step": 1, "m": 1}', '{"m": ["bytes", "AAEC"]}');
        PERFORM agentstore.put_checkpoint(t || '-t1', '',
            '{"v": 4, "id": "c2", "channel_values": {"step": 2}, "channel_versions": {"step": 2, "m": 1}, "versions_seen": {}}',
            '{"source": "loop"}', '{"step": 2}', NULL, 'c1');
        PERFORM agentstore.put_writes(t || '-t1', '', 'c2', 'task-1', '[["m", "hi"]]');
    END LOOP;
    PERFORM agentstore.append_events('regress_tb-orders', '[{"event_id": "o2"}, {"event_id": "o3"}]'::jsonb);
    PERFORM agentstore.append_event('regress_tb', 'u', 's1', '{"id": "e2"}');
    -- regress_tb has an expired session and an expired checkpoint thread.
    PERFORM agentstore.create_session('regress_tb', 'u', 'old');
    UPDATE agentstore.sessions SET expires_at = '2001-01-01 00:00:00+00'
     WHERE app_name = 'regress_tb' AND session_id = 'old';
    PERFORM agentstore.put_checkpoint('regress_tb-old', '',
        '{"v": 4, "id": "c1", "channel_values": {}, "channel_versions": {}, "versions_seen": {}}',
        '{}', '{}');
    UPDATE agentstore.checkpoint_threads SET expires_at = '2001-01-01 00:00:00+00'
     WHERE thread_id = 'regress_tb-old';
END
$$;

-- A checksum of regress_tb's rows.
CREATE FUNCTION pg_temp.tb_checksum() RETURNS text
LANGUAGE sql AS $$
    SELECT md5(concat_ws('|',
        (SELECT string_agg(s::text, ',' ORDER BY s.id) FROM agentstore.sessions s WHERE app_name = 'regress_tb'),
        (SELECT string_agg(a::text, ',' ORDER BY a.id) FROM agentstore.app_states a WHERE app_name = 'regress_tb'),
        (SELECT string_agg(u::text, ',' ORDER BY u.id) FROM agentstore.user_states u WHERE app_name = 'regress_tb'),
        (SELECT string_agg(m::text, ',' ORDER BY m.session_ref, m.filter_key) FROM agentstore.session_summaries m WHERE app_name = 'regress_tb'),
        (SELECT string_agg(e::text, ',' ORDER BY e.stream, e.version) FROM agentstore.events e
          WHERE e.stream LIKE 'regress\_tb-%'
             OR e.stream IN (SELECT 'session-' || s.id FROM agentstore.sessions s WHERE app_name = 'regress_tb')
             OR e.stream LIKE ANY (SELECT 'track-' || s.id || '-%' FROM agentstore.sessions s WHERE app_name = 'regress_tb')),
        (SELECT string_agg(t::text, ',' ORDER BY t.thread_id) FROM agentstore.checkpoint_threads t WHERE thread_id LIKE 'regress\_tb-%'),
        (SELECT string_agg(c::text, ',' ORDER BY c.thread_id, c.checkpoint_id) FROM agentstore.checkpoints c WHERE thread_id LIKE 'regress\_tb-%'),
        (SELECT string_agg(b::text, ',' ORDER BY b.thread_id, b.channel, b.version) FROM agentstore.checkpoint_blobs b WHERE thread_id LIKE 'regress\_tb-%'),
        (SELECT string_agg(w::text, ',' ORDER BY w.thread_id, w.checkpoint_id, w.task_id, w.idx) FROM agentstore.checkpoint_writes w WHERE thread_id LIKE 'regress\_tb-%')));
$$;

-- Run a call (a query returning at most one value) as regress_ta in a
-- subtransaction rolled back afterwards.  The outcome is "ok:<value>" or
-- "<SQLSTATE>:<DETAIL>"; " (wrote regress_tb's rows)" is appended when the
-- call changed any of them.
CREATE FUNCTION pg_temp.as_ta(call text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    before text := pg_temp.tb_checksum();
    outcome text;
    result text;
    detail text;
BEGIN
    BEGIN
        SET LOCAL ROLE regress_ta;
        EXECUTE call INTO result;
        RESET ROLE;
        outcome := 'ok:' || coalesce(result, '');
        IF pg_temp.tb_checksum() <> before THEN
            outcome := outcome || ' (wrote regress_tb''s rows)';
        END IF;
        RAISE SQLSTATE 'ZZ999';
    EXCEPTION
        WHEN SQLSTATE 'ZZ999' THEN
            NULL;
        WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
            outcome := SQLSTATE || ':' || coalesce(detail, '');
    END;
    RETURN outcome;
END
$$;

-- label, the call, what is allowed (a regular expression over the outcome)
-- and how the expected output says it.
CREATE TEMP TABLE calls (n serial, label text, call text, allowed text, expected text);
INSERT INTO calls (label, call, allowed, expected) VALUES
-- Sessions of the other tenant: invisible, and not writable.
('tb: create_session existing', $$SELECT (agentstore.create_session('regress_tb', 'u', 's1')).created$$,
 '^(42501|0A000):', '42501 or 0A000 (not 23505)'),
('tb: create_session new', $$SELECT (agentstore.create_session('regress_tb', 'u', 'new')).created$$,
 '^(42501|0A000):', '42501 or 0A000'),
('tb: get_or_create_session', $$SELECT (agentstore.get_or_create_session('regress_tb', 'u', 's1')).state$$,
 '^(42501|0A000):', '42501 or 0A000'),
('tb: get_session', $$SELECT agentstore.get_session('regress_tb', 'u', 's1')$$,
 '^(ok:|0A000:.*)$', 'NULL or 0A000'),
('tb: list_sessions', $$SELECT agentstore.list_sessions('regress_tb') -> 'sessions'$$,
 '^(ok:\[\]|0A000:.*)$', '[] or 0A000'),
('tb: delete_session', $$SELECT agentstore.delete_session('regress_tb', 'u', 's1')$$,
 '^(ok:false|0A000:.*)$', 'false or 0A000'),
('tb: delete_session hard', $$SELECT agentstore.delete_session('regress_tb', 'u', 's1', true)$$,
 '^(ok:false|0A000:.*)$', 'false or 0A000'),
('tb: update_session_state', $$SELECT agentstore.update_session_state('regress_tb', 'u', 's1', '{"x": 1}')$$,
 '^(P0002|0A000):', 'P0002 or 0A000'),
('tb: set_app_state', $$SELECT agentstore.set_app_state('regress_tb', 'k', '"ta"')$$,
 '^(42501|0A000):', '42501 or 0A000'),
('tb: set_app_state new key', $$SELECT agentstore.set_app_state('regress_tb', 'k2', '"ta"')$$,
 '^(42501|0A000):', '42501 or 0A000'),
('tb: get_app_state', $$SELECT agentstore.get_app_state('regress_tb', 'k')$$,
 '^(ok:|0A000:.*)$', 'NULL or 0A000'),
('tb: list_app_state', $$SELECT agentstore.list_app_state('regress_tb')$$,
 '^(ok:\{\}|0A000:.*)$', '{} or 0A000'),
('tb: delete_app_state', $$SELECT agentstore.delete_app_state('regress_tb', 'k')$$,
 '^(ok:false|0A000:.*)$', 'false or 0A000'),
('tb: set_user_state', $$SELECT agentstore.set_user_state('regress_tb', 'u', 'k', '"ta"')$$,
 '^(42501|0A000):', '42501 or 0A000'),
('tb: get_user_state', $$SELECT agentstore.get_user_state('regress_tb', 'u', 'k')$$,
 '^(ok:|0A000:.*)$', 'NULL or 0A000'),
('tb: list_user_state', $$SELECT agentstore.list_user_state('regress_tb', 'u')$$,
 '^(ok:\{\}|0A000:.*)$', '{} or 0A000'),
('tb: delete_user_state', $$SELECT agentstore.delete_user_state('regress_tb', 'u', 'k')$$,
 '^(ok:false|0A000:.*)$', 'false or 0A000'),
('tb: put_session_summary', $$SELECT agentstore.put_session_summary('regress_tb', 'u', 's1', '{"t": "ta"}')$$,
 '^(P0002|42501|0A000):', 'P0002, 42501 or 0A000'),
('tb: get_session_summary', $$SELECT agentstore.get_session_summary('regress_tb', 'u', 's1')$$,
 '^(ok:|0A000:.*)$', 'NULL or 0A000'),
('tb: upsert_sessions', $$SELECT agentstore.upsert_sessions('[{"session_id": "s1", "user_id": "u", "name": "ta"}]'::jsonb, false, 'regress_tb')$$,
 '^(42501|0A000):', '42501 or 0A000'),
('tb: upsert_sessions json', $$SELECT agentstore.upsert_sessions('[{"session_id": "s1", "user_id": "u", "name": "ta"}]'::json, false, 'regress_tb')$$,
 '^(42501|0A000):', '42501 or 0A000'),
('tb: INSERT INTO session_import', $$INSERT INTO agentstore.session_import (app_name, session_id, user_id, name) VALUES ('regress_tb', 's1', 'u', 'ta')$$,
 '^(42501|0A000):', '42501 or 0A000'),
('tb: append_event', $$SELECT version FROM agentstore.append_event('regress_tb', 'u', 's1', '{"id": "x1"}')$$,
 '^(P0002|0A000):', 'P0002 or 0A000'),
('tb: append_event replay', $$SELECT version FROM agentstore.append_event('regress_tb', 'u', 's1', '{"id": "e1"}')$$,
 '^(P0002|0A000):', 'P0002 or 0A000'),
('tb: append_session_events', $$SELECT last_version FROM agentstore.append_session_events('regress_tb', 'u', 's1', '[{"id": "x1"}]')$$,
 '^(P0002|0A000):', 'P0002 or 0A000'),
('tb: append_track_event', $$SELECT version FROM agentstore.append_track_event('regress_tb', 'u', 's1', 'tools', '{}')$$,
 '^(P0002|0A000):', 'P0002 or 0A000'),
('tb: get_track_events', $$SELECT agentstore.get_track_events('regress_tb', 'u', 's1', 'tools')$$,
 '^(ok:|0A000:.*)$', 'NULL or 0A000'),
('tb: trim_session_events', $$SELECT agentstore.trim_session_events(10)$$,
 '^(ok:[0-9]+|0A000:.*)$', 'a count or 0A000'),
-- The other tenant's stream: as if it had no event.
('tb: append_events', $$SELECT last_version FROM agentstore.append_events('regress_tb-orders', '[{"event_id": "x1"}]'::jsonb)$$,
 '^(42501|0A000):', '42501 or 0A000'),
('tb: append_events replay', $$SELECT last_version FROM agentstore.append_events('regress_tb-orders', '[{"event_id": "o1"}]'::jsonb)$$,
 '^(42501|0A000):', '42501 or 0A000 (not its version)'),
('tb: append_events text replay', $$SELECT last_version FROM agentstore.append_events('regress_tb-orders', '[{"event_id": "o3"}]'::text)$$,
 '^(42501|0A000):', '42501 or 0A000 (not its version)'),
('tb: append_events [] expecting 0', $$SELECT last_version FROM agentstore.append_events('regress_tb-orders', '[]'::jsonb, 0)$$,
 '^(ok:0|42501:.*|0A000:.*)$', '0, 42501 or 0A000'),
('tb: append_events [] expecting 3', $$SELECT last_version FROM agentstore.append_events('regress_tb-orders', '[]'::jsonb, 3)$$,
 '^(42501:.*|0A000:.*|SV001:(?!.*version [1-9]).*)$', 'SV001 at version 0, 42501 or 0A000'),
('tb: append_events [] stream_exists', $$SELECT last_version FROM agentstore.append_events('regress_tb-orders', '[]'::jsonb, agentstore.stream_exists())$$,
 '^(42501:.*|0A000:.*|SV001:(?!.*version [1-9]).*)$', 'SV001 at version 0, 42501 or 0A000'),
('tb: append_events no_stream', $$SELECT last_version FROM agentstore.append_events('regress_tb-orders', '[{"event_id": "x1"}]'::jsonb, agentstore.no_stream())$$,
 '^(42501|0A000):', '42501 or 0A000'),
('tb: append_streams', $$SELECT string_agg(last_version::text, ',') FROM agentstore.append_streams('[{"stream": "regress_tb-orders", "events": [{"event_id": "x1"}]}]')$$,
 '^(42501|0A000):', '42501 or 0A000'),
('tb: append_streams replay', $$SELECT string_agg(last_version::text, ',') FROM agentstore.append_streams('[{"stream": "regress_tb-orders", "events": [{"event_id": "o1"}]}]')$$,
 '^(42501|0A000):', '42501 or 0A000 (not its version)'),
('tb: append_streams [] expecting 3', $$SELECT string_agg(last_version::text, ',') FROM agentstore.append_streams('[{"stream": "regress_tb-orders", "events": [], "expected_version": 3}]')$$,
 '^(42501:.*|0A000:.*|SV001:(?!.*version [1-9]).*)$', 'SV001 at version 0, 42501 or 0A000'),
('tb: INSERT INTO events', $$INSERT INTO agentstore.events (stream, type) VALUES ('regress_tb-orders', 'ta')$$,
 '^42501:', '42501'),
('tb: read_stream', $$SELECT count(*) FROM agentstore.read_stream('regress_tb-orders')$$,
 '^(ok:0|0A000:.*)$', '0 events or 0A000'),
('tb: stream_version', $$SELECT agentstore.stream_version('regress_tb-orders')$$,
 '^(ok:0|0A000:.*)$', '0 or 0A000'),
('read_all: rows the caller cannot see',
 $$SELECT count(*) FROM agentstore.read_all(0, 10000) r
    WHERE NOT EXISTS (SELECT FROM agentstore.events e WHERE e.stream = r.stream AND e.version = r.version)$$,
 '^(ok:0|0A000:.*)$', '0 or 0A000'),
('tb: read_category',
 $$SELECT count(*) FROM agentstore.read_category('regress_tb')$$,
 '^(ok:0|0A000:.*)$', '0 or 0A000'),
('read_category session: rows the caller cannot see',
 $$SELECT count(*) FROM agentstore.read_category('session', 0, 10000) r
    WHERE NOT EXISTS (SELECT FROM agentstore.events e WHERE e.stream = r.stream AND e.version = r.version)$$,
 '^(ok:0|0A000:.*)$', '0 or 0A000'),
-- The other tenant's checkpoint threads.
('tb: put_checkpoint with parent', $$SELECT agentstore.put_checkpoint('regress_tb-t1', '',
     '{"v": 4, "id": "c3", "channel_values": {}, "channel_versions": {}, "versions_seen": {}}', '{}', '{}', NULL, 'c2')$$,
 '^(42501|0A000|23503):', '42501, 0A000 or 23503'),
('tb: put_checkpoint', $$SELECT agentstore.put_checkpoint('regress_tb-t1', '',
     '{"v": 4, "id": "c3", "channel_values": {}, "channel_versions": {}, "versions_seen": {}}', '{}', '{}')$$,
 '^(42501|0A000):', '42501 or 0A000'),
('tb: put_writes', $$SELECT agentstore.put_writes('regress_tb-t1', '', 'c2', 'task-2', '[["m", "ta"]]')$$,
 '^(42501|0A000|23503):', '42501, 0A000 or 23503'),
('tb: get_checkpoint', $$SELECT count(*) FROM agentstore.get_checkpoint('regress_tb-t1')$$,
 '^(ok:0|0A000:.*)$', 'nothing or 0A000'),
('tb: list_checkpoints', $$SELECT count(*) FROM agentstore.list_checkpoints('regress_tb-t1')$$,
 '^(ok:0|0A000:.*)$', 'nothing or 0A000'),
('tb: delta_channel_history', $$SELECT (h -> 'm' -> 'writes')::text || coalesce((h -> 'm' -> 'seed')::text, '-')
     FROM agentstore.delta_channel_history('regress_tb-t1', '', 'c2', '{m}') AS h$$,
 '^(ok:\[\]-|0A000:.*)$', 'no writes, no seed, or 0A000'),
('list_checkpoints: rows the caller cannot see',
 $$SELECT count(*) FROM agentstore.list_checkpoints() c
    WHERE NOT EXISTS (SELECT FROM agentstore.checkpoints x WHERE x.thread_id = c.thread_id)$$,
 '^(ok:0|0A000:.*)$', '0 or 0A000'),
('tb: delete_thread', $$SELECT agentstore.delete_thread('regress_tb-t1')$$,
 '^(ok:0|42501:.*|0A000:.*)$', '0, 42501 or 0A000'),
('tb: delete_checkpoint', $$SELECT agentstore.delete_checkpoint('c1', 'regress_tb-t1')$$,
 '^(ok:0|42501:.*|0A000:.*)$', '0, 42501 or 0A000'),
('delete_checkpoint in every thread', $$SELECT agentstore.delete_checkpoint('c1')$$,
 '^(ok:1|0A000:.*)$', '1 (its own) or 0A000'),
('delete_runs of a run id both tenants use', $$SELECT agentstore.delete_runs(ARRAY['run-1'])$$,
 '^(ok:1|0A000:.*)$', '1 (its own) or 0A000'),
('tb: copy_thread from', $$SELECT agentstore.copy_thread('regress_tb-t1', 'regress_ta-copy')$$,
 '^(P0002|42501|0A000):', 'P0002, 42501 or 0A000'),
('tb: copy_thread onto', $$SELECT agentstore.copy_thread('regress_ta-t1', 'regress_tb-t1')$$,
 '^(42501|0A000):', '42501 or 0A000 (not 23505)'),
('tb: prune_checkpoints', $$SELECT agentstore.prune_checkpoints('regress_tb-t1', 1)$$,
 '^(ok:\(0,0,0\)|42501:.*|0A000:.*)$', '(0,0,0), 42501 or 0A000'),
('tb: _checkpoint_remove_unreferenced_blobs', $$SELECT agentstore._checkpoint_remove_unreferenced_blobs('regress_tb-t1')$$,
 '^(ok:0|42501:.*|0A000:.*)$', '0, 42501 or 0A000'),
('tb: _checkpoint_remove_thread', $$SELECT agentstore._checkpoint_remove_thread('regress_tb-t1')$$,
 '^(ok:0|42501:.*|0A000:.*)$', '0, 42501 or 0A000'),
('expire_checkpoint_threads', $$SELECT agentstore.expire_checkpoint_threads(10)$$,
 '^(ok:0|0A000:.*)$', '0 or 0A000'),
-- Expiry and its view.
('expire_now', $$SELECT count(*) FROM agentstore.expire_now()$$, '^42501:', '42501'),
('ttl_explain', $$SELECT count(*) FROM agentstore.ttl_explain()$$, '^42501:', '42501'),
('ttl_status: overdue_since', $$SELECT coalesce(overdue_since::text, 'none') FROM agentstore.ttl_status$$,
 '^(ok:none|42501:.*)$', 'none or 42501'),
-- The caller's own rows: the policy lets everything through.
('own: create_session', $$SELECT (agentstore.create_session('regress_ta', 'u', 's2')).created$$,
 '^ok:true$', 'true'),
('own: get_or_create_session', $$SELECT (agentstore.get_or_create_session('regress_ta', 'u', 's1')).created$$,
 '^ok:false$', 'false'),
('own: get_session', $$SELECT g -> 'state' ->> 'secret' || ' ' || (g ->> 'version') FROM agentstore.get_session('regress_ta', 'u', 's1') g$$,
 '^ok:regress_ta 1$', 'regress_ta 1'),
('own: list_sessions', $$SELECT jsonb_array_length(agentstore.list_sessions('regress_ta') -> 'sessions')$$,
 '^ok:1$', '1'),
('own: update_session_state', $$SELECT agentstore.update_session_state('regress_ta', 'u', 's1', '{"x": 1}') ->> 'secret'$$,
 '^ok:regress_ta$', 'regress_ta'),
('own: get_app_state', $$SELECT agentstore.get_app_state('regress_ta', 'k')$$,
 '^ok:"regress_ta"$', '"regress_ta"'),
('own: set_app_state', $$SELECT agentstore.set_app_state('regress_ta', 'k', '1')$$, '^ok:$', 'done'),
('own: delete_user_state', $$SELECT agentstore.delete_user_state('regress_ta', 'u', 'k')$$, '^ok:true$', 'true'),
('own: get_session_summary', $$SELECT agentstore.get_session_summary('regress_ta', 'u', 's1')$$,
 '^ok:\{"t": "regress_ta"\}$', '{"t": "regress_ta"}'),
('own: upsert_sessions', $$SELECT agentstore.upsert_sessions('[{"session_id": "s1", "user_id": "u", "name": "n"}]'::jsonb, false, 'regress_ta')$$,
 '^(ok:\(0,1\)|0A000:.*)$', '(0,1) or 0A000 (documented)'),
('own: append_event', $$SELECT version FROM agentstore.append_event('regress_ta', 'u', 's1', '{"id": "e2"}')$$,
 '^ok:2$', '2'),
('own: append_event replay', $$SELECT version FROM agentstore.append_event('regress_ta', 'u', 's1', '{"id": "e1"}')$$,
 '^ok:1$', '1'),
('own: append_session_events', $$SELECT last_version FROM agentstore.append_session_events('regress_ta', 'u', 's1', '[{"id": "e2"}, {"id": "e3"}]')$$,
 '^ok:3$', '3'),
('own: append_track_event', $$SELECT version FROM agentstore.append_track_event('regress_ta', 'u', 's1', 'tools', '{}')$$,
 '^ok:2$', '2'),
('own: append_events', $$SELECT last_version FROM agentstore.append_events('regress_ta-orders', '[{"event_id": "o2"}]'::jsonb, 1)$$,
 '^(ok:2|0A000:.*)$', '2 or 0A000 (documented)'),
('own: append_events replay', $$SELECT last_version FROM agentstore.append_events('regress_ta-orders', '[{"event_id": "o1"}]'::jsonb)$$,
 '^(ok:1|0A000:.*)$', '1 or 0A000 (documented)'),
('own: append_streams', $$SELECT string_agg(last_version::text, ',') FROM agentstore.append_streams('[{"stream": "regress_ta-orders", "events": [{}], "expected_version": 1}]')$$,
 '^(ok:2|0A000:.*)$', '2 or 0A000 (documented)'),
('own: read_stream', $$SELECT count(*) FROM agentstore.read_stream('regress_ta-orders')$$, '^ok:1$', '1'),
('own: stream_version', $$SELECT agentstore.stream_version('regress_ta-orders')$$, '^ok:1$', '1'),
('own: put_checkpoint', $$SELECT agentstore.put_checkpoint('regress_ta-t1', '',
     '{"v": 4, "id": "c3", "channel_values": {}, "channel_versions": {}, "versions_seen": {}}', '{}', '{}', NULL, 'c2')$$,
 '^(ok:c3|0A000:.*)$', 'c3 or 0A000 (documented)'),
('own: put_writes', $$SELECT agentstore.put_writes('regress_ta-t1', '', 'c2', 'task-2', '[["m", "ta"]]')$$,
 '^(ok:1|0A000:.*)$', '1 or 0A000 (documented)'),
('own: get_checkpoint', $$SELECT checkpoint_id FROM agentstore.get_checkpoint('regress_ta-t1')$$,
 '^(ok:c2|0A000:.*)$', 'c2 or 0A000 (documented)'),
('own: delta_channel_history', $$SELECT agentstore.delta_channel_history('regress_ta-t1', '', 'c2', '{m}') -> 'm' -> 'seed'$$,
 '^(ok:\["bytes","AAEC"\]|0A000:.*)$', 'its seed or 0A000 (documented)'),
('own: delete_thread', $$SELECT agentstore.delete_thread('regress_ta-t1')$$, '^ok:2$', '2'),
('own: copy_thread', $$SELECT agentstore.copy_thread('regress_ta-t1', 'regress_ta-copy')$$, '^ok:2$', '2'),
('own: prune_checkpoints', $$SELECT agentstore.prune_checkpoints('regress_ta-t1', 1)$$, '^ok:\(1,0,0\)$', '(1,0,0)');

SELECT label, expected,
       CASE WHEN outcome ~ allowed THEN 'ok' ELSE outcome END AS outcome
  FROM (SELECT n, label, expected, allowed, pg_temp.as_ta(call) AS outcome FROM calls) c
 ORDER BY n;

-- Every function that reads or writes a table is tried above (expire_now and
-- ttl_explain refuse every tenant; the others touch no table).
SELECT p.oid::regprocedure AS "function not tried"
  FROM pg_proc p
 WHERE p.pronamespace = 'agentstore'::regnamespace
   AND p.prorettype <> 'trigger'::regtype
   AND p.proname NOT IN ('preloaded', '_warn_if_not_preloaded', 'no_stream', 'stream_exists',
                         'session_import_result', '_checkpoint_keys_ok', '_checkpoint_blob_key',
                         '_checkpoint_require', '_checkpoint_expires_at', '_checkpoint_lock_thread',
                         'last_version_conflict')
   AND NOT EXISTS (SELECT FROM calls WHERE strpos(call, 'agentstore.' || p.proname || '(') > 0)
 ORDER BY 1;

-- Nothing the calls did remains, and regress_tb's rows are as they were.
SELECT count(*) AS tb_sessions FROM agentstore.sessions WHERE app_name = 'regress_tb';

-- Leave nothing behind for the tests that follow.
DROP POLICY tenant ON agentstore.sessions;
DROP POLICY tenant ON agentstore.app_states;
DROP POLICY tenant ON agentstore.user_states;
DROP POLICY tenant ON agentstore.session_summaries;
DROP POLICY tenant ON agentstore.events;
DROP POLICY tenant ON agentstore.checkpoint_threads;
DROP POLICY tenant ON agentstore.checkpoints;
DROP POLICY tenant ON agentstore.checkpoint_blobs;
DROP POLICY tenant ON agentstore.checkpoint_writes;
ALTER TABLE agentstore.sessions DISABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.app_states DISABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.user_states DISABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.session_summaries DISABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.events DISABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.checkpoint_threads DISABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.checkpoints DISABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.checkpoint_blobs DISABLE ROW LEVEL SECURITY;
ALTER TABLE agentstore.checkpoint_writes DISABLE ROW LEVEL SECURITY;
DELETE FROM agentstore.events e USING agentstore.sessions s
 WHERE s.app_name IN ('regress_ta', 'regress_tb')
   AND (e.stream = 'session-' || s.id OR e.stream LIKE 'track-' || s.id || '-%');
DELETE FROM agentstore.events WHERE stream LIKE 'regress\_t_-%';
-- the high-water marks of the streams deleted here, as the sequences are restored
DELETE FROM agentstore.stream_heads WHERE stream LIKE 'regress\_t_-%' OR stream ~ '^(session|track)-';
DELETE FROM agentstore.sessions WHERE app_name IN ('regress_ta', 'regress_tb');
DELETE FROM agentstore.app_states WHERE app_name IN ('regress_ta', 'regress_tb');
DELETE FROM agentstore.user_states WHERE app_name IN ('regress_ta', 'regress_tb');
DELETE FROM agentstore.session_summaries WHERE app_name IN ('regress_ta', 'regress_tb');
DELETE FROM agentstore.checkpoint_writes WHERE thread_id LIKE 'regress\_t_-%';
DELETE FROM agentstore.checkpoint_blobs WHERE thread_id LIKE 'regress\_t_-%';
DELETE FROM agentstore.checkpoints WHERE thread_id LIKE 'regress\_t_-%';
DELETE FROM agentstore.checkpoint_threads WHERE thread_id LIKE 'regress\_t_-%';
SELECT count(*) AS sequences_restored
  FROM (SELECT CASE WHEN last_value IS NULL THEN setval(seq, 1, false) ELSE setval(seq, last_value) END
          FROM sequences_before) s;
DROP OWNED BY regress_ta, regress_tb;
DROP ROLE regress_ta, regress_tb;

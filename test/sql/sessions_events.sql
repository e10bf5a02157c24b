-- Session events: append_event, append_session_events, track events,
-- trim_session_events.
SET client_min_messages = warning;
-- Time left until t, to the minute (writes in earlier statements ran a
-- moment ago).
CREATE FUNCTION pg_temp.ttl_left(t timestamptz) RETURNS interval LANGUAGE sql AS $$
	SELECT date_trunc('minute', t - now() + interval '30 seconds')
$$;
CREATE FUNCTION pg_temp.sqlstate_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;

SELECT id AS sid FROM agentstore.create_session('se-app', 'u1', 's1', '{"turn": 0}', '10 minutes') \gset
UPDATE agentstore.sessions SET expires_at = now() + interval '1 minute', updated_at = now() - interval '1 hour'
 WHERE app_name = 'se-app' AND id = :sid;

-- append_event: version 1, 2, ... in the stream session-<id>; the event is
-- stored as given, its "id" and "type" become event_id and type
SELECT version FROM agentstore.append_event('se-app', 'u1', 's1',
       '{"id": "e1", "type": "message", "author": "user", "text": "hi"}', '{"turn": 1, "temp:x": 1}');
SELECT version FROM agentstore.append_event('se-app', 'u1', 's1', '{"id": 42, "author": "model"}',
       '{"turn": 2, "app:model": "m1", "user:seen": true}');
SELECT version FROM agentstore.append_event('se-app', 'u1', 's1', '{"author": "tool"}');
SELECT stream = 'session-' || :sid AS own_stream, version, event_id, type, data
  FROM agentstore.events WHERE stream = 'session-' || :sid ORDER BY version;
-- the state delta was applied, the TTL slid, updated_at and event_count moved
SELECT state, pg_temp.ttl_left(expires_at) AS ttl, updated_at > now() - interval '1 minute' AS updated, event_count
  FROM agentstore.sessions WHERE app_name = 'se-app' AND id = :sid;
SELECT agentstore.get_app_state('se-app', 'model') AS app_model,
       agentstore.get_user_state('se-app', 'u1', 'seen') AS user_seen;

-- the returned position is the row's position
SELECT version AS v4, position AS p4 FROM agentstore.append_event('se-app', 'u1', 's1', '{"n": 4}') \gset
SELECT :v4 AS version, position = :p4 AS position_matches
  FROM agentstore.events WHERE stream = 'session-' || :sid AND version = :v4;

-- idempotent retry: an event id the stream holds is not written again, its
-- original version comes back and its state delta is not applied again
SELECT version FROM agentstore.append_event('se-app', 'u1', 's1', '{"id": "e1", "text": "retry"}', '{"turn": 99}');
SELECT version FROM agentstore.append_event('se-app', 'u1', 's1', '{"id": 42}', '{"turn": 98}');
SELECT state->'turn' AS turn, event_count,
       (SELECT count(*) FROM agentstore.events WHERE stream = 'session-' || :sid) AS events
  FROM agentstore.sessions WHERE app_name = 'se-app' AND id = :sid;

-- expected versions: exact, -1 (no stream yet), -2 (stream exists)
SELECT version FROM agentstore.append_event('se-app', 'u1', 's1', '{"n": 5}', NULL, 4);
SELECT version FROM agentstore.append_event('se-app', 'u1', 's1', '{"n": 6}', NULL, -2);
SELECT agentstore.append_event('se-app', 'u1', 's1', '{"n": "x"}', '{"turn": 100}', 3);
SELECT pg_temp.sqlstate_of($$SELECT agentstore.append_event('se-app', 'u1', 's1', '{}', NULL, 3)$$);
SELECT agentstore.append_event('se-app', 'u1', 's1', '{"n": "x"}', NULL, -1);
SELECT agentstore.append_event('se-app', 'u1', 's1', '{"n": "x"}', NULL, -3);
SELECT state->'turn' AS turn_unchanged FROM agentstore.sessions WHERE app_name = 'se-app' AND id = :sid;
SELECT created FROM agentstore.create_session('se-app', 'u1', 'fresh');
SELECT agentstore.append_event('se-app', 'u1', 'fresh', '{}', NULL, -2);
SELECT version FROM agentstore.append_event('se-app', 'u1', 'fresh', '{}', NULL, -1);
SELECT version FROM agentstore.append_event('se-app', 'u1', 'fresh', '{}', NULL, 1);

-- a missing, expired or deleted session is an error
SELECT agentstore.append_event('se-app', 'u1', 'nope', '{}');
SELECT pg_temp.sqlstate_of($$SELECT agentstore.append_event('se-app', 'u1', 'nope', '{}')$$);
SELECT agentstore.append_event('se-app', 'u1', 'nope', '{"id": "e1"}');
SELECT created FROM agentstore.create_session('se-app', 'u1', 'old');
UPDATE agentstore.sessions SET expires_at = now() - interval '1 second' WHERE app_name = 'se-app' AND session_id = 'old';
SELECT agentstore.append_event('se-app', 'u1', 'old', '{}');
SELECT agentstore.delete_session('se-app', 'u1', 'fresh');
SELECT agentstore.append_event('se-app', 'u1', 'fresh', '{}');

-- bad input, nothing written
SELECT agentstore.append_event('se-app', 'u1', 's1', NULL);
SELECT agentstore.append_event('se-app', 'u1', 's1', '[{}]');
SELECT agentstore.append_event('se-app', 'u1', 's1', '"text"');
SELECT agentstore.append_event('se-app', 'u1', 's1', '{"id": {"x": 1}}');
SELECT agentstore.append_event('se-app', 'u1', 's1', '{"id": true}');
SELECT agentstore.append_event('se-app', 'u1', 's1', '{}', '[1]');
SELECT agentstore.append_event('se-app', 'u1', 's1', '{}', '{"app:": 1}');
SELECT agentstore.append_event(NULL, 'u1', 's1', '{}');
SELECT agentstore.append_event('se-app', 'u1', '', '{}');
SELECT count(*) AS events FROM agentstore.events WHERE stream = 'session-' || :sid;

-- append_session_events: a batch in order, one delta
SELECT * FROM agentstore.append_session_events('se-app', 'u1', 's1',
       '[{"id": "b1", "n": 1}, {"id": "b2", "type": "t", "n": 2}, {"n": 3}]', '{"turn": 7, "user:seen": null}');
SELECT version, event_id, type, data FROM agentstore.events
 WHERE stream = 'session-' || :sid AND version > 6 ORDER BY version;
SELECT state->'turn' AS turn, event_count FROM agentstore.sessions WHERE app_name = 'se-app' AND id = :sid;
SELECT agentstore.get_user_state('se-app', 'u1', 'seen') AS seen_removed;
SELECT first_version, last_version FROM agentstore.append_session_events('se-app', 'u1', 's1', '[{}]', NULL, 9);
SELECT agentstore.append_session_events('se-app', 'u1', 's1', '[{}]', NULL, 9);
SELECT agentstore.append_session_events('se-app', 'u1', 's1', '[]');
SELECT agentstore.append_session_events('se-app', 'u1', 's1', '{}');
SELECT agentstore.append_session_events('se-app', 'u1', 's1', '7');
SELECT agentstore.append_session_events('se-app', 'u1', 's1', NULL);
SELECT agentstore.append_session_events('se-app', 'u1', 's1', '[{}, 1]');
SELECT agentstore.append_session_events('se-app', 'u1', 's1', '[{}, {"id": [1]}]');
SELECT agentstore.append_session_events('se-app', 'u1', 's1', '[{"id": "b1"}]');
SELECT pg_temp.sqlstate_of($$SELECT agentstore.append_session_events('se-app', 'u1', 's1', '[{"id": "b1"}]')$$);
SELECT agentstore.append_session_events('se-app', 'u1', 'nope', '[{}]');
SELECT count(*) AS events FROM agentstore.events WHERE stream = 'session-' || :sid;

-- track events: per (session, track), in append order, with their own TTL
SELECT version FROM agentstore.append_track_event('se-app', 'u1', 's1', 'tools', '{"call": 1}');
SELECT version FROM agentstore.append_track_event('se-app', 'u1', 's1', 'tools', '{"call": 2}', '1 hour');
SELECT version FROM agentstore.append_track_event('se-app', 'u1', 's1', 'ui', '{"click": 1}');
SELECT agentstore.get_track_events('se-app', 'u1', 's1', 'tools') AS tools,
       agentstore.get_track_events('se-app', 'u1', 's1', 'ui') AS ui,
       agentstore.get_track_events('se-app', 'u1', 's1', 'none') AS none,
       agentstore.get_track_events('se-app', 'u1', 's1', 'tools', 1) AS last_tool;
SELECT stream = 'track-' || :sid || '-tools' AS own_stream, version, pg_temp.ttl_left(expires_at) AS ttl
  FROM agentstore.events WHERE stream LIKE 'track-' || :sid || '-tools' ORDER BY version;
SET agentstore.track_event_ttl = 60;
SELECT version FROM agentstore.append_track_event('se-app', 'u1', 's1', 'ui', '{"click": 2}');
RESET agentstore.track_event_ttl;
SELECT pg_temp.ttl_left(expires_at) AS guc_ttl FROM agentstore.events WHERE stream = 'track-' || :sid || '-ui' AND version = 2;
-- expired track events are not read
UPDATE agentstore.events SET expires_at = now() - interval '1 second' WHERE stream = 'track-' || :sid || '-ui' AND version = 1;
SELECT agentstore.get_track_events('se-app', 'u1', 's1', 'ui') AS unexpired;
SELECT now() AS before_ui3 \gset
SELECT version FROM agentstore.append_track_event('se-app', 'u1', 's1', 'ui', '{"click": 3}');
SELECT agentstore.get_track_events('se-app', 'u1', 's1', 'ui', NULL, :'before_ui3') AS since;
SELECT agentstore.get_track_events('se-app', 'u1', 'nope', 'ui') IS NULL AS absent_session;
-- errors
SELECT agentstore.append_track_event('se-app', 'u1', 's1', NULL, '{}');
SELECT agentstore.append_track_event('se-app', 'u1', 's1', '', '{}');
SELECT agentstore.append_track_event('se-app', 'u1', 's1', repeat('t', 256), '{}');
SELECT agentstore.append_track_event('se-app', 'u1', 's1', 'ui', '[]');
SELECT agentstore.append_track_event('se-app', 'u1', 's1', 'ui', '{}', '-1 hour');
SELECT agentstore.append_track_event('se-app', 'u1', 'nope', 'ui', '{}');
SELECT agentstore.get_track_events('se-app', 'u1', 's1', NULL);
SELECT agentstore.get_track_events('se-app', 'u1', 's1', 'ui', -1);

-- trim_session_events: keep the newest agentstore.session_event_retention events
-- of each session, in bounded batches, oldest first
SELECT id AS tid FROM agentstore.create_session('se-app', 'u1', 'trim') \gset
SELECT count(*) FROM (SELECT agentstore.append_event('se-app', 'u1', 'trim', format('{"n": %s}', g)::jsonb)
                        FROM generate_series(1, 12) g) x;
SELECT event_count, trim_needed FROM agentstore.sessions WHERE id = :tid;
SET agentstore.session_event_retention = 5;
-- the flag is set by the next append under the lower retention
SELECT version FROM agentstore.append_event('se-app', 'u1', 'trim', '{"n": 13}');
SELECT event_count, trim_needed FROM agentstore.sessions WHERE id = :tid;
SELECT agentstore.trim_session_events(3) AS removed;
SELECT min(version), max(version), count(*) FROM agentstore.events WHERE stream = 'session-' || :tid;
SELECT agentstore.trim_session_events() AS removed;
SELECT min(version), max(version), count(*) FROM agentstore.events WHERE stream = 'session-' || :tid;
SELECT event_count, trim_needed FROM agentstore.sessions WHERE id = :tid;
SELECT agentstore.trim_session_events() AS nothing_left;
-- versions go on after a trim
SELECT version FROM agentstore.append_event('se-app', 'u1', 'trim', '{"n": 14}');
SELECT agentstore.get_session('se-app', 'u1', 'trim')->'events' AS window;
-- a session is flagged past the retention plus a tenth (at least one): 6 events
-- under a retention of 5 are not trimmed yet, 7 are (back down to 5)
SELECT event_count, trim_needed FROM agentstore.sessions WHERE id = :tid;
SELECT version FROM agentstore.append_event('se-app', 'u1', 'trim', '{"n": 15}');
SELECT event_count, trim_needed FROM agentstore.sessions WHERE id = :tid;
SELECT agentstore.trim_session_events() AS removed;
SELECT min(version), max(version), count(*) FROM agentstore.events WHERE stream = 'session-' || :tid;
-- under a retention of 50: 55 events are kept, the 56th flags the session
SET agentstore.session_event_retention = 50;
SELECT count(*) FROM (SELECT agentstore.append_event('se-app', 'u1', 'trim', format('{"n": %s}', g)::jsonb)
                        FROM generate_series(16, 65) g) x;
SELECT event_count, trim_needed FROM agentstore.sessions WHERE id = :tid;
SELECT version FROM agentstore.append_event('se-app', 'u1', 'trim', '{"n": 66}');
SELECT event_count, trim_needed FROM agentstore.sessions WHERE id = :tid;
SELECT agentstore.trim_session_events() AS removed;
SELECT min(version), max(version), count(*) FROM agentstore.events WHERE stream = 'session-' || :tid;
-- a trigger that keeps the rows: the trim stops instead of finding the same
-- session again for ever (it ran until the statement timeout)
SET agentstore.session_event_retention = 5;
SELECT version FROM agentstore.append_event('se-app', 'u1', 'trim', '{"n": 67}');
CREATE FUNCTION pg_temp.keep_rows() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TRIGGER se_keep_rows BEFORE DELETE ON agentstore.events
    FOR EACH ROW EXECUTE FUNCTION pg_temp.keep_rows();
SET statement_timeout = '10s';
SELECT agentstore.trim_session_events() AS removed;
RESET statement_timeout;
DROP TRIGGER se_keep_rows ON agentstore.events;
SELECT agentstore.trim_session_events() > 0 AS removed_once_the_trigger_is_gone;
RESET agentstore.session_event_retention;
SELECT agentstore.trim_session_events(0);
SELECT agentstore.trim_session_events(-1);

-- Event ids are checked as arguments (22023, naming the argument, without
-- echoing the value) instead of failing on events' CHECK constraint (23514,
-- whose DETAIL printed the whole row).
SELECT id AS aid FROM agentstore.create_session('se-app', 'u1', 'args') \gset
SELECT pg_temp.sqlstate_of($$SELECT agentstore.append_event('se-app', 'u1', 'args', jsonb_build_object('id', repeat('x', 256)))$$);
SELECT pg_temp.sqlstate_of($$SELECT agentstore.append_event('se-app', 'u1', 'args', '{"id": 1e400}')$$);
SELECT pg_temp.sqlstate_of($$SELECT agentstore.append_event('se-app', 'u1', 'args', '{"id": ""}')$$);
SELECT pg_temp.sqlstate_of($$SELECT agentstore.append_session_events('se-app', 'u1', 'args', jsonb_build_array('{"id": "a"}'::jsonb, jsonb_build_object('id', repeat('é', 256))))$$);
SELECT pg_temp.sqlstate_of($$SELECT agentstore.append_session_events('se-app', 'u1', 'args', '[{"id": "a"}, {"id": 1e400}]')$$);
SELECT pg_temp.sqlstate_of($$SELECT agentstore.append_track_event('se-app', 'u1', 'args', 't', '{"id": 1e400}')$$);
SELECT agentstore.append_event('se-app', 'u1', 'args', jsonb_build_object('id', repeat('x', 256)));
SELECT agentstore.append_event('se-app', 'u1', 'args', '{"id": 1e400}');
SELECT agentstore.append_session_events('se-app', 'u1', 'args', jsonb_build_array('{"id": "a"}'::jsonb, jsonb_build_object('id', repeat('é', 256))));
SELECT agentstore.append_session_events('se-app', 'u1', 'args', '[{"id": "a"}, {"id": "b"}, {"id": "a"}]');
-- 255 characters is the limit; a number id is its canonical text
SELECT version FROM agentstore.append_event('se-app', 'u1', 'args', jsonb_build_object('id', repeat('é', 255)));
SELECT version FROM agentstore.append_event('se-app', 'u1', 'args', '{"id": 1e3}');
SELECT event_id FROM agentstore.events WHERE stream = 'session-' || :aid AND event_id LIKE '1%';
-- an id already in the stream is quoted as a bounded prefix, cut at a
-- character boundary
SELECT agentstore.append_session_events('se-app', 'u1', 'args', jsonb_build_array(jsonb_build_object('id', repeat('é', 255))));
SELECT count(*) FROM agentstore.events WHERE stream = 'session-' || :aid;
-- TTL intervals of track events follow the TTL rule
SELECT pg_temp.sqlstate_of($$SELECT agentstore.append_track_event('se-app', 'u1', 'args', 't', '{}', '1 month -30 days')$$);

-- Stale sessions: a writer that passes the id of the incarnation it holds
-- (session_ref) gets SV002 once the key was deleted and created again,
-- instead of writing into the new incarnation.
SELECT id AS old_ref FROM agentstore.create_session('se-app', 'u1', 'stale', '{"v": 1}') \gset
SELECT version FROM agentstore.append_event('se-app', 'u1', 'stale', '{"n": 1}', NULL, NULL, :old_ref);
SELECT agentstore.delete_session('se-app', 'u1', 'stale');
SELECT id AS new_ref FROM agentstore.create_session('se-app', 'u1', 'stale', '{"v": 2}') \gset
SELECT pg_temp.sqlstate_of(format($$SELECT agentstore.append_event('se-app', 'u1', 'stale', '{"n": 2}', session_ref => %s)$$, :old_ref));
SELECT pg_temp.sqlstate_of(format($$SELECT agentstore.append_event('se-app', 'u1', 'stale', '{"id": "e2"}', session_ref => %s)$$, :old_ref));
SELECT pg_temp.sqlstate_of(format($$SELECT agentstore.append_event('se-app', 'u1', 'stale', '{"n": 2}', '{"app:x": 1}', session_ref => %s)$$, :old_ref));
SELECT pg_temp.sqlstate_of(format($$SELECT agentstore.append_session_events('se-app', 'u1', 'stale', '[{"n": 2}]', session_ref => %s)$$, :old_ref));
SELECT pg_temp.sqlstate_of(format($$SELECT agentstore.append_track_event('se-app', 'u1', 'stale', 't', '{"n": 2}', session_ref => %s)$$, :old_ref));
SELECT pg_temp.sqlstate_of(format($$SELECT agentstore.update_session_state('se-app', 'u1', 'stale', '{"v": 3}', %s)$$, :old_ref));
SELECT pg_temp.sqlstate_of(format($$SELECT agentstore.put_session_summary('se-app', 'u1', 'stale', '"s"', '', %s)$$, :old_ref));
SELECT pg_temp.sqlstate_of(format($$SELECT agentstore.delete_session('se-app', 'u1', 'stale', NULL, %s)$$, :old_ref));
SELECT agentstore.append_event('se-app', 'u1', 'stale', '{"n": 2}', session_ref => :old_ref);
-- nothing was written into the new incarnation
SELECT state, event_count FROM agentstore.sessions WHERE app_name = 'se-app' AND id = :new_ref;
SELECT count(*) FROM agentstore.events WHERE stream LIKE '%-' || :new_ref || '%';
SELECT count(*) FROM agentstore.session_summaries WHERE app_name = 'se-app' AND session_ref = :new_ref;
-- ids are positive
SELECT agentstore.append_event('se-app', 'u1', 'stale', '{"n": 2}', session_ref => 0);
SELECT pg_temp.sqlstate_of($$SELECT agentstore.delete_session('se-app', 'u1', 'stale', NULL, -1)$$);
-- the current id, or none, writes
SELECT version FROM agentstore.append_event('se-app', 'u1', 'stale', '{"n": 3}', session_ref => :new_ref);
SELECT version FROM agentstore.append_event('se-app', 'u1', 'stale', '{"n": 4}');
SELECT agentstore.update_session_state('se-app', 'u1', 'stale', '{"v": 3}', :new_ref);
-- a session that is gone altogether is still "does not exist" (P0002)
SELECT agentstore.delete_session('se-app', 'u1', 'stale', NULL, :new_ref);
SELECT pg_temp.sqlstate_of(format($$SELECT agentstore.append_event('se-app', 'u1', 'stale', '{"n": 5}', session_ref => %s)$$, :new_ref));
SELECT agentstore.delete_session('se-app', 'u1', 'stale', NULL, :new_ref);

-- append_event reads the stream's version in C for expected_version: it
-- must not reveal it to a role without SELECT on agentstore.events.
CREATE ROLE se_blind;
GRANT USAGE ON SCHEMA agentstore TO se_blind;
GRANT SELECT, UPDATE ON agentstore.sessions TO se_blind;
GRANT INSERT ON agentstore.events TO se_blind;
SELECT id AS pid FROM agentstore.create_session('se-app', 'u1', 'blind') \gset
SELECT version FROM agentstore.append_event('se-app', 'u1', 'blind', '{"n": 1}');
SET ROLE se_blind;
SELECT pg_temp.sqlstate_of($$SELECT agentstore.append_event('se-app', 'u1', 'blind', '{"n": 2}', NULL, 7)$$);
SELECT agentstore.append_event('se-app', 'u1', 'blind', '{"n": 2}', NULL, 7);
SELECT pg_temp.sqlstate_of($$SELECT agentstore.append_session_events('se-app', 'u1', 'blind', '[{"n": 2}]', NULL, 7)$$);
RESET ROLE;
REVOKE ALL ON agentstore.sessions, agentstore.events FROM se_blind;
REVOKE ALL ON SCHEMA agentstore FROM se_blind;
DROP ROLE se_blind;

-- TTL intervals: every field must be >= 0; a mixed-sign interval such as
-- '1 month -30 days' (positive in February, negative in March) is refused
-- instead of silently meaning "never".  0 means never.
SELECT pg_temp.sqlstate_of($$SELECT agentstore.create_session('se-app', 'u1', 'ttl-mixed', '{}', '1 month -30 days')$$);
SELECT * FROM agentstore.create_session('se-app', 'u1', 'ttl-mixed', '{}', '1 month -30 days');
SELECT * FROM agentstore.create_session('se-app', 'u1', 'ttl-mixed', '{}', '1 day -1 second');
SELECT * FROM agentstore.get_or_create_session('se-app', 'u1', 'ttl-mixed', '{}', '-1 month 40 days');
SELECT count(*) FROM agentstore.sessions WHERE app_name = 'se-app' AND session_id = 'ttl-mixed';
SELECT expires_at IS NULL AS never FROM agentstore.create_session('se-app', 'u1', 'ttl-zero', '{}', '0');
SELECT expires_at > now() + interval '29 days' AS later
  FROM agentstore.create_session('se-app', 'u1', 'ttl-month', '{}', '1 month');

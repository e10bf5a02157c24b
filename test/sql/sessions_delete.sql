-- agentstore.delete_session: soft by default (agentstore.soft_delete), the
-- session and all its rows in one transaction; hard removes them.
SET client_min_messages = warning;

-- a session with events, track events of two tracks and summaries
CREATE FUNCTION pg_temp.fill(sid text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM agentstore.append_event('sd-app', 'u1', sid, format('{"n": %s}', g)::jsonb)
	   FROM generate_series(1, 3) g;
	PERFORM agentstore.append_track_event('sd-app', 'u1', sid, 'tools', '{"t": 1}');
	PERFORM agentstore.append_track_event('sd-app', 'u1', sid, 'tools-2', '{"t": 2}');
	PERFORM agentstore.put_session_summary('sd-app', 'u1', sid, '{"text": "whole"}');
	PERFORM agentstore.put_session_summary('sd-app', 'u1', sid, '{"text": "branch"}', 'b');
END $$;
SELECT id AS s1 FROM agentstore.create_session('sd-app', 'u1', 's1') \gset
SELECT pg_temp.fill('s1');
-- a neighbour whose id shares a prefix must not be touched
SELECT created FROM agentstore.create_session('sd-app', 'u1', 'other');
INSERT INTO agentstore.events (stream, data) VALUES
	('session-' || :s1 || '0', '{"neighbour": true}'),
	('track-' || :s1 || '0-tools', '{"neighbour": true}');

CREATE TEMP VIEW owned AS
SELECT 'events' AS kind, count(*) AS n, count(*) FILTER (WHERE deleted_at IS NOT NULL) AS stamped
  FROM agentstore.events WHERE stream = 'session-' || current_setting('sd.s1')
UNION ALL
SELECT 'track events', count(*), count(*) FILTER (WHERE deleted_at IS NOT NULL)
  FROM agentstore.events WHERE stream LIKE 'track-' || current_setting('sd.s1') || '-%'
UNION ALL
SELECT 'summaries', count(*), count(*) FILTER (WHERE deleted_at IS NOT NULL)
  FROM agentstore.session_summaries WHERE app_name = 'sd-app' AND session_ref = current_setting('sd.s1')::bigint
UNION ALL
SELECT 'session', count(*), count(*) FILTER (WHERE deleted_at IS NOT NULL)
  FROM agentstore.sessions WHERE app_name = 'sd-app' AND id = current_setting('sd.s1')::bigint
UNION ALL
SELECT 'neighbours', count(*), count(*) FILTER (WHERE deleted_at IS NOT NULL)
  FROM agentstore.events WHERE stream IN ('session-' || current_setting('sd.s1') || '0', 'track-' || current_setting('sd.s1') || '0-tools');
SELECT set_config('sd.s1', :'s1', false) IS NOT NULL AS ok;
SELECT * FROM owned;

-- soft: everything stamped at once (one timestamp), the key free again
SELECT agentstore.delete_session('sd-app', 'u1', 's1') AS deleted;
SELECT * FROM owned;
SELECT count(DISTINCT deleted_at) AS one_timestamp FROM (
	SELECT deleted_at FROM agentstore.events WHERE stream = 'session-' || :s1 OR stream LIKE 'track-' || :s1 || '-%'
	UNION ALL SELECT deleted_at FROM agentstore.session_summaries WHERE app_name = 'sd-app' AND session_ref = :s1
	UNION ALL SELECT deleted_at FROM agentstore.sessions WHERE app_name = 'sd-app' AND id = :s1) x;
SELECT agentstore.delete_session('sd-app', 'u1', 's1') AS again;
SELECT agentstore.get_session('sd-app', 'u1', 's1') IS NULL AS gone;
SELECT created FROM agentstore.create_session('sd-app', 'u1', 's1');

-- hard: the rows are removed; an explicit hard overrides agentstore.soft_delete
SELECT id AS s1 FROM agentstore.sessions WHERE app_name = 'sd-app' AND session_id = 's1' AND deleted_at IS NULL \gset
SELECT set_config('sd.s1', :'s1', false) IS NOT NULL AS ok;
SELECT pg_temp.fill('s1');
INSERT INTO agentstore.events (stream, data) VALUES
	('session-' || :s1 || '0', '{"neighbour": true}'),
	('track-' || :s1 || '0-tools', '{"neighbour": true}');
SELECT agentstore.delete_session('sd-app', 'u1', 's1', true) AS deleted;
SELECT * FROM owned;
-- the earlier soft-deleted incarnation stays for the purge
SELECT count(*) AS incarnations_left FROM agentstore.sessions WHERE app_name = 'sd-app' AND session_id = 's1';

-- hard => false is soft whatever the parameter says
SELECT created FROM agentstore.create_session('sd-app', 'u1', 's1');
SELECT agentstore.delete_session('sd-app', 'u1', 's1', false) AS deleted;
SELECT count(*) FILTER (WHERE deleted_at IS NOT NULL) AS soft_deleted FROM agentstore.sessions
 WHERE app_name = 'sd-app' AND session_id = 's1';

-- absent, expired
SELECT agentstore.delete_session('sd-app', 'u1', 'nope') AS absent;
SELECT created FROM agentstore.create_session('sd-app', 'u1', 'expired');
UPDATE agentstore.sessions SET expires_at = now() - interval '1 second' WHERE app_name = 'sd-app' AND session_id = 'expired';
SELECT agentstore.delete_session('sd-app', 'u1', 'expired') AS expired_counts_as_absent;
SELECT deleted_at IS NOT NULL AS but_cleaned_up FROM agentstore.sessions WHERE app_name = 'sd-app' AND session_id = 'expired';

-- the other session was never touched
SELECT agentstore.get_session('sd-app', 'u1', 'other') IS NOT NULL AS other_alive;

-- bad input
SELECT agentstore.delete_session(NULL, 'u1', 's1');
SELECT agentstore.delete_session('sd-app', NULL, 's1');
SELECT agentstore.delete_session('sd-app', 'u1', '');
SELECT agentstore.delete_session('sd-app', 'u1', repeat('s', 256));

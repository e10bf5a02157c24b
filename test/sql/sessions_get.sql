-- agentstore.get_session: one document with the session, its state with app
-- and user state overlaid, its summaries and its event window.
SET client_min_messages = warning;
SET timezone = 'UTC';

SELECT created FROM agentstore.create_session('sg-app', 'u1', 's1',
       '{"topic": "weather", "app:units": "metric", "user:name": "Ann"}');
SELECT agentstore.set_user_state('sg-app', 'u2', 'name', '"Bob"');   -- another user's
SELECT agentstore.set_app_state('sg-app', 'gone', '1', '1 hour');
UPDATE agentstore.app_states SET expires_at = now() - interval '1 second'
 WHERE app_name = 'sg-app' AND key = 'gone';                          -- expired
SELECT agentstore.put_session_summary('sg-app', 'u1', 's1', '{"text": "all"}');
SELECT agentstore.put_session_summary('sg-app', 'u1', 's1', '{"text": "b1"}', 'branch-1');

-- five events appended in one transaction: equal timestamps, append order kept
BEGIN;
SELECT (agentstore.append_event('sg-app', 'u1', 's1', format('{"n": %s}', g)::jsonb)).version
  FROM generate_series(1, 5) g;
COMMIT;

-- the whole document (volatile fields checked separately)
SELECT jsonb_pretty(agentstore.get_session('sg-app', 'u1', 's1')
       - 'id' - 'created_at' - 'updated_at' - 'summaries') AS doc;
SELECT (d->>'id')::bigint = s.id AS id_is_the_incarnation,
       (d->>'created_at')::timestamptz = s.created_at AS created_at,
       (d->>'updated_at')::timestamptz = s.updated_at AS updated_at,
       d->'summaries'->'' ->'summary' AS whole, d->'summaries'->'branch-1'->'summary' AS branch,
       (d->'summaries'->'branch-1'->>'updated_at')::timestamptz IS NOT NULL AS summary_stamped
  FROM agentstore.get_session('sg-app', 'u1', 's1') d,
       agentstore.sessions s
 WHERE s.app_name = 'sg-app' AND s.session_id = 's1' AND s.deleted_at IS NULL;

-- the event window: the last N in append order; 0 = none; the default is
-- agentstore.session_event_limit
SELECT agentstore.get_session('sg-app', 'u1', 's1', 2)->'events' AS last_two;
SELECT agentstore.get_session('sg-app', 'u1', 's1', 0)->'events' AS none;
SET agentstore.session_event_limit = 3;
SELECT agentstore.get_session('sg-app', 'u1', 's1')->'events' AS default_window;
RESET agentstore.session_event_limit;
SELECT jsonb_array_length(agentstore.get_session('sg-app', 'u1', 's1', 1000)->'events') AS all_five;

-- at or after a timestamp: only later transactions' events
SELECT now() AS before_6 \gset
SELECT version FROM agentstore.append_event('sg-app', 'u1', 's1', '{"n": 6}');
SELECT version FROM agentstore.append_event('sg-app', 'u1', 's1', '{"n": 7}');
SELECT agentstore.get_session('sg-app', 'u1', 's1', NULL, :'before_6')->'events' AS since_6;
SELECT agentstore.get_session('sg-app', 'u1', 's1', 1, :'before_6')->'events' AS last_since_6;
SELECT agentstore.get_session('sg-app', 'u1', 's1', NULL, now() + interval '1 day')->'events' AS none_yet;

-- agent-go's session columns appear when they are set
UPDATE agentstore.sessions SET name = 'Weather chat', runs = '[{"run_id": "r1"}]', metadata = '{"k": null}'
 WHERE app_name = 'sg-app' AND session_id = 's1' AND deleted_at IS NULL;
SELECT d->'name' AS name, d->'runs' AS runs, d->'metadata' AS metadata, d ? 'agent_id' AS has_agent_id
  FROM agentstore.get_session('sg-app', 'u1', 's1', 0) d;

-- nothing for an absent, expired or deleted session
SELECT agentstore.get_session('sg-app', 'u1', 'nope') IS NULL AS absent;
SELECT created FROM agentstore.create_session('sg-app', 'u1', 'expiring');
UPDATE agentstore.sessions SET expires_at = now() - interval '1 second'
 WHERE app_name = 'sg-app' AND session_id = 'expiring';
SELECT agentstore.get_session('sg-app', 'u1', 'expiring') IS NULL AS expired;
SELECT created FROM agentstore.create_session('sg-app', 'u1', 'deleted');
SELECT agentstore.delete_session('sg-app', 'u1', 'deleted');
SELECT agentstore.get_session('sg-app', 'u1', 'deleted') IS NULL AS deleted;

-- a re-created session does not see its predecessor's events or summaries
SELECT agentstore.delete_session('sg-app', 'u1', 's1');
SELECT created FROM agentstore.create_session('sg-app', 'u1', 's1');
SELECT d->'events' AS events, d->'summaries' AS summaries, d->'version' AS version
  FROM agentstore.get_session('sg-app', 'u1', 's1') d;

-- the last N of a long history come from a backward scan of the primary key
SELECT 'session-' || id AS long_stream FROM agentstore.create_session('sg-app', 'u1', 'long') \gset
INSERT INTO agentstore.events (stream, data)
SELECT :'long_stream', jsonb_build_object('n', g) FROM generate_series(1, 5000) g;
SELECT agentstore.get_session('sg-app', 'u1', 'long', 3)->'events' AS last_three,
       agentstore.get_session('sg-app', 'u1', 'long', 3)->'version' AS version;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT e.version, e.data FROM agentstore.events e
 WHERE e.stream = 'session-1' AND e.deleted_at IS NULL
 ORDER BY e.version DESC LIMIT 3;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- bad input
SELECT agentstore.get_session('sg-app', 'u1', 's1', -1);
SELECT agentstore.get_session(NULL, 'u1', 's1');
SELECT agentstore.get_session('sg-app', NULL, 's1');
SELECT agentstore.get_session('sg-app', 'u1', '');
SELECT agentstore.get_session('sg-app', 'u1', repeat('x', 256));

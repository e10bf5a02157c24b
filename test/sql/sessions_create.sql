-- agentstore.create_session and agentstore.get_or_create_session.
-- Every app name here starts with "sc-" so that other files' rows never
-- matter; ids come from a shared sequence, so they are never printed.
SET client_min_messages = warning;
-- The SQLSTATE a statement fails with ('ok' if it does not).
CREATE FUNCTION pg_temp.sqlstate_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;

-- create_session: the row, its state routed (app:/user: out, temp: dropped,
-- nulls dropped), created = true.
SELECT app_name, user_id, session_id, state, created, expires_at IS NULL AS no_ttl,
       created_at = now() AND updated_at = now() AS stamped
  FROM agentstore.create_session('sc-app', 'u1', 's1',
       '{"a": 1, "b": {"c": [1, 2]}, "gone": null, "app:theme": "dark", "user:lang": "en", "temp:scratch": 1}');
SELECT key, value FROM agentstore.app_states WHERE app_name = 'sc-app';
SELECT user_id, key, value FROM agentstore.user_states WHERE app_name = 'sc-app';

-- defaults: state {}, generated session id (a UUID), no TTL
SELECT state, session_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS uuid
  FROM agentstore.create_session('sc-app', 'u1');
SELECT state FROM agentstore.create_session('sc-app', 'u1', 's-null-state', NULL);

-- TTL: the call's ttl, else agentstore.session_ttl; 0 means never
SELECT expires_at - now() AS ttl FROM agentstore.create_session('sc-app', 'u1', 's-ttl', '{}', '1 hour');
SET agentstore.session_ttl = '30min';
SELECT expires_at - now() AS ttl FROM agentstore.create_session('sc-app', 'u1', 's-guc-ttl');
SELECT expires_at FROM agentstore.create_session('sc-app', 'u1', 's-zero-ttl', '{}', '0');
RESET agentstore.session_ttl;
SELECT session_id, ttl FROM agentstore.sessions
 WHERE app_name = 'sc-app' AND session_id IN ('s-ttl', 's-guc-ttl', 's-zero-ttl') ORDER BY 1;

-- an active session with the key is a unique_violation naming the key
SELECT * FROM agentstore.create_session('sc-app', 'u1', 's1');
SELECT pg_temp.sqlstate_of($$SELECT agentstore.create_session('sc-app', 'u1', 's1')$$);
-- nothing was written by the failed call
SELECT count(*) FROM agentstore.sessions WHERE app_name = 'sc-app' AND session_id = 's1';

-- the same session_id under another user or app is another session
SELECT created FROM agentstore.create_session('sc-app', 'u2', 's1');
SELECT created FROM agentstore.create_session('sc-app2', 'u1', 's1');

-- an expired session does not count: it is retired (soft-deleted, as the
-- TTL worker would) and a new incarnation is created
UPDATE agentstore.sessions SET expires_at = now() - interval '1 second'
 WHERE app_name = 'sc-app' AND session_id = 's-ttl';
SELECT created, state FROM agentstore.create_session('sc-app', 'u1', 's-ttl', '{"fresh": true}');
SELECT count(*) AS incarnations, count(*) FILTER (WHERE deleted_at IS NULL) AS active
  FROM agentstore.sessions WHERE app_name = 'sc-app' AND session_id = 's-ttl';

-- bad input: clear errors, nothing written
SELECT * FROM agentstore.create_session(NULL, 'u1', 'x');
SELECT * FROM agentstore.create_session('sc-app', NULL, 'x');
SELECT * FROM agentstore.create_session('', 'u1', 'x');
SELECT * FROM agentstore.create_session('sc-app', '', 'x');
SELECT * FROM agentstore.create_session('sc-app', 'u1', '');
SELECT * FROM agentstore.create_session(repeat('a', 256), 'u1', 'x');
SELECT * FROM agentstore.create_session('sc-app', repeat('é', 256), 'x');
SELECT * FROM agentstore.create_session('sc-app', 'u1', repeat('s', 300));
SELECT * FROM agentstore.create_session('sc-app', 'u1', 'x', '[1, 2]');
SELECT * FROM agentstore.create_session('sc-app', 'u1', 'x', '"scalar"');
SELECT * FROM agentstore.create_session('sc-app', 'u1', 'x', '{}', '-1 second');
SELECT * FROM agentstore.create_session('sc-app', 'u1', 'x', '{"app:": 1}');
SELECT * FROM agentstore.create_session('sc-app', 'u1', 'x', format('{"user:%s": 1}', repeat('k', 256))::jsonb);
SELECT count(*) FROM agentstore.sessions WHERE app_name = 'sc-app' AND session_id = 'x';
-- 255 characters (not bytes) is the limit
SELECT created FROM agentstore.create_session('sc-app', repeat('é', 255), repeat('s', 255));

-- get_or_create_session: a miss creates (with state and ttl) ...
SELECT user_id, session_id, state, created, expires_at - now() AS ttl
  FROM agentstore.get_or_create_session('sc-app', 'u1', 'goc', '{"n": 1, "user:seen": true}', '2 hours');
SELECT value FROM agentstore.user_states WHERE app_name = 'sc-app' AND user_id = 'u1' AND key = 'seen';

-- ... a hit returns the same row and ignores state and ttl ...
SELECT state, created, expires_at > now() + interval '1 hour' AS ttl_kept
  FROM agentstore.get_or_create_session('sc-app', 'u1', 'goc', '{"n": 2}', '1 minute');

-- ... and writes nothing: no row version, no sequence value, no update
BEGIN;
SELECT xmin AS goc_xmin, ctid AS goc_ctid FROM agentstore.sessions
 WHERE app_name = 'sc-app' AND session_id = 'goc' AND deleted_at IS NULL \gset
SELECT last_value AS seq_before FROM agentstore.sessions_id_seq \gset
SELECT pg_stat_get_xact_tuples_updated('agentstore.sessions'::regclass) AS upd_before,
       pg_stat_get_xact_tuples_inserted('agentstore.sessions'::regclass) AS ins_before,
       pg_stat_get_xact_tuples_deleted('agentstore.sessions'::regclass) AS del_before \gset
SELECT created FROM agentstore.get_or_create_session('sc-app', 'u1', 'goc');
SELECT created FROM agentstore.get_or_create_session('sc-app', 'u1', 'goc', '{"ignored": 1}');
SELECT (SELECT last_value FROM agentstore.sessions_id_seq) = :seq_before AS sequence_unchanged,
       xmin = :'goc_xmin' AND ctid = :'goc_ctid' AS row_unchanged,
       pg_stat_get_xact_tuples_updated('agentstore.sessions'::regclass) - :upd_before AS updates,
       pg_stat_get_xact_tuples_inserted('agentstore.sessions'::regclass) - :ins_before AS inserts,
       pg_stat_get_xact_tuples_deleted('agentstore.sessions'::regclass) - :del_before AS deletes
  FROM agentstore.sessions WHERE app_name = 'sc-app' AND session_id = 'goc' AND deleted_at IS NULL;
COMMIT;

-- a soft-deleted key is created again as a new incarnation
SELECT agentstore.delete_session('sc-app', 'u1', 'goc');
SELECT state, created FROM agentstore.get_or_create_session('sc-app', 'u1', 'goc', '{"n": 3}');
-- an expired one is retired and created again
UPDATE agentstore.sessions SET expires_at = now() - interval '1 second'
 WHERE app_name = 'sc-app' AND session_id = 'goc' AND deleted_at IS NULL;
SELECT state, created FROM agentstore.get_or_create_session('sc-app', 'u1', 'goc', '{"n": 4}');
SELECT count(*) AS incarnations, count(*) FILTER (WHERE deleted_at IS NULL) AS active
  FROM agentstore.sessions WHERE app_name = 'sc-app' AND session_id = 'goc';
-- a row inserted directly (without the key lock) is found, not duplicated
INSERT INTO agentstore.sessions (app_name, user_id, session_id, state)
VALUES ('sc-app', 'u1', 'goc-direct', '{"direct": true}');
SELECT state, created FROM agentstore.get_or_create_session('sc-app', 'u1', 'goc-direct');

-- bad input
SELECT * FROM agentstore.get_or_create_session('sc-app', 'u1', NULL);
SELECT * FROM agentstore.get_or_create_session(NULL, 'u1', 'goc');
SELECT * FROM agentstore.get_or_create_session('sc-app', '', 'goc');
SELECT * FROM agentstore.get_or_create_session('sc-app', 'u1', repeat('x', 256));
SELECT * FROM agentstore.get_or_create_session('sc-app', 'u1', 'goc-bad', '[]');
SELECT * FROM agentstore.get_or_create_session('sc-app', 'u1', 'goc-bad', '{}', '-1 day');
SELECT count(*) FROM agentstore.sessions WHERE app_name = 'sc-app' AND session_id = 'goc-bad';

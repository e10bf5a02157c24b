-- State: agentstore.update_session_state (routing of app:/user:/temp: keys,
-- JSON null removes, sliding TTL) and the app and user state functions.
SET client_min_messages = warning;
-- Time left until t, to the minute (writes in earlier statements ran a
-- moment ago).
CREATE FUNCTION pg_temp.ttl_left(t timestamptz) RETURNS interval LANGUAGE sql AS $$
	SELECT date_trunc('minute', t - now() + interval '30 seconds')
$$;

SELECT created FROM agentstore.create_session('st-app', 'u1', 's1', '{"a": 1, "b": 2, "keep": true}');
SELECT created FROM agentstore.create_session('st-app', 'u2', 's2');

-- session keys: shallow replace; null removes; temp: never persisted
SELECT agentstore.update_session_state('st-app', 'u1', 's1',
       '{"a": {"nested": [1]}, "b": null, "c": "new", "temp:draft": "x", "absent": null}') AS state;
-- app: and user: keys go to app and user state, prefix stripped
SELECT agentstore.update_session_state('st-app', 'u1', 's1',
       '{"app:motd": "hello", "user:lang": "de", "user:tz": "CET", "app:flags": [1, 2]}') AS state;
SELECT agentstore.list_app_state('st-app') AS app_state,
       agentstore.list_user_state('st-app', 'u1') AS u1_state,
       agentstore.list_user_state('st-app', 'u2') AS u2_state;
-- they are shared: another session of the app sees app state, not u1's state
SELECT agentstore.get_session('st-app', 'u2', 's2')->'state' AS s2_state;
-- updating and removing shared keys through a delta
SELECT agentstore.update_session_state('st-app', 'u1', 's1',
       '{"app:motd": "bye", "user:lang": null, "app:flags": null}') AS state;
SELECT agentstore.list_app_state('st-app') AS app_state,
       agentstore.list_user_state('st-app', 'u1') AS u1_state;
-- an empty delta still counts as a write: updated_at moves
SELECT updated_at AS before_update FROM agentstore.sessions
 WHERE app_name = 'st-app' AND session_id = 's1' AND deleted_at IS NULL \gset
SELECT pg_sleep(0.01);
SELECT agentstore.update_session_state('st-app', 'u1', 's1', '{}') AS state;
SELECT updated_at > :'before_update' AS updated_at_moved FROM agentstore.sessions
 WHERE app_name = 'st-app' AND session_id = 's1' AND deleted_at IS NULL;

-- sliding TTL: a write sets expires_at = now() + ttl (the session's own ttl,
-- else agentstore.session_ttl); a read leaves it alone
SELECT created FROM agentstore.create_session('st-app', 'u1', 'ttl', '{}', '10 minutes');
UPDATE agentstore.sessions SET expires_at = now() + interval '1 minute'
 WHERE app_name = 'st-app' AND session_id = 'ttl';
SELECT agentstore.get_session('st-app', 'u1', 'ttl') IS NOT NULL AS read,
       (SELECT pg_temp.ttl_left(expires_at) FROM agentstore.sessions WHERE app_name = 'st-app' AND session_id = 'ttl') AS after_read;
SELECT agentstore.update_session_state('st-app', 'u1', 'ttl', '{"x": 1}');
SELECT pg_temp.ttl_left(expires_at) AS after_write FROM agentstore.sessions WHERE app_name = 'st-app' AND session_id = 'ttl';
SET agentstore.session_ttl = '1h';
SELECT agentstore.update_session_state('st-app', 'u1', 's1', '{"x": 1}');
SELECT pg_temp.ttl_left(expires_at) AS guc_ttl FROM agentstore.sessions
 WHERE app_name = 'st-app' AND session_id = 's1' AND deleted_at IS NULL;
RESET agentstore.session_ttl;

-- a missing, expired or deleted session is an error (nothing written)
SELECT agentstore.update_session_state('st-app', 'u1', 'nope', '{"app:x": 1}');
UPDATE agentstore.sessions SET expires_at = now() - interval '1 second'
 WHERE app_name = 'st-app' AND session_id = 'ttl';
SELECT agentstore.update_session_state('st-app', 'u1', 'ttl', '{"x": 2}');
SELECT agentstore.get_app_state('st-app', 'x') IS NULL AS app_x_not_written;

-- bad deltas
SELECT agentstore.update_session_state('st-app', 'u1', 's1', NULL);
SELECT agentstore.update_session_state('st-app', 'u1', 's1', '[1]');
SELECT agentstore.update_session_state('st-app', 'u1', 's1', '3');
SELECT agentstore.update_session_state('st-app', 'u1', 's1', '{"app:": 1}');
SELECT agentstore.update_session_state('st-app', 'u1', 's1', '{"user:": 1}');
SELECT agentstore.update_session_state('st-app', 'u1', 's1', format('{"app:%s": 1}', repeat('k', 256))::jsonb);
SELECT agentstore.update_session_state(NULL, 'u1', 's1', '{}');
SELECT agentstore.update_session_state('st-app', 'u1', '', '{}');
-- prefixes are case-sensitive and need the colon: these are session keys
SELECT agentstore.update_session_state('st-app', 'u1', 's1', '{"App:x": 1, "app": 2, "tempx": 3}') AS state;

-- app state: set, get, list, delete; a JSON null removes; TTL
SELECT agentstore.set_app_state('st-app2', 'k1', '{"v": 1}');
SELECT agentstore.set_app_state('st-app2', 'k2', '[1, 2]', '1 hour');
SELECT agentstore.set_app_state('st-app2', 'k1', '"replaced"');
SELECT agentstore.get_app_state('st-app2', 'k1') AS k1, agentstore.get_app_state('st-app2', 'k2') AS k2,
       agentstore.get_app_state('st-app2', 'absent') AS absent;
SELECT key, pg_temp.ttl_left(expires_at) AS ttl, ttl AS own_ttl FROM agentstore.app_states
 WHERE app_name = 'st-app2' AND deleted_at IS NULL ORDER BY key;
-- a later write without ttl keeps the key's own ttl and slides it
UPDATE agentstore.app_states SET expires_at = now() + interval '1 minute' WHERE app_name = 'st-app2' AND key = 'k2';
SELECT agentstore.set_app_state('st-app2', 'k2', '[3]');
SELECT pg_temp.ttl_left(expires_at) AS slid FROM agentstore.app_states WHERE app_name = 'st-app2' AND key = 'k2' AND deleted_at IS NULL;
-- the default TTL comes from agentstore.app_state_ttl
SET agentstore.app_state_ttl = 60;
SELECT agentstore.set_app_state('st-app2', 'k3', 'true');
RESET agentstore.app_state_ttl;
SELECT pg_temp.ttl_left(expires_at) AS guc_ttl FROM agentstore.app_states WHERE app_name = 'st-app2' AND key = 'k3';
-- expired keys are absent
UPDATE agentstore.app_states SET expires_at = now() - interval '1 second' WHERE app_name = 'st-app2' AND key = 'k3';
SELECT agentstore.get_app_state('st-app2', 'k3') AS expired, agentstore.list_app_state('st-app2') AS listed;
SELECT agentstore.delete_app_state('st-app2', 'k3') AS deleted_expired;
-- removing
SELECT agentstore.set_app_state('st-app2', 'k2', 'null');
SELECT agentstore.delete_app_state('st-app2', 'k1') AS deleted, agentstore.delete_app_state('st-app2', 'k1') AS again;
SELECT agentstore.list_app_state('st-app2') AS empty;
SELECT count(*) AS soft_deleted FROM agentstore.app_states WHERE app_name = 'st-app2' AND deleted_at IS NOT NULL;
-- a removed key can be set again
SELECT agentstore.set_app_state('st-app2', 'k1', '1');
SELECT agentstore.get_app_state('st-app2', 'k1') AS k1_again;

-- user state: the same per (app_name, user_id)
SELECT agentstore.set_user_state('st-app2', 'ann', 'pref', '{"dark": true}', '1 day');
SELECT agentstore.set_user_state('st-app2', 'bob', 'pref', '{"dark": false}');
SELECT agentstore.get_user_state('st-app2', 'ann', 'pref') AS ann, agentstore.get_user_state('st-app2', 'bob', 'pref') AS bob,
       agentstore.get_user_state('st-app2', 'cy', 'pref') AS cy;
SELECT agentstore.list_user_state('st-app2', 'ann') AS ann_all;
SET agentstore.user_state_ttl = '2h';
SELECT agentstore.set_user_state('st-app2', 'cy', 'pref', '1');
RESET agentstore.user_state_ttl;
SELECT user_id, pg_temp.ttl_left(expires_at) AS ttl FROM agentstore.user_states
 WHERE app_name = 'st-app2' AND deleted_at IS NULL ORDER BY user_id;
SELECT agentstore.set_user_state('st-app2', 'ann', 'pref', 'null');
SELECT agentstore.delete_user_state('st-app2', 'bob', 'pref') AS deleted, agentstore.delete_user_state('st-app2', 'bob', 'pref') AS again;
SELECT agentstore.list_user_state('st-app2', 'ann') AS ann, agentstore.list_user_state('st-app2', 'bob') AS bob;

-- bad input
SELECT agentstore.set_app_state('st-app2', 'k', NULL);
SELECT agentstore.set_app_state('st-app2', NULL, '1');
SELECT agentstore.set_app_state('st-app2', '', '1');
SELECT agentstore.set_app_state('st-app2', repeat('k', 256), '1');
SELECT agentstore.set_app_state(NULL, 'k', '1');
SELECT agentstore.set_app_state('st-app2', 'k', '1', '-1 hour');
SELECT agentstore.get_app_state('st-app2', NULL);
SELECT agentstore.list_app_state(NULL);
SELECT agentstore.delete_app_state('', 'k');
SELECT agentstore.set_user_state('st-app2', NULL, 'k', '1');
SELECT agentstore.set_user_state('st-app2', 'u', 'k', NULL);
SELECT agentstore.set_user_state('st-app2', 'u', 'k', '1', '-1 hour');
SELECT agentstore.get_user_state('st-app2', 'u', '');
SELECT agentstore.list_user_state('st-app2', NULL);
SELECT agentstore.delete_user_state('st-app2', 'u', repeat('k', 256));
SELECT count(*) AS written FROM agentstore.app_states WHERE app_name = 'st-app2' AND key = 'k';

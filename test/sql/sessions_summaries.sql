-- Summaries: one per (session incarnation, filter_key); '' is the whole
-- session; get falls back to ''.
SET client_min_messages = warning;
-- Time left until t, to the minute (writes in earlier statements ran a
-- moment ago).
CREATE FUNCTION pg_temp.ttl_left(t timestamptz) RETURNS interval LANGUAGE sql AS $$
	SELECT date_trunc('minute', t - now() + interval '30 seconds')
$$;

SELECT created FROM agentstore.create_session('ss-app', 'u1', 's1', '{}', '10 minutes');

SELECT agentstore.get_session_summary('ss-app', 'u1', 's1') AS none_yet;
SELECT agentstore.put_session_summary('ss-app', 'u1', 's1', '{"text": "branch only"}', 'b1');
SELECT agentstore.get_session_summary('ss-app', 'u1', 's1') AS no_whole_summary,
       agentstore.get_session_summary('ss-app', 'u1', 's1', 'b2') AS no_fallback_yet;
SELECT agentstore.put_session_summary('ss-app', 'u1', 's1', '{"text": "whole"}');
SELECT agentstore.get_session_summary('ss-app', 'u1', 's1') AS whole,
       agentstore.get_session_summary('ss-app', 'u1', 's1', 'b1') AS b1,
       agentstore.get_session_summary('ss-app', 'u1', 's1', 'b2') AS b2_falls_back;
-- a put replaces
SELECT agentstore.put_session_summary('ss-app', 'u1', 's1', '"just text"', 'b1');
SELECT agentstore.get_session_summary('ss-app', 'u1', 's1', 'b1') AS b1;
SELECT filter_key, summary FROM agentstore.session_summaries s
 WHERE app_name = 'ss-app' ORDER BY filter_key;

-- writing a summary slides the session's TTL
UPDATE agentstore.sessions SET expires_at = now() + interval '1 minute' WHERE app_name = 'ss-app' AND session_id = 's1';
SELECT agentstore.put_session_summary('ss-app', 'u1', 's1', '{"text": "later"}');
SELECT pg_temp.ttl_left(expires_at) AS slid FROM agentstore.sessions WHERE app_name = 'ss-app' AND session_id = 's1';

-- summaries go with their session: a new incarnation starts without any
SELECT agentstore.delete_session('ss-app', 'u1', 's1');
SELECT agentstore.get_session_summary('ss-app', 'u1', 's1') AS after_delete;
SELECT count(*) AS stamped FROM agentstore.session_summaries WHERE app_name = 'ss-app' AND deleted_at IS NOT NULL;
SELECT created FROM agentstore.create_session('ss-app', 'u1', 's1');
SELECT agentstore.get_session_summary('ss-app', 'u1', 's1', 'b1') AS new_incarnation;

-- errors
SELECT agentstore.put_session_summary('ss-app', 'u1', 'nope', '{}');
SELECT agentstore.put_session_summary('ss-app', 'u1', 's1', NULL);
SELECT agentstore.put_session_summary('ss-app', 'u1', 's1', '{}', NULL);
SELECT agentstore.put_session_summary('ss-app', 'u1', 's1', '{}', repeat('f', 256));
SELECT agentstore.put_session_summary(NULL, 'u1', 's1', '{}');
SELECT agentstore.get_session_summary('ss-app', 'u1', 's1', NULL);
SELECT agentstore.get_session_summary('ss-app', '', 's1');
SELECT agentstore.get_session_summary('ss-app', 'u1', 'nope') AS absent_session;
SELECT count(*) AS written FROM agentstore.session_summaries s
  JOIN agentstore.sessions x ON x.app_name = s.app_name AND x.id = s.session_ref
 WHERE s.app_name = 'ss-app' AND x.deleted_at IS NULL;

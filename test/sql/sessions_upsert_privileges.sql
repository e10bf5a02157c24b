-- The bulk session writer (upsert_sessions, both overloads, and COPY or
-- INSERT into agentstore.session_import) requires exactly what
--   INSERT INTO agentstore.sessions (<the 13 fields>, app_name, expires_at) ...
--   ON CONFLICT (app_name, user_id, session_id) WHERE deleted_at IS NULL
--   DO UPDATE SET <every field but the key and created_at>, expires_at = ...
-- requires, column privileges included.  A denied call is 42501 and writes
-- nothing.
SET client_min_messages = warning;
SET timezone = 'UTC';

CREATE ROLE sbulk_nobody;
CREATE ROLE sbulk_select;
CREATE ROLE sbulk_insert;
CREATE ROLE sbulk_update;
CREATE ROLE sbulk_no_update;		-- SELECT and INSERT
CREATE ROLE sbulk_all;			-- SELECT, INSERT and UPDATE
CREATE ROLE sbulk_columns;		-- exactly the columns, granted per column
GRANT USAGE ON SCHEMA agentstore TO sbulk_nobody, sbulk_select, sbulk_insert, sbulk_update,
      sbulk_no_update, sbulk_all, sbulk_columns;
GRANT USAGE ON SEQUENCE agentstore.sessions_id_seq TO sbulk_nobody, sbulk_select, sbulk_insert,
      sbulk_update, sbulk_no_update, sbulk_all, sbulk_columns;
GRANT INSERT ON agentstore.session_import TO sbulk_nobody, sbulk_select, sbulk_insert, sbulk_update,
      sbulk_no_update, sbulk_all, sbulk_columns;
GRANT SELECT ON agentstore.sessions TO sbulk_select, sbulk_no_update, sbulk_all;
GRANT INSERT ON agentstore.sessions TO sbulk_insert, sbulk_no_update, sbulk_all;
GRANT UPDATE ON agentstore.sessions TO sbulk_update, sbulk_all;
-- SELECT on the conflict target, deleted_at (the key index's predicate),
-- ttl (read for expires_at) and the updated fields (read through EXCLUDED)
GRANT SELECT (app_name, user_id, session_id, deleted_at, ttl, state, agent_id, team_id, workflow_id,
              name, metadata, agent_data, runs, summary, updated_at)
   ON agentstore.sessions TO sbulk_columns;
GRANT INSERT (app_name, user_id, session_id, state, agent_id, team_id, workflow_id, name, metadata,
              agent_data, runs, summary, created_at, updated_at, expires_at)
   ON agentstore.sessions TO sbulk_columns;
GRANT UPDATE (state, agent_id, team_id, workflow_id, name, metadata, agent_data, runs, summary,
              updated_at, expires_at)
   ON agentstore.sessions TO sbulk_columns;

-- Run a statement; 'ok' and the result of 'then', or the SQLSTATE and message.
CREATE FUNCTION public.sbulk_try(cmd text, then_cmd text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	IF then_cmd IS NULL THEN
		EXECUTE cmd INTO r;
	ELSE
		EXECUTE cmd;
		EXECUTE then_cmd INTO r;
	END IF;
	RETURN 'ok ' || coalesce(r, '');
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

-- Every way into the bulk writer, for an existing key and for a new one.
CREATE FUNCTION public.sbulk_calls(tag text) RETURNS TABLE (call text, result text)
LANGUAGE sql AS $$
	SELECT 'upsert jsonb, existing key',
	       public.sbulk_try(format($q$SELECT agentstore.upsert_sessions('[{"session_id": "existing", "user_id": "u", "name": %s}]'::jsonb, false, 'priv')::text$q$,
	                               to_json(tag)::text))
	UNION ALL
	SELECT 'upsert jsonb, empty array',
	       public.sbulk_try($q$SELECT agentstore.upsert_sessions('[]'::jsonb, false, 'priv')::text$q$)
	UNION ALL
	SELECT 'upsert json, new key',
	       public.sbulk_try(format($q$SELECT agentstore.upsert_sessions('[{"session_id": %s, "user_id": "u"}]'::json, false, 'priv')::text$q$,
	                               to_json('new-' || tag)::text))
	UNION ALL
	SELECT 'session_import, existing key',
	       public.sbulk_try(format($q$INSERT INTO agentstore.session_import (app_name, session_id, user_id, name) VALUES ('priv', 'existing', 'u', %L)$q$, tag),
	                        'SELECT agentstore.session_import_result()::text')
	UNION ALL
	SELECT 'session_import, new key',
	       public.sbulk_try(format($q$INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('priv', %L, 'u')$q$, 'imported-' || tag),
	                        'SELECT agentstore.session_import_result()::text')
	UNION ALL
	SELECT 'session_import, no rows',
	       public.sbulk_try($q$INSERT INTO agentstore.session_import (app_name, session_id, user_id) SELECT 'priv', 'none', 'u' WHERE false$q$,
	                        'SELECT agentstore.session_import_result()::text')
	UNION ALL
	-- the statement the writer stands for, for comparison
	SELECT 'plain SQL upsert',
	       public.sbulk_try(format($q$WITH w AS (
	           INSERT INTO agentstore.sessions AS s (app_name, user_id, session_id, state, agent_id,
	               team_id, workflow_id, name, metadata, agent_data, runs, summary, created_at,
	               updated_at, expires_at)
	           VALUES ('priv', 'u', 'existing', '{}', NULL, NULL, NULL, %L, NULL, NULL, NULL, NULL,
	                   now(), now(), NULL)
	           ON CONFLICT (app_name, user_id, session_id) WHERE deleted_at IS NULL
	           DO UPDATE SET state = EXCLUDED.state, agent_id = EXCLUDED.agent_id,
	               team_id = EXCLUDED.team_id, workflow_id = EXCLUDED.workflow_id,
	               name = EXCLUDED.name, metadata = EXCLUDED.metadata,
	               agent_data = EXCLUDED.agent_data, runs = EXCLUDED.runs,
	               summary = EXCLUDED.summary, updated_at = EXCLUDED.updated_at,
	               expires_at = now() + s.ttl
	           RETURNING 1)
	         SELECT count(*)::text FROM w$q$, 'sql ' || tag))
$$;

-- A fingerprint of every session row.
CREATE FUNCTION public.sbulk_fingerprint() RETURNS text LANGUAGE sql AS $$
	SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY s.id), '')) FROM agentstore.sessions s
$$;

SELECT * FROM agentstore.upsert_sessions('[{"session_id": "existing", "user_id": "u", "name": "original"}]'::jsonb, false, 'priv');
CREATE TEMP TABLE fingerprint AS SELECT public.sbulk_fingerprint() AS before;

-- denied: no table privilege, SELECT only, INSERT only, UPDATE only,
-- SELECT and INSERT without UPDATE
SET ROLE sbulk_nobody;
SELECT * FROM public.sbulk_calls('nobody');
SET ROLE sbulk_select;
SELECT * FROM public.sbulk_calls('select');
COPY agentstore.session_import (app_name, session_id, user_id, name) FROM stdin WITH (FORMAT csv);
priv,existing,u,overwritten by COPY
\.
SET ROLE sbulk_insert;
SELECT * FROM public.sbulk_calls('insert');
SET ROLE sbulk_update;
SELECT * FROM public.sbulk_calls('update');
SET ROLE sbulk_no_update;
SELECT * FROM public.sbulk_calls('no update');
COPY agentstore.session_import (app_name, session_id, user_id) FROM stdin WITH (FORMAT csv);
priv,new by COPY,u
\.
RESET ROLE;
SELECT public.sbulk_fingerprint() = before AS unchanged FROM fingerprint;

-- column privileges: each missing column denies the call (the plain
-- statement's verdict is the same)
REVOKE UPDATE (name) ON agentstore.sessions FROM sbulk_columns;
SET ROLE sbulk_columns;
SELECT * FROM public.sbulk_calls('columns without UPDATE (name)');
RESET ROLE;
GRANT UPDATE (name) ON agentstore.sessions TO sbulk_columns;
REVOKE SELECT (ttl) ON agentstore.sessions FROM sbulk_columns;
SET ROLE sbulk_columns;
SELECT * FROM public.sbulk_calls('columns without SELECT (ttl)');
RESET ROLE;
GRANT SELECT (ttl) ON agentstore.sessions TO sbulk_columns;
REVOKE INSERT (runs) ON agentstore.sessions FROM sbulk_columns;
SET ROLE sbulk_columns;
SELECT * FROM public.sbulk_calls('columns without INSERT (runs)');
RESET ROLE;
GRANT INSERT (runs) ON agentstore.sessions TO sbulk_columns;
REVOKE SELECT (deleted_at) ON agentstore.sessions FROM sbulk_columns;
SET ROLE sbulk_columns;
SELECT * FROM public.sbulk_calls('columns without SELECT (deleted_at)');
RESET ROLE;
GRANT SELECT (deleted_at) ON agentstore.sessions TO sbulk_columns;
REVOKE SELECT (name) ON agentstore.sessions FROM sbulk_columns;
SET ROLE sbulk_columns;
SELECT * FROM public.sbulk_calls('columns without SELECT (name)');
RESET ROLE;
GRANT SELECT (name) ON agentstore.sessions TO sbulk_columns;
SELECT public.sbulk_fingerprint() = before AS unchanged FROM fingerprint;

-- allowed: the table privileges, or exactly the columns
SET ROLE sbulk_all;
SELECT * FROM public.sbulk_calls('all');
COPY agentstore.session_import (app_name, session_id, user_id, name) FROM stdin WITH (FORMAT csv);
priv,existing,u,by COPY
\.
SELECT * FROM agentstore.session_import_result();
SET ROLE sbulk_columns;
SELECT * FROM public.sbulk_calls('columns');
RESET ROLE;
SELECT session_id, name FROM agentstore.sessions WHERE app_name = 'priv' ORDER BY session_id;

DELETE FROM agentstore.sessions WHERE app_name = 'priv';
DROP FUNCTION public.sbulk_calls(text);
DROP FUNCTION public.sbulk_try(text, text);
DROP FUNCTION public.sbulk_fingerprint();
DROP TABLE fingerprint;
REVOKE ALL ON agentstore.sessions FROM sbulk_select, sbulk_insert, sbulk_update, sbulk_no_update,
       sbulk_all, sbulk_columns;
REVOKE ALL ON agentstore.session_import FROM sbulk_nobody, sbulk_select, sbulk_insert, sbulk_update,
       sbulk_no_update, sbulk_all, sbulk_columns;
REVOKE ALL ON SEQUENCE agentstore.sessions_id_seq FROM sbulk_nobody, sbulk_select, sbulk_insert,
       sbulk_update, sbulk_no_update, sbulk_all, sbulk_columns;
REVOKE ALL ON SCHEMA agentstore FROM sbulk_nobody, sbulk_select, sbulk_insert, sbulk_update,
       sbulk_no_update, sbulk_all, sbulk_columns;
DROP ROLE sbulk_nobody, sbulk_select, sbulk_insert, sbulk_update, sbulk_no_update, sbulk_all,
     sbulk_columns;

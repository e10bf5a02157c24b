-- created_at and updated_at of the bulk session writer: finite timestamps
-- only.  A session object takes an ISO 8601 string (any timestamptz input)
-- or a number of seconds since the Unix epoch; the session_import view's
-- columns are timestamptz, so COPY and INSERT take timestamptz input only
-- (docs/sessions.md).
SET client_min_messages = notice;
SET timezone = 'UTC';

-- infinities are refused, naming the row and the field (22008)
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s", "user_id": "u", "created_at": "infinity"}]'::jsonb, false, 'ts');
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s", "user_id": "u"}, {"session_id": "t", "user_id": "u", "updated_at": "-infinity"}]'::jsonb, true, 'ts');
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s", "user_id": "u", "created_at": "-infinity"}]'::json, false, 'ts');
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s", "user_id": "u", "updated_at": " Infinity "}]'::json, false, 'ts');
-- even when updated_at would be replaced by now()
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s", "user_id": "u", "updated_at": "infinity"}]'::jsonb, false, 'ts');
COPY agentstore.session_import (app_name, session_id, user_id, created_at) FROM stdin WITH (FORMAT csv);
ts,s,u,2026-01-01
ts,t,u,infinity
\.
INSERT INTO agentstore.session_import (app_name, session_id, user_id, updated_at, preserve_updated_at)
VALUES ('ts', 's', 'u', '-infinity', true);
-- the SQLSTATE
DO $$
BEGIN
	PERFORM agentstore.upsert_sessions('[{"session_id": "s", "user_id": "u", "created_at": "infinity"}]'::jsonb);
EXCEPTION WHEN datetime_field_overflow THEN
	RAISE NOTICE 'created_at infinity: %', SQLSTATE;
END $$;
SELECT count(*) FROM agentstore.sessions WHERE app_name = 'ts';

-- finite values, in every form a session object takes
SELECT * FROM agentstore.upsert_sessions('[
  {"session_id": "iso", "user_id": "u", "created_at": "2026-01-01T10:00:00+02:00", "updated_at": "2026-01-02 00:00:00Z"},
  {"session_id": "epoch", "user_id": "u", "created_at": "epoch", "updated_at": 0},
  {"session_id": "seconds", "user_id": "u", "created_at": 1767225600, "updated_at": 1767225600.25}
]'::jsonb, true, 'ts');
SELECT session_id, created_at, updated_at FROM agentstore.sessions WHERE app_name = 'ts' ORDER BY 1;

-- COPY takes timestamptz input: seconds since the epoch are not a
-- timestamp there (convert them with to_timestamp(), or send ISO 8601)
COPY agentstore.session_import (app_name, session_id, user_id, created_at) FROM stdin WITH (FORMAT csv);
ts,copy,u,1767225600
\.
INSERT INTO agentstore.session_import (app_name, session_id, user_id, created_at)
VALUES ('ts', 'copy', 'u', to_timestamp(1767225600));
SELECT session_id, created_at FROM agentstore.sessions WHERE app_name = 'ts' AND session_id = 'copy';

DELETE FROM agentstore.sessions WHERE app_name = 'ts';

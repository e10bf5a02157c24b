-- The bulk path: COPY (or INSERT) into the agentstore.session_import view
-- upserts into agentstore.sessions with upsert_sessions' semantics.
SET client_min_messages = warning;
SET timezone = 'UTC';

CREATE TEMP VIEW si AS
SELECT app_name, user_id, session_id, name, state, metadata, created_at, updated_at
  FROM agentstore.sessions WHERE app_name LIKE 'si-%' AND deleted_at IS NULL;

-- agent-go's 13 session columns by COPY, app_name from a column
COPY agentstore.session_import (app_name, session_id, agent_id, team_id, workflow_id, user_id, name,
     metadata, state, agent_data, runs, summary, created_at, updated_at) FROM stdin WITH (FORMAT csv);
si-app,s1,a1,t1,w1,u1,first,"{""m"": 1}","{""s"": 1}","{}","[]","{}",2026-01-01 00:00:00+00,2026-01-02 00:00:00+00
si-app,s2,,,,u1,second,,,,,,,
si-app,s3,,,,u2,,,,,,,,
\.
SELECT * FROM agentstore.session_import_result();
SELECT user_id, session_id, name, state, metadata,
       CASE WHEN created_at > now() - interval '1 hour' THEN 'now' ELSE created_at::text END AS created_at,
       updated_at > now() - interval '1 hour' AS updated_now
  FROM si ORDER BY session_id;
-- the view has no rows of its own
SELECT count(*) FROM agentstore.session_import;

-- again: updates; created_at kept; a repeated key: last occurrence wins;
-- preserve_updated_at per row
COPY agentstore.session_import (app_name, session_id, user_id, name, created_at, updated_at, preserve_updated_at) FROM stdin WITH (FORMAT csv);
si-app,s1,u1,renamed,1999-01-01 00:00:00+00,2020-01-01 00:00:00+00,true
si-app,s2,u1,once,,,
si-app,s4,u1,new,,,
si-app,s2,u1,twice,,,
\.
SELECT * FROM agentstore.session_import_result();
SELECT session_id, name,
       CASE WHEN created_at > now() - interval '1 hour' THEN 'now' ELSE created_at::text END AS created_at,
       CASE WHEN updated_at > now() - interval '1 hour' THEN 'now' ELSE updated_at::text END AS updated_at
  FROM si WHERE session_id IN ('s1', 's2') ORDER BY 1;

-- INSERT works as well, with the app_name column's default ('default')
INSERT INTO agentstore.session_import (session_id, user_id, name) VALUES ('si-default-app', 'u', 'x');
SELECT * FROM agentstore.session_import_result();
SELECT app_name, name FROM agentstore.sessions WHERE session_id = 'si-default-app';
INSERT INTO agentstore.session_import (app_name, session_id, user_id)
SELECT 'si-app', 'gen' || g, 'u3' FROM generate_series(1, 2500) g;
SELECT * FROM agentstore.session_import_result();
-- small chunks (agentstore.batch_size): the same counts
SET agentstore.batch_size = 7;
INSERT INTO agentstore.session_import (app_name, session_id, user_id, name)
SELECT 'si-app', 'gen' || (g % 30), 'u3', 'n' || g FROM generate_series(1, 90) g;
RESET agentstore.batch_size;
SELECT * FROM agentstore.session_import_result();
SELECT name FROM si WHERE session_id = 'gen0';
-- a statement without rows
INSERT INTO agentstore.session_import SELECT * FROM agentstore.session_import;
SELECT * FROM agentstore.session_import_result();

-- bad rows: an error naming the row (counting from 1), nothing written
SELECT count(*) AS before FROM agentstore.sessions WHERE app_name = 'si-bad';
COPY agentstore.session_import (app_name, session_id, user_id) FROM stdin WITH (FORMAT csv);
si-bad,ok,u
si-bad,,u
\.
COPY agentstore.session_import (app_name, session_id, user_id) FROM stdin WITH (FORMAT csv);
si-bad,ok,u
si-bad,x,
\.
COPY agentstore.session_import (app_name, session_id, user_id) FROM stdin WITH (FORMAT csv);
,x,u
\.
INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('si-bad', 'x', 'u'), (NULL, 'x', 'u');
INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('si-bad', repeat('s', 256), 'u');
INSERT INTO agentstore.session_import (app_name, session_id, user_id, state) VALUES ('si-bad', 'x', 'u', '[1]');
COPY agentstore.session_import (app_name, session_id, user_id, state) FROM stdin WITH (FORMAT csv);
si-bad,x,u,{not json
\.
SET agentstore.batch_size = 1;
INSERT INTO agentstore.session_import (app_name, session_id, user_id)
VALUES ('si-bad', 'c1', 'u'), ('si-bad', 'c2', 'u'), ('si-bad', 'c3', NULL);
RESET agentstore.batch_size;
SELECT count(*) AS after FROM agentstore.sessions WHERE app_name = 'si-bad';

-- a failed import inside a savepoint leaves nothing behind for the next one
BEGIN;
SAVEPOINT a;
INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('si-sp', 'x', 'u'), ('si-sp', 'y', NULL);
ROLLBACK TO a;
INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('si-sp', 'z', 'u');
SELECT * FROM agentstore.session_import_result();
COMMIT;
SELECT session_id FROM agentstore.sessions WHERE app_name = 'si-sp';

-- the trigger functions are only triggers
SELECT agentstore.session_import_row();
CREATE TEMP TABLE not_the_view (a int);
CREATE TRIGGER t BEFORE INSERT ON not_the_view FOR EACH ROW EXECUTE FUNCTION agentstore.session_import_row();
INSERT INTO not_the_view VALUES (1);

-- Row triggers on agentstore.sessions fire for the bulk session writer as
-- for INSERT ... ON CONFLICT DO UPDATE: BEFORE INSERT row triggers fire for
-- every incoming row (what they return is what is inserted, or the EXCLUDED
-- row of an update; NULL skips the row), then BEFORE UPDATE row triggers for
-- a row that updates an existing session.  Rows are written one at a time,
-- so a trigger that reads the table sees the rows written before its own.
SET client_min_messages = warning;
SET timezone = 'UTC';

CREATE FUNCTION public.sbulk_before_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.app_name NOT LIKE 'trg-%' THEN
		RETURN NEW;
	END IF;
	IF NEW.name = 'skip' THEN
		RETURN NULL;
	END IF;
	NEW.name := 'tagged ' || coalesce(NEW.name, '-');
	-- how many sessions of the app the trigger saw
	NEW.agent_id := (SELECT count(*) FROM agentstore.sessions s
	                  WHERE s.app_name = NEW.app_name AND s.deleted_at IS NULL)::text;
	RETURN NEW;
END $$;
CREATE TRIGGER sbulk_before_insert BEFORE INSERT ON agentstore.sessions
	FOR EACH ROW EXECUTE FUNCTION public.sbulk_before_insert();

CREATE FUNCTION public.sbulk_before_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.app_name LIKE 'trg-%' THEN
		NEW.team_id := 'updated from ' || coalesce(OLD.name, '-');
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER sbulk_before_update BEFORE UPDATE ON agentstore.sessions
	FOR EACH ROW EXECUTE FUNCTION public.sbulk_before_update();

CREATE TEMP VIEW st AS
SELECT app_name, session_id, name, agent_id, team_id
  FROM agentstore.sessions WHERE app_name LIKE 'trg-%' AND deleted_at IS NULL;

-- new keys: the trigger's row is inserted, a NULL result skips the row
SELECT * FROM agentstore.upsert_sessions('[
  {"session_id": "a", "user_id": "u", "name": "first"},
  {"session_id": "b", "user_id": "u", "name": "skip"},
  {"session_id": "c", "user_id": "u"}
]'::jsonb, false, 'trg-jsonb');
SELECT * FROM st WHERE app_name = 'trg-jsonb' ORDER BY session_id;
SELECT * FROM agentstore.upsert_sessions('[
  {"session_id": "a", "user_id": "u", "name": "first"},
  {"session_id": "b", "user_id": "u", "name": "skip"},
  {"session_id": "c", "user_id": "u"}
]'::json, false, 'trg-json');
SELECT * FROM st WHERE app_name = 'trg-json' ORDER BY session_id;
COPY agentstore.session_import (app_name, session_id, user_id, name) FROM stdin WITH (FORMAT csv);
trg-copy,a,u,first
trg-copy,b,u,skip
trg-copy,c,u,
\.
SELECT * FROM agentstore.session_import_result();
SELECT * FROM st WHERE app_name = 'trg-copy' ORDER BY session_id;

-- existing keys: the trigger's row is the update (then BEFORE UPDATE
-- fires); a NULL result leaves the session as it was
SELECT * FROM agentstore.upsert_sessions('[
  {"session_id": "a", "user_id": "u", "name": "second"},
  {"session_id": "c", "user_id": "u", "name": "skip"},
  {"session_id": "d", "user_id": "u", "name": "new"}
]'::jsonb, false, 'trg-jsonb');
SELECT * FROM st WHERE app_name = 'trg-jsonb' ORDER BY session_id;
INSERT INTO agentstore.session_import (app_name, session_id, user_id, name)
VALUES ('trg-copy', 'a', 'u', 'second'), ('trg-copy', 'c', 'u', 'skip'), ('trg-copy', 'd', 'u', 'new');
SELECT * FROM agentstore.session_import_result();
SELECT * FROM st WHERE app_name = 'trg-copy' ORDER BY session_id;

-- in chunks of one row, as in one chunk
SET agentstore.batch_size = 1;
SELECT * FROM agentstore.upsert_sessions('[
  {"session_id": "x", "user_id": "u", "name": "one"},
  {"session_id": "y", "user_id": "u", "name": "skip"},
  {"session_id": "x", "user_id": "u", "name": "two"}
]'::jsonb, false, 'trg-small');
RESET agentstore.batch_size;
SELECT * FROM st WHERE app_name = 'trg-small' ORDER BY session_id;

-- what plain SQL does with the same trigger, for comparison
INSERT INTO agentstore.sessions (app_name, user_id, session_id, name)
VALUES ('trg-sql', 'u', 'a', 'first'), ('trg-sql', 'u', 'b', 'skip'), ('trg-sql', 'u', 'c', NULL);
INSERT INTO agentstore.sessions AS s (app_name, user_id, session_id, name)
VALUES ('trg-sql', 'u', 'a', 'second'), ('trg-sql', 'u', 'c', 'skip'), ('trg-sql', 'u', 'd', 'new')
ON CONFLICT (app_name, user_id, session_id) WHERE deleted_at IS NULL
DO UPDATE SET name = EXCLUDED.name, agent_id = EXCLUDED.agent_id;
SELECT * FROM st WHERE app_name = 'trg-sql' ORDER BY session_id;

-- a trigger that changes the key: the row goes to the trigger's key
CREATE OR REPLACE FUNCTION public.sbulk_before_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.app_name = 'trg-rekey' THEN
		NEW.session_id := 'rekeyed';
	END IF;
	RETURN NEW;
END $$;
SELECT * FROM agentstore.upsert_sessions('[
  {"session_id": "p", "user_id": "u", "name": "one"},
  {"session_id": "q", "user_id": "u", "name": "two"}
]'::jsonb, false, 'trg-rekey');
SELECT session_id, name, team_id FROM st WHERE app_name = 'trg-rekey' ORDER BY session_id;
-- and a key the trigger makes invalid is refused by the table's constraints
CREATE OR REPLACE FUNCTION public.sbulk_before_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.app_name = 'trg-bad' THEN
		NEW.user_id := NULL;
	END IF;
	RETURN NEW;
END $$;
\set VERBOSITY terse
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "p", "user_id": "u"}]'::jsonb, false, 'trg-bad');
\set VERBOSITY default
SELECT count(*) FROM st WHERE app_name = 'trg-bad';

DROP TRIGGER sbulk_before_insert ON agentstore.sessions;
DROP TRIGGER sbulk_before_update ON agentstore.sessions;
DROP FUNCTION public.sbulk_before_insert();
DROP FUNCTION public.sbulk_before_update();
DELETE FROM agentstore.sessions WHERE app_name LIKE 'trg-%';

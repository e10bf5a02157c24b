-- append_events and append_streams: versions, expected versions and their
-- SQLSTATE, idempotency by event id, empty arrays, bad input, triggers and
-- privileges on the bulk path.  Stream names start with "sapp".
SET client_min_messages = warning;

CREATE TEMP VIEW sapp AS
SELECT stream, version, event_id, type, data, metadata, expires_at
  FROM agentstore.events
 WHERE stream LIKE 'sapp%'
 ORDER BY stream, version;

-- (streams_api.sql asserts the SQLSTATEs.)
\set SHOW_CONTEXT never

-- A first append numbers from 1; every key of an event is optional.
SELECT first_version, last_version, last_position - first_position AS position_span
  FROM agentstore.append_events('sapp-1', '[
  {"type": "created", "data": {"n": 1}},
  {"type": "renamed", "data": {"n": 2}, "metadata": {"by": "me"}},
  {"event_id": "e3", "data": [1, 2, 3], "expires_at": "2100-01-01 00:00:00+00"},
  {},
  {"type": null, "data": null, "metadata": null, "event_id": null, "expires_at": null}
]');
SELECT * FROM sapp WHERE stream = 'sapp-1';
-- first_position..last_position cover exactly the appended rows.
SELECT count(*) = 5 AS positions_match FROM agentstore.events
 WHERE stream = 'sapp-1' AND position BETWEEN
       (SELECT min(position) FROM agentstore.events WHERE stream = 'sapp-1')
   AND (SELECT max(position) FROM agentstore.events WHERE stream = 'sapp-1');
-- Scalars are valid data.
SELECT first_version, last_version FROM agentstore.append_events('sapp-1',
  '[{"data": "text"}, {"data": 42}, {"data": true}]');
SELECT version, data FROM sapp WHERE stream = 'sapp-1' AND version > 5;

-- Expected versions: NULL = any, exact, -1 (no stream), -2 (stream exists).
SELECT agentstore.no_stream(), agentstore.stream_exists();
SELECT first_version, last_version FROM agentstore.append_events('sapp-1', '[{}]', 8);
SELECT first_version, last_version FROM agentstore.append_events('sapp-1', '[{}]', agentstore.stream_exists());
SELECT first_version, last_version FROM agentstore.append_events('sapp-2', '[{}]', agentstore.no_stream());
SELECT first_version, last_version FROM agentstore.append_events('sapp-3', '[{}]', 0);
SELECT first_version, last_version FROM agentstore.append_events('sapp-2', '[{}, {}]', 1);

-- Conflicts: SQLSTATE SV001, DETAIL names stream, actual and expected, and
-- nothing is written.
SELECT * FROM agentstore.append_events('sapp-1', '[{"type": "lost"}]', 3);
SELECT * FROM agentstore.append_events('sapp-1', '[{"type": "lost"}]', agentstore.no_stream());
SELECT * FROM agentstore.append_events('sapp-1', '[{"type": "lost"}]', 0);
SELECT * FROM agentstore.append_events('sapp-4', '[{"type": "lost"}]', agentstore.stream_exists());
SELECT * FROM agentstore.append_events('sapp-4', '[{"type": "lost"}]', 1);
SELECT count(*) AS lost_events FROM agentstore.events WHERE stream LIKE 'sapp%' AND type = 'lost';
-- The SQLSTATE can be caught by name in PL/pgSQL.
DO $$
BEGIN
    PERFORM agentstore.append_events('sapp-1', '[{}]', 1);
EXCEPTION WHEN SQLSTATE 'SV001' THEN
    RAISE WARNING 'caught %: %', SQLSTATE, SQLERRM;
END $$;
-- Unknown constants are rejected, not taken as a conflict.
SELECT * FROM agentstore.append_events('sapp-1', '[{}]', -3);

-- Empty array: nothing written, the expectation is still checked, and
-- last_version is the current version.
SELECT * FROM agentstore.append_events('sapp-1', '[]');
SELECT * FROM agentstore.append_events('sapp-1', '[]', 10);
SELECT * FROM agentstore.append_events('sapp-5', '[]', agentstore.no_stream());
SELECT * FROM agentstore.append_events('sapp-1', '[]', 9);
SELECT count(*) AS sapp5_events FROM agentstore.events WHERE stream = 'sapp-5';

-- Idempotency: a retried append returns the original versions and writes
-- nothing; its expectation is judged against the original append.
SELECT first_version, last_version FROM agentstore.append_events('sapp-6',
  '[{"event_id": "a", "type": "x"}, {"event_id": "b", "type": "y"}]', agentstore.no_stream());
SELECT first_version, last_version FROM agentstore.append_events('sapp-6',
  '[{"event_id": "c"}]', 2);
-- retries
SELECT first_version, last_version FROM agentstore.append_events('sapp-6',
  '[{"event_id": "a", "type": "x"}, {"event_id": "b", "type": "y"}]', agentstore.no_stream());
SELECT first_version, last_version FROM agentstore.append_events('sapp-6',
  '[{"event_id": "c"}]', 2);
SELECT first_version, last_version FROM agentstore.append_events('sapp-6',
  '[{"event_id": "b"}, {"event_id": "c"}]');
-- the same ids with an expectation they were not written under
SELECT * FROM agentstore.append_events('sapp-6', '[{"event_id": "b"}, {"event_id": "c"}]', 0);
SELECT * FROM agentstore.append_events('sapp-6', '[{"event_id": "c"}, {"event_id": "b"}]', 1);
-- partly stored: the stored ones are skipped, the others appended
SELECT first_version, last_version FROM agentstore.append_events('sapp-6',
  '[{"event_id": "a"}, {"event_id": "d"}, {"type": "no id"}]', 3);
-- a batch resent with an overlap at its end: the stored ones are skipped
SELECT first_version, last_version FROM agentstore.append_events('sapp-6',
  '[{"event_id": "e"}, {"event_id": "c"}, {"event_id": "d"}]');
-- a stored id in the middle of an otherwise new batch is not looked for
-- (only the ends are): the unique index refuses it and nothing is written
SELECT * FROM agentstore.append_events('sapp-6',
  '[{"event_id": "f"}, {"event_id": "b"}, {"event_id": "g"}]');
SELECT version, event_id, type FROM sapp WHERE stream = 'sapp-6';
-- an id seen earlier in the same statement is recognised too
SELECT g, a.first_version, a.last_version
  FROM generate_series(1, 3) g,
       LATERAL agentstore.append_events('sapp-7', jsonb_build_array(jsonb_build_object('event_id', 'x', 'data', g))) a;
SELECT version, data FROM sapp WHERE stream = 'sapp-7';
-- ids are per stream, and compared byte-wise
SELECT first_version FROM agentstore.append_events('sapp-8', '[{"event_id": "a"}, {"event_id": "A"}, {"event_id": "a "}]');
-- one id twice in one append is an error
SELECT * FROM agentstore.append_events('sapp-6', '[{"event_id": "z"}, {}, {"event_id": "z"}]');
-- a plain INSERT of a stored id is a unique violation, not a conflict
INSERT INTO agentstore.events (stream, event_id) VALUES ('sapp-6', 'a');

-- append_streams: several streams, each with its own expectation, all or
-- nothing; one result row per element, in order.
SELECT stream, first_version, last_version, last_position - first_position AS position_span
  FROM agentstore.append_streams('[
  {"stream": "sapp-10", "events": [{"type": "a"}, {"type": "b"}], "expected_version": -1},
  {"stream": "sapp-11", "events": [{"type": "c"}]},
  {"stream": "sapp-1", "events": [], "expected_version": 10}
]') ORDER BY stream;
SELECT * FROM agentstore.append_streams('[
  {"stream": "sapp-10", "events": [{"type": "lost"}], "expected_version": 2},
  {"stream": "sapp-11", "events": [{"type": "lost"}], "expected_version": 5}
]');
SELECT * FROM agentstore.append_streams('[
  {"stream": "sapp-12", "events": [{"type": "lost"}]},
  {"stream": "sapp-11", "events": [{"type": "lost"}], "expected_version": -1}
]');
SELECT count(*) AS lost_events FROM agentstore.events WHERE stream LIKE 'sapp%' AND type = 'lost';
SELECT * FROM agentstore.append_streams('[]');
SELECT * FROM agentstore.append_streams('[{"stream": "sapp-13", "events": [{}]}, {"stream": "sapp-13", "events": []}]');
SELECT * FROM agentstore.append_streams('{"stream": "sapp-13"}');
SELECT * FROM agentstore.append_streams('[[]]');
SELECT * FROM agentstore.append_streams('[{"events": []}]');
SELECT * FROM agentstore.append_streams('[{"stream": 1, "events": []}]');
SELECT * FROM agentstore.append_streams('[{"stream": "sapp-13"}]');
SELECT * FROM agentstore.append_streams('[{"stream": "sapp-13", "events": {}}]');
SELECT * FROM agentstore.append_streams('[{"stream": "sapp-13", "events": [], "expected_version": "1"}]');
SELECT * FROM agentstore.append_streams('[{"stream": "sapp-13", "events": [], "expected_version": 1.5}]');
SELECT * FROM agentstore.append_streams('[{"stream": "sapp-13", "events": [], "expected_version": -7}]');
SELECT * FROM agentstore.append_streams('[{"stream": "sapp-13", "events": [], "expect": 1}]');
SELECT * FROM agentstore.append_streams('[{"stream": "sapp-13", "events": [1]}]');
SELECT * FROM agentstore.append_streams(NULL);

-- Bad input: each a clear error, nothing written.
SELECT * FROM agentstore.append_events(NULL, '[{}]');
SELECT * FROM agentstore.append_events('sapp-14', NULL);
SELECT * FROM agentstore.append_events('', '[{}]');
SELECT * FROM agentstore.append_events(repeat('s', 1025), '[{}]');
SELECT * FROM agentstore.append_events('sapp-14', '{"type": "x"}');
SELECT * FROM agentstore.append_events('sapp-14', '"x"');
SELECT * FROM agentstore.append_events('sapp-14', '[{}, 1]');
SELECT * FROM agentstore.append_events('sapp-14', '[{}, [{}]]');
SELECT * FROM agentstore.append_events('sapp-14', '[{"typo": 1}]');
SELECT * FROM agentstore.append_events('sapp-14', '[{"type": 1}]');
SELECT * FROM agentstore.append_events('sapp-14', '[{"event_id": 7}]');
SELECT * FROM agentstore.append_events('sapp-14', '[{"event_id": ""}]');
SELECT * FROM agentstore.append_events('sapp-14', jsonb_build_array(jsonb_build_object('event_id', repeat('i', 256))));
SELECT * FROM agentstore.append_events('sapp-14', '[{"expires_at": 5}]');
\set SHOW_CONTEXT errors
SELECT * FROM agentstore.append_events('sapp-14', '[{}, {"expires_at": "tomorrow at noon"}]');
\set SHOW_CONTEXT never
SELECT count(*) AS sapp14_events FROM agentstore.events WHERE stream = 'sapp-14';
-- the longest name and id are accepted
SELECT first_version FROM agentstore.append_events(repeat('s', 1024),
  jsonb_build_array(jsonb_build_object('event_id', repeat('i', 255))));
DELETE FROM agentstore.events WHERE stream = repeat('s', 1024);

-- The jsonb form (a typed argument) behaves as the text form (an untyped
-- literal resolves to the text form, which converts event by event).
SELECT first_version, last_version FROM agentstore.append_events('sapp-16',
  '[{"event_id": "j1", "type": "a", "data": {"n": [1, 2]}}, {"type": "b", "metadata": "m"}]'::jsonb);
SELECT first_version, last_version FROM agentstore.append_events('sapp-16',
  '[{"event_id": "j1", "type": "a", "data": {"n": [1, 2]}}]'::jsonb, agentstore.no_stream());
SELECT first_version, last_version FROM agentstore.append_events('sapp-16', '[{"type": "c"}]'::jsonb, 2);
SELECT * FROM agentstore.append_events('sapp-16', '[]'::jsonb);
SELECT version, event_id, type, data, metadata FROM sapp WHERE stream = 'sapp-16';
SELECT * FROM agentstore.append_events('sapp-16', '[{}]'::jsonb, 1);
SELECT * FROM agentstore.append_events('sapp-16', '{"type": "x"}'::jsonb);
SELECT * FROM agentstore.append_events('sapp-16', '[{}, "x"]'::jsonb);
SELECT * FROM agentstore.append_events('sapp-16', '[{"typo": 1}]'::jsonb);
SELECT * FROM agentstore.append_events('sapp-16', '[{"event_id": "d"}, {"event_id": "d"}]'::jsonb);
SELECT * FROM agentstore.append_events('sapp-16', NULL::jsonb);
-- and the text form's own input errors
SELECT * FROM agentstore.append_events('sapp-16', '[{"type": "x"]');
SELECT * FROM agentstore.append_events('sapp-16', '');
SELECT first_version, last_version FROM agentstore.append_events('sapp-16', '  [ {"type" : "spaced" } ,{ } ]  ');
SELECT * FROM agentstore.append_events('sapp-16', 'null');
SELECT count(*) AS sapp16_events FROM agentstore.events WHERE stream = 'sapp-16';

-- The bulk path and the trigger path share the numbering of a stream in one
-- transaction, in any order.
BEGIN;
INSERT INTO agentstore.events (stream, type) VALUES ('sapp-15', 'insert');
SELECT first_version, last_version FROM agentstore.append_events('sapp-15', '[{"type": "append"}, {"type": "append"}]');
INSERT INTO agentstore.events (stream, type) VALUES ('sapp-15', 'insert'), ('sapp-15', 'insert');
SELECT first_version, last_version FROM agentstore.append_events('sapp-15', '[{"type": "append"}]', 5);
COMMIT;
SELECT version, type FROM sapp WHERE stream = 'sapp-15';
-- and a rolled-back savepoint leaves no gap in either
BEGIN;
SAVEPOINT s;
SELECT first_version FROM agentstore.append_events('sapp-15', '[{"type": "rolled back"}]');
ROLLBACK TO SAVEPOINT s;
SELECT first_version FROM agentstore.append_events('sapp-15', '[{"type": "append"}]', 6);
COMMIT;

-- AFTER triggers (row, statement, transition table) and deferred
-- constraints fire for bulk-appended rows as for COPY.
CREATE TABLE sapp_log (what text, stream text, version bigint);
CREATE FUNCTION sapp_log_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stream LIKE 'sapp-trig%' THEN
        INSERT INTO sapp_log VALUES (TG_WHEN || ' ' || TG_LEVEL, NEW.stream, NEW.version);
    END IF;
    RETURN NEW;
END $$;
CREATE FUNCTION sapp_log_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sapp_log
    SELECT TG_WHEN || ' ' || TG_LEVEL || ' ' || count(*), min(stream), max(version)
      FROM new_rows WHERE stream LIKE 'sapp-trig%';
    RETURN NULL;
END $$;
CREATE TRIGGER sapp_after_row AFTER INSERT ON agentstore.events
    FOR EACH ROW EXECUTE FUNCTION sapp_log_row();
CREATE TRIGGER sapp_after_statement AFTER INSERT ON agentstore.events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sapp_log_statement();
SELECT first_version, last_version FROM agentstore.append_events('sapp-trig', '[{}, {}, {}]');
SELECT * FROM sapp_log ORDER BY what, version;
DROP TRIGGER sapp_after_row ON agentstore.events;
DROP TRIGGER sapp_after_statement ON agentstore.events;
-- A foreign key (an AFTER trigger) is checked.
CREATE TABLE sapp_types (type text PRIMARY KEY);
INSERT INTO sapp_types VALUES ('known');
ALTER TABLE agentstore.events ADD CONSTRAINT sapp_fk FOREIGN KEY (type) REFERENCES sapp_types NOT VALID;
SELECT first_version FROM agentstore.append_events('sapp-fk', '[{"type": "known"}]');
SELECT first_version FROM agentstore.append_events('sapp-fk', '[{"type": "known"}, {"type": "unknown"}]');
ALTER TABLE agentstore.events DROP CONSTRAINT sapp_fk;
DROP TABLE sapp_types;
-- A CHECK constraint of the table applies.
ALTER TABLE agentstore.events ADD CONSTRAINT sapp_check CHECK (type <> 'forbidden') NOT VALID;
\set VERBOSITY terse
SELECT first_version FROM agentstore.append_events('sapp-check', '[{"type": "fine"}, {"type": "forbidden"}]');
\set VERBOSITY default
ALTER TABLE agentstore.events DROP CONSTRAINT sapp_check;
SELECT count(*) AS check_events FROM agentstore.events WHERE stream IN ('sapp-fk', 'sapp-check');

-- A changed column default is used by the next append (the planned
-- defaults are cached per table definition).
SELECT first_version FROM agentstore.append_events('sapp-default', '[{}]');
ALTER TABLE agentstore.events ALTER type SET DEFAULT 'defaulted';
SELECT first_version FROM agentstore.append_events('sapp-default', '[{}, {"type": "given"}]');
ALTER TABLE agentstore.events ALTER type SET DEFAULT '';
SELECT first_version FROM agentstore.append_events('sapp-default', '[{}]');
SELECT version, type FROM sapp WHERE stream = 'sapp-default';

-- A BEFORE ROW trigger of the user sends the append through plain INSERTs,
-- which fire it; versions stay gap-free.
CREATE FUNCTION sapp_before() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stream LIKE 'sapp-before%' THEN
        NEW.metadata := jsonb_build_object('seen_version', NEW.version);
        IF NEW.type = 'skip me' THEN
            RETURN NULL;
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER sapp_before BEFORE INSERT ON agentstore.events
    FOR EACH ROW EXECUTE FUNCTION sapp_before();
SELECT first_version, last_version FROM agentstore.append_events('sapp-before', '[{"type": "a"}, {"type": "b"}]');
SELECT first_version, last_version FROM agentstore.append_events('sapp-before', '[{"type": "c"}]', 2);
SELECT version, type, metadata FROM sapp WHERE stream = 'sapp-before';
SELECT * FROM agentstore.append_events('sapp-before', '[{"type": "skip me"}]');
DROP TRIGGER sapp_before ON agentstore.events;

-- Privileges: append_events needs INSERT and SELECT on agentstore.events
-- (as INSERT ... RETURNING), like any client.  Under row-level security it
-- refuses (0A000): INSERT honours the policies and is numbered by the
-- trigger (test/sql/streams_integrity.sql has the tenant matrix).
CREATE ROLE sapp_writer;
GRANT USAGE ON SCHEMA agentstore TO sapp_writer;
GRANT USAGE ON SEQUENCE agentstore.events_position_seq TO sapp_writer;
GRANT INSERT ON agentstore.events TO sapp_writer;
SET ROLE sapp_writer;
SELECT * FROM agentstore.append_events('sapp-priv', '[{}]');
RESET ROLE;
GRANT SELECT ON agentstore.events TO sapp_writer;
SET ROLE sapp_writer;
SELECT first_version FROM agentstore.append_events('sapp-priv', '[{}]');
RESET ROLE;
ALTER TABLE agentstore.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY sapp_read ON agentstore.events FOR SELECT USING (true);
CREATE POLICY sapp_write ON agentstore.events FOR INSERT WITH CHECK (stream LIKE 'sapp-priv%');
SET ROLE sapp_writer;
SELECT first_version FROM agentstore.append_events('sapp-priv', '[{"type": "allowed"}]');
SELECT * FROM agentstore.append_events('sapp-other', '[{"type": "denied"}]');
INSERT INTO agentstore.events (stream, type) VALUES ('sapp-priv', 'allowed') RETURNING version;
INSERT INTO agentstore.events (stream, type) VALUES ('sapp-other', 'denied');
RESET ROLE;
DROP POLICY sapp_read ON agentstore.events;
DROP POLICY sapp_write ON agentstore.events;
ALTER TABLE agentstore.events DISABLE ROW LEVEL SECURITY;
SELECT version, type FROM sapp WHERE stream IN ('sapp-priv', 'sapp-other');
REVOKE ALL ON agentstore.events FROM sapp_writer;
REVOKE ALL ON SEQUENCE agentstore.events_position_seq FROM sapp_writer;
REVOKE ALL ON SCHEMA agentstore FROM sapp_writer;
DROP ROLE sapp_writer;

-- Not in a read-only transaction.
BEGIN READ ONLY;
SELECT * FROM agentstore.append_events('sapp-ro', '[{}]');
ROLLBACK;

-- Everything above left every stream gap-free.
SELECT stream, count(*), max(version) FROM agentstore.events
 WHERE stream LIKE 'sapp%' GROUP BY stream HAVING count(*) <> max(version);

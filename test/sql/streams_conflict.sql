-- agentstore.last_version_conflict(): every expected-version conflict
-- (SV001) records the full stream name, the expected and the actual version,
-- so that a client can tell which stream of a multi-stream append failed
-- even when the DETAIL's bounded quote cannot.  Everything runs in one
-- transaction that is rolled back, and the position sequence is restored,
-- so that the tests that follow see what they would see without this one.
SET client_min_messages = warning;
CREATE TEMP TABLE position_before AS
SELECT last_value, is_called FROM agentstore.events_position_seq;

BEGIN;
-- no conflict yet in this session: no row
SELECT * FROM agentstore.last_version_conflict();

-- two streams whose names share far more than the 64 bytes a DETAIL quotes
CREATE TEMP TABLE names AS
SELECT repeat('p', 80) || '-one' AS one, repeat('p', 80) || '-two' AS two;
SELECT s.stream = n.one AS is_one, s.first_version, s.last_version
  FROM names n,
       agentstore.append_streams(jsonb_build_array(
           jsonb_build_object('stream', n.one, 'events', '[{"type": "a", "event_id": "e1"}]'::jsonb))) s;

-- the written stream's expectation fails: the DETAIL cannot say which
SAVEPOINT s1;
SELECT * FROM names n, agentstore.append_streams(jsonb_build_array(
    jsonb_build_object('stream', n.one, 'events', '[]'::jsonb, 'expected_version', 1),
    jsonb_build_object('stream', n.two, 'events', '[{"type": "b"}]'::jsonb, 'expected_version', 3)));
ROLLBACK TO SAVEPOINT s1;
SELECT c.stream = n.two AS is_two, length(c.stream), c.expected_version, c.actual_version
  FROM names n, agentstore.last_version_conflict() c;

-- a read-only participant (no events) whose expectation fails
SAVEPOINT s2;
SELECT * FROM names n, agentstore.append_streams(jsonb_build_array(
    jsonb_build_object('stream', n.one, 'events', '[]'::jsonb, 'expected_version', 0),
    jsonb_build_object('stream', n.two, 'events', '[{"type": "b"}]'::jsonb, 'expected_version', 0)));
ROLLBACK TO SAVEPOINT s2;
SELECT c.stream = n.one AS is_one, c.expected_version, c.actual_version
  FROM names n, agentstore.last_version_conflict() c;
-- nothing was written to the other stream
SELECT agentstore.stream_version(two) FROM names;

-- append_events with the constants: no stream (-1) on an existing stream
SAVEPOINT s3;
SELECT * FROM names n, agentstore.append_events(n.one, '[{"type": "c"}]'::jsonb, agentstore.no_stream());
ROLLBACK TO SAVEPOINT s3;
SELECT c.stream = n.one AS is_one, c.expected_version, c.actual_version
  FROM names n, agentstore.last_version_conflict() c;

-- and an existing stream (-2) on a new one
SAVEPOINT s4;
SELECT * FROM agentstore.append_events('sconf-new', '[{"type": "c"}]'::jsonb, agentstore.stream_exists());
ROLLBACK TO SAVEPOINT s4;
SELECT * FROM agentstore.last_version_conflict();

-- a replay (every event id already stored) under an expectation its
-- versions do not follow
SAVEPOINT s5;
SELECT * FROM names n, agentstore.append_events(n.one, '[{"type": "a", "event_id": "e1"}]'::jsonb, 4);
ROLLBACK TO SAVEPOINT s5;
SELECT c.stream = n.one AS is_one, c.expected_version, c.actual_version
  FROM names n, agentstore.last_version_conflict() c;

-- a successful append leaves the record alone
SELECT last_version FROM agentstore.append_events('sconf-new', '[{"type": "d"}]'::jsonb, 0);
SELECT expected_version, actual_version FROM agentstore.last_version_conflict();

-- another role does not see it
CREATE ROLE regress_conflict_other;
GRANT USAGE ON SCHEMA agentstore TO regress_conflict_other;
SET ROLE regress_conflict_other;
SELECT * FROM agentstore.last_version_conflict();
RESET ROLE;
SELECT expected_version, actual_version FROM agentstore.last_version_conflict();
ROLLBACK;

SELECT setval('agentstore.events_position_seq', last_value, is_called) IS NOT NULL AS restored
  FROM position_before;
DROP TABLE position_before;

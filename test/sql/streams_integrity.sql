-- Event streams: versions stay 1..n and are never issued twice, whoever
-- writes -- INSERT ... ON CONFLICT, a stream at the largest version, events
-- deleted by a DELETE or the TTL purge -- plus stream name checks and
-- row-level security.
\set VERBOSITY default
CREATE VIEW si AS
    SELECT stream, version, event_id, type, data FROM agentstore.events
     WHERE stream LIKE 'si-%' OR stream LIKE 'oc-%'
     ORDER BY stream, version;

-- 1. INSERT ... ON CONFLICT DO NOTHING: a row whose event id the stream
-- already holds consumes no version.
INSERT INTO agentstore.events (stream, event_id, type, data) VALUES ('oc-1', 'a', 't', '{}');
INSERT INTO agentstore.events (stream, event_id, type, data)
    VALUES ('oc-1', 'a', 't', '{}'), ('oc-1', 'b', 't', '{}')
    ON CONFLICT DO NOTHING RETURNING version, event_id;
-- the same with the arbiter named, and an id repeated within the statement
INSERT INTO agentstore.events (stream, event_id, type)
    VALUES ('oc-1', 'b', 't'), ('oc-1', 'c', 't'), ('oc-1', 'c', 't'), ('oc-1', 'd', 't')
    ON CONFLICT (stream, event_id) WHERE event_id IS NOT NULL DO NOTHING
    RETURNING version, event_id;
-- an id inserted earlier in the same transaction
BEGIN;
INSERT INTO agentstore.events (stream, event_id) VALUES ('oc-2', 'x');
INSERT INTO agentstore.events (stream, event_id) VALUES ('oc-2', 'x'), ('oc-2', 'y')
    ON CONFLICT DO NOTHING RETURNING version, event_id;
COMMIT;
-- DO UPDATE updates the stored row and keeps its version
INSERT INTO agentstore.events (stream, event_id, type, data)
    VALUES ('oc-1', 'a', 'updated', '{"n": 1}'), ('oc-1', 'e', 'new', '{}')
    ON CONFLICT (stream, event_id) WHERE event_id IS NOT NULL
    DO UPDATE SET type = EXCLUDED.type, data = EXCLUDED.data
    RETURNING version, event_id, type;
-- without ON CONFLICT the duplicate still fails on the event id's index
INSERT INTO agentstore.events (stream, event_id) VALUES ('oc-1', 'f'), ('oc-1', 'a');
-- COPY numbers rows the same way
COPY agentstore.events (stream, event_id, type) FROM stdin;
oc-1	f	copied
\.
INSERT INTO agentstore.events (stream, event_id, type) VALUES ('oc-1', 'f', 'again'), ('oc-1', 'g', 't')
    ON CONFLICT DO NOTHING RETURNING version, event_id;
SELECT * FROM si;
SELECT stream, count(*) AS events, max(version) AS last_version
  FROM si GROUP BY stream ORDER BY stream;

-- 2. The largest version: a clear 22003 naming the stream on every path,
-- nothing written.
INSERT INTO agentstore.events (stream, version, event_id) VALUES ('si-max', 9223372036854775807, 'last');
INSERT INTO agentstore.events (stream) VALUES ('si-max');
COPY agentstore.events (stream) FROM stdin;
si-max
\.
SELECT * FROM agentstore.append_events('si-max', '[{}]');
SELECT * FROM agentstore.append_events('si-max', '[{}]', 9223372036854775807);
SELECT * FROM agentstore.append_streams('[{"stream": "si-max", "events": [{}]}]');
-- a replay or an empty append still answer
SELECT first_version, last_version FROM agentstore.append_events('si-max', '[{"event_id": "last"}]');
SELECT last_version FROM agentstore.append_events('si-max', '[]');
-- a stored event id needs no version: ON CONFLICT skips it even here
INSERT INTO agentstore.events (stream, event_id) VALUES ('si-max', 'last') ON CONFLICT DO NOTHING;
-- a session's stream: append_event numbers through the version trigger
-- (created by INSERT: create_session returns freed memory on assert-enabled
-- builds, a bug of the session functions outside this test's concern)
INSERT INTO agentstore.sessions (app_name, user_id, session_id)
    VALUES ('streams-integrity', 'u1', 's1') RETURNING id AS sid \gset
INSERT INTO agentstore.events (stream, version, event_id)
    VALUES ('session-' || :sid, 9223372036854775806, 'imported');
SELECT version FROM agentstore.append_event('streams-integrity', 'u1', 's1', '{"id": "e1"}');
\set VERBOSITY sqlstate
SELECT version FROM agentstore.append_event('streams-integrity', 'u1', 's1', '{"id": "e2"}');
\set VERBOSITY default
SELECT count(*) FROM agentstore.events WHERE stream IN ('si-max', 'session-' || :sid);
SELECT agentstore.delete_session('streams-integrity', 'u1', 's1', true);

-- 3. Deleted events keep their versions: the next append continues after
-- the greatest version the stream ever had.
SELECT last_version FROM agentstore.append_events('si-del', '[{}, {}, {}]');
DELETE FROM agentstore.events WHERE stream = 'si-del' AND version >= 2;
INSERT INTO agentstore.events (stream, type) VALUES ('si-del', 'after delete') RETURNING version;
DELETE FROM agentstore.events WHERE stream = 'si-del';
SELECT first_version FROM agentstore.append_events('si-del', '[{"type": "after delete all"}]');
SELECT first_version FROM agentstore.append_events('si-del', '[{}]', 4);
-- a delete rolled back leaves no mark
BEGIN;
DELETE FROM agentstore.events WHERE stream = 'si-del' AND version = 5;
ROLLBACK;
SELECT version FROM si WHERE stream = 'si-del';
SELECT * FROM agentstore.stream_heads WHERE stream = 'si-del';
-- (the TTL purge: test/t/022_streams_ttl_versions.pl)
-- deleting needs no privilege on stream_heads
CREATE ROLE si_deleter;
GRANT USAGE ON SCHEMA agentstore TO si_deleter;
GRANT SELECT, DELETE ON agentstore.events TO si_deleter;
SET ROLE si_deleter;
DELETE FROM agentstore.events WHERE stream = 'si-del' AND version = 5;
SELECT * FROM agentstore.stream_heads;
RESET ROLE;
SELECT * FROM agentstore.stream_heads WHERE stream = 'si-del';
-- stream_version is the next append's expectation, also once the newest
-- events are gone (it said 4 here, and every append expecting it failed),
-- and for a role that may read the events but not stream_heads.
SET ROLE si_deleter;
SELECT agentstore.stream_version('si-del');
RESET ROLE;
SELECT first_version FROM agentstore.append_events('si-del', '[{}]',
                                                   agentstore.stream_version('si-del'));
SELECT agentstore.stream_version('si-del');
REVOKE ALL ON agentstore.events FROM si_deleter;
REVOKE ALL ON SCHEMA agentstore FROM si_deleter;
DROP ROLE si_deleter;

-- 4. Stream names: 1 to 1,024 characters, checked by every function,
-- quoted as a short prefix cut at a character boundary.
SELECT * FROM agentstore.read_stream('');
SELECT * FROM agentstore.stream_version('');
SELECT * FROM agentstore.read_stream(repeat('é', 1025));
SELECT * FROM agentstore.stream_version(repeat('x', 10 * 1024 * 1024));
-- 1,025 characters of four bytes (they passed: only 4,096 bytes were counted)
SELECT * FROM agentstore.stream_version(repeat(U&'\+01F600', 1025));
SELECT * FROM agentstore.append_events(repeat(U&'\+01F600', 1025), '[{}]');
SELECT * FROM agentstore.append_events(repeat('é', 5000), '[{}]');
SELECT * FROM agentstore.append_streams('[{"stream": "si-ok", "events": []}, {"stream": "", "events": []}]');
SELECT * FROM agentstore.read_category(repeat('é', 100) || '-x');
SELECT count(*) FROM agentstore.read_stream(repeat('s', 1024));

-- 5. Row-level security: tenants see and write only their own streams.
-- append_events and append_streams refuse (0A000) when a policy applies;
-- INSERT and the read functions honour the policies.
CREATE ROLE si_ta;
CREATE ROLE si_tb;
GRANT USAGE ON SCHEMA agentstore TO si_ta, si_tb;
GRANT SELECT, INSERT ON agentstore.events TO si_ta, si_tb;
GRANT USAGE ON SEQUENCE agentstore.events_position_seq TO si_ta, si_tb;
ALTER TABLE agentstore.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON agentstore.events
    USING (split_part(stream, '-', 1) = current_user);
SET ROLE si_tb;
INSERT INTO agentstore.events (stream, event_id, type) VALUES ('si_tb-orders', 'o1', 'placed');
INSERT INTO agentstore.events (stream, event_id, type) VALUES ('si_tb-orders', 'o2', 'paid');
SELECT * FROM agentstore.append_events('si_tb-orders', '[{"event_id": "o3"}]');
RESET ROLE;
SET ROLE si_ta;
-- nothing of si_tb's is returned, revealed or written
SELECT * FROM agentstore.append_events('si_tb-orders', '[{"event_id": "o1"}]');
SELECT * FROM agentstore.append_events('si_tb-orders', '[]', 0);
SELECT * FROM agentstore.append_events('si_ta-orders', '[{"event_id": "o1"}]');
SELECT * FROM agentstore.append_streams('[{"stream": "si_tb-orders", "events": [{"event_id": "o1"}]}]');
INSERT INTO agentstore.events (stream, event_id) VALUES ('si_tb-orders', 'o1') ON CONFLICT DO NOTHING;
INSERT INTO agentstore.events (stream, event_id) VALUES ('si_tb-orders', 'o9');
SELECT count(*) FROM agentstore.read_stream('si_tb-orders');
SELECT agentstore.stream_version('si_tb-orders');
SELECT count(*) FROM agentstore.read_category('si_tb');
SELECT count(*) FROM agentstore.read_all() WHERE stream LIKE 'si_tb-%';
-- its own stream works through INSERT and the reads
INSERT INTO agentstore.events (stream, event_id, type) VALUES ('si_ta-orders', 'o1', 'placed') RETURNING version;
INSERT INTO agentstore.events (stream, event_id, type) VALUES ('si_ta-orders', 'o1', 'placed') ON CONFLICT DO NOTHING;
SELECT version, event_id FROM agentstore.read_stream('si_ta-orders');
SELECT agentstore.stream_version('si_ta-orders');
RESET ROLE;
SELECT stream, version, event_id, type FROM agentstore.events
 WHERE stream LIKE 'si_ta-%' OR stream LIKE 'si_tb-%' ORDER BY stream, version;
-- the owner (here a superuser) is not subject to the policy: appends work
SELECT first_version FROM agentstore.append_events('si_tb-orders', '[{"event_id": "o4"}]');
DROP POLICY tenant ON agentstore.events;
ALTER TABLE agentstore.events DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON agentstore.events FROM si_ta, si_tb;
REVOKE ALL ON SEQUENCE agentstore.events_position_seq FROM si_ta, si_tb;
REVOKE ALL ON SCHEMA agentstore FROM si_ta, si_tb;
DROP ROLE si_ta;
DROP ROLE si_tb;

DROP VIEW si;

-- The version trigger: gap-free per-stream versions for plain INSERT,
-- INSERT ... SELECT and COPY; import mode; transaction_id stamping; errors.
-- Stream names start with "strig" (this file's category).
SET client_min_messages = warning;

CREATE TEMP VIEW strig AS
SELECT stream, version, type
  FROM agentstore.events
 WHERE stream LIKE 'strig%'
 ORDER BY stream, version;

-- Single and multi-row INSERT, several streams in one statement.
INSERT INTO agentstore.events (stream, type) VALUES ('strig-a', 'a1');
INSERT INTO agentstore.events (stream, type)
VALUES ('strig-a', 'a2'), ('strig-b', 'b1'), ('strig-a', 'a3'), ('strig-b', 'b2');
-- INSERT ... SELECT, and RETURNING shows the assigned versions.
INSERT INTO agentstore.events (stream, type)
SELECT 'strig-a', 'a' || g FROM generate_series(4, 6) g
RETURNING stream, version, type;
-- COPY
COPY agentstore.events (stream, type) FROM stdin;
strig-b	b3
strig-c	c1
strig-b	b4
\.
SELECT * FROM strig;

-- A rolled-back append leaves no gap, nor does a rolled-back savepoint.
BEGIN;
INSERT INTO agentstore.events (stream, type) VALUES ('strig-a', 'rolled back');
ROLLBACK;
BEGIN;
INSERT INTO agentstore.events (stream, type) VALUES ('strig-a', 'a7');
SAVEPOINT s;
INSERT INTO agentstore.events (stream, type) VALUES ('strig-a', 'rolled back'), ('strig-a', 'rolled back');
ROLLBACK TO SAVEPOINT s;
INSERT INTO agentstore.events (stream, type) VALUES ('strig-a', 'a8');
SAVEPOINT t;
INSERT INTO agentstore.events (stream, type) VALUES ('strig-a', 'a9');
RELEASE SAVEPOINT t;
INSERT INTO agentstore.events (stream, type) VALUES ('strig-a', 'a10');
COMMIT;
SELECT string_agg(version || ':' || type, ' ' ORDER BY version) FROM strig WHERE stream = 'strig-a';

-- A subtransaction aborted in the middle of one statement (an exception
-- block in a BEFORE trigger of a user) drops the cache; the re-probe must
-- still see the rows the statement inserted before.
CREATE FUNCTION strig_user_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM 1 / 0;
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
    RETURN NEW;
END $$;
CREATE TRIGGER strig_user BEFORE INSERT ON agentstore.events
    FOR EACH ROW EXECUTE FUNCTION strig_user_trigger();
INSERT INTO agentstore.events (stream, type)
SELECT 'strig-d', 'd' || g FROM generate_series(1, 5) g;
DROP TRIGGER strig_user ON agentstore.events;
DROP FUNCTION strig_user_trigger();
SELECT string_agg(version::text, ',' ORDER BY version) FROM strig WHERE stream = 'strig-d';

-- Several statements of one transaction count on from the cache; a stream
-- written by another statement of the same transaction is seen.
BEGIN;
INSERT INTO agentstore.events (stream, type) VALUES ('strig-e', 'e1');
INSERT INTO agentstore.events (stream, type) VALUES ('strig-e', 'e2'), ('strig-f', 'f1');
INSERT INTO agentstore.events (stream, type) VALUES ('strig-e', 'e3');
COMMIT;
SELECT stream, string_agg(version::text, ',' ORDER BY version) FROM strig
 WHERE stream IN ('strig-e', 'strig-f') GROUP BY stream ORDER BY stream;

-- Import mode: a row with a version keeps it; later rows continue after the
-- highest version, in the same statement or later.
INSERT INTO agentstore.events (stream, version, type)
VALUES ('strig-g', 10, 'imported 10'), ('strig-g', 11, 'imported 11');
INSERT INTO agentstore.events (stream, type) VALUES ('strig-g', 'numbered');
BEGIN;
INSERT INTO agentstore.events (stream, type) VALUES ('strig-h', 'numbered');
INSERT INTO agentstore.events (stream, version, type) VALUES ('strig-h', 5, 'imported 5');
INSERT INTO agentstore.events (stream, type) VALUES ('strig-h', 'numbered');
COMMIT;
INSERT INTO agentstore.events (stream, version, type)
VALUES ('strig-i', 3, 'imported 3'), ('strig-i', NULL, 'numbered'), ('strig-i', NULL, 'numbered');
SELECT * FROM strig WHERE stream IN ('strig-g', 'strig-h', 'strig-i');

-- An imported version that is taken, or not positive, is rejected by the
-- primary key and the CHECK constraint.  (Terse: the failing row shows
-- positions, transaction ids and timestamps.)
\set VERBOSITY terse
INSERT INTO agentstore.events (stream, version) VALUES ('strig-g', 10);
INSERT INTO agentstore.events (stream, version) VALUES ('strig-g', 0);
INSERT INTO agentstore.events (stream, version) VALUES ('strig-g', -5);
\set VERBOSITY default

-- transaction_id is always the writer's, even when the row carries one
-- (a restored row carries its original cluster's transaction id).
BEGIN;
INSERT INTO agentstore.events (stream, transaction_id) VALUES ('strig-j', '12345');
INSERT INTO agentstore.events (stream, version, transaction_id) VALUES ('strig-j', 7, '99999999');
INSERT INTO agentstore.events (stream, transaction_id) VALUES ('strig-j', NULL);
SELECT version, transaction_id = pg_current_xact_id() AS stamped
  FROM agentstore.events WHERE stream = 'strig-j' ORDER BY version;
COMMIT;

-- A stream name is compared byte-wise: case and trailing spaces matter.
INSERT INTO agentstore.events (stream) VALUES ('strig-K'), ('strig-k'), ('strig-k '), ('strig-k');
SELECT '"' || stream || '"' AS stream, version FROM strig WHERE stream ILIKE 'strig-k%';

-- Bad rows: a NULL stream and an over-long name are rejected by the table's
-- constraints, and nothing is written.
\set VERBOSITY terse
INSERT INTO agentstore.events (stream) VALUES (NULL);
INSERT INTO agentstore.events (stream) VALUES ('strig-l'), (repeat('x', 1025));
\set VERBOSITY default
SELECT count(*) AS nothing_written FROM agentstore.events WHERE stream = 'strig-l';

-- The trigger function refuses to run anywhere else.
SELECT agentstore.version_trigger();
CREATE TABLE strig_other (stream text, version bigint, transaction_id xid8);
CREATE TRIGGER t AFTER INSERT ON strig_other
    FOR EACH ROW EXECUTE FUNCTION agentstore.version_trigger();
INSERT INTO strig_other (stream) VALUES ('x');
DROP TRIGGER t ON strig_other;
CREATE TRIGGER t BEFORE INSERT ON strig_other
    FOR EACH ROW EXECUTE FUNCTION agentstore.version_trigger();
INSERT INTO strig_other (stream) VALUES ('x');
DROP TABLE strig_other;

-- Versions stay gap-free and unique across everything above.
SELECT stream, count(*) AS n, max(version) AS max_version
  FROM agentstore.events WHERE stream LIKE 'strig%'
 GROUP BY stream
HAVING max(version) <> count(*) AND stream NOT IN ('strig-g', 'strig-h', 'strig-i', 'strig-j');

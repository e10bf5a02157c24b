-- Many sessions and checkpoint threads sharing one expires_at, as a bulk
-- import in one transaction gives them (now() is the same for every row).
-- agentstore.expire_now() runs a whole pass in one transaction, where the
-- index entries of what it has expired stay in the index; each lookup of the
-- next session or thread must start right after the previous one (the
-- indexes are on (time, key)), not walk past all of them again from the
-- time: that costs an index entry and a heap visit per entry passed, about
-- n²/2 for n groups (2,000 sessions: 2 million entries).  Counted, not
-- timed: the entries each index returned in this transaction
-- (pg_stat_get_xact_tuples_returned).  In a database of its own, as in the
-- ttl test.
SELECT current_database() AS ttl_same_orig_db \gset
CREATE DATABASE ttl_same_regress;
\c ttl_same_regress
CREATE EXTENSION agentstore;
SET client_min_messages = warning;

-- 2,000 sessions with one expires_at, each with one event, and 2,000
-- checkpoint threads with one expires_at, each with a checkpoint.
INSERT INTO agentstore.sessions (app_name, user_id, session_id, expires_at)
SELECT 'same', 'u', 's' || g, now() - interval '1 hour' FROM generate_series(1, 2000) g;
INSERT INTO agentstore.events (stream, version)
SELECT 'session-' || id, 1 FROM agentstore.sessions;
SELECT count(agentstore.put_checkpoint('same-' || g, '', '{"id": "0001"}', '{}', '{}'))
  FROM generate_series(1, 2000) g;
UPDATE agentstore.checkpoint_threads SET expires_at = now() - interval '1 hour';
ANALYZE;

-- Soft delete (the default): the sessions are stamped deleted_at.
BEGIN;
SELECT table_name, expired FROM agentstore.expire_now()
 WHERE table_name IN ('sessions', 'events', 'checkpoint_threads', 'checkpoints') ORDER BY 1;
SELECT i, pg_stat_get_xact_tuples_returned(i) < 10 * 2000 AS linear,
       pg_stat_get_xact_tuples_returned(i) >= 2000 AS counted
  FROM unnest(ARRAY['agentstore.sessions_expires_at', 'agentstore.checkpoint_threads_expires_at']::regclass[]) AS i;
COMMIT;
SELECT count(*) FILTER (WHERE deleted_at IS NOT NULL) AS soft_deleted, count(*) AS sessions
  FROM agentstore.sessions;
SELECT count(*) AS threads_left FROM agentstore.checkpoint_threads;

-- Purge: the 2,000 sessions share one deleted_at too.
BEGIN;
SET LOCAL agentstore.ttl_purge_after = 0;
SELECT table_name, purged FROM agentstore.expire_now()
 WHERE table_name IN ('sessions', 'events') ORDER BY 1;
SELECT i, pg_stat_get_xact_tuples_returned(i) < 10 * 2000 AS linear,
       pg_stat_get_xact_tuples_returned(i) >= 2000 AS counted
  FROM unnest(ARRAY['agentstore.sessions_deleted_at']::regclass[]) AS i;
COMMIT;
SELECT count(*) AS sessions_left FROM agentstore.sessions;

-- Soft delete off: deleted at once.
INSERT INTO agentstore.sessions (app_name, user_id, session_id, expires_at)
SELECT 'same', 'u', 's' || g, now() - interval '1 hour' FROM generate_series(1, 2000) g;
BEGIN;
SET LOCAL agentstore.soft_delete = off;
SELECT table_name, expired FROM agentstore.expire_now() WHERE table_name = 'sessions';
SELECT i, pg_stat_get_xact_tuples_returned(i) < 10 * 2000 AS linear,
       pg_stat_get_xact_tuples_returned(i) >= 2000 AS counted
  FROM unnest(ARRAY['agentstore.sessions_expires_at']::regclass[]) AS i;
COMMIT;
SELECT count(*) AS sessions_left FROM agentstore.sessions;

\c :ttl_same_orig_db
DROP DATABASE ttl_same_regress;

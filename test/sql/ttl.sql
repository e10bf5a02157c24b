-- agentstore.expire_now(), the ttl_runs history, the ttl_status view and
-- agentstore.ttl_explain(), in a database of their own: a pass expires
-- whatever has expired in its database, and other features' tests share
-- the regression database.  (The worker's interval is 1h here, so it does
-- not run a pass in this database while the test runs.)
SELECT current_database() AS ttl_orig_db \gset
CREATE DATABASE ttl_regress;
\c ttl_regress
CREATE EXTENSION agentstore;

-- A session of app 'ttlapp' with n events in its stream, two events in
-- each of its tracks and k summaries; returns its id.
CREATE FUNCTION ttl_session(sid text, expires timestamptz, nevents int,
                            tracks text[], nsummaries int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    sref bigint;
BEGIN
    INSERT INTO agentstore.sessions (app_name, user_id, session_id, expires_at)
    VALUES ('ttlapp', 'u', sid, expires) RETURNING id INTO sref;
    INSERT INTO agentstore.events (stream, version)
    SELECT 'session-' || sref, v FROM generate_series(1, nevents) v;
    INSERT INTO agentstore.events (stream, version)
    SELECT 'track-' || sref || '-' || t, v FROM unnest(tracks) t, generate_series(1, 2) v;
    INSERT INTO agentstore.session_summaries (app_name, session_ref, filter_key, summary)
    SELECT 'ttlapp', sref, 'f' || k, '{}' FROM generate_series(1, nsummaries) k;
    RETURN sref;
END $$;

-- Every session incarnation of 'ttlapp' with its rows, live and deleted.
CREATE VIEW ttl_state AS
SELECT s.id, s.session_id, s.deleted_at IS NOT NULL AS deleted,
       (SELECT count(*) FROM agentstore.events e
         WHERE (e.stream = 'session-' || s.id OR e.stream LIKE 'track-' || s.id || '-%')
           AND e.deleted_at IS NULL) AS live_events,
       (SELECT count(*) FROM agentstore.events e
         WHERE (e.stream = 'session-' || s.id OR e.stream LIKE 'track-' || s.id || '-%')
           AND e.deleted_at IS NOT NULL) AS deleted_events,
       (SELECT count(*) FROM agentstore.session_summaries m
         WHERE m.app_name = s.app_name AND m.session_ref = s.id AND m.deleted_at IS NULL) AS live_summaries,
       (SELECT count(*) FROM agentstore.session_summaries m
         WHERE m.app_name = s.app_name AND m.session_ref = s.id AND m.deleted_at IS NOT NULL) AS deleted_summaries
  FROM agentstore.sessions s WHERE s.app_name = 'ttlapp';

-- Session 1 has expired.  Sessions 2-11 live: 10 and 11 have track streams
-- 'track-10-a' and 'track-11-a', which a sloppy prefix match for session
-- 1's 'track-1-' would take along.
SELECT ttl_session('expired', now() - interval '1 minute', 5, '{a,b}', 2);
SELECT ttl_session('live' || g, now() + interval '1 hour', 3, '{a}', 1) FROM generate_series(2, 9) g;
SELECT ttl_session('live10', now() + interval '1 hour', 3, '{a}', 1);
SELECT ttl_session('never11', NULL, 2, '{a}', 0);
-- A free-standing stream, and a track event of a live session with a TTL
-- of its own that has passed.
INSERT INTO agentstore.events (stream, version) VALUES ('order-1', 1), ('order-1', 2);
INSERT INTO agentstore.events (stream, version, expires_at)
VALUES ('track-2-a', 3, now() - interval '1 second'), ('track-2-a', 4, now() + interval '1 hour');
INSERT INTO agentstore.app_states (app_name, key, value, expires_at) VALUES
    ('ttlapp', 'old', '1', now() - interval '1 second'),
    ('ttlapp', 'new', '2', now() + interval '1 hour'),
    ('ttlapp', 'forever', '3', NULL);
INSERT INTO agentstore.user_states (app_name, user_id, key, value, expires_at) VALUES
    ('ttlapp', 'u', 'old', '1', now() - interval '1 second'),
    ('ttlapp', 'u', 'new', '2', now() + interval '1 hour');
INSERT INTO agentstore.checkpoint_threads (thread_id, expires_at) VALUES
    ('th-old', now() - interval '1 second'), ('th-new', now() + interval '1 hour');
INSERT INTO agentstore.checkpoints (thread_id, checkpoint_ns, checkpoint_id, checkpoint)
SELECT t, ns, 'c' || i, '{}' FROM unnest('{th-old,th-new}'::text[]) t, unnest('{"",sub}'::text[]) ns,
       generate_series(1, 2) i;
INSERT INTO agentstore.checkpoint_blobs (thread_id, channel, version, type, blob)
SELECT t, 'ch', '1', 'json', '\x00' FROM unnest('{th-old,th-new}'::text[]) t;
INSERT INTO agentstore.checkpoint_writes (thread_id, checkpoint_id, task_id, idx, channel, blob)
SELECT t, 'c1', 'task', i, 'ch', '\x00' FROM unnest('{th-old,th-new}'::text[]) t, generate_series(0, 2) i;

-- Soft delete (the default): the expired session goes with its stream, its
-- two track streams and its summaries; checkpoints are always deleted.
SELECT * FROM agentstore.expire_now();
SELECT * FROM ttl_state ORDER BY id;
SELECT stream, version, deleted_at IS NOT NULL AS deleted FROM agentstore.events
 WHERE stream IN ('order-1', 'track-2-a') ORDER BY stream, version;
SELECT 'app' AS kind, key, deleted_at IS NOT NULL AS deleted FROM agentstore.app_states
UNION ALL
SELECT 'user', key, deleted_at IS NOT NULL FROM agentstore.user_states ORDER BY 1, 2;
SELECT thread_id, count(*) FROM agentstore.checkpoints GROUP BY 1
UNION ALL SELECT 'blobs of ' || thread_id, count(*) FROM agentstore.checkpoint_blobs GROUP BY thread_id
UNION ALL SELECT 'writes of ' || thread_id, count(*) FROM agentstore.checkpoint_writes GROUP BY thread_id
UNION ALL SELECT 'thread ' || thread_id, 1 FROM agentstore.checkpoint_threads ORDER BY 1;

-- The key of an expired session can be used again: a new incarnation.
SELECT ttl_session('expired', now() + interval '1 hour', 1, '{}', 0) > 1 AS new_incarnation;

-- A second pass finds nothing; soft-deleted rows are kept for
-- ttl_purge_after (7 days by default).
SELECT * FROM agentstore.expire_now() WHERE expired + purged + trimmed > 0;

-- Purge: ttl_purge_after = -1 keeps them forever; 0 purges everything
-- soft-deleted before this transaction, a session with all of its rows.
SET agentstore.ttl_purge_after = -1;
SELECT * FROM agentstore.expire_now() WHERE expired + purged + trimmed > 0;
SET agentstore.ttl_purge_after = 0;
SELECT * FROM agentstore.expire_now() WHERE expired + purged + trimmed > 0;
SELECT * FROM ttl_state WHERE deleted OR session_id = 'expired' ORDER BY id;
SELECT count(*) AS soft_deleted_rows_left
  FROM (SELECT deleted_at FROM agentstore.events UNION ALL SELECT deleted_at FROM agentstore.app_states
        UNION ALL SELECT deleted_at FROM agentstore.user_states
        UNION ALL SELECT deleted_at FROM agentstore.session_summaries) d
 WHERE deleted_at IS NOT NULL;
RESET agentstore.ttl_purge_after;

-- A soft-deleted session's events are purged even if they were never
-- stamped (an append that raced the expiry), and its summaries too.
UPDATE agentstore.sessions SET deleted_at = now() - interval '8 days' WHERE session_id = 'live2';
SELECT * FROM agentstore.expire_now() WHERE expired + purged + trimmed > 0;
SELECT count(*) AS rows_of_live2 FROM agentstore.events WHERE stream IN ('session-2', 'track-2-a');

-- Soft delete off: expiry deletes at once.
SET agentstore.soft_delete = off;
UPDATE agentstore.sessions SET expires_at = now() - interval '1 second' WHERE session_id = 'live3';
UPDATE agentstore.app_states SET expires_at = now() - interval '1 second' WHERE key = 'new';
SELECT * FROM agentstore.expire_now() WHERE expired + purged + trimmed > 0;
SELECT count(*) AS rows_of_live3 FROM agentstore.events WHERE stream IN ('session-3', 'track-3-a')
UNION ALL SELECT count(*) FROM agentstore.session_summaries WHERE session_ref = 3
UNION ALL SELECT count(*) FROM agentstore.sessions WHERE id = 3;
RESET agentstore.soft_delete;

-- Batches smaller than a session: a session is never split, and a pass
-- works off any backlog.
SET agentstore.ttl_batch_size = 2;
UPDATE agentstore.sessions SET expires_at = now() - interval '1 second'
 WHERE session_id IN ('live4', 'live5', 'live6');
SELECT * FROM agentstore.expire_now() WHERE expired + purged + trimmed > 0;
SELECT session_id, deleted, live_events, deleted_events, live_summaries, deleted_summaries
  FROM ttl_state WHERE session_id IN ('live4', 'live5', 'live6') ORDER BY id;
RESET agentstore.ttl_batch_size;

-- Trimming: the pass calls agentstore.trim_session_events(batch_size) of
-- the sessions feature (when it exists) and reports what it removed.
-- Deleting events is opt-in: by default (session_event_retention = 0) a
-- session keeps every event, however long, whatever the read window
-- (session_event_limit) is.
INSERT INTO agentstore.sessions (app_name, user_id, session_id, ttl, expires_at)
VALUES ('ttlapp', 'u', 'huge', interval '1 hour', now() + interval '1 hour');
SELECT count(*) AS appended
  FROM generate_series(1, 2000) g,
       LATERAL agentstore.append_event('ttlapp', 'u', 'huge', jsonb_build_object('n', g));
SHOW agentstore.session_event_retention;
SELECT * FROM agentstore.expire_now() WHERE expired + purged + trimmed > 0;
SELECT live_events FROM ttl_state WHERE session_id = 'huge';
SELECT jsonb_array_length(agentstore.get_session('ttlapp', 'u', 'huge')->'events') AS read_window;
-- With a retention set, a session past it (plus a tenth) is trimmed down to
-- its newest events at the next pass: one more append flags it.
SET agentstore.session_event_retention = 1500;
SELECT version FROM agentstore.append_event('ttlapp', 'u', 'huge', '{"n": 2001}');
SELECT * FROM agentstore.expire_now() WHERE expired + purged + trimmed > 0;
SELECT live_events FROM ttl_state WHERE session_id = 'huge';
SELECT min(version), max(version) FROM agentstore.events
 WHERE stream = (SELECT 'session-' || id FROM agentstore.sessions WHERE session_id = 'huge');
-- a session appended to 8 times under a retention of 5 keeps its newest 5
SET agentstore.session_event_retention = 5;
INSERT INTO agentstore.sessions (app_name, user_id, session_id, ttl, expires_at)
VALUES ('ttlapp', 'u', 'long', interval '1 hour', now() + interval '1 hour');
SELECT count(*) AS appended
  FROM generate_series(1, 8) g,
       LATERAL agentstore.append_event('ttlapp', 'u', 'long', jsonb_build_object('n', g));
SELECT * FROM agentstore.expire_now() WHERE expired + purged + trimmed > 0;
SELECT live_events FROM ttl_state WHERE session_id = 'long';
RESET agentstore.session_event_retention;

-- Every pass is recorded; expire_now() passes commit with the caller.
SELECT origin, transactions, expired->>'sessions' AS sessions, expired->>'events' AS events,
       purged->>'sessions' AS purged_sessions, trimmed, error,
       finished_at >= started_at AS finished
  FROM agentstore.ttl_runs ORDER BY id;
BEGIN;
SELECT count(*) FROM agentstore.expire_now();
ROLLBACK;
SELECT count(*) AS runs FROM agentstore.ttl_runs;

-- The history keeps the last 1000 passes.
INSERT INTO agentstore.ttl_runs (origin, started_at, finished_at)
SELECT 'worker', now() - interval '1 day', now() - interval '1 day' FROM generate_series(1, 1005);
SELECT count(*) FROM agentstore.expire_now();
SELECT count(*) AS runs, count(*) FILTER (WHERE started_at > now() - interval '1 hour') AS recent
  FROM agentstore.ttl_runs;

-- The status of this database: last pass, and how overdue expiry is.
SELECT database, worker_pid, last_origin, last_state, last_expired, last_purged,
       last_trimmed, last_error, last_success_at = last_finished_at AS last_succeeded,
       failures_since_success, overdue_since
  FROM agentstore.ttl_status;
INSERT INTO agentstore.app_states (app_name, key, value, expires_at)
VALUES ('ttlapp', 'waiting', '1', '2001-02-03 04:05:06+00');
SELECT overdue_since AT TIME ZONE 'UTC' AS overdue_since FROM agentstore.ttl_status;

-- Privileges: nothing for PUBLIC; with EXECUTE, the caller's table rights
-- still apply.
\set VERBOSITY terse
CREATE ROLE ttl_regress_user;
GRANT USAGE ON SCHEMA agentstore TO ttl_regress_user;
SET ROLE ttl_regress_user;
SELECT * FROM agentstore.expire_now();
SELECT * FROM agentstore.ttl_status;
RESET ROLE;
GRANT EXECUTE ON FUNCTION agentstore.expire_now() TO ttl_regress_user;
SET ROLE ttl_regress_user;
SELECT * FROM agentstore.expire_now();
RESET ROLE;
REVOKE ALL ON FUNCTION agentstore.expire_now() FROM ttl_regress_user;
-- ttl_status runs with the reader's rights (security_invoker): SELECT on the
-- view alone shows nothing the reader could not read from the tables.
GRANT SELECT ON agentstore.ttl_status TO ttl_regress_user;
SELECT c.relname, c.reloptions FROM pg_class c
 WHERE c.oid = 'agentstore.ttl_status'::regclass;
SET ROLE ttl_regress_user;
SELECT last_state FROM agentstore.ttl_status;
RESET ROLE;
GRANT SELECT ON agentstore.ttl_runs, agentstore.sessions, agentstore.events,
      agentstore.app_states, agentstore.user_states, agentstore.checkpoint_threads
   TO ttl_regress_user;
SET ROLE ttl_regress_user;
SELECT last_state FROM agentstore.ttl_status;
RESET ROLE;
REVOKE ALL ON agentstore.ttl_status, agentstore.ttl_runs, agentstore.sessions,
       agentstore.events, agentstore.app_states, agentstore.user_states,
       agentstore.checkpoint_threads FROM ttl_regress_user;
REVOKE ALL ON SCHEMA agentstore FROM ttl_regress_user;
DROP ROLE ttl_regress_user;
\set VERBOSITY default

-- Plans: on tables of realistic size every statement of a pass finds its
-- rows through an index (the expires_at and deleted_at partial indexes,
-- the primary keys for a session's or thread's rows); none scans a table.
-- On a table of a few pages the planner may rightly prefer a sequential
-- scan, so the tables get 2000 rows each first.
INSERT INTO agentstore.sessions (app_name, user_id, session_id, expires_at, deleted_at)
SELECT 'ttlbulk', 'u', 's' || g, now() + interval '1 day' + g * interval '1 s',
       CASE WHEN g % 10 = 0 THEN now() - interval '1 day' END
  FROM generate_series(1, 2000) g;
INSERT INTO agentstore.events (stream, version, expires_at, deleted_at)
SELECT 'bulk-' || (g / 10), g % 10 + 1, now() + interval '1 day' + g * interval '1 s',
       CASE WHEN g % 10 = 0 THEN now() - interval '1 day' END
  FROM generate_series(1, 2000) g;
INSERT INTO agentstore.app_states (app_name, key, value, expires_at, deleted_at)
SELECT 'ttlbulk', 'k' || g, '1', now() + interval '1 day' + g * interval '1 s',
       CASE WHEN g % 10 = 0 THEN now() - interval '1 day' END
  FROM generate_series(1, 2000) g;
INSERT INTO agentstore.user_states (app_name, user_id, key, value, expires_at, deleted_at)
SELECT 'ttlbulk', 'u', 'k' || g, '1', now() + interval '1 day' + g * interval '1 s',
       CASE WHEN g % 10 = 0 THEN now() - interval '1 day' END
  FROM generate_series(1, 2000) g;
INSERT INTO agentstore.session_summaries (app_name, session_ref, summary, deleted_at)
SELECT 'ttlbulk', g, '{}', CASE WHEN g % 10 = 0 THEN now() - interval '1 day' END
  FROM generate_series(1, 2000) g;
INSERT INTO agentstore.checkpoint_threads (thread_id, expires_at)
SELECT 'bulk' || g, now() + interval '1 day' + g * interval '1 s' FROM generate_series(1, 2000) g;
INSERT INTO agentstore.checkpoints (thread_id, checkpoint_id, checkpoint)
SELECT 'bulk' || g, 'c', '{}' FROM generate_series(1, 2000) g;
INSERT INTO agentstore.checkpoint_blobs (thread_id, channel, version, type, blob)
SELECT 'bulk' || g, 'ch', '1', 'json', '\x00' FROM generate_series(1, 2000) g;
INSERT INTO agentstore.checkpoint_writes (thread_id, checkpoint_id, task_id, idx, channel, blob)
SELECT 'bulk' || g, 'c', 't', 0, 'ch', '\x00' FROM generate_series(1, 2000) g;
ANALYZE;
SELECT statement, plan ~ 'Seq Scan' AS seq_scan,
       ARRAY(SELECT DISTINCT m[1]
               FROM regexp_matches(plan, '(?:Index Scan using|Index Only Scan using|Bitmap Index Scan on) (\w+_(?:expires|deleted)_at)', 'g') m
              ORDER BY 1) AS ttl_indexes
  FROM agentstore.ttl_explain();

\c :ttl_orig_db
DROP DATABASE ttl_regress;

-- One expiry pass uses memory in proportion to its batch
-- (agentstore.ttl_batch_size), never to its backlog: a pass of
-- agentstore.expire_now() over 100,000 rows in batches of 100 samples the
-- backend's memory (pg_backend_memory_contexts) as it goes, and the samples
-- stay flat.  In a database of its own, as in the ttl test.
SELECT current_database() AS ttl_memory_orig_db \gset
CREATE DATABASE ttl_memory_regress;
\c ttl_memory_regress
CREATE EXTENSION agentstore;

-- A statement trigger on sessions (the pass updates it once per session it
-- expires, and trim_session_events once per session it visits) records
-- the backend's memory every 500th time.  (A BEFORE trigger: an AFTER
-- trigger's own bookkeeping would grow with every statement.)
CREATE TABLE mem_samples (n bigint, bytes bigint);
CREATE SEQUENCE mem_calls;
CREATE FUNCTION sample_memory() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint := nextval('mem_calls');
BEGIN
    IF n % 500 = 0 THEN
        INSERT INTO mem_samples
        SELECT n, sum(total_bytes) FROM pg_backend_memory_contexts;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sample_memory BEFORE UPDATE ON agentstore.sessions
    FOR EACH STATEMENT EXECUTE FUNCTION sample_memory();

-- trim_session_events prepares its statements once per backend: here,
-- before the pass.
SET agentstore.session_event_retention = 1;
INSERT INTO agentstore.sessions (app_name, user_id, session_id) VALUES ('mem', 'u', 'warm');
SELECT count(*) FROM generate_series(1, 3) g,
       LATERAL agentstore.append_event('mem', 'u', 'warm', jsonb_build_object('n', g));
SELECT agentstore.trim_session_events() AS warmed_up;
DELETE FROM mem_samples;
ALTER SEQUENCE mem_calls RESTART;

-- The backlog: 20,000 expired sessions of 4 events each (100,000 rows),
-- and 10,000 live sessions flagged for trimming with nothing to trim (one
-- call of trim_session_events visits them all).
INSERT INTO agentstore.sessions (app_name, user_id, session_id, expires_at)
SELECT 'mem', 'u', 'old' || g, now() - interval '1 min' - g * interval '1 ms'
  FROM generate_series(1, 20000) g;
INSERT INTO agentstore.events (stream, version)
SELECT 'session-' || s.id, v FROM agentstore.sessions s, generate_series(1, 4) v
 WHERE s.session_id LIKE 'old%';
INSERT INTO agentstore.sessions (app_name, user_id, session_id, trim_needed)
SELECT 'mem', 'u', 'live' || g, true FROM generate_series(1, 10000) g;
ANALYZE;

SET agentstore.ttl_batch_size = 100;
SET agentstore.session_event_retention = 1000;
SELECT table_name, expired, purged, trimmed FROM agentstore.expire_now()
 WHERE expired + purged + trimmed > 0;
SELECT count(*) AS flagged_left FROM agentstore.sessions WHERE trim_needed;

-- 60 samples.  After the fifth (2,500 sessions, 12,500 rows expired),
-- memory grows by less than 1 MB over the rest of the pass, 87,500 rows
-- and 10,000 trimmed sessions (before the fix: by about 80 bytes per
-- session expired, and by 8 kB per session the trim visited).
SELECT count(*) AS samples FROM mem_samples;
SELECT max(bytes) - (SELECT bytes FROM mem_samples WHERE n = 2500) < 1024 * 1024 AS flat
  FROM mem_samples;

\c :ttl_memory_orig_db
DROP DATABASE ttl_memory_regress;

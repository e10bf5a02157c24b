-- agentstore install script, part 40: TTL expiry.
--
-- The background worker (src/ttl_*.c) and agentstore.expire_now() expire
-- what the other parts' expires_at columns say has expired, and purge what
-- was soft-deleted longer ago than agentstore.ttl_purge_after.  Each pass is
-- recorded in ttl_runs; the history is bounded: every finished pass removes
-- all but the last 1000 runs.  Local to each database: not distributed.

CREATE SEQUENCE agentstore.ttl_runs_id_seq AS bigint;
CREATE TABLE agentstore.ttl_runs (
    id           bigint NOT NULL DEFAULT nextval('agentstore.ttl_runs_id_seq') PRIMARY KEY,
    origin       text NOT NULL,                 -- 'worker' or 'expire_now'
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,                   -- NULL while running, or if interrupted
    transactions integer NOT NULL DEFAULT 0,    -- committed by the pass
    expired      jsonb NOT NULL DEFAULT '{}',   -- rows expired per table
    purged       jsonb NOT NULL DEFAULT '{}',   -- soft-deleted rows removed per table
    trimmed      bigint NOT NULL DEFAULT 0,     -- events over session_event_retention removed
    error        text,                          -- why the pass failed or stopped
    CONSTRAINT ttl_runs_origin_check CHECK (origin IN ('worker', 'expire_now'))
);
ALTER SEQUENCE agentstore.ttl_runs_id_seq OWNED BY agentstore.ttl_runs.id;
COMMENT ON TABLE agentstore.ttl_runs IS 'expiry passes of this database, the last 1000 kept; counts are those committed';

SELECT pg_catalog.pg_extension_config_dump('agentstore.ttl_runs', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.ttl_runs_id_seq', '');

-- One full expiry pass now, in the caller's transaction: what the worker
-- does at every interval, for tests, operations and servers without the
-- worker.  Returns one row per table.
CREATE FUNCTION agentstore.expire_now()
RETURNS TABLE (table_name text, expired bigint, purged bigint, trimmed bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_expire_now';
COMMENT ON FUNCTION agentstore.expire_now() IS 'run one expiry pass now in this transaction; rows expired, purged and trimmed per table';
REVOKE ALL ON FUNCTION agentstore.expire_now() FROM PUBLIC;

-- The plans of the statements an expiry pass runs, for this database's
-- data: every one should use an index.
CREATE FUNCTION agentstore.ttl_explain()
RETURNS TABLE (statement text, plan text)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_ttl_explain';
COMMENT ON FUNCTION agentstore.ttl_explain() IS 'EXPLAIN (COSTS OFF) of every statement of an expiry pass';
REVOKE ALL ON FUNCTION agentstore.ttl_explain() FROM PUBLIC;

-- The state of expiry in this database: its last pass, the worker now
-- running here (if any), and how far behind expiry is.  It runs with the
-- rights of whoever reads it (security_invoker): the reader needs SELECT on
-- ttl_runs and on the tables it looks at, and their row-level security
-- applies to the reader.
CREATE VIEW agentstore.ttl_status WITH (security_invoker = true) AS
SELECT current_database() AS database,
       (SELECT a.pid FROM pg_catalog.pg_stat_activity a
         WHERE a.backend_type = 'agentstore ttl worker'
           AND a.datname = current_database()
         LIMIT 1) AS worker_pid,
       r.id AS last_run_id,
       r.origin AS last_origin,
       r.started_at AS last_started_at,
       r.finished_at AS last_finished_at,
       CASE WHEN r.id IS NULL THEN NULL
            WHEN r.error IS NOT NULL AND r.finished_at IS NULL THEN 'interrupted'
            WHEN r.error IS NOT NULL THEN 'failed'
            WHEN r.finished_at IS NULL THEN 'running'
            ELSE 'finished' END AS last_state,
       (SELECT sum(j.value::bigint) FROM jsonb_each_text(r.expired) j) AS last_expired,
       (SELECT sum(j.value::bigint) FROM jsonb_each_text(r.purged) j) AS last_purged,
       r.trimmed AS last_trimmed,
       r.error AS last_error,
       ok.finished_at AS last_success_at,
       (SELECT count(*) FROM agentstore.ttl_runs f
         WHERE f.error IS NOT NULL AND f.id > coalesce(ok.id, 0)) AS failures_since_success,
       least((SELECT min(expires_at) FROM agentstore.sessions
               WHERE expires_at <= now() AND deleted_at IS NULL),
             (SELECT min(expires_at) FROM agentstore.events
               WHERE expires_at <= now() AND deleted_at IS NULL),
             (SELECT min(expires_at) FROM agentstore.app_states
               WHERE expires_at <= now() AND deleted_at IS NULL),
             (SELECT min(expires_at) FROM agentstore.user_states
               WHERE expires_at <= now() AND deleted_at IS NULL),
             (SELECT min(expires_at) FROM agentstore.checkpoint_threads
               WHERE expires_at <= now())) AS overdue_since
  FROM (VALUES (1)) AS one(x)
  LEFT JOIN LATERAL (SELECT * FROM agentstore.ttl_runs ORDER BY id DESC LIMIT 1) r ON true
  LEFT JOIN LATERAL (SELECT id, finished_at FROM agentstore.ttl_runs
                      WHERE error IS NULL AND finished_at IS NOT NULL
                      ORDER BY id DESC LIMIT 1) ok ON true;
COMMENT ON VIEW agentstore.ttl_status IS 'last expiry pass of this database, running worker, and the oldest overdue expires_at';

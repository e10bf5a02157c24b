-- agentstore install script, part 40: TTL expiry.
--
-- Each expiry pass (by the background worker or agentstore.expire_now()) is
-- recorded here; the history is bounded (the oldest rows are removed by the
-- pass itself).  Local to each database: not distributed.

CREATE SEQUENCE agentstore.ttl_runs_id_seq AS bigint;
CREATE TABLE agentstore.ttl_runs (
    id          bigint NOT NULL DEFAULT nextval('agentstore.ttl_runs_id_seq') PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    expired     jsonb NOT NULL DEFAULT '{}',  -- rows expired per table
    purged      jsonb NOT NULL DEFAULT '{}',  -- soft-deleted rows removed per table
    error       text
);
ALTER SEQUENCE agentstore.ttl_runs_id_seq OWNED BY agentstore.ttl_runs.id;

SELECT pg_catalog.pg_extension_config_dump('agentstore.ttl_runs', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.ttl_runs_id_seq', '');

-- A short tour of agentstore, run by scripts/demo.sh.

-- The extension, its schema and whether the TTL worker can run.
SELECT extname, extversion FROM pg_extension WHERE extname = 'agentstore';
SELECT agentstore.preloaded() AS background_worker_available;

-- Its tables: one data model for sessions, event streams, checkpoints and TTL.
SELECT c.relname AS table_name, pg_size_pretty(pg_total_relation_size(c.oid)) AS size
  FROM pg_class c
 WHERE c.relnamespace = 'agentstore'::regnamespace AND c.relkind = 'r'
 ORDER BY 1;

-- Its settings.
SELECT name, setting, unit, short_desc
  FROM pg_settings WHERE name LIKE 'agentstore.%' ORDER BY name;

-- pgTAP contract of the TTL tables: keys, indexes, columns.
SET client_min_messages = warning;
BEGIN;
SELECT plan(2);

SELECT col_is_pk('agentstore', 'ttl_runs', ARRAY['id']::name[], 'primary key of ttl_runs');
SELECT indexes_are('agentstore', 'ttl_runs', ARRAY['ttl_runs_pkey']::name[]);

SELECT * FROM finish();
ROLLBACK;

-- pgTAP contract of the TTL tables: keys, indexes, columns.
SET client_min_messages = warning;
BEGIN;
SELECT plan(6);

SELECT col_is_pk('agentstore', 'ttl_runs', ARRAY['id']::name[], 'primary key of ttl_runs');
SELECT indexes_are('agentstore', 'ttl_runs', ARRAY['ttl_runs_pkey']::name[]);
SELECT columns_are('agentstore', 'ttl_runs', ARRAY[
    'id', 'origin', 'started_at', 'finished_at', 'transactions', 'expired', 'purged',
    'trimmed', 'error']);
SELECT col_type_is('agentstore', 'ttl_runs', 'expired', 'jsonb', 'expired counts are jsonb');
SELECT col_type_is('agentstore', 'ttl_runs', 'purged', 'jsonb', 'purged counts are jsonb');
SELECT col_has_check('agentstore', 'ttl_runs', 'origin', 'origin is checked');

SELECT * FROM finish();
ROLLBACK;

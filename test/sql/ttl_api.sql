-- pgTAP contract of the TTL API: functions, their results and privileges,
-- and the ttl_status view.
SET client_min_messages = warning;
BEGIN;
SELECT plan(17);

SELECT has_function('agentstore', 'expire_now', ARRAY[]::name[]);
SELECT function_returns('agentstore', 'expire_now', ARRAY[]::name[], 'setof record');
SELECT is(pg_get_function_result('agentstore.expire_now()'::regprocedure),
          'TABLE(table_name text, expired bigint, purged bigint, trimmed bigint)',
          'expire_now() returns counts per table');
SELECT function_lang_is('agentstore', 'expire_now', ARRAY[]::name[], 'c');
SELECT volatility_is('agentstore', 'expire_now', ARRAY[]::name[], 'volatile');
SELECT isnt_definer('agentstore', 'expire_now', ARRAY[]::name[]);
SELECT function_privs_are('agentstore', 'expire_now', ARRAY[]::name[], 'public', ARRAY[]::text[],
                          'PUBLIC may not run expire_now()');

SELECT has_function('agentstore', 'ttl_explain', ARRAY[]::name[]);
SELECT is(pg_get_function_result('agentstore.ttl_explain()'::regprocedure),
          'TABLE(statement text, plan text)', 'ttl_explain() returns one plan per statement');
SELECT volatility_is('agentstore', 'ttl_explain', ARRAY[]::name[], 'volatile');
SELECT isnt_definer('agentstore', 'ttl_explain', ARRAY[]::name[]);
SELECT function_privs_are('agentstore', 'ttl_explain', ARRAY[]::name[], 'public', ARRAY[]::text[],
                          'PUBLIC may not run ttl_explain()');

SELECT has_view('agentstore', 'ttl_status', 'view ttl_status exists');
SELECT columns_are('agentstore', 'ttl_status', ARRAY[
    'database', 'worker_pid', 'last_run_id', 'last_origin', 'last_started_at',
    'last_finished_at', 'last_state', 'last_expired', 'last_purged', 'last_trimmed',
    'last_error', 'last_success_at', 'failures_since_success', 'overdue_since']);
SELECT col_type_is('agentstore', 'ttl_status', 'overdue_since', 'timestamp with time zone',
                   'overdue_since is a timestamptz');
SELECT table_privs_are('agentstore', 'ttl_status', 'public', ARRAY[]::text[]);
SELECT is((SELECT count(*)::int FROM agentstore.ttl_status), 1, 'ttl_status has one row');

SELECT * FROM finish();
ROLLBACK;

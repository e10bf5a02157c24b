-- pgTAP contract of the session tables: keys, indexes, columns.
SET client_min_messages = warning;
BEGIN;
SELECT plan(12);

SELECT col_is_pk('agentstore', 'sessions', ARRAY['app_name', 'id']::name[], 'primary key of sessions');
SELECT col_is_pk('agentstore', 'app_states', ARRAY['app_name', 'id']::name[], 'primary key of app_states');
SELECT col_is_pk('agentstore', 'user_states', ARRAY['app_name', 'id']::name[], 'primary key of user_states');
SELECT col_is_pk('agentstore', 'session_summaries', ARRAY['app_name', 'session_ref', 'filter_key']::name[], 'primary key of session_summaries');
SELECT indexes_are('agentstore', 'sessions', ARRAY[
    'sessions_pkey', 'sessions_active_key', 'sessions_user_recent',
    'sessions_app_recent', 'sessions_expires_at', 'sessions_deleted_at',
    'sessions_trim_needed']::name[]);
SELECT indexes_are('agentstore', 'app_states', ARRAY[
    'app_states_pkey', 'app_states_active_key', 'app_states_expires_at', 'app_states_deleted_at']::name[]);
SELECT indexes_are('agentstore', 'user_states', ARRAY[
    'user_states_pkey', 'user_states_active_key', 'user_states_expires_at', 'user_states_deleted_at']::name[]);
SELECT indexes_are('agentstore', 'session_summaries', ARRAY[
    'session_summaries_pkey', 'session_summaries_deleted_at']::name[]);
-- One active session per key.
SELECT index_is_unique('agentstore', 'sessions', 'sessions_active_key');
SELECT is(pg_get_indexdef('agentstore.sessions_active_key'::regclass),
          'CREATE UNIQUE INDEX sessions_active_key ON agentstore.sessions USING btree (app_name, user_id, session_id) WHERE (deleted_at IS NULL)',
          'one active session per (app_name, user_id, session_id)');
SELECT has_column('agentstore', 'sessions', 'expires_at', 'sessions expire');
SELECT has_column('agentstore', 'sessions', 'deleted_at', 'sessions are soft-deleted');

SELECT * FROM finish();
ROLLBACK;

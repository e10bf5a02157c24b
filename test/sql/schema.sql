-- pgTAP contract of the data model: tables, keys, indexes, functions and
-- privileges.  A change to any of them must change this file on purpose.
SET client_min_messages = warning;
BEGIN;
SELECT plan(42);

SELECT has_schema('agentstore');
SELECT tables_are('agentstore', ARRAY[
    'sessions', 'app_states', 'user_states', 'session_summaries',
    'events',
    'checkpoint_threads', 'checkpoints', 'checkpoint_blobs', 'checkpoint_writes',
    'ttl_runs']);
SELECT sequences_are('agentstore', ARRAY[
    'sessions_id_seq', 'app_states_id_seq', 'user_states_id_seq',
    'events_position_seq', 'ttl_runs_id_seq']);

-- Primary keys: the distribution key of each family comes first.
SELECT col_is_pk('agentstore', 'sessions', ARRAY['app_name', 'id']::name[], 'primary key of sessions');
SELECT col_is_pk('agentstore', 'app_states', ARRAY['app_name', 'id']::name[], 'primary key of app_states');
SELECT col_is_pk('agentstore', 'user_states', ARRAY['app_name', 'id']::name[], 'primary key of user_states');
SELECT col_is_pk('agentstore', 'session_summaries', ARRAY['app_name', 'session_ref', 'filter_key']::name[], 'primary key of session_summaries');
SELECT col_is_pk('agentstore', 'events', ARRAY['stream', 'version']::name[], 'primary key of events');
SELECT col_is_pk('agentstore', 'checkpoint_threads', ARRAY['thread_id']::name[], 'primary key of checkpoint_threads');
SELECT col_is_pk('agentstore', 'checkpoints', ARRAY['thread_id', 'checkpoint_ns', 'checkpoint_id']::name[], 'primary key of checkpoints');
SELECT col_is_pk('agentstore', 'checkpoint_blobs', ARRAY['thread_id', 'checkpoint_ns', 'channel', 'version']::name[], 'primary key of checkpoint_blobs');
SELECT col_is_pk('agentstore', 'checkpoint_writes', ARRAY['thread_id', 'checkpoint_ns', 'checkpoint_id', 'task_id', 'idx']::name[], 'primary key of checkpoint_writes');
SELECT col_is_pk('agentstore', 'ttl_runs', ARRAY['id']::name[], 'primary key of ttl_runs');

-- Indexes, exactly.
SELECT indexes_are('agentstore', 'sessions', ARRAY[
    'sessions_pkey', 'sessions_active_key', 'sessions_user_recent',
    'sessions_app_recent', 'sessions_expires_at', 'sessions_deleted_at']::name[]);
SELECT indexes_are('agentstore', 'app_states', ARRAY[
    'app_states_pkey', 'app_states_active_key', 'app_states_expires_at', 'app_states_deleted_at']::name[]);
SELECT indexes_are('agentstore', 'user_states', ARRAY[
    'user_states_pkey', 'user_states_active_key', 'user_states_expires_at', 'user_states_deleted_at']::name[]);
SELECT indexes_are('agentstore', 'session_summaries', ARRAY[
    'session_summaries_pkey', 'session_summaries_deleted_at']::name[]);
SELECT indexes_are('agentstore', 'events', ARRAY[
    'events_pkey', 'events_stream_event_id', 'events_commit_order',
    'events_expires_at', 'events_deleted_at']::name[]);
SELECT indexes_are('agentstore', 'checkpoint_threads', ARRAY[
    'checkpoint_threads_pkey', 'checkpoint_threads_expires_at']::name[]);
SELECT indexes_are('agentstore', 'checkpoints', ARRAY['checkpoints_pkey']::name[]);
SELECT indexes_are('agentstore', 'checkpoint_blobs', ARRAY['checkpoint_blobs_pkey']::name[]);
SELECT indexes_are('agentstore', 'checkpoint_writes', ARRAY['checkpoint_writes_pkey']::name[]);
SELECT indexes_are('agentstore', 'ttl_runs', ARRAY['ttl_runs_pkey']::name[]);

-- Unique keys include the distribution key; one active row per key.
SELECT index_is_unique('agentstore', 'sessions', 'sessions_active_key');
SELECT is(pg_get_indexdef('agentstore.sessions_active_key'::regclass),
          'CREATE UNIQUE INDEX sessions_active_key ON agentstore.sessions USING btree (app_name, user_id, session_id) WHERE (deleted_at IS NULL)',
          'one active session per (app_name, user_id, session_id)');
SELECT index_is_unique('agentstore', 'events', 'events_stream_event_id');

-- Timestamps are timestamptz; TTL and soft-delete columns where they belong.
SELECT is(
    (SELECT count(*)::int FROM pg_attribute a
      WHERE a.attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'agentstore'::regnamespace AND relkind = 'r')
        AND a.attnum > 0 AND NOT a.attisdropped
        AND a.atttypid = 'timestamp'::regtype),
    0, 'no timestamp without time zone column');
SELECT has_column('agentstore', 'sessions', 'expires_at', 'sessions expire');
SELECT has_column('agentstore', 'sessions', 'deleted_at', 'sessions are soft-deleted');
SELECT has_column('agentstore', 'events', 'deleted_at', 'events are soft-deleted with their session');
SELECT has_column('agentstore', 'checkpoint_threads', 'expires_at', 'checkpoint threads expire');
SELECT col_type_is('agentstore', 'events', 'transaction_id', 'pg_catalog', 'xid8', 'events record their transaction (xid8)');
SELECT col_type_is('agentstore', 'events', 'version', 'pg_catalog', 'bigint', 'versions are bigint');
SELECT col_hasnt_default('agentstore', 'events', 'version', 'versions never come from a default or a sequence');
SELECT is(
    (SELECT collname::text FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
      WHERE a.attrelid = 'agentstore.checkpoints'::regclass AND a.attname = 'checkpoint_id'),
    'C', 'checkpoint ids compare byte-wise');

-- Functions, exactly (names; signatures are pinned by each feature's test).
SELECT functions_are('agentstore', ARRAY[
    'preloaded', '_warn_if_not_preloaded']);
SELECT has_function('agentstore', 'preloaded', ARRAY[]::name[]);
SELECT function_returns('agentstore', 'preloaded', ARRAY[]::name[], 'boolean');

-- Privileges: PUBLIC gets nothing; the owner grants roles what they need.
SELECT schema_privs_are('agentstore', 'public', ARRAY[]::text[]);
SELECT table_privs_are('agentstore', 'sessions', 'public', ARRAY[]::text[]);
SELECT table_privs_are('agentstore', 'events', 'public', ARRAY[]::text[]);
SELECT is(
    (SELECT count(*)::int FROM pg_class
      WHERE relnamespace = 'agentstore'::regnamespace AND relkind IN ('r', 'S')
        AND relacl IS NOT NULL AND array_to_string(relacl, ',') ~ '(^|,)='),
    0, 'no table or sequence grants anything to PUBLIC');

SELECT * FROM finish();
ROLLBACK;

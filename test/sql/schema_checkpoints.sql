-- pgTAP contract of the checkpoint tables: keys, indexes, columns.
SET client_min_messages = warning;
BEGIN;
SELECT plan(10);

SELECT col_is_pk('agentstore', 'checkpoint_threads', ARRAY['thread_id']::name[], 'primary key of checkpoint_threads');
SELECT col_is_pk('agentstore', 'checkpoints', ARRAY['thread_id', 'checkpoint_ns', 'checkpoint_id']::name[], 'primary key of checkpoints');
SELECT col_is_pk('agentstore', 'checkpoint_blobs', ARRAY['thread_id', 'checkpoint_ns', 'channel', 'version']::name[], 'primary key of checkpoint_blobs');
SELECT col_is_pk('agentstore', 'checkpoint_writes', ARRAY['thread_id', 'checkpoint_ns', 'checkpoint_id', 'task_id', 'idx']::name[], 'primary key of checkpoint_writes');
SELECT indexes_are('agentstore', 'checkpoint_threads', ARRAY[
    'checkpoint_threads_pkey', 'checkpoint_threads_expires_at']::name[]);
SELECT indexes_are('agentstore', 'checkpoints',
    ARRAY['checkpoints_pkey', 'checkpoints_checkpoint_id', 'checkpoints_run_id']::name[]);
SELECT indexes_are('agentstore', 'checkpoint_blobs', ARRAY['checkpoint_blobs_pkey', 'checkpoint_blobs_key']::name[]);
SELECT indexes_are('agentstore', 'checkpoint_writes', ARRAY['checkpoint_writes_pkey']::name[]);
SELECT is(
    (SELECT collname::text FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
      WHERE a.attrelid = 'agentstore.checkpoints'::regclass AND a.attname = 'checkpoint_id'),
    'C', 'checkpoint ids compare byte-wise');
SELECT has_column('agentstore', 'checkpoint_threads', 'expires_at', 'checkpoint threads expire');

SELECT * FROM finish();
ROLLBACK;

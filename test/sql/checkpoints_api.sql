-- pgTAP contract of the checkpoint API: names, argument names and types,
-- defaults, result types, volatility, language and privileges.  Changing
-- any of them must change this file on purpose.
SET client_min_messages = warning;
BEGIN;
SELECT plan(79);

-- The functions, with their argument types.
SELECT has_function('agentstore', 'put_checkpoint',
    ARRAY['text', 'text', 'jsonb', 'json', 'jsonb', 'jsonb', 'text', 'interval']);
SELECT has_function('agentstore', 'put_writes',
    ARRAY['text', 'text', 'text', 'text', 'jsonb', 'text']);
SELECT has_function('agentstore', 'get_checkpoint', ARRAY['text', 'text', 'text']);
SELECT has_function('agentstore', 'list_checkpoints',
    ARRAY['text', 'text', 'jsonb', 'text', 'integer', 'text']);
SELECT has_function('agentstore', 'delta_channel_history', ARRAY['text', 'text', 'text', 'text[]']);
SELECT has_function('agentstore', 'delete_thread', ARRAY['text']);
SELECT has_function('agentstore', 'delete_checkpoint', ARRAY['text', 'text', 'text']);
SELECT has_function('agentstore', 'delete_runs', ARRAY['text[]']);
SELECT has_function('agentstore', 'copy_thread', ARRAY['text', 'text', 'interval']);
SELECT has_function('agentstore', 'prune_checkpoints', ARRAY['text', 'integer']);
SELECT has_function('agentstore', 'expire_checkpoint_threads', ARRAY['integer']);
SELECT has_function('agentstore', '_checkpoint_blob_key', ARRAY['text', 'text', 'text', 'text']);
SELECT has_function('agentstore', '_checkpoint_keys_ok', ARRAY['text', 'text', 'text', 'text', 'text', 'text']);
SELECT has_function('agentstore', '_checkpoint_lock_thread', ARRAY['text', 'boolean']);
SELECT has_function('agentstore', '_checkpoint_remove_unreferenced_blobs', ARRAY['text']);

-- Argument names and defaults: callers use named notation.
SELECT is(pg_get_function_arguments('agentstore.put_checkpoint(text, text, jsonb, json, jsonb, jsonb, text, interval)'::regprocedure),
    'thread_id text, checkpoint_ns text, checkpoint jsonb, metadata json, new_versions jsonb, blobs jsonb DEFAULT NULL::jsonb, parent_checkpoint_id text DEFAULT NULL::text, ttl interval DEFAULT NULL::interval',
    'put_checkpoint arguments');
SELECT is(pg_get_function_arguments('agentstore.put_writes(text, text, text, text, jsonb, text)'::regprocedure),
    'thread_id text, checkpoint_ns text, checkpoint_id text, task_id text, writes jsonb, task_path text DEFAULT ''''::text',
    'put_writes arguments');
SELECT is(pg_get_function_arguments('agentstore.get_checkpoint(text, text, text)'::regprocedure),
    'thread_id text, checkpoint_ns text DEFAULT ''''::text, checkpoint_id text DEFAULT NULL::text',
    'get_checkpoint arguments');
SELECT is(pg_get_function_arguments('agentstore.list_checkpoints(text, text, jsonb, text, integer, text)'::regprocedure),
    'thread_id text DEFAULT NULL::text, checkpoint_ns text DEFAULT NULL::text, filter jsonb DEFAULT NULL::jsonb, before text DEFAULT NULL::text, max_count integer DEFAULT NULL::integer, checkpoint_id text DEFAULT NULL::text',
    'list_checkpoints arguments');
SELECT is(pg_get_function_arguments('agentstore.delta_channel_history(text, text, text, text[])'::regprocedure),
    'thread_id text, checkpoint_ns text, checkpoint_id text, channels text[]',
    'delta_channel_history arguments');
SELECT is(pg_get_function_arguments('agentstore.delete_thread(text)'::regprocedure),
    'thread_id text', 'delete_thread arguments');
SELECT is(pg_get_function_arguments('agentstore.delete_checkpoint(text, text, text)'::regprocedure),
    'checkpoint_id text, thread_id text DEFAULT NULL::text, checkpoint_ns text DEFAULT NULL::text',
    'delete_checkpoint arguments');
SELECT is(pg_get_function_arguments('agentstore.copy_thread(text, text, interval)'::regprocedure),
    'from_thread_id text, to_thread_id text, ttl interval DEFAULT NULL::interval',
    'copy_thread arguments');
SELECT is(pg_get_function_arguments('agentstore.delete_runs(text[])'::regprocedure),
    'run_ids text[]', 'delete_runs arguments');
SELECT is(pg_get_function_arguments('agentstore.prune_checkpoints(text, integer)'::regprocedure),
    'thread_id text, keep_last integer', 'prune_checkpoints arguments');
SELECT is(pg_get_function_arguments('agentstore.expire_checkpoint_threads(integer)'::regprocedure),
    'max_threads integer DEFAULT 100', 'expire_checkpoint_threads arguments');

-- Results.
SELECT function_returns('agentstore', 'put_checkpoint',
    ARRAY['text', 'text', 'jsonb', 'json', 'jsonb', 'jsonb', 'text', 'interval'], 'text');
SELECT function_returns('agentstore', 'put_writes',
    ARRAY['text', 'text', 'text', 'text', 'jsonb', 'text'], 'integer');
SELECT function_returns('agentstore', 'get_checkpoint', ARRAY['text', 'text', 'text'],
    'setof agentstore.checkpoint_tuple');
SELECT function_returns('agentstore', 'list_checkpoints',
    ARRAY['text', 'text', 'jsonb', 'text', 'integer', 'text'], 'setof agentstore.checkpoint_tuple');
SELECT function_returns('agentstore', 'delta_channel_history', ARRAY['text', 'text', 'text', 'text[]'], 'json');
SELECT function_returns('agentstore', 'delete_thread', ARRAY['text'], 'bigint');
SELECT function_returns('agentstore', 'delete_checkpoint', ARRAY['text', 'text', 'text'], 'bigint');
SELECT function_returns('agentstore', 'delete_runs', ARRAY['text[]'], 'bigint');
SELECT function_returns('agentstore', 'copy_thread', ARRAY['text', 'text', 'interval'], 'bigint');
SELECT function_returns('agentstore', 'prune_checkpoints', ARRAY['text', 'integer'], 'setof record');
SELECT is(pg_get_function_result('agentstore.prune_checkpoints(text, integer)'::regprocedure),
    'TABLE(checkpoints_removed bigint, blobs_removed bigint, writes_removed bigint)',
    'prune_checkpoints result columns');
SELECT function_returns('agentstore', 'expire_checkpoint_threads', ARRAY['integer'], 'integer');
SELECT function_returns('agentstore', '_checkpoint_blob_key', ARRAY['text', 'text', 'text', 'text'], 'bigint');

-- The tuple type get_checkpoint and list_checkpoints return.
SELECT has_composite('agentstore', 'checkpoint_tuple', 'checkpoint_tuple is a composite type');
SELECT is(
    (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
       FROM pg_attribute WHERE attrelid = 'agentstore.checkpoint_tuple'::regclass AND attnum > 0),
    'thread_id text, checkpoint_ns text, checkpoint_id text, parent_checkpoint_id text, '
    'checkpoint jsonb, metadata jsonb, channel_values json, pending_writes json, pending_sends json',
    'checkpoint_tuple columns');

-- Volatility: reads are STABLE (one snapshot), writes VOLATILE; the index
-- expression IMMUTABLE.
SELECT volatility_is('agentstore', 'put_checkpoint',
    ARRAY['text', 'text', 'jsonb', 'json', 'jsonb', 'jsonb', 'text', 'interval'], 'volatile');
SELECT volatility_is('agentstore', 'put_writes',
    ARRAY['text', 'text', 'text', 'text', 'jsonb', 'text'], 'volatile');
SELECT volatility_is('agentstore', 'get_checkpoint', ARRAY['text', 'text', 'text'], 'stable');
SELECT volatility_is('agentstore', 'list_checkpoints',
    ARRAY['text', 'text', 'jsonb', 'text', 'integer', 'text'], 'stable');
SELECT volatility_is('agentstore', 'delta_channel_history', ARRAY['text', 'text', 'text', 'text[]'], 'stable');
SELECT volatility_is('agentstore', 'delete_thread', ARRAY['text'], 'volatile');
SELECT volatility_is('agentstore', 'delete_runs', ARRAY['text[]'], 'volatile');
SELECT volatility_is('agentstore', 'copy_thread', ARRAY['text', 'text', 'interval'], 'volatile');
SELECT volatility_is('agentstore', 'prune_checkpoints', ARRAY['text', 'integer'], 'volatile');
SELECT volatility_is('agentstore', 'expire_checkpoint_threads', ARRAY['integer'], 'volatile');
SELECT volatility_is('agentstore', '_checkpoint_blob_key', ARRAY['text', 'text', 'text', 'text'], 'immutable');
SELECT is_strict('agentstore', '_checkpoint_blob_key', ARRAY['text', 'text', 'text', 'text']);
-- NULL arguments mean "not given" or are reported, never silently NULL
SELECT isnt_strict('agentstore', 'put_checkpoint',
    ARRAY['text', 'text', 'jsonb', 'json', 'jsonb', 'jsonb', 'text', 'interval']);
SELECT isnt_strict('agentstore', 'get_checkpoint', ARRAY['text', 'text', 'text']);
SELECT isnt_strict('agentstore', 'delete_runs', ARRAY['text[]']);
SELECT isnt_strict('agentstore', 'delta_channel_history', ARRAY['text', 'text', 'text', 'text[]']);

-- Language: the hot paths in C, the rest in plpgsql.
SELECT function_lang_is('agentstore', 'put_checkpoint',
    ARRAY['text', 'text', 'jsonb', 'json', 'jsonb', 'jsonb', 'text', 'interval'], 'c');
SELECT function_lang_is('agentstore', 'put_writes',
    ARRAY['text', 'text', 'text', 'text', 'jsonb', 'text'], 'c');
SELECT function_lang_is('agentstore', 'get_checkpoint', ARRAY['text', 'text', 'text'], 'c');
SELECT function_lang_is('agentstore', 'list_checkpoints',
    ARRAY['text', 'text', 'jsonb', 'text', 'integer', 'text'], 'c');
SELECT function_lang_is('agentstore', 'delete_thread', ARRAY['text'], 'plpgsql');
SELECT function_lang_is('agentstore', 'prune_checkpoints', ARRAY['text', 'integer'], 'plpgsql');
SELECT function_lang_is('agentstore', 'delete_runs', ARRAY['text[]'], 'plpgsql');
SELECT function_lang_is('agentstore', 'delta_channel_history', ARRAY['text', 'text', 'text', 'text[]'], 'plpgsql');

-- Privileges: functions run with the caller's rights (no SECURITY DEFINER);
-- what a role may do is decided by USAGE on the schema and its privileges
-- on the tables.
SELECT isnt_definer('agentstore', 'put_checkpoint',
    ARRAY['text', 'text', 'jsonb', 'json', 'jsonb', 'jsonb', 'text', 'interval']);
SELECT isnt_definer('agentstore', 'delete_thread', ARRAY['text']);
SELECT isnt_definer('agentstore', 'delete_runs', ARRAY['text[]']);
SELECT isnt_definer('agentstore', 'delta_channel_history', ARRAY['text', 'text', 'text', 'text[]']);
SELECT function_privs_are('agentstore', 'get_checkpoint', ARRAY['text', 'text', 'text'],
    'public', ARRAY['EXECUTE']);
SELECT function_privs_are('agentstore', 'delta_channel_history', ARRAY['text', 'text', 'text', 'text[]'],
    'public', ARRAY['EXECUTE']);
-- It reads through get_checkpoint, whatever search_path the caller has.
SELECT is((SELECT proconfig FROM pg_proc
            WHERE oid = 'agentstore.delta_channel_history(text, text, text, text[])'::regprocedure),
    ARRAY['search_path=pg_catalog, pg_temp'], 'delta_channel_history pins its search_path');
SELECT table_privs_are('agentstore', 'checkpoints', 'public', ARRAY[]::text[]);
SELECT table_privs_are('agentstore', 'checkpoint_blobs', 'public', ARRAY[]::text[]);
SELECT table_privs_are('agentstore', 'checkpoint_writes', 'public', ARRAY[]::text[]);
SELECT table_privs_are('agentstore', 'checkpoint_threads', 'public', ARRAY[]::text[]);

-- The index get_checkpoint reads blobs through.
SELECT has_index('agentstore', 'checkpoint_blobs', 'checkpoint_blobs_key',
    'agentstore._checkpoint_blob_key(thread_id, checkpoint_ns, channel, version)');
-- The index delete_runs finds a run's checkpoints through.
SELECT has_index('agentstore', 'checkpoints', 'checkpoints_run_id',
    '((metadata ->> ''run_id''::text))');
SELECT is(
    agentstore._checkpoint_blob_key('a', 'b', 'c', 'd') = agentstore._checkpoint_blob_key('ab', '', 'c', 'd'),
    false, 'the blob key hashes each part with its length');

SELECT * FROM finish();
ROLLBACK;

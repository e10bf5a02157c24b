-- Checkpoints: delete_runs(), LangGraph's delete_for_runs.  LangGraph keeps
-- a run's id in each checkpoint's metadata.run_id; delete_runs removes the
-- checkpoints of the given runs in every thread and namespace, their
-- pending writes, and the blobs no remaining checkpoint of their thread
-- names.  The rules of langgraph-checkpoint-conformance's
-- test_delete_for_runs.py, then blobs, privileges, NULLs, the index and a
-- hostile search_path.  Thread ids start with "cp-runs".
SET client_min_messages = warning;

-- Put a checkpoint of a run: channel versions {channel: version} (a blob
-- for each channel, "<channel> v<version>"), metadata {"run_id": run}.
CREATE FUNCTION pg_temp.put(thread text, ns text, id text, run text, versions jsonb,
                            parent text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT agentstore.put_checkpoint(thread, ns,
        jsonb_build_object('v', 4, 'id', id, 'ts', '2025-01-01T00:00:00Z',
                           'channel_versions', versions, 'versions_seen', '{}'::jsonb),
        json_build_object('source', 'loop', 'run_id', run),
        versions,
        (SELECT jsonb_object_agg(key, jsonb_build_array('json',
                    encode(convert_to(to_jsonb(key || ' v' || value)::text, 'UTF8'), 'base64')))
           FROM jsonb_each_text(versions)),
        parent)
$$;

-- Every row of the cp-runs threads, one line per table.
CREATE FUNCTION pg_temp.rows() RETURNS TABLE (kind text, keys text) LANGUAGE sql AS $$
    SELECT 'checkpoints', string_agg(format('%s/%s/%s(%s)', thread_id, checkpoint_ns, checkpoint_id,
                                            coalesce(metadata ->> 'run_id', '-')), ' '
                      ORDER BY thread_id, checkpoint_ns, checkpoint_id)
      FROM agentstore.checkpoints WHERE thread_id LIKE 'cp-runs%'
    UNION ALL
    SELECT 'blobs', string_agg(format('%s/%s/%s=%s', thread_id, checkpoint_ns, channel, version), ' '
                      ORDER BY thread_id, checkpoint_ns, channel, version)
      FROM agentstore.checkpoint_blobs WHERE thread_id LIKE 'cp-runs%'
    UNION ALL
    SELECT 'writes', string_agg(format('%s/%s/%s:%s/%s', thread_id, checkpoint_ns, checkpoint_id, task_id, idx), ' '
                      ORDER BY thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
      FROM agentstore.checkpoint_writes WHERE thread_id LIKE 'cp-runs%'
$$;

-- A checksum of every checkpoint table.
CREATE FUNCTION pg_temp.checksum() RETURNS text LANGUAGE sql AS $$
    SELECT md5(concat_ws('|',
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM agentstore.checkpoint_threads t),
        (SELECT string_agg(c::text, ',' ORDER BY c::text) FROM agentstore.checkpoints c),
        (SELECT string_agg(b::text, ',' ORDER BY b::text) FROM agentstore.checkpoint_blobs b),
        (SELECT string_agg(w::text, ',' ORDER BY w::text) FROM agentstore.checkpoint_writes w)))
$$;

-- Thread a, namespace '': run r1 puts 0001 and 0002, run r2 continues the
-- thread with 0003, whose messages channel is still at version 1 (the blob
-- r1 wrote), and run r3 puts 0004.  Namespace child:1 (a subgraph) has r1's
-- 0001.  Thread b has r1 and r4.  Thread c has a checkpoint without a run
-- id and one whose run_id is JSON null.
SELECT pg_temp.put('cp-runs-a', '', '0001', 'r1', '{"messages": 1, "count": 1}');
SELECT pg_temp.put('cp-runs-a', '', '0002', 'r1', '{"messages": 1, "count": 2}', '0001');
SELECT pg_temp.put('cp-runs-a', '', '0003', 'r2', '{"messages": 1, "count": 3}', '0002');
SELECT pg_temp.put('cp-runs-a', '', '0004', 'r3', '{"messages": 4, "count": 4}', '0003');
SELECT pg_temp.put('cp-runs-a', 'child:1', '0001', 'r1', '{"sub": 1}');
SELECT pg_temp.put('cp-runs-b', '', '0001', 'r1', '{"count": 1}');
SELECT pg_temp.put('cp-runs-b', '', '0002', 'r4', '{"count": 2}', '0001');
SELECT agentstore.put_checkpoint('cp-runs-c', '', '{"v": 4, "id": "0001", "channel_versions": {}}', '{"source": "input"}', '{}');
SELECT agentstore.put_checkpoint('cp-runs-c', '', '{"v": 4, "id": "0002", "channel_versions": {}}', '{"run_id": null}', '{}');
SELECT agentstore.put_writes('cp-runs-a', '', '0002', 'task-r1', '[["count", 5]]');
SELECT agentstore.put_writes('cp-runs-a', '', '0003', 'task-r2', '[["count", 6], ["__error__", "e"]]');
SELECT agentstore.put_writes('cp-runs-a', 'child:1', '0001', 'task-sub', '[["sub", 2]]');
SELECT agentstore.put_writes('cp-runs-b', '', '0002', 'task-r4', '[["count", 7]]');
SELECT * FROM pg_temp.rows();

-- Empty list, NULL list, NULL elements and unknown run ids: nothing happens.
SELECT pg_temp.checksum() AS before \gset
SELECT agentstore.delete_runs('{}') AS empty,
       agentstore.delete_runs(NULL) AS null_list,
       agentstore.delete_runs(ARRAY[NULL]::text[]) AS null_element,
       agentstore.delete_runs(ARRAY['no-such-run', 'R1', 'r1 ', '']) AS unknown;
SELECT pg_temp.checksum() = :'before' AS nothing_changed;

-- One run: r2's checkpoint and its writes go; its blob count v3 goes; its
-- messages v1 stays, named by r1's remaining checkpoints.  The checkpoint
-- of r3 whose parent was r2's keeps its values.
SELECT agentstore.delete_runs(ARRAY['r2']);
SELECT * FROM pg_temp.rows();
SELECT checkpoint_id, parent_checkpoint_id, metadata ->> 'run_id' AS run_id, channel_values, pending_writes
  FROM agentstore.list_checkpoints('cp-runs-a', '');
SELECT count(*) AS r2_left FROM agentstore.get_checkpoint('cp-runs-a', '', '0003');

-- Several runs, a NULL element among them: r1 goes from every thread and
-- every namespace, with its writes; r3 and r4 stay.  messages v1 is named by
-- no checkpoint any more and goes; count v4 and messages v4 stay.
SELECT agentstore.delete_runs(ARRAY['r1', NULL, 'no-such-run']);
SELECT * FROM pg_temp.rows();
SELECT checkpoint_ns, checkpoint_id, metadata ->> 'run_id' AS run_id, channel_values
  FROM agentstore.list_checkpoints('cp-runs-a');
SELECT count(*) AS child_left FROM agentstore.list_checkpoints('cp-runs-a', 'child:1');
-- the remaining run's tuple is whole
SELECT checkpoint_id, channel_values, pending_writes FROM agentstore.get_checkpoint('cp-runs-b');
-- again: nothing left to remove
SELECT agentstore.delete_runs(ARRAY['r1', 'r2']);

-- The same run id twice, and a run id given as a JSON number (->> prints it).
SELECT pg_temp.put('cp-runs-d', '', '0001', '42', '{"count": 1}');
SELECT agentstore.put_checkpoint('cp-runs-d', '', '{"v": 4, "id": "0002", "channel_versions": {"count": 1}}',
                                 '{"run_id": 42}', '{}', NULL, '0001');
SELECT agentstore.delete_runs(ARRAY['42', '42']);
SELECT count(*) AS d_left FROM agentstore.checkpoints WHERE thread_id = 'cp-runs-d';
SELECT count(*) AS d_blobs_left FROM agentstore.checkpoint_blobs WHERE thread_id = 'cp-runs-d';

-- Privileges: the caller's own.  A role with SELECT and the thread lock but
-- without DELETE on the checkpoint tables gets 42501 and changes nothing; a
-- role without EXECUTE on the thread lock too.
CREATE ROLE regress_runs_reader;
CREATE ROLE regress_runs_nolock;
GRANT USAGE ON SCHEMA agentstore TO regress_runs_reader, regress_runs_nolock;
GRANT SELECT ON agentstore.checkpoints, agentstore.checkpoint_blobs, agentstore.checkpoint_writes
    TO regress_runs_reader;
GRANT EXECUTE ON FUNCTION agentstore._checkpoint_lock_thread(text, boolean) TO regress_runs_reader;
GRANT SELECT, DELETE ON agentstore.checkpoints, agentstore.checkpoint_blobs, agentstore.checkpoint_writes
    TO regress_runs_nolock;
SELECT pg_temp.checksum() AS before \gset
\set VERBOSITY sqlstate
SET ROLE regress_runs_reader;
SELECT agentstore.delete_runs(ARRAY['r3']);
RESET ROLE;
SET ROLE regress_runs_nolock;
SELECT agentstore.delete_runs(ARRAY['r3']);
-- an empty list touches no table
SELECT agentstore.delete_runs('{}');
RESET ROLE;
\set VERBOSITY default
SELECT pg_temp.checksum() = :'before' AS nothing_changed;
DROP OWNED BY regress_runs_reader, regress_runs_nolock;
DROP ROLE regress_runs_reader, regress_runs_nolock;

-- A hostile search_path: a schema first in it shadows the operators and
-- functions delete_runs uses; none of them runs (delete_runs pins its
-- search_path).
CREATE SCHEMA regress_runs_evil;
CREATE FUNCTION regress_runs_evil.trap(text, text) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked: text = text'; END$$;
CREATE OPERATOR regress_runs_evil.= (FUNCTION = regress_runs_evil.trap, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION regress_runs_evil.trap_get(jsonb, text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked: jsonb ->> text'; END$$;
CREATE OPERATOR regress_runs_evil.->> (FUNCTION = regress_runs_evil.trap_get, LEFTARG = jsonb, RIGHTARG = text);
CREATE FUNCTION regress_runs_evil.cardinality(anyarray) RETURNS integer LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked: cardinality'; END$$;
CREATE FUNCTION regress_runs_evil.jsonb_each_text(jsonb, OUT key text, OUT value text) RETURNS SETOF record
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked: jsonb_each_text'; END$$;
SELECT pg_temp.put('cp-runs-e', '', '0001', 'r5', '{"count": 1}');
SELECT pg_temp.put('cp-runs-e', '', '0002', 'r6', '{"count": 2}', '0001');
SET search_path = regress_runs_evil, pg_catalog, public;
SELECT agentstore.delete_runs(ARRAY['r5']::pg_catalog.text[]);
RESET search_path;
SELECT * FROM pg_temp.rows() WHERE kind <> 'writes';
DROP SCHEMA regress_runs_evil CASCADE;

-- A run is found through the index checkpoints_run_id, also by a generic
-- plan (the one PL/pgSQL caches), never by reading every checkpoint.  The
-- statement is delete_runs' own.
PREPARE runs(text[]) AS
SELECT DISTINCT c.thread_id FROM agentstore.checkpoints c
 WHERE (c.metadata ->> 'run_id') COLLATE "C" = ANY ($1)
   AND (c.metadata ->> 'run_id') IS NOT NULL
 ORDER BY 1;
SET plan_cache_mode = force_generic_plan;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) EXECUTE runs('{r3}');
RESET enable_seqscan;
RESET plan_cache_mode;
DEALLOCATE runs;
SELECT pg_get_indexdef('agentstore.checkpoints_run_id'::regclass);

-- A run id is the client's string, of any length: the index (hash) holds
-- one of 10,240 characters, where a btree entry could not (put failed).
SELECT agentstore.put_checkpoint('cp-runs-g', '', '{"v": 4, "id": "0001", "channel_versions": {"count": 1}}',
    json_build_object('run_id', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 320) i)),
    '{"count": 1}', '{"count": ["json", "MQ=="]}');
SELECT agentstore.put_checkpoint('cp-runs-g', '', '{"v": 4, "id": "0002", "channel_versions": {"count": 1}}',
    '{"run_id": "r7"}', '{}', NULL, '0001');
SELECT agentstore.delete_runs(ARRAY[(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 320) i)]);
SELECT checkpoint_id, metadata ->> 'run_id' AS run_id
  FROM agentstore.checkpoints WHERE thread_id = 'cp-runs-g';

-- prune_checkpoints shares delete_runs' blob cleanup: a checkpoint whose
-- channel_versions is JSON null names no blob (prune failed on it before).
SELECT agentstore.put_checkpoint('cp-runs-f', '', '{"v": 4, "id": "0001", "channel_versions": {"count": 1}}',
                                 '{}', '{"count": 1}', '{"count": ["json", "MQ=="]}');
SELECT agentstore.put_checkpoint('cp-runs-f', '', '{"v": 4, "id": "0002", "channel_versions": null}',
                                 '{}', '{}', NULL, '0001');
SELECT * FROM agentstore.prune_checkpoints('cp-runs-f', 1);

-- Leave nothing behind for the tests that follow.
SELECT agentstore.delete_thread(t)
  FROM unnest(ARRAY['cp-runs-a', 'cp-runs-b', 'cp-runs-c', 'cp-runs-d', 'cp-runs-e', 'cp-runs-f', 'cp-runs-g']) AS t;
SELECT count(*) AS left_behind FROM agentstore.checkpoint_threads WHERE thread_id LIKE 'cp-runs%';

-- Checkpoints: pending writes that come before their checkpoint.
-- LangGraph.js stores a task's writes (putWrites) without waiting for the
-- put of the checkpoint they belong to.  They are accepted, and read with
-- the checkpoint once it is stored; a late write after delete_thread does
-- not bring the thread back; writes whose checkpoint never comes do not
-- stay forever.  Thread ids start with "cp-early".
SET client_min_messages = warning;

-- Rows of a thread in every table, and when its row expires (relative to
-- the transaction's start, so call it inside the transaction that wrote).
CREATE FUNCTION pg_temp.rows(thread text) RETURNS text LANGUAGE sql AS $$
    SELECT format('thread=%s checkpoints=%s writes=%s expires=%s',
        (SELECT count(*) FROM agentstore.checkpoint_threads WHERE thread_id = thread),
        (SELECT count(*) FROM agentstore.checkpoints WHERE thread_id = thread),
        (SELECT count(*) FROM agentstore.checkpoint_writes WHERE thread_id = thread),
        (SELECT coalesce((expires_at - now())::text, 'never')
           FROM agentstore.checkpoint_threads WHERE thread_id = thread))
$$;

-- Writes first, on a new thread: stored, nothing to read yet.
BEGIN;
SELECT agentstore.put_writes('cp-early', '', '0001', 'task-a', '[["x", 1], ["__interrupt__", "stop"]]');
SELECT agentstore.put_writes('cp-early', '', '0001', 'task-b', '[["x", 2]]');
SELECT count(*) FROM agentstore.get_checkpoint('cp-early');
SELECT count(*) FROM agentstore.list_checkpoints('cp-early');
-- the thread has its row, expiring in a day (agentstore.checkpoint_ttl is 0)
SELECT pg_temp.rows('cp-early');
COMMIT;
-- then the put: the writes are its pending writes, and the thread never
-- expires, as any thread put without a TTL
SELECT agentstore.put_checkpoint('cp-early', '', '{"id": "0001"}', '{}', '{}');
SELECT pending_writes FROM agentstore.get_checkpoint('cp-early');
SELECT pending_writes FROM agentstore.list_checkpoints('cp-early');
SELECT pg_temp.rows('cp-early');
-- the next step the same way, on a thread that exists: its row is kept
SELECT agentstore.put_writes('cp-early', '', '0002', 'task-c', '[["x", 3]]');
SELECT pg_temp.rows('cp-early');
SELECT agentstore.put_checkpoint('cp-early', '', '{"id": "0002"}', '{}', '{}', NULL, '0001');
SELECT checkpoint_id, pending_writes FROM agentstore.list_checkpoints('cp-early');
-- writes to a subgraph namespace before its first checkpoint
SELECT agentstore.put_writes('cp-early', 'child:1', '0001', 'task-d', '[["y", 4]]');
SELECT agentstore.put_checkpoint('cp-early', 'child:1', '{"id": "0001"}', '{}', '{}');
SELECT pending_writes FROM agentstore.get_checkpoint('cp-early', 'child:1');

-- With agentstore.checkpoint_ttl set, a thread that has only writes
-- expires after it, as any thread; the put then slides it as usual.
BEGIN;
SET LOCAL agentstore.checkpoint_ttl = '1h';
SELECT agentstore.put_writes('cp-early-ttl', '', '0001', 'task', '[["x", 1]]');
SELECT pg_temp.rows('cp-early-ttl');
SELECT agentstore.put_checkpoint('cp-early-ttl', '', '{"id": "0001"}', '{}', '{}', ttl => '2 hours');
SELECT pg_temp.rows('cp-early-ttl');
COMMIT;
SELECT agentstore.delete_thread('cp-early-ttl');

-- delete_thread removes writes whose checkpoint never came.
SELECT agentstore.put_writes('cp-early', '', '0003', 'task-e', '[["x", 5]]');
SELECT pg_temp.rows('cp-early');
SELECT agentstore.delete_thread('cp-early');
SELECT pg_temp.rows('cp-early');

-- A late write after delete_thread (LangGraph #7206): accepted, but the
-- thread does not come back -- nothing to get or list, a late put of a
-- child checkpoint still fails -- and the writes expire with the thread's
-- new row.
SELECT agentstore.put_checkpoint('cp-early-del', '', '{"id": "0001"}', '{}', '{}');
SELECT agentstore.put_writes('cp-early-del', '', '0001', 'task', '[["x", 1]]');
SELECT agentstore.delete_thread('cp-early-del');
BEGIN;
SELECT agentstore.put_writes('cp-early-del', '', '0001', 'task', '[["x", 1]]');
SELECT pg_temp.rows('cp-early-del');
COMMIT;
SELECT count(*) FROM agentstore.get_checkpoint('cp-early-del');
SELECT count(*) FROM agentstore.list_checkpoints('cp-early-del');
SELECT count(*) FROM agentstore.list_checkpoints(NULL) WHERE thread_id = 'cp-early-del';
SET client_min_messages = notice;
DO $$
BEGIN
    PERFORM agentstore.put_checkpoint('cp-early-del', '', '{"id": "0002"}', '{}', '{}', NULL, '0001');
EXCEPTION WHEN foreign_key_violation THEN
    RAISE NOTICE 'late put: %', SQLERRM;
END
$$ LANGUAGE plpgsql;
-- a thread with only writes is in use: not a target for copy_thread
SELECT agentstore.put_checkpoint('cp-early-src', '', '{"id": "0001"}', '{}', '{}');
DO $$
BEGIN
    PERFORM agentstore.copy_thread('cp-early-src', 'cp-early-del');
EXCEPTION WHEN unique_violation THEN
    RAISE NOTICE 'copy_thread: %', SQLERRM;
END
$$ LANGUAGE plpgsql;
SELECT agentstore.delete_thread('cp-early-src');
SET client_min_messages = warning;
-- a day later the TTL expiry removes the thread with its writes
UPDATE agentstore.checkpoint_threads SET expires_at = now() - interval '1 second'
 WHERE thread_id = 'cp-early-del';
SELECT agentstore.expire_checkpoint_threads();
SELECT pg_temp.rows('cp-early-del');
-- the same through the TTL worker's pass
SELECT agentstore.put_writes('cp-early-del', '', '0001', 'task', '[["x", 1]]');
UPDATE agentstore.checkpoint_threads SET expires_at = now() - interval '1 second'
 WHERE thread_id = 'cp-early-del';
BEGIN;
SELECT count(*) > 0 AS passed FROM agentstore.expire_now();
SELECT pg_temp.rows('cp-early-del');
ROLLBACK;
SELECT agentstore.delete_thread('cp-early-del');

-- prune_checkpoints removes writes whose checkpoint can no longer come
-- (older than the namespace's newest checkpoint: removed, or never put)
-- and keeps those waiting for a newer checkpoint, or in a namespace that
-- has none yet.
SELECT agentstore.put_checkpoint('cp-early-prune', '', format('{"id": "%s"}', lpad(i::text, 4, '0'))::jsonb, '{}', '{}',
                                 NULL, CASE WHEN i > 1 THEN lpad((i - 1)::text, 4, '0') END)
  FROM generate_series(1, 4) i;
SELECT agentstore.put_writes('cp-early-prune', '', id, 'task', '[["x", 1]]')
  FROM unnest('{0001,0002,0003,0004,0002a,0005}'::text[]) id;
SELECT agentstore.put_writes('cp-early-prune', 'child:9', '0001', 'task', '[["x", 1]]');
SELECT * FROM agentstore.prune_checkpoints('cp-early-prune', 2);
SELECT checkpoint_ns, checkpoint_id FROM agentstore.checkpoint_writes
 WHERE thread_id = 'cp-early-prune' ORDER BY 1, 2;
SELECT agentstore.delete_thread('cp-early-prune');

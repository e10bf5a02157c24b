-- Checkpoints: a thread deleted and written again under the same id, then
-- listed -- what LangGraph's getStateHistory() does after deleteThread() and
-- a new run on the same thread.  The listing meets the index entries of the
-- deleted rows, which nbtree marks dead as it goes; the array it keeps for
-- them must not live in memory that is freed after each tuple (this crashed
-- the server).  Thread ids start with "cp-reuse".
SET client_min_messages = warning;

-- Twenty checkpoints of ten channels, every channel at a new version at every
-- step, and one task's writes per checkpoint.
CREATE FUNCTION pg_temp.fill(thread text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    versions jsonb;
    blobs jsonb;
BEGIN
    FOR s IN 1..20 LOOP
        versions := '{}';
        blobs := '{}';
        FOR c IN 1..10 LOOP
            versions := versions || jsonb_build_object('ch' || c, s);
            blobs := blobs || jsonb_build_object('ch' || c, jsonb_build_array('json',
                encode(convert_to(format('{"step": %s, "channel": %s}', s, c), 'UTF8'), 'base64')));
        END LOOP;
        PERFORM agentstore.put_checkpoint(thread, '',
            jsonb_build_object('v', 4, 'id', format('%s', 1000 + s), 'channel_versions', versions),
            format('{"step": %s}', s)::json, versions, blobs,
            CASE WHEN s > 1 THEN format('%s', 999 + s) END);
        PERFORM agentstore.put_writes(thread, '', format('%s', 1000 + s), 'task-' || s,
            jsonb_build_array(jsonb_build_array('ch1', s), jsonb_build_array('ch2', s)));
    END LOOP;
END
$$;

-- What a listing returns, in one line per thread: rows, rows with all ten
-- channels, rows with their two writes, and the ids newest first.
CREATE FUNCTION pg_temp.summary(thread text) RETURNS text LANGUAGE sql AS $$
    SELECT format('rows=%s full=%s writes=%s ids=%s..%s',
                  count(*),
                  count(*) FILTER (WHERE (SELECT count(*) FROM json_object_keys(l.channel_values)) = 10),
                  count(*) FILTER (WHERE json_array_length(l.pending_writes) = 2),
                  max(l.checkpoint_id), min(l.checkpoint_id))
      FROM agentstore.list_checkpoints(thread) l
$$;

SELECT pg_temp.fill('cp-reuse');
SELECT pg_temp.summary('cp-reuse');
SELECT agentstore.delete_thread('cp-reuse');
SELECT pg_temp.fill('cp-reuse');
-- the listing after reuse (this crashed), then what it returns
SELECT count(*) FROM agentstore.list_checkpoints('cp-reuse');
SELECT pg_temp.summary('cp-reuse');
-- the values are the new run's
SELECT channel_values -> 'ch3', pending_writes
  FROM agentstore.list_checkpoints('cp-reuse', max_count => 1);
SELECT channel_values -> 'ch3' FROM agentstore.get_checkpoint('cp-reuse', '', '1001');

-- The same after a second deletion, and listing every thread and a page
-- with before.
SELECT agentstore.delete_thread('cp-reuse');
SELECT pg_temp.fill('cp-reuse');
SELECT count(*) FROM agentstore.list_checkpoints(NULL) WHERE thread_id = 'cp-reuse';
SELECT string_agg(checkpoint_id, ' ')
  FROM agentstore.list_checkpoints('cp-reuse', '', before => '1005');

-- Pruning leaves dead entries behind too.
SELECT * FROM agentstore.prune_checkpoints('cp-reuse', 5);
SELECT count(*) FROM agentstore.list_checkpoints('cp-reuse');
SELECT pg_temp.summary('cp-reuse');
SELECT agentstore.delete_thread('cp-reuse');

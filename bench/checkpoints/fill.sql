-- One LangGraph thread of :n checkpoints (psql variables thread and n), the
-- same rows in LangGraph's schema (bench.*) and in agentstore's tables.
-- A graph with 20 channels (ch00..ch19); each step changes 2 of them, so a
-- checkpoint's channel_versions names 20 blobs of which 2 are new; each
-- value is about 400 bytes of JSON (type "json", as LangGraph.js's
-- serializer writes it); each checkpoint has 2 pending writes of one task.
-- Ids are time-ordered strings like LangGraph's uuid6 ids.
CREATE FUNCTION pg_temp.fill(thread text, n int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    vers int[] := array_fill(1, ARRAY[20]);
    cv jsonb;
    id text;
    parent text;
    c1 int;
    c2 int;
BEGIN
    INSERT INTO bench.checkpoint_blobs
    SELECT thread, '', 'ch' || lpad(c::text, 2, '0'), '1', 'json',
           convert_to(jsonb_build_object('channel', c, 'step', 0, 'text', repeat('x', 350))::text, 'UTF8')
      FROM generate_series(0, 19) c;
    FOR i IN 1..n LOOP
        id := lpad(to_hex(i), 8, '0') || '-0000-6000-8000-' || substr(md5(thread || i), 1, 12);
        c1 := i % 20;
        c2 := (i + 7) % 20;
        vers[c1 + 1] := vers[c1 + 1] + 1;
        vers[c2 + 1] := vers[c2 + 1] + 1;
        SELECT jsonb_object_agg('ch' || lpad((k - 1)::text, 2, '0'), vers[k]) INTO cv
          FROM generate_series(1, 20) k;
        INSERT INTO bench.checkpoint_blobs
        SELECT thread, '', 'ch' || lpad(c::text, 2, '0'), vers[c + 1]::text, 'json',
               convert_to(jsonb_build_object('channel', c, 'step', i, 'text', repeat('y', 350))::text, 'UTF8')
          FROM unnest(ARRAY[c1, c2]) c;
        INSERT INTO bench.checkpoints VALUES (thread, '', id, parent, NULL,
            jsonb_build_object('v', 4, 'id', id, 'ts', '2025-01-01T00:00:00.000Z',
                               'channel_versions', cv,
                               'versions_seen', jsonb_build_object('agent', cv, 'tools', cv,
                                   '__input__', '{}'::jsonb, '__start__', '{"__start__": 1}'::jsonb)),
            jsonb_build_object('source', 'loop', 'step', i, 'parents', '{}'::jsonb));
        INSERT INTO bench.checkpoint_writes
        SELECT thread, '', id, 'task-' || md5(id), w, 'ch' || lpad(((i + w) % 20)::text, 2, '0'), 'json',
               convert_to(jsonb_build_object('w', w, 'text', repeat('z', 200))::text, 'UTF8')
          FROM generate_series(0, 1) w;
        parent := id;
    END LOOP;
END
$$;
SELECT pg_temp.fill(:'thread', :n);
DELETE FROM agentstore.checkpoint_threads WHERE thread_id = :'thread';
INSERT INTO agentstore.checkpoint_threads (thread_id) VALUES (:'thread');
INSERT INTO agentstore.checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata
  FROM bench.checkpoints WHERE thread_id = :'thread';
INSERT INTO agentstore.checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
SELECT thread_id, checkpoint_ns, channel, version, type, blob
  FROM bench.checkpoint_blobs WHERE thread_id = :'thread';
INSERT INTO agentstore.checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob)
SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob
  FROM bench.checkpoint_writes WHERE thread_id = :'thread';
VACUUM ANALYZE bench.checkpoints, bench.checkpoint_blobs, bench.checkpoint_writes,
    agentstore.checkpoints, agentstore.checkpoint_blobs, agentstore.checkpoint_writes;

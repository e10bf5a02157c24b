-- Checkpoints: LangGraph's behaviours, one function at a time.  Thread ids
-- start with "cp-"; other features' tests share this database.
SET client_min_messages = warning;

-- A compact view of a checkpoint tuple.
CREATE FUNCTION pg_temp.show(t agentstore.checkpoint_tuple)
RETURNS text LANGUAGE sql AS $$
    SELECT format('%s/%s/%s parent=%s values=%s writes=%s%s',
                  t.thread_id, t.checkpoint_ns, t.checkpoint_id,
                  coalesce(t.parent_checkpoint_id, '-'),
                  t.channel_values, t.pending_writes,
                  CASE WHEN t.pending_sends IS NOT NULL THEN ' sends=' || t.pending_sends END)
$$;

-- put_checkpoint: client-serialized blobs ([type, base64]) for the channels
-- of new_versions; the checkpoint keeps no values of its own.
SELECT agentstore.put_checkpoint('cp-1', '',
    '{"v": 4, "id": "0001", "ts": "2025-01-01T00:00:00Z",
      "channel_versions": {"messages": 1, "count": 1}, "versions_seen": {}}',
    '{"source": "input", "step": -1, "parents": {}}',
    '{"messages": 1, "count": 1}',
    jsonb_build_object('messages', jsonb_build_array('json', encode(convert_to('["hi"]', 'UTF8'), 'base64')),
                       'count', jsonb_build_array('json', encode('1', 'base64'))));
-- put then get latest
SELECT pg_temp.show(t) FROM agentstore.get_checkpoint('cp-1') t;
SELECT checkpoint, metadata FROM agentstore.get_checkpoint('cp-1');

-- A second checkpoint changes only count: messages is carried over from
-- version 1, written by the first checkpoint.
SELECT agentstore.put_checkpoint('cp-1', '',
    '{"v": 4, "id": "0002", "ts": "2025-01-01T00:00:01Z",
      "channel_versions": {"messages": 1, "count": 2}, "versions_seen": {}}',
    '{"source": "loop", "step": 0, "parents": {}}',
    '{"count": 2}',
    jsonb_build_object('count', jsonb_build_array('json', encode('2', 'base64'))),
    '0001');
SELECT pg_temp.show(t) FROM agentstore.get_checkpoint('cp-1') t;
-- get by id
SELECT pg_temp.show(t) FROM agentstore.get_checkpoint('cp-1', '', '0001') t;
-- nonexistent id, thread or namespace: no row
SELECT count(*) FROM agentstore.get_checkpoint('cp-1', '', '9999');
SELECT count(*) FROM agentstore.get_checkpoint('cp-none');
SELECT count(*) FROM agentstore.get_checkpoint('cp-1', 'child');
-- a NULL thread finds nothing; a NULL namespace is the root namespace
SELECT count(*) FROM agentstore.get_checkpoint(NULL);
SELECT checkpoint_id FROM agentstore.get_checkpoint('cp-1', NULL);
-- the blobs are shared: two rows for messages would be a bug
SELECT channel, version, type, convert_from(blob, 'UTF8') AS blob
  FROM agentstore.checkpoint_blobs WHERE thread_id = 'cp-1' ORDER BY channel, version;

-- Latest is by checkpoint_id in "C" order, not by insertion order: an id
-- put later but smaller is not the latest.
SELECT agentstore.put_checkpoint('cp-1', '',
    '{"v": 4, "id": "0001a", "channel_versions": {}}', '{}', '{}');
SELECT checkpoint_id FROM agentstore.get_checkpoint('cp-1');
-- "C" order is byte order: 'Z' < 'a', whatever the database's collation
SELECT agentstore.put_checkpoint('cp-order', '', '{"id": "a"}', '{}', '{}');
SELECT agentstore.put_checkpoint('cp-order', '', '{"id": "Z"}', '{}', '{}');
SELECT checkpoint_id FROM agentstore.get_checkpoint('cp-order');

-- channel removed: a channel dropped from channel_versions disappears even
-- though its blob is still stored
SELECT agentstore.put_checkpoint('cp-1', '',
    '{"v": 4, "id": "0003", "channel_versions": {"count": 2}, "versions_seen": {}}',
    '{"source": "loop", "step": 1}', '{}', NULL, '0002');
SELECT pg_temp.show(t) FROM agentstore.get_checkpoint('cp-1') t;

-- re-putting the same id updates checkpoint and metadata only: the parent
-- stays, and blobs already stored are not replaced
SELECT agentstore.put_checkpoint('cp-1', '',
    '{"v": 4, "id": "0003", "channel_versions": {"count": 2}, "extra": true}',
    '{"source": "update", "step": 1}', '{"count": 2}',
    jsonb_build_object('count', jsonb_build_array('json', encode('22', 'base64'))));
SELECT parent_checkpoint_id, checkpoint, metadata, channel_values
  FROM agentstore.get_checkpoint('cp-1', '', '0003');

-- JSON channel values in the checkpoint itself: primitives stay inline (for
-- every channel, as LangGraph does), the others become "json" blobs when
-- their channel has a new version and are dropped otherwise
SELECT agentstore.put_checkpoint('cp-inline', '',
    '{"v": 4, "id": "0001",
      "channel_values": {"n": 5, "flag": true, "name": "x", "none": null,
                         "list": [1, 2], "obj": {"a": 1}, "stale": [0]},
      "channel_versions": {"n": 1, "flag": 1, "name": 1, "none": 1, "list": 1, "obj": 1, "stale": 1}}',
    '{}', '{"list": 1, "obj": 1, "n": 1}');
SELECT checkpoint -> 'channel_values' AS inline_values, channel_values
  FROM agentstore.get_checkpoint('cp-inline');
SELECT channel, version, type, convert_from(blob, 'UTF8') AS blob
  FROM agentstore.checkpoint_blobs WHERE thread_id = 'cp-inline' ORDER BY channel;
-- a blob of the same channel overrides the inline value when both exist
INSERT INTO agentstore.checkpoint_blobs VALUES ('cp-inline', '', 'n', '1', 'json', '6');
SELECT channel_values -> 'n' FROM agentstore.get_checkpoint('cp-inline');

-- Blob types: "json" comes back as JSON, any other type as base64; a NULL
-- blob comes back as null; LangGraph's "empty" marker is skipped.
SELECT agentstore.put_checkpoint('cp-types', '',
    '{"id": "0001", "channel_versions": {"raw": "v1", "nothing": "v1", "gone": "v1"}}', '{}',
    '{"raw": "v1", "nothing": "v1", "gone": "v1"}',
    '{"raw": ["bytes", "AAEC/w=="], "nothing": ["msgpack", null], "gone": ["empty", null]}');
SELECT channel_values FROM agentstore.get_checkpoint('cp-types');
SELECT channel, type, blob FROM agentstore.checkpoint_blobs WHERE thread_id = 'cp-types' ORDER BY 1;
-- base64 may be broken into lines, as encode() does for long values
SELECT agentstore.put_checkpoint('cp-types', '', '{"id": "0002", "channel_versions": {"long": 1}}', '{}',
    '{"long": 1}', jsonb_build_object('long', jsonb_build_array('json', encode(convert_to(
        '"' || repeat('0123456789', 10) || '"', 'UTF8'), 'base64'))));
SELECT length(channel_values -> 'long' ->> 1) FROM agentstore.get_checkpoint('cp-types');

-- Versions are strings (LangGraph Python) or numbers (LangGraph.js); a
-- number is stored as jsonb_each_text prints it.
SELECT agentstore.put_checkpoint('cp-versions', '',
    '{"id": "0001", "channel_versions": {"a": "00000000000000000000000000000002.0.1", "b": 1.5}}', '{}',
    '{"a": "00000000000000000000000000000002.0.1", "b": 1.5}',
    '{"a": ["json", "MQ=="], "b": ["json", "Mg=="]}');
SELECT channel, version FROM agentstore.checkpoint_blobs WHERE thread_id = 'cp-versions' ORDER BY 1;
SELECT channel_values FROM agentstore.get_checkpoint('cp-versions');

-- metadata: NUL characters are stripped (jsonb cannot hold them; LangGraph
-- strips them too), in keys as in values; an escaped backslash followed by
-- "u0000" is text, not a NUL, and stays
SELECT agentstore.put_checkpoint('cp-nul', '', '{"id": "0001"}',
    '{"a\u0000b": "x\u0000y\u0000", "list": ["\u0000"], "text": "\\u0000", "n": 1}', '{}');
SELECT metadata, metadata ->> 'text' AS text FROM agentstore.get_checkpoint('cp-nul');
-- NULL metadata is an empty object
SELECT agentstore.put_checkpoint('cp-nul', '', '{"id": "0002"}', NULL, NULL);
SELECT metadata FROM agentstore.get_checkpoint('cp-nul');

-- put_writes: [channel, value] (JSON) and [channel, type, base64] writes;
-- a write's idx is its position
SELECT agentstore.put_writes('cp-1', '', '0003', 'task-b', '[["count", 3], ["raw", "bytes", "AAE="]]');
-- pending writes idempotent: the same call again stores nothing
SELECT agentstore.put_writes('cp-1', '', '0003', 'task-b', '[["count", 3], ["raw", "bytes", "AAE="]]');
SELECT agentstore.put_writes('cp-1', '', '0003', 'task-b', '[["count", 4]]');
-- special writes (__error__ -1, __scheduled__ -2, __interrupt__ -3,
-- __resume__ -4) upsert: the last one wins, also within one call
SELECT agentstore.put_writes('cp-1', '', '0003', 'task-a',
    '[["__error__", "first"], ["__interrupt__", {"value": 1}], ["__error__", "second"]]');
SELECT agentstore.put_writes('cp-1', '', '0003', 'task-a', '[["__error__", "third"], ["__resume__", 1], ["__scheduled__", null]]');
SELECT task_id, idx, channel, type,
       CASE type WHEN 'json' THEN convert_from(blob, 'UTF8') ELSE encode(blob, 'base64') END AS blob
  FROM agentstore.checkpoint_writes WHERE thread_id = 'cp-1' ORDER BY task_id, idx;
-- pending writes ordered by (task_id, idx)
SELECT pending_writes FROM agentstore.get_checkpoint('cp-1', '', '0003');
-- an empty array writes nothing
SELECT agentstore.put_writes('cp-1', '', '0003', 'task-c', '[]');
-- writes belong to exactly their checkpoint
SELECT pending_writes FROM agentstore.get_checkpoint('cp-1', '', '0002');

-- With task paths, pending writes are in LangGraph's writesSortKey order,
-- (task_path, task_id, idx); without them that is (task_id, idx).
SELECT agentstore.put_checkpoint('cp-paths', '', '{"id": "0001"}', '{}', '{}');
SELECT agentstore.put_writes('cp-paths', '', '0001', 'task-a', '[["x", "a0"], ["x", "a1"]]', '~b');
SELECT agentstore.put_writes('cp-paths', '', '0001', 'task-b', '[["x", "b0"]]', '~a');
SELECT agentstore.put_writes('cp-paths', '', '0001', 'task-c', '[["x", "c0"]]');
SELECT pending_writes FROM agentstore.get_checkpoint('cp-paths');

-- namespace isolation: the same ids in another namespace are another
-- checkpoint, with their own blobs and writes
SELECT agentstore.put_checkpoint('cp-1', 'child:1', '{"v": 4, "id": "0001", "channel_versions": {"count": 1}}',
    '{"source": "loop"}', '{"count": 1}', '{"count": ["json", "MTAw"]}');
SELECT agentstore.put_writes('cp-1', 'child:1', '0001', 'task-x', '[["count", 101]]');
SELECT pg_temp.show(t) FROM agentstore.get_checkpoint('cp-1', 'child:1') t;
SELECT pg_temp.show(t) FROM agentstore.get_checkpoint('cp-1', '', '0001') t;

-- list: newest first; namespace filter only when given
SELECT checkpoint_ns, checkpoint_id FROM agentstore.list_checkpoints('cp-1');
SELECT checkpoint_id FROM agentstore.list_checkpoints('cp-1', '');
SELECT checkpoint_id FROM agentstore.list_checkpoints('cp-1', 'child:1');
-- filter is metadata containment; an empty filter matches everything
SELECT checkpoint_id FROM agentstore.list_checkpoints('cp-1', '', '{"source": "loop"}');
SELECT checkpoint_id FROM agentstore.list_checkpoints('cp-1', '', '{"source": "loop", "step": 0}');
SELECT count(*) FROM agentstore.list_checkpoints('cp-1', '', '{}');
-- before and max_count
SELECT checkpoint_id FROM agentstore.list_checkpoints('cp-1', '', before => '0003');
SELECT checkpoint_id FROM agentstore.list_checkpoints('cp-1', '', max_count => 2);
SELECT checkpoint_id FROM agentstore.list_checkpoints('cp-1', '', before => '0003', max_count => 1);
SELECT count(*) FROM agentstore.list_checkpoints('cp-1', max_count => 0);
-- one checkpoint id (LangGraph's list with checkpoint_id in its config)
SELECT checkpoint_ns, checkpoint_id FROM agentstore.list_checkpoints('cp-1', checkpoint_id => '0001');
-- list across threads: no thread means every thread
SELECT thread_id, checkpoint_ns, checkpoint_id
  FROM agentstore.list_checkpoints(filter => '{"source": "loop"}')
 WHERE thread_id LIKE 'cp-%';
-- the rows are whole tuples, as get_checkpoint returns them
SELECT (SELECT pg_temp.show(t) FROM agentstore.list_checkpoints('cp-1', '', max_count => 1) t)
     = (SELECT pg_temp.show(t) FROM agentstore.get_checkpoint('cp-1') t) AS same_tuple;

-- Checkpoints older than format 4 keep pending sends as the parent's writes
-- to __pregel_tasks: they come back as pending_sends, ordered by task
SELECT agentstore.put_checkpoint('cp-sends', '', '{"v": 1, "id": "0001", "channel_versions": {}}', '{}', '{}');
SELECT agentstore.put_writes('cp-sends', '', '0001', 'task-2', '[["__pregel_tasks", "send-3"]]');
SELECT agentstore.put_writes('cp-sends', '', '0001', 'task-1', '[["__pregel_tasks", "send-1"], ["other", 0], ["__pregel_tasks", "send-2"]]');
SELECT agentstore.put_checkpoint('cp-sends', '', '{"v": 1, "id": "0002", "channel_versions": {}}', '{}', '{}', NULL, '0001');
SELECT checkpoint_id, pending_sends FROM agentstore.list_checkpoints('cp-sends');
-- not for format 4
SELECT agentstore.put_checkpoint('cp-sends', '', '{"v": 4, "id": "0003", "channel_versions": {}}', '{}', '{}', NULL, '0001');
SELECT pending_sends FROM agentstore.get_checkpoint('cp-sends');

-- Sliding TTL: every put sets expires_at = now() + ttl; the ttl argument
-- overrides agentstore.checkpoint_ttl; 0 means never; writes and reads do
-- not extend it
SELECT expires_at FROM agentstore.checkpoint_threads WHERE thread_id = 'cp-1';
BEGIN;
SELECT agentstore.put_checkpoint('cp-ttl', '', '{"id": "0001"}', '{}', '{}', ttl => '1 day');
SELECT expires_at - now() AS ttl FROM agentstore.checkpoint_threads WHERE thread_id = 'cp-ttl';
COMMIT;
BEGIN;
SET LOCAL agentstore.checkpoint_ttl = '2h';
SELECT agentstore.put_checkpoint('cp-ttl', '', '{"id": "0002"}', '{}', '{}', NULL, '0001');
SELECT expires_at - now() AS ttl FROM agentstore.checkpoint_threads WHERE thread_id = 'cp-ttl';
COMMIT;
-- put_writes leaves it alone
UPDATE agentstore.checkpoint_threads SET expires_at = '2100-01-01' WHERE thread_id = 'cp-ttl';
SELECT agentstore.put_writes('cp-ttl', '', '0002', 'task', '[["x", 1]]');
SELECT expires_at FROM agentstore.checkpoint_threads WHERE thread_id = 'cp-ttl';
-- a zero TTL clears it
SELECT agentstore.put_checkpoint('cp-ttl', '', '{"id": "0003"}', '{}', '{}', NULL, '0002', '0');
SELECT expires_at FROM agentstore.checkpoint_threads WHERE thread_id = 'cp-ttl';
BEGIN;
SELECT agentstore.put_checkpoint('cp-ttl', '', '{"id": "0004"}', '{}', '{}', NULL, '0003', '30 minutes');
SELECT expires_at - now() AS ttl FROM agentstore.checkpoint_threads WHERE thread_id = 'cp-ttl';
COMMIT;
SELECT agentstore.put_checkpoint('cp-ttl', '', '{"id": "0005"}', '{}', '{}', NULL, '0004');
SELECT expires_at FROM agentstore.checkpoint_threads WHERE thread_id = 'cp-ttl';
-- reads leave it alone
UPDATE agentstore.checkpoint_threads SET expires_at = '2000-01-01' WHERE thread_id = 'cp-ttl';
SELECT count(*) FROM agentstore.get_checkpoint('cp-ttl');
SELECT count(*) FROM agentstore.list_checkpoints('cp-ttl');
SELECT expires_at FROM agentstore.checkpoint_threads WHERE thread_id = 'cp-ttl';

-- expire_checkpoint_threads: removes expired threads with all their rows
SELECT agentstore.put_checkpoint('cp-ttl-live', '', '{"id": "0001"}', '{}', '{}', ttl => '1 hour');
SELECT agentstore.expire_checkpoint_threads(10) >= 1 AS expired;
SELECT t.thread_id,
       (SELECT count(*) FROM agentstore.checkpoints c WHERE c.thread_id = t.thread_id) AS checkpoints,
       (SELECT count(*) FROM agentstore.checkpoint_writes w WHERE w.thread_id = t.thread_id) AS writes
  FROM (VALUES ('cp-ttl'), ('cp-ttl-live')) AS t(thread_id);
SELECT thread_id FROM agentstore.checkpoint_threads WHERE thread_id LIKE 'cp-ttl%';
-- at most max_threads per call, oldest expiry first
SELECT agentstore.put_checkpoint('cp-exp-' || i, '', '{"id": "0001"}', '{}', '{}') FROM generate_series(1, 3) i;
UPDATE agentstore.checkpoint_threads SET expires_at = ('1900-01-0' || right(thread_id, 1))::timestamptz
 WHERE thread_id LIKE 'cp-exp-%';
SELECT agentstore.expire_checkpoint_threads(2);
SELECT thread_id FROM agentstore.checkpoint_threads WHERE thread_id LIKE 'cp-exp-%';
SELECT agentstore.expire_checkpoint_threads() >= 1 AS expired;
SELECT count(*) FROM agentstore.checkpoints WHERE thread_id LIKE 'cp-exp-%';

-- delete_thread: all namespaces, all three kinds of rows, the thread row
SELECT agentstore.put_checkpoint('cp-del', '', '{"id": "0001", "channel_versions": {"a": 1}}', '{}', '{"a": 1}', '{"a": ["json", "MQ=="]}');
SELECT agentstore.put_checkpoint('cp-del', 'sub', '{"id": "0001", "channel_versions": {"a": 1}}', '{}', '{"a": 1}', '{"a": ["json", "MQ=="]}');
SELECT agentstore.put_writes('cp-del', 'sub', '0001', 't', '[["a", 2]]');
SELECT agentstore.put_checkpoint('cp-del-other', '', '{"id": "0001"}', '{}', '{}');
SELECT agentstore.delete_thread('cp-del');
SELECT (SELECT count(*) FROM agentstore.checkpoints WHERE thread_id = 'cp-del') AS checkpoints,
       (SELECT count(*) FROM agentstore.checkpoint_blobs WHERE thread_id = 'cp-del') AS blobs,
       (SELECT count(*) FROM agentstore.checkpoint_writes WHERE thread_id = 'cp-del') AS writes,
       (SELECT count(*) FROM agentstore.checkpoint_threads WHERE thread_id = 'cp-del') AS threads;
SELECT count(*) FROM agentstore.get_checkpoint('cp-del-other');
-- deleting a thread that does not exist removes nothing
SELECT agentstore.delete_thread('cp-del');
-- after delete, a put that names a parent in the thread fails (nothing is
-- resurrected); one without a parent starts the thread afresh
SELECT agentstore.put_checkpoint('cp-del', '', '{"id": "0002"}', '{}', '{}', NULL, '0001');
SELECT agentstore.put_checkpoint('cp-del', '', '{"id": "0001"}', '{}', '{}');
SELECT count(*) FROM agentstore.checkpoints WHERE thread_id = 'cp-del';

-- copy_thread: every namespace, blob and write, under the new id
SELECT agentstore.copy_thread('cp-1', 'cp-1-copy');
SELECT (SELECT array_agg(pg_temp.show(t) ORDER BY t.checkpoint_ns, t.checkpoint_id)
          FROM agentstore.list_checkpoints('cp-1') t)
     = (SELECT array_agg(replace(pg_temp.show(t), 'cp-1-copy/', 'cp-1/') ORDER BY t.checkpoint_ns, t.checkpoint_id)
          FROM agentstore.list_checkpoints('cp-1-copy') t) AS same_tuples;
SELECT (SELECT count(*) FROM agentstore.checkpoint_blobs WHERE thread_id = 'cp-1-copy') AS blobs,
       (SELECT count(*) FROM agentstore.checkpoint_writes WHERE thread_id = 'cp-1-copy') AS writes,
       (SELECT expires_at IS NULL FROM agentstore.checkpoint_threads WHERE thread_id = 'cp-1-copy') AS never_expires;
BEGIN;
SELECT agentstore.copy_thread('cp-1', 'cp-1-copy-ttl', '1 day');
SELECT expires_at - now() AS ttl FROM agentstore.checkpoint_threads WHERE thread_id = 'cp-1-copy-ttl';
COMMIT;

-- prune_checkpoints: keeps the newest keep_last per namespace and every blob
-- a kept checkpoint names, even one written long before
SELECT agentstore.put_checkpoint('cp-prune', '',
    format('{"id": "%s", "channel_versions": {"static": 1, "counter": %s}}', lpad(i::text, 4, '0'), i)::jsonb,
    format('{"step": %s}', i)::json,
    CASE WHEN i = 1 THEN '{"static": 1, "counter": 1}' ELSE format('{"counter": %s}', i) END::jsonb,
    CASE WHEN i = 1 THEN jsonb_build_object('static', jsonb_build_array('json', encode('"s"', 'base64')))
         ELSE '{}' END || jsonb_build_object('counter', jsonb_build_array('json', encode(i::text::bytea, 'base64'))),
    CASE WHEN i > 1 THEN lpad((i - 1)::text, 4, '0') END)
  FROM generate_series(1, 10) i;
SELECT agentstore.put_writes('cp-prune', '', lpad(i::text, 4, '0'), 'task', '[["counter", 0]]')
  FROM generate_series(1, 10) i;
SELECT agentstore.put_checkpoint('cp-prune', 'sub', format('{"id": "%s"}', lpad(i::text, 4, '0'))::jsonb, '{}', '{}')
  FROM generate_series(1, 3) i;
SELECT * FROM agentstore.prune_checkpoints('cp-prune', 3);
SELECT checkpoint_ns, checkpoint_id, channel_values FROM agentstore.list_checkpoints('cp-prune');
SELECT channel, version FROM agentstore.checkpoint_blobs WHERE thread_id = 'cp-prune' ORDER BY 1, 2;
SELECT checkpoint_id FROM agentstore.checkpoint_writes WHERE thread_id = 'cp-prune' ORDER BY 1;
-- pruning again removes nothing
SELECT * FROM agentstore.prune_checkpoints('cp-prune', 3);
-- a thread that does not exist: nothing to remove
SELECT * FROM agentstore.prune_checkpoints('cp-none', 1);

-- delete_checkpoint: one checkpoint, its writes, and the blobs no other
-- checkpoint of the thread names (the blob of count version 2 stays: 0003
-- names it too)
SELECT agentstore.put_writes('cp-1', '', '0002', 'task', '[["count", 5]]');
SELECT agentstore.put_checkpoint('cp-1', '', '{"id": "0002a", "channel_versions": {"count": 2, "extra": 1}}',
    '{}', '{"extra": 1}', '{"extra": ["json", "MQ=="]}');
SELECT agentstore.delete_checkpoint('0002', 'cp-1');
SELECT agentstore.delete_checkpoint('0002a', 'cp-1');
SELECT checkpoint_ns, checkpoint_id FROM agentstore.list_checkpoints('cp-1');
SELECT checkpoint_ns, channel, version FROM agentstore.checkpoint_blobs WHERE thread_id = 'cp-1' ORDER BY 1, 2, 3;
SELECT count(*) FROM agentstore.checkpoint_writes WHERE thread_id = 'cp-1' AND checkpoint_id = '0002';
-- without a thread: every thread (and namespace) that has the id; with a
-- namespace, only that namespace
SELECT agentstore.put_checkpoint(t, ns, '{"id": "cp-dup"}', '{}', '{}')
  FROM unnest(ARRAY['cp-dup-a', 'cp-dup-b']) t, unnest(ARRAY['', 'sub']) ns;
SELECT agentstore.delete_checkpoint('cp-dup', checkpoint_ns => 'sub');
SELECT thread_id, checkpoint_ns FROM agentstore.checkpoints WHERE checkpoint_id = 'cp-dup' ORDER BY 1, 2;
SELECT agentstore.delete_checkpoint('cp-dup');
SELECT count(*) FROM agentstore.checkpoints WHERE checkpoint_id = 'cp-dup';
SELECT agentstore.delete_checkpoint('no-such-checkpoint');

-- langgraphgo's store on these tables, as docs/checkpoints.md shows it: the
-- execution id is the thread, the checkpoint document holds node name,
-- state, timestamp and version.
-- Save
SELECT agentstore.put_checkpoint(
    thread_id     => 'cp-exec-1',
    checkpoint_ns => '',
    checkpoint    => jsonb_build_object('id', 'checkpoint_' || i, 'node_name', 'node' || i,
                         'state', jsonb_build_object('count', i), 'version', 1,
                         'timestamp', '2025-01-01T00:00:0' || i || 'Z'),
    metadata      => '{"execution_id": "cp-exec-1"}',
    new_versions  => '{}')
  FROM generate_series(1, 3) i;
-- Save again (an upsert by id)
SELECT agentstore.put_checkpoint('cp-exec-1', '',
    '{"id": "checkpoint_2", "node_name": "node2", "state": {"count": 20}, "version": 2,
      "timestamp": "2025-01-01T00:00:02Z"}', '{"execution_id": "cp-exec-1"}', '{}');
-- Load
SELECT checkpoint_id, checkpoint ->> 'node_name' AS node_name, checkpoint -> 'state' AS state,
       (checkpoint ->> 'timestamp')::timestamptz AS timestamp, (checkpoint ->> 'version')::int AS version,
       metadata
  FROM agentstore.list_checkpoints(checkpoint_id => 'checkpoint_2');
-- List, oldest first
SELECT checkpoint_id, checkpoint -> 'state' AS state
  FROM agentstore.list_checkpoints('cp-exec-1', '')
 ORDER BY (checkpoint ->> 'timestamp')::timestamptz;
-- Delete
SELECT agentstore.delete_checkpoint('checkpoint_1');
-- Clear
SELECT agentstore.delete_thread('cp-exec-1');

-- The returned id is the checkpoint's
SELECT agentstore.put_checkpoint('cp-return', 'ns', '{"id": "abc"}', '{}', '{}') AS id;

SELECT agentstore.delete_thread(t)
  FROM unnest(ARRAY['cp-1', 'cp-1-copy', 'cp-1-copy-ttl', 'cp-order', 'cp-inline', 'cp-types',
                    'cp-versions', 'cp-nul', 'cp-paths', 'cp-sends', 'cp-ttl-live', 'cp-del',
                    'cp-del-other', 'cp-prune', 'cp-return', 'cp-dup-a', 'cp-dup-b']) AS t;
SELECT count(*) AS leftovers FROM agentstore.checkpoint_threads WHERE thread_id LIKE 'cp-%';

-- A short tour of agentstore, run by scripts/demo.sh.

-- The extension, its schema and whether the TTL worker can run.
SELECT extname, extversion FROM pg_extension WHERE extname = 'agentstore';
SELECT agentstore.preloaded() AS background_worker_available;

-- Its tables: one data model for sessions, event streams, checkpoints and TTL.
SELECT c.relname AS table_name, pg_size_pretty(pg_total_relation_size(c.oid)) AS size
  FROM pg_class c
 WHERE c.relnamespace = 'agentstore'::regnamespace AND c.relkind = 'r'
 ORDER BY 1;

-- Its settings.
SELECT name, setting, unit, short_desc
  FROM pg_settings WHERE name LIKE 'agentstore.%' ORDER BY name;

-- Sessions: race-free get-or-create, state deltas routed by prefix, events.
SELECT id, session_id, created FROM agentstore.get_or_create_session('demo', 'ann', 'chat-1', '{"topic": "weather"}');
SELECT id, session_id, created FROM agentstore.get_or_create_session('demo', 'ann', 'chat-1');  -- a hit: writes nothing
SELECT version FROM agentstore.append_event('demo', 'ann', 'chat-1',
       '{"id": "e1", "author": "user", "content": "Will it rain in Oslo?"}',
       '{"city": "Oslo", "user:units": "metric", "app:model": "small", "temp:scratch": 1}');
SELECT version FROM agentstore.append_event('demo', 'ann', 'chat-1',
       '{"id": "e2", "author": "agent", "content": "Light rain after 3 pm."}');
SELECT jsonb_pretty(agentstore.get_session('demo', 'ann', 'chat-1', num_recent_events => 10));

-- Event streams: gap-free versions for plain INSERT (C trigger) and for the
-- bulk path, optimistic concurrency, commit-ordered global reads.
INSERT INTO agentstore.events (stream, type, data) VALUES ('order-42', 'created', '{"total": 10}');
SELECT * FROM agentstore.append_events('order-42',
       '[{"type": "paid", "data": {"amount": 10}}, {"type": "shipped", "data": {}}]', 1);
SELECT stream, version, type FROM agentstore.read_stream('order-42', 1, 10);
DO $$
BEGIN
    PERFORM agentstore.append_events('order-42', '[{"type": "late"}]', 1);
EXCEPTION WHEN SQLSTATE 'SV001' THEN
    RAISE NOTICE 'version conflict: %', SQLERRM;
END $$;
SELECT stream, version, type FROM agentstore.read_all(0, 10);

-- Checkpoints (LangGraph semantics): put, pending writes, get the latest tuple.
SELECT agentstore.put_checkpoint('thread-1', '',
       '{"v": 4, "id": "1ef4f797-8335-6428-8001-8a1503f9b875", "ts": "2026-01-01T00:00:00Z",
         "channel_values": {"step": 1, "messages": [{"role": "user", "content": "hi"}]},
         "channel_versions": {"step": 1, "messages": 1}, "versions_seen": {}}',
       '{"source": "input", "step": -1, "parents": {}}',
       new_versions => '{"step": 1, "messages": 1}');
SELECT agentstore.put_writes('thread-1', '', '1ef4f797-8335-6428-8001-8a1503f9b875', 'task-1',
       '[["messages", {"role": "ai", "content": "hello"}]]');
SELECT checkpoint_id, metadata, channel_values, pending_writes
  FROM agentstore.get_checkpoint('thread-1');
-- TTL: a session that lives one second, then one expiry pass in this backend
-- (the background worker does the same every agentstore.ttl_interval).
SELECT session_id, expires_at IS NOT NULL AS expires
  FROM agentstore.create_session('demo', 'bob', 'short-lived', ttl => '1 second');
SELECT pg_sleep(1.2);
SELECT * FROM agentstore.expire_now() WHERE expired + purged + trimmed > 0;
SELECT agentstore.get_session('demo', 'bob', 'short-lived') IS NULL AS gone;
SELECT backend_type FROM pg_stat_activity WHERE backend_type LIKE 'agentstore%';

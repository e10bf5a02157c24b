-- Checkpoints: every error path, with its SQLSTATE, and proof that a
-- failed call writes nothing.  Thread ids start with "cp-err".
SET client_min_messages = warning;

-- Run a statement; show its error as "SQLSTATE: message", with detail and
-- hint, or "no error".
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; hnt text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    RETURN st || ': ' || msg
        || coalesce(E'\n  DETAIL: ' || nullif(det, ''), '')
        || coalesce(E'\n  HINT: ' || nullif(hnt, ''), '');
END
$$;

-- Rows of a thread in every table.
CREATE FUNCTION pg_temp.rows(thread text) RETURNS text LANGUAGE sql AS $$
    SELECT format('threads=%s checkpoints=%s blobs=%s writes=%s',
        (SELECT count(*) FROM agentstore.checkpoint_threads WHERE thread_id = thread),
        (SELECT count(*) FROM agentstore.checkpoints WHERE thread_id = thread),
        (SELECT count(*) FROM agentstore.checkpoint_blobs WHERE thread_id = thread),
        (SELECT count(*) FROM agentstore.checkpoint_writes WHERE thread_id = thread))
$$;

-- put_checkpoint: keys
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint(NULL, '', '{"id": "1"}', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('', '', '{"id": "1"}', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint(repeat('t', 256), '', '{"id": "1"}', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', repeat('n', 1025), '{"id": "1"}', '{}', '{}')$$);
-- 255 characters are fine, even when they take more bytes
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint(repeat('é', 255), '', '{"id": "1"}', '{}', '{}')$$);
SELECT agentstore.delete_thread(repeat('é', 255));
-- checkpoint: an object with an "id" string
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', NULL, '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '[{"id": "1"}]', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '"1"', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"v": 4}', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": 1}', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": ""}', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', jsonb_build_object('id', repeat('i', 256)), '{}', '{}')$$);
-- channel_versions and new_versions: objects of non-empty strings or numbers
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1", "channel_versions": [1]}', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1", "channel_versions": {"a": true}}', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1", "channel_versions": {"a": {"v": 1}}}', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1", "channel_versions": {"a": ""}}', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', jsonb_build_object('id', '1', 'channel_versions', jsonb_build_object('a', repeat('v', 256))), '{}', '{}')$$);
-- a number counts in its text form, the key of its blob: the same limit
-- and the same error as a string
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', jsonb_build_object('id', '1', 'channel_versions', jsonb_build_object('a', repeat('9', 256)::numeric)), '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', jsonb_build_object('id', '1', 'channel_versions', jsonb_build_object('a', repeat('9', 301)::numeric)), '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": 1e400}', '{"a": ["json", "MQ=="]}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', jsonb_build_object('a', repeat('9', 256)), '{"a": ["json", "MQ=="]}')$$);
-- 255 characters are allowed, as a number and as a string
SELECT agentstore.put_checkpoint('cp-err-version', '',
    jsonb_build_object('id', '1', 'channel_versions', jsonb_build_object('a', repeat('9', 255)::numeric, 'b', repeat('9', 255))),
    '{}', jsonb_build_object('a', repeat('9', 255)::numeric, 'b', repeat('9', 255)),
    '{"a": ["json", "MQ=="], "b": ["json", "Mg=="]}');
SELECT channel, char_length(version) FROM agentstore.checkpoint_blobs
 WHERE thread_id = 'cp-err-version' ORDER BY 1;
SELECT channel_values FROM agentstore.get_checkpoint('cp-err-version');
SELECT agentstore.delete_thread('cp-err-version');
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1", "channel_versions": {"": 1}}', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', jsonb_build_object('id', '1', 'channel_versions', jsonb_build_object(repeat('c', 256), 1)), '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '[1]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '"a"')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": null}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": [1]}')$$);
-- a null channel_versions is no versions at all
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err-ok', '', '{"id": "1", "channel_versions": null}', '{}', '{}')$$);
-- channel_values: an object
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1", "channel_values": [1]}', '{}', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1", "channel_values": {"": [1]}}', '{}', '{}')$$);
-- metadata: a JSON object
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '[1]', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '"source"', '{}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{"a": ', '{}')$$);
-- blobs: {channel: [type, base64 or null]} for channels of new_versions
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": 1}', '[["json", "MQ=="]]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": 1}', '{"a": "MQ=="}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": 1}', '{"a": ["json", "MQ==", 1]}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": 1}', '{"b": ["json", "MQ=="]}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', NULL, '{"a": ["json", "MQ=="]}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1", "channel_values": {"a": 5}}', '{}', '{"a": 1}', '{"a": ["json", "MQ=="]}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": 1}', '{"a": [1, "MQ=="]}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": 1}', '{"a": ["", "MQ=="]}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": 1}', '{"a": ["json", 1]}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": 1}', '{"a": ["bytes", "not base64!"]}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": 1}', '{"a": ["json", "e3g6"]}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"a": 1}', '{"a": ["json", "Iv8i"]}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{"": 1}', '{"": ["json", "MQ=="]}')$$);
-- a blob of another type may hold any bytes
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err-ok', '', '{"id": "2"}', '{}', '{"a": 1}', '{"a": ["bytes", "Iv8i"]}')$$);
-- parent: must exist in the thread and namespace
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{}', NULL, '')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{}', NULL, 'nope')$$);
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err-ok', 'other', '{"id": "3"}', '{}', '{}', NULL, '1')$$);
-- ttl: not negative
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err', '', '{"id": "1"}', '{}', '{}', ttl => '-1 second')$$);
-- nothing was written for the failed calls, not even the thread row (the
-- missing parent is found after the thread row is written: the error
-- rolls it back)
SELECT pg_temp.rows('cp-err');
SELECT pg_temp.rows('cp-err-ok');

-- put_writes
SELECT pg_temp.err($$SELECT agentstore.put_writes(NULL, '', '1', 't', '[]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', NULL, 't', '[]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', NULL, '[]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', NULL)$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('', '', '1', 't', '[]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '', 't', '[]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', '', '[]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', repeat('t', 256), '[]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '[]', repeat('p', 1025))$$);
-- writes: a JSON array of [channel, value] or [channel, type, base64]
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '{"a": 1}')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '"a"')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '["a", 1]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '[["a", 1], ["b"]]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '[["a", "json", "MQ==", 1]]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '[{"channel": "a"}]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '[[1, 1]]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '[["", 1]]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', jsonb_build_array(jsonb_build_array(repeat('c', 256), 1)))$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '[["a", 1, "MQ=="]]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '[["a", "", "MQ=="]]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '[["a", "json", null]]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '[["a", "bytes", "***"]]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '[["a", "json", "e3g6"]]')$$);
-- a JSON value with a NUL character cannot be a jsonb write; it can be sent
-- serialized, as [channel, "json", base64]
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', '[["a", "x\u0000y"]]')$$);
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '1', 't', jsonb_build_array(jsonb_build_array('a', 'json', encode(convert_to('"x\u0000y"', 'UTF8'), 'base64'))))$$);
SELECT pending_writes FROM agentstore.get_checkpoint('cp-err-ok', '', '1');
-- (a checkpoint not stored yet is not an error: checkpoints_early_writes)
-- a bad write anywhere in the array writes nothing
SELECT pg_temp.err($$SELECT agentstore.put_writes('cp-err-ok', '', '2', 't', '[["a", 1], ["b", 2], ["c"]]')$$);
SELECT pg_temp.rows('cp-err');
SELECT pg_temp.rows('cp-err-ok');

-- list_checkpoints
SELECT pg_temp.err($$SELECT * FROM agentstore.list_checkpoints('cp-err-ok', filter => '[1]')$$);
SELECT pg_temp.err($$SELECT * FROM agentstore.list_checkpoints('cp-err-ok', filter => '"source"')$$);
SELECT pg_temp.err($$SELECT * FROM agentstore.list_checkpoints('cp-err-ok', max_count => -1)$$);

-- delete_thread, copy_thread, prune_checkpoints, expire_checkpoint_threads
SELECT pg_temp.err($$SELECT agentstore.delete_thread(NULL)$$);
SELECT pg_temp.err($$SELECT agentstore.delete_checkpoint(NULL)$$);
SELECT pg_temp.err($$SELECT agentstore.copy_thread(NULL, 'cp-err-copy')$$);
SELECT pg_temp.err($$SELECT agentstore.copy_thread('cp-err-ok', NULL)$$);
SELECT pg_temp.err($$SELECT agentstore.copy_thread('cp-err-ok', '')$$);
SELECT pg_temp.err($$SELECT agentstore.copy_thread('cp-err-ok', repeat('t', 256))$$);
SELECT pg_temp.err($$SELECT agentstore.copy_thread('cp-err-ok', 'cp-err-ok')$$);
SELECT pg_temp.err($$SELECT agentstore.copy_thread('cp-err', 'cp-err-copy')$$);
SELECT pg_temp.err($$SELECT agentstore.copy_thread('cp-err-ok', 'cp-err-copy', '-1 hour')$$);
SELECT agentstore.put_checkpoint('cp-err-target', '', '{"id": "1"}', '{}', '{}');
SELECT pg_temp.err($$SELECT agentstore.copy_thread('cp-err-ok', 'cp-err-target')$$);
-- a target with checkpoints but no thread row (written by other means)
INSERT INTO agentstore.checkpoints (thread_id, checkpoint_id, checkpoint) VALUES ('cp-err-bare', '1', '{}');
SELECT pg_temp.err($$SELECT agentstore.copy_thread('cp-err-ok', 'cp-err-bare')$$);
SELECT pg_temp.rows('cp-err-copy');
SELECT pg_temp.rows('cp-err-bare');
SELECT pg_temp.err($$SELECT * FROM agentstore.prune_checkpoints(NULL, 1)$$);
SELECT pg_temp.err($$SELECT * FROM agentstore.prune_checkpoints('cp-err-ok', NULL)$$);
SELECT pg_temp.err($$SELECT * FROM agentstore.prune_checkpoints('cp-err-ok', 0)$$);
SELECT pg_temp.err($$SELECT agentstore.expire_checkpoint_threads(NULL)$$);
SELECT pg_temp.err($$SELECT agentstore.expire_checkpoint_threads(0)$$);
SELECT pg_temp.rows('cp-err-ok');

-- The tables' own constraints hold for rows written by other means.
SELECT pg_temp.err($$INSERT INTO agentstore.checkpoint_threads VALUES ('', '2000-01-01')$$);
SELECT pg_temp.err($$INSERT INTO agentstore.checkpoint_blobs (thread_id, channel, version, type) VALUES ('cp-err', 'c', '', 'json')$$);
SELECT pg_temp.err($$INSERT INTO agentstore.checkpoint_writes (thread_id, checkpoint_id, task_id, idx, channel, blob) VALUES ('cp-err', '1', repeat('t', 256), 0, 'c', '')$$);

-- Reads check privileges (they read the tables directly) and refuse
-- row-level security, which they would bypass.
CREATE ROLE regress_cp_reader;
GRANT USAGE ON SCHEMA agentstore TO regress_cp_reader;
SET ROLE regress_cp_reader;
SELECT pg_temp.err($$SELECT * FROM agentstore.get_checkpoint('cp-err-ok')$$);
RESET ROLE;
GRANT SELECT ON agentstore.checkpoints TO regress_cp_reader;
SET ROLE regress_cp_reader;
SELECT pg_temp.err($$SELECT * FROM agentstore.get_checkpoint('cp-err-ok')$$);
RESET ROLE;
GRANT SELECT ON agentstore.checkpoint_blobs, agentstore.checkpoint_writes TO regress_cp_reader;
SET ROLE regress_cp_reader;
SELECT pg_temp.err($$SELECT count(*) FROM agentstore.get_checkpoint('cp-err-ok')$$);
SELECT count(*) FROM agentstore.list_checkpoints('cp-err-ok');
-- writing needs the write privileges
SELECT pg_temp.err($$SELECT agentstore.put_checkpoint('cp-err-ok', '', '{"id": "9"}', '{}', '{}')$$);
RESET ROLE;
ALTER TABLE agentstore.checkpoint_writes ENABLE ROW LEVEL SECURITY;
SET ROLE regress_cp_reader;
SELECT pg_temp.err($$SELECT * FROM agentstore.get_checkpoint('cp-err-ok')$$);
SELECT pg_temp.err($$SELECT * FROM agentstore.list_checkpoints('cp-err-ok')$$);
RESET ROLE;
ALTER TABLE agentstore.checkpoint_writes DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON agentstore.checkpoints, agentstore.checkpoint_blobs, agentstore.checkpoint_writes FROM regress_cp_reader;
REVOKE ALL ON SCHEMA agentstore FROM regress_cp_reader;
DROP ROLE regress_cp_reader;

SELECT agentstore.delete_thread(t)
  FROM unnest(ARRAY['cp-err-ok', 'cp-err-target', 'cp-err-bare']) AS t;

-- The reads rely on the tables and indexes the extension creates; if they
-- were changed, they say so instead of reading the wrong columns.  In a
-- database of its own.
SELECT current_database() AS origdb \gset
CREATE DATABASE cp_err_schema;
\c cp_err_schema
SET client_min_messages = warning;
CREATE EXTENSION agentstore;
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; hnt text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hnt = PG_EXCEPTION_HINT;
    RETURN st || ': ' || msg || coalesce(E'\n  HINT: ' || nullif(hnt, ''), '');
END
$$;
SELECT agentstore.put_checkpoint('t', '', '{"id": "1", "channel_versions": {"a": 1}}', '{}', '{"a": 1}', '{"a": ["json", "MQ=="]}');
DROP INDEX agentstore.checkpoint_blobs_key;
SELECT pg_temp.err($$SELECT * FROM agentstore.get_checkpoint('t')$$);
CREATE INDEX checkpoint_blobs_key ON agentstore.checkpoint_blobs (thread_id);
SELECT pg_temp.err($$SELECT * FROM agentstore.get_checkpoint('t')$$);
DROP INDEX agentstore.checkpoint_blobs_key;
CREATE INDEX checkpoint_blobs_key ON agentstore.checkpoint_blobs
    (agentstore._checkpoint_blob_key(thread_id, checkpoint_ns, channel, version));
SELECT pg_temp.err($$SELECT count(*) FROM agentstore.get_checkpoint('t')$$);
ALTER TABLE agentstore.checkpoint_writes DROP CONSTRAINT checkpoint_writes_pkey;
SELECT pg_temp.err($$SELECT * FROM agentstore.get_checkpoint('t')$$);
ALTER TABLE agentstore.checkpoint_writes ADD PRIMARY KEY (thread_id, checkpoint_id, checkpoint_ns, task_id, idx);
SELECT pg_temp.err($$SELECT * FROM agentstore.get_checkpoint('t')$$);
ALTER TABLE agentstore.checkpoint_blobs DROP COLUMN type;
SELECT pg_temp.err($$SELECT * FROM agentstore.get_checkpoint('t')$$);
ALTER TABLE agentstore.checkpoint_blobs RENAME TO checkpoint_blobs_renamed;
SELECT pg_temp.err($$SELECT * FROM agentstore.get_checkpoint('t')$$);
\c :origdb
DROP DATABASE cp_err_schema;

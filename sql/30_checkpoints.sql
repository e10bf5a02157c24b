-- agentstore install script, part 30: LangGraph-style checkpoints.
--
-- The three tables of LangGraph's PostgresSaver, plus one row per thread for
-- its TTL.  Distribution key: thread_id.  Identifiers use the "C" collation so
-- that "latest checkpoint" is the greatest checkpoint_id byte-wise, as
-- LangGraph's time-ordered ids require.
--
-- Writes to a thread (put_checkpoint, put_writes) and its removal
-- (delete_thread, delete_checkpoint, delete_runs, prune_checkpoints,
-- expire_checkpoint_threads) are ordered by a per-thread heavyweight lock
-- (src/checkpoint_lock.c): writers share it, removers take it exclusively.
-- Channel values that are not kept inline in the checkpoint are blobs keyed
-- by (channel, version) and shared by every checkpoint whose
-- channel_versions names that version.  Pending
-- writes may be stored before their checkpoint (LangGraph.js does not wait
-- for the put); such a thread always has its row in checkpoint_threads, so
-- that writes whose checkpoint never comes go with the thread's deletion or
-- expiry (docs/checkpoints.md).

-- Key limits (thread_id, checkpoint_id, task_id, channel, version: 1 to 255
-- characters; checkpoint_ns and task_path: at most 1,024, for nested
-- subgraph paths).  The functions check them with clear errors; these CHECK
-- constraints hold them for rows written by other means.  One C call each:
-- PostgreSQL rebuilds CHECK expressions for every statement that writes a
-- table, and char_length() comparisons cost a put a measurable share.
CREATE FUNCTION agentstore._checkpoint_keys_ok(
    thread_id text, checkpoint_ns text, key1 text, key2 text, key3 text, path text)
RETURNS boolean
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'agentstore_checkpoint_keys_ok';

CREATE TABLE agentstore.checkpoint_threads (
    thread_id   text COLLATE "C" NOT NULL PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at  timestamptz,
    CONSTRAINT checkpoint_threads_key_length
        CHECK (agentstore._checkpoint_keys_ok(thread_id, NULL, NULL, NULL, NULL, NULL))
);
-- The TTL worker finds expired threads through this, one after another (the
-- thread id after the time: see sessions_expires_at).
CREATE INDEX checkpoint_threads_expires_at
    ON agentstore.checkpoint_threads (expires_at, thread_id)
    WHERE expires_at IS NOT NULL;

CREATE TABLE agentstore.checkpoints (
    thread_id            text COLLATE "C" NOT NULL,
    checkpoint_ns        text COLLATE "C" NOT NULL DEFAULT '',
    checkpoint_id        text COLLATE "C" NOT NULL,
    parent_checkpoint_id text COLLATE "C",
    type                 text,
    checkpoint           jsonb NOT NULL,
    metadata             jsonb NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id),
    CONSTRAINT checkpoints_key_length CHECK (
        agentstore._checkpoint_keys_ok(thread_id, checkpoint_ns, checkpoint_id, NULL, NULL, NULL))
);

-- Finds a checkpoint by id alone (langgraphgo loads and deletes by
-- checkpoint id) and orders listings across threads.
CREATE INDEX checkpoints_checkpoint_id ON agentstore.checkpoints (checkpoint_id);

-- Finds the checkpoints of a LangGraph run, in any thread (delete_runs:
-- LangGraph keeps the run id in metadata.run_id).  Only checkpoints that
-- have a run id are in it; "C", as the other keys, for byte-wise compares.
-- A hash index: a run id is the client's string, of any length, and a btree
-- would refuse a put whose run id does not fit in an index entry.
CREATE INDEX checkpoints_run_id ON agentstore.checkpoints USING hash
    ((metadata OPERATOR(pg_catalog.->>) 'run_id') COLLATE "C")
    WHERE (metadata OPERATOR(pg_catalog.->>) 'run_id') IS NOT NULL;

CREATE TABLE agentstore.checkpoint_blobs (
    thread_id     text COLLATE "C" NOT NULL,
    checkpoint_ns text COLLATE "C" NOT NULL DEFAULT '',
    channel       text COLLATE "C" NOT NULL,
    version       text COLLATE "C" NOT NULL,
    type          text NOT NULL,
    blob          bytea,
    PRIMARY KEY (thread_id, checkpoint_ns, channel, version),
    CONSTRAINT checkpoint_blobs_key_length CHECK (
        agentstore._checkpoint_keys_ok(thread_id, checkpoint_ns, channel, version, NULL, NULL))
);

CREATE TABLE agentstore.checkpoint_writes (
    thread_id     text COLLATE "C" NOT NULL,
    checkpoint_ns text COLLATE "C" NOT NULL DEFAULT '',
    checkpoint_id text COLLATE "C" NOT NULL,
    task_id       text COLLATE "C" NOT NULL,
    idx           integer NOT NULL,
    channel       text NOT NULL,
    type          text,
    blob          bytea NOT NULL,
    task_path     text COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx),
    CONSTRAINT checkpoint_writes_key_length CHECK (
        agentstore._checkpoint_keys_ok(thread_id, checkpoint_ns, checkpoint_id, task_id, channel, task_path))
);

-- The hash of a blob's key, for the index through which get_checkpoint and
-- list_checkpoints find one channel's blob (an integer search instead of a
-- four-column text comparison at every level of the primary key).
CREATE FUNCTION agentstore._checkpoint_blob_key(
    thread_id text, checkpoint_ns text, channel text, version text)
RETURNS bigint
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'agentstore_checkpoint_blob_key';
CREATE INDEX checkpoint_blobs_key ON agentstore.checkpoint_blobs
    (agentstore._checkpoint_blob_key(thread_id, checkpoint_ns, channel, version));

SELECT pg_catalog.pg_extension_config_dump('agentstore.checkpoint_threads', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.checkpoints', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.checkpoint_blobs', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.checkpoint_writes', '');

-- One checkpoint as get_checkpoint and list_checkpoints return it: LangGraph's
-- CheckpointTuple.  checkpoint is the stored document; channel_values has
-- every channel value, {channel: [type, value]} (inline values and blobs of
-- type "json" as JSON, other blobs as base64 strings); pending_writes is
-- [[task_id, channel, type, value], ...] in (task_path, task_id, idx) order;
-- pending_sends, only for checkpoints older than format 4, is the parent's
-- writes to __pregel_tasks as [[type, value], ...].
CREATE TYPE agentstore.checkpoint_tuple AS (
    thread_id            text,
    checkpoint_ns        text,
    checkpoint_id        text,
    parent_checkpoint_id text,
    checkpoint           jsonb,
    metadata             jsonb,
    channel_values       json,
    pending_writes       json,
    pending_sends        json
);
COMMENT ON TYPE agentstore.checkpoint_tuple IS 'LangGraph''s CheckpointTuple: the checkpoint, its metadata, every channel value and the pending writes';

-- LangGraph's put: stores a checkpoint, its new channel values and the
-- thread's sliding TTL; returns the checkpoint id.
CREATE FUNCTION agentstore.put_checkpoint(
    thread_id            text,
    checkpoint_ns        text,
    checkpoint           jsonb,
    metadata             json,
    new_versions         jsonb,
    blobs                jsonb DEFAULT NULL,
    parent_checkpoint_id text DEFAULT NULL,
    ttl                  interval DEFAULT NULL)
RETURNS text
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_put_checkpoint';
COMMENT ON FUNCTION agentstore.put_checkpoint IS 'store a LangGraph checkpoint, its metadata and its new channel values; returns its id';

-- LangGraph's put_writes: a task's pending writes against a checkpoint,
-- stored or still to be put; returns how many were inserted or replaced.
CREATE FUNCTION agentstore.put_writes(
    thread_id     text,
    checkpoint_ns text,
    checkpoint_id text,
    task_id       text,
    writes        jsonb,
    task_path     text DEFAULT '')
RETURNS integer
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_put_writes';
COMMENT ON FUNCTION agentstore.put_writes IS 'store a task''s pending writes against a checkpoint; returns the writes inserted or replaced';

-- LangGraph's get_tuple: one checkpoint tuple, the latest without an id.
CREATE FUNCTION agentstore.get_checkpoint(
    thread_id     text,
    checkpoint_ns text DEFAULT '',
    checkpoint_id text DEFAULT NULL)
RETURNS SETOF agentstore.checkpoint_tuple
LANGUAGE c STABLE PARALLEL SAFE ROWS 1
AS 'MODULE_PATHNAME', 'agentstore_get_checkpoint';
COMMENT ON FUNCTION agentstore.get_checkpoint IS 'the latest checkpoint of a thread and namespace, or the one with an id, as a checkpoint_tuple';

-- LangGraph's list: checkpoint tuples newest first; every argument given
-- narrows the list.
CREATE FUNCTION agentstore.list_checkpoints(
    thread_id     text DEFAULT NULL,
    checkpoint_ns text DEFAULT NULL,
    filter        jsonb DEFAULT NULL,
    before        text DEFAULT NULL,
    max_count     integer DEFAULT NULL,
    checkpoint_id text DEFAULT NULL)
RETURNS SETOF agentstore.checkpoint_tuple
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'agentstore_list_checkpoints';
COMMENT ON FUNCTION agentstore.list_checkpoints IS 'checkpoint tuples newest first, narrowed by thread, namespace, metadata filter, before and id';

-- LangGraph's get_delta_channel_history in one call: from the checkpoint
-- given (the latest of the thread and namespace without an id; a NULL
-- namespace is the root one), walk the parent chain and, per channel,
-- collect the pending writes of every ancestor up to and including the
-- nearest ancestor that has a value of the channel, its seed.  Each ancestor
-- is read with get_checkpoint, so the walk sees exactly what LangGraph's
-- default walk over get_tuple sees (of the target, only its parent's id).
-- Returns {channel: {"writes": [[task_id, channel, type, value], ...],
-- "seed": [type, value]}}: writes oldest ancestor first and, within a
-- checkpoint, in get_checkpoint's order; no "seed" when the walk reached
-- the root (or a missing parent) without one.  The target's own writes are
-- not part of it.  NULL elements and repeated names in channels count once
-- or not at all; a NULL or empty channels is an empty object.  A parent
-- chain that loops raises 22000, found within twice the loop's length
-- (Brent's method).
CREATE FUNCTION agentstore.delta_channel_history(
    thread_id     text,
    checkpoint_ns text,
    checkpoint_id text,
    channels      text[])
RETURNS json
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ns text := coalesce(delta_channel_history.checkpoint_ns, '');
    wanted text[];
    remaining text[];
    cursor_id text;
    tup record;
    depth integer := 0;
    mark text;
    power integer := 1;
    lap integer := 0;
    w_channel text[] := '{}';
    w_depth integer[] := '{}';
    w_ord bigint[] := '{}';
    w_value json[] := '{}';
    s_channel text[] := '{}';
    s_value json[] := '{}';
    w record;
    ch text;
BEGIN
    PERFORM agentstore._checkpoint_require(delta_channel_history.thread_id, 'thread_id');
    wanted := ARRAY(SELECT DISTINCT c FROM unnest(delta_channel_history.channels) AS c
                     WHERE c IS NOT NULL ORDER BY 1);
    IF cardinality(wanted) = 0 THEN
        RETURN '{}'::json;
    END IF;
    remaining := wanted;
    -- Of the target only its parent matters: by id, read from its row, not
    -- built whole (blobs, writes) by get_checkpoint; the latest, found by
    -- get_checkpoint's own scan of the primary key.
    IF delta_channel_history.checkpoint_id IS NULL THEN
        SELECT g.parent_checkpoint_id INTO cursor_id
          FROM agentstore.get_checkpoint(delta_channel_history.thread_id, ns) AS g;
    ELSE
        SELECT c.parent_checkpoint_id INTO cursor_id FROM agentstore.checkpoints c
         WHERE c.thread_id = delta_channel_history.thread_id AND c.checkpoint_ns = ns
           AND c.checkpoint_id = delta_channel_history.checkpoint_id;
    END IF;
    mark := cursor_id;
    WHILE cursor_id IS NOT NULL AND cardinality(remaining) > 0 LOOP
        SELECT * INTO tup
          FROM agentstore.get_checkpoint(delta_channel_history.thread_id, ns, cursor_id);
        EXIT WHEN NOT FOUND;
        depth := depth + 1;
        FOR w IN
            SELECT x.e, x.o
              FROM json_array_elements(tup.pending_writes) WITH ORDINALITY AS x(e, o)
             WHERE (x.e ->> 1) = ANY (remaining)
        LOOP
            w_channel := w_channel || (w.e ->> 1);
            w_depth := w_depth || depth;
            w_ord := w_ord || w.o;
            w_value := w_value || w.e;
        END LOOP;
        FOR ch IN
            SELECT k FROM json_object_keys(tup.channel_values) AS k WHERE k = ANY (remaining)
        LOOP
            s_channel := s_channel || ch;
            s_value := s_value || (tup.channel_values -> ch);
            remaining := array_remove(remaining, ch);
        END LOOP;
        cursor_id := tup.parent_checkpoint_id;
        -- Parent ids are the client's, so a chain can loop (LangGraph's own
        -- walk would never end): Brent's method finds a loop in constant
        -- memory within twice its length, and the walk fails then rather
        -- than return writes collected more than once.
        IF cursor_id = mark THEN
            RAISE EXCEPTION 'the parent chain of checkpoint "%" loops', cursor_id
                USING ERRCODE = 'data_exception',
                      DETAIL = format('Thread "%s", namespace "%s": following parent_checkpoint_id leads back to "%s".',
                                      delta_channel_history.thread_id, ns, cursor_id),
                      HINT = 'Remove the checkpoints of the loop (delete_checkpoint) or the thread.';
        END IF;
        lap := lap + 1;
        IF lap = power THEN
            mark := cursor_id;
            power := power * 2;
            lap := 0;
        END IF;
    END LOOP;
    RETURN (
        SELECT json_object_agg(r.ch, CASE WHEN s.v IS NULL
                                          THEN json_build_object('writes', r.writes)
                                          ELSE json_build_object('writes', r.writes, 'seed', s.v) END
                               ORDER BY r.ch)
          FROM (SELECT u.ch,
                       coalesce((SELECT json_agg(x.v ORDER BY x.d DESC, x.o)
                                   FROM unnest(w_channel, w_depth, w_ord, w_value) AS x(c, d, o, v)
                                  WHERE x.c = u.ch), '[]'::json) AS writes
                  FROM unnest(wanted) AS u(ch)) AS r
          LEFT JOIN unnest(s_channel, s_value) AS s(ch, v) ON s.ch = r.ch);
END
$$;
COMMENT ON FUNCTION agentstore.delta_channel_history IS 'LangGraph''s get_delta_channel_history: per channel, the pending writes of the ancestors of a checkpoint, oldest first, up to the nearest one holding a value of the channel (its seed)';

-- The exclusive lock on a thread, taken by the functions that remove its
-- rows; with nowait, false instead of waiting for writers.
CREATE FUNCTION agentstore._checkpoint_lock_thread(thread_id text, nowait boolean)
RETURNS boolean
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'agentstore_checkpoint_lock_thread';

-- Raise the error every checkpoint function raises for a missing argument.
CREATE FUNCTION agentstore._checkpoint_require(value anyelement, name text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be null', name USING ERRCODE = 'null_value_not_allowed';
    END IF;
END
$$;

-- Remove every row of one thread; the caller holds the thread's exclusive
-- lock.  Returns the checkpoints removed.
CREATE FUNCTION agentstore._checkpoint_remove_thread(thread text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed bigint;
BEGIN
    DELETE FROM agentstore.checkpoints c WHERE c.thread_id = thread;
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM agentstore.checkpoint_writes w WHERE w.thread_id = thread;
    DELETE FROM agentstore.checkpoint_blobs b WHERE b.thread_id = thread;
    RETURN removed;
END
$$;

-- Remove the blobs of a thread that no checkpoint of its namespace names in
-- its channel_versions: those of removed checkpoints, and any other orphan.
-- The caller holds the thread's exclusive lock, so that no put in flight
-- names a blob this cannot see.  Returns the blobs removed.
CREATE FUNCTION agentstore._checkpoint_remove_unreferenced_blobs(thread text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed bigint;
BEGIN
    WITH referenced AS MATERIALIZED (
        SELECT DISTINCT c.checkpoint_ns, v.key AS channel, v.value AS version
          FROM agentstore.checkpoints c,
               jsonb_each_text(CASE jsonb_typeof(c.checkpoint -> 'channel_versions')
                               WHEN 'object' THEN c.checkpoint -> 'channel_versions' END) AS v
         WHERE c.thread_id = thread)
    DELETE FROM agentstore.checkpoint_blobs b
     WHERE b.thread_id = thread
       AND NOT EXISTS (SELECT FROM referenced r
                        WHERE r.checkpoint_ns = b.checkpoint_ns AND r.channel = b.channel
                          AND r.version = b.version);
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;

-- LangGraph's delete_thread: every namespace, every kind of row, and the
-- thread's own row.  Returns the number of checkpoints removed.
CREATE FUNCTION agentstore.delete_thread(thread_id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM agentstore._checkpoint_require(delete_thread.thread_id, 'thread_id');
    -- The thread lock first: this waits for writes in flight on the thread,
    -- and a write that comes later waits for this transaction and then
    -- finds its checkpoint gone.
    PERFORM agentstore._checkpoint_lock_thread(delete_thread.thread_id, false);
    DELETE FROM agentstore.checkpoint_threads t WHERE t.thread_id = delete_thread.thread_id;
    RETURN agentstore._checkpoint_remove_thread(delete_thread.thread_id);
END
$$;
COMMENT ON FUNCTION agentstore.delete_thread IS 'remove every checkpoint, blob and write of a thread; returns the checkpoints removed';

-- Remove one checkpoint (in every thread and namespace that has that id,
-- unless they are given), its writes, and the blobs no other checkpoint of
-- its thread names.  langgraphgo's Delete.  Returns the checkpoints removed.
CREATE FUNCTION agentstore.delete_checkpoint(
    checkpoint_id text,
    thread_id     text DEFAULT NULL,
    checkpoint_ns text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    thread text;
    gone record;
    removed bigint := 0;
BEGIN
    PERFORM agentstore._checkpoint_require(delete_checkpoint.checkpoint_id, 'checkpoint_id');
    FOR thread IN
        SELECT DISTINCT c.thread_id FROM agentstore.checkpoints c
         WHERE c.checkpoint_id = delete_checkpoint.checkpoint_id
           AND (delete_checkpoint.thread_id IS NULL OR c.thread_id = delete_checkpoint.thread_id)
         ORDER BY 1
    LOOP
        PERFORM agentstore._checkpoint_lock_thread(thread, false);
        FOR gone IN
            DELETE FROM agentstore.checkpoints c
             WHERE c.thread_id = thread AND c.checkpoint_id = delete_checkpoint.checkpoint_id
               AND (delete_checkpoint.checkpoint_ns IS NULL OR c.checkpoint_ns = delete_checkpoint.checkpoint_ns)
            RETURNING c.checkpoint_ns, c.checkpoint -> 'channel_versions' AS versions
        LOOP
            DELETE FROM agentstore.checkpoint_writes w
             WHERE w.thread_id = thread AND w.checkpoint_ns = gone.checkpoint_ns
               AND w.checkpoint_id = delete_checkpoint.checkpoint_id;
            DELETE FROM agentstore.checkpoint_blobs b
             USING jsonb_each_text(CASE jsonb_typeof(gone.versions) WHEN 'object' THEN gone.versions END) AS v
             WHERE b.thread_id = thread AND b.checkpoint_ns = gone.checkpoint_ns
               AND b.channel = v.key AND b.version = v.value
               AND NOT EXISTS (SELECT FROM agentstore.checkpoints c
                                WHERE c.thread_id = thread AND c.checkpoint_ns = gone.checkpoint_ns
                                  AND c.checkpoint -> 'channel_versions' ->> v.key = v.value);
            removed := removed + 1;
        END LOOP;
    END LOOP;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION agentstore.delete_checkpoint IS 'remove one checkpoint, its writes and the blobs no other checkpoint of its thread names';

-- LangGraph's delete_for_runs: remove every checkpoint (any thread, any
-- namespace) whose metadata.run_id is one of run_ids, the pending writes of
-- those checkpoints, and the blobs no remaining checkpoint of their thread
-- names.  NULL elements match nothing; a NULL or empty array does nothing.
-- Threads are locked one at a time, in thread id order, as delete_checkpoint
-- does.  Returns the checkpoints removed.
CREATE FUNCTION agentstore.delete_runs(run_ids text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    thread text;
    n bigint;
    removed bigint := 0;
BEGIN
    IF coalesce(cardinality(run_ids), 0) = 0 THEN
        RETURN 0;
    END IF;
    -- Through the index checkpoints_run_id (its predicate is spelled out, so
    -- that a generic plan can use it too).
    FOR thread IN
        SELECT DISTINCT c.thread_id FROM agentstore.checkpoints c
         WHERE (c.metadata ->> 'run_id') COLLATE "C" = ANY (run_ids)
           AND (c.metadata ->> 'run_id') IS NOT NULL
         ORDER BY 1
    LOOP
        -- The thread lock first: a put in flight finishes before, and the
        -- statements below see it; a later put waits for this transaction.
        PERFORM agentstore._checkpoint_lock_thread(thread, false);
        WITH gone AS (
            DELETE FROM agentstore.checkpoints c
             WHERE c.thread_id = thread
               AND (c.metadata ->> 'run_id') COLLATE "C" = ANY (run_ids)
               AND (c.metadata ->> 'run_id') IS NOT NULL
            RETURNING c.checkpoint_ns, c.checkpoint_id),
        writes AS (
            DELETE FROM agentstore.checkpoint_writes w
             USING gone g
             WHERE w.thread_id = thread AND w.checkpoint_ns = g.checkpoint_ns
               AND w.checkpoint_id = g.checkpoint_id)
        SELECT count(*) INTO n FROM gone;
        IF n > 0 THEN
            PERFORM agentstore._checkpoint_remove_unreferenced_blobs(thread);
            removed := removed + n;
        END IF;
    END LOOP;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION agentstore.delete_runs IS 'remove every checkpoint whose metadata run_id is one of run_ids, in any thread and namespace, with its writes and the blobs no remaining checkpoint names; returns the checkpoints removed';

-- The expires_at a write sets: now() + ttl, ttl defaulting to
-- agentstore.checkpoint_ttl; a zero TTL never expires.
CREATE FUNCTION agentstore._checkpoint_expires_at(ttl interval)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t interval := coalesce(ttl, pg_catalog.current_setting('agentstore.checkpoint_ttl')::interval);
BEGIN
    IF t < interval '0' THEN
        RAISE EXCEPTION 'ttl must not be negative'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('ttl is %s.', t);
    END IF;
    RETURN CASE WHEN t = interval '0' THEN NULL ELSE pg_catalog.now() + t END;
END
$$;

-- Copy a thread (every namespace, checkpoint, blob and write) to a new
-- thread id, which must not exist yet.  Returns the checkpoints copied.
CREATE FUNCTION agentstore.copy_thread(
    from_thread_id text,
    to_thread_id   text,
    ttl            interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    copied bigint;
BEGIN
    PERFORM agentstore._checkpoint_require(from_thread_id, 'from_thread_id');
    PERFORM agentstore._checkpoint_require(to_thread_id, 'to_thread_id');
    IF char_length(to_thread_id) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'to_thread_id must have 1 to 255 characters'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It has %s characters.', char_length(to_thread_id));
    END IF;
    IF from_thread_id = to_thread_id THEN
        RAISE EXCEPTION 'cannot copy thread "%" onto itself', from_thread_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The target is created here: no write to it may interleave.
    PERFORM agentstore._checkpoint_lock_thread(to_thread_id, false);
    IF NOT EXISTS (SELECT FROM agentstore.checkpoints c WHERE c.thread_id = from_thread_id) THEN
        RAISE EXCEPTION 'thread "%" has no checkpoints', from_thread_id
            USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO agentstore.checkpoint_threads (thread_id, expires_at)
    VALUES (to_thread_id, agentstore._checkpoint_expires_at(ttl))
    ON CONFLICT DO NOTHING;
    IF NOT FOUND OR EXISTS (SELECT FROM agentstore.checkpoints c WHERE c.thread_id = to_thread_id) THEN
        RAISE EXCEPTION 'thread "%" already exists', to_thread_id
            USING ERRCODE = 'unique_violation',
                  HINT = 'Delete it first with agentstore.delete_thread().';
    END IF;
    INSERT INTO agentstore.checkpoints
        (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata)
    SELECT to_thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.type,
           c.checkpoint, c.metadata
      FROM agentstore.checkpoints c WHERE c.thread_id = from_thread_id;
    GET DIAGNOSTICS copied = ROW_COUNT;
    INSERT INTO agentstore.checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
    SELECT to_thread_id, b.checkpoint_ns, b.channel, b.version, b.type, b.blob
      FROM agentstore.checkpoint_blobs b WHERE b.thread_id = from_thread_id;
    INSERT INTO agentstore.checkpoint_writes
        (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path)
    SELECT to_thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.idx, w.channel, w.type,
           w.blob, w.task_path
      FROM agentstore.checkpoint_writes w WHERE w.thread_id = from_thread_id;
    RETURN copied;
END
$$;
COMMENT ON FUNCTION agentstore.copy_thread IS 'copy every checkpoint, blob and write of a thread to a new thread; returns the checkpoints copied';

-- Keep the newest keep_last checkpoints of each namespace of a thread;
-- remove the older ones, their writes, every blob no kept checkpoint names
-- in its channel_versions, and writes left without a checkpoint.
CREATE FUNCTION agentstore.prune_checkpoints(thread_id text, keep_last integer)
RETURNS TABLE (checkpoints_removed bigint, blobs_removed bigint, writes_removed bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM agentstore._checkpoint_require(prune_checkpoints.thread_id, 'thread_id');
    PERFORM agentstore._checkpoint_require(keep_last, 'keep_last');
    IF keep_last < 1 THEN
        RAISE EXCEPTION 'keep_last must be at least 1'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('keep_last is %s.', keep_last),
                  HINT = 'To remove every checkpoint of a thread, use agentstore.delete_thread().';
    END IF;
    -- The thread lock first: writes in flight finish before, later ones wait.
    PERFORM agentstore._checkpoint_lock_thread(prune_checkpoints.thread_id, false);

    WITH ranked AS (
        SELECT c.checkpoint_ns, c.checkpoint_id,
               row_number() OVER (PARTITION BY c.checkpoint_ns ORDER BY c.checkpoint_id DESC) AS n
          FROM agentstore.checkpoints c
         WHERE c.thread_id = prune_checkpoints.thread_id)
    DELETE FROM agentstore.checkpoints c
     USING ranked r
     WHERE c.thread_id = prune_checkpoints.thread_id
       AND c.checkpoint_ns = r.checkpoint_ns AND c.checkpoint_id = r.checkpoint_id
       AND r.n > keep_last;
    GET DIAGNOSTICS checkpoints_removed = ROW_COUNT;

    -- The writes of the removed checkpoints, and those whose checkpoint was
    -- never stored and can no longer come: a checkpoint still to be put is
    -- newer than every stored one of its namespace (LangGraph's ids are
    -- time-ordered), so writes waiting for it are kept.
    DELETE FROM agentstore.checkpoint_writes w
     WHERE w.thread_id = prune_checkpoints.thread_id
       AND NOT EXISTS (SELECT FROM agentstore.checkpoints c
                        WHERE c.thread_id = w.thread_id AND c.checkpoint_ns = w.checkpoint_ns
                          AND c.checkpoint_id = w.checkpoint_id)
       AND w.checkpoint_id < (SELECT max(c.checkpoint_id) FROM agentstore.checkpoints c
                               WHERE c.thread_id = w.thread_id
                                 AND c.checkpoint_ns = w.checkpoint_ns);
    GET DIAGNOSTICS writes_removed = ROW_COUNT;

    blobs_removed := agentstore._checkpoint_remove_unreferenced_blobs(prune_checkpoints.thread_id);
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION agentstore.prune_checkpoints IS 'keep the newest keep_last checkpoints of each namespace and the blobs they name; remove the rest';

-- For the TTL worker: remove up to max_threads threads whose expires_at has
-- passed, with all their rows, skipping threads being written to (a put
-- that slides the TTL wins).  Returns the number of threads removed.
CREATE FUNCTION agentstore.expire_checkpoint_threads(max_threads integer DEFAULT 100)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    thread text;
    expired integer := 0;
BEGIN
    PERFORM agentstore._checkpoint_require(max_threads, 'max_threads');
    IF max_threads < 1 THEN
        RAISE EXCEPTION 'max_threads must be at least 1'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('max_threads is %s.', max_threads);
    END IF;
    FOR thread IN
        SELECT t.thread_id FROM agentstore.checkpoint_threads t
         WHERE t.expires_at <= pg_catalog.now()
         ORDER BY t.expires_at
         LIMIT max_threads
           FOR UPDATE SKIP LOCKED
    LOOP
        CONTINUE WHEN NOT agentstore._checkpoint_lock_thread(thread, true);
        DELETE FROM agentstore.checkpoint_threads t WHERE t.thread_id = thread;
        PERFORM agentstore._checkpoint_remove_thread(thread);
        expired := expired + 1;
    END LOOP;
    RETURN expired;
END
$$;
COMMENT ON FUNCTION agentstore.expire_checkpoint_threads IS 'remove up to max_threads checkpoint threads whose TTL has passed, oldest first, skipping threads being written to';

-- agentstore 0.2.0 -> 0.3.0 (ALTER EXTENSION agentstore UPDATE).
\echo Use "ALTER EXTENSION agentstore UPDATE TO '0.3.0'" to load this file. \quit

-- Checkpoints: delete_runs() (LangGraph's delete_for_runs), the index it
-- finds a run's checkpoints through, and the blob cleanup it shares with
-- prune_checkpoints() (which now skips a checkpoint whose channel_versions
-- is not an object instead of failing); delta_channel_history() (LangGraph's
-- get_delta_channel_history in one call).
-- Finds the checkpoints of a LangGraph run, in any thread (delete_runs:
-- LangGraph keeps the run id in metadata.run_id).  Only checkpoints that
-- have a run id are in it; "C", as the other keys, for byte-wise compares.
-- A hash index: a run id is the client's string, of any length, and a btree
-- would refuse a put whose run id does not fit in an index entry.
CREATE INDEX checkpoints_run_id ON agentstore.checkpoints USING hash
    ((metadata OPERATOR(pg_catalog.->>) 'run_id') COLLATE "C")
    WHERE (metadata OPERATOR(pg_catalog.->>) 'run_id') IS NOT NULL;

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

-- Keep the newest keep_last checkpoints of each namespace of a thread;
-- remove the older ones, their writes, every blob no kept checkpoint names
-- in its channel_versions, and writes left without a checkpoint.
CREATE OR REPLACE FUNCTION agentstore.prune_checkpoints(thread_id text, keep_last integer)
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

-- TTL: the indexes through which a pass finds the next expired session or
-- thread (and the next session to purge) gain the key after the time, so
-- that each lookup starts right after the previous one, however many share
-- one time (expire_now() over a bulk import's sessions was quadratic).
DROP INDEX agentstore.sessions_expires_at;
CREATE INDEX sessions_expires_at
    ON agentstore.sessions (expires_at, app_name, id)
    WHERE expires_at IS NOT NULL AND deleted_at IS NULL;
DROP INDEX agentstore.sessions_deleted_at;
CREATE INDEX sessions_deleted_at
    ON agentstore.sessions (deleted_at, app_name, id)
    WHERE deleted_at IS NOT NULL;
DROP INDEX agentstore.checkpoint_threads_expires_at;
CREATE INDEX checkpoint_threads_expires_at
    ON agentstore.checkpoint_threads (expires_at, thread_id)
    WHERE expires_at IS NOT NULL;

-- stream_version also counts the versions of deleted events (src/stream_read.c).
COMMENT ON FUNCTION agentstore.stream_version(text) IS 'highest version a stream has had, deleted events included, 0 if none: the next append''s expectation';

-- Checkpoints: delta_channel_history(), LangGraph's get_delta_channel_history
-- in one call.  From a checkpoint, walk its parent chain and, per channel,
-- collect the pending writes of every ancestor (oldest first, each
-- checkpoint's in get_checkpoint's order) up to and including the nearest
-- ancestor that has a value of the channel, its seed.  Chains with writes
-- and seeds, inline null, blob and "empty" values, namespaces, forks, a
-- missing target or parent, a looping chain, NULLs, privileges and a
-- hostile search_path.  Thread ids start with "cp-delta".
SET client_min_messages = warning;
\set VERBOSITY terse

-- Put a checkpoint: inline channel values, channel versions, blobs
-- {channel: [type, base64]}.
CREATE FUNCTION pg_temp.put(thread text, ns text, id text, parent text, inline jsonb,
                            versions jsonb, blobs jsonb DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT agentstore.put_checkpoint(thread, ns,
        jsonb_build_object('v', 4, 'id', id, 'ts', '2025-01-01T00:00:00Z',
                           'channel_values', inline, 'channel_versions', versions,
                           'versions_seen', '{}'::jsonb),
        '{"source": "loop"}', versions, blobs, parent)
$$;

-- The history, one line per channel.
CREATE FUNCTION pg_temp.h(thread text, ns text, id text, channels text[])
RETURNS TABLE (channel text, seed text, writes text) LANGUAGE sql AS $$
    SELECT e.key, coalesce((e.value -> 'seed')::text, '(none)'), (e.value -> 'writes')::text
      FROM json_each(agentstore.delta_channel_history(thread, ns, id, channels)) AS e
     ORDER BY 1
$$;

-- Thread cp-delta-a, root namespace: 0001 has the seeds (an inline null
-- for "m", an inline number for "n", a blob for "b", LangGraph's "empty"
-- marker for "e"), 0002 seeds nothing, 0003 a new "n", 0004 is the tip.
-- Writes of two tasks at 0001, task_path p2 stored before p1: get_checkpoint
-- returns p1's first, and so does the history.
SELECT pg_temp.put('cp-delta-a', '', '0001', NULL, '{"m": null, "n": 1}',
    '{"m": 1, "n": 1, "b": 1, "e": 1}', '{"b": ["bytes", "AAE="], "e": ["empty", ""]}');
SELECT agentstore.put_writes('cp-delta-a', '', '0001', 'task-z',
    '[["m", "z1"], ["b", "bytes", "AAI="], ["e", "z1"], ["n", "z1"]]', 'p2');
SELECT agentstore.put_writes('cp-delta-a', '', '0001', 'task-y', '[["m", "y1"], ["e", "y1"]]', 'p1');
SELECT pg_temp.put('cp-delta-a', '', '0002', '0001', '{}', '{"m": 1, "n": 1, "b": 1, "e": 1}');
SELECT agentstore.put_writes('cp-delta-a', '', '0002', 'task-x',
    '[["m", "x2"], ["m", "x2b"], ["e", "x2"], ["n", "x2"], ["other", 1]]');
SELECT pg_temp.put('cp-delta-a', '', '0003', '0002', '{"n": 3}', '{"m": 1, "n": 3, "b": 1, "e": 1}');
SELECT agentstore.put_writes('cp-delta-a', '', '0003', 'task-w', '[["m", "w3"], ["n", "w3"]]');
SELECT pg_temp.put('cp-delta-a', '', '0004', '0003', '{}', '{"m": 1, "n": 3, "b": 1, "e": 1}');
-- The tip's own writes are pending for the next step: not in any history.
SELECT agentstore.put_writes('cp-delta-a', '', '0004', 'task-v', '[["m", "v4"], ["n", "v4"]]');

-- From the tip (NULL id: the latest): "m" reaches its inline null seed at
-- 0001 with every write on the way, 0001's included; "n" stops at 0003;
-- "b" has a blob seed; "e" holds only the "empty" marker, so it has no
-- seed and collects every write up to the root; an unknown channel has
-- neither.
SELECT * FROM pg_temp.h('cp-delta-a', '', NULL, '{m,n,b,e,unknown}');
-- The same by id; a NULL namespace is the root one.
SELECT agentstore.delta_channel_history('cp-delta-a', '', '0004', '{m,n,b,e,unknown}')::text
     = agentstore.delta_channel_history('cp-delta-a', NULL, NULL, '{m,n,b,e,unknown}')::text AS same;
-- From 0003: 0003's own writes are left out; "n" is seeded at 0001.
SELECT * FROM pg_temp.h('cp-delta-a', '', '0003', '{n,m}');
-- From 0001, the root: no ancestor, nothing collected, no seed.
SELECT * FROM pg_temp.h('cp-delta-a', '', '0001', '{m,n}');
-- Repeated names and NULL elements count once or not at all.
SELECT agentstore.delta_channel_history('cp-delta-a', '', '0003', '{n,NULL,n}');
-- No channels, a NULL list, only NULL elements: an empty object.
SELECT agentstore.delta_channel_history('cp-delta-a', '', '0003', '{}') AS empty,
       agentstore.delta_channel_history('cp-delta-a', '', '0003', NULL) AS null_list,
       agentstore.delta_channel_history('cp-delta-a', '', '0003', '{NULL}') AS null_element;

-- A missing target, an unknown thread or namespace: every channel without
-- writes or seed, as LangGraph's default walk gives it.
SELECT agentstore.delta_channel_history('cp-delta-a', '', '0009', '{m}') AS missing_id,
       agentstore.delta_channel_history('cp-delta-none', '', NULL, '{m}') AS missing_thread,
       agentstore.delta_channel_history('cp-delta-a', 'child:1', NULL, '{m}') AS missing_ns;

-- A subgraph's namespace with the same checkpoint ids: each namespace walks
-- its own chain.
SELECT pg_temp.put('cp-delta-a', 'child:1', '0001', NULL, '{"m": "child seed"}', '{"m": 1}');
SELECT agentstore.put_writes('cp-delta-a', 'child:1', '0001', 'task-c', '[["m", "c1"]]');
SELECT pg_temp.put('cp-delta-a', 'child:1', '0002', '0001', '{}', '{"m": 1}');
SELECT * FROM pg_temp.h('cp-delta-a', 'child:1', NULL, '{m}');
SELECT * FROM pg_temp.h('cp-delta-a', '', '0002', '{m}');

-- A fork: 0005 branches off 0002 (a replay from there); its history is the
-- parent chain, not the checkpoints listed before it (0003 and 0004 are
-- not on its path).
SELECT pg_temp.put('cp-delta-a', '', '0005', '0002', '{}', '{"m": 1, "n": 1, "b": 1, "e": 1}');
SELECT * FROM pg_temp.h('cp-delta-a', '', '0005', '{m,n}');

-- A missing parent (removed by delete_checkpoint) ends the walk there.
SELECT pg_temp.put('cp-delta-b', '', '0001', NULL, '{"m": "b seed"}', '{"m": 1}');
SELECT pg_temp.put('cp-delta-b', '', '0002', '0001', '{}', '{"m": 1}');
SELECT agentstore.put_writes('cp-delta-b', '', '0002', 'task-1', '[["m", "b2"]]');
SELECT pg_temp.put('cp-delta-b', '', '0003', '0002', '{}', '{"m": 1}');
SELECT agentstore.delete_checkpoint('0001', 'cp-delta-b', '');
SELECT * FROM pg_temp.h('cp-delta-b', '', NULL, '{m}');

-- A parent chain that loops (0001 and 0002 each other's parent, which
-- put_checkpoint refuses but an UPDATE can store) is an error, found
-- within twice the loop's length (LangGraph's own walk would never end);
-- so is a longer loop reached after a few links, and a chain without a loop
-- of the same length is not.
SELECT pg_temp.put('cp-delta-c', '', '0001', NULL, '{}', '{"m": 1}');
SELECT pg_temp.put('cp-delta-c', '', '0002', '0001', '{}', '{"m": 1}');
SELECT pg_temp.put('cp-delta-c', '', '0003', '0002', '{}', '{"m": 1}');
SELECT agentstore.put_writes('cp-delta-c', '', '0001', 'task-1', '[["m", 1]]');
SELECT agentstore.put_writes('cp-delta-c', '', '0002', 'task-2', '[["m", 2]]');
UPDATE agentstore.checkpoints SET parent_checkpoint_id = '0002'
 WHERE thread_id = 'cp-delta-c' AND checkpoint_id = '0001';
SELECT agentstore.delta_channel_history('cp-delta-c', '', NULL, '{m}');
-- 0100 <- 0101 <- ... <- 0140: a chain of 41, then 0100's parent made 0120
SELECT count(pg_temp.put('cp-delta-d', '', lpad(g::text, 4, '0'),
                         CASE WHEN g > 100 THEN lpad((g - 1)::text, 4, '0') END, '{}', '{"m": 1}'))
  FROM generate_series(100, 140) AS g;
SELECT count(agentstore.put_writes('cp-delta-d', '', lpad(g::text, 4, '0'), 'task', '[["m", 1]]'))
  FROM generate_series(100, 140) AS g;
SELECT json_array_length(agentstore.delta_channel_history('cp-delta-d', '', NULL, '{m}') -> 'm' -> 'writes') AS writes_without_loop;
UPDATE agentstore.checkpoints SET parent_checkpoint_id = '0120'
 WHERE thread_id = 'cp-delta-d' AND checkpoint_id = '0100';
SELECT agentstore.delta_channel_history('cp-delta-d', '', NULL, '{m}');
SELECT agentstore.delete_thread('cp-delta-d');

-- A missing thread id is an error, as for the other checkpoint functions.
SELECT agentstore.delta_channel_history(NULL, '', NULL, '{m}');
SELECT agentstore.delta_channel_history(NULL, '', NULL, '{}');

-- Privileges: the caller's own.  A role with USAGE on the schema but no
-- SELECT on the checkpoint tables is refused; with SELECT it gets the same
-- history.
CREATE ROLE regress_delta_reader;
CREATE ROLE regress_delta_stranger;
GRANT USAGE ON SCHEMA agentstore TO regress_delta_reader, regress_delta_stranger;
GRANT SELECT ON agentstore.checkpoints, agentstore.checkpoint_blobs, agentstore.checkpoint_writes
    TO regress_delta_reader;
SET ROLE regress_delta_stranger;
SELECT agentstore.delta_channel_history('cp-delta-a', '', NULL, '{m}');
RESET ROLE;
SET ROLE regress_delta_reader;
SELECT * FROM pg_temp.h('cp-delta-a', '', NULL, '{m,b}');
RESET ROLE;
DROP OWNED BY regress_delta_reader, regress_delta_stranger;
DROP ROLE regress_delta_reader, regress_delta_stranger;

-- A hostile search_path: a schema first in it shadows the operators and
-- functions delta_channel_history uses; none of them runs (it pins its
-- search_path).
CREATE SCHEMA regress_delta_evil;
CREATE FUNCTION regress_delta_evil.trap(text, text) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked: text = text'; END$$;
CREATE OPERATOR regress_delta_evil.= (FUNCTION = regress_delta_evil.trap, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION regress_delta_evil.trap_get(json, integer) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked: json ->> integer'; END$$;
CREATE OPERATOR regress_delta_evil.->> (FUNCTION = regress_delta_evil.trap_get, LEFTARG = json, RIGHTARG = integer);
CREATE FUNCTION regress_delta_evil.cardinality(anyarray) RETURNS integer LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked: cardinality'; END$$;
CREATE FUNCTION regress_delta_evil.json_array_elements(json) RETURNS SETOF json
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked: json_array_elements'; END$$;
CREATE FUNCTION regress_delta_evil.array_remove(anyarray, anyelement) RETURNS anyarray
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked: array_remove'; END$$;
CREATE FUNCTION regress_delta_evil.unnest(anyarray) RETURNS SETOF anyelement
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked: unnest'; END$$;
SELECT agentstore.delta_channel_history('cp-delta-a', '', NULL, '{m,n}') AS from_the_tip \gset
SET search_path = regress_delta_evil, pg_catalog, public;
SELECT agentstore.delta_channel_history('cp-delta-a'::pg_catalog.text, '', NULL, '{m,n}')::pg_catalog.text
    OPERATOR(pg_catalog.=) :'from_the_tip' AS unaffected,
       agentstore.delta_channel_history('cp-delta-a'::pg_catalog.text, '', '0005', '{m,n}')::pg_catalog.text
    OPERATOR(pg_catalog.=) :'from_the_tip' AS unaffected_by_id;
RESET search_path;
DROP SCHEMA regress_delta_evil CASCADE;

SELECT agentstore.delete_thread(t)
  FROM unnest(ARRAY['cp-delta-a', 'cp-delta-b', 'cp-delta-c']) AS t;

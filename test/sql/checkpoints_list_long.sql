-- Checkpoints: long listings of one thread.  After its first 64 rows, a
-- listing of one thread reads the keys of all the thread's blobs once and
-- probes the blob index only for the channels that may have one (most
-- LangGraph channels are inline).  Every listed row must still equal what
-- get_checkpoint (which always probes) returns for the same checkpoint:
-- blobs found, blobs overriding inline values, "empty" markers skipped,
-- namespaces and other threads kept apart.  Inline scalars must come back
-- as the exact JSON text jsonb prints.  Thread ids start with "cp-long".
SET client_min_messages = warning;

-- 150 checkpoints in each of two namespaces of "cp-long", and the same
-- channel names and versions in thread "cp-long-other" with other values:
--   a     inline, a string with escapes and non-ASCII characters
--   n     inline, numbers of several shapes, and from step 100 a blob too
--         (written beside the checkpoint: it overrides the inline value)
--   b     a blob, new version every third step
--   e     LangGraph's "empty" marker every fifth step, a blob otherwise
--   k     inline true/false/null in turn
CREATE FUNCTION pg_temp.fill(thread text, ns text, tag text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    versions jsonb;
    blobs jsonb;
    inline jsonb;
    numbers jsonb := '[0, -1, 1.5, 1e100, 12345678901234567890, -0.000001, 3.0]';
BEGIN
    FOR s IN 1..150 LOOP
        versions := jsonb_build_object('a', s, 'n', s, 'b', s / 3, 'e', s, 'k', s);
        inline := jsonb_build_object(
            'a', format(E'%s "quoted" \\ tab\t line\n é ✓ %s', tag, s),
            'n', numbers -> (s % 7),
            'k', CASE s % 3 WHEN 0 THEN 'true'::jsonb WHEN 1 THEN 'false'::jsonb ELSE 'null'::jsonb END);
        blobs := jsonb_build_object(
            'e', CASE WHEN s % 5 = 0 THEN '["empty", null]'::jsonb
                      ELSE jsonb_build_array('bytes', encode(convert_to(tag || ' e ' || s, 'UTF8'), 'base64')) END);
        IF s % 3 = 0 OR s = 1 THEN
            blobs := blobs || jsonb_build_object('b', jsonb_build_array('json',
                encode(convert_to(format('{"tag": "%s", "b": %s}', tag, s / 3), 'UTF8'), 'base64')));
        END IF;
        PERFORM agentstore.put_checkpoint(thread, ns,
            jsonb_build_object('v', 4, 'id', format('%s', 1000 + s), 'channel_versions', versions,
                               'channel_values', inline),
            format('{"step": %s}', s)::json, versions, blobs,
            CASE WHEN s > 1 THEN format('%s', 999 + s) END);
    END LOOP;
    -- put_checkpoint refuses a value both inline and as a blob; a blob
    -- written beside it overrides the inline value
    INSERT INTO agentstore.checkpoint_blobs
    SELECT thread, ns, 'n', s::text, 'json', convert_to(format('"blob %s %s"', tag, s), 'UTF8')
      FROM generate_series(100, 150) s;
END
$$;
SELECT pg_temp.fill('cp-long', '', 'root');
SELECT pg_temp.fill('cp-long', 'sub', 'sub');
SELECT pg_temp.fill('cp-long-other', '', 'other');

-- Rows of a listing that differ from get_checkpoint, of rows listed.
CREATE FUNCTION pg_temp.check(thread text, ns text) RETURNS text LANGUAGE sql AS $$
    SELECT format('rows=%s differ=%s', count(*),
                  count(*) FILTER (WHERE l.channel_values::text IS DISTINCT FROM g.channel_values::text
                                      OR l.checkpoint IS DISTINCT FROM g.checkpoint))
      FROM agentstore.list_checkpoints(thread, ns) l,
           LATERAL agentstore.get_checkpoint(l.thread_id, l.checkpoint_ns, l.checkpoint_id) g;
$$;
SELECT pg_temp.check('cp-long', NULL) AS both_namespaces;
SELECT pg_temp.check('cp-long', '') AS root;
SELECT pg_temp.check('cp-long', 'sub') AS sub;
SELECT pg_temp.check('cp-long-other', NULL) AS other;

-- The comparison is not vacuous: what the rows of the long listing hold,
-- per namespace (blob "n" overrides the inline number from step 100 on; "e"
-- is left out at every fifth step; "b" is there from step 1).
SELECT l.checkpoint_ns,
       count(*) FILTER (WHERE l.channel_values::jsonb -> 'n' ->> 1 LIKE 'blob %') AS n_from_blob,
       count(*) FILTER (WHERE l.channel_values::jsonb -> 'n' ->> 1 NOT LIKE 'blob %') AS n_inline,
       count(*) FILTER (WHERE l.channel_values::jsonb ? 'e') AS e_present,
       count(*) FILTER (WHERE l.channel_values::jsonb -> 'b' -> 1 ->> 'tag' = CASE l.checkpoint_ns WHEN '' THEN 'root' ELSE 'sub' END) AS b_own,
       count(*) FILTER (WHERE convert_from(decode(l.channel_values::jsonb -> 'e' ->> 1, 'base64'), 'UTF8')
                              = format('%s e %s', CASE l.checkpoint_ns WHEN '' THEN 'root' ELSE 'sub' END,
                                       (l.metadata ->> 'step'))) AS e_own
  FROM agentstore.list_checkpoints('cp-long') l
 GROUP BY 1 ORDER BY 1;

-- Inline scalars come back as jsonb prints them, character for character.
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (l.channel_values -> 'a' -> 1)::text = (l.checkpoint -> 'channel_values' -> 'a')::text
                          AND (l.channel_values -> 'k' -> 1)::text = (l.checkpoint -> 'channel_values' -> 'k')::text
                          AND ((l.metadata ->> 'step')::int >= 100
                               OR (l.channel_values -> 'n' -> 1)::text = (l.checkpoint -> 'channel_values' -> 'n')::text)) AS same_text
  FROM agentstore.list_checkpoints('cp-long', '') l;
SELECT DISTINCT (l.channel_values -> 'n' -> 1)::text AS numbers
  FROM agentstore.list_checkpoints('cp-long', '') l
 WHERE (l.metadata ->> 'step')::int < 100 ORDER BY 1;
SELECT l.channel_values -> 'a' AS a, l.channel_values -> 'k' AS k
  FROM agentstore.list_checkpoints('cp-long', '', max_count => 3) l;

-- A blob written in the same transaction, after the thread's blob keys were
-- read by an earlier listing, is seen by the next listing.
BEGIN;
SELECT pg_temp.check('cp-long', '') AS before_insert;
INSERT INTO agentstore.checkpoint_blobs VALUES ('cp-long', '', 'k', '5', 'json', convert_to('"late"', 'UTF8'));
SELECT l.channel_values -> 'k' AS k_at_1005
  FROM agentstore.list_checkpoints('cp-long', '') l WHERE l.checkpoint_id = '1005';
SELECT pg_temp.check('cp-long', '') AS after_insert;
ROLLBACK;

SELECT agentstore.delete_thread('cp-long');
SELECT agentstore.delete_thread('cp-long-other');

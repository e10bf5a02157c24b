-- The bulk session writer's buffer holds one row per distinct key: a key
-- repeated in the input replaces its buffered row, whose memory is freed.
-- Long inputs cycling over three keys (never filling the buffer, so never
-- flushed before the end) keep the writer's chunk memory ("agentstore
-- session chunk" in pg_backend_memory_contexts) flat.  Before the fix the
-- superseded copies stayed until the flush: about 2 kB per input row here.
SET client_min_messages = warning;
SET agentstore.batch_size = 100;
-- the session ids this test uses are given back at the end (later tests'
-- output shows ids)
SELECT last_value AS sbm_seq_last, is_called AS sbm_seq_called
  FROM agentstore.sessions_id_seq \gset

CREATE TEMP TABLE chunk_samples (path text, n int, bytes bigint);
CREATE FUNCTION public.sbm_chunk_bytes() RETURNS bigint LANGUAGE sql AS $$
	SELECT coalesce(sum(total_bytes), 0)::bigint FROM pg_backend_memory_contexts
	 WHERE name = 'agentstore session chunk'
$$;

-- session_import (one tuple copy per row): the name column samples the
-- chunk memory every 1000th row, while the rows before it are buffered.
CREATE FUNCTION public.sbm_sample(n int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	IF n % 1000 = 0 THEN
		INSERT INTO chunk_samples SELECT 'import', n, public.sbm_chunk_bytes();
	END IF;
	RETURN 'n' || n;
END $$;
INSERT INTO agentstore.session_import (app_name, user_id, session_id, name, state)
SELECT 'sbm-import', 'u', 'k' || (g % 3), public.sbm_sample(g),
       jsonb_build_object('pad', repeat('x', 1000), 'g', g)
  FROM generate_series(1, 20000) g;
SELECT * FROM agentstore.session_import_result();
SELECT session_id, name, (state->>'g')::int AS g FROM agentstore.sessions
 WHERE app_name = 'sbm-import' AND deleted_at IS NULL ORDER BY 1;
-- 20 samples; from the second on, less than 1 MB above the first (before
-- the fix: about 45 MB by the last; after it, flat at 200 kB)
SELECT count(*) AS samples,
       max(bytes) - min(bytes) FILTER (WHERE n = 1000) < 1024 * 1024 AS flat
  FROM chunk_samples WHERE path = 'import';

-- upsert_sessions (one copy per field): a BEFORE INSERT row trigger on
-- sessions samples the chunk memory at the flush, when the whole input has
-- been buffered (three rows).
CREATE FUNCTION public.sbm_at_flush() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.app_name = 'sbm-upsert' THEN
		INSERT INTO chunk_samples SELECT 'upsert', 0, public.sbm_chunk_bytes();
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER sbm_at_flush BEFORE INSERT ON agentstore.sessions
	FOR EACH ROW EXECUTE FUNCTION public.sbm_at_flush();
SELECT * FROM agentstore.upsert_sessions(
	(SELECT jsonb_agg(jsonb_build_object('user_id', 'u', 'session_id', 'k' || (g % 3),
	                                     'state', jsonb_build_object('pad', repeat('x', 1000), 'g', g))
	                  ORDER BY g)
	   FROM generate_series(1, 10000) g),
	false, 'sbm-upsert');
SELECT session_id, (state->>'g')::int AS g FROM agentstore.sessions
 WHERE app_name = 'sbm-upsert' AND deleted_at IS NULL ORDER BY 1;
-- under 1 MB at the flush (before the fix: about 21 MB; after it, 210 kB)
SELECT count(*) AS samples, max(bytes) < 1024 * 1024 AS bounded
  FROM chunk_samples WHERE path = 'upsert';

DROP TRIGGER sbm_at_flush ON agentstore.sessions;
DROP FUNCTION public.sbm_at_flush();
DROP FUNCTION public.sbm_sample(int);
DROP FUNCTION public.sbm_chunk_bytes();
DELETE FROM agentstore.sessions WHERE app_name IN ('sbm-import', 'sbm-upsert');
SELECT setval('agentstore.sessions_id_seq', :sbm_seq_last, :'sbm_seq_called'::boolean) = :sbm_seq_last
       AS ids_given_back;
RESET agentstore.batch_size;

-- Imports nested inside an import (a function called by the outer statement
-- imports as well) each keep their own rows: the rows of a statement are
-- written by that statement, in its (sub)transaction, and a nested import
-- that is rolled back takes only its own rows with it.
SET client_min_messages = warning;

-- (a) the nested import succeeds, then its PL/pgSQL block rolls back
CREATE FUNCTION public.sbulk_nested_rollback(g int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		INSERT INTO agentstore.session_import (app_name, session_id, user_id)
		VALUES ('nest-a', 'inner-' || g, 'u');
		RAISE EXCEPTION 'roll the nested import back';
	EXCEPTION WHEN raise_exception THEN
		NULL;
	END;
	RETURN 'outer-' || g;
END $$;
INSERT INTO agentstore.session_import (app_name, session_id, user_id)
SELECT 'nest-a', public.sbulk_nested_rollback(g), 'u' FROM generate_series(1, 3) g;
SELECT * FROM agentstore.session_import_result();
SELECT session_id FROM agentstore.sessions WHERE app_name = 'nest-a' ORDER BY 1;

-- (b) the nested import fails on its second row and the error is caught
CREATE FUNCTION public.sbulk_nested_fail(g int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		INSERT INTO agentstore.session_import (app_name, session_id, user_id)
		VALUES ('nest-b', 'ghost-' || g, 'u'), ('nest-b', 'bad-' || g, NULL);
	EXCEPTION WHEN null_value_not_allowed THEN
		NULL;
	END;
	RETURN 'real-' || g;
END $$;
INSERT INTO agentstore.session_import (app_name, session_id, user_id)
SELECT 'nest-b', public.sbulk_nested_fail(g), 'u' FROM generate_series(1, 3) g;
SELECT * FROM agentstore.session_import_result();
SELECT session_id FROM agentstore.sessions WHERE app_name = 'nest-b' ORDER BY 1;

-- (c) nested imports that succeed are written by their own statement; the
-- outer statement counts its own rows only, also with small chunks
CREATE FUNCTION public.sbulk_nested_ok(app text, g int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO agentstore.session_import (app_name, session_id, user_id)
	VALUES (app, 'inner-' || g, 'u'), (app, 'inner-' || g || '-bis', 'u');
	RETURN 'outer-' || g;
END $$;
SET agentstore.batch_size = 2;
INSERT INTO agentstore.session_import (app_name, session_id, user_id)
SELECT 'nest-c', public.sbulk_nested_ok('nest-c', g), 'u' FROM generate_series(1, 3) g;
RESET agentstore.batch_size;
SELECT * FROM agentstore.session_import_result();
SELECT session_id FROM agentstore.sessions WHERE app_name = 'nest-c' ORDER BY 1;

-- (d) a nested statement without rows leaves the outer statement's rows alone
CREATE FUNCTION public.sbulk_nested_empty(g int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO agentstore.session_import SELECT * FROM agentstore.session_import;
	RETURN 'outer-' || g;
END $$;
INSERT INTO agentstore.session_import (app_name, session_id, user_id)
SELECT 'nest-d', public.sbulk_nested_empty(g), 'u' FROM generate_series(1, 3) g;
SELECT * FROM agentstore.session_import_result();
SELECT session_id FROM agentstore.sessions WHERE app_name = 'nest-d' ORDER BY 1;

-- (e) an outer statement that fails after nested imports: nothing is kept
INSERT INTO agentstore.session_import (app_name, session_id, user_id)
SELECT 'nest-e', public.sbulk_nested_ok('nest-e', g), CASE WHEN g < 3 THEN 'u' END FROM generate_series(1, 3) g;
SELECT count(*) FROM agentstore.sessions WHERE app_name = 'nest-e';
-- and the next import starts afresh
INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('nest-e', 'after', 'u');
SELECT * FROM agentstore.session_import_result();

DROP FUNCTION public.sbulk_nested_rollback(int);
DROP FUNCTION public.sbulk_nested_fail(int);
DROP FUNCTION public.sbulk_nested_ok(text, int);
DROP FUNCTION public.sbulk_nested_empty(int);
DELETE FROM agentstore.sessions WHERE app_name LIKE 'nest-%';

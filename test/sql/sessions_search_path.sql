-- Every session function is immune to a hostile search_path: a role owns a
-- schema placed before pg_catalog with operators and functions that shadow
-- the built-in ones and RAISE when called.  The statements the functions
-- build in C are fully schema-qualified, implicit operators included (a
-- "CASE x WHEN 'string'" resolved its = through search_path).  Each
-- function is called by a superuser and by an ordinary application role.
SET client_min_messages = warning;
CREATE ROLE sp_evil;
CREATE ROLE sp_writer;
CREATE SCHEMA evil AUTHORIZATION sp_evil;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
GRANT USAGE ON SCHEMA agentstore TO sp_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON agentstore.sessions, agentstore.events,
      agentstore.app_states, agentstore.user_states, agentstore.session_summaries TO sp_writer;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA agentstore TO sp_writer;

SET ROLE sp_evil;
-- one raising function per signature, and the operators on it
DO $$
DECLARE
	o record;
	fn text;
	i int := 0;
BEGIN
	FOR o IN SELECT * FROM (VALUES
		('=', 'text', 'text', 'boolean'), ('<>', 'text', 'text', 'boolean'),
		('<', 'text', 'text', 'boolean'), ('>', 'text', 'text', 'boolean'),
		('<=', 'text', 'text', 'boolean'), ('>=', 'text', 'text', 'boolean'),
		('||', 'text', 'text', 'text'),
		('=', 'jsonb', 'jsonb', 'boolean'), ('<>', 'jsonb', 'jsonb', 'boolean'),
		('||', 'jsonb', 'jsonb', 'jsonb'), ('@>', 'jsonb', 'jsonb', 'boolean'),
		('->', 'jsonb', 'text', 'jsonb'), ('->>', 'jsonb', 'text', 'text'),
		('-', 'jsonb', 'text', 'jsonb'), ('-', 'jsonb', 'text[]', 'jsonb'),
		('=', 'bigint', 'bigint', 'boolean'), ('<>', 'bigint', 'bigint', 'boolean'),
		('<', 'bigint', 'bigint', 'boolean'), ('>', 'bigint', 'bigint', 'boolean'),
		('<=', 'bigint', 'bigint', 'boolean'), ('>=', 'bigint', 'bigint', 'boolean'),
		('+', 'bigint', 'bigint', 'bigint'), ('-', 'bigint', 'bigint', 'bigint'),
		('=', 'timestamptz', 'timestamptz', 'boolean'), ('<', 'timestamptz', 'timestamptz', 'boolean'),
		('>', 'timestamptz', 'timestamptz', 'boolean'), ('<=', 'timestamptz', 'timestamptz', 'boolean'),
		('>=', 'timestamptz', 'timestamptz', 'boolean'),
		('+', 'timestamptz', 'interval', 'timestamptz'), ('-', 'timestamptz', 'interval', 'timestamptz'),
		('=', 'interval', 'interval', 'boolean'), ('>', 'interval', 'interval', 'boolean'),
		('<', 'interval', 'interval', 'boolean'),
		('=', 'boolean', 'boolean', 'boolean'),
		('=', 'integer', 'integer', 'boolean'), ('>', 'integer', 'integer', 'boolean'))
		AS t(op, l, r, res)
	LOOP
		i := i + 1;
		fn := format('evil.op_%s', i);
		EXECUTE format($f$CREATE FUNCTION %s(%s, %s) RETURNS %s LANGUAGE plpgsql AS
			'BEGIN RAISE EXCEPTION ''hijacked: operator %s(%s, %s)''; END'$f$,
			fn, o.l, o.r, o.res, o.op, o.l, o.r);
		EXECUTE format('CREATE OPERATOR evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %s)',
					   o.op, o.l, o.r, fn);
	END LOOP;
END $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked: now()'; END$$;
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked: lower()'; END$$;
CREATE FUNCTION evil.length(text) RETURNS integer LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked: length()'; END$$;
CREATE FUNCTION evil.hashtext(text) RETURNS integer LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked: hashtext()'; END$$;
CREATE FUNCTION evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked: jsonb_typeof()'; END$$;
CREATE FUNCTION evil.jsonb_build_object(text, text) RETURNS jsonb LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked: jsonb_build_object()'; END$$;
CREATE FUNCTION evil.jsonb_build_object(text, jsonb) RETURNS jsonb LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked: jsonb_build_object()'; END$$;
CREATE FUNCTION evil.nullif(text, text) RETURNS text LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked: nullif()'; END$$;
CREATE FUNCTION evil.jsonb_array_elements(jsonb) RETURNS SETOF jsonb LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked: jsonb_array_elements()'; END$$;
CREATE FUNCTION evil.unnest(text[]) RETURNS SETOF text LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked: unnest()'; END$$;
CREATE FUNCTION evil.text(bigint) RETURNS text LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked: text()'; END$$;
RESET ROLE;
SELECT count(*) AS shadowing_operators FROM pg_operator WHERE oprnamespace = 'evil'::regnamespace;

-- Call every function of the session area.  Arguments are literals only:
-- this script itself uses no operator while the search_path is hostile.
CREATE FUNCTION pg_temp.all_session_calls(app text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	ref bigint;
	j jsonb;
BEGIN
	r := agentstore.create_session(app, 'u', 's1', '{"a": 1, "app:x": 1, "user:y": 2, "temp:z": 3}', '1 hour');
	ref := r.id;
	r := agentstore.create_session(app, 'u', NULL);
	r := agentstore.get_or_create_session(app, 'u', 's1');
	r := agentstore.get_or_create_session(app, 'u', 's2', '{"b": 2}', '1 day');
	j := agentstore.get_session(app, 'u', 's1');
	j := agentstore.get_session(app, 'u', 's1', 10, '2000-01-01');
	r := agentstore.append_event(app, 'u', 's1', '{"id": "e1", "type": "t"}', '{"a": 2}');
	r := agentstore.append_event(app, 'u', 's1', '{"id": "e1", "type": "t"}', '{"a": 2}');
	r := agentstore.append_event(app, 'u', 's1', '{"id": 2}', '{"app:x": 5, "user:y": null, "a": null}', 1, ref);
	r := agentstore.append_event(app, 'u', 's1', '{"type": "plain"}');
	r := agentstore.append_session_events(app, 'u', 's1', '[{"id": "b1", "type": "t"}, {"id": 7}, {"type": "x"}]',
										  '{"c": 3, "app:x": null}', 3, ref);
	r := agentstore.append_track_event(app, 'u', 's1', 'tr', '{"id": "t1"}', '1 hour', ref);
	j := agentstore.get_track_events(app, 'u', 's1', 'tr');
	j := agentstore.get_track_events(app, 'u', 's1', 'tr', 5, '2000-01-01');
	j := agentstore.update_session_state(app, 'u', 's1', '{"d": 4, "user:q": 1}', ref);
	PERFORM agentstore.set_app_state(app, 'k', '1', '1 hour');
	PERFORM agentstore.set_app_state(app, 'k', '2');
	PERFORM agentstore.set_app_state(app, 'k2', 'null');
	j := agentstore.get_app_state(app, 'k');
	j := agentstore.list_app_state(app);
	PERFORM agentstore.delete_app_state(app, 'k');
	PERFORM agentstore.set_user_state(app, 'u', 'k', '1', '1 hour');
	PERFORM agentstore.set_user_state(app, 'u', 'k', '2');
	j := agentstore.get_user_state(app, 'u', 'k');
	j := agentstore.list_user_state(app, 'u');
	PERFORM agentstore.delete_user_state(app, 'u', 'k');
	PERFORM agentstore.put_session_summary(app, 'u', 's1', '"sum"', '', ref);
	PERFORM agentstore.put_session_summary(app, 'u', 's1', '"branch"', 'b');
	j := agentstore.get_session_summary(app, 'u', 's1', 'b');
	j := agentstore.get_session_summary(app, 'u', 's1', 'none');
	PERFORM agentstore.trim_session_events(10);
	PERFORM agentstore.delete_session(app, 'u', 's2');
	PERFORM agentstore.delete_session(app, 'u', 's1', true, ref);
	r := agentstore.create_session(app, 'u', 's1');
	PERFORM agentstore.delete_session(app, 'u', 's1', false);
	RETURN 'no hijack ran';
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.all_session_calls(text) TO sp_writer;

SET search_path = evil, pg_catalog, public;
SELECT pg_temp.all_session_calls('sp-super');
SET ROLE sp_writer;
SELECT pg_temp.all_session_calls('sp-writer');
RESET ROLE;
RESET search_path;

-- the calls did their work (checked under the normal search_path)
SELECT app_name, count(*) AS incarnations FROM agentstore.sessions
 WHERE app_name IN ('sp-super', 'sp-writer') GROUP BY app_name ORDER BY app_name;
SELECT count(*) AS events FROM agentstore.events e
  JOIN agentstore.sessions s ON e.stream = 'session-' || s.id
 WHERE s.app_name = 'sp-super';

DROP FUNCTION pg_temp.all_session_calls(text);
DROP SCHEMA evil CASCADE;
REVOKE ALL ON ALL TABLES IN SCHEMA agentstore FROM sp_writer;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA agentstore FROM sp_writer;
REVOKE ALL ON SCHEMA agentstore FROM sp_writer;
DROP ROLE sp_writer;
DROP ROLE sp_evil;

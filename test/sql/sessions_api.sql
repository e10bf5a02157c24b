-- pgTAP contract of the sessions API: names, argument types, results,
-- language, volatility and privileges.  Changing any of these must change
-- this file on purpose.
SET client_min_messages = warning;
BEGIN;
SELECT plan(76);

CREATE TEMP TABLE api (fn name, args name[], returns text, volatility text);
INSERT INTO api VALUES
	('create_session', '{text,text,text,jsonb,interval}', 'agentstore.session_info', 'volatile'),
	('get_or_create_session', '{text,text,text,jsonb,interval}', 'agentstore.session_info', 'volatile'),
	('get_session', '{text,text,text,integer,"timestamp with time zone"}', 'jsonb', 'stable'),
	('list_sessions', '{text,text,integer,text}', 'jsonb', 'stable'),
	('delete_session', '{text,text,text,boolean,bigint}', 'boolean', 'volatile'),
	('update_session_state', '{text,text,text,jsonb,bigint}', 'jsonb', 'volatile'),
	('set_app_state', '{text,text,jsonb,interval}', 'void', 'volatile'),
	('get_app_state', '{text,text}', 'jsonb', 'stable'),
	('list_app_state', '{text}', 'jsonb', 'stable'),
	('delete_app_state', '{text,text}', 'boolean', 'volatile'),
	('set_user_state', '{text,text,text,jsonb,interval}', 'void', 'volatile'),
	('get_user_state', '{text,text,text}', 'jsonb', 'stable'),
	('list_user_state', '{text,text}', 'jsonb', 'stable'),
	('delete_user_state', '{text,text,text}', 'boolean', 'volatile'),
	('put_session_summary', '{text,text,text,jsonb,text,bigint}', 'void', 'volatile'),
	('get_session_summary', '{text,text,text,text}', 'jsonb', 'stable'),
	('upsert_sessions', '{jsonb,boolean,text}', 'record', 'volatile'),
	('upsert_sessions', '{json,boolean,text}', 'record', 'volatile'),
	('session_import_result', '{}', 'record', 'volatile'),
	('append_event', '{text,text,text,jsonb,jsonb,bigint,bigint}', 'record', 'volatile'),
	('append_session_events', '{text,text,text,jsonb,jsonb,bigint,bigint}', 'record', 'volatile'),
	('append_track_event', '{text,text,text,text,jsonb,interval,bigint}', 'record', 'volatile'),
	('get_track_events', '{text,text,text,text,integer,"timestamp with time zone"}', 'jsonb', 'stable'),
	('trim_session_events', '{integer}', 'bigint', 'volatile');

-- every function exists with its arguments and result (2 tests each)
SELECT has_function('agentstore', fn, args, format('%s(%s) exists', fn, array_to_string(args, ', ')))
  FROM api ORDER BY fn, args;
SELECT function_returns('agentstore', fn, args, returns) FROM api ORDER BY fn, args;

-- C functions, none of them SECURITY DEFINER; volatility as declared
SELECT is(count(*)::int, 0, 'every sessions function is in C, with the declared volatility, not SECURITY DEFINER')
  FROM api a
  JOIN pg_proc p ON p.oid = to_regprocedure(format('agentstore.%I(%s)', a.fn, array_to_string(a.args, ',')))
 WHERE p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
    OR p.prosecdef
    OR p.provolatile <> left(a.volatility, 1);
SELECT is(count(*)::int, 24, 'every function of the table above was matched')
  FROM api a
  JOIN pg_proc p ON p.oid = to_regprocedure(format('agentstore.%I(%s)', a.fn, array_to_string(a.args, ',')));

-- none is STRICT: a NULL argument gets a clear error instead of a silent NULL
SELECT is(count(*)::int, 0, 'no sessions function is STRICT')
  FROM api a JOIN pg_proc p ON p.proname = a.fn AND p.pronamespace = 'agentstore'::regnamespace
 WHERE p.proisstrict;

-- argument names (clients may call them with named notation)
SELECT is(pg_get_function_arguments('agentstore.create_session(text,text,text,jsonb,interval)'::regprocedure),
          'app_name text, user_id text, session_id text DEFAULT NULL::text, state jsonb DEFAULT ''{}''::jsonb, ttl interval DEFAULT NULL::interval',
          'create_session arguments and defaults');
SELECT is(pg_get_function_arguments('agentstore.get_or_create_session(text,text,text,jsonb,interval)'::regprocedure),
          'app_name text, user_id text, session_id text, state jsonb DEFAULT ''{}''::jsonb, ttl interval DEFAULT NULL::interval',
          'get_or_create_session arguments and defaults');
SELECT is(pg_get_function_arguments('agentstore.get_session(text,text,text,integer,timestamptz)'::regprocedure),
          'app_name text, user_id text, session_id text, num_recent_events integer DEFAULT NULL::integer, after timestamp with time zone DEFAULT NULL::timestamp with time zone',
          'get_session arguments and defaults');
SELECT is(pg_get_function_arguments('agentstore.list_sessions(text,text,integer,text)'::regprocedure),
          'app_name text, user_id text DEFAULT NULL::text, page_size integer DEFAULT 20, page_token text DEFAULT NULL::text',
          'list_sessions arguments and defaults');
SELECT is(pg_get_function_arguments('agentstore.delete_session(text,text,text,boolean,bigint)'::regprocedure),
          'app_name text, user_id text, session_id text, hard boolean DEFAULT NULL::boolean, session_ref bigint DEFAULT NULL::bigint',
          'delete_session arguments and defaults');
SELECT is(pg_get_function_arguments('agentstore.upsert_sessions(jsonb,boolean,text)'::regprocedure),
          'sessions jsonb, preserve_updated_at boolean DEFAULT false, app_name text DEFAULT ''default''::text, OUT inserted bigint, OUT updated bigint',
          'upsert_sessions(jsonb) arguments, defaults and result columns');
SELECT is(pg_get_function_arguments('agentstore.upsert_sessions(json,boolean,text)'::regprocedure),
          'sessions json, preserve_updated_at boolean DEFAULT false, app_name text DEFAULT ''default''::text, OUT inserted bigint, OUT updated bigint',
          'upsert_sessions(json) arguments, defaults and result columns');
SELECT is(pg_get_function_arguments('agentstore.append_event(text,text,text,jsonb,jsonb,bigint,bigint)'::regprocedure),
          'app_name text, user_id text, session_id text, event jsonb, state_delta jsonb DEFAULT NULL::jsonb, expected_version bigint DEFAULT NULL::bigint, session_ref bigint DEFAULT NULL::bigint, OUT version bigint, OUT "position" bigint',
          'append_event arguments, defaults and result columns');
SELECT is(pg_get_function_arguments('agentstore.append_session_events(text,text,text,jsonb,jsonb,bigint,bigint)'::regprocedure),
          'app_name text, user_id text, session_id text, events jsonb, state_delta jsonb DEFAULT NULL::jsonb, expected_version bigint DEFAULT NULL::bigint, session_ref bigint DEFAULT NULL::bigint, OUT first_version bigint, OUT last_version bigint, OUT first_position bigint, OUT last_position bigint',
          'append_session_events arguments, defaults and result columns');
SELECT is(pg_get_function_arguments('agentstore.trim_session_events(integer)'::regprocedure),
          'batch_size integer DEFAULT NULL::integer', 'trim_session_events argument');

-- the result type of create/get_or_create
SELECT has_type('agentstore', 'session_info', 'type session_info exists');
SELECT columns_are('agentstore', 'session_info', ARRAY[
	'id', 'app_name', 'user_id', 'session_id', 'state', 'created_at', 'updated_at', 'expires_at', 'created']);

-- the bulk path: the view, its columns and defaults, its triggers
SELECT has_view('agentstore', 'session_import', 'view session_import exists');
SELECT columns_are('agentstore', 'session_import', ARRAY[
	'app_name', 'session_id', 'user_id', 'agent_id', 'team_id', 'workflow_id', 'name',
	'metadata', 'state', 'agent_data', 'runs', 'summary', 'created_at', 'updated_at', 'preserve_updated_at']);
SELECT col_default_is('agentstore', 'session_import', 'app_name', 'default', 'app_name defaults to ''default''');
SELECT col_default_is('agentstore', 'session_import', 'preserve_updated_at', 'false', 'preserve_updated_at defaults to false');
SELECT triggers_are('agentstore', 'session_import', ARRAY['session_import_begin', 'session_import_row', 'session_import_flush']);
SELECT trigger_is('agentstore', 'session_import', 'session_import_begin', 'agentstore', 'session_import_begin');
SELECT trigger_is('agentstore', 'session_import', 'session_import_row', 'agentstore', 'session_import_row');
SELECT trigger_is('agentstore', 'session_import', 'session_import_flush', 'agentstore', 'session_import_flush');

-- privileges: functions run with the caller's rights and are executable by
-- PUBLIC, but PUBLIC has no USAGE on the schema nor rights on the tables
-- and the view (docs/security.md)
SELECT function_privs_are('agentstore', 'get_or_create_session', ARRAY['text','text','text','jsonb','interval'],
                          'public', ARRAY['EXECUTE']);
SELECT function_privs_are('agentstore', 'append_event', ARRAY['text','text','text','jsonb','jsonb','bigint','bigint'],
                          'public', ARRAY['EXECUTE']);
SELECT function_privs_are('agentstore', 'upsert_sessions', ARRAY['jsonb','boolean','text'],
                          'public', ARRAY['EXECUTE']);
SELECT table_privs_are('agentstore', 'session_import', 'public', ARRAY[]::text[]);
SELECT table_privs_are('agentstore', 'app_states', 'public', ARRAY[]::text[]);

SELECT * FROM finish();
ROLLBACK;

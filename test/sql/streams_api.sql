-- pgTAP contract of the event stream API: names, argument types, results,
-- volatility, and the SQLSTATEs callers match on.
SET client_min_messages = warning;
BEGIN;
SELECT plan(49);

-- Functions and their signatures.
SELECT has_function('agentstore', 'version_trigger', ARRAY[]::name[]);
SELECT function_returns('agentstore', 'version_trigger', ARRAY[]::name[], 'trigger');
SELECT function_lang_is('agentstore', 'version_trigger', ARRAY[]::name[], 'c');

SELECT has_function('agentstore', 'append_events', ARRAY['text', 'jsonb', 'bigint']);
SELECT function_returns('agentstore', 'append_events', ARRAY['text', 'jsonb', 'bigint'], 'record');
SELECT function_lang_is('agentstore', 'append_events', ARRAY['text', 'jsonb', 'bigint'], 'c');
SELECT volatility_is('agentstore', 'append_events', ARRAY['text', 'jsonb', 'bigint'], 'volatile');
SELECT is(
    (SELECT array_agg(a ORDER BY n) FROM pg_proc p,
            unnest(p.proargnames) WITH ORDINALITY AS x(a, n)
      WHERE p.oid = 'agentstore.append_events(text, jsonb, bigint)'::regprocedure),
    ARRAY['stream', 'events', 'expected_version', 'first_version', 'last_version',
          'first_position', 'last_position']::text[],
    'append_events argument and result names');
SELECT is(
    (SELECT pronargdefaults FROM pg_proc
      WHERE oid = 'agentstore.append_events(text, jsonb, bigint)'::regprocedure)::int,
    1, 'append_events: expected_version defaults (to NULL, any)');

SELECT has_function('agentstore', 'append_events', ARRAY['text', 'text', 'bigint']);
SELECT function_returns('agentstore', 'append_events', ARRAY['text', 'text', 'bigint'], 'record');
SELECT volatility_is('agentstore', 'append_events', ARRAY['text', 'text', 'bigint'], 'volatile');
SELECT is(
    (SELECT array_agg(a ORDER BY n) FROM pg_proc p,
            unnest(p.proargnames) WITH ORDINALITY AS x(a, n)
      WHERE p.oid = 'agentstore.append_events(text, text, bigint)'::regprocedure),
    ARRAY['stream', 'events', 'expected_version', 'first_version', 'last_version',
          'first_position', 'last_position']::text[],
    'the text form has the same argument and result names');

SELECT has_function('agentstore', 'append_streams', ARRAY['jsonb']);
SELECT function_returns('agentstore', 'append_streams', ARRAY['jsonb'], 'setof record');
SELECT volatility_is('agentstore', 'append_streams', ARRAY['jsonb'], 'volatile');

SELECT has_function('agentstore', 'read_stream', ARRAY['text', 'bigint', 'integer']);
SELECT function_returns('agentstore', 'read_stream', ARRAY['text', 'bigint', 'integer'], 'setof agentstore.event');
SELECT volatility_is('agentstore', 'read_stream', ARRAY['text', 'bigint', 'integer'], 'stable');

SELECT has_function('agentstore', 'read_all', ARRAY['bigint', 'integer', 'xid8']);
SELECT function_returns('agentstore', 'read_all', ARRAY['bigint', 'integer', 'xid8'], 'setof agentstore.event');
SELECT volatility_is('agentstore', 'read_all', ARRAY['bigint', 'integer', 'xid8'], 'stable');

SELECT has_function('agentstore', 'read_category', ARRAY['text', 'bigint', 'integer', 'integer', 'integer', 'xid8']);
SELECT function_returns('agentstore', 'read_category', ARRAY['text', 'bigint', 'integer', 'integer', 'integer', 'xid8'], 'setof agentstore.event');
SELECT is(
    (SELECT array_agg(a ORDER BY n) FROM pg_proc p,
            unnest(p.proargnames) WITH ORDINALITY AS x(a, n)
      WHERE p.oid = 'agentstore.read_category(text, bigint, integer, integer, integer, xid8)'::regprocedure),
    ARRAY['category', 'after_position', 'max_count', 'member', 'group_size', 'after_transaction_id']::text[],
    'read_category argument names');

SELECT has_function('agentstore', 'stream_version', ARRAY['text']);
SELECT function_returns('agentstore', 'stream_version', ARRAY['text'], 'bigint');

SELECT has_function('agentstore', 'no_stream', ARRAY[]::name[]);
SELECT has_function('agentstore', 'stream_exists', ARRAY[]::name[]);
SELECT is(agentstore.no_stream(), -1::bigint, 'no_stream() is -1');
SELECT is(agentstore.stream_exists(), -2::bigint, 'stream_exists() is -2');

-- The row type the reads return.
SELECT has_type('agentstore', 'event', 'agentstore.event exists');
SELECT is(
    (SELECT array_agg(attname::text || ' ' || format_type(atttypid, atttypmod) ORDER BY attnum)
       FROM pg_attribute WHERE attrelid = 'agentstore.event'::regclass AND attnum > 0),
    ARRAY['stream text', 'version bigint', 'position bigint', 'transaction_id xid8',
          'event_id text', 'type text', 'data jsonb', 'metadata jsonb',
          'created_at timestamp with time zone', 'expires_at timestamp with time zone'],
    'agentstore.event columns');

-- SQLSTATEs.
SELECT lives_ok($$SELECT agentstore.append_events('sapi-1', '[{}]')$$, 'append to a new stream');
SELECT throws_ok($$SELECT agentstore.append_events('sapi-1', '[{}]', 5)$$,
    'SV001', 'wrong expected version for stream "sapi-1"', 'a wrong exact expectation raises SV001');
SELECT throws_ok($$SELECT agentstore.append_events('sapi-1', '[{}]', -1)$$,
    'SV001', NULL, '"no stream" on an existing stream raises SV001');
SELECT throws_ok($$SELECT agentstore.append_events('sapi-2', '[{}]', -2)$$,
    'SV001', NULL, '"stream exists" on a missing stream raises SV001');
SELECT throws_ok($$SELECT agentstore.append_streams('[{"stream": "sapi-1", "events": [], "expected_version": 0}]')$$,
    'SV001', NULL, 'append_streams raises SV001');
SELECT throws_ok($$SELECT agentstore.append_events('sapi-1', '[{}]', -3)$$,
    '22023', NULL, 'an unknown constant is invalid_parameter_value, not a conflict');
SELECT throws_ok($$SELECT agentstore.append_events('sapi-1', '[{"event_id": "x"}, {"event_id": "x"}]')$$,
    '22023', NULL, 'a repeated event id is invalid_parameter_value');
SELECT throws_ok($$INSERT INTO agentstore.events (stream, version) VALUES ('sapi-1', 1)$$,
    '23505', NULL, 'a taken version on import stays unique_violation');
SELECT throws_ok($$SELECT agentstore.append_events(NULL, '[]')$$,
    '22004', NULL, 'a NULL stream is null_value_not_allowed');
SELECT throws_ok($$SELECT agentstore.append_events('sapi-1', '{}')$$,
    '22023', NULL, 'events that are not an array are invalid_parameter_value');
SELECT throws_ok($$SELECT * FROM agentstore.read_all(0, 0)$$,
    '22023', NULL, 'a bad max_count is invalid_parameter_value');
SELECT throws_ok($$SELECT * FROM agentstore.read_all(999999999999)$$,
    'P0002', NULL, 'a cursor position without its event is no_data_found');
SELECT throws_ok($$SELECT * FROM agentstore.read_category('a-b')$$,
    '22023', NULL, 'a category with a dash is invalid_parameter_value');
SELECT throws_ok($$SELECT agentstore.version_trigger()$$,
    '39P01', NULL, 'calling the trigger function directly is trigger_protocol_violated');

-- The SV001 error names stream, expected and actual in its DETAIL.
CREATE FUNCTION pg_temp.conflict_detail() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    PERFORM agentstore.append_events('sapi-1', '[{}]', 7);
    RETURN NULL;
EXCEPTION WHEN SQLSTATE 'SV001' THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN detail;
END $$;
SELECT is(pg_temp.conflict_detail(), 'Stream "sapi-1" is at version 1, expected 7.',
    'SV001 DETAIL names stream, actual and expected versions');
SELECT is(agentstore.stream_version('sapi-1'), 1::bigint, 'nothing was written by the failed appends');

SELECT * FROM finish();
ROLLBACK;

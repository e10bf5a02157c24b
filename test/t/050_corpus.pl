# Adversarial corpus: thousands of bad inputs for every public function of
# agentstore, for COPY and INSERT into agentstore.session_import and for
# plain INSERT and COPY into agentstore.events.
#
# Each case asserts:
#   - the backend survives: no crash, no assertion failure (TRAP), no
#     postmaster restart, no leak warning;
#   - the call fails, if it fails, with a proper SQLSTATE: never XX000
#     (internal error) nor any other class XX, nor a statement timeout or
#     out-of-memory error, nor an error showing freed memory (the assert
#     build wipes it with 0x7F bytes);
#   - no table of the agentstore schema changed when the call failed
#     (checksums of every table), and nothing changed between two cases
#     either (a failed call must leave nothing behind that a later
#     statement writes).
# Calls that succeed are allowed (some "bad" inputs are valid) and counted,
# except where a case says it must fail.  Self-tests at the end check that
# the harness catches each kind of failure, a crash included.
#
# The cases are generated from the argument types of every public function
# (pg_proc.proargtypes: NULL in every argument, empty, long and multibyte
# strings, extreme integers, infinite timestamps, huge intervals, forged
# transaction ids, JSON of every wrong shape, 10,000-level nesting,
# 100,000-element arrays, 10 MB values), each substituted into a valid
# call, plus hand-written cases for the JSON documents each function reads
# (every field given every wrong type), forged, truncated and foreign page
# tokens, and COPY streams that turn malformed in the middle.
#
# Function calls run inside a procedure, each in a subtransaction that is
# rolled back whether the call succeeds or fails, so that every case starts
# from the same data; statements that must run at top level (COPY, INSERT
# into the import view, calls that commit) run as their own transactions.
# Thousands of cases go through a few psql processes; a case that crashes
# the server ends its batch, is reported, and the batch resumes after it.
#
# Every public function must have an entry in %functions below (a valid
# call the generated cases start from): a new function without one fails
# this test, so that its bad inputs are not forgotten.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use IPC::Run;

my $started = time();

my $node = PostgreSQL::Test::Cluster->new('corpus');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'agentstore'
agentstore.ttl_interval = '1h'
statement_timeout = '60s'
restart_after_crash = on
log_min_messages = warning
});
$node->start;

#############################################################################
# The corpus schema: values, checksums and the case runner.
#############################################################################

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION agentstore;
CREATE ROLE corpus_app LOGIN;
GRANT USAGE ON SCHEMA agentstore TO corpus_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA agentstore TO corpus_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA agentstore TO corpus_app;

CREATE SCHEMA corpus;
GRANT USAGE ON SCHEMA corpus TO PUBLIC;

-- Large values, built once and referenced by name: (SELECT t FROM corpus.v WHERE k = '...').
CREATE TABLE corpus.v (k text PRIMARY KEY, t text, j jsonb);
GRANT SELECT ON corpus.v TO PUBLIC;
INSERT INTO corpus.v (k, t) VALUES
    ('text10m', repeat('x', 10485760)),
    ('deep_array', repeat('[', 10000) || repeat(']', 10000)),
    ('deep_object', repeat('{"a":', 10000) || '1' || repeat('}', 10000)),
    ('deep_mixed', repeat('[{"a":', 5000) || 'null' || repeat('}]', 5000)),
    ('array100k', '[' || (SELECT string_agg(g::text, ',') FROM generate_series(1, 100000) g) || ']'),
    ('array100k_obj', '[' || (SELECT string_agg('{}', ',') FROM generate_series(1, 100000) g) || ']'),
    ('array100k_null', '[' || (SELECT string_agg('null', ',') FROM generate_series(1, 100000) g) || ']'),
    ('object100k', '{' || (SELECT string_agg(format('"k%s":%s', g, g), ',') FROM generate_series(1, 100000) g) || '}'),
    ('string10m', '"' || repeat('x', 10485760) || '"'),
    ('key10m', '{"' || repeat('k', 10485760) || '":1}'),
    ('dup100k', '{' || (SELECT string_agg('"a":' || g, ',') FROM generate_series(1, 100000) g) || '}');
UPDATE corpus.v SET j = t::jsonb WHERE k NOT IN ('text10m');

-- One md5 per table of the agentstore schema, in name order.
CREATE FUNCTION corpus.checksum() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    h text;
    acc text := '';
BEGIN
    FOR r IN SELECT c.oid::regclass AS t, c.relname FROM pg_class c
              WHERE c.relnamespace = 'agentstore'::regnamespace AND c.relkind IN ('r', 'p')
              ORDER BY c.relname
    LOOP
        EXECUTE format('SELECT md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) FROM %s t',
                       E'\n', '', r.t) INTO h;
        acc := acc || r.relname || '=' || h || ' ';
    END LOOP;
    RETURN acc;
END $$;

-- The tables whose checksum differs, or '' when none.
CREATE FUNCTION corpus.diff(a text, b text) RETURNS text
LANGUAGE sql AS $$
    SELECT coalesce(string_agg(split_part(x, '=', 1), ',' ORDER BY x), '')
      FROM (SELECT unnest(string_to_array(a, ' ')) EXCEPT SELECT unnest(string_to_array(b, ' '))) d(x)
     WHERE x <> ''
$$;

-- Start a case: report it, and report what changed since the last case ended.
CREATE PROCEDURE corpus.begin_case(id int)
LANGUAGE plpgsql AS $$
DECLARE
    now_sum text := corpus.checksum();
    last text := current_setting('corpus.last', true);
BEGIN
    RAISE NOTICE 'CORPUS-BEGIN|%', id;
    IF coalesce(last, '') <> '' AND last <> now_sum THEN
        RAISE NOTICE 'CORPUS-DRIFT|%|%', id, corpus.diff(last, now_sum);
    END IF;
    PERFORM set_config('corpus.before', now_sum, false);
    PERFORM set_config('corpus.t0', clock_timestamp()::text, false);
END $$;

-- End a statement run at top level (by psql) with its SQLSTATE.
CREATE PROCEDURE corpus.end_case(id int, state text, message text)
LANGUAGE plpgsql AS $$
DECLARE
    after text := corpus.checksum();
    ok boolean := coalesce(state, '00000') = '00000';
BEGIN
    PERFORM set_config('corpus.last', after, false);
    RAISE NOTICE 'CORPUS-END|%|%|%|%|%|%', id, CASE WHEN ok THEN 'ok' ELSE 'error' END,
        coalesce(state, '00000'), corpus.diff(current_setting('corpus.before'), after),
        round(extract(epoch FROM clock_timestamp() - current_setting('corpus.t0')::timestamptz) * 1000),
        CASE WHEN ok THEN '' ELSE left(regexp_replace(coalesce(message, ''), '[\n\r|]+', ' ', 'g'), 300) END;
END $$;

-- Run one case: its statements in a subtransaction that is always rolled
-- back, its SQLSTATE and message, and the tables that differ from what the
-- case before left (one checksum per case: nothing may change, whether the
-- call succeeds or fails, since it is rolled back either way).
CREATE PROCEDURE corpus.run(id int, stmts text[])
LANGUAGE plpgsql AS $$
DECLARE
    before text := current_setting('corpus.last', true);
    after text;
    s text;
    st text;
    msg text;
    outcome text := 'error';
    t0 timestamptz := clock_timestamp();
BEGIN
    RAISE NOTICE 'CORPUS-BEGIN|%', id;
    BEGIN
        FOREACH s IN ARRAY stmts LOOP
            EXECUTE s;
        END LOOP;
        RAISE SQLSTATE 'ZZ000';  -- undo what a successful case wrote
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    END;
    IF st = 'ZZ000' THEN
        outcome := 'ok';
        st := '00000';
        msg := '';
    END IF;
    after := corpus.checksum();
    PERFORM set_config('corpus.last', after, false);
    RAISE NOTICE 'CORPUS-END|%|%|%|%|%|%', id, outcome, st, corpus.diff(coalesce(before, after), after),
        round(extract(epoch FROM clock_timestamp() - t0) * 1000),
        left(regexp_replace(msg, '[\n\r|]+', ' ', 'g'), 300);
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA corpus TO PUBLIC;
GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA corpus TO PUBLIC;
});

#############################################################################
# Seed data: every table has rows the cases can refer to.
#############################################################################

# The sessions by INSERT (create_session is itself under test); the rest
# through the functions, each statement on its own so that one broken
# function does not leave the others without data.  The seed is checked
# below.
my ($seed_out, $seed_err) = ('', '');
$node->psql(
	'postgres', q{
INSERT INTO agentstore.sessions (app_name, user_id, session_id, state)
VALUES ('corpus', 'u1', 's1', '{"k": 1}'), ('corpus', 'u1', 's2', '{}'), ('corpus', 'u1', 's3', '{}'),
       ('corpus', 'u2', 's1', '{}'), ('corpus', 'u2', 's2', '{}'),
       ('corpus2', 'u1', 's1', '{}'), ('corpus2', 'u1', 's2', '{}');
SELECT agentstore.append_event('corpus', 'u1', 's1', '{"id": "ev-1", "type": "t", "author": "a"}', '{"k": 2}');
SELECT agentstore.append_event('corpus', 'u1', 's1', '{"id": "ev-2", "type": "t"}');
SELECT agentstore.append_track_event('corpus', 'u1', 's1', 'trk', '{"x": 1}');
SELECT agentstore.put_session_summary('corpus', 'u1', 's1', '{"text": "sum"}');
SELECT agentstore.put_session_summary('corpus', 'u1', 's1', '{"text": "branch"}', 'branch');
SELECT agentstore.set_app_state('corpus', 'k', '{"v": 1}');
SELECT agentstore.set_user_state('corpus', 'u1', 'k', '1');
SELECT agentstore.append_events('corpus-1', '[{"type": "a", "event_id": "e1"}, {"type": "b"}]'::jsonb);
SELECT agentstore.append_events('corpus-2', '[{"type": "a"}]'::jsonb);
SELECT agentstore.append_events('other-1', '[{"type": "a"}]'::jsonb);
SELECT agentstore.put_checkpoint('t1', '',
    '{"v": 4, "id": "0001", "ts": "2025-01-01T00:00:00Z", "channel_versions": {"messages": 1, "count": 1}, "versions_seen": {}}',
    '{"source": "input", "step": -1, "parents": {}, "run_id": "run-1"}', '{"messages": 1, "count": 1}',
    '{"messages": ["json", "WyJoaSJd"], "count": ["json", "MQ=="]}');
SELECT agentstore.put_checkpoint('t1', '',
    '{"v": 4, "id": "0002", "ts": "2025-01-01T00:00:01Z", "channel_versions": {"messages": 1, "count": 2}, "versions_seen": {}}',
    '{"source": "loop", "step": 0, "parents": {}, "run_id": "run-2"}', '{"count": 2}', '{"count": ["json", "Mg=="]}', '0001');
SELECT agentstore.put_writes('t1', '', '0002', 'task-1', '[["count", 3], ["raw", "bytes", "AAE="], ["__error__", "e"]]');
SELECT agentstore.put_checkpoint('t2', 'ns', '{"v": 4, "id": "0001", "channel_versions": {}}', '{"run_id": "run-1"}', '{}');
-- page tokens: a real one per listing, to be truncated, altered and used elsewhere
INSERT INTO corpus.v (k, t) VALUES
    ('token_u1', agentstore.list_sessions('corpus', 'u1', 1) ->> 'next_page_token'),
    ('token_u2', agentstore.list_sessions('corpus', 'u2', 1) ->> 'next_page_token'),
    ('token_app', agentstore.list_sessions('corpus', NULL, 1) ->> 'next_page_token'),
    ('token_app2', agentstore.list_sessions('corpus2', NULL, 1) ->> 'next_page_token');
-- a function that runs a nested import and catches its failure
CREATE FUNCTION corpus.nested_import_fails(tag text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        INSERT INTO agentstore.session_import (app_name, session_id, user_id)
        VALUES ('corpus', 'nested-' || tag, 'u1'), ('corpus', '', 'u1');
    EXCEPTION WHEN OTHERS THEN
        NULL;
    END;
    RETURN tag;
END $$;
GRANT EXECUTE ON FUNCTION corpus.nested_import_fails(text) TO PUBLIC;
}, stdout => \$seed_out, stderr => \$seed_err, on_error_stop => 0);
is($seed_err, '', 'seed: every statement of the seed succeeded');
is($node->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM agentstore.events) || ' ' || (SELECT count(*) FROM agentstore.checkpoints)
	       || ' ' || (SELECT count(*) FROM agentstore.checkpoint_writes)
	       || ' ' || (SELECT count(*) FROM corpus.v WHERE k LIKE 'token%' AND t IS NOT NULL)}),
	'7 3 3 4', 'seed: events, checkpoints, writes and page tokens are there');

#############################################################################
# Values by type.  Each is [label, SQL expression]; the expression is cast
# to the argument's type at the call.
#############################################################################

sub v { my $k = shift; return "(SELECT t FROM corpus.v WHERE k = '$k')"; }
sub vj { my $k = shift; return "(SELECT j FROM corpus.v WHERE k = '$k')"; }

my @text_values = (
	[ 'NULL', 'NULL' ],
	[ 'empty', q{''} ],
	[ '256 chars', q{repeat('x', 256)} ],
	[ '1025 chars', q{repeat('x', 1025)} ],
	[ '10 MB', v('text10m') ],
	[ '256 two-byte chars', q{repeat('é', 256)} ],
	[ '255 four-byte chars', q{repeat('😀', 255)} ],
	[ '1025 three-byte chars', q{repeat('€', 1025)} ],
	[ '254 ASCII + a four-byte char', q{repeat('a', 254) || '😀'} ],
	[ '1023 ASCII + two three-byte chars', q{repeat('a', 1023) || '€€'} ],
	[ 'control characters', q{E'\n\t\r\x01'} ],
	[ 'format directives', q{'%s%s%n%x%d%p'} ],
	[ 'quotes and backslash', q{E'a''b"c\\\\d'} ],
	[ 'dashes', q{'-'} ],
	[ 'U+FFFF and zero width', q{E'\uFFFF\u200B\u202E'} ],
);

my @int_values = (
	[ 'NULL', 'NULL' ], [ '0', '0' ], [ '-1', '-1' ], [ '1', '1' ],
	[ 'int min', '-2147483648' ], [ 'int max', '2147483647' ], [ 'million', '1000000' ],
);

my @bigint_values = (
	[ 'NULL', 'NULL' ], [ '0', '0' ], [ '-1', '-1' ], [ '-2', '-2' ], [ '-3', '-3' ],
	[ '1', '1' ], [ '2^31', '2147483648' ],
	[ '2^63-1', '9223372036854775807' ], [ '-2^63', '-9223372036854775808' ],
);

my @bool_values = ([ 'NULL', 'NULL' ], [ 'true', 'true' ], [ 'false', 'false' ]);

my @interval_values = (
	[ 'NULL', 'NULL' ],
	[ 'zero', q{'0'} ],
	[ 'negative', q{'-1 second'} ],
	[ 'one microsecond', q{'1 microsecond'} ],
	[ 'huge', q{'178000000 years'} ],
	[ 'huge negative', q{'-178000000 years'} ],
	[ '2^31-1 days', q{'2147483647 days'} ],
	[ 'month minus 30 days', q{'1 month -30 days'} ],
	[ 'infinity', q{'infinity'} ],
);

my @timestamptz_values = (
	[ 'NULL', 'NULL' ],
	[ 'infinity', q{'infinity'} ],
	[ '-infinity', q{'-infinity'} ],
	[ 'earliest', q{'4714-11-24 00:00:00+00 BC'} ],
	[ 'latest', q{'294276-12-31 23:59:59+00'} ],
	[ 'epoch', q{'epoch'} ],
	[ 'future', q{now() + interval '1000 years'} ],
);

my @xid8_values = (
	[ 'NULL', 'NULL' ],
	[ '0', q{'0'} ],
	[ '1', q{'1'} ],
	[ '3', q{'3'} ],
	[ '2^32', q{'4294967296'} ],
	[ '2^64-1', q{'18446744073709551615'} ],
	[ 'current', 'pg_current_xact_id()' ],
);

# Arrays of text (run ids): empty, NULL elements, odd bounds and shapes,
# long and many elements.
my @text_array_values = (
	[ 'NULL', 'NULL' ],
	[ 'empty', q{'{}'} ],
	[ 'one NULL element', q{ARRAY[NULL]} ],
	[ 'an empty element', q{ARRAY['']} ],
	[ 'NULL among run ids', q{ARRAY[NULL, 'run-1', NULL]} ],
	[ 'the same run id twice', q{ARRAY['run-1', 'run-1']} ],
	[ 'two dimensions', q{'{{run-1,run-2},{x,NULL}}'} ],
	[ 'lower bound 5', q{'[5:6]={run-1,run-2}'} ],
	[ '256 chars', q{ARRAY[repeat('x', 256)]} ],
	[ '10 MB element', 'ARRAY[' . v('text10m') . ']' ],
	[ '255 four-byte chars', q{ARRAY[repeat('😀', 255)]} ],
	[ 'control characters', q{ARRAY[E'\n\t\r\x01']} ],
	[ '100,000 run ids', q{(SELECT array_agg('run-' || g) FROM generate_series(1, 100000) g)} ],
	[ '100,000 NULLs', q{array_fill(NULL::text, ARRAY[100000])} ],
);

# JSON documents valid as jsonb; json and JSON text get more (below).
my @jsonb_values = (
	[ 'NULL', 'NULL' ],
	[ 'empty object', q{'{}'} ],
	[ 'empty array', q{'[]'} ],
	[ 'JSON null', q{'null'} ],
	[ 'zero', q{'0'} ],
	[ 'huge number', q{'1e1000'} ],
	[ '2^63', q{'9223372036854775808'} ],
	[ 'string', q{'"s"'} ],
	[ 'empty string', q{'""'} ],
	[ 'boolean', q{'true'} ],
	[ 'array of array', q{'[[]]'} ],
	[ 'array of empty object', q{'[{}]'} ],
	[ 'null member', q{'{"a": null}'} ],
	[ 'empty key', q{'{"": 1}'} ],
	[ 'duplicate keys', q{'{"a": 1, "a": 2}'} ],
	[ '10,000-level arrays', vj('deep_array') ],
	[ '10,000-level objects', vj('deep_object') ],
	[ '10,000-level mixed', vj('deep_mixed') ],
	[ '100,000-element array', vj('array100k') ],
	[ '100,000 nulls', vj('array100k_null') ],
	[ '100,000-key object', vj('object100k') ],
	[ '10 MB string', vj('string10m') ],
	[ '10 MB key', vj('key10m') ],
);

# Extra values for json (kept as text, so NUL escapes and duplicate keys
# reach the function) and for JSON given as text.
my @json_extra = (
	[ 'NUL in string', q{'{"a": "\u0000"}'} ],
	[ 'NUL in key', q{'{"\u0000": 1}'} ],
	[ 'NUL scalar', q{'"\u0000"'} ],
	[ 'NUL in array', q{'["\u0000"]'} ],
	[ 'duplicate keys kept', q{'{"a": 1, "a": {"b": 2}}'} ],
	[ '100,000 duplicate keys', v('dup100k') ],
	[ 'whitespace', q{E' \n {\n } \n'} ],
);
my @jsontext_extra = (
	@json_extra,
	[ 'truncated', q|'[{"type": "a"'| ],
	[ 'unterminated string', q{'["abc'} ],
	[ 'trailing comma', q{'[1,]'} ],
	[ 'lone surrogate', q{'["\ud800"]'} ],
	[ 'bare word', q{'nul'} ],
	[ 'empty', q{''} ],
	[ 'two documents', q{'[] []'} ],
	[ '10 MB garbage', v('text10m') ],
);

sub values_for_type
{
	my ($type) = @_;
	return @text_values if $type eq 'text';
	return @text_array_values if $type eq 'text[]';
	return @int_values if $type eq 'integer';
	return @bigint_values if $type eq 'bigint';
	return @bool_values if $type eq 'boolean';
	return @interval_values if $type eq 'interval';
	return @timestamptz_values if $type eq 'timestamp with time zone';
	return @xid8_values if $type eq 'xid8';
	return @jsonb_values if $type eq 'jsonb';
	return (@jsonb_values, map { [ $_->[0], $_->[1] ] } @json_extra) if $type eq 'json';
	return ();
}

# Values of one field inside a JSON document (jsonb expressions).
my @field_values = (
	[ 'null', q{'null'} ],
	[ 'negative', q{'-1'} ],
	[ 'fraction', q{'1.5'} ],
	[ '2^63', q{'9223372036854775808'} ],
	[ 'huge number', q{'1e1000'} ],
	[ 'boolean', q{'true'} ],
	[ 'empty string', q{'""'} ],
	[ 'infinity string', q{'"infinity"'} ],
	[ 'bad timestamp string', q{'"2020-13-45 25:61"'} ],
	[ '256 two-byte chars', q{to_jsonb(repeat('é', 256))} ],
	[ '1025-char string', q{to_jsonb(repeat('x', 1025))} ],
	[ 'empty object', q{'{}'} ],
	[ 'array', q{'[1, "a", null]'} ],
	[ '10,000-level arrays', vj('deep_array') ],
	[ '10 MB string', vj('string10m') ],
);

#############################################################################
# The functions, keyed by regprocedure:
#   args   a valid call (argument values as SQL, in order), from which the
#          generated cases substitute one argument at a time;
#   also   further calls (a hit instead of a miss, a foreign token...), whose
#          arguments get NULL, '' and 256 characters;
#   json   the JSON documents it reads, by argument: each field gets every
#          wrong type, is removed, and gets an unknown key beside it;
#   extra  hand-written bad values, by argument;
#   gucs   settings under which the valid call runs once more.
#############################################################################

my %functions = (
	'agentstore.create_session(text,text,text,jsonb,interval)' => {
		args => [ q{'corpus'}, q{'u-new'}, q{'s-new'}, q{'{"a": 1}'}, q{'1 hour'} ],
		json => { state => q{'{"a": 1, "b": {"c": [1, 2]}}'} },
	},
	'agentstore.get_or_create_session(text,text,text,jsonb,interval)' => {
		args => [ q{'corpus'}, q{'u1'}, q{'s-new'}, q{'{"a": 1}'}, q{'1 hour'} ],
		json => { state => q{'{"a": 1}'} },
		also => [
			# a hit: the session exists
			[ q{'corpus'}, q{'u1'}, q{'s1'}, q{'{}'}, 'NULL' ],
		],
	},
	'agentstore.get_session(text,text,text,integer,timestamp with time zone)' =>
	  { args => [ q{'corpus'}, q{'u1'}, q{'s1'}, '10', q{'2000-01-01'} ], },
	'agentstore.list_sessions(text,text,integer,text)' => {
		args => [ q{'corpus'}, q{'u1'}, '1', v('token_u1') ],
		extra => {
			page_token => [
				[ 'token of another user', v('token_u2') ],
				[ 'token of the app listing', v('token_app') ],
				[ 'token of another app', v('token_app2') ],
				[ 'truncated token', 'left(' . v('token_u1') . ', -1)' ],
				[ 'half a token', 'left(' . v('token_u1') . ', length(' . v('token_u1') . ') / 2)' ],
				[ 'token with one character changed',
					'overlay(' . v('token_u1') . q{ placing CASE WHEN substr(} . v('token_u1') . q{, 5, 1) = 'A' THEN 'B' ELSE 'A' END from 5)} ],
				[ 'token with its last character changed',
					'left(' . v('token_u1') . q{, -1) || CASE WHEN right(} . v('token_u1') . q{, 1) = 'A' THEN 'B' ELSE 'A' END} ],
				[ 'token twice', v('token_u1') . ' || ' . v('token_u1') ],
				[ 'token with padding', v('token_u1') . q{ || '=='} ],
				[ 'token in upper case', 'upper(' . v('token_u1') . ')' ],
				[ 'forged token: base64 of zeros', q{encode(decode(repeat('00', 48), 'hex'), 'base64')} ],
				[ 'forged token: base64 with + and /', q{repeat('+/', 32)} ],
				[ 'forged token: non-base64 characters', q{repeat('!', 64)} ],
				[ 'forged token: multibyte', q{repeat('é', 64)} ],
			],
		},
		also => [
			[ q{'corpus'}, 'NULL', '1', v('token_app') ],
			[ q{'corpus'}, 'NULL', '1', v('token_u1') ],
			[ q{'corpus2'}, 'NULL', '1', v('token_app') ],
		],
	},
	'agentstore.delete_session(text,text,text,boolean,bigint)' =>
	  { args => [ q{'corpus'}, q{'u1'}, q{'s1'}, 'false', 'NULL' ], },
	'agentstore.update_session_state(text,text,text,jsonb,bigint)' => {
		args => [ q{'corpus'}, q{'u1'}, q{'s1'}, q{'{"k": 1, "app:a": 1, "user:u": 1, "temp:t": 1}'}, 'NULL' ],
		json => { delta => q{'{"k": 1, "app:a": 1, "user:u": 1, "temp:t": 1}'} },
		extra => { delta => [delta_values()] },
	},
	'agentstore.set_app_state(text,text,jsonb,interval)' => {
		args => [ q{'corpus'}, q{'k2'}, q{'{"v": 2}'}, q{'1 hour'} ],
	},
	'agentstore.get_app_state(text,text)' => { args => [ q{'corpus'}, q{'k'} ], },
	'agentstore.list_app_state(text)' => { args => [ q{'corpus'} ], },
	'agentstore.delete_app_state(text,text)' => { args => [ q{'corpus'}, q{'k'} ], },
	'agentstore.set_user_state(text,text,text,jsonb,interval)' => {
		args => [ q{'corpus'}, q{'u1'}, q{'k2'}, q{'2'}, q{'1 hour'} ],
	},
	'agentstore.get_user_state(text,text,text)' => { args => [ q{'corpus'}, q{'u1'}, q{'k'} ], },
	'agentstore.list_user_state(text,text)' => { args => [ q{'corpus'}, q{'u1'} ], },
	'agentstore.delete_user_state(text,text,text)' => { args => [ q{'corpus'}, q{'u1'}, q{'k'} ], },
	'agentstore.put_session_summary(text,text,text,jsonb,text,bigint)' => {
		args => [ q{'corpus'}, q{'u1'}, q{'s1'}, q{'{"text": "new"}'}, q{''}, 'NULL' ],
	},
	'agentstore.get_session_summary(text,text,text,text)' =>
	  { args => [ q{'corpus'}, q{'u1'}, q{'s1'}, q{'branch'} ], },
	'agentstore.upsert_sessions(jsonb,boolean,text)' => {
		args => [ upsert_doc(), 'false', q{'corpus'} ],
		json => { sessions => upsert_doc() },
		extra => { sessions => [upsert_extra()] },
		also => [ [ upsert_doc(), 'true', q{'corpus'} ] ],
	},
	'agentstore.upsert_sessions(json,boolean,text)' => {
		args => [ upsert_doc(), 'false', q{'corpus'} ],
		json => { sessions => upsert_doc() },
		extra => {
			sessions => [
				upsert_extra(),
				[ 'duplicate session_id inside one element', q{'[{"session_id": "a", "session_id": "b", "user_id": "u1"}]'} ],
				[ 'duplicate state inside one element', q{'[{"session_id": "a", "user_id": "u1", "state": {}, "state": []}]'} ],
				[ 'NUL in a session_id', q{'[{"session_id": "a\u0000b", "user_id": "u1"}]'} ],
				[ 'NUL in a state key', q{'[{"session_id": "a", "user_id": "u1", "state": {"\u0000": 1}}]'} ],
				[ 'truncated element', q|'[{"session_id": "a", "user_id": "u1"}, {"session_id": '| ],
				[ 'escaped key names', q{'[{"session\u005fid": "esc", "user_id": "u1"}]'} ],
			],
		},
		also => [ [ upsert_doc(), 'true', q{'corpus'} ] ],
	},
	'agentstore.session_import_result()' => { args => [] },
	'agentstore.last_version_conflict()' => { args => [] },
	'agentstore.append_event(text,text,text,jsonb,jsonb,bigint,bigint)' => {
		args => [ q{'corpus'}, q{'u1'}, q{'s1'}, q{'{"id": "ev-new", "type": "t", "author": "a"}'},
			q{'{"k": 3}'}, '2', 'NULL' ],
		json => {
			event => q{'{"id": "ev-new", "type": "t", "author": "a"}'},
			state_delta => q{'{"k": 1, "app:a": 1, "user:u": 1, "temp:t": 1}'},
		},
		extra => {
			event => [ [ 'id of an event already there', q{'{"id": "ev-1"}'} ] ],
			state_delta => [delta_values()],
		},
	},
	'agentstore.append_session_events(text,text,text,jsonb,jsonb,bigint,bigint)' => {
		args => [ q{'corpus'}, q{'u1'}, q{'s1'}, q{'[{"id": "ev-new", "type": "t"}, {"type": "u"}]'},
			q{'{"k": 3}'}, '2', 'NULL' ],
		json => {
			events => q{'[{"id": "ev-new", "type": "t"}, {"type": "u"}]'},
			state_delta => q{'{"k": 1, "app:a": 1}'},
		},
		extra => {
			events => [
				[ 'the same id twice', q{'[{"id": "dup"}, {"id": "dup"}]'} ],
				[ 'id of an event already there', q{'[{"id": "ev-1"}]'} ],
				[ '10,000 empty events', q{(SELECT jsonb_agg('{}'::jsonb) FROM generate_series(1, 10000))} ],
			],
			state_delta => [delta_values()],
		},
	},
	'agentstore.append_track_event(text,text,text,text,jsonb,interval,bigint)' => {
		args => [ q{'corpus'}, q{'u1'}, q{'s1'}, q{'trk'}, q{'{"x": 2}'}, q{'1 hour'}, 'NULL' ],
	},
	'agentstore.get_track_events(text,text,text,text,integer,timestamp with time zone)' => {
		args => [ q{'corpus'}, q{'u1'}, q{'s1'}, q{'trk'}, '10', q{'2000-01-01'} ],
	},
	'agentstore.trim_session_events(integer)' => {
		args => ['100'],
		gucs => [ 'agentstore.session_event_limit = 1' ],
	},
	'agentstore.append_events(text,jsonb,bigint)' => {
		args => [ q{'corpus-1'}, stream_events_doc(), '2' ],
		json => { events => stream_events_doc() },
		extra => {
			events => [
				[ 'the same event_id twice', q{'[{"event_id": "d"}, {"event_id": "d"}]'} ],
				[ 'event_id already in the stream', q{'[{"event_id": "e1"}]'} ],
				[ '100,000 empty events', vj('array100k_obj') ],
				[ 'unknown key', q{'[{"typ": "a"}]'} ],
			],
		},
	},
	'agentstore.append_events(text,text,bigint)' => {
		args => [ q{'corpus-1'}, stream_events_doc(), '2' ],
		json => { events => stream_events_doc() },
		extra => {
			events => [
				[ 'the same event_id twice', q{'[{"event_id": "d"}, {"event_id": "d"}]'} ],
				[ 'duplicate keys in an event', q{'[{"type": "a", "type": 1}]'} ],
				[ 'NUL in a type', q{'[{"type": "a\u0000"}]'} ],
				[ 'NUL in data', q{'[{"data": {"\u0000": "\u0000"}}]'} ],
				[ '10,000 empty events', q{(SELECT jsonb_agg('{}'::jsonb) FROM generate_series(1, 10000))::text} ],
			],
		},
	},
	'agentstore.append_streams(jsonb)' => {
		args => [ append_streams_doc() ],
		json => { appends => append_streams_doc() },
		extra => {
			appends => [
				[ 'the same stream twice', q{'[{"stream": "s-x", "events": [{}]}, {"stream": "s-x", "events": [{}]}]'} ],
				[ 'conflict in the second stream', q{'[{"stream": "s-y", "events": [{}]}, {"stream": "corpus-1", "events": [{}], "expected_version": 0}]'} ],
				[ 'no events', q{'[{"stream": "s-z", "events": []}]'} ],
				[ 'unknown key', q{'[{"stream": "s-z", "events": [], "expected": 1}]'} ],
			],
		},
	},
	'agentstore.read_stream(text,bigint,integer)' => { args => [ q{'corpus-1'}, '1', '10' ], },
	'agentstore.read_all(bigint,integer,xid8)' => { args => [ '0', '10', 'NULL' ], },
	'agentstore.read_category(text,bigint,integer,integer,integer,xid8)' =>
	  { args => [ q{'corpus'}, '0', '10', '0', '2', 'NULL' ], },
	'agentstore.stream_version(text)' => { args => [ q{'corpus-1'} ], },
	'agentstore.no_stream()' => { args => [] },
	'agentstore.stream_exists()' => { args => [] },
	'agentstore.preloaded()' => { args => [] },
	'agentstore.expire_now()' => {
		args => [],
		gucs => [
			'agentstore.ttl_batch_size = 1', 'agentstore.ttl_purge_after = -1',
			'agentstore.ttl_purge_after = 0', 'agentstore.ttl_purge_after = 2147483647',
			'agentstore.session_event_limit = 1', 'agentstore.soft_delete = off',
		],
	},
	'agentstore.ttl_explain()' => { args => [] },
	'agentstore.put_checkpoint(text,text,jsonb,json,jsonb,jsonb,text,interval)' => {
		args => [ q{'t1'}, q{''}, checkpoint_doc(), q{'{"step": 1, "source": "loop"}'},
			q{'{"messages": 2, "obj": 2}'}, q{'{"messages": ["json", "WyJoaSJd"]}'}, q{'0002'}, q{'1 hour'} ],
		json => {
			checkpoint => checkpoint_doc(),
			new_versions => q{'{"messages": 2, "obj": 2}'},
			blobs => q{'{"messages": ["json", "WyJoaSJd"], "raw": ["bytes", "AAE="]}'},
			metadata => q{'{"step": 1, "source": "loop", "parents": {}}'},
		},
		extra => {
			blobs => [
				[ 'not base64', q{'{"messages": ["bytes", "not base64!"]}'} ],
				[ 'base64 with bad padding', q{'{"messages": ["bytes", "AAE"]}'} ],
				[ 'base64 of invalid JSON with type json', q{'{"messages": ["json", "e3t7"]}'} ],
				[ 'base64 of invalid UTF-8 with type json', q{'{"messages": ["json", "/w=="]}'} ],
				[ 'base64 of JSON with NUL, type json', q{'{"messages": ["json", "Ilx1MDAwMCI="]}'} ],
				[ 'three elements', q{'{"messages": ["json", "MQ==", "x"]}'} ],
				[ 'one element', q{'{"messages": ["json"]}'} ],
				[ 'channel not in new_versions', q{'{"other": ["json", "MQ=="]}'} ],
				[ 'channel also inline', q{'{"obj": ["json", "MQ=="]}'} ],
			],
			metadata => [
				[ 'NUL in a metadata value', q{'{"step": "\u0000"}'} ],
				[ 'duplicate metadata keys', q{'{"step": 1, "step": 2}'} ],
			],
			parent_checkpoint_id => [ [ 'unknown parent', q{'9999'} ] ],
		},
		also => [
			# parent given as itself, and a re-put of an existing id
			[ q{'t1'}, q{''}, q{'{"id": "0003", "channel_versions": {}}'}, q{'{}'}, q{'{}'}, 'NULL', q{'0003'}, 'NULL' ],
			[ q{'t1'}, q{''}, q{'{"id": "0002", "channel_versions": {"count": 9}}'}, q{'{}'}, q{'{"count": 9}'}, 'NULL', q{'0001'}, 'NULL' ],
		],
	},
	'agentstore.put_writes(text,text,text,text,jsonb,text)' => {
		args => [ q{'t1'}, q{''}, q{'0002'}, q{'task-2'}, writes_doc(), q{''} ],
		json => { writes => writes_doc() },
		extra => {
			writes => [
				[ 'empty write', q{'[[]]'} ],
				[ 'channel only', q{'[["a"]]'} ],
				[ 'four elements', q{'[["a", "json", "MQ==", 1]]'} ],
				[ 'channel not a string', q{'[[1, 2]]'} ],
				[ 'special channel without value', q{'[["__error__"]]'} ],
				[ 'not base64', q{'[["a", "bytes", "!!"]]'} ],
				[ 'base64 of invalid JSON with type json', q{'[["a", "json", "e3t7"]]'} ],
				[ 'every special channel twice', q{'[["__error__", 1], ["__scheduled__", 1], ["__interrupt__", 1], ["__resume__", 1], ["__error__", 2], ["__resume__", 2]]'} ],
				[ '10,000 writes', q{(SELECT jsonb_agg(jsonb_build_array('c', g)) FROM generate_series(1, 10000) g)} ],
			],
		},
		also => [ [ q{'t1'}, q{''}, q{'9999'}, q{'task-2'}, writes_doc(), q{''} ] ],
	},
	'agentstore.get_checkpoint(text,text,text)' => { args => [ q{'t1'}, q{''}, q{'0002'} ], },
	'agentstore.list_checkpoints(text,text,jsonb,text,integer,text)' => {
		args => [ q{'t1'}, q{''}, q{'{"source": "loop"}'}, q{'0003'}, '10', 'NULL' ],
		also => [ [ 'NULL', 'NULL', 'NULL', 'NULL', '-1', 'NULL' ] ],
	},
	'agentstore.delta_channel_history(text,text,text,text[])' => {
		args => [ q{'t1'}, q{''}, q{'0002'}, q{ARRAY['messages', 'count', 'raw', '__error__']} ],
		also => [
			[ q{'t1'}, 'NULL', 'NULL', q{ARRAY['count', 'count', NULL]} ],
			[ q{'t2'}, q{'ns'}, q{'9999'}, q{ARRAY['x']} ],
		],
	},
	'agentstore.delete_thread(text)' => { args => [ q{'t1'} ], },
	'agentstore.delete_checkpoint(text,text,text)' => { args => [ q{'0001'}, q{'t1'}, q{''} ], },
	'agentstore.delete_runs(text[])' => {
		args => [ q{ARRAY['run-1']} ],
		also => [ [ q{ARRAY['run-2', 'no-such-run']} ] ],
	},
	'agentstore.copy_thread(text,text,interval)' => {
		args => [ q{'t1'}, q{'t-copy'}, q{'1 hour'} ],
		also => [ [ q{'t1'}, q{'t2'}, 'NULL' ], [ q{'t1'}, q{'t1'}, 'NULL' ] ],
	},
	'agentstore.prune_checkpoints(text,integer)' => { args => [ q{'t1'}, '1' ], },
	'agentstore.expire_checkpoint_threads(integer)' => { args => ['100'], },
);

sub upsert_doc
{
	return q{'[{"session_id": "up-1", "user_id": "u1", "app_name": "corpus", "state": {"a": 1}, "metadata": {}, "agent_data": {}, "runs": [], "summary": {}, "created_at": 1700000000, "updated_at": 1700000001, "name": "n", "agent_id": "a", "team_id": "t", "workflow_id": "w"}]'};
}

sub upsert_extra
{
	return (
		[ 'the same key twice', q{'[{"session_id": "d", "user_id": "u1"}, {"session_id": "d", "user_id": "u1", "state": {"x": 1}}]'} ],
		[ 'existing session', q{'[{"session_id": "s1", "user_id": "u1", "app_name": "corpus"}]'} ],
		[ '100,000 empty objects', vj('array100k_obj') ],
		[ 'key only', q{'[{"session_id": "k"}]'} ],
	);
}

sub delta_values
{
	return (
		[ 'empty app: key', q{'{"app:": 1}'} ],
		[ 'empty user: key', q{'{"user:": 1}'} ],
		[ 'empty temp: key', q{'{"temp:": 1}'} ],
		[ 'app: key of 256 chars', q{jsonb_build_object('app:' || repeat('x', 256), 1)} ],
		[ 'user: key of 256 chars', q{jsonb_build_object('user:' || repeat('x', 256), 1)} ],
		[ 'app: key of 255 four-byte chars', q{jsonb_build_object('app:' || repeat('😀', 255), 1)} ],
		[ 'app: key with a null value', q{'{"app:k": null}'} ],
		[ 'user: key with a deep value', q{jsonb_build_object('user:k', } . vj('deep_array') . ')' ],
		[ 'prefix only in upper case', q{'{"APP:k": 1, "User:k": 2}'} ],
	);
}

sub stream_events_doc
{
	return q{'[{"type": "t", "event_id": "e-new", "data": {"a": 1}, "metadata": {"m": 1}, "expires_at": "2100-01-01T00:00:00Z"}]'};
}

sub append_streams_doc
{
	return q{'[{"stream": "corpus-3", "events": [{"type": "x", "event_id": "a"}], "expected_version": -1}, {"stream": "corpus-1", "events": [{"type": "y"}], "expected_version": 2}]'};
}

sub checkpoint_doc
{
	return q{'{"v": 4, "id": "0003", "ts": "2025-01-01T00:00:02Z", "channel_versions": {"messages": 2, "count": 2, "obj": 2}, "channel_values": {"n": 1, "obj": {"a": [1, 2]}}, "versions_seen": {"node": {"count": 2}}, "pending_sends": []}'};
}

sub writes_doc
{
	return q{'[["messages", [1]], ["raw", "bytes", "AAE="], ["__error__", "e"], ["__interrupt__", {"value": 1}]]'};
}

#############################################################################
# Generate the cases.
#############################################################################

my @cases;    # { func, desc, stmts => [sql...] } or { func, desc, top => sql text }

sub add_call
{
	my ($func, $desc, $call, %opt) = @_;
	my @stmts;
	push @stmts, 'SET LOCAL ROLE corpus_app' if $opt{app};
	push @stmts, map { "SET LOCAL $_" } @{ $opt{gucs} // [] };
	push @stmts, "SELECT count(*), md5(string_agg(t::text, ',')) FROM $call t";
	push @cases, { func => $func, desc => $desc, stmts => \@stmts, call => $call, %opt };
}

# The public functions as the server lists them: regprocedure, argument
# names and type names.
my @procs = map { [ split /\|/, $_, -1 ] } split /\n/, $node->safe_psql(
	'postgres', q{
	SELECT p.oid::regprocedure,
	       array_to_string(coalesce(p.proargnames[1:p.pronargs], array_fill(''::text, ARRAY[p.pronargs])), ','),
	       coalesce((SELECT string_agg(format_type(t, NULL), ',' ORDER BY i)
	                   FROM unnest(p.proargtypes) WITH ORDINALITY a(t, i)), '')
	  FROM pg_proc p
	 WHERE p.pronamespace = 'agentstore'::regnamespace
	   AND p.proname !~ '^_'
	   AND p.prorettype <> 'trigger'::regtype
	 ORDER BY 1});
cmp_ok(scalar(@procs), '>=', 40, 'the extension lists its public functions');

my %listed;
my @unlisted;
foreach my $p (@procs)
{
	my ($sig, $names, $types) = @$p;
	$sig =~ s/, /,/g;
	$listed{$sig} = 1;
	my $f = $functions{$sig};
	push @unlisted, $sig and next unless defined $f;
	my @names = split /,/, $names, -1;
	my @types = split /,(?! )/, $types, -1;    # "timestamp with time zone" has no comma
	@types = () if $types eq '';
	@names = () if $types eq '';
	my $name = $sig;
	$name =~ s/\(.*//;

	my $call = sub {
		my @a = @_;
		return "$name(" . join(', ', map { "($a[$_])::$types[$_]" } 0 .. $#types) . ')';
	};

	# the valid calls themselves (they must not fail, but it is not asserted
	# here: the other tests do that)
	foreach my $base ($f->{args}, @{ $f->{also} // [] })
	{
		die "$sig: wrong number of base arguments" unless @$base == @types;
		my $what = $base == $f->{args} ? 'the valid call' : 'the alternative call ' . join(', ', @$base);
		add_call($sig, $what, $call->(@$base));
		add_call($sig, "$what, as an application role", $call->(@$base), app => 1);
		foreach my $g (@{ $f->{gucs} // [] })
		{
			add_call($sig, "$what with $g", $call->(@$base), gucs => [$g]);
		}
	}
	# NULL in every argument at once
	add_call($sig, 'every argument NULL', $call->(map { 'NULL' } @types)) if @types;

	# one argument at a time, every value of its type, in every base call
	foreach my $base ($f->{args}, @{ $f->{also} // [] })
	{
		foreach my $i (0 .. $#types)
		{
			my @vals = values_for_type($types[$i]);
			push @vals, @jsonb_values, @jsontext_extra
			  if $types[$i] eq 'text' && exists $f->{json}{ $names[$i] };
			# the alternative bases vary their arguments with NULL and
			# the extremes only
			@vals = grep { $_->[0] =~ /^(NULL|empty|256 chars)$/ } @vals
			  if $base != $f->{args};
			push @vals, @{ $f->{extra}{ $names[$i] } // [] } if $base == $f->{args};
			foreach my $val (@vals)
			{
				my @a = @$base;
				$a[$i] = $val->[1];
				add_call($sig, "$names[$i] = $val->[0]", $call->(@a));
			}
		}
	}

	# every field of the JSON documents it reads, given every wrong type
	foreach my $i (0 .. $#types)
	{
		my $doc = $f->{json}{ $names[$i] } or next;
		my $fields = $node->safe_psql(
			'postgres', qq{
			WITH RECURSIVE p(path, value) AS (
			    SELECT ARRAY[]::text[], ($doc)::jsonb
			    UNION ALL
			    SELECT p.path || c.key, c.value
			      FROM p, LATERAL (SELECT key, value FROM jsonb_each(CASE jsonb_typeof(p.value) WHEN 'object' THEN p.value END)
			                       UNION ALL
			                       SELECT '0', p.value -> 0 WHERE jsonb_typeof(p.value) = 'array' AND jsonb_array_length(p.value) > 0) c
			     WHERE array_length(p.path, 1) IS NULL OR array_length(p.path, 1) < 3)
			SELECT array_to_string(path, ',') || '|' || jsonb_typeof(value) FROM p ORDER BY 1});
		foreach my $line (split /\n/, $fields)
		{
			my ($path, $kind) = split /\|/, $line;
			# an unknown key next to the known ones, at every object level
			if ($kind eq 'object')
			{
				my @a = @{ $f->{args} };
				$a[$i] = "jsonb_set(($doc)::jsonb, '{" . ($path eq '' ? '' : "$path,") . "zz_unknown}', '1')";
				$a[$i] = "($a[$i])::text" if $types[$i] eq 'text';
				add_call($sig, "$names[$i] with an unknown key at {$path}", $call->(@a));
			}
			next if $path eq '';
			# a 10 MB value only where a string is: it costs a quarter of a
			# second per case on an assert-enabled server
			foreach my $val (grep { $kind eq 'string' || $_->[0] !~ /10 MB/ } @field_values)
			{
				my $jb = "jsonb_set(($doc)::jsonb, '{$path}', $val->[1])";
				$jb = "($jb)::text" if $types[$i] eq 'text';
				my @a = @{ $f->{args} };
				$a[$i] = $jb;
				add_call($sig, "$names[$i] field $path = $val->[0]", $call->(@a));
			}
			my @a = @{ $f->{args} };
			$a[$i] = "($doc)::jsonb #- '{$path}'";
			$a[$i] = "($a[$i])::text" if $types[$i] eq 'text';
			add_call($sig, "$names[$i] without field $path", $call->(@a));
		}
		# the document wrapped in an array, and its first element alone
		my @a = @{ $f->{args} };
		$a[$i] = "jsonb_build_array(($doc)::jsonb)";
		$a[$i] = "($a[$i])::text" if $types[$i] eq 'text';
		add_call($sig, "$names[$i] wrapped in an array", $call->(@a));
	}
}
is(join(', ', @unlisted), '', 'every public function has hand-written cases in %functions of 050_corpus.pl');
is(join(', ', grep { !$listed{$_} } sort keys %functions), '',
	'every function in %functions of 050_corpus.pl is a public function of the extension');

#############################################################################
# Trigger functions called where they do not belong.
#############################################################################

my $ints15 = join(', ', map { "${_}::int a$_" } 1 .. 15);
my $texts15 = join(', ', map { "'{}'::text a$_" } 1 .. 15);
foreach my $trig (
	[ 'agentstore.session_import_row()', 'INSTEAD OF INSERT', 'EACH ROW' ],
	[ 'agentstore.session_import_flush()', 'AFTER INSERT', 'EACH STATEMENT' ],
	[ 'agentstore.version_trigger()', 'BEFORE INSERT', 'EACH ROW' ])
{
	my ($fn, $when, $each) = @$trig;
	my $viewish = $when =~ /INSTEAD/;
	foreach my $target (
		[ '15 integer columns', $ints15 ],
		[ '15 text columns', $texts15 ],
		[ 'one column', q{1::int a1} ],
		[ 'no column', q{} ])
	{
		my ($label, $cols) = @$target;
		my @stmts;
		if ($viewish)
		{
			push @stmts, "CREATE TEMP VIEW corpus_v AS SELECT $cols WHERE false";
			push @stmts, "CREATE TRIGGER t $when ON corpus_v FOR $each EXECUTE FUNCTION $fn";
		}
		else
		{
			my $ddl = $cols;
			$ddl =~ s/'\{\}'::text (a\d+)/$1 text/g;
			$ddl =~ s/\d+::int (a\d+)/$1 int/g;
			push @stmts, "CREATE TEMP TABLE corpus_v ($ddl)";
			push @stmts, "CREATE TRIGGER t $when ON corpus_v FOR $each EXECUTE FUNCTION $fn";
		}
		my $vals = $cols eq '' ? 'DEFAULT VALUES' : 'SELECT ' . join(', ', map { s/ a\d+$//r } split /, /, $cols);
		push @stmts, "INSERT INTO corpus_v $vals";
		push @cases, { func => $fn, desc => "attached $when to a temporary relation with $label", stmts => \@stmts,
			must_fail => 1 };
	}
	push @cases, { func => $fn, desc => 'called directly', stmts => ["SELECT $fn"] };
}

#############################################################################
# Statements at top level: INSERT and COPY into the import view and into
# agentstore.events, including streams that turn malformed in the middle.
#############################################################################

my @import_cols = qw(app_name session_id user_id agent_id team_id workflow_id name
  metadata state agent_data runs summary created_at updated_at preserve_updated_at);

# A COPY of $rows (text format lines) into $target, and what is checked after.
sub add_copy
{
	my ($func, $desc, $target, $rows, %opt) = @_;
	my $sql = '';
	$sql .= "SET agentstore.batch_size = $opt{batch_size};\n" if $opt{batch_size};
	$sql .= "COPY $target FROM stdin" . ($opt{options} ? " WITH ($opt{options})" : '') . ";\n";
	$sql .= join('', map { "$_\n" } @$rows);
	$sql .= "\\.\n";
	push @cases, { func => $func, desc => $desc, top => $sql, check => $opt{check},
		after => $opt{batch_size} ? "RESET agentstore.batch_size;\n" : '' };
}

sub add_top
{
	my ($func, $desc, $sql, %opt) = @_;
	push @cases, { func => $func, desc => $desc, top => "$sql;\n", check => $opt{check}, after => '',
		must_fail => $opt{must_fail} };
}

my $imp = 'agentstore.session_import (app_name, session_id, user_id, state)';
my @good = map { "corpus\tcopy-$_\tu1\t{\"n\": $_}" } 1 .. 3;
my %bad_rows = (
	'a row with too many columns' => "corpus\tcopy-x\tu1\t{}\textra",
	'a row with too few columns' => "corpus\tcopy-x",
	'an empty line' => '',
	'truncated JSON in state' => "corpus\tcopy-x\tu1\t{\"a\":",
	'an array as state' => "corpus\tcopy-x\tu1\t[]",
	'a string as state' => "corpus\tcopy-x\tu1\t\"s\"",
	'NUL in a state string' => "corpus\tcopy-x\tu1\t{\"a\": \"\\\\u0000\"}",
	'NUL in a state key' => "corpus\tcopy-x\tu1\t{\"\\\\u0000\": 1}",
	'an empty session_id' => "corpus\t\tu1\t{}",
	'a NULL session_id' => "corpus\t\\N\tu1\t{}",
	'a NULL app_name' => "\\N\tcopy-x\tu1\t{}",
	'a NULL user_id' => "corpus\tcopy-x\t\\N\t{}",
	'a 256-char session_id' => "corpus\t" . ('x' x 256) . "\tu1\t{}",
	'a session_id of 256 two-byte chars' => "corpus\t" . ('é' x 256) . "\tu1\t{}",
	'a 1025-char user_id' => "corpus\tcopy-x\t" . ('x' x 1025) . "\t{}",
	'a 10,000-level state' => "corpus\tcopy-x\tu1\t" . ('{"a":' x 10000) . '1' . ('}' x 10000),
	'an end-of-data marker inside a field' => "corpus\tcopy-\\.\tu1\t{}",
	'invalid UTF-8' => "corpus\tcopy-\xff\xfe\tu1\t{}",
	'a lone backslash at the end' => "corpus\tcopy-x\tu1\t{}\\",
);
foreach my $label (sort keys %bad_rows)
{
	my $bad = $bad_rows{$label};
	add_copy('COPY agentstore.session_import', "valid rows, then $label, then valid rows", $imp,
		[ @good, $bad, map { "corpus\tcopy-after-$_\tu1\t{}" } 1 .. 2 ]);
	add_copy('COPY agentstore.session_import', "$label after 2,500 valid rows, batch_size 1", $imp,
		[ (map { "corpus\tcopy-many-$_\tu1\t{}" } 1 .. 2500), $bad ], batch_size => 1)
	  if $label =~ /too many|truncated JSON|empty session_id|NUL in a state string/;
}
add_copy('COPY agentstore.session_import', 'malformed row after 5,000 valid rows (several batches written)', $imp,
	[ (map { "corpus\tcopy-big-$_\tu1\t{\"n\": $_}" } 1 .. 5000), "corpus\tcopy-x\tu1\t{" ], batch_size => 100);
add_copy('COPY agentstore.session_import', 'the same key twice, then an invalid row', $imp,
	[ "corpus\tcopy-d\tu1\t{}", "corpus\tcopy-d\tu1\t{\"b\": 2}", "corpus\tcopy-x\tu1\t[]" ]);
add_copy('COPY agentstore.session_import', 'bad timestamps and booleans mid-stream (CSV)',
	'agentstore.session_import (app_name, session_id, user_id, created_at, updated_at, preserve_updated_at)',
	[ 'corpus,copy-t1,u1,2020-01-01,2020-01-01,true', 'corpus,copy-t2,u1,infinity,-infinity,true',
		'corpus,copy-t3,u1,garbage,2020-01-01,false' ],
	options => 'FORMAT csv');
foreach my $ts ('infinity', '-infinity', '4714-11-24 00:00:00+00 BC', '294276-12-31 23:59:59+00')
{
	add_copy('COPY agentstore.session_import', "created_at and updated_at $ts, preserved, then an invalid row",
		'agentstore.session_import (app_name, session_id, user_id, created_at, updated_at, preserve_updated_at)',
		[ "corpus\tcopy-ts\tu1\t$ts\t$ts\ttrue", "corpus\tcopy-x\tu1\tnot a time\t\\N\tfalse" ]);
}
add_copy('COPY agentstore.session_import', 'every column, preserve_updated_at not a boolean mid-stream',
	'agentstore.session_import (' . join(', ', @import_cols) . ')',
	[ join("\t", 'corpus', 'copy-all', 'u1', 'a', 't', 'w', 'n', '{}', '{}', '{}', '[]', '{}', '2020-01-01', '2020-01-02', 'true'),
		join("\t", 'corpus', 'copy-all2', 'u1', 'a', 't', 'w', 'n', '{}', '{}', '{}', '[]', '{}', '2020-01-01', '2020-01-02', 'maybe') ]);
add_copy('COPY agentstore.session_import', 'unterminated CSV quote at the end', $imp,
	[ 'corpus,copy-q1,u1,{}', 'corpus,"copy-q2,u1,{}' ], options => 'FORMAT csv');
add_copy('COPY agentstore.session_import', 'a 10 MB state, then a malformed row', $imp,
	[ "corpus\tcopy-10m\tu1\t{\"a\": \"" . ('x' x 10485760) . "\"}", "corpus\tcopy-x\tu1\t{" ]);
add_copy('COPY agentstore.session_import', 'a 10 MB session_id', $imp, [ "corpus\t" . ('x' x 10485760) . "\tu1\t{}" ]);

my $evc = 'agentstore.events (stream, version, event_id, type, data)';
my %bad_event_rows = (
	'version 0' => "copy-ev\t0\t\\N\tt\t{}",
	'a negative version' => "copy-ev\t-1\t\\N\tt\t{}",
	'version 2^63-1, then a row without version' => "copy-ev\t9223372036854775807\t\\N\tt\t{}\ncopy-ev\t\\N\t\\N\tt\t{}",
	'a version already taken' => "corpus-1\t1\t\\N\tt\t{}",
	'an event_id already in the stream' => "corpus-1\t\\N\te1\tt\t{}",
	'an empty stream' => "\t\\N\t\\N\tt\t{}",
	'a 1025-char stream' => ('x' x 1025) . "\t\\N\t\\N\tt\t{}",
	'a NULL stream' => "\\N\t\\N\t\\N\tt\t{}",
	'a NULL type' => "copy-ev\t\\N\t\\N\t\\N\t{}",
	'a 256-char event_id' => "copy-ev\t\\N\t" . ('x' x 256) . "\tt\t{}",
	'an empty event_id' => "copy-ev\t\\N\t\tt\t{}",
	'malformed data' => "copy-ev\t\\N\t\\N\tt\t{\"a\"",
	'NUL in data' => "copy-ev\t\\N\t\\N\tt\t{\"a\": \"\\\\u0000\"}",
	'a version that is not a number' => "copy-ev\tone\t\\N\tt\t{}",
	'the same event_id twice' => "copy-ev\t\\N\tdup\tt\t{}\ncopy-ev\t\\N\tdup\tt\t{}",
);
foreach my $label (sort keys %bad_event_rows)
{
	add_copy('COPY agentstore.events', "valid rows, then $label", $evc,
		[ "copy-ev\t\\N\t\\N\tt\t{}", "corpus-1\t\\N\t\\N\tt\t{}", split(/\n/, $bad_event_rows{$label}),
			"copy-ev\t\\N\t\\N\tt\t{}" ]);
}
add_copy('COPY agentstore.events', 'a forged transaction_id and position',
	'agentstore.events (stream, transaction_id, position)',
	[ "copy-ev\t18446744073709551615\t-1", "copy-ev\t0\t9223372036854775807", "copy-ev\tx\t1" ]);
add_copy('COPY agentstore.events', '3,000 rows of one stream, then a version collision',
	'agentstore.events (stream, version)',
	[ (map { "copy-many\t\\N" } 1 .. 3000), "copy-many\t5" ]);

my %bad_inserts = (
	'an explicit version 2^63-1, then an append to the same stream' =>
	  q{INSERT INTO agentstore.events (stream, version) VALUES ('ins-max', 9223372036854775807), ('ins-max', NULL)},
	'a row without stream' => q{INSERT INTO agentstore.events (type) VALUES ('t')},
	'a stream of 1025 four-byte chars' => q{INSERT INTO agentstore.events (stream) VALUES (repeat('😀', 1025))},
	'rows of two streams, then a duplicate event_id' =>
	  q{INSERT INTO agentstore.events (stream, event_id) VALUES ('ins-a', 'x'), ('ins-b', 'x'), ('ins-a', 'x')},
	'10,000 rows by INSERT ... SELECT, the last one invalid' =>
	  q{INSERT INTO agentstore.events (stream, data) SELECT 'ins-many', CASE WHEN g = 10000 THEN '"s"' ELSE '{}' END::jsonb FROM generate_series(1, 10000) g},
	'a forged transaction_id' => q{INSERT INTO agentstore.events (stream, transaction_id) VALUES ('ins-x', '18446744073709551615')},
	'ON CONFLICT DO NOTHING on a version' =>
	  q{INSERT INTO agentstore.events (stream, version) VALUES ('corpus-1', 1) ON CONFLICT DO NOTHING},
	'ON CONFLICT DO UPDATE on a version' =>
	  q{INSERT INTO agentstore.events (stream, version) VALUES ('corpus-1', 1) ON CONFLICT (stream, version) DO UPDATE SET type = 'changed'},
);
foreach my $label (sort keys %bad_inserts)
{
	add_top('INSERT INTO agentstore.events', $label, $bad_inserts{$label});
}

my %bad_import_inserts = (
	'3,000 rows, the last one invalid' =>
	  q{INSERT INTO agentstore.session_import (app_name, session_id, user_id) SELECT 'corpus', 'ins-' || g, CASE WHEN g < 3000 THEN 'u1' END FROM generate_series(1, 3000) g},
	'a 10,000-level state' =>
	  q{INSERT INTO agentstore.session_import (app_name, session_id, user_id, state) SELECT 'corpus', 'ins-deep', 'u1', j FROM corpus.v WHERE k = 'deep_object'},
	'a 10 MB state, then a row without user_id' =>
	  q{INSERT INTO agentstore.session_import (app_name, session_id, user_id, state) SELECT 'corpus', 'ins-10m', u, jsonb_build_object('a', t) FROM corpus.v, (VALUES ('u1'), (NULL)) u(u) WHERE k = 'text10m'},
	'RETURNING' => q{INSERT INTO agentstore.session_import (session_id, user_id) VALUES ('ins-r', 'u1') RETURNING *},
	'ON CONFLICT' => q{INSERT INTO agentstore.session_import (session_id, user_id) VALUES ('ins-c', 'u1') ON CONFLICT DO NOTHING},
	'a nested import that fails and is caught' =>
	  q{INSERT INTO agentstore.session_import (app_name, session_id, user_id) SELECT 'corpus', corpus.nested_import_fails('n' || g), 'u1' FROM generate_series(1, 3) g},
	'an UPDATE of the view' => q{UPDATE agentstore.session_import SET name = 'x'},
	'a DELETE from the view' => q{DELETE FROM agentstore.session_import},
);
foreach my $label (sort keys %bad_import_inserts)
{
	add_top('INSERT INTO agentstore.session_import', $label, $bad_import_inserts{$label},
		$label =~ /nested/
		? (check => q{SELECT count(*) = 0 FROM agentstore.sessions WHERE session_id LIKE 'nested-%'})
		: ());
}
add_top('INSERT INTO agentstore.session_import', 'as a role that may not write sessions',
	q{BEGIN; REVOKE INSERT, UPDATE ON agentstore.sessions FROM corpus_app; SET LOCAL ROLE corpus_app;
	  INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('corpus', 'ins-role', 'u1');
	  ROLLBACK}, must_fail => 1);
add_top('COPY agentstore.session_import', 'as a role that may not write sessions',
	qq{BEGIN; REVOKE INSERT, UPDATE ON agentstore.sessions FROM corpus_app; SET LOCAL ROLE corpus_app;
	  COPY agentstore.session_import (app_name, session_id, user_id) FROM stdin;\ncorpus\tcopy-role\tu1\n\\.\n
	  SELECT 'psql records no error of a COPY: this fails (25P02) after a failed one';
	  ROLLBACK},
	must_fail => 1);
add_top('INSERT INTO agentstore.session_import', 'an import in a transaction that then fails',
	q{BEGIN; INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('corpus', 'ins-tx', 'u1');
	  SELECT 1/0; COMMIT});
add_top('INSERT INTO agentstore.session_import', 'an import in a savepoint that is rolled back',
	q{BEGIN; SAVEPOINT a; INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('corpus', 'ins-sp', 'u1');
	  ROLLBACK TO a; COMMIT},
	check => q{SELECT count(*) = 0 FROM agentstore.sessions WHERE session_id = 'ins-sp'});
# The settings' descriptions are read from the backend's memory (and were
# once left in memory that is freed after the fork).
add_top('pg_settings of agentstore.*', 'SHOW ALL and pg_settings', q{SHOW ALL; SELECT * FROM pg_settings WHERE name LIKE 'agentstore.%'},
	check => q{SELECT bool_and(short_desc LIKE 'Default time to live of %') AND count(*) = 5
	             FROM pg_settings WHERE name ~ '^agentstore\.[a-z_]+_ttl$'});
add_top('agentstore.session_import_result()', 'after a failed import',
	q{SELECT * FROM agentstore.session_import_result()});

#############################################################################
# The valid calls and every NULL argument again, each as a statement of its
# own at top level: what succeeds commits, what fails aborts its
# transaction, as a client's calls do.
#############################################################################

foreach my $c (grep { $_->{call} && $_->{desc} =~ /valid call|alternative call|NULL$/ } @cases)
{
	my $sql = "SELECT count(*), md5(string_agg(t::text, ',')) FROM $c->{call} t \\g /dev/null\n";
	$sql = "SET ROLE corpus_app;\n$sql" if $c->{app};
	$sql = join('', map { "SET $_;\n" } @{ $c->{gucs} // [] }) . $sql;
	push @cases, { func => $c->{func}, desc => "$c->{desc}, at top level", top => $sql,
		after => ($c->{app} ? "RESET ROLE;\n" : '') . join('', map { 'RESET ' . (split / = /)[0] . ";\n" } @{ $c->{gucs} // [] }) };
}

#############################################################################
# Self-tests of the harness, run last: each must be caught, or the corpus
# could not fail.  (Their rows stay behind; nothing runs after them.)
#############################################################################

my %selftest;    # id => what must be reported
my $first_selftest = scalar @cases;
push @cases, { func => 'self-test', desc => 'an internal error', stmts => [q{DO $$BEGIN RAISE SQLSTATE 'XX000'; END$$}] };
$selftest{$#cases} = qr/SQLSTATE XX000/;
add_top('self-test', 'a failure after a committed change',
	q{INSERT INTO agentstore.app_states (app_name, key, value) VALUES ('self-test', 'k', '1'); SELECT 1/0});
$selftest{$#cases} = qr/failed but changed app_states/;
push @cases, { func => 'self-test', desc => 'a change after the case ended', top => "SELECT 1;\n", after => '',
	post => q{INSERT INTO agentstore.app_states (app_name, key, value) VALUES ('self-test', 'k2', '1');} };
$selftest{$#cases} = qr/changed app_states after it ended/;
push @cases, { func => 'self-test', desc => 'a change before a call', top => "SELECT 1;\n", after => '',
	post => q{INSERT INTO agentstore.app_states (app_name, key, value) VALUES ('self-test', 'k3', '1');} };
push @cases, { func => 'self-test', desc => 'a call after a change', stmts => ['SELECT 1'] };
$selftest{$#cases} = qr/changed app_states \(in a rolled-back call/;
add_top('self-test', 'a leak warning', q{DO $$BEGIN RAISE WARNING 'buffer refcount leak: self-test (agentstore-expected-crash)'; END$$});
$selftest{$#cases} = qr/warning: .*leak/;
add_top('self-test', 'a crash', q{COPY (SELECT 1) TO PROGRAM 'kill -SEGV $PPID' /* agentstore-expected-crash */});
$selftest{$#cases} = qr/^crash/;
add_top('self-test', 'the end', q{SELECT 1});

#############################################################################
# Run the cases in batches through psql.
#############################################################################

my $n = scalar @cases;
cmp_ok($n, '>=', 500, "the corpus has at least 500 cases ($n)");

# Make sure no case text contains the dollar-quote tag.
foreach my $c (@cases)
{
	die "case text contains \$corpus\$" if grep { /\$corpus\$/ } @{ $c->{stmts} // [] };
}

sub case_sql
{
	my ($id) = @_;
	my $c = $cases[$id];
	if ($c->{stmts})
	{
		return "CALL corpus.run($id, ARRAY[" . join(', ', map { "\$corpus\$$_\$corpus\$" } @{ $c->{stmts} }) . "]);\n";
	}
	# A statement at top level, its error (if any) taken from psql.
	my $sql = "\\set LAST_ERROR_SQLSTATE 00000\n\\set LAST_ERROR_MESSAGE ''\n"
	  . "CALL corpus.begin_case($id);\n"
	  . $c->{top}
	  . "\\set corpus_state :LAST_ERROR_SQLSTATE\n\\set corpus_message :LAST_ERROR_MESSAGE\n"
	  . ($c->{after} // '')
	  . "CALL corpus.end_case($id, :'corpus_state', :'corpus_message');\n";
	$sql .= "SELECT CASE WHEN ($c->{check}) THEN 'CORPUS-CHECK|$id|ok' ELSE 'CORPUS-CHECK|$id|failed' END;\n"
	  if $c->{check};
	$sql .= "$c->{post}\n" if $c->{post};
	return $sql;
}

# Wait until the server accepts connections again after a crash (psql
# fails at once while it recovers, so poll_query_until cannot be used).
sub wait_for_server
{
	foreach (1 .. 1800)
	{
		my $ok = IPC::Run::run([ 'pg_isready', '-q', '-d', $node->connstr('postgres') ], '>', '/dev/null', '2>', '/dev/null');
		if ($ok)
		{
			my $r = eval { $node->safe_psql('postgres', 'SELECT 1') };
			return 1 if defined $r && $r eq '1';
		}
		Time::HiRes::usleep(100_000);
	}
	return 0;
}

my %result;      # id => { outcome, state, changed, message }
my %warnings;    # id => [ lines ]
my %drift;       # id => tables changed between the previous case and this one
my %checks;      # id => ok/failed
my $psql = $node->installed_command('psql');
my $batch_size = 400;
my $crashes = 0;
my $next = 0;
my $batchno = 0;
my $log_before_selftests;
my $postmaster_started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

while ($next < $n)
{
	my $last = $next + $batch_size - 1;
	$last = $n - 1 if $last >= $n;
	# the self-tests in a batch of their own, after the log is judged
	$last = $first_selftest - 1 if $next < $first_selftest && $last >= $first_selftest;
	$log_before_selftests = -s $node->logfile if $next == $first_selftest;
	$batchno++;
	my $file = $node->basedir . "/corpus_$batchno.sql";
	my $out = $node->basedir . "/corpus_$batchno.out";
	open(my $fh, '>:raw', $file) or die "$file: $!";
	print $fh "\\set ON_ERROR_STOP 0\nSET client_min_messages = notice;\n";
	print $fh "SELECT set_config('corpus.last', corpus.checksum(), false) \\g /dev/null\n";
	print $fh case_sql($_) for $next .. $last;
	print $fh "SELECT 'CORPUS-DONE';\n";
	close $fh;
	my $log_offset = -s $node->logfile;
	IPC::Run::run([ $psql, '-X', '-q', '-At', '-d', $node->connstr('postgres'), '-f', $file ],
		'<', \'', '>', $out, '2>&1');

	open(my $in, '<:raw', $out) or die "$out: $!";
	my ($current, $done);
	my %begun;
	while (my $line = <$in>)
	{
		chomp $line;
		if ($line =~ /CORPUS-BEGIN\|(\d+)/)
		{
			$current = $1;
			$begun{$1} = 1;
		}
		elsif ($line =~ /CORPUS-END\|(\d+)\|(\w+)\|(\w+)\|([^|]*)\|(\d+)\|(.*)$/)
		{
			$result{$1} = { outcome => $2, state => $3, changed => $4, ms => $5, message => $6 };
		}
		elsif ($line =~ /CORPUS-DRIFT\|(\d+)\|(.*)$/)
		{
			$drift{$1} = $2;
		}
		elsif ($line =~ /^CORPUS-CHECK\|(\d+)\|(\w+)/)
		{
			$checks{$1} = $2;
		}
		elsif ($line =~ /^CORPUS-DONE/)
		{
			$done = 1;
		}
		elsif ($line =~ /WARNING:\s+(.*)/ && defined $current)
		{
			push @{ $warnings{$current} }, $1;
		}
	}
	close $in;

	# the log of this batch: crashes and assertion failures
	# a batch cut short: the postmaster logs the crash while the client
	# already sees the connection gone, so wait for it to recover first
	wait_for_server() or BAIL_OUT('the server did not come back after a crash') unless $done;
	my $log = slurp_file($node->logfile, $log_offset);
	my $crashed = $log =~ /terminated by signal|was terminated by exception|TRAP:|all server processes terminated/;

	if ($done && !$crashed)
	{
		foreach my $id ($next .. $last)
		{
			$result{$id} //= { outcome => 'lost', state => '', changed => '', message => 'no result' };
		}
		$next = $last + 1;
		next;
	}

	# The batch ended early: the first case without a result is the one
	# that took the server down.  Wait for the server, then resume after it.
	my $culprit = $next;
	$culprit++ while $culprit <= $last && exists $result{$culprit};
	$culprit = $last if $culprit > $last;
	my ($signal) = $log =~ /(server process \(PID \d+\) (?:was terminated by signal \d+[^\n]*|exited with exit code \d+))/;
	my ($trap) = $log =~ /(TRAP: [^\n]*)/;
	$result{$culprit} = {
		outcome => $crashed ? 'crash' : 'lost',
		state => '',
		changed => '',
		message => join('; ', grep { defined } $trap, $signal)
		  || 'psql stopped here: ' . join(' ', grep { !/CORPUS-/ && /FATAL|connection|server/ } split /\n/, slurp_file($out))
	};
	$crashes++;
	diag("case $culprit ended its batch: $result{$culprit}{outcome}: $result{$culprit}{message}");
	$next = $culprit + 1;
	if ($crashes > 25)
	{
		foreach my $id ($next .. $n - 1)
		{
			$result{$id} = { outcome => 'not run', state => '', changed => '', message => 'too many crashes before' };
		}
		last;
	}
}

#############################################################################
# Judge and report.
#############################################################################

my %by_outcome;
my %by_state;
my %per_func;
my @bad;
foreach my $id (0 .. $n - 1)
{
	my $c = $cases[$id];
	my $r = $result{$id};
	$by_outcome{ $r->{outcome} }++ unless exists $selftest{$id};
	$by_state{ $r->{state} }++ if $r->{outcome} eq 'error' && !exists $selftest{$id};
	$per_func{ $c->{func} }{cases}++;
	my @why;
	push @why, 'crash' if $r->{outcome} eq 'crash';
	push @why, 'no result' if $r->{outcome} =~ /lost|not run/;
	push @why, "SQLSTATE $r->{state}" if $r->{state} =~ /^(XX|57014|53200)/;
	# freed memory read back: the assert build wipes it with 0x7F bytes
	push @why, 'garbage from freed memory'
	  if $r->{message} =~ /2139062143|7f7f7f7f|9187201950435737471|invalid memory alloc request size/i;
	push @why, "failed but changed $r->{changed}" if $r->{outcome} eq 'error' && $r->{changed} ne '' && !$c->{stmts};
	push @why, "changed $r->{changed} (in a rolled-back call, or since the case before)"
	  if $c->{stmts} && $r->{changed} ne '';
	push @why, 'succeeded where it must refuse' if $c->{must_fail} && $r->{outcome} eq 'ok';
	push @why, "changed $drift{$id + 1} after it ended" if defined $drift{ $id + 1 };
	push @why, "check failed" if ($checks{$id} // 'ok') ne 'ok';
	my @leaks = grep { /leak|not closed|still referenced|alloc set|write past chunk/i } @{ $warnings{$id} // [] };
	push @why, "warning: $leaks[0]" if @leaks;
	if (exists $selftest{$id})
	{
		like(join(', ', $r->{outcome}, @why), $selftest{$id}, "self-test: $c->{desc} is reported");
		next;
	}
	if (@why)
	{
		push @bad, sprintf("case %d: %s: %s: %s (%s %s: %s)",
			$id, $c->{func}, $c->{desc}, join(', ', @why), $r->{outcome}, $r->{state}, $r->{message});
		push @{ $per_func{ $c->{func} }{bad} }, $bad[-1];
	}
}

# Every case with its outcome, for whoever reads the failures.
open(my $rf, '>', $node->basedir . '/corpus_results.tsv') or die;
foreach my $id (0 .. $n - 1)
{
	my $r = $result{$id};
	print $rf join("\t", $id, $cases[$id]{func}, $cases[$id]{desc}, $r->{outcome}, $r->{state},
		$r->{ms} // '', $r->{changed}, $r->{message}), "\n";
}
close $rf;

diag(sprintf("corpus: %d cases in %.0f s, %d batch(es) cut short", $n, time() - $started, $crashes));
my %ms;
$ms{ $cases[$_]{func} } += $result{$_}{ms} // 0 foreach 0 .. $n - 1;
diag('time by function (s): ' . join(', ', map { sprintf('%s %.1f', $_ =~ s/\(.*//r, $ms{$_} / 1000) }
	  grep { $ms{$_} >= 500 } sort { $ms{$b} <=> $ms{$a} } keys %ms));
my @slow = sort { ($result{$b}{ms} // 0) <=> ($result{$a}{ms} // 0) } 0 .. $n - 1;
diag(sprintf('slowest: case %d (%s: %s) %d ms', $_, $cases[$_]{func}, $cases[$_]{desc}, $result{$_}{ms} // 0))
  foreach @slow[ 0 .. 4 ];
diag('by outcome: ' . join(', ', map { "$_ $by_outcome{$_}" } sort keys %by_outcome));
diag('errors by SQLSTATE: ' . join(', ', map { "$_ $by_state{$_}" } sort keys %by_state));
diag($_) foreach @bad;

foreach my $func (grep { $_ ne 'self-test' } sort keys %per_func)
{
	my $p = $per_func{$func};
	ok(!$p->{bad}, "$func: $p->{cases} cases: no crash, no internal error, nothing changed by a failure, every refusal and check as required");
}
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'),
	$postmaster_started, 'the postmaster was never restarted');

# The whole log of the run up to the self-tests: nothing an assert-enabled
# server complains about.
my $log = substr(slurp_file($node->logfile), 0, $log_before_selftests // 0);
my @log_bad = grep { /TRAP:|terminated by signal|problem in alloc set|detected write past chunk end|WARNING:.*leak/ }
  split /\n/, $log;
is(scalar(@log_bad), 0, 'the server log has no crash, assertion failure or leak warning')
  or diag(join("\n", @log_bad[ 0 .. ($#log_bad < 20 ? $#log_bad : 19) ]));

# CPU time of the server processes (the backends have exited and were
# reaped by the postmaster): the run's cost, whatever the machine's load.
if (open(my $st, '<', '/proc/' . $node->{_pid} . '/stat'))
{
	my @f = split / /, (split /\) /, <$st>)[1];
	close $st;
	my $tck = 100;    # USER_HZ on Linux
	diag(sprintf('server CPU time: %.1f s', ($f[11] + $f[12] + $f[13] + $f[14]) / $tck));
}

$node->stop('immediate');
done_testing();

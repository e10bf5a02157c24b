-- A hostile search_path: an unprivileged role owns the schema evil, which
-- the victim puts first, before pg_catalog:
--     SET search_path = evil, pg_catalog, public
-- evil shadows the operators agentstore's SQL uses (=, <>, <, >, <=, >=, ||,
-- @>, ->, ->>, +, - ... for text, jsonb, bigint, integer, timestamptz,
-- interval, boolean, xid8 and the polymorphic types), common functions and
-- aggregates (now, lower, length, hashtext, format, jsonb_build_object,
-- count, max, jsonb_agg, ...) and the type names that are not SQL keywords
-- (text, jsonb, int8, timestamptz, ...: domains whose CHECK calls a trap).
-- Every trap counts itself in the sequence evil.hits (which a rollback does
-- not undo) and raises "hijacked: <what>".  Every function of the schema and
-- the trigger paths (INSERT and COPY into agentstore.events and into
-- agentstore.session_import) are called by a superuser and by a role with
-- the documented writer grants: no trap may run, and the results must be
-- right.  Statements of this file qualify what they use themselves
-- (OPERATOR(pg_catalog.->), ::pg_catalog.jsonb) so that only agentstore's
-- own code can hit a trap.
SET client_min_messages = warning;
\set VERBOSITY terse

-- The sequences' positions, restored at the end so that the tests that
-- follow see the values they would see without this one.
CREATE TEMP TABLE sequences_before AS
SELECT format('%I.%I', schemaname, sequencename) AS seq, last_value
  FROM pg_sequences WHERE schemaname = 'agentstore';

CREATE ROLE regress_attacker;
CREATE ROLE regress_sp_writer;
GRANT USAGE ON SCHEMA agentstore TO regress_sp_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    agentstore.sessions, agentstore.app_states, agentstore.user_states,
    agentstore.session_summaries, agentstore.events,
    agentstore.checkpoint_threads, agentstore.checkpoints,
    agentstore.checkpoint_blobs, agentstore.checkpoint_writes
    TO regress_sp_writer;
GRANT INSERT ON agentstore.session_import TO regress_sp_writer;
GRANT USAGE ON SEQUENCE
    agentstore.sessions_id_seq, agentstore.app_states_id_seq,
    agentstore.user_states_id_seq, agentstore.events_position_seq
    TO regress_sp_writer;
GRANT EXECUTE ON FUNCTION agentstore._checkpoint_lock_thread(text, boolean) TO regress_sp_writer;

CREATE SCHEMA evil AUTHORIZATION regress_attacker;
SET ROLE regress_attacker;
SET search_path = pg_catalog;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
CREATE SEQUENCE evil.hits;
GRANT USAGE ON SEQUENCE evil.hits TO PUBLIC;

DO $setup$
DECLARE
    o record;
    n integer := 0;
    body text;
    types regtype[] := ARRAY['text', 'jsonb', 'json', 'int8', 'int4', 'int2', 'numeric',
        'float8', 'timestamptz', 'interval', 'bool', 'xid8', 'bytea', 'name', 'oid',
        '"char"', 'text[]', 'anyarray', 'anyelement', 'anynonarray', 'anycompatible',
        'anycompatiblearray', 'anycompatiblenonarray']::regtype[];
    unsupported regtype[] := ARRAY['"any"', 'internal', 'cstring', 'trigger', 'event_trigger',
        'language_handler', 'fdw_handler', 'index_am_handler', 'tsm_handler',
        'table_am_handler', 'anyrange', 'anymultirange', 'anycompatiblerange',
        'anycompatiblemultirange', 'record']::regtype[];
BEGIN
    -- Operators: every pg_catalog operator of these names on these types.
    FOR o IN
        SELECT p.oprname, p.oprleft, p.oprright, p.oprresult
          FROM pg_operator p
         WHERE p.oprnamespace = 'pg_catalog'::regnamespace
           AND p.oprname IN ('=', '<>', '<', '>', '<=', '>=', '||', '@>', '<@', '->', '->>',
                             '#>', '#>>', '?', '?|', '?&', '+', '-', '*', '/', '%',
                             '~~', '!~~', '~~*', '~', '!~', '#-')
           AND (p.oprleft = 0 OR p.oprleft = ANY (types))
           AND p.oprright = ANY (types)
           AND p.oprresult <> ALL (unsupported)
         ORDER BY 1, 2, 3
    LOOP
        n := n + 1;
        body := format('BEGIN PERFORM pg_catalog.nextval(%L); RAISE EXCEPTION %L; END',
                       'evil.hits', replace(format('hijacked: operator %s(%s, %s)', o.oprname,
                       CASE WHEN o.oprleft = 0 THEN 'none' ELSE o.oprleft::regtype::text END,
                       o.oprright::regtype), '%', '%%'));
        IF o.oprleft = 0 THEN
            EXECUTE format('CREATE FUNCTION evil.op_%s(%s) RETURNS %s LANGUAGE plpgsql AS %L',
                           n, o.oprright::regtype, o.oprresult::regtype, body);
            EXECUTE format('CREATE OPERATOR evil.%s (RIGHTARG = %s, FUNCTION = evil.op_%s)',
                           o.oprname, o.oprright::regtype, n);
        ELSE
            EXECUTE format('CREATE FUNCTION evil.op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql AS %L',
                           n, o.oprleft::regtype, o.oprright::regtype, o.oprresult::regtype, body);
            EXECUTE format('CREATE OPERATOR evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = evil.op_%s)',
                           o.oprname, o.oprleft::regtype, o.oprright::regtype, n);
        END IF;
    END LOOP;

    -- Functions: every pg_catalog function of these names whose signature
    -- PL/pgSQL can take, with the same arguments (and defaults) and result.
    FOR o IN
        SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
               pg_get_function_result(p.oid) AS result,
               pg_get_function_identity_arguments(p.oid) AS ident
          FROM pg_proc p
         WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'f'
           AND p.proname IN ('now', 'clock_timestamp', 'statement_timestamp',
               'transaction_timestamp', 'jsonb_build_object', 'jsonb_build_array',
               'json_build_object', 'to_jsonb', 'to_json', 'jsonb_typeof', 'jsonb_set',
               'jsonb_insert', 'jsonb_strip_nulls', 'jsonb_each', 'jsonb_each_text',
               'jsonb_array_elements', 'jsonb_array_elements_text', 'jsonb_array_length',
               'jsonb_object_keys', 'jsonb_extract_path', 'jsonb_extract_path_text',
               'jsonb_object', 'jsonb_pretty', 'json_typeof', 'json_array_length',
               'lower', 'upper', 'length', 'char_length', 'octet_length', 'hashtext',
               'hashtextextended', 'md5', 'format', 'concat', 'substr', 'substring', 'left',
               'right', 'strpos', 'position', 'split_part', 'replace', 'btrim', 'ltrim',
               'rtrim', 'encode', 'decode', 'convert_from', 'convert_to', 'nextval', 'currval',
               'setval', 'current_setting', 'set_config', 'pg_current_xact_id',
               'pg_current_snapshot', 'pg_snapshot_xmin', 'pg_advisory_xact_lock',
               'pg_try_advisory_xact_lock', 'gen_random_uuid', 'abs', 'random', 'to_timestamp',
               'date_part', 'date_trunc', 'make_interval', 'array_length', 'array_append',
               'array_to_string', 'string_to_array', 'cardinality', 'unnest',
               'generate_series', 'has_table_privilege', 'has_column_privilege',
               'pg_backend_pid', 'txid_current', 'quote_ident', 'quote_literal',
               'int8', 'int4', 'text', 'jsonb', 'isfinite', 'timezone')
           AND p.prorettype <> ALL (unsupported)
           AND NOT (p.proargtypes::oid[] && unsupported::oid[])
         ORDER BY 1, 4
    LOOP
        body := format('BEGIN PERFORM pg_catalog.nextval(%L); RAISE EXCEPTION %L; END',
                       'evil.hits', format('hijacked: %s(%s)', o.proname, o.ident));
        EXECUTE format('CREATE FUNCTION evil.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
                       o.proname, o.args, o.result, body);
    END LOOP;
    -- Concrete forms of functions that pg_catalog declares VARIADIC "any".
    FOR o IN
        SELECT * FROM (VALUES
            ('jsonb_build_object', 'text, text', 'jsonb'),
            ('jsonb_build_object', 'text, jsonb', 'jsonb'),
            ('jsonb_build_object', 'text, bigint', 'jsonb'),
            ('jsonb_build_object', 'text, anyelement', 'jsonb'),
            ('jsonb_build_object', 'text, anyelement, text, anyelement', 'jsonb'),
            ('jsonb_build_array', 'anyelement', 'jsonb'),
            ('format', 'text, text', 'text'),
            ('format', 'text, text, text', 'text'),
            ('format', 'text, anyelement', 'text'),
            ('concat', 'text, text', 'text'),
            ('concat', 'anyelement, anyelement', 'text')) AS v(proname, args, result)
    LOOP
        body := format('BEGIN PERFORM pg_catalog.nextval(%L); RAISE EXCEPTION %L; END',
                       'evil.hits', format('hijacked: %s(%s)', o.proname, o.args));
        EXECUTE format('CREATE FUNCTION evil.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
                       o.proname, o.args, o.result, body);
    END LOOP;

    -- Aggregates: a transition and a final function that both trap.
    n := 0;
    FOR o IN
        SELECT * FROM (VALUES
            ('count', '*', 'int8'), ('count', 'anyelement', 'int8'),
            ('max', 'int8', 'int8'), ('max', 'int4', 'int4'), ('max', 'text', 'text'),
            ('max', 'timestamptz', 'timestamptz'), ('min', 'int8', 'int8'),
            ('min', 'text', 'text'), ('min', 'timestamptz', 'timestamptz'),
            ('sum', 'int8', 'numeric'), ('sum', 'int4', 'int8'),
            ('jsonb_agg', 'anyelement', 'jsonb'), ('json_agg', 'anyelement', 'json'),
            ('jsonb_object_agg', 'text, jsonb', 'jsonb'), ('array_agg', 'anynonarray', 'anyarray'),
            ('string_agg', 'text, text', 'text'), ('bool_or', 'bool', 'bool'),
            ('bool_and', 'bool', 'bool')) AS v(proname, args, result)
    LOOP
        n := n + 1;
        body := format('BEGIN PERFORM pg_catalog.nextval(%L); RAISE EXCEPTION %L; END',
                       'evil.hits', format('hijacked: aggregate %s(%s)', o.proname, o.args));
        EXECUTE format('CREATE FUNCTION evil.agg_sf_%s(%s%s) RETURNS %s LANGUAGE plpgsql AS %L',
                       n, o.result, CASE WHEN o.args = '*' THEN '' ELSE ', ' || o.args END,
                       o.result, body);
        EXECUTE format('CREATE FUNCTION evil.agg_ff_%s(%s) RETURNS %s LANGUAGE plpgsql AS %L',
                       n, o.result, o.result, body);
        EXECUTE format('CREATE AGGREGATE evil.%I(%s) (SFUNC = evil.agg_sf_%s, STYPE = %s, FINALFUNC = evil.agg_ff_%s)',
                       o.proname, o.args, n, o.result, n);
    END LOOP;

    -- Type names that are not SQL keywords: a domain whose CHECK traps.
    CREATE FUNCTION evil.domain_trap(v anyelement) RETURNS boolean LANGUAGE plpgsql
        AS $f$BEGIN PERFORM pg_catalog.nextval('evil.hits'); RAISE EXCEPTION 'hijacked: type %', pg_catalog.pg_typeof(v); END$f$;
    FOR o IN
        SELECT unnest(ARRAY['text', 'jsonb', 'json', 'int8', 'int4', 'int2', 'float8',
                            'timestamptz', 'bool', 'xid8', 'bytea', 'name', 'oid', 'regclass',
                            'regtype', 'uuid', 'xid', 'pg_snapshot', 'date']) AS typname
    LOOP
        EXECUTE format('CREATE DOMAIN evil.%I AS pg_catalog.%I CHECK (evil.domain_trap(VALUE))',
                       o.typname, o.typname);
    END LOOP;
END
$setup$;
RESET search_path;
RESET ROLE;

-- The traps work: an unqualified name in a query of the victim's would run
-- them.
SET search_path = evil, pg_catalog, public;
SELECT 'a'::text = 'a'::text;
SELECT now();
SELECT '{}'::jsonb;
SELECT count(*) FROM pg_class WHERE false;
RESET search_path;
SELECT last_value AS traps_run_so_far FROM evil.hits;
SELECT pg_catalog.setval('evil.hits', 1, false);

SELECT coalesce(max(id), 0) AS last_ttl_run FROM agentstore.ttl_runs \gset

-- Every call, as a superuser.
SET agentstore.session_event_limit = 2;
-- The calls are in security_search_path.inc, read relative to the directory
-- pg_regress runs in (so that error lines name it the same everywhere).
\getenv abs_srcdir PG_ABS_SRCDIR
\set app 'sp'
\set stream 'sp-1'
\set thread 'sp-thread'
\set thread2 'sp-thread-copy'
SET search_path = evil, pg_catalog, public;
\i test/sql/security_search_path.inc
-- Superuser-only functions and the view.
SELECT agentstore._warn_if_not_preloaded();
SELECT table_name, expired, purged FROM agentstore.expire_now() ORDER BY 1;
SELECT (SELECT pg_catalog.count(*) FROM agentstore.ttl_explain()) OPERATOR(pg_catalog.>) 0 AS explained;
SELECT last_state FROM agentstore.ttl_status;
COPY agentstore.session_import (app_name, session_id, user_id, name) FROM STDIN WITH (FORMAT csv);
sp,c1,u,copied
sp,s1,u,copied
\.
SELECT * FROM agentstore.session_import_result();
COPY agentstore.events (stream, type) FROM STDIN WITH (FORMAT csv);
sp-1,copied
sp-1,copied
\.
RESET search_path;
SELECT session_id, name FROM agentstore.sessions WHERE app_name = 'sp' AND deleted_at IS NULL ORDER BY 1;
SELECT version, type FROM agentstore.events WHERE stream = 'sp-1' ORDER BY 1;

-- Every call, as the writer.
SET ROLE regress_sp_writer;
\set app 'spw'
\set stream 'spw-1'
\set thread 'spw-thread'
\set thread2 'spw-thread-copy'
SET search_path = evil, pg_catalog, public;
\i test/sql/security_search_path.inc
COPY agentstore.session_import (app_name, session_id, user_id, name) FROM STDIN WITH (FORMAT csv);
spw,c1,u,copied
spw,s1,u,copied
\.
SELECT * FROM agentstore.session_import_result();
COPY agentstore.events (stream, type) FROM STDIN WITH (FORMAT csv);
spw-1,copied
spw-1,copied
\.
RESET search_path;
RESET ROLE;
SELECT session_id, name FROM agentstore.sessions WHERE app_name = 'spw' AND deleted_at IS NULL ORDER BY 1;
SELECT version, type FROM agentstore.events WHERE stream = 'spw-1' ORDER BY 1;
RESET agentstore.session_event_limit;

-- No trap ran, not even one whose error was caught.
SELECT last_value, is_called FROM evil.hits;

-- Every function of the schema is called above (the trigger functions
-- through INSERT and COPY).
SELECT p.oid::regprocedure AS "function not called"
  FROM pg_proc p
 WHERE p.pronamespace = 'agentstore'::regnamespace
   AND p.prorettype <> 'trigger'::regtype
   AND strpos(pg_read_file(:'abs_srcdir' || '/sql/security_search_path.inc') || pg_read_file(:'abs_srcdir' || '/sql/security_search_path.sql'),
              'agentstore.' || p.proname || '(') = 0
 ORDER BY 1;

-- Leave nothing behind for the tests that follow.
DELETE FROM agentstore.events e USING agentstore.sessions s
 WHERE s.app_name IN ('sp', 'spw', 'other')
   AND (e.stream = 'session-' || s.id OR e.stream LIKE 'track-' || s.id || '-%');
DELETE FROM agentstore.events WHERE stream ~ '^spw?-';
-- the high-water marks of the streams deleted here, as the sequences are restored
DELETE FROM agentstore.stream_heads WHERE stream ~ '^(spw?|session|track)-';
DELETE FROM agentstore.sessions WHERE app_name IN ('sp', 'spw', 'other');
DELETE FROM agentstore.app_states WHERE app_name IN ('sp', 'spw', 'other');
DELETE FROM agentstore.user_states WHERE app_name IN ('sp', 'spw', 'other');
DELETE FROM agentstore.session_summaries WHERE app_name IN ('sp', 'spw', 'other');
SELECT agentstore.delete_thread('sp-thread') + agentstore.delete_thread('spw-thread') AS threads_deleted;
DELETE FROM agentstore.ttl_runs WHERE id > :last_ttl_run;
SELECT count(*) AS sequences_restored
  FROM (SELECT CASE WHEN last_value IS NULL THEN setval(seq, 1, false) ELSE setval(seq, last_value) END
          FROM sequences_before) s;

DROP SCHEMA evil CASCADE;
DROP OWNED BY regress_sp_writer;
DROP ROLE regress_attacker, regress_sp_writer;

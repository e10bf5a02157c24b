-- CREATE EXTENSION / DROP EXTENSION leave nothing behind, and everything the
-- extension stores is registered for pg_dump.
SET client_min_messages = warning;

-- Objects outside the system schemas, by kind.
CREATE TEMP VIEW user_objects AS
SELECT 'class' AS kind, count(*) AS n FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
UNION ALL
SELECT 'proc', count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT 'type', count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
UNION ALL
SELECT 'namespace', count(*) FROM pg_namespace
 WHERE nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'
UNION ALL
SELECT 'trigger', count(*) FROM pg_trigger
UNION ALL
SELECT 'event_trigger', count(*) FROM pg_event_trigger;

DROP EXTENSION agentstore;
DROP SCHEMA agentstore;
CREATE TEMP TABLE before_install AS SELECT * FROM user_objects;

CREATE EXTENSION agentstore;
SELECT extversion, extrelocatable FROM pg_extension WHERE extname = 'agentstore';
SELECT nspname FROM pg_namespace WHERE nspname = 'agentstore';

-- Every table and sequence in the schema is dumped by pg_dump.
SELECT c.relname AS not_registered_for_pg_dump
  FROM pg_class c
 WHERE c.relnamespace = 'agentstore'::regnamespace
   AND c.relkind IN ('r', 'S', 'p')
   AND c.oid NOT IN (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'agentstore')
 ORDER BY 1;

-- Every SQL-language function pins search_path; C functions qualify the SQL
-- they build instead.
SELECT p.proname AS function_without_pinned_search_path
  FROM pg_proc p
 WHERE p.pronamespace = 'agentstore'::regnamespace
   AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c WHERE c LIKE 'search_path=%')
 ORDER BY 1;

-- No SECURITY DEFINER function.
SELECT p.proname AS security_definer_function
  FROM pg_proc p
 WHERE p.pronamespace = 'agentstore'::regnamespace AND p.prosecdef;

-- The control file names the schema: CREATE EXTENSION made it, and it is
-- not a member, so DROP EXTENSION leaves it, empty; DROP SCHEMA removes it.
SELECT extnamespace::regnamespace AS extension_schema FROM pg_extension WHERE extname = 'agentstore';
DROP EXTENSION agentstore;
SELECT b.kind, b.n AS before, a.n AS after
  FROM before_install b JOIN user_objects a USING (kind)
 WHERE a.n <> b.n;
SELECT count(*) AS objects_left_in_schema FROM pg_depend
 WHERE refclassid = 'pg_namespace'::regclass AND refobjid = 'agentstore'::regnamespace;
DROP SCHEMA agentstore;
SELECT b.kind, b.n AS before, a.n AS after
  FROM before_install b JOIN user_objects a USING (kind)
 WHERE a.n <> b.n;

-- No other schema: SCHEMA x is refused, not ignored.
CREATE SCHEMA install_other;
CREATE EXTENSION agentstore SCHEMA install_other;
DROP SCHEMA install_other;

-- An existing schema of that name is not taken over when it holds objects
-- or belongs to a role that is not a superuser; an empty one of a
-- superuser's is used.
CREATE SCHEMA agentstore;
CREATE TABLE agentstore.mine (x int);
CREATE EXTENSION agentstore;
DROP TABLE agentstore.mine;
CREATE ROLE regress_install_owner;
ALTER SCHEMA agentstore OWNER TO regress_install_owner;
CREATE EXTENSION agentstore;
ALTER SCHEMA agentstore OWNER TO CURRENT_USER;
DROP ROLE regress_install_owner;
CREATE EXTENSION agentstore;
SELECT extnamespace::regnamespace AS extension_schema FROM pg_extension WHERE extname = 'agentstore';

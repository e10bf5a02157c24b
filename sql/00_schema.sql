-- agentstore install script, part 00: the schema and what every feature shares.
--
-- The install script is the concatenation of sql/NN_*.sql in name order; each
-- feature owns one file.  The script runs with search_path = <extension
-- schema>, pg_temp, but every name below is schema-qualified anyway so that
-- nothing depends on it.  Every function pins search_path.

\echo Use "CREATE EXTENSION agentstore" to load this file. \quit

-- The control file names the schema (schema = agentstore), so PostgreSQL
-- creates it, owned by the caller, before this script runs, refuses any
-- other schema, and leaves the schema behind on DROP EXTENSION (it is not a
-- member: DROP SCHEMA agentstore removes it).  An existing schema of that
-- name is used only if it is empty and owned by a superuser: its owner could
-- drop or replace every object in it.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_namespace n
                 JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
                WHERE n.nspname OPERATOR(pg_catalog.=) 'agentstore' AND NOT r.rolsuper) THEN
        RAISE EXCEPTION 'schema "agentstore" is owned by a role that is not a superuser'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Drop or rename that schema, or give it to a superuser, then create the extension again.';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_depend d
                WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
                  AND d.refobjid OPERATOR(pg_catalog.=) 'agentstore'::pg_catalog.regnamespace
                  AND d.classid OPERATOR(pg_catalog.<>) 'pg_catalog.pg_extension'::pg_catalog.regclass) THEN
        RAISE EXCEPTION 'schema "agentstore" already exists and is not empty'
            USING ERRCODE = 'duplicate_schema',
                  HINT = 'agentstore needs a schema of its own: drop or rename that schema, then create the extension again.';
    END IF;
END
$$;
COMMENT ON SCHEMA agentstore IS 'agentstore: sessions, event streams, checkpoints and TTL expiry for AI-agent frameworks';
REVOKE ALL ON SCHEMA agentstore FROM PUBLIC;

-- Whether this backend's agentstore library was loaded through
-- shared_preload_libraries (so that the TTL background worker runs).
CREATE FUNCTION agentstore.preloaded()
RETURNS boolean
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'agentstore_preloaded';
COMMENT ON FUNCTION agentstore.preloaded IS 'whether the server loaded agentstore through shared_preload_libraries (so that the TTL worker runs)';

-- Say once, at install time, when the background worker cannot run.
CREATE FUNCTION agentstore._warn_if_not_preloaded()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_warn_if_not_preloaded';

SELECT agentstore._warn_if_not_preloaded();

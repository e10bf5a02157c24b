-- agentstore install script, part 00: the schema and what every feature shares.
--
-- The install script is the concatenation of sql/NN_*.sql in name order; each
-- feature owns one file.  The script runs with search_path = <extension
-- schema>, pg_temp, but every name below is schema-qualified anyway so that
-- nothing depends on it.  Every function pins search_path.

\echo Use "CREATE EXTENSION agentstore" to load this file. \quit

-- The schema is created here, not by the control file, so that it belongs to
-- the extension and DROP EXTENSION removes it.
CREATE SCHEMA agentstore;
COMMENT ON SCHEMA agentstore IS 'agentstore: sessions, event streams, checkpoints and TTL expiry for AI-agent frameworks';
REVOKE ALL ON SCHEMA agentstore FROM PUBLIC;

-- Whether this backend's agentstore library was loaded through
-- shared_preload_libraries (so that the TTL background worker runs).
CREATE FUNCTION agentstore.preloaded()
RETURNS boolean
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'agentstore_preloaded';
COMMENT ON FUNCTION agentstore.preloaded() IS 'whether the server loaded agentstore through shared_preload_libraries (so that the TTL worker runs)';

-- Say once, at install time, when the background worker cannot run.
CREATE FUNCTION agentstore._warn_if_not_preloaded()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_warn_if_not_preloaded';

SELECT agentstore._warn_if_not_preloaded();

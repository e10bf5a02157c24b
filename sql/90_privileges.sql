-- agentstore install script, part 90: privileges on the functions.
--
-- The model (docs/security.md): PUBLIC gets nothing on the schema, so a role
-- needs USAGE on it before it can name anything here; past that, every
-- function runs with the caller's rights and checks the caller's privileges
-- on the tables it reads and writes, so the API functions keep PostgreSQL's
-- default EXECUTE for PUBLIC and the table grants decide what a call may do.
--
-- A function that can do something the caller's table privileges would not
-- allow is not executable by PUBLIC.  This part comes last, so that it
-- covers every feature's functions; a new internal function must be added
-- here or to the list of harmless ones below, or the role matrix
-- (test/sql/security_roles.sql) fails.
--
-- Not executable by PUBLIC:
--  - _checkpoint_lock_thread(): takes a thread's exclusive lock, which makes
--    every writer of the thread wait, without touching a table.  The
--    functions that remove a thread's rows (delete_thread, delete_checkpoint,
--    delete_runs, copy_thread, prune_checkpoints, expire_checkpoint_threads)
--    call it with the caller's rights: grant EXECUTE on it to the roles that
--    may call them.
--  - the trigger functions: fired as triggers they need no EXECUTE privilege
--    (PostgreSQL checks it only in CREATE TRIGGER), and attached by another
--    role to a table of its own (a temporary table needs no privilege at
--    all) version_trigger() would take the stream locks of agentstore.events.
--  - _warn_if_not_preloaded(): for the install script only.
--
-- Executable by PUBLIC although internal, because they are harmless and
-- needed: _checkpoint_keys_ok() and _checkpoint_blob_key() are evaluated
-- with the writer's rights by the checkpoint tables' CHECK constraints and
-- index; _checkpoint_require() and _checkpoint_expires_at() compute a value;
-- _checkpoint_remove_thread() and _checkpoint_remove_unreferenced_blobs()
-- delete with the caller's rights what the caller could delete itself.
--
-- expire_now() and ttl_explain() are revoked in part 40.

REVOKE ALL ON FUNCTION agentstore._warn_if_not_preloaded() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore._checkpoint_lock_thread(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.version_trigger() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.session_import_row() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.session_import_flush() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.session_import_begin() FROM PUBLIC;
REVOKE ALL ON FUNCTION agentstore.stream_heads_trigger() FROM PUBLIC;

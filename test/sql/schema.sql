-- pgTAP contract of the whole data model: which tables and sequences exist,
-- column types and privileges.  Each family's keys and indexes are pinned by
-- test/sql/schema_<family>.sql.  A change to any of them must change these
-- files on purpose.
SET client_min_messages = warning;
BEGIN;
SELECT plan(9);

SELECT has_schema('agentstore');
-- Adding a table means adding it here.
SELECT tables_are('agentstore', ARRAY[
    'sessions', 'app_states', 'user_states', 'session_summaries',
    'events', 'stream_heads',
    'checkpoint_threads', 'checkpoints', 'checkpoint_blobs', 'checkpoint_writes',
    'ttl_runs']);
SELECT sequences_are('agentstore', ARRAY[
    'sessions_id_seq', 'app_states_id_seq', 'user_states_id_seq',
    'events_position_seq', 'ttl_runs_id_seq']);

-- Timestamps are timestamptz; TTL and soft-delete columns where they belong.
SELECT is(
    (SELECT count(*)::int FROM pg_attribute a
      WHERE a.attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'agentstore'::regnamespace AND relkind = 'r')
        AND a.attnum > 0 AND NOT a.attisdropped
        AND a.atttypid = 'timestamp'::regtype),
    0, 'no timestamp without time zone column');
-- Functions shared by every feature (each feature's contract test pins its own).

SELECT function_returns('agentstore', 'preloaded', ARRAY[]::name[], 'boolean');

-- Privileges: PUBLIC gets nothing; the owner grants roles what they need.
SELECT schema_privs_are('agentstore', 'public', ARRAY[]::text[]);
SELECT table_privs_are('agentstore', 'sessions', 'public', ARRAY[]::text[]);
SELECT table_privs_are('agentstore', 'events', 'public', ARRAY[]::text[]);
SELECT is(
    (SELECT count(*)::int FROM pg_class
      WHERE relnamespace = 'agentstore'::regnamespace AND relkind IN ('r', 'S')
        AND relacl IS NOT NULL AND array_to_string(relacl, ',') ~ '(^|,)='),
    0, 'no table or sequence grants anything to PUBLIC');

SELECT * FROM finish();
ROLLBACK;

-- pgTAP contract of the event stream tables: keys, indexes, columns.
SET client_min_messages = warning;
BEGIN;
SELECT plan(7);

SELECT col_is_pk('agentstore', 'events', ARRAY['stream', 'version']::name[], 'primary key of events');
SELECT indexes_are('agentstore', 'events', ARRAY[
    'events_pkey', 'events_stream_event_id', 'events_commit_order',
    'events_expires_at', 'events_deleted_at']::name[]);
SELECT index_is_unique('agentstore', 'events', 'events_stream_event_id');
SELECT col_type_is('agentstore', 'events', 'transaction_id', 'pg_catalog', 'xid8', 'events record their transaction (xid8)');
SELECT col_type_is('agentstore', 'events', 'version', 'pg_catalog', 'bigint', 'versions are bigint');
SELECT col_hasnt_default('agentstore', 'events', 'version', 'versions never come from a default or a sequence');
SELECT has_column('agentstore', 'events', 'deleted_at', 'events are soft-deleted with their session');

SELECT * FROM finish();
ROLLBACK;

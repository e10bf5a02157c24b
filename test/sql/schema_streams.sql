-- pgTAP contract of the event stream tables: keys, indexes, columns.
SET client_min_messages = warning;
BEGIN;
SELECT plan(10);

SELECT col_is_pk('agentstore', 'events', ARRAY['stream', 'version']::name[], 'primary key of events');
SELECT indexes_are('agentstore', 'events', ARRAY[
    'events_pkey', 'events_stream_event_id', 'events_commit_order',
    'events_expires_at', 'events_deleted_at', 'events_position']::name[]);
SELECT index_is_unique('agentstore', 'events', 'events_stream_event_id');
SELECT col_type_is('agentstore', 'events', 'transaction_id', 'pg_catalog', 'xid8', 'events record their transaction (xid8)');
SELECT col_type_is('agentstore', 'events', 'version', 'pg_catalog', 'bigint', 'versions are bigint');
SELECT col_hasnt_default('agentstore', 'events', 'version', 'versions never come from a default or a sequence');
SELECT has_column('agentstore', 'events', 'deleted_at', 'events are soft-deleted with their session');

SELECT has_trigger('agentstore', 'events', 'zz_events_version', 'the version trigger numbers plain INSERT and COPY');
SELECT trigger_is('agentstore', 'events', 'zz_events_version', 'agentstore', 'version_trigger');
SELECT col_type_is('agentstore', 'events', 'position', 'pg_catalog', 'bigint', 'positions are bigint');

SELECT * FROM finish();
ROLLBACK;

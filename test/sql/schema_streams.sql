-- pgTAP contract of the event stream tables: keys, indexes, columns.
SET client_min_messages = warning;
BEGIN;
SELECT plan(14);

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

-- High-water marks: versions of deleted events are never issued again.
SELECT col_is_pk('agentstore', 'stream_heads', ARRAY['stream']::name[], 'one high-water mark per stream');
SELECT col_type_is('agentstore', 'stream_heads', 'version', 'pg_catalog', 'bigint', 'high-water marks are bigint');
SELECT trigger_is('agentstore', 'events', 'zz_events_stream_heads', 'agentstore', 'stream_heads_trigger');
SELECT is((SELECT count(*)::int FROM pg_extension e, unnest(e.extconfig) c
            WHERE e.extname = 'agentstore' AND c = 'agentstore.stream_heads'::regclass),
          1, 'pg_dump dumps stream_heads');

SELECT * FROM finish();
ROLLBACK;

# pg_dump / pg_restore keeps every event with its version and position
# (import mode), stamps the restoring transaction as transaction_id (the
# source cluster's ids mean nothing here, and read_all must see the rows),
# and later appends continue each stream where it stopped.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $source = PostgreSQL::Test::Cluster->new('source');
$source->init;
$source->append_conf('postgresql.conf', "shared_preload_libraries = 'agentstore'\nagentstore.ttl_interval = '1h'");
$source->start;
$source->safe_psql('postgres', q{
	CREATE EXTENSION agentstore;
	-- burn transaction ids, so that the source's ids are far ahead of the target's
	CREATE TABLE burn (i int);
});
$source->safe_psql('postgres', 'INSERT INTO burn VALUES (1)') for 1 .. 50;
$source->safe_psql('postgres', q{
	SELECT agentstore.append_events('dump-a', '[{"type": "a1", "event_id": "x"}, {"type": "a2"}, {"type": "a3"}]');
	INSERT INTO agentstore.events (stream, type) VALUES ('dump-b', 'b1'), ('dump-a', 'a4'), ('dump-b', 'b2');
	SELECT agentstore.append_streams('[{"stream": "dump-c", "events": [{"type": "c1"}]},
	                                   {"stream": "dump-b", "events": [{"type": "b3"}]}]');
	UPDATE agentstore.events SET deleted_at = now() WHERE stream = 'dump-c';
});
my $query = q{SELECT stream, version, position, event_id, type, deleted_at IS NOT NULL
                FROM agentstore.events ORDER BY stream, version};
my $before = $source->safe_psql('postgres', $query);

my $dump = $source->basedir . '/streams.dump';
$source->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $source->connstr('postgres') ], 'pg_dump');

# Restore into a fresh cluster whose transaction ids are far behind.
my $target = PostgreSQL::Test::Cluster->new('target');
$target->init;
$target->append_conf('postgresql.conf', "shared_preload_libraries = 'agentstore'\nagentstore.ttl_interval = '1h'");
$target->start;
$target->safe_psql('postgres', 'CREATE DATABASE restored');
$target->command_ok([ 'pg_restore', '-d', $target->connstr('restored'), $dump ], 'pg_restore');

is($target->safe_psql('restored', $query), $before,
	'every event keeps its stream, version, position, id, type and deletion');
is( $target->safe_psql('restored', q{
	SELECT count(DISTINCT transaction_id) = 1
	       AND min(transaction_id) < pg_snapshot_xmin(pg_current_snapshot())
	  FROM agentstore.events}),
	't', 'restored rows carry the restoring transaction id, older than any running one');
is( $target->safe_psql('restored', q{SELECT count(*) FROM agentstore.read_all(0, 100)}),
	'7', 'read_all sees every restored live event (all but the soft-deleted one)');

# Appends continue every stream, and positions continue the sequence.
is( $target->safe_psql('restored', q{
	SELECT first_version || ' ' || (first_position > (SELECT max(position) FROM agentstore.events WHERE stream <> 'dump-a'))
	  FROM agentstore.append_events('dump-a', '[{"type": "a5"}]', 4)}),
	'5 true', 'append_events continues after the restored version and position');
is( $target->safe_psql('restored', q{
	INSERT INTO agentstore.events (stream, type) VALUES ('dump-b', 'b4') RETURNING version}),
	'4', 'a plain INSERT continues after the restored version');
is( $target->safe_psql('restored', q{
	SELECT first_version FROM agentstore.append_events('dump-a', '[{"type": "a1", "event_id": "x"}]')}),
	'1', 'a restored event id still makes a retried append idempotent');

$source->stop;
$target->stop;
done_testing();

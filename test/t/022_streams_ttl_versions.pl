# Versions are never issued twice, even after the TTL purge removed a
# stream's newest events: expiry (soft delete), purge (hard delete), then
# append_events, a plain INSERT and COPY continue after the old
# maximum.  The high-water marks survive pg_dump / pg_restore.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ttl_versions');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'agentstore'
agentstore.ttl_interval = '1h'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION agentstore');

# Three streams: the newest events expire (ttl-a), all events expire
# (ttl-b), the oldest events expire (ttl-c).
$node->safe_psql('postgres', q{
	SELECT agentstore.append_events('ttl-a', '[{"type": "keep"}, {"type": "x", "expires_at": "2000-01-01"}, {"type": "x", "expires_at": "2000-01-01"}]');
	SELECT agentstore.append_events('ttl-b', '[{"type": "x", "expires_at": "2000-01-01"}, {"type": "x", "expires_at": "2000-01-01"}]');
	SELECT agentstore.append_events('ttl-c', '[{"type": "x", "expires_at": "2000-01-01"}, {"type": "keep"}]');
});

# One pass soft-deletes the expired events, the next (a later transaction)
# purges them: ttl_purge_after = 0.
for my $pass (1 .. 2)
{
	$node->safe_psql('postgres', q{
		SET agentstore.ttl_purge_after = 0;
		SELECT count(*) FROM agentstore.expire_now();
	});
}
is( $node->safe_psql('postgres', q{
	SELECT string_agg(stream || ':' || version, ' ' ORDER BY stream, version)
	  FROM agentstore.events WHERE stream LIKE 'ttl-%'}),
	'ttl-a:1 ttl-c:2', 'the expired events were purged');

is( $node->safe_psql('postgres', q{
	SELECT first_version FROM agentstore.append_events('ttl-a', '[{"type": "after purge"}]')}),
	'4', 'append_events continues after the purged maximum');
is( $node->safe_psql('postgres', q{
	INSERT INTO agentstore.events (stream, type) VALUES ('ttl-b', 'after purge') RETURNING version}),
	'3', 'a plain INSERT into a wholly purged stream continues after its maximum');
is( $node->safe_psql('postgres', q{
	SELECT first_version FROM agentstore.append_events('ttl-c', '[{}]', 2)}),
	'3', 'a purge of old events changes nothing for the newest');
is( $node->safe_psql('postgres', q{
	SELECT last_version FROM agentstore.append_events('ttl-b', '[]', 3)}),
	'3', 'the expected version is the high-water mark');

# A stream written by INSERT ... SELECT, wholly purged, then written by COPY.
$node->safe_psql('postgres', q{
	INSERT INTO agentstore.events (stream, type, expires_at)
	SELECT 'ttl-d', 'x', '2000-01-01' FROM generate_series(1, 5);
});
for my $pass (1 .. 2)
{
	$node->safe_psql('postgres', q{
		SET agentstore.ttl_purge_after = 0;
		SELECT count(*) FROM agentstore.expire_now();
	});
}
is( $node->safe_psql('postgres', q{
	COPY agentstore.events (stream) FROM PROGRAM 'echo ttl-d';
	SELECT max(version) FROM agentstore.events WHERE stream = 'ttl-d'}),
	'6', 'COPY continues after the purged maximum');

# pg_dump keeps the high-water marks.
my $dump = $node->basedir . '/heads.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
is( $node->safe_psql('restored', q{
	SELECT string_agg(stream || ':' || version, ' ' ORDER BY stream) FROM agentstore.stream_heads}),
	'ttl-a:3 ttl-b:2 ttl-c:1 ttl-d:5', 'the high-water marks are restored');
is( $node->safe_psql('restored', q{
	SELECT first_version FROM agentstore.append_events('ttl-b', '[{}]')}),
	'4', 'appends in the restored database continue after them');

$node->stop;
done_testing();

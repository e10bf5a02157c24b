# Nothing runs on a standby: the launcher starts only once recovery has
# finished, so a hot standby has no TTL process; after promotion it has,
# and expiry goes on there.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TtlTest;

my $primary = ttl_node('ttl_primary', 'agentstore.ttl_interval' => '1s',
	allows_streaming => 1);
$primary->safe_psql('postgres', 'CREATE EXTENSION agentstore');
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('ttl_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# Several passes on the primary, replayed by the standby.
$primary->safe_psql('postgres', ttl_sessions_sql('old', 3, 2, q{now() - interval '1 min'}));
$primary->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM agentstore.sessions WHERE deleted_at IS NULL})
  or die 'the primary did not expire';
my $runs = $primary->safe_psql('postgres', 'SELECT max(id) FROM agentstore.ttl_runs');
wait_for_run($primary, 'postgres', "id >= $runs + 2");
$primary->wait_for_catchup($standby);

is( $standby->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'agentstore ttl%'}),
	'0', 'no TTL process on the standby');
ok(!$standby->log_contains(qr/agentstore ttl launcher started/),
	'the launcher never started on the standby');
is($standby->safe_psql('postgres', half_expired_sql()), '0',
	'the standby sees the primary\'s expiry, whole');

# Promoted, it runs passes itself.
$standby->promote;
$standby->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'agentstore ttl launcher'})
  or die 'no launcher after promotion';
pass('the launcher starts when the standby is promoted');
$standby->safe_psql('postgres', ttl_sessions_sql('new', 3, 2, q{now() - interval '1 min'}));
$standby->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM agentstore.sessions WHERE deleted_at IS NULL})
  or die 'the promoted standby did not expire';
pass('and expires rows');

$standby->stop;
$primary->stop;
done_testing();

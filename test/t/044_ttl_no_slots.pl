# Out of background worker slots: the launcher says so (once a minute at
# most) and retries every 5 s instead of failing; with slots, expiry runs.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TtlTest;

# Two slots: the launcher and the logical replication launcher.
my $node = ttl_node('ttl_no_slots',
	'agentstore.ttl_interval' => '1s',
	'max_worker_processes' => '2');
$node->safe_psql('postgres', 'CREATE EXTENSION agentstore');
$node->safe_psql('postgres', ttl_sessions_sql('old', 2, 1, q{now() - interval '1 min'}));
$node->wait_for_log(
	qr/WARNING:  could not start an agentstore ttl worker for database "postgres"\n.*DETAIL:  All background worker slots are in use\.\n.*HINT:  Increase max_worker_processes\./);
pass('the launcher warns that it cannot start a worker');
is($node->safe_psql('postgres', 'SELECT count(*) FROM agentstore.ttl_runs'), '0',
	'and no pass ran');

# With slots to spare, expiry runs.
$node->adjust_conf('postgresql.conf', 'max_worker_processes', '4');
$node->restart;
$node->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM agentstore.sessions WHERE deleted_at IS NULL})
  or die 'no expiry with a free slot';
pass('with a free slot, expiry runs');

$node->stop;
done_testing();

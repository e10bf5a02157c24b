# One launcher for every database: a database without agentstore is probed
# once and never visited again; CREATE EXTENSION, CREATE DATABASE (from a
# template that has it), DROP DATABASE and DROP EXTENSION are all picked up
# while the server runs, and none of them waits for a pass.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TtlTest;

# log_min_messages = debug1 logs every worker the launcher registers.
my $node = ttl_node('ttl_databases',
	'agentstore.ttl_interval' => '1s',
	'log_min_messages' => 'debug1');
my $probe = qr/DEBUG:  registering background worker "agentstore ttl worker for database "plain""/;

# Install agentstore in $db, add expired sessions of app $app, and wait
# until a pass has expired them.
sub install_and_expire
{
	my ($db, $app) = @_;
	$node->safe_psql($db, 'CREATE EXTENSION agentstore');
	$node->safe_psql($db, ttl_sessions_sql($app, 5, 3, q{now() - interval '1 min'}));
	$node->poll_query_until($db,
		q{SELECT count(*) = 0 FROM agentstore.sessions WHERE deleted_at IS NULL})
	  or die "$db was never expired";
}

$node->safe_psql('postgres', 'CREATE DATABASE withext');
$node->safe_psql('postgres', 'CREATE DATABASE plain');
install_and_expire('withext', 'old');
wait_for_run($node, 'withext', 'id >= 4');
is(count_log($node, $probe), 1,
	'the database without agentstore was visited once (a probe) while the other had 4 passes');

# CREATE EXTENSION is picked up without a restart.
install_and_expire('plain', 'old');
pass('a database that installs agentstore is served without a restart');

# DROP EXTENSION while a pass runs: the worker holds no lock that makes the
# DROP wait longer than one batch, and notices the extension is gone.  The
# pass is stopped in its first batch; 50 app states wait for later batches.
$node->safe_psql('plain', ttl_sessions_sql('blocked', 2, 1, q{now() - interval '1 min'}));
$node->safe_psql('plain', q{
	ALTER DATABASE plain SET agentstore.ttl_batch_size = 5;
	INSERT INTO agentstore.app_states (app_name, key, value, expires_at)
	SELECT 'blocked', 'k' || g, '1', now() - interval '1 min' FROM generate_series(1, 50) g;
});
my $blocker = $node->background_psql('plain');
$blocker->query_safe(q{
	BEGIN;
	SELECT 1 FROM agentstore.session_summaries WHERE app_name = 'blocked' FOR UPDATE;
});
wait_for_worker($node, 'plain', q{wait_event_type = 'Lock'});
my $dropper = $node->background_psql('plain');
$dropper->query_until(qr/dropping/, "\\echo dropping\nDROP EXTENSION agentstore;\n\\echo dropped\n");
# the DROP waits for the worker's batch, which waits for the blocker
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE datname = 'plain' AND query = 'DROP EXTENSION agentstore;' AND wait_event_type = 'Lock'})
  or die 'DROP EXTENSION did not wait';
$blocker->query_safe('ROLLBACK');
$blocker->quit;
$dropper->query_until(qr/dropped/, '');
$dropper->quit;
pass('DROP EXTENSION completes as soon as the batch in progress ends');
$node->wait_for_log(qr/agentstore was dropped in database "plain"; its ttl pass stops/);
pass('the worker notices and stops');
my $visits = count_log($node, $probe);
my $last = $node->safe_psql('withext', 'SELECT max(id) FROM agentstore.ttl_runs');
wait_for_run($node, 'withext', "id >= $last + 3");
ok(count_log($node, $probe) <= $visits + 1,
	'after DROP EXTENSION the database is visited at most once more');

# And CREATE EXTENSION again is picked up again.
install_and_expire('plain', 'again');
pass('CREATE EXTENSION after DROP EXTENSION is served again');

# A long pass (5000 expired rows, one per transaction) keeps a worker in
# withext while CREATE DATABASE ... TEMPLATE withext runs: the worker is
# terminated instead of failing the command.
sub start_long_pass
{
	$node->safe_psql('withext', q{
		ALTER DATABASE withext SET agentstore.ttl_batch_size = 1;
		INSERT INTO agentstore.app_states (app_name, key, value, expires_at)
		SELECT 'bulk' || clock_timestamp(), 'k' || g, '1', now() - interval '1 min'
		  FROM generate_series(1, 5000) g;
	});
	wait_for_worker($node, 'withext', q{query LIKE 'expire app_states%'});
}
start_long_pass();
my $terminated = count_log($node,
	qr/terminating background worker "agentstore ttl worker" due to administrator command/);
$node->safe_psql('postgres', 'CREATE DATABASE copy TEMPLATE withext');
pass('CREATE DATABASE ... TEMPLATE succeeds while a pass runs in the template');
is( count_log($node,
		qr/terminating background worker "agentstore ttl worker" due to administrator command/),
	$terminated + 1, 'the pass in the template was terminated');

# The copy has agentstore (and the template's expired rows): it is served.
$node->poll_query_until('copy',
	q{SELECT count(*) = 0 FROM agentstore.app_states WHERE deleted_at IS NULL})
  or die 'the copy was never expired';
pass('a database created from a template with agentstore is served');

# DROP DATABASE while a pass runs there.
start_long_pass();
$node->safe_psql('postgres', 'DROP DATABASE withext');
pass('DROP DATABASE succeeds while a pass runs in it');
my $copy_runs = $node->safe_psql('copy', 'SELECT max(id) FROM agentstore.ttl_runs');
wait_for_run($node, 'copy', "id > $copy_runs + 2");
pass('the launcher carries on with the other databases');
is( $node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'agentstore ttl%'
		   AND datname IS NOT NULL AND datname NOT IN ('copy', 'plain')}),
	'0', 'no worker in any other database');

$node->stop;
done_testing();

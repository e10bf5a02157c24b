# Who may interrupt a pass: DROP DATABASE, ALTER DATABASE ... RENAME and
# CREATE DATABASE ... TEMPLATE stop the pass in that database only when the
# command is allowed to get that far.  A role that does not own the
# database cannot keep its pass from finishing by failing them over and
# over.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TtlTest;

my $node = ttl_node('ttl_interrupt', 'agentstore.ttl_interval' => '1s');

# A long pass in database "victim": 300 expired rows, one per transaction,
# with the default pause of 100 ms between transactions.
$node->safe_psql('postgres', q{
	CREATE DATABASE victim;
	CREATE ROLE eve LOGIN CREATEDB;
});
$node->safe_psql('victim', q{
	CREATE EXTENSION agentstore;
	ALTER DATABASE victim SET agentstore.ttl_batch_size = 1;
	INSERT INTO agentstore.app_states (app_name, key, value, expires_at)
	SELECT 'bulk', 'k' || g, '1', now() - interval '1 min' FROM generate_series(1, 300) g;
});
my $pid = wait_for_worker($node, 'victim', q{query LIKE 'expire app_states%'});
my $terminated = count_log($node,
	qr/terminating background worker "agentstore ttl worker" due to administrator command/);

# eve (CREATEDB, but not the owner of victim) fails every command that
# would need victim to itself, many times; and a superuser's DROP DATABASE
# inside a transaction block fails before it looks for other sessions.
my $failures = 0;
for my $i (1 .. 5)
{
	for my $sql ('DROP DATABASE victim', 'ALTER DATABASE victim RENAME TO stolen',
		'CREATE DATABASE copy TEMPLATE victim')
	{
		my ($ret, $out, $err) = $node->psql('postgres', $sql,
			extra_params => [ '-U', 'eve' ]);
		$failures++ if $err =~ /must be owner of database victim|permission denied to copy database/;
	}
}
my ($ret, $out, $err) = $node->psql('postgres', "BEGIN;\nDROP DATABASE victim;\nCOMMIT;");
like($err, qr/cannot run inside a transaction block/,
	'DROP DATABASE in a transaction block fails');
is($failures, 15, 'every command of the role that does not own victim failed');
is(worker_pid($node, 'victim'), $pid, 'the pass in victim still runs, in the same worker');
is( count_log($node,
		qr/terminating background worker "agentstore ttl worker" due to administrator command/),
	$terminated, 'no worker was terminated');
wait_for_run($node, 'victim', 'finished_at IS NOT NULL');
is( $node->safe_psql('victim', q{
		SELECT count(*) FILTER (WHERE error IS NULL AND finished_at IS NOT NULL) || ' '
		    || count(*) FILTER (WHERE error IS NOT NULL)
		  FROM agentstore.ttl_runs}),
	'1 0', 'the pass finished, and none was interrupted');

# The owner (a superuser here) still gets victim to itself at once.
$node->safe_psql('victim', q{
	INSERT INTO agentstore.app_states (app_name, key, value, expires_at)
	SELECT 'bulk2', 'k' || g, '1', now() - interval '1 min' FROM generate_series(1, 150) g;
});
wait_for_worker($node, 'victim', q{query LIKE 'expire app_states%'});
$node->safe_psql('postgres', 'ALTER DATABASE victim RENAME TO renamed');
pass('the owner renames the database while a pass runs in it');
is( count_log($node,
		qr/terminating background worker "agentstore ttl worker" due to administrator command/),
	$terminated + 1, 'the pass in it was terminated');

$node->stop;
done_testing();

# A crash in the middle of a pass leaves no session half expired: each
# session goes with all of its rows in one transaction.  A worker killed
# with SIGKILL takes the whole server through crash recovery (PostgreSQL
# cannot know what it left in shared memory); after it, the launcher is
# back and the expiry carries on where it stopped.  Same for an immediate
# shutdown.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TtlTest;

my $node = ttl_node('ttl_crash',
	'agentstore.ttl_interval' => '1h',
	'restart_after_crash' => 'on');
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
	CREATE EXTENSION agentstore;
	ALTER DATABASE app SET agentstore.ttl_batch_size = 8;
});

# 30 expired sessions of 8 rows (one per transaction), oldest first; the
# pass is stopped at the 10th, in the middle of its transaction, by a
# foreground transaction that holds the 10th session's summary.
#
# $age is how long ago they expired.  A pass walks the expires_at index
# once, so one still running when they are inserted skips those that
# sort before its position and expires the rest: each call must use an
# older $age than the one before, so that such a pass expires none of them.
sub stopped_at_10th
{
	my ($app, $age) = @_;
	$node->safe_psql('app', ttl_sessions_sql($app, 30, 4,
		qq{now() - interval '$age' + g * interval '1 second'}));
	my $blocker = $node->background_psql('app', on_error_stop => 0);
	$blocker->query_safe(qq{
		BEGIN;
		SELECT 1 FROM agentstore.session_summaries m JOIN agentstore.sessions s ON s.id = m.session_ref
		 WHERE s.app_name = '$app' AND s.session_id = 's10' FOR UPDATE OF m;
	});
	my $pid = wait_for_worker($node, 'app', q{wait_event_type = 'Lock'});
	is( $node->safe_psql('app', qq{
			SELECT string_agg(session_id, ',' ORDER BY expires_at) FROM agentstore.sessions
			 WHERE app_name = '$app' AND deleted_at IS NOT NULL}),
		's1,s2,s3,s4,s5,s6,s7,s8,s9', "$app: nine sessions expired before the pass stopped");
	return ($blocker, $pid);
}

# After a crash: nothing half expired, what was committed stayed, the rest
# is expired by the passes that follow.
sub check_after_crash
{
	my ($app) = @_;
	is($node->safe_psql('app', half_expired_sql()), '0', "$app: no session is half expired");
	ok( $node->safe_psql('app', qq{
			SELECT count(*) FROM agentstore.sessions
			 WHERE app_name = '$app' AND deleted_at IS NOT NULL}) >= 9,
		"$app: the committed expiries survived");
	$node->poll_query_until('app', qq{
		SELECT count(*) = 0 FROM agentstore.sessions WHERE app_name = '$app' AND deleted_at IS NULL})
	  or die "$app: expiry did not carry on";
	is($node->safe_psql('app', half_expired_sql()), '0', "$app: all expired, each one whole");
}

$node->safe_psql('postgres', q{ALTER SYSTEM SET agentstore.ttl_interval = '1s'});
$node->reload;

# SIGKILL of the worker in the middle of a session's transaction.
my ($blocker, $pid) = stopped_at_10th('killed', '1 hour');
my $launcher = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'agentstore ttl launcher'});
my $offset = -s $node->logfile;
kill 'KILL', $pid;
$node->wait_for_log(
	qr/all server processes terminated; reinitializing.*database system is ready to accept connections/s,
	$offset);
pass('SIGKILL of the worker made the server restart');
$node->poll_query_until('postgres', qq{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'agentstore ttl launcher' AND pid <> $launcher})
  or die 'no launcher after the crash';
pass('the launcher is back');
$blocker->quit;
check_after_crash('killed');
is( $node->safe_psql('app', q{
		SELECT count(*) FROM agentstore.ttl_runs WHERE error LIKE 'interrupted:%'}),
	'1', 'the killed pass is recorded as interrupted');

# An immediate shutdown in the middle of a session's transaction.
($blocker, $pid) = stopped_at_10th('stopped', '2 hours');
$node->stop('immediate');
$blocker->quit;
$node->start;
check_after_crash('stopped');
is( $node->safe_psql('app', q{
		SELECT count(*) FROM agentstore.ttl_runs WHERE error LIKE 'interrupted:%'}),
	'2', 'the pass cut short by the shutdown is recorded as interrupted');

$node->stop;
done_testing();

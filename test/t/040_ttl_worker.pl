# The TTL worker end to end: it expires in bounded transactions, shows in
# pg_stat_activity, follows agentstore.ttl_interval on reload, records every
# pass, survives being terminated, retries a pass that failed, and the
# launcher comes back after SIGTERM.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TtlTest;

my $node = ttl_node('ttl_worker', 'agentstore.ttl_interval' => '1h');

# The launcher runs, connected to no database.
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'agentstore ttl launcher' AND datname IS NULL})
  or die 'no launcher';
pass('the launcher shows in pg_stat_activity as "agentstore ttl launcher"');

$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE EXTENSION agentstore');
# 10 expired sessions of 13 rows, 3 live ones, 50 expired app states;
# batches of 30 rows: two sessions per transaction.
$node->safe_psql('app', ttl_sessions_sql('old', 10, 9, q{now() - interval '1 min'}));
$node->safe_psql('app', ttl_sessions_sql('live', 3, 9, q{now() + interval '1 day'}));
$node->safe_psql('app', q{
	INSERT INTO agentstore.app_states (app_name, key, value, expires_at)
	SELECT 'old', 'k' || g, '1', now() - interval '1 min' FROM generate_series(1, 50) g;
	ALTER DATABASE app SET agentstore.ttl_batch_size = 30;
});

# With a 1 h interval, nothing is expired yet; a reload to 1 s starts passes.
is($node->safe_psql('app', 'SELECT count(*) FROM agentstore.ttl_runs'), '0',
	'no pass before the interval has passed');
$node->safe_psql('postgres', q{ALTER SYSTEM SET agentstore.ttl_interval = '1s'});
$node->reload;
wait_for_run($node, 'app', "origin = 'worker' AND finished_at IS NOT NULL");
is( $node->safe_psql('app', q{
		SELECT transactions, expired->>'sessions', expired->>'events',
		       expired->>'session_summaries', expired->>'app_states', error IS NULL
		  FROM agentstore.ttl_runs ORDER BY id LIMIT 1}),
	'7|10|110|10|50|t',
	'the first pass expired everything, at most 30 rows per transaction (7 transactions)');
is($node->safe_psql('app', half_expired_sql()), '0', 'no session is half expired');
is( $node->safe_psql('app', q{
		SELECT count(*) FILTER (WHERE deleted_at IS NULL) FROM agentstore.sessions}),
	'3', 'live sessions are untouched');

# Passes keep coming, one interval apart.
wait_for_run($node, 'app', 'id >= 3');
pass('passes repeat at the interval');

# A worker blocked on a row a foreground transaction holds shows in
# pg_stat_activity; terminated, its pass is marked interrupted by the next.
$node->safe_psql('app', ttl_sessions_sql('blocked', 3, 2, q{now() - interval '1 min'}));
my $blocker = $node->background_psql('app');
$blocker->query_safe(q{
	BEGIN;
	SELECT 1 FROM agentstore.session_summaries WHERE app_name = 'blocked' FOR UPDATE;
});
my $pid = wait_for_worker($node, 'app', q{wait_event_type = 'Lock'});
like( $node->safe_psql('postgres', "SELECT query FROM pg_stat_activity WHERE pid = $pid"),
	qr/expire sessions/, 'pg_stat_activity shows what the worker does');
is($node->safe_psql('app', half_expired_sql()), '0', 'nothing half expired while it waits');
# field 19 of /proc/<pid>/stat is the nice value (after the name in parentheses)
sub nice_of
{
	my ($p) = @_;
	my $stat = slurp_file("/proc/$p/stat");
	$stat =~ s/^.*\) //s;
	return (split / /, $stat)[16];
}
is(nice_of($pid), '10', 'the worker runs at agentstore.ttl_worker_nice (default 10)');
is(nice_of($blocker->query_safe('SELECT pg_backend_pid()')), '0',
	'foreground backends keep nice 0');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid")
  or die 'worker did not exit';
pass('SIGTERM ends the worker');
$blocker->query_safe('ROLLBACK');
$blocker->quit;
$node->poll_query_until('app', q{
	SELECT count(*) = 0 FROM agentstore.sessions
	 WHERE app_name = 'blocked' AND deleted_at IS NULL})
  or die 'the blocked sessions were never expired';
pass('the next pass expires what the terminated one could not');
is( $node->safe_psql('app', q{
		SELECT count(*) FROM agentstore.ttl_runs
		 WHERE error LIKE 'interrupted:%' AND finished_at IS NULL}),
	'1', 'the terminated pass is recorded as interrupted');
is($node->safe_psql('app', half_expired_sql()), '0', 'no session is half expired');

# An error in a pass (here a lock timeout) is logged, recorded, and the
# pass is retried at the next interval.
$node->safe_psql('app', q{
	ALTER DATABASE app SET lock_timeout = '100ms';
	INSERT INTO agentstore.app_states (app_name, key, value, expires_at)
	VALUES ('late', 'k', '1', now() - interval '1 min');
});
my $locker = $node->background_psql('app');
$locker->query_safe('BEGIN; LOCK TABLE agentstore.app_states IN ACCESS EXCLUSIVE MODE;');
wait_for_run($node, 'app', q{error LIKE '%lock timeout%'});
ok($node->log_contains(qr/canceling statement due to lock timeout/), 'the error is logged');
ok( $node->log_contains(
		qr/agentstore ttl pass in database "app" failed; the next pass starts in 1 s/),
	'with what happens next');
is( $node->safe_psql('app', q{
		SELECT origin, finished_at IS NOT NULL FROM agentstore.ttl_runs
		 WHERE error LIKE '%lock timeout%' ORDER BY id LIMIT 1}),
	'worker|t', 'and recorded in ttl_runs');
$locker->query_safe('ROLLBACK');
$locker->quit;
$node->poll_query_until('app', q{
	SELECT count(*) = 0 FROM agentstore.app_states WHERE app_name = 'late' AND deleted_at IS NULL})
  or die 'the pass was not retried';
$node->poll_query_until('app',
	q{SELECT last_state = 'finished' AND failures_since_success = 0 FROM agentstore.ttl_status})
  or die 'no successful pass after the failure';
pass('the failed pass is retried and succeeds once the lock is gone');
$node->safe_psql('app', 'ALTER DATABASE app RESET lock_timeout');

# The launcher ends on SIGTERM and the postmaster starts it again.
my $launcher = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'agentstore ttl launcher'});
$node->safe_psql('postgres', "SELECT pg_terminate_backend($launcher)");
$node->poll_query_until('postgres', qq{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'agentstore ttl launcher' AND pid <> $launcher})
  or die 'the launcher did not come back';
pass('the launcher is restarted after SIGTERM');
my $runs = $node->safe_psql('app', 'SELECT max(id) FROM agentstore.ttl_runs');
wait_for_run($node, 'app', "id > $runs AND finished_at IS NOT NULL");
pass('and passes go on');

# Back to a long interval: once the current pass ends, no new one starts.
$node->safe_psql('postgres', q{ALTER SYSTEM SET agentstore.ttl_interval = '1h'});
$node->reload;
$node->poll_query_until('postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'agentstore ttl worker'})
  or die 'a worker kept running';
$runs = $node->safe_psql('app', 'SELECT count(*) FROM agentstore.ttl_runs');
sleep(3);
is($node->safe_psql('app', 'SELECT count(*) FROM agentstore.ttl_runs'),
	$runs, 'a reload to 1 h stops the 1 s passes');

$node->stop;
done_testing();

# The batch upserts can be cancelled while they run: pg_cancel_backend stops
# upsert_sessions(jsonb), upsert_sessions(json) and a COPY into the
# session_import view in the middle of their work, the statement fails with
# "canceling statement due to user request", and nothing is written.  How
# long the cancellation took is reported (diag), not asserted.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'agentstore'\nagentstore.ttl_interval = '1h'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION agentstore');

# A batch large enough to take several seconds (about 1.3 kB per session),
# stored as jsonb, as json text and as a CSV file for COPY.
my $csv = $node->basedir . '/sessions.csv';
$node->safe_psql('postgres', qq{
	CREATE TABLE doc AS
	SELECT jsonb_agg(jsonb_build_object('session_id', 's' || g, 'user_id', 'u' || (g % 100),
	                 'app_name', 'cancel', 'state', jsonb_build_object('pad', repeat('x', 1200)))) AS j
	  FROM generate_series(1, 100000) g;
	ALTER TABLE doc ADD COLUMN t json;
	UPDATE doc SET t = j::text::json;
	COPY (SELECT 'cancel', 's' || g, 'u' || (g % 100), jsonb_build_object('pad', repeat('x', 1200))
	        FROM generate_series(1, 100000) g) TO '$csv' WITH (FORMAT csv);
});

my %statements = (
	'upsert_sessions(jsonb)' => 'SELECT * FROM agentstore.upsert_sessions((SELECT j FROM doc))',
	'upsert_sessions(json)' => 'SELECT * FROM agentstore.upsert_sessions((SELECT t FROM doc))',
	'COPY into session_import' =>
	  "COPY agentstore.session_import (app_name, session_id, user_id, state) FROM '$csv' WITH (FORMAT csv)",
);

foreach my $name (sort keys %statements)
{
	my ($stdout, $stderr) = ('', '');
	my $sql = "SET application_name = 'cancel_me'; $statements{$name}";
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c', $sql ],
		'>', \$stdout, '2>', \$stderr);

	# wait until the statement has been running for a little while (a
	# cancel that arrives while its argument is still being fetched is
	# acted on at the first interrupt check after it, with the same result)
	my $pid = '';
	for (my $i = 0; $i < 600 && $pid eq ''; $i++)
	{
		$pid = $node->safe_psql('postgres', q{
			SELECT pid FROM pg_stat_activity
			 WHERE application_name = 'cancel_me' AND state = 'active'
			   AND now() - query_start > interval '0.3 s'});
		usleep(50_000) if $pid eq '';
	}
	isnt($pid, '', "$name is running");

	my $start = time();
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	$h->finish;
	my $elapsed = time() - $start;
	diag(sprintf("%s stopped %.3f s after pg_cancel_backend", $name, $elapsed));

	like($stderr, qr/canceling statement due to user request/, "$name was cancelled");
	is($node->safe_psql('postgres', q{SELECT count(*) FROM agentstore.sessions WHERE app_name = 'cancel'}),
		'0', "$name wrote nothing");
}

# and the same batch runs to completion when left alone
is($node->safe_psql('postgres',
		q{SELECT inserted || '/' || updated FROM agentstore.upsert_sessions((SELECT j FROM doc))}),
	'100000/0', 'uncancelled, the batch is written whole');

$node->stop;
done_testing();

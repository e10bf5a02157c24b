# Stress: 8 concurrent clients write 10 shared streams through every path at
# once -- plain multi-row INSERT, COPY, append_events (with and without an
# expected version), append_streams, multi-statement transactions that
# commit or roll back -- and every stream must end up exactly 1..n.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $clients = 8;
my $transactions = 200;    # per client
my $nstreams = 10;

my $node = PostgreSQL::Test::Cluster->new('stress');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'agentstore'
agentstore.ttl_interval = '1h'
max_connections = 40
# plain INSERTs name streams in any order and may deadlock; resolve quickly
deadlock_timeout = '50ms'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION agentstore');

# A reproducible random workload per client.
srand(20240521);

sub stream { return 'stress-' . int(rand($nstreams)); }

sub events_json
{
	my ($tag, $n) = @_;
	return '[' . join(',', map { qq({"type": "$tag", "data": {"i": $_}}) } 1 .. $n) . ']';
}

sub one_write
{
	my ($c) = @_;
	my $kind = int(rand(6));
	my $tag = "c$c";
	if ($kind == 0)
	{
		my $rows = join(', ', map { "('" . stream() . "', '$tag insert')" } 1 .. 1 + int(rand(5)));
		return "INSERT INTO agentstore.events (stream, type) VALUES $rows;\n";
	}
	if ($kind == 1)
	{
		# Only if the transaction is not aborted: a COPY refused at its start
		# would make psql run the data lines as SQL.
		my $lines = join('', map { stream() . "\t$tag copy\n" } 1 .. 1 + int(rand(20)));
		return "\\set copy_ok false\nSELECT true AS copy_ok \\gset\n\\if :copy_ok\n"
		  . "COPY agentstore.events (stream, type) FROM STDIN;\n$lines\\.\n\\endif\n";
	}
	if ($kind == 2)
	{
		return "SELECT 1 FROM agentstore.append_events('" . stream() . "', '"
		  . events_json("$tag append", 1 + int(rand(30))) . "');\n";
	}
	if ($kind == 3)
	{
		my $s = stream();
		return "SELECT 1 FROM agentstore.append_events('$s', '"
		  . events_json("$tag expect", 1 + int(rand(5)))
		  . "', agentstore.stream_version('$s'));\n";
	}
	if ($kind == 4)
	{
		my %seen;
		my @streams = grep { !$seen{$_}++ } map { stream() } 1 .. 3;
		my $appends = join(', ',
			map { qq({"stream": "$_", "events": ) . events_json("$tag streams", 1 + int(rand(4))) . '}' }
			  @streams);
		return "SELECT 1 FROM agentstore.append_streams('[$appends]');\n";
	}
	# INSERT ... SELECT of several rows into one stream
	return "INSERT INTO agentstore.events (stream, type) SELECT '" . stream()
	  . "', '$tag select' FROM generate_series(1, " . (1 + int(rand(10))) . ");\n";
}

my @files;
for my $c (1 .. $clients)
{
	my $sql = "\\set ON_ERROR_STOP 0\n";
	for my $t (1 .. $transactions)
	{
		if (rand() < 0.2)
		{
			# a transaction of several writes that commits or rolls back
			$sql .= "BEGIN;\n";
			$sql .= one_write($c) for 1 .. 2 + int(rand(3));
			$sql .= rand() < 0.25 ? "ROLLBACK;\n" : "COMMIT;\n";
		}
		else
		{
			$sql .= one_write($c);
		}
	}
	my $file = $node->basedir . "/client$c.sql";
	PostgreSQL::Test::Utils::append_to_file($file, $sql);
	push @files, $file;
}

# Run the clients at once.
my @harnesses;
my @stderr;
for my $c (0 .. $clients - 1)
{
	my ($out, $err) = ('', '');
	push @stderr, \$err;
	push @harnesses,
	  IPC::Run::start(
		[ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-f', $files[$c] ],
		'>', \$out, '2>', \$err);
}
$_->finish for @harnesses;

my $all_errors = join('', map { $$_ } @stderr);
my $conflicts = () = $all_errors =~ /wrong expected version/g;
my $deadlocks = () = $all_errors =~ /deadlock detected/g;
my @other = grep { !/wrong expected version|deadlock detected|current transaction is aborted|^(DETAIL|HINT|CONTEXT|LINE|\s)/ && /ERROR/ }
  split /\n/, $all_errors;
diag("expected-version conflicts: $conflicts, deadlocks: $deadlocks");
is(scalar(@other), 0, 'no error other than version conflicts and deadlocks')
  or diag(join("\n", @other[0 .. ($#other < 20 ? $#other : 19)]));

# Every stream is exactly 1..n.
my $result = $node->safe_psql('postgres', q{
	SELECT count(DISTINCT stream),
	       count(*) FILTER (WHERE NOT ok),
	       sum(n)
	  FROM (SELECT stream, count(*) AS n,
	               count(*) = max(version) AND min(version) = 1 AS ok
	          FROM agentstore.events GROUP BY stream) s
});
my ($streams, $bad, $total) = split /\|/, $result;
is($streams, $nstreams, "all $nstreams streams were written");
is($bad, 0, 'every stream is exactly 1..n: no gap, no duplicate');
cmp_ok($total, '>', $clients * $transactions, "a real workload was written ($total events)");

is( $node->safe_psql('postgres', 'SELECT count(DISTINCT position) = count(*) FROM agentstore.events'),
	't', 'positions are unique');
# read_all pages through every event, in (transaction_id, position) order.
is( $node->safe_psql('postgres', q{
	WITH RECURSIVE page(n, t, p) AS (
	    SELECT 0, '0'::xid8, 0::bigint
	  UNION ALL
	    SELECT page.n + r.n, r.t, r.p FROM page, LATERAL (
	      SELECT count(*)::int AS n, (array_agg(transaction_id ORDER BY transaction_id DESC, position DESC))[1] AS t,
	             (array_agg(position ORDER BY transaction_id DESC, position DESC))[1] AS p
	        FROM agentstore.read_all(page.p, 1000, page.t)) r
	     WHERE r.n > 0)
	SELECT max(n) = (SELECT count(*) FROM agentstore.events) FROM page
}), 't', 'read_all pages through every event exactly once');

$node->stop;
done_testing();

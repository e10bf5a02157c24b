# Every earlier release (sql/releases/) is installed and upgraded with
# ALTER EXTENSION agentstore UPDATE; the result must match a fresh install of
# the current version object for object, and keep the data.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{AGENTSTORE_SRC} or die "AGENTSTORE_SRC is not set";
my ($current) = slurp_file("$src/agentstore.control") =~ /^default_version = '([^']+)'/m;
my @releases = sort grep { $_ ne $current }
  map { m{agentstore--([^-]+)\.sql$} ? $1 : () } glob("$src/sql/releases/agentstore--*.sql");

plan skip_all => "no earlier release than $current to upgrade from" unless @releases;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'agentstore'");
$node->start;

# The schema as pg_dump sees it, without the dump's own noise.
sub schema_of
{
	my ($db) = @_;
	my $out = $node->safe_psql($db, q{
		SELECT string_agg(format('%s %s comment: %s', pg_describe_object(classid, objid, objsubid),
		                         coalesce(pg_get_functiondef(CASE WHEN classid = 'pg_proc'::regclass THEN objid END), ''),
		                         coalesce(obj_description(objid, classid::regclass::text), '')),
		                  E'\n' ORDER BY 1)
		  FROM pg_depend
		 WHERE refclassid = 'pg_extension'::regclass
		   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'agentstore')
		   AND deptype = 'e'});
	my $tables = $node->safe_psql($db, q{
		SELECT string_agg(format('%s.%s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
		                         pg_get_expr(d.adbin, d.adrelid)), E'\n' ORDER BY c.relname, a.attnum)
		  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
		 WHERE c.relnamespace = 'agentstore'::regnamespace});
	return "$out\n$tables";
}

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION agentstore');
my $fresh = schema_of('fresh');

foreach my $release (@releases)
{
	my $db = "from_$release";
	$db =~ s/\W/_/g;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION agentstore VERSION '$release'");
	# Data of every kind, written through the release's own API.
	$node->safe_psql($db, q{
INSERT INTO agentstore.sessions (app_name, user_id, session_id) VALUES ('upgrade', 'u', 'kept');
SELECT agentstore.create_session('upgrade', 'ann', 'chat', '{"topic": "rain"}');
SELECT agentstore.append_event('upgrade', 'ann', 'chat', '{"id": "e1", "author": "user"}',
       '{"city": "Oslo", "app:model": "small", "user:units": "metric"}');
SELECT agentstore.append_event('upgrade', 'ann', 'chat', '{"id": "e2", "author": "agent"}');
SELECT agentstore.put_session_summary('upgrade', 'ann', 'chat', '"it rains"');
SELECT agentstore.append_track_event('upgrade', 'ann', 'chat', 'tools', '{"tool": "weather"}');
SELECT agentstore.set_app_state('upgrade', 'greeting', '"hello"');
INSERT INTO agentstore.events (stream, event_id, type, data) VALUES ('order-1', 'a', 'created', '{}');
SELECT agentstore.append_events('order-1', '[{"event_id": "b", "type": "paid"}]', 1);
SELECT agentstore.put_checkpoint('thread-1', '',
       '{"v": 4, "id": "0001", "ts": "2025-01-01T00:00:00Z", "channel_versions": {"messages": 1}, "versions_seen": {}}',
       '{"source": "input", "step": -1, "parents": {}, "run_id": "run-1"}', '{"messages": 1}',
       jsonb_build_object('messages', jsonb_build_array('json', encode('["hi"]', 'base64'))));
SELECT agentstore.put_writes('thread-1', '', '0001', 'task-1',
       jsonb_build_array(jsonb_build_array('messages', jsonb_build_array('json', encode('"w"', 'base64')))));
SELECT agentstore.expire_now();});
	# Row counts of every table (built here: the server may lack XML support).
	my @tables = split /\n/, $node->safe_psql($db, q{
SELECT relname FROM pg_class
 WHERE relnamespace = 'agentstore'::regnamespace AND relkind = 'r' ORDER BY relname});
	my $counts_sql = 'SELECT ' . join(" || ', ' || ",
		map { "'$_ ' || (SELECT count(*) FROM agentstore.$_)" } @tables);
	my $before = $node->safe_psql($db, $counts_sql);

	$node->safe_psql($db, 'ALTER EXTENSION agentstore UPDATE');
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'agentstore'}),
		$current, "$release updates to $current");
	# Compare line by line, so that a failure names what differs.
	my %fresh_lines = map { $_ => 1 } split /\n/, $fresh;
	my %got_lines = map { $_ => 1 } split /\n/, schema_of($db);
	my @differ = ((map { "only after the upgrade: $_" } grep { !$fresh_lines{$_} } sort keys %got_lines),
		(map { "only in a fresh install: $_" } grep { !$got_lines{$_} } sort keys %fresh_lines));
	is(join("\n", @differ), '', "$release upgraded matches a fresh install");
	# tables the upgrade adds are left out
	my %after = map { split / / } split /, /, $node->safe_psql($db, $counts_sql);
	is(join(', ', map { my ($t) = split / /; "$t $after{$t}" } split /, /, $before),
		$before, "$release: every table keeps its rows");
	is($node->safe_psql($db, q{SELECT count(*) FROM agentstore.sessions WHERE session_id = 'kept'}),
		'1', "$release: data survives the upgrade");

	# And stays usable: streams and sessions number on, reads see the old data.
	is($node->safe_psql($db, q{
SELECT last_version FROM agentstore.append_events('order-1', '[{"event_id": "c", "type": "shipped"}]', 2)}),
		'3', "$release: a stream numbers on after the upgrade");
	is($node->safe_psql($db, q{
SELECT version FROM agentstore.append_event('upgrade', 'ann', 'chat', '{"id": "e3", "author": "user"}')}),
		'3', "$release: a session's events number on");
	is($node->safe_psql($db, q{
SELECT (s->'state'->>'city') || ' ' || (s->'state'->>'app:model') || ' ' || jsonb_array_length(s->'events')
  FROM agentstore.get_session('upgrade', 'ann', 'chat') s}),
		'Oslo small 3', "$release: get_session reads state, app state and events");
	is($node->safe_psql($db, q{
SELECT json_array_length(pending_writes) FROM agentstore.get_checkpoint('thread-1')}),
		'1', "$release: the checkpoint and its pending writes are read back");
	is($node->safe_psql($db, q{
SELECT agentstore.get_session_summary('upgrade', 'ann', 'chat')}),
		'"it rains"', "$release: the summary is read back");
	# A run stored before the upgrade is found (the upgrade indexes it).
	is($node->safe_psql($db, q{
SELECT agentstore.delete_runs(ARRAY['run-1']);
SELECT count(*) FROM agentstore.checkpoint_blobs}),
		"1\n0", "$release: delete_runs removes a run stored before the upgrade, with its blob");
}

$node->stop;
done_testing();

# pg_dump of a PostgreSQL 15 cluster holding agentstore data of every kind
# (sessions with events, state and summaries, track events, streams with
# soft-deleted events, checkpoints with blobs and writes) restores into
# PostgreSQL 17 and 18 with agentstore installed there, dumped by the newer
# pg_dump as PostgreSQL recommends; the data reads back the same and appends
# continue every stream without a gap.
#
# The newer servers are named by AGENTSTORE_PG17_CONFIG and
# AGENTSTORE_PG18_CONFIG (their pg_config; scripts/test.sh sets them and
# installs agentstore there).  A version whose build is absent is skipped.
use strict;
use warnings;
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# The newer servers to restore into: [major, installation prefix].
my @targets;
my @missing;
for my $major (17, 18)
{
	my $pg_config = $ENV{"AGENTSTORE_PG${major}_CONFIG"};
	if (!$pg_config || !-x $pg_config)
	{
		push @missing, "PostgreSQL $major (AGENTSTORE_PG${major}_CONFIG not set)";
		next;
	}
	my $version = `$pg_config --version`;
	my $sharedir = `$pg_config --sharedir`;
	my $bindir = `$pg_config --bindir`;
	chomp($version, $sharedir, $bindir);
	if ($version !~ /^PostgreSQL $major\b/)
	{
		push @missing, "PostgreSQL $major ($pg_config is $version)";
		next;
	}
	if (!-f "$sharedir/extension/agentstore.control")
	{
		push @missing, "PostgreSQL $major (agentstore is not installed in $sharedir)";
		next;
	}
	push @targets, [ $major, dirname($bindir) ];
}

my $source = PostgreSQL::Test::Cluster->new('source15');
if ($source->pg_version->major >= 17)
{
	plan skip_all => 'the source server is PostgreSQL ' . $source->pg_version->major
	  . ': this test dumps PostgreSQL 15 into newer servers';
}
plan skip_all => 'no PostgreSQL 17 or 18 build: ' . join('; ', @missing)
  unless @targets;
note "not tested: $_" for @missing;

my $conf = "shared_preload_libraries = 'agentstore'\nagentstore.ttl_interval = '1h'";
$source->init;
$source->append_conf('postgresql.conf', $conf);
$source->start;
$source->safe_psql('postgres', q{
	CREATE EXTENSION agentstore;
	-- sessions: events with state deltas, app and user state, a summary,
	-- track events
	SELECT agentstore.create_session('dump-app', 'u1', 's1', '{"turn": 0}', '7 days');
	SELECT agentstore.append_event('dump-app', 'u1', 's1',
		'{"id": "e1", "type": "message", "author": "user", "text": "hi"}',
		'{"turn": 1, "app:model": "m1", "user:seen": true}');
	SELECT agentstore.append_event('dump-app', 'u1', 's1', '{"id": "e2", "author": "model"}', '{"turn": 2}');
	SELECT agentstore.create_session('dump-app', 'u2', 's2');
	SELECT agentstore.set_app_state('dump-app', 'region', '"eu"');
	SELECT agentstore.set_user_state('dump-app', 'u2', 'lang', '"de"');
	SELECT agentstore.put_session_summary('dump-app', 'u1', 's1', '{"text": "greeting"}');
	SELECT agentstore.append_track_event('dump-app', 'u1', 's1', 'audit', '{"step": 1}');
	SELECT agentstore.append_track_event('dump-app', 'u1', 's1', 'audit', '{"step": 2}');
	-- streams: appends of every kind, a soft-deleted stream
	SELECT agentstore.append_events('dump-a', '[{"type": "a1", "event_id": "x"}, {"type": "a2"}, {"type": "a3"}]');
	INSERT INTO agentstore.events (stream, type) VALUES ('dump-b', 'b1'), ('dump-a', 'a4'), ('dump-b', 'b2');
	SELECT agentstore.append_streams('[{"stream": "dump-c", "events": [{"type": "c1"}]},
	                                   {"stream": "dump-b", "events": [{"type": "b3"}]}]');
	UPDATE agentstore.events SET deleted_at = now() WHERE stream = 'dump-c';
	-- checkpoints: two of a thread, blobs of type json and bytes, writes
	SELECT agentstore.put_checkpoint('t', '',
		'{"v": 4, "id": "0001", "channel_versions": {"a": 1, "b": 1}}', '{"step": 1}',
		'{"a": 1, "b": 1}', '{"a": ["json", "WzFd"], "b": ["bytes", "AAEC"]}', NULL, '7 days');
	SELECT agentstore.put_checkpoint('t', '',
		'{"v": 4, "id": "0002", "channel_versions": {"a": 2, "b": 1}}', '{"step": 2}',
		'{"a": 2}', '{"a": ["json", "WzJd"]}', '0001', '7 days');
	SELECT agentstore.put_writes('t', '', '0002', 'task', '[["a", 1], ["__error__", "boom"]]', 'path');
});

# What must read back the same after the restore.
my %reads = (
	'events' => q{SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', stream, version, position,
		event_id, type, data, deleted_at IS NOT NULL), E'\n' ORDER BY stream, version)
		FROM agentstore.events},
	'sessions' => q{SELECT string_agg(format('%s|%s|%s|%s|%s|%s', app_name, user_id, id, state,
		event_count, expires_at), E'\n' ORDER BY app_name, user_id, id) FROM agentstore.sessions},
	'get_session' => q{SELECT agentstore.get_session('dump-app', 'u1', 's1') - 'last_update_time'},
	'state' => q{SELECT format('%s %s', agentstore.get_app_state('dump-app', 'region'),
		agentstore.get_user_state('dump-app', 'u2', 'lang'))},
	'summary' => q{SELECT agentstore.get_session_summary('dump-app', 'u1', 's1')},
	'track events' => q{SELECT agentstore.get_track_events('dump-app', 'u1', 's1', 'audit')},
	'checkpoints' => q{SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', thread_id, checkpoint_ns,
		checkpoint_id, parent_checkpoint_id, checkpoint, channel_values, pending_writes), E'\n'
		ORDER BY checkpoint_id) FROM agentstore.list_checkpoints('t')},
	'latest checkpoint' => q{SELECT channel_values FROM agentstore.get_checkpoint('t')},
);
my %before = map { $_ => $source->safe_psql('postgres', $reads{$_}) } keys %reads;
isnt($before{$_}, '', "the source reads its $_") for sort keys %reads;
like($before{'latest checkpoint'}, qr/"b":\["bytes","AAEC"\]/,
	'the source reads a blob of the first checkpoint through the latest');

for my $target_spec (@targets)
{
	my ($major, $prefix) = @$target_spec;
	my $target = PostgreSQL::Test::Cluster->new("target$major", install_path => $prefix);
	$target->init;
	$target->append_conf('postgresql.conf', $conf);
	$target->start;
	is($target->pg_version->major, $major, "the target runs PostgreSQL $major");

	# The newer pg_dump reads the older server.
	my $dump = $target->basedir . '/from15.dump';
	$target->command_ok(
		[ $target->installed_command('pg_dump'), '-Fc', '-f', $dump, '-d', $source->connstr('postgres') ],
		"pg_dump $major dumps the 15 cluster");
	$target->safe_psql('postgres', 'CREATE DATABASE restored');
	$target->command_ok(
		[ $target->installed_command('pg_restore'), '--exit-on-error', '-d', $target->connstr('restored'), $dump ],
		"pg_restore into $major");

	for my $what (sort keys %reads)
	{
		is($target->safe_psql('restored', $reads{$what}), $before{$what},
			"PostgreSQL $major: $what read back as on 15");
	}

	# Every stream continues where it stopped, without a gap.
	is( $target->safe_psql('restored', q{
		SELECT first_version || ' ' || (first_position > (SELECT max(position) FROM agentstore.events WHERE stream <> 'dump-a'))
		  FROM agentstore.append_events('dump-a', '[{"type": "a5"}]', 4)}),
		'5 true', "PostgreSQL $major: append_events continues after the restored version and position");
	is( $target->safe_psql('restored', q{
		INSERT INTO agentstore.events (stream, type) VALUES ('dump-b', 'b4') RETURNING version}),
		'4', "PostgreSQL $major: a plain INSERT continues after the restored version");
	is( $target->safe_psql('restored', q{
		SELECT first_version FROM agentstore.append_events('dump-a', '[{"type": "a1", "event_id": "x"}]')}),
		'1', "PostgreSQL $major: a restored event id still makes a retried append idempotent");
	is( $target->safe_psql('restored', q{
		SELECT version FROM agentstore.append_event('dump-app', 'u1', 's1', '{"id": "e3"}', '{"turn": 3}')}),
		'3', "PostgreSQL $major: a session's events continue after the restored version");
	is( $target->safe_psql('restored', q{
		SELECT version FROM agentstore.append_track_event('dump-app', 'u1', 's1', 'audit', '{"step": 3}')}),
		'3', "PostgreSQL $major: a track continues after the restored version");
	is( $target->safe_psql('restored', q{
		SELECT count(*) FROM (SELECT version, row_number() OVER (PARTITION BY stream ORDER BY version) AS n
		                        FROM agentstore.events) s
		 WHERE version <> n}),
		'0', "PostgreSQL $major: every stream's versions run 1, 2, 3, ... without a gap");

	# The restored thread takes a new checkpoint and reads old and new blobs.
	$target->safe_psql('restored', q{
		SELECT agentstore.put_checkpoint('t', '', '{"v": 4, "id": "0003", "channel_versions": {"a": 3, "b": 1}}',
			'{}', '{"a": 3}', '{"a": ["json", "WzNd"]}', '0002')});
	is($target->safe_psql('restored', q{SELECT channel_values FROM agentstore.get_checkpoint('t')}),
		'{"a":["json",[3]],"b":["bytes","AAEC"]}',
		"PostgreSQL $major: a checkpoint put after the restore reads old and new blobs");

	$target->stop;
}

$source->stop;
done_testing();

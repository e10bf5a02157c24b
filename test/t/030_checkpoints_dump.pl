# Checkpoints survive pg_dump and pg_restore: every table's rows come back,
# the blob index (an expression on an extension function) is rebuilt, and
# get_checkpoint and list_checkpoints return the same tuples as before.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('checkpoints_dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'agentstore'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION agentstore');

$node->safe_psql('postgres', q{
	SELECT agentstore.put_checkpoint('t', ns,
		jsonb_build_object('v', 4, 'id', lpad(i::text, 4, '0'),
			'channel_versions', jsonb_build_object('a', i, 'b', 1),
			'channel_values', jsonb_build_object('n', i)),
		jsonb_build_object('step', i)::json,
		CASE WHEN i = 1 THEN '{"a": 1, "b": 1}' ELSE jsonb_build_object('a', i) END,
		CASE WHEN i = 1 THEN '{"b": ["bytes", "AAEC"]}'::jsonb ELSE '{}' END
			|| jsonb_build_object('a', jsonb_build_array('json', encode(('[' || i || ']')::bytea, 'base64'))),
		CASE WHEN i > 1 THEN lpad((i - 1)::text, 4, '0') END,
		'7 days')
	  FROM generate_series(1, 20) i, unnest(ARRAY['', 'sub']) ns;
	SELECT agentstore.put_writes('t', '', lpad(i::text, 4, '0'), 'task',
		'[["a", 1], ["__error__", "boom"]]', 'path')
	  FROM generate_series(1, 20) i;
});

my $tuples = q{SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', thread_id, checkpoint_ns, checkpoint_id,
	parent_checkpoint_id, checkpoint, channel_values, pending_writes), E'\n'
	ORDER BY checkpoint_ns, checkpoint_id) FROM agentstore.list_checkpoints('t')};
my $before = $node->safe_psql('postgres', $tuples);
my $latest = q{SELECT channel_values FROM agentstore.get_checkpoint('t', 'sub')};
my $latest_before = $node->safe_psql('postgres', $latest);
my $expires = q{SELECT expires_at FROM agentstore.checkpoint_threads WHERE thread_id = 't'};
my $expires_before = $node->safe_psql('postgres', $expires);

my $dump = $node->basedir . '/checkpoints.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');

is($node->safe_psql('restored', $tuples), $before, 'list_checkpoints returns the same tuples');
is($node->safe_psql('restored', $latest), $latest_before, 'get_checkpoint reads the blobs through the rebuilt index');
like($latest_before, qr/"b":\["bytes","AAEC"\]/, 'a blob written by the first checkpoint is read by the latest');
is($node->safe_psql('restored', $expires), $expires_before, 'the thread keeps its expires_at');
is($node->safe_psql('restored', q{SELECT count(*) FROM agentstore.checkpoint_blobs}),
	$node->safe_psql('postgres', q{SELECT count(*) FROM agentstore.checkpoint_blobs}), 'every blob restored');

# The restored thread takes new writes like the original.
$node->safe_psql('restored', q{
	SELECT agentstore.put_checkpoint('t', '', '{"v": 4, "id": "0021", "channel_versions": {"a": 21, "b": 1}}',
		'{}', '{"a": 21}', '{"a": ["json", "WzIxXQ=="]}', '0020')});
is($node->safe_psql('restored', q{SELECT channel_values FROM agentstore.get_checkpoint('t')}),
	'{"a":["json",[21]],"b":["bytes","AAEC"]}', 'a put after restore reads old and new blobs');

$node->stop;
done_testing();

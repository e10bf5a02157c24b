# The extension under shared_preload_libraries survives a restart; without it
# the SQL functions still work and CREATE EXTENSION says, once, that the
# background worker is missing; pg_dump keeps every row.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('preloaded');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'agentstore'");
$node->start;

my ($ret, $stdout, $stderr) = $node->psql('postgres', 'CREATE EXTENSION agentstore');
is($ret, 0, 'CREATE EXTENSION succeeds when preloaded');
unlike($stderr, qr/WARNING/, 'no warning when preloaded');
is($node->safe_psql('postgres', 'SELECT agentstore.preloaded()'), 't', 'preloaded() is true');

$node->safe_psql('postgres', q{
	INSERT INTO agentstore.sessions (app_name, user_id, session_id, state)
	SELECT 'app', 'user', 's' || g, jsonb_build_object('n', g) FROM generate_series(1, 100) g;
	INSERT INTO agentstore.events (stream, version, data)
	SELECT 'order-1', g, jsonb_build_object('n', g) FROM generate_series(1, 10) g;
});

# A mistyped parameter under the reserved prefix is an error, not a no-op.
($ret, $stdout, $stderr) = $node->psql('postgres', 'SET agentstore.sesion_ttl = 10');
isnt($ret, 0, 'unknown agentstore.* parameter is rejected');
like($stderr, qr/invalid configuration parameter name "agentstore.sesion_ttl"/,
	'the error names the parameter');

$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM agentstore.sessions'),
	'100', 'sessions survive a restart');
is($node->safe_psql('postgres', 'SHOW agentstore.session_event_limit'),
	'1000', 'GUCs are defined after restart');

# pg_dump / restore keeps the data and the sequences' positions.
my $dump = $node->basedir . '/agentstore.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ],
	'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
is($node->safe_psql('restored', 'SELECT count(*), sum((state->>\'n\')::int) FROM agentstore.sessions'),
	'100|5050', 'restored sessions match');
is($node->safe_psql('restored', 'SELECT string_agg(version::text, \',\' ORDER BY version) FROM agentstore.events'),
	'1,2,3,4,5,6,7,8,9,10', 'restored events keep their versions');
is($node->safe_psql('restored', 'SELECT last_value FROM agentstore.sessions_id_seq'),
	$node->safe_psql('postgres', 'SELECT last_value FROM agentstore.sessions_id_seq'),
	'restored sequence continues where the original stopped');
$node->stop;

# Without preloading: everything works, and the missing worker is reported.
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->start;
($ret, $stdout, $stderr) = $plain->psql('postgres', 'CREATE EXTENSION agentstore');
is($ret, 0, 'CREATE EXTENSION succeeds without preloading');
like($stderr, qr/WARNING:  agentstore is not in shared_preload_libraries/,
	'CREATE EXTENSION warns that the worker is not running');
like($stderr, qr/HINT:  Add agentstore to shared_preload_libraries/, 'and says how to fix it');
is($plain->safe_psql('postgres', 'SELECT agentstore.preloaded()'), 'f', 'preloaded() is false');
($ret, $stdout, $stderr) = $plain->psql('postgres', 'SELECT count(*) FROM agentstore.sessions');
is($stderr, '', 'later use does not repeat the warning');
# The schema comes from the control file (schema = agentstore): it is not a
# member of the extension, so DROP EXTENSION empties it and DROP SCHEMA
# removes it; no other schema is accepted.
$plain->safe_psql('postgres', 'DROP EXTENSION agentstore');
is($plain->safe_psql('postgres', "SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_namespace'::regclass AND refobjid = 'agentstore'::regnamespace"),
	'0', 'DROP EXTENSION leaves the schema empty');
$plain->safe_psql('postgres', 'DROP SCHEMA agentstore');
is($plain->safe_psql('postgres', "SELECT count(*) FROM pg_namespace WHERE nspname = 'agentstore'"),
	'0', 'DROP SCHEMA agentstore removes it');
($ret, $stdout, $stderr) = $plain->psql('postgres', 'CREATE SCHEMA other; CREATE EXTENSION agentstore SCHEMA other');
like($stderr, qr/extension "agentstore" must be installed in schema "agentstore"/,
	'CREATE EXTENSION ... SCHEMA other is refused');
$plain->stop;

done_testing();

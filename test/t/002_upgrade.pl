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
		SELECT string_agg(format('%s %s', pg_describe_object(classid, objid, objsubid),
		                         coalesce(pg_get_functiondef(CASE WHEN classid = 'pg_proc'::regclass THEN objid END), '')),
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
	$node->safe_psql($db, q{INSERT INTO agentstore.sessions (app_name, user_id, session_id)
	                        VALUES ('upgrade', 'u', 'kept')});
	$node->safe_psql($db, 'ALTER EXTENSION agentstore UPDATE');
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'agentstore'}),
		$current, "$release updates to $current");
	is(schema_of($db), $fresh, "$release upgraded matches a fresh install");
	is($node->safe_psql($db, q{SELECT count(*) FROM agentstore.sessions WHERE session_id = 'kept'}),
		'1', "$release: data survives the upgrade");
}

$node->stop;
done_testing();

# Bounded locking: one transaction may touch any number of streams, session
# keys and checkpoint threads on a cluster with default lock settings, takes a
# bounded number of lock-table entries doing so, and leaves the lock table to
# the other backends meanwhile.  Key locks escalate to one lock on their key
# space past agentstore.lock_escalation_threshold (src/keylock.c).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('locks');
$node->init;
# PostgreSQL's defaults, which the TAP framework's init lowers.
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'agentstore'
agentstore.ttl_interval = '1h'
max_connections = 100
max_locks_per_transaction = 64
max_prepared_transactions = 0
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION agentstore');

# Most lock-table entries held at once by the backend running $sql, sampled
# by a second session while it runs, is hard to catch; the entries a
# transaction holds at its end are what it kept, so count them before commit.
sub locks_held_after
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', qq{
BEGIN;
$sql;
SELECT count(*) FILTER (WHERE locktype = 'advisory') || ' ' || count(*)
  FROM pg_locks WHERE pid = pg_backend_pid();
ROLLBACK;});
}

# 1. 100,000 streams in one INSERT ... SELECT (two events each).
my ($ret, $out, $err) = $node->psql('postgres', q{
INSERT INTO agentstore.events (stream, type, data)
SELECT 'bulk-' || (g % 100000), 't', '{}' FROM generate_series(1, 200000) g;});
is($ret, 0, 'INSERT ... SELECT into 100,000 streams in one transaction succeeds')
  or diag($err);
is( $node->safe_psql('postgres', q{
SELECT count(DISTINCT stream) || ' ' || count(*) || ' '
       || count(*) FILTER (WHERE version NOT IN (1, 2))
  FROM agentstore.events WHERE stream LIKE 'bulk-%'}),
	'100000 200000 0', 'every one of the 100,000 streams holds versions 1 and 2');
is( $node->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT stream FROM agentstore.events WHERE stream LIKE 'bulk-%'
 GROUP BY stream HAVING min(version) <> 1 OR max(version) <> 2 OR count(*) <> 2) s}),
	'0', 'no stream has a gap or a duplicate');

# 2. The same through COPY.
my $copy = join('', map { "copy-$_\tt\n" } 1 .. 100000);
($ret, $out, $err) = $node->psql('postgres',
	"COPY agentstore.events (stream, type) FROM STDIN;\n$copy\\.\n");
is($ret, 0, 'COPY into 100,000 streams in one transaction succeeds') or diag($err);
is( $node->safe_psql('postgres', q{
SELECT count(*) || ' ' || count(*) FILTER (WHERE version <> 1)
  FROM agentstore.events WHERE stream LIKE 'copy-%'}),
	'100000 0', 'each COPY stream starts at version 1');

# 3. append_streams with 100,000 streams.
($ret, $out, $err) = $node->psql('postgres', q{
SELECT count(*) FROM agentstore.append_streams(
  (SELECT jsonb_agg(jsonb_build_object('stream', 'as-' || g,
                                       'events', jsonb_build_array(jsonb_build_object('type', 't')),
                                       'expected_version', -1))
     FROM generate_series(1, 100000) g));});
is($ret, 0, 'append_streams with 100,000 streams succeeds') or diag($err);
is($out, '100000', 'and reports every stream');

# 4. 50,000 create_session and get_or_create_session calls in one transaction.
($ret, $out, $err) = $node->psql('postgres', q{
SELECT count(*) FROM (SELECT agentstore.create_session('a', 'u', 's' || g)
                        FROM generate_series(1, 50000) g) s;});
is($ret, 0, '50,000 create_session calls in one transaction succeed') or diag($err);
my $before = $node->safe_psql('postgres', q{
SELECT n_tup_ins || ' ' || n_tup_upd || ' ' || n_tup_del FROM pg_stat_user_tables
 WHERE relid = 'agentstore.sessions'::regclass});
($ret, $out, $err) = $node->psql('postgres', q{
SELECT count(*) FILTER (WHERE (r).created) || ' ' || count(*)
  FROM (SELECT agentstore.get_or_create_session('a', 'u', 's' || g) r
          FROM generate_series(25001, 75000) g) s;});
is($ret, 0, '50,000 get_or_create_session calls in one transaction succeed') or diag($err);
is($out, '25000 50000', 'half of them hits, half created');
$node->safe_psql('postgres', 'SELECT pg_stat_force_next_flush()');
my $after = $node->safe_psql('postgres', q{
SELECT n_tup_ins || ' ' || n_tup_upd || ' ' || n_tup_del FROM pg_stat_user_tables
 WHERE relid = 'agentstore.sessions'::regclass});
my @b = split / /, $before;
my @a = split / /, $after;
is($a[0] - $b[0], 25000, 'only the misses inserted rows');
is($a[1] - $b[1], 0, 'the hits updated nothing');
is( $node->safe_psql('postgres', q{
SELECT count(*) || ' ' || count(DISTINCT (app_name, user_id, session_id))
  FROM agentstore.sessions WHERE deleted_at IS NULL AND app_name = 'a'}),
	'75000 75000', 'one active session per key');

# 5. put_checkpoint on 50,000 threads in one transaction.
($ret, $out, $err) = $node->psql('postgres', q{
SELECT count(*) FROM (
  SELECT agentstore.put_checkpoint('th-' || g, '',
           jsonb_build_object('v', 4, 'id', '0001', 'ts', '2025-01-01T00:00:00Z',
                              'channel_versions', '{}'::jsonb, 'versions_seen', '{}'::jsonb),
           '{"source": "input", "step": -1, "parents": {}}', '{}')
    FROM generate_series(1, 50000) g) s;});
is($ret, 0, 'put_checkpoint on 50,000 threads in one transaction succeeds') or diag($err);
is($out, '50000', 'every checkpoint is stored');

# 6. What one transaction keeps in the lock table is bounded.
my $held = locks_held_after(q{
INSERT INTO agentstore.events (stream, type)
SELECT 'held-' || g, 't' FROM generate_series(1, 5000) g;
SELECT count(*) FROM (SELECT agentstore.create_session('held', 'u', 's' || g)
                        FROM generate_series(1, 5000) g) s;
SELECT count(*) FROM (SELECT agentstore.put_checkpoint('held-' || g, '',
           jsonb_build_object('v', 4, 'id', '0001', 'ts', '2025-01-01T00:00:00Z',
                              'channel_versions', '{}'::jsonb, 'versions_seen', '{}'::jsonb),
           '{}', '{}') FROM generate_series(1, 5000) g) s});
my ($key_locks, $all_locks) = split / /, (split /\n/, $held)[-1];
cmp_ok($key_locks, '<=', 3 * (32 + 3),
	"a transaction writing 5,000 keys of each space holds $key_locks key and space locks");
cmp_ok($all_locks, '<=', 3 * (32 + 3) + 60, "and $all_locks lock entries in all");

# 7. Nobody starves while a 100,000-stream transaction is open.
my $bulk = $node->background_psql('postgres', on_error_stop => 1);
$bulk->query_safe(q{BEGIN});
$bulk->query_safe(q{
INSERT INTO agentstore.events (stream, type)
SELECT 'open-' || g, 't' FROM generate_series(1, 100000) g});
my $bulk_locks = $bulk->query_safe(
	q{SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()});
cmp_ok($bulk_locks, '<=', 50, "the open transaction holds $bulk_locks lock entries");
($ret, $out, $err) = $node->psql('postgres', q{
BEGIN;
CREATE TABLE other_work (id int PRIMARY KEY, v text);
INSERT INTO other_work SELECT g, 'x' FROM generate_series(1, 1000) g;
SELECT count(*) FROM (SELECT * FROM other_work FOR UPDATE) s;
CREATE TABLE more_work AS SELECT * FROM other_work;
DROP TABLE more_work;
DO $$ BEGIN FOR i IN 1..500 LOOP EXECUTE format('CREATE TEMP TABLE t%s (a int)', i); END LOOP; END $$;
COMMIT;
DROP TABLE other_work;});
is($ret, 0, 'another backend creates, drops and locks tables meanwhile') or diag($err);
# The price of escalation, documented: writers of the escalated space wait
# for the open transaction (here: give up after a lock timeout).
($ret, $out, $err) = $node->psql('postgres', q{
SET lock_timeout = '200ms';
SELECT last_version FROM agentstore.append_events('elsewhere', '[{"type": "t"}]')});
like($err, qr/lock timeout/, 'a stream writer waits for the escalated transaction');
$bulk->query_safe(q{COMMIT});
$bulk->quit;
is( $node->safe_psql('postgres', q{
SELECT count(*) FROM agentstore.events WHERE stream LIKE 'open-%' AND version = 1}),
	'100000', 'the open transaction commits its 100,000 streams');

$node->stop;
done_testing();

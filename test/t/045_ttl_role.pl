# Who the TTL worker's passes run as: agentstore.ttl_role.  Every
# transaction of a pass runs as that role (by default the extension's owner)
# in a security-restricted operation.  A role with only the documented
# grants expires everything; a trigger that an ordinary role with TRIGGER on
# an agentstore table attaches runs as that role, not as a superuser, and
# cannot escalate.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TtlTest;

my $node = ttl_node('ttl_roles', 'agentstore.ttl_interval' => '1s');

$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
	CREATE EXTENSION agentstore;
	-- the documented least privileges of the pass's role (docs/ttl.md)
	CREATE ROLE ttl_pass NOLOGIN;
	GRANT USAGE ON SCHEMA agentstore TO ttl_pass;
	GRANT SELECT, UPDATE, DELETE ON agentstore.sessions, agentstore.events,
	      agentstore.session_summaries, agentstore.app_states, agentstore.user_states,
	      agentstore.checkpoint_threads, agentstore.checkpoints,
	      agentstore.checkpoint_blobs, agentstore.checkpoint_writes TO ttl_pass;
	GRANT SELECT, INSERT, UPDATE, DELETE ON agentstore.ttl_runs TO ttl_pass;
	GRANT USAGE ON SEQUENCE agentstore.ttl_runs_id_seq TO ttl_pass;

	-- an ordinary role with TRIGGER on a table of agentstore
	CREATE ROLE mallory LOGIN;
	GRANT USAGE ON SCHEMA agentstore TO mallory;
	GRANT TRIGGER ON agentstore.app_states TO mallory;
	CREATE SCHEMA mallory AUTHORIZATION mallory;
});
$node->safe_psql('app', q{
	SET ROLE mallory;
	CREATE TABLE mallory.seen (who name, superuser text, escalation text);
	GRANT USAGE ON SCHEMA mallory TO PUBLIC;
	GRANT INSERT ON mallory.seen TO PUBLIC;
	CREATE FUNCTION mallory.spy() RETURNS trigger LANGUAGE plpgsql AS $$
	DECLARE
		outcome text := 'escalated';
	BEGIN
		BEGIN
			ALTER ROLE mallory SUPERUSER;
		EXCEPTION WHEN others THEN
			outcome := SQLERRM;
		END;
		INSERT INTO mallory.seen VALUES (current_user, current_setting('is_superuser'), outcome);
		RETURN NULL;
	END $$;
	CREATE TRIGGER spy AFTER UPDATE OR DELETE ON agentstore.app_states
		FOR EACH ROW EXECUTE FUNCTION mallory.spy();
});

# Everything a pass does, as ttl_pass: expire sessions (with events and
# summaries), app state, user state and a checkpoint thread, trim a long
# session, and purge what was soft-deleted.
$node->safe_psql('app', q{
	ALTER DATABASE app SET agentstore.ttl_purge_after = 0;
	ALTER DATABASE app SET agentstore.session_event_retention = 3;
	INSERT INTO agentstore.app_states (app_name, key, value, expires_at)
	SELECT 'old', 'k' || g, '1', now() - interval '1 min' FROM generate_series(1, 3) g;
	INSERT INTO agentstore.user_states (app_name, user_id, key, value, expires_at)
	VALUES ('old', 'u', 'k', '1', now() - interval '1 min');
	INSERT INTO agentstore.checkpoint_threads (thread_id, expires_at)
	VALUES ('old-thread', now() - interval '1 min');
	INSERT INTO agentstore.checkpoints (thread_id, checkpoint_id, checkpoint)
	VALUES ('old-thread', 'c', '{}');
	SET agentstore.session_event_retention = 3;
	INSERT INTO agentstore.sessions (app_name, user_id, session_id, ttl, expires_at)
	VALUES ('live', 'u', 'long', interval '1 day', now() + interval '1 day');
	SELECT count(*) FROM generate_series(1, 10) g,
	       LATERAL agentstore.append_event('live', 'u', 'long', jsonb_build_object('n', g));
});
$node->safe_psql('app', ttl_sessions_sql('old', 3, 4, q{now() - interval '1 min'}));
$node->append_conf('postgresql.conf', "agentstore.ttl_role = 'ttl_pass'");
$node->reload;
is($node->safe_psql('app', 'SHOW agentstore.ttl_role'), 'ttl_pass', 'agentstore.ttl_role is set');

my $everything_gone = q{
	SELECT (SELECT count(*) FROM agentstore.sessions WHERE app_name = 'old')
	     + (SELECT count(*) FROM agentstore.app_states)
	     + (SELECT count(*) FROM agentstore.user_states)
	     + (SELECT count(*) FROM agentstore.checkpoint_threads)
	     + (SELECT count(*) FROM agentstore.checkpoints)
	     + (SELECT count(*) FROM agentstore.events e
	         WHERE e.stream IN (SELECT 'session-' || id FROM agentstore.sessions WHERE app_name = 'live'))
	     - 3 = 0};
$node->poll_query_until('app', $everything_gone)
  or die 'the passes as ttl_pass did not expire, trim and purge everything';
pass('with only the documented grants, the pass role expires, trims and purges everything');
is( $node->safe_psql('app', q{
		SELECT count(*) FROM agentstore.ttl_runs WHERE error IS NOT NULL}),
	'0', 'no pass failed');

is( $node->safe_psql('app', q{
		SELECT DISTINCT who || ' ' || superuser FROM mallory.seen}),
	'ttl_pass off',
	'a trigger on an agentstore table runs as the pass role, not as a superuser');
like( $node->safe_psql('app', q{SELECT DISTINCT escalation FROM mallory.seen}),
	qr/permission denied|must be superuser/,
	'its attempt to make itself a superuser fails');
is($node->safe_psql('app', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}),
	'f', 'mallory is no superuser');

# A security-restricted operation: no SET ROLE, no temporary table, and a
# setting changed by the trigger does not outlive the transaction.
$node->safe_psql('app', q{
	SET ROLE mallory;
	TRUNCATE mallory.seen;
	CREATE OR REPLACE FUNCTION mallory.spy() RETURNS trigger LANGUAGE plpgsql AS $$
	DECLARE
		outcome text := 'created';
	BEGIN
		BEGIN
			CREATE TEMP TABLE loot (x int);
		EXCEPTION WHEN others THEN
			outcome := SQLERRM;
		END;
		INSERT INTO mallory.seen VALUES (current_user, current_setting('is_superuser'), outcome);
		RETURN NULL;
	END $$;
	RESET ROLE;
	INSERT INTO agentstore.app_states (app_name, key, value, expires_at)
	VALUES ('old', 'again', '1', now() - interval '1 min');
});
$node->poll_query_until('app', 'SELECT count(*) > 0 FROM mallory.seen')
  or die 'the trigger never ran';
like( $node->safe_psql('app', q{SELECT escalation FROM mallory.seen LIMIT 1}),
	qr/cannot create temporary table within security-restricted operation/,
	'the pass runs as a security-restricted operation');

# A role that does not exist: the pass fails, says why, and runs nothing.
$node->append_conf('postgresql.conf', "agentstore.ttl_role = 'nobody_here'");
$node->reload;
my $runs = $node->safe_psql('app', 'SELECT max(id) FROM agentstore.ttl_runs');
wait_for_run($node, 'app', "id > $runs AND error IS NOT NULL");
like( $node->safe_psql('app',
		"SELECT error FROM agentstore.ttl_runs WHERE id > $runs AND error IS NOT NULL LIMIT 1"),
	qr/role "nobody_here" named by agentstore.ttl_role does not exist/,
	'a pass role that does not exist fails the pass with a clear error');

# The default: the owner of the extension (here the bootstrap superuser).
$node->safe_psql('app', q{
	SET ROLE mallory;
	TRUNCATE mallory.seen;
	CREATE OR REPLACE FUNCTION mallory.spy() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO mallory.seen VALUES (current_user, current_setting('is_superuser'), NULL);
		RETURN NULL;
	END $$;
	RESET ROLE;
	INSERT INTO agentstore.app_states (app_name, key, value, expires_at)
	VALUES ('old', 'default', '1', now() - interval '1 min');
});
$node->append_conf('postgresql.conf', "agentstore.ttl_role = ''");
$node->reload;
$node->poll_query_until('app', 'SELECT count(*) > 0 FROM mallory.seen')
  or die 'the trigger never ran';
is( $node->safe_psql('app', q{SELECT DISTINCT who FROM mallory.seen}),
	$node->safe_psql('app', q{
		SELECT extowner::regrole::name FROM pg_extension WHERE extname = 'agentstore'}),
	'by default a pass runs as the owner of the extension');

$node->stop;
done_testing();

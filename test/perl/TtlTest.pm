# Helpers shared by the TTL worker's TAP tests (test/t/04*_ttl_*.pl).
package TtlTest;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(ttl_node ttl_sessions_sql half_expired_sql worker_pid
  wait_for_worker wait_for_run count_log);

# A started node with agentstore preloaded and the given settings.
sub ttl_node
{
	my ($name, %conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => $conf{allows_streaming} ? 1 : 0);
	delete $conf{allows_streaming};
	$node->append_conf('postgresql.conf',
		join("\n", "shared_preload_libraries = 'agentstore'",
			map { "$_ = '$conf{$_}'" } sort keys %conf));
	$node->start;
	return $node;
}

# SQL that creates $n sessions of app $app expiring at $expires (an SQL
# expression), each with $events events in its stream, 2 track events and
# one summary: 1 + $events + 3 rows per session.
sub ttl_sessions_sql
{
	my ($app, $n, $events, $expires) = @_;
	return qq{
		WITH s AS (
			INSERT INTO agentstore.sessions (app_name, user_id, session_id, expires_at)
			SELECT '$app', 'u', 's' || g, $expires FROM generate_series(1, $n) g
			RETURNING id),
		e AS (
			INSERT INTO agentstore.events (stream, version)
			SELECT 'session-' || s.id, v FROM s, generate_series(1, $events) v),
		t AS (
			INSERT INTO agentstore.events (stream, version)
			SELECT 'track-' || s.id || '-t', v FROM s, generate_series(1, 2) v)
		INSERT INTO agentstore.session_summaries (app_name, session_ref, summary)
		SELECT '$app', id, '{}' FROM s;
	};
}

# SQL counting half-expired sessions: a session whose events or summaries
# disagree with it about being deleted.  Must always be 0.
sub half_expired_sql
{
	return q{
		SELECT count(*) FROM agentstore.sessions s
		 WHERE EXISTS (SELECT 1 FROM agentstore.events e
		                WHERE (e.stream = 'session-' || s.id OR e.stream LIKE 'track-' || s.id || '-%')
		                  AND (e.deleted_at IS NULL) <> (s.deleted_at IS NULL))
		    OR EXISTS (SELECT 1 FROM agentstore.session_summaries m
		                WHERE m.app_name = s.app_name AND m.session_ref = s.id
		                  AND (m.deleted_at IS NULL) <> (s.deleted_at IS NULL))
	};
}

# pid of the TTL worker running in database $db, or '' if none.
sub worker_pid
{
	my ($node, $db) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT pid FROM pg_stat_activity
		 WHERE backend_type = 'agentstore ttl worker' AND datname = '$db'});
}

# Wait until the TTL worker of $db satisfies $cond (SQL over
# pg_stat_activity), and return its pid.
sub wait_for_worker
{
	my ($node, $db, $cond) = @_;
	$cond //= 'true';
	$node->poll_query_until('postgres', qq{
		SELECT count(*) > 0 FROM pg_stat_activity
		 WHERE backend_type = 'agentstore ttl worker' AND datname = '$db' AND $cond})
	  or die "timed out waiting for the ttl worker of $db";
	return worker_pid($node, $db);
}

# Wait until ttl_runs of $db has a run satisfying $cond.
sub wait_for_run
{
	my ($node, $db, $cond) = @_;
	$node->poll_query_until($db,
		"SELECT count(*) > 0 FROM agentstore.ttl_runs WHERE $cond")
	  or die "timed out waiting for a ttl run in $db where $cond";
}

# How many times $regexp occurs in the server log.
sub count_log
{
	my ($node, $regexp) = @_;
	my $log = slurp_file($node->logfile);
	my @hits = ($log =~ m/$regexp/g);
	return scalar @hits;
}

1;

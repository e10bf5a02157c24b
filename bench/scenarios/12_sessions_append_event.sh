# The agent framework's hot path: append one event to a session and apply a
# state delta, 8 pgbench clients, one event per call, 200 sessions.
#
# Baselines:
# - trpc-agent-go's five-statement transaction (session/postgres addEvent):
#   BEGIN; SELECT state ... FOR UPDATE; UPDATE session_states SET state,
#   updated_at, expires_at; INSERT INTO session_events; COMMIT -- on trpc's
#   own tables (bench.trpc_*), the merge done in SQL instead of in Go;
# - the same work as agentstore.append_event as one PL/pgSQL function on
#   agentstore's own tables (state routing, gap-free version by the version
#   trigger, sliding TTL, event count).
# The state delta has a session key, a temp: key (written 'temp:' || 'x': pgbench
# would take :x inside a literal for a variable) and (for agentstore and the
# PL/pgSQL function) nothing routed to app or user state, like trpc's.
source "$(dirname "${BASH_SOURCE[0]}")/sessions_common.bash"
secs=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", (5 * s < 2) ? 2 : 5 * s }')
tmp=$(bench_tmp)
nsessions=200

q "DROP TABLE IF EXISTS bench.trpc_session_states, bench.trpc_session_events;
CREATE TABLE bench.trpc_session_states (
	id bigserial PRIMARY KEY, app_name varchar(255) NOT NULL, user_id varchar(255) NOT NULL,
	session_id varchar(255) NOT NULL, state jsonb DEFAULT NULL,
	created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
	expires_at timestamp DEFAULT NULL, deleted_at timestamp DEFAULT NULL);
CREATE UNIQUE INDEX ON bench.trpc_session_states (app_name, user_id, session_id) WHERE deleted_at IS NULL;
CREATE INDEX ON bench.trpc_session_states (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE bench.trpc_session_events (
	id bigserial PRIMARY KEY, app_name varchar(255) NOT NULL, user_id varchar(255) NOT NULL,
	session_id varchar(255) NOT NULL, event jsonb NOT NULL,
	created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
	expires_at timestamp DEFAULT NULL, deleted_at timestamp DEFAULT NULL);
CREATE INDEX ON bench.trpc_session_events (app_name, user_id, session_id, created_at);
CREATE INDEX ON bench.trpc_session_events (expires_at) WHERE expires_at IS NOT NULL;
INSERT INTO bench.trpc_session_states (app_name, user_id, session_id, state)
SELECT 'bench', 'u' || (g % 20), 's' || g, '{}' FROM generate_series(1, $nsessions) g;
SELECT count(*) FROM (SELECT agentstore.create_session('bench-append', 'u' || (g % 20), 's' || g)
                        FROM generate_series(1, $nsessions) g) x;
SELECT count(*) FROM (SELECT agentstore.create_session('bench-plpgsql', 'u' || (g % 20), 's' || g)
                        FROM generate_series(1, $nsessions) g) x" >/dev/null

q "CREATE OR REPLACE FUNCTION bench.append_event_plpgsql(
	p_app text, p_user text, p_sid text, p_event jsonb, p_delta jsonb)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$
DECLARE
	v_id bigint; v_version bigint; v_set jsonb := '{}'; v_remove text[] := '{}';
	v_ttl interval := make_interval(secs => current_setting('agentstore.session_ttl')::int);
	k text; v jsonb;
BEGIN
	FOR k, v IN SELECT * FROM jsonb_each(p_delta) LOOP
		IF k LIKE 'app:%' THEN
			INSERT INTO agentstore.app_states AS a (app_name, key, value) VALUES (p_app, substr(k, 5), v)
			ON CONFLICT (app_name, key) WHERE deleted_at IS NULL DO UPDATE SET value = excluded.value, updated_at = now();
		ELSIF k LIKE 'user:%' THEN
			INSERT INTO agentstore.user_states AS a (app_name, user_id, key, value) VALUES (p_app, p_user, substr(k, 6), v)
			ON CONFLICT (app_name, user_id, key) WHERE deleted_at IS NULL DO UPDATE SET value = excluded.value, updated_at = now();
		ELSIF k LIKE 'temp:%' THEN
			NULL;
		ELSIF jsonb_typeof(v) = 'null' THEN
			v_remove := v_remove || k;
		ELSE
			v_set := v_set || jsonb_build_object(k, v);
		END IF;
	END LOOP;
	UPDATE agentstore.sessions s
	   SET state = (s.state || v_set) - v_remove, updated_at = now(),
	       event_count = s.event_count + 1,
	       expires_at = CASE WHEN coalesce(s.ttl, v_ttl) > '0' THEN now() + coalesce(s.ttl, v_ttl) END
	 WHERE s.app_name = p_app AND s.user_id = p_user AND s.session_id = p_sid AND s.deleted_at IS NULL
	   AND (s.expires_at IS NULL OR s.expires_at > now())
	RETURNING s.id INTO v_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'session does not exist';
	END IF;
	INSERT INTO agentstore.events (stream, event_id, type, data)
	VALUES ('session-' || v_id, p_event->>'id', coalesce(p_event->>'type', ''), p_event)
	RETURNING version INTO v_version;
	RETURN v_version;
END \$\$" >/dev/null

event='{"author": "model", "invocation_id": "inv-1", "content": {"role": "model", "parts": [{"text": "The weather in Paris is sunny, 21 degrees."}]}, "actions": {"state_delta": {"turn": 1}}}'
cat >"$tmp/trpc.sql" <<SQL
\\set s random(1, $nsessions)
\\set n random(1, 1000000)
\\set u :s % 20
BEGIN;
SELECT state, expires_at FROM bench.trpc_session_states
 WHERE app_name = 'bench' AND user_id = 'u' || :u AND session_id = 's' || :s
   AND deleted_at IS NULL FOR UPDATE;
UPDATE bench.trpc_session_states
   SET state = state || jsonb_build_object('turn', (:n)::int, 'last_author', 'model'),
       updated_at = now(), expires_at = NULL
 WHERE app_name = 'bench' AND user_id = 'u' || :u AND session_id = 's' || :s AND deleted_at IS NULL;
INSERT INTO bench.trpc_session_events (app_name, user_id, session_id, event, created_at, updated_at)
VALUES ('bench', 'u' || :u, 's' || :s, '$event', now(), now());
COMMIT;
SQL
cat >"$tmp/plpgsql.sql" <<SQL
\\set s random(1, $nsessions)
\\set n random(1, 1000000)
\\set u :s % 20
SELECT bench.append_event_plpgsql('bench-plpgsql', 'u' || :u, 's' || :s, '$event',
	jsonb_build_object('turn', (:n)::int, 'last_author', 'model', 'temp:' || 'scratch', 1));
SQL
cat >"$tmp/agentstore.sql" <<SQL
\\set s random(1, $nsessions)
\\set n random(1, 1000000)
\\set u :s % 20
SELECT version FROM agentstore.append_event('bench-append', 'u' || :u, 's' || :s, '$event',
	jsonb_build_object('turn', (:n)::int, 'last_author', 'model', 'temp:' || 'scratch', 1));
SQL

count_failures() { FAILS[$1]=$(( ${FAILS[$1]:-0} + $(pgbench_failures) )); }
declare -A FAILS
AFTER_RUN=count_failures
q "CHECKPOINT" >/dev/null
alternate 3 "$secs" tps_trpc="$tmp/trpc.sql" tps_plpgsql="$tmp/plpgsql.sql" tps_as="$tmp/agentstore.sql" \
	-- -n -M prepared -c 8 -j 8
fails_trpc=${FAILS[tps_trpc]}
fails_as=${FAILS[tps_as]}

# every session stream must be exactly 1..n
gaps=$(q "SELECT count(*) FROM (SELECT stream, max(version) = count(*) AND min(version) = 1 AS ok
	FROM agentstore.events WHERE stream IN (SELECT 'session-' || id FROM agentstore.sessions WHERE app_name = 'bench-append')
	GROUP BY stream) x WHERE NOT ok")
[ "$gaps" = 0 ] || echo "append_event: $gaps session streams are not 1..n" >&2

report "append_event + state delta, 8 clients" "trpc-agent-go 5-statement transaction" "$tps_trpc" "$tps_as" tps higher
report "append_event + state delta, 8 clients" "same work as one PL/pgSQL function" "$tps_plpgsql" "$tps_as" tps higher
report "append_event + state delta: failures" "trpc-agent-go 5-statement transaction" "${fails_trpc:-0}" "${fails_as:-0}" count lower

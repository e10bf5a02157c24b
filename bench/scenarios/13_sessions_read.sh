# Reads: get_session's last 100 events of a session with 100,000 events, and
# list_sessions page 1,000 next to page 1.  Baselines: trpc-agent-go's
# read-everything (getEventsList and listSessions read every row of the
# session or user and keep the tail in Go) and OFFSET paging.  Figures are
# milliseconds per call (pgbench, one client, the strategies alternating).
source "$(dirname "${BASH_SOURCE[0]}")/sessions_common.bash"
tmp=$(bench_tmp)
nevents=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", 100000 * s }')
nsessions=$(awk -v s="$BENCH_SCALE" 'BEGIN { n = 20020 * s; printf "%d", (n < 2020) ? 2020 : n }')
pages=$(( (nsessions - 20) / 20 ))

q "DELETE FROM agentstore.sessions WHERE app_name = 'bench-read';
   DROP TABLE IF EXISTS bench.trpc_events_read, bench.trpc_states_read;
   CREATE TABLE bench.trpc_events_read (
	id bigserial PRIMARY KEY, app_name varchar(255) NOT NULL, user_id varchar(255) NOT NULL,
	session_id varchar(255) NOT NULL, event jsonb NOT NULL,
	created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
	expires_at timestamp, deleted_at timestamp);
   CREATE INDEX ON bench.trpc_events_read (app_name, user_id, session_id, created_at);
   CREATE TABLE bench.trpc_states_read (
	id bigserial PRIMARY KEY, app_name varchar(255) NOT NULL, user_id varchar(255) NOT NULL,
	session_id varchar(255) NOT NULL, state jsonb, created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, expires_at timestamp, deleted_at timestamp);
   CREATE UNIQUE INDEX ON bench.trpc_states_read (app_name, user_id, session_id) WHERE deleted_at IS NULL;" >/dev/null

# one long session on each side, the same events
q "SELECT agentstore.create_session('bench-read', 'long', 's');
   INSERT INTO agentstore.events (stream, data)
   SELECT 'session-' || (SELECT id FROM agentstore.sessions WHERE app_name = 'bench-read' AND user_id = 'long'),
          jsonb_build_object('author', 'model', 'n', g, 'text', repeat('x', 200))
     FROM generate_series(1, $nevents) g;
   INSERT INTO bench.trpc_events_read (app_name, user_id, session_id, event, created_at)
   SELECT 'bench', 'long', 's', jsonb_build_object('author', 'model', 'n', g, 'text', repeat('x', 200)),
          timestamp '2026-01-01' + g * interval '1 ms'
     FROM generate_series(1, $nevents) g" >/dev/null
# many sessions of one user on each side
q "INSERT INTO agentstore.sessions (app_name, user_id, session_id, updated_at)
   SELECT 'bench-read', 'many', 's' || g, timestamptz '2026-01-01' + g * interval '1 second'
     FROM generate_series(1, $nsessions) g;
   INSERT INTO bench.trpc_states_read (app_name, user_id, session_id, state, updated_at)
   SELECT 'bench', 'many', 's' || g, '{}', timestamp '2026-01-01' + g * interval '1 second'
     FROM generate_series(1, $nsessions) g" >/dev/null
for t in agentstore.sessions agentstore.events bench.trpc_events_read bench.trpc_states_read; do
	q "VACUUM ANALYZE $t"
done
token=$(q "DO \$\$
	DECLARE t text;
	BEGIN
		FOR i IN 1..$pages LOOP
			t := agentstore.list_sessions('bench-read', 'many', 20, t)->>'next_page_token';
		END LOOP;
		PERFORM set_config('bench.token', t, false);
	END \$\$; SELECT current_setting('bench.token')")

cat >"$tmp/get_last100.sql" <<'SQL'
SELECT agentstore.get_session('bench-read', 'long', 's', 100);
SQL
# trpc getEventsList: every event of the session, oldest first; Go keeps the tail
cat >"$tmp/trpc_events.sql" <<'SQL'
SELECT event, created_at FROM bench.trpc_events_read
 WHERE app_name = 'bench' AND user_id = 'long' AND session_id = 's'
   AND (expires_at IS NULL OR expires_at > now()) AND deleted_at IS NULL
 ORDER BY created_at;
SQL
cat >"$tmp/list_page1.sql" <<'SQL'
SELECT agentstore.list_sessions('bench-read', 'many', 20);
SQL
cat >"$tmp/list_pageN.sql" <<SQL
SELECT agentstore.list_sessions('bench-read', 'many', 20, '$token');
SQL
# trpc listSessions: every session of the user, newest first
cat >"$tmp/trpc_list.sql" <<'SQL'
SELECT session_id, state, created_at, updated_at FROM bench.trpc_states_read
 WHERE app_name = 'bench' AND user_id = 'many'
   AND (expires_at IS NULL OR expires_at > now()) AND deleted_at IS NULL
 ORDER BY updated_at DESC;
SQL
cat >"$tmp/offset_pageN.sql" <<SQL
SELECT session_id, created_at, updated_at FROM bench.trpc_states_read
 WHERE app_name = 'bench' AND user_id = 'many' AND deleted_at IS NULL
 ORDER BY updated_at DESC OFFSET $((pages * 20)) LIMIT 20;
SQL

ms() { awk -v t="$1" 'BEGIN { if (t == "-" || t == 0) print "-"; else printf "%.3f\n", 1000 / t }'; }
alternate 3 3 get=$tmp/get_last100.sql trpc_get=$tmp/trpc_events.sql \
	page1=$tmp/list_page1.sql pageN=$tmp/list_pageN.sql trpc_list=$tmp/trpc_list.sql \
	offset=$tmp/offset_pageN.sql -- -n -M prepared -c 1
n=$(q "SELECT jsonb_array_length(agentstore.get_session('bench-read', 'long', 's', 100)->'events')")
[ "$n" = 100 ] || echo "get_session returned $n events, expected 100" >&2
n=$(q "SELECT jsonb_array_length(agentstore.list_sessions('bench-read', 'many', 20, '$token')->'sessions')")
[ "$n" = 20 ] || echo "page $((pages + 1)) has $n sessions, expected 20" >&2

report "get_session, last 100 of ${nevents} events" "trpc read-everything (all events, tail kept)" "$(ms "$trpc_get")" "$(ms "$get")" ms lower
report "list_sessions page 1 (20 of ${nsessions})" "trpc read-everything (all sessions of the user)" "$(ms "$trpc_list")" "$(ms "$page1")" ms lower
report "list_sessions page $((pages + 1)) (20 of ${nsessions})" "trpc read-everything (all sessions of the user)" "$(ms "$trpc_list")" "$(ms "$pageN")" ms lower
report "list_sessions page $((pages + 1)) (20 of ${nsessions})" "OFFSET $((pages * 20)) LIMIT 20" "$(ms "$offset")" "$(ms "$pageN")" ms lower
report "list_sessions page $((pages + 1)) vs page 1" "page 1" "$(ms "$page1")" "$(ms "$pageN")" ms lower
q "DELETE FROM agentstore.events WHERE stream IN (SELECT 'session-' || id FROM agentstore.sessions WHERE app_name = 'bench-read');
   DELETE FROM agentstore.sessions WHERE app_name = 'bench-read'" >/dev/null

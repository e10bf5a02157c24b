# The find-or-insert workload under concurrency (pgbench, 8 clients),
# one hot key and 1,000 keys.  Baseline: the improved find-or-insert CTE (SELECT
# attempt, INSERT ... EXCEPT ... ON CONFLICT DO UPDATE) on a table equivalent
# to agentstore.sessions (bigserial id, unique key, jsonb state); agentstore:
# get_or_create_session().  Besides tps we count failures, sequence values
# used, row updates and dead tuples; an empty result is a failure (division
# by zero) on both sides.  The strategies alternate in short rounds.
source "$(dirname "${BASH_SOURCE[0]}")/sessions_common.bash"
rounds=3
secs=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", (4 * s < 2) ? 2 : 4 * s }')
tmp=$(bench_tmp)
q "DROP TABLE IF EXISTS bench.cte_sessions;
   CREATE TABLE bench.cte_sessions (
	id bigserial PRIMARY KEY, app_name text NOT NULL, user_id text NOT NULL,
	session_id text NOT NULL, state jsonb NOT NULL DEFAULT '{}',
	created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (app_name, user_id, session_id))"
q "DELETE FROM agentstore.sessions WHERE app_name = 'bench-goc'" >/dev/null

write_cte_script() {
	cat >"$1" <<SQL
$2
WITH val(app_name, user_id, session_id) AS (
	VALUES ('bench', 'u', 's' || :k)
), select_attempt AS (
	SELECT t.* FROM bench.cte_sessions t JOIN val USING (app_name, user_id, session_id)
), inserted AS (
	INSERT INTO bench.cte_sessions (app_name, user_id, session_id)
	SELECT * FROM val
	EXCEPT
	SELECT app_name, user_id, session_id FROM select_attempt
	ON CONFLICT (app_name, user_id, session_id) DO UPDATE SET session_id = EXCLUDED.session_id
	RETURNING *
), res AS (
	SELECT * FROM select_attempt UNION ALL SELECT * FROM inserted
)
SELECT 1 / count(*) FROM res;
SQL
}
write_as_script() {
	cat >"$1" <<SQL
$2
SELECT 1 / (id IS NOT NULL)::int FROM agentstore.get_or_create_session('bench-goc', 'u', 's' || :k);
SQL
}
write_cte_script "$tmp/cte_hot.sql" "\\set k 1"
write_cte_script "$tmp/cte_1000.sql" "\\set k random(1, 1000)"
write_as_script "$tmp/as_hot.sql" "\\set k 1"
write_as_script "$tmp/as_1000.sql" "\\set k random(1, 1000)"

# Counters a find-or-insert should not move on a hit: sequence, inserts,
# updates, dead tuples (pg_stat_* lag, hence the pause).
counters() {
	if [ "$1" = cte ]; then
		q "SELECT (SELECT last_value FROM bench.cte_sessions_id_seq) || ' ' || n_tup_ins || ' ' || n_tup_upd || ' ' || n_dead_tup
		     FROM pg_stat_user_tables WHERE relid = 'bench.cte_sessions'::regclass"
	else
		q "SELECT (SELECT last_value FROM agentstore.sessions_id_seq) || ' ' || n_tup_ins || ' ' || n_tup_upd || ' ' || n_dead_tup
		     FROM pg_stat_user_tables WHERE relid = 'agentstore.sessions'::regclass"
	fi
}
declare -A DELTA
before_run() { q "SELECT pg_stat_force_next_flush()" >/dev/null; sleep 0.6; BEFORE=$(counters "$1"); }
after_run() {
	local fails after
	fails=$(pgbench_failures)
	sleep 0.6
	after=$(counters "$1")
	set -- "$1" $BEFORE $after
	# sequence used, rows inserted, rows updated, dead tuples, failures
	local prev=(${DELTA[$1]:-0 0 0 0 0})
	DELTA[$1]="$((prev[0] + $6 - $2)) $((prev[1] + $7 - $3)) $((prev[2] + $8 - $4)) $((prev[3] + $9 - $5)) $((prev[4] + ${fails:-0}))"
}
BEFORE_RUN=before_run
AFTER_RUN=after_run

run_case() {
	local label=$1
	DELTA=()
	alternate "$rounds" "$secs" cte="$2" as="$3" -- -n -M prepared -c 8 -j 8
	local c=(${DELTA[cte]}) a=(${DELTA[as]})
	report "get-or-create, $label" "find-or-insert CTE" "$cte" "$as" tps higher
	report "get-or-create, $label: failures" "find-or-insert CTE" "${c[4]}" "${a[4]}" count lower
	report "get-or-create, $label: sequence values used" "find-or-insert CTE" "${c[0]}" "${a[0]}" count lower
	report "get-or-create, $label: rows inserted" "find-or-insert CTE" "${c[1]}" "${a[1]}" count lower
	report "get-or-create, $label: row updates" "find-or-insert CTE" "${c[2]}" "${a[2]}" count lower
	report "get-or-create, $label: dead tuples" "find-or-insert CTE" "${c[3]}" "${a[3]}" count lower
}
run_case "one hot key" "$tmp/cte_hot.sql" "$tmp/as_hot.sql"
run_case "1,000 keys" "$tmp/cte_1000.sql" "$tmp/as_1000.sql"
# every key exists now: a hit must write nothing at all
q "SELECT count(*) FROM (SELECT agentstore.get_or_create_session('bench-goc', 'u', 's' || g) FROM generate_series(1, 1000) g) x;
   INSERT INTO bench.cte_sessions (app_name, user_id, session_id) SELECT 'bench', 'u', 's' || g FROM generate_series(1, 1000) g ON CONFLICT DO NOTHING" >/dev/null
q "VACUUM bench.cte_sessions"
q "VACUUM agentstore.sessions"
run_case "1,000 keys, hits only" "$tmp/cte_1000.sql" "$tmp/as_1000.sql"

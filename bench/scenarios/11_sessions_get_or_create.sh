# Seed 003's workload: find-or-insert under concurrency (pgbench, 8 clients),
# one hot key and 1,000 keys.  Baseline: seed 003's improved CTE (SELECT
# attempt, INSERT ... EXCEPT ... ON CONFLICT DO UPDATE) on a table equivalent to
# agentstore.sessions (bigserial id, unique key, jsonb state).  Besides tps we
# count failures, sequence values burned and needless row updates.
secs=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", (10 * s < 3) ? 3 : 10 * s }')
tmp=$(bench_tmp)
q "DROP TABLE IF EXISTS bench.s003;
   CREATE TABLE bench.s003 (
	id bigserial PRIMARY KEY, app_name text NOT NULL, user_id text NOT NULL,
	session_id text NOT NULL, state jsonb NOT NULL DEFAULT '{}',
	created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (app_name, user_id, session_id))"

write_cte_script() {
	cat >"$1" <<SQL
$2
WITH val(app_name, user_id, session_id) AS (
	VALUES ('bench', 'u', 's' || :k)
), select_attempt AS (
	SELECT t.* FROM bench.s003 t JOIN val USING (app_name, user_id, session_id)
), inserted AS (
	INSERT INTO bench.s003 (app_name, user_id, session_id)
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
write_cte_script "$tmp/cte_hot.sql" "\\set k 1"
write_cte_script "$tmp/cte_1000.sql" "\\set k random(1, 1000)"

# Table counters that a find-or-insert should not move on a hit.
table_counters() {
	sleep 1
	q "SELECT (SELECT last_value FROM bench.s003_id_seq) || ' ' || n_tup_upd || ' ' || n_dead_tup
	     FROM pg_stat_user_tables WHERE relid = 'bench.s003'::regclass"
}

run_case() {
	local label=$1 script=$2 before after tps fails
	before=$(table_counters)
	tps=$(pgbench_tps -n -c 8 -j 8 -T "$secs" -f "$script")
	fails=$(pgbench_failures)
	after=$(table_counters)
	report "get-or-create, $label" "seed 003 improved CTE" "$tps" - tps higher
	set -- $before $after
	report "get-or-create, $label: failures" "seed 003 improved CTE" "${fails:-0}" - count lower
	report "get-or-create, $label: sequence values burned" "seed 003 improved CTE" "$(($4 - $1))" - count lower
	report "get-or-create, $label: row updates" "seed 003 improved CTE" "$(($5 - $2))" - count lower
}
run_case "one hot key" "$tmp/cte_hot.sql"
run_case "1,000 keys" "$tmp/cte_1000.sql"
run_case "1,000 keys, hits only" "$tmp/cte_1000.sql"

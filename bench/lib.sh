# Helpers for benchmark scenarios (bench/scenarios/*.sh).  bench/run.sh sources
# this file and then each scenario, with PGHOST/PGPORT/PGDATABASE/PGUSER set to
# the benchmark cluster and BENCH_SCALE (default 1) to shrink a run.

BENCH_SCALE=${BENCH_SCALE:-1}

# Run SQL, print unaligned tuples only.
q() { psql -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
q_file() { psql -qAtX -v ON_ERROR_STOP=1 -f "$1"; }

# A scratch directory for this run, readable by the postgres user (created
# once, when this file is sourced, so that subshells share it).
BENCH_TMP=${BENCH_TMP:-$(mktemp -d /tmp/agentstore-bench-tmp.XXXXXX)}
chmod 755 "$BENCH_TMP"
export BENCH_TMP
bench_tmp() { echo "$BENCH_TMP"; }

# Elapsed wall-clock seconds of a command, printed with millisecond precision.
time_cmd() {
	local start end
	start=$(date +%s.%N)
	"$@" >/dev/null
	end=$(date +%s.%N)
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}
time_sql() { time_cmd psql -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
time_file() { time_cmd psql -qAtX -v ON_ERROR_STOP=1 -f "$1"; }

# Run pgbench with the given arguments and print its tps (without connection
# time).  The full output is kept in $(bench_tmp)/pgbench.last.
pgbench_tps() {
	local out
	out="$(bench_tmp)/pgbench.last"
	pgbench "$@" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
	sed -n 's/^tps = \([0-9]*\)\.[0-9]* .*without initial connection time.*/\1/p' "$out"
}

# Count of failed transactions in the last pgbench run.
pgbench_failures() {
	sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$(bench_tmp)/pgbench.last"
}

# p99 latency (ms) from a pgbench per-transaction log directory prefix ($1).
pgbench_p99() {
	cat "$1".* 2>/dev/null | awk '{ print $3 / 1000.0 }' | sort -n |
		awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else printf "%.2f\n", a[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1] }'
}

# Whether agentstore has a function with this signature, e.g.
# has_function 'agentstore.upsert_sessions(jsonb, boolean)'.
has_function() {
	[ "$(q "SELECT to_regprocedure('$1') IS NOT NULL")" = t ]
}

# report SCENARIO BASELINE BASELINE_VALUE AGENTSTORE_VALUE UNIT higher|lower|-
# ("-": a figure with no better direction, printed without a ratio).
# Records one row of the result table.  A value of "-" means not measured
# (for instance, the agentstore side of a feature that does not exist yet).
report() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$BENCH_RESULTS"
	printf '    %-44s %-40s %12s %12s %s\n' "$1" "$2" "$3" "$4" "$5" >&2
}

# agent-go's batch-writer sessions table (13 columns, 5 JSONB), for the baselines.
create_agentgo_table() {
	q "DROP TABLE IF EXISTS $1;
	   CREATE TABLE $1 (
		session_id varchar(255) PRIMARY KEY, agent_id varchar(255), team_id varchar(255),
		workflow_id varchar(255), user_id varchar(255), name varchar(255),
		metadata jsonb, state jsonb, agent_data jsonb, runs jsonb, summary jsonb,
		created_at timestamptz, updated_at timestamptz)"
}

# Write N agent-go sessions (about 1.5 kB each) as CSV to $2, with ids
# starting at $3 (default 1).  Deterministic, so every strategy gets the same rows.
gen_agentgo_csv() {
	local n=$1 file=$2 first=${3:-1}
	psql -qAtX -v ON_ERROR_STOP=1 -c "\\copy (SELECT
		'sess-' || g, 'agent-' || (g % 97), 'team-' || (g % 13), 'wf-' || (g % 7),
		'user-' || (g % 1000), 'Session number ' || g,
		jsonb_build_object('source', 'bench', 'tags', jsonb_build_array('a', 'b', 'c'), 'n', g),
		jsonb_build_object('step', g % 50, 'vars', jsonb_build_object('lang', 'en', 'mode', 'chat',
			'history_len', g % 30, 'notes', repeat('s', 200))),
		jsonb_build_object('model', 'gpt-x', 'temperature', 0.2, 'tools', jsonb_build_array('search', 'calc'),
			'config', repeat('a', 120)),
		jsonb_build_array(jsonb_build_object('run_id', 'r' || g, 'status', 'done',
			'messages', jsonb_build_array(repeat('m', 200), repeat('n', 200), repeat('o', 200)))),
		jsonb_build_object('text', repeat('summary ', 12), 'topics', jsonb_build_array('x', 'y')),
		timestamptz '2026-01-01' + g * interval '1 second',
		timestamptz '2026-01-02' + g * interval '1 second'
	  FROM generate_series($first, $first + $n - 1) g) TO '$file' WITH (FORMAT csv)"
}

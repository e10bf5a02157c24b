# Shared by the event-stream scenarios (sourced, not run: run.sh only runs
# *.sh).  On a machine shared with other work, strategies measured one after
# the other see different loads; interleaving short rounds evens that out.

# run_rounds SECONDS NAME=SCRIPT... -- PGBENCH_ARGS...
# Runs each pgbench script for SECONDS in total, as 4 interleaved rounds
# (after a one-second warm-up each), and sets the variable NAME to its mean
# tps.
run_rounds() {
	local secs=$1 rounds=4 round_secs pair name script tps
	local -a pairs=() args=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do pairs+=("$1"); shift; done
	shift
	args=("$@")
	round_secs=$((secs / rounds))
	[ "$round_secs" -ge 1 ] || round_secs=1
	declare -gA ROUND_SUM=()
	for pair in "${pairs[@]}"; do
		pgbench_tps "${args[@]}" -T 1 -f "${pair#*=}" >/dev/null
		ROUND_SUM[${pair%%=*}]=0
	done
	q "CHECKPOINT"
	for _ in $(seq 1 "$rounds"); do
		for pair in "${pairs[@]}"; do
			name=${pair%%=*} script=${pair#*=}
			tps=$(pgbench_tps "${args[@]}" -T "$round_secs" -f "$script")
			ROUND_SUM[$name]=$((ROUND_SUM[$name] + tps))
		done
	done
	for pair in "${pairs[@]}"; do
		name=${pair%%=*}
		printf -v "$name" '%d' $((ROUND_SUM[$name] / rounds))
	done
}

# backend_cpu_us TRANSACTIONS SCRIPT PGBENCH_ARGS...
# Runs SCRIPT TRANSACTIONS times on one connection and prints the CPU time
# (user + system, microseconds) its server backend spent per transaction,
# read from /proc: unlike throughput, this hardly moves when other work
# shares the machine.  Prints "-" when the server's processes are not
# visible here (a server on another machine).
backend_cpu_us() {
	local n=$1 script=$2 pid ticks last="" hz pgb
	shift 2
	hz=$(getconf CLK_TCK)
	pgbench "$@" -c 1 -j 1 -t "$n" -f "$script" >/dev/null 2>&1 &
	pgb=$!
	pid=""
	while kill -0 "$pgb" 2>/dev/null; do
		[ -n "$pid" ] || pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' LIMIT 1")
		if [ -n "$pid" ] && [ -r "/proc/$pid/stat" ]; then
			ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) && last=$ticks
		fi
		sleep 0.05
	done
	wait "$pgb" || true
	if [ -z "$last" ]; then echo -; return; fi
	awk -v t="$last" -v hz="$hz" -v n="$n" 'BEGIN { printf "%d", t * 1000000 / hz / n }'
}

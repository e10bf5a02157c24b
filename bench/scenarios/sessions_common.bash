# Shared by the session scenarios (sourced by them; run.sh runs only *.sh).
# The machine is shared, so strategies measured one after the other would see
# different loads: alternate them in short rounds and keep each one's median.

# alternate ROUNDS SECONDS NAME=SCRIPT... -- PGBENCH_ARGS...
# Runs every script ROUNDS times for SECONDS, round-robin, and sets NAME to
# the median tps of its rounds.  Before and after each run it calls the
# shell function named by $BEFORE_RUN / $AFTER_RUN (if set) with NAME, so a
# scenario can count what each strategy wrote.
alternate() {
	local rounds=$1 secs=$2 pair name r
	local -a pairs=() args=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do pairs+=("$1"); shift; done
	shift
	args=("$@")
	declare -gA TPS_ROUNDS=()
	for r in $(seq 1 "$rounds"); do
		for pair in "${pairs[@]}"; do
			name=${pair%%=*}
			[ -z "${BEFORE_RUN:-}" ] || "$BEFORE_RUN" "$name"
			TPS_ROUNDS[$name]+="$(pgbench_tps "${args[@]}" -T "$secs" -f "${pair#*=}") "
			[ -z "${AFTER_RUN:-}" ] || "$AFTER_RUN" "$name"
		done
	done
	for pair in "${pairs[@]}"; do
		name=${pair%%=*}
		printf -v "$name" '%s' "$(echo ${TPS_ROUNDS[$name]} | tr ' ' '\n' | sort -n |
			awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }')"
	done
}

# Seconds a command takes, or "-" if it fails (a failed run must not pass
# for a fast one).
checked_time() {
	local start end
	start=$(date +%s.%N)
	if ! "$@" >/dev/null; then
		echo "failed: $*" >&2
		echo -
		return 0
	fi
	end=$(date +%s.%N)
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

# Helpers of the checkpoint scenarios (sourced by bench/scenarios/3*_checkpoints_*.sh).

# Median of the arguments.
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# cp_compare SECS LABEL... : pgbench tps of several "MODE:FILE" cases, run
# in alternation (5 rounds of SECS/5 seconds each, so that a load change on a
# shared machine hits every case alike); prints each case's median tps, in
# the order given.
cp_compare() {
	local secs=$1 rounds=5 r i
	shift
	local -a cases=("$@") results
	local round_secs=$(( secs / rounds > 2 ? secs / rounds : 2 ))
	for ((r = 0; r < rounds; r++)); do
		for i in "${!cases[@]}"; do
			results[$i]+=" $(pgbench_tps -n -M "${cases[$i]%%:*}" -c 1 -T "$round_secs" -f "${cases[$i]#*:}")"
		done
	done
	for i in "${!cases[@]}"; do
		# shellcheck disable=SC2086
		median ${results[$i]}
	done
}

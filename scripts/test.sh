#!/usr/bin/env bash
# Run the whole agentstore test suite on throwaway clusters, as root:
#
#   bash scripts/test.sh
#
# Installs what is missing, builds with warnings as errors, installs, then runs
# pg_regress (test/sql, pgTAP contracts included), the isolation tester
# (test/specs) and the TAP tests (test/t) as the postgres user, each on its own
# temporary cluster.  Ends with one line "N passed, N failed" where a test is
# one regression file, one isolation spec or one TAP assertion; exits non-zero
# on any failure after printing regression.diffs or the failing TAP log.
#
# Environment: PG_CONFIG (which server to build for), AGENTSTORE_WORKDIR
# (scratch directory, default /tmp/agentstore-test), AGENTSTORE_TESTS (a
# regular expression: run only the tests whose name matches).
set -euo pipefail
source "$(dirname "$0")/common.sh"

require_root
install_packages
WORK=${AGENTSTORE_WORKDIR:-/tmp/agentstore-test}
ONLY=${AGENTSTORE_TESTS:-.}
build_and_install "$WORK"
cd "$WORK"

passed=0
failed=0
skipped=0
failures=()

# Names (without suffix) of the files in $1 with suffix $2 matching $ONLY.
select_tests() {
	local f
	for f in "$1"/*"$2"; do
		[ -e "$f" ] || continue
		f=$(basename "$f" "$2")
		[[ $f =~ $ONLY ]] && echo "$f"
	done
	return 0
}

# Count a pg_regress-style run: every selected test that did not report
# "... ok" failed, including those a crash or a missing file never reached.
count_regress_output() {
	local out=$1 selected=$2
	local ok
	ok=$(grep -cE '\.\.\. ok|\.\.\. failed \(ignored\)' "$out" || true)
	passed=$((passed + ok))
	failed=$((failed + selected - ok))
	[ "$ok" -eq "$selected" ]
}

# pg_regress and pg_isolation_regress share everything but the binary,
# the file list and the output directory.
run_pg_regress() {
	local kind=$1 binary=$2 outdir=$3
	shift 3
	[ $# -gt 0 ] || return 0
	log "$kind: $*"
	local out="$WORK/$outdir.log"
	as_postgres "$binary" \
		--temp-instance="$WORK/tmp_$outdir" \
		--temp-config="$WORK/test/test.conf" \
		--bindir="$PG_BINDIR" \
		--inputdir="$WORK/test" \
		--outputdir="$WORK/$outdir" \
		--load-extension=agentstore \
		"${extra_opts[@]}" "$@" >"$out" 2>&1 || true
	cat "$out"
	if ! count_regress_output "$out" $#; then
		failures+=("$kind")
		echo "---------------- $outdir/regression.diffs ----------------"
		cat "$WORK/$outdir/regression.diffs" 2>/dev/null || true
		if ! grep -qE '\.\.\. (ok|FAILED)' "$out"; then
			echo "---------------- $kind postmaster log ----------------"
			cat "$WORK/$outdir/log/postmaster.log" 2>/dev/null || true
		fi
	fi
}

mapfile -t regress < <(select_tests test/sql .sql)
mapfile -t specs < <(select_tests test/specs .spec)
mapfile -t taps < <(select_tests test/t .pl)

extra_opts=(--load-extension=pgtap)
run_pg_regress regression "$PG_PGXS_DIR/src/test/regress/pg_regress" out_regress "${regress[@]}"
extra_opts=()
run_pg_regress isolation "$PG_PGXS_DIR/src/test/isolation/pg_isolation_regress" out_isolation "${specs[@]}"

# TAP tests: prove with PostgreSQL's test modules, one result line per file.
if [ ${#taps[@]} -gt 0 ]; then
	log "tap: ${taps[*]}"
	mkdir -p "$WORK/tmp_check"
	chown postgres: "$WORK/tmp_check"
	tap_files=()
	for t in "${taps[@]}"; do tap_files+=("test/t/$t.pl"); done
	set +e
	as_postgres TESTDIR="$WORK" PG_REGRESS="$PG_PGXS_DIR/src/test/regress/pg_regress" \
		PG_CONFIG="$PG_CONFIG" AGENTSTORE_SRC="$WORK" \
		prove -I "$PG_PGXS_DIR/src/test/perl" -I test/perl --merge -v "${tap_files[@]}" \
		>"$WORK/tap.log" 2>&1
	set -e
	cat "$WORK/tap.log"
	tap_ok=$(grep -cE '^ok [0-9]+' "$WORK/tap.log" || true)
	tap_bad=$(grep -cE '^not ok [0-9]+' "$WORK/tap.log" || true)
	tap_skip=$(grep -cE '^ok [0-9]+ .*# skip' "$WORK/tap.log" || true)
	# a whole file skipped (prove: "t.pl .. skipped: why") counts as one skipped test
	tap_skip_all=$(grep -cE '\.\. skipped: ' "$WORK/tap.log" || true)
	skipped=$((skipped + tap_skip_all))
	passed=$((passed + tap_ok - tap_skip))
	skipped=$((skipped + tap_skip))
	failed=$((failed + tap_bad))
	if ! grep -qE '^Result: (PASS|NOTESTS)' "$WORK/tap.log"; then
		# a script that died without a "not ok" still fails the run
		[ "$tap_bad" -gt 0 ] || failed=$((failed + 1))
		failures+=("tap")
		for logf in "$WORK"/tmp_check/log/regress_log_*; do
			[ -e "$logf" ] || continue
			echo "---------------- $(basename "$logf") ----------------"
			tail -n 200 "$logf"
		done
	fi
fi

# Further suites (test/suites/*.sh, for example LangGraph's conformance suite
# against the JavaScript client).  A suite that prints "<name>: N passed, N
# failed[, N skipped]" is counted test by test; otherwise it counts as one
# test, passed when it exits 0.
for extra in "$REPO"/test/suites/*.sh; do
	[ -e "$extra" ] || continue
	name=$(basename "$extra" .sh)
	[[ $name =~ $ONLY ]] || continue
	log "suite: $name"
	status=0
	WORK="$WORK" PG_BINDIR="$PG_BINDIR" bash "$extra" >"$WORK/suite_$name.log" 2>&1 || status=$?
	cat "$WORK/suite_$name.log"
	counts=$(sed -n "s/^$name: \([0-9]*\) passed, \([0-9]*\) failed\(, \([0-9]*\) skipped\)\{0,1\}$/\1 \2 \4/p" "$WORK/suite_$name.log" | tail -n 1)
	if [ -n "$counts" ]; then
		set -- $counts
		passed=$((passed + $1))
		failed=$((failed + $2))
		skipped=$((skipped + ${3:-0}))
		[ "$status" -eq 0 ] && [ "$2" -eq 0 ] || { [ "$2" -gt 0 ] || failed=$((failed + 1)); failures+=("$name"); }
	elif [ "$status" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$name")
	fi
done

[ ${#failures[@]} -eq 0 ] || log "failed: ${failures[*]}"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

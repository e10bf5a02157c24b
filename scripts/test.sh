#!/usr/bin/env bash
# Run the whole agentstore test suite on throwaway clusters, as root:
#
#   bash scripts/test.sh
#
# Installs what is missing, then for each server of the matrix builds
# agentstore with warnings as errors, installs it, and runs pg_regress
# (test/sql, pgTAP contracts included), the isolation tester (test/specs), the
# TAP tests (test/t) and the further suites (test/suites) as the postgres
# user, each on its own temporary cluster.  Every server log of the run is then
# scanned for crashes, assertion failures and memory or resource-leak reports;
# each one found fails the run, naming the test.  Ends with one line
# "N passed, N failed" where a test is one regression file, one isolation
# spec, one TAP assertion or one client test, per server, and one log-scan
# finding is one failure; exits non-zero on any failure after printing
# regression.diffs or the failing TAP log.
#
# The servers (AGENTSTORE_SERVERS, space-separated):
#   debian    Debian's PostgreSQL 15 packages (or PG_CONFIG's server)
#   cassert   PostgreSQL 15 built from Debian's source package with
#             --enable-cassert --enable-debug (freed memory is wiped, memory
#             contexts are checked), by scripts/pgbuild.sh, cached in
#             /var/cache/agentstore so that later runs reuse it
#   pg17      PostgreSQL 17 built from Debian's source package (trixie),
#             release build, by scripts/pgbuild.sh, cached likewise
#   pg18      PostgreSQL 18 built from Debian's source package (sid), likewise
# The default is "debian cassert pg18" (15 twice and the newest major): one
# server's whole suite takes 10 to 15 minutes on a busy 2-core machine, and
# building a server from source the first time some 25 minutes more, so the
# full matrix does not fit well under an hour.  AGENTSTORE_MATRIX=full selects
# "debian cassert pg17 pg18" (about an hour with cached builds); an explicit
# AGENTSTORE_SERVERS wins over both.
#
# Environment: PG_CONFIG (the "debian" server's pg_config), AGENTSTORE_WORKDIR
# (scratch directory, default /tmp/agentstore-test), AGENTSTORE_TESTS (a
# regular expression: run only the tests whose name matches),
# AGENTSTORE_SERVERS and AGENTSTORE_MATRIX (above), AGENTSTORE_PG17_CONFIG and
# AGENTSTORE_PG18_CONFIG (the pg_config of a copy of such a build to use
# instead of scripts/pgbuild.sh's shared one: agentstore is installed into the
# server it tests, so parallel runs each need their own copy).  The TAP test
# of dump and restore across versions (test/t/070_dump_across_versions.pl)
# runs on the 15 servers and restores into the pg17 and pg18 builds named by
# those two variables, else the matrix's pg17/pg18 servers (built before the
# first suite runs), else scripts/pgbuild.sh's cached builds when they exist;
# agentstore is installed there first.  See docs/testing.md.
set -euo pipefail
source "$(dirname "$0")/common.sh"

require_root
install_packages
WORK_ROOT=${AGENTSTORE_WORKDIR:-/tmp/agentstore-test}
ONLY=${AGENTSTORE_TESTS:-.}
case "${AGENTSTORE_MATRIX:-default}" in
full) DEFAULT_SERVERS="debian cassert pg17 pg18" ;;
default) DEFAULT_SERVERS="debian cassert pg18" ;;
*) die "AGENTSTORE_MATRIX must be default or full" ;;
esac
SERVERS=${AGENTSTORE_SERVERS:-$DEFAULT_SERVERS}
DEBIAN_PG_CONFIG=$PG_CONFIG

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
# "... ok" (15) or "ok N - name" (16+, TAP style) failed, including those a
# crash or a missing file never reached.
count_regress_output() {
	local out=$1 selected=$2
	local ok
	ok=$(grep -cE '\.\.\. ok|\.\.\. failed \(ignored\)|^ok [0-9]+ ' "$out" || true)
	passed=$((passed + ok))
	failed=$((failed + selected - ok))
	[ "$ok" -eq "$selected" ]
}

# pg_regress and pg_isolation_regress share everything but the binary,
# the file list and the output directory.  Expected files are looked up in
# the top-level expected/ directory (pg_regress searches --outputdir's
# expected/ first, so the output directory's expected/ is a link to it).
run_pg_regress() {
	local kind=$1 binary=$2 outdir=$3
	shift 3
	[ $# -gt 0 ] || return 0
	log "$SERVER $kind: $*"
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
		failures+=("$SERVER:$kind")
		echo "---------------- $SERVER $outdir/regression.diffs ----------------"
		cat "$WORK/$outdir/regression.diffs" 2>/dev/null || true
		if ! grep -qE '\.\.\. (ok|FAILED)' "$out"; then
			echo "---------------- $SERVER $kind postmaster log ----------------"
			cat "$WORK/$outdir/log/postmaster.log" 2>/dev/null || true
		fi
	fi
}

# The signs of a memory error or a leak that a server log can hold.  Signal 9
# is left out: the crash tests kill backends on purpose.
LOG_ALARMS='terminated by signal ([0-8]|1[0-9]|[2-9][0-9])([^0-9]|$)|TRAP:|problem in alloc set|detected write past chunk end|WARNING: .*(leak|still referenced|was not closed)|PANIC:'

# The alarms of log $1, with line numbers.  A crash or a warning that a test
# causes on purpose, to prove that it is caught, is not one: it carries the
# words agentstore-expected-crash on its line or the next (a crashed
# backend's statement is on the postmaster's "Failed process was running"
# line that follows).
log_alarms() {
	awk -v re="$LOG_ALARMS" '
		{ line[NR] = $0 }
		END {
			for (i = 1; i <= NR; i++)
				if (line[i] ~ re && line[i] !~ /agentstore-expected-crash/ &&
					line[i + 1] !~ /agentstore-expected-crash/)
					print i ":" line[i]
		}' "$1"
}

# Scan every server log under $WORK; each alarm is a failure naming its test
# (the log file names TAP tests; pg_regress logs carry the test in %a).
scan_logs() {
	local f hits n name
	while IFS= read -r -d '' f; do
		hits=$(log_alarms "$f")
		[ -n "$hits" ] || continue
		n=$(printf '%s\n' "$hits" | wc -l)
		name=${f#"$WORK"/}
		failed=$((failed + n))
		failures+=("$SERVER:log:$name")
		echo "---------------- $SERVER log scan: $name ----------------"
		printf '%s\n' "$hits" | head -n 20
		# the statement a crashed backend was running, and its test
		grep -naE 'Failed process was running|pg_regress/' "$f" |
			grep -B2 -A2 -E 'Failed process was running' | head -n 20 || true
	done < <(find "$WORK" -type f -name '*.log' \( -path '*/log/*' -o -path "$WORK/logs/*" \) -print0 2>/dev/null)
}

# The pg_config of the PostgreSQL $1 build that the dump test restores into:
# AGENTSTORE_PG$1_CONFIG, else the matrix's pg$1 server, else
# scripts/pgbuild.sh's cached release build if there is one; nothing if none.
restore_target_config() {
	local var=AGENTSTORE_PG$1_CONFIG
	local cached=${AGENTSTORE_PGCACHE:-/var/cache/agentstore}/pg$1-release
	if [ -n "${!var:-}" ]; then
		echo "${!var}"
	elif [ -n "${SERVER_CONFIG[pg$1]:-}" ]; then
		echo "${SERVER_CONFIG[pg$1]}"
	elif [ -f "$cached/.agentstore-built" ]; then
		echo "$cached/bin/pg_config"
	fi
	return 0
}

# For the dump test on a 15 server: install agentstore into each newer build
# there is, and name them in restore_env (for prove's environment).
prepare_restore_targets() {
	local major cfg
	restore_env=()
	"$PG_CONFIG" --version | grep -q '^PostgreSQL 15' || return 0
	for major in 17 18; do
		cfg=$(restore_target_config "$major")
		[ -n "$cfg" ] || continue
		log "$SERVER: installing agentstore into PostgreSQL $major ($cfg) for the dump test"
		if (use_server "$cfg" && build_and_install "$WORK_ROOT/restore-pg$major"); then
			restore_env+=("AGENTSTORE_PG${major}_CONFIG=$cfg")
		else
			failed=$((failed + 1))
			failures+=("$SERVER:install-pg$major")
		fi
	done
}

# The whole suite against the server of pg_config $1, in $WORK_ROOT/$SERVER.
run_suite() {
	use_server "$1"
	WORK="$WORK_ROOT/$SERVER"
	build_and_install "$WORK"
	mkdir -p "$WORK/logs"
	chown postgres: "$WORK/logs"
	cd "$WORK"

	local regress specs taps
	mapfile -t regress < <(select_tests test/sql .sql)
	mapfile -t specs < <(select_tests test/specs .spec)
	mapfile -t taps < <(select_tests test/t .pl)

	# pg_regress looks for expected/ under --outputdir first (PostgreSQL 15
	# has no --expecteddir): point both output directories at expected/.
	local d
	if [ -d "$WORK/expected" ]; then
		for d in out_regress out_isolation; do
			mkdir -p "$WORK/$d"
			ln -sfn "$WORK/expected" "$WORK/$d/expected"
			chown -h postgres: "$WORK/$d" "$WORK/$d/expected"
		done
	fi

	extra_opts=(--load-extension=pgtap)
	run_pg_regress regression "$PG_PGXS_DIR/src/test/regress/pg_regress" out_regress "${regress[@]}"
	extra_opts=()
	run_pg_regress isolation "$PG_PGXS_DIR/src/test/isolation/pg_isolation_regress" out_isolation "${specs[@]}"

	# TAP tests: prove with PostgreSQL's test modules, one result line per file.
	# Their data and logs go to $WORK/tmp_check (TESTDIR up to 15,
	# TESTDATADIR and TESTLOGDIR from 16).
	if [ ${#taps[@]} -gt 0 ]; then
		log "$SERVER tap: ${taps[*]}"
		mkdir -p "$WORK/tmp_check"
		chown postgres: "$WORK/tmp_check"
		local tap_files=() t restore_env=()
		for t in "${taps[@]}"; do tap_files+=("test/t/$t.pl"); done
		if [[ " ${taps[*]} " == *" 070_dump_across_versions "* ]]; then
			prepare_restore_targets
		fi
		set +e
		as_postgres TESTDIR="$WORK" PG_REGRESS="$PG_PGXS_DIR/src/test/regress/pg_regress" \
			TESTDATADIR="$WORK/tmp_check" TESTLOGDIR="$WORK/tmp_check/log" \
			PG_CONFIG="$PG_CONFIG" AGENTSTORE_SRC="$WORK" "${restore_env[@]}" \
			prove -I "$PG_PGXS_DIR/src/test/perl" -I test/perl --merge -v "${tap_files[@]}" \
			>"$WORK/tap.log" 2>&1
		set -e
		cat "$WORK/tap.log"
		local tap_ok tap_bad tap_skip tap_skip_all
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
			failures+=("$SERVER:tap")
			local logf
			for logf in "$WORK"/tmp_check/log/regress_log_*; do
				[ -e "$logf" ] || continue
				echo "---------------- $SERVER $(basename "$logf") ----------------"
				tail -n 200 "$logf"
			done
		fi
	fi

	# Further suites (test/suites/*.sh, for example LangGraph's conformance
	# suite against the JavaScript client).  A suite that prints "<name>: N
	# passed, N failed[, N skipped]" is counted test by test; otherwise it
	# counts as one test, passed when it exits 0.  A suite leaves its server
	# logs in $WORK/logs for the scan.
	local extra name status counts
	for extra in "$WORK"/test/suites/*.sh; do
		[ -e "$extra" ] || continue
		name=$(basename "$extra" .sh)
		[[ $name =~ $ONLY ]] || continue
		log "$SERVER suite: $name"
		status=0
		WORK="$WORK" PG_BINDIR="$PG_BINDIR" PG_CONFIG="$PG_CONFIG" LOGDIR="$WORK/logs" bash "$extra" >"$WORK/suite_$name.out" 2>&1 || status=$?
		cat "$WORK/suite_$name.out"
		counts=$(sed -n "s/^$name: \([0-9]*\) passed, \([0-9]*\) failed\(, \([0-9]*\) skipped\)\{0,1\}$/\1 \2 \4/p" "$WORK/suite_$name.out" | tail -n 1)
		if [ -n "$counts" ]; then
			set -- $counts
			passed=$((passed + $1))
			failed=$((failed + $2))
			skipped=$((skipped + ${3:-0}))
			[ "$status" -eq 0 ] && [ "$2" -eq 0 ] || { [ "$2" -gt 0 ] || failed=$((failed + 1)); failures+=("$SERVER:$name"); }
		elif [ "$status" -eq 0 ]; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			failures+=("$SERVER:$name")
		fi
	done

	scan_logs
	cd "$REPO"
}

# The pg_config of server $1, building it first if it is a source build.
server_config() {
	case "$1" in
	debian) echo "$DEBIAN_PG_CONFIG" ;;
	cassert)
		log "assert-enabled PostgreSQL 15 (scripts/pgbuild.sh; cached after the first run)"
		bash "$REPO/scripts/pgbuild.sh" 15 cassert | tail -n 1
		;;
	pg17 | pg18)
		local major=${1#pg}
		local cfg_var=AGENTSTORE_PG${major}_CONFIG
		if [ -n "${!cfg_var:-}" ]; then
			echo "${!cfg_var}"
		else
			log "PostgreSQL $major (scripts/pgbuild.sh; cached after the first run)"
			bash "$REPO/scripts/pgbuild.sh" "$major" release | tail -n 1
		fi
		;;
	*) die "unknown server '$1' in AGENTSTORE_SERVERS" ;;
	esac
}

# Every server is ready before the first suite runs, so that the dump test on
# the 15 servers finds the newer ones of the matrix.
declare -A SERVER_CONFIG
for SERVER in $SERVERS; do
	SERVER_CONFIG[$SERVER]=$(server_config "$SERVER") || die "server $SERVER is not available"
done
for SERVER in $SERVERS; do
	run_suite "${SERVER_CONFIG[$SERVER]}"
done

[ ${#failures[@]} -eq 0 ] || log "failed: ${failures[*]}"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

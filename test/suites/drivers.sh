#!/usr/bin/env bash
# The driver examples of docs/clients.md, tested: Go's lib/pq, Python's
# psycopg 3 and node-postgres with pg-copy-streams (test/drivers/*), each doing
# a COPY into agentstore.session_import and calls with jsonb parameters, and
# checking the traps the document names, on a throwaway cluster of its own
# (Unix socket only, in a directory of its own).  A driver whose toolchain is
# missing (go; python3 with venv; node and npm) is skipped, not installed;
# the packages come from the usual registries, pinned by go.sum,
# requirements.txt and package-lock.json.  Run by scripts/test.sh, as root,
# with WORK (the scratch copy of the repository, agentstore installed) and
# PG_BINDIR in the environment; prints "drivers: N passed, N failed, N skipped".
set -euo pipefail

: "${WORK:?WORK is not set}" "${PG_BINDIR:?PG_BINDIR is not set}"
passed=0
failed=0
skipped=0

DIR=$(mktemp -d /tmp/agentstore-drivers.XXXXXX)
chown postgres: "$DIR"
PORT=5496
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
	as_pg "$PG_BINDIR/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
	[ -z "${LOGDIR:-}" ] || cp "$DIR/server.log" "$LOGDIR/drivers_server.log" 2>/dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT

as_pg "$PG_BINDIR/initdb" -D "$DIR/data" -A trust -U postgres >/dev/null
cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$DIR'
port = $PORT
shared_preload_libraries = 'agentstore'
fsync = off
CONF
as_pg "$PG_BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null ||
	{ cat "$DIR/server.log"; exit 1; }
export PGHOST="$DIR" PGPORT=$PORT PGUSER=postgres PGSSLMODE=disable

# run_driver NAME COMMAND...: a fresh database, the command in it; its
# "ok - " and "not ok - " lines are the tests; dying without a line is one
# failure.
run_driver() {
	local name=$1 status=0 ok bad
	shift
	as_pg "$PG_BINDIR/psql" -d postgres -qAtX -c "CREATE DATABASE \"drivers_$name\""
	as_pg "$PG_BINDIR/psql" -d "drivers_$name" -qAtX -c "CREATE EXTENSION agentstore"
	PGDATABASE="drivers_$name" "$@" >"$DIR/$name.out" 2>&1 || status=$?
	cat "$DIR/$name.out"
	ok=$(grep -c '^ok - ' "$DIR/$name.out" || true)
	bad=$(grep -c '^not ok - ' "$DIR/$name.out" || true)
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
		echo "not ok - $name: exited with status $status"
		failed=$((failed + 1))
	fi
}
skip() { echo "ok - $1 # skip $2"; skipped=$((skipped + 1)); }

D="$WORK/test/drivers"

if command -v go >/dev/null; then
	run_driver go env -C "$D/go" GOFLAGS=-mod=readonly go run .
else
	skip go "no go toolchain"
fi

if command -v python3 >/dev/null && python3 -m venv "$DIR/venv" >/dev/null 2>&1; then
	if "$DIR/venv/bin/pip" install -q --disable-pip-version-check -r "$D/python/requirements.txt" >"$DIR/pip.log" 2>&1; then
		run_driver python "$DIR/venv/bin/python" "$D/python/drivers_test.py"
	else
		cat "$DIR/pip.log"
		echo "not ok - python: pip install failed"
		failed=$((failed + 1))
	fi
else
	skip python "no python3 with venv (Debian: python3-venv)"
fi

if command -v node >/dev/null && command -v npm >/dev/null; then
	if (cd "$D/node" && npm ci --no-audit --no-fund --loglevel=error) >"$DIR/npm.log" 2>&1; then
		run_driver node node "$D/node/drivers_test.mjs"
	else
		cat "$DIR/npm.log"
		echo "not ok - node: npm ci failed"
		failed=$((failed + 1))
	fi
else
	skip node "no node and npm"
fi

echo "drivers: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

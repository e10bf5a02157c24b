#!/usr/bin/env bash
# The tests of the agentstore checkpointer in clients/langgraphjs, on a
# throwaway cluster of its own: LangGraph's conformance suite
# (@langchain/langgraph-checkpoint-validation), real StateGraph programs
# compared with MemorySaver and PostgresSaver in every durability mode
# (test/e2e.spec.js), and installing the package into fresh projects
# (test/install.spec.js, which needs the npm registry, as npm ci does).
# Run by scripts/test.sh, as root, with WORK (the scratch copy of the
# repository, owned by postgres, agentstore already installed) and PG_BINDIR
# in the environment; exits 0 when every test passed and none was skipped.
# Prints vitest's summary and one line
#
#   langgraph: N passed, M failed, K skipped
#
# counting individual tests.  Needs node >= 20 and npm, which
# clients/langgraphjs/ensure-node.sh provides on a fresh Debian 12 machine.
set -euo pipefail

: "${WORK:?WORK is not set}" "${PG_BINDIR:?PG_BINDIR is not set}"
CLIENT="$WORK/clients/langgraphjs"
log() { printf '==> langgraph: %s\n' "$*" >&2; }
source "$CLIENT/ensure-node.sh"
ensure_node "$WORK/node"

# A cluster of our own: Unix socket only, in a short directory of our own,
# so that the port cannot collide with anything.
DIR=$(mktemp -d /tmp/agentstore-langgraph.XXXXXX)
chown postgres: "$DIR"
PORT=5499
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
	as_pg "$PG_BINDIR/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
	# keep the server log for scripts/test.sh's log scan
	[ -z "${LOGDIR:-}" ] || cp "$DIR/server.log" "$LOGDIR/langgraph_server.log" 2>/dev/null || true
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
export PGHOST="$DIR" PGPORT=$PORT PGUSER=postgres PGDATABASE=langgraph
as_pg "$PG_BINDIR/psql" -h "$DIR" -p $PORT -d postgres -qAtX -v ON_ERROR_STOP=1 \
	-c "CREATE DATABASE langgraph"
as_pg "$PG_BINDIR/psql" -h "$DIR" -p $PORT -d langgraph -qAtX -v ON_ERROR_STOP=1 \
	-c "CREATE EXTENSION agentstore"

cd "$CLIENT"
log "npm ci"
npm ci --no-audit --no-fund --loglevel=error
log "vitest"
status=0
NO_COLOR=1 npx vitest run --globals --reporter=default --reporter=json \
	--outputFile.json="$DIR/vitest.json" || status=$?

# Count individual tests from vitest's JSON report.
if [ -s "$DIR/vitest.json" ]; then
	counts=$(node -e '
		const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const skipped = r.numPendingTests + r.numTodoTests;
		console.log(`${r.numPassedTests} ${r.numFailedTests} ${skipped}`);
	' "$DIR/vitest.json")
	read -r passed failed skipped <<<"$counts"
else
	passed=0 failed=1 skipped=0
fi
echo "langgraph: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$passed" -gt 0 ]

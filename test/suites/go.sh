#!/usr/bin/env bash
# The Go clients (clients/go: trpc-agent-go's session service, agent-go's
# batch writer, langgraphgo's checkpoint store) against agentstore, on a
# throwaway cluster of its own.  Run by scripts/test.sh, as root, with WORK
# (the scratch copy of the repository, agentstore already installed) and
# PG_BINDIR in the environment; exits 0 when every test passed and none was
# skipped.  Prints `go test -v`'s output and one line
#
#   go: N passed, M failed, K skipped
#
# counting tests and subtests.  Needs Go >= 1.25 (on PATH or in
# /usr/local/go); modules come from the Go module proxy into GOMODCACHE,
# by default /var/cache/agentstore/go, so that reruns are fast; go.mod and
# go.sum are used as committed (-mod=readonly).
set -euo pipefail

: "${WORK:?WORK is not set}" "${PG_BINDIR:?PG_BINDIR is not set}"
CLIENT="$WORK/clients/go"
log() { printf '==> go: %s\n' "$*" >&2; }

export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "go: no Go toolchain (need >= 1.25)" >&2; exit 1; }
GOCACHEDIR=${AGENTSTORE_GO_CACHE:-/var/cache/agentstore/go}
mkdir -p "$GOCACHEDIR/mod" "$GOCACHEDIR/build"
export GOMODCACHE="$GOCACHEDIR/mod" GOCACHE="$GOCACHEDIR/build" GOFLAGS=-mod=readonly
export GOPROXY=${GOPROXY:-https://proxy.golang.org} GOTOOLCHAIN=local
log "$(go version)"

# A cluster of our own: Unix socket only, in a short directory of our own.
DIR=$(mktemp -d /tmp/agentstore-go.XXXXXX)
chown postgres: "$DIR"
PORT=5498
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
	as_pg "$PG_BINDIR/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
	# keep the server log for scripts/test.sh's log scan
	[ -z "${LOGDIR:-}" ] || cp "$DIR/server.log" "$LOGDIR/go_server.log" 2>/dev/null || true
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
as_pg "$PG_BINDIR/psql" -h "$DIR" -p $PORT -d postgres -qAtX -v ON_ERROR_STOP=1 \
	-c "CREATE DATABASE gotest"
as_pg "$PG_BINDIR/psql" -h "$DIR" -p $PORT -d gotest -qAtX -v ON_ERROR_STOP=1 \
	-c "CREATE EXTENSION agentstore"
export AGENTSTORE_TEST_DSN="host=$DIR port=$PORT user=postgres dbname=gotest"

cd "$CLIENT"
log "go vet"
go vet ./...
log "go test"
status=0
go test -count=1 -v ./... 2>&1 | tee "$DIR/gotest.out" || status=$?
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
# The tests of one object used by several goroutines, again under the race
# detector (which fails a test on a data race); counted as tests of their own.
log "go test -race (concurrent use)"
go test -race -count=1 -v -run 'Concurrent' ./agentgo 2>&1 | tee -a "$DIR/gotest.out" || status=$?
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
passed=$(grep -c -E '^\s*--- PASS' "$DIR/gotest.out" || true)
failed=$(grep -c -E '^\s*--- FAIL' "$DIR/gotest.out" || true)
skipped=$(grep -c -E '^\s*--- SKIP' "$DIR/gotest.out" || true)
echo "go: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$passed" -gt 0 ]

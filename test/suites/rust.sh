#!/usr/bin/env bash
# eventcore's backend contract suite (eventcore-testing's
# backend_contract_tests!, 27 tests) and the client's own tests against the
# eventcore backend in clients/rust/eventcore-agentstore, on a throwaway
# cluster of its own.  Run by scripts/test.sh, as root, with WORK (the
# scratch copy of the repository, agentstore already installed), PG_BINDIR
# and LOGDIR in the environment; exits 0 when every test passed.  Prints
# cargo's output and one line
#
#   rust: N passed, M failed
#
# counting individual tests over all test binaries.  Needs cargo (rustup's
# ~/.cargo/bin is looked in) and crates.io or a filled cargo registry.
# The build goes to CARGO_TARGET_DIR (default
# /var/cache/agentstore/cargo-target), outside the copy, so reruns are fast.
set -euo pipefail

: "${WORK:?WORK is not set}" "${PG_BINDIR:?PG_BINDIR is not set}"
CLIENT="$WORK/clients/rust/eventcore-agentstore"
log() { printf '==> rust: %s\n' "$*" >&2; }
command -v cargo >/dev/null || PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || { log "cargo not found"; echo "rust: 0 passed, 1 failed"; exit 1; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/agentstore/cargo-target}"
mkdir -p "$CARGO_TARGET_DIR"

# A cluster of our own: Unix socket only, in a short directory of our own,
# so that the port cannot collide with anything.
DIR=$(mktemp -d /tmp/agentstore-rust.XXXXXX)
chown postgres: "$DIR"
PORT=5498
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
	as_pg "$PG_BINDIR/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
	# keep the server log for scripts/test.sh's log scan
	[ -z "${LOGDIR:-}" ] || cp "$DIR/server.log" "$LOGDIR/rust_server.log" 2>/dev/null || true
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
max_connections = 200
CONF
as_pg "$PG_BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null ||
	{ cat "$DIR/server.log"; exit 1; }
# The tests create a database per store (from a template they make) through
# this connection.
export AGENTSTORE_TEST_DSN="host=$DIR port=$PORT user=postgres dbname=postgres"

cd "$CLIENT"
log "cargo test (target $CARGO_TARGET_DIR)"
status=0
cargo test --locked --no-fail-fast --color never 2>&1 | tee "$DIR/cargo.out" || status=$?

# Count individual tests over every "test result:" line of cargo.
read -r passed failed < <(awk '
	/^test result:/ {
		for (i = 1; i <= NF; i++) {
			if ($(i + 1) ~ /^passed;?$/) p += $i
			if ($(i + 1) ~ /^failed;?$/) f += $i
		}
	}
	END { print p + 0, f + 0 }' "$DIR/cargo.out")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1 # a build failure or a crashed test binary
fi
echo "rust: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

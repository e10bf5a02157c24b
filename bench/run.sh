#!/usr/bin/env bash
# Benchmark agentstore against the baseline strategies it replaces, side by
# side in one run, as root:
#
#   bash bench/run.sh [scenario-name-regex]
#
# Builds and installs agentstore, starts a throwaway cluster (port $BENCH_PORT,
# default 5470, data in $BENCH_DIR, default
# /tmp/agentstore-bench) with agentstore preloaded -- or, with BENCH_REUSE=1,
# uses the server named by the usual PG* variables, where agentstore must be
# installed -- creates a fresh database, runs every bench/scenarios/*.sh whose
# name matches, and prints one table: scenario, baseline, baseline figure,
# agentstore figure, unit, ratio (> 1 means agentstore is better).
# BENCH_SCALE < 1 shrinks the data sets (for a quick look; figures in docs/benchmarks.md
# are at scale 1).
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"

ONLY=${1:-.}
BENCH_DIR=${BENCH_DIR:-/tmp/agentstore-bench}
export BENCH_RESULTS="$BENCH_DIR/results.tsv"

start_cluster() {
	local data="$BENCH_DIR/data" sock="$BENCH_DIR/sock"
	if [ -f "$data/postmaster.pid" ]; then
		as_postgres pg_ctl -D "$data" -m fast stop >/dev/null 2>&1 || true
	fi
	rm -rf "$data" "$sock"
	mkdir -p "$BENCH_DIR" "$sock"
	chown postgres: "$BENCH_DIR" "$sock"
	as_postgres initdb -D "$data" -A trust -U postgres >/dev/null
	cat >>"$data/postgresql.conf" <<CONF
shared_preload_libraries = 'agentstore'
listen_addresses = ''
unix_socket_directories = '$sock'
port = ${BENCH_PORT:-5470}
shared_buffers = '1GB'
max_wal_size = '8GB'
checkpoint_timeout = '30min'
max_connections = 100
CONF
	as_postgres pg_ctl -D "$data" -l "$BENCH_DIR/server.log" -w start >/dev/null
	export PGHOST="$sock" PGPORT=${BENCH_PORT:-5470} PGUSER=postgres
	trap 'as_postgres pg_ctl -D "$BENCH_DIR/data" -m fast stop >/dev/null 2>&1 || true' EXIT
}

require_root
install_packages
if [ "${BENCH_REUSE:-0}" = 1 ]; then
	log "using the server of the PG* variables (${PGHOST:-default}:${PGPORT:-5432})"
	mkdir -p "$BENCH_DIR"
else
	build_and_install "$BENCH_DIR/build"
	start_cluster
fi
export PATH="$PG_BINDIR:$PATH"
export PGDATABASE=agentstore_bench
psql -qAtX -d postgres -c "DROP DATABASE IF EXISTS agentstore_bench" -c "CREATE DATABASE agentstore_bench"
psql -qAtX -v ON_ERROR_STOP=1 -c "CREATE EXTENSION agentstore" -c "CREATE SCHEMA bench"

: >"$BENCH_RESULTS"
for scenario in "$REPO"/bench/scenarios/*.sh; do
	name=$(basename "$scenario" .sh)
	[[ $name =~ $ONLY ]] || continue
	log "scenario $name"
	BENCH_TMP=$(mktemp -d /tmp/agentstore-bench-tmp.XXXXXX)
	export BENCH_TMP
	if ! (source "$REPO/bench/lib.sh" && source "$scenario"); then
		printf '%s\t%s\t-\t-\t-\t-\n' "$name" "FAILED (see output above)" >>"$BENCH_RESULTS"
	fi
	rm -rf "$BENCH_TMP"
done

echo
echo "agentstore benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(psql -qAtX -c 'SHOW server_version'), scale ${BENCH_SCALE:-1}"
awk -F'\t' '
	function ratio(b, a, dir) {
		if (b == "-" || a == "-" || b + 0 == 0 || a + 0 == 0) return "-"
		if (dir != "lower" && dir != "higher") return "-"
		return sprintf("%.2fx", dir == "lower" ? b / a : a / b)
	}
	BEGIN {
		printf "| %s | %s | %s | %s | %s | %s |\n", "scenario", "baseline", "baseline", "agentstore", "unit", "ratio"
		print "|---|---|---:|---:|---|---:|"
	}
	{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, ratio($3, $4, $6) }
' "$BENCH_RESULTS"

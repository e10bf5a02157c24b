#!/usr/bin/env bash
# Compare two revisions of agentstore on the hot paths, side by side in one
# run, as root:
#
#   bash bench/ab.sh REV_BEFORE [REV_AFTER]     (REV_AFTER defaults to the work tree)
#
# Builds agentstore's shared library at both revisions, starts one throwaway
# cluster (BENCH_DIR, default /tmp/agentstore-ab; port BENCH_PORT, default
# 5471), installs the extension with REV_AFTER's SQL, and then alternates
# rounds: install one revision's library, restart, run every workload for
# BENCH_SECONDS (default 10) with pgbench; then the other.  Prints the median
# tps of each workload per revision and their ratio (after / before; > 1 means
# faster), and the server CPU each transaction costs with one client (less
# sensitive to a busy machine than tps).  The workloads are those whose cost the key locks touch:
#
#   append_events   100 events per call, 2 clients, 1,000 streams per client
#   append_event    one event + state delta per call, 8 clients, 200 sessions
#   goc_hot         get_or_create_session on one key, 8 clients (hits)
#   goc_1000        get_or_create_session on 1,000 keys, 8 clients
#   put_checkpoint  put_checkpoint + put_writes, 4 clients, a thread each
#
# Only the library changes between rounds, so REV_BEFORE must accept
# REV_AFTER's install script for these functions.  BENCH_ROUNDS (default 3).
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"

BEFORE=${1:?usage: bench/ab.sh REV_BEFORE [REV_AFTER]}
AFTER=${2:-}
BENCH_DIR=${BENCH_DIR:-/tmp/agentstore-ab}
PORT=${BENCH_PORT:-5471}
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}

require_root
install_packages
rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"

# Build the library of revision $1 ("" = the work tree) into $BENCH_DIR/$2.so.
build_rev() {
	local rev=$1 name=$2 src="$BENCH_DIR/src-$2"
	mkdir -p "$src"
	if [ -z "$rev" ]; then
		tar -C "$REPO" --exclude=.git --exclude=node_modules --exclude='*.o' --exclude='*.so' -cf - . |
			tar -C "$src" -xf -
	else
		git -C "$REPO" archive "$rev" | tar -C "$src" -xf -
	fi
	make -s -C "$src" PG_CONFIG="$PG_CONFIG" COPT="$AGENTSTORE_COPT" >"$src/build.log" 2>&1 ||
		{ cat "$src/build.log"; die "build of ${rev:-the work tree} failed"; }
	cp "$src/agentstore.so" "$BENCH_DIR/$name.so"
}
log "building ${BEFORE} and ${AFTER:-the work tree}"
build_rev "$BEFORE" before
build_rev "$AFTER" after
make -s -C "$BENCH_DIR/src-after" PG_CONFIG="$PG_CONFIG" install >/dev/null
PKGLIB=$("$PG_CONFIG" --pkglibdir)

DATA="$BENCH_DIR/data"
SOCK="$BENCH_DIR/sock"
mkdir -p "$SOCK"
chown -R postgres: "$BENCH_DIR"
as_postgres initdb -D "$DATA" -A trust -U postgres >/dev/null
cat >>"$DATA/postgresql.conf" <<CONF
shared_preload_libraries = 'agentstore'
listen_addresses = ''
unix_socket_directories = '$SOCK'
port = $PORT
shared_buffers = '512MB'
max_wal_size = '4GB'
checkpoint_timeout = '30min'
agentstore.ttl_interval = '1h'
# no autovacuum worker lands in a CPU measurement
autovacuum = off
CONF
export PGHOST="$SOCK" PGPORT=$PORT PGUSER=postgres PGDATABASE=ab PATH="$PG_BINDIR:$PATH"
stop() { as_postgres pg_ctl -D "$DATA" -m fast stop >/dev/null 2>&1 || true; }
trap stop EXIT

# Put revision $1's library in place and (re)start the server.
use_rev() {
	install -m 755 "$BENCH_DIR/$1.so" "$PKGLIB/agentstore.so"
	stop
	as_postgres pg_ctl -D "$DATA" -l "$BENCH_DIR/server.log" -w start >/dev/null
}

use_rev after
psql -qAtX -d postgres -c "CREATE DATABASE ab"
psql -qAtX -v ON_ERROR_STOP=1 -c "CREATE EXTENSION agentstore" \
	-c "SELECT count(*) FROM (SELECT agentstore.create_session('ab', 'u' || (g % 20), 's' || g) FROM generate_series(1, 200) g) s"

W="$BENCH_DIR/workloads"
mkdir -p "$W"
events=$(printf '{"type": "t", "data": {"i": %d}},' $(seq 1 100))
events="[${events%,}]"
cat >"$W/append_events.sql" <<SQL
\\set s random(1, 1000)
SELECT last_version FROM agentstore.append_events('ab-' || :client_id || '-' || :s, '$events');
SQL
cat >"$W/append_event.sql" <<'SQL'
\set s random(1, 200)
SELECT version FROM agentstore.append_event('ab', 'u' || (:s % 20), 's' || :s,
       '{"author": "user", "content": "hello"}',
       jsonb_build_object('turn', 1, 'user' || chr(58) || 'seen', true));
SQL
cat >"$W/goc_hot.sql" <<'SQL'
SELECT (agentstore.get_or_create_session('ab-goc', 'u', 'hot')).created;
SQL
cat >"$W/goc_1000.sql" <<'SQL'
\set k random(1, 1000)
SELECT (agentstore.get_or_create_session('ab-goc', 'u', 'k' || :k)).created;
SQL
cat >"$W/put_checkpoint.sql" <<'SQL'
\set n random(1, 2000000000)
SELECT agentstore.put_checkpoint('ab-thread-' || :client_id, '',
       jsonb_build_object('v', 4, 'id', lpad(:n::text, 12, '0'), 'ts', '2025-01-01T00:00:00Z',
                          'channel_versions', jsonb_build_object('messages', :n::bigint), 'versions_seen', '{}'::jsonb),
       '{"source": "loop", "step": 1, "parents": {}}', jsonb_build_object('messages', :n::bigint),
       jsonb_build_object('messages', jsonb_build_array('json', encode('"hi"', 'base64'))));
SELECT agentstore.put_writes('ab-thread-' || :client_id, '', lpad(:n::text, 12, '0'), 'task-1',
       jsonb_build_array(jsonb_build_array('messages', jsonb_build_array('json', encode('"w"', 'base64')))));
SQL
chown -R postgres: "$W"
declare -A CLIENTS=([append_events]=2 [append_event]=8 [goc_hot]=8 [goc_1000]=8 [put_checkpoint]=4)
WORKLOADS="append_events append_event goc_hot goc_1000 put_checkpoint"

# A warm-up of every workload, so that both revisions meet the same data.
for w in $WORKLOADS; do
	pgbench -n -M prepared -c "${CLIENTS[$w]}" -j 2 -T 2 -f "$W/$w.sql" >/dev/null 2>&1 ||
		{ pgbench -n -M prepared -c 1 -t 1 -f "$W/$w.sql"; die "workload $w fails"; }
done

# CPU seconds used so far by the server: the postmaster with every child it
# has reaped, plus the children still running (clock ticks, summed).
server_ticks() {
	local pm
	pm=$(head -n 1 "$DATA/postmaster.pid")
	awk '{ t += $14 + $15 } END { print t }' /proc/"$pm"/stat $(for c in $(cat /proc/"$pm"/task/*/children); do echo /proc/"$c"/stat; done) 2>/dev/null |
		awk -v pm="$(awk '{ print $16 + $17 }' /proc/"$pm"/stat)" '{ print $1 + pm }'
}

# Server CPU microseconds per transaction of workload $1, one client, a fixed
# number of transactions: less sensitive to the rest of the machine than tps.
cpu_per_tx() {
	local w=$1 n=${BENCH_CPU_TX:-3000} before after
	before=$(server_ticks)
	pgbench -n -M prepared -c 1 -t "$n" -f "$W/$w.sql" >/dev/null 2>&1
	sleep 0.2
	after=$(server_ticks)
	awk -v a="$after" -v b="$before" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f\n", (a - b) * 1e6 / hz / n }'
}

RES="$BENCH_DIR/results.tsv"
: >"$RES"
for r in $(seq 1 "$ROUNDS"); do
	for rev in before after; do
		use_rev "$rev"
		for w in $WORKLOADS; do
			tps=$(pgbench -n -M prepared -c "${CLIENTS[$w]}" -j 2 -T "$SECS" -f "$W/$w.sql" 2>&1 |
				sed -n 's/^tps = \([0-9.]*\) .*without initial connection time.*/\1/p')
			cpu=$(cpu_per_tx "$w")
			printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$rev" "$w" "${tps:-0}" "$cpu" >>"$RES"
			log "round $r $rev $w: $tps tps, $cpu us of server CPU per transaction"
		done
	done
done

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo
printf '%-16s %8s %12s %12s %7s %14s %14s %7s\n' workload clients "before tps" "after tps" ratio \
	"before CPU/tx" "after CPU/tx" ratio
for w in $WORKLOADS; do
	b=$(awk -F'\t' -v w="$w" '$2 == "before" && $3 == w { print $4 }' "$RES" | median)
	a=$(awk -F'\t' -v w="$w" '$2 == "after" && $3 == w { print $4 }' "$RES" | median)
	cb=$(awk -F'\t' -v w="$w" '$2 == "before" && $3 == w { print $5 }' "$RES" | median)
	ca=$(awk -F'\t' -v w="$w" '$2 == "after" && $3 == w { print $5 }' "$RES" | median)
	printf '%-16s %8s %12.0f %12.0f %7.2f %12s us %12s us %7.2f\n' "$w" "${CLIENTS[$w]}" "$b" "$a" \
		"$(awk -v a="$a" -v b="$b" 'BEGIN { print (b > 0 ? a / b : 0) }')" "$cb" "$ca" \
		"$(awk -v a="$ca" -v b="$cb" 'BEGIN { print (a > 0 ? b / a : 0) }')"
done
echo "(medians of $ROUNDS rounds of ${SECS} s, alternating; CPU/tx: server CPU per transaction, one client,"
echo " ${BENCH_CPU_TX:-3000} transactions; ratios > 1 mean after is better; $(nproc) cores;"
echo " load average $(cut -d' ' -f1-3 /proc/loadavg))"

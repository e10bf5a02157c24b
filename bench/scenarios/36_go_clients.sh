# From Go: the clients in clients/go against the frameworks' own PostgreSQL
# stores on the same server (go test -tags bench, each benchmark's header
# says what it runs):
#   - trpc-agent-go: appends of 100-turn conversations through trpcagent's
#     AppendEvent vs its Postgres AppendEvent transaction on its own tables
#     (trpcagent/bench_test.go);
#   - trpc-agent-go: foreground GetSession + AppendEvent latency while a
#     backlog of expired sessions is cleaned, by its cleanup statements in the
#     application vs by agentstore's TTL worker (trpcagent/ttl_bench_test.go;
#     sets agentstore.ttl_interval with ALTER SYSTEM and resets it);
#   - agent-go: UpsertSessions of 20,000 and 100,000 sessions vs its batch
#     writer's temp table + COPY + upsert on its own table
#     (agentgo/bench_test.go).
# Needs Go >= 1.25; modules come from the Go module proxy into
# AGENTSTORE_GO_CACHE (default /var/cache/agentstore/go), as in
# test/suites/go.sh.  BENCH_SCALE shrinks the session counts.
root=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "36_go_clients: no Go toolchain (need >= 1.25)" >&2; return 1; }
gocache=${AGENTSTORE_GO_CACHE:-/var/cache/agentstore/go}
mkdir -p "$gocache/mod" "$gocache/build"
export GOMODCACHE="$gocache/mod" GOCACHE="$gocache/build" GOFLAGS=-mod=readonly GOTOOLCHAIN=local
export GOPROXY=${GOPROXY:-https://proxy.golang.org}
export BENCH_TTL_SESSIONS=$(awk -v s="$BENCH_SCALE" 'BEGIN { n = int(5000 * s); print (n < 500) ? 500 : n }')
out=$(cd "$root/clients/go" && AGENTSTORE_TEST_DSN="host=$PGHOST port=$PGPORT user=$PGUSER dbname=$PGDATABASE" \
	go test -tags bench -count=1 -run '^TestBench' -v -timeout 120m ./trpcagent ./agentgo) ||
	{ echo "$out" >&2; return 1; }
echo "$out" >&2
echo "$out" | grep '^bench-row' | while IFS=$'\t' read -r _ scenario baseline theirs ours unit dir; do
	report "$scenario" "$baseline" "$theirs" "$ours" "$unit" "$dir"
done

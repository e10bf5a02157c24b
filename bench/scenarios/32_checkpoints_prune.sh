# prune_checkpoints on a thread of 10,000 checkpoints with 20 channels
# (bench/checkpoints/fill.sql), keeping the newest 100: time and rows
# removed.  LangGraph has no pruning at all (langgraphjs #1138); the
# baseline is the same pruning written as three plain DELETEs on LangGraph's
# schema with the same rows (keep the newest 100, drop the writes of the
# others, drop the blobs no kept checkpoint names).
root=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
n=$(awk -v s="$BENCH_SCALE" 'BEGIN { n = int(10000 * s); print (n < 1000) ? 1000 : n }')
tmp=$(bench_tmp)
q_file "$root/bench/checkpoints/langgraph_schema.sql"
q "SELECT agentstore.delete_thread('prune-thread')" >/dev/null
psql -qAtX -v ON_ERROR_STOP=1 -v thread=prune-thread -v n="$n" -f "$root/bench/checkpoints/fill.sql" >/dev/null

cat >"$tmp/plain.sql" <<'SQL'
BEGIN;
WITH d AS (
    DELETE FROM bench.checkpoints c
     WHERE c.thread_id = 'prune-thread'
       AND c.checkpoint_id NOT IN (SELECT checkpoint_id FROM bench.checkpoints
                                    WHERE thread_id = 'prune-thread'
                                    ORDER BY checkpoint_id DESC LIMIT 100)
    RETURNING 1)
SELECT count(*) FROM d;
WITH d AS (
    DELETE FROM bench.checkpoint_writes w
     WHERE w.thread_id = 'prune-thread'
       AND NOT EXISTS (SELECT FROM bench.checkpoints c
                        WHERE c.thread_id = w.thread_id AND c.checkpoint_ns = w.checkpoint_ns
                          AND c.checkpoint_id = w.checkpoint_id)
    RETURNING 1)
SELECT count(*) FROM d;
WITH d AS (
    DELETE FROM bench.checkpoint_blobs b
     WHERE b.thread_id = 'prune-thread'
       AND NOT EXISTS (SELECT FROM bench.checkpoints c, jsonb_each_text(c.checkpoint -> 'channel_versions') v
                        WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns
                          AND v.key = b.channel AND v.value = b.version)
    RETURNING 1)
SELECT count(*) FROM d;
COMMIT;
SQL
plain=$(time_file "$tmp/plain.sql")
start=$(date +%s.%N)
counts=$(q "SELECT checkpoints_removed || ' ' || blobs_removed || ' ' || writes_removed
              FROM agentstore.prune_checkpoints('prune-thread', 100)")
end=$(date +%s.%N)
ours=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }')
set -- $counts
report "prune a $n-checkpoint thread to its newest 100" "plain DELETEs on LangGraph's schema" "$plain" "$ours" s lower
base_removed=$(q "SELECT ($n - (SELECT count(*) FROM bench.checkpoints WHERE thread_id = 'prune-thread'))
                    + ($((n * 2)) - (SELECT count(*) FROM bench.checkpoint_writes WHERE thread_id = 'prune-thread'))
                    + ($((n * 2 + 20)) - (SELECT count(*) FROM bench.checkpoint_blobs WHERE thread_id = 'prune-thread'))")
report "prune: rows removed ($1 checkpoints, $2 blobs, $3 writes)" "plain DELETEs on LangGraph's schema" "$base_removed" "$(($1 + $2 + $3))" rows higher
q "SELECT agentstore.delete_thread('prune-thread')" >/dev/null

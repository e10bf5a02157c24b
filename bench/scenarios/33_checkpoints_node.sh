# From Node: the agentstore checkpointer (clients/langgraphjs) against
# LangGraph's own @langchain/langgraph-checkpoint-postgres 1.0.5 on the same
# server (its tables in schema bench), as a LangGraph graph run drives them:
# a 200-step run doing putWrites + put + getTuple per step (median of 5
# runs), and list() of a thread of 10,000 checkpoints with 20 channels (the
# same rows in both schemas, bench/checkpoints/fill.sql; median of 3).  See
# clients/langgraphjs/bench/compare.js.
root=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
n=$(awk -v s="$BENCH_SCALE" 'BEGIN { n = int(10000 * s); print (n < 1000) ? 1000 : n }')
tmp=$(bench_tmp)
source "$root/clients/langgraphjs/ensure-node.sh"
ensure_node "$tmp/node"
mkdir -p "$tmp/client"
tar -C "$root/clients/langgraphjs" --exclude=node_modules -cf - . | tar -C "$tmp/client" -xf -
(cd "$tmp/client" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

q_file "$root/bench/checkpoints/langgraph_schema.sql"
q "SELECT agentstore.delete_thread('list-thread')" >/dev/null
psql -qAtX -v ON_ERROR_STOP=1 -v thread=list-thread -v n="$n" -f "$root/bench/checkpoints/fill.sql" >/dev/null

out=$(cd "$tmp/client" && BENCH_LIST_THREAD=list-thread node bench/compare.js)
echo "$out" >&2
set -- $(echo "$out" | grep '^run ')
report "LangGraph.js 200-step run (putWrites + put + getTuple per step)" "PostgresSaver (LangGraph.js)" "$2" "$3" ms lower
set -- $(echo "$out" | grep '^list ')
report "LangGraph.js list() of a $n-checkpoint thread" "PostgresSaver (LangGraph.js)" "$2" "$3" ms lower
q "SELECT agentstore.delete_thread('list-thread')" >/dev/null

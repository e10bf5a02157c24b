# Real LangGraph.js graphs (@langchain/langgraph StateGraph, no LLM, default
# durability "async") on the agentstore checkpointer (clients/langgraphjs)
# and on LangGraph's own @langchain/langgraph-checkpoint-postgres on the same
# server (its tables in schema bench): a 200-step loop, 20 rounds of 5
# parallel branches and a join, and getStateHistory of a thread of 10,000
# checkpoints written by the loop graph (medians of 5 runs, the two savers
# alternating; the log also shows MemorySaver's time for the graphs, which is
# LangGraph's own work).  See clients/langgraphjs/bench/graphs.js.
root=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
n=$(awk -v s="$BENCH_SCALE" 'BEGIN { n = int(10000 * s); print (n < 1000) ? 1000 : n }')
tmp=$(bench_tmp)
source "$root/clients/langgraphjs/ensure-node.sh"
ensure_node "$tmp/node"
if [ ! -d "$tmp/client/node_modules" ]; then
	mkdir -p "$tmp/client"
	tar -C "$root/clients/langgraphjs" --exclude=node_modules -cf - . | tar -C "$tmp/client" -xf -
	(cd "$tmp/client" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

out=$(cd "$tmp/client" && BENCH_HISTORY="$n" node bench/graphs.js)
echo "$out" >&2
set -- $(echo "$out" | grep '^loop ')
report "LangGraph.js StateGraph, 200-step loop" "PostgresSaver (LangGraph.js)" "$2" "$3" ms lower
set -- $(echo "$out" | grep '^branches ')
report "LangGraph.js StateGraph, 20 rounds of 5 parallel branches" "PostgresSaver (LangGraph.js)" "$2" "$3" ms lower
set -- $(echo "$out" | grep '^history ')
report "LangGraph.js getStateHistory of a $n-checkpoint thread" "PostgresSaver (LangGraph.js)" "$2" "$3" ms lower

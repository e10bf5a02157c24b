# From Python: the agentstore clients in clients/python against the
# frameworks' own PostgreSQL stores on the same server (their tables in
# schema pybench), in alternating rounds (clients/python/bench/compare.py):
# a 200-step LangGraph run, list() of a thread of 10,000 checkpoints with 20
# channels, both vs langgraph-checkpoint-postgres's PostgresSaver; a 50-turn
# Google ADK conversation vs ADK's DatabaseSessionService.  Installs the
# client with its pinned test dependencies and the baselines into a virtual
# environment (PyPI).
root=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
n=$(awk -v s="$BENCH_SCALE" 'BEGIN { n = int(10000 * s); print (n < 1000) ? 1000 : n }')
tmp=$(bench_tmp)
python3 -m venv "$tmp/pyvenv"
"$tmp/pyvenv/bin/pip" install -q --disable-pip-version-check "$root/clients/python[test]" \
	langgraph-checkpoint-postgres==3.2.0 sqlalchemy==2.1.9 greenlet==3.5.6 >/dev/null

q "DROP SCHEMA IF EXISTS pybench CASCADE; CREATE SCHEMA pybench"
dsn="host=$PGHOST port=$PGPORT user=$PGUSER dbname=$PGDATABASE"
out=$(cd "$tmp" && AGENTSTORE_DSN="$dsn" BASELINE_DSN="$dsn options=-csearch_path=pybench" \
	BENCH_SQLALCHEMY_URL="postgresql+psycopg://$PGUSER@/$PGDATABASE?host=$PGHOST&port=$PGPORT&options=-csearch_path%3Dpybench" \
	BENCH_LIST_N="$n" "$tmp/pyvenv/bin/python" "$root/clients/python/bench/compare.py")
echo "$out" >&2
set -- $(echo "$out" | grep '^run ')
report "LangGraph (Python) 200-step run" "PostgresSaver (Python)" "$2" "$3" ms lower
set -- $(echo "$out" | grep '^list ')
report "LangGraph (Python) list() of a $n-checkpoint thread" "PostgresSaver (Python)" "$2" "$3" ms lower
set -- $(echo "$out" | grep '^adk ')
report "Google ADK 50-turn conversation" "DatabaseSessionService" "$2" "$3" ms lower
q "DROP SCHEMA pybench CASCADE"

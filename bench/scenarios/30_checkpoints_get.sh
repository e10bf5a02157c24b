# LangGraph's getTuple at the SQL level: one thread of 10,000 checkpoints with
# 20 channels (bench/checkpoints/fill.sql), the same rows in LangGraph's schema
# and in agentstore's.  Baseline: LangGraph's own SELECT (PostgresSaver
# 1.0.5: the checkpoint row with correlated sub-selects over blobs and
# writes) against agentstore.get_checkpoint(); latest checkpoint and a
# random one by id; pgbench, one client.  LangGraph's statement is measured
# prepared (the stricter baseline) and as PostgresSaver sends it through
# node-postgres (unnamed, parsed and planned at every call); agentstore's
# client prepares its calls.
dir=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/bench/checkpoints
n=$(awk -v s="$BENCH_SCALE" 'BEGIN { n = int(10000 * s); print (n < 1000) ? 1000 : n }')
secs=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", (15 * s < 3) ? 3 : 15 * s }')
tmp=$(bench_tmp)
source "$dir/lib.sh"
q_file "$dir/langgraph_schema.sql"
psql -qAtX -v ON_ERROR_STOP=1 -v thread=get-thread -v n="$n" -f "$dir/fill.sql" >/dev/null

# LangGraph's SELECT_SQL, verbatim but for the schema, and its two WHERE
# clauses (getTuple with and without a checkpoint id).
langgraph_select() {
	cat <<SQL
select
    thread_id,
    checkpoint,
    checkpoint_ns,
    checkpoint_id,
    parent_checkpoint_id,
    metadata,
    (
      select array_agg(array[bl.channel::bytea, bl.type::bytea, bl.blob])
      from jsonb_each_text(checkpoint -> 'channel_versions')
      inner join bench.checkpoint_blobs bl
        on bl.thread_id = cp.thread_id
        and bl.checkpoint_ns = cp.checkpoint_ns
        and bl.channel = jsonb_each_text.key
        and bl.version = jsonb_each_text.value
    ) as channel_values,
    (
      select
      array_agg(array[cw.task_id::text::bytea, cw.channel::bytea, cw.type::bytea, cw.blob] order by cw.task_id, cw.idx)
      from bench.checkpoint_writes cw
      where cw.thread_id = cp.thread_id
        and cw.checkpoint_ns = cp.checkpoint_ns
        and cw.checkpoint_id = cp.checkpoint_id
    ) as pending_writes
  from bench.checkpoints cp $1;
SQL
}
random_id="lpad(to_hex(:i::integer), 8, '0') || '-0000-6000-8000-' || substr(md5('get-thread' || :i), 1, 12)"
langgraph_select "WHERE thread_id = 'get-thread' AND checkpoint_ns = '' ORDER BY checkpoint_id DESC LIMIT 1" >"$tmp/lg_latest.sql"
{ echo "\\set i random(1, $n)"; langgraph_select "WHERE thread_id = 'get-thread' AND checkpoint_ns = '' AND checkpoint_id = $random_id"; } >"$tmp/lg_byid.sql"
echo "SELECT * FROM agentstore.get_checkpoint('get-thread', '');" >"$tmp/as_latest.sql"
{ echo "\\set i random(1, $n)"; echo "SELECT * FROM agentstore.get_checkpoint('get-thread', '', $random_id);"; } >"$tmp/as_byid.sql"

# Both return the same checkpoint and the same 20 channel values.
same=$(q "SELECT (SELECT checkpoint_id || ':' || array_length(channel_values, 1)
                    FROM ($(langgraph_select "WHERE thread_id = 'get-thread' AND checkpoint_ns = '' ORDER BY checkpoint_id DESC LIMIT 1" | sed 's/;$//')) s)
               = (SELECT checkpoint_id || ':' || (SELECT count(*) FROM json_object_keys(channel_values))
                    FROM agentstore.get_checkpoint('get-thread'))")
[ "$same" = t ] || { echo "get_checkpoint and LangGraph's SELECT disagree" >&2; exit 1; }

for what in latest byid; do
	set -- $(cp_compare "$secs" "prepared:$tmp/lg_$what.sql" "extended:$tmp/lg_$what.sql" \
		"prepared:$tmp/as_$what.sql")
	label=$([ $what = latest ] && echo "latest" || echo "by id")
	report "checkpoint get, $label ($n checkpoints, 20 channels)" "LangGraph's SELECT, prepared" "$1" "$3" tps higher
	report "checkpoint get, $label ($n checkpoints, 20 channels)" "LangGraph's SELECT as PostgresSaver sends it" "$2" "$3" tps higher
done
q "SELECT agentstore.delete_thread('get-thread')" >/dev/null

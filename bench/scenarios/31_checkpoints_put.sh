# LangGraph's put + putWrites for one graph step at the SQL level: a
# checkpoint of 20 channels of which 2 changed (two new blobs of about 400
# bytes of JSON), then the 2 writes of the step's task.  Baseline:
# PostgresSaver 1.0.5's statements for that step -- BEGIN, one blob upsert
# per changed channel, the checkpoint upsert, COMMIT, then BEGIN, one write
# insert per write, COMMIT -- against agentstore.put_checkpoint() and
# agentstore.put_writes(), one call each.  pgbench, one client (one graph
# run), every step a new checkpoint of one thread, fsync on.  LangGraph's
# statements are measured prepared (the stricter baseline) and as
# PostgresSaver sends them (unnamed: parsed and planned at every call).
secs=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", (15 * s < 3) ? 3 : 15 * s }')
dir=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/bench/checkpoints
tmp=$(bench_tmp)
source "$dir/lib.sh"
q_file "$dir/langgraph_schema.sql"
q "SELECT agentstore.delete_thread('put-thread')" >/dev/null

# The step's data, the same on both sides: the values serialized as
# LangGraph.js does (type json), the checkpoint without its values.
value1=$(q "SELECT jsonb_build_object('channel', 3, 'step', 1, 'text', repeat('y', 350))::text")
value2=$(q "SELECT jsonb_build_object('channel', 10, 'step', 1, 'text', repeat('y', 350))::text")
write=$(q "SELECT jsonb_build_object('w', 0, 'text', repeat('z', 200))::text")
hex() { q "SELECT encode(convert_to(\$\$$1\$\$, 'UTF8'), 'hex')"; }
b64() { q "SELECT replace(encode(convert_to(\$\$$1\$\$, 'UTF8'), 'base64'), E'\\n', '')"; }
versions=$(q "SELECT jsonb_object_agg('ch' || lpad(k::text, 2, '0'), CASE WHEN k IN (3, 10) THEN 0 ELSE 1 END)::text
                FROM generate_series(0, 19) k")
# The checkpoint's JSON with :n for the new versions and the id.
checkpoint="'{\"v\": 4, \"id\": \"' || :n || '\", \"ts\": \"2025-01-01T00:00:00.000Z\", \"channel_versions\": ' || replace('$versions', ': 0', ': ' || :n) || ', \"versions_seen\": {\"agent\": $versions, \"__input__\": {}}}'"
metadata='{"source": "loop", "step": 1, "parents": {}, "writes": null}'
q "INSERT INTO bench.checkpoints (thread_id, checkpoint_ns, checkpoint_id, checkpoint)
   VALUES ('put-thread', '', 'root', '{}')"
q "SELECT agentstore.put_checkpoint('put-thread', '', '{\"id\": \"root\"}', '{}', '{}')" >/dev/null

cat >"$tmp/langgraph.sql" <<SQL
\\set n random(1, 2000000000)
BEGIN;
INSERT INTO bench.checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
  VALUES ('put-thread', '', 'ch03', :n, 'json', '\\x$(hex "$value1")')
  ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING;
INSERT INTO bench.checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
  VALUES ('put-thread', '', 'ch10', :n, 'json', '\\x$(hex "$value2")')
  ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING;
INSERT INTO bench.checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
  VALUES ('put-thread', '', :n, 'root', ($checkpoint)::jsonb, '$metadata')
  ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id)
  DO UPDATE SET checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata;
COMMIT;
BEGIN;
INSERT INTO bench.checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob)
  VALUES ('put-thread', '', :n, 'task-1', 0, 'ch03', 'json', '\\x$(hex "$write")')
  ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO NOTHING;
INSERT INTO bench.checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob)
  VALUES ('put-thread', '', :n, 'task-1', 1, 'ch10', 'json', '\\x$(hex "$write")')
  ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO NOTHING;
COMMIT;
SQL

cat >"$tmp/agentstore.sql" <<SQL
\\set n random(1, 2000000000)
SELECT agentstore.put_checkpoint('put-thread', '', ($checkpoint)::jsonb, '$metadata',
  ('{"ch03": ' || :n || ', "ch10": ' || :n || '}')::jsonb,
  '{"ch03": ["json", "$(b64 "$value1")"], "ch10": ["json", "$(b64 "$value2")"]}', 'root');
SELECT agentstore.put_writes('put-thread', '', :n, 'task-1',
  '[["ch03", "json", "$(b64 "$write")"], ["ch10", "json", "$(b64 "$write")"]]');
SQL

set -- $(cp_compare "$secs" "prepared:$tmp/langgraph.sql" "extended:$tmp/langgraph.sql" \
	"prepared:$tmp/agentstore.sql")
report "checkpoint put + put_writes per step (2 of 20 channels new)" "LangGraph's statements, prepared" "$1" "$3" steps/s higher
report "checkpoint put + put_writes per step (2 of 20 channels new)" "LangGraph's statements as PostgresSaver sends them" "$2" "$3" steps/s higher

# Both stored the same kind of rows.
q "SELECT 'langgraph', (SELECT count(*) FROM bench.checkpoints), (SELECT count(*) FROM bench.checkpoint_blobs),
          (SELECT count(*) FROM bench.checkpoint_writes)
   UNION ALL
   SELECT 'agentstore', (SELECT count(*) FROM agentstore.checkpoints WHERE thread_id = 'put-thread'),
          (SELECT count(*) FROM agentstore.checkpoint_blobs WHERE thread_id = 'put-thread'),
          (SELECT count(*) FROM agentstore.checkpoint_writes WHERE thread_id = 'put-thread')" >&2
q "SELECT agentstore.delete_thread('put-thread')" >/dev/null

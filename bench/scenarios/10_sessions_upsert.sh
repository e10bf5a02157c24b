# agent-go's batch session writer's workload: batch upsert of sessions
# (13 columns, 5 JSONB, ~1.5 kB).
#
# Baselines: plain COPY (no conflict handling), agent-go's batch writer
# (COPY -> temp table -> INSERT ... ON CONFLICT), and INSERT ... SELECT FROM
# jsonb_populate_recordset($doc) ON CONFLICT with the batch as one JSON
# document; then 200 batches of 10 sessions, and the catalog churn of agent-go's
# temporary tables.
#
# Each baseline runs twice: on agent-go's own table (bench.agentgo: primary key
# only) and on bench.sessions_eq, a copy of agentstore.sessions with all its
# indexes and constraints ("the same table"), so that the figures show both
# what agent-go's writer costs as shipped and what the same work costs on agentstore's
# table.  agentstore's side: COPY into the session_import view (the bulk
# path) and upsert_sessions(jsonb | json) with the whole batch as one array.
n=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", 100000 * s }')
tmp=$(bench_tmp)
csv="$tmp/agentgo.csv"
json="$tmp/agentgo.json"
cols="session_id, agent_id, team_id, workflow_id, user_id, name, metadata, state, agent_data, runs, summary, created_at, updated_at"
gen_agentgo_csv "$n" "$csv"
create_agentgo_table bench.agentgo
create_agentgo_table bench.agentgo_copy
q "\\copy bench.agentgo_copy FROM '$csv' WITH (FORMAT csv)"
# one line, no newlines (COPY's text format would escape them)
q "\\copy (SELECT replace(json_agg(s)::text, E'\\n', '') FROM bench.agentgo_copy s) TO '$json'"
chmod 644 "$json"
q "DROP TABLE IF EXISTS bench.sessions_eq;
   CREATE TABLE bench.sessions_eq (LIKE agentstore.sessions INCLUDING ALL);
   ALTER TABLE bench.sessions_eq ALTER app_name SET DEFAULT 'default';
   TRUNCATE bench.agentgo_copy; CHECKPOINT"

source "$(dirname "${BASH_SOURCE[0]}")/sessions_common.bash"
time_file() { checked_time psql -qAtX -v ON_ERROR_STOP=1 -f "$1"; }
time_sql() { checked_time psql -qAtX -v ON_ERROR_STOP=1 -c "$1"; }

# Empty a table and let the next run start from a clean state.
reset_table() { q "TRUNCATE $1"; q "CHECKPOINT"; }
reset_agentstore() {
	q "DELETE FROM agentstore.sessions WHERE app_name = 'default'"
	q "VACUUM agentstore.sessions"
	q "CHECKPOINT"
}

# agent-go's batch writer: COPY into a temporary table, then one INSERT ... ON CONFLICT.
# $1 = csv, $2 = target, $3 = conflict target.
agentgo_upsert_script() {
	cat <<SQL
BEGIN;
CREATE TEMPORARY TABLE temp_sessions (LIKE bench.agentgo) ON COMMIT DROP;
\\copy temp_sessions FROM '$1' WITH (FORMAT csv)
INSERT INTO $2 ($cols) SELECT * FROM temp_sessions
ON CONFLICT $3 DO UPDATE SET
	agent_id = EXCLUDED.agent_id, team_id = EXCLUDED.team_id,
	workflow_id = EXCLUDED.workflow_id, user_id = EXCLUDED.user_id,
	name = EXCLUDED.name, metadata = EXCLUDED.metadata, state = EXCLUDED.state,
	agent_data = EXCLUDED.agent_data, runs = EXCLUDED.runs,
	summary = EXCLUDED.summary, updated_at = now();
COMMIT;
SQL
}
agentgo_upsert_script "$csv" bench.agentgo "(session_id)" >"$tmp/agentgo_upsert.sql"
agentgo_upsert_script "$csv" bench.sessions_eq \
	"(app_name, user_id, session_id) WHERE deleted_at IS NULL" >"$tmp/agentgo_upsert_eq.sql"
# the counts are per connection: read them in the COPY's own session
cat >"$tmp/bulk.sql" <<SQL
\\copy agentstore.session_import ($cols) FROM '$csv' WITH (FORMAT csv)
\\o $tmp/bulk.counts
SELECT inserted || '/' || updated FROM agentstore.session_import_result();
SQL

# New rows.
t_copy=$(time_sql "\\copy bench.agentgo_copy FROM '$csv' WITH (FORMAT csv)")
q "CHECKPOINT"
t_copy_eq=$(time_sql "\\copy bench.sessions_eq ($cols) FROM '$csv' WITH (FORMAT csv)")
reset_table bench.sessions_eq
t_agentgo_new=$(time_file "$tmp/agentgo_upsert.sql")
q "CHECKPOINT"
t_agentgo_eq_new=$(time_file "$tmp/agentgo_upsert_eq.sql")
reset_agentstore
t_bulk_new=$(time_file "$tmp/bulk.sql")
[ "$(cat "$tmp/bulk.counts")" = "$n/0" ] || echo "bulk path counted $(cat "$tmp/bulk.counts"), expected $n/0" >&2
q "CHECKPOINT"

# Existing rows (every key present).
t_agentgo_existing=$(time_file "$tmp/agentgo_upsert.sql")
q "CHECKPOINT"
t_agentgo_eq_existing=$(time_file "$tmp/agentgo_upsert_eq.sql")
q "CHECKPOINT"
t_bulk_existing=$(time_file "$tmp/bulk.sql")
[ "$(cat "$tmp/bulk.counts")" = "0/$n" ] || echo "bulk path counted $(cat "$tmp/bulk.counts"), expected 0/$n" >&2

report "upsert 100k sessions, new" "plain COPY into agentstore's table" "$t_copy_eq" "$t_bulk_new" s lower
report "upsert 100k sessions, new" "plain COPY into agent-go's table" "$t_copy" "$t_bulk_new" s lower
report "upsert 100k sessions, new" "agent-go COPY+temp+upsert, own table" "$t_agentgo_new" "$t_bulk_new" s lower
report "upsert 100k sessions, new" "agent-go COPY+temp+upsert, same table" "$t_agentgo_eq_new" "$t_bulk_new" s lower
report "upsert 100k sessions, existing" "agent-go COPY+temp+upsert, own table" "$t_agentgo_existing" "$t_bulk_existing" s lower
report "upsert 100k sessions, existing" "agent-go COPY+temp+upsert, same table" "$t_agentgo_eq_existing" "$t_bulk_existing" s lower

# The whole batch as one JSON document.  Both sides read it on the server
# with pg_read_file() and cast it, so that each pays the document's type
# input function once, as with a bound parameter, and neither pays psql's
# handling of a 157 MB literal.
populate_script() {
	cat <<SQL
INSERT INTO $1 ($cols) SELECT $cols FROM jsonb_populate_recordset(NULL::bench.agentgo, pg_read_file('$json')::jsonb)
ON CONFLICT $2 DO UPDATE SET
	agent_id = EXCLUDED.agent_id, team_id = EXCLUDED.team_id,
	workflow_id = EXCLUDED.workflow_id, user_id = EXCLUDED.user_id,
	name = EXCLUDED.name, metadata = EXCLUDED.metadata, state = EXCLUDED.state,
	agent_data = EXCLUDED.agent_data, runs = EXCLUDED.runs,
	summary = EXCLUDED.summary, updated_at = now();
SQL
}
populate_script bench.agentgo "(session_id)" >"$tmp/populate.sql"
populate_script bench.sessions_eq "(app_name, user_id, session_id) WHERE deleted_at IS NULL" >"$tmp/populate_eq.sql"
for t in jsonb json; do
	cat >"$tmp/upsert_$t.sql" <<SQL
SELECT * FROM agentstore.upsert_sessions(pg_read_file('$json')::$t);
SQL
done
reset_table bench.agentgo
t_populate_new=$(time_file "$tmp/populate.sql")
reset_table bench.sessions_eq
t_populate_eq_new=$(time_file "$tmp/populate_eq.sql")
reset_agentstore
t_jsonb_new=$(time_file "$tmp/upsert_jsonb.sql")
reset_agentstore
t_json_new=$(time_file "$tmp/upsert_json.sql")
q "CHECKPOINT"
t_json_existing=$(time_file "$tmp/upsert_json.sql")
q "CHECKPOINT"
t_jsonb_existing=$(time_file "$tmp/upsert_jsonb.sql")
q "CHECKPOINT"
t_populate_existing=$(time_file "$tmp/populate.sql")

report "upsert 100k sessions as one JSON array, new" "INSERT..jsonb_populate_recordset ON CONFLICT, own table" "$t_populate_new" "$t_jsonb_new" s lower
report "upsert 100k sessions as one JSON array, new" "INSERT..jsonb_populate_recordset ON CONFLICT, same table" "$t_populate_eq_new" "$t_jsonb_new" s lower
report "upsert 100k sessions as one json array, new" "INSERT..jsonb_populate_recordset ON CONFLICT, own table" "$t_populate_new" "$t_json_new" s lower
report "upsert 100k sessions as one json array, new" "INSERT..jsonb_populate_recordset ON CONFLICT, same table" "$t_populate_eq_new" "$t_json_new" s lower
report "upsert 100k sessions as one JSON array, existing" "INSERT..jsonb_populate_recordset ON CONFLICT, own table" "$t_populate_existing" "$t_jsonb_existing" s lower
report "upsert 100k sessions as one json array, existing" "INSERT..jsonb_populate_recordset ON CONFLICT, own table" "$t_populate_existing" "$t_json_existing" s lower

# 200 batches of 10 sessions, each its own transaction: agent-go's strategy
# (a temporary table per batch) against one upsert_sessions() call per batch.
: >"$tmp/small_batches.sql"
: >"$tmp/small_upserts.sql"
for b in $(seq 0 199); do
	sed -n "$((b * 10 + 1)),$((b * 10 + 10))p" "$csv" >"$tmp/batch_$b.csv"
	agentgo_upsert_script "$tmp/batch_$b.csv" bench.agentgo "(session_id)" >>"$tmp/small_batches.sql"
done
# the same 2,000 sessions as JSON, ten per call
reset_table bench.agentgo
q "\\copy bench.agentgo FROM '$csv' WITH (FORMAT csv)"
q "\\copy (SELECT 'SELECT * FROM agentstore.upsert_sessions(' || quote_literal(json_agg(t)::jsonb::text) || '::jsonb);' FROM (SELECT s AS t, (row_number() OVER (ORDER BY created_at) - 1) / 10 AS b FROM bench.agentgo s ORDER BY created_at LIMIT 2000) x GROUP BY b ORDER BY b) TO '$tmp/small_upserts.sql'"
reset_table bench.agentgo
reset_agentstore
attr_dead() { sleep 1; q "SELECT n_dead_tup FROM pg_stat_sys_tables WHERE relname = 'pg_attribute'"; }
dead_before=$(attr_dead)
t_small=$(time_file "$tmp/small_batches.sql")
dead_after=$(attr_dead)
t_small_as=$(time_file "$tmp/small_upserts.sql")
dead_after_as=$(attr_dead)
rows=$(q "SELECT count(*) FROM agentstore.sessions WHERE app_name = 'default'")
[ "$rows" = 2000 ] || echo "upsert_sessions wrote $rows rows, expected 2000" >&2
report "200 batches of 10 sessions" "agent-go COPY+temp table+upsert" "$t_small" "$t_small_as" s lower
report "200 batches of 10: dead pg_attribute rows" "agent-go COPY+temp table+upsert" "$((dead_after - dead_before))" "$((dead_after_as - dead_after))" rows lower
reset_agentstore

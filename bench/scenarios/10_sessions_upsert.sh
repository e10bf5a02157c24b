# Seed 000's workload: batch upsert of sessions (13 columns, 5 JSONB, ~1.5 kB).
# Baselines (REFERENCE.md section 5): plain COPY (no conflict handling), seed
# 000's COPY -> temp table -> INSERT ... ON CONFLICT, and INSERT ... SELECT FROM
# jsonb_populate_recordset($doc) ON CONFLICT with the batch as one JSON document;
# then 200 batches of 10 sessions with seed 000's strategy, and the catalog
# churn its temporary tables cause.
n=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", 100000 * s }')
tmp=$(bench_tmp)
csv="$tmp/seed000.csv"
json="$tmp/seed000.json"
gen_seed000_csv "$n" "$csv"
create_seed000_table bench.s000
create_seed000_table bench.s000_copy
q "\\copy bench.s000_copy FROM '$csv' WITH (FORMAT csv)"
q "\\copy (SELECT json_agg(s) FROM bench.s000_copy s) TO '$json'"
q "TRUNCATE bench.s000_copy; CHECKPOINT"

# seed 000: COPY into a temporary table, then one INSERT ... ON CONFLICT.
seed000_upsert_script() {
	cat <<SQL
BEGIN;
CREATE TEMPORARY TABLE temp_sessions (LIKE bench.s000) ON COMMIT DROP;
\\copy temp_sessions FROM '$1' WITH (FORMAT csv)
INSERT INTO bench.s000 SELECT * FROM temp_sessions
ON CONFLICT (session_id) DO UPDATE SET
	agent_id = EXCLUDED.agent_id, team_id = EXCLUDED.team_id,
	workflow_id = EXCLUDED.workflow_id, user_id = EXCLUDED.user_id,
	name = EXCLUDED.name, metadata = EXCLUDED.metadata, state = EXCLUDED.state,
	agent_data = EXCLUDED.agent_data, runs = EXCLUDED.runs,
	summary = EXCLUDED.summary, updated_at = now();
COMMIT;
SQL
}
seed000_upsert_script "$csv" >"$tmp/seed000_upsert.sql"

t_copy=$(time_sql "\\copy bench.s000_copy FROM '$csv' WITH (FORMAT csv)")
t_seed_new=$(time_file "$tmp/seed000_upsert.sql")
t_seed_existing=$(time_file "$tmp/seed000_upsert.sql")

# The whole batch as one JSON document, sent as a query parameter would be.
cat >"$tmp/populate.sql" <<SQL
\\set doc \`cat $json\`
INSERT INTO bench.s000 SELECT * FROM jsonb_populate_recordset(NULL::bench.s000, :'doc'::jsonb)
ON CONFLICT (session_id) DO UPDATE SET
	agent_id = EXCLUDED.agent_id, team_id = EXCLUDED.team_id,
	workflow_id = EXCLUDED.workflow_id, user_id = EXCLUDED.user_id,
	name = EXCLUDED.name, metadata = EXCLUDED.metadata, state = EXCLUDED.state,
	agent_data = EXCLUDED.agent_data, runs = EXCLUDED.runs,
	summary = EXCLUDED.summary, updated_at = now();
SQL
q "TRUNCATE bench.s000"
t_populate_new=$(time_file "$tmp/populate.sql")

# Agentstore's side is added by the sessions feature (upsert_sessions and the
# bulk path); until then the rows show the baselines alone.
report "upsert 100k sessions, new" "plain COPY (no conflict handling)" "$t_copy" - s lower
report "upsert 100k sessions, new" "seed 000 COPY+temp table+upsert" "$t_seed_new" - s lower
report "upsert 100k sessions, existing" "seed 000 COPY+temp table+upsert" "$t_seed_existing" - s lower
report "upsert 100k sessions as one JSON array" "INSERT..jsonb_populate_recordset ON CONFLICT" "$t_populate_new" - s lower

# 200 batches of 10 sessions, each its own transaction, as seed 000 does them.
: >"$tmp/small_batches.sql"
for b in $(seq 0 199); do
	sed -n "$((b * 10 + 1)),$((b * 10 + 10))p" "$csv" >"$tmp/batch_$b.csv"
	seed000_upsert_script "$tmp/batch_$b.csv" >>"$tmp/small_batches.sql"
done
q "TRUNCATE bench.s000"
dead_before=$(q "SELECT n_dead_tup FROM pg_stat_sys_tables WHERE relname = 'pg_attribute'")
t_small=$(time_file "$tmp/small_batches.sql")
sleep 1
dead_after=$(q "SELECT n_dead_tup FROM pg_stat_sys_tables WHERE relname = 'pg_attribute'")
report "200 batches of 10 sessions" "seed 000 COPY+temp table+upsert" "$t_small" - s lower
report "200 batches of 10: dead pg_attribute rows" "seed 000 COPY+temp table+upsert" "$((dead_after - dead_before))" - rows lower

# Plain single-row INSERT, one event per statement and transaction, 2 clients
# (pgbench -M prepared), each to its own stream: the C version trigger
# (agentstore.events) against seed 004's PL/pgSQL version trigger on a table
# with the same columns and indexes, and against no version logic at all.
# (Multi-row INSERT and COPY through both triggers: scenarios 20 and 21.)
secs=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", (15 * s < 3) ? 3 : 15 * s }')
tmp=$(bench_tmp)
here=$(dirname "${BASH_SOURCE[0]}")
q_file "$here/streams_baselines.sql" >/dev/null

payload='{"order_id": "ord-1234567", "customer": {"id": "cust-42", "tier": "gold"}, "note": "leave at the door"}'
for table in bench.events_plain bench.events_plpgsql agentstore.events; do
	cat >"$tmp/$table.sql" <<SQL
\\set r random(1, 9000000000000000)
INSERT INTO $table (stream, event_id, type, data) VALUES ('single-' || :client_id, :r, 'OrderPlaced', :payload::jsonb);
SQL
done

run_case() {
	local args=(-n -M prepared -c 2 -j 2 -D "payload=$payload" -f "$1")
	pgbench_tps "${args[@]}" -T 1 >/dev/null
	q "CHECKPOINT"
	pgbench_tps "${args[@]}" -T "$secs"
}
plain=$(run_case "$tmp/bench.events_plain.sql")
plpgsql=$(run_case "$tmp/bench.events_plpgsql.sql")
ctrigger=$(run_case "$tmp/agentstore.events.sql")

gaps=$(q "SELECT count(*) FROM (SELECT stream FROM agentstore.events WHERE stream LIKE 'single-%'
          GROUP BY stream HAVING count(*) <> max(version)) s")
[ "$gaps" = 0 ] || echo "error: $gaps streams with gaps" >&2

report "single-row INSERT, 2 clients" "PL/pgSQL version trigger" "$plpgsql" "$ctrigger" tps higher
report "single-row INSERT, 2 clients" "no version logic" "$plain" "$ctrigger" tps higher

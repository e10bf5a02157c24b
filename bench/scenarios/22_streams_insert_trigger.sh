# Plain single-row INSERT, one event per statement and transaction, 2 clients
# (pgbench -M prepared), each to its own stream: the C version trigger
# (agentstore.events) against eventcore's PL/pgSQL version trigger on a table
# with the same columns and indexes, and against no version logic at all.
# (Multi-row INSERT and COPY through both triggers: scenarios 20 and 21.)
secs=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", (16 * s < 4) ? 4 : 16 * s }')
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

source "$here/streams_common.bash"
run_rounds "$secs" plain="$tmp/bench.events_plain.sql" plpgsql="$tmp/bench.events_plpgsql.sql" \
	ctrigger="$tmp/agentstore.events.sql" -- -n -M prepared -c 2 -j 2 -D "payload=$payload"

gaps=$(q "SELECT count(*) FROM (SELECT stream FROM agentstore.events WHERE stream LIKE 'single-%'
          GROUP BY stream HAVING count(*) <> max(version)) s")
[ "$gaps" = 0 ] || echo "error: $gaps streams with gaps" >&2

report "single-row INSERT, 2 clients" "PL/pgSQL version trigger" "$plpgsql" "$ctrigger" tps higher
report "single-row INSERT, 2 clients" "no version logic" "$plain" "$ctrigger" tps higher

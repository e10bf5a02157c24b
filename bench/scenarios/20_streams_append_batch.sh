# Append 100 events per call from 2 clients (pgbench -M prepared), each to its
# own stream; every event has an id and a ~200-byte JSON payload.
#   baselines: one multi-row INSERT of 100 rows into a table with eventcore's
#              PL/pgSQL version trigger, and into the same table with no
#              version logic at all;
#   agentstore: append_events(stream, events) (bulk path), with the events
#              as text (what replace() returns, like an untyped driver
#              parameter) and as jsonb; for reference also the same
#              multi-row INSERT through the C version trigger.
# Event ids are '<random>-<n>', fresh per call; the payload is sent as a
# parameter and parsed per event (INSERT, text form) or per call (jsonb).
secs=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", (20 * s < 4) ? 4 : 20 * s }')
tmp=$(bench_tmp)
here=$(dirname "${BASH_SOURCE[0]}")
q_file "$here/streams_baselines.sql" >/dev/null

payload='{"order_id": "ord-1234567", "customer": {"id": "cust-42", "tier": "gold"}, "lines": [{"sku": "A-1", "qty": 2, "price": 19.99}, {"sku": "B-7", "qty": 1, "price": 5.5}], "note": "leave at the door"}'


insert_script() {
	local table=$1 rows
	rows=$(for i in $(seq 1 100); do
		printf "('-%d', :payload)" "$i"
		[ "$i" -lt 100 ] && printf ',\n'
	done)
	echo '\set r random(1, 9000000000000000)'
	echo "WITH p AS (SELECT 'bench-' || :client_id AS stream, :r::text AS r)"
	echo "INSERT INTO $table (stream, event_id, type, data)"
	echo "SELECT p.stream, p.r || v.n, 'OrderPlaced', v.d::jsonb FROM p, (VALUES"
	echo "$rows) AS v(n, d);"
}
insert_script bench.events_plain >"$tmp/plain.sql"
insert_script bench.events_plpgsql >"$tmp/plpgsql.sql"
insert_script agentstore.events >"$tmp/ctrigger.sql"

events=$(q "SELECT jsonb_agg(jsonb_build_object('event_id', '@-' || g, 'type', 'OrderPlaced', 'data', '$payload'::jsonb)) FROM generate_series(1, 100) g")
# $1: the cast of the events argument ("" = text form, "::jsonb").
append_script() {
	echo '\set r random(1, 9000000000000000)'
	echo "SELECT last_version FROM agentstore.append_events('bench-' || :client_id, replace(:events, '\"@-', '\"' || :r || '-')$1);"
}
append_script "" >"$tmp/append.sql"
append_script "::jsonb" >"$tmp/append_jsonb.sql"

# The payload and the events array are pgbench variables (-D), sent as
# parameters; events/s = tps * 100.
source "$here/streams_common.bash"
run_rounds "$secs" plain="$tmp/plain.sql" plpgsql="$tmp/plpgsql.sql" ctrigger="$tmp/ctrigger.sql" \
	append="$tmp/append.sql" append_jsonb="$tmp/append_jsonb.sql" \
	-- -n -M prepared -c 2 -j 2 -D "payload=$payload" -D "events=$events"
for v in plain plpgsql ctrigger append append_jsonb; do
	printf -v "$v" '%d' $((${!v} * 100))
done
# Server CPU per call on one connection: steadier than throughput when other
# work shares the machine.
cpu_args=(-n -M prepared -D "payload=$payload" -D "events=$events")
calls=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", (2000 * s < 200) ? 200 : 2000 * s }')
cpu_plain=$(backend_cpu_us "$calls" "$tmp/plain.sql" "${cpu_args[@]}")
cpu_plpgsql=$(backend_cpu_us "$calls" "$tmp/plpgsql.sql" "${cpu_args[@]}")
cpu_append=$(backend_cpu_us "$calls" "$tmp/append.sql" "${cpu_args[@]}")

# Every stream written is still exactly 1..n.
gaps=$(q "SELECT count(*) FROM (SELECT stream FROM agentstore.events WHERE stream LIKE 'bench-%'
          GROUP BY stream HAVING count(*) <> max(version)) s")
[ "$gaps" = 0 ] || echo "error: $gaps streams with gaps" >&2

report "append 100 events/call, 2 clients" "multi-row INSERT + PL/pgSQL version trigger" "$plpgsql" "$append" events/s higher
report "append 100 events/call, 2 clients" "multi-row INSERT, no version logic" "$plain" "$append" events/s higher
report "append 100 events/call as jsonb, 2 clients" "multi-row INSERT + PL/pgSQL version trigger" "$plpgsql" "$append_jsonb" events/s higher
report "multi-row INSERT 100 rows, 2 clients" "PL/pgSQL version trigger" "$plpgsql" "$ctrigger" events/s higher
report "server CPU per 100-event append" "multi-row INSERT + PL/pgSQL version trigger" "$cpu_plpgsql" "$cpu_append" us lower
report "server CPU per 100-event append" "multi-row INSERT, no version logic" "$cpu_plain" "$cpu_append" us lower

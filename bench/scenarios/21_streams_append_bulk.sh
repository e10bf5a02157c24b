# Append 10,000 events in one call (one transaction), repeated into fresh
# streams; every event has an id and a ~200-byte JSON payload, read by the
# client from a file and sent as a driver sends it (streams_client.c, libpq):
# COPY data in 64 kB messages, or the JSON array as one query parameter.
#   baseline:  COPY of the same events (CSV) into a table with the same
#              columns and indexes and no version logic (versions from a
#              sequence);
#   agentstore: append_events(stream, events) with the events as one JSON
#              array in an untyped parameter (the text form, converted event
#              by event) and as jsonb; for reference also COPY through the C
#              version trigger and through eventcore's PL/pgSQL trigger.
# Figures are events/s over all repetitions (connection set-up excluded);
# the repetitions of the strategies alternate.
reps=$(awk -v s="$BENCH_SCALE" 'BEGIN { n = int(10 * s); printf "%d", n < 2 ? 2 : n }')
n=10000
tmp=$(bench_tmp)
here=$(dirname "${BASH_SOURCE[0]}")
q_file "$here/streams_baselines.sql" >/dev/null

payload="jsonb_build_object('order_id', 'ord-' || g, 'customer', jsonb_build_object('id', 'cust-42', 'tier', 'gold'),
	'lines', jsonb_build_array(jsonb_build_object('sku', 'A-1', 'qty', 2, 'price', 19.99),
	                           jsonb_build_object('sku', 'B-7', 'qty', 1, 'price', 5.5)), 'note', 'leave at the door')"
for r in $(seq 1 "$reps"); do
	for kind in plain ctrigger plpgsql; do
		q "\\copy (SELECT 'bulk-$kind-$r', 'ev-' || g, 'OrderPlaced', $payload FROM generate_series(1, $n) g) TO '$tmp/$kind-$r.csv' WITH (FORMAT csv)"
	done
	q "\\copy (SELECT jsonb_agg(jsonb_build_object('event_id', 'ev-' || g, 'type', 'OrderPlaced', 'data', $payload)) FROM generate_series(1, $n) g) TO '$tmp/append-$r.json'"
done
client="$tmp/streams_client"
gcc -O2 -o "$client" "$here/streams_client.c" -I"$(pg_config --includedir)" \
	-L"$(pg_config --libdir)" -lpq
q "CHECKPOINT"

t_plain=0 t_ctrigger=0 t_plpgsql=0 t_append=0 t_jsonb=0
add() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
for r in $(seq 1 "$reps"); do
	t_plain=$(add "$t_plain" "$("$client" copy bench.events_plain "$tmp/plain-$r.csv")")
	t_append=$(add "$t_append" "$("$client" append "bulk-append-$r" "$tmp/append-$r.json")")
	t_jsonb=$(add "$t_jsonb" "$("$client" append-jsonb "bulk-jsonb-$r" "$tmp/append-$r.json")")
	t_ctrigger=$(add "$t_ctrigger" "$("$client" copy agentstore.events "$tmp/ctrigger-$r.csv")")
	t_plpgsql=$(add "$t_plpgsql" "$("$client" copy bench.events_plpgsql "$tmp/plpgsql-$r.csv")")
done

rate() { awk -v t="$1" -v n=$((n * reps)) 'BEGIN { printf "%d", n / t }'; }
gaps=$(q "SELECT count(*) FROM (SELECT stream FROM agentstore.events WHERE stream LIKE 'bulk-%'
          GROUP BY stream HAVING count(*) <> max(version) OR count(*) <> $n) s")
[ "$gaps" = 0 ] || echo "error: $gaps bulk streams are not exactly 1..$n" >&2

report "append 10,000 events in one call" "COPY, no version logic" "$(rate "$t_plain")" "$(rate "$t_append")" events/s higher
report "append 10,000 events in one call, as jsonb" "COPY, no version logic" "$(rate "$t_plain")" "$(rate "$t_jsonb")" events/s higher
report "COPY 10,000 events" "COPY + PL/pgSQL version trigger" "$(rate "$t_plpgsql")" "$(rate "$t_ctrigger")" events/s higher

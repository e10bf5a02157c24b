# TTL expiry of a backlog: 10,000 expired sessions with 100 events and one
# summary each (1,020,000 rows) while a foreground load appends to live
# sessions (pgbench, 4 clients).  Measured: rows expired per second, and the
# foreground's tps and p99 latency while the backlog is worked off, against
#   - the same foreground in the 10 s before and after the expiry, in the same
#     pgbench run (goal: p99 <= 1.25x), and
#   - trpc-agent-go's cleanup style: one transaction, one unbounded UPDATE per
#     table (trpc-agent-go's session service; it finds a session's events by scanning its events
#     table, here they are found through the sessions, which is kinder).
# Also: the longest wait of a write to an expired session's event while the
# backlog is worked off (probes every 0.5 s on random expired sessions).
#
# The foreground is agentstore.append_event (one event with a state delta per
# call); without it (a branch without the sessions feature), a plain-SQL
# stand-in that does the same writes: slide the session's TTL and state under
# its row lock, then insert the event with an explicit version (max + 1).
nsessions=$(awk -v s="$BENCH_SCALE" 'BEGIN { printf "%d", 10000 * s < 100 ? 100 : 10000 * s }')
nevents=100
nlive=1000
quiet=10
tmp=$(bench_tmp)
cd "$tmp"

reload_interval() {
	q "ALTER SYSTEM SET agentstore.ttl_interval = '$1'" >/dev/null
	q "SELECT pg_reload_conf()" >/dev/null
}
# The worker stays away until we want it.  Defaults for everything else,
# unless BENCH_TTL_BATCH sets agentstore.ttl_batch_size and BENCH_TTL_DELAY
# agentstore.ttl_batch_delay (ms).
reload_interval 1h
if [ -n "${BENCH_TTL_BATCH:-}" ]; then
	q "ALTER DATABASE $PGDATABASE SET agentstore.ttl_batch_size = $BENCH_TTL_BATCH" >/dev/null
else
	q "ALTER DATABASE $PGDATABASE RESET agentstore.ttl_batch_size" >/dev/null
fi
if [ -n "${BENCH_TTL_DELAY:-}" ]; then
	q "ALTER DATABASE $PGDATABASE SET agentstore.ttl_batch_delay = $BENCH_TTL_DELAY" >/dev/null
else
	q "ALTER DATABASE $PGDATABASE RESET agentstore.ttl_batch_delay" >/dev/null
fi
delay=$(psql -qAtX -c "SHOW agentstore.ttl_batch_delay")
batch=$(psql -qAtX -c "SHOW agentstore.ttl_batch_size")

# Live sessions for the foreground, each with one event.
q "DELETE FROM agentstore.events e USING agentstore.sessions s
    WHERE s.app_name = 'ttlfg' AND e.stream = 'session-' || s.id;
   DELETE FROM agentstore.sessions WHERE app_name = 'ttlfg';
   INSERT INTO agentstore.sessions (app_name, user_id, session_id, expires_at)
   SELECT 'ttlfg', 'u', 'f' || g, now() + interval '1 hour' FROM generate_series(1, $nlive) g;
   INSERT INTO agentstore.events (stream, version, type, data)
   SELECT 'session-' || id, 1, 'msg', '{}' FROM agentstore.sessions WHERE app_name = 'ttlfg'"
if has_function 'agentstore.append_event(text, text, text, jsonb, jsonb, bigint, bigint)'; then
	foreground="append_event"
	cat >"$tmp/append.sql" <<SQL
\\set k random(1, $nlive)
SELECT version FROM agentstore.append_event('ttlfg', 'u', 'f' || :k,
       '{"type": "msg", "role": "user", "text": "hello, how are you today?"}',
       jsonb_build_object('n', :k));
SQL
else
	foreground="plain SQL stand-in for append_event"
	cat >"$tmp/append.sql" <<SQL
\\set k random(1, $nlive)
BEGIN;
UPDATE agentstore.sessions
   SET state = jsonb_set(state, '{n}', to_jsonb(:k)), updated_at = now(),
       expires_at = now() + interval '1 hour'
 WHERE app_name = 'ttlfg' AND session_id = 'f' || :k
   AND deleted_at IS NULL AND (expires_at IS NULL OR expires_at > now())
RETURNING id \\gset
INSERT INTO agentstore.events (stream, version, type, data)
SELECT 'session-' || :id, coalesce(max(version), 0) + 1, 'msg',
       '{"role": "user", "text": "hello, how are you today?"}'
  FROM agentstore.events WHERE stream = 'session-' || :id;
END;
SQL
fi
echo "foreground: $foreground" >&2

# The backlog: expired sessions, oldest first by expires_at.
make_backlog() {
	q "DELETE FROM agentstore.events e USING agentstore.sessions s
	    WHERE s.app_name = 'ttlold' AND e.stream = 'session-' || s.id;
	   DELETE FROM agentstore.session_summaries WHERE app_name = 'ttlold';
	   DELETE FROM agentstore.sessions WHERE app_name = 'ttlold'"
	q "VACUUM agentstore.events, agentstore.sessions, agentstore.session_summaries"
	q "INSERT INTO agentstore.sessions (app_name, user_id, session_id, expires_at)
	   SELECT 'ttlold', 'u' || (g % 100), 's' || g, now() - interval '1 day' + g * interval '1 ms'
	     FROM generate_series(1, $nsessions) g;
	   INSERT INTO agentstore.events (stream, version, type, data)
	   SELECT 'session-' || s.id, v, 'msg',
	          jsonb_build_object('role', 'assistant', 'text', 'an answer of some length, ' || v)
	     FROM agentstore.sessions s, generate_series(1, $nevents) v
	    WHERE s.app_name = 'ttlold';
	   INSERT INTO agentstore.session_summaries (app_name, session_ref, summary)
	   SELECT 'ttlold', id, '{\"text\": \"summary\"}' FROM agentstore.sessions WHERE app_name = 'ttlold'"
	q "VACUUM ANALYZE agentstore.events, agentstore.sessions, agentstore.session_summaries"
	first_stream=$(q "SELECT 'session-' || id FROM agentstore.sessions
	                   WHERE app_name = 'ttlold' ORDER BY expires_at LIMIT 1")
}

# Foreground in the background: pgbench with a per-transaction log.
start_fg() {
	rm -f "$tmp/log-$1".*
	pgbench -n -c 4 -j 2 -T "${2:-600}" -f "$tmp/append.sql" -l --log-prefix="$tmp/log-$1" \
		>"$tmp/pgbench-$1.out" 2>&1 &
	fg_pid=$!
	sleep 2
}
stop_fg() {
	sleep 1
	kill -TERM "$fg_pid" 2>/dev/null || true
	wait "$fg_pid" 2>/dev/null || true
}
# "tps p99_ms" of the foreground transactions of run $1 that completed
# during [$2, $3] (the expiry), or with $4 = around, in the $quiet seconds
# before $2 and after $3 (no expiry running).
window_stats() {
	cat "$tmp/log-$1".* |
		awk -v s="$2" -v e="$3" -v q="$quiet" -v around="${4:-}" '{
			t = $5 + $6 / 1e6
			if (around == "" ? (t >= s && t <= e) : ((t >= s - q && t < s) || (t > e && t <= e + q)))
				print $3 / 1000.0
		}' |
		sort -n | awk -v d="$(awk -v s="$2" -v e="$3" -v q="$quiet" -v around="${4:-}" \
			'BEGIN { print around == "" ? e - s : 2 * q }')" '
			{ a[NR] = $1 }
			END { i = int(NR * 0.99); if (i < 1) i = 1
			      if (NR == 0) print "- -"; else printf "%.0f %.2f\n", NR / d, a[i] }'
}
now_epoch() { date +%s.%N; }
# Until $tmp/stop.$1 exists, every 0.5 s update one event of a random expired
# session and note how long it took (s); then print the longest, in ms.
probe_loop() {
	local sid t
	: >"$tmp/probe.$1"
	while [ ! -e "$tmp/stop.$1" ]; do
		sid=$(((RANDOM * 32768 + RANDOM) % nsessions + 1))
		t=$(time_sql "UPDATE agentstore.events SET metadata = '{}'
		               WHERE stream = (SELECT 'session-' || id FROM agentstore.sessions
		                                WHERE app_name = 'ttlold' AND session_id = 's$sid')
		                 AND version = 1")
		echo "$t" >>"$tmp/probe.$1"
		sleep 0.5
	done
}
longest_probe() {
	sort -n "$tmp/probe.$1" | tail -1 | awk '{ printf "%.0f\n", $1 * 1000 }'
}

make_backlog

# 1. agentstore: the worker works the backlog off, default batch size.
last_run=$(q "SELECT coalesce(max(id), 0) FROM agentstore.ttl_runs")
start_fg as
sleep "$quiet"
probe_loop as &
reload_interval 1s
for _ in $(seq 900); do
	[ "$(q "SELECT count(*) FROM agentstore.ttl_runs
	         WHERE id > $last_run AND finished_at IS NOT NULL
	           AND (expired->>'events')::bigint >= $nsessions * $nevents")" = 1 ] && break
	sleep 1
done
reload_interval 1h
touch "$tmp/stop.as"
sleep "$quiet"
stop_fg
wait
set -- $(q "SELECT extract(epoch FROM started_at), extract(epoch FROM finished_at),
                   (SELECT sum(v::bigint) FROM jsonb_each_text(expired) AS j(k, v)), transactions
              FROM agentstore.ttl_runs WHERE id > $last_run
             ORDER BY (expired->>'events')::bigint DESC LIMIT 1" | tr '|' ' ')
as_rate=$(awk -v s="$1" -v e="$2" -v n="$3" 'BEGIN { printf "%.0f\n", n / (e - s) }')
as_txns=$4
read -r as_tps as_p99 < <(window_stats as "$1" "$2")
read -r as_quiet_tps as_quiet_p99 < <(window_stats as "$1" "$2" around)
as_probe=$(longest_probe as)

# 2. trpc-agent-go's style: one transaction, one unbounded UPDATE per table.
until [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'agentstore ttl worker'")" = 0 ]; do
	sleep 1
done
make_backlog
cat >"$tmp/trpc.sql" <<'SQL'
BEGIN;
UPDATE agentstore.events SET deleted_at = now()
 WHERE stream IN (SELECT 'session-' || id FROM agentstore.sessions
                   WHERE expires_at IS NOT NULL AND expires_at <= now() AND deleted_at IS NULL)
   AND deleted_at IS NULL;
UPDATE agentstore.session_summaries SET deleted_at = now()
 WHERE (app_name, session_ref) IN (SELECT app_name, id FROM agentstore.sessions
                                    WHERE expires_at IS NOT NULL AND expires_at <= now() AND deleted_at IS NULL)
   AND deleted_at IS NULL;
UPDATE agentstore.sessions SET deleted_at = now()
 WHERE expires_at IS NOT NULL AND expires_at <= now() AND deleted_at IS NULL;
UPDATE agentstore.app_states SET deleted_at = now()
 WHERE expires_at IS NOT NULL AND expires_at <= now() AND deleted_at IS NULL;
UPDATE agentstore.user_states SET deleted_at = now()
 WHERE expires_at IS NOT NULL AND expires_at <= now() AND deleted_at IS NULL;
COMMIT;
SQL
start_fg trpc
sleep "$quiet"
probe_loop trpc &
t0=$(now_epoch)
q_file "$tmp/trpc.sql" >/dev/null
t1=$(now_epoch)
touch "$tmp/stop.trpc"
sleep "$quiet"
stop_fg
wait
rows=$((nsessions * nevents + 2 * nsessions))
trpc_rate=$(awk -v s="$t0" -v e="$t1" -v n="$rows" 'BEGIN { printf "%.0f\n", n / (e - s) }')
read -r trpc_tps trpc_p99 < <(window_stats trpc "$t0" "$t1")
read -r trpc_quiet_tps trpc_quiet_p99 < <(window_stats trpc "$t0" "$t1" around)
trpc_probe=$(longest_probe trpc)

label="ttl backlog $((nsessions * nevents)) events, batch $batch rows, delay $delay"
trpc="trpc-agent-go cleanup (1 txn)"
report "$label: rows expired/s" "$trpc" "$trpc_rate" "$as_rate" rows/s higher
report "$label: foreground tps during expiry" "$trpc" "$trpc_tps" "$as_tps" tps higher
report "$label: foreground p99 during expiry" "$trpc" "$trpc_p99" "$as_p99" ms lower
report "$label: foreground p99, expiry vs none" "none (10 s before/after)" "$as_quiet_p99" "$as_p99" ms lower
report "$label: foreground tps, expiry vs none" "none (10 s before/after)" "$as_quiet_tps" "$as_tps" tps higher
report "$label: trpc foreground p99, expiry vs none" "none (10 s before/after)" "$trpc_quiet_p99" "$trpc_p99" ms lower
report "$label: longest wait of a write to an expired row" "$trpc" "$trpc_probe" "$as_probe" ms lower
report "$label: transactions" "$trpc" 1 "$as_txns" count -

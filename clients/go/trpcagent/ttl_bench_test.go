//go:build bench

package trpcagent

// Benchmark (build tag "bench"): foreground latency while a backlog of
// expired sessions is cleaned, trpc-agent-go's way against agentstore's.
//
// trpc-agent-go's Postgres session service (session/postgres v1.11.0,
// service.go cleanupExpiredData) expires sessions from the application: a
// goroutine on a ticker (5 min by default) runs, in one transaction, an
// UPDATE ... SET deleted_at per table (soft delete, its default) for
// session_states, then, for session_events, a GROUP BY over the whole events
// table (outside the transaction, on the pool) and an UPDATE whose IN list
// names every expired session (three parameters each), then
// session_track_events and session_summaries.  Its module is not served by
// the Go module proxy (404 for v1.10.0 to v1.11.2), so the benchmark runs
// those statements, as its code builds them, on its own tables (init.go's
// DDL); its foreground likewise replays its GetSession (state, app state,
// user state, all events of the session, summaries: five queries) and
// AppendEvent (BEGIN; SELECT ... FOR UPDATE; UPDATE; INSERT; COMMIT).
//
// agentstore expires in its background worker (agentstore.ttl_*; the server
// must have agentstore in shared_preload_libraries): the benchmark keeps the
// worker away (ttl_interval 1h), builds the backlog, runs the foreground for
// a quiet stretch, then sets ttl_interval to 1s and waits for the pass that
// expired the backlog (agentstore.ttl_runs).  Its foreground is this
// package's GetSession and AppendEvent (one statement each).
//
// Each round builds a fresh backlog of BENCH_TTL_SESSIONS (5,000) expired
// sessions with BENCH_TTL_EVENTS (40) events and one summary each on each
// side, and fresh live sessions (BENCH_TTL_LIVE, 100, with 10 events each);
// BENCH_TTL_CLIENTS (4) goroutines then loop GetSession + AppendEvent (one
// turn of a runner) on the live sessions.  Latencies are split into the
// cleanup window (from the start to the end of the cleanup transaction, or of
// the worker's pass) and the quiet stretch before it.  Sides alternate for
// BENCH_TTL_ROUNDS (2) rounds; the figures printed are medians over rounds.
//
// Why 5,000 sessions: trpc-agent-go's events UPDATE is one OR of one
// (app_name, user_id, session_id) triple per expired session; with the
// default max_stack_depth (2 MB) PostgreSQL refuses it ("stack depth limit
// exceeded", 54001) somewhere between 7,000 and 8,500 sessions, the whole
// cleanup transaction rolls back, and every later pass fails the same way.
// Below that its time grows with sessions x rows (the OR list is rechecked
// per row).  BENCH_TTL_SESSIONS=20000 shows the failure.  Run:
//
//	AGENTSTORE_TEST_DSN=... go test -tags bench -run TestBenchTTL -v -timeout 60m ./trpcagent
//
// The "bench-row" lines are read by bench/scenarios/36_go_clients.sh.

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"trpc.group/trpc-go/trpc-agent-go/event"
	"trpc.group/trpc-go/trpc-agent-go/session"
)

const ttlSchema = "trpc_ttl"

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// ttlSample is one foreground operation: when it ended and how long it took.
type ttlSample struct {
	end time.Time
	d   time.Duration
	op  int // 0 GetSession, 1 AppendEvent
}

// ttlSide is one way of storing sessions, with its foreground and cleanup.
type ttlSide interface {
	name() string
	backlog(t *testing.T, n, events int, doc []byte)
	live(t *testing.T, n int) []session.Key
	get(key session.Key) (*session.Session, error)
	appendEvent(sess *session.Session, key session.Key, e *event.Event) error
	// cleanup runs (or lets run) the expiry of the backlog and returns when
	// it started and ended, and in how many transactions.
	cleanup(t *testing.T, n, events int) (time.Time, time.Time, int)
}

// ------------------------------------------------------------ trpc-agent-go

type trpcSide struct {
	pool *pgxpool.Pool // DDL and the backlog
	db   *sql.DB       // what the framework's service uses (database/sql, pgx stdlib)
	ttl  time.Duration
	app  string
}

func (s *trpcSide) name() string { return "trpc-agent-go cleanup" }

func (s *trpcSide) backlog(t *testing.T, n, events int, doc []byte) {
	if _, err := s.pool.Exec(ctx, trpcSchema(ttlSchema)); err != nil {
		t.Fatal(err)
	}
	// Expired a day ago; events last written a day ago (the framework finds
	// expired events by their updated_at, older than now - sessionTTL).
	mustExec(t, s.pool, `
		INSERT INTO `+ttlSchema+`.session_states (app_name, user_id, session_id, state, created_at, updated_at, expires_at)
		SELECT 'ttlold', 'u' || (g % 100), 's' || g, '{"state": {"k": "dg=="}}',
		       localtimestamp - interval '2 days', localtimestamp - interval '1 day',
		       localtimestamp - interval '1 day' + g * interval '1 ms'
		  FROM generate_series(1, $1::int) g`, n)
	mustExec(t, s.pool, `
		INSERT INTO `+ttlSchema+`.session_events (app_name, user_id, session_id, event, created_at, updated_at)
		SELECT s.app_name, s.user_id, s.session_id, $2::jsonb || pg_catalog.jsonb_build_object('id', s.id || '-' || v),
		       s.updated_at - (($1::int - v) * interval '1 s'), s.updated_at - (($1::int - v) * interval '1 s')
		  FROM `+ttlSchema+`.session_states s, generate_series(1, $1::int) v`, events, string(doc))
	mustExec(t, s.pool, `
		INSERT INTO `+ttlSchema+`.session_summaries (app_name, user_id, session_id, filter_key, summary, updated_at, expires_at)
		SELECT app_name, user_id, session_id, '', '{"summary": "what was said", "updated_at": "2026-01-01T00:00:00Z"}',
		       updated_at, expires_at
		  FROM `+ttlSchema+`.session_states`)
	mustExec(t, s.pool, `VACUUM ANALYZE `+ttlSchema+`.session_states, `+ttlSchema+`.session_events, `+
		ttlSchema+`.session_summaries, `+ttlSchema+`.session_track_events`)
}

func (s *trpcSide) live(t *testing.T, n int) []session.Key {
	keys := make([]session.Key, n)
	for i := range keys {
		keys[i] = session.Key{AppName: s.app, UserID: fmt.Sprintf("u%d", i%10), SessionID: fmt.Sprintf("live%d", i)}
		mustExec(t, s.pool, `INSERT INTO `+ttlSchema+`.session_states (app_name, user_id, session_id, state, expires_at)
			VALUES ($1, $2, $3, '{"state": {}}', localtimestamp + interval '1 hour')`,
			keys[i].AppName, keys[i].UserID, keys[i].SessionID)
		sess := session.NewSession(keys[i].AppName, keys[i].UserID, keys[i].SessionID)
		for j := 0; j < 10; j++ {
			if err := trpcAppend(s.db, ttlSchema, sess, fgEvent(j), s.ttl); err != nil {
				t.Fatal(err)
			}
		}
	}
	return keys
}

// get is trpc-agent-go's getSession (service_helper.go), query for query:
// the state row, app state, user state, every event of the session (then
// cut to the last sessionEventLimit = 1000 by ApplyEventFiltering), the
// summaries.  No tracks are indexed, so no track query.
func (s *trpcSide) get(key session.Key) (*session.Session, error) {
	var stateBytes []byte
	var createdAt, updatedAt time.Time
	err := s.db.QueryRowContext(ctx, `SELECT state, created_at, updated_at FROM `+ttlSchema+`.session_states
		WHERE app_name = $1 AND user_id = $2 AND session_id = $3
		AND (expires_at IS NULL OR expires_at > $4)
		AND deleted_at IS NULL`, key.AppName, key.UserID, key.SessionID, time.Now()).Scan(&stateBytes, &createdAt, &updatedAt)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st struct {
		State session.StateMap `json:"state"`
	}
	if err := json.Unmarshal(stateBytes, &st); err != nil {
		return nil, err
	}
	appState, err := s.kv(`SELECT key, value FROM `+ttlSchema+`.app_states
		WHERE app_name = $1
		AND (expires_at IS NULL OR expires_at > $2)
		AND deleted_at IS NULL`, key.AppName, time.Now())
	if err != nil {
		return nil, err
	}
	userState, err := s.kv(`SELECT key, value FROM `+ttlSchema+`.user_states
		WHERE app_name = $1 AND user_id = $2
		AND (expires_at IS NULL OR expires_at > $3)
		AND deleted_at IS NULL`, key.AppName, key.UserID, time.Now())
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT session_id, event FROM `+ttlSchema+`.session_events
		WHERE app_name = $1 AND user_id = $2
		AND session_id = ANY($3::varchar[])
		AND deleted_at IS NULL
		ORDER BY session_id, created_at ASC, id ASC`, key.AppName, key.UserID, []string{key.SessionID})
	if err != nil {
		return nil, err
	}
	var events []event.Event
	for rows.Next() {
		var sid string
		var b []byte
		if err := rows.Scan(&sid, &b); err != nil {
			rows.Close()
			return nil, err
		}
		var e event.Event
		if err := json.Unmarshal(b, &e); err != nil {
			rows.Close()
			return nil, err
		}
		events = append(events, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	tmp := &session.Session{Events: events}
	tmp.ApplyEventFiltering(session.WithEventNum(1000), session.WithEventTime(time.Now().Add(-s.ttl)))
	summaries := map[string]*session.Summary{}
	if len(tmp.Events) > 0 {
		rows, err := s.db.QueryContext(ctx, `SELECT session_id, filter_key, summary, updated_at FROM `+ttlSchema+`.session_summaries
		WHERE app_name = $1 AND user_id = $2 AND session_id = ANY($3::varchar[])
		AND (expires_at IS NULL OR expires_at > $4)
		AND deleted_at IS NULL`, key.AppName, key.UserID, []string{key.SessionID}, time.Now())
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var sid, fk string
			var b []byte
			var at time.Time
			if err := rows.Scan(&sid, &fk, &b, &at); err != nil {
				rows.Close()
				return nil, err
			}
			var sum session.Summary
			if err := json.Unmarshal(b, &sum); err != nil {
				rows.Close()
				return nil, err
			}
			summaries[fk] = &sum
		}
		rows.Close()
	}
	sess := session.NewSession(key.AppName, key.UserID, key.SessionID,
		session.WithSessionState(st.State), session.WithSessionEvents(tmp.Events),
		session.WithSessionSummaries(summaries),
		session.WithSessionCreatedAt(createdAt), session.WithSessionUpdatedAt(updatedAt))
	for k, v := range appState {
		sess.SetState(session.StateAppPrefix+k, v)
	}
	for k, v := range userState {
		sess.SetState(session.StateUserPrefix+k, v)
	}
	return sess, nil
}

func (s *trpcSide) kv(query string, args ...any) (session.StateMap, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := session.StateMap{}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

func (s *trpcSide) appendEvent(sess *session.Session, _ session.Key, e *event.Event) error {
	return trpcAppend(s.db, ttlSchema, sess, e, s.ttl)
}

// cleanup is cleanupExpiredData(ctx, nil) with soft delete and a session
// TTL (app and user state TTLs unset, the default: not cleaned), statement
// for statement.
func (s *trpcSide) cleanup(t *testing.T, n, events int) (time.Time, time.Time, int) {
	t0 := time.Now()
	now := t0
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	var steps []string
	exec := func(query string, args ...any) {
		t0 := time.Now()
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			t.Fatalf("trpc-agent-go cleanup: %v", err)
		}
		rows, _ := res.RowsAffected()
		steps = append(steps, fmt.Sprintf("UPDATE %d %.2f s", rows, time.Since(t0).Seconds()))
	}
	exec(`UPDATE `+ttlSchema+`.session_states SET deleted_at = $1
			WHERE expires_at IS NOT NULL AND expires_at <= $1 AND deleted_at IS NULL`, now)
	// session_events: the keys of sessions whose last event is older than
	// the TTL, read through the client (not in the transaction), as its
	// code does.
	tq := time.Now()
	rows, err := s.db.QueryContext(ctx, `SELECT app_name, user_id, session_id, MAX(updated_at) as updated_at FROM `+ttlSchema+`.session_events
				WHERE deleted_at IS NULL GROUP BY app_name, user_id, session_id`)
	if err != nil {
		t.Fatal(err)
	}
	var placeholders []string
	args := []any{now}
	for rows.Next() {
		var a, u, sid string
		var at time.Time
		if err := rows.Scan(&a, &u, &sid, &at); err != nil {
			t.Fatal(err)
		}
		if at.Before(now.Add(-s.ttl)) {
			i := len(args)
			placeholders = append(placeholders, fmt.Sprintf("($%d, $%d, $%d)", i+1, i+2, i+3))
			args = append(args, a, u, sid)
		}
	}
	rows.Close()
	steps = append(steps, fmt.Sprintf("SELECT %d %.2f s", len(placeholders), time.Since(tq).Seconds()))
	if len(placeholders) > 0 {
		exec(fmt.Sprintf(`UPDATE %s.session_events SET deleted_at = $1 WHERE (app_name, user_id, session_id) IN (%s) AND deleted_at IS NULL`,
			ttlSchema, strings.Join(placeholders, ",")), args...)
	}
	exec(`UPDATE `+ttlSchema+`.session_track_events SET deleted_at = $1
			WHERE expires_at IS NOT NULL AND expires_at <= $1 AND deleted_at IS NULL`, now)
	exec(`UPDATE `+ttlSchema+`.session_summaries SET deleted_at = $1
			WHERE expires_at IS NOT NULL AND expires_at <= $1 AND deleted_at IS NULL`, now)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	t.Logf("trpc-agent-go cleanup statements: %s", strings.Join(steps, ", "))
	var left int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+ttlSchema+`.session_events
		WHERE app_name = 'ttlold' AND deleted_at IS NULL`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("trpc-agent-go cleanup left %d events (%v)", left, err)
	}
	return t0, end, 1
}

// ------------------------------------------------------------ agentstore

type agentstoreSide struct {
	pool *pgxpool.Pool
	svc  *Service
	app  string
	refs map[session.Key]*session.Session
}

func (s *agentstoreSide) name() string { return "agentstore worker" }

func setTTLInterval(t *testing.T, pool *pgxpool.Pool, v string) {
	mustExec(t, pool, `ALTER SYSTEM SET agentstore.ttl_interval = '`+v+`'`)
	mustExec(t, pool, `SELECT pg_catalog.pg_reload_conf()`)
}

func (s *agentstoreSide) backlog(t *testing.T, n, events int, doc []byte) {
	// Nothing of an earlier run left to expire, so that the pass measured is
	// this backlog's.
	mustExec(t, s.pool, `DELETE FROM agentstore.events e USING agentstore.sessions s
		WHERE s.app_name = 'ttlold' AND e.stream = 'session-' || s.id`)
	mustExec(t, s.pool, `DELETE FROM agentstore.session_summaries WHERE app_name = 'ttlold'`)
	mustExec(t, s.pool, `DELETE FROM agentstore.sessions WHERE app_name = 'ttlold'`)
	mustExec(t, s.pool, `
		INSERT INTO agentstore.sessions (app_name, user_id, session_id, state, created_at, updated_at, expires_at, event_count)
		SELECT 'ttlold', 'u' || (g % 100), 's' || g, '{"k": "dg=="}', now() - interval '2 days', now() - interval '1 day',
		       now() - interval '1 day' + g * interval '1 ms', $2::int
		  FROM generate_series(1, $1::int) g`, n, events)
	mustExec(t, s.pool, `
		INSERT INTO agentstore.events (stream, version, event_id, type, data, created_at)
		SELECT 'session-' || s.id, v, s.id || '-' || v, '', $2::jsonb || pg_catalog.jsonb_build_object('id', s.id || '-' || v),
		       s.updated_at - (($1::int - v) * interval '1 s')
		  FROM agentstore.sessions s, generate_series(1, $1::int) v
		 WHERE s.app_name = 'ttlold'`, events, string(doc))
	mustExec(t, s.pool, `
		INSERT INTO agentstore.session_summaries (app_name, session_ref, filter_key, summary, updated_at)
		SELECT app_name, id, '', '{"summary": "what was said", "updated_at": "2026-01-01T00:00:00Z"}', updated_at
		  FROM agentstore.sessions WHERE app_name = 'ttlold'`)
	mustExec(t, s.pool, `VACUUM ANALYZE agentstore.sessions, agentstore.events, agentstore.session_summaries`)
}

func (s *agentstoreSide) live(t *testing.T, n int) []session.Key {
	keys := make([]session.Key, n)
	for i := range keys {
		keys[i] = session.Key{AppName: s.app, UserID: fmt.Sprintf("u%d", i%10), SessionID: fmt.Sprintf("live%d", i)}
		sess, err := s.svc.CreateSession(ctx, keys[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 10; j++ {
			if err := s.svc.AppendEvent(ctx, sess, fgEvent(j)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return keys
}

func (s *agentstoreSide) get(key session.Key) (*session.Session, error) {
	return s.svc.GetSession(ctx, key)
}

func (s *agentstoreSide) appendEvent(sess *session.Session, _ session.Key, e *event.Event) error {
	return s.svc.AppendEvent(ctx, sess, e)
}

func (s *agentstoreSide) cleanup(t *testing.T, n, events int) (time.Time, time.Time, int) {
	var last int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM agentstore.ttl_runs`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	setTTLInterval(t, s.pool, "1s")
	defer setTTLInterval(t, s.pool, "1h")
	deadline := time.Now().Add(20 * time.Minute)
	for time.Now().Before(deadline) {
		var start, end time.Time
		var txns int
		err := s.pool.QueryRow(ctx, `SELECT started_at, finished_at, transactions FROM agentstore.ttl_runs
			WHERE id > $1 AND finished_at IS NOT NULL AND (expired->>'events')::bigint >= $2
			ORDER BY id LIMIT 1`, last, int64(n)*int64(events)).Scan(&start, &end, &txns)
		if err == nil {
			return start, end, txns
		}
		if err != pgx.ErrNoRows {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("agentstore's worker did not expire the backlog within 20 minutes")
	return time.Time{}, time.Time{}, 0
}

// ------------------------------------------------------------ the run

func mustExec(t *testing.T, pool *pgxpool.Pool, stmt string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(ctx, stmt, args...); err != nil {
		t.Fatalf("%v\n%s", err, stmt)
	}
}

func fgEvent(i int) *event.Event {
	if i%2 == 0 {
		e := userEvent(fmt.Sprintf("question %d with some text to make the event realistic", i))
		e.StateDelta = map[string][]byte{"turn": []byte(strconv.Itoa(i))}
		return e
	}
	e := assistantEvent(fmt.Sprintf("answer %d, a little longer than the question, as answers are", i))
	e.StateDelta = map[string][]byte{"last_answer": []byte(strconv.Itoa(i))}
	return e
}

// ttlStats are the figures of one side in one round.
type ttlStats struct {
	cleanup     time.Duration
	txns        int
	quiet, busy [2][]time.Duration // per op: quiet stretch, cleanup window
	busyTurns   float64            // turns (get + append) per second in the window
	quietTurns  float64
}

func pct(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return float64(s[i].Microseconds()) / 1000
}

func runTTLSide(t *testing.T, side ttlSide, n, events, live, clients int, quiet time.Duration, doc []byte) ttlStats {
	side.backlog(t, n, events, doc)
	keys := side.live(t, live)
	pool := side.(interface{ p() *pgxpool.Pool }).p()
	mustExec(t, pool, `CHECKPOINT`)

	var mu sync.Mutex
	var samples []ttlSample
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failure error
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(c)))
			mine := keys[c*len(keys)/clients : (c+1)*len(keys)/clients]
			var local []ttlSample
			for i := 0; ; i++ {
				select {
				case <-stop:
					mu.Lock()
					samples = append(samples, local...)
					mu.Unlock()
					return
				default:
				}
				key := mine[rng.Intn(len(mine))]
				t0 := time.Now()
				sess, err := side.get(key)
				t1 := time.Now()
				if err == nil && sess == nil {
					err = fmt.Errorf("live session %v not found", key)
				}
				if err == nil {
					err = side.appendEvent(sess, key, fgEvent(i))
				}
				t2 := time.Now()
				if err != nil {
					mu.Lock()
					failure = err
					mu.Unlock()
					<-stop
					return
				}
				local = append(local, ttlSample{t1, t1.Sub(t0), 0}, ttlSample{t2, t2.Sub(t1), 1})
			}
		}(c)
	}
	time.Sleep(quiet)
	start, end, txns := side.cleanup(t, n, events)
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	if failure != nil {
		t.Fatal(failure)
	}
	st := ttlStats{cleanup: end.Sub(start), txns: txns}
	qStart := start.Add(-quiet + 2*time.Second) // skip the first 2 s (warm-up)
	var nq, nb int
	for _, s := range samples {
		switch {
		case !s.end.Before(start) && !s.end.After(end):
			st.busy[s.op] = append(st.busy[s.op], s.d)
			nb++
		case s.end.After(qStart) && s.end.Before(start):
			st.quiet[s.op] = append(st.quiet[s.op], s.d)
			nq++
		}
	}
	st.busyTurns = float64(nb) / 2 / end.Sub(start).Seconds()
	st.quietTurns = float64(nq) / 2 / start.Sub(qStart).Seconds()
	return st
}

func (s *trpcSide) p() *pgxpool.Pool       { return s.pool }
func (s *agentstoreSide) p() *pgxpool.Pool { return s.pool }

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func TestBenchTTL(t *testing.T) {
	pool := testPool(t)
	var preloaded bool
	if err := pool.QueryRow(ctx, `SELECT agentstore.preloaded()`).Scan(&preloaded); err != nil || !preloaded {
		t.Fatalf("agentstore must be in shared_preload_libraries for its worker (preloaded: %v, %v)", preloaded, err)
	}
	n := envInt("BENCH_TTL_SESSIONS", 5000)
	events := envInt("BENCH_TTL_EVENTS", 40)
	live := envInt("BENCH_TTL_LIVE", 100)
	clients := envInt("BENCH_TTL_CLIENTS", 4)
	rounds := envInt("BENCH_TTL_ROUNDS", 2)
	quiet := time.Duration(envInt("BENCH_TTL_QUIET", 10)) * time.Second
	setTTLInterval(t, pool, "1h")
	ttl := time.Hour
	doc, err := json.Marshal(assistantEvent("an answer of some length, as the assistant gives them in a conversation"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+ttlSchema+` CASCADE`)
		_, _ = pool.Exec(ctx, `ALTER SYSTEM RESET agentstore.ttl_interval`)
		_, _ = pool.Exec(ctx, `SELECT pg_catalog.pg_reload_conf()`)
	})

	// agentstore's service and the framework's client (its foreground and
	// cleanup share it, as in the application) each keep enough connections
	// that nobody waits for one or opens a new one.
	fgPool, err := pgxpool.New(ctx, os.Getenv("AGENTSTORE_TEST_DSN")+fmt.Sprintf(" pool_max_conns=%d", clients+4))
	if err != nil {
		t.Fatal(err)
	}
	defer fgPool.Close()
	trpcDB := openTrpcDB(t, clients+4)
	var stats [2][]ttlStats
	for r := 0; r < rounds; r++ {
		sides := []ttlSide{
			&trpcSide{pool: fgPool, db: trpcDB, ttl: ttl, app: uniq("ttlfg")},
			&agentstoreSide{pool: fgPool, svc: NewService(fgPool, WithSessionTTL(ttl)), app: uniq("ttlfg")},
		}
		order := []int{0, 1}
		if r%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			st := runTTLSide(t, sides[i], n, events, live, clients, quiet, doc)
			stats[i] = append(stats[i], st)
			t.Logf("round %d, %s: cleanup %.1f s in %d transactions; GetSession p50/p99 %.2f/%.2f ms during, %.2f/%.2f quiet; AppendEvent p50/p99 %.2f/%.2f ms during, %.2f/%.2f quiet; turns/s %.0f during, %.0f quiet",
				r+1, sides[i].name(), st.cleanup.Seconds(), st.txns,
				pct(st.busy[0], .5), pct(st.busy[0], .99), pct(st.quiet[0], .5), pct(st.quiet[0], .99),
				pct(st.busy[1], .5), pct(st.busy[1], .99), pct(st.quiet[1], .5), pct(st.quiet[1], .99),
				st.busyTurns, st.quietTurns)
		}
	}

	type row struct {
		label string
		f     func(ttlStats) float64
		unit  string
		dir   string // lower or higher is better
	}
	rows := []row{
		{"GetSession p50 during cleanup", func(s ttlStats) float64 { return pct(s.busy[0], .5) }, "ms", "lower"},
		{"GetSession p99 during cleanup", func(s ttlStats) float64 { return pct(s.busy[0], .99) }, "ms", "lower"},
		{"AppendEvent p50 during cleanup", func(s ttlStats) float64 { return pct(s.busy[1], .5) }, "ms", "lower"},
		{"AppendEvent p99 during cleanup", func(s ttlStats) float64 { return pct(s.busy[1], .99) }, "ms", "lower"},
		{"GetSession p99 quiet", func(s ttlStats) float64 { return pct(s.quiet[0], .99) }, "ms", "lower"},
		{"AppendEvent p99 quiet", func(s ttlStats) float64 { return pct(s.quiet[1], .99) }, "ms", "lower"},
		{"turns/s during cleanup", func(s ttlStats) float64 { return s.busyTurns }, "turns/s", "higher"},
		{"turns/s quiet", func(s ttlStats) float64 { return s.quietTurns }, "turns/s", "higher"},
		{"cleanup duration", func(s ttlStats) float64 { return s.cleanup.Seconds() }, "s", "-"},
		{"cleanup transactions", func(s ttlStats) float64 { return float64(s.txns) }, "count", "-"},
	}
	t.Logf("%d expired sessions x %d events (+1 summary each), %d live sessions, %d goroutines (GetSession + AppendEvent), medians of %d rounds:",
		n, events, live, clients, rounds)
	t.Logf("%-32s %24s %20s %8s", "measure", "trpc-agent-go cleanup", "agentstore worker", "ratio")
	for _, rw := range rows {
		var a, b []float64
		for _, s := range stats[0] {
			a = append(a, rw.f(s))
		}
		for _, s := range stats[1] {
			b = append(b, rw.f(s))
		}
		ma, mb := median(a), median(b)
		ratio := "-"
		if ma > 0 && mb > 0 {
			switch rw.dir {
			case "lower":
				ratio = fmt.Sprintf("%.2fx", ma/mb)
			case "higher":
				ratio = fmt.Sprintf("%.2fx", mb/ma)
			}
		}
		t.Logf("%-32s %21.2f %-2s %17.2f %-2s %8s", rw.label, ma, rw.unit, mb, rw.unit, ratio)
		benchRow(fmt.Sprintf("TTL cleanup of %d expired sessions x %d events: %s", n, events, rw.label),
			"trpc-agent-go cleanup (in the app)", ma, mb, rw.unit, rw.dir)
	}
}

//go:build bench

package trpcagent

// Benchmark (build tag "bench"): an append-heavy conversation, 100 turns
// (a user and an assistant event per turn, each with a state delta), through
// this service's AppendEvent (one call of agentstore.append_event) and
// through trpc-agent-go's Postgres AppendEvent (session/postgres v1.11.0:
// the caller's session updated in memory, then BEGIN; SELECT ... FOR UPDATE;
// UPDATE session_states; INSERT INTO session_events; COMMIT, as its
// service_helper.go addEvent does, through database/sql and pgx's stdlib
// driver as its storage/postgres client does) on its own tables (init.go's
// DDL), on the same cluster, the two sides alternating which goes first.
// trpc-agent-go's session/postgres module is not served by the Go module
// proxy (404 for v1.10.0 to v1.11.2), so its statements are replayed here
// rather than run through its own code.  Run:
//
//	AGENTSTORE_TEST_DSN=... go test -tags bench -run TestBenchAppend -v ./trpcagent

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // trpc-agent-go's database/sql driver
	"trpc.group/trpc-go/trpc-agent-go/event"
	"trpc.group/trpc-go/trpc-agent-go/session"
)

// trpcSchema is trpc-agent-go's Postgres session tables and indexes, as its
// session/postgres init.go (v1.11.0) creates them, in the schema named.
func trpcSchema(schema string) string {
	return strings.ReplaceAll(`
DROP SCHEMA IF EXISTS @S CASCADE;
CREATE SCHEMA @S;
CREATE TABLE @S.session_states (
  id BIGSERIAL PRIMARY KEY, app_name VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL,
  session_id VARCHAR(255) NOT NULL, state JSONB DEFAULT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at TIMESTAMP DEFAULT NULL, deleted_at TIMESTAMP DEFAULT NULL);
CREATE UNIQUE INDEX ON @S.session_states(app_name, user_id, session_id) WHERE deleted_at IS NULL;
CREATE INDEX ON @S.session_states(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE @S.session_events (
  id BIGSERIAL PRIMARY KEY, app_name VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL,
  session_id VARCHAR(255) NOT NULL, event JSONB NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at TIMESTAMP DEFAULT NULL, deleted_at TIMESTAMP DEFAULT NULL);
CREATE INDEX ON @S.session_events(app_name, user_id, session_id, created_at);
CREATE INDEX ON @S.session_events(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE @S.session_track_events (
  id BIGSERIAL PRIMARY KEY, app_name VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL,
  session_id VARCHAR(255) NOT NULL, track VARCHAR(255) NOT NULL, event JSONB NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at TIMESTAMP DEFAULT NULL, deleted_at TIMESTAMP DEFAULT NULL);
CREATE INDEX ON @S.session_track_events(app_name, user_id, session_id, track, created_at);
CREATE INDEX ON @S.session_track_events(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE @S.session_summaries (
  id BIGSERIAL PRIMARY KEY, app_name VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL,
  session_id VARCHAR(255) NOT NULL, filter_key VARCHAR(255) NOT NULL DEFAULT '', summary JSONB DEFAULT NULL,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at TIMESTAMP DEFAULT NULL, deleted_at TIMESTAMP DEFAULT NULL);
CREATE UNIQUE INDEX ON @S.session_summaries(app_name, user_id, session_id, filter_key) WHERE deleted_at IS NULL;
CREATE INDEX ON @S.session_summaries(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE @S.app_states (
  id BIGSERIAL PRIMARY KEY, app_name VARCHAR(255) NOT NULL, key VARCHAR(255) NOT NULL, value TEXT DEFAULT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at TIMESTAMP DEFAULT NULL, deleted_at TIMESTAMP DEFAULT NULL);
CREATE UNIQUE INDEX ON @S.app_states(app_name, key) WHERE deleted_at IS NULL;
CREATE INDEX ON @S.app_states(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE @S.user_states (
  id BIGSERIAL PRIMARY KEY, app_name VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL,
  key VARCHAR(255) NOT NULL, value TEXT DEFAULT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at TIMESTAMP DEFAULT NULL, deleted_at TIMESTAMP DEFAULT NULL);
CREATE UNIQUE INDEX ON @S.user_states(app_name, user_id, key) WHERE deleted_at IS NULL;
CREATE INDEX ON @S.user_states(expires_at) WHERE expires_at IS NOT NULL;`, "@S", schema)
}

// openTrpcDB opens the database as trpc-agent-go's storage/postgres client
// does: database/sql with pgx's stdlib driver (its default exec mode caches
// prepared statements per connection), with room for idle connections.
func openTrpcDB(t *testing.T, idle int) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", os.Getenv("AGENTSTORE_TEST_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxIdleConns(idle)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// trpcAppend is trpc-agent-go's Postgres AppendEvent (session/postgres
// v1.11.0, synchronous persistence, its default): the in-memory update of
// the caller's session (sess.UpdateUserSession), then addEvent's
// transaction, statement for statement, through database/sql.
func trpcAppend(db *sql.DB, schema string, sess *session.Session, e *event.Event, ttl time.Duration) error {
	sess.UpdateUserSession(e)
	key := session.Key{AppName: sess.AppName, UserID: sess.UserID, SessionID: sess.ID}
	doc, err := json.Marshal(e)
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var stateBytes []byte
	var exp *time.Time
	if err := tx.QueryRowContext(ctx, `SELECT state, expires_at FROM `+schema+`.session_states
		WHERE app_name = $1 AND user_id = $2 AND session_id = $3
		AND deleted_at IS NULL
		FOR UPDATE`,
		key.AppName, key.UserID, key.SessionID).Scan(&stateBytes, &exp); err != nil {
		return err
	}
	var st struct {
		State     session.StateMap `json:"state"`
		CreatedAt time.Time        `json:"created_at"`
		UpdatedAt time.Time        `json:"updated_at"`
	}
	if len(stateBytes) > 0 {
		if err := json.Unmarshal(stateBytes, &st); err != nil {
			return err
		}
	}
	now := time.Now()
	st.UpdatedAt = now
	if st.State == nil {
		st.State = session.StateMap{}
	}
	session.ApplyEventStateDeltaMap(st.State, e)
	newState, err := json.Marshal(st)
	if err != nil {
		return err
	}
	expiresAt := now.Add(ttl)
	if _, err := tx.ExecContext(ctx, `UPDATE `+schema+`.session_states SET state = $1, updated_at = $2, expires_at = $3
			 WHERE app_name = $4 AND user_id = $5 AND session_id = $6 AND deleted_at IS NULL`,
		newState, now, &expiresAt, key.AppName, key.UserID, key.SessionID); err != nil {
		return err
	}
	if e.Response != nil && !e.IsPartial && e.IsValidContent() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+schema+`.session_events (app_name, user_id, session_id, event, created_at, updated_at)
				 VALUES ($1, $2, $3, $4, $5, $6)`, key.AppName, key.UserID, key.SessionID, doc, now, now); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func TestBenchAppend(t *testing.T) {
	pool := testPool(t)
	if _, err := pool.Exec(ctx, trpcSchema("trpc_bench")); err != nil {
		t.Fatal(err)
	}
	db := openTrpcDB(t, 2)
	const turns = 100
	rounds := envInt("BENCH_APPEND_ROUNDS", 6)
	ttl := time.Hour
	svc := NewService(pool, WithSessionTTL(ttl))
	var dTheirs, dOurs time.Duration
	var ratios []float64
	for r := 0; r < rounds; r++ {
		app := uniq("bench")
		key := session.Key{AppName: app, UserID: "u", SessionID: fmt.Sprintf("s%d", r)}
		if _, err := pool.Exec(ctx, `INSERT INTO trpc_bench.session_states (app_name, user_id, session_id, state, expires_at)
			VALUES ($1, $2, $3, '{"state":{}}', localtimestamp + interval '1 hour')`, key.AppName, key.UserID, key.SessionID); err != nil {
			t.Fatal(err)
		}
		theirSess := session.NewSession(key.AppName, key.UserID, key.SessionID)
		sess, err := svc.CreateSession(ctx, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		events := make([]*event.Event, 0, 2*turns)
		for i := 0; i < turns; i++ {
			u := userEvent(fmt.Sprintf("question %d with some text to make the event realistic", i))
			u.StateDelta = map[string][]byte{"turn": []byte(fmt.Sprint(i))}
			a := assistantEvent(fmt.Sprintf("answer %d, a little longer than the question, as answers are", i))
			a.StateDelta = map[string][]byte{"last_answer": []byte(fmt.Sprint(i))}
			events = append(events, u, a)
		}
		theirs := func() time.Duration {
			t0 := time.Now()
			for _, e := range events {
				if err := trpcAppend(db, "trpc_bench", theirSess, e, ttl); err != nil {
					t.Fatal(err)
				}
			}
			return time.Since(t0)
		}
		ours := func() time.Duration {
			t0 := time.Now()
			for _, e := range events {
				if err := svc.AppendEvent(ctx, sess, e); err != nil {
					t.Fatal(err)
				}
			}
			return time.Since(t0)
		}
		// Alternate which side goes first.
		var a, b time.Duration
		if r%2 == 0 {
			a = theirs()
			b = ours()
		} else {
			b = ours()
			a = theirs()
		}
		dTheirs += a
		dOurs += b
		ratios = append(ratios, a.Seconds()/b.Seconds())
	}
	n := float64(rounds * 2 * turns)
	sort.Float64s(ratios)
	t.Logf("%d conversations of %d turns (%d appends): trpc-agent-go's AppendEvent %.3f ms/append, agentstore %.3f ms/append, ratio %.2fx (rounds %.2f to %.2f)",
		rounds, turns, int(n), dTheirs.Seconds()*1000/n, dOurs.Seconds()*1000/n, dTheirs.Seconds()/dOurs.Seconds(),
		ratios[0], ratios[len(ratios)-1])
	benchRow(fmt.Sprintf("trpc-agent-go AppendEvent, %d-turn conversations", turns),
		"its Postgres AppendEvent transaction", dTheirs.Seconds()*1000/n, dOurs.Seconds()*1000/n, "ms/append", "lower")
}

// benchRow prints one result line for bench/scenarios/36_go_clients.sh:
// scenario, baseline, baseline's figure, agentstore's, unit, and whether
// lower or higher is better ("-": neither).
func benchRow(scenario, baseline string, theirs, ours float64, unit, dir string) {
	fmt.Printf("bench-row\t%s\t%s\t%.3f\t%.3f\t%s\t%s\n", scenario, baseline, theirs, ours, unit, dir)
}

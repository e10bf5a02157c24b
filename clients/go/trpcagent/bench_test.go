//go:build bench

package trpcagent

// Benchmark (build tag "bench"): an append-heavy conversation, 100 turns
// (a user and an assistant event per turn, each with a state delta), through
// this service's AppendEvent (one call of agentstore.append_event) and
// through trpc-agent-go's Postgres AppendEvent transaction (BEGIN; SELECT ...
// FOR UPDATE; UPDATE session_states; INSERT INTO session_events; COMMIT, as
// its session/postgres service_helper.go addEvent does) on its schema.sql
// tables, on the same cluster.  trpc-agent-go's session/postgres module is
// not served by the Go module proxy (404 for v1.10.0 to v1.11.2), so its
// statements are replayed here rather than run through its own code.  Run:
//
//	AGENTSTORE_TEST_DSN=... go test -tags bench -run TestBenchAppend -v ./trpcagent

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"trpc.group/trpc-go/trpc-agent-go/event"
	"trpc.group/trpc-go/trpc-agent-go/session"
)

const trpcSchema = `
CREATE SCHEMA IF NOT EXISTS trpc_bench;
DROP TABLE IF EXISTS trpc_bench.session_states, trpc_bench.session_events;
CREATE TABLE trpc_bench.session_states (
  id BIGSERIAL PRIMARY KEY, app_name VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL,
  session_id VARCHAR(255) NOT NULL, state JSONB DEFAULT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at TIMESTAMP DEFAULT NULL, deleted_at TIMESTAMP DEFAULT NULL);
CREATE UNIQUE INDEX ON trpc_bench.session_states(app_name, user_id, session_id) WHERE deleted_at IS NULL;
CREATE INDEX ON trpc_bench.session_states(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE trpc_bench.session_events (
  id BIGSERIAL PRIMARY KEY, app_name VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL,
  session_id VARCHAR(255) NOT NULL, event JSONB NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at TIMESTAMP DEFAULT NULL, deleted_at TIMESTAMP DEFAULT NULL);
CREATE INDEX ON trpc_bench.session_events(app_name, user_id, session_id, created_at);
CREATE INDEX ON trpc_bench.session_events(expires_at) WHERE expires_at IS NOT NULL;`

// trpcAppend is trpc-agent-go's Postgres addEvent, statement for statement.
func trpcAppend(pool *pgxpool.Pool, key session.Key, e *event.Event, ttl time.Duration) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var stateBytes []byte
	var exp *time.Time
	if err := tx.QueryRow(ctx, `SELECT state, expires_at FROM trpc_bench.session_states
		WHERE app_name = $1 AND user_id = $2 AND session_id = $3 AND deleted_at IS NULL FOR UPDATE`,
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
	newState, _ := json.Marshal(st)
	expiresAt := now.Add(ttl)
	if _, err := tx.Exec(ctx, `UPDATE trpc_bench.session_states SET state = $1, updated_at = $2, expires_at = $3
		WHERE app_name = $4 AND user_id = $5 AND session_id = $6 AND deleted_at IS NULL`,
		newState, now, expiresAt, key.AppName, key.UserID, key.SessionID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO trpc_bench.session_events (app_name, user_id, session_id, event, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, key.AppName, key.UserID, key.SessionID, doc, now, now); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func TestBenchAppend(t *testing.T) {
	pool := testPool(t)
	if _, err := pool.Exec(ctx, trpcSchema); err != nil {
		t.Fatal(err)
	}
	const turns, rounds = 100, 5
	ttl := time.Hour
	svc := NewService(pool, WithSessionTTL(ttl))
	var dTheirs, dOurs time.Duration
	for r := 0; r < rounds; r++ {
		app := uniq("bench")
		key := session.Key{AppName: app, UserID: "u", SessionID: fmt.Sprintf("s%d", r)}
		if _, err := pool.Exec(ctx, `INSERT INTO trpc_bench.session_states (app_name, user_id, session_id, state, expires_at)
			VALUES ($1, $2, $3, '{"state":{}}', now() + interval '1 hour')`, key.AppName, key.UserID, key.SessionID); err != nil {
			t.Fatal(err)
		}
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
		t0 := time.Now()
		for _, e := range events {
			if err := trpcAppend(pool, key, e, ttl); err != nil {
				t.Fatal(err)
			}
		}
		dTheirs += time.Since(t0)
		t0 = time.Now()
		for _, e := range events {
			if err := svc.AppendEvent(ctx, sess, e); err != nil {
				t.Fatal(err)
			}
		}
		dOurs += time.Since(t0)
	}
	n := float64(rounds * 2 * turns)
	t.Logf("%d conversations of %d turns (%d appends): trpc-agent-go's transaction %.2f ms/append, agentstore %.2f ms/append, ratio %.2fx",
		rounds, turns, int(n), dTheirs.Seconds()*1000/n, dOurs.Seconds()*1000/n, dTheirs.Seconds()/dOurs.Seconds())
}

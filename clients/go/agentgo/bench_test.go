//go:build bench

package agentgo

// Benchmark (build tag "bench"): UpsertSessions of 20,000 and 100,000
// sessions, new and existing, through agentstore (one COPY into
// agentstore.session_import) and through agent-go's own Postgres batch writer
// (temp table + COPY + INSERT ... ON CONFLICT, lib/pq) on its own table, on
// the same cluster.  agent-go v1.6.0's writer passes the JSON columns to
// lib/pq's CopyIn as []byte, which lib/pq v1.12.3 (the version agent-go
// requires) sends as bytea text, so every batch fails with "invalid input
// syntax for type json" (22P02); the benchmark therefore runs agent-go's
// strategy as its writer does it (same temp table, COPY, upsert statement and
// batch size of 5000) with the JSON passed as strings.  Run:
//
//	AGENTSTORE_TEST_DSN=... go test -tags bench -run TestBenchUpsert -v -timeout 30m ./agentgo

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jholhewres/agent-go/pkg/agentgo/db/batch"
	"github.com/jholhewres/agent-go/pkg/agentgo/session"
	"github.com/lib/pq"
)

func benchSessions(n int, pad string) []*session.Session {
	out := make([]*session.Session, n)
	for i := range out {
		s := full(fmt.Sprintf("s%07d", i), fmt.Sprintf("u%d", i%100), i)
		s.Metadata["pad"] = pad
		out[i] = s
	}
	return out
}

func TestBenchUpsert(t *testing.T) {
	pool := testPool(t)
	dsn := os.Getenv("AGENTSTORE_TEST_DSN")
	if _, err := pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS agentgo_bench`); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", dsn+" sslmode=disable search_path=agentgo_bench")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pad := strings.Repeat("x", 700) // about 1.5 kB per session, as agent-go's sessions
	scale := 1.0
	if v, err := strconv.ParseFloat(os.Getenv("BENCH_SCALE"), 64); err == nil && v > 0 {
		scale = v
	}
	for _, n := range []int{max(1000, int(20000*scale)), max(1000, int(100000*scale))} {
		sessions := benchSessions(n, pad)
		if _, err := db.Exec(`DROP TABLE IF EXISTS sessions;
			CREATE TABLE sessions (session_id VARCHAR(255) PRIMARY KEY, agent_id VARCHAR(255), team_id VARCHAR(255),
			  workflow_id VARCHAR(255), user_id VARCHAR(255), name VARCHAR(255), metadata JSONB, state JSONB,
			  agent_data JSONB, runs JSONB, summary JSONB, created_at TIMESTAMP WITH TIME ZONE,
			  updated_at TIMESTAMP WITH TIME ZONE)`); err != nil {
			t.Fatal(err)
		}
		theirs := &agentgoStrategy{db: db, batchSize: batch.DefaultConfig().BatchSize}
		ours := NewBatchWriter(pool, WithAppName(uniq("bench")))
		for _, phase := range []string{"new", "existing"} {
			t0 := time.Now()
			if err := theirs.upsert(sessions); err != nil {
				t.Fatal(err)
			}
			dTheirs := time.Since(t0)
			t0 = time.Now()
			if err := ours.UpsertSessions(ctx, sessions, false); err != nil {
				t.Fatal(err)
			}
			dOurs := time.Since(t0)
			t.Logf("%d sessions, %s: agent-go's writer %.2fs, agentstore %.2fs, ratio %.2fx",
				n, phase, dTheirs.Seconds(), dOurs.Seconds(), dTheirs.Seconds()/dOurs.Seconds())
			fmt.Printf("bench-row\tagent-go UpsertSessions, %d sessions, %s\tits batch writer (temp table + COPY + upsert)\t%.3f\t%.3f\ts\tlower\n",
				n, phase, dTheirs.Seconds(), dOurs.Seconds())
		}
		_, _ = db.Exec(`DROP TABLE sessions`)
		_, _ = pool.Exec(ctx, `DELETE FROM agentstore.sessions WHERE app_name = $1`, ours.appName)
	}
}

// agentgoStrategy is agent-go's PostgresBatchWriter.upsertViaTemp with the
// JSON columns sent as text.
type agentgoStrategy struct {
	db        *sql.DB
	batchSize int
}

func (w *agentgoStrategy) upsert(sessions []*session.Session) error {
	for start := 0; start < len(sessions); start += w.batchSize {
		end := min(start+w.batchSize, len(sessions))
		if err := w.writeBatch(sessions[start:end]); err != nil {
			return err
		}
	}
	return nil
}

func (w *agentgoStrategy) writeBatch(sessions []*session.Session) error {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`CREATE TEMPORARY TABLE temp_sessions (session_id VARCHAR(255), agent_id VARCHAR(255),
		team_id VARCHAR(255), workflow_id VARCHAR(255), user_id VARCHAR(255), name VARCHAR(255), metadata JSONB,
		state JSONB, agent_data JSONB, runs JSONB, summary JSONB, created_at TIMESTAMP WITH TIME ZONE,
		updated_at TIMESTAMP WITH TIME ZONE) ON COMMIT DROP`); err != nil {
		return err
	}
	stmt, err := tx.Prepare(pq.CopyIn("temp_sessions", "session_id", "agent_id", "team_id", "workflow_id", "user_id",
		"name", "metadata", "state", "agent_data", "runs", "summary", "created_at", "updated_at"))
	if err != nil {
		return err
	}
	for _, s := range sessions {
		js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
		if _, err := stmt.Exec(s.SessionID, s.AgentID, s.TeamID, s.WorkflowID, s.UserID, s.Name,
			js(s.Metadata), js(s.State), js(s.AgentData), js(s.Runs), js(s.Summary), s.CreatedAt, time.Now()); err != nil {
			return err
		}
	}
	if _, err := stmt.Exec(); err != nil {
		return err
	}
	if err := stmt.Close(); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO sessions (session_id, agent_id, team_id, workflow_id, user_id, name, metadata,
		  state, agent_data, runs, summary, created_at, updated_at)
		SELECT session_id, agent_id, team_id, workflow_id, user_id, name, metadata, state, agent_data, runs, summary,
		  created_at, updated_at FROM temp_sessions
		ON CONFLICT (session_id) DO UPDATE SET agent_id = EXCLUDED.agent_id, team_id = EXCLUDED.team_id,
		  workflow_id = EXCLUDED.workflow_id, user_id = EXCLUDED.user_id, name = EXCLUDED.name,
		  metadata = EXCLUDED.metadata, state = EXCLUDED.state, agent_data = EXCLUDED.agent_data,
		  runs = EXCLUDED.runs, summary = EXCLUDED.summary, updated_at = CURRENT_TIMESTAMP`); err != nil {
		return err
	}
	return tx.Commit()
}

// Package agentgo is agent-go's batch session writer on agentstore.
//
// BatchWriter has the contract of agent-go's batch.BatchWriter
// (UpsertSessions(ctx, sessions, preserveUpdatedAt), Close): it streams the
// sessions with one COPY into the view agentstore.session_import, whose
// triggers upsert them into agentstore.sessions in chunks of
// agentstore.batch_size.  Chunking, the merge of a key repeated in one batch
// (last one wins), "created_at never changes on conflict" and the
// preserve_updated_at rule are the extension's; see docs/sessions.md.
package agentgo

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jholhewres/agent-go/pkg/agentgo/db/batch"
	"github.com/jholhewres/agent-go/pkg/agentgo/session"
)

// importTable is the view COPY writes to.
var importTable = pgx.Identifier{"agentstore", "session_import"}

// importColumns are the columns of agentstore.session_import that we send.
var importColumns = []string{
	"app_name", "session_id", "user_id", "agent_id", "team_id", "workflow_id", "name",
	"metadata", "state", "agent_data", "runs", "summary",
	"created_at", "updated_at", "preserve_updated_at",
}

// Option configures a BatchWriter.
type Option func(*BatchWriter)

// WithAppName sets the agentstore app_name the sessions are written under
// (agent-go has no such notion; the default is "default", as in the view).
func WithAppName(app string) Option { return func(w *BatchWriter) { w.appName = app } }

// WithDefaultUserID sets the user_id written for sessions whose UserID is
// empty.  agentstore keys sessions by (app_name, user_id, session_id) and
// refuses an empty user_id (SQLSTATE 22023, nothing written); without this
// option such a batch fails.
func WithDefaultUserID(user string) Option { return func(w *BatchWriter) { w.defaultUser = user } }

// BatchWriter writes agent-go sessions into agentstore.
type BatchWriter struct {
	pool        *pgxpool.Pool
	appName     string
	defaultUser string

	mu       sync.Mutex // guards the counts: UpsertSessions may run concurrently
	inserted int64
	updated  int64
}

var _ batch.BatchWriter = (*BatchWriter)(nil)

// NewBatchWriter returns a writer using pool; Close does not close pool.
func NewBatchWriter(pool *pgxpool.Pool, opts ...Option) *BatchWriter {
	w := &BatchWriter{pool: pool, appName: "default"}
	for _, o := range opts {
		o(w)
	}
	return w
}

// jsonArg is the JSON text of v, as agent-go's writer sends it (a nil map
// is JSON null, which agentstore stores as a JSON null except for state,
// which becomes {}).
func jsonArg(v any) ([]byte, error) {
	return json.Marshal(v)
}

// row converts one session to a session_import row.
func (w *BatchWriter) row(s *session.Session, preserveUpdatedAt bool) ([]any, error) {
	if s == nil {
		return nil, fmt.Errorf("agentstore: nil session")
	}
	metadata, err := jsonArg(s.Metadata)
	if err != nil {
		return nil, err
	}
	state, err := jsonArg(s.State)
	if err != nil {
		return nil, err
	}
	agentData, err := jsonArg(s.AgentData)
	if err != nil {
		return nil, err
	}
	runs, err := jsonArg(s.Runs)
	if err != nil {
		return nil, err
	}
	summary, err := jsonArg(s.Summary)
	if err != nil {
		return nil, err
	}
	user := s.UserID
	if user == "" {
		user = w.defaultUser
	}
	// agent-go stamps now() unless asked to preserve a non-zero updated_at;
	// the server does the same with preserve_updated_at = false.
	var updatedAt any
	preserve := preserveUpdatedAt && !s.UpdatedAt.IsZero()
	if preserve {
		updatedAt = s.UpdatedAt
	}
	var createdAt any
	if !s.CreatedAt.IsZero() {
		createdAt = s.CreatedAt
	}
	return []any{
		w.appName, s.SessionID, user, s.AgentID, s.TeamID, s.WorkflowID, s.Name,
		metadata, state, agentData, runs, summary,
		createdAt, updatedAt, preserve,
	}, nil
}

// UpsertSessions inserts the sessions, or updates those whose key exists,
// with one COPY.  The batch is atomic: on error nothing is written.
func (w *BatchWriter) UpsertSessions(ctx context.Context, sessions []*session.Session, preserveUpdatedAt bool) error {
	if len(sessions) == 0 {
		return nil
	}
	i := 0
	var rowErr error
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(sessions) {
			return nil, nil
		}
		r, err := w.row(sessions[i], preserveUpdatedAt)
		if err != nil {
			rowErr = fmt.Errorf("agentstore: session %d: %w", i, err)
			return nil, rowErr
		}
		i++
		return r, nil
	})
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.CopyFrom(ctx, importTable, importColumns, src); err != nil {
		if rowErr != nil {
			return rowErr
		}
		return fmt.Errorf("agentstore: upsert sessions: %w", err)
	}
	// The counts of this COPY (same connection): inserted and updated.
	var inserted, updated int64
	if err := conn.QueryRow(ctx, `SELECT inserted, updated FROM agentstore.session_import_result()`).
		Scan(&inserted, &updated); err != nil {
		return fmt.Errorf("agentstore: upsert sessions: %w", err)
	}
	w.mu.Lock()
	w.inserted, w.updated = inserted, updated
	w.mu.Unlock()
	return nil
}

// LastCounts returns the rows inserted and updated by the last successful
// UpsertSessions to finish.
func (w *BatchWriter) LastCounts() (inserted, updated int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.inserted, w.updated
}

// Close does nothing: the pool belongs to the caller.
func (w *BatchWriter) Close() error { return nil }

// GetSession reads back one active session written under the writer's
// app_name, as an agent-go session; nil, nil when there is none.
func (w *BatchWriter) GetSession(ctx context.Context, userID, sessionID string) (*session.Session, error) {
	if userID == "" {
		userID = w.defaultUser
	}
	var (
		s                                            session.Session
		agentID, teamID, workflowID, name            *string
		metadata, state, agentData, runs, summaryDoc []byte
	)
	err := w.pool.QueryRow(ctx, `
		SELECT session_id, user_id, agent_id, team_id, workflow_id, name,
		       metadata, state, agent_data, runs, summary, created_at, updated_at
		  FROM agentstore.sessions
		 WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2
		   AND session_id OPERATOR(pg_catalog.=) $3 AND deleted_at IS NULL
		   AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now())`,
		w.appName, userID, sessionID).Scan(&s.SessionID, &s.UserID, &agentID, &teamID, &workflowID, &name,
		&metadata, &state, &agentData, &runs, &summaryDoc, &s.CreatedAt, &s.UpdatedAt)
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("agentstore: get session: %w", err)
	}
	for _, f := range []struct {
		dst *string
		src *string
	}{{&s.AgentID, agentID}, {&s.TeamID, teamID}, {&s.WorkflowID, workflowID}, {&s.Name, name}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	for _, f := range []struct {
		raw []byte
		dst any
	}{{metadata, &s.Metadata}, {state, &s.State}, {agentData, &s.AgentData}, {runs, &s.Runs}, {summaryDoc, &s.Summary}} {
		if f.raw == nil {
			continue
		}
		if err := json.Unmarshal(f.raw, f.dst); err != nil {
			return nil, fmt.Errorf("agentstore: get session: %w", err)
		}
	}
	return &s, nil
}

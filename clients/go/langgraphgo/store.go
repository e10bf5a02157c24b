// Package langgraphgo is langgraphgo's CheckpointStore on agentstore.
//
// It follows the mapping of agentstore's README: the execution id
// (Metadata["execution_id"]) is the checkpoint thread, the namespace is the empty string,
// and the checkpoint document carries langgraphgo's fields (id, node_name,
// state, timestamp, version) with the state inline.  Each method is one call
// of agentstore's checkpoint functions (put_checkpoint, list_checkpoints,
// delete_checkpoint, delete_thread).
package langgraphgo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/smallnest/langgraphgo/store"
)

// Option configures a Store.
type Option func(*Store)

// WithTTL gives the threads this store writes a sliding TTL (0: the
// agentstore.checkpoint_ttl setting).
func WithTTL(ttl time.Duration) Option { return func(s *Store) { s.ttl = ttl } }

// Store implements store.CheckpointStore on agentstore.
type Store struct {
	pool *pgxpool.Pool
	ttl  time.Duration
}

var _ store.CheckpointStore = (*Store)(nil)

// NewStore returns a Store using pool (which it does not close).
func NewStore(pool *pgxpool.Pool, opts ...Option) *Store {
	s := &Store{pool: pool}
	for _, o := range opts {
		o(s)
	}
	return s
}

// doc is the checkpoint document stored by put_checkpoint.
type doc struct {
	ID        string          `json:"id"`
	NodeName  string          `json:"node_name"`
	State     json.RawMessage `json:"state"`
	Timestamp time.Time       `json:"timestamp"`
	Version   int             `json:"version"`
}

// thread is the agentstore thread of a checkpoint: its execution id, else
// its thread id.
func thread(cp *store.Checkpoint) (string, error) {
	for _, k := range []string{"execution_id", "thread_id"} {
		if v, ok := cp.Metadata[k].(string); ok && v != "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("agentstore: checkpoint %s has no metadata execution_id", cp.ID)
}

// Save stores the checkpoint, replacing one with the same id in its thread.
func (s *Store) Save(ctx context.Context, cp *store.Checkpoint) error {
	if cp == nil {
		return fmt.Errorf("agentstore: nil checkpoint")
	}
	th, err := thread(cp)
	if err != nil {
		return err
	}
	state, err := json.Marshal(cp.State)
	if err != nil {
		return fmt.Errorf("agentstore: checkpoint state: %w", err)
	}
	d, err := json.Marshal(doc{ID: cp.ID, NodeName: cp.NodeName, State: state, Timestamp: cp.Timestamp, Version: cp.Version})
	if err != nil {
		return err
	}
	meta, err := json.Marshal(cp.Metadata)
	if err != nil {
		return fmt.Errorf("agentstore: checkpoint metadata: %w", err)
	}
	var ttl any
	if s.ttl > 0 {
		ttl = s.ttl
	}
	_, err = s.pool.Exec(ctx, `SELECT agentstore.put_checkpoint($1, '', $2::jsonb, $3::json, '{}'::jsonb, ttl => $4::interval)`,
		th, d, meta, ttl)
	if err != nil {
		return fmt.Errorf("agentstore: save checkpoint: %w", err)
	}
	return nil
}

// scan converts (checkpoint, metadata) rows into checkpoints.
func scan(rows pgx.Rows) ([]*store.Checkpoint, error) {
	defer rows.Close()
	out := []*store.Checkpoint{}
	for rows.Next() {
		var d, meta []byte
		if err := rows.Scan(&d, &meta); err != nil {
			return nil, err
		}
		var dd doc
		if err := json.Unmarshal(d, &dd); err != nil {
			return nil, fmt.Errorf("agentstore: checkpoint document: %w", err)
		}
		cp := &store.Checkpoint{ID: dd.ID, NodeName: dd.NodeName, Timestamp: dd.Timestamp, Version: dd.Version}
		if len(dd.State) > 0 {
			if err := json.Unmarshal(dd.State, &cp.State); err != nil {
				return nil, err
			}
		}
		if meta != nil {
			if err := json.Unmarshal(meta, &cp.Metadata); err != nil {
				return nil, err
			}
		}
		out = append(out, cp)
	}
	return out, rows.Err()
}

// Load returns the checkpoint with that id; an error when there is none, as
// langgraphgo's stores do.
func (s *Store) Load(ctx context.Context, checkpointID string) (*store.Checkpoint, error) {
	rows, err := s.pool.Query(ctx, `SELECT checkpoint, metadata FROM agentstore.list_checkpoints(checkpoint_id => $1) LIMIT 1`, checkpointID)
	if err != nil {
		return nil, fmt.Errorf("agentstore: load checkpoint: %w", err)
	}
	cps, err := scan(rows)
	if err != nil {
		return nil, fmt.Errorf("agentstore: load checkpoint: %w", err)
	}
	if len(cps) == 0 {
		return nil, fmt.Errorf("checkpoint not found: %s", checkpointID)
	}
	return cps[0], nil
}

// List returns the checkpoints of an execution (its thread) and those whose
// metadata thread_id is id, by version, oldest first, as langgraphgo's
// in-memory store does.
func (s *Store) List(ctx context.Context, id string) ([]*store.Checkpoint, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT c.checkpoint, c.metadata FROM (
		  SELECT checkpoint, metadata FROM agentstore.list_checkpoints($1, '')
		  UNION
		  SELECT checkpoint, metadata FROM agentstore.list_checkpoints(NULL, NULL,
		         pg_catalog.jsonb_build_object('thread_id', $1::text))) c
		 ORDER BY (c.checkpoint OPERATOR(pg_catalog.->>) 'version')::integer,
		          c.checkpoint OPERATOR(pg_catalog.->>) 'timestamp'`, id)
	if err != nil {
		return nil, fmt.Errorf("agentstore: list checkpoints: %w", err)
	}
	cps, err := scan(rows)
	if err != nil {
		return nil, fmt.Errorf("agentstore: list checkpoints: %w", err)
	}
	return cps, nil
}

// Delete removes one checkpoint (deleting an absent one is not an error).
func (s *Store) Delete(ctx context.Context, checkpointID string) error {
	if _, err := s.pool.Exec(ctx, `SELECT agentstore.delete_checkpoint($1)`, checkpointID); err != nil {
		return fmt.Errorf("agentstore: delete checkpoint: %w", err)
	}
	return nil
}

// Clear removes the execution's thread and the checkpoints whose metadata
// thread_id is id, in one statement.
func (s *Store) Clear(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `
		SELECT agentstore.delete_thread($1)
		     OPERATOR(pg_catalog.+) coalesce((SELECT pg_catalog.sum(agentstore.delete_checkpoint(c.checkpoint_id, c.thread_id, c.checkpoint_ns))
		           FROM agentstore.list_checkpoints(NULL, NULL, pg_catalog.jsonb_build_object('thread_id', $1::text)) c), 0)`, id)
	if err != nil {
		return fmt.Errorf("agentstore: clear checkpoints: %w", err)
	}
	return nil
}

package langgraphgo

// A real langgraphgo graph that checkpoints, is interrupted before its last
// node and resumed by a new runnable from the stored checkpoint, run with the
// same assertions on langgraphgo's in-memory store and on agentstore.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/smallnest/langgraphgo/graph"
	"github.com/smallnest/langgraphgo/store"
)

var ctx = context.Background()

func testPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dsn := os.Getenv("AGENTSTORE_TEST_DSN")
	if dsn == "" {
		t.Skip("AGENTSTORE_TEST_DSN is not set")
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func uniq(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func stores() []struct {
	name string
	make func(t *testing.T) store.CheckpointStore
} {
	return []struct {
		name string
		make func(t *testing.T) store.CheckpointStore
	}{
		{"inmemory", func(t *testing.T) store.CheckpointStore { return graph.NewMemoryCheckpointStore() }},
		{"agentstore", func(t *testing.T) store.CheckpointStore { return NewStore(testPool(t)) }},
	}
}

type State = map[string]any

// step returns a node that appends its name to the trail and counts.
func step(name string) func(context.Context, State) (State, error) {
	return func(_ context.Context, s State) (State, error) {
		trail, _ := s["trail"].(string)
		count, _ := s["count"].(float64)
		return State{"trail": trail + name, "count": count + 1}, nil
	}
}

func build(t *testing.T, st store.CheckpointStore) *graph.CheckpointableRunnable[State] {
	t.Helper()
	g := graph.NewCheckpointableStateGraphWithConfig[State](graph.CheckpointConfig{Store: st, AutoSave: true})
	for _, n := range []string{"A", "B", "C"} {
		g.AddNode(n, "step "+n, step(n))
	}
	g.SetEntryPoint("A")
	g.AddEdge("A", "B")
	g.AddEdge("B", "C")
	g.AddEdge("C", graph.END)
	r, err := g.CompileCheckpointable()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func trails(cps []*store.Checkpoint) string {
	var out []string
	for _, cp := range cps {
		s, _ := cp.State.(map[string]any)
		out = append(out, cp.NodeName+":"+s["trail"].(string))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestGraphInterruptAndResume(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.name, func(t *testing.T) {
			st := sc.make(t)
			thread := uniq("thread")
			cfg := func() *graph.Config {
				return &graph.Config{Configurable: map[string]any{"thread_id": thread}}
			}

			// First run: interrupted before C.
			first := cfg()
			first.InterruptBefore = []string{"C"}
			state, err := build(t, st).InvokeWithConfig(ctx, State{"trail": "", "count": float64(0)}, first)
			var gi *graph.GraphInterrupt
			if !errors.As(err, &gi) || gi.Node != "C" {
				t.Fatalf("want an interrupt before C, got %v", err)
			}
			if state["trail"] != "AB" {
				t.Fatalf("state at interrupt: %v", state)
			}
			cps, err := st.List(ctx, thread)
			if err != nil {
				t.Fatal(err)
			}
			if got := trails(cps); got != "A:A,B:AB" {
				t.Fatalf("checkpoints after the first run: %s", got)
			}
			if cps[0].Version != 1 || cps[1].Version != 2 || cps[1].NodeName != "B" {
				t.Fatalf("versions/order: %d %d %s", cps[0].Version, cps[1].Version, cps[1].NodeName)
			}
			if cps[1].Metadata["thread_id"] != thread || cps[1].Metadata["event"] != "step" {
				t.Fatalf("metadata: %v", cps[1].Metadata)
			}
			if time.Since(cps[1].Timestamp) > time.Minute || !cps[1].Timestamp.After(cps[0].Timestamp) {
				t.Fatalf("timestamps: %v %v", cps[0].Timestamp, cps[1].Timestamp)
			}

			// A new runnable (a new process) reads the latest checkpoint...
			resumer := build(t, st)
			snap, err := resumer.GetState(ctx, cfg())
			if err != nil {
				t.Fatal(err)
			}
			values, ok := snap.Values.(map[string]any)
			if !ok || values["trail"] != "AB" || values["count"] != float64(2) {
				t.Fatalf("snapshot values: %#v", snap.Values)
			}
			if len(snap.Next) != 1 || snap.Next[0] != "B" {
				t.Fatalf("snapshot next: %v", snap.Next)
			}
			loaded, err := st.Load(ctx, snap.Config.Configurable["checkpoint_id"].(string))
			if err != nil || loaded.NodeName != "B" || loaded.Version != 2 {
				t.Fatalf("load: %+v, %v", loaded, err)
			}

			// ...and resumes from it: C runs once, on the stored state.
			resume := cfg()
			resume.ResumeFrom = []string{"C"}
			final, err := resumer.InvokeWithConfig(ctx, values, resume)
			if err != nil {
				t.Fatal(err)
			}
			if final["trail"] != "ABC" || final["count"] != float64(3) {
				t.Fatalf("final state: %v", final)
			}
			cps, err = st.List(ctx, thread)
			if err != nil {
				t.Fatal(err)
			}
			if got := trails(cps); got != "A:A,B:AB,C:ABC" {
				t.Fatalf("checkpoints after resuming: %s", got)
			}

			// Delete one, then clear the thread.
			if err := st.Delete(ctx, loaded.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Load(ctx, loaded.ID); err == nil {
				t.Fatal("a deleted checkpoint loads")
			}
			cps, _ = st.List(ctx, thread)
			if got := trails(cps); got != "A:A,C:ABC" {
				t.Fatalf("after delete: %s", got)
			}
			if err := st.Delete(ctx, "absent"); err != nil {
				t.Fatalf("delete of an absent checkpoint: %v", err)
			}
			if err := st.Clear(ctx, thread); err != nil {
				t.Fatal(err)
			}
			cps, err = st.List(ctx, thread)
			if err != nil || len(cps) != 0 {
				t.Fatalf("after clear: %d checkpoints, %v", len(cps), err)
			}
		})
	}
}

// Save is an upsert by id; List groups by execution id.
func TestSaveLoadListByExecution(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.name, func(t *testing.T) {
			st := sc.make(t)
			exec := uniq("exec")
			ts := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
			cp := &store.Checkpoint{ID: uniq("cp"), NodeName: "n1", State: map[string]any{"k": "v1"},
				Metadata: map[string]any{"execution_id": exec}, Timestamp: ts, Version: 1}
			if err := st.Save(ctx, cp); err != nil {
				t.Fatal(err)
			}
			again := *cp
			again.NodeName, again.State = "n2", map[string]any{"k": "v2"}
			if err := st.Save(ctx, &again); err != nil {
				t.Fatal(err)
			}
			got, err := st.Load(ctx, cp.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.NodeName != "n2" || got.State.(map[string]any)["k"] != "v2" || !got.Timestamp.Equal(ts) || got.Version != 1 {
				t.Fatalf("loaded %+v", got)
			}
			list, err := st.List(ctx, exec)
			if err != nil || len(list) != 1 {
				t.Fatalf("list: %d, %v", len(list), err)
			}
			other, err := st.List(ctx, uniq("other"))
			if err != nil || len(other) != 0 {
				t.Fatalf("other list: %d, %v", len(other), err)
			}
			if _, err := st.Load(ctx, uniq("absent")); err == nil {
				t.Fatal("an absent checkpoint loads")
			}
		})
	}
}

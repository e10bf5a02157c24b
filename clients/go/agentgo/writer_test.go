package agentgo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jholhewres/agent-go/pkg/agentgo/agent"
	"github.com/jholhewres/agent-go/pkg/agentgo/session"
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

// full builds a session with every field set, with agent-go's constructor.
func full(id, user string, n int) *session.Session {
	s := session.NewSession(id, "agent-"+id)
	s.UserID = user
	s.TeamID = "team"
	s.WorkflowID = "wf"
	s.Name = "session " + id
	s.Metadata = map[string]interface{}{"n": float64(n), "tags": []interface{}{"a", "b"}}
	s.State = map[string]interface{}{"step": float64(n), "nested": map[string]interface{}{"ok": true}}
	s.AgentData = map[string]interface{}{"model": "fake"}
	started := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	s.AddRun(&agent.RunOutput{RunID: "run-" + id, Status: "completed", StartedAt: started,
		CompletedAt: started.Add(time.Second), Content: "answer", Metadata: map[string]interface{}{"k": "v"}})
	s.GenerateSummary("summary of " + id)
	s.CreatedAt = time.Date(2025, 6, 1, 12, 0, 0, 654321000, time.UTC)
	s.UpdatedAt = time.Date(2025, 6, 2, 12, 0, 0, 111111000, time.UTC)
	return s
}

// jsonOf normalises a value through JSON, as storing it does.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(x)
	return string(b)
}

// sameSession compares field by field; times to the microsecond (PostgreSQL's
// resolution).
func sameSession(t *testing.T, got, want *session.Session, checkUpdated bool) {
	t.Helper()
	if got == nil {
		t.Fatalf("session %s not found", want.SessionID)
	}
	strs := [][3]string{
		{"SessionID", got.SessionID, want.SessionID}, {"UserID", got.UserID, want.UserID},
		{"AgentID", got.AgentID, want.AgentID}, {"TeamID", got.TeamID, want.TeamID},
		{"WorkflowID", got.WorkflowID, want.WorkflowID}, {"Name", got.Name, want.Name},
		{"Metadata", jsonOf(t, got.Metadata), jsonOf(t, want.Metadata)},
		{"State", jsonOf(t, got.State), jsonOf(t, want.State)},
		{"AgentData", jsonOf(t, got.AgentData), jsonOf(t, want.AgentData)},
		{"Runs", jsonOf(t, got.Runs), jsonOf(t, want.Runs)},
		{"Summary", jsonOf(t, got.Summary), jsonOf(t, want.Summary)},
	}
	for _, f := range strs {
		if f[1] != f[2] {
			t.Fatalf("%s of %s: got %s, want %s", f[0], want.SessionID, f[1], f[2])
		}
	}
	if !got.CreatedAt.Equal(want.CreatedAt.Truncate(time.Microsecond)) {
		t.Fatalf("CreatedAt: got %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	if checkUpdated && !got.UpdatedAt.Equal(want.UpdatedAt.Truncate(time.Microsecond)) {
		t.Fatalf("UpdatedAt: got %v, want %v", got.UpdatedAt, want.UpdatedAt)
	}
	if !reflect.DeepEqual(got.Runs[0].StartedAt.UTC(), want.Runs[0].StartedAt.UTC()) {
		t.Fatalf("run time: got %v, want %v", got.Runs[0].StartedAt, want.Runs[0].StartedAt)
	}
}

func TestRoundTripFieldByField(t *testing.T) {
	w := NewBatchWriter(testPool(t), WithAppName(uniq("agentgo")))
	var batch []*session.Session
	for i := 0; i < 3; i++ {
		batch = append(batch, full(fmt.Sprintf("s%d", i), "u", i))
	}
	if err := w.UpsertSessions(ctx, batch, true); err != nil {
		t.Fatal(err)
	}
	if ins, upd := w.LastCounts(); ins != 3 || upd != 0 {
		t.Fatalf("counts: %d inserted, %d updated", ins, upd)
	}
	for _, want := range batch {
		got, err := w.GetSession(ctx, "u", want.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		sameSession(t, got, want, true)
	}
	absent, err := w.GetSession(ctx, "u", "nope")
	if err != nil || absent != nil {
		t.Fatalf("absent: %v, %v", absent, err)
	}
}

func TestUpdateKeepsCreatedAtAndStampsUpdatedAt(t *testing.T) {
	w := NewBatchWriter(testPool(t), WithAppName(uniq("agentgo")))
	first := full("s", "u", 1)
	if err := w.UpsertSessions(ctx, []*session.Session{first}, true); err != nil {
		t.Fatal(err)
	}
	second := full("s", "u", 2)
	second.Name = "renamed"
	second.CreatedAt = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // must not win
	before := time.Now()
	if err := w.UpsertSessions(ctx, []*session.Session{second}, false); err != nil {
		t.Fatal(err)
	}
	if ins, upd := w.LastCounts(); ins != 0 || upd != 1 {
		t.Fatalf("counts: %d inserted, %d updated", ins, upd)
	}
	got, err := w.GetSession(ctx, "u", "s")
	if err != nil {
		t.Fatal(err)
	}
	want := *second
	want.CreatedAt = first.CreatedAt
	sameSession(t, got, &want, false)
	if got.UpdatedAt.Before(before.Add(-time.Second)) {
		t.Fatalf("updated_at %v was not stamped now (preserveUpdatedAt=false)", got.UpdatedAt)
	}
}

func TestRepeatedKeyInOneBatchLastWins(t *testing.T) {
	w := NewBatchWriter(testPool(t), WithAppName(uniq("agentgo")))
	a, b := full("s", "u", 1), full("s", "u", 2)
	b.Name = "last"
	if err := w.UpsertSessions(ctx, []*session.Session{a, b}, true); err != nil {
		t.Fatal(err)
	}
	got, err := w.GetSession(ctx, "u", "s")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "last" {
		t.Fatalf("name %q, want the last occurrence", got.Name)
	}
}

// One writer used by several goroutines at once, as agent-go's callers may:
// every batch is written, and LastCounts gives one whole call's counts.
// test/suites/go.sh runs it under the race detector too.
func TestConcurrentUpserts(t *testing.T) {
	app := uniq("agentgo")
	w := NewBatchWriter(testPool(t), WithAppName(app))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			batch := make([]*session.Session, 50)
			for i := range batch {
				batch[i] = full(fmt.Sprintf("g%d-%d", g, i), "u", i)
			}
			errs <- w.UpsertSessions(ctx, batch, true)
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if ins, upd := w.LastCounts(); ins != 50 || upd != 0 {
		t.Fatalf("LastCounts: %d inserted, %d updated; want one call's 50, 0", ins, upd)
	}
	for g := 0; g < 4; g++ {
		if got, err := w.GetSession(ctx, "u", fmt.Sprintf("g%d-49", g)); err != nil || got == nil {
			t.Fatalf("batch %d: %v, %v", g, got, err)
		}
	}
}

func TestEmptyUserID(t *testing.T) {
	pool := testPool(t)
	app := uniq("agentgo")
	w := NewBatchWriter(pool, WithAppName(app))
	ok, noUser := full("ok", "u", 1), full("nouser", "", 2)
	if err := w.UpsertSessions(ctx, []*session.Session{ok, noUser}, true); err == nil {
		t.Fatal("a session without user id was accepted")
	}
	if got, _ := w.GetSession(ctx, "u", "ok"); got != nil {
		t.Fatal("a failed batch wrote a row")
	}
	w = NewBatchWriter(pool, WithAppName(app), WithDefaultUserID("anonymous"))
	if err := w.UpsertSessions(ctx, []*session.Session{noUser}, true); err != nil {
		t.Fatal(err)
	}
	got, err := w.GetSession(ctx, "", "nouser")
	if err != nil || got == nil || got.UserID != "anonymous" {
		t.Fatalf("default user: %v, %v", got, err)
	}
}

func TestBulk(t *testing.T) {
	pool := testPool(t)
	app := uniq("agentgo")
	w := NewBatchWriter(pool, WithAppName(app))
	n := 20000
	batch := make([]*session.Session, n)
	for i := range batch {
		batch[i] = full(fmt.Sprintf("s%06d", i), fmt.Sprintf("u%d", i%50), i)
	}
	for round, want := range [][2]int64{{int64(n), 0}, {0, int64(n)}} {
		if err := w.UpsertSessions(ctx, batch, true); err != nil {
			t.Fatal(err)
		}
		if ins, upd := w.LastCounts(); ins != want[0] || upd != want[1] {
			t.Fatalf("round %d: %d inserted, %d updated", round, ins, upd)
		}
	}
	var count int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM agentstore.sessions WHERE app_name = $1 AND deleted_at IS NULL`, app).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != int64(n) {
		t.Fatalf("%d sessions, want %d", count, n)
	}
	got, err := w.GetSession(ctx, "u7", "s012357")
	if err != nil {
		t.Fatal(err)
	}
	sameSession(t, got, batch[12357], true)
}

package trpcagent

// One behaviour suite over trpc-agent-go's public session.Service interface,
// run with identical assertions against the framework's in-memory service
// and against agentstore.  The agentstore side needs AGENTSTORE_TEST_DSN (a
// database with the agentstore extension); test/suites/go.sh sets it.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"trpc.group/trpc-go/trpc-agent-go/event"
	"trpc.group/trpc-go/trpc-agent-go/model"
	"trpc.group/trpc-go/trpc-agent-go/session"
	"trpc.group/trpc-go/trpc-agent-go/session/inmemory"
)

// testPool connects to AGENTSTORE_TEST_DSN, or skips the test.
func testPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dsn := os.Getenv("AGENTSTORE_TEST_DSN")
	if dsn == "" {
		t.Skip("AGENTSTORE_TEST_DSN is not set")
	}
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// uniq makes names that no earlier run used (the database outlives a run).
func uniq(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

type impl struct {
	name string
	make func(t *testing.T) session.Service
}

func impls() []impl {
	return []impl{
		{"inmemory", func(t *testing.T) session.Service {
			s := inmemory.NewSessionService()
			t.Cleanup(func() { _ = s.Close() })
			return s
		}},
		{"agentstore", func(t *testing.T) session.Service {
			s := NewService(testPool(t))
			t.Cleanup(func() { _ = s.Close() })
			return s
		}},
	}
}

// forEach runs body once per implementation, as subtests named after it.
func forEach(t *testing.T, body func(t *testing.T, svc session.Service, app string)) {
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			body(t, im.make(t), uniq("app"))
		})
	}
}

func userEvent(text string) *event.Event {
	return event.NewResponseEvent("inv", "user", &model.Response{
		Choices: []model.Choice{{Message: model.NewUserMessage(text)}},
	})
}

func assistantEvent(text string) *event.Event {
	return event.NewResponseEvent("inv", "agent", &model.Response{
		Choices: []model.Choice{{Message: model.NewAssistantMessage(text)}},
	})
}

func texts(sess *session.Session) []string {
	out := []string{}
	for _, e := range sess.Events {
		if e.Response != nil && len(e.Choices) > 0 {
			out = append(out, e.Choices[0].Message.Content)
		}
	}
	return out
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func eqStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var ctx = context.Background()

func TestGetAbsentSessionIsNilNil(t *testing.T) {
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		sess, err := svc.GetSession(ctx, session.Key{AppName: app, UserID: "u", SessionID: "none"})
		if err != nil || sess != nil {
			t.Fatalf("got %v, %v; want nil, nil", sess, err)
		}
		_, err = svc.GetSession(ctx, session.Key{AppName: app, UserID: "u"})
		if !errors.Is(err, session.ErrSessionIDRequired) {
			t.Fatalf("empty session id: got %v", err)
		}
	})
}

func TestCreateAndGet(t *testing.T) {
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		must(t, svc.UpdateAppState(ctx, app, session.StateMap{"app:theme": []byte("dark")}))
		must(t, svc.UpdateUserState(ctx, session.UserKey{AppName: app, UserID: "u"}, session.StateMap{"lang": []byte("fr")}))
		key := session.Key{AppName: app, UserID: "u", SessionID: "s1"}
		created, err := svc.CreateSession(ctx, key, session.StateMap{"k": []byte(`{"a":1}`), "bin": {0, 1, 255}})
		must(t, err)
		eq(t, "id", created.ID, "s1")
		eq(t, "app", created.AppName, app)
		eq(t, "created k", string(created.State["k"]), `{"a":1}`)
		eq(t, "created app:theme", string(created.State["app:theme"]), "dark")
		eq(t, "created user:lang", string(created.State["user:lang"]), "fr")

		got, err := svc.GetSession(ctx, key)
		must(t, err)
		eq(t, "k", string(got.State["k"]), `{"a":1}`)
		eq(t, "bin", string(got.State["bin"]), string([]byte{0, 1, 255}))
		eq(t, "app:theme", string(got.State["app:theme"]), "dark")
		eq(t, "user:lang", string(got.State["user:lang"]), "fr")
		eq(t, "events", len(got.Events), 0)
		if got.CreatedAt.IsZero() || got.UpdatedAt.IsZero() {
			t.Fatal("timestamps not set")
		}

		// A session id chosen by the service.
		auto, err := svc.CreateSession(ctx, session.Key{AppName: app, UserID: "u"}, nil)
		must(t, err)
		if auto.ID == "" {
			t.Fatal("no session id generated")
		}
		again, err := svc.GetSession(ctx, session.Key{AppName: app, UserID: "u", SessionID: auto.ID})
		must(t, err)
		if again == nil {
			t.Fatal("generated session not found")
		}
	})
}

func TestAppendEventsAndWindows(t *testing.T) {
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		key := session.Key{AppName: app, UserID: "u", SessionID: "s"}
		sess, err := svc.CreateSession(ctx, key, nil)
		must(t, err)

		e1 := userEvent("q1")
		e1.StateDelta = map[string][]byte{"step": []byte("1")}
		must(t, svc.AppendEvent(ctx, sess, e1))
		must(t, svc.AppendEvent(ctx, sess, assistantEvent("a1")))
		// A partial event is not kept, but its state delta is.
		partial := assistantEvent("a2-par")
		partial.IsPartial = true
		partial.StateDelta = map[string][]byte{"partial": []byte("seen")}
		must(t, svc.AppendEvent(ctx, sess, partial))
		// An event without a response only carries state.
		stateOnly := event.New("inv", "agent")
		stateOnly.StateDelta = map[string][]byte{"step": []byte("2")}
		must(t, svc.AppendEvent(ctx, sess, stateOnly))
		mid := time.Now()
		time.Sleep(20 * time.Millisecond)
		must(t, svc.AppendEvent(ctx, sess, userEvent("q2")))
		must(t, svc.AppendEvent(ctx, sess, assistantEvent("a2")))

		// The caller's session object is updated as the framework does.
		eqStrings(t, "in-memory object", texts(sess), []string{"q1", "a1", "q2", "a2"})

		got, err := svc.GetSession(ctx, key)
		must(t, err)
		eqStrings(t, "stored events", texts(got), []string{"q1", "a1", "q2", "a2"})
		eq(t, "step", string(got.State["step"]), "2")
		eq(t, "partial delta", string(got.State["partial"]), "seen")
		eq(t, "event id kept", got.Events[0].ID, e1.ID)
		eq(t, "delta kept", string(got.Events[0].StateDelta["step"]), "1")

		// The last 2 events start with a user message.
		last2, err := svc.GetSession(ctx, key, session.WithEventNum(2))
		must(t, err)
		eqStrings(t, "last 2", texts(last2), []string{"q2", "a2"})
		// After a time: only the later events.
		after, err := svc.GetSession(ctx, key, session.WithEventTime(mid))
		must(t, err)
		eqStrings(t, "after time", texts(after), []string{"q2", "a2"})
		// The window never starts with an assistant message: the framework
		// drops leading non-user events.
		last3, err := svc.GetSession(ctx, key, session.WithEventNum(3))
		must(t, err)
		eqStrings(t, "last 3", texts(last3), []string{"q2", "a2"})
	})
}

func TestUpdateSessionState(t *testing.T) {
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		key := session.Key{AppName: app, UserID: "u", SessionID: "s"}
		_, err := svc.CreateSession(ctx, key, session.StateMap{"a": []byte("1")})
		must(t, err)
		for _, bad := range []string{"app:x", "user:x"} {
			if err := svc.UpdateSessionState(ctx, key, session.StateMap{bad: []byte("v"), "ok": []byte("v")}); err == nil {
				t.Fatalf("%s accepted", bad)
			}
		}
		got, err := svc.GetSession(ctx, key)
		must(t, err)
		if _, ok := got.State["ok"]; ok {
			t.Fatal("a refused update wrote something")
		}
		must(t, svc.UpdateSessionState(ctx, key, session.StateMap{"a": []byte("2"), "b": []byte("3")}))
		got, err = svc.GetSession(ctx, key)
		must(t, err)
		eq(t, "a", string(got.State["a"]), "2")
		eq(t, "b", string(got.State["b"]), "3")
		if err := svc.UpdateSessionState(ctx, session.Key{AppName: app, UserID: "u", SessionID: "absent"},
			session.StateMap{"a": []byte("1")}); err == nil {
			t.Fatal("update of an absent session succeeded")
		}
	})
}

func TestAppAndUserState(t *testing.T) {
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		uk := session.UserKey{AppName: app, UserID: "u"}
		must(t, svc.UpdateAppState(ctx, app, session.StateMap{"x": []byte("1"), "app:y": []byte("2")}))
		must(t, svc.UpdateUserState(ctx, uk, session.StateMap{"p": []byte("3"), "user:q": []byte("4")}))
		if err := svc.UpdateUserState(ctx, uk, session.StateMap{"app:z": []byte("5")}); err == nil {
			t.Fatal("user state accepted an app: key")
		}
		if err := svc.UpdateUserState(ctx, uk, session.StateMap{"temp:z": []byte("5")}); err == nil {
			t.Fatal("user state accepted a temp: key")
		}
		as, err := svc.ListAppStates(ctx, app)
		must(t, err)
		eq(t, "app keys", len(as), 2)
		eq(t, "app x", string(as["x"]), "1")
		eq(t, "app y", string(as["y"]), "2")
		us, err := svc.ListUserStates(ctx, uk)
		must(t, err)
		eq(t, "user keys", len(us), 2)
		eq(t, "user q", string(us["q"]), "4")
		other, err := svc.ListUserStates(ctx, session.UserKey{AppName: app, UserID: "other"})
		must(t, err)
		eq(t, "other user keys", len(other), 0)

		must(t, svc.DeleteAppState(ctx, app, "app:x"))
		must(t, svc.DeleteUserState(ctx, uk, "p"))
		as, err = svc.ListAppStates(ctx, app)
		must(t, err)
		eq(t, "app keys after delete", len(as), 1)
		us, err = svc.ListUserStates(ctx, uk)
		must(t, err)
		eq(t, "user keys after delete", len(us), 1)

		// Overlaid on sessions under their prefixes.
		sess, err := svc.CreateSession(ctx, session.Key{AppName: app, UserID: "u", SessionID: "s"}, nil)
		must(t, err)
		_ = sess
		got, err := svc.GetSession(ctx, session.Key{AppName: app, UserID: "u", SessionID: "s"})
		must(t, err)
		eq(t, "overlay app:y", string(got.State["app:y"]), "2")
		eq(t, "overlay user:q", string(got.State["user:q"]), "4")
		if _, ok := got.State["app:x"]; ok {
			t.Fatal("deleted app state still overlaid")
		}
	})
}

func TestListSessions(t *testing.T) {
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		uk := session.UserKey{AppName: app, UserID: "u"}
		empty, err := svc.ListSessions(ctx, uk)
		must(t, err)
		eq(t, "empty list", len(empty), 0)
		for _, id := range []string{"s1", "s2", "s3"} {
			sess, err := svc.CreateSession(ctx, session.Key{AppName: app, UserID: "u", SessionID: id}, nil)
			must(t, err)
			time.Sleep(5 * time.Millisecond)
			must(t, svc.AppendEvent(ctx, sess, userEvent("hello "+id)))
			time.Sleep(5 * time.Millisecond)
		}
		_, err = svc.CreateSession(ctx, session.Key{AppName: app, UserID: "other", SessionID: "o1"}, nil)
		must(t, err)

		list, err := svc.ListSessions(ctx, uk)
		must(t, err)
		ids := []string{}
		for _, s := range list {
			ids = append(ids, s.ID)
			eq(t, "events of "+s.ID, len(s.Events), 1)
		}
		eqStrings(t, "newest first", ids, []string{"s3", "s2", "s1"})

		page, err := svc.ListSessions(ctx, uk, session.WithListSessionPage(1, 1))
		must(t, err)
		eq(t, "page size", len(page), 1)
		eq(t, "page item", page[0].ID, "s2")

		meta, err := svc.ListSessions(ctx, uk, session.WithListSessionOnlyMeta())
		must(t, err)
		eq(t, "meta count", len(meta), 3)
		for _, s := range meta {
			eq(t, "meta events of "+s.ID, len(s.Events), 0)
		}
	})
}

func TestDeleteSession(t *testing.T) {
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		key := session.Key{AppName: app, UserID: "u", SessionID: "s"}
		sess, err := svc.CreateSession(ctx, key, session.StateMap{"a": []byte("1")})
		must(t, err)
		must(t, svc.AppendEvent(ctx, sess, userEvent("q")))
		must(t, svc.DeleteSession(ctx, key))
		got, err := svc.GetSession(ctx, key)
		if err != nil || got != nil {
			t.Fatalf("after delete: %v, %v", got, err)
		}
		must(t, svc.DeleteSession(ctx, key)) // absent: no error
		if err := svc.AppendEvent(ctx, sess, userEvent("late")); err == nil {
			t.Fatal("append to a deleted session succeeded")
		}
		// The key can be created again, empty.
		_, err = svc.CreateSession(ctx, key, nil)
		must(t, err)
		got, err = svc.GetSession(ctx, key)
		must(t, err)
		eq(t, "events of the new session", len(got.Events), 0)
		if _, ok := got.State["a"]; ok {
			t.Fatal("state of the deleted session came back")
		}
	})
}

func TestSummariesWithoutSummarizer(t *testing.T) {
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		sess, err := svc.CreateSession(ctx, session.Key{AppName: app, UserID: "u", SessionID: "s"}, nil)
		must(t, err)
		must(t, svc.CreateSessionSummary(ctx, sess, "", true))
		must(t, svc.EnqueueSummaryJob(ctx, sess, "", true))
		text, ok := svc.GetSessionSummaryText(ctx, sess)
		if ok || text != "" {
			t.Fatalf("summary without summarizer: %q, %v", text, ok)
		}
	})
}

// ------------------------------------------------ agentstore-only behaviour

type fakeSummarizer struct{ calls int }

func (f *fakeSummarizer) ShouldSummarize(*session.Session) bool { return false }
func (f *fakeSummarizer) Summarize(_ context.Context, sess *session.Session) (string, error) {
	f.calls++
	return "summary of " + sess.ID + " with " + texts(sess)[0], nil
}

func TestAgentstoreSummaries(t *testing.T) {
	fs := &fakeSummarizer{}
	svc := NewService(testPool(t), WithSummarizer(fs))
	app := uniq("app")
	key := session.Key{AppName: app, UserID: "u", SessionID: "s"}
	sess, err := svc.CreateSession(ctx, key, nil)
	must(t, err)
	must(t, svc.AppendEvent(ctx, sess, userEvent("q1")))
	must(t, svc.CreateSessionSummary(ctx, sess, "", false)) // not due
	eq(t, "calls when not due", fs.calls, 0)
	must(t, svc.CreateSessionSummary(ctx, sess, "", true))
	must(t, svc.CreateSessionSummary(ctx, sess, "branch", true))
	eq(t, "calls", fs.calls, 2)

	// A fresh read sees both summaries; a missing branch falls back to "".
	got, err := svc.GetSession(ctx, key)
	must(t, err)
	eq(t, "summaries", len(got.Summaries), 2)
	text, ok := svc.GetSessionSummaryText(ctx, got)
	eq(t, "has summary", ok, true)
	eq(t, "summary", text, "summary of s with q1")
	text, ok = svc.GetSessionSummaryText(ctx, got, session.WithSummaryFilterKey("nope"))
	eq(t, "fallback", ok, true)
	eq(t, "fallback text", text, "summary of s with q1")
	// Read by key when the object holds none.
	bare := session.NewSession(app, "u", "s")
	text, ok = svc.GetSessionSummaryText(ctx, bare, session.WithSummaryFilterKey("branch"))
	eq(t, "by key", ok, true)
	eq(t, "by key text", text, "summary of s with q1")
}

// A session object read before its key was deleted and created again
// cannot write into the new session: agentstore refuses with SV002.  (The
// framework's own services write into the new session.)
func TestAgentstoreStaleSessionObject(t *testing.T) {
	svc := NewService(testPool(t))
	app := uniq("app")
	key := session.Key{AppName: app, UserID: "u", SessionID: "s"}
	old, err := svc.CreateSession(ctx, key, nil)
	must(t, err)
	must(t, svc.DeleteSession(ctx, key))
	_, err = svc.CreateSession(ctx, key, nil)
	must(t, err)
	err = svc.AppendEvent(ctx, old, userEvent("stale"))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "SV002" {
		t.Fatalf("stale append: got %v, want SQLSTATE SV002", err)
	}
	got, err := svc.GetSession(ctx, key)
	must(t, err)
	eq(t, "events of the new session", len(got.Events), 0)
}

// Sliding TTL: every append moves expires_at; an expired session is absent.
func TestAgentstoreSessionTTL(t *testing.T) {
	pool := testPool(t)
	svc := NewService(pool, WithSessionTTL(time.Hour))
	app := uniq("app")
	key := session.Key{AppName: app, UserID: "u", SessionID: "s"}
	sess, err := svc.CreateSession(ctx, key, nil)
	must(t, err)
	var first, second time.Time
	q := `SELECT expires_at FROM agentstore.sessions WHERE app_name = $1 AND deleted_at IS NULL`
	must(t, pool.QueryRow(ctx, q, app).Scan(&first))
	if d := time.Until(first); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("expires_at %v is not an hour away", first)
	}
	time.Sleep(10 * time.Millisecond)
	must(t, svc.AppendEvent(ctx, sess, userEvent("q")))
	must(t, pool.QueryRow(ctx, q, app).Scan(&second))
	if !second.After(first) {
		t.Fatalf("append did not slide expires_at: %v then %v", first, second)
	}
	_, err = pool.Exec(ctx, `UPDATE agentstore.sessions SET expires_at = now() - interval '1 second' WHERE app_name = $1`, app)
	must(t, err)
	got, err := svc.GetSession(ctx, key)
	if err != nil || got != nil {
		t.Fatalf("expired session: %v, %v", got, err)
	}
}

// The differences from the framework's stores that docs/go.md lists for
// sessions, asserted on agentstore.
func TestAgentstoreDocumentedDifferences(t *testing.T) {
	svc := NewService(testPool(t))
	app := uniq("app")
	key := session.Key{AppName: app, UserID: "u", SessionID: "s"}
	sess, err := svc.CreateSession(ctx, key, nil)
	must(t, err)

	// Creating an active key again fails (23505) instead of replacing it.
	_, err = svc.CreateSession(ctx, key, nil)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("second create: got %v, want SQLSTATE 23505", err)
	}

	// app:/user: keys of an event's delta go to app/user state, temp: keys
	// are not stored.
	e := userEvent("q")
	e.StateDelta = map[string][]byte{"app:a": []byte("1"), "user:b": []byte("2"), "temp:c": []byte("3"), "d": []byte("4")}
	must(t, svc.AppendEvent(ctx, sess, e))
	as, err := svc.ListAppStates(ctx, app)
	must(t, err)
	eq(t, "app state a", string(as["a"]), "1")
	us, err := svc.ListUserStates(ctx, session.UserKey{AppName: app, UserID: "u"})
	must(t, err)
	eq(t, "user state b", string(us["b"]), "2")
	got, err := svc.GetSession(ctx, key)
	must(t, err)
	eq(t, "d", string(got.State["d"]), "4")
	eq(t, "app:a overlaid", string(got.State["app:a"]), "1")
	if _, ok := got.State["temp:c"]; ok {
		t.Fatal("a temp: key was stored")
	}
	must(t, svc.UpdateSessionState(ctx, key, session.StateMap{"temp:x": []byte("1")}))
	got, err = svc.GetSession(ctx, key)
	must(t, err)
	if _, ok := got.State["temp:x"]; ok {
		t.Fatal("a temp: key of UpdateSessionState was stored")
	}
}

// CreateSession's result shows the app: and user: keys it wrote, over the
// app and user state stored before (which its statement's snapshot still
// holds), and without the keys it removed (nil values); the next read agrees.
func TestAgentstoreCreateSessionRoutedState(t *testing.T) {
	svc := NewService(testPool(t))
	app := uniq("app")
	must(t, svc.UpdateAppState(ctx, app, session.StateMap{"theme": []byte("dark"), "old": []byte("1")}))
	key := session.Key{AppName: app, UserID: "u", SessionID: "s"}
	sess, err := svc.CreateSession(ctx, key, session.StateMap{
		"app:theme": []byte("light"), "app:old": nil, "user:lang": []byte("fr"), "x": []byte("1"),
	})
	must(t, err)
	got, err := svc.GetSession(ctx, key)
	must(t, err)
	for _, s := range []*session.Session{sess, got} {
		eq(t, "app:theme", string(s.State["app:theme"]), "light")
		eq(t, "user:lang", string(s.State["user:lang"]), "fr")
		eq(t, "x", string(s.State["x"]), "1")
		if _, ok := s.State["app:old"]; ok {
			t.Fatal("app:old, removed by the create, is in the session's state")
		}
	}
}

// Offset/limit pages across the pages of agentstore.list_sessions (two
// sessions a page here), same results on both services.
func TestListSessionPagesAcrossListingPages(t *testing.T) {
	saved := listPageSize
	listPageSize = 2
	t.Cleanup(func() { listPageSize = saved })
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		uk := session.UserKey{AppName: app, UserID: "u"}
		for i := 1; i <= 5; i++ {
			sess, err := svc.CreateSession(ctx, session.Key{AppName: app, UserID: "u", SessionID: fmt.Sprintf("s%d", i)}, nil)
			must(t, err)
			time.Sleep(5 * time.Millisecond)
			must(t, svc.AppendEvent(ctx, sess, userEvent(fmt.Sprintf("q%d", i))))
			time.Sleep(5 * time.Millisecond)
		}
		for _, c := range []struct {
			offset, limit int
			want          string
		}{{0, 2, "s5,s4"}, {1, 3, "s4,s3,s2"}, {3, 10, "s2,s1"}, {5, 1, ""}, {2, 1, "s3"}} {
			page, err := svc.ListSessions(ctx, uk, session.WithListSessionPage(c.offset, c.limit))
			must(t, err)
			var ids []string
			for _, s := range page {
				ids = append(ids, s.ID)
				eq(t, "events of "+s.ID, len(s.Events), 1)
			}
			eq(t, fmt.Sprintf("page (%d, %d)", c.offset, c.limit), strings.Join(ids, ","), c.want)
		}
		all, err := svc.ListSessions(ctx, uk)
		must(t, err)
		eq(t, "all", len(all), 5)
	})
}

// trackingService is what both services offer for track events.
type trackingService interface {
	session.Service
	session.TrackService
	GetTrackEvents(ctx context.Context, key session.Key, track session.Track, opts ...session.Option) (*session.TrackEvents, error)
}

func TestTrackEvents(t *testing.T) {
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		ts := svc.(trackingService)
		key := session.Key{AppName: app, UserID: "u", SessionID: "s"}
		sess, err := svc.CreateSession(ctx, key, nil)
		must(t, err)
		base := time.Now().UTC().Truncate(time.Millisecond)
		for i, tr := range []session.Track{"agui", "agui", "a2a"} {
			must(t, ts.AppendTrackEvent(ctx, sess, &session.TrackEvent{Track: tr,
				Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), Timestamp: base.Add(time.Duration(i) * time.Second)}))
		}
		got, err := ts.GetTrackEvents(ctx, key, "agui")
		must(t, err)
		eq(t, "agui events", len(got.Events), 2)
		eq(t, "agui payload", string(got.Events[1].Payload), `{"n":1}`)
		eq(t, "agui timestamp", got.Events[1].Timestamp.Equal(base.Add(time.Second)), true)
		none, err := ts.GetTrackEvents(ctx, key, "none")
		must(t, err)
		eq(t, "empty track", len(none.Events), 0)
		absent, err := ts.GetTrackEvents(ctx, session.Key{AppName: app, UserID: "u", SessionID: "absent"}, "agui")
		must(t, err)
		eq(t, "absent session", len(absent.Events), 0)

		read, err := svc.GetSession(ctx, key)
		must(t, err)
		tracks, err := session.TracksFromState(read.State)
		must(t, err)
		eq(t, "track index", fmt.Sprint(tracks), "[agui a2a]")
		eq(t, "tracks read with the session", len(read.Tracks), 2)
		a2a, err := read.GetTrackEvents("a2a")
		must(t, err)
		eq(t, "a2a events", len(a2a.Events), 1)
		eq(t, "a2a payload", string(a2a.Events[0].Payload), `{"n":2}`)
	})
}

// TestEventWindow: session.WindowService (GetEventWindow) on both services:
// the anchor and its neighbours that carry text (tool calls and events
// without text are skipped; a tool result counts as role tool), the role
// filter, and the errors.
func TestEventWindow(t *testing.T) {
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		ws, ok := svc.(session.WindowService)
		if !ok {
			t.Fatalf("%T does not implement session.WindowService", svc)
		}
		key := session.Key{AppName: app, UserID: "u", SessionID: "s"}
		sess, err := svc.CreateSession(ctx, key, nil)
		must(t, err)
		call := event.NewResponseEvent("inv", "agent", &model.Response{Choices: []model.Choice{{Message: model.Message{
			Role: model.RoleAssistant, ToolCalls: []model.ToolCall{{Type: "function", ID: "c1",
				Function: model.FunctionDefinitionParam{Name: "lookup", Arguments: []byte(`{}`)}}}}}}})
		result := event.NewResponseEvent("inv", "agent", &model.Response{Choices: []model.Choice{{Message: model.Message{
			Role: model.RoleTool, ToolID: "c1", ToolName: "lookup", Content: "42"}}}})
		blank := assistantEvent("   ")
		parts := event.NewResponseEvent("inv", "agent", &model.Response{Choices: []model.Choice{{Message: model.Message{
			Role: model.RoleAssistant, ContentParts: []model.ContentPart{{Type: model.ContentTypeText, Text: strPtr(" from parts ")}}}}}})
		q0, a0, q1, a1 := userEvent("q0"), assistantEvent("a0"), userEvent("q1"), assistantEvent("a1")
		for _, e := range []*event.Event{q0, a0, call, result, blank, parts, q1, a1} {
			must(t, svc.AppendEvent(ctx, sess, e))
		}
		ids := func(w *session.EventWindow) string {
			var out []string
			for _, en := range w.Entries {
				if en.CreatedAt.IsZero() {
					t.Fatalf("entry %s without a time", en.Event.ID)
				}
				out = append(out, en.Event.ID)
			}
			return strings.Join(out, ",")
		}
		join := func(es ...*event.Event) string {
			var out []string
			for _, e := range es {
				out = append(out, e.ID)
			}
			return strings.Join(out, ",")
		}

		w, err := ws.GetEventWindow(ctx, session.EventWindowRequest{Key: key, AnchorEventID: a0.ID, Before: 1, After: 2})
		must(t, err)
		eq(t, "window around a0", ids(w), join(q0, a0, result, parts))
		eq(t, "anchor id", w.AnchorEventID, a0.ID)
		eq(t, "session key", w.SessionKey, key)

		w, err = ws.GetEventWindow(ctx, session.EventWindowRequest{Key: key, AnchorEventID: " " + q1.ID + " ", Before: 9, After: 9,
			Roles: []model.Role{model.RoleUser, " "}})
		must(t, err)
		eq(t, "users around q1", ids(w), join(q0, q1))

		w, err = ws.GetEventWindow(ctx, session.EventWindowRequest{Key: key, AnchorEventID: a1.ID, Before: 3})
		must(t, err)
		eq(t, "three before a1", ids(w), join(result, parts, q1, a1))

		w, err = ws.GetEventWindow(ctx, session.EventWindowRequest{Key: key, AnchorEventID: result.ID, Roles: []model.Role{model.RoleTool}})
		must(t, err)
		eq(t, "tool result alone", ids(w), join(result))

		for name, req := range map[string]session.EventWindowRequest{
			"anchor of another role":   {Key: key, AnchorEventID: a0.ID, Roles: []model.Role{model.RoleUser}},
			"anchor is a tool call":    {Key: key, AnchorEventID: call.ID},
			"anchor without text":      {Key: key, AnchorEventID: blank.ID},
			"absent anchor":            {Key: key, AnchorEventID: "no-such-event"},
			"absent session":           {Key: session.Key{AppName: app, UserID: "u", SessionID: "other"}, AnchorEventID: a0.ID},
			"anchor in another user's": {Key: session.Key{AppName: app, UserID: "v", SessionID: "s"}, AnchorEventID: a0.ID},
		} {
			_, err := ws.GetEventWindow(ctx, req)
			if !errors.Is(err, session.ErrEventWindowAnchorNotFound) {
				t.Fatalf("%s: got %v, want ErrEventWindowAnchorNotFound", name, err)
			}
		}
		for name, req := range map[string]session.EventWindowRequest{
			"empty anchor":    {Key: key, AnchorEventID: "  "},
			"negative before": {Key: key, AnchorEventID: a0.ID, Before: -1},
			"negative after":  {Key: key, AnchorEventID: a0.ID, After: -1},
			"no session id":   {Key: session.Key{AppName: app, UserID: "u"}, AnchorEventID: a0.ID},
		} {
			if _, err := ws.GetEventWindow(ctx, req); err == nil || errors.Is(err, session.ErrEventWindowAnchorNotFound) {
				t.Fatalf("%s: got %v, want a request error", name, err)
			}
		}
	})
}

func strPtr(s string) *string { return &s }

// TestGetSessionEventPage: WithGetSessionEventPage (offset and limit counted
// from the newest event, the page returned oldest first, unfiltered, as
// trpc-agent-go's Postgres service pages).  The in-memory service refuses
// paging (ErrEventPageUnsupported): the pages are asserted on agentstore,
// the option checks on both.
func TestGetSessionEventPage(t *testing.T) {
	forEach(t, func(t *testing.T, svc session.Service, app string) {
		key := session.Key{AppName: app, UserID: "u", SessionID: "s"}
		sess, err := svc.CreateSession(ctx, key, nil)
		must(t, err)
		for _, e := range []*event.Event{userEvent("q1"), assistantEvent("a1"), userEvent("q2"), assistantEvent("a2"), userEvent("q3")} {
			must(t, svc.AppendEvent(ctx, sess, e))
		}
		_, err = svc.GetSession(ctx, key, session.WithGetSessionEventPage(0, 2), session.WithEventNum(2))
		if !errors.Is(err, session.ErrEventPageConflictsWithEventFilters) && !errors.Is(err, session.ErrEventPageUnsupported) {
			t.Fatalf("page with EventNum: got %v", err)
		}
		_, err = svc.GetSession(ctx, key, session.WithGetSessionEventPage(-1, 2))
		if !errors.Is(err, session.ErrInvalidEventPage) && !errors.Is(err, session.ErrEventPageUnsupported) {
			t.Fatalf("negative offset: got %v", err)
		}
		if _, ok := svc.(*Service); !ok {
			_, err := svc.GetSession(ctx, key, session.WithGetSessionEventPage(0, 2))
			if !errors.Is(err, session.ErrEventPageUnsupported) {
				t.Fatalf("in-memory paging: got %v, want ErrEventPageUnsupported", err)
			}
			return
		}
		for _, c := range []struct {
			offset, limit int
			want          []string
		}{
			{0, 2, []string{"a2", "q3"}}, // starts with an assistant event: no filtering
			{2, 2, []string{"a1", "q2"}},
			{4, 2, []string{"q1"}},
			{5, 2, []string{}},
			{0, 10, []string{"q1", "a1", "q2", "a2", "q3"}},
		} {
			got, err := svc.GetSession(ctx, key, session.WithGetSessionEventPage(c.offset, c.limit))
			must(t, err)
			eqStrings(t, fmt.Sprintf("page %d+%d", c.offset, c.limit), texts(got), c.want)
		}
		absent, err := svc.GetSession(ctx, session.Key{AppName: app, UserID: "u", SessionID: "none"}, session.WithGetSessionEventPage(0, 2))
		must(t, err)
		if absent != nil {
			t.Fatal("absent session: want nil")
		}
	})
}

// TestHooks: AppendEvent and GetSession hooks (WithAppendEventHook,
// WithGetSessionHook) on both services: run in order, a hook may change the
// event before the write, skip the write by not calling next, and change
// the session read.
func TestHooks(t *testing.T) {
	var order []string
	tag := func(name string) session.AppendEventHook {
		return func(c *session.AppendEventContext, next func() error) error {
			order = append(order, name)
			if c.Event.Response != nil && len(c.Event.Choices) > 0 {
				if c.Event.Choices[0].Message.Content == "drop me" {
					return nil
				}
				c.Event.Choices[0].Message.Content += "+" + name
			}
			return next()
		}
	}
	mark := func(c *session.GetSessionContext, next func() (*session.Session, error)) (*session.Session, error) {
		order = append(order, "get")
		sess, err := next()
		if sess != nil {
			sess.SetState("hooked", []byte(c.Key.SessionID))
		}
		return sess, err
	}
	for _, im := range []impl{
		{"inmemory", func(t *testing.T) session.Service {
			return inmemory.NewSessionService(inmemory.WithAppendEventHook(tag("h1"), tag("h2")),
				inmemory.WithGetSessionHook(mark))
		}},
		{"agentstore", func(t *testing.T) session.Service {
			return NewService(testPool(t), WithAppendEventHook(tag("h1"), tag("h2")), WithGetSessionHook(mark))
		}},
	} {
		t.Run(im.name, func(t *testing.T) {
			svc := im.make(t)
			defer svc.Close()
			key := session.Key{AppName: uniq("app"), UserID: "u", SessionID: "s"}
			sess, err := svc.CreateSession(ctx, key, nil)
			must(t, err)
			order = nil
			must(t, svc.AppendEvent(ctx, sess, userEvent("q")))
			must(t, svc.AppendEvent(ctx, sess, assistantEvent("drop me")))
			got, err := svc.GetSession(ctx, key)
			must(t, err)
			eqStrings(t, "hook order", order, []string{"h1", "h2", "h1", "get"})
			eqStrings(t, "stored events", texts(got), []string{"q+h1+h2"})
			eq(t, "state set by the get hook", string(got.State["hooked"]), "s")
		})
	}
}

// TestAgentstoreOneCallPerRead: a read calls agentstore's function once per
// statement.  A function used more than once in the statement must not be
// evaluated once per use (a subquery in FROM is flattened into its
// references): GetSession with and without an event page calls get_session
// once, a page of ListSessions calls list_sessions once (and get_session
// once per session it returns).  Counted with pg_stat_xact_user_functions in one
// transaction.  Before the fix: get_session 2 times per GetSession (8 with a
// page), list_sessions 3 times per page.
func TestAgentstoreOneCallPerRead(t *testing.T) {
	pool := testPool(t)
	app := uniq("app")
	svc := NewService(pool)
	for _, sid := range []string{"s1", "s2"} {
		sess, err := svc.CreateSession(ctx, session.Key{AppName: app, UserID: "u", SessionID: sid}, nil)
		must(t, err)
		must(t, svc.AppendEvent(ctx, sess, userEvent("q")))
		must(t, svc.AppendTrackEvent(ctx, sess, &session.TrackEvent{Track: "ui", Payload: json.RawMessage(`{"a":1}`), Timestamp: time.Now()}))
	}
	key := session.Key{AppName: app, UserID: "u", SessionID: "s1"}
	for name, c := range map[string]struct {
		read func(s *Service) error
		want map[string]int64
	}{
		"GetSession": {func(s *Service) error { _, err := s.GetSession(ctx, key); return err },
			map[string]int64{"get_session": 1, "get_track_events": 1}},
		"GetSession with a page": {func(s *Service) error {
			_, err := s.GetSession(ctx, key, session.WithGetSessionEventPage(0, 5))
			return err
		}, map[string]int64{"get_session": 1, "get_track_events": 1}},
		"ListSessions": {func(s *Service) error {
			_, err := s.ListSessions(ctx, session.UserKey{AppName: app, UserID: "u"})
			return err
		}, map[string]int64{"list_sessions": 1, "get_session": 2}},
		"ListSessions, a page of one": {func(s *Service) error {
			_, err := s.ListSessions(ctx, session.UserKey{AppName: app, UserID: "u"}, session.WithListSessionPage(1, 1))
			return err
		}, map[string]int64{"list_sessions": 1, "get_session": 1}},
	} {
		tx, err := pool.Begin(ctx)
		must(t, err)
		_, err = tx.Exec(ctx, `SET LOCAL track_functions = 'all'`)
		must(t, err)
		// The view shows the backend's counts not yet reported, which may
		// include earlier transactions': count the difference (nothing is
		// reported inside a transaction).
		counts := func() map[string]int64 {
			out := map[string]int64{}
			for fn := range c.want {
				var calls int64
				must(t, tx.QueryRow(ctx, `SELECT coalesce(sum(calls), 0) FROM pg_catalog.pg_stat_xact_user_functions
					WHERE schemaname = 'agentstore' AND funcname = $1`, fn).Scan(&calls))
				out[fn] = calls
			}
			return out
		}
		before := counts()
		s := NewService(pool)
		s.db = tx
		must(t, c.read(s))
		after := counts()
		for fn, want := range c.want {
			if got := after[fn] - before[fn]; got != want {
				t.Errorf("%s: %s called %d times, want %d", name, fn, got, want)
			}
		}
		_ = tx.Rollback(ctx)
	}
}

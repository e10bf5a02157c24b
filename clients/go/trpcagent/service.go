// Package trpcagent is trpc-agent-go's session.Service on agentstore.
//
// It is a thin adapter: every method converts its arguments, calls one
// agentstore function (one round trip) and converts the result back.  The
// rules (app:/user:/temp: state prefixes, sliding TTL, soft delete, the event
// window, stale-session checks) are the extension's; see docs/sessions.md.
package trpcagent

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"trpc.group/trpc-go/trpc-agent-go/event"
	"trpc.group/trpc-go/trpc-agent-go/session"
)

// serviceMetaRef is the ServiceMeta key holding the id of the session
// incarnation a *session.Session was read from (agentstore's session_ref).
const serviceMetaRef = "agentstore.session_ref"

// listPageSize is the page size used to walk agentstore.list_sessions
// (a variable so that tests can cross page boundaries).
var listPageSize = 500

// Summarizer is the part of trpc-agent-go's summary.SessionSummarizer that
// the service uses; any summary.SessionSummarizer satisfies it.
type Summarizer interface {
	ShouldSummarize(sess *session.Session) bool
	Summarize(ctx context.Context, sess *session.Session) (string, error)
}

// dbtx is what the service sends its statements through: the pool, or a
// transaction in the tests that look at what one statement called.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Option configures a Service.
type Option func(*Service)

// WithSessionTTL sets the TTL given to sessions this service creates (sliding:
// every write moves expires_at to now() + ttl).  0 uses agentstore.session_ttl.
func WithSessionTTL(ttl time.Duration) Option { return func(s *Service) { s.sessionTTL = ttl } }

// WithAppStateTTL sets the TTL of app state written by this service.
func WithAppStateTTL(ttl time.Duration) Option { return func(s *Service) { s.appStateTTL = ttl } }

// WithUserStateTTL sets the TTL of user state written by this service.
func WithUserStateTTL(ttl time.Duration) Option { return func(s *Service) { s.userStateTTL = ttl } }

// WithHardDelete makes DeleteSession remove rows instead of stamping
// deleted_at (the default, like trpc-agent-go's Postgres service).
func WithHardDelete(hard bool) Option { return func(s *Service) { s.hardDelete = hard } }

// WithSummarizer sets the summarizer used by CreateSessionSummary and
// EnqueueSummaryJob.  Without one they do nothing, as in the framework.
func WithSummarizer(sum Summarizer) Option { return func(s *Service) { s.summarizer = sum } }

// WithAppendEventHook adds AppendEvent hooks (session.AppendEventHook),
// run in order around the write as the framework's services run them: a
// hook calls next() to go on, or returns without calling it to skip the
// write.
func WithAppendEventHook(hooks ...session.AppendEventHook) Option {
	return func(s *Service) { s.appendHooks = append(s.appendHooks, hooks...) }
}

// WithGetSessionHook adds GetSession hooks (session.GetSessionHook), run in
// order around the read: a hook calls next() to read the session and may
// change or replace what it returns.
func WithGetSessionHook(hooks ...session.GetSessionHook) Option {
	return func(s *Service) { s.getHooks = append(s.getHooks, hooks...) }
}

// Service implements session.Service (and session.TrackService and
// session.WindowService) on agentstore.
type Service struct {
	pool         *pgxpool.Pool
	db           dbtx // the pool (a transaction in tests)
	ownPool      bool
	sessionTTL   time.Duration
	appStateTTL  time.Duration
	userStateTTL time.Duration
	hardDelete   bool
	summarizer   Summarizer
	appendHooks  []session.AppendEventHook
	getHooks     []session.GetSessionHook
}

var (
	_ session.Service       = (*Service)(nil)
	_ session.TrackService  = (*Service)(nil)
	_ session.WindowService = (*Service)(nil)
)

// NewService returns a Service using pool; Close does not close pool.
func NewService(pool *pgxpool.Pool, opts ...Option) *Service {
	s := &Service{pool: pool, db: pool}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Connect opens a pool on connString and returns a Service owning it.
func Connect(ctx context.Context, connString string, opts ...Option) (*Service, error) {
	pool, err := pgxpool.New(ctx, connString)
	if err != nil {
		return nil, err
	}
	s := NewService(pool, opts...)
	s.ownPool = true
	return s, nil
}

// Close closes the pool if the service opened it.
func (s *Service) Close() error {
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

// ---------------------------------------------------------------- conversions

// ttlArg is NULL for 0 (the server's setting) and the duration otherwise.
func ttlArg(d time.Duration) any {
	if d <= 0 {
		return nil
	}
	return d
}

// encodeState turns a StateMap into a JSON object whose values are the
// base64 text of the bytes (as encoding/json writes []byte; the framework's
// own Postgres service stores them the same way), null for nil.
func encodeState(state session.StateMap) ([]byte, error) {
	if state == nil {
		state = session.StateMap{}
	}
	return json.Marshal(map[string][]byte(state))
}

// decodeValue reverses encodeState for one value.  A value that is not a
// base64 string (written by other clients, e.g. in SQL) is returned as its
// JSON text.
func decodeValue(raw json.RawMessage) []byte {
	if string(raw) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			return b
		}
	}
	out := make([]byte, len(raw))
	copy(out, raw)
	return out
}

func decodeState(raw map[string]json.RawMessage) session.StateMap {
	out := make(session.StateMap, len(raw))
	for k, v := range raw {
		out[k] = decodeValue(v)
	}
	return out
}

// sessionDoc is agentstore.get_session's document.
type sessionDoc struct {
	ID        int64                      `json:"id"`
	AppName   string                     `json:"app_name"`
	UserID    string                     `json:"user_id"`
	SessionID string                     `json:"session_id"`
	State     map[string]json.RawMessage `json:"state"`
	Events    []event.Event              `json:"events"` // decoded in the same pass as the document
	Summaries map[string]struct {
		Summary   json.RawMessage `json:"summary"`
		UpdatedAt time.Time       `json:"updated_at"`
	} `json:"summaries"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// toSession builds the framework's session (with its constructor) from a
// get_session document.
func (d *sessionDoc) toSession() (*session.Session, error) {
	events := d.Events
	if events == nil {
		events = []event.Event{}
	}
	summaries := make(map[string]*session.Summary, len(d.Summaries))
	for k, v := range d.Summaries {
		var sum session.Summary
		if err := json.Unmarshal(v.Summary, &sum); err != nil {
			return nil, fmt.Errorf("agentstore: decode summary: %w", err)
		}
		summaries[k] = &sum
	}
	sess := session.NewSession(d.AppName, d.UserID, d.SessionID,
		session.WithSessionState(decodeState(d.State)),
		session.WithSessionEvents(events),
		session.WithSessionSummaries(summaries),
		session.WithSessionCreatedAt(d.CreatedAt),
		session.WithSessionUpdatedAt(d.UpdatedAt),
	)
	sess.ServiceMeta = map[string]string{serviceMetaRef: strconv.FormatInt(d.ID, 10)}
	return sess, nil
}

// sessionRef is the incarnation id a session object was read from, or nil.
func sessionRef(sess *session.Session) any {
	if sess == nil || sess.ServiceMeta == nil {
		return nil
	}
	if v, ok := sess.ServiceMeta[serviceMetaRef]; ok {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			return id
		}
	}
	return nil
}

// windowArgs maps the framework's EventNum/EventTime onto get_session's
// num_recent_events/after (NULL: the server's default limit, no time bound).
func windowArgs(opt *session.Options) (any, any) {
	var num, after any
	if opt.EventNum > 0 {
		num = int32(opt.EventNum)
	}
	if !opt.EventTime.IsZero() {
		after = opt.EventTime
	}
	return num, after
}

func applyOptions(opts []session.Option) *session.Options {
	o := &session.Options{}
	for _, f := range opts {
		f(o)
	}
	return o
}

// ------------------------------------------------------------------- sessions

// CreateSession creates a session (agentstore.create_session; an empty
// SessionID lets the server choose one) and returns it with app and user
// state overlaid, in one statement.
func (s *Service) CreateSession(ctx context.Context, key session.Key, state session.StateMap, _ ...session.Option) (*session.Session, error) {
	if err := key.CheckUserKey(); err != nil {
		return nil, err
	}
	st, err := encodeState(state)
	if err != nil {
		return nil, err
	}
	var sid any
	if key.SessionID != "" {
		sid = key.SessionID
	}
	var doc []byte
	err = s.db.QueryRow(ctx, `
		SELECT pg_catalog.jsonb_build_object(
		         'id', c.id, 'app_name', c.app_name, 'user_id', c.user_id,
		         'session_id', c.session_id, 'created_at', c.created_at,
		         'updated_at', c.updated_at,
		         'state', c.state
		           OPERATOR(pg_catalog.||) coalesce((SELECT pg_catalog.jsonb_object_agg('app:' OPERATOR(pg_catalog.||) a.key, a.value)
		                         FROM pg_catalog.jsonb_each(agentstore.list_app_state($1)) a), '{}')
		           OPERATOR(pg_catalog.||) coalesce((SELECT pg_catalog.jsonb_object_agg('user:' OPERATOR(pg_catalog.||) u.key, u.value)
		                         FROM pg_catalog.jsonb_each(agentstore.list_user_state($1, $2)) u), '{}'))
		  FROM agentstore.create_session($1, $2, $3, $4::jsonb, $5::interval) c`,
		key.AppName, key.UserID, sid, st, ttlArg(s.sessionTTL)).Scan(&doc)
	if err != nil {
		return nil, fmt.Errorf("agentstore: create session: %w", err)
	}
	var d sessionDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("agentstore: decode session: %w", err)
	}
	overlayRoutedState(d.State, state)
	return d.toSession()
}

// overlayRoutedState applies the app: and user: keys of a created session's
// initial state to the state read back: the list_app_state and
// list_user_state calls of create's statement read its snapshot, from before
// create_session wrote those keys.  A nil value removes the key, as the
// server does with it.
func overlayRoutedState(doc map[string]json.RawMessage, given session.StateMap) {
	for k, v := range given {
		if !strings.HasPrefix(k, session.StateAppPrefix) && !strings.HasPrefix(k, session.StateUserPrefix) {
			continue
		}
		if v == nil {
			delete(doc, k)
			continue
		}
		raw, _ := json.Marshal(v) // a []byte: its base64 string, as encodeState writes it
		doc[k] = raw
	}
}

// GetSession reads the session with its last events (agentstore.get_session)
// and applies the framework's own window rule (ApplyEventFiltering: the
// window starts at a user message); with WithGetSessionEventPage, the page
// of events instead, unfiltered, as trpc-agent-go's Postgres service returns
// it.  nil, nil when there is no such session.
func (s *Service) GetSession(ctx context.Context, key session.Key, opts ...session.Option) (*session.Session, error) {
	if err := key.CheckSessionKey(); err != nil {
		return nil, err
	}
	opt := applyOptions(opts)
	if err := session.ValidateGetSessionOptions(opt, true); err != nil {
		return nil, err
	}
	if len(s.getHooks) == 0 {
		return s.getSession(ctx, key, opt)
	}
	hctx := &session.GetSessionContext{Context: ctx, Key: key, Options: opt}
	var run func(i int) (*session.Session, error)
	run = func(i int) (*session.Session, error) {
		if i == len(s.getHooks) {
			return s.getSession(hctx.Context, hctx.Key, hctx.Options)
		}
		return s.getHooks[i](hctx, func() (*session.Session, error) { return run(i + 1) })
	}
	return run(0)
}

// getSession is GetSession past its argument checks and hooks.
func (s *Service) getSession(ctx context.Context, key session.Key, opt *session.Options) (*session.Session, error) {
	num, after := windowArgs(opt)
	// WithGetSessionEventPage: get_session without events, and the page
	// (offset and limit counted from the newest event, returned oldest
	// first, as trpc-agent-go's Postgres service pages) read from the
	// session's stream in the same statement.
	var page, offset, limit any
	if p := opt.EventPage; p != nil {
		page, offset, limit = true, int64(p.Offset), int64(p.Limit)
	}
	// The session and the events of the tracks its state indexes (the
	// framework's "tracks" key, a base64 JSON list), in one statement.
	var doc, tracks []byte
	// get_session is called in FROM (a function in a flattened subquery
	// would be evaluated once per reference), its document completed in a
	// materialized CTE that the columns share.
	err := s.db.QueryRow(ctx, `
		WITH g AS MATERIALIZED (
		  SELECT CASE WHEN $6::boolean IS NULL THEN s.doc
		              ELSE s.doc OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('events', coalesce((
		                     SELECT pg_catalog.jsonb_agg(w.data ORDER BY w.version)
		                       FROM (SELECT e.version, e.data FROM agentstore.events e
		                              WHERE e.stream OPERATOR(pg_catalog.=)
		                                    ('session-' OPERATOR(pg_catalog.||) (s.doc OPERATOR(pg_catalog.->>) 'id'))
		                                AND e.deleted_at IS NULL
		                              ORDER BY e.version DESC OFFSET $7::bigint LIMIT $8::bigint) w), '[]'))
		         END AS doc
		    FROM agentstore.get_session($1, $2, $3,
		           CASE WHEN $6::boolean IS NULL THEN $4::integer ELSE 0 END, $5::timestamptz) AS s(doc))
		SELECT g.doc,
		       (SELECT pg_catalog.jsonb_object_agg(t.track, agentstore.get_track_events($1, $2, $3, t.track, $4::integer, $5::timestamptz))
		          FROM pg_catalog.jsonb_array_elements_text(pg_catalog.convert_from(pg_catalog.decode(
		                 g.doc OPERATOR(pg_catalog.->) 'state' OPERATOR(pg_catalog.->>) 'tracks', 'base64'), 'UTF8')::jsonb) AS t(track))
		  FROM g`,
		key.AppName, key.UserID, key.SessionID, num, after, page, offset, limit).Scan(&doc, &tracks)
	if err != nil {
		return nil, fmt.Errorf("agentstore: get session: %w", err)
	}
	if doc == nil {
		return nil, nil
	}
	var d sessionDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("agentstore: decode session: %w", err)
	}
	sess, err := d.toSession()
	if err != nil {
		return nil, err
	}
	if tracks != nil {
		var byTrack map[session.Track][]session.TrackEvent
		if err := json.Unmarshal(tracks, &byTrack); err != nil {
			return nil, fmt.Errorf("agentstore: decode track events: %w", err)
		}
		sess.Tracks = make(map[session.Track]*session.TrackEvents, len(byTrack))
		for tr, evs := range byTrack {
			compactPayloads(evs)
			sess.Tracks[tr] = &session.TrackEvents{Track: tr, Events: evs}
		}
	}
	if opt.EventPage == nil {
		sess.ApplyEventFiltering(session.WithEventNum(opt.EventNum), session.WithEventTime(opt.EventTime))
	}
	return sess, nil
}

// ListSessions returns the user's sessions, newest-updated first, each as
// GetSession would (one statement per page of agentstore.list_sessions).
// WithListSessionOnlyMeta reads no events; WithListSessionPage reads only
// the sessions of the page (offset and limit in that order).
func (s *Service) ListSessions(ctx context.Context, userKey session.UserKey, opts ...session.Option) ([]*session.Session, error) {
	if err := userKey.CheckUserKey(); err != nil {
		return nil, err
	}
	opt := applyOptions(opts)
	if err := session.ValidateListSessionsOptions(opt); err != nil {
		return nil, err
	}
	num, after := windowArgs(opt)
	if opt.ListSessionOnlyMeta {
		num, after = int32(0), nil
	}
	// Only the sessions in [lo, hi) of the listing order are read with
	// their events (WithListSessionPage); the listing itself is keyset-paged.
	lo, hi := int64(0), int64(math.MaxInt64)
	if p := opt.ListSessionPage; p != nil {
		lo, hi = int64(p.Offset), int64(p.Offset)+int64(p.Limit)
	}
	out := []*session.Session{}
	var token any
	for seen := int64(0); seen < hi; {
		var next *string
		var listed int64
		var docs []byte
		// list_sessions and each get_session are called in FROM, so that
		// each is evaluated once.
		err := s.db.QueryRow(ctx, `
			SELECT l.doc OPERATOR(pg_catalog.->>) 'next_page_token',
			       pg_catalog.jsonb_array_length(l.doc OPERATOR(pg_catalog.->) 'sessions'),
			       (SELECT pg_catalog.jsonb_agg(g.doc ORDER BY e.ord)
			          FROM pg_catalog.jsonb_array_elements(l.doc OPERATOR(pg_catalog.->) 'sessions') WITH ORDINALITY AS e(s, ord),
			               LATERAL agentstore.get_session($1, $2, e.s OPERATOR(pg_catalog.->>) 'session_id',
			                                              $5::integer, $6::timestamptz) AS g(doc)
			         WHERE e.ord OPERATOR(pg_catalog.>) $7::bigint AND e.ord OPERATOR(pg_catalog.<=) $8::bigint)
			  FROM agentstore.list_sessions($1, $2, $3, $4) AS l(doc)`,
			userKey.AppName, userKey.UserID, int32(listPageSize), token, num, after,
			lo-seen, sat(hi, seen)).Scan(&next, &listed, &docs)
		if err != nil {
			return nil, fmt.Errorf("agentstore: list sessions: %w", err)
		}
		var page []*sessionDoc
		if docs != nil {
			if err := json.Unmarshal(docs, &page); err != nil {
				return nil, fmt.Errorf("agentstore: decode sessions: %w", err)
			}
		}
		for _, d := range page {
			if d == nil { // deleted between the listing and the read
				continue
			}
			sess, err := d.toSession()
			if err != nil {
				return nil, err
			}
			if !opt.ListSessionOnlyMeta {
				sess.ApplyEventFiltering(session.WithEventNum(opt.EventNum), session.WithEventTime(opt.EventTime))
			}
			out = append(out, sess)
		}
		seen += listed
		if next == nil {
			break
		}
		token = *next
	}
	return out, nil
}

// sat is hi - seen, or MaxInt64 when hi is unbounded.
func sat(hi, seen int64) int64 {
	if hi == math.MaxInt64 {
		return hi
	}
	return hi - seen
}

// DeleteSession deletes the session with its events, track events and
// summaries (agentstore.delete_session); deleting an absent session is not
// an error.
func (s *Service) DeleteSession(ctx context.Context, key session.Key, _ ...session.Option) error {
	if err := key.CheckSessionKey(); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, `SELECT agentstore.delete_session($1, $2, $3, $4)`,
		key.AppName, key.UserID, key.SessionID, s.hardDelete)
	if err != nil {
		return fmt.Errorf("agentstore: delete session: %w", err)
	}
	return nil
}

// ------------------------------------------------------------ app/user state

// UpdateAppState sets every key of state (an "app:" prefix is stripped, as
// the framework does) in one statement.
func (s *Service) UpdateAppState(ctx context.Context, appName string, state session.StateMap) error {
	if appName == "" {
		return session.ErrAppNameRequired
	}
	trimmed := make(session.StateMap, len(state))
	for k, v := range state {
		trimmed[strings.TrimPrefix(k, session.StateAppPrefix)] = v
	}
	st, err := encodeState(trimmed)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `SELECT agentstore.set_app_state($1, e.key, e.value, $3::interval)
		FROM pg_catalog.jsonb_each($2::jsonb) e`, appName, st, ttlArg(s.appStateTTL))
	if err != nil {
		return fmt.Errorf("agentstore: update app state: %w", err)
	}
	return nil
}

// DeleteAppState deletes one app state key.
func (s *Service) DeleteAppState(ctx context.Context, appName string, key string) error {
	if appName == "" {
		return session.ErrAppNameRequired
	}
	_, err := s.db.Exec(ctx, `SELECT agentstore.delete_app_state($1, $2)`,
		appName, strings.TrimPrefix(key, session.StateAppPrefix))
	if err != nil {
		return fmt.Errorf("agentstore: delete app state: %w", err)
	}
	return nil
}

// ListAppStates returns the app's state, keys without prefix.
func (s *Service) ListAppStates(ctx context.Context, appName string) (session.StateMap, error) {
	if appName == "" {
		return nil, session.ErrAppNameRequired
	}
	return s.readState(ctx, `SELECT agentstore.list_app_state($1)`, appName)
}

// UpdateUserState sets every key of state ("user:" stripped; "app:" and
// "temp:" keys refused, as the framework does) in one statement.
func (s *Service) UpdateUserState(ctx context.Context, userKey session.UserKey, state session.StateMap) error {
	if err := userKey.CheckUserKey(); err != nil {
		return err
	}
	trimmed := make(session.StateMap, len(state))
	for k, v := range state {
		if strings.HasPrefix(k, session.StateAppPrefix) || strings.HasPrefix(k, session.StateTempPrefix) {
			return fmt.Errorf("agentstore: update user state: %s is not allowed", k)
		}
		trimmed[strings.TrimPrefix(k, session.StateUserPrefix)] = v
	}
	st, err := encodeState(trimmed)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `SELECT agentstore.set_user_state($1, $2, e.key, e.value, $4::interval)
		FROM pg_catalog.jsonb_each($3::jsonb) e`, userKey.AppName, userKey.UserID, st, ttlArg(s.userStateTTL))
	if err != nil {
		return fmt.Errorf("agentstore: update user state: %w", err)
	}
	return nil
}

// ListUserStates returns the user's state, keys without prefix.
func (s *Service) ListUserStates(ctx context.Context, userKey session.UserKey) (session.StateMap, error) {
	if err := userKey.CheckUserKey(); err != nil {
		return nil, err
	}
	return s.readState(ctx, `SELECT agentstore.list_user_state($1, $2)`, userKey.AppName, userKey.UserID)
}

// DeleteUserState deletes one user state key.
func (s *Service) DeleteUserState(ctx context.Context, userKey session.UserKey, key string) error {
	if err := userKey.CheckUserKey(); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, `SELECT agentstore.delete_user_state($1, $2, $3)`,
		userKey.AppName, userKey.UserID, strings.TrimPrefix(key, session.StateUserPrefix))
	if err != nil {
		return fmt.Errorf("agentstore: delete user state: %w", err)
	}
	return nil
}

func (s *Service) readState(ctx context.Context, sql string, args ...any) (session.StateMap, error) {
	var doc []byte
	if err := s.db.QueryRow(ctx, sql, args...).Scan(&doc); err != nil {
		return nil, fmt.Errorf("agentstore: read state: %w", err)
	}
	raw := map[string]json.RawMessage{}
	if doc != nil {
		if err := json.Unmarshal(doc, &raw); err != nil {
			return nil, err
		}
	}
	return decodeState(raw), nil
}

// UpdateSessionState merges state into the session's own state
// (agentstore.update_session_state).  "app:" and "user:" keys are refused
// before anything is sent, as the framework does.
func (s *Service) UpdateSessionState(ctx context.Context, key session.Key, state session.StateMap) error {
	if err := key.CheckSessionKey(); err != nil {
		return err
	}
	for k := range state {
		if strings.HasPrefix(k, session.StateAppPrefix) {
			return fmt.Errorf("agentstore: update session state: %s is not allowed, use UpdateAppState instead", k)
		}
		if strings.HasPrefix(k, session.StateUserPrefix) {
			return fmt.Errorf("agentstore: update session state: %s is not allowed, use UpdateUserState instead", k)
		}
	}
	st, err := encodeState(state)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `SELECT agentstore.update_session_state($1, $2, $3, $4::jsonb)`,
		key.AppName, key.UserID, key.SessionID, st)
	if err != nil {
		return fmt.Errorf("agentstore: update session state: %w", err)
	}
	return nil
}

// --------------------------------------------------------------------- events

// storable is the framework's rule for which events are kept: a complete
// response with valid content.  Other events only carry their state delta.
func storable(e *event.Event) bool {
	return e.Response != nil && !e.IsPartial && e.IsValidContent()
}

// AppendEvent updates the in-memory session as the framework does, then
// writes the event, its state delta and the sliding TTL in one call
// (agentstore.append_event; for an event the framework does not keep,
// agentstore.update_session_state with its delta).  The session's
// incarnation id is passed as session_ref, so that an object read before the
// key was deleted and created again fails (SQLSTATE SV002) instead of
// writing into the new session.
func (s *Service) AppendEvent(ctx context.Context, sess *session.Session, e *event.Event, opts ...session.Option) error {
	if sess == nil {
		return session.ErrNilSession
	}
	key := session.Key{AppName: sess.AppName, UserID: sess.UserID, SessionID: sess.ID}
	if err := key.CheckSessionKey(); err != nil {
		return err
	}
	if e == nil {
		return errors.New("agentstore: append event: event is nil")
	}
	if len(s.appendHooks) == 0 {
		return s.appendEvent(ctx, sess, e, key, opts...)
	}
	hctx := &session.AppendEventContext{Context: ctx, Session: sess, Event: e, Key: key}
	var run func(i int) error
	run = func(i int) error {
		if i == len(s.appendHooks) {
			return s.appendEvent(hctx.Context, hctx.Session, hctx.Event, hctx.Key, opts...)
		}
		return s.appendHooks[i](hctx, func() error { return run(i + 1) })
	}
	return run(0)
}

// appendEvent is AppendEvent past its argument checks and hooks.
func (s *Service) appendEvent(ctx context.Context, sess *session.Session, e *event.Event, key session.Key, opts ...session.Option) error {
	if sess == nil {
		return session.ErrNilSession
	}
	if e == nil {
		return errors.New("agentstore: append event: event is nil")
	}
	sess.UpdateUserSession(e, opts...)

	var delta []byte
	if len(e.StateDelta) > 0 {
		var err error
		if delta, err = encodeState(e.StateDelta); err != nil {
			return err
		}
	}
	var err error
	if storable(e) {
		var doc []byte
		if doc, err = json.Marshal(e); err != nil {
			return fmt.Errorf("agentstore: append event: %w", err)
		}
		if e.ID == "" { // the extension refuses an empty id; no id: no retry check
			var m map[string]json.RawMessage
			if err = json.Unmarshal(doc, &m); err != nil {
				return err
			}
			delete(m, "id")
			if doc, err = json.Marshal(m); err != nil {
				return err
			}
		}
		_, err = s.db.Exec(ctx, `SELECT FROM agentstore.append_event($1, $2, $3, $4::jsonb, $5::jsonb, session_ref => $6::bigint)`,
			key.AppName, key.UserID, key.SessionID, doc, delta, sessionRef(sess))
	} else {
		if delta == nil {
			delta = []byte("{}")
		}
		_, err = s.db.Exec(ctx, `SELECT agentstore.update_session_state($1, $2, $3, $4::jsonb, $5::bigint)`,
			key.AppName, key.UserID, key.SessionID, delta, sessionRef(sess))
	}
	if err != nil {
		return fmt.Errorf("agentstore: append event: %w", err)
	}
	return nil
}

// ------------------------------------------------------------------ summaries

// CreateSessionSummary asks the configured summarizer for a summary of sess
// (unless force is false and the summarizer says it is not due), stores it on
// sess and in agentstore (put_session_summary, one call).  Without a
// summarizer it does nothing, as the framework's services do.
func (s *Service) CreateSessionSummary(ctx context.Context, sess *session.Session, filterKey string, force bool) error {
	if s.summarizer == nil {
		return nil
	}
	if sess == nil {
		return session.ErrNilSession
	}
	key := session.Key{AppName: sess.AppName, UserID: sess.UserID, SessionID: sess.ID}
	if err := key.CheckSessionKey(); err != nil {
		return err
	}
	if !force && !s.summarizer.ShouldSummarize(sess) {
		return nil
	}
	text, err := s.summarizer.Summarize(ctx, sess)
	if err != nil {
		return err
	}
	sum := &session.Summary{Summary: text, UpdatedAt: time.Now().UTC()}
	doc, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `SELECT agentstore.put_session_summary($1, $2, $3, $4::jsonb, $5, $6::bigint)`,
		key.AppName, key.UserID, key.SessionID, doc, filterKey, sessionRef(sess))
	if err != nil {
		return fmt.Errorf("agentstore: put session summary: %w", err)
	}
	sess.SummariesMu.Lock()
	if sess.Summaries == nil {
		sess.Summaries = map[string]*session.Summary{}
	}
	sess.Summaries[filterKey] = sum
	sess.SummariesMu.Unlock()
	return nil
}

// EnqueueSummaryJob runs CreateSessionSummary synchronously (the fallback
// the framework documents when no async worker is running).
func (s *Service) EnqueueSummaryJob(ctx context.Context, sess *session.Session, filterKey string, force bool) error {
	return s.CreateSessionSummary(ctx, sess, filterKey, force)
}

// GetSessionSummaryText returns the summary of the requested filter key
// held by sess (read with it by GetSession); when sess holds none, it asks
// agentstore (get_session_summary, which falls back to the whole-session
// summary).
func (s *Service) GetSessionSummaryText(ctx context.Context, sess *session.Session, opts ...session.SummaryOption) (string, bool) {
	if sess == nil {
		return "", false
	}
	key := session.Key{AppName: sess.AppName, UserID: sess.UserID, SessionID: sess.ID}
	if key.CheckSessionKey() != nil {
		return "", false
	}
	o := &session.SummaryOptions{}
	for _, f := range opts {
		f(o)
	}
	sess.SummariesMu.RLock()
	sum := sess.Summaries[o.FilterKey]
	if sum == nil {
		sum = sess.Summaries[session.SummaryFilterKeyAllContents]
	}
	sess.SummariesMu.RUnlock()
	if sum != nil && sum.Summary != "" {
		return sum.Summary, true
	}
	var doc []byte
	err := s.db.QueryRow(ctx, `SELECT agentstore.get_session_summary($1, $2, $3, $4)`,
		key.AppName, key.UserID, key.SessionID, o.FilterKey).Scan(&doc)
	if err != nil || doc == nil {
		return "", false
	}
	var stored session.Summary
	if json.Unmarshal(doc, &stored) != nil || stored.Summary == "" {
		var wrapped struct {
			Summary session.Summary `json:"summary"`
		}
		if json.Unmarshal(doc, &wrapped) != nil || wrapped.Summary.Summary == "" {
			return "", false
		}
		stored = wrapped.Summary
	}
	return stored.Summary, true
}

// --------------------------------------------------------------- track events

// AppendTrackEvent updates the in-memory session as the framework does
// (the event, and the track in the state's "tracks" index), then writes the
// event to the track (agentstore.append_track_event, sliding the session's
// TTL) and the index to the session state, in one statement.
func (s *Service) AppendTrackEvent(ctx context.Context, sess *session.Session, e *session.TrackEvent, opts ...session.Option) error {
	if sess == nil {
		return session.ErrNilSession
	}
	key := session.Key{AppName: sess.AppName, UserID: sess.UserID, SessionID: sess.ID}
	if err := key.CheckSessionKey(); err != nil {
		return err
	}
	if err := sess.AppendTrackEvent(e, opts...); err != nil {
		return fmt.Errorf("agentstore: append track event: %w", err)
	}
	doc, err := json.Marshal(e)
	if err != nil {
		return err
	}
	index, _ := sess.GetState("tracks")
	delta, err := encodeState(session.StateMap{"tracks": index})
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `
		SELECT FROM agentstore.append_track_event($1, $2, $3, $4, $5::jsonb, session_ref => $7::bigint) a,
		            agentstore.update_session_state($1, $2, $3, $6::jsonb, $7::bigint) u`,
		key.AppName, key.UserID, key.SessionID, string(e.Track), doc, delta, sessionRef(sess))
	if err != nil {
		return fmt.Errorf("agentstore: append track event: %w", err)
	}
	return nil
}

// GetTrackEvents returns a track's events (agentstore.get_track_events,
// with the EventNum/EventTime window); an empty track for an absent
// session or track, as the framework's services do.
func (s *Service) GetTrackEvents(ctx context.Context, key session.Key, track session.Track, opts ...session.Option) (*session.TrackEvents, error) {
	if err := key.CheckSessionKey(); err != nil {
		return nil, err
	}
	num, after := windowArgs(applyOptions(opts))
	var doc []byte
	if err := s.db.QueryRow(ctx, `SELECT agentstore.get_track_events($1, $2, $3, $4, $5::integer, $6::timestamptz)`,
		key.AppName, key.UserID, key.SessionID, string(track), num, after).Scan(&doc); err != nil {
		return nil, fmt.Errorf("agentstore: get track events: %w", err)
	}
	out := &session.TrackEvents{Track: track}
	if doc != nil {
		if err := json.Unmarshal(doc, &out.Events); err != nil {
			return nil, fmt.Errorf("agentstore: decode track events: %w", err)
		}
	}
	if len(out.Events) == 0 {
		out.Events = nil
	}
	compactPayloads(out.Events)
	return out, nil
}

// compactPayloads removes the whitespace jsonb output adds to payloads
// (jsonb also orders object keys its own way: payloads come back as
// equivalent JSON, not byte for byte).
func compactPayloads(evs []session.TrackEvent) {
	for i := range evs {
		var b bytes.Buffer
		if json.Compact(&b, evs[i].Payload) == nil {
			evs[i].Payload = b.Bytes()
		}
	}
}

// ---------------------------------------------------------------- event window

// windowEvent is the SQL test of the framework's window rule for one event
// row e of the session's stream (session/internal/window EventAllowed): a complete response whose
// first choice's message has no tool calls, a user, assistant or tool role
// (no role: assistant; a tool id: tool) and some text (content, else the text
// content parts).  $5 is the role filter (NULL: any).  Whitespace is trimmed
// as ASCII whitespace (Go's strings.TrimSpace also trims Unicode spaces).
const windowEvent = `
	e.deleted_at IS NULL
	AND pg_catalog.jsonb_typeof(e.data OPERATOR(pg_catalog.->) 'choices') OPERATOR(pg_catalog.=) 'array'
	AND pg_catalog.jsonb_array_length(e.data OPERATOR(pg_catalog.->) 'choices') OPERATOR(pg_catalog.>) 0
	AND NOT coalesce((e.data OPERATOR(pg_catalog.->>) 'is_partial')::boolean, false)
	AND coalesce(pg_catalog.jsonb_array_length(
	      CASE pg_catalog.jsonb_typeof(e.data OPERATOR(pg_catalog.#>) '{choices,0,message,tool_calls}') WHEN 'array'
	      THEN e.data OPERATOR(pg_catalog.#>) '{choices,0,message,tool_calls}' END), 0) OPERATOR(pg_catalog.=) 0
	AND (CASE WHEN coalesce(e.data OPERATOR(pg_catalog.#>>) '{choices,0,message,tool_id}', '') OPERATOR(pg_catalog.<>) ''
	            OR e.data OPERATOR(pg_catalog.#>>) '{choices,0,message,role}' OPERATOR(pg_catalog.=) 'tool' THEN 'tool'
	          WHEN coalesce(e.data OPERATOR(pg_catalog.#>>) '{choices,0,message,role}', '') OPERATOR(pg_catalog.=) '' THEN 'assistant'
	          ELSE e.data OPERATOR(pg_catalog.#>>) '{choices,0,message,role}' END)
	    OPERATOR(pg_catalog.=) ANY (coalesce($5::text[], '{user,assistant,tool}'))
	AND (pg_catalog.btrim(coalesce(e.data OPERATOR(pg_catalog.#>>) '{choices,0,message,content}', ''), E' \t\n\r\f\v') OPERATOR(pg_catalog.<>) ''
	     OR EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(
	                  CASE pg_catalog.jsonb_typeof(e.data OPERATOR(pg_catalog.#>) '{choices,0,message,content_parts}') WHEN 'array'
	                  THEN e.data OPERATOR(pg_catalog.#>) '{choices,0,message,content_parts}' ELSE '[]' END) p
	                 WHERE pg_catalog.btrim(coalesce(p OPERATOR(pg_catalog.->>) 'text', ''), E' \t\n\r\f\v') OPERATOR(pg_catalog.<>) ''))`

// GetEventWindow returns the anchor event and up to Before/After events
// around it that pass the framework's window rule (and the role filter), in
// stream order, with the time agentstore stored each one (one statement:
// the anchor through the session stream's event-id index, its neighbours
// through the version index).  An anchor that is absent, or does not pass
// the rule, is session.ErrEventWindowAnchorNotFound, as in the framework.
func (s *Service) GetEventWindow(ctx context.Context, req session.EventWindowRequest) (*session.EventWindow, error) {
	if err := req.Key.CheckSessionKey(); err != nil {
		return nil, err
	}
	anchorID := strings.TrimSpace(req.AnchorEventID)
	if anchorID == "" {
		return nil, fmt.Errorf("anchor event id is required")
	}
	if req.Before < 0 || req.After < 0 {
		return nil, fmt.Errorf("event window requires before >= 0 and after >= 0")
	}
	var roles []string
	for _, r := range req.Roles {
		if t := strings.TrimSpace(string(r)); t != "" {
			roles = append(roles, t)
		}
	}
	var doc []byte
	// The neighbours are read in LATERAL subqueries keyed by the anchor's
	// stream and version, so that each walks the primary key from the
	// anchor and stops at its limit.
	err := s.db.QueryRow(ctx, `
		WITH a AS (
		  SELECT e.stream, e.version, e.data, e.created_at
		    FROM agentstore.sessions s, agentstore.events e
		   WHERE s.app_name OPERATOR(pg_catalog.=) $1 AND s.user_id OPERATOR(pg_catalog.=) $2
		     AND s.session_id OPERATOR(pg_catalog.=) $3 AND s.deleted_at IS NULL
		     AND (s.expires_at IS NULL OR s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())
		     AND e.stream OPERATOR(pg_catalog.=) ('session-' OPERATOR(pg_catalog.||) s.id)
		     AND e.event_id OPERATOR(pg_catalog.=) $4 AND `+windowEvent+`)
		SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('event', w.data, 'created_at', w.created_at) ORDER BY w.version)
		  FROM (SELECT a.version, a.data, a.created_at FROM a
		        UNION ALL
		        SELECT b.* FROM a, LATERAL (
		          SELECT e.version, e.data, e.created_at FROM agentstore.events e
		           WHERE e.stream OPERATOR(pg_catalog.=) a.stream AND e.version OPERATOR(pg_catalog.<) a.version
		             AND `+windowEvent+`
		           ORDER BY e.stream DESC, e.version DESC LIMIT $6) b
		        UNION ALL
		        SELECT f.* FROM a, LATERAL (
		          SELECT e.version, e.data, e.created_at FROM agentstore.events e
		           WHERE e.stream OPERATOR(pg_catalog.=) a.stream AND e.version OPERATOR(pg_catalog.>) a.version
		             AND `+windowEvent+`
		           ORDER BY e.stream, e.version LIMIT $7) f) w
		 WHERE EXISTS (SELECT FROM a)`,
		req.Key.AppName, req.Key.UserID, req.Key.SessionID, anchorID, roles,
		int64(req.Before), int64(req.After)).Scan(&doc)
	if err != nil {
		return nil, fmt.Errorf("agentstore: get event window: %w", err)
	}
	if doc == nil {
		return nil, fmt.Errorf("%w: %s", session.ErrEventWindowAnchorNotFound, anchorID)
	}
	var rows []struct {
		Event     json.RawMessage `json:"event"`
		CreatedAt time.Time       `json:"created_at"`
	}
	if err := json.Unmarshal(doc, &rows); err != nil {
		return nil, err
	}
	out := &session.EventWindow{SessionKey: req.Key, AnchorEventID: anchorID,
		Entries: make([]session.EventWindowEntry, 0, len(rows))}
	for _, r := range rows {
		var e event.Event
		if err := json.Unmarshal(r.Event, &e); err != nil {
			return nil, fmt.Errorf("agentstore: decode event: %w", err)
		}
		out.Entries = append(out.Entries, session.EventWindowEntry{Event: e, CreatedAt: r.CreatedAt})
	}
	return out, nil
}

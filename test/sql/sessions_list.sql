-- agentstore.list_sessions: keyset pagination, newest-updated first, with a
-- tamper-checked page token.
SET client_min_messages = warning;
SET timezone = 'UTC';

-- 25 sessions of u1 and 5 of u2, updated at distinct, known times
INSERT INTO agentstore.sessions (app_name, user_id, session_id, name, created_at, updated_at)
SELECT 'sl-app', CASE WHEN g <= 25 THEN 'u1' ELSE 'u2' END, 's' || g,
       CASE WHEN g % 5 = 0 THEN 'name ' || g END,
       timestamptz '2026-01-01' + g * interval '1 minute',
       timestamptz '2026-01-01' + g * interval '1 minute'
  FROM generate_series(1, 30) g;
-- two with the same updated_at: the id breaks the tie
UPDATE agentstore.sessions SET updated_at = timestamptz '2026-01-01 00:20'
 WHERE app_name = 'sl-app' AND session_id IN ('s19', 's20');

-- page through u1, 10 at a time
CREATE TEMP TABLE pages (page int, doc jsonb);
INSERT INTO pages SELECT 1, agentstore.list_sessions('sl-app', 'u1', 10);
INSERT INTO pages SELECT 2, agentstore.list_sessions('sl-app', 'u1', 10, (SELECT doc->>'next_page_token' FROM pages WHERE page = 1));
INSERT INTO pages SELECT 3, agentstore.list_sessions('sl-app', 'u1', 10, (SELECT doc->>'next_page_token' FROM pages WHERE page = 2));
SELECT page, jsonb_array_length(doc->'sessions') AS n,
       (SELECT string_agg(e->>'session_id', ' ') FROM jsonb_array_elements(doc->'sessions') e) AS sessions,
       doc->'next_page_token' IS NOT NULL AND doc->>'next_page_token' IS NOT NULL AS has_next
  FROM pages ORDER BY page;
-- the token is opaque: base64url, no padding
SELECT doc->>'next_page_token' ~ '^[A-Za-z0-9_-]+$' AS url_safe FROM pages WHERE page = 1;

-- metadata only: no state
SELECT jsonb_pretty((doc->'sessions'->0) - 'id') FROM pages WHERE page = 1;
SELECT e ? 'state' AS has_state, e ? 'name' AS has_name
  FROM pages, jsonb_array_elements(doc->'sessions') e WHERE page = 1 LIMIT 2;

-- stable under concurrent inserts: a new session shows up on page 1, and
-- page 2 read with the old token is unchanged
SELECT created FROM agentstore.create_session('sl-app', 'u1', 'new');
SELECT agentstore.list_sessions('sl-app', 'u1', 10, (SELECT doc->>'next_page_token' FROM pages WHERE page = 1))
     = (SELECT doc FROM pages WHERE page = 2) AS page_2_unchanged;
SELECT agentstore.list_sessions('sl-app', 'u1', 1)->'sessions'->0->>'session_id' AS newest;

-- the whole app, and the defaults (20 per page)
SELECT jsonb_array_length(agentstore.list_sessions('sl-app')->'sessions') AS default_page,
       jsonb_array_length(agentstore.list_sessions('sl-app', NULL, 100)->'sessions') AS whole_app;

-- expired and deleted sessions are not listed
UPDATE agentstore.sessions SET expires_at = now() - interval '1 second'
 WHERE app_name = 'sl-app' AND session_id = 's1';
SELECT agentstore.delete_session('sl-app', 'u1', 's2');
SELECT jsonb_array_length(agentstore.list_sessions('sl-app', 'u1', 100)->'sessions') AS listed;
SELECT agentstore.list_sessions('sl-app', 'nobody') AS empty;

-- a forged, altered, truncated or foreign token is a clear error
SELECT agentstore.list_sessions('sl-app', 'u1', 10, 'AAAA');
SELECT agentstore.list_sessions('sl-app', 'u1', 10, 'not a token!');
SELECT agentstore.list_sessions('sl-app', 'u1', 10, '');
SELECT agentstore.list_sessions('sl-app', 'u1', 10, repeat('A', 100));
-- one character changed
SELECT agentstore.list_sessions('sl-app', 'u1', 10,
       overlay(t placing CASE WHEN substr(t, 5, 1) = 'A' THEN 'B' ELSE 'A' END from 5 for 1))
  FROM (SELECT doc->>'next_page_token' AS t FROM pages WHERE page = 1) x;
-- a token of another listing
SELECT agentstore.list_sessions('sl-app', 'u2', 10, doc->>'next_page_token') FROM pages WHERE page = 1;
SELECT agentstore.list_sessions('sl-app', NULL, 10, doc->>'next_page_token') FROM pages WHERE page = 1;
SELECT agentstore.list_sessions('sl-other', 'u1', 10, doc->>'next_page_token') FROM pages WHERE page = 1;
-- a well-formed token with a position of one's choosing, but no valid MAC
SELECT agentstore.list_sessions('sl-app', 'u1', 10,
       translate(rtrim(encode('\x01'::bytea || int8send(0) || int8send(0) || '\x00000000000000000000000000000000'::bytea, 'base64'), '='), '+/', '-_'));

-- page sizes
SELECT agentstore.list_sessions('sl-app', 'u1', 0);
SELECT agentstore.list_sessions('sl-app', 'u1', -5);
SELECT agentstore.list_sessions('sl-app', 'u1', 10001);
SELECT jsonb_array_length(agentstore.list_sessions('sl-app', 'u1', NULL)->'sessions') AS null_is_default;

-- keys
SELECT agentstore.list_sessions(NULL);
SELECT agentstore.list_sessions('');
SELECT agentstore.list_sessions('sl-app', '');
SELECT agentstore.list_sessions('sl-app', repeat('u', 256));

-- Plans made before a table's first ANALYZE (a new deployment, a bulk load
-- not yet analyzed) still use the key index for exact lookups and each
-- listing's own index: the listing indexes carry a predicate only their
-- listing states.
SELECT current_database() AS origdb \gset
CREATE DATABASE sessions_plans;
\c sessions_plans
SET client_min_messages = warning;
CREATE EXTENSION agentstore;
INSERT INTO agentstore.sessions (app_name, user_id, session_id)
SELECT 'a', 'u', 's' || g FROM generate_series(1, 1000) g;
SELECT reltuples < 0 AS never_analyzed FROM pg_class WHERE oid = 'agentstore.sessions'::regclass;
SET plan_cache_mode = force_generic_plan;
PREPARE lookup(text, text, text) AS
SELECT id FROM agentstore.sessions
 WHERE app_name = $1 AND user_id = $2 AND session_id = $3 AND deleted_at IS NULL;
EXPLAIN (COSTS OFF) EXECUTE lookup('a', 'u', 's1');
PREPARE user_page(text, text) AS
SELECT id FROM agentstore.sessions s
 WHERE s.app_name = $1 AND s.deleted_at IS NULL AND s.user_id = $2 AND s.updated_at <= 'infinity'::timestamptz
 ORDER BY s.updated_at DESC, s.id DESC LIMIT 21;
EXPLAIN (COSTS OFF) EXECUTE user_page('a', 'u');
PREPARE app_page(text) AS
SELECT id FROM agentstore.sessions s
 WHERE s.app_name = $1 AND s.deleted_at IS NULL AND s.created_at <= 'infinity'::timestamptz
 ORDER BY s.updated_at DESC, s.id DESC LIMIT 21;
EXPLAIN (COSTS OFF) EXECUTE app_page('a');
\c :origdb
DROP DATABASE sessions_plans;

-- agentstore.upsert_sessions(jsonb | json): batch upsert of agent-go's
-- session objects.
SET client_min_messages = warning;
SET timezone = 'UTC';
-- Time left until t, to the minute (writes in earlier statements ran a
-- moment ago).
CREATE FUNCTION pg_temp.ttl_left(t timestamptz) RETURNS interval LANGUAGE sql AS $$
	SELECT date_trunc('minute', t - now() + interval '30 seconds')
$$;

-- timestamps written by this run show as 'now'
CREATE TEMP VIEW su AS
SELECT app_name, user_id, session_id, agent_id, team_id, workflow_id, name, metadata, state,
       agent_data, runs, summary,
       CASE WHEN created_at > now() - interval '1 hour' THEN 'now' ELSE created_at::text END AS created_at,
       CASE WHEN updated_at > now() - interval '1 hour' THEN 'now' ELSE updated_at::text END AS updated_at
  FROM agentstore.sessions WHERE app_name LIKE 'su-%' AND deleted_at IS NULL;

-- all 13 fields, both overloads; app_name from the argument
SELECT * FROM agentstore.upsert_sessions('[
  {"session_id": "s1", "agent_id": "a1", "team_id": "t1", "workflow_id": "w1", "user_id": "u1",
   "name": "first", "metadata": {"m": 1}, "state": {"s": 1}, "agent_data": {"model": "x"},
   "runs": [{"run_id": "r1"}], "summary": {"text": "sum"},
   "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z"}
]'::jsonb, false, 'su-app');
SELECT * FROM agentstore.upsert_sessions('[
  {"session_id": "s2", "user_id": "u1", "created_at": 1767225600, "updated_at": 1767312000.5,
   "metadata": "scalar", "runs": [], "summary": null}
]'::json, true, 'su-app');
SELECT * FROM su ORDER BY session_id;

-- on conflict: every field replaced (absent = NULL, state {}), created_at
-- never changes, updated_at now() unless preserve_updated_at
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s1", "user_id": "u1", "name": "renamed",
  "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z"}]'::jsonb, false, 'su-app');
SELECT name, agent_id, state, created_at, updated_at FROM su WHERE session_id = 's1';
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s1", "user_id": "u1", "name": "migrated",
  "updated_at": "2021-06-01T12:00:00+02:00"}]'::json, true, 'su-app');
SELECT name, created_at, updated_at FROM su WHERE session_id = 's1';
-- preserve_updated_at without an updated_at stamps now()
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s1", "user_id": "u1"}]'::jsonb, true, 'su-app');
SELECT updated_at FROM su WHERE session_id = 's1';
-- the row keeps its id, its own TTL and its event count
SELECT count(*) AS incarnations FROM agentstore.sessions WHERE app_name = 'su-app' AND session_id = 's1';

-- a key repeated in a batch: no error, the last occurrence wins, counted once
SELECT * FROM agentstore.upsert_sessions('[
  {"session_id": "dup", "user_id": "u1", "name": "one", "created_at": "2025-01-01T00:00:00Z"},
  {"session_id": "other", "user_id": "u1"},
  {"session_id": "dup", "user_id": "u1", "name": "two", "created_at": "2025-06-06T00:00:00Z"},
  {"session_id": "dup", "user_id": "u1", "name": "three"}
]'::jsonb, false, 'su-app');
SELECT name, created_at FROM su WHERE session_id = 'dup';
-- the same across chunks (agentstore.batch_size = 2): same result, same counts
SET agentstore.batch_size = 2;
SELECT * FROM agentstore.upsert_sessions('[
  {"session_id": "dup2", "user_id": "u1", "name": "one", "created_at": "2025-01-01T00:00:00Z"},
  {"session_id": "other2", "user_id": "u1"},
  {"session_id": "dup2", "user_id": "u1", "name": "two", "created_at": "2025-06-06T00:00:00Z"},
  {"session_id": "other3", "user_id": "u1"},
  {"session_id": "dup2", "user_id": "u1", "name": "three"},
  {"session_id": "s2", "user_id": "u1", "name": "existing"},
  {"session_id": "s2", "user_id": "u1", "name": "existing again"}
]'::json, false, 'su-app');
RESET agentstore.batch_size;
SELECT session_id, name, created_at FROM su WHERE session_id IN ('dup2', 's2') ORDER BY 1;

-- app_name: an element's own field wins over the argument; the argument's
-- default is 'default'; with a NULL argument every element needs one
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "a", "user_id": "u", "app_name": "su-other"},
                                           {"session_id": "a", "user_id": "u"}]'::jsonb, false, 'su-app');
SELECT app_name, session_id FROM su WHERE session_id = 'a' ORDER BY 1;
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "su-default-app", "user_id": "u"}]'::jsonb);
SELECT app_name FROM agentstore.sessions WHERE session_id = 'su-default-app';
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u"}]'::jsonb, false, NULL);
-- unknown fields are ignored; keys are the (app_name, user_id, session_id) of active sessions
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s1", "user_id": "u2", "extra": {"ignored": true}}]'::jsonb, false, 'su-app');
SELECT user_id, name FROM su WHERE session_id = 's1' ORDER BY 1;
-- a soft-deleted session is not revived: a new incarnation is inserted
SELECT agentstore.delete_session('su-app', 'u2', 's1');
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "s1", "user_id": "u2"}]'::jsonb, false, 'su-app');
SELECT count(*) AS incarnations FROM agentstore.sessions WHERE app_name = 'su-app' AND user_id = 'u2' AND session_id = 's1';
-- the TTL: agentstore.session_ttl for new rows, the row's own ttl on update
SET agentstore.session_ttl = '1d';
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "ttl", "user_id": "u1"}]'::jsonb, false, 'su-app');
RESET agentstore.session_ttl;
SELECT pg_temp.ttl_left(expires_at) AS ttl FROM su JOIN agentstore.sessions USING (app_name, user_id, session_id)
 WHERE su.session_id = 'ttl' AND sessions.deleted_at IS NULL;
UPDATE agentstore.sessions SET ttl = '5 minutes' WHERE app_name = 'su-app' AND session_id = 'ttl';
SELECT * FROM agentstore.upsert_sessions('[{"session_id": "ttl", "user_id": "u1"}]'::jsonb, false, 'su-app');
SELECT pg_temp.ttl_left(expires_at) AS own_ttl FROM agentstore.sessions WHERE app_name = 'su-app' AND session_id = 'ttl';

-- the json walker and the jsonb path agree on awkward input: escapes, unicode,
-- braces inside strings, nested unknown fields, numbers, a repeated field
CREATE TEMP TABLE awkward (doc text);
INSERT INTO awkward VALUES ('[{"session_id": "a\"b\u00e9\n", "user_id": "u", "extra": {"deep": [{"x": "}]"}, 1e3]},
  "name": "ñ\t", "metadata": {"k": [1.5e2, -0, true, null, "s\\"], "e": {}}, "state": {"z": {"y": []}},
  "runs": "text run", "summary": 12.50, "agent_data": null, "created_at": "2026-01-01T00:00:00+02:00",
  "updated_at": 1.7e9, "name": "the later name"}, {"session_id": "b", "user_id": "u", "metadata": [], "state": {}}]');
SELECT * FROM agentstore.upsert_sessions((SELECT doc::json FROM awkward), true, 'su-json');
SELECT * FROM agentstore.upsert_sessions((SELECT doc::jsonb FROM awkward), true, 'su-jsonb');
SELECT count(*) AS rows_that_differ FROM (
	SELECT session_id, user_id, name, metadata, state, runs, summary, agent_data,
	       CASE WHEN session_id = 'b' THEN NULL ELSE created_at END, CASE WHEN session_id = 'b' THEN NULL ELSE updated_at END
	  FROM agentstore.sessions WHERE app_name = 'su-json'
	EXCEPT
	SELECT session_id, user_id, name, metadata, state, runs, summary, agent_data,
	       CASE WHEN session_id = 'b' THEN NULL ELSE created_at END, CASE WHEN session_id = 'b' THEN NULL ELSE updated_at END
	  FROM agentstore.sessions WHERE app_name = 'su-jsonb') x;
SELECT session_id, name, metadata, state, runs, summary, created_at, updated_at
  FROM agentstore.sessions WHERE app_name = 'su-json' AND session_id <> 'b';

-- an empty array is a no-op
SELECT * FROM agentstore.upsert_sessions('[]'::jsonb);
SELECT * FROM agentstore.upsert_sessions('  [ ]  '::json);

-- bad input: an error naming the element (index from 0), nothing written
SELECT count(*) AS before FROM agentstore.sessions WHERE app_name = 'su-bad';
SELECT agentstore.upsert_sessions(NULL::jsonb);
SELECT agentstore.upsert_sessions(NULL::json);
SELECT agentstore.upsert_sessions('{"session_id": "x"}'::jsonb);
SELECT agentstore.upsert_sessions('{"session_id": "x"}'::json);
SELECT agentstore.upsert_sessions('"x"'::jsonb);
SELECT agentstore.upsert_sessions('"x"'::json);
SELECT agentstore.upsert_sessions('12'::json);
SELECT agentstore.upsert_sessions('[{"session_id": "ok", "user_id": "u"}, 1]'::jsonb, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "ok", "user_id": "u"}, [1]]'::json, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "ok", "user_id": "u"}, null]'::json, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "ok", "user_id": "u"}, {"user_id": "u"}]'::jsonb, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "ok", "user_id": "u"}, {"session_id": null, "user_id": "u"}]'::json, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "ok"}]'::jsonb, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "", "user_id": "u"}]'::json, false, 'su-bad');
SELECT agentstore.upsert_sessions(format('[{"session_id": "%s", "user_id": "u"}]', repeat('s', 256))::jsonb, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u", "app_name": ""}]'::jsonb, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": 7, "user_id": "u"}]'::jsonb, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": ["u"]}]'::json, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u", "name": true}]'::json, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u", "agent_id": {"a": 1}}]'::jsonb, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u", "state": [1]}]'::jsonb, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u", "state": "s"}]'::json, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u", "created_at": "yesterday-ish"}]'::jsonb, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u", "updated_at": "garbage"}]'::json, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u", "created_at": true}]'::jsonb, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u", "created_at": {"t": 1}}]'::json, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u"}'::json, false, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u"}'::jsonb, false, 'su-bad');
-- an untyped literal needs a cast: json or jsonb
SELECT agentstore.upsert_sessions('[]');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u"}]'::jsonb, NULL, 'su-bad');
SELECT agentstore.upsert_sessions('[{"session_id": "x", "user_id": "u"}]'::jsonb, false, '');
-- an error in a later chunk undoes the earlier chunks
SET agentstore.batch_size = 1;
SELECT agentstore.upsert_sessions('[{"session_id": "c1", "user_id": "u"}, {"session_id": "c2", "user_id": "u"}, {"session_id": "c3"}]'::jsonb, false, 'su-bad');
RESET agentstore.batch_size;
SELECT count(*) AS after FROM agentstore.sessions WHERE app_name = 'su-bad';

-- cancellable: statement_timeout stops a large batch, nothing is written
CREATE TEMP TABLE big AS
SELECT jsonb_agg(jsonb_build_object('session_id', 's' || g, 'user_id', 'u', 'app_name', 'su-big',
                                    'state', jsonb_build_object('pad', repeat('x', 200)))) AS doc
  FROM generate_series(1, 100000) g;
SET statement_timeout = '100ms';
SELECT agentstore.upsert_sessions(doc) FROM big;
SELECT agentstore.upsert_sessions(doc::json) FROM big;
RESET statement_timeout;
SELECT count(*) AS written FROM agentstore.sessions WHERE app_name = 'su-big';

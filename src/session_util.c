/*-------------------------------------------------------------------------
 *
 * session_util.c
 *	  What every session function shares: argument checks (through
 *	  argcheck.c), default TTLs, stream names, state-delta routing, the
 *	  removal of a session's rows, the stale-session and privilege checks,
 *	  and session_list.c's kept plans (through spi_util.c).
 *
 * Every statement below is fully schema-qualified, operators included,
 * because it runs under the caller's search_path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "agentstore.h"
#include "argcheck.h"
#include "compat.h"
#include "sessions.h"
#include "spi_util.h"

/*
 * Check a key given as a string: not empty, at most SESSION_KEY_MAX_LEN
 * characters.  element >= 0 names the array element it came from.
 */
void
session_check_key_text(const char *what, const char *value, int len,
					   int element)
{
	ArgName		name = {what, element, NULL};

	argcheck_text(&name, value, len, SESSION_KEY_MAX_LEN, false);
}

/* Error out if argument argno is NULL. */
void
session_check_not_null(FunctionCallInfo fcinfo, int argno, const char *what)
{
	argcheck_not_null(fcinfo, argno, what);
}

/* Put a session key into args[0..2], as most statements take it. */
void
session_key_args(Datum *args, const SessionKey *key)
{
	args[0] = PointerGetDatum(key->app_name);
	args[1] = PointerGetDatum(key->user_id);
	args[2] = PointerGetDatum(key->session_id);
}

/* Fetch and check a key argument (app_name, user_id, key, track...). */
text *
session_check_key_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	text	   *t;

	argcheck_not_null(fcinfo, argno, what);
	t = PG_GETARG_TEXT_PP(argno);
	session_check_key_text(what, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), -1);
	return t;
}

/* The session key from arguments 0, 1 and 2. */
void
session_get_key(FunctionCallInfo fcinfo, SessionKey *key)
{
	key->app_name = session_check_key_arg(fcinfo, 0, "app_name");
	key->user_id = session_check_key_arg(fcinfo, 1, "user_id");
	key->session_id = session_check_key_arg(fcinfo, 2, "session_id");
}

/*
 * Fetch a jsonb argument that must be an object.  NULL is an error unless
 * null_ok, in which case NULL is returned.
 */
Jsonb *
session_check_object_arg(FunctionCallInfo fcinfo, int argno, const char *what,
						 bool null_ok)
{
	return argcheck_object(fcinfo, argno, what, null_ok);
}

/*
 * Fetch a ttl argument: NULL (the default) or an interval whose fields are
 * all >= 0 (argcheck.c states the rule).
 */
Interval *
session_check_ttl_arg(FunctionCallInfo fcinfo, int argno)
{
	return argcheck_ttl(fcinfo, argno, "ttl");
}

/*
 * The session_ref argument of a writer (argno): the id of the incarnation
 * the caller holds (ids are positive), or 0 when NULL (no check).
 */
int64
session_ref_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return 0;
	return argcheck_int64_min(PG_GETARG_INT64(argno), "session_ref", 1);
}

/* The agentstore.*_ttl parameter of a kind, as an interval (0 = never). */
Datum
session_default_ttl(SessionTtlKind kind)
{
	Interval   *iv = palloc0(sizeof(Interval));
	int			secs = 0;

	switch (kind)
	{
		case TTL_SESSION:
			secs = agentstore_session_ttl;
			break;
		case TTL_APP_STATE:
			secs = agentstore_app_state_ttl;
			break;
		case TTL_USER_STATE:
			secs = agentstore_user_state_ttl;
			break;
		case TTL_TRACK_EVENT:
			secs = agentstore_track_event_ttl;
			break;
	}
	iv->time = (int64) secs * USECS_PER_SEC;
	return IntervalPGetDatum(iv);
}

/* 'session-<id>': the stream of a session incarnation's events. */
char *
session_stream_name(int64 session_ref)
{
	return psprintf("session-" INT64_FORMAT, session_ref);
}

/* 'track-<id>-<track>': the stream of one track of a session incarnation. */
char *
session_track_stream_name(int64 session_ref, text *track)
{
	return psprintf("track-" INT64_FORMAT "-%s", session_ref,
					text_to_cstring(track));
}

/*
 * "app, user, session" for messages, as PostgreSQL prints a key.  Each part
 * has passed session_check_key_text (at most 255 whole characters), so the
 * string is bounded.
 */
char *
session_key_string(const SessionKey *key)
{
	return psprintf("%s, %s, %s", text_to_cstring(key->app_name),
					text_to_cstring(key->user_id),
					text_to_cstring(key->session_id));
}

/*
 * When the caller named the incarnation it holds (session_ref != 0) and
 * another one is now active under the key, raise the stale-session error.
 * The caller is connected to SPI.
 */
void
session_check_stale(const SessionKey *key, int64 session_ref)
{
	static const char *sql =
		"SELECT id FROM agentstore.sessions"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2"
		"   AND session_id OPERATOR(pg_catalog.=) $3 AND deleted_at IS NULL"
		"   AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now())";
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID};

	if (session_ref != 0)
	{
		Datum		args[3];

		session_key_args(args, key);
		if (spi_run("session.active_id", sql, 3, types, args, NULL, false, 1,
					SPI_OK_SELECT) > 0)
			ereport(ERROR,
					(errcode(ERRCODE_AGENTSTORE_STALE_SESSION),
					 errmsg("session is stale"),
					 errdetail("The caller holds session " INT64_FORMAT " of the key (app_name, user_id, session_id)=(%s); the active session is " INT64_FORMAT ".",
							   session_ref, session_key_string(key),
							   spi_int64(0, 1)),
					 errhint("The session was deleted and created again: read it again and retry with its new id.")));
	}
}

/*
 * Raise the error of a call on a session that is missing, expired or
 * deleted (or stale: see session_check_stale).  Connected to SPI.
 */
void
session_report_missing(const SessionKey *key, int64 session_ref)
{
	session_check_stale(key, session_ref);
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("session does not exist"),
			 errdetail("No active session has the key (app_name, user_id, session_id)=(%s).",
					   session_key_string(key)),
			 errhint("A session that expired or was deleted must be created again.")));
}

/*
 * Check that the current user may read what an append reveals of the
 * session's stream (its version, event ids and positions): SELECT on those
 * columns of agentstore.events, with the executor's own check, so that
 * column privileges and the ExecutorCheckPerms hook apply.
 */
void
session_check_events_select(void)
{
	static const char *const columns[] = {"stream", "version", "event_id", "position"};
	Oid			relid = get_relname_relid("events", get_namespace_oid("agentstore", false));
	Bitmapset  *selected = NULL;
	CompatRelPerms perms;

	if (!OidIsValid(relid))
		elog(ERROR, "table agentstore.events does not exist");
	for (int i = 0; i < lengthof(columns); i++)
	{
		AttrNumber	attnum = get_attnum(relid, columns[i]);

		if (attnum == InvalidAttrNumber)
			elog(ERROR, "column %s of agentstore.events does not exist", columns[i]);
		selected = bms_add_member(selected, attnum - FirstLowInvalidHeapAttributeNumber);
	}
	perms = compat_relation_perms(relid, get_rel_relkind(relid), AccessShareLock,
								  ACL_SELECT, selected, NULL, NULL);
	compat_check_perms(&perms);
}

/*
 * The event count past which a session is flagged for trimming: the
 * retention (agentstore.session_event_retention) plus a tenth of it, at
 * least one.  The slack lets one trim remove a tenth of the retention at
 * once, instead of one event (and a recount of the whole window) after every
 * append.  A retention of 0 (the default) keeps every event: deleting
 * events is opt-in, and no session is ever flagged.
 */
int64
session_trim_threshold(void)
{
	int64		keep = agentstore_session_event_retention;

	if (keep <= 0)
		return PG_INT64_MAX;
	return keep + Max(keep / 10, 1);
}

/*
 * The num_recent_events argument of the event reads: NULL means
 * agentstore.session_event_limit; negative is an error.
 */
int32
session_window_arg(FunctionCallInfo fcinfo, int argno)
{
	int32		n;

	if (PG_ARGISNULL(argno))
		return agentstore_session_event_limit;
	n = PG_GETARG_INT32(argno);
	argcheck_int64_min(n, "num_recent_events", 0);
	return n;
}

/* Append one routed app/user entry to growing arrays. */
static void
delta_push(int *n, int *cap, Datum **keys, Datum **values, bool **nulls,
		   const char *key, int keylen, JsonbValue *v)
{
	if (*n >= *cap)
	{
		*cap = (*cap == 0) ? 8 : *cap * 2;
		if (*keys == NULL)
		{
			*keys = palloc(sizeof(Datum) * *cap);
			*values = palloc(sizeof(Datum) * *cap);
			*nulls = palloc(sizeof(bool) * *cap);
		}
		else
		{
			*keys = repalloc(*keys, sizeof(Datum) * *cap);
			*values = repalloc(*values, sizeof(Datum) * *cap);
			*nulls = repalloc(*nulls, sizeof(bool) * *cap);
		}
	}
	(*keys)[*n] = PointerGetDatum(cstring_to_text_with_len(key, keylen));
	if (v->type == jbvNull)
	{
		(*values)[*n] = (Datum) 0;
		(*nulls)[*n] = true;
	}
	else
	{
		(*values)[*n] = JsonbPGetDatum(JsonbValueToJsonb(v));
		(*nulls)[*n] = false;
	}
	(*n)++;
}

/* Check the key an "app:" or "user:" state key routes to (1..255 characters). */
static void
check_routed_key(const char *what, const char *key, int len, int prefix)
{
	if (len == prefix)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what),
				 errdetail("State key \"%.*s\" has nothing after its prefix.", len, key)));
	session_check_key_text(what, key + prefix, len - prefix, -1);
}

/*
 * Split a state delta (a JSON object) by routing: "app:k" goes to app state
 * key k, "user:k" to user state key k, "temp:k" is dropped, every other key
 * is a session state key.  A JSON null removes the key.  App and user keys
 * must be 1..255 characters after the prefix.
 */
void
session_parse_delta(Jsonb *delta, StateDelta *out)
{
	JsonbParseState *state = NULL;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	k,
				v;
	int			app_cap = 0,
				user_cap = 0,
				nremove = 0,
				remove_cap = 8;
	Datum	   *remove = palloc(sizeof(Datum) * remove_cap);
	JsonbValue *res;

	memset(out, 0, sizeof(StateDelta));
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	if (delta != NULL)
	{
		it = JsonbIteratorInit(&delta->root);
		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			const char *key;
			int			len;

			if (tok != WJB_KEY)
				continue;
			CHECK_FOR_INTERRUPTS();
			tok = JsonbIteratorNext(&it, &v, true);
			Assert(tok == WJB_VALUE);
			key = k.val.string.val;
			len = k.val.string.len;

			if (len >= 4 && strncmp(key, "app:", 4) == 0)
			{
				check_routed_key("app state key", key, len, 4);
				delta_push(&out->napp, &app_cap, &out->app_keys,
						   &out->app_values, &out->app_nulls,
						   key + 4, len - 4, &v);
			}
			else if (len >= 5 && strncmp(key, "user:", 5) == 0)
			{
				check_routed_key("user state key", key, len, 5);
				delta_push(&out->nuser, &user_cap, &out->user_keys,
						   &out->user_values, &out->user_nulls,
						   key + 5, len - 5, &v);
			}
			else if (len >= 5 && strncmp(key, "temp:", 5) == 0)
				continue;
			else if (v.type == jbvNull)
			{
				if (nremove >= remove_cap)
				{
					remove_cap *= 2;
					remove = repalloc(remove, sizeof(Datum) * remove_cap);
				}
				remove[nremove++] =
					PointerGetDatum(cstring_to_text_with_len(key, len));
			}
			else
			{
				pushJsonbValue(&state, WJB_KEY, &k);
				pushJsonbValue(&state, WJB_VALUE, &v);
				out->nsession_set++;
			}
		}
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	out->session_set = JsonbValueToJsonb(res);
	out->session_remove = construct_array(remove, nremove, TEXTOID, -1,
										  false, TYPALIGN_INT);
	out->nsession_remove = nremove;
}

/* Write the set (non-null) entries of one kind of shared state. */
static void
apply_shared_sets(bool user, text *app_name, text *user_id, int n,
				  Datum *keys, Datum *values, bool *nulls)
{
	static const char *app_update =
		"UPDATE agentstore.app_states a"
		"   SET value = d.value, updated_at = pg_catalog.now(),"
		"       expires_at = CASE WHEN COALESCE(a.ttl, $4) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE(a.ttl, $4) END"
		"  FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.jsonb[])) AS d(key, value)"
		" WHERE a.app_name OPERATOR(pg_catalog.=) $1 AND a.key OPERATOR(pg_catalog.=) d.key"
		"   AND a.deleted_at IS NULL";
	static const char *app_insert =
		"INSERT INTO agentstore.app_states AS a (app_name, key, value, expires_at)"
		" SELECT $1, d.key, d.value,"
		"        CASE WHEN $4 OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"        THEN pg_catalog.now() OPERATOR(pg_catalog.+) $4 END"
		"   FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.jsonb[])) AS d(key, value)"
		"  WHERE NOT EXISTS (SELECT FROM agentstore.app_states x"
		"                     WHERE x.app_name OPERATOR(pg_catalog.=) $1"
		"                       AND x.key OPERATOR(pg_catalog.=) d.key AND x.deleted_at IS NULL)"
		" ON CONFLICT (app_name, key) WHERE deleted_at IS NULL DO UPDATE"
		"   SET value = excluded.value, updated_at = pg_catalog.now(),"
		"       expires_at = CASE WHEN COALESCE(a.ttl, $4) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE(a.ttl, $4) END";
	static const char *user_update =
		"UPDATE agentstore.user_states a"
		"   SET value = d.value, updated_at = pg_catalog.now(),"
		"       expires_at = CASE WHEN COALESCE(a.ttl, $5) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE(a.ttl, $5) END"
		"  FROM ROWS FROM (pg_catalog.unnest($3::pg_catalog.text[]), pg_catalog.unnest($4::pg_catalog.jsonb[])) AS d(key, value)"
		" WHERE a.app_name OPERATOR(pg_catalog.=) $1 AND a.user_id OPERATOR(pg_catalog.=) $2"
		"   AND a.key OPERATOR(pg_catalog.=) d.key AND a.deleted_at IS NULL";
	static const char *user_insert =
		"INSERT INTO agentstore.user_states AS a (app_name, user_id, key, value, expires_at)"
		" SELECT $1, $2, d.key, d.value,"
		"        CASE WHEN $5 OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"        THEN pg_catalog.now() OPERATOR(pg_catalog.+) $5 END"
		"   FROM ROWS FROM (pg_catalog.unnest($3::pg_catalog.text[]), pg_catalog.unnest($4::pg_catalog.jsonb[])) AS d(key, value)"
		"  WHERE NOT EXISTS (SELECT FROM agentstore.user_states x"
		"                     WHERE x.app_name OPERATOR(pg_catalog.=) $1 AND x.user_id OPERATOR(pg_catalog.=) $2"
		"                       AND x.key OPERATOR(pg_catalog.=) d.key AND x.deleted_at IS NULL)"
		" ON CONFLICT (app_name, user_id, key) WHERE deleted_at IS NULL DO UPDATE"
		"   SET value = excluded.value, updated_at = pg_catalog.now(),"
		"       expires_at = CASE WHEN COALESCE(a.ttl, $5) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE(a.ttl, $5) END";
	static const Oid app_types[] = {TEXTOID, TEXTARRAYOID, JSONBARRAYOID, INTERVALOID};
	static const Oid user_types[] = {TEXTOID, TEXTOID, TEXTARRAYOID, JSONBARRAYOID, INTERVALOID};
	Datum	   *k = palloc(sizeof(Datum) * n);
	Datum	   *v = palloc(sizeof(Datum) * n);
	int			m = 0,
				i;
	Datum		args[5];

	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			continue;
		k[m] = keys[i];
		v[m] = values[i];
		m++;
	}
	if (m == 0)
		return;

	if (!user)
	{
		args[0] = PointerGetDatum(app_name);
		args[1] = PointerGetDatum(construct_array(k, m, TEXTOID, -1, false, TYPALIGN_INT));
		args[2] = PointerGetDatum(construct_array(v, m, JSONBOID, -1, false, TYPALIGN_INT));
		args[3] = session_default_ttl(TTL_APP_STATE);
		if (spi_run("session.app_state.update", app_update, 4, app_types,
					args, NULL, false, 0, SPI_OK_UPDATE) < (uint64) m)
			spi_run("session.app_state.insert", app_insert, 4, app_types,
					args, NULL, false, 0, SPI_OK_INSERT);
	}
	else
	{
		args[0] = PointerGetDatum(app_name);
		args[1] = PointerGetDatum(user_id);
		args[2] = PointerGetDatum(construct_array(k, m, TEXTOID, -1, false, TYPALIGN_INT));
		args[3] = PointerGetDatum(construct_array(v, m, JSONBOID, -1, false, TYPALIGN_INT));
		args[4] = session_default_ttl(TTL_USER_STATE);
		if (spi_run("session.user_state.update", user_update, 5, user_types,
					args, NULL, false, 0, SPI_OK_UPDATE) < (uint64) m)
			spi_run("session.user_state.insert", user_insert, 5, user_types,
					args, NULL, false, 0, SPI_OK_INSERT);
	}
}

/* Remove the null (= remove) entries of one kind of shared state. */
static void
apply_shared_removes(bool user, text *app_name, text *user_id, int n,
					 Datum *keys, bool *nulls)
{
	static const char *app_soft =
		"UPDATE agentstore.app_states SET deleted_at = pg_catalog.now()"
		" WHERE app_name OPERATOR(pg_catalog.=) $1"
		"   AND key OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.text[]) AND deleted_at IS NULL";
	static const char *app_hard =
		"DELETE FROM agentstore.app_states"
		" WHERE app_name OPERATOR(pg_catalog.=) $1"
		"   AND key OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.text[]) AND deleted_at IS NULL";
	static const char *user_soft =
		"UPDATE agentstore.user_states SET deleted_at = pg_catalog.now()"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $3"
		"   AND key OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.text[]) AND deleted_at IS NULL";
	static const char *user_hard =
		"DELETE FROM agentstore.user_states"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $3"
		"   AND key OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.text[]) AND deleted_at IS NULL";
	static const Oid types[] = {TEXTOID, TEXTARRAYOID, TEXTOID};
	Datum	   *k = palloc(sizeof(Datum) * n);
	int			m = 0,
				i;
	Datum		args[3];

	for (i = 0; i < n; i++)
		if (nulls[i])
			k[m++] = keys[i];
	if (m == 0)
		return;
	args[0] = PointerGetDatum(app_name);
	args[1] = PointerGetDatum(construct_array(k, m, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = PointerGetDatum(user_id);
	if (!user && agentstore_soft_delete)
		spi_run("session.app_state.remove_soft", app_soft, 2, types,
				args, NULL, false, 0, SPI_OK_UPDATE);
	else if (!user)
		spi_run("session.app_state.remove_hard", app_hard, 2, types,
				args, NULL, false, 0, SPI_OK_DELETE);
	else if (agentstore_soft_delete)
		spi_run("session.user_state.remove_soft", user_soft, 3, types,
				args, NULL, false, 0, SPI_OK_UPDATE);
	else
		spi_run("session.user_state.remove_hard", user_hard, 3, types,
				args, NULL, false, 0, SPI_OK_DELETE);
}

/*
 * Write the app and user parts of a routed delta: set keys with their new
 * value (sliding their TTL), remove the keys given as null.  Removal follows
 * agentstore.soft_delete.
 */
void
session_apply_shared_state(text *app_name, text *user_id,
						   const StateDelta *delta)
{
	if (delta->napp > 0)
	{
		apply_shared_sets(false, app_name, NULL, delta->napp,
						  delta->app_keys, delta->app_values, delta->app_nulls);
		apply_shared_removes(false, app_name, NULL, delta->napp,
							 delta->app_keys, delta->app_nulls);
	}
	if (delta->nuser > 0)
	{
		apply_shared_sets(true, app_name, user_id, delta->nuser,
						  delta->user_keys, delta->user_values, delta->user_nulls);
		apply_shared_removes(true, app_name, user_id, delta->nuser,
							 delta->user_keys, delta->user_nulls);
	}
}

/*
 * Remove (stamp deleted_at, or delete when hard) the rows a session
 * incarnation owns besides its sessions row: the events of its stream and
 * of its track streams, and its summaries.  Returns the number of events.
 */
int64
session_remove_rows(text *app_name, int64 session_ref, bool hard)
{
	/* Track streams are the range ['track-<id>-', 'track-<id>.'). */
	static const char *events_soft =
		"UPDATE agentstore.events SET deleted_at = pg_catalog.now()"
		" WHERE (stream OPERATOR(pg_catalog.=) $1"
		"        OR (stream OPERATOR(pg_catalog.>=) $2 AND stream OPERATOR(pg_catalog.<) $3))"
		"   AND deleted_at IS NULL";
	static const char *events_hard =
		"DELETE FROM agentstore.events"
		" WHERE stream OPERATOR(pg_catalog.=) $1"
		"    OR (stream OPERATOR(pg_catalog.>=) $2 AND stream OPERATOR(pg_catalog.<) $3)";
	static const char *summaries_soft =
		"UPDATE agentstore.session_summaries SET deleted_at = pg_catalog.now()"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND session_ref OPERATOR(pg_catalog.=) $2"
		"   AND deleted_at IS NULL";
	static const char *summaries_hard =
		"DELETE FROM agentstore.session_summaries"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND session_ref OPERATOR(pg_catalog.=) $2";
	static const Oid event_types[] = {TEXTOID, TEXTOID, TEXTOID};
	static const Oid summary_types[] = {TEXTOID, INT8OID};
	Datum		args[3];
	int64		nevents;

	args[0] = CStringGetTextDatum(session_stream_name(session_ref));
	args[1] = CStringGetTextDatum(psprintf("track-" INT64_FORMAT "-", session_ref));
	args[2] = CStringGetTextDatum(psprintf("track-" INT64_FORMAT ".", session_ref));
	if (hard)
		nevents = (int64) spi_run("session.remove_events_hard", events_hard, 3,
								  event_types, args, NULL, false, 0, SPI_OK_DELETE);
	else
		nevents = (int64) spi_run("session.remove_events_soft", events_soft, 3,
								  event_types, args, NULL, false, 0, SPI_OK_UPDATE);

	args[0] = PointerGetDatum(app_name);
	args[1] = Int64GetDatum(session_ref);
	if (hard)
		spi_run("session.remove_summaries_hard", summaries_hard, 2, summary_types,
				args, NULL, false, 0, SPI_OK_DELETE);
	else
		spi_run("session.remove_summaries_soft", summaries_soft, 2, summary_types,
				args, NULL, false, 0, SPI_OK_UPDATE);
	return nevents;
}

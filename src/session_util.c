/*-------------------------------------------------------------------------
 *
 * session_util.c
 *	  What every session function shares: argument checks with clear
 *	  errors, default TTLs, stream names, state-delta routing, the removal
 *	  of a session's rows and the cache of prepared SPI plans.
 *
 * Every statement below is fully schema-qualified, operators included,
 * because it runs under the caller's search_path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "agentstore.h"
#include "sessions.h"

/*
 * Check a key given as a string: not empty, at most SESSION_KEY_MAX_LEN
 * characters.  element >= 0 names the array element it came from.
 */
void
session_check_key_text(const char *what, const char *value, int len,
					   int element)
{
	int			nchars;

	if (len == 0)
	{
		if (element >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not be empty", what),
					 errdetail("Element %d of the array has an empty %s.",
							   element, what)));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what)));
	}
	if (len <= SESSION_KEY_MAX_LEN)
		return;					/* no more characters than bytes */
	nchars = pg_mbstrlen_with_len(value, len);
	if (nchars > SESSION_KEY_MAX_LEN)
	{
		if (element >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("%s is too long", what),
					 errdetail("Element %d of the array has a %s of %d characters; the limit is %d.",
							   element, what, nchars, SESSION_KEY_MAX_LEN)));
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("%s is too long", what),
				 errdetail("The %s has %d characters; the limit is %d.",
						   what, nchars, SESSION_KEY_MAX_LEN)));
	}
}

/* Error out if argument argno is NULL. */
void
session_check_not_null(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what)));
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

	session_check_not_null(fcinfo, argno, what);
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
	Jsonb	   *j;

	if (PG_ARGISNULL(argno))
	{
		if (null_ok)
			return NULL;
		session_check_not_null(fcinfo, argno, what);
	}
	j = PG_GETARG_JSONB_P(argno);
	if (!JB_ROOT_IS_OBJECT(j))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object", what),
				 errdetail("The %s given is a JSON %s.", what,
						   JB_ROOT_IS_SCALAR(j) ? "scalar" : "array")));
	return j;
}

/* Fetch a ttl argument: NULL (the default) or a non-negative interval. */
Interval *
session_check_ttl_arg(FunctionCallInfo fcinfo, int argno)
{
	Interval   *ttl;
	Interval	zero = {0};

	if (PG_ARGISNULL(argno))
		return NULL;
	ttl = PG_GETARG_INTERVAL_P(argno);
	if (DatumGetBool(DirectFunctionCall2(interval_lt,
										 IntervalPGetDatum(ttl),
										 IntervalPGetDatum(&zero))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ttl must not be negative"),
				 errdetail("The ttl given is %s.",
						   DatumGetCString(DirectFunctionCall1(interval_out,
															   IntervalPGetDatum(ttl))))));
	return ttl;
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

/* Raise the error of a call on a session that is missing, expired or deleted. */
void
session_report_missing(const SessionKey *key)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("session does not exist"),
			 errdetail("No active session has the key (app_name, user_id, session_id)=(%s, %s, %s).",
					   text_to_cstring(key->app_name),
					   text_to_cstring(key->user_id),
					   text_to_cstring(key->session_id)),
			 errhint("A session that expired or was deleted must be created again.")));
}

/*
 * Return the prepared plan of a slot, preparing and keeping it on first use.
 * The caller is connected to SPI.  Kept plans are revalidated by the plan
 * cache, so they survive DROP/CREATE EXTENSION in the same backend.
 */
SPIPlanPtr
session_plan(int slot, const char *sql, int nargs, const Oid *argtypes)
{
	static SPIPlanPtr plans[PLAN_NSLOTS];
	SPIPlanPtr	plan;

	Assert(slot >= 0 && slot < PLAN_NSLOTS);
	if (plans[slot] != NULL)
		return plans[slot];
	plan = SPI_prepare(sql, nargs, (Oid *) argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	plans[slot] = plan;
	return plan;
}

/*
 * Column col (from 1) of row 0 of the last SPI result, copied out of SPI
 * memory into the caller's context; (Datum) 0 and *isnull if NULL.
 */
Datum
session_spi_value(int col, bool *isnull)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], desc, col, isnull);

	if (*isnull)
		return (Datum) 0;
	return SPI_datumTransfer(d, TupleDescAttr(desc, col - 1)->attbyval,
							 TupleDescAttr(desc, col - 1)->attlen);
}

/*
 * Run a plan that yields at most one row and return its first column (see
 * session_spi_value); *isnull when there is no row or the value is NULL.
 */
Datum
session_run_single(SPIPlanPtr plan, Datum *args, const char *nulls,
				   bool read_only, bool *isnull)
{
	int			rc = SPI_execute_plan(plan, args, nulls, read_only, 1);

	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	*isnull = true;
	if (SPI_processed == 0 || SPI_tuptable == NULL)
		return (Datum) 0;
	return session_spi_value(1, isnull);
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
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("num_recent_events must not be negative"),
				 errdetail("num_recent_events is %d.", n)));
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
	int			rc;

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
		rc = SPI_execute_plan(session_plan(PLAN_APP_UPDATE, app_update, 4, app_types),
							  args, NULL, false, 0);
		if (rc != SPI_OK_UPDATE)
			elog(ERROR, "updating app state failed: %s", SPI_result_code_string(rc));
		if (SPI_processed < (uint64) m)
		{
			rc = SPI_execute_plan(session_plan(PLAN_APP_INSERT, app_insert, 4, app_types),
								  args, NULL, false, 0);
			if (rc != SPI_OK_INSERT)
				elog(ERROR, "inserting app state failed: %s", SPI_result_code_string(rc));
		}
	}
	else
	{
		args[0] = PointerGetDatum(app_name);
		args[1] = PointerGetDatum(user_id);
		args[2] = PointerGetDatum(construct_array(k, m, TEXTOID, -1, false, TYPALIGN_INT));
		args[3] = PointerGetDatum(construct_array(v, m, JSONBOID, -1, false, TYPALIGN_INT));
		args[4] = session_default_ttl(TTL_USER_STATE);
		rc = SPI_execute_plan(session_plan(PLAN_USER_UPDATE, user_update, 5, user_types),
							  args, NULL, false, 0);
		if (rc != SPI_OK_UPDATE)
			elog(ERROR, "updating user state failed: %s", SPI_result_code_string(rc));
		if (SPI_processed < (uint64) m)
		{
			rc = SPI_execute_plan(session_plan(PLAN_USER_INSERT, user_insert, 5, user_types),
								  args, NULL, false, 0);
			if (rc != SPI_OK_INSERT)
				elog(ERROR, "inserting user state failed: %s", SPI_result_code_string(rc));
		}
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
				i,
				rc;
	Datum		args[3];
	SPIPlanPtr	plan;

	for (i = 0; i < n; i++)
		if (nulls[i])
			k[m++] = keys[i];
	if (m == 0)
		return;
	args[0] = PointerGetDatum(app_name);
	args[1] = PointerGetDatum(construct_array(k, m, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = PointerGetDatum(user_id);
	if (!user)
		plan = agentstore_soft_delete ?
			session_plan(PLAN_APP_REMOVE_SOFT, app_soft, 2, types) :
			session_plan(PLAN_APP_REMOVE_HARD, app_hard, 2, types);
	else
		plan = agentstore_soft_delete ?
			session_plan(PLAN_USER_REMOVE_SOFT, user_soft, 3, types) :
			session_plan(PLAN_USER_REMOVE_HARD, user_hard, 3, types);
	rc = SPI_execute_plan(plan, args, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "removing shared state failed: %s", SPI_result_code_string(rc));
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
	int			rc;
	int64		nevents;

	args[0] = CStringGetTextDatum(session_stream_name(session_ref));
	args[1] = CStringGetTextDatum(psprintf("track-" INT64_FORMAT "-", session_ref));
	args[2] = CStringGetTextDatum(psprintf("track-" INT64_FORMAT ".", session_ref));
	rc = SPI_execute_plan(hard ?
						  session_plan(PLAN_REMOVE_EVENTS_HARD, events_hard, 3, event_types) :
						  session_plan(PLAN_REMOVE_EVENTS_SOFT, events_soft, 3, event_types),
						  args, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "removing session events failed: %s", SPI_result_code_string(rc));
	nevents = (int64) SPI_processed;

	args[0] = PointerGetDatum(app_name);
	args[1] = Int64GetDatum(session_ref);
	rc = SPI_execute_plan(hard ?
						  session_plan(PLAN_REMOVE_SUMMARIES_HARD, summaries_hard, 2, summary_types) :
						  session_plan(PLAN_REMOVE_SUMMARIES_SOFT, summaries_soft, 2, summary_types),
						  args, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "removing session summaries failed: %s", SPI_result_code_string(rc));
	return nevents;
}

/*-------------------------------------------------------------------------
 *
 * session_state.c
 *	  Session state deltas, app and user state, and session summaries.
 *
 * A state delta is a JSON object.  Its keys are routed: "app:k" sets app
 * state key k (shared by every user of the app), "user:k" user state key k
 * (shared by the user's sessions), "temp:k" is dropped, and every other key
 * is merged into the session's state as a shallow, top-level replace.  A
 * JSON null value removes the key from where it is routed.
 *
 * Every write slides the TTL of what it writes: expires_at = now() + ttl,
 * with the row's own ttl if one was given when it was set, else the
 * agentstore.*_ttl parameter (0 = never).  Reads never extend it, and treat
 * an expired row as absent.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "agentstore.h"
#include "argcheck.h"
#include "sessions.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(agentstore_update_session_state);
PG_FUNCTION_INFO_V1(agentstore_set_app_state);
PG_FUNCTION_INFO_V1(agentstore_get_app_state);
PG_FUNCTION_INFO_V1(agentstore_list_app_state);
PG_FUNCTION_INFO_V1(agentstore_delete_app_state);
PG_FUNCTION_INFO_V1(agentstore_set_user_state);
PG_FUNCTION_INFO_V1(agentstore_get_user_state);
PG_FUNCTION_INFO_V1(agentstore_list_user_state);
PG_FUNCTION_INFO_V1(agentstore_delete_user_state);
PG_FUNCTION_INFO_V1(agentstore_put_session_summary);
PG_FUNCTION_INFO_V1(agentstore_get_session_summary);

/*
 * agentstore.update_session_state(app_name, user_id, session_id, delta,
 * session_ref): apply a routed state delta to an active session, bump
 * updated_at and slide its TTL.  Returns the session's own new state.
 * With session_ref, only that incarnation is written (else SV002).
 */
Datum
agentstore_update_session_state(PG_FUNCTION_ARGS)
{
	static const char *sql =
		"UPDATE agentstore.sessions"
		"   SET state = (state OPERATOR(pg_catalog.||) $4) OPERATOR(pg_catalog.-) $5::pg_catalog.text[],"
		"       updated_at = pg_catalog.now(),"
		"       expires_at = CASE WHEN COALESCE(ttl, $6) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE(ttl, $6) END"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2"
		"   AND session_id OPERATOR(pg_catalog.=) $3 AND deleted_at IS NULL"
		"   AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"
		"   AND ($7::pg_catalog.int8 IS NULL OR id OPERATOR(pg_catalog.=) $7)"
		" RETURNING state";
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTARRAYOID, INTERVALOID, INT8OID};
	SessionKey	key;
	StateDelta	delta;
	int64		session_ref;
	Datum		args[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	Datum		result = (Datum) 0;
	bool		isnull = true;

	session_get_key(fcinfo, &key);
	session_parse_delta(session_check_object_arg(fcinfo, 3, "delta", false),
						&delta);
	session_ref = session_ref_arg(fcinfo, 4);
	session_key_args(args, &key);
	args[3] = JsonbPGetDatum(delta.session_set);
	args[4] = PointerGetDatum(delta.session_remove);
	args[5] = session_default_ttl(TTL_SESSION);
	args[6] = Int64GetDatum(session_ref);
	if (session_ref == 0)
		nulls[6] = 'n';

	SPI_connect();
	if (spi_run("session.update_state", sql, 7, types, args, nulls, false, 0,
				SPI_OK_UPDATE_RETURNING) > 0)
		result = spi_value(0, 1, &isnull);
	if (isnull)
		session_report_missing(&key, session_ref);
	session_apply_shared_state(key.app_name, key.user_id, &delta);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * Set one app (user_id == NULL) or user state key.  A JSON null value
 * removes the key; an explicit ttl is stored with the row and used by later
 * writes, NULL keeps the row's ttl (or the parameter's for a new row).
 */
static void
set_shared_state(text *app_name, text *user_id, text *key, Jsonb *value,
				 Interval *ttl)
{
	static const char *app_update =
		"UPDATE agentstore.app_states"
		"   SET value = $3, updated_at = pg_catalog.now(), ttl = COALESCE($4, ttl),"
		"       expires_at = CASE WHEN COALESCE($4, ttl, $5) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE($4, ttl, $5) END"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND key OPERATOR(pg_catalog.=) $2 AND deleted_at IS NULL";
	static const char *app_insert =
		"INSERT INTO agentstore.app_states AS a (app_name, key, value, ttl, expires_at)"
		" VALUES ($1, $2, $3, $4,"
		"         CASE WHEN COALESCE($4, $5) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"         THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE($4, $5) END)"
		" ON CONFLICT (app_name, key) WHERE deleted_at IS NULL DO UPDATE"
		"   SET value = $3, updated_at = pg_catalog.now(), ttl = COALESCE($4, a.ttl),"
		"       expires_at = CASE WHEN COALESCE($4, a.ttl, $5) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE($4, a.ttl, $5) END";
	static const char *user_update =
		"UPDATE agentstore.user_states"
		"   SET value = $3, updated_at = pg_catalog.now(), ttl = COALESCE($4, ttl),"
		"       expires_at = CASE WHEN COALESCE($4, ttl, $5) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE($4, ttl, $5) END"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $6"
		"   AND key OPERATOR(pg_catalog.=) $2 AND deleted_at IS NULL";
	static const char *user_insert =
		"INSERT INTO agentstore.user_states AS a (app_name, user_id, key, value, ttl, expires_at)"
		" VALUES ($1, $6, $2, $3, $4,"
		"         CASE WHEN COALESCE($4, $5) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"         THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE($4, $5) END)"
		" ON CONFLICT (app_name, user_id, key) WHERE deleted_at IS NULL DO UPDATE"
		"   SET value = $3, updated_at = pg_catalog.now(), ttl = COALESCE($4, a.ttl),"
		"       expires_at = CASE WHEN COALESCE($4, a.ttl, $5) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE($4, a.ttl, $5) END";
	static const Oid types[] = {TEXTOID, TEXTOID, JSONBOID, INTERVALOID, INTERVALOID, TEXTOID};
	bool		user = (user_id != NULL);
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int			nargs = user ? 6 : 5;

	if (JB_ROOT_IS_SCALAR(value))
	{
		JsonbValue	v;

		if (JsonbExtractScalar(&value->root, &v) && v.type == jbvNull)
		{
			StateDelta	delta = {0};
			Datum		k = PointerGetDatum(key);
			bool		isnull = true;

			/* JSON null: remove, as in a delta */
			if (user)
			{
				delta.nuser = 1;
				delta.user_keys = &k;
				delta.user_nulls = &isnull;
			}
			else
			{
				delta.napp = 1;
				delta.app_keys = &k;
				delta.app_nulls = &isnull;
			}
			session_apply_shared_state(app_name, user_id, &delta);
			return;
		}
	}

	args[0] = PointerGetDatum(app_name);
	args[1] = PointerGetDatum(key);
	args[2] = JsonbPGetDatum(value);
	args[3] = PointerGetDatum(ttl);
	if (ttl == NULL)
		nulls[3] = 'n';
	args[4] = session_default_ttl(user ? TTL_USER_STATE : TTL_APP_STATE);
	args[5] = PointerGetDatum(user_id);
	if (user)
	{
		if (spi_run("session.user_state.set_update", user_update, nargs, types,
					args, nulls, false, 0, SPI_OK_UPDATE) == 0)
			spi_run("session.user_state.set_insert", user_insert, nargs, types,
					args, nulls, false, 0, SPI_OK_INSERT);
	}
	else
	{
		if (spi_run("session.app_state.set_update", app_update, nargs, types,
					args, nulls, false, 0, SPI_OK_UPDATE) == 0)
			spi_run("session.app_state.set_insert", app_insert, nargs, types,
					args, nulls, false, 0, SPI_OK_INSERT);
	}
}

/* Fetch the value argument of set_*_state: never SQL NULL. */
static Jsonb *
value_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("value must not be NULL"),
				 errhint("A JSON null ('null'::jsonb) removes the key.")));
	return PG_GETARG_JSONB_P(argno);
}

/* agentstore.set_app_state(app_name, key, value, ttl) */
Datum
agentstore_set_app_state(PG_FUNCTION_ARGS)
{
	text	   *app_name = session_check_key_arg(fcinfo, 0, "app_name");
	text	   *key = session_check_key_arg(fcinfo, 1, "key");
	Jsonb	   *value = value_arg(fcinfo, 2);
	Interval   *ttl = session_check_ttl_arg(fcinfo, 3);

	SPI_connect();
	set_shared_state(app_name, NULL, key, value, ttl);
	SPI_finish();
	PG_RETURN_VOID();
}

/* agentstore.set_user_state(app_name, user_id, key, value, ttl) */
Datum
agentstore_set_user_state(PG_FUNCTION_ARGS)
{
	text	   *app_name = session_check_key_arg(fcinfo, 0, "app_name");
	text	   *user_id = session_check_key_arg(fcinfo, 1, "user_id");
	text	   *key = session_check_key_arg(fcinfo, 2, "key");
	Jsonb	   *value = value_arg(fcinfo, 3);
	Interval   *ttl = session_check_ttl_arg(fcinfo, 4);

	SPI_connect();
	set_shared_state(app_name, user_id, key, value, ttl);
	SPI_finish();
	PG_RETURN_VOID();
}

/* Run a read of shared state with 1-3 text arguments; NULL if no row. */
static Datum
read_shared(FunctionCallInfo fcinfo, const char *key, const char *sql,
			int nargs, Datum *args)
{
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		result;
	bool		isnull;

	result = spi_read_value(key, sql, nargs, types, args, NULL, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/* agentstore.get_app_state(app_name, key): the value, NULL if absent or expired. */
Datum
agentstore_get_app_state(PG_FUNCTION_ARGS)
{
	static const char *sql =
		"SELECT value FROM agentstore.app_states"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND key OPERATOR(pg_catalog.=) $2"
		"   AND deleted_at IS NULL"
		"   AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now())";
	Datum		args[2];

	args[0] = PointerGetDatum(session_check_key_arg(fcinfo, 0, "app_name"));
	args[1] = PointerGetDatum(session_check_key_arg(fcinfo, 1, "key"));
	return read_shared(fcinfo, "session.app_state.get", sql, 2, args);
}

/* agentstore.get_user_state(app_name, user_id, key) */
Datum
agentstore_get_user_state(PG_FUNCTION_ARGS)
{
	static const char *sql =
		"SELECT value FROM agentstore.user_states"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2"
		"   AND key OPERATOR(pg_catalog.=) $3 AND deleted_at IS NULL"
		"   AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now())";
	Datum		args[3];

	args[0] = PointerGetDatum(session_check_key_arg(fcinfo, 0, "app_name"));
	args[1] = PointerGetDatum(session_check_key_arg(fcinfo, 1, "user_id"));
	args[2] = PointerGetDatum(session_check_key_arg(fcinfo, 2, "key"));
	return read_shared(fcinfo, "session.user_state.get", sql, 3, args);
}

/* agentstore.list_app_state(app_name): every live key as one object. */
Datum
agentstore_list_app_state(PG_FUNCTION_ARGS)
{
	static const char *sql =
		"SELECT COALESCE(pg_catalog.jsonb_object_agg(key, value), '{}'::pg_catalog.jsonb)"
		"  FROM agentstore.app_states"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND deleted_at IS NULL"
		"   AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now())";
	Datum		args[1];

	args[0] = PointerGetDatum(session_check_key_arg(fcinfo, 0, "app_name"));
	return read_shared(fcinfo, "session.app_state.list", sql, 1, args);
}

/* agentstore.list_user_state(app_name, user_id) */
Datum
agentstore_list_user_state(PG_FUNCTION_ARGS)
{
	static const char *sql =
		"SELECT COALESCE(pg_catalog.jsonb_object_agg(key, value), '{}'::pg_catalog.jsonb)"
		"  FROM agentstore.user_states"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2"
		"   AND deleted_at IS NULL"
		"   AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now())";
	Datum		args[2];

	args[0] = PointerGetDatum(session_check_key_arg(fcinfo, 0, "app_name"));
	args[1] = PointerGetDatum(session_check_key_arg(fcinfo, 1, "user_id"));
	return read_shared(fcinfo, "session.user_state.list", sql, 2, args);
}

/*
 * Delete one shared state key (soft per agentstore.soft_delete); true if a
 * live (unexpired) key was deleted.
 */
static bool
delete_shared(bool user, Datum *args)
{
	static const char *app_soft =
		"UPDATE agentstore.app_states SET deleted_at = pg_catalog.now()"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND key OPERATOR(pg_catalog.=) $2"
		"   AND deleted_at IS NULL"
		" RETURNING expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now()";
	static const char *app_hard =
		"DELETE FROM agentstore.app_states"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND key OPERATOR(pg_catalog.=) $2"
		"   AND deleted_at IS NULL"
		" RETURNING expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now()";
	static const char *user_soft =
		"UPDATE agentstore.user_states SET deleted_at = pg_catalog.now()"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2"
		"   AND key OPERATOR(pg_catalog.=) $3 AND deleted_at IS NULL"
		" RETURNING expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now()";
	static const char *user_hard =
		"DELETE FROM agentstore.user_states"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2"
		"   AND key OPERATOR(pg_catalog.=) $3 AND deleted_at IS NULL"
		" RETURNING expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now()";
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID};
	bool		soft = agentstore_soft_delete;
	uint64		n;
	bool		deleted = false;

	SPI_connect();
	if (user)
		n = soft ?
			spi_run("session.user_state.delete_soft", user_soft, 3, types,
					args, NULL, false, 1, SPI_OK_UPDATE_RETURNING) :
			spi_run("session.user_state.delete_hard", user_hard, 3, types,
					args, NULL, false, 1, SPI_OK_DELETE_RETURNING);
	else
		n = soft ?
			spi_run("session.app_state.delete_soft", app_soft, 2, types,
					args, NULL, false, 1, SPI_OK_UPDATE_RETURNING) :
			spi_run("session.app_state.delete_hard", app_hard, 2, types,
					args, NULL, false, 1, SPI_OK_DELETE_RETURNING);
	if (n > 0)
	{
		bool		isnull;
		Datum		d = spi_value(0, 1, &isnull);

		deleted = !isnull && DatumGetBool(d);
	}
	SPI_finish();
	return deleted;
}

/* agentstore.delete_app_state(app_name, key) */
Datum
agentstore_delete_app_state(PG_FUNCTION_ARGS)
{
	Datum		args[2];

	args[0] = PointerGetDatum(session_check_key_arg(fcinfo, 0, "app_name"));
	args[1] = PointerGetDatum(session_check_key_arg(fcinfo, 1, "key"));
	PG_RETURN_BOOL(delete_shared(false, args));
}

/* agentstore.delete_user_state(app_name, user_id, key) */
Datum
agentstore_delete_user_state(PG_FUNCTION_ARGS)
{
	Datum		args[3];

	args[0] = PointerGetDatum(session_check_key_arg(fcinfo, 0, "app_name"));
	args[1] = PointerGetDatum(session_check_key_arg(fcinfo, 1, "user_id"));
	args[2] = PointerGetDatum(session_check_key_arg(fcinfo, 2, "key"));
	PG_RETURN_BOOL(delete_shared(true, args));
}

/* The filter_key argument: not NULL, at most 255 characters, '' allowed. */
static text *
filter_key_arg(FunctionCallInfo fcinfo, int argno)
{
	text	   *t;

	ArgName		name = ARGNAME("filter_key");

	argcheck_not_null(fcinfo, argno, "filter_key");
	t = PG_GETARG_TEXT_PP(argno);
	argcheck_text(&name, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
				  SESSION_KEY_MAX_LEN, true);
	return t;
}

/*
 * agentstore.put_session_summary(app_name, user_id, session_id, summary,
 * filter_key, session_ref): write the summary of one filter key ('' = the
 * whole session) of an active session, and slide the session's TTL.  With
 * session_ref, only that incarnation is written (else SV002).
 */
Datum
agentstore_put_session_summary(PG_FUNCTION_ARGS)
{
	static const char *find =
		"UPDATE agentstore.sessions"
		"   SET expires_at = CASE WHEN COALESCE(ttl, $4) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE(ttl, $4) END"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2"
		"   AND session_id OPERATOR(pg_catalog.=) $3 AND deleted_at IS NULL"
		"   AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"
		"   AND ($5::pg_catalog.int8 IS NULL OR id OPERATOR(pg_catalog.=) $5)"
		" RETURNING id";
	static const char *put =
		"INSERT INTO agentstore.session_summaries (app_name, session_ref, filter_key, summary)"
		" VALUES ($1, $2, $3, $4)"
		" ON CONFLICT (app_name, session_ref, filter_key) DO UPDATE"
		"   SET summary = excluded.summary, updated_at = pg_catalog.now(), deleted_at = NULL";
	static const Oid find_types[] = {TEXTOID, TEXTOID, TEXTOID, INTERVALOID, INT8OID};
	static const Oid put_types[] = {TEXTOID, INT8OID, TEXTOID, JSONBOID};
	SessionKey	key;
	text	   *filter_key;
	int64		session_ref;
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	session_get_key(fcinfo, &key);
	argcheck_not_null(fcinfo, 3, "summary");
	filter_key = filter_key_arg(fcinfo, 4);
	session_ref = session_ref_arg(fcinfo, 5);

	session_key_args(args, &key);
	args[3] = session_default_ttl(TTL_SESSION);
	args[4] = Int64GetDatum(session_ref);
	if (session_ref == 0)
		nulls[4] = 'n';
	SPI_connect();
	if (spi_run("session.summary.find", find, 5, find_types, args, nulls,
				false, 0, SPI_OK_UPDATE_RETURNING) == 0)
		session_report_missing(&key, session_ref);
	args[1] = Int64GetDatum(spi_int64(0, 1));
	args[2] = PointerGetDatum(filter_key);
	args[3] = PG_GETARG_DATUM(3);
	spi_run("session.summary.put", put, 4, put_types, args, NULL, false, 0,
			SPI_OK_INSERT);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * agentstore.get_session_summary(app_name, user_id, session_id, filter_key):
 * the summary of that filter key, else the whole-session summary (''),
 * else NULL.  NULL too when the session is absent, expired or deleted.
 */
Datum
agentstore_get_session_summary(PG_FUNCTION_ARGS)
{
	static const char *sql =
		"SELECT m.summary"
		"  FROM agentstore.sessions s"
		"  JOIN agentstore.session_summaries m"
		"    ON m.app_name OPERATOR(pg_catalog.=) s.app_name AND m.session_ref OPERATOR(pg_catalog.=) s.id"
		" WHERE s.app_name OPERATOR(pg_catalog.=) $1 AND s.user_id OPERATOR(pg_catalog.=) $2"
		"   AND s.session_id OPERATOR(pg_catalog.=) $3 AND s.deleted_at IS NULL"
		"   AND (s.expires_at IS NULL OR s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"
		"   AND m.deleted_at IS NULL"
		"   AND (m.filter_key OPERATOR(pg_catalog.=) $4 OR m.filter_key OPERATOR(pg_catalog.=) '')"
		" ORDER BY m.filter_key OPERATOR(pg_catalog.=) $4 DESC"
		" LIMIT 1";
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	SessionKey	key;
	Datum		args[4];
	Datum		result;
	bool		isnull;

	session_get_key(fcinfo, &key);
	session_key_args(args, &key);
	args[3] = PointerGetDatum(filter_key_arg(fcinfo, 3));
	result = spi_read_value("session.summary.get", sql, 4, types, args, NULL,
							&isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*-------------------------------------------------------------------------
 *
 * session_crud.c
 *	  create_session, get_or_create_session, get_session, delete_session.
 *
 * get_or_create_session looks the key up first and returns on a hit without
 * writing anything.  Only on a miss does it serialize with other creators of
 * the same key: it takes a transaction-level lock on a hash of the key in
 * agentstore's own lock space (keylock.h), reads again with a fresh snapshot
 * (READ COMMITTED takes one per statement) and inserts only if the key is
 * still free.  A creator holds that lock until it commits, so a waiter's
 * second read sees the new row: nobody errors, nobody gets nothing, and the
 * sequence moves only for rows really created.  create_session takes the
 * same lock.  Writers that do not take it (upsert_sessions, session_import,
 * plain INSERT) are caught by the INSERT ... ON CONFLICT DO NOTHING, after
 * which the loop reads again; that path may use up one sequence value.
 *
 * An active row whose expires_at has passed is treated as absent: creating
 * its key first retires it (as the TTL worker would) and then inserts.  The
 * retiring statement checks the expiry again, since the writers that do not
 * take the key lock may revive the row in between; a row not retired is
 * read again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "agentstore.h"
#include "keylock.h"
#include "sessions.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(agentstore_create_session);
PG_FUNCTION_INFO_V1(agentstore_get_or_create_session);
PG_FUNCTION_INFO_V1(agentstore_get_session);
PG_FUNCTION_INFO_V1(agentstore_delete_session);

/* A session row as create_session and get_or_create_session return it. */
typedef struct SessionRow
{
	int64		id;
	Datum		state;
	Datum		created_at;
	Datum		updated_at;
	Datum		expires_at;
	bool		expires_null;
	bool		expired;
} SessionRow;

static const Oid key_types[] = {TEXTOID, TEXTOID, TEXTOID};

/*
 * Fill a SessionRow from the first SPI result row (id, state, created_at,
 * updated_at, expires_at[, expired]), with copies in the caller's context
 * that outlive SPI_finish.
 */
static void
fetch_row(SessionRow *row, bool has_expired)
{
	bool		isnull;

	row->id = spi_int64(0, 1);
	row->state = spi_value(0, 2, &isnull);
	row->created_at = spi_value(0, 3, &isnull);
	row->updated_at = spi_value(0, 4, &isnull);
	row->expires_at = spi_value(0, 5, &isnull);
	row->expires_null = isnull;
	row->expired = has_expired ? DatumGetBool(spi_value(0, 6, &isnull)) : false;
}

/* Look the active row of a key up with a fresh statement snapshot. */
static bool
lookup_session(const SessionKey *key, SessionRow *row)
{
	static const char *sql =
		"SELECT id, state, created_at, updated_at, expires_at,"
		"       expires_at IS NOT NULL AND expires_at OPERATOR(pg_catalog.<=) pg_catalog.now()"
		"  FROM agentstore.sessions"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2"
		"   AND session_id OPERATOR(pg_catalog.=) $3 AND deleted_at IS NULL";
	Datum		args[3];

	session_key_args(args, key);
	if (spi_run("session.lookup", sql, 3, key_types, args, NULL, false, 1,
				SPI_OK_SELECT) == 0)
		return false;
	fetch_row(row, true);
	return true;
}

/*
 * Retire an active session whose TTL has passed, as the TTL worker would:
 * soft or hard according to agentstore.soft_delete.  The statement checks
 * the expiry again: a writer that does not take the key lock
 * (upsert_sessions, session_import) may have revived the row since it was
 * read, and READ COMMITTED then rechecks the new version, which must be
 * left alone.  Returns whether the row was retired; if not, the caller
 * reads the key again.
 */
static bool
retire_session(text *app_name, int64 id)
{
	static const char *soft =
		"UPDATE agentstore.sessions SET deleted_at = pg_catalog.now()"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2"
		"   AND deleted_at IS NULL"
		"   AND expires_at IS NOT NULL AND expires_at OPERATOR(pg_catalog.<=) pg_catalog.now()";
	static const char *hard =
		"DELETE FROM agentstore.sessions"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2"
		"   AND deleted_at IS NULL"
		"   AND expires_at IS NOT NULL AND expires_at OPERATOR(pg_catalog.<=) pg_catalog.now()";
	static const Oid types[] = {TEXTOID, INT8OID};
	Datum		args[2];
	bool		is_hard = !agentstore_soft_delete;
	uint64		n;

	args[0] = PointerGetDatum(app_name);
	args[1] = Int64GetDatum(id);
	if (is_hard)
		n = spi_run("session.retire_hard", hard, 2, types, args, NULL, false, 0,
					SPI_OK_DELETE);
	else
		n = spi_run("session.retire_soft", soft, 2, types, args, NULL, false, 0,
					SPI_OK_UPDATE);
	if (n == 0)
		return false;
	session_remove_rows(app_name, id, is_hard);
	return true;
}

/*
 * Insert a new incarnation of the key unless an active one exists (then
 * return false).  The state is the session part of the routed initial state.
 */
static bool
insert_session(const SessionKey *key, Jsonb *state, Interval *ttl,
			   SessionRow *row)
{
	static const char *sql =
		"INSERT INTO agentstore.sessions (app_name, user_id, session_id, state, ttl, expires_at)"
		" VALUES ($1, $2, $3, $4, $5,"
		"         CASE WHEN COALESCE($5, $6) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"         THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE($5, $6) END)"
		" ON CONFLICT (app_name, user_id, session_id) WHERE deleted_at IS NULL DO NOTHING"
		" RETURNING id, state, created_at, updated_at, expires_at";
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, INTERVALOID, INTERVALOID};
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	session_key_args(args, key);
	args[3] = JsonbPGetDatum(state);
	args[4] = PointerGetDatum(ttl);
	if (ttl == NULL)
		nulls[4] = 'n';
	args[5] = session_default_ttl(TTL_SESSION);
	if (spi_run("session.insert", sql, 6, types, args, nulls, false, 0,
				SPI_OK_INSERT_RETURNING) == 0)
		return false;
	fetch_row(row, false);
	return true;
}

/*
 * Build the session_info result, in the function's own memory context,
 * after SPI_finish: from the key arguments and the row's copies.
 */
static Datum
session_info_datum(FunctionCallInfo fcinfo, const SessionKey *key,
				   const SessionRow *row, bool created)
{
	TupleDesc	desc;
	Datum		values[9];
	bool		nulls[9] = {false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	values[0] = Int64GetDatum(row->id);
	values[1] = PointerGetDatum(key->app_name);
	values[2] = PointerGetDatum(key->user_id);
	values[3] = PointerGetDatum(key->session_id);
	values[4] = row->state;
	values[5] = row->created_at;
	values[6] = row->updated_at;
	values[7] = row->expires_at;
	nulls[7] = row->expires_null;
	values[8] = BoolGetDatum(created);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * Take the transaction-level lock on a session key that creators of the key
 * (create_session, get_or_create_session) hold until they commit.
 */
static void
lock_session_key(const SessionKey *key)
{
	const char *parts[3];

	parts[0] = text_to_cstring(key->app_name);
	parts[1] = text_to_cstring(key->user_id);
	parts[2] = text_to_cstring(key->session_id);
	keylock_acquire(KEYLOCK_SESSION_KEY, keylock_hash(3, parts));
}

/* The initial state argument (argno), routed; NULL counts as {}. */
static void
initial_state(FunctionCallInfo fcinfo, int argno, StateDelta *delta)
{
	session_parse_delta(session_check_object_arg(fcinfo, argno, "state", true),
						delta);
}

/*
 * agentstore.create_session(app_name, user_id, session_id, state, ttl):
 * create a session; an active, unexpired session with the key is an error.
 * A NULL session_id gets a random UUID.
 */
Datum
agentstore_create_session(PG_FUNCTION_ARGS)
{
	SessionKey	key;
	StateDelta	delta;
	Interval   *ttl;
	SessionRow	row;

	key.app_name = session_check_key_arg(fcinfo, 0, "app_name");
	key.user_id = session_check_key_arg(fcinfo, 1, "user_id");
	if (PG_ARGISNULL(2))
		key.session_id = cstring_to_text(DatumGetCString(
														 DirectFunctionCall1(uuid_out,
																			 DirectFunctionCall1(gen_random_uuid, (Datum) 0))));
	else
		key.session_id = session_check_key_arg(fcinfo, 2, "session_id");
	initial_state(fcinfo, 3, &delta);
	ttl = session_check_ttl_arg(fcinfo, 4);

	/* serialize with get_or_create_session's creators of this key */
	lock_session_key(&key);
	SPI_connect();

	/*
	 * An expired row is retired first; if it was revived (or removed)
	 * meanwhile, read the key again.
	 */
	while (lookup_session(&key, &row))
	{
		CHECK_FOR_INTERRUPTS();
		if (!row.expired)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("session already exists"),
					 errdetail("Key (app_name, user_id, session_id)=(%s) already exists.",
							   session_key_string(&key)),
					 errhint("Use agentstore.get_or_create_session() to reuse an existing session.")));
		if (retire_session(key.app_name, row.id))
			break;
	}
	if (!insert_session(&key, delta.session_set, ttl, &row))
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("session already exists"),
				 errdetail("Key (app_name, user_id, session_id)=(%s) was created concurrently.",
						   session_key_string(&key))));
	session_apply_shared_state(key.app_name, key.user_id, &delta);
	SPI_finish();
	PG_RETURN_DATUM(session_info_datum(fcinfo, &key, &row, true));
}

/*
 * agentstore.get_or_create_session(app_name, user_id, session_id, state,
 * ttl): the active session of the key, created (with state and ttl) if
 * there is none.  A hit writes nothing; see the file header for the race.
 */
Datum
agentstore_get_or_create_session(PG_FUNCTION_ARGS)
{
	SessionKey	key;
	SessionRow	row;
	StateDelta	delta;
	Interval   *ttl;
	bool		locked = false;
	bool		created = false;

	session_get_key(fcinfo, &key);
	ttl = session_check_ttl_arg(fcinfo, 4);
	if (!PG_ARGISNULL(3))
		(void) session_check_object_arg(fcinfo, 3, "state", true);

	SPI_connect();
	for (;;)
	{
		bool		found;

		CHECK_FOR_INTERRUPTS();
		found = lookup_session(&key, &row);
		if (found && !row.expired)
			break;				/* a hit */
		if (!locked)
		{
			lock_session_key(&key);
			locked = true;
			continue;			/* read again, now that creators wait for us */
		}
		if (found && !retire_session(key.app_name, row.id))
			continue;			/* revived (or removed) meanwhile: read again */
		initial_state(fcinfo, 3, &delta);
		if (insert_session(&key, delta.session_set, ttl, &row))
		{
			session_apply_shared_state(key.app_name, key.user_id, &delta);
			created = true;
			break;
		}
		/* someone created it without the lock: read it on the next round */
	}
	SPI_finish();
	PG_RETURN_DATUM(session_info_datum(fcinfo, &key, &row, created));
}

/*
 * agentstore.get_session(app_name, user_id, session_id, num_recent_events,
 * after): one jsonb document with the session, its state with app and user
 * state overlaid under "app:" and "user:", its summaries, the version of its
 * stream and its last num_recent_events events (default
 * agentstore.session_event_limit) created at or after 'after', in append
 * order.  The events are read by a backward scan of the primary key
 * (stream, version) that stops after num_recent_events rows, so the cost does
 * not grow with the session's history.  NULL when the session is absent,
 * expired or deleted.
 */
Datum
agentstore_get_session(PG_FUNCTION_ARGS)
{
	static const char *sql =
		"SELECT pg_catalog.jsonb_build_object("
		"    'id', s.id, 'app_name', s.app_name, 'user_id', s.user_id,"
		"    'session_id', s.session_id,"
		"    'state', s.state"
		"        OPERATOR(pg_catalog.||) COALESCE(("
		"            SELECT pg_catalog.jsonb_object_agg('app:' OPERATOR(pg_catalog.||) x.key, x.value)"
		"              FROM agentstore.app_states x"
		"             WHERE x.app_name OPERATOR(pg_catalog.=) s.app_name AND x.deleted_at IS NULL"
		"               AND (x.expires_at IS NULL OR x.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())),"
		"            '{}'::pg_catalog.jsonb)"
		"        OPERATOR(pg_catalog.||) COALESCE(("
		"            SELECT pg_catalog.jsonb_object_agg('user:' OPERATOR(pg_catalog.||) x.key, x.value)"
		"              FROM agentstore.user_states x"
		"             WHERE x.app_name OPERATOR(pg_catalog.=) s.app_name"
		"               AND x.user_id OPERATOR(pg_catalog.=) s.user_id AND x.deleted_at IS NULL"
		"               AND (x.expires_at IS NULL OR x.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())),"
		"            '{}'::pg_catalog.jsonb),"
		"    'created_at', s.created_at, 'updated_at', s.updated_at, 'expires_at', s.expires_at,"
		"    'version', COALESCE(("
		"        SELECT e.version FROM agentstore.events e"
		"         WHERE e.stream OPERATOR(pg_catalog.=) ('session-' OPERATOR(pg_catalog.||) s.id::pg_catalog.text)"
		"         ORDER BY e.version DESC LIMIT 1), 0),"
		"    'summaries', COALESCE(("
		"        SELECT pg_catalog.jsonb_object_agg(m.filter_key, pg_catalog.jsonb_build_object("
		"                   'summary', m.summary, 'updated_at', m.updated_at))"
		"          FROM agentstore.session_summaries m"
		"         WHERE m.app_name OPERATOR(pg_catalog.=) s.app_name"
		"           AND m.session_ref OPERATOR(pg_catalog.=) s.id AND m.deleted_at IS NULL),"
		"        '{}'::pg_catalog.jsonb),"
		"    'events', COALESCE(("
		"        SELECT pg_catalog.jsonb_agg(w.data ORDER BY w.version)"
		"          FROM (SELECT e.version, e.data FROM agentstore.events e"
		"                 WHERE e.stream OPERATOR(pg_catalog.=) ('session-' OPERATOR(pg_catalog.||) s.id::pg_catalog.text)"
		"                   AND e.deleted_at IS NULL"
		"                   AND ($5::pg_catalog.timestamptz IS NULL OR e.created_at OPERATOR(pg_catalog.>=) $5)"
		"                 ORDER BY e.version DESC LIMIT $4) w),"
		"        '[]'::pg_catalog.jsonb))"
		"  OPERATOR(pg_catalog.||) COALESCE(("
		"    SELECT pg_catalog.jsonb_object_agg(f.key, f.value)"
		"      FROM pg_catalog.jsonb_each(pg_catalog.jsonb_build_object("
		"               'agent_id', s.agent_id, 'team_id', s.team_id, 'workflow_id', s.workflow_id,"
		"               'name', s.name, 'metadata', s.metadata, 'agent_data', s.agent_data,"
		"               'runs', s.runs, 'summary', s.summary)) f"
		"     WHERE f.value OPERATOR(pg_catalog.<>) 'null'::pg_catalog.jsonb),"
		"    '{}'::pg_catalog.jsonb)"
		"  FROM agentstore.sessions s"
		" WHERE s.app_name OPERATOR(pg_catalog.=) $1 AND s.user_id OPERATOR(pg_catalog.=) $2"
		"   AND s.session_id OPERATOR(pg_catalog.=) $3 AND s.deleted_at IS NULL"
		"   AND (s.expires_at IS NULL OR s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())";
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID, INT4OID, TIMESTAMPTZOID};
	SessionKey	key;
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	int32		n;
	bool		isnull;
	Datum		result;

	session_get_key(fcinfo, &key);
	n = session_window_arg(fcinfo, 3);
	session_key_args(args, &key);
	args[3] = Int32GetDatum(n);
	if (PG_ARGISNULL(4))
	{
		args[4] = (Datum) 0;
		nulls[4] = 'n';
	}
	else
		args[4] = PG_GETARG_DATUM(4);

	result = spi_read_value("session.get", sql, 5, types, args, nulls, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * agentstore.delete_session(app_name, user_id, session_id, hard,
 * session_ref): delete the active incarnation of the key with its events,
 * track events and summaries, in this transaction.  Soft (stamp deleted_at)
 * unless hard, or hard is NULL and agentstore.soft_delete is off.  Returns
 * whether an unexpired session was deleted (an expired one is cleaned up
 * too).  With session_ref, only that incarnation is deleted; another one
 * active under the key is the stale-session error (SV002).
 * The session row is written first: that waits for an append_event holding
 * it, whose events the later statements then see.
 */
Datum
agentstore_delete_session(PG_FUNCTION_ARGS)
{
	static const char *soft =
		"UPDATE agentstore.sessions SET deleted_at = pg_catalog.now()"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2"
		"   AND session_id OPERATOR(pg_catalog.=) $3 AND deleted_at IS NULL"
		"   AND ($4::pg_catalog.int8 IS NULL OR id OPERATOR(pg_catalog.=) $4)"
		" RETURNING id, expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now()";
	static const char *hard =
		"DELETE FROM agentstore.sessions"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2"
		"   AND session_id OPERATOR(pg_catalog.=) $3 AND deleted_at IS NULL"
		"   AND ($4::pg_catalog.int8 IS NULL OR id OPERATOR(pg_catalog.=) $4)"
		" RETURNING id, expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now()";
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID, INT8OID};
	SessionKey	key;
	bool		is_hard;
	int64		session_ref;
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	uint64		n;
	bool		deleted = false;

	session_get_key(fcinfo, &key);
	is_hard = PG_ARGISNULL(3) ? !agentstore_soft_delete : PG_GETARG_BOOL(3);
	session_ref = session_ref_arg(fcinfo, 4);
	session_key_args(args, &key);
	args[3] = Int64GetDatum(session_ref);
	if (session_ref == 0)
		nulls[3] = 'n';

	SPI_connect();
	if (is_hard)
		n = spi_run("session.delete_hard", hard, 4, types, args, nulls, false, 0,
					SPI_OK_DELETE_RETURNING);
	else
		n = spi_run("session.delete_soft", soft, 4, types, args, nulls, false, 0,
					SPI_OK_UPDATE_RETURNING);
	if (n > 0)
	{
		int64		id = spi_int64(0, 1);
		bool		isnull;

		deleted = DatumGetBool(spi_value(0, 2, &isnull));
		session_remove_rows(key.app_name, id, is_hard);
	}
	else
		session_check_stale(&key, session_ref);
	SPI_finish();
	PG_RETURN_BOOL(deleted);
}

/*-------------------------------------------------------------------------
 *
 * session_events.c
 *	  The agent framework's hot path and the reads and upkeep around it:
 *	  append_event, append_session_events, append_track_event,
 *	  get_track_events, trim_session_events.
 *
 * append_event does everything in one round trip and at most five kept
 * statements (one without an event id, expected version or app/user keys
 * in the delta; two with an event id):
 *
 *	0. When the event has an id: lock the session row first (SELECT ...
 *	   FOR NO KEY UPDATE).  A concurrent append of the same event holds
 *	   that lock until it commits, so the statements below, which take a
 *	   fresh snapshot (READ COMMITTED) after the lock, see its event.
 *	1. UPDATE the session row: merge the session part of the delta, bump
 *	   updated_at, slide expires_at, count the event.  This locks the row,
 *	   so appends to one session and delete_session are serialized; a
 *	   missing, expired or deleted session updates nothing and is an error.
 *	   When the event has an id that the stream already holds, nothing is
 *	   updated either and the original version is returned (idempotent
 *	   retry).  With session_ref, only that incarnation of the key is
 *	   written; another one active under the key is SQLSTATE SV002.
 *	2. With an expected version: check SELECT on agentstore.events (the
 *	   version is read in C and a mismatch reveals it), lock the stream and
 *	   read its version (streams.h), and fail with SQLSTATE SV001 on a
 *	   mismatch.
 *	3. Write the app and user parts of the delta.
 *	4. INSERT the event without a version: the version trigger of
 *	   agentstore.events numbers it under the stream's lock.
 *
 * The event object is stored as it is given in events.data; its "id" (a
 * string or number, 1 to 255 characters as text) becomes events.event_id
 * and its "type" (a string) events.type.  created_at is the transaction's
 * timestamp.  Every statement is fully schema-qualified, operators (implicit
 * ones included: no CASE x WHEN) and functions alike, since it runs under
 * the caller's search_path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/array.h"
#include "utils/numeric.h"

#include "agentstore.h"
#include "argcheck.h"
#include "sessions.h"
#include "spi_util.h"
#include "stream_append.h"
#include "streams.h"

PG_FUNCTION_INFO_V1(agentstore_append_event);
PG_FUNCTION_INFO_V1(agentstore_append_session_events);
PG_FUNCTION_INFO_V1(agentstore_append_track_event);
PG_FUNCTION_INFO_V1(agentstore_get_track_events);
PG_FUNCTION_INFO_V1(agentstore_trim_session_events);

/*
 * The UPDATE of step 1; $7 is the event id (NULL: no idempotency check),
 * $10 the session_ref (NULL: any incarnation).
 */
#define APPEND_UPDATE(id_check) \
	"UPDATE agentstore.sessions s" \
	"   SET state = (s.state OPERATOR(pg_catalog.||) $4) OPERATOR(pg_catalog.-) $5::pg_catalog.text[]," \
	"       updated_at = pg_catalog.now(), event_count = s.event_count OPERATOR(pg_catalog.+) $8," \
	"       trim_needed = (s.event_count OPERATOR(pg_catalog.+) $8) OPERATOR(pg_catalog.>) $9," \
	"       expires_at = CASE WHEN COALESCE(s.ttl, $6) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval" \
	"                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE(s.ttl, $6) END" \
	" WHERE s.app_name OPERATOR(pg_catalog.=) $1 AND s.user_id OPERATOR(pg_catalog.=) $2" \
	"   AND s.session_id OPERATOR(pg_catalog.=) $3 AND s.deleted_at IS NULL" \
	"   AND (s.expires_at IS NULL OR s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())" \
	"   AND ($10::pg_catalog.int8 IS NULL OR s.id OPERATOR(pg_catalog.=) $10)" \
	id_check \
	" RETURNING s.id"
#define APPEND_ID_CHECK \
	"   AND NOT EXISTS (SELECT FROM agentstore.events e" \
	"        WHERE e.stream OPERATOR(pg_catalog.=) ('session-' OPERATOR(pg_catalog.||) s.id::pg_catalog.text)" \
	"          AND e.event_id OPERATOR(pg_catalog.=) $7)"

static const Oid update_types[] = {
	TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTARRAYOID, INTERVALOID, TEXTOID, INT8OID,
	INT8OID, INT8OID, TEXTOID, JSONBOID
};

/*
 * Steps 1 and 4 as one statement, when there is no expected version and no
 * app or user key to write in between: one executor start-up instead of two.
 * $11 and $12 are the event's type and data.
 */
#define APPEND_ONE(id_check) \
	"WITH touched AS (" APPEND_UPDATE(id_check) ")" \
	" INSERT INTO agentstore.events (stream, event_id, type, data)" \
	" SELECT 'session-' OPERATOR(pg_catalog.||) touched.id::pg_catalog.text, $7, $11, $12" \
	"   FROM touched" \
	" RETURNING version, position"

/*
 * The "id" of an event (element >= 0: of the events array) as text, or
 * NULL: a string or a number of 1 to EVENT_ID_MAX_LEN characters.
 */
static text *
event_id_of(JsonbContainer *event, const char *arg, int element)
{
	JsonbValue *v = getKeyJsonValueFromContainer(event, "id", 2, NULL);
	ArgName		name = {arg, element, "id"};

	if (v == NULL)
		return NULL;
	return argcheck_json_id(v, &name, EVENT_ID_MAX_LEN);
}

/* An event's type ("type": string) or ''. */
static text *
event_type_of(Jsonb *event)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&event->root, "type", 4, NULL);

	if (v != NULL && v->type == jbvString)
		return cstring_to_text_with_len(v->val.string.val, v->val.string.len);
	return cstring_to_text("");
}

/* The event argument: a JSON object. */
static Jsonb *
event_arg(FunctionCallInfo fcinfo, int argno)
{
	return argcheck_object(fcinfo, argno, "event", false);
}

/*
 * Step 0 of the file header: lock the active session row of the key (of
 * incarnation session_ref, if given), waiting for appends that hold it;
 * its id.  Missing or stale sessions are errors.
 */
static int64
lock_session(const SessionKey *key, int64 session_ref)
{
	static const char *sql =
		"SELECT s.id FROM agentstore.sessions s"
		" WHERE s.app_name OPERATOR(pg_catalog.=) $1 AND s.user_id OPERATOR(pg_catalog.=) $2"
		"   AND s.session_id OPERATOR(pg_catalog.=) $3 AND s.deleted_at IS NULL"
		"   AND (s.expires_at IS NULL OR s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"
		"   AND ($4::pg_catalog.int8 IS NULL OR s.id OPERATOR(pg_catalog.=) $4)"
		" FOR NO KEY UPDATE OF s";
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID, INT8OID};
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	session_key_args(args, key);
	args[3] = Int64GetDatum(session_ref);
	if (session_ref == 0)
		nulls[3] = 'n';
	if (spi_run("session.append.lock", sql, 4, types, args, nulls, false, 0,
				SPI_OK_SELECT) == 0)
		session_report_missing(key, session_ref);
	return spi_int64(0, 1);
}

/* The expected_version argument: NULL (any) or a valid expectation. */
static bool
expected_arg(FunctionCallInfo fcinfo, int argno, int64 *expected)
{
	if (PG_ARGISNULL(argno))
		return false;
	*expected = PG_GETARG_INT64(argno);
	stream_validate_expected_version(*expected);
	return true;
}

/* Fill the parameters $1..$10 of APPEND_UPDATE. */
static void
update_args(Datum *args, char *nulls, const SessionKey *key,
			const StateDelta *delta, text *event_id, int64 nevents,
			int64 session_ref)
{
	memset(nulls, ' ', 10);
	session_key_args(args, key);
	args[3] = JsonbPGetDatum(delta->session_set);
	args[4] = PointerGetDatum(delta->session_remove);
	args[5] = session_default_ttl(TTL_SESSION);
	args[6] = PointerGetDatum(event_id);
	if (event_id == NULL)
		nulls[6] = 'n';
	args[7] = Int64GetDatum(nevents);
	args[8] = Int64GetDatum(session_trim_threshold());
	args[9] = Int64GetDatum(session_ref);
	if (session_ref == 0)
		nulls[9] = 'n';
}

/*
 * Step 1 of the file header: update the session row; its id, or -1 if no
 * row was updated.
 */
static int64
touch_session(const SessionKey *key, const StateDelta *delta, text *event_id,
			  int64 nevents, int64 session_ref)
{
	static const char *plain = APPEND_UPDATE("");
	static const char *checked = APPEND_UPDATE(APPEND_ID_CHECK);
	Datum		args[10];
	char		nulls[10];
	uint64		n;

	update_args(args, nulls, key, delta, event_id, nevents, session_ref);
	if (event_id != NULL)
		n = spi_run("session.append.update_id", checked, 10, update_types,
					args, nulls, false, 0, SPI_OK_UPDATE_RETURNING);
	else
		n = spi_run("session.append.update", plain, 10, update_types,
					args, nulls, false, 0, SPI_OK_UPDATE_RETURNING);
	return n == 0 ? -1 : spi_int64(0, 1);
}

/*
 * No row was updated: either the session is missing (or stale), or the
 * event id is already in its stream (then return that event's version and
 * position).
 */
static void
duplicate_or_missing(const SessionKey *key, text *event_id, int64 session_ref,
					 int64 *version, int64 *position)
{
	static const char *sql =
		"SELECT e.version, e.position"
		"  FROM agentstore.sessions s"
		"  JOIN agentstore.events e"
		"    ON e.stream OPERATOR(pg_catalog.=) ('session-' OPERATOR(pg_catalog.||) s.id::pg_catalog.text)"
		"   AND e.event_id OPERATOR(pg_catalog.=) $4"
		" WHERE s.app_name OPERATOR(pg_catalog.=) $1 AND s.user_id OPERATOR(pg_catalog.=) $2"
		"   AND s.session_id OPERATOR(pg_catalog.=) $3 AND s.deleted_at IS NULL"
		"   AND (s.expires_at IS NULL OR s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"
		"   AND ($5::pg_catalog.int8 IS NULL OR s.id OPERATOR(pg_catalog.=) $5)";
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	if (event_id != NULL)
	{
		session_key_args(args, key);
		args[3] = PointerGetDatum(event_id);
		args[4] = Int64GetDatum(session_ref);
		if (session_ref == 0)
			nulls[4] = 'n';
		if (spi_run("session.append.duplicate", sql, 5, types, args, nulls,
					false, 1, SPI_OK_SELECT) > 0)
		{
			*version = spi_int64(0, 1);
			*position = spi_int64(0, 2);
			return;
		}
	}
	session_report_missing(key, session_ref);
}

/*
 * Step 2: check an expected version under the stream's lock.  The version
 * is read in C, past the executor's permission check, and a mismatch
 * reveals it: so check SELECT on agentstore.events first.
 */
static void
check_expected(const char *stream, int64 expected)
{
	Relation	rel;
	int64		actual;
	int			len = strlen(stream);

	session_check_events_select();
	rel = table_open(get_relname_relid("events", get_namespace_oid("agentstore", false)),
					 RowExclusiveLock);
	actual = stream_locked_version(rel, stream, len);
	table_close(rel, NoLock);
	stream_check_expected_version(stream, len, true, expected, actual);
}

/* An event id of a batch and the element it came from. */
typedef struct EventIdRef
{
	char	   *id;
	int			element;
} EventIdRef;

/* qsort comparator of EventIdRefs: by id. */
static int
event_id_cmp(const void *a, const void *b)
{
	return strcmp(((const EventIdRef *) a)->id, ((const EventIdRef *) b)->id);
}

/*
 * Fail, naming the element, if the stream already holds one of the ids of a
 * batch (the batch would be written twice on a retry otherwise).
 */
static void
check_ids_absent(const char *stream, EventIdRef *ids, int nids)
{
	static const char *sql =
		"SELECT event_id, version FROM agentstore.events"
		" WHERE stream OPERATOR(pg_catalog.=) $1"
		"   AND event_id OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.text[])"
		" ORDER BY version LIMIT 1";
	static const Oid types[] = {TEXTOID, TEXTARRAYOID};
	Datum	   *elems = palloc(sizeof(Datum) * nids);
	Datum		args[2];
	int			i;

	for (i = 0; i < nids; i++)
		elems[i] = CStringGetTextDatum(ids[i].id);
	args[0] = CStringGetTextDatum(stream);
	args[1] = PointerGetDatum(construct_array(elems, nids, TEXTOID, -1, false, TYPALIGN_INT));
	if (spi_run("session.append.ids_absent", sql, 2, types, args, NULL, false,
				1, SPI_OK_SELECT) > 0)
	{
		bool		isnull;
		char	   *found = TextDatumGetCString(spi_value(0, 1, &isnull));
		int64		version = spi_int64(0, 2);

		for (i = 0; i < nids; i++)
			if (strcmp(ids[i].id, found) == 0)
				break;
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("event id %s is already in stream \"%s\"",
						argcheck_quote(found, -1), stream),
				 errdetail("Element %d of the events array has the id of version " INT64_FORMAT ".",
						   i < nids ? ids[i].element : -1, version),
				 errhint("append_event() returns the original version of a retried event; a batch is written whole or not at all.")));
	}
}

/*
 * A (version, position) or (first, last, first, last) result row.  The
 * blessed descriptor is kept in fn_extra: this is the hot path.
 */
static Datum
result_row(FunctionCallInfo fcinfo, int n, int64 *vals, bool *nulls)
{
	TupleDesc	desc = (TupleDesc) fcinfo->flinfo->fn_extra;
	Datum		values[4];
	int			i;

	if (desc == NULL)
	{
		MemoryContext old;

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = desc;
	}
	for (i = 0; i < n; i++)
		values[i] = Int64GetDatum(vals[i]);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * Run the kept INSERT ... RETURNING version, position of 'key'; false if
 * it inserted nothing, else the pair in out[0], out[1].
 */
static bool
insert_returning(const char *key, const char *sql, int nargs,
				 const Oid *types, Datum *args, const char *nulls, int64 *out)
{
	if (spi_run(key, sql, nargs, types, args, nulls, false, 0,
				SPI_OK_INSERT_RETURNING) == 0)
		return false;
	out[0] = spi_int64(0, 1);
	out[1] = spi_int64(0, 2);
	return true;
}

/* Steps 1 and 4 in one statement; false if no row was updated. */
static bool
touch_and_insert(const SessionKey *key, const StateDelta *delta,
				 text *event_id, Jsonb *event, int64 session_ref, int64 *out)
{
	static const char *plain = APPEND_ONE("");
	static const char *checked = APPEND_ONE(APPEND_ID_CHECK);
	Datum		args[12];
	char		nulls[12];

	update_args(args, nulls, key, delta, event_id, 1, session_ref);
	args[10] = PointerGetDatum(event_type_of(event));
	args[11] = JsonbPGetDatum(event);
	nulls[10] = nulls[11] = ' ';
	if (event_id != NULL)
		return insert_returning("session.append.one_id", checked, 12,
								update_types, args, nulls, out);
	return insert_returning("session.append.one", plain, 12, update_types,
							args, nulls, out);
}

/*
 * agentstore.append_event(app_name, user_id, session_id, event, state_delta,
 * expected_version, session_ref): append one event to an active session
 * (of incarnation session_ref, if given) and apply the state delta, in one
 * call.  Returns the event's version and position; a retry of an event
 * with an id returns the original ones.
 */
Datum
agentstore_append_event(PG_FUNCTION_ARGS)
{
	static const char *insert =
		"INSERT INTO agentstore.events (stream, event_id, type, data)"
		" VALUES ($1, $2, $3, $4) RETURNING version, position";
	static const Oid insert_types[] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID};
	SessionKey	key;
	Jsonb	   *event;
	StateDelta	delta;
	int64		expected = 0;
	bool		has_expected;
	text	   *event_id;
	int64		session_ref;
	int64		id;
	int64		out[2];
	bool		nulls[2] = {false, false};
	char	   *stream;
	Datum		args[4];
	char		argnulls[4] = {' ', ' ', ' ', ' '};

	session_get_key(fcinfo, &key);
	event = event_arg(fcinfo, 3);
	session_parse_delta(argcheck_object(fcinfo, 4, "state_delta", true),
						&delta);
	has_expected = expected_arg(fcinfo, 5, &expected);
	session_ref = session_ref_arg(fcinfo, 6);
	event_id = event_id_of(&event->root, "event", -1);

	SPI_connect();
	if (event_id != NULL)
		(void) lock_session(&key, session_ref);
	if (!has_expected && delta.napp == 0 && delta.nuser == 0)
	{
		/* the common case: one statement (two with an event id) */
		if (!touch_and_insert(&key, &delta, event_id, event, session_ref, out))
			duplicate_or_missing(&key, event_id, session_ref, &out[0], &out[1]);
		SPI_finish();
		PG_RETURN_DATUM(result_row(fcinfo, 2, out, nulls));
	}
	id = touch_session(&key, &delta, event_id, 1, session_ref);
	if (id < 0)
	{
		duplicate_or_missing(&key, event_id, session_ref, &out[0], &out[1]);
		SPI_finish();
		PG_RETURN_DATUM(result_row(fcinfo, 2, out, nulls));
	}
	stream = session_stream_name(id);
	if (has_expected)
		check_expected(stream, expected);
	session_apply_shared_state(key.app_name, key.user_id, &delta);

	args[0] = CStringGetTextDatum(stream);
	args[1] = PointerGetDatum(event_id);
	if (event_id == NULL)
		argnulls[1] = 'n';
	args[2] = PointerGetDatum(event_type_of(event));
	args[3] = JsonbPGetDatum(event);
	if (!insert_returning("session.append.insert", insert, 4, insert_types,
						  args, argnulls, out))
		elog(ERROR, "the event was not inserted");
	SPI_finish();
	PG_RETURN_DATUM(result_row(fcinfo, 2, out, nulls));
}

/*
 * agentstore.append_session_events(app_name, user_id, session_id, events,
 * state_delta, expected_version, session_ref): append a non-empty array of
 * events in order and apply one state delta (deltas of several events
 * merged in order give the same result as applying them one by one).  All
 * or nothing; an event id already in the stream is a unique_violation here.
 * Returns the first and last version and position.
 */
Datum
agentstore_append_session_events(PG_FUNCTION_ARGS)
{
	static const char *insert =
		"INSERT INTO agentstore.events (stream, event_id, type, data)"
		" SELECT $1,"
		"        CASE WHEN pg_catalog.jsonb_typeof(e.value OPERATOR(pg_catalog.->) 'id')"
		"                  OPERATOR(pg_catalog.=) ANY ('{string,number}'::pg_catalog.text[])"
		"             THEN e.value OPERATOR(pg_catalog.->>) 'id' END,"
		"        CASE WHEN pg_catalog.jsonb_typeof(e.value OPERATOR(pg_catalog.->) 'type') OPERATOR(pg_catalog.=) 'string'"
		"             THEN e.value OPERATOR(pg_catalog.->>) 'type' ELSE '' END,"
		"        e.value"
		"   FROM pg_catalog.jsonb_array_elements($2) WITH ORDINALITY AS e(value, ord)"
		"  ORDER BY e.ord"
		" RETURNING version, position";
	static const Oid insert_types[] = {TEXTOID, JSONBOID};
	SessionKey	key;
	Jsonb	   *events;
	StateDelta	delta;
	int64		expected = 0;
	bool		has_expected;
	int64		session_ref;
	int			n,
				i;
	EventIdRef *ids;
	int			nids = 0;
	int64		id;
	int64		out[4];
	bool		nulls[4] = {false, false, false, false};
	char	   *stream;
	Datum		args[2];
	uint64		nrows,
				r;

	session_get_key(fcinfo, &key);
	events = argcheck_array(fcinfo, 3, "events", false);
	n = JB_ROOT_COUNT(events);
	ids = palloc(sizeof(EventIdRef) * n);
	for (i = 0; i < n; i++)
	{
		JsonbValue *v;
		text	   *eid;

		CHECK_FOR_INTERRUPTS();
		v = getIthJsonbValueFromContainer(&events->root, i);
		if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		{
			ArgName		name = {"events", i, NULL};

			argcheck_fail(ARG_NOT_OBJECT, &name,
						  "Element %d of the events array is a JSON %s.",
						  i, argcheck_json_type(v));
		}
		eid = event_id_of(v->val.binary.data, "events", i);
		if (eid == NULL)
			continue;
		ids[nids].id = text_to_cstring(eid);
		ids[nids].element = i;
		nids++;
	}
	/* an id twice in the batch */
	qsort(ids, nids, sizeof(EventIdRef), event_id_cmp);
	for (i = 1; i < nids; i++)
		if (strcmp(ids[i - 1].id, ids[i].id) == 0)
		{
			ArgName		name = ARGNAME("events");

			argcheck_fail(ARG_DUPLICATE, &name,
						  "Elements %d and %d have the same id %s.",
						  Min(ids[i - 1].element, ids[i].element),
						  Max(ids[i - 1].element, ids[i].element),
						  argcheck_quote(ids[i].id, -1));
		}
	session_parse_delta(argcheck_object(fcinfo, 4, "state_delta", true),
						&delta);
	has_expected = expected_arg(fcinfo, 5, &expected);
	session_ref = session_ref_arg(fcinfo, 6);

	SPI_connect();
	id = touch_session(&key, &delta, NULL, n, session_ref);
	if (id < 0)
		session_report_missing(&key, session_ref);
	stream = session_stream_name(id);
	if (has_expected)
		check_expected(stream, expected);
	if (nids > 0)
		check_ids_absent(stream, ids, nids);
	session_apply_shared_state(key.app_name, key.user_id, &delta);

	args[0] = CStringGetTextDatum(stream);
	args[1] = JsonbPGetDatum(events);
	nrows = spi_run("session.append.insert_many", insert, 2, insert_types,
					args, NULL, false, 0, SPI_OK_INSERT_RETURNING);
	if (nrows != (uint64) n)
		elog(ERROR, "appending the events inserted " UINT64_FORMAT " rows of %d",
			 nrows, n);
	out[0] = out[2] = PG_INT64_MAX;
	out[1] = out[3] = PG_INT64_MIN;
	for (r = 0; r < nrows; r++)
	{
		int64		v = spi_int64(r, 1);
		int64		p = spi_int64(r, 2);

		out[0] = Min(out[0], v);
		out[1] = Max(out[1], v);
		out[2] = Min(out[2], p);
		out[3] = Max(out[3], p);
	}
	SPI_finish();
	PG_RETURN_DATUM(result_row(fcinfo, 4, out, nulls));
}

/*
 * agentstore.append_track_event(app_name, user_id, session_id, track, event,
 * ttl, session_ref): append an event to one track of an active session
 * (stream 'track-<id>-<track>'), with expires_at = now() + (ttl, else
 * agentstore.track_event_ttl); the session's updated_at and TTL move too.
 * With session_ref, only that incarnation is written (else SV002).
 */
Datum
agentstore_append_track_event(PG_FUNCTION_ARGS)
{
	static const char *touch =
		"UPDATE agentstore.sessions"
		"   SET updated_at = pg_catalog.now(),"
		"       expires_at = CASE WHEN COALESCE(ttl, $4) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"                    THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE(ttl, $4) END"
		" WHERE app_name OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2"
		"   AND session_id OPERATOR(pg_catalog.=) $3 AND deleted_at IS NULL"
		"   AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"
		"   AND ($5::pg_catalog.int8 IS NULL OR id OPERATOR(pg_catalog.=) $5)"
		" RETURNING id";
	static const char *insert =
		"INSERT INTO agentstore.events (stream, event_id, type, data, expires_at)"
		" VALUES ($1, $2, $3, $4,"
		"         CASE WHEN COALESCE($5, $6) OPERATOR(pg_catalog.>) '0'::pg_catalog.interval"
		"         THEN pg_catalog.now() OPERATOR(pg_catalog.+) COALESCE($5, $6) END)"
		" RETURNING version, position";
	static const Oid touch_types[] = {TEXTOID, TEXTOID, TEXTOID, INTERVALOID, INT8OID};
	static const Oid insert_types[] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, INTERVALOID, INTERVALOID};
	SessionKey	key;
	text	   *track;
	Jsonb	   *event;
	Interval   *ttl;
	text	   *event_id;
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int64		out[2];
	bool		outnulls[2] = {false, false};
	int64		session_ref;
	int64		id;

	session_get_key(fcinfo, &key);
	track = session_check_key_arg(fcinfo, 3, "track");
	event = event_arg(fcinfo, 4);
	ttl = session_check_ttl_arg(fcinfo, 5);
	session_ref = session_ref_arg(fcinfo, 6);
	event_id = event_id_of(&event->root, "event", -1);

	SPI_connect();
	session_key_args(args, &key);
	args[3] = session_default_ttl(TTL_SESSION);
	args[4] = Int64GetDatum(session_ref);
	if (session_ref == 0)
		nulls[4] = 'n';
	if (spi_run("session.track.touch", touch, 5, touch_types, args, nulls,
				false, 0, SPI_OK_UPDATE_RETURNING) == 0)
		session_report_missing(&key, session_ref);
	id = spi_int64(0, 1);
	nulls[4] = ' ';

	args[0] = CStringGetTextDatum(session_track_stream_name(id, track));
	args[1] = PointerGetDatum(event_id);
	if (event_id == NULL)
		nulls[1] = 'n';
	args[2] = PointerGetDatum(event_type_of(event));
	args[3] = JsonbPGetDatum(event);
	args[4] = PointerGetDatum(ttl);
	if (ttl == NULL)
		nulls[4] = 'n';
	args[5] = session_default_ttl(TTL_TRACK_EVENT);
	if (!insert_returning("session.track.insert", insert, 6, insert_types,
						  args, nulls, out))
		elog(ERROR, "the track event was not inserted");
	SPI_finish();
	PG_RETURN_DATUM(result_row(fcinfo, 2, out, outnulls));
}

/*
 * agentstore.get_track_events(app_name, user_id, session_id, track,
 * num_recent_events, after): the last num_recent_events (default
 * agentstore.session_event_limit) unexpired events of a track created at or
 * after 'after', in append order, as a JSON array; NULL when the session is
 * absent, expired or deleted.
 */
Datum
agentstore_get_track_events(PG_FUNCTION_ARGS)
{
	static const char *sql =
		"SELECT COALESCE(("
		"    SELECT pg_catalog.jsonb_agg(w.data ORDER BY w.version)"
		"      FROM (SELECT e.version, e.data FROM agentstore.events e"
		"             WHERE e.stream OPERATOR(pg_catalog.=) ('track-' OPERATOR(pg_catalog.||) s.id::pg_catalog.text"
		"                                   OPERATOR(pg_catalog.||) '-' OPERATOR(pg_catalog.||) $4)"
		"               AND e.deleted_at IS NULL"
		"               AND (e.expires_at IS NULL OR e.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"
		"               AND ($6::pg_catalog.timestamptz IS NULL OR e.created_at OPERATOR(pg_catalog.>=) $6)"
		"             ORDER BY e.version DESC LIMIT $5) w),"
		"    '[]'::pg_catalog.jsonb)"
		"  FROM agentstore.sessions s"
		" WHERE s.app_name OPERATOR(pg_catalog.=) $1 AND s.user_id OPERATOR(pg_catalog.=) $2"
		"   AND s.session_id OPERATOR(pg_catalog.=) $3 AND s.deleted_at IS NULL"
		"   AND (s.expires_at IS NULL OR s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())";
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, TIMESTAMPTZOID};
	SessionKey	key;
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int32		n;
	bool		isnull;
	Datum		result;

	session_get_key(fcinfo, &key);
	args[3] = PointerGetDatum(session_check_key_arg(fcinfo, 3, "track"));
	n = session_window_arg(fcinfo, 4);
	session_key_args(args, &key);
	args[4] = Int32GetDatum(n);
	args[5] = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5);
	if (PG_ARGISNULL(5))
		nulls[5] = 'n';

	result = spi_read_value("session.track.read", sql, 6, types, args, nulls,
							&isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * agentstore.trim_session_events(batch_size): remove (for good) the oldest
 * events of active sessions beyond agentstore.session_event_retention, at
 * most batch_size events (default agentstore.ttl_batch_size) per call.
 * Returns the number of events removed; call it again while it returns
 * batch_size.  With a retention of 0 (the default) it removes nothing:
 * deleting events is opt-in, and agentstore.session_event_limit is only the
 * default window of the reads.
 *
 * append_event and append_session_events count a session's events and flag
 * the session when the count passes session_trim_threshold() (the retention
 * in force at that moment plus a tenth); only flagged sessions are visited
 * (so a lowered retention applies to a session from its next append on),
 * each is trimmed down to the retention, and events written to a session's
 * stream by other means are counted when a trim recounts.
 *
 * Sessions are taken one at a time with FOR UPDATE SKIP LOCKED: one that an
 * append holds is left for the next call instead of waited for, and an
 * append waits at most for the rest of this call's transaction.  Each
 * session is handled in a memory context reset before the next, so that a
 * call visiting many sessions uses no more memory than one visiting one.
 */
Datum
agentstore_trim_session_events(PG_FUNCTION_ARGS)
{
	static const char *find =
		"SELECT app_name, id FROM agentstore.sessions"
		" WHERE trim_needed AND deleted_at IS NULL"
		" LIMIT 1 FOR UPDATE SKIP LOCKED";
	static const char *trim =
		"DELETE FROM agentstore.events d"
		" USING (SELECT e.version FROM agentstore.events e"
		"         WHERE e.stream OPERATOR(pg_catalog.=) $1"
		"           AND e.version OPERATOR(pg_catalog.<=) ((SELECT m.version FROM agentstore.events m"
		"                                    WHERE m.stream OPERATOR(pg_catalog.=) $1"
		"                                    ORDER BY m.version DESC LIMIT 1) OPERATOR(pg_catalog.-) $2)"
		"         ORDER BY e.version LIMIT $3) old"
		" WHERE d.stream OPERATOR(pg_catalog.=) $1 AND d.version OPERATOR(pg_catalog.=) old.version";
	static const char *recount =
		"UPDATE agentstore.sessions s"
		"   SET event_count = c.n, trim_needed = c.n OPERATOR(pg_catalog.>) $4"
		"  FROM (SELECT pg_catalog.count(*) AS n FROM agentstore.events"
		"         WHERE stream OPERATOR(pg_catalog.=) $3) c"
		" WHERE s.app_name OPERATOR(pg_catalog.=) $1 AND s.id OPERATOR(pg_catalog.=) $2"
		" RETURNING s.trim_needed";
	static const Oid trim_types[] = {TEXTOID, INT8OID, INT8OID};
	static const Oid recount_types[] = {TEXTOID, INT8OID, TEXTOID, INT8OID};
	int64		keep = agentstore_session_event_retention;
	int64		threshold = session_trim_threshold();
	int64		budget = agentstore_ttl_batch_size;
	int64		removed = 0;
	MemoryContext session_cxt;
	MemoryContext old;

	if (!PG_ARGISNULL(0))
	{
		budget = PG_GETARG_INT32(0);
		argcheck_int64_min(budget, "batch_size", 1);
	}
	if (keep <= 0)
		PG_RETURN_INT64(0);

	SPI_connect();
	session_cxt = AllocSetContextCreate(CurrentMemoryContext, "trim_session_events session",
										ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(session_cxt);

	/*
	 * Each session visited ends unflagged (trimmed down to the retention) or
	 * uses up the budget, so no session is found twice.
	 */
	while (removed < budget)
	{
		bool		isnull;
		Datum		app_name;
		Datum		id;
		Datum		stream;
		Datum		args[4];
		uint64		deleted;
		bool		still_flagged;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(session_cxt);
		if (spi_run("session.trim.find", find, 0, NULL, NULL, NULL, false, 0,
					SPI_OK_SELECT) == 0)
		{
			SPI_freetuptable(SPI_tuptable);
			break;
		}
		app_name = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		app_name = PointerGetDatum(DatumGetTextPCopy(app_name));
		/* the value itself, before the tuple table goes (int8 by reference) */
		id = Int64GetDatum(DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc, 2, &isnull)));
		SPI_freetuptable(SPI_tuptable);
		stream = CStringGetTextDatum(session_stream_name(DatumGetInt64(id)));

		args[0] = stream;
		args[1] = Int64GetDatum(keep);
		args[2] = Int64GetDatum(budget - removed);
		deleted = spi_run("session.trim.delete", trim, 3, trim_types, args,
						  NULL, false, 0, SPI_OK_DELETE);
		removed += deleted;

		args[0] = app_name;
		args[1] = id;
		args[2] = stream;
		args[3] = Int64GetDatum(threshold);
		still_flagged = spi_run("session.trim.recount", recount, 4, recount_types,
								args, NULL, false, 0, SPI_OK_UPDATE_RETURNING) > 0 &&
			DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
		SPI_freetuptable(SPI_tuptable);

		/*
		 * Nothing deleted and still over the retention (a trigger or a
		 * row-level security policy kept the rows): the session would be
		 * found again, for ever.  Stop; a later call tries again.
		 */
		if (deleted == 0 && still_flagged)
			break;
	}
	MemoryContextSwitchTo(old);
	SPI_finish();				/* frees session_cxt with SPI's memory */
	PG_RETURN_INT64(removed);
}

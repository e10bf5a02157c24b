/*-------------------------------------------------------------------------
 *
 * ttl_pass.c
 *	  One expiry pass over the current database, shared by the background
 *	  worker (one transaction per batch) and agentstore.expire_now() (the
 *	  caller's transaction), and its record in agentstore.ttl_runs.
 *
 *	  A pass runs these steps in order:
 *
 *	  1. expire sessions: each session whose expires_at has passed goes
 *		 together with its events (streams 'session-<id>' and
 *		 'track-<id>-*'), and its summaries, in one statement;
 *	  2-4. expire events with their own expires_at (track events), app
 *		 state and user state, row by row;
 *	  5. expire checkpoint threads, each with its checkpoints, blobs and
 *		 writes (always deleted: LangGraph has no soft delete);
 *	  6. trim session events beyond agentstore.session_event_retention
 *		 (by default none), when agentstore.trim_session_events() exists;
 *	  7-11. purge, unless ttl_purge_after is -1: sessions soft-deleted
 *		 longer ago than ttl_purge_after (with everything of theirs), then
 *		 soft-deleted summaries, events, app state and user state.
 *
 *	  With agentstore.soft_delete on, "expire" stamps deleted_at; off, it
 *	  deletes.  Rows are found through the partial indexes on expires_at
 *	  and deleted_at, oldest first, and locked with FOR UPDATE SKIP LOCKED,
 *	  so that a session, thread or row a foreground transaction holds is
 *	  skipped (and expired by a later pass), never waited for; only the rows
 *	  of a session or thread already locked are waited for.  A batch
 *	  touches at most agentstore.ttl_batch_size rows, except that a session
 *	  or thread is never split: one larger than the batch is expired alone.
 *	  Its memory is bounded by the batch too (see TtlPass in ttl.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "agentstore.h"
#include "checkpoint.h"
#include "ttl.h"

const char *const ttl_table_names[TTL_NTABLES] = {
	"sessions", "session_summaries", "events", "app_states", "user_states",
	"checkpoint_threads", "checkpoints", "checkpoint_blobs", "checkpoint_writes"
};

/* Every operator in SQL built here is schema-qualified. */
#define OP(o) " OPERATOR(pg_catalog." o ") "

/* The statements of a pass; their text is built once, their plans kept. */
typedef enum TtlStmtId
{
	/* sessions: find the next one (with its row count), expire or delete it */
	S_SESSION_NEXT_ALIVE,		/* counts rows not yet soft-deleted */
	S_SESSION_NEXT_ALL,			/* counts every row */
	S_SESSION_PURGE_NEXT,
	S_SESSION_SOFT,
	S_SESSION_DELETE,
	/* checkpoint threads */
	S_THREAD_NEXT,
	S_THREAD_DELETE,
	/* row by row */
	S_EVENTS_SOFT,
	S_EVENTS_DELETE,
	S_APP_STATES_SOFT,
	S_APP_STATES_DELETE,
	S_USER_STATES_SOFT,
	S_USER_STATES_DELETE,
	S_SUMMARIES_PURGE,
	S_EVENTS_PURGE,
	S_APP_STATES_PURGE,
	S_USER_STATES_PURGE,
	/* bookkeeping, not shown by ttl_explain() */
	S_TRIM,
	S_TRIM_EXISTS,
	S_RUN_INSERT,
	S_RUN_UPDATE,
	S_RUN_PRUNE,
	S_RUN_INTERRUPTED,
	S_NSTMTS
} TtlStmtId;

#define S_FIRST_BOOKKEEPING S_TRIM

typedef struct TtlStmt
{
	const char *name;			/* shown by ttl_explain() */
	char	   *sql;
	int			nargs;
	Oid			argtypes[8];
	int			cursor_arg;		/* which argument is the cursor, or -1 */
	SPIPlanPtr	plan;
} TtlStmt;

static TtlStmt stmts[S_NSTMTS];

typedef enum TtlStepKind
{
	STEP_GROUP,					/* whole sessions or threads */
	STEP_ROWS,					/* independent rows */
	STEP_TRIM					/* agentstore.trim_session_events() */
} TtlStepKind;

typedef struct TtlStep
{
	const char *name;
	TtlStepKind kind;
	bool		purge;			/* skipped when ttl_purge_after = -1 */
	TtlStmtId	soft;			/* statement with soft delete on */
	TtlStmtId	hard;			/* statement with soft delete off (or always) */
	TtlStmtId	soft_apply;		/* STEP_GROUP: expire the group found */
	TtlStmtId	hard_apply;
	TtlTable	table;			/* STEP_ROWS: the table */
	bool		thread_lock;	/* STEP_GROUP: take the checkpoint thread lock */
	int			ncols;			/* STEP_GROUP: apply's output columns... */
	TtlTable	cols[4];		/* ...and the table each one counts */
} TtlStep;

#define GROUP(n, p, s, h, sa, ha, ...) \
	{.name = (n), .kind = STEP_GROUP, .purge = (p), .soft = (s), .hard = (h), \
	 .soft_apply = (sa), .hard_apply = (ha), .thread_lock = ((s) == S_THREAD_NEXT), \
	 .ncols = lengthof(((TtlTable[]) {__VA_ARGS__})), .cols = {__VA_ARGS__}}
#define ROWS(n, p, s, h, t) \
	{.name = (n), .kind = STEP_ROWS, .purge = (p), .soft = (s), .hard = (h), .table = (t)}

static const TtlStep steps[] = {
	GROUP("expire sessions", false, S_SESSION_NEXT_ALIVE, S_SESSION_NEXT_ALL,
		  S_SESSION_SOFT, S_SESSION_DELETE,
		  TTL_SESSIONS, TTL_SESSION_SUMMARIES, TTL_EVENTS),
	ROWS("expire events", false, S_EVENTS_SOFT, S_EVENTS_DELETE, TTL_EVENTS),
	ROWS("expire app_states", false, S_APP_STATES_SOFT, S_APP_STATES_DELETE, TTL_APP_STATES),
	ROWS("expire user_states", false, S_USER_STATES_SOFT, S_USER_STATES_DELETE, TTL_USER_STATES),
	GROUP("expire checkpoint threads", false, S_THREAD_NEXT, S_THREAD_NEXT,
		  S_THREAD_DELETE, S_THREAD_DELETE,
		  TTL_CHECKPOINT_THREADS, TTL_CHECKPOINTS, TTL_CHECKPOINT_BLOBS, TTL_CHECKPOINT_WRITES),
	{.name = "trim session events", .kind = STEP_TRIM, .soft = S_TRIM, .hard = S_TRIM,
	 .table = TTL_EVENTS},
	GROUP("purge sessions", true, S_SESSION_PURGE_NEXT, S_SESSION_PURGE_NEXT,
		  S_SESSION_DELETE, S_SESSION_DELETE,
		  TTL_SESSIONS, TTL_SESSION_SUMMARIES, TTL_EVENTS),
	ROWS("purge session_summaries", true, S_SUMMARIES_PURGE, S_SUMMARIES_PURGE,
		 TTL_SESSION_SUMMARIES),
	ROWS("purge events", true, S_EVENTS_PURGE, S_EVENTS_PURGE, TTL_EVENTS),
	ROWS("purge app_states", true, S_APP_STATES_PURGE, S_APP_STATES_PURGE, TTL_APP_STATES),
	ROWS("purge user_states", true, S_USER_STATES_PURGE, S_USER_STATES_PURGE, TTL_USER_STATES),
};

#define NSTEPS lengthof(steps)

/* Describe statement id: its name, text and argument types. */
static void
define_stmt(TtlStmtId id, const char *name, char *sql, int nargs,...)
{
	va_list		ap;
	int			i;

	stmts[id].name = name;
	stmts[id].sql = sql;
	stmts[id].nargs = nargs;
	stmts[id].cursor_arg = -1;
	va_start(ap, nargs);
	for (i = 0; i < nargs; i++)
		stmts[id].argtypes[i] = va_arg(ap, Oid);
	va_end(ap);
}

/*
 * The rows a session's expiry touches, counted for the session "s":
 * itself, its summaries, the events of its stream and of its track streams
 * ('track-<id>-' <= stream < 'track-<id>.', a range of the primary key,
 * whose "C" collation makes it a prefix).  alive_only limits it to rows not
 * yet soft-deleted.
 */
static char *
session_rows_sql(bool alive_only)
{
	const char *ef = alive_only ? " AND e.deleted_at IS NULL" : "";
	const char *mf = alive_only ? " AND m.deleted_at IS NULL" : "";

	return psprintf("1" OP("+")
					"(SELECT pg_catalog.count(*) FROM agentstore.events e"
					" WHERE e.stream" OP("=") "pg_catalog.concat('session-', s.id)%s)" OP("+")
					"(SELECT pg_catalog.count(*) FROM agentstore.events e"
					" WHERE e.stream" OP(">=") "pg_catalog.concat('track-', s.id, '-')"
					" AND e.stream" OP("<") "pg_catalog.concat('track-', s.id, '.')%s)" OP("+")
					"(SELECT pg_catalog.count(*) FROM agentstore.session_summaries m"
					" WHERE m.app_name" OP("=") "s.app_name AND m.session_ref" OP("=") "s.id%s)",
					ef, ef, mf);
}

/*
 * Expire (soft) or delete one session, $1 = app_name, $2 = id, with its
 * events and summaries; returns the rows touched in sessions, summaries,
 * events.
 */
static char *
session_apply_sql(bool soft)
{
	const char *head = soft ? "UPDATE %s SET deleted_at = pg_catalog.now() WHERE " : "DELETE FROM %s WHERE ";
	const char *alive = soft ? " AND deleted_at IS NULL" : "";
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "WITH e1 AS (");
	appendStringInfo(&buf, head, "agentstore.events");
	appendStringInfo(&buf, "stream" OP("=") "pg_catalog.concat('session-', $2)%s RETURNING 1),"
					 " e2 AS (", alive);
	appendStringInfo(&buf, head, "agentstore.events");
	appendStringInfo(&buf, "stream" OP(">=") "pg_catalog.concat('track-', $2, '-')"
					 " AND stream" OP("<") "pg_catalog.concat('track-', $2, '.')%s RETURNING 1),"
					 " m AS (", alive);
	appendStringInfo(&buf, head, "agentstore.session_summaries");
	appendStringInfo(&buf, "app_name" OP("=") "$1 AND session_ref" OP("=") "$2%s RETURNING 1),"
					 " s AS (", alive);
	appendStringInfo(&buf, head, "agentstore.sessions");
	appendStringInfo(&buf, "app_name" OP("=") "$1 AND id" OP("=") "$2%s RETURNING 1)"
					 " SELECT (SELECT pg_catalog.count(*) FROM s),"
					 " (SELECT pg_catalog.count(*) FROM m),"
					 " (SELECT pg_catalog.count(*) FROM e1)" OP("+") "(SELECT pg_catalog.count(*) FROM e2)",
					 alive);
	return buf.data;
}

/*
 * Expire (soft) or delete up to $1 rows of "table" whose expires_at has
 * passed, or ($3 given) purge up to $1 rows soft-deleted before $3; only
 * rows at or after the cursor $2 are looked at.  Returns how many, and the
 * cursor for the next batch.
 */
static char *
rows_sql(const char *table, bool soft, bool purge)
{
	const char *col = purge ? "deleted_at" : "expires_at";
	const char *find = purge ?
		"deleted_at" OP("<") "$3 AND deleted_at" OP(">=") "$2 ORDER BY deleted_at" :
		"expires_at" OP("<=") "pg_catalog.now() AND expires_at" OP(">=") "$2"
		" AND deleted_at IS NULL ORDER BY expires_at";

	return psprintf("WITH r AS (%s agentstore.%s%s WHERE ctid" OP("=") "ANY (ARRAY("
					"SELECT ctid FROM agentstore.%s WHERE %s LIMIT $1 FOR UPDATE SKIP LOCKED))"
					" RETURNING %s)"
					" SELECT pg_catalog.count(*), pg_catalog.max(%s) FROM r",
					soft ? "UPDATE" : "DELETE FROM", table,
					soft ? " SET deleted_at = pg_catalog.now()" : "", table, find, col, col);
}

/* Define a row-by-row statement (see rows_sql). */
static void
define_rows_stmt(TtlStmtId id, const char *name, const char *table, bool soft, bool purge)
{
	if (purge)
		define_stmt(id, name, rows_sql(table, soft, purge), 3,
					INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID);
	else
		define_stmt(id, name, rows_sql(table, soft, purge), 2, INT8OID, TIMESTAMPTZOID);
	stmts[id].cursor_arg = 1;
}

/* Build the text of every statement, once per backend. */
static void
build_statements(void)
{
	MemoryContext old;
	const char *next_expired =
		" FROM (SELECT app_name, id, expires_at FROM agentstore.sessions"
		" WHERE expires_at" OP("<=") "pg_catalog.now()"
		" AND ROW(expires_at, app_name, id)" OP(">") "ROW($1, $2, $3)"
		" AND deleted_at IS NULL ORDER BY expires_at, app_name, id"
		" LIMIT 1 FOR UPDATE SKIP LOCKED) s";

	if (stmts[0].sql != NULL)
		return;
	old = MemoryContextSwitchTo(TopMemoryContext);

	/*
	 * Each "next" statement returns the rows the group's expiry touches, the
	 * time and key of the group, and takes the time and key of the previous
	 * group as its cursor ($1 and the next one or two), then (purge) its
	 * cutoff: a lookup starts right after the previous group in the index on
	 * (time, key), so a pass walks each index once even in one transaction,
	 * where the entries it has processed are never killed, and however many
	 * groups share one time.  A group skipped (locked) is left behind the
	 * cursor for a later pass.
	 */
	define_stmt(S_SESSION_NEXT_ALIVE, "expire sessions: next session (soft delete on)",
				psprintf("SELECT %s, s.expires_at, s.app_name, s.id%s",
						 session_rows_sql(true), next_expired),
				3, TIMESTAMPTZOID, TEXTOID, INT8OID);
	define_stmt(S_SESSION_NEXT_ALL, "expire sessions: next session (soft delete off)",
				psprintf("SELECT %s, s.expires_at, s.app_name, s.id%s",
						 session_rows_sql(false), next_expired),
				3, TIMESTAMPTZOID, TEXTOID, INT8OID);
	define_stmt(S_SESSION_PURGE_NEXT, "purge sessions: next session",
				psprintf("SELECT %s, s.deleted_at, s.app_name, s.id"
						 " FROM (SELECT app_name, id, deleted_at FROM agentstore.sessions"
						 " WHERE deleted_at" OP("<") "$4"
						 " AND ROW(deleted_at, app_name, id)" OP(">") "ROW($1, $2, $3)"
						 " ORDER BY deleted_at, app_name, id LIMIT 1 FOR UPDATE SKIP LOCKED) s",
						 session_rows_sql(false)),
				4, TIMESTAMPTZOID, TEXTOID, INT8OID, TIMESTAMPTZOID);
	define_stmt(S_SESSION_SOFT, "expire sessions: stamp deleted_at",
				session_apply_sql(true), 2, TEXTOID, INT8OID);
	define_stmt(S_SESSION_DELETE, "expire or purge sessions: delete",
				session_apply_sql(false), 2, TEXTOID, INT8OID);

	define_stmt(S_THREAD_NEXT, "expire checkpoint threads: next thread",
				pstrdup("SELECT 1"
						OP("+") "(SELECT pg_catalog.count(*) FROM agentstore.checkpoints c"
						" WHERE c.thread_id" OP("=") "t.thread_id)"
						OP("+") "(SELECT pg_catalog.count(*) FROM agentstore.checkpoint_blobs b"
						" WHERE b.thread_id" OP("=") "t.thread_id)"
						OP("+") "(SELECT pg_catalog.count(*) FROM agentstore.checkpoint_writes w"
						" WHERE w.thread_id" OP("=") "t.thread_id),"
						" t.expires_at, t.thread_id"
						" FROM (SELECT thread_id, expires_at FROM agentstore.checkpoint_threads"
						" WHERE expires_at" OP("<=") "pg_catalog.now()"
						" AND ROW(expires_at, thread_id)" OP(">") "ROW($1, $2)"
						" ORDER BY expires_at, thread_id LIMIT 1 FOR UPDATE SKIP LOCKED) t"),
				2, TIMESTAMPTZOID, TEXTOID);
	define_stmt(S_THREAD_DELETE, "expire checkpoint threads: delete",
				pstrdup("WITH c AS (DELETE FROM agentstore.checkpoints"
						" WHERE thread_id" OP("=") "$1 RETURNING 1),"
						" b AS (DELETE FROM agentstore.checkpoint_blobs"
						" WHERE thread_id" OP("=") "$1 RETURNING 1),"
						" w AS (DELETE FROM agentstore.checkpoint_writes"
						" WHERE thread_id" OP("=") "$1 RETURNING 1),"
						" t AS (DELETE FROM agentstore.checkpoint_threads"
						" WHERE thread_id" OP("=") "$1 RETURNING 1)"
						" SELECT (SELECT pg_catalog.count(*) FROM t),"
						" (SELECT pg_catalog.count(*) FROM c),"
						" (SELECT pg_catalog.count(*) FROM b),"
						" (SELECT pg_catalog.count(*) FROM w)"), 1, TEXTOID);

	define_rows_stmt(S_EVENTS_SOFT, "expire events: stamp deleted_at", "events", true, false);
	define_rows_stmt(S_EVENTS_DELETE, "expire events: delete", "events", false, false);
	define_rows_stmt(S_APP_STATES_SOFT, "expire app_states: stamp deleted_at",
					 "app_states", true, false);
	define_rows_stmt(S_APP_STATES_DELETE, "expire app_states: delete", "app_states", false, false);
	define_rows_stmt(S_USER_STATES_SOFT, "expire user_states: stamp deleted_at",
					 "user_states", true, false);
	define_rows_stmt(S_USER_STATES_DELETE, "expire user_states: delete", "user_states", false, false);
	define_rows_stmt(S_SUMMARIES_PURGE, "purge session_summaries", "session_summaries", false, true);
	define_rows_stmt(S_EVENTS_PURGE, "purge events", "events", false, true);
	define_rows_stmt(S_APP_STATES_PURGE, "purge app_states", "app_states", false, true);
	define_rows_stmt(S_USER_STATES_PURGE, "purge user_states", "user_states", false, true);
	stmts[S_SESSION_NEXT_ALIVE].cursor_arg = 0;
	stmts[S_SESSION_NEXT_ALL].cursor_arg = 0;
	stmts[S_SESSION_PURGE_NEXT].cursor_arg = 0;
	stmts[S_THREAD_NEXT].cursor_arg = 0;

	define_stmt(S_TRIM, "trim session events",
				pstrdup("SELECT CAST(agentstore.trim_session_events($1) AS pg_catalog.int8)"),
				1, INT4OID);
	define_stmt(S_TRIM_EXISTS, "trim exists",
				pstrdup("SELECT pg_catalog.to_regprocedure("
						"'agentstore.trim_session_events(integer)') IS NOT NULL"), 0);
	define_stmt(S_RUN_INSERT, "record run",
				pstrdup("INSERT INTO agentstore.ttl_runs (origin, started_at, finished_at,"
						" transactions, expired, purged, trimmed, error)"
						" VALUES ($1, $2, $3, $4, CAST($5 AS pg_catalog.jsonb),"
						" CAST($6 AS pg_catalog.jsonb), $7, $8) RETURNING id"),
				8, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, TEXTOID, TEXTOID,
				INT8OID, TEXTOID);
	define_stmt(S_RUN_UPDATE, "update run",
				pstrdup("UPDATE agentstore.ttl_runs SET finished_at = $2, transactions = $3,"
						" expired = CAST($4 AS pg_catalog.jsonb),"
						" purged = CAST($5 AS pg_catalog.jsonb), trimmed = $6, error = $7"
						" WHERE id" OP("=") "$1"),
				7, INT8OID, TIMESTAMPTZOID, INT4OID, TEXTOID, TEXTOID, INT8OID, TEXTOID);
	define_stmt(S_RUN_PRUNE, "prune runs",
				pstrdup("DELETE FROM agentstore.ttl_runs WHERE id" OP("<=")
						"(SELECT id FROM agentstore.ttl_runs ORDER BY id DESC OFFSET $1 LIMIT 1)"),
				1, INT8OID);
	define_stmt(S_RUN_INTERRUPTED, "mark interrupted runs",
				pstrdup("UPDATE agentstore.ttl_runs SET error = 'interrupted: the worker was"
						" terminated or the server stopped before the pass finished'"
						" WHERE finished_at IS NULL AND error IS NULL"
						" AND origin" OP("=") "'worker'"), 0);

	MemoryContextSwitchTo(old);
}

/*
 * Execute statement id (prepared on first use) with the given arguments.
 * SPI leaves its procedure context current after every call; the caller's
 * context is made current again, so that what the caller allocates next
 * goes where it means it to (a batch's or a group's context), not into
 * memory that lives as long as the SPI connection.
 */
static void
exec_stmt(TtlStmtId id, Datum *values, const char *nulls)
{
	TtlStmt    *stmt = &stmts[id];
	MemoryContext caller = CurrentMemoryContext;
	int			rc;

	build_statements();
	if (stmt->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(stmt->sql, stmt->nargs, stmt->argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", stmt->sql,
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		stmt->plan = plan;
	}
	rc = SPI_execute_plan(stmt->plan, values, nulls, false, 0);
	MemoryContextSwitchTo(caller);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s", stmt->sql,
			 SPI_result_code_string(rc));
}

/* Column col (1-based) of the first result row as int64, 0 if NULL. */
static int64
result_int64(int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * Lock the extension against DROP EXTENSION for the rest of the
 * transaction and return its OID, or InvalidOid when it is not installed.
 * Taking this lock before any table lock means that DROP EXTENSION (which
 * locks the extension first) waits for one batch at most, and never
 * deadlocks with a pass.
 */
Oid
ttl_lock_extension(void)
{
	Oid			extoid = get_extension_oid("agentstore", true);

	if (!OidIsValid(extoid))
		return InvalidOid;
	LockDatabaseObject(ExtensionRelationId, extoid, 0, AccessShareLock);
	/* it may have been dropped while we waited */
	if (get_extension_oid("agentstore", true) != extoid)
		return InvalidOid;
	return extoid;
}

/*
 * Move the step's cursor to (cursor, keys): the time and key of the group
 * just expired or skipped, copied into the cursor's own context (nkeys 0:
 * back to the start of the index).
 */
static void
set_cursor(TtlPass *pass, TimestampTz cursor, int nkeys, const Datum *keys,
		   const bool *byval, const int16 *len)
{
	MemoryContext old = MemoryContextSwitchTo(pass->cursor_cxt);
	int			i;

	MemoryContextReset(pass->cursor_cxt);
	pass->cursor = cursor;
	pass->ncursor_keys = nkeys;
	for (i = 0; i < nkeys; i++)
		pass->cursor_keys[i] = datumCopy(keys[i], byval[i], len[i]);
	MemoryContextSwitchTo(old);
}

/*
 * The arguments of a group step's "next" statement: the cursor's time and
 * key, the key before every real one when there is none yet ('' sorts
 * before every app_name and thread_id, which are never empty, and the
 * smallest bigint before every session id), then the purge cutoff.
 */
static void
next_args(TtlPass *pass, const TtlStmt *stmt, bool purge, TimestampTz cutoff, Datum *args)
{
	int			nkeys = stmt->nargs - 1 - (purge ? 1 : 0);
	int			i;

	args[0] = TimestampTzGetDatum(pass->cursor);
	for (i = 0; i < nkeys; i++)
	{
		if (i < pass->ncursor_keys)
			args[i + 1] = pass->cursor_keys[i];
		else if (stmt->argtypes[i + 1] == INT8OID)
			args[i + 1] = Int64GetDatum(PG_INT64_MIN);
		else
			args[i + 1] = CStringGetTextDatum("");
	}
	if (purge)
		args[nkeys + 1] = TimestampTzGetDatum(cutoff);
}

/*
 * Expire whole groups (sessions or threads), oldest first, until the
 * batch is used up.  Returns true when no group is left.  Runs in
 * pass->group_cxt, reset for every group.
 */
static bool
run_group_step(TtlPass *pass, const TtlStep *step, int64 budget, int64 *used,
			   TimestampTz cutoff)
{
	bool		soft = agentstore_soft_delete && !step->purge;
	TtlStmtId	next = soft ? step->soft : step->hard;
	TtlStmtId	apply = soft ? step->soft_apply : step->hard_apply;
	int64	   *counts = step->purge ? pass->pending.purged : pass->pending.expired;

	for (;;)
	{
		Datum		args[4];
		bool		byval[2];
		int16		len[2];
		TupleDesc	tupdesc;
		int64		nrows;
		TimestampTz cursor;
		bool		isnull;
		int			nkeys;
		int			i;

		if (*used >= budget)
			return false;
		CHECK_FOR_INTERRUPTS();
		/* what one group needs lives until the next one is looked up */
		MemoryContextReset(pass->group_cxt);
		MemoryContextSwitchTo(pass->group_cxt);
		next_args(pass, &stmts[next], step->purge, cutoff, args);
		exec_stmt(next, args, NULL);
		if (SPI_processed == 0)
		{
			SPI_freetuptable(SPI_tuptable);
			return true;
		}

		/* rows, cursor, key... */
		tupdesc = SPI_tuptable->tupdesc;
		nrows = result_int64(1);
		cursor = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], tupdesc, 2, &isnull));
		/* a group that does not fit waits for the next batch, unless alone */
		if (*used > 0 && *used + nrows > budget)
		{
			SPI_freetuptable(SPI_tuptable);
			return false;
		}
		nkeys = tupdesc->natts - 2;
		Assert(nkeys <= lengthof(byval));
		for (i = 0; i < nkeys; i++)
		{
			Form_pg_attribute att = TupleDescAttr(tupdesc, i + 2);

			byval[i] = att->attbyval;
			len[i] = att->attlen;
			args[i] = datumCopy(SPI_getbinval(SPI_tuptable->vals[0], tupdesc, i + 3, &isnull),
								byval[i], len[i]);
		}
		SPI_freetuptable(SPI_tuptable);

		/*
		 * A checkpoint thread is removed under the checkpoints feature's
		 * exclusive thread lock, as expire_checkpoint_threads() does, so that
		 * a put racing the expiry either slides the TTL first or finds the
		 * thread gone.  One being written to is skipped (the cursor moves
		 * past it): a later pass gets it.  So is one written since this
		 * transaction's snapshot (expire_now() under REPEATABLE READ, or a
		 * database whose default isolation is such): its statements would
		 * not see the new checkpoint or pending writes, and leave them
		 * behind for good.
		 */
		if (step->thread_lock &&
			(!cp_lock_thread(DatumGetTextPP(args[0]), ExclusiveLock, true) ||
			 cp_thread_written_since_snapshot(args[0])))
		{
			set_cursor(pass, cursor, nkeys, args, byval, len);
			continue;
		}

		exec_stmt(apply, args, NULL);
		for (i = 0; i < step->ncols; i++)
		{
			int64		n = result_int64(i + 1);

			counts[step->cols[i]] += n;
			*used += n;
		}
		SPI_freetuptable(SPI_tuptable);
		set_cursor(pass, cursor, nkeys, args, byval, len);
	}
}

/*
 * Expire or purge independent rows, up to what is left of the batch.
 * Returns true when fewer than asked for were found (the step is done).
 */
static bool
run_rows_step(TtlPass *pass, const TtlStep *step, int64 budget, int64 *used,
			  TimestampTz cutoff)
{
	bool		soft = agentstore_soft_delete && !step->purge;
	Datum		args[3];
	int64		limit = budget - *used;
	int64		n;
	bool		isnull;
	Datum		cursor;

	if (limit <= 0)
		return false;
	args[0] = Int64GetDatum(limit);
	args[1] = TimestampTzGetDatum(pass->cursor);
	args[2] = TimestampTzGetDatum(cutoff);
	exec_stmt(soft ? step->soft : step->hard, args, NULL);
	n = result_int64(1);
	cursor = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (!isnull)
		pass->cursor = DatumGetTimestampTz(cursor);
	SPI_freetuptable(SPI_tuptable);
	if (step->purge)
		pass->pending.purged[step->table] += n;
	else
		pass->pending.expired[step->table] += n;
	*used += n;
	return n < limit;
}

/* Let the sessions feature trim long sessions, within the batch. */
static bool
run_trim_step(TtlPass *pass, int64 budget, int64 *used)
{
	int64		limit = budget - *used;
	Datum		arg;
	int64		n;

	if (limit <= 0)
		return false;
	arg = Int32GetDatum((int32) Min(limit, PG_INT32_MAX));
	exec_stmt(S_TRIM, &arg, NULL);
	n = SPI_processed > 0 ? result_int64(1) : 0;
	SPI_freetuptable(SPI_tuptable);
	pass->pending.trimmed += n;
	*used += n;
	return n < limit;
}

/*
 * Set up a pass: origin is 'worker' or 'expire_now'; its memory is a child
 * of parent, so that an error that unwinds past the caller frees it too.
 */
void
ttl_pass_init(TtlPass *pass, const char *origin, MemoryContext parent)
{
	memset(pass, 0, sizeof(TtlPass));
	pass->origin = origin;
	pass->started_at = GetCurrentTimestamp();
	pass->cursor = DT_NOBEGIN;
	pass->cxt = AllocSetContextCreate(parent, "agentstore ttl pass",
									  ALLOCSET_SMALL_SIZES);
	pass->cursor_cxt = AllocSetContextCreate(pass->cxt, "agentstore ttl cursor",
											 ALLOCSET_SMALL_SIZES);
	pass->batch_cxt = AllocSetContextCreate(pass->cxt, "agentstore ttl batch",
											ALLOCSET_DEFAULT_SIZES);
	/* not a child of batch_cxt: resetting a context deletes its children */
	pass->group_cxt = AllocSetContextCreate(pass->cxt, "agentstore ttl group",
											ALLOCSET_SMALL_SIZES);
}

/* Free what the pass still holds. */
void
ttl_pass_end(TtlPass *pass)
{
	MemoryContextDelete(pass->cxt);
	pass->cxt = pass->cursor_cxt = pass->batch_cxt = pass->group_cxt = NULL;
	pass->ncursor_keys = 0;
}

/* In the pass's first transaction: see which optional steps exist. */
void
ttl_pass_start(TtlPass *pass)
{
	exec_stmt(S_TRIM_EXISTS, NULL, NULL);
	pass->trim_exists = SPI_processed > 0 && result_int64(1) != 0;
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Run the pass's steps in the current transaction until the batch
 * (agentstore.ttl_batch_size rows) is used up.  Returns true when every
 * step is done.  Settings are read afresh for every batch.
 */
bool
ttl_pass_batch(TtlPass *pass)
{
	int64		budget = agentstore_ttl_batch_size;
	int64		used = 0;
	TimestampTz cutoff = 0;
	MemoryContext old;

	/* everything a batch allocates is gone by the next batch */
	MemoryContextReset(pass->batch_cxt);
	old = MemoryContextSwitchTo(pass->batch_cxt);
	if (agentstore_ttl_purge_after >= 0)
		cutoff = GetCurrentTransactionStartTimestamp() -
			(int64) agentstore_ttl_purge_after * USECS_PER_SEC;
	pass->pending.transactions = 1;

	while (pass->step < NSTEPS)
	{
		const TtlStep *step = &steps[pass->step];
		bool		done;

		if (step->purge && agentstore_ttl_purge_after < 0)
			done = true;
		else if (step->kind == STEP_TRIM)
			done = !pass->trim_exists || run_trim_step(pass, budget, &used);
		else if (step->kind == STEP_GROUP)
			done = run_group_step(pass, step, budget, &used, cutoff);
		else
			done = run_rows_step(pass, step, budget, &used, cutoff);
		MemoryContextSwitchTo(pass->batch_cxt);
		if (!done)
			break;
		pass->step++;
		set_cursor(pass, DT_NOBEGIN, 0, NULL, NULL, NULL);
	}
	MemoryContextSwitchTo(old);
	return pass->step >= NSTEPS;
}

/* What the pass is doing, for pg_stat_activity. */
const char *
ttl_pass_step_name(TtlPass *pass)
{
	return pass->step < NSTEPS ? steps[pass->step].name : "finishing";
}

/* The current transaction committed: its counts are now for good. */
void
ttl_pass_committed(TtlPass *pass)
{
	int			i;

	for (i = 0; i < TTL_NTABLES; i++)
	{
		pass->committed.expired[i] += pass->pending.expired[i];
		pass->committed.purged[i] += pass->pending.purged[i];
	}
	pass->committed.trimmed += pass->pending.trimmed;
	pass->committed.transactions += pass->pending.transactions;
	memset(&pass->pending, 0, sizeof(pass->pending));
	pass->run_committed = pass->run_id != 0;
}

/* JSON object {"table": count, ...} of the tables a count applies to. */
static char *
counts_json(const int64 *a, const int64 *b, bool purged)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < TTL_NTABLES; i++)
	{
		/* checkpoints are never soft-deleted, so never purged */
		if (purged && i >= TTL_CHECKPOINT_THREADS)
			break;
		appendStringInfo(&buf, "%s\"%s\": " INT64_FORMAT, i > 0 ? ", " : "",
						 ttl_table_names[i], a[i] + b[i]);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * Write the pass's ttl_runs row in the current transaction: counts so far
 * (those of the current transaction included), and when finished its end
 * time, its error if any, and trim the history to TTL_HISTORY_SIZE runs.
 */
void
ttl_pass_save(TtlPass *pass, bool finished, const char *error)
{
	TtlCounts  *c = &pass->committed;
	TtlCounts  *p = &pass->pending;
	Datum		v[8];
	char		n[9] = "        ";
	int			i = 0;

	if (pass->run_id == 0)
		v[i++] = CStringGetTextDatum(pass->origin);
	else
		v[i++] = Int64GetDatum(pass->run_id);
	if (pass->run_id == 0)
		v[i++] = TimestampTzGetDatum(pass->started_at);
	v[i] = TimestampTzGetDatum(GetCurrentTimestamp());
	if (!finished)
		n[i] = 'n';
	i++;
	v[i++] = Int32GetDatum(c->transactions + p->transactions);
	v[i++] = CStringGetTextDatum(counts_json(c->expired, p->expired, false));
	v[i++] = CStringGetTextDatum(counts_json(c->purged, p->purged, true));
	v[i++] = Int64GetDatum(c->trimmed + p->trimmed);
	v[i] = error ? CStringGetTextDatum(error) : (Datum) 0;
	if (error == NULL)
		n[i] = 'n';

	if (pass->run_id == 0)
	{
		exec_stmt(S_RUN_INSERT, v, n);
		pass->run_id = result_int64(1);
		SPI_freetuptable(SPI_tuptable);
	}
	else
		exec_stmt(S_RUN_UPDATE, v, n);

	if (finished)
	{
		Datum		keep = Int64GetDatum(TTL_HISTORY_SIZE);

		exec_stmt(S_RUN_PRUNE, &keep, NULL);
	}
}

/*
 * At the start of a worker's pass: runs of earlier workers that never
 * finished were interrupted (the worker was terminated, or the server
 * stopped); say so.  Only one worker runs per database at a time.
 */
void
ttl_runs_mark_interrupted(void)
{
	exec_stmt(S_RUN_INTERRUPTED, NULL, NULL);
}

PG_FUNCTION_INFO_V1(agentstore_expire_now);
PG_FUNCTION_INFO_V1(agentstore_ttl_explain);

/*
 * agentstore.expire_now(): run one whole pass now, in the caller's
 * transaction, and return the rows expired, purged and trimmed per table.
 * Batches still bound each statement, but every lock is held to the end of
 * the caller's transaction.
 */
Datum
agentstore_expire_now(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TtlPass		pass;
	int			i;

	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	if (!OidIsValid(ttl_lock_extension()))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"agentstore\" is not installed in this database")));
	ttl_pass_init(&pass, "expire_now", fcinfo->flinfo->fn_mcxt);
	ttl_pass_start(&pass);
	while (!ttl_pass_batch(&pass))
		CHECK_FOR_INTERRUPTS();
	ttl_pass_save(&pass, true, NULL);
	ttl_pass_end(&pass);
	SPI_finish();

	for (i = 0; i < TTL_NTABLES; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(ttl_table_names[i]);
		values[1] = Int64GetDatum(pass.pending.expired[i]);
		values[2] = Int64GetDatum(pass.pending.purged[i]);
		values[3] = Int64GetDatum(i == TTL_EVENTS ? pass.pending.trimmed : 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * agentstore.ttl_explain(): the plan of every statement an expiry pass
 * runs, as EXPLAIN (COSTS OFF) shows it for this database's tables and
 * statistics.  For operations (is the pass using the indexes on my data?)
 * and for the regression test that asserts it never scans a whole table.
 */
Datum
agentstore_ttl_explain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			id;

	InitMaterializedSRF(fcinfo, 0);
	build_statements();

	SPI_connect();
	for (id = 0; id < S_FIRST_BOOKKEEPING; id++)
	{
		TtlStmt    *stmt = &stmts[id];
		Datum		args[8];
		StringInfoData plan;
		Datum		values[2];
		bool		nulls[2] = {false, false};
		int			i;
		uint64		row;

		/* representative arguments: a batch, a cursor, now, an unknown key */
		for (i = 0; i < stmt->nargs; i++)
		{
			switch (stmt->argtypes[i])
			{
				case INT8OID:
					args[i] = Int64GetDatum(agentstore_ttl_batch_size);
					break;
				case TIMESTAMPTZOID:
					/* a cursor at its start; a purge cutoff of now */
					args[i] = TimestampTzGetDatum(i == stmt->cursor_arg ? DT_NOBEGIN :
												  GetCurrentTransactionStartTimestamp());
					break;
				default:
					args[i] = CStringGetTextDatum("");
					break;
			}
		}
		if (SPI_execute_with_args(psprintf("EXPLAIN (COSTS OFF) %s", stmt->sql),
								  stmt->nargs, stmt->argtypes, args, NULL,
								  false, 0) < 0)
			elog(ERROR, "could not explain \"%s\"", stmt->sql);

		initStringInfo(&plan);
		for (row = 0; row < SPI_processed; row++)
			appendStringInfo(&plan, "%s%s", row > 0 ? "\n" : "",
							 SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 1));
		values[0] = CStringGetTextDatum(stmt->name);
		values[1] = CStringGetTextDatum(plan.data);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

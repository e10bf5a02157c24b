/*-------------------------------------------------------------------------
 *
 * stream_read.c
 *	  Reading event streams: read_stream, read_all, read_category and
 *	  stream_version.  Each runs one prepared, schema-qualified query
 *	  (kept across calls) in the caller's snapshot.
 *
 * Commit order.  position comes from a sequence and commits out of order,
 * so a reader that remembers "the last position I saw" can skip an event
 * for good: a transaction that took a lower position may commit after the
 * reader passed it.  read_all and read_category therefore
 *	 - return only events of transactions older than the oldest transaction
 *	   still running in the reader's snapshot (transaction_id <
 *	   pg_snapshot_xmin(pg_current_snapshot())): every such transaction has
 *	   ended, and any transaction that commits later has a greater id;
 *	 - order by (transaction_id, position), and take as cursor the pair of
 *	   the last event returned.  Everything committed later sorts after it.
 * The cursor is (after_transaction_id, after_position).  A caller that only
 * kept the position may pass it alone: the transaction is then looked up
 * from the event at that position (which must still exist).
 *
 * Reads skip soft-deleted events (deleted_at) and expired ones (expires_at
 * in the past), whether or not the TTL worker has processed them yet.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/rls.h"
#include "utils/xid8.h"

#include "streams.h"

/* Most events one read returns. */
#define STREAM_READ_MAX_COUNT	10000

/* The columns every read returns, in the functions' OUT order. */
#define EVENT_COLUMNS \
	"stream, version, position, transaction_id, event_id, type, data," \
	" metadata, created_at, expires_at"

/* Events that a read shows: not soft-deleted, not expired. */
#define EVENT_IS_LIVE \
	" deleted_at IS NULL" \
	" AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"

/* Only transactions that have ended in the reader's snapshot. */
#define COMMITTED_BEFORE_ALL_RUNNING \
	" transaction_id OPERATOR(pg_catalog.<)" \
	" pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())"

static SPIPlanPtr read_stream_plan = NULL;
static SPIPlanPtr read_all_plan = NULL;
static SPIPlanPtr read_category_plan = NULL;
static SPIPlanPtr read_category_group_plan = NULL;
static SPIPlanPtr position_plan = NULL;
static SPIPlanPtr version_plan = NULL;

PG_FUNCTION_INFO_V1(agentstore_read_stream);
PG_FUNCTION_INFO_V1(agentstore_read_all);
PG_FUNCTION_INFO_V1(agentstore_read_category);
PG_FUNCTION_INFO_V1(agentstore_stream_version);

/* Reject a NULL argument that has no meaning. */
static void
require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/* The stream argument: not NULL, a valid stream name. */
static Datum
get_stream(FunctionCallInfo fcinfo, int argno)
{
	text	   *stream;

	require_arg(fcinfo, argno, "stream");
	stream = PG_GETARG_TEXT_PP(argno);
	stream_check_name("stream", VARDATA_ANY(stream), VARSIZE_ANY_EXHDR(stream));
	return PointerGetDatum(stream);
}

/* max_count must be 1..STREAM_READ_MAX_COUNT. */
static int32
get_max_count(FunctionCallInfo fcinfo, int argno)
{
	int32		max_count;

	require_arg(fcinfo, argno, "max_count");
	max_count = PG_GETARG_INT32(argno);
	if (max_count < 1 || max_count > STREAM_READ_MAX_COUNT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_count must be between 1 and %d", STREAM_READ_MAX_COUNT),
				 errdetail("max_count is %d.", max_count)));
	return max_count;
}

/*
 * Run a read-only query in the caller's snapshot, preparing it the first
 * time and keeping the plan for the backend's life.  Call inside SPI.
 */
static void
run_kept(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types,
		 Datum *args, long count)
{
	int			rc;

	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*plan = p;
	}
	rc = SPI_execute_plan(*plan, args, NULL, true, count);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
}

/*
 * Return the rows of the read just run by run_kept as the function's result
 * set (the query's columns match agentstore.event), and leave SPI.
 */
static Datum
return_rows(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
	SPI_finish();
	return (Datum) 0;
}

/*
 * agentstore.read_stream(stream text, from_version bigint DEFAULT 1,
 *						  max_count integer DEFAULT 1000)
 * Events of one stream from a version on, in version order.
 */
Datum
agentstore_read_stream(PG_FUNCTION_ARGS)
{
	Oid			types[] = {TEXTOID, INT8OID, INT4OID};
	Datum		args[3];
	int32		max_count;

	args[0] = get_stream(fcinfo, 0);
	require_arg(fcinfo, 1, "from_version");
	max_count = get_max_count(fcinfo, 2);
	if (PG_GETARG_INT64(1) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from_version must not be negative"),
				 errdetail("from_version is " INT64_FORMAT ".", PG_GETARG_INT64(1))));
	args[1] = PG_GETARG_DATUM(1);
	args[2] = Int32GetDatum(max_count);

	SPI_connect();
	run_kept(&read_stream_plan,
			 "SELECT " EVENT_COLUMNS " FROM agentstore.events"
			 " WHERE stream OPERATOR(pg_catalog.=) $1"
			 " AND version OPERATOR(pg_catalog.>=) $2 AND" EVENT_IS_LIVE
			 " ORDER BY version LIMIT $3",
			 3, types, args, 0);
	return return_rows(fcinfo);
}

/*
 * The transaction part of a read_all / read_category cursor: the argument
 * if given, else the transaction of the event at after_position (0 = from
 * the start).  Call inside SPI.
 */
static Datum
cursor_transaction(FunctionCallInfo fcinfo, int position_arg, int xid_arg)
{
	Oid			types[] = {INT8OID};
	Datum		args[1];
	int64		after_position;
	bool		isnull;

	require_arg(fcinfo, position_arg, "after_position");
	after_position = PG_GETARG_INT64(position_arg);
	if (after_position < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("after_position must not be negative"),
				 errdetail("after_position is " INT64_FORMAT ".", after_position)));
	if (!PG_ARGISNULL(xid_arg))
		return PG_GETARG_DATUM(xid_arg);
	if (after_position == 0)
		return FullTransactionIdGetDatum(FullTransactionIdFromU64(0));

	args[0] = Int64GetDatum(after_position);
	run_kept(&position_plan,
			 "SELECT transaction_id FROM agentstore.events"
			 " WHERE position OPERATOR(pg_catalog.=) $1",
			 1, types, args, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no event at position " INT64_FORMAT, after_position),
				 errdetail("A cursor given by its position alone needs the event at that position to find its transaction."),
				 errhint("Pass after_transaction_id, the transaction_id of the last event read.")));
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
}

/*
 * agentstore.read_all(after_position bigint DEFAULT 0,
 *					   max_count integer DEFAULT 1000,
 *					   after_transaction_id xid8 DEFAULT NULL)
 * Events of every stream in commit order (see the file header).
 */
Datum
agentstore_read_all(PG_FUNCTION_ARGS)
{
	Oid			types[] = {XID8OID, INT8OID, INT4OID};
	Datum		args[3];
	int32		max_count = get_max_count(fcinfo, 1);

	SPI_connect();
	args[0] = cursor_transaction(fcinfo, 0, 2);
	args[1] = PG_GETARG_DATUM(0);
	args[2] = Int32GetDatum(max_count);
	run_kept(&read_all_plan,
			 "SELECT " EVENT_COLUMNS " FROM agentstore.events"
			 " WHERE (transaction_id, position) OPERATOR(pg_catalog.>) ($1, $2)"
			 " AND" COMMITTED_BEFORE_ALL_RUNNING " AND" EVENT_IS_LIVE
			 " ORDER BY transaction_id, position LIMIT $3",
			 3, types, args, 0);
	return return_rows(fcinfo);
}

/*
 * agentstore.read_category(category text, after_position bigint DEFAULT 0,
 *							max_count integer DEFAULT 1000,
 *							member integer DEFAULT NULL,
 *							group_size integer DEFAULT NULL,
 *							after_transaction_id xid8 DEFAULT NULL)
 * Events of the streams of one category (the part of the name before the
 * first '-'), in commit order as read_all.  With a consumer group, member m
 * of n gets the streams with abs(hashtextextended(stream, 0) % n) = m:
 * every stream goes to exactly one member, always the same one.
 */
Datum
agentstore_read_category(PG_FUNCTION_ARGS)
{
	Oid			types[] = {TEXTOID, XID8OID, INT8OID, INT4OID, INT4OID, INT4OID};
	Datum		args[6];
	int32		max_count;
	text	   *category;
	bool		group;

	require_arg(fcinfo, 0, "category");
	max_count = get_max_count(fcinfo, 2);
	category = PG_GETARG_TEXT_PP(0);
	if (VARSIZE_ANY_EXHDR(category) == 0 ||
		memchr(VARDATA_ANY(category), '-', VARSIZE_ANY_EXHDR(category)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid category"),
				 errdetail("category is \"%s\"; a category is the non-empty part of a stream name before its first '-'.",
						   stream_quote(VARDATA_ANY(category),
										VARSIZE_ANY_EXHDR(category)))));
	if (PG_ARGISNULL(3) != PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("member and group_size must be given together")));
	group = !PG_ARGISNULL(4);
	if (group && (PG_GETARG_INT32(4) < 1 || PG_GETARG_INT32(3) < 0 ||
				  PG_GETARG_INT32(3) >= PG_GETARG_INT32(4)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid consumer group member"),
				 errdetail("member is %d and group_size is %d; group_size must be at least 1 and member between 0 and group_size - 1.",
						   PG_GETARG_INT32(3), PG_GETARG_INT32(4))));

	SPI_connect();
	args[0] = PointerGetDatum(category);
	args[1] = cursor_transaction(fcinfo, 1, 5);
	args[2] = PG_GETARG_DATUM(1);
	args[3] = Int32GetDatum(max_count);
	args[4] = group ? PG_GETARG_DATUM(3) : Int32GetDatum(0);
	args[5] = group ? PG_GETARG_DATUM(4) : Int32GetDatum(1);

#define CATEGORY_QUERY(partition) \
	"SELECT " EVENT_COLUMNS " FROM agentstore.events" \
	" WHERE pg_catalog.split_part(stream, '-', 1) OPERATOR(pg_catalog.=) $1" \
	" AND (transaction_id, position) OPERATOR(pg_catalog.>) ($2, $3)" \
	" AND" COMMITTED_BEFORE_ALL_RUNNING \
	" AND" EVENT_IS_LIVE \
	partition \
	" ORDER BY transaction_id, position LIMIT $4"

	if (group)
		run_kept(&read_category_group_plan,
				 CATEGORY_QUERY(" AND pg_catalog.abs(pg_catalog.hashtextextended(stream, 0)"
								" OPERATOR(pg_catalog.%) $6) OPERATOR(pg_catalog.=) $5"),
				 6, types, args, 0);
	else
		run_kept(&read_category_plan, CATEGORY_QUERY(""), 4, types, args, 0);
	return return_rows(fcinfo);
#undef CATEGORY_QUERY
}

/*
 * agentstore.stream_version(stream text) -> bigint
 * The stream's current version as the caller's snapshot sees it, the value
 * to pass as the next append's expectation: its highest version,
 * soft-deleted events included, or its high-water mark in
 * agentstore.stream_heads when its newest events have been deleted (their
 * versions are never issued again, so an append expecting the highest
 * remaining one would fail); 0 if it never had an event.  Under row-level
 * security the high-water mark is not consulted: it would tell a tenant
 * about events the policies hide.  (An append checks its expectation
 * against the latest committed version instead, under the stream's lock.)
 */
Datum
agentstore_stream_version(PG_FUNCTION_ARGS)
{
	Oid			types[] = {TEXTOID};
	Datum		args[1];
	Datum		result;
	bool		isnull;
	int64		version;
	Oid			relid;

	args[0] = get_stream(fcinfo, 0);
	SPI_connect();
	run_kept(&version_plan,
			 "SELECT pg_catalog.max(version) FROM agentstore.events"
			 " WHERE stream OPERATOR(pg_catalog.=) $1",
			 1, types, args, 1);
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	version = isnull ? 0 : DatumGetInt64(result);
	SPI_finish();

	/* the query checked SELECT on the events */
	relid = events_table_oid();
	if (check_enable_rls(relid, InvalidOid, false) != RLS_ENABLED)
	{
		Relation	rel = table_open(relid, AccessShareLock);
		int64		head = stream_head_version(rel, DatumGetTextPP(args[0]));

		table_close(rel, AccessShareLock);
		version = Max(version, head);
	}
	PG_RETURN_INT64(version);
}

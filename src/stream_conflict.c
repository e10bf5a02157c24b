/*-------------------------------------------------------------------------
 *
 * stream_conflict.c
 *	  The last expected-version conflict (SQLSTATE SV001) of this session,
 *	  for clients that must map it to their own error type.
 *
 * The SV001 message and DETAIL are for people: the DETAIL quotes the stream
 * name as a bounded prefix (stream_quote), so a client cannot tell which
 * stream of a multi-stream append failed when two names share that prefix.
 * Every SV001 records the full stream name, the expected and the actual
 * version here just before it is raised, and
 * agentstore.last_version_conflict() returns them afterwards (the failed
 * transaction has ended by then: call it in the next one).
 *
 * The record lives in TopMemoryContext until the next conflict replaces it.
 * It belongs to the role that was current when it was raised: another role
 * (SET ROLE, SET SESSION AUTHORIZATION) gets no row, so it cannot learn a
 * version it was not told.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "streams.h"

PG_FUNCTION_INFO_V1(agentstore_last_version_conflict);

static char *conflict_stream = NULL;
static int64 conflict_expected;
static int64 conflict_actual;
static Oid	conflict_user = InvalidOid;

/*
 * Remember a conflict that is about to be raised.  Called before ereport,
 * so it must not fail: the name is at most STREAM_NAME_MAX_LEN characters
 * (checked before any append looks at versions).
 */
void
stream_remember_conflict(const char *name, int len, int64 expected,
						 int64 actual)
{
	char	   *copy = MemoryContextAlloc(TopMemoryContext, len + 1);

	memcpy(copy, name, len);
	copy[len] = '\0';
	if (conflict_stream != NULL)
		pfree(conflict_stream);
	conflict_stream = copy;
	conflict_expected = expected;
	conflict_actual = actual;
	conflict_user = GetUserId();
}

/*
 * agentstore.last_version_conflict(OUT stream, OUT expected_version,
 * OUT actual_version): one row for the last SV001 of this session raised
 * for the current role, none if there was none.
 */
Datum
agentstore_last_version_conflict(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	InitMaterializedSRF(fcinfo, 0);
	if (conflict_stream == NULL || conflict_user != GetUserId())
		PG_RETURN_VOID();
	values[0] = CStringGetTextDatum(conflict_stream);
	values[1] = Int64GetDatum(conflict_expected);
	values[2] = Int64GetDatum(conflict_actual);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	PG_RETURN_VOID();
}

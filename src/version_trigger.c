/*-------------------------------------------------------------------------
 *
 * version_trigger.c
 *	  agentstore.version_trigger(): the BEFORE INSERT row trigger of
 *	  agentstore.events that numbers every stream 1, 2, 3... for any
 *	  writer: plain INSERT, multi-row INSERT ... SELECT and COPY.
 *
 * A row without a version gets the stream's next version from the version
 * module (stream_versions.c): the first row of a stream in a transaction
 * takes the stream's lock and probes the primary key, later rows count on
 * in memory.  A row whose event id the stream already holds (committed, or
 * written earlier by this transaction) consumes no version: it gets the
 * next one without it being handed out, and then either INSERT ... ON
 * CONFLICT skips it (DO NOTHING) or updates the stored row, keeping the
 * stored version (DO UPDATE), or the unique (stream, event_id) index
 * refuses it.  Either way no number is lost.  A row with a version keeps it ("import mode": pg_dump,
 * migrations); only the primary key checks it.
 *
 * The trigger also stamps transaction_id with the inserting transaction,
 * whatever the row carried: commit-ordered readers (read_all) rely on no
 * row ever arriving with an older transaction id than its writer's, which a
 * restored row (carrying its original cluster's id) would otherwise do.
 *
 * append_events numbers its rows itself and does not fire this trigger.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/rel.h"
#include "utils/xid8.h"

#include "streams.h"

PG_FUNCTION_INFO_V1(agentstore_version_trigger);

/*
 * BEFORE INSERT FOR EACH ROW: assign the version of a row that has none and
 * stamp the writing transaction.  Returns the (possibly modified) row.
 */
Datum
agentstore_version_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	const StreamTableInfo *info;
	Datum		stream_datum;
	bool		isnull;
	text	   *stream;
	const char *name;
	int			len;
	int			ncols = 0;
	int			cols[2];
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum		version;
	Datum		xid;
	FullTransactionId current;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("agentstore.version_trigger() must be called as a trigger")));
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("agentstore.version_trigger() must be fired BEFORE INSERT FOR EACH ROW")));

	rel = trigdata->tg_relation;
	tupdesc = RelationGetDescr(rel);
	tuple = trigdata->tg_trigtuple;
	info = stream_table_info(rel);
	if (info->transaction_id_attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" cannot hold event streams",
						RelationGetRelationName(rel)),
				 errdetail("An events table needs the column transaction_id xid8.")));

	/* A NULL stream is left to the NOT NULL constraint. */
	stream_datum = heap_getattr(tuple, info->stream_attnum, tupdesc, &isnull);
	if (isnull)
		return PointerGetDatum(tuple);
	stream = DatumGetTextPP(stream_datum);
	name = VARDATA_ANY(stream);
	len = VARSIZE_ANY_EXHDR(stream);

	version = heap_getattr(tuple, info->version_attnum, tupdesc, &isnull);
	if (isnull)
	{
		text	   *event_id = NULL;
		bool		duplicate;

		if (info->event_id_attnum != InvalidAttrNumber)
		{
			Datum		id = heap_getattr(tuple, info->event_id_attnum, tupdesc,
										  &isnull);

			if (!isnull)
				event_id = DatumGetTextPP(id);
		}
		cols[ncols] = info->version_attnum;
		values[ncols++] = Int64GetDatum(stream_version_for_row(rel, name, len,
															   event_id,
															   &duplicate));
	}
	else
		stream_note_version(rel, name, len, DatumGetInt64(version));

	current = GetTopFullTransactionId();
	xid = heap_getattr(tuple, info->transaction_id_attnum, tupdesc, &isnull);
	if (isnull || !FullTransactionIdEquals(DatumGetFullTransactionId(xid), current))
	{
		cols[ncols] = info->transaction_id_attnum;
		values[ncols++] = FullTransactionIdGetDatum(current);
	}

	if (ncols == 0)
		return PointerGetDatum(tuple);
	return PointerGetDatum(heap_modify_tuple_by_cols(tuple, tupdesc, ncols,
													 cols, values, nulls));
}

/*-------------------------------------------------------------------------
 *
 * stream_append.c
 *	  agentstore.append_events() and agentstore.append_streams(): append
 *	  whole arrays of events with optimistic concurrency and idempotency,
 *	  through the executor's bulk-insert API.
 *
 * An append runs in three phases, so that nothing is written unless every
 * check passes:
 *
 * 1. Parse and validate the JSON arguments (stream_parse.c).
 * 2. Lock every stream of the call, in lock-key order (so that two
 *    multi-stream appends cannot deadlock), read its current version, look
 *    up the event ids it already holds, and check the expectations.
 * 3. Number the new events (one reservation per stream in the version
 *    module, shared with the version trigger) and write them as COPY does:
 *    buffered slots, table_multi_insert, then index insertion and AFTER ROW
 *    triggers (foreign keys included) per row, statement triggers and
 *    transition tables around it.  The BEFORE ROW version trigger is not
 *    fired: the rows already carry their versions, and the trigger would
 *    only keep them (import mode).
 *
 * When the bulk path would bypass something a plain INSERT honours -- BEFORE
 * ROW triggers other than the version trigger, stored generated columns, a
 * partitioned table -- each event is written by a plain INSERT through SPI
 * instead, with the version already assigned.  Row-level security cannot be
 * honoured this way (phase 2 reads the whole stream), so an append refuses
 * to run when it applies to the caller.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parsetree.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "stream_append.h"
#include "streams.h"

/* Flush the buffered rows at this many rows or bytes (as COPY does). */
#define APPEND_BUFFER_ROWS		1000
#define APPEND_BUFFER_BYTES		65535

/* State of the write phase. */
typedef struct AppendWriter
{
	Relation	rel;
	AppendColumns cols;
	bool		bulk;			/* multi-insert; else one SPI INSERT per event */
	int			natts;
	EState	   *estate;
	MemoryContext batch_context;	/* the buffered rows' values */

	/* column defaults: stable ones evaluated once, volatile ones per row */
	ExprState **volatile_default;
	Datum	   *default_value;
	bool	   *default_null;
	bool	   *computed;		/* columns this writer fills in */
	bool	   *supplied;		/* scratch: columns the current event sets */

	/* bulk path */
	ResultRelInfo *rri;
	TransitionCaptureState *transition_capture;
	BulkInsertState bistate;
	CommandId	cid;
	TupleTableSlot *slots[APPEND_BUFFER_ROWS];
	int			nused;
	Size		nbytes;

	/* SPI path */
	Datum	   *values;
	bool	   *nulls;
} AppendWriter;

static SPIPlanPtr insert_plan = NULL;

PG_FUNCTION_INFO_V1(agentstore_append_events);
PG_FUNCTION_INFO_V1(agentstore_append_events_text);
PG_FUNCTION_INFO_V1(agentstore_append_streams);

/*
 * Check INSERT on the columns an append sets and SELECT on those it reads
 * back (as INSERT ... RETURNING would), with the executor's own check so
 * that column privileges and the ExecutorCheckPerms hook apply.  Returns the
 * range table entry, which the bulk path's executor state uses.
 */
static CompatRelPerms
check_permissions(Relation rel, const AppendColumns *cols)
{
	AttrNumber	inserted[] = {cols->stream, cols->version, cols->event_id, cols->type,
	cols->data, cols->metadata, cols->expires_at};
	AttrNumber	selected[] = {cols->stream, cols->version, cols->event_id, cols->position};
	Bitmapset  *inserted_set = NULL;
	Bitmapset  *selected_set = NULL;
	CompatRelPerms perms;

	for (int i = 0; i < lengthof(inserted); i++)
		inserted_set = bms_add_member(inserted_set,
									  inserted[i] - FirstLowInvalidHeapAttributeNumber);
	for (int i = 0; i < lengthof(selected); i++)
		selected_set = bms_add_member(selected_set,
									  selected[i] - FirstLowInvalidHeapAttributeNumber);
	perms = compat_relation_perms(RelationGetRelid(rel), rel->rd_rel->relkind,
								  RowExclusiveLock, ACL_INSERT | ACL_SELECT,
								  selected_set, inserted_set, NULL);
	compat_check_perms(&perms);
	return perms;
}

/*
 * Refuse to append when row-level security applies to the caller.  An
 * append reads the stream's current version and the event ids it holds
 * under the stream's lock, past any policy, and a replay or a version
 * conflict would return or reveal rows of other users (their versions,
 * positions, existence).  A plain INSERT into the table honours the
 * policies and is numbered by the version trigger.
 */
static void
refuse_under_rls(Relation rel, const char *funcname)
{
	if (check_enable_rls(RelationGetRelid(rel), InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s does not support row-level security on \"%s\"",
						funcname, RelationGetRelationName(rel)),
				 errdetail("Row-level security applies to the current user; an append reads versions and event ids of the whole stream."),
				 errhint("Append with INSERT INTO agentstore.events: the version trigger numbers the rows and the policies apply.")));
}

/*
 * Whether the bulk path writes exactly what a plain INSERT would.  It does
 * not fire BEFORE ROW triggers or compute generated columns, and it writes
 * into a plain table only.  (Row-level security is refused before.)
 */
static bool
bulk_path_allowed(Relation rel, const EventsTable *table)
{
	return table->bulk_ok;
}

/* Index of the first event that has an id (the append has one). */
static int
first_with_id(StreamAppend *sa)
{
	for (int i = 0; i < sa->nevents; i++)
		if (sa->events[i].event_id != NULL)
			return i;
	return -1;
}

/* Index of the last event that has an id (the append has one). */
static int
last_with_id(StreamAppend *sa)
{
	for (int i = sa->nevents - 1; i >= 0; i--)
		if (sa->events[i].event_id != NULL)
			return i;
	return -1;
}

/*
 * Look up event ids of an append that the stream already holds, under the
 * stream's lock: probes of the unique (stream, event_id) index with
 * SnapshotSelf, which also sees this transaction's own earlier rows.  With
 * 'ends_only', only the first and the last event that have an id are
 * looked up.  Marks the events found and returns how many.
 */
static int
find_stored_events(Relation rel, StreamAppend *sa, bool ends_only)
{
	const StreamTableInfo *info = stream_table_info(rel);
	Relation	index;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	ScanKeyData keys[2];
	int			nstored = 0;
	int			first = first_with_id(sa);
	int			last = last_with_id(sa);

	if (!OidIsValid(info->event_id_index))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no unique index on (stream, event_id)",
						RelationGetRelationName(rel))));

	index = index_open(info->event_id_index, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	scan = compat_index_beginscan(rel, index, SnapshotSelf, 2, 0);
	for (int i = 0; i < sa->nevents; i++)
	{
		AppendEvent *ev = &sa->events[i];
		text	   *id;

		if (ev->event_id == NULL)
			continue;
		if (ends_only && i != first && i != last)
			continue;
		CHECK_FOR_INTERRUPTS();
		id = cstring_to_text_with_len(ev->event_id, ev->event_id_len);
		ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
							   index->rd_indcollation[0], F_TEXTEQ,
							   PointerGetDatum(sa->stream));
		ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
							   index->rd_indcollation[1], F_TEXTEQ,
							   PointerGetDatum(id));
		index_rescan(scan, keys, 2, NULL, 0);
		if (index_getnext_slot(scan, ForwardScanDirection, slot))
		{
			bool		isnull;

			ev->stored = true;
			ev->version = DatumGetInt64(slot_getattr(slot, info->version_attnum, &isnull));
			ev->position = DatumGetInt64(slot_getattr(slot, info->position_attnum, &isnull));
			nstored++;
		}
		pfree(id);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, AccessShareLock);
	return nstored;
}

/*
 * Phase 2 for one stream: lock it, read its version, find the events it
 * already holds and check the expectation.  Raises the version conflict
 * before anything is written.
 *
 * Stored ids are looked for only when the stream already has events, and
 * all of them only when the first or the last event with an id is stored:
 * that covers a retried append (all stored) and a resent batch that
 * overlaps an earlier one at either end, at the price of two index probes
 * for a new batch instead of one per event.  A stored id elsewhere in an
 * otherwise new batch is then caught by the unique index: the call fails
 * with unique_violation and nothing is written.
 *
 * If every event of the append carries an id the stream already holds, the
 * append is a replay (a retry after a lost reply): nothing is written and
 * the stored versions are returned.  The expectation then applies to the
 * stream as it was before the original append: an exact (or "no stream")
 * expectation requires the stored versions to follow it one by one.
 * Otherwise the events whose ids are stored are skipped and the
 * expectation applies to the current version.
 */
static void
prepare_stream(Relation rel, StreamAppend *sa)
{
	int			nstored = 0;

	sa->actual = stream_locked_version(rel, sa->name, sa->len);
	if (sa->nids > 0 && sa->actual > 0 && find_stored_events(rel, sa, true) > 0)
	{
		for (int i = 0; i < sa->nevents; i++)
			sa->events[i].stored = false;
		nstored = find_stored_events(rel, sa, false);
	}

	if (sa->nevents > 0 && nstored == sa->nevents)
	{
		sa->replay = true;
		if (sa->has_expected && sa->expected != STREAM_EXISTS)
		{
			int64		base = sa->expected == STREAM_NO_STREAM ? 0 : sa->expected;

			for (int i = 0; i < sa->nevents; i++)
				if (sa->events[i].version != base + 1 + i)
				{
					stream_remember_conflict(sa->name, sa->len, sa->expected,
											 sa->actual);
					ereport(ERROR,
							(errcode(ERRCODE_AGENTSTORE_WRONG_EXPECTED_VERSION),
							 errmsg("wrong expected version for stream \"%s\"",
									stream_quote(sa->name, sa->len)),
							 errdetail("Stream \"%s\" is at version " INT64_FORMAT
									   "; the events of this append are already stored, but %s[%d] is version "
									   INT64_FORMAT ", not " INT64_FORMAT " as expected version " INT64_FORMAT " implies.",
									   stream_quote(sa->name, sa->len), sa->actual, sa->label, i,
									   sa->events[i].version, base + 1 + i, sa->expected)));
				}
		}
		sa->has_result = true;
		sa->first_version = sa->events[0].version;
		sa->first_position = sa->events[0].position;
		sa->last_version = sa->events[sa->nevents - 1].version;
		sa->last_position = sa->events[sa->nevents - 1].position;
		return;
	}

	stream_check_expected_version(sa->name, sa->len, sa->has_expected,
								  sa->expected, sa->actual);
	sa->nnew = sa->nevents - nstored;
	sa->last_version = sa->actual;
}

/*
 * Set up the column defaults from the table's planned expressions (copied:
 * the cache may be rebuilt while we run): stable ones are evaluated once per
 * call, volatile ones (nextval) per row.
 */
static void
init_defaults(AppendWriter *w, const EventsTable *table)
{
	TupleDesc	tupdesc = RelationGetDescr(w->rel);
	ExprContext *econtext = GetPerTupleExprContext(w->estate);
	MemoryContext oldcontext = MemoryContextSwitchTo(w->estate->es_query_cxt);

	w->natts = tupdesc->natts;
	w->volatile_default = palloc0(sizeof(ExprState *) * w->natts);
	w->default_value = palloc0(sizeof(Datum) * w->natts);
	w->default_null = palloc(sizeof(bool) * w->natts);
	w->supplied = palloc0(sizeof(bool) * w->natts);
	w->values = palloc0(sizeof(Datum) * w->natts);
	w->nulls = palloc0(sizeof(bool) * w->natts);
	for (int i = 0; i < w->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		ExprState  *state;

		w->default_null[i] = true;
		if (!w->computed[i] || i >= table->natts || table->defaults[i] == NULL)
			continue;
		state = ExecInitExpr(copyObject(table->defaults[i]), NULL);
		if (table->volatile_default[i])
			w->volatile_default[i] = state;
		else
		{
			Datum		value;
			bool		isnull;

			value = ExecEvalExprSwitchContext(state, econtext, &isnull);
			w->default_null[i] = isnull;
			if (!isnull)
				w->default_value[i] = datumCopy(value, att->attbyval, att->attlen);
			ResetExprContext(econtext);
		}
	}
	MemoryContextSwitchTo(oldcontext);
}

/*
 * Give the result relation its CHECK constraints from the table's planned
 * expressions, which ExecConstraints would otherwise parse and plan again
 * for every call.
 */
static void
init_checks(AppendWriter *w, const EventsTable *table)
{
	TupleConstr *constr = RelationGetDescr(w->rel)->constr;
	MemoryContext oldcontext;

	if (constr == NULL || constr->num_check == 0 || constr->num_check != table->ncheck)
		return;					/* ExecConstraints does it itself */
	oldcontext = MemoryContextSwitchTo(w->estate->es_query_cxt);
	COMPAT_RI_CHECK_CONSTRAINT_EXPRS(w->rri) = palloc(sizeof(ExprState *) * table->ncheck);
	for (int i = 0; i < table->ncheck; i++)
		COMPAT_RI_CHECK_CONSTRAINT_EXPRS(w->rri)[i] = ExecInitExpr(copyObject(table->checks[i]), NULL);
	MemoryContextSwitchTo(oldcontext);
}

/*
 * Fill values/nulls with the row of one event: the columns the event sets,
 * and the defaults of the others.  Allocates in the current context.
 */
static void
fill_row(AppendWriter *w, StreamAppend *sa, AppendEvent *ev,
		 Datum *values, bool *nulls)
{
	const AppendColumns *c = &w->cols;
	ExprContext *econtext = GetPerTupleExprContext(w->estate);

	memset(w->supplied, 0, sizeof(bool) * w->natts);

#define SET_COLUMN(attnum, value) \
	do { \
		values[(attnum) - 1] = (value); \
		nulls[(attnum) - 1] = false; \
		w->supplied[(attnum) - 1] = true; \
	} while (0)

	SET_COLUMN(c->stream, PointerGetDatum(sa->stream));
	SET_COLUMN(c->version, Int64GetDatum(ev->version));
	if (ev->event_id != NULL)
		SET_COLUMN(c->event_id,
				   PointerGetDatum(cstring_to_text_with_len(ev->event_id, ev->event_id_len)));
	if (ev->type != NULL)
		SET_COLUMN(c->type, PointerGetDatum(cstring_to_text_with_len(ev->type, ev->type_len)));
	if (ev->data.type != jbvNull)
		SET_COLUMN(c->data, JsonbPGetDatum(JsonbValueToJsonb(&ev->data)));
	if (ev->metadata.type != jbvNull)
		SET_COLUMN(c->metadata, JsonbPGetDatum(JsonbValueToJsonb(&ev->metadata)));
	if (ev->has_expires_at)
		SET_COLUMN(c->expires_at, TimestampTzGetDatum(ev->expires_at));
#undef SET_COLUMN

	for (int i = 0; i < w->natts; i++)
	{
		if (w->supplied[i] || !w->computed[i])
			continue;
		if (w->volatile_default[i] != NULL)
			values[i] = ExecEvalExpr(w->volatile_default[i], econtext, &nulls[i]);
		else
		{
			values[i] = w->default_value[i];
			nulls[i] = w->default_null[i];
		}
	}
}

/*
 * Start the write phase: the executor state, the defaults and, for the bulk
 * path, what COPY sets up (result relation, indexes, AFTER trigger queue,
 * transition capture, BEFORE STATEMENT triggers).
 */
static void
writer_begin(AppendWriter *w, Relation rel, const EventsTable *table,
			 const CompatRelPerms *perms, bool bulk, int64 nrows)
{
	const AppendColumns *cols = &table->cols;
	TupleDesc	tupdesc = RelationGetDescr(rel);

	memset(w, 0, sizeof(AppendWriter));
	w->rel = rel;
	w->cols = *cols;
	w->bulk = bulk;
	w->estate = CreateExecutorState();
	w->batch_context = AllocSetContextCreate(CurrentMemoryContext,
											 "agentstore append batch",
											 ALLOCSET_DEFAULT_SIZES);

	/* The bulk path fills in every column; SPI leaves the rest to INSERT. */
	w->computed = palloc0(sizeof(bool) * tupdesc->natts);
	for (int i = 0; i < tupdesc->natts; i++)
		w->computed[i] = bulk;
	if (!bulk)
	{
		AttrNumber	set[] = {cols->stream, cols->version, cols->event_id,
		cols->type, cols->data, cols->metadata, cols->expires_at};

		for (int i = 0; i < lengthof(set); i++)
			w->computed[set[i] - 1] = true;
	}
	init_defaults(w, table);

	if (!bulk)
		return;

	w->cid = GetCurrentCommandId(true);
	w->estate->es_output_cid = w->cid;
	compat_init_range_table(w->estate, perms);
	w->rri = makeNode(ResultRelInfo);
	ExecInitResultRelation(w->estate, w->rri, 1);
	compat_check_valid_result_rel(w->rri, CMD_INSERT);
	init_checks(w, table);
	ExecOpenIndices(w->rri, false);
	AfterTriggerBeginQuery();
	w->transition_capture = MakeTransitionCaptureState(rel->trigdesc,
													   RelationGetRelid(rel),
													   CMD_INSERT);

	/*
	 * A bulk-insert state (a ring of buffers) pays off for large appends
	 * only: for small ones it would push the table's last page out of shared
	 * buffers after every call.
	 */
	if (nrows >= APPEND_BUFFER_ROWS)
		w->bistate = GetBulkInsertState();
	ExecBSInsertTriggers(w->estate, w->rri);
}

/*
 * Write the buffered rows: one table_multi_insert, then per row the index
 * entries and the AFTER ROW triggers, as COPY's CopyMultiInsertBufferFlush.
 */
static void
writer_flush(AppendWriter *w)
{
	EState	   *estate = w->estate;
	MemoryContext oldcontext;

	if (w->nused == 0)
		return;

	/* table_multi_insert may leak memory: use the per-tuple context */
	oldcontext = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
	table_multi_insert(w->rel, w->slots, w->nused, w->cid, 0, w->bistate);
	MemoryContextSwitchTo(oldcontext);

	for (int i = 0; i < w->nused; i++)
	{
		List	   *recheck = NIL;

		if (w->rri->ri_NumIndices > 0)
			recheck = compat_insert_index_tuples(w->rri, w->slots[i], estate,
												 false, false, NULL, NIL, false);
		ExecARInsertTriggers(estate, w->rri, w->slots[i], recheck,
							 w->transition_capture);
		list_free(recheck);
		ExecClearTuple(w->slots[i]);
		ResetPerTupleExprContext(estate);
	}
	w->nused = 0;
	w->nbytes = 0;
	MemoryContextReset(w->batch_context);
}

/* Buffer one event's row (bulk path). */
static void
writer_add_bulk(AppendWriter *w, StreamAppend *sa, AppendEvent *ev)
{
	TupleTableSlot *slot;
	MemoryContext oldcontext;

	if (w->slots[w->nused] == NULL)
		w->slots[w->nused] = table_slot_create(w->rel, &w->estate->es_tupleTable);
	slot = w->slots[w->nused];
	ExecClearTuple(slot);

	oldcontext = MemoryContextSwitchTo(w->batch_context);
	fill_row(w, sa, ev, slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(oldcontext);
	ExecStoreVirtualTuple(slot);
	slot->tts_tableOid = RelationGetRelid(w->rel);

	if (w->rel->rd_att->constr)
		ExecConstraints(w->rri, slot, w->estate);
	ResetPerTupleExprContext(w->estate);

	ev->position = DatumGetInt64(slot->tts_values[w->cols.position - 1]);
	w->nused++;
	if (!slot->tts_isnull[w->cols.data - 1])
		w->nbytes += VARSIZE_ANY(DatumGetPointer(slot->tts_values[w->cols.data - 1]));
	if (w->nused == APPEND_BUFFER_ROWS || w->nbytes >= APPEND_BUFFER_BYTES)
		writer_flush(w);
}

/* Write one event's row by a plain INSERT through SPI (see the file header). */
static void
writer_add_spi(AppendWriter *w, StreamAppend *sa, AppendEvent *ev)
{
	const AppendColumns *c = &w->cols;
	AttrNumber	cols[] = {c->stream, c->version, c->event_id, c->type,
	c->data, c->metadata, c->expires_at};
	Datum		args[lengthof(cols)];
	char		nulls[lengthof(cols)];
	MemoryContext oldcontext;
	bool		isnull;
	int			rc;

	if (insert_plan == NULL)
	{
		Oid			types[] = {TEXTOID, INT8OID, TEXTOID, TEXTOID, JSONBOID,
		JSONBOID, TIMESTAMPTZOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("INSERT INTO agentstore.events"
						   " (stream, version, event_id, type, data, metadata, expires_at)"
						   " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING position",
						   lengthof(types), types);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		insert_plan = plan;
	}

	oldcontext = MemoryContextSwitchTo(w->batch_context);
	fill_row(w, sa, ev, w->values, w->nulls);
	for (int i = 0; i < lengthof(cols); i++)
	{
		args[i] = w->values[cols[i] - 1];
		nulls[i] = w->nulls[cols[i] - 1] ? 'n' : ' ';
	}
	rc = SPI_execute_plan(insert_plan, args, nulls, false, 1);
	MemoryContextSwitchTo(oldcontext);
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "INSERT INTO agentstore.events failed: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("a trigger on agentstore.events skipped an event of stream \"%s\"",
						stream_quote(sa->name, sa->len)),
				 errdetail("BEFORE ROW triggers must not skip events: versions would have gaps.")));
	ev->position = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	MemoryContextReset(w->batch_context);
}

/* Phase 3 for one stream: number its new events and write them. */
static void
write_stream(AppendWriter *w, StreamAppend *sa)
{
	int64		version;
	bool		first = true;

	if (sa->replay || sa->nnew == 0)
		return;
	version = stream_reserve_versions(w->rel, sa->name, sa->len, sa->nnew);
	for (int i = 0; i < sa->nevents; i++)
	{
		AppendEvent *ev = &sa->events[i];

		if (ev->stored)
			continue;
		CHECK_FOR_INTERRUPTS();
		ev->version = version++;
		if (w->bulk)
			writer_add_bulk(w, sa, ev);
		else
			writer_add_spi(w, sa, ev);
		if (first)
		{
			sa->first_version = ev->version;
			sa->first_position = ev->position;
			first = false;
		}
		sa->last_version = ev->version;
		sa->last_position = ev->position;
	}
	sa->has_result = true;
}

/* End the write phase: flush, AFTER STATEMENT triggers, queued AFTER triggers. */
static void
writer_end(AppendWriter *w)
{
	if (w->bulk)
	{
		writer_flush(w);
		if (w->bistate != NULL)
			FreeBulkInsertState(w->bistate);
		table_finish_bulk_insert(w->rel, 0);
		ExecASInsertTriggers(w->estate, w->rri, w->transition_capture);
		AfterTriggerEndQuery(w->estate);
		ExecResetTupleTable(w->estate->es_tupleTable, false);
		ExecCloseResultRelations(w->estate);
		ExecCloseRangeTableRelations(w->estate);
	}
	FreeExecutorState(w->estate);
	MemoryContextDelete(w->batch_context);
}

/* qsort comparator: StreamAppend pointers by lock key, then by name. */
static int
compare_lock_order(const void *a, const void *b)
{
	const StreamAppend *sa = *(const StreamAppend *const *) a;
	const StreamAppend *sb = *(const StreamAppend *const *) b;
	int			cmp;

	if (sa->lock_key != sb->lock_key)
		return sa->lock_key < sb->lock_key ? -1 : 1;
	cmp = memcmp(sa->name, sb->name, Min(sa->len, sb->len));
	if (cmp != 0)
		return cmp;
	return sa->len < sb->len ? -1 : (sa->len > sb->len ? 1 : 0);
}

/*
 * Run the appends of one call (a List of parsed StreamAppend): lock and
 * check every stream, then write.  All-or-nothing: any error aborts the
 * caller's (sub)transaction, and the version conflict is raised before
 * anything is written.
 */
static void
run_appends(List *appends, const char *funcname)
{
	const EventsTable *table;
	AppendColumns cols;
	Relation	rel;
	CompatRelPerms perms;
	StreamAppend **order;
	AppendWriter w;
	ListCell   *lc;
	int			n = 0;
	int64		nrows = 0;

	PreventCommandIfReadOnly(funcname);
	PreventCommandIfParallelMode(funcname);

	rel = events_table_open(&table);
	cols = table->cols;
	perms = check_permissions(rel, &cols);
	refuse_under_rls(rel, funcname);

	order = palloc(sizeof(StreamAppend *) * Max(list_length(appends), 1));
	foreach(lc, appends)
	{
		StreamAppend *sa = lfirst(lc);

		sa->lock_key = stream_lock_key(rel, sa->name, sa->len);
		order[n++] = sa;
	}
	qsort(order, n, sizeof(StreamAppend *), compare_lock_order);
	for (int i = 0; i < n; i++)
	{
		prepare_stream(rel, order[i]);
		nrows += order[i]->nnew;
	}

	if (nrows > 0)
	{
		bool		bulk;

		/*
		 * The description is still the table's: what it covers (columns,
		 * defaults, constraints, triggers) cannot change while we hold
		 * RowExclusiveLock.
		 */
		bulk = bulk_path_allowed(rel, table);
		if (!bulk && SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		writer_begin(&w, rel, table, &perms, bulk, nrows);
		foreach(lc, appends)
			write_stream(&w, lfirst(lc));
		writer_end(&w);
		if (!bulk)
			SPI_finish();
	}
	table_close(rel, NoLock);
}

/* Fill one result row (first/last version and position) of an append. */
static void
append_result(StreamAppend *sa, Datum *values, bool *nulls)
{
	values[0] = Int64GetDatum(sa->first_version);
	values[1] = Int64GetDatum(sa->last_version);
	values[2] = Int64GetDatum(sa->first_position);
	values[3] = Int64GetDatum(sa->last_position);
	nulls[0] = nulls[2] = nulls[3] = !sa->has_result;
	nulls[1] = false;
}

/*
 * append_events in both forms: the events as jsonb, or as JSON text (parsed
 * event by event, see stream_parse_events_text).  An empty array writes
 * nothing, still checks the expectation, and returns NULLs but
 * last_version = the stream's current version.
 */
static Datum
append_events(FunctionCallInfo fcinfo, bool events_as_text)
{
	StreamAppend sa;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("stream must not be NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("events must not be NULL"),
				 errhint("Pass a JSON array of event objects; '[]' appends nothing.")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	stream_append_init(&sa, PG_GETARG_TEXT_PP(0), !PG_ARGISNULL(2),
					   PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2), "stream", "events");
	if (events_as_text)
		stream_parse_events_text(&sa, PG_GETARG_TEXT_PP(1));
	else
		stream_parse_events_jsonb(&sa, PG_GETARG_JSONB_P(1));
	run_appends(list_make1(&sa), "append_events()");

	append_result(&sa, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * agentstore.append_events(stream text, events jsonb,
 *							 expected_version bigint DEFAULT NULL)
 *	 -> (first_version, last_version, first_position, last_position)
 *
 * Append an array of events to one stream.
 */
Datum
agentstore_append_events(PG_FUNCTION_ARGS)
{
	return append_events(fcinfo, false);
}

/*
 * agentstore.append_events(stream text, events text,
 *							 expected_version bigint DEFAULT NULL)
 *
 * The same with the events as JSON text; an untyped literal or parameter
 * resolves to this form.
 */
Datum
agentstore_append_events_text(PG_FUNCTION_ARGS)
{
	return append_events(fcinfo, true);
}

/*
 * agentstore.append_streams(appends jsonb)
 *	 -> SETOF (stream, first_version, last_version, first_position, last_position)
 *
 * Append to several streams at once, each with its own expectation: all or
 * nothing.  One result row per element of the array, in its order.
 */
Datum
agentstore_append_streams(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *appends;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("appends must not be NULL")));
	appends = stream_parse_appends(PG_GETARG_JSONB_P(0));
	run_appends(appends, "append_streams()");

	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, appends)
	{
		StreamAppend *sa = lfirst(lc);
		Datum		values[5];
		bool		nulls[5];

		values[0] = PointerGetDatum(sa->stream);
		nulls[0] = false;
		append_result(sa, values + 1, nulls + 1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

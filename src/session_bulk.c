/*-------------------------------------------------------------------------
 *
 * session_bulk.c
 *	  The bulk writer behind upsert_sessions() and the session_import view:
 *	  upsert session rows in chunks, new rows through the executor's
 *	  bulk-insert API.
 *
 * Rows arrive one by one (session_bulk_add) and are buffered up to
 * agentstore.batch_size; a key repeated in the buffer is merged into its
 * earlier occurrence (the later values win, the earlier created_at stays),
 * which is what applying the occurrences one after the other would give;
 * the earlier occurrence's copy is freed, so the buffer holds one row per
 * distinct key however often keys repeat.  A full buffer is flushed:
 *
 *	1. Each row's key is probed in the unique index sessions_active_key with
 *	   a dirty snapshot.  A row being written by another transaction is
 *	   waited for, then probed again.  A live row is updated in place of
 *	   the version the probe saw (table_tuple_update; if another
 *	   transaction changed it meanwhile, the key is probed again), with
 *	   constraints checked, index entries inserted and AFTER ROW triggers
 *	   queued as the executor does; created_at, id and the session's own
 *	   columns are kept.  With BEFORE UPDATE row triggers on the table the
 *	   row is locked first and ExecSimpleRelationUpdate does the update.
 *
 *	2. The rows whose key has no live row are written together with
 *	   table_multi_insert; their index entries are made with
 *	   ExecInsertIndexTuples and their AFTER ROW triggers queued, as COPY
 *	   does.  The unique check of the key index is done in "partial" mode,
 *	   so a key that another transaction inserted after our probe is not an
 *	   error: after a CommandCounterIncrement our row is deleted again and
 *	   the key goes back to step 1, where it becomes an update.  The same
 *	   check lets a chunk skip step 1 when a sample of its first rows (or
 *	   the whole previous chunk) found no existing key: a load of new
 *	   sessions then costs what COPY costs, plus one delete and one update
 *	   for each key that did exist after all.  Under
 *	   REPEATABLE READ or SERIALIZABLE, updating a row that the transaction's
 *	   snapshot cannot see is a serialization failure (SQLSTATE 40001).
 *
 * When agentstore.sessions has BEFORE INSERT row triggers, rows are written
 * one at a time instead, as INSERT ... ON CONFLICT DO UPDATE writes them
 * (write_row_fired): the triggers fire for every row, and their result is
 * inserted or becomes the update of the live row of its key.
 *
 * Everything happens in the caller's transaction, so the call is all or
 * nothing.  Memory is bounded by the buffer.  Row-level triggers on
 * agentstore.sessions fire; statement-level triggers do not (as with
 * logical replication's apply).  The caller needs the privileges of the
 * equivalent INSERT ... ON CONFLICT DO UPDATE (check_permissions), column
 * privileges included; row-level security is not supported.
 *
 * inserted counts keys that had no live row before the call, updated those
 * that had one; a key repeated across chunks is counted once, recognised by
 * its row having been written by this transaction at or after the call's
 * first command.
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
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "parser/parsetree.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "agentstore.h"
#include "compat.h"
#include "sessions.h"

const char *const session_field_names[SF_NFIELDS] = {
	"app_name", "session_id", "user_id", "agent_id", "team_id",
	"workflow_id", "name", "metadata", "state", "agent_data", "runs",
	"summary", "created_at", "updated_at"
};

/* Columns of agentstore.sessions the writer fills. */
typedef enum SessionColumn
{
	SC_APP_NAME,
	SC_ID,
	SC_USER_ID,
	SC_SESSION_ID,
	SC_STATE,
	SC_AGENT_ID,
	SC_TEAM_ID,
	SC_WORKFLOW_ID,
	SC_NAME,
	SC_METADATA,
	SC_AGENT_DATA,
	SC_RUNS,
	SC_SUMMARY,
	SC_CREATED_AT,
	SC_UPDATED_AT,
	SC_EXPIRES_AT,
	SC_DELETED_AT,
	SC_TTL,
	SC_EVENT_COUNT,
	SC_TRIM_NEEDED,
	SC_NCOLUMNS
} SessionColumn;

static const char *const column_names[SC_NCOLUMNS] = {
	"app_name", "id", "user_id", "session_id", "state", "agent_id",
	"team_id", "workflow_id", "name", "metadata", "agent_data", "runs",
	"summary", "created_at", "updated_at", "expires_at", "deleted_at",
	"ttl", "event_count", "trim_needed"
};

/* Where each incoming field goes (SF_* -> SC_*). */
static const SessionColumn field_column[SF_NFIELDS] = {
	SC_APP_NAME, SC_SESSION_ID, SC_USER_ID, SC_AGENT_ID, SC_TEAM_ID,
	SC_WORKFLOW_ID, SC_NAME, SC_METADATA, SC_STATE, SC_AGENT_DATA, SC_RUNS,
	SC_SUMMARY, SC_CREATED_AT, SC_UPDATED_AT
};

/* One buffered row. */
typedef struct BulkRow
{
	Datum		values[SF_NFIELDS];
	bool		nulls[SF_NFIELDS];
	bool		preserve_updated_at;
	int64		element;		/* position in the input, for messages */
	uint64		hash;			/* of the key */
	HeapTuple	tuple;			/* the copy the values point into, or NULL:
								 * then each by-reference value is a copy of
								 * its own */
} BulkRow;

struct SessionBulk
{
	MemoryContext cxt;			/* the writer's life */
	MemoryContext chunk_cxt;	/* the buffered rows' values */
	const char *source;			/* what the rows came from, for messages */
	int			capacity;		/* rows per chunk */
	int			nrows;
	BulkRow    *rows;
	int		   *htab;			/* open addressing: row index + 1, 0 = empty */
	int			htab_mask;
	TupleTableSlot **slots;		/* insert slots, created on demand */
	int			nslots;
	CommandId	start_cid;		/* first command of this call */
	bool		optimistic;		/* insert without probing first */
	int64		inserted;
	int64		updated;
	int64		current_element;	/* for the error context */
	Oid			relid;
	Oid			keyidx;
	Oid			seqid;
	AttrNumber	attno[SC_NCOLUMNS];
	int			natts;
	CompatRelPerms perms;		/* agentstore.sessions, with the columns */
};

/* Per-flush executor state. */
typedef struct FlushState
{
	Relation	rel;
	Relation	idx;
	EState	   *estate;
	ResultRelInfo *rri;
	EPQState	epqstate;
	BulkInsertState bistate;
	TupleTableSlot *lockslot;
	TupleTableSlot *newslot;
	ScanKeyData skey[3];
	TimestampTz now;
	Datum		default_ttl;
	Datum		empty_object;	/* '{}', the state of a row without one */
	bool		lock_first;		/* BEFORE UPDATE triggers need a locked row */
	bool		fire_before_insert; /* BEFORE INSERT row triggers: one by one */
	TupleTableSlot *insslot;	/* the row given to those triggers */
	List	   *arbiter;
} FlushState;

/*
 * Name an input row in a message: "Element 3 of the sessions array" (JSON
 * arrays count from 0, like jsonb's -> operator) or "Row 3 written to
 * session_import" (rows count from 1, like COPY's lines).
 */
char *
session_bulk_where(const char *source, int64 element, bool capital)
{
	if (strcmp(source, "session_import") == 0)
		return psprintf("%s " INT64_FORMAT " written to session_import",
						capital ? "Row" : "row", element);
	return psprintf("%s " INT64_FORMAT " of the %s",
					capital ? "Element" : "element", element, source);
}

/* Error context: name the input row being written. */
static void
bulk_error_callback(void *arg)
{
	SessionBulk *bulk = (SessionBulk *) arg;

	if (bulk->current_element >= 0)
		errcontext("writing %s",
				   session_bulk_where(bulk->source, bulk->current_element, false));
}

/* Add columns (SessionColumn) to a column set of a range table entry. */
static Bitmapset *
add_columns(Bitmapset *set, const SessionBulk *bulk, const SessionColumn *cols,
			int n)
{
	for (int i = 0; i < n; i++)
		set = bms_add_member(set, bulk->attno[cols[i]] -
							 FirstLowInvalidHeapAttributeNumber);
	return set;
}

/*
 * Check the caller's privileges on agentstore.sessions as the executor
 * checks those of the statement the writer stands for:
 *
 *	INSERT INTO agentstore.sessions AS s (<the fields>, expires_at) ...
 *	ON CONFLICT (app_name, user_id, session_id) WHERE deleted_at IS NULL
 *	DO UPDATE SET <the fields but the key and created_at>,
 *		expires_at = now() + coalesce(s.ttl, ...)
 *
 * that is INSERT on the columns it inserts, UPDATE on those it updates and
 * SELECT on the conflict target (with deleted_at, of the index predicate)
 * and on the columns whose values the update reads: ttl, and the updated
 * fields, which PostgreSQL counts as read through EXCLUDED.  id,
 * event_count and trim_needed get their defaults' values, which need no
 * privilege (nextval checks the sequence's).  The executor's own check is
 * used, so column privileges and the ExecutorCheckPerms hook apply.  Returns
 * the range table entry, which the flushes' executor states use (so that
 * UPDATE OF column triggers see the updated columns).
 */
static CompatRelPerms
check_permissions(SessionBulk *bulk, Relation rel)
{
	static const SessionColumn inserted[] = {
		SC_APP_NAME, SC_USER_ID, SC_SESSION_ID, SC_STATE, SC_AGENT_ID,
		SC_TEAM_ID, SC_WORKFLOW_ID, SC_NAME, SC_METADATA, SC_AGENT_DATA,
		SC_RUNS, SC_SUMMARY, SC_CREATED_AT, SC_UPDATED_AT, SC_EXPIRES_AT
	};
	static const SessionColumn updated[] = {
		SC_STATE, SC_AGENT_ID, SC_TEAM_ID, SC_WORKFLOW_ID, SC_NAME,
		SC_METADATA, SC_AGENT_DATA, SC_RUNS, SC_SUMMARY, SC_UPDATED_AT,
		SC_EXPIRES_AT
	};
	static const SessionColumn selected[] = {
		SC_APP_NAME, SC_USER_ID, SC_SESSION_ID, SC_DELETED_AT, SC_TTL,
		SC_STATE, SC_AGENT_ID, SC_TEAM_ID, SC_WORKFLOW_ID, SC_NAME,
		SC_METADATA, SC_AGENT_DATA, SC_RUNS, SC_SUMMARY, SC_UPDATED_AT
	};
	CompatRelPerms perms;

	perms = compat_relation_perms(RelationGetRelid(rel), rel->rd_rel->relkind,
								  RowExclusiveLock,
								  ACL_INSERT | ACL_UPDATE | ACL_SELECT,
								  add_columns(NULL, bulk, selected, lengthof(selected)),
								  add_columns(NULL, bulk, inserted, lengthof(inserted)),
								  add_columns(NULL, bulk, updated, lengthof(updated)));
	compat_check_perms(&perms);
	return perms;
}

/*
 * Find agentstore.sessions, its key index, its sequence and its columns, and
 * check the caller's privileges (and that row-level security is off).
 */
static void
describe_table(SessionBulk *bulk)
{
	Oid			nsp = get_namespace_oid("agentstore", false);
	Relation	rel;
	int			i;

	bulk->relid = get_relname_relid("sessions", nsp);
	bulk->keyidx = get_relname_relid("sessions_active_key", nsp);
	bulk->seqid = get_relname_relid("sessions_id_seq", nsp);
	if (!OidIsValid(bulk->relid) || !OidIsValid(bulk->keyidx) ||
		!OidIsValid(bulk->seqid))
		elog(ERROR, "agentstore.sessions, its key index or its sequence is missing");

	rel = table_open(bulk->relid, RowExclusiveLock);
	bulk->natts = RelationGetDescr(rel)->natts;
	for (i = 0; i < SC_NCOLUMNS; i++)
	{
		bulk->attno[i] = attnameAttNum(rel, column_names[i], false);
		if (bulk->attno[i] == InvalidAttrNumber)
			elog(ERROR, "agentstore.sessions has no column \"%s\"", column_names[i]);
	}

	/* The caller's rights: the bulk path bypasses the planner's checks. */
	bulk->perms = check_permissions(bulk, rel);
	table_close(rel, NoLock);
	if (check_enable_rls(bulk->relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the bulk session writer does not support row-level security on agentstore.sessions")));
}

/*
 * Check, at the start of a statement that will write through the bulk
 * writer, what session_bulk_begin checks (so that a statement without rows
 * is refused as well).
 */
void
session_bulk_check_access(void)
{
	SessionBulk check;

	memset(&check, 0, sizeof(check));
	describe_table(&check);
}

/*
 * Start a writer.  Its memory lives in a child of 'parent'; 'source' names
 * the input in messages ("sessions array", "session_import").  'rows_hint'
 * is how many rows will come, if known (else -1): a small batch then gets
 * small buffers instead of a whole chunk's.
 */
SessionBulk *
session_bulk_begin(MemoryContext parent, const char *source, int64 rows_hint)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "agentstore session bulk",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	SessionBulk *bulk = palloc0(sizeof(SessionBulk));
	int			hsize;

	bulk->cxt = cxt;
	bulk->capacity = agentstore_batch_size;
	if (rows_hint >= 0 && rows_hint < bulk->capacity)
		bulk->capacity = Max((int) rows_hint, 1);
	/* a keeper block that holds a typical chunk: resets free nothing */
	bulk->chunk_cxt = AllocSetContextCreate(cxt, "agentstore session chunk",
											0,
											Min(Max((Size) bulk->capacity * 2048,
													(Size) 8 * 1024),
												(Size) 8 * 1024 * 1024),
											ALLOCSET_DEFAULT_MAXSIZE);
	bulk->source = pstrdup(source);
	bulk->rows = palloc(sizeof(BulkRow) * bulk->capacity);
	for (hsize = 16; hsize < bulk->capacity * 2; hsize <<= 1)
		;
	bulk->htab = palloc0(sizeof(int) * hsize);
	bulk->htab_mask = hsize - 1;
	bulk->slots = palloc0(sizeof(TupleTableSlot *) * bulk->capacity);
	bulk->start_cid = GetCurrentCommandId(false);
	bulk->current_element = -1;

	describe_table(bulk);

	MemoryContextSwitchTo(old);
	return bulk;
}

/* Hash of a row's key (app_name, user_id, session_id). */
static uint64
row_key_hash(BulkRow *row)
{
	static const SessionField parts[] = {SF_APP_NAME, SF_USER_ID, SF_SESSION_ID};
	uint64		h = 0;
	int			i;

	for (i = 0; i < 3; i++)
	{
		text	   *t = DatumGetTextPP(row->values[parts[i]]);
		uint32		len = VARSIZE_ANY_EXHDR(t);

		h = hash_bytes_extended((const unsigned char *) &len, sizeof(len), h);
		h = hash_bytes_extended((const unsigned char *) VARDATA_ANY(t), len, h);
	}
	return h;
}

/* Whether two rows have the same key. */
static bool
row_key_equal(BulkRow *a, BulkRow *b)
{
	static const SessionField parts[] = {SF_APP_NAME, SF_USER_ID, SF_SESSION_ID};
	int			i;

	for (i = 0; i < 3; i++)
	{
		text	   *x = DatumGetTextPP(a->values[parts[i]]);
		text	   *y = DatumGetTextPP(b->values[parts[i]]);

		if (VARSIZE_ANY_EXHDR(x) != VARSIZE_ANY_EXHDR(y) ||
			memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) != 0)
			return false;
	}
	return true;
}

/*
 * Check an incoming row before it is buffered: the key fields present and
 * 1..255 characters, created_at and updated_at (if any) finite, state (if
 * any) an object.  'element' names it.
 */
void
session_bulk_check_row(Datum *values, bool *nulls, int64 element,
					   const char *source)
{
	static const SessionField keys[] = {SF_APP_NAME, SF_USER_ID, SF_SESSION_ID};
	int			i;

	for (i = 0; i < 3; i++)
	{
		const char *what = session_field_names[keys[i]];
		text	   *t;
		int			len;

		if (nulls[keys[i]])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", what),
					 errdetail("%s has no %s.",
							   session_bulk_where(source, element, true), what)));
		t = DatumGetTextPP(values[keys[i]]);
		len = VARSIZE_ANY_EXHDR(t);
		if (len == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not be empty", what),
					 errdetail("%s has an empty %s.",
							   session_bulk_where(source, element, true), what)));
		if (len > SESSION_KEY_MAX_LEN &&
			pg_mbstrlen_with_len(VARDATA_ANY(t), len) > SESSION_KEY_MAX_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("%s is too long", what),
					 errdetail("%s has a %s of %d characters; the limit is %d.",
							   session_bulk_where(source, element, true), what,
							   pg_mbstrlen_with_len(VARDATA_ANY(t), len),
							   SESSION_KEY_MAX_LEN)));
	}
	for (i = SF_CREATED_AT; i <= SF_UPDATED_AT; i++)
	{
		if (!nulls[i] && TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(values[i])))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("%s must be a finite timestamp", session_field_names[i]),
					 errdetail("%s has %s %s.",
							   session_bulk_where(source, element, true),
							   session_field_names[i],
							   TIMESTAMP_IS_NOBEGIN(DatumGetTimestampTz(values[i])) ?
							   "-infinity" : "infinity")));
	}
	if (!nulls[SF_STATE] && !JB_ROOT_IS_OBJECT(DatumGetJsonbP(values[SF_STATE])))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("state must be a JSON object"),
				 errdetail("%s has a state that is not an object.",
						   session_bulk_where(source, element, true))));
}

static void bulk_flush(SessionBulk *bulk);

/*
 * Free the chunk memory of a buffered row whose values have been superseded
 * by a later occurrence of its key, so that a key repeated any number of
 * times costs one row's memory (without this, a long input cycling over a
 * few keys grew the buffer without bound).  created_at and updated_at are
 * by value; the other fields are by reference, copied one by one, or
 * pointing into the row's tuple copy.
 */
static void
bulk_row_free(BulkRow *row)
{
	int			i;

	if (row->tuple != NULL)
	{
		heap_freetuple(row->tuple);
		row->tuple = NULL;
		return;
	}
	for (i = 0; i < SF_NFIELDS; i++)
	{
		if (row->nulls[i] || i == SF_CREATED_AT || i == SF_UPDATED_AT)
			continue;
		pfree(DatumGetPointer(row->values[i]));
	}
}

/*
 * Put a row into the buffer, merging it into an earlier occurrence of its
 * key (the later values win, the first created_at stays); flush when full.
 * row->values already live in chunk memory.
 */
static void
bulk_buffer(SessionBulk *bulk, BulkRow *row)
{
	int			h;

	row->hash = row_key_hash(row);
	for (h = row->hash & bulk->htab_mask; bulk->htab[h] != 0;
		 h = (h + 1) & bulk->htab_mask)
	{
		BulkRow    *prev = &bulk->rows[bulk->htab[h] - 1];

		if (prev->hash == row->hash && row_key_equal(prev, row))
		{
			bool		created_null = prev->nulls[SF_CREATED_AT];
			Datum		created = prev->values[SF_CREATED_AT];

			/* created_at is by value: kept as it is */
			bulk_row_free(prev);
			*prev = *row;
			prev->nulls[SF_CREATED_AT] = created_null;
			prev->values[SF_CREATED_AT] = created;
			return;
		}
	}
	bulk->htab[h] = ++bulk->nrows;
	if (bulk->nrows >= bulk->capacity)
		bulk_flush(bulk);
}

/*
 * Buffer one row (values indexed by SessionField, already checked with
 * session_bulk_check_row).  The values are copied.
 */
void
session_bulk_add(SessionBulk *bulk, Datum *values, bool *nulls,
				 bool preserve_updated_at, int64 element)
{
	MemoryContext old = MemoryContextSwitchTo(bulk->chunk_cxt);
	BulkRow    *row = &bulk->rows[bulk->nrows];
	int			i;

	for (i = 0; i < SF_NFIELDS; i++)
	{
		row->nulls[i] = nulls[i];
		if (nulls[i])
			row->values[i] = (Datum) 0;
		else if (i == SF_CREATED_AT || i == SF_UPDATED_AT)
			row->values[i] = values[i];	/* timestamptz: by value */
		else
			row->values[i] = PointerGetDatum(PG_DETOAST_DATUM_COPY(values[i]));
	}
	MemoryContextSwitchTo(old);
	row->tuple = NULL;
	row->preserve_updated_at = preserve_updated_at;
	row->element = element;
	bulk_buffer(bulk, row);
}

/*
 * Buffer a row given as a tuple whose first SF_NFIELDS attributes are the
 * fields (the session_import view's row): one copy of the whole tuple.
 */
void
session_bulk_add_tuple(SessionBulk *bulk, HeapTuple tuple, TupleDesc desc,
					   bool preserve_updated_at, int64 element)
{
	MemoryContext old = MemoryContextSwitchTo(bulk->chunk_cxt);
	BulkRow    *row = &bulk->rows[bulk->nrows];
	HeapTuple	copy = heap_copytuple(tuple);
	Datum		values[SF_NFIELDS + 1];
	bool		nulls[SF_NFIELDS + 1];

	Assert(desc->natts == SF_NFIELDS + 1);
	heap_deform_tuple(copy, desc, values, nulls);
	memcpy(row->values, values, sizeof(Datum) * SF_NFIELDS);
	memcpy(row->nulls, nulls, sizeof(bool) * SF_NFIELDS);
	MemoryContextSwitchTo(old);
	row->tuple = copy;
	row->preserve_updated_at = preserve_updated_at;
	row->element = element;
	bulk_buffer(bulk, row);
}

/* Build the equality scan keys of the key index, values filled per probe. */
static void
init_scankeys(FlushState *fs)
{
	int			i;

	if (IndexRelationGetNumberOfKeyAttributes(fs->idx) != 3)
		elog(ERROR, "unexpected definition of index sessions_active_key");
	for (i = 0; i < 3; i++)
	{
		Oid			opfamily = fs->idx->rd_opfamily[i];
		Oid			optype = fs->idx->rd_opcintype[i];
		Oid			op = get_opfamily_member(opfamily, optype, optype,
											 BTEqualStrategyNumber);

		if (!OidIsValid(op))
			elog(ERROR, "missing equality operator for type %u in opfamily %u",
				 optype, opfamily);
		ScanKeyInit(&fs->skey[i], i + 1, BTEqualStrategyNumber,
					get_opcode(op), (Datum) 0);
		fs->skey[i].sk_collation = fs->idx->rd_indcollation[i];
	}
}

/*
 * Find the live row of a key and put it into fs->lockslot (locked if
 * fs->lock_first); false if there is none.  A row that another transaction
 * is writing is waited for.
 */
static bool
probe(SessionBulk *bulk, FlushState *fs, BulkRow *row)
{
	for (;;)
	{
		SnapshotData dirty;
		IndexScanDesc scan;
		TransactionId xwait = InvalidTransactionId;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		fs->skey[0].sk_argument = row->values[SF_APP_NAME];
		fs->skey[1].sk_argument = row->values[SF_USER_ID];
		fs->skey[2].sk_argument = row->values[SF_SESSION_ID];
		InitDirtySnapshot(dirty);
		scan = compat_index_beginscan(fs->rel, fs->idx, &dirty, 3, 0);
		index_rescan(scan, fs->skey, 3, NULL, 0);
		found = index_getnext_slot(scan, ForwardScanDirection, fs->lockslot);
		if (found)
			xwait = TransactionIdIsValid(dirty.xmin) ? dirty.xmin : dirty.xmax;
		index_endscan(scan);
		if (!found)
			return false;
		if (TransactionIdIsValid(xwait))
		{
			XactLockTableWait(xwait, fs->rel, &fs->lockslot->tts_tid, XLTW_None);
			continue;
		}

		/* a row the transaction snapshot cannot see must not be updated */
		if (IsolationUsesXactSnapshot())
		{
			bool		isnull;
			TransactionId xmin = DatumGetTransactionId(
													   slot_getsysattr(fs->lockslot, MinTransactionIdAttributeNumber, &isnull));

			if (!TransactionIdIsCurrentTransactionId(xmin) &&
				!table_tuple_satisfies_snapshot(fs->rel, fs->lockslot,
												GetTransactionSnapshot()))
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent update"),
						 errdetail("The session key of %s was written by a concurrent transaction.",
								   session_bulk_where(bulk->source, row->element, false))));
		}

		if (fs->lock_first)
		{
			TM_FailureData tmfd;
			TM_Result	res;

			res = table_tuple_lock(fs->rel, &fs->lockslot->tts_tid,
								   GetLatestSnapshot(), fs->lockslot,
								   GetCurrentCommandId(false),
								   LockTupleNoKeyExclusive, LockWaitBlock, 0, &tmfd);
			if (res == TM_Updated || res == TM_Deleted)
				continue;		/* changed meanwhile: probe again */
			if (res != TM_Ok)
				elog(ERROR, "unexpected result %d locking a session row", (int) res);
		}
		return true;
	}
}

/* expires_at of a write: now() + (the row's ttl, else the default). */
static void
expires_at(FlushState *fs, bool ttl_null, Datum ttl, Datum *value, bool *isnull)
{
	Interval   *iv = DatumGetIntervalP(ttl_null ? fs->default_ttl : ttl);
	Interval	zero = {0};

	if (DatumGetBool(DirectFunctionCall2(interval_gt, IntervalPGetDatum(iv),
										 IntervalPGetDatum(&zero))))
	{
		*value = DirectFunctionCall2(timestamptz_pl_interval,
									 TimestampTzGetDatum(fs->now),
									 IntervalPGetDatum(iv));
		*isnull = false;
	}
	else
	{
		*value = (Datum) 0;
		*isnull = true;
	}
}

/* Put a row's incoming fields (and updated_at) into a slot's arrays. */
static void
fill_fields(SessionBulk *bulk, FlushState *fs, BulkRow *row,
			TupleTableSlot *slot, bool keep_created_at)
{
	int			i;

	for (i = 0; i < SF_NFIELDS; i++)
	{
		int			a = bulk->attno[field_column[i]] - 1;

		if (i == SF_CREATED_AT && keep_created_at)
			continue;
		slot->tts_values[a] = row->values[i];
		slot->tts_isnull[a] = row->nulls[i];
	}
	/* defaults of the fields that may be absent */
	if (row->nulls[SF_STATE])
	{
		slot->tts_values[bulk->attno[SC_STATE] - 1] = fs->empty_object;
		slot->tts_isnull[bulk->attno[SC_STATE] - 1] = false;
	}
	if (!keep_created_at && row->nulls[SF_CREATED_AT])
	{
		slot->tts_values[bulk->attno[SC_CREATED_AT] - 1] = TimestampTzGetDatum(fs->now);
		slot->tts_isnull[bulk->attno[SC_CREATED_AT] - 1] = false;
	}
	if (!row->preserve_updated_at || row->nulls[SF_UPDATED_AT])
	{
		slot->tts_values[bulk->attno[SC_UPDATED_AT] - 1] = TimestampTzGetDatum(fs->now);
		slot->tts_isnull[bulk->attno[SC_UPDATED_AT] - 1] = false;
	}
}

/*
 * Update the row found by probe() (in fs->lockslot) with a buffered row.
 * False if it was changed concurrently since the probe: probe again.
 */
static bool
update_row(SessionBulk *bulk, FlushState *fs, BulkRow *row)
{
	TupleTableSlot *old = fs->lockslot;
	TupleTableSlot *newslot = fs->newslot;
	int			ttl_att = bulk->attno[SC_TTL] - 1;
	int			exp_att = bulk->attno[SC_EXPIRES_AT] - 1;
	bool		isnull;
	TransactionId xmin;
	CommandId	cmin;
	bool		counted;

	slot_getallattrs(old);
	ExecClearTuple(newslot);
	memcpy(newslot->tts_values, old->tts_values, sizeof(Datum) * bulk->natts);
	memcpy(newslot->tts_isnull, old->tts_isnull, sizeof(bool) * bulk->natts);
	fill_fields(bulk, fs, row, newslot, true);
	/* the key columns stay exactly as stored */
	newslot->tts_values[bulk->attno[SC_APP_NAME] - 1] =
		old->tts_values[bulk->attno[SC_APP_NAME] - 1];
	newslot->tts_values[bulk->attno[SC_USER_ID] - 1] =
		old->tts_values[bulk->attno[SC_USER_ID] - 1];
	newslot->tts_values[bulk->attno[SC_SESSION_ID] - 1] =
		old->tts_values[bulk->attno[SC_SESSION_ID] - 1];
	expires_at(fs, old->tts_isnull[ttl_att], old->tts_values[ttl_att],
			   &newslot->tts_values[exp_att], &newslot->tts_isnull[exp_att]);
	ExecStoreVirtualTuple(newslot);

	/* rows this call wrote already were counted when first written */
	xmin = DatumGetTransactionId(slot_getsysattr(old, MinTransactionIdAttributeNumber,
												 &isnull));
	cmin = DatumGetCommandId(slot_getsysattr(old, MinCommandIdAttributeNumber,
											 &isnull));
	counted = TransactionIdIsCurrentTransactionId(xmin) && cmin >= bulk->start_cid;

	if (fs->lock_first)
	{
		/* the row is locked: the executor's routine cannot fail */
		ExecSimpleRelationUpdate(fs->rri, fs->estate, &fs->epqstate, old, newslot);
	}
	else
	{
		TM_FailureData tmfd;
		TM_Result	res;
		LockTupleMode lockmode;
		CompatUpdateIndexes update_indexes;
		List	   *recheck = NIL;

		if (fs->rel->rd_att->constr)
			ExecConstraints(fs->rri, newslot, fs->estate);
		res = table_tuple_update(fs->rel, &old->tts_tid, newslot,
								 GetCurrentCommandId(true), fs->estate->es_snapshot,
								 InvalidSnapshot, true, &tmfd, &lockmode,
								 &update_indexes);
		if (res == TM_Updated || res == TM_Deleted)
			return false;
		if (res != TM_Ok)
			elog(ERROR, "unexpected result %d updating a session row", (int) res);
		if (fs->rri->ri_NumIndices > 0 && COMPAT_UPDATE_NEEDS_INDEXES(update_indexes))
			recheck = compat_insert_index_tuples(fs->rri, newslot, fs->estate,
												 true, false, NULL, NIL,
												 COMPAT_UPDATE_ONLY_SUMMARIZING(update_indexes));
		ExecARUpdateTriggers(fs->estate, fs->rri, NULL, NULL, &old->tts_tid,
							 NULL, newslot, recheck, NULL, false);
		list_free(recheck);
	}
	if (!counted)
		bulk->updated++;
	return true;
}

/*
 * Make the row a buffered row inserts: its fields, a new id, the defaults
 * of the other columns, expires_at from the default TTL.
 */
static void
fill_insert_slot(SessionBulk *bulk, FlushState *fs, BulkRow *row,
				 TupleTableSlot *slot)
{
	int			a;

	ExecClearTuple(slot);
	for (a = 0; a < bulk->natts; a++)
	{
		slot->tts_values[a] = (Datum) 0;
		slot->tts_isnull[a] = true;
	}
	fill_fields(bulk, fs, row, slot, false);
	a = bulk->attno[SC_ID] - 1;
	slot->tts_values[a] = Int64GetDatum(nextval_internal(bulk->seqid, true));
	slot->tts_isnull[a] = false;
	a = bulk->attno[SC_EVENT_COUNT] - 1;
	slot->tts_values[a] = Int64GetDatum(0);
	slot->tts_isnull[a] = false;
	a = bulk->attno[SC_TRIM_NEEDED] - 1;
	slot->tts_values[a] = BoolGetDatum(false);
	slot->tts_isnull[a] = false;
	a = bulk->attno[SC_EXPIRES_AT] - 1;
	expires_at(fs, true, (Datum) 0, &slot->tts_values[a], &slot->tts_isnull[a]);
	ExecStoreVirtualTuple(slot);
}

/*
 * Write one row as INSERT ... ON CONFLICT DO UPDATE does when the table has
 * BEFORE INSERT row triggers: build the row to insert and fire the triggers
 * (NULL skips the row); what they return is inserted, or, when its key has
 * a live row, is the EXCLUDED row of the update (which fires the BEFORE
 * UPDATE triggers).  The row is written before the next one's triggers
 * fire, so that a trigger that reads the table sees the earlier rows.
 */
static void
write_row_fired(SessionBulk *bulk, FlushState *fs, BulkRow *row)
{
	TupleTableSlot *slot = fs->insslot;
	EState	   *estate = fs->estate;
	int			f;

	fill_insert_slot(bulk, fs, row, slot);
	if (!ExecBRInsertTriggers(estate, fs->rri, slot))
		return;					/* skipped by a trigger */

	/* the trigger's row, with its key, is the row from now on */
	slot_getallattrs(slot);
	for (f = 0; f < SF_NFIELDS; f++)
	{
		int			a = bulk->attno[field_column[f]] - 1;
		Form_pg_attribute att = TupleDescAttr(slot->tts_tupleDescriptor, a);

		row->nulls[f] = slot->tts_isnull[a];
		row->values[f] = row->nulls[f] ? (Datum) 0 :
			datumCopy(slot->tts_values[a], att->attbyval, att->attlen);
	}
	row->preserve_updated_at = true;	/* as the trigger left it */
	if (fs->rel->rd_att->constr)
		ExecConstraints(fs->rri, slot, estate);

	for (;;)
	{
		bool		conflict = false;
		List	   *recheck;

		while (probe(bulk, fs, row))
		{
			if (update_row(bulk, fs, row))
				return;
		}

		table_tuple_insert(fs->rel, slot, GetCurrentCommandId(true), 0, NULL);
		recheck = compat_insert_index_tuples(fs->rri, slot, estate, false, true,
											 &conflict, fs->arbiter, false);
		if (!conflict)
		{
			ExecARInsertTriggers(estate, fs->rri, slot, recheck, NULL);
			list_free(recheck);
			bulk->inserted++;
			return;
		}
		/* the key was inserted concurrently: take ours back, update theirs */
		list_free(recheck);
		CommandCounterIncrement();
		simple_table_tuple_delete(fs->rel, &slot->tts_tid, GetActiveSnapshot());
		CommandCounterIncrement();
	}
}

/*
 * Insert the given rows with table_multi_insert.  Rows whose key turns out
 * to have a live row (inserted concurrently, or not probed for) are deleted
 * again and returned in *retry (their count is the result).
 */
static int
insert_rows(SessionBulk *bulk, FlushState *fs, BulkRow **rows, int n,
			BulkRow **retry)
{
	EState	   *estate = fs->estate;
	CommandId	cid = GetCurrentCommandId(true);
	bool	   *conflict = palloc0(sizeof(bool) * n);
	int			nretry = 0;
	int			i;
	MemoryContext old;

	for (i = 0; i < n; i++)
	{
		BulkRow    *row = rows[i];
		TupleTableSlot *slot;

		if (bulk->slots[i] == NULL)
		{
			old = MemoryContextSwitchTo(bulk->cxt);
			bulk->slots[i] = table_slot_create(fs->rel, NULL);
			bulk->nslots = i + 1;
			MemoryContextSwitchTo(old);
		}
		slot = bulk->slots[i];
		bulk->current_element = row->element;
		fill_insert_slot(bulk, fs, row, slot);
		ExecConstraints(fs->rri, slot, estate);
		ResetPerTupleExprContext(estate);
	}
	bulk->current_element = -1;

	old = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
	table_multi_insert(fs->rel, bulk->slots, n, cid, 0, fs->bistate);
	MemoryContextSwitchTo(old);
	ResetPerTupleExprContext(estate);

	for (i = 0; i < n; i++)
	{
		bool		spec_conflict = false;
		List	   *recheck;

		recheck = compat_insert_index_tuples(fs->rri, bulk->slots[i], estate,
											 false, true, &spec_conflict,
											 fs->arbiter, false);
		if (spec_conflict)
		{
			conflict[i] = true;
			retry[nretry++] = rows[i];
		}
		else
		{
			ExecARInsertTriggers(estate, fs->rri, bulk->slots[i], recheck, NULL);
			bulk->inserted++;
		}
		list_free(recheck);
		ResetPerTupleExprContext(estate);
	}

	if (nretry > 0)
	{
		/* take back our rows: they become updates of the live ones */
		CommandCounterIncrement();
		for (i = 0; i < n; i++)
			if (conflict[i])
				simple_table_tuple_delete(fs->rel, &bulk->slots[i]->tts_tid,
										  GetActiveSnapshot());
		CommandCounterIncrement();
	}
	for (i = 0; i < n; i++)
		ExecClearTuple(bulk->slots[i]);
	pfree(conflict);
	return nretry;
}

/* Rows probed at the start of a chunk to decide whether to probe the rest. */
#define PROBE_SAMPLE	32

/*
 * Write the buffered rows; see the file header.  When the sample at the
 * start of a chunk (or the previous chunk) found no existing key, the rest
 * of the chunk is inserted without probing: the partial unique check at
 * index insertion still catches every key that has a live row, which then
 * goes back to the probe-and-update path.
 */
static void
bulk_flush(SessionBulk *bulk)
{
	FlushState	fs;
	BulkRow   **pending;
	BulkRow   **fresh;
	int			npending;
	ErrorContextCallback errcb;
	MemoryContext old;
	int			i;
	int			probed = 0,
				hits = 0,
				conflicts = 0;

	if (bulk->nrows == 0)
		return;

	errcb.callback = bulk_error_callback;
	errcb.arg = bulk;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	old = MemoryContextSwitchTo(bulk->chunk_cxt);
	memset(&fs, 0, sizeof(fs));
	fs.now = GetCurrentTransactionStartTimestamp();
	fs.default_ttl = session_default_ttl(TTL_SESSION);
	fs.empty_object = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	fs.rel = table_open(bulk->relid, RowExclusiveLock);
	fs.idx = index_open(bulk->keyidx, RowExclusiveLock);
	fs.arbiter = list_make1_oid(bulk->keyidx);
	init_scankeys(&fs);

	fs.estate = CreateExecutorState();
	compat_init_range_table(fs.estate, &bulk->perms);
	fs.rri = makeNode(ResultRelInfo);
	ExecInitResultRelation(fs.estate, fs.rri, 1);
	compat_check_valid_result_rel(fs.rri, CMD_INSERT);
	/* updates and take-backs bypass the executor's checks: do them here */
	CheckCmdReplicaIdentity(fs.rel, CMD_UPDATE);
	CheckCmdReplicaIdentity(fs.rel, CMD_DELETE);
	ExecOpenIndices(fs.rri, false);
	fs.lock_first = fs.rri->ri_TrigDesc != NULL &&
		fs.rri->ri_TrigDesc->trig_update_before_row;
	fs.fire_before_insert = fs.rri->ri_TrigDesc != NULL &&
		fs.rri->ri_TrigDesc->trig_insert_before_row;
	fs.estate->es_snapshot = GetActiveSnapshot();
	fs.estate->es_output_cid = GetCurrentCommandId(true);
	compat_eval_plan_qual_init(&fs.epqstate, fs.estate, NULL, NIL, -1,
							   list_make1_int(1));
	fs.bistate = GetBulkInsertState();
	fs.lockslot = table_slot_create(fs.rel, &fs.estate->es_tupleTable);
	fs.newslot = table_slot_create(fs.rel, &fs.estate->es_tupleTable);
	fs.insslot = table_slot_create(fs.rel, &fs.estate->es_tupleTable);
	AfterTriggerBeginQuery();

	if (fs.fire_before_insert)
	{
		/*
		 * Row by row, as COPY does with such triggers; each row is a command
		 * of its own, which the next row's triggers (and probe) see.
		 */
		for (i = 0; i < bulk->nrows; i++)
		{
			fs.estate->es_output_cid = GetCurrentCommandId(true);
			bulk->current_element = bulk->rows[i].element;
			write_row_fired(bulk, &fs, &bulk->rows[i]);
			ResetPerTupleExprContext(fs.estate);
			CommandCounterIncrement();
		}
		bulk->current_element = -1;
		bulk->nrows = 0;		/* nothing left for the loop below */
	}

	pending = palloc(sizeof(BulkRow *) * bulk->nrows);
	fresh = palloc(sizeof(BulkRow *) * bulk->nrows);
	for (i = 0; i < bulk->nrows; i++)
		pending[i] = &bulk->rows[i];
	npending = bulk->nrows;

	while (npending > 0)
	{
		int			nfresh = 0;
		bool		optimistic = bulk->optimistic;

		fs.estate->es_output_cid = GetCurrentCommandId(true);
		for (i = 0; i < npending; i++)
		{
			BulkRow    *row = pending[i];

			bulk->current_element = row->element;
			if (optimistic)
			{
				fresh[nfresh++] = row;
				continue;
			}
			{
				bool		found = false;

				while (probe(bulk, &fs, row))
				{
					if (update_row(bulk, &fs, row))
					{
						found = true;
						break;
					}
					/* changed since the probe: probe again */
				}
				if (found)
					hits++;
				else
					fresh[nfresh++] = row;
			}
			probed++;
			ResetPerTupleExprContext(fs.estate);
			if (probed == PROBE_SAMPLE && hits == 0 && i + 1 < npending)
				optimistic = true;	/* nothing exists: insert the rest */
		}
		bulk->current_element = -1;
		npending = (nfresh > 0) ? insert_rows(bulk, &fs, fresh, nfresh, pending) : 0;
		conflicts += npending;
		/* conflicting rows are probed on the next round */
		bulk->optimistic = false;
	}
	/* the next chunk inserts without probing if this one found nothing */
	bulk->optimistic = (hits == 0 && conflicts == 0);

	AfterTriggerEndQuery(fs.estate);
	FreeBulkInsertState(fs.bistate);
	table_finish_bulk_insert(fs.rel, 0);
	EvalPlanQualEnd(&fs.epqstate);
	ExecResetTupleTable(fs.estate->es_tupleTable, false);
	ExecCloseResultRelations(fs.estate);
	ExecCloseRangeTableRelations(fs.estate);
	FreeExecutorState(fs.estate);
	index_close(fs.idx, NoLock);
	table_close(fs.rel, NoLock);
	MemoryContextSwitchTo(old);

	/* the next chunk sees (and may update) this one's rows */
	CommandCounterIncrement();

	error_context_stack = errcb.previous;
	MemoryContextReset(bulk->chunk_cxt);
	memset(bulk->htab, 0, sizeof(int) * (bulk->htab_mask + 1));
	bulk->nrows = 0;
}

/* Flush what is left and return the counts; the writer is freed. */
void
session_bulk_finish(SessionBulk *bulk, int64 *inserted, int64 *updated)
{
	bulk_flush(bulk);
	*inserted = bulk->inserted;
	*updated = bulk->updated;
	session_bulk_abandon(bulk);
}

/* Free a writer without writing its buffer (after an error, or when done). */
void
session_bulk_abandon(SessionBulk *bulk)
{
	int			i;

	for (i = 0; i < bulk->nslots; i++)
		if (bulk->slots[i] != NULL)
			ExecDropSingleTupleTableSlot(bulk->slots[i]);
	MemoryContextDelete(bulk->cxt);
}

/*-------------------------------------------------------------------------
 *
 * checkpoint_get.c
 *	  agentstore.get_checkpoint() and agentstore.list_checkpoints(): whole
 *	  LangGraph checkpoint tuples in one call.
 *
 * A tuple is a checkpoint row, one blob per channel named by its
 * channel_versions, and the checkpoint's pending writes.  These are read
 * with direct index scans on the three primary keys (a rescan per channel),
 * not through the executor: that is what makes a read cheaper than
 * LangGraph's own statement, whose correlated sub-selects cost an executor
 * node start-up and a tuplestore per call.  Direct scans bypass the
 * executor's permission checks, so they are done here: SELECT privilege on
 * each table, and row-level security, which is not supported (an error).
 *
 * The result rows have the composite type agentstore.checkpoint_tuple.
 * Values come back as JSON: channel_values is {channel: [type, value]} and
 * pending_writes is [[task_id, channel, type, value], ...] ordered by
 * (task_path, task_id, idx), where a value is JSON text for type "json" and
 * base64 otherwise (see checkpoint_json.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation_d.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "compat.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "checkpoint.h"

PG_FUNCTION_INFO_V1(agentstore_get_checkpoint);
PG_FUNCTION_INFO_V1(agentstore_list_checkpoints);

#define CP_MAX_COLS 6

/*
 * A table read through its primary key, and the columns read from it.
 *
 * The scan's state is allocated in cxt, the memory context current when it
 * was opened, and every call that moves the scan runs in that context too:
 * index access methods allocate some of their state lazily, in whatever
 * context is current when they first need it (nbtree's array of dead items,
 * for one, when a scan first meets an entry that no snapshot can see), so a
 * scan moved under a per-row context that is then reset would keep
 * pointers into freed memory.
 */
typedef struct CpTable
{
	MemoryContext cxt;			/* owns the scan; outlives it */
	Relation	heap;
	Relation	index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	int			nkeys;
	ScanKeyData keys[4];
	AttrNumber	att[CP_MAX_COLS];
} CpTable;

/* Columns read, by position in CpTable.att. */
enum
{
	BLOB_TYPE, BLOB_BLOB, BLOB_THREAD, BLOB_NS, BLOB_CHANNEL, BLOB_VERSION
};
enum
{
	WRITE_TASK_ID, WRITE_IDX, WRITE_CHANNEL, WRITE_TYPE, WRITE_BLOB, WRITE_TASK_PATH
};
enum
{
	CKPT_THREAD, CKPT_NS, CKPT_ID, CKPT_PARENT, CKPT_CHECKPOINT, CKPT_METADATA
};

/* One pending write, copied out of its heap tuple for sorting. */
typedef struct CpWrite
{
	char	   *task_id;
	int			task_id_len;
	int			idx;
	char	   *channel;
	int			channel_len;
	char	   *type;
	int			type_len;
	char	   *data;			/* NULL for a NULL blob */
	int			data_len;
	char	   *task_path;
	int			task_path_len;
} CpWrite;

/*
 * Everything one call needs to read tuples.  scancxt owns the two scans and
 * the output buffers for the whole call; rowcxt, its child, owns only what
 * one tuple needs (detoasted values, copied writes) and is reset after each
 * tuple.
 */
typedef struct CpReader
{
	MemoryContext scancxt;		/* the scans and buffers, for the call */
	MemoryContext rowcxt;		/* one tuple's data, reset after each */
	CpTable		blobs;
	CpTable		writes;
	int64	   *present;		/* sorted blob keys of the listed thread, or
								 * NULL: probe for every channel */
	int			npresent;
	StringInfoData values;
	StringInfoData pending;
	StringInfoData sends;
} CpReader;

/* The heap attribute number of a column, checking its type. */
static AttrNumber
column_attnum(Relation rel, const char *name, Oid type)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			if (att->atttypid != type)
				break;
			return att->attnum;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("table \"agentstore.%s\" has no %s column \"%s\"",
					RelationGetRelationName(rel), format_type_be(type), name),
			 errhint("Reinstall the agentstore extension.")));
	return InvalidAttrNumber;	/* keep compiler quiet */
}

/*
 * Open one of agentstore's tables for reading, after the checks the
 * executor would make, and find the columns to be read.
 */
static void
open_checked(CpTable *t, const char *name, const char *const *cols,
			 const Oid *types, int ncols)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid("agentstore", false));
	AclResult	aclresult;
	int			i;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"agentstore.%s\" does not exist", name)));
	t->cxt = CurrentMemoryContext;
	t->heap = table_open(relid, AccessShareLock);
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, name);
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("row-level security on \"agentstore.%s\" is not supported", name),
				 errdetail("The checkpoint functions read this table directly through its indexes.")));
	for (i = 0; i < ncols; i++)
		t->att[i] = column_attnum(t->heap, cols[i], types[i]);
}

/* Report an index that does not have the shape this file relies on. */
static void
unexpected_index(Relation index)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("index \"agentstore.%s\" does not have the expected columns",
					RelationGetRelationName(index)),
			 errhint("Reinstall the agentstore extension.")));
}

/*
 * Open a table and its primary key, and prepare an index scan whose first
 * nkeys key columns (all text, "C" collation) are compared for equality.
 */
static void
table_open_for_read(CpTable *t, const char *name,
					const char *const *keycols, int nkeys,
					const char *const *cols, const Oid *types, int ncols,
					Snapshot snapshot)
{
	Oid			indexoid;
	int			i;

	open_checked(t, name, cols, types, ncols);
	indexoid = compat_primary_key_index(t->heap);
	if (!OidIsValid(indexoid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"agentstore.%s\" has no primary key", name),
				 errhint("Reinstall the agentstore extension.")));
	t->index = index_open(indexoid, AccessShareLock);
	t->nkeys = nkeys;
	for (i = 0; i < nkeys; i++)
	{
		AttrNumber	attnum = column_attnum(t->heap, keycols[i], TEXTOID);

		if (i >= IndexRelationGetNumberOfKeyAttributes(t->index) ||
			t->index->rd_index->indkey.values[i] != attnum ||
			t->index->rd_indcollation[i] != C_COLLATION_OID)
			unexpected_index(t->index);
		ScanKeyEntryInitialize(&t->keys[i], 0, i + 1, BTEqualStrategyNumber,
							   InvalidOid, C_COLLATION_OID, F_TEXTEQ, (Datum) 0);
	}
	t->scan = compat_index_beginscan(t->heap, t->index, snapshot, nkeys, 0);
	t->slot = table_slot_create(t->heap, NULL);
}

/*
 * Open checkpoint_blobs and its index on _checkpoint_blob_key(thread_id,
 * checkpoint_ns, channel, version), a single bigint: one channel's blob is
 * found by an integer search and a recheck of the four columns.
 */
static void
blobs_open_for_read(CpTable *t, Snapshot snapshot)
{
	static const char *const cols[] = {"type", "blob", "thread_id", "checkpoint_ns",
	"channel", "version"};
	static const Oid types[] = {TEXTOID, BYTEAOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Oid			indexoid;

	open_checked(t, "checkpoint_blobs", cols, types, 6);
	indexoid = get_relname_relid("checkpoint_blobs_key", RelationGetNamespace(t->heap));
	if (!OidIsValid(indexoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("index \"agentstore.checkpoint_blobs_key\" does not exist"),
				 errhint("Reinstall the agentstore extension.")));
	t->index = index_open(indexoid, AccessShareLock);
	if (t->index->rd_index->indrelid != RelationGetRelid(t->heap) ||
		IndexRelationGetNumberOfKeyAttributes(t->index) != 1 ||
		t->index->rd_index->indkey.values[0] != 0 ||
		t->index->rd_opcintype[0] != INT8OID)
		unexpected_index(t->index);
	t->nkeys = 1;
	ScanKeyEntryInitialize(&t->keys[0], 0, 1, BTEqualStrategyNumber,
						   InvalidOid, InvalidOid, F_INT8EQ, (Datum) 0);
	t->scan = compat_index_beginscan(t->heap, t->index, snapshot, 1, 0);
	t->slot = table_slot_create(t->heap, NULL);
}

/* End the scan; the locks are kept to the end of the transaction. */
static void
table_close_for_read(CpTable *t)
{
	index_endscan(t->scan);
	ExecDropSingleTupleTableSlot(t->slot);
	index_close(t->index, NoLock);
	table_close(t->heap, NoLock);
}

/*
 * Restart the scan with the keys in t->keys, in the scan's own context (see
 * CpTable).
 */
static void
scan_rescan(CpTable *t)
{
	MemoryContext old = MemoryContextSwitchTo(t->cxt);

	index_rescan(t->scan, t->keys, t->nkeys, NULL, 0);
	MemoryContextSwitchTo(old);
}

/* The scan's next tuple into t->slot, fetched in the scan's own context. */
static bool
scan_next(CpTable *t, ScanDirection dir)
{
	MemoryContext old = MemoryContextSwitchTo(t->cxt);
	bool		found = index_getnext_slot(t->scan, dir, t->slot);

	MemoryContextSwitchTo(old);
	return found;
}

/* Position the scan on the given key values; returns the first match. */
static bool
table_first(CpTable *t, const Datum *keyvals, ScanDirection dir)
{
	int			i;

	for (i = 0; i < t->nkeys; i++)
		t->keys[i].sk_argument = keyvals[i];
	scan_rescan(t);
	return scan_next(t, dir);
}

/* Whether a text column of the current tuple equals (s, len). */
static bool
slot_text_equals(CpTable *t, int col, const char *s, int len)
{
	bool		isnull;
	Datum		d = slot_getattr(t->slot, t->att[col], &isnull);
	text	   *v;

	if (isnull)
		return false;
	v = DatumGetTextPP(d);
	return VARSIZE_ANY_EXHDR(v) == len && memcmp(VARDATA_ANY(v), s, len) == 0;
}

/*
 * Find the blob of (thread_id, checkpoint_ns, channel, version) through
 * the hashed key index; a hash collision is told apart by a recheck.
 */
static bool
blob_find(CpTable *t, int64 key, const char *const *parts, const int *lens)
{
	t->keys[0].sk_argument = Int64GetDatum(key);
	scan_rescan(t);
	while (scan_next(t, ForwardScanDirection))
	{
		if (slot_text_equals(t, BLOB_CHANNEL, parts[2], lens[2]) &&
			slot_text_equals(t, BLOB_VERSION, parts[3], lens[3]) &&
			slot_text_equals(t, BLOB_THREAD, parts[0], lens[0]) &&
			slot_text_equals(t, BLOB_NS, parts[1], lens[1]))
			return true;
	}
	return false;
}

/*
 * A listing of one thread reads the keys of all the thread's blobs once
 * (PRESENT_AFTER rows into the listing, and only when it may list at least
 * four times that many, so that a short listing never pays for it),
 * instead of probing the blob index for every channel of every
 * checkpoint: most channels of a LangGraph checkpoint have no blob (their
 * values are inline), and a probe that finds nothing costs as much as one
 * that does.  The keys come from the primary key's index entries alone,
 * without visiting the heap, so they are a superset of the blobs the
 * snapshot sees (an entry is in the index before its row can commit);
 * a key in the set is still probed and rechecked.  A thread with more than
 * PRESENT_MAX blobs keeps the probes (the set would cost more memory than
 * it saves time).
 */
#define PRESENT_AFTER	64
#define PRESENT_MAX		(1 << 20)

/* Whether a blob with this key may exist (always, without a set). */
static bool
blob_maybe_present(CpReader *r, int64 key)
{
	int			lo = 0;
	int			hi = r->npresent - 1;

	if (r->present == NULL)
		return true;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (r->present[mid] == key)
			return true;
		if (r->present[mid] < key)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* qsort's comparison of two blob keys. */
static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * Collect the keys of thread_id's blobs (in namespace ns unless it is NULL)
 * from checkpoint_blobs' primary key index, sorted, into r->present; leave
 * r->present NULL when there are more than PRESENT_MAX.  The table was
 * opened, and its privileges and row-level security checked, by
 * reader_begin.
 */
static void
present_build(CpReader *r, Datum thread_id, Datum ns, Snapshot snapshot)
{
	static const char *const keycols[] = {"thread_id", "checkpoint_ns", "channel", "version"};
	Relation	heap = r->blobs.heap;
	Relation	index;
	IndexScanDesc scan;
	ScanKeyData keys[2];
	int			nkeys = DatumGetPointer(ns) == NULL ? 1 : 2;
	MemoryContext old = MemoryContextSwitchTo(r->scancxt);
	MemoryContext tmp = AllocSetContextCreate(r->scancxt, "checkpoint blob keys",
											  ALLOCSET_SMALL_SIZES);
	Oid			indexoid = compat_primary_key_index(heap);
	ItemPointer tid;
	int			max = 1024;
	int			n = 0;
	int64	   *present = palloc(max * sizeof(int64));
	int			i;

	if (!OidIsValid(indexoid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"agentstore.checkpoint_blobs\" has no primary key"),
				 errhint("Reinstall the agentstore extension.")));
	index = index_open(indexoid, AccessShareLock);
	if (IndexRelationGetNumberOfKeyAttributes(index) != 4)
		unexpected_index(index);
	for (i = 0; i < 4; i++)
	{
		if (index->rd_index->indkey.values[i] != column_attnum(heap, keycols[i], TEXTOID) ||
			index->rd_indcollation[i] != C_COLLATION_OID)
			unexpected_index(index);
	}
	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber,
						   InvalidOid, C_COLLATION_OID, F_TEXTEQ, thread_id);
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber,
						   InvalidOid, C_COLLATION_OID, F_TEXTEQ, ns);
	scan = compat_index_beginscan(heap, index, snapshot, nkeys, 0);
	scan->xs_want_itup = true;
	index_rescan(scan, keys, nkeys, NULL, 0);
	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		const char *parts[4];
		int			lens[4];
		MemoryContext prev;

		if (n == PRESENT_MAX)
		{
			pfree(present);
			present = NULL;
			break;
		}
		prev = MemoryContextSwitchTo(tmp);
		for (i = 0; i < 4; i++)
		{
			bool		isnull;
			Datum		d = index_getattr(scan->xs_itup, i + 1, scan->xs_itupdesc, &isnull);
			text	   *t;

			if (isnull)
				unexpected_index(index);
			t = DatumGetTextPP(d);
			parts[i] = VARDATA_ANY(t);
			lens[i] = VARSIZE_ANY_EXHDR(t);
		}
		MemoryContextSwitchTo(prev);
		if (n == max)
		{
			max *= 2;
			present = repalloc(present, max * sizeof(int64));
		}
		present[n++] = cp_blob_key(parts, lens);
		MemoryContextReset(tmp);
	}
	index_endscan(scan);
	index_close(index, NoLock);
	MemoryContextDelete(tmp);
	if (present != NULL)
		qsort(present, n, sizeof(int64), int64_cmp);
	r->present = present;
	r->npresent = n;
	MemoryContextSwitchTo(old);
}

/* A text or bytea column of the current tuple, detoasted; NULL if null. */
static struct varlena *
slot_varlena(CpTable *t, int col)
{
	bool		isnull;
	Datum		d = slot_getattr(t->slot, t->att[col], &isnull);

	return isnull ? NULL : PG_DETOAST_DATUM_PACKED(d);
}

/* Copy a varlena's payload, which may hold NUL bytes; NULL stays NULL. */
static char *
copy_payload(struct varlena *v, int *len)
{
	char	   *copy;

	if (v == NULL)
	{
		*len = 0;
		return NULL;
	}
	*len = VARSIZE_ANY_EXHDR(v);
	copy = palloc(*len + 1);
	memcpy(copy, VARDATA_ANY(v), *len);
	copy[*len] = '\0';
	return copy;
}

/* Order of pending writes: (task_path, task_id, idx), byte-wise. */
static int
write_cmp(const void *a, const void *b)
{
	const CpWrite *x = (const CpWrite *) a;
	const CpWrite *y = (const CpWrite *) b;
	int			c;

	c = memcmp(x->task_path, y->task_path, Min(x->task_path_len, y->task_path_len));
	if (c == 0)
		c = x->task_path_len - y->task_path_len;
	if (c == 0)
	{
		c = memcmp(x->task_id, y->task_id, Min(x->task_id_len, y->task_id_len));
		if (c == 0)
			c = x->task_id_len - y->task_id_len;
	}
	if (c == 0)
		c = (x->idx > y->idx) - (x->idx < y->idx);
	return c;
}

/*
 * The pending writes of one checkpoint, optionally only those to one
 * channel, in (task_path, task_id, idx) order.  The primary key gives
 * (task_id, idx); a sort is needed only when task paths differ.
 */
static CpWrite *
read_writes(CpReader *r, const Datum *key, const char *only_channel, int *count)
{
	CpTable    *t = &r->writes;
	CpWrite    *w = NULL;
	int			n = 0;
	int			cap = 0;
	bool		need_sort = false;
	bool		found;

	for (found = table_first(t, key, ForwardScanDirection); found;
		 found = scan_next(t, ForwardScanDirection))
	{
		CpWrite    *e;
		bool		isnull;
		struct varlena *channel = slot_varlena(t, WRITE_CHANNEL);

		if (only_channel != NULL &&
			(VARSIZE_ANY_EXHDR(channel) != strlen(only_channel) ||
			 memcmp(VARDATA_ANY(channel), only_channel, strlen(only_channel)) != 0))
			continue;
		if (n == cap)
		{
			cap = cap ? cap * 2 : 8;
			w = w ? repalloc(w, cap * sizeof(CpWrite)) : palloc(cap * sizeof(CpWrite));
		}
		e = &w[n++];
		e->task_id = copy_payload(slot_varlena(t, WRITE_TASK_ID), &e->task_id_len);
		e->idx = DatumGetInt32(slot_getattr(t->slot, t->att[WRITE_IDX], &isnull));
		e->channel = copy_payload(channel, &e->channel_len);
		e->type = copy_payload(slot_varlena(t, WRITE_TYPE), &e->type_len);
		e->data = copy_payload(slot_varlena(t, WRITE_BLOB), &e->data_len);
		e->task_path = copy_payload(slot_varlena(t, WRITE_TASK_PATH), &e->task_path_len);
		if (e->task_path == NULL)
			e->task_path = "";
		if (e->type == NULL)
			e->type = "";
		if (n > 1 && (e->task_path_len != w[0].task_path_len ||
					  memcmp(e->task_path, w[0].task_path, e->task_path_len) != 0))
			need_sort = true;
	}
	if (need_sort)
		qsort(w, n, sizeof(CpWrite), write_cmp);
	*count = n;
	return w;
}

/* Whether a key (pointer, length) is among the first n of a list. */
static bool
key_seen(char **keys, int *lens, int n, const char *key, int len)
{
	int			i;

	for (i = 0; i < n; i++)
		if (lens[i] == len && memcmp(keys[i], key, len) == 0)
			return true;
	return false;
}

/* Append one entry "channel":[type,value] of channel_values. */
static void
append_value_entry(StringInfo out, bool *first, const char *channel, int channel_len,
				   const char *type, int type_len, const char *data, int data_len)
{
	if (!*first)
		appendStringInfoChar(out, ',');
	*first = false;
	cp_append_json_string(out, channel, channel_len);
	appendStringInfoString(out, ":[");
	cp_append_json_string(out, type, type_len);
	appendStringInfoChar(out, ',');
	cp_append_blob_value(out, type, type_len, data, data_len);
	appendStringInfoChar(out, ']');
}

/*
 * Build channel_values: {channel: [type, value]} for every blob named by
 * channel_versions (skipping LangGraph's "empty" marker), then the inline
 * values of checkpoint.channel_values that no blob overrides.
 */
static void
build_channel_values(CpReader *r, Datum thread_id, Datum checkpoint_ns,
					 Jsonb *checkpoint)
{
	StringInfo	out = &r->values;
	JsonbValue	buf;
	JsonbValue *versions = cp_object_get(checkpoint, "channel_versions", &buf);
	JsonbValue	inline_buf;
	JsonbValue *inline_values = cp_object_get(checkpoint, "channel_values", &inline_buf);
	int			nfound = 0;
	int			maxfound = 0;
	char	  **found = NULL;
	int		   *found_len = NULL;
	bool		first = true;

	resetStringInfo(out);
	appendStringInfoChar(out, '{');
	if (versions != NULL && versions->type == jbvBinary &&
		JsonContainerIsObject(versions->val.binary.data))
	{
		JsonbIterator *it = JsonbIteratorInit(versions->val.binary.data);
		JsonbValue	v;
		JsonbValue	key = {0};
		JsonbIteratorToken tok;
		const char *parts[4];
		int			lens[4];
		uint64		prefix;

		maxfound = JsonContainerSize(versions->val.binary.data);
		found = palloc(maxfound * sizeof(char *));
		found_len = palloc(maxfound * sizeof(int));
		parts[0] = VARDATA_ANY(DatumGetTextPP(thread_id));
		lens[0] = VARSIZE_ANY_EXHDR(DatumGetTextPP(thread_id));
		parts[1] = VARDATA_ANY(DatumGetTextPP(checkpoint_ns));
		lens[1] = VARSIZE_ANY_EXHDR(DatumGetTextPP(checkpoint_ns));
		prefix = cp_blob_key_parts(0, parts, lens, 0, 2);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			char	   *version;
			struct varlena *type;
			struct varlena *blob;
			int64		blobkey;

			if (tok == WJB_KEY)
			{
				key = v;
				continue;
			}
			if (tok != WJB_VALUE || (version = cp_version_text(&v)) == NULL)
				continue;
			parts[2] = key.val.string.val;
			lens[2] = key.val.string.len;
			parts[3] = version;
			lens[3] = strlen(version);
			blobkey = (int64) cp_blob_key_parts(prefix, parts, lens, 2, 4);
			if (!blob_maybe_present(r, blobkey) ||
				!blob_find(&r->blobs, blobkey, parts, lens))
				continue;
			type = slot_varlena(&r->blobs, BLOB_TYPE);
			if (VARSIZE_ANY_EXHDR(type) == 5 && memcmp(VARDATA_ANY(type), "empty", 5) == 0)
				continue;
			blob = slot_varlena(&r->blobs, BLOB_BLOB);
			append_value_entry(out, &first, key.val.string.val, key.val.string.len,
							   VARDATA_ANY(type), VARSIZE_ANY_EXHDR(type),
							   blob ? VARDATA_ANY(blob) : NULL,
							   blob ? VARSIZE_ANY_EXHDR(blob) : 0);
			found[nfound] = key.val.string.val;
			found_len[nfound++] = key.val.string.len;
		}
	}
	if (inline_values != NULL && inline_values->type == jbvBinary &&
		JsonContainerIsObject(inline_values->val.binary.data))
	{
		JsonbIterator *it = JsonbIteratorInit(inline_values->val.binary.data);
		JsonbValue	v;
		JsonbValue	key = {0};
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			char	   *json;
			int			len;

			if (tok == WJB_KEY)
			{
				key = v;
				continue;
			}
			if (tok != WJB_VALUE ||
				key_seen(found, found_len, nfound, key.val.string.val, key.val.string.len))
				continue;
			json = cp_jsonb_value_text(&v, &len);
			append_value_entry(out, &first, key.val.string.val, key.val.string.len,
							   CP_JSON_TYPE, 4, json, len);
		}
	}
	appendStringInfoChar(out, '}');
}

/* Build a JSON array of writes: [task_id, channel, type, value] each, or
 * only [type, value] for pending sends. */
static void
build_writes(StringInfo out, CpWrite *w, int n, bool sends)
{
	int			i;

	resetStringInfo(out);
	appendStringInfoChar(out, '[');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(out, ',');
		appendStringInfoChar(out, '[');
		if (!sends)
		{
			cp_append_json_string(out, w[i].task_id, w[i].task_id_len);
			appendStringInfoChar(out, ',');
			cp_append_json_string(out, w[i].channel, w[i].channel_len);
			appendStringInfoChar(out, ',');
		}
		cp_append_json_string(out, w[i].type, w[i].type_len);
		appendStringInfoChar(out, ',');
		cp_append_blob_value(out, w[i].type, w[i].type_len, w[i].data, w[i].data_len);
		appendStringInfoChar(out, ']');
	}
	appendStringInfoChar(out, ']');
}

/* Whether a checkpoint predates format 4 (pending sends in the parent). */
static bool
checkpoint_before_v4(Jsonb *checkpoint)
{
	JsonbValue	buf;
	JsonbValue *v = cp_object_get(checkpoint, "v", &buf);

	return v != NULL && v->type == jbvNumeric &&
		DatumGetFloat8(DirectFunctionCall1(numeric_float8,
										   NumericGetDatum(v->val.numeric))) < 4.0;
}

/*
 * Add one checkpoint_tuple row to the result: the checkpoint row's columns
 * (given), its channel values and pending writes (read here), and for a
 * checkpoint older than format 4 its parent's pending sends, which
 * LangGraph migrates into the __pregel_tasks channel.
 */
static void
emit_tuple(CpReader *r, ReturnSetInfo *rsinfo, Datum *row, bool *nulls)
{
	Datum		values[9];
	bool		isnull[9] = {0};
	Jsonb	   *checkpoint = DatumGetJsonbP(row[CKPT_CHECKPOINT]);
	Datum		key[3] = {row[CKPT_THREAD], row[CKPT_NS], row[CKPT_ID]};
	CpWrite    *w;
	int			n;

	build_channel_values(r, row[CKPT_THREAD], row[CKPT_NS], checkpoint);
	w = read_writes(r, key, NULL, &n);
	build_writes(&r->pending, w, n, false);

	values[0] = row[CKPT_THREAD];
	values[1] = row[CKPT_NS];
	values[2] = row[CKPT_ID];
	values[3] = row[CKPT_PARENT];
	isnull[3] = nulls[CKPT_PARENT];
	values[4] = JsonbPGetDatum(checkpoint);
	values[5] = PointerGetDatum(PG_DETOAST_DATUM(row[CKPT_METADATA]));
	values[6] = PointerGetDatum(cstring_to_text_with_len(r->values.data, r->values.len));
	values[7] = PointerGetDatum(cstring_to_text_with_len(r->pending.data, r->pending.len));
	isnull[8] = true;
	if (!nulls[CKPT_PARENT] && checkpoint_before_v4(checkpoint))
	{
		key[2] = row[CKPT_PARENT];
		w = read_writes(r, key, CP_TASKS_CHANNEL, &n);
		if (n > 0)
		{
			build_writes(&r->sends, w, n, true);
			values[8] = PointerGetDatum(cstring_to_text_with_len(r->sends.data,
																 r->sends.len));
			isnull[8] = false;
		}
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
}

/*
 * Open the blob and write tables for a call, in a context of the reader's
 * own (a child of the current one) that lives until reader_end.
 */
static void
reader_begin(CpReader *r, Snapshot snapshot)
{
	static const char *const write_keys[] = {"thread_id", "checkpoint_ns", "checkpoint_id"};
	static const char *const write_cols[] = {"task_id", "idx", "channel", "type", "blob", "task_path"};
	static const Oid write_types[] = {TEXTOID, INT4OID, TEXTOID, TEXTOID, BYTEAOID, TEXTOID};
	MemoryContext old;

	r->scancxt = AllocSetContextCreate(CurrentMemoryContext, "checkpoint reader",
									   ALLOCSET_DEFAULT_SIZES);
	r->rowcxt = AllocSetContextCreate(r->scancxt, "checkpoint tuple",
									  ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(r->scancxt);
	blobs_open_for_read(&r->blobs, snapshot);
	table_open_for_read(&r->writes, "checkpoint_writes", write_keys, 3,
						write_cols, write_types, 6, snapshot);
	initStringInfo(&r->values);
	initStringInfo(&r->pending);
	initStringInfo(&r->sends);
	r->present = NULL;
	r->npresent = 0;
	MemoryContextSwitchTo(old);
}

/* End the reader's scans and free everything it allocated. */
static void
reader_end(CpReader *r)
{
	table_close_for_read(&r->blobs);
	table_close_for_read(&r->writes);
	MemoryContextDelete(r->scancxt);
}

/*
 * get_checkpoint(thread_id text, checkpoint_ns text DEFAULT '',
 *                checkpoint_id text DEFAULT NULL)
 * returns SETOF agentstore.checkpoint_tuple
 *
 * The checkpoint with that id, or without an id the latest of
 * (thread_id, checkpoint_ns) by checkpoint_id in "C" order; no row when
 * there is none (or thread_id is NULL).  A NULL namespace is the root
 * namespace ''.
 */
Datum
agentstore_get_checkpoint(PG_FUNCTION_ARGS)
{
	static const char *const keys[] = {"thread_id", "checkpoint_ns", "checkpoint_id"};
	static const char *const cols[] = {"thread_id", "checkpoint_ns", "checkpoint_id",
	"parent_checkpoint_id", "checkpoint", "metadata"};
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Snapshot	snapshot = GetActiveSnapshot();
	CpTable		ckpt;
	CpReader	r;
	Datum		keyvals[3];
	bool		found;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	keyvals[0] = PointerGetDatum(PG_GETARG_TEXT_PP(0));
	keyvals[1] = PG_ARGISNULL(1) ? CStringGetTextDatum("") :
		PointerGetDatum(PG_GETARG_TEXT_PP(1));

	table_open_for_read(&ckpt, "checkpoints", keys, PG_ARGISNULL(2) ? 2 : 3,
						cols, types, 6, snapshot);
	if (PG_ARGISNULL(2))
		found = table_first(&ckpt, keyvals, BackwardScanDirection);
	else
	{
		keyvals[2] = PointerGetDatum(PG_GETARG_TEXT_PP(2));
		found = table_first(&ckpt, keyvals, ForwardScanDirection);
	}
	if (found)
	{
		Datum		row[CP_MAX_COLS];
		bool		nulls[CP_MAX_COLS];
		int			i;

		reader_begin(&r, snapshot);
		for (i = 0; i < CP_MAX_COLS; i++)
			row[i] = slot_getattr(ckpt.slot, ckpt.att[i], &nulls[i]);
		emit_tuple(&r, rsinfo, row, nulls);
		reader_end(&r);
	}
	table_close_for_read(&ckpt);
	return (Datum) 0;
}

/*
 * Whether a checkpoint exists now: the writers' check of a parent, or of the
 * checkpoint writes go to, made once they hold the thread lock, against
 * the latest committed state (so that, under any isolation level, a write
 * never goes to a checkpoint deleted while it waited).  A direct probe of
 * the primary key, with the SELECT privilege a query would need.
 */
bool
cp_checkpoint_exists(Datum thread_id, Datum checkpoint_ns, Datum checkpoint_id)
{
	static const char *const keys[] = {"thread_id", "checkpoint_ns", "checkpoint_id"};
	CpTable		ckpt;
	Datum		keyvals[3] = {thread_id, checkpoint_ns, checkpoint_id};
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	bool		found;

	table_open_for_read(&ckpt, "checkpoints", keys, 3, NULL, NULL, 0, snapshot);
	found = table_first(&ckpt, keyvals, ForwardScanDirection);
	table_close_for_read(&ckpt);
	UnregisterSnapshot(snapshot);
	return found;
}

/*
 * Whether a thread has its row in checkpoint_threads now, and if so whether
 * its expires_at is NULL (never expires).
 */
bool
cp_thread_expiry(Datum thread_id, bool *expires_null)
{
	static const char *const keys[] = {"thread_id"};
	static const char *const cols[] = {"expires_at"};
	static const Oid types[] = {TIMESTAMPTZOID};
	CpTable		thread;
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	bool		found;

	table_open_for_read(&thread, "checkpoint_threads", keys, 1, cols, types, 1, snapshot);
	found = table_first(&thread, &thread_id, ForwardScanDirection);
	if (found)
		(void) slot_getattr(thread.slot, thread.att[0], expires_null);
	table_close_for_read(&thread);
	UnregisterSnapshot(snapshot);
	return found;
}

/*
 * Whether a row of the thread in checkpoints or checkpoint_writes, as they
 * are now, was written by a transaction that the given snapshot does not
 * see (other than this one): a put or put_writes committed after the
 * snapshot was taken.  Reads the thread's rows of both tables through
 * their primary keys with the latest snapshot.
 */
bool
cp_thread_written_since(Datum thread_id, Snapshot since)
{
	static const char *const tables[] = {"checkpoints", "checkpoint_writes"};
	static const char *const keys[] = {"thread_id"};
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	bool		written = false;
	int			i;

	for (i = 0; i < lengthof(tables) && !written; i++)
	{
		CpTable		t;
		bool		found;

		table_open_for_read(&t, tables[i], keys, 1, NULL, NULL, 0, snapshot);
		for (found = table_first(&t, &thread_id, ForwardScanDirection);
			 found && !written;
			 found = scan_next(&t, ForwardScanDirection))
		{
			bool		isnull;
			TransactionId xmin = DatumGetTransactionId(slot_getsysattr(t.slot,
																	 MinTransactionIdAttributeNumber,
																	 &isnull));

			written = !isnull && !TransactionIdIsCurrentTransactionId(xmin) &&
				XidInMVCCSnapshot(xmin, since);
			CHECK_FOR_INTERRUPTS();
		}
		table_close_for_read(&t);
	}
	UnregisterSnapshot(snapshot);
	return written;
}

/* Plans of list_checkpoints, one per combination of the predicates given. */
#define LIST_THREAD	0x01
#define LIST_NS		0x02
#define LIST_FILTER	0x04
#define LIST_BEFORE	0x08
#define LIST_ID		0x10
static SPIPlanPtr list_plans[32];

/* The plan that selects candidate rows for a combination of predicates. */
static SPIPlanPtr
list_plan(int which)
{
	if (list_plans[which] == NULL)
	{
		Oid			argtypes[6] = {TEXTOID, TEXTOID, JSONBOID, TEXTOID, INT8OID, TEXTOID};
		StringInfoData sql;
		SPIPlanPtr	plan;

		initStringInfo(&sql);
		appendStringInfoString(&sql,
							   "SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id,"
							   "       checkpoint, metadata"
							   "  FROM agentstore.checkpoints WHERE true");
		if (which & LIST_THREAD)
			appendStringInfoString(&sql, " AND thread_id OPERATOR(pg_catalog.=) $1");
		if (which & LIST_NS)
			appendStringInfoString(&sql, " AND checkpoint_ns OPERATOR(pg_catalog.=) $2");
		if (which & LIST_FILTER)
			appendStringInfoString(&sql, " AND metadata OPERATOR(pg_catalog.@>) $3");
		if (which & LIST_BEFORE)
			appendStringInfoString(&sql, " AND checkpoint_id OPERATOR(pg_catalog.<) $4");
		if (which & LIST_ID)
			appendStringInfoString(&sql, " AND checkpoint_id OPERATOR(pg_catalog.=) $6");
		appendStringInfoString(&sql,
							   " ORDER BY checkpoint_id DESC, thread_id, checkpoint_ns LIMIT $5");
		plan = SPI_prepare(sql.data, 6, argtypes);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 sql.data, SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		list_plans[which] = plan;
	}
	return list_plans[which];
}

/*
 * list_checkpoints(thread_id text DEFAULT NULL, checkpoint_ns text DEFAULT
 *                  NULL, filter jsonb DEFAULT NULL, before text DEFAULT NULL,
 *                  max_count integer DEFAULT NULL, checkpoint_id text
 *                  DEFAULT NULL)
 * returns SETOF agentstore.checkpoint_tuple
 *
 * Checkpoint tuples newest first (checkpoint_id descending, "C" order).
 * Each argument given narrows the list: thread, namespace, metadata
 * containing filter, checkpoint_id before the given id, one checkpoint id;
 * max_count caps the number of rows.
 */
Datum
agentstore_list_checkpoints(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		args[6];
	char		argnulls[6];
	int			which = 0;
	int			i;
	CpReader	r;
	Portal		portal;
	uint64		emitted = 0;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < 6; i++)
	{
		bool		isnull = PG_NARGS() <= i || PG_ARGISNULL(i);

		args[i] = isnull ? (Datum) 0 : PG_GETARG_DATUM(i);
		argnulls[i] = isnull ? 'n' : ' ';
	}
	if (argnulls[0] == ' ')
		which |= LIST_THREAD;
	if (argnulls[1] == ' ')
		which |= LIST_NS;
	if (argnulls[2] == ' ')
	{
		Jsonb	   *filter = PG_GETARG_JSONB_P(2);

		if (!JB_ROOT_IS_OBJECT(filter))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("filter must be a JSON object"),
					 errdetail("The filter given is %s.",
							   JB_ROOT_IS_SCALAR(filter) ? "a scalar" : "an array")));
		args[2] = JsonbPGetDatum(filter);
		/* an empty filter matches everything */
		if (JsonContainerSize(&filter->root) > 0)
			which |= LIST_FILTER;
	}
	if (argnulls[3] == ' ')
		which |= LIST_BEFORE;
	if (argnulls[4] == ' ')
	{
		int32		max_count = PG_GETARG_INT32(4);

		if (max_count < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_count must not be negative"),
					 errdetail("max_count is %d.", max_count)));
		args[4] = Int64GetDatum((int64) max_count);
	}
	if (argnulls[5] == ' ')
		which |= LIST_ID;

	reader_begin(&r, GetActiveSnapshot());
	SPI_connect();
	portal = SPI_cursor_open(NULL, list_plan(which), args, argnulls, true);
	for (;;)
	{
		uint64		row;

		SPI_cursor_fetch(portal, true, PRESENT_AFTER);
		if (SPI_processed == 0)
			break;
		/*
		 * A listing of one thread that goes on, and may go on for a while
		 * yet (a max_count just past PRESENT_AFTER would pay for the whole
		 * thread's keys to save a few probes): read its blob keys once.
		 */
		if (emitted == PRESENT_AFTER && (which & LIST_THREAD) &&
			(argnulls[4] == 'n' || DatumGetInt64(args[4]) >= 4 * PRESENT_AFTER))
			present_build(&r, args[0], (which & LIST_NS) ? args[1] : (Datum) 0,
						  GetActiveSnapshot());
		emitted += SPI_processed;
		for (row = 0; row < SPI_processed; row++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[row];
			Datum		cols[CP_MAX_COLS];
			bool		nulls[CP_MAX_COLS];
			MemoryContext old;

			old = MemoryContextSwitchTo(r.rowcxt);
			for (i = 0; i < CP_MAX_COLS; i++)
				cols[i] = SPI_getbinval(tuple, SPI_tuptable->tupdesc, i + 1, &nulls[i]);
			emit_tuple(&r, rsinfo, cols, nulls);
			MemoryContextSwitchTo(old);
			MemoryContextReset(r.rowcxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	reader_end(&r);
	return (Datum) 0;
}

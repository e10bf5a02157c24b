/*-------------------------------------------------------------------------
 *
 * stream_versions.c
 *	  Gap-free per-stream versions: the per-stream lock, the probe of a
 *	  stream's current version, and the backend-local cache of the next
 *	  version of every stream this transaction has locked.
 *
 * There is no table of streams: the current version of a stream is the
 * greatest version in agentstore.events, found by one backward probe of the
 * primary key (stream, version).  The probe happens under a heavyweight lock
 * on the stream held to transaction end, so two writers of one stream are
 * serialised and the second one sees the first one's rows:
 *
 * - The lock is keylock.c's: an advisory-type LOCKTAG in agentstore's own
 *   space KEYLOCK_STREAM (field4 0x4153, which SQL's advisory functions
 *   never use), on a 64-bit hash of the stream name.  A hash collision only
 *   makes two streams share a lock.  Deadlock detection, pg_locks and
 *   lock_timeout work as for any heavyweight lock.
 *
 * - The probe reads with SnapshotSelf: every committed row, plus this
 *   transaction's own rows including those of the current command.  Once we
 *   hold the lock no other transaction that numbers rows of this stream is
 *   in progress (the previous holder released the lock only after its
 *   commit became visible), so this is the same set of other transactions'
 *   rows that a fresh MVCC snapshot (GetLatestSnapshot) would show, under
 *   READ COMMITTED, REPEATABLE READ and SERIALIZABLE alike.  Unlike such a
 *   snapshot it also sees the rows of the current command, which matters
 *   when the cache has been dropped in the middle of a statement (a
 *   subtransaction aborted by a trigger or a PL/pgSQL exception block).
 *   Under REPEATABLE READ and SERIALIZABLE this means an append is numbered
 *   after events that the transaction's own snapshot cannot see: it never
 *   fails for being late, but a read of the stream in the same transaction
 *   may show a hole before its own events.
 *
 * - The cache maps (table, stream) to the next version to hand out.  It is
 *   valid while this transaction holds the stream's lock, i.e. until the
 *   transaction ends or a subtransaction aborts (which may release the lock
 *   and discard rows); both drop the whole cache, and the next use locks
 *   (a no-op if the lock is still held) and probes again.  A 10,000-row
 *   COPY into one stream therefore costs one lock and one probe.
 *
 * Deleted events (the TTL purge, delete_session, a DELETE) would lower the
 * greatest version and let a later append issue their versions again.  So
 * the probe also reads the stream's high-water mark in
 * agentstore.stream_heads, which a DELETE trigger keeps (stream_heads.c),
 * and takes the greater of the two: one more index probe on a small table,
 * once per stream and transaction.
 *
 * A row of the version trigger whose event id the stream already holds
 * (stream_version_for_row) is looked up through the unique (stream,
 * event_id) index under the same lock and consumes no version: INSERT ...
 * ON CONFLICT skips it or updates the stored row.
 *
 * Versions stop at the largest bigint: past it, a clear error names the
 * stream (stream_check_version_room) instead of a wrapped version.
 *
 * Rows that arrive with a version (pg_dump, migrations: "import mode") keep
 * it; only the primary key checks them, and they take no lock.  If this
 * transaction already numbers that stream, the cache is moved past the
 * imported version so that later rows without a version follow it.
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
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "compat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "keylock.h"
#include "streams.h"

/* One stream known to this transaction. */
typedef struct StreamEntry
{
	struct StreamEntry *next;	/* another stream with the same hash */
	Oid			relid;
	int			len;
	char	   *name;			/* not NUL-terminated */
	uint64		hash;
	int64		last_version;	/* highest version handed out or seen */
} StreamEntry;

/* Hash table entry: the streams whose names hash to 'hash'. */
typedef struct StreamBucket
{
	uint64		hash;			/* key */
	StreamEntry *entries;
} StreamBucket;

static MemoryContext stream_cache_context = NULL;
static HTAB *stream_cache = NULL;
static StreamEntry *last_entry = NULL;	/* shortcut for runs of one stream */
static bool callbacks_registered = false;

/* Cached description of the events table (one table in practice). */
static StreamTableInfo table_info;
static bool table_info_valid = false;
static uint64 table_info_generation = 0;

/*
 * Forget every cached version: at transaction end, and when a subtransaction
 * aborts (its rows are gone and the locks it took are released).
 */
static void
stream_cache_reset(void)
{
	stream_cache = NULL;
	last_entry = NULL;
	if (stream_cache_context != NULL)
		MemoryContextReset(stream_cache_context);
}

/* Transaction end: the locks are released, so the cache is void. */
static void
stream_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			stream_cache_reset();
			break;
		default:
			break;
	}
}

/* Subtransaction abort: its rows are dead and its locks may be released. */
static void
stream_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		stream_cache_reset();
}

/* An ALTER TABLE, CREATE INDEX... on the events table: look it up again. */
static void
stream_relcache_callback(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == table_info.relid ||
		relid == table_info.heads_relid)
		table_info_valid = false;
}

/* Register the callbacks and create the cache's context, once per backend. */
static void
stream_module_init(void)
{
	if (callbacks_registered)
		return;
	stream_cache_context = AllocSetContextCreate(TopMemoryContext,
												 "agentstore stream versions",
												 ALLOCSET_DEFAULT_SIZES);
	RegisterXactCallback(stream_xact_callback, NULL);
	RegisterSubXactCallback(stream_subxact_callback, NULL);
	CacheRegisterRelcacheCallback(stream_relcache_callback, (Datum) 0);
	callbacks_registered = true;
}

/* Attribute number of a column by name, or InvalidAttrNumber. */
static AttrNumber
column_attnum(TupleDesc tupdesc, const char *name, Oid typid)
{
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->atttypid == typid ? att->attnum : InvalidAttrNumber;
	}
	return InvalidAttrNumber;
}

/* Whether index 'indexoid' is unique with exactly the keys (a1, a2). */
static bool
index_has_keys(Oid indexoid, AttrNumber a1, AttrNumber a2, bool *unique)
{
	HeapTuple	tup;
	Form_pg_index index;
	bool		result;

	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for index %u", indexoid);
	index = (Form_pg_index) GETSTRUCT(tup);
	result = index->indnkeyatts == 2 &&
		index->indkey.values[0] == a1 && index->indkey.values[1] == a2;
	*unique = index->indisunique && index->indimmediate;
	ReleaseSysCache(tup);
	return result;
}

/*
 * Describe an events table: the columns and indexes the version module
 * needs.  The table must have stream text, version bigint and the primary
 * key (stream, version); the rest is optional here and checked by callers.
 */
const StreamTableInfo *
stream_table_info(Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	List	   *indexes;
	ListCell   *lc;
	bool		unique;

	stream_module_init();
	if (table_info_valid && table_info.relid == RelationGetRelid(rel))
		return &table_info;

	table_info_valid = false;
	memset(&table_info, 0, sizeof(table_info));
	table_info.relid = RelationGetRelid(rel);
	table_info.stream_attnum = column_attnum(tupdesc, "stream", TEXTOID);
	table_info.version_attnum = column_attnum(tupdesc, "version", INT8OID);
	table_info.position_attnum = column_attnum(tupdesc, "position", INT8OID);
	table_info.transaction_id_attnum = column_attnum(tupdesc, "transaction_id", XID8OID);
	table_info.event_id_attnum = column_attnum(tupdesc, "event_id", TEXTOID);
	table_info.pkey_index = compat_primary_key_index(rel);
	table_info.heads_relid = get_relname_relid("stream_heads",
											   RelationGetNamespace(rel));

	if (table_info.stream_attnum == InvalidAttrNumber ||
		table_info.version_attnum == InvalidAttrNumber ||
		!OidIsValid(table_info.pkey_index) ||
		!index_has_keys(table_info.pkey_index, table_info.stream_attnum,
						table_info.version_attnum, &unique))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" cannot hold event streams",
						RelationGetRelationName(rel)),
				 errdetail("An events table needs the columns stream text and version bigint and the primary key (stream, version).")));

	/* The unique (stream, event_id) index that makes appends idempotent. */
	if (table_info.event_id_attnum != InvalidAttrNumber)
	{
		indexes = RelationGetIndexList(rel);
		foreach(lc, indexes)
		{
			Oid			indexoid = lfirst_oid(lc);

			if (index_has_keys(indexoid, table_info.stream_attnum,
							   table_info.event_id_attnum, &unique) && unique)
			{
				table_info.event_id_index = indexoid;
				break;
			}
		}
		list_free(indexes);
	}

	table_info.generation = ++table_info_generation;
	table_info_valid = true;
	return &table_info;
}

/*
 * One probe of a unique-prefix index of 'heap' on text keys: the first row
 * in 'dir' that 'snapshot' sees (writers use SnapshotSelf, see the file
 * header for why).  Returns false if there is none, else the int8 columns
 * 'attnums'.
 */
static bool
probe_index(Relation heap, Oid indexoid, Snapshot snapshot, int nkeys,
			text **keyvals, ScanDirection dir, int natts,
			const AttrNumber *attnums, int64 *out)
{
	Relation	index;
	IndexScanDesc scan;
	ScanKeyData keys[2];
	TupleTableSlot *slot;
	bool		found;

	Assert(nkeys <= lengthof(keys));
	index = index_open(indexoid, AccessShareLock);
	for (int i = 0; i < nkeys; i++)
		ScanKeyEntryInitialize(&keys[i], 0, i + 1, BTEqualStrategyNumber,
							   InvalidOid, index->rd_indcollation[i], F_TEXTEQ,
							   PointerGetDatum(keyvals[i]));
	slot = table_slot_create(heap, NULL);
	scan = compat_index_beginscan(heap, index, snapshot, nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	found = index_getnext_slot(scan, dir, slot);
	if (found)
	{
		for (int i = 0; i < natts; i++)
		{
			bool		isnull;
			Datum		value = slot_getattr(slot, attnums[i], &isnull);

			out[i] = isnull ? 0 : DatumGetInt64(value);
		}
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, AccessShareLock);
	return found;
}

/* A text datum of 'len' bytes at 'name', in the current context. */
static text *
make_text(const char *name, int len)
{
	return cstring_to_text_with_len(name, len);
}

/*
 * The stream's high-water mark in agentstore.stream_heads as 'snapshot'
 * sees it, 0 if none (or if there is no such table beside the events).
 */
static int64
heads_version(const StreamTableInfo *info, text *stream, Snapshot snapshot)
{
	Relation	heads;
	int64		head = 0;

	if (!OidIsValid(info->heads_relid))
		return 0;
	heads = try_table_open(info->heads_relid, AccessShareLock);
	if (heads != NULL)
	{
		AttrNumber	attnum = column_attnum(RelationGetDescr(heads), "version", INT8OID);
		Oid			pkey = compat_primary_key_index(heads);

		if (attnum == InvalidAttrNumber || !OidIsValid(pkey) ||
			!probe_index(heads, pkey, snapshot, 1, &stream,
						 ForwardScanDirection, 1, &attnum, &head))
			head = 0;
		table_close(heads, AccessShareLock);
	}
	return head;
}

/*
 * The stream's current version, 0 if none: the greatest version in the
 * table (one backward probe of the primary key), or the stream's
 * high-water mark in agentstore.stream_heads if that is greater (its
 * newest events have been deleted: their versions must not be issued
 * again).
 */
static int64
probe_stream_version(Relation rel, const StreamTableInfo *info,
					 const char *name, int len)
{
	text	   *stream = make_text(name, len);
	int64		result = 0;
	int64		head;

	probe_index(rel, info->pkey_index, SnapshotSelf, 1, &stream,
				BackwardScanDirection, 1, &info->version_attnum, &result);
	head = heads_version(info, stream, SnapshotSelf);
	pfree(stream);
	return Max(result, head);
}

/*
 * For readers (stream_version()): the stream's high-water mark in
 * agentstore.stream_heads as the active snapshot sees it, 0 if none.  The
 * caller decides whether the reader may know it (row-level security).
 */
int64
stream_head_version(Relation rel, text *stream)
{
	return heads_version(stream_table_info(rel), stream, GetActiveSnapshot());
}

/*
 * 64-bit hash of a stream name: the key of its lock (keylock.c's stream
 * space, shared with any other C code that locks a stream) and of the cache.
 */
static uint64
stream_hash(const char *name, int len)
{
	char	   *cname = pnstrdup(name, len);
	uint64		hash = keylock_hash(1, (const char *const *) &cname);

	pfree(cname);
	return hash;
}

/*
 * The key of a stream's lock: callers that lock several streams take them
 * in the order of this key, so that they cannot deadlock with each other.
 */
uint64
stream_lock_key(Relation rel, const char *name, int len)
{
	return stream_hash(name, len);
}

/* The cache entry of a stream, or NULL if this transaction has not locked it. */
static StreamEntry *
find_stream(Oid relid, const char *name, int len, uint64 *hash)
{
	StreamBucket *bucket;
	StreamEntry *entry;

	if (last_entry != NULL && last_entry->relid == relid &&
		last_entry->len == len && memcmp(last_entry->name, name, len) == 0)
		return last_entry;

	*hash = stream_hash(name, len);
	if (stream_cache == NULL)
		return NULL;
	bucket = (StreamBucket *) hash_search(stream_cache, hash, HASH_FIND, NULL);
	if (bucket == NULL)
		return NULL;
	for (entry = bucket->entries; entry != NULL; entry = entry->next)
	{
		if (entry->relid == relid && entry->len == len &&
			memcmp(entry->name, name, len) == 0)
		{
			last_entry = entry;
			return entry;
		}
	}
	return NULL;
}

/*
 * The cache entry of a stream, locking the stream and probing its version
 * the first time this transaction uses it.
 */
static StreamEntry *
locked_stream(Relation rel, const char *name, int len)
{
	const StreamTableInfo *info = stream_table_info(rel);
	Oid			relid = RelationGetRelid(rel);
	uint64		hash = 0;
	StreamEntry *entry;
	StreamBucket *bucket;
	int64		current;
	bool		found;

	entry = find_stream(relid, name, len, &hash);
	if (entry != NULL)
		return entry;

	/* Lock first, then read: the version is only valid under the lock. */
	keylock_acquire(KEYLOCK_STREAM, hash);
	current = probe_stream_version(rel, info, name, len);

	if (stream_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(StreamBucket);
		ctl.hcxt = stream_cache_context;
		stream_cache = hash_create("agentstore stream versions", 64, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	bucket = (StreamBucket *) hash_search(stream_cache, &hash, HASH_ENTER, &found);
	if (!found)
		bucket->entries = NULL;

	entry = MemoryContextAlloc(stream_cache_context, sizeof(StreamEntry));
	entry->name = MemoryContextAlloc(stream_cache_context, len > 0 ? len : 1);
	memcpy(entry->name, name, len);
	entry->len = len;
	entry->relid = relid;
	entry->hash = hash;
	entry->last_version = current;
	entry->next = bucket->entries;
	bucket->entries = entry;
	last_entry = entry;
	return entry;
}

/*
 * Refuse to go past the largest version: a clear error naming the stream
 * rather than a wrapped, negative version.
 */
static void
version_out_of_range(const char *name, int len, int64 current)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("stream \"%s\" has no version left", stream_quote(name, len)),
			 errdetail("Stream \"%s\" is at version " INT64_FORMAT ", the largest version a stream can have.",
					   stream_quote(name, len), current)));
}

/*
 * Hand out 'count' consecutive versions of a stream and return the first:
 * the caller must insert rows with exactly these versions in this
 * (sub)transaction.
 */
int64
stream_reserve_versions(Relation rel, const char *name, int len, int64 count)
{
	StreamEntry *entry = locked_stream(rel, name, len);
	int64		last = entry->last_version;

	Assert(count >= 0);
	stream_check_version_room(name, len, last, count);
	entry->last_version = last + count;
	return last + 1;
}

/*
 * Raise 22003 naming the stream if 'count' more versions after 'current'
 * would exceed the largest bigint.  Anyone who numbers events of a stream
 * outside stream_reserve_versions must call this first.
 */
void
stream_check_version_room(const char *name, int len, int64 current, int64 count)
{
	if (count > 0 && current > PG_INT64_MAX - count)
		version_out_of_range(name, len, current);
}

/*
 * The version for a row of the version trigger that has none.  If the row
 * has an event id that the stream already holds (committed, or written
 * earlier by this transaction), the row will either be skipped by an
 * INSERT ... ON CONFLICT or fail on the unique (stream, event_id) index:
 * it must not consume a version.  It then gets the next version without
 * that version being handed out (*duplicate = true), so that the unique
 * index on the event id, not the primary key, is what it runs into.
 */
int64
stream_version_for_row(Relation rel, const char *name, int len,
					   text *event_id, bool *duplicate)
{
	const StreamTableInfo *info = stream_table_info(rel);
	StreamEntry *entry = locked_stream(rel, name, len);

	*duplicate = false;
	if (event_id != NULL && OidIsValid(info->event_id_index) &&
		entry->last_version > 0)
	{
		text	   *keys[2];
		int64		stored;

		keys[0] = make_text(name, len);
		keys[1] = event_id;
		*duplicate = probe_index(rel, info->event_id_index, SnapshotSelf, 2,
								 keys, ForwardScanDirection, 1,
								 &info->version_attnum, &stored);
		pfree(keys[0]);
		if (*duplicate)
			return entry->last_version < PG_INT64_MAX ?
				entry->last_version + 1 : entry->last_version;
	}
	return stream_reserve_versions(rel, name, len, 1);
}

/* The current version of a stream (0 = no event), under its lock. */
int64
stream_locked_version(Relation rel, const char *name, int len)
{
	return locked_stream(rel, name, len)->last_version;
}

/*
 * A row arrived with its version (import mode).  It takes no lock: the
 * primary key alone checks it.  If this transaction numbers the stream, move
 * the last version up to it; if not, the probe will see the row when the
 * stream is first locked.
 */
void
stream_note_version(Relation rel, const char *name, int len, int64 version)
{
	uint64		hash;
	StreamEntry *entry = find_stream(RelationGetRelid(rel), name, len, &hash);

	if (entry != NULL && version > entry->last_version)
		entry->last_version = version;
}

/* Reject an expected version that is neither >= 0 nor a known constant. */
void
stream_validate_expected_version(int64 expected)
{
	if (expected < 0 && expected != STREAM_NO_STREAM && expected != STREAM_EXISTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid expected version " INT64_FORMAT, expected),
				 errhint("Use NULL (any), -1 (the stream must not exist), -2 (the stream must exist) or a version >= 0.")));
}

/* Describe an expected version for a message. */
static char *
describe_expected(int64 expected)
{
	if (expected == STREAM_NO_STREAM)
		return pstrdup("no stream (-1)");
	if (expected == STREAM_EXISTS)
		return pstrdup("an existing stream (-2)");
	return psprintf(INT64_FORMAT, expected);
}

/*
 * Compare an expected version with the stream's actual one and raise the
 * dedicated SQLSTATE on a mismatch.  NULL (has_expected = false) accepts
 * anything; 0 and -1 both mean "no event yet".
 */
void
stream_check_expected_version(const char *name, int len, bool has_expected,
							  int64 expected, int64 actual)
{
	bool		ok;

	if (!has_expected)
		return;
	stream_validate_expected_version(expected);
	if (expected == STREAM_NO_STREAM)
		ok = actual == 0;
	else if (expected == STREAM_EXISTS)
		ok = actual > 0;
	else
		ok = actual == expected;
	if (!ok)
	{
		stream_remember_conflict(name, len, expected, actual);
		ereport(ERROR,
				(errcode(ERRCODE_AGENTSTORE_WRONG_EXPECTED_VERSION),
				 errmsg("wrong expected version for stream \"%s\"",
						stream_quote(name, len)),
				 errdetail("Stream \"%s\" is at version " INT64_FORMAT ", expected %s.",
						   stream_quote(name, len), actual, describe_expected(expected))));
	}
}

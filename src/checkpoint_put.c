/*-------------------------------------------------------------------------
 *
 * checkpoint_put.c
 *	  agentstore.put_checkpoint() and agentstore.put_writes(): LangGraph's
 *	  put and put_writes, each one call, validated before anything is
 *	  written, through SPI plans cached for the life of the backend.
 *
 * Both take the thread lock (checkpoint_lock.c) in share mode first, then
 * check what they refer to against the latest committed state: a put that
 * races delete_thread, prune_checkpoints or the TTL expiry either runs
 * entirely before them or finds its parent gone and fails -- a late put
 * cannot resurrect a deleted thread (LangGraph issue #7206).  put_checkpoint
 * also gives the thread's row in checkpoint_threads its sliding expires_at.
 *
 * put_writes does not require its checkpoint: LangGraph.js stores a task's
 * writes without waiting for the put of the checkpoint they belong to, so
 * writes may come first; they are read with the checkpoint once it exists.
 * Writes whose checkpoint is not stored ("early" writes, or late ones after
 * a delete) always have their thread's row, created if need be with an
 * expiry of its own (see hold_thread_for_writes), so that they go with the
 * thread's deletion or expiry and never stay forever; prune_checkpoints
 * removes those whose checkpoint can no longer come.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "agentstore.h"
#include "checkpoint.h"

PG_FUNCTION_INFO_V1(agentstore_put_checkpoint);
PG_FUNCTION_INFO_V1(agentstore_put_writes);

/* LangGraph's special write channels and the negative idx each one gets. */
static const struct
{
	const char *channel;
	int			idx;
}			special_writes[] =
{
	{"__error__", -1},
	{"__scheduled__", -2},
	{"__interrupt__", -3},
	{"__resume__", -4},
};

/* Blob rows collected before they are inserted in one statement. */
typedef struct BlobRows
{
	int			n;
	int			cap;
	Datum	   *channels;
	Datum	   *versions;
	Datum	   *types;
	Datum	   *blobs;
	bool	   *blob_nulls;
} BlobRows;

/* Write rows collected before they are inserted in one statement. */
typedef struct WriteRows
{
	int			n;
	int			cap;
	Datum	   *idx;
	Datum	   *channels;
	Datum	   *types;
	Datum	   *blobs;
} WriteRows;

static SPIPlanPtr plan_thread_update = NULL;
static SPIPlanPtr plan_thread_upsert = NULL;
static SPIPlanPtr plan_thread_hold = NULL;
static SPIPlanPtr plan_checkpoint_upsert = NULL;
static SPIPlanPtr plan_writes_upsert = NULL;

/* Allocate or enlarge an array to cap elements. */
static void *
grow_array(void *ptr, int cap, Size elemsize)
{
	return ptr ? repalloc(ptr, cap * elemsize) : palloc(cap * elemsize);
}

/* Prepare a statement once per backend and keep it. */
static SPIPlanPtr
keep_plan(SPIPlanPtr *cache, const char *sql, int nargs, Oid *argtypes)
{
	if (*cache == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		*cache = plan;
	}
	return *cache;
}

/* Run a cached statement; returns the number of rows it processed. */
static uint64
run_plan(SPIPlanPtr plan, Datum *values, const char *nulls, int expected)
{
	int			rc = SPI_execute_plan(plan, values, nulls, false, 0);

	if (rc != expected)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * The thread's new expires_at: now() + ttl, where ttl is the call's
 * argument when given and agentstore.checkpoint_ttl otherwise; a zero TTL
 * means the thread never expires (NULL).
 */
static Datum
thread_expires_at(FunctionCallInfo fcinfo, int ttl_arg, bool *isnull)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	*isnull = false;
	if (PG_NARGS() > ttl_arg && !PG_ARGISNULL(ttl_arg))
	{
		Interval   *ttl = PG_GETARG_INTERVAL_P(ttl_arg);
		Interval	zero;
		int			cmp;

		memset(&zero, 0, sizeof(zero));
		cmp = DatumGetInt32(DirectFunctionCall2(interval_cmp,
												IntervalPGetDatum(ttl),
												IntervalPGetDatum(&zero)));
		if (cmp < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ttl must not be negative"),
					 errdetail("ttl is %s.",
							   DatumGetCString(DirectFunctionCall1(interval_out,
																   IntervalPGetDatum(ttl))))));
		if (cmp == 0)
		{
			*isnull = true;
			return (Datum) 0;
		}
		return DirectFunctionCall2(timestamptz_pl_interval,
								   TimestampTzGetDatum(now),
								   IntervalPGetDatum(ttl));
	}
	if (agentstore_checkpoint_ttl <= 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	return TimestampTzGetDatum(now + (int64) agentstore_checkpoint_ttl * USECS_PER_SEC);
}

/*
 * Give the thread its new expires_at, creating its row when it has none: a
 * put with a TTL slides it; a put without one clears it, and when it is
 * clear already -- the common case -- writes nothing.
 */
static void
set_thread_expiry(Datum thread_id, Datum expires_at, bool expires_null)
{
	Oid			argtypes[2] = {TEXTOID, TIMESTAMPTZOID};
	Datum		values[2] = {thread_id, expires_at};
	char		nulls[2] = {' ', expires_null ? 'n' : ' '};
	bool		current_null;
	SPIPlanPtr	plan;

	if (expires_null && cp_thread_expiry(thread_id, &current_null) && current_null)
		return;

	/*
	 * UPDATE first, not INSERT ... ON CONFLICT: under REPEATABLE READ an
	 * UPDATE of a row deleted by a concurrent transaction fails with a
	 * serialization error, whereas the INSERT would quietly succeed.
	 */
	plan = keep_plan(&plan_thread_update,
					 "UPDATE agentstore.checkpoint_threads SET expires_at = $2"
					 " WHERE thread_id OPERATOR(pg_catalog.=) $1",
					 2, argtypes);
	if (run_plan(plan, values, nulls, SPI_OK_UPDATE) > 0)
		return;
	plan = keep_plan(&plan_thread_upsert,
					 "INSERT INTO agentstore.checkpoint_threads (thread_id, expires_at)"
					 " VALUES ($1, $2)"
					 " ON CONFLICT (thread_id) DO UPDATE SET expires_at = excluded.expires_at",
					 2, argtypes);
	run_plan(plan, values, nulls, SPI_OK_INSERT);
}

/*
 * Make sure the thread of writes whose checkpoint is not stored has its row
 * in checkpoint_threads, so that the writes go with the thread's deletion
 * or expiry.  A thread that has none (a new thread whose first put has not
 * come yet, or one deleted or expired while its writes were in flight) gets
 * one that expires after agentstore.checkpoint_ttl, or after
 * CP_WRITES_ONLY_TTL when that is 0 (never): a put gives the thread its own
 * expiry, and without one the writes do not stay forever.
 */
static void
hold_thread_for_writes(Datum thread_id)
{
	Oid			argtypes[2] = {TEXTOID, TIMESTAMPTZOID};
	Datum		values[2];
	bool		expires_null;
	int64		ttl;
	SPIPlanPtr	plan;

	if (cp_thread_expiry(thread_id, &expires_null))
		return;
	ttl = agentstore_checkpoint_ttl > 0 ? agentstore_checkpoint_ttl : CP_WRITES_ONLY_TTL;
	values[0] = thread_id;
	values[1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp() +
									ttl * USECS_PER_SEC);
	plan = keep_plan(&plan_thread_hold,
					 "INSERT INTO agentstore.checkpoint_threads (thread_id, expires_at)"
					 " VALUES ($1, $2) ON CONFLICT (thread_id) DO NOTHING",
					 2, argtypes);
	run_plan(plan, values, NULL, SPI_OK_INSERT);
}

/* Report a checkpoint that a call refers to but that does not exist. */
static void
missing_checkpoint(const char *what, text *thread_id, text *checkpoint_ns,
				   text *checkpoint_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("%s \"%s\" does not exist", what, text_to_cstring(checkpoint_id)),
			 errdetail("Thread \"%s\", namespace \"%s\".",
					   text_to_cstring(thread_id), text_to_cstring(checkpoint_ns)),
			 errhint("The thread may have been deleted, pruned or expired.")));
}

/* Fetch a required text argument, rejecting NULL. */
static text *
required_text(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return PG_GETARG_TEXT_PP(arg);
}

/* Fetch an optional text argument, with a default for NULL. */
static text *
optional_text(FunctionCallInfo fcinfo, int arg, const char *dflt)
{
	if (PG_NARGS() <= arg || PG_ARGISNULL(arg))
		return cstring_to_text(dflt);
	return PG_GETARG_TEXT_PP(arg);
}

/* Append one blob row. */
static void
blob_rows_add(BlobRows *rows, const char *channel, int chlen, const char *version,
			  const char *type, int typelen, bytea *blob)
{
	if (rows->n == rows->cap)
	{
		rows->cap = rows->cap ? rows->cap * 2 : 8;
		rows->channels = grow_array(rows->channels, rows->cap, sizeof(Datum));
		rows->versions = grow_array(rows->versions, rows->cap, sizeof(Datum));
		rows->types = grow_array(rows->types, rows->cap, sizeof(Datum));
		rows->blobs = grow_array(rows->blobs, rows->cap, sizeof(Datum));
		rows->blob_nulls = grow_array(rows->blob_nulls, rows->cap, sizeof(bool));
	}
	rows->channels[rows->n] = PointerGetDatum(cstring_to_text_with_len(channel, chlen));
	rows->versions[rows->n] = CStringGetTextDatum(version);
	rows->types[rows->n] = PointerGetDatum(cstring_to_text_with_len(type, typelen));
	rows->blobs[rows->n] = PointerGetDatum(blob);
	rows->blob_nulls[rows->n] = (blob == NULL);
	rows->n++;
}

/* A one-dimensional array of n datums of a varlena type. */
static Datum
datum_array(Datum *elems, bool *nulls, int n, Oid elemtype)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	if (n == 0)
		return PointerGetDatum(construct_empty_array(elemtype));
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
											  elemtype, -1, false, TYPALIGN_INT));
}

/* Copy a jsonb string value to a NUL-terminated C string. */
static char *
jbv_cstring(JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Check the key (a channel name) of a jsonb object entry. */
static void
check_channel_name(const char *what, JsonbValue *key)
{
	if (key->val.string.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has an empty channel name", what)));
	if (key->val.string.len > CP_MAX_KEY)
		cp_check_key("channel name",
					 cstring_to_text_with_len(key->val.string.val, key->val.string.len),
					 CP_MAX_KEY, false);
}

/*
 * Check a map of channel versions (checkpoint.channel_versions or
 * new_versions): an object whose values are non-empty strings or numbers of
 * at most CP_MAX_KEY characters (a number in its text form, the key of its
 * blob), with one error for every way a version can be wrong.
 */
static void
check_versions(const char *what, JsonbValue *obj)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	if (obj->type != jbvBinary || !JsonContainerIsObject(obj->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object", what),
				 errdetail("It is a JSON %s.", cp_jsonb_type_name(obj))));
	it = JsonbIteratorInit(obj->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			check_channel_name(what, &v);
			key = jbv_cstring(&v);
		}
		else if (tok == WJB_VALUE)
		{
			int			nchars = cp_version_length(&v);

			if (nchars < 1 || nchars > CP_MAX_KEY)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s has an invalid version for channel \"%s\"", what, key),
						 nchars < 0 ?
						 errdetail("A version is a string or a number of 1 to %d characters; this one is a JSON %s.",
								   CP_MAX_KEY, cp_jsonb_type_name(&v)) :
						 errdetail("A version is a string or a number of 1 to %d characters; this one is a %s of %d characters.",
								   CP_MAX_KEY, v.type == jbvString ? "string" : "number", nchars)));
		}
	}
}

/*
 * Rebuild a checkpoint with only the given inline channel values (the
 * primitive ones); the other keys are copied unchanged.
 */
static Jsonb *
checkpoint_with_inline_values(Jsonb *checkpoint, JsonbValue *values_obj)
{
	JsonbParseState *state = NULL;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	JsonbValue *res = NULL;

	it = JsonbIteratorInit(&checkpoint->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY && v.val.string.len == 14 &&
			memcmp(v.val.string.val, "channel_values", 14) == 0)
		{
			JsonbIterator *vit;
			JsonbValue	vv;
			JsonbValue	vkey = {0};
			JsonbIteratorToken vtok;

			pushJsonbValue(&state, WJB_KEY, &v);
			/* the value: an object of the primitive entries only */
			tok = JsonbIteratorNext(&it, &v, true);
			Assert(tok == WJB_VALUE);
			pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
			vit = JsonbIteratorInit(values_obj->val.binary.data);
			while ((vtok = JsonbIteratorNext(&vit, &vv, true)) != WJB_DONE)
			{
				if (vtok == WJB_KEY)
					vkey = vv;
				else if (vtok == WJB_VALUE && cp_jsonb_is_primitive(&vv))
				{
					pushJsonbValue(&state, WJB_KEY, &vkey);
					pushJsonbValue(&state, WJB_VALUE, &vv);
				}
			}
			pushJsonbValue(&state, WJB_END_OBJECT, NULL);
			continue;
		}
		res = pushJsonbValue(&state, tok, tok < WJB_BEGIN_ARRAY ? &v : NULL);
	}
	return JsonbValueToJsonb(res);
}

/*
 * put_checkpoint(thread_id text, checkpoint_ns text, checkpoint jsonb,
 *                metadata json, new_versions jsonb, blobs jsonb,
 *                parent_checkpoint_id text, ttl interval) returns text
 *
 * Stores a checkpoint (its id is checkpoint->>'id') and returns that id.
 * Channel values come two ways: JSON values in checkpoint->'channel_values'
 * (primitive ones stay inline, as LangGraph does; the others become blobs of
 * type "json" when their channel is in new_versions and are dropped
 * otherwise), and values serialized by the client in blobs, an object
 * {channel: [type, base64]} (only for channels in new_versions).  Blobs are
 * inserted if absent; re-putting an existing id updates checkpoint and
 * metadata only.  A parent that does not exist is an error.
 */
Datum
agentstore_put_checkpoint(PG_FUNCTION_ARGS)
{
	text	   *thread_id = required_text(fcinfo, 0, "thread_id");
	text	   *checkpoint_ns = optional_text(fcinfo, 1, "");
	Jsonb	   *checkpoint;
	Jsonb	   *metadata;
	Jsonb	   *new_versions = NULL;
	Jsonb	   *blobs = NULL;
	text	   *parent_id = NULL;
	text	   *checkpoint_id;
	JsonbValue	buf;
	JsonbValue *v;
	JsonbValue	values_obj;
	bool		has_values = false;
	bool		rebuild = false;
	BlobRows	rows = {0};
	Datum		expires_at;
	bool		expires_null;

	/* Validate everything before writing anything. */
	cp_check_key("thread_id", thread_id, CP_MAX_KEY, false);
	cp_check_key("checkpoint_ns", checkpoint_ns, CP_MAX_NAMESPACE, true);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("checkpoint must not be null")));
	checkpoint = PG_GETARG_JSONB_P(2);
	if (!JB_ROOT_IS_OBJECT(checkpoint))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("checkpoint must be a JSON object"),
				 errdetail("The checkpoint given is %s.",
						   JB_ROOT_IS_SCALAR(checkpoint) ? "a scalar" : "an array")));
	v = cp_object_get(checkpoint, "id", &buf);
	if (v == NULL || v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("checkpoint has no \"id\" string"),
				 v ? errdetail("Its \"id\" is a JSON %s.", cp_jsonb_type_name(v)) : 0));
	checkpoint_id = cstring_to_text_with_len(v->val.string.val, v->val.string.len);
	cp_check_key("checkpoint id", checkpoint_id, CP_MAX_KEY, false);
	if ((v = cp_object_get(checkpoint, "channel_versions", &buf)) != NULL &&
		v->type != jbvNull)
		check_versions("checkpoint.channel_versions", v);
	if ((v = cp_object_get(checkpoint, "channel_values", &values_obj)) != NULL &&
		v->type != jbvNull)
	{
		if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("checkpoint.channel_values must be a JSON object"),
					 errdetail("It is a JSON %s.", cp_jsonb_type_name(v))));
		has_values = true;
	}
	metadata = cp_metadata_from_json(PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3));
	if (!PG_ARGISNULL(4))
	{
		JsonbValue	root;

		new_versions = PG_GETARG_JSONB_P(4);
		if (!JB_ROOT_IS_OBJECT(new_versions))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("new_versions must be a JSON object"),
					 errdetail("The new_versions given is %s.",
							   JB_ROOT_IS_SCALAR(new_versions) ? "a scalar" : "an array")));
		root.type = jbvBinary;
		root.val.binary.data = &new_versions->root;
		root.val.binary.len = VARSIZE(new_versions) - VARHDRSZ;
		check_versions("new_versions", &root);
	}
	if (!PG_ARGISNULL(5))
		blobs = PG_GETARG_JSONB_P(5);
	if (!PG_ARGISNULL(6))
	{
		parent_id = PG_GETARG_TEXT_PP(6);
		cp_check_key("parent_checkpoint_id", parent_id, CP_MAX_KEY, false);
	}
	expires_at = thread_expires_at(fcinfo, 7, &expires_null);

	/* Client-serialized blobs: {channel: [type, base64 or null]}. */
	if (blobs != NULL)
	{
		JsonbIterator *it;
		JsonbValue	key = {0};
		JsonbValue	val;
		JsonbIteratorToken tok;

		if (!JB_ROOT_IS_OBJECT(blobs))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("blobs must be a JSON object of [type, base64] pairs"),
					 errdetail("The blobs given are %s.",
							   JB_ROOT_IS_SCALAR(blobs) ? "a scalar" : "an array")));
		it = JsonbIteratorInit(&blobs->root);
		while ((tok = JsonbIteratorNext(&it, &val, true)) != WJB_DONE)
		{
			char	   *channel;
			JsonbValue *version;
			JsonbValue *type;
			JsonbValue *data;
			JsonbValue	vbuf;
			bytea	   *blob = NULL;

			if (tok == WJB_KEY)
			{
				key = val;
				continue;
			}
			if (tok != WJB_VALUE)
				continue;
			check_channel_name("blobs", &key);
			channel = jbv_cstring(&key);
			if (val.type != jbvBinary || !JsonContainerIsArray(val.val.binary.data) ||
				JsonContainerSize(val.val.binary.data) != 2)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("blob of channel \"%s\" must be a [type, base64] pair", channel),
						 errdetail("It is a JSON %s%s.", cp_jsonb_type_name(&val),
								   val.type == jbvBinary && JsonContainerIsArray(val.val.binary.data) ?
								   psprintf(" of length %d", JsonContainerSize(val.val.binary.data)) : "")));
			version = new_versions ?
				getKeyJsonValueFromContainer(&new_versions->root, key.val.string.val,
											 key.val.string.len, &vbuf) : NULL;
			if (version == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("blob of channel \"%s\" has no version in new_versions", channel),
						 errdetail("A blob is stored under the version new_versions gives its channel.")));
			if (has_values &&
				cp_container_get(&values_obj, key.val.string.val, key.val.string.len, &buf) != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("channel \"%s\" has a value both in checkpoint.channel_values and in blobs",
								channel)));
			type = getIthJsonbValueFromContainer(val.val.binary.data, 0);
			data = getIthJsonbValueFromContainer(val.val.binary.data, 1);
			if (!cp_jbv_string_ok(type, CP_MAX_KEY))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("blob of channel \"%s\" has an invalid type", channel),
						 errdetail("The type is a non-empty string of at most %d characters; this one is a JSON %s.",
								   CP_MAX_KEY, cp_jsonb_type_name(type))));
			if (data->type == jbvString)
			{
				char	   *subject = psprintf("blob of channel \"%s\"", channel);

				blob = cp_base64_decode(subject, data->val.string.val,
										data->val.string.len);
				if (type->val.string.len == 4 &&
					memcmp(type->val.string.val, CP_JSON_TYPE, 4) == 0)
					cp_check_json_blob(subject, VARDATA(blob), VARSIZE(blob) - VARHDRSZ);
			}
			else if (data->type != jbvNull)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("blob of channel \"%s\" must be a base64 string or null", channel),
						 errdetail("It is a JSON %s.", cp_jsonb_type_name(data))));
			blob_rows_add(&rows, key.val.string.val, key.val.string.len,
						  cp_version_text(version), type->val.string.val,
						  type->val.string.len, blob);
		}
	}

	/*
	 * JSON channel values: primitives stay inline; the others become blobs
	 * of type json when their channel has a new version, and are dropped
	 * otherwise (their value is already stored under an older version).
	 */
	if (has_values)
	{
		JsonbIterator *it = JsonbIteratorInit(values_obj.val.binary.data);
		JsonbValue	key = {0};
		JsonbValue	val;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &val, true)) != WJB_DONE)
		{
			JsonbValue *version;
			JsonbValue	vbuf;
			char	   *json;
			int			len;
			bytea	   *blob;

			if (tok == WJB_KEY)
			{
				check_channel_name("checkpoint.channel_values", &val);
				key = val;
				continue;
			}
			if (tok != WJB_VALUE || cp_jsonb_is_primitive(&val))
				continue;
			rebuild = true;
			version = new_versions ?
				getKeyJsonValueFromContainer(&new_versions->root, key.val.string.val,
											 key.val.string.len, &vbuf) : NULL;
			if (version == NULL)
				continue;
			json = cp_jsonb_value_text(&val, &len);
			blob = (bytea *) cstring_to_text_with_len(json, len);
			blob_rows_add(&rows, key.val.string.val, key.val.string.len,
						  cp_version_text(version), CP_JSON_TYPE, 4, blob);
		}
		if (rebuild)
			checkpoint = checkpoint_with_inline_values(checkpoint, &values_obj);
	}

	/* Wait for a delete, prune or expiry of the thread in progress. */
	cp_lock_thread(thread_id, ShareLock, false);
	SPI_connect();
	set_thread_expiry(PointerGetDatum(thread_id), expires_at, expires_null);
	if (parent_id != NULL &&
		!cp_checkpoint_exists(PointerGetDatum(thread_id), PointerGetDatum(checkpoint_ns),
						   PointerGetDatum(parent_id)))
		missing_checkpoint("parent checkpoint", thread_id, checkpoint_ns, parent_id);

	/* The new blobs (inserted if absent) and the checkpoint, in one statement. */
	{
		Oid			argtypes[10] = {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID,
			TEXTARRAYOID, BYTEAARRAYOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID};
		Datum		values[10];
		char		nulls[10] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', parent_id ? ' ' : 'n', ' ', ' '};
		SPIPlanPtr	plan;

		plan = keep_plan(&plan_checkpoint_upsert,
						 "WITH blobs AS ("
						 "  INSERT INTO agentstore.checkpoint_blobs"
						 "   (thread_id, checkpoint_ns, channel, version, type, blob)"
						 "  SELECT $1, $2, u.c, u.v, u.t, u.b"
						 "    FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4),"
						 "                    pg_catalog.unnest($5), pg_catalog.unnest($6)) AS u(c, v, t, b)"
						 "  ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING)"
						 " INSERT INTO agentstore.checkpoints"
						 " (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id,"
						 "  checkpoint, metadata)"
						 " VALUES ($1, $2, $7, $8, $9, $10)"
						 " ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE"
						 "   SET checkpoint = excluded.checkpoint, metadata = excluded.metadata",
						 10, argtypes);
		values[0] = PointerGetDatum(thread_id);
		values[1] = PointerGetDatum(checkpoint_ns);
		values[2] = datum_array(rows.channels, NULL, rows.n, TEXTOID);
		values[3] = datum_array(rows.versions, NULL, rows.n, TEXTOID);
		values[4] = datum_array(rows.types, NULL, rows.n, TEXTOID);
		values[5] = datum_array(rows.blobs, rows.blob_nulls, rows.n, BYTEAOID);
		values[6] = PointerGetDatum(checkpoint_id);
		values[7] = PointerGetDatum(parent_id);
		values[8] = JsonbPGetDatum(checkpoint);
		values[9] = JsonbPGetDatum(metadata);
		run_plan(plan, values, nulls, SPI_OK_INSERT);
	}

	SPI_finish();
	PG_RETURN_TEXT_P(checkpoint_id);
}

/* Append one write row, or replace the earlier special write of that idx. */
static void
write_rows_add(WriteRows *rows, int idx, const char *channel, int chlen,
			   const char *type, int typelen, bytea *blob)
{
	int			i = rows->n;

	if (idx < 0)
	{
		/* a special channel written twice in one call: the last one wins */
		for (i = 0; i < rows->n; i++)
			if (DatumGetInt32(rows->idx[i]) == idx)
				break;
	}
	if (i == rows->n)
	{
		if (rows->n == rows->cap)
		{
			rows->cap = rows->cap ? rows->cap * 2 : 8;
			rows->idx = grow_array(rows->idx, rows->cap, sizeof(Datum));
			rows->channels = grow_array(rows->channels, rows->cap, sizeof(Datum));
			rows->types = grow_array(rows->types, rows->cap, sizeof(Datum));
			rows->blobs = grow_array(rows->blobs, rows->cap, sizeof(Datum));
		}
		rows->n++;
	}
	rows->idx[i] = Int32GetDatum(idx);
	rows->channels[i] = PointerGetDatum(cstring_to_text_with_len(channel, chlen));
	rows->types[i] = PointerGetDatum(cstring_to_text_with_len(type, typelen));
	rows->blobs[i] = PointerGetDatum(blob);
}

/*
 * put_writes(thread_id text, checkpoint_ns text, checkpoint_id text,
 *            task_id text, writes jsonb, task_path text) returns integer
 *
 * Stores a task's pending writes against a checkpoint, which need not be
 * stored yet: they are returned with it once it is (see the file header for
 * what becomes of writes whose checkpoint never comes).  writes is a JSON array whose elements are [channel, value] (a JSON value,
 * stored with type "json") or [channel, type, base64] (a value serialized by
 * the client).  A write's idx is its position, except for LangGraph's
 * special channels, which get negative indexes and replace an earlier write
 * (upsert); the others are inserted if absent, so repeating a call changes
 * nothing.  Returns the number of writes inserted or replaced.
 */
Datum
agentstore_put_writes(PG_FUNCTION_ARGS)
{
	text	   *thread_id = required_text(fcinfo, 0, "thread_id");
	text	   *checkpoint_ns = optional_text(fcinfo, 1, "");
	text	   *checkpoint_id = required_text(fcinfo, 2, "checkpoint_id");
	text	   *task_id = required_text(fcinfo, 3, "task_id");
	text	   *task_path = optional_text(fcinfo, 5, "");
	Jsonb	   *writes;
	WriteRows	rows = {0};
	int			n;
	int			i;
	uint64		stored = 0;

	cp_check_key("thread_id", thread_id, CP_MAX_KEY, false);
	cp_check_key("checkpoint_ns", checkpoint_ns, CP_MAX_NAMESPACE, true);
	cp_check_key("checkpoint_id", checkpoint_id, CP_MAX_KEY, false);
	cp_check_key("task_id", task_id, CP_MAX_KEY, false);
	cp_check_key("task_path", task_path, CP_MAX_NAMESPACE, true);
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("writes must not be null")));
	writes = PG_GETARG_JSONB_P(4);
	if (!JB_ROOT_IS_ARRAY(writes) || JB_ROOT_IS_SCALAR(writes))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("writes must be a JSON array of [channel, value] pairs"),
				 errdetail("The writes given are %s.",
						   JB_ROOT_IS_SCALAR(writes) ? "a scalar" : "an object")));

	n = JsonContainerSize(&writes->root);
	for (i = 0; i < n; i++)
	{
		JsonbValue *w = getIthJsonbValueFromContainer(&writes->root, i);
		JsonbValue *channel;
		JsonbValue *value;
		char	   *chname;
		int			len;
		int			idx = i;
		int			k;
		bytea	   *blob;
		const char *type = CP_JSON_TYPE;
		int			typelen = 4;

		if (w->type != jbvBinary || !JsonContainerIsArray(w->val.binary.data) ||
			(JsonContainerSize(w->val.binary.data) != 2 &&
			 JsonContainerSize(w->val.binary.data) != 3))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("writes must be a JSON array of [channel, value] pairs"),
					 errdetail("Element %d is a JSON %s%s.", i, cp_jsonb_type_name(w),
							   w->type == jbvBinary && JsonContainerIsArray(w->val.binary.data) ?
							   psprintf(" of length %d", JsonContainerSize(w->val.binary.data)) : "")));
		channel = getIthJsonbValueFromContainer(w->val.binary.data, 0);
		if (channel->type != jbvString || channel->val.string.len == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("writes must be a JSON array of [channel, value] pairs"),
					 errdetail("The channel of element %d is %s.", i,
							   channel->type == jbvString ? "empty" :
							   psprintf("a JSON %s", cp_jsonb_type_name(channel)))));
		chname = jbv_cstring(channel);
		cp_check_key("channel name", cstring_to_text(chname), CP_MAX_KEY, false);
		if (JsonContainerSize(w->val.binary.data) == 2)
		{
			char	   *json;

			value = getIthJsonbValueFromContainer(w->val.binary.data, 1);
			json = cp_jsonb_value_text(value, &len);
			blob = (bytea *) cstring_to_text_with_len(json, len);
		}
		else
		{
			JsonbValue *t = getIthJsonbValueFromContainer(w->val.binary.data, 1);
			char	   *subject;

			value = getIthJsonbValueFromContainer(w->val.binary.data, 2);
			if (!cp_jbv_string_ok(t, CP_MAX_KEY))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("write %d to channel \"%s\" has an invalid type", i, chname),
						 errdetail("In a [channel, type, base64] write the type is a non-empty string of at most %d characters; this one is a JSON %s.",
								   CP_MAX_KEY, cp_jsonb_type_name(t))));
			if (value->type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("write %d to channel \"%s\" must be a base64 string", i, chname),
						 errdetail("It is a JSON %s.", cp_jsonb_type_name(value))));
			type = t->val.string.val;
			typelen = t->val.string.len;
			subject = psprintf("write %d to channel \"%s\"", i, chname);
			blob = cp_base64_decode(subject, value->val.string.val, value->val.string.len);
			if (typelen == 4 && memcmp(type, CP_JSON_TYPE, 4) == 0)
				cp_check_json_blob(subject, VARDATA(blob), VARSIZE(blob) - VARHDRSZ);
		}
		for (k = 0; k < lengthof(special_writes); k++)
			if (strcmp(chname, special_writes[k].channel) == 0)
				idx = special_writes[k].idx;
		write_rows_add(&rows, idx, channel->val.string.val, channel->val.string.len,
					   type, typelen, blob);
	}

	/* Wait for a delete, prune or expiry of the thread in progress. */
	cp_lock_thread(thread_id, ShareLock, false);
	SPI_connect();
	if (!cp_checkpoint_exists(PointerGetDatum(thread_id), PointerGetDatum(checkpoint_ns),
							  PointerGetDatum(checkpoint_id)))
		hold_thread_for_writes(PointerGetDatum(thread_id));

	if (rows.n > 0)
	{
		Oid			argtypes[9] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4ARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, BYTEAARRAYOID, TEXTOID};
		Datum		values[9];
		SPIPlanPtr	plan;
		int			dims[1] = {rows.n};
		int			lbs[1] = {1};

		plan = keep_plan(&plan_writes_upsert,
						 "INSERT INTO agentstore.checkpoint_writes"
						 " (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel,"
						 "  type, blob, task_path)"
						 " SELECT $1, $2, $3, $4, u.i, u.c, u.t, u.b, $9"
						 "   FROM ROWS FROM (pg_catalog.unnest($5), pg_catalog.unnest($6),"
						 "                   pg_catalog.unnest($7), pg_catalog.unnest($8)) AS u(i, c, t, b)"
						 " ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)"
						 " DO UPDATE SET channel = excluded.channel, type = excluded.type,"
						 "               blob = excluded.blob, task_path = excluded.task_path"
						 "   WHERE excluded.idx OPERATOR(pg_catalog.<) 0",
						 9, argtypes);
		values[0] = PointerGetDatum(thread_id);
		values[1] = PointerGetDatum(checkpoint_ns);
		values[2] = PointerGetDatum(checkpoint_id);
		values[3] = PointerGetDatum(task_id);
		values[4] = PointerGetDatum(construct_md_array(rows.idx, NULL, 1, dims, lbs,
													   INT4OID, 4, true, TYPALIGN_INT));
		values[5] = datum_array(rows.channels, NULL, rows.n, TEXTOID);
		values[6] = datum_array(rows.types, NULL, rows.n, TEXTOID);
		values[7] = datum_array(rows.blobs, NULL, rows.n, BYTEAOID);
		values[8] = PointerGetDatum(task_path);
		stored = run_plan(plan, values, NULL, SPI_OK_INSERT);
	}

	SPI_finish();
	PG_RETURN_INT32((int32) stored);
}

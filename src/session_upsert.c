/*-------------------------------------------------------------------------
 *
 * session_upsert.c
 *	  upsert_sessions(jsonb), upsert_sessions(json) and the triggers of the
 *	  session_import view: three ways to feed agent-go's session objects to
 *	  the bulk writer (session_bulk.c).
 *
 * A session object has agent-go's 13 fields (session_id, user_id, agent_id,
 * team_id, workflow_id, name: strings; metadata, state, agent_data, runs,
 * summary: any JSON, state an object; created_at, updated_at: a string of
 * timestamptz input, such as ISO 8601, or a number of seconds since the Unix
 * epoch, finite either way) and an optional app_name (a string) that
 * overrides the call's app_name.  Absent and null fields are NULL (state:
 * {}); unknown fields are ignored.  The session_import view's columns are
 * typed, so COPY takes timestamptz input only (docs/sessions.md).
 *
 * The jsonb overload iterates over the binary array.  The json overload
 * walks the text with the JSON parser's callbacks and converts one element
 * at a time, building the jsonb of nested field values as it goes, so that
 * a batch never exists as one large jsonb.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/jsonapi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/jsonfuncs.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "checkpoint.h"		/* cp_jsonb_type_name() */
#include "sessions.h"

PG_FUNCTION_INFO_V1(agentstore_upsert_sessions_jsonb);
PG_FUNCTION_INFO_V1(agentstore_upsert_sessions_json);
PG_FUNCTION_INFO_V1(agentstore_session_import_begin);
PG_FUNCTION_INFO_V1(agentstore_session_import_row);
PG_FUNCTION_INFO_V1(agentstore_session_import_flush);
PG_FUNCTION_INFO_V1(agentstore_session_import_result);

#define SOURCE_ARRAY	"sessions array"
#define SOURCE_IMPORT	"session_import"

typedef enum FieldKind
{
	FK_TEXT,
	FK_JSONB,
	FK_TIMESTAMP
} FieldKind;

/* One element being converted. */
typedef struct ElementRow
{
	Datum		values[SF_NFIELDS];
	bool		nulls[SF_NFIELDS];
	int64		element;
	int			field;			/* field being converted, for the context */
} ElementRow;

/* The JSON type of each field. */
static FieldKind
field_kind(int f)
{
	switch (f)
	{
		case SF_METADATA:
		case SF_STATE:
		case SF_AGENT_DATA:
		case SF_RUNS:
		case SF_SUMMARY:
			return FK_JSONB;
		case SF_CREATED_AT:
		case SF_UPDATED_AT:
			return FK_TIMESTAMP;
		default:
			return FK_TEXT;
	}
}

/* The field of a key, or -1 for a field this function ignores. */
static int
field_lookup(const char *name, int len)
{
	int			f;

	for (f = 0; f < SF_NFIELDS; f++)
		if ((int) strlen(session_field_names[f]) == len &&
			memcmp(session_field_names[f], name, len) == 0)
			return f;
	return -1;
}

/* Error context while converting a field: name element and field. */
static void
element_error_callback(void *arg)
{
	ElementRow *row = (ElementRow *) arg;

	if (row->field >= 0)
		errcontext("field \"%s\" of %s", session_field_names[row->field],
				   session_bulk_where(SOURCE_ARRAY, row->element, false));
}

/* A field has a JSON type it cannot have. */
static void
wrong_type(ElementRow *row, int f, const char *got)
{
	const char *want;

	switch (field_kind(f))
	{
		case FK_TEXT:
			want = "a string";
			break;
		case FK_TIMESTAMP:
			want = "a string or a number";
			break;
		default:
			want = "a JSON value";
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("field \"%s\" must be %s or null", session_field_names[f], want),
			 errdetail("%s has %s %s \"%s\".",
					   session_bulk_where(SOURCE_ARRAY, row->element, true),
					   (got[0] == 'a' || got[0] == 'o') ? "an" : "a",
					   got, session_field_names[f])));
}

/* Set a timestamp field from its text (timestamptz input). */
static void
set_timestamp_text(ElementRow *row, int f, const char *s)
{
	row->values[f] = DirectFunctionCall3(timestamptz_in, CStringGetDatum(s),
										 ObjectIdGetDatum(InvalidOid),
										 Int32GetDatum(-1));
	row->nulls[f] = false;
}

/* Set a timestamp field from a number of seconds since the Unix epoch. */
static void
set_timestamp_number(ElementRow *row, int f, Numeric n)
{
	Datum		secs = DirectFunctionCall1(numeric_float8, NumericGetDatum(n));

	row->values[f] = DirectFunctionCall1(float8_timestamptz, secs);
	row->nulls[f] = false;
}

/* Start converting an element: every field absent. */
static void
element_reset(ElementRow *row, int64 element)
{
	int			f;

	for (f = 0; f < SF_NFIELDS; f++)
	{
		row->values[f] = (Datum) 0;
		row->nulls[f] = true;
	}
	row->element = element;
	row->field = -1;
}

/* Finish an element: default app_name, checks, into the writer. */
static void
element_finish(ElementRow *row, SessionBulk *bulk, text *default_app,
			   bool preserve)
{
	row->field = -1;
	if (row->nulls[SF_APP_NAME] && default_app != NULL)
	{
		row->values[SF_APP_NAME] = PointerGetDatum(default_app);
		row->nulls[SF_APP_NAME] = false;
	}
	session_bulk_check_row(row->values, row->nulls, row->element, SOURCE_ARRAY);
	session_bulk_add(bulk, row->values, row->nulls, preserve, row->element);
}

/* Convert one field value given as a JsonbValue. */
static void
set_field_jbv(ElementRow *row, int f, JsonbValue *v)
{
	if (v->type == jbvNull)
	{
		row->nulls[f] = true;
		return;
	}
	row->field = f;
	switch (field_kind(f))
	{
		case FK_TEXT:
			if (v->type != jbvString)
				wrong_type(row, f, cp_jsonb_type_name(v));
			row->values[f] = PointerGetDatum(cstring_to_text_with_len(v->val.string.val,
																	  v->val.string.len));
			row->nulls[f] = false;
			break;
		case FK_JSONB:
			row->values[f] = JsonbPGetDatum(JsonbValueToJsonb(v));
			row->nulls[f] = false;
			break;
		case FK_TIMESTAMP:
			if (v->type == jbvString)
				set_timestamp_text(row, f, pnstrdup(v->val.string.val,
													v->val.string.len));
			else if (v->type == jbvNumeric)
				set_timestamp_number(row, f, v->val.numeric);
			else
				wrong_type(row, f, cp_jsonb_type_name(v));
			break;
	}
	row->field = -1;
}

/* Arguments 1 and 2 of the upsert functions. */
static void
upsert_args(FunctionCallInfo fcinfo, bool *preserve, text **default_app)
{
	session_check_not_null(fcinfo, 1, "preserve_updated_at");
	*preserve = PG_GETARG_BOOL(1);
	*default_app = PG_ARGISNULL(2) ? NULL :
		session_check_key_arg(fcinfo, 2, "app_name");
}

/* The (inserted, updated) result row. */
static Datum
counts_datum(FunctionCallInfo fcinfo, int64 inserted, int64 updated)
{
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	values[0] = Int64GetDatum(inserted);
	values[1] = Int64GetDatum(updated);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/* Report a batch argument that is not a JSON array. */
static void
not_an_array(const char *type)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("sessions must be a JSON array"),
			 errdetail("The sessions argument is a JSON %s.", type)));
}

/* Report an element that is not an object. */
static void
element_not_object(int64 element, const char *type)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("every element of sessions must be a JSON object"),
			 errdetail("%s is a JSON %s.",
					   session_bulk_where(SOURCE_ARRAY, element, true), type)));
}

/*
 * agentstore.upsert_sessions(sessions jsonb, preserve_updated_at, app_name):
 * upsert every element; returns how many were inserted and updated.
 */
Datum
agentstore_upsert_sessions_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *doc;
	bool		preserve;
	text	   *default_app;
	SessionBulk *bulk;
	MemoryContext elem_cxt,
				old;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	ElementRow	row;
	ErrorContextCallback errcb;
	int64		element = 0,
				inserted,
				updated;

	session_check_not_null(fcinfo, 0, "sessions");
	doc = PG_GETARG_JSONB_P(0);
	if (JB_ROOT_IS_SCALAR(doc))
		not_an_array("scalar");
	if (!JB_ROOT_IS_ARRAY(doc))
		not_an_array("object");
	upsert_args(fcinfo, &preserve, &default_app);

	bulk = session_bulk_begin(CurrentMemoryContext, SOURCE_ARRAY,
							  JB_ROOT_COUNT(doc));
	elem_cxt = AllocSetContextCreate(CurrentMemoryContext, "upsert_sessions element",
									 ALLOCSET_DEFAULT_SIZES);
	row.field = -1;
	errcb.callback = element_error_callback;
	errcb.arg = &row;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	it = JsonbIteratorInit(&doc->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		JsonbIterator *eit;
		JsonbValue	k,
					fv;

		if (tok != WJB_ELEM)
			continue;
		CHECK_FOR_INTERRUPTS();
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			element_not_object(element, cp_jsonb_type_name(&v));

		MemoryContextReset(elem_cxt);
		old = MemoryContextSwitchTo(elem_cxt);
		element_reset(&row, element);
		eit = JsonbIteratorInit(v.val.binary.data);
		while ((tok = JsonbIteratorNext(&eit, &k, true)) != WJB_DONE)
		{
			int			f;

			if (tok != WJB_KEY)
				continue;
			tok = JsonbIteratorNext(&eit, &fv, true);
			f = field_lookup(k.val.string.val, k.val.string.len);
			if (f >= 0)
				set_field_jbv(&row, f, &fv);
		}
		element_finish(&row, bulk, default_app, preserve);
		MemoryContextSwitchTo(old);
		element++;
	}
	error_context_stack = errcb.previous;

	session_bulk_finish(bulk, &inserted, &updated);
	MemoryContextDelete(elem_cxt);
	PG_RETURN_DATUM(counts_datum(fcinfo, inserted, updated));
}

/* State of the json walk. */
typedef struct JsonWalk
{
	JsonLexContext *lex;
	SessionBulk *bulk;
	MemoryContext elem_cxt;
	MemoryContext walk_cxt;
	ElementRow	row;
	int64		next_element;
	int			field;			/* field of the current element, -1 = ignored */
	JsonbParseState *pstate;	/* building the jsonb of a nested value */
	bool		building;
	bool		preserve;
	text	   *default_app;
} JsonWalk;

/* Push a scalar token into the jsonb being built. */
static void
walk_push_scalar(JsonWalk *w, char *token, JsonTokenType type)
{
	JsonbValue	v;

	switch (type)
	{
		case JSON_TOKEN_STRING:
			v.type = jbvString;
			v.val.string.val = token;
			v.val.string.len = strlen(token);
			break;
		case JSON_TOKEN_NUMBER:
			v.type = jbvNumeric;
			v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
																CStringGetDatum(token),
																ObjectIdGetDatum(InvalidOid),
																Int32GetDatum(-1)));
			break;
		case JSON_TOKEN_TRUE:
		case JSON_TOKEN_FALSE:
			v.type = jbvBool;
			v.val.boolean = (type == JSON_TOKEN_TRUE);
			break;
		default:
			v.type = jbvNull;
			break;
	}
	if (w->pstate == NULL)
	{
		/* a scalar field value: a scalar jsonb */
		pushJsonbValue(&w->pstate, WJB_BEGIN_ARRAY, NULL);
		w->pstate->contVal.val.array.rawScalar = true;
		pushJsonbValue(&w->pstate, WJB_ELEM, &v);
		w->row.values[w->field] =
			JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&w->pstate, WJB_END_ARRAY, NULL)));
		w->row.nulls[w->field] = false;
		w->pstate = NULL;
		return;
	}
	pushJsonbValue(&w->pstate,
				   w->pstate->contVal.type == jbvArray ? WJB_ELEM : WJB_VALUE, &v);
}

/* object_start / array_start */
static void
walk_container_start(JsonWalk *w, bool object)
{
	int			level = w->lex->lex_level;

	if (level == 2 && w->field >= 0)
	{
		if (field_kind(w->field) != FK_JSONB)
			wrong_type(&w->row, w->field, object ? "object" : "array");
		w->pstate = NULL;
		w->building = true;
	}
	if (level >= 2 && w->building)
		pushJsonbValue(&w->pstate, object ? WJB_BEGIN_OBJECT : WJB_BEGIN_ARRAY, NULL);
}

/* object_end / array_end */
static void
walk_container_end(JsonWalk *w, bool object)
{
	JsonbValue *res;

	if (!w->building || w->lex->lex_level < 2)
		return;
	res = pushJsonbValue(&w->pstate, object ? WJB_END_OBJECT : WJB_END_ARRAY, NULL);
	if (w->lex->lex_level == 2)
	{
		w->row.values[w->field] = JsonbPGetDatum(JsonbValueToJsonb(res));
		w->row.nulls[w->field] = false;
		w->building = false;
		w->pstate = NULL;
	}
}

static CompatJsonSemResult
walk_object_start(void *state)
{
	walk_container_start((JsonWalk *) state, true);
	return COMPAT_JSON_SEM_OK;
}

static CompatJsonSemResult
walk_object_end(void *state)
{
	walk_container_end((JsonWalk *) state, true);
	return COMPAT_JSON_SEM_OK;
}

static CompatJsonSemResult
walk_array_start(void *state)
{
	walk_container_start((JsonWalk *) state, false);
	return COMPAT_JSON_SEM_OK;
}

static CompatJsonSemResult
walk_array_end(void *state)
{
	walk_container_end((JsonWalk *) state, false);
	return COMPAT_JSON_SEM_OK;
}

/* A field starts: at level 2 it is a field of an element. */
static CompatJsonSemResult
walk_field_start(void *state, char *fname, bool isnull)
{
	JsonWalk   *w = (JsonWalk *) state;

	if (w->lex->lex_level == 2)
	{
		w->field = field_lookup(fname, strlen(fname));
		w->row.field = w->field;
		if (w->field >= 0 && isnull)
			w->row.nulls[w->field] = true;
	}
	else if (w->building)
	{
		JsonbValue	k;

		k.type = jbvString;
		k.val.string.val = fname;
		k.val.string.len = strlen(fname);
		pushJsonbValue(&w->pstate, WJB_KEY, &k);
	}
	return COMPAT_JSON_SEM_OK;
}

/* An element of the top-level array starts: it must be an object. */
static CompatJsonSemResult
walk_element_start(void *state, bool isnull)
{
	JsonWalk   *w = (JsonWalk *) state;

	if (w->lex->lex_level != 1)
		return COMPAT_JSON_SEM_OK;
	CHECK_FOR_INTERRUPTS();
	switch (w->lex->token_type)
	{
		case JSON_TOKEN_OBJECT_START:
			break;
		case JSON_TOKEN_ARRAY_START:
			element_not_object(w->next_element, "array");
			break;
		case JSON_TOKEN_STRING:
			element_not_object(w->next_element, "string");
			break;
		case JSON_TOKEN_NUMBER:
			element_not_object(w->next_element, "number");
			break;
		case JSON_TOKEN_NULL:
			element_not_object(w->next_element, "null");
			break;
		default:
			element_not_object(w->next_element, "boolean");
			break;
	}
	MemoryContextReset(w->elem_cxt);
	element_reset(&w->row, w->next_element);
	w->field = -1;
	return COMPAT_JSON_SEM_OK;
}

/* An element of the top-level array ends: hand it to the writer. */
static CompatJsonSemResult
walk_element_end(void *state, bool isnull)
{
	JsonWalk   *w = (JsonWalk *) state;

	if (w->lex->lex_level != 1)
		return COMPAT_JSON_SEM_OK;
	element_finish(&w->row, w->bulk, w->default_app, w->preserve);
	w->next_element++;
	w->field = -1;
	return COMPAT_JSON_SEM_OK;
}

/* A scalar: a field value at level 2, or part of a nested value. */
static CompatJsonSemResult
walk_scalar(void *state, char *token, JsonTokenType type)
{
	JsonWalk   *w = (JsonWalk *) state;
	int			f = w->field;

	if (w->lex->lex_level > 2)
	{
		if (w->building)
			walk_push_scalar(w, token, type);
		return COMPAT_JSON_SEM_OK;
	}
	if (w->lex->lex_level < 2 || f < 0 || type == JSON_TOKEN_NULL)
		return COMPAT_JSON_SEM_OK;
	switch (field_kind(f))
	{
		case FK_TEXT:
			if (type != JSON_TOKEN_STRING)
				wrong_type(&w->row, f, type == JSON_TOKEN_NUMBER ? "number" : "boolean");
			w->row.values[f] = CStringGetTextDatum(token);
			w->row.nulls[f] = false;
			break;
		case FK_TIMESTAMP:
			if (type == JSON_TOKEN_STRING)
				set_timestamp_text(&w->row, f, token);
			else if (type == JSON_TOKEN_NUMBER)
				set_timestamp_number(&w->row, f,
									 DatumGetNumeric(DirectFunctionCall3(numeric_in,
																		 CStringGetDatum(token),
																		 ObjectIdGetDatum(InvalidOid),
																		 Int32GetDatum(-1))));
			else
				wrong_type(&w->row, f, "boolean");
			break;
		case FK_JSONB:
			w->pstate = NULL;
			walk_push_scalar(w, token, type);
			break;
	}
	return COMPAT_JSON_SEM_OK;
}

/*
 * agentstore.upsert_sessions(sessions json, preserve_updated_at, app_name):
 * as the jsonb overload, walking the json text element by element.
 */
Datum
agentstore_upsert_sessions_json(PG_FUNCTION_ARGS)
{
	text	   *doc;
	JsonWalk	w;
	JsonSemAction sem;
	JsonParseErrorType res;
	ErrorContextCallback errcb;
	MemoryContext old;
	const char *p,
			   *end;
	int64		inserted,
				updated;

	session_check_not_null(fcinfo, 0, "sessions");
	doc = PG_GETARG_TEXT_PP(0);
	memset(&w, 0, sizeof(w));
	upsert_args(fcinfo, &w.preserve, &w.default_app);

	/* the root must be an array */
	p = VARDATA_ANY(doc);
	end = p + VARSIZE_ANY_EXHDR(doc);
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p == end || *p != '[')
		not_an_array(p == end ? "value" : *p == '{' ? "object" :
					 *p == '"' ? "string" : "scalar");

	/* an element takes some 40 bytes at least: {"session_id":"x","user_id":"y"} */
	w.bulk = session_bulk_begin(CurrentMemoryContext, SOURCE_ARRAY,
								VARSIZE_ANY_EXHDR(doc) / 40 + 1);
	w.walk_cxt = CurrentMemoryContext;
	w.elem_cxt = AllocSetContextCreate(CurrentMemoryContext, "upsert_sessions element",
									   ALLOCSET_DEFAULT_SIZES);
	w.field = -1;
	w.row.field = -1;
	w.lex = compat_json_lex_cstring(VARDATA_ANY(doc), VARSIZE_ANY_EXHDR(doc),
									GetDatabaseEncoding(), true);
	memset(&sem, 0, sizeof(sem));
	sem.semstate = &w;
	sem.object_start = walk_object_start;
	sem.object_end = walk_object_end;
	sem.array_start = walk_array_start;
	sem.array_end = walk_array_end;
	sem.object_field_start = walk_field_start;
	sem.array_element_start = walk_element_start;
	sem.array_element_end = walk_element_end;
	sem.scalar = walk_scalar;

	errcb.callback = element_error_callback;
	errcb.arg = &w.row;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	old = MemoryContextSwitchTo(w.elem_cxt);
	res = pg_parse_json(w.lex, &sem);
	MemoryContextSwitchTo(old);
	error_context_stack = errcb.previous;
	if (res != JSON_SUCCESS)
		compat_json_ereport_error(res, w.lex);

	session_bulk_finish(w.bulk, &inserted, &updated);
	MemoryContextDelete(w.elem_cxt);
	PG_RETURN_DATUM(counts_datum(fcinfo, inserted, updated));
}

/*
 * The session_import view.  Each statement that writes to it has its own
 * writer, on a stack of frames: the BEFORE statement trigger pushes a frame,
 * the INSTEAD OF row trigger buffers each row in the writer of the frame on
 * top (begun at the statement's first row, in the statement's transaction
 * memory), and the AFTER statement trigger pops the frame, flushes the rest
 * and records the counts for session_import_result().  PostgreSQL fires a
 * statement's BEFORE and AFTER statement triggers once per query level, and
 * a statement run by a function the outer statement calls begins and ends
 * within one row of the outer statement, so the frame on top is always that
 * of the statement whose row trigger fires.  A frame left behind by a
 * statement that failed is dropped with its subtransaction (its memory goes
 * with it), so a nested import that is rolled back takes only its own rows
 * with it, and the outer statement's rows stay in the outer frame.
 */
typedef struct ImportFrame
{
	SessionBulk *bulk;			/* NULL until the statement's first row */
	MemoryContext cxt;			/* the statement's transaction memory */
	SubTransactionId subid;		/* subtransaction of the statement */
	int64		rows;			/* rows of the statement so far */
} ImportFrame;

static ImportFrame *import_frames = NULL;	/* in TopMemoryContext */
static int	import_nframes = 0;
static int	import_maxframes = 0;
static int64 import_inserted = 0;
static int64 import_updated = 0;
static bool import_callbacks = false;

/* Transaction end: every frame's memory is gone. */
static void
import_xact_callback(XactEvent event, void *arg)
{
	if (event != XACT_EVENT_PRE_COMMIT &&
		event != XACT_EVENT_PARALLEL_PRE_COMMIT &&
		event != XACT_EVENT_PRE_PREPARE)
		import_nframes = 0;
}

/*
 * Subtransaction abort: drop the frames of statements begun in it or in
 * its subtransactions (whose ids are larger), without touching them.
 */
static void
import_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	while (import_nframes > 0 &&
		   import_frames[import_nframes - 1].subid >= mySubid)
		import_nframes--;
}

/* Expected types of session_import's columns (the fields, then preserve). */
static const Oid import_types[SF_NFIELDS + 1] = {
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	JSONBOID, JSONBOID, JSONBOID, JSONBOID, JSONBOID,
	TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID
};

/* Report a trigger function used as anything but its own trigger. */
static void
import_misuse(const char *fname, TriggerData *td, const char *why)
{
	if (td == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger function %s can only be used on agentstore.session_import",
						fname),
				 errdetail("It was not called as a trigger.")));
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("trigger function %s can only be used on agentstore.session_import",
					fname),
			 errdetail("It was called by trigger \"%s\" on relation \"%s\", %s.",
					   td->tg_trigger->tgname,
					   RelationGetRelationName(td->tg_relation), why)));
}

/*
 * Check that a trigger function was called as the session_import trigger it
 * is (relation, row type, event, timing, level) before it reads anything.
 */
static TriggerData *
import_trigger_data(FunctionCallInfo fcinfo, const char *fname, bool row,
					bool before)
{
	TriggerData *td;
	TupleDesc	desc;
	Oid			view;
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo))
		import_misuse(fname, NULL, NULL);
	td = (TriggerData *) fcinfo->context;
	view = get_relname_relid("session_import",
							 get_namespace_oid("agentstore", false));
	if (RelationGetRelid(td->tg_relation) != view)
		import_misuse(fname, td, "which is not agentstore.session_import");
	if (!TRIGGER_FIRED_BY_INSERT(td->tg_event) ||
		(row && !(TRIGGER_FIRED_INSTEAD(td->tg_event) &&
				  TRIGGER_FIRED_FOR_ROW(td->tg_event))) ||
		(!row && !(TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) &&
				   (before ? TRIGGER_FIRED_BEFORE(td->tg_event) :
					TRIGGER_FIRED_AFTER(td->tg_event)))))
		import_misuse(fname, td,
					  row ? "not as an INSTEAD OF INSERT row trigger" :
					  before ? "not as a BEFORE INSERT statement trigger" :
					  "not as an AFTER INSERT statement trigger");
	desc = RelationGetDescr(td->tg_relation);
	if (desc->natts != SF_NFIELDS + 1)
		import_misuse(fname, td, "whose columns are not those of the view");
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->atttypid != import_types[i])
			import_misuse(fname, td, "whose columns are not those of the view");
	}
	return td;
}

/* The frame of the statement whose trigger fires. */
static ImportFrame *
import_top_frame(const char *fname)
{
	if (import_nframes == 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger function %s was called without session_import_begin()",
						fname),
				 errdetail("The BEFORE INSERT statement trigger session_import_begin of agentstore.session_import did not fire.")));
	return &import_frames[import_nframes - 1];
}

/* BEFORE INSERT FOR EACH STATEMENT on session_import: push a frame. */
Datum
agentstore_session_import_begin(PG_FUNCTION_ARGS)
{
	ImportFrame *frame;

	(void) import_trigger_data(fcinfo, "session_import_begin()", false, true);
	/* the privileges of the statement, checked even if it has no rows */
	session_bulk_check_access();
	if (!import_callbacks)
	{
		RegisterXactCallback(import_xact_callback, NULL);
		RegisterSubXactCallback(import_subxact_callback, NULL);
		import_callbacks = true;
	}
	if (import_nframes == import_maxframes)
	{
		int			n = Max(import_maxframes * 2, 8);

		import_frames = import_frames == NULL ?
			MemoryContextAlloc(TopMemoryContext, sizeof(ImportFrame) * n) :
			repalloc(import_frames, sizeof(ImportFrame) * n);
		import_maxframes = n;
	}
	frame = &import_frames[import_nframes++];
	frame->bulk = NULL;
	frame->cxt = CurTransactionContext;
	frame->subid = GetCurrentSubTransactionId();
	frame->rows = 0;
	return PointerGetDatum(NULL);
}

/* INSTEAD OF INSERT FOR EACH ROW on session_import: buffer the row. */
Datum
agentstore_session_import_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = import_trigger_data(fcinfo, "session_import_row()",
										  true, false);
	ImportFrame *frame = import_top_frame("session_import_row()");
	HeapTuple	tuple = td->tg_trigtuple;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	Datum		values[SF_NFIELDS + 1];
	bool		nulls[SF_NFIELDS + 1];
	bool		preserve;

	if (frame->bulk == NULL)
		frame->bulk = session_bulk_begin(frame->cxt, SOURCE_IMPORT, -1);
	heap_deform_tuple(tuple, desc, values, nulls);
	frame->rows++;
	preserve = !nulls[SF_NFIELDS] && DatumGetBool(values[SF_NFIELDS]);
	session_bulk_check_row(values, nulls, frame->rows, SOURCE_IMPORT);
	session_bulk_add_tuple(frame->bulk, tuple, desc, preserve, frame->rows);
	return PointerGetDatum(tuple);
}

/* AFTER INSERT FOR EACH STATEMENT on session_import: pop and flush. */
Datum
agentstore_session_import_flush(PG_FUNCTION_ARGS)
{
	SessionBulk *bulk;

	(void) import_trigger_data(fcinfo, "session_import_flush()", false, false);
	bulk = import_top_frame("session_import_flush()")->bulk;
	import_nframes--;
	import_inserted = 0;
	import_updated = 0;
	if (bulk != NULL)
		session_bulk_finish(bulk, &import_inserted, &import_updated);
	return PointerGetDatum(NULL);
}

/* agentstore.session_import_result(): counts of the last import statement. */
Datum
agentstore_session_import_result(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(counts_datum(fcinfo, import_inserted, import_updated));
}

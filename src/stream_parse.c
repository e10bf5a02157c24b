/*-------------------------------------------------------------------------
 *
 * stream_parse.c
 *	  Read and validate the JSON arguments of append_events and
 *	  append_streams into StreamAppend structures, before anything is
 *	  locked or written.
 *
 * An event is a JSON object with the optional keys
 *	  event_id	 a non-empty string of at most 255 characters (idempotency)
 *	  type		 a string (default '')
 *	  data		 any JSON value (default {})
 *	  metadata	 any JSON value (default NULL)
 *	  expires_at a timestamptz in a string (default NULL: never)
 * A key whose value is JSON null counts as absent; any other key is an
 * error, so that a misspelt key is not silently dropped.  Strings and JSON
 * values are not copied: they point into the argument until written.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "common/jsonapi.h"
#include "utils/jsonb.h"
#include "utils/jsonfuncs.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "stream_append.h"
#include "streams.h"

/* The keys of an event object, and of an element of append_streams' array. */
static const char *const event_keys[] = {"event_id", "type", "data", "metadata", "expires_at"};
static const char *const append_keys[] = {"stream", "events", "expected_version"};

/* Error context while converting one event's expires_at. */
typedef struct ParseErrorContext
{
	const char *label;
	int			index;
} ParseErrorContext;

/* Name the event being read in errors raised by input functions. */
static void
parse_error_callback(void *arg)
{
	ParseErrorContext *ctx = (ParseErrorContext *) arg;

	errcontext("%s[%d].expires_at", ctx->label, ctx->index);
}

/*
 * A user value quoted in a message: at most STREAM_QUOTE_MAX_BYTES bytes,
 * cut at a character boundary, with "..." if cut.  Never the whole of a
 * large argument, never half a character.
 */
char *
stream_quote(const char *value, int len)
{
	int			clip = pg_mbcliplen(value, len, Min(len, STREAM_QUOTE_MAX_BYTES));

	return psprintf("%.*s%s", clip, value, clip < len ? "..." : "");
}

/*
 * Check a stream name given as argument 'argname': 1 to STREAM_NAME_MAX_LEN
 * characters, else 22023 naming the argument.  A name far beyond the limit
 * is not counted to the end: no further than STREAM_NAME_MAX_LEN + 1
 * characters of the widest encoding, enough to tell it is too long.
 */
void
stream_check_name(const char *argname, const char *name, int len)
{
	int			nchars;

	/* No more characters than bytes; count no further than needed. */
	if (len >= 1 && len <= STREAM_NAME_MAX_LEN)
		return;
	if (len < 1)
		nchars = 0;
	else
		nchars = pg_mbstrlen_with_len(name,
									  pg_mbcliplen(name, len,
												   Min(len, (STREAM_NAME_MAX_LEN + 1) * pg_database_encoding_max_length())));
	if (nchars >= 1 && nchars <= STREAM_NAME_MAX_LEN)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid stream name"),
			 nchars == 0 ?
			 errdetail("%s is empty; a stream name has 1 to %d characters.",
					   argname, STREAM_NAME_MAX_LEN) :
			 errdetail("%s \"%s\" has more than %d characters, the most a stream name can have.",
					   argname, stream_quote(name, len), STREAM_NAME_MAX_LEN)));
}

/*
 * Set up an append of 'stream' (argument 'argname'): validate the name and
 * the expectation.  'label' names the events array in messages.
 */
void
stream_append_init(StreamAppend *sa, text *stream, bool has_expected,
				   int64 expected, const char *argname, const char *label)
{
	memset(sa, 0, sizeof(StreamAppend));
	sa->stream = stream;
	sa->name = VARDATA_ANY(stream);
	sa->len = VARSIZE_ANY_EXHDR(stream);
	sa->has_expected = has_expected;
	sa->expected = expected;
	sa->label = pstrdup(label);

	stream_check_name(argname, sa->name, sa->len);
	if (has_expected)
		stream_validate_expected_version(expected);
}

/* Whether 'key' (not NUL-terminated) is one of 'keys'. */
static bool
known_key(const char *const *keys, int nkeys, const char *key, int len)
{
	for (int i = 0; i < nkeys; i++)
		if (strlen(keys[i]) == len && memcmp(keys[i], key, len) == 0)
			return true;
	return false;
}

/*
 * Look up 'key' in an object; JSON null counts as absent.  Returns whether
 * the key has a non-null value, and counts every key present in *nfound.
 */
static bool
get_key(JsonbContainer *object, const char *key, JsonbValue *value, int *nfound)
{
	if (getKeyJsonValueFromContainer(object, key, strlen(key), value) == NULL)
		return false;
	(*nfound)++;
	return value->type != jbvNull;
}

/*
 * An object had more keys than we know: find the first unknown one for the
 * message.
 */
static void
report_unknown_key(JsonbContainer *object, const char *const *keys, int nkeys,
				   const char *kind, const char *what, const char *hint)
{
	JsonbIterator *it = JsonbIteratorInit(object);
	JsonbValue	v;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY &&
			!known_key(keys, nkeys, v.val.string.val, v.val.string.len))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s", kind),
					 errdetail("%s has the unknown key \"%s\".", what,
							   stream_quote(v.val.string.val, v.val.string.len)),
					 errhint("%s", hint)));
	}
	elog(ERROR, "unknown key not found");
}

/* Raise "X must be a Y, not a JSON Z" for the value of a key. */
static void
report_wrong_type(const char *label, int index, const char *key,
				  const char *expected, JsonbValue *value)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid event"),
			 errdetail("%s[%d].%s must be %s, not a JSON %s.",
					   label, index, key, expected, JsonbTypeName(value))));
}

/* Read events[index] into 'ev'. */
static void
parse_event(StreamAppend *sa, int index, JsonbValue *elem, AppendEvent *ev)
{
	JsonbContainer *object;
	JsonbValue	v;
	int			nfound = 0;

	if (elem->type != jbvBinary || !JsonContainerIsObject(elem->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid event"),
				 errdetail("%s[%d] is a JSON %s, not an object.",
						   sa->label, index, JsonbTypeName(elem))));
	object = elem->val.binary.data;
	memset(ev, 0, sizeof(AppendEvent));
	ev->data.type = jbvNull;
	ev->metadata.type = jbvNull;

	if (get_key(object, "event_id", &v, &nfound))
	{
		int			nchars;

		if (v.type != jbvString)
			report_wrong_type(sa->label, index, "event_id", "a string", &v);
		nchars = pg_mbstrlen_with_len(v.val.string.val, v.val.string.len);
		if (nchars < 1 || nchars > EVENT_ID_MAX_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid event"),
					 errdetail("%s[%d].event_id has %d characters; an event id has 1 to %d.",
							   sa->label, index, nchars, EVENT_ID_MAX_LEN)));
		ev->event_id = v.val.string.val;
		ev->event_id_len = v.val.string.len;
		sa->nids++;
	}
	if (get_key(object, "type", &v, &nfound))
	{
		if (v.type != jbvString)
			report_wrong_type(sa->label, index, "type", "a string", &v);
		ev->type = v.val.string.val;
		ev->type_len = v.val.string.len;
	}
	if (get_key(object, "data", &v, &nfound))
		ev->data = v;
	if (get_key(object, "metadata", &v, &nfound))
		ev->metadata = v;
	if (get_key(object, "expires_at", &v, &nfound))
	{
		ErrorContextCallback errcallback;
		ParseErrorContext ctx = {sa->label, index};
		char	   *str;

		if (v.type != jbvString)
			report_wrong_type(sa->label, index, "expires_at", "a timestamp in a string", &v);
		str = pnstrdup(v.val.string.val, v.val.string.len);
		errcallback.callback = parse_error_callback;
		errcallback.arg = &ctx;
		errcallback.previous = error_context_stack;
		error_context_stack = &errcallback;
		ev->expires_at = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
																 CStringGetDatum(str),
																 ObjectIdGetDatum(InvalidOid),
																 Int32GetDatum(-1)));
		error_context_stack = errcallback.previous;
		ev->has_expires_at = true;
		pfree(str);
	}

	if (nfound < JsonContainerSize(object))
	{
		char	   *what = psprintf("%s[%d]", sa->label, index);

		report_unknown_key(object, event_keys, lengthof(event_keys), "event", what,
						   "An event has the keys event_id, type, data, metadata and expires_at.");
	}
}

/* The root of a jsonb datum as a JsonbValue (a scalar, or a container). */
static void
jsonb_root(Jsonb *jb, JsonbValue *out)
{
	if (JB_ROOT_IS_SCALAR(jb))
		JsonbExtractScalar(&jb->root, out);
	else
	{
		out->type = jbvBinary;
		out->val.binary.data = &jb->root;
		out->val.binary.len = VARSIZE(jb) - VARHDRSZ;
	}
}

/* Read the events array of an append, given as a JsonbValue. */
void
stream_parse_events(StreamAppend *sa, JsonbValue *array)
{
	JsonbContainer *events;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			i = 0;

	if (array->type != jbvBinary || !JsonContainerIsArray(array->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON array", sa->label),
				 errdetail("%s is a JSON %s.", sa->label, JsonbTypeName(array))));

	events = array->val.binary.data;
	sa->nevents = JsonContainerSize(events);
	sa->events = palloc(sizeof(AppendEvent) * Max(sa->nevents, 1));
	it = JsonbIteratorInit(events);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		CHECK_FOR_INTERRUPTS();
		Assert(i < sa->nevents);
		parse_event(sa, i, &v, &sa->events[i]);
		i++;
	}
	stream_check_duplicate_ids(sa);
}

/* Read the events array of an append, given as a whole jsonb argument. */
void
stream_parse_events_jsonb(StreamAppend *sa, Jsonb *events)
{
	JsonbValue	root;

	jsonb_root(events, &root);
	stream_parse_events(sa, &root);
}

/* Where the top-level elements of a JSON array are in its text. */
typedef struct ElementRanges
{
	JsonLexContext *lex;
	bool		is_array;		/* the top level is an array */
	int			n;
	int			size;
	const char **start;
	int		   *len;
} ElementRanges;

/* The top level of the text is an array. */
static CompatJsonSemResult
ranges_array_start(void *state)
{
	ElementRanges *r = (ElementRanges *) state;

	if (r->lex->lex_level == 0)
		r->is_array = true;
	return COMPAT_JSON_SEM_OK;
}

/* A top-level element begins at the current token. */
static CompatJsonSemResult
ranges_element_start(void *state, bool isnull)
{
	ElementRanges *r = (ElementRanges *) state;

	if (r->lex->lex_level != 1)
		return COMPAT_JSON_SEM_OK;
	if (r->n == r->size)
	{
		r->size *= 2;
		r->start = repalloc(r->start, sizeof(char *) * r->size);
		r->len = repalloc(r->len, sizeof(int) * r->size);
	}
	r->start[r->n] = r->lex->token_start;
	return COMPAT_JSON_SEM_OK;
}

/* A top-level element ends where its last token ended. */
static CompatJsonSemResult
ranges_element_end(void *state, bool isnull)
{
	ElementRanges *r = (ElementRanges *) state;

	if (r->lex->lex_level != 1)
		return COMPAT_JSON_SEM_OK;
	r->len[r->n] = r->lex->prev_token_terminator - r->start[r->n];
	r->n++;
	return COMPAT_JSON_SEM_OK;
}

/*
 * Read the events array of an append, given as JSON text.  One validating
 * pass of the JSON lexer finds the events, then each is converted to jsonb
 * on its own: for large arrays this is about twice as fast as converting
 * the whole array at once (jsonb_in's cost grows with the document's size).
 */
void
stream_parse_events_text(StreamAppend *sa, text *events)
{
	JsonSemAction sem;
	ElementRanges r;
	MemoryContext scratch;

	memset(&r, 0, sizeof(r));
	r.lex = compat_json_lex_text(events, false);
	r.size = 64;
	r.start = palloc(sizeof(char *) * r.size);
	r.len = palloc(sizeof(int) * r.size);
	memset(&sem, 0, sizeof(sem));
	sem.semstate = &r;
	sem.array_start = ranges_array_start;
	sem.array_element_start = ranges_element_start;
	sem.array_element_end = ranges_element_end;
	pg_parse_json_or_ereport(r.lex, &sem);

	/* Not an array: let the jsonb path name what it is. */
	if (!r.is_array)
	{
		stream_parse_events_jsonb(sa, DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																		 CStringGetDatum(text_to_cstring(events)))));
		return;
	}

	/*
	 * Convert each event in a scratch context reset every time, keeping only
	 * the result: jsonb_in's working memory would otherwise pile up.
	 */
	scratch = AllocSetContextCreate(CurrentMemoryContext, "agentstore event parse",
									ALLOCSET_DEFAULT_SIZES);
	sa->nevents = r.n;
	sa->events = palloc(sizeof(AppendEvent) * Max(r.n, 1));
	for (int i = 0; i < r.n; i++)
	{
		MemoryContext oldcontext;
		Jsonb	   *parsed;
		Jsonb	   *event;
		JsonbValue	elem;

		CHECK_FOR_INTERRUPTS();
		oldcontext = MemoryContextSwitchTo(scratch);

		parsed = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
													CStringGetDatum(pnstrdup(r.start[i], r.len[i]))));
		MemoryContextSwitchTo(oldcontext);
		event = palloc(VARSIZE(parsed));
		memcpy(event, parsed, VARSIZE(parsed));
		MemoryContextReset(scratch);
		jsonb_root(event, &elem);
		parse_event(sa, i, &elem, &sa->events[i]);
	}
	MemoryContextDelete(scratch);
	stream_check_duplicate_ids(sa);
}

/* qsort comparator of event pointers by event id, then by array index. */
static int
compare_event_ids(const void *a, const void *b)
{
	const AppendEvent *ea = *(const AppendEvent *const *) a;
	const AppendEvent *eb = *(const AppendEvent *const *) b;
	int			cmp = memcmp(ea->event_id, eb->event_id,
							 Min(ea->event_id_len, eb->event_id_len));

	if (cmp != 0)
		return cmp;
	if (ea->event_id_len != eb->event_id_len)
		return ea->event_id_len < eb->event_id_len ? -1 : 1;
	return ea < eb ? -1 : (ea > eb ? 1 : 0);
}

/*
 * An event id may appear only once in one append: sort the ids and compare
 * neighbours.
 */
void
stream_check_duplicate_ids(StreamAppend *sa)
{
	AppendEvent **ids;
	int			n = 0;

	if (sa->nids < 2)
		return;
	ids = palloc(sizeof(AppendEvent *) * sa->nids);
	for (int i = 0; i < sa->nevents; i++)
		if (sa->events[i].event_id != NULL)
			ids[n++] = &sa->events[i];
	qsort(ids, n, sizeof(AppendEvent *), compare_event_ids);
	for (int i = 1; i < n; i++)
	{
		if (ids[i]->event_id_len == ids[i - 1]->event_id_len &&
			memcmp(ids[i]->event_id, ids[i - 1]->event_id, ids[i]->event_id_len) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("duplicate event id in one append"),
					 errdetail("%s[%d] and %s[%d] have the same event id \"%s\".",
							   sa->label, (int) (ids[i - 1] - sa->events),
							   sa->label, (int) (ids[i] - sa->events),
							   stream_quote(ids[i]->event_id, ids[i]->event_id_len))));
	}
	pfree(ids);
}

/* An integral JSON number as int64, or an error naming 'what'. */
static int64
json_int64(JsonbValue *v, const char *what)
{
	Numeric		num;
	int64		result;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid append"),
				 errdetail("%s must be an integer or null, not a JSON %s.",
						   what, JsonbTypeName(v))));
	num = v->val.numeric;
	result = DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(num)));
	if (!DatumGetBool(DirectFunctionCall2(numeric_eq, NumericGetDatum(num),
										  DirectFunctionCall1(int8_numeric,
															  Int64GetDatum(result)))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid append"),
				 errdetail("%s must be an integer, not %s.", what,
						   DatumGetCString(DirectFunctionCall1(numeric_out,
															   NumericGetDatum(num))))));
	return result;
}

/* qsort comparator of StreamAppend pointers by stream name. */
static int
compare_appends(const void *a, const void *b)
{
	const StreamAppend *sa = *(const StreamAppend *const *) a;
	const StreamAppend *sb = *(const StreamAppend *const *) b;
	int			cmp = memcmp(sa->name, sb->name, Min(sa->len, sb->len));

	if (cmp != 0)
		return cmp;
	if (sa->len != sb->len)
		return sa->len < sb->len ? -1 : 1;
	return sa < sb ? -1 : (sa > sb ? 1 : 0);
}

/*
 * Read append_streams' argument: an array of objects {"stream": text,
 * "events": array, "expected_version": integer or null}.  Returns a List of
 * StreamAppend, in array order; a stream may appear only once.
 */
List *
stream_parse_appends(Jsonb *appends)
{
	JsonbValue	whole;
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken tok;
	List	   *result = NIL;
	StreamAppend **sorted;
	int			i = 0;

	jsonb_root(appends, &whole);
	if (whole.type != jbvBinary || !JsonContainerIsArray(whole.val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("appends must be a JSON array"),
				 errdetail("appends is a JSON %s.", JsonbTypeName(&whole))));

	it = JsonbIteratorInit(&appends->root);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		JsonbContainer *object;
		JsonbValue	stream;
		JsonbValue	events;
		JsonbValue	expected;
		StreamAppend *sa;
		bool		has_expected;
		int			nfound = 0;
		char	   *what;

		if (tok != WJB_ELEM)
			continue;
		what = psprintf("appends[%d]", i);
		if (elem.type != jbvBinary || !JsonContainerIsObject(elem.val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid append"),
					 errdetail("%s is a JSON %s, not an object.", what,
							   JsonbTypeName(&elem))));
		object = elem.val.binary.data;
		if (!get_key(object, "stream", &stream, &nfound) || stream.type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid append"),
					 errdetail("%s.stream must be a string.", what)));
		if (!get_key(object, "events", &events, &nfound))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid append"),
					 errdetail("%s.events is missing.", what)));
		has_expected = get_key(object, "expected_version", &expected, &nfound);
		if (nfound < JsonContainerSize(object))
			report_unknown_key(object, append_keys, lengthof(append_keys), "append", what,
							   "An append has the keys stream, events and expected_version.");

		sa = palloc(sizeof(StreamAppend));
		stream_append_init(sa,
						   cstring_to_text_with_len(stream.val.string.val,
													stream.val.string.len),
						   has_expected,
						   has_expected ? json_int64(&expected, psprintf("%s.expected_version", what)) : 0,
						   psprintf("%s.stream", what), psprintf("%s.events", what));
		sa->index = i;
		stream_parse_events(sa, &events);
		result = lappend(result, sa);
		i++;
	}

	/* One stream, one expectation: a stream may not appear twice. */
	if (list_length(result) > 1)
	{
		ListCell   *lc;
		int			n = 0;

		sorted = palloc(sizeof(StreamAppend *) * list_length(result));
		foreach(lc, result)
			sorted[n++] = lfirst(lc);
		qsort(sorted, n, sizeof(StreamAppend *), compare_appends);
		for (int k = 1; k < n; k++)
		{
			if (sorted[k]->len == sorted[k - 1]->len &&
				memcmp(sorted[k]->name, sorted[k - 1]->name, sorted[k]->len) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("stream \"%s\" appears twice in one append_streams call",
								stream_quote(sorted[k]->name, sorted[k]->len)),
						 errdetail("appends[%d] and appends[%d] name the same stream.",
								   sorted[k - 1]->index, sorted[k]->index)));
		}
		pfree(sorted);
	}
	return result;
}

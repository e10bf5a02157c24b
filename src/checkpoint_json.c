/*-------------------------------------------------------------------------
 *
 * checkpoint_json.c
 *	  Validation and JSON helpers for the checkpoint functions: key limits,
 *	  jsonb access, version text, metadata with its NUL characters stripped,
 *	  base64 blobs, and the JSON form in which blobs are returned.
 *
 * A blob is returned as a type and a value: when the type is "json" the
 * value is the stored JSON text itself (it was validated when it was
 * stored), otherwise it is the base64 of the stored bytes, as a string.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/base64.h"
#include "common/hashfn.h"
#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "compat.h"
#include "checkpoint.h"

/* Longest prefix of an offending value quoted in an error detail. */
#define CP_QUOTE_MAX 64

/*
 * Check a key argument: not empty (unless allowed), at most maxlen
 * characters.  NULL is checked by the callers, which know whether it means
 * "not given".
 */
void
cp_check_key(const char *what, text *value, int maxlen, bool allow_empty)
{
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);

	if (len == 0 && !allow_empty)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what)));
	if (len > maxlen && pg_mbstrlen_with_len(s, len) > maxlen)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("%s is longer than %d characters", what, maxlen),
				 errdetail("The value has %d characters and starts with \"%s\".",
						   pg_mbstrlen_with_len(s, len),
						   pnstrdup(s, pg_mbcliplen(s, len, CP_QUOTE_MAX)))));
}

/* Whether a text value has between min and max characters. */
static bool
text_length_ok(text *t, int min, int max)
{
	int			len = VARSIZE_ANY_EXHDR(t);

	if (len < min)
		return false;
	return len <= max || pg_mbstrlen_with_len(VARDATA_ANY(t), len) <= max;
}

PG_FUNCTION_INFO_V1(agentstore_checkpoint_keys_ok);

/*
 * agentstore._checkpoint_keys_ok(thread_id, checkpoint_ns, key1, key2,
 * key3, path): the CHECK constraint of the checkpoint tables, for rows
 * written by other means than the functions (which check the same limits
 * with clearer errors).  A NULL argument is not checked.  One call of a C
 * function, because PostgreSQL rebuilds a table's CHECK expressions for
 * every statement that writes it, and an expression tree of char_length()
 * comparisons cost a put a measurable share of its time.
 */
Datum
agentstore_checkpoint_keys_ok(PG_FUNCTION_ARGS)
{
	int			i;

	if (!PG_ARGISNULL(0) && !text_length_ok(PG_GETARG_TEXT_PP(0), 1, CP_MAX_KEY))
		PG_RETURN_BOOL(false);
	if (!PG_ARGISNULL(1) && !text_length_ok(PG_GETARG_TEXT_PP(1), 0, CP_MAX_NAMESPACE))
		PG_RETURN_BOOL(false);
	for (i = 2; i < 5; i++)
		if (!PG_ARGISNULL(i) && !text_length_ok(PG_GETARG_TEXT_PP(i), 1, CP_MAX_KEY))
			PG_RETURN_BOOL(false);
	if (!PG_ARGISNULL(5) && !text_length_ok(PG_GETARG_TEXT_PP(5), 0, CP_MAX_NAMESPACE))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(true);
}

/* The JSON type name of a jsonb value, for error details. */
const char *
cp_jsonb_type_name(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		case jbvArray:
			return "array";
		case jbvObject:
			return "object";
		case jbvBinary:
			return JsonContainerIsObject(v->val.binary.data) ? "object" : "array";
		default:
			return "unknown";
	}
}

/* LangGraph keeps None, str, int, float and bool values inline. */
bool
cp_jsonb_is_primitive(JsonbValue *v)
{
	return v->type == jbvNull || v->type == jbvString ||
		v->type == jbvNumeric || v->type == jbvBool;
}

/* The JSON text of any jsonb value (scalar or container). */
char *
cp_jsonb_value_text(JsonbValue *v, int *len)
{
	StringInfoData buf;
	char	   *str;

	/* scalars, the common case, are written as JsonbToCString writes them */
	switch (v->type)
	{
		case jbvNull:
			*len = 4;
			return pstrdup("null");
		case jbvBool:
			*len = v->val.boolean ? 4 : 5;
			return pstrdup(v->val.boolean ? "true" : "false");
		case jbvNumeric:
			str = DatumGetCString(DirectFunctionCall1(numeric_out,
													  NumericGetDatum(v->val.numeric)));
			*len = strlen(str);
			return str;
		case jbvString:
			initStringInfo(&buf);
			str = pnstrdup(v->val.string.val, v->val.string.len);
			escape_json(&buf, str);
			pfree(str);
			*len = buf.len;
			return buf.data;
		default:
			break;
	}
	initStringInfo(&buf);
	if (v->type == jbvBinary)
		JsonbToCString(&buf, v->val.binary.data, v->val.binary.len);
	else
	{
		Jsonb	   *jb = JsonbValueToJsonb(v);

		JsonbToCString(&buf, &jb->root, VARSIZE(jb));
	}
	*len = buf.len;
	return buf.data;
}

/*
 * The length in characters of a channel version, a string (LangGraph
 * Python) or a number (LangGraph.js), counted in the text form its blob is
 * stored under (cp_version_text), so that a number and a string that name
 * the same blob have the same length; -1 for any other JSON type.
 */
int
cp_version_length(JsonbValue *v)
{
	char	   *text;
	int			len;

	if (v->type == jbvString)
		return pg_mbstrlen_with_len(v->val.string.val, v->val.string.len);
	if (v->type != jbvNumeric)
		return -1;
	text = cp_version_text(v);
	len = strlen(text);			/* numeric_out prints ASCII only */
	pfree(text);
	return len;
}

/* Whether a jsonb value is a string of 1 to max characters. */
bool
cp_jbv_string_ok(JsonbValue *v, int max)
{
	if (v->type != jbvString || v->val.string.len == 0)
		return false;
	return v->val.string.len <= max ||
		pg_mbstrlen_with_len(v->val.string.val, v->val.string.len) <= max;
}

/*
 * The text form of a version, as jsonb_each_text() gives it: the string
 * itself, or the number as numeric_out prints it ("3").
 */
char *
cp_version_text(JsonbValue *v)
{
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	if (v->type == jbvNumeric)
		return DatumGetCString(DirectFunctionCall1(numeric_out,
												   NumericGetDatum(v->val.numeric)));
	if (v->type == jbvBool)
		return pstrdup(v->val.boolean ? "true" : "false");
	return NULL;
}

/* Look up a top-level key of a jsonb object; NULL if absent. */
JsonbValue *
cp_object_get(Jsonb *jb, const char *key, JsonbValue *buf)
{
	if (!JB_ROOT_IS_OBJECT(jb))
		return NULL;
	return getKeyJsonValueFromContainer(&jb->root, key, strlen(key), buf);
}

/* Look up a key of a nested object value (jbvBinary); NULL if absent. */
JsonbValue *
cp_container_get(JsonbValue *obj, const char *key, int keylen, JsonbValue *buf)
{
	if (obj == NULL || obj->type != jbvBinary ||
		!JsonContainerIsObject(obj->val.binary.data))
		return NULL;
	return getKeyJsonValueFromContainer(obj->val.binary.data, key, keylen, buf);
}

/*
 * Remove every \u0000 escape from the strings of a JSON text, as LangGraph
 * does before it stores metadata (jsonb cannot hold a NUL character).  Only
 * real escapes are removed: "\\u0000" (an escaped backslash followed by
 * "u0000") is left alone.  Returns the input itself when there is nothing
 * to remove.
 */
static char *
strip_nul_escapes(char *json)
{
	char	   *src;
	char	   *dst;
	bool		in_string = false;

	if (strstr(json, "\\u0000") == NULL)
		return json;

	src = dst = json;
	while (*src)
	{
		if (!in_string)
		{
			if (*src == '"')
				in_string = true;
			*dst++ = *src++;
		}
		else if (*src == '\\')
		{
			if (strncmp(src, "\\u0000", 6) == 0)
			{
				src += 6;
				continue;
			}
			*dst++ = *src++;
			if (*src)
				*dst++ = *src++;
		}
		else
		{
			if (*src == '"')
				in_string = false;
			*dst++ = *src++;
		}
	}
	*dst = '\0';
	return json;
}

/*
 * Metadata arrives as json (so that it may contain \u0000, which jsonb
 * rejects); strip the NUL characters, convert to jsonb and require an
 * object.  NULL means an empty object.
 */
Jsonb *
cp_metadata_from_json(text *json)
{
	char	   *s;
	Jsonb	   *jb;

	if (json == NULL)
		return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	s = strip_nul_escapes(text_to_cstring(json));
	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s)));
	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metadata must be a JSON object"),
				 errdetail("The metadata given is %s.",
						   JB_ROOT_IS_SCALAR(jb) ? "a scalar" : "an array")));
	return jb;
}

/*
 * Decode a base64 blob; subject names it in the error ("blob of channel
 * \"x\"").  Line breaks and spaces are ignored, as decode(..., 'base64')
 * does, because encode(..., 'base64') breaks its output into lines.
 */
bytea *
cp_base64_decode(const char *subject, const char *data, int len)
{
	int			maxlen = pg_b64_dec_len(len);
	bytea	   *result = palloc(VARHDRSZ + maxlen);
	const char *src = data;
	int			srclen = len;
	int			i;
	int			n;

	for (i = 0; i < len; i++)
	{
		if (data[i] == '\n' || data[i] == '\r' || data[i] == ' ' || data[i] == '\t')
		{
			char	   *copy = palloc(len);

			for (srclen = 0, i = 0; i < len; i++)
				if (data[i] != '\n' && data[i] != '\r' && data[i] != ' ' && data[i] != '\t')
					copy[srclen++] = data[i];
			src = copy;
			break;
		}
	}
	n = compat_b64_decode(src, srclen, VARDATA(result), maxlen);
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is not valid base64", subject),
				 errdetail("The value starts with \"%s\".",
						   pnstrdup(data, Min(len, CP_QUOTE_MAX)))));
	SET_VARSIZE(result, VARHDRSZ + n);
	return result;
}

/*
 * A blob of type "json" is returned as JSON text embedded in the result, so
 * it must be valid JSON in the database encoding: check it once, on the way
 * in.
 */
void
cp_check_json_blob(const char *subject, const char *data, int len)
{
	JsonLexContext *lex;
	JsonParseErrorType result;

	if (!pg_verify_mbstr(GetDatabaseEncoding(), data, len, true))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("%s has type json but is not valid %s text",
						subject, GetDatabaseEncodingName())));
	lex = compat_json_lex_cstring(data, len, GetDatabaseEncoding(), false);
	result = pg_parse_json(lex, &nullSemAction);
	if (result != JSON_SUCCESS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("%s has type json but is not valid JSON", subject),
				 errdetail("%s", json_errdetail(result, lex))));
}

/* Append a string of known length as a JSON string literal. */
static void
append_json_string(StringInfo out, const char *s, int len)
{
	const char *end = s + len;

	appendStringInfoChar(out, '"');
	for (; s < end; s++)
	{
		unsigned char c = (unsigned char) *s;

		switch (c)
		{
			case '"':
				appendBinaryStringInfo(out, "\\\"", 2);
				break;
			case '\\':
				appendBinaryStringInfo(out, "\\\\", 2);
				break;
			case '\b':
				appendBinaryStringInfo(out, "\\b", 2);
				break;
			case '\f':
				appendBinaryStringInfo(out, "\\f", 2);
				break;
			case '\n':
				appendBinaryStringInfo(out, "\\n", 2);
				break;
			case '\r':
				appendBinaryStringInfo(out, "\\r", 2);
				break;
			case '\t':
				appendBinaryStringInfo(out, "\\t", 2);
				break;
			default:
				if (c < 0x20)
					appendStringInfo(out, "\\u%04x", c);
				else
					appendStringInfoCharMacro(out, (char) c);
		}
	}
	appendStringInfoChar(out, '"');
}

/*
 * Append a stored blob's value: the JSON text itself for type "json", the
 * base64 of the bytes (as a JSON string) for any other type, null for a
 * NULL blob.
 */
void
cp_append_blob_value(StringInfo out, const char *type, int typelen,
					 const char *data, int len)
{
	if (data == NULL)
		appendBinaryStringInfo(out, "null", 4);
	else if (typelen == 4 && memcmp(type, CP_JSON_TYPE, 4) == 0)
		appendBinaryStringInfo(out, data, len);
	else
	{
		int			enclen = pg_b64_enc_len(len);

		appendStringInfoChar(out, '"');
		enlargeStringInfo(out, enclen + 1);
		out->len += compat_b64_encode(data, len, out->data + out->len, enclen);
		out->data[out->len] = '\0';
		appendStringInfoChar(out, '"');
	}
}

/*
 * The 64-bit hash of a blob's key (thread_id, checkpoint_ns, channel,
 * version) that the index checkpoint_blobs_key holds.  Each part is hashed
 * with its length, so that ("ab", "c") and ("a", "bc") differ.
 */
int64
cp_blob_key(const char *const *parts, const int *lens)
{
	return (int64) cp_blob_key_parts(0, parts, lens, 0, 4);
}

/*
 * The hash of parts from..to-1 of a blob key, continuing from hash (0 to
 * start, or what an earlier call returned for the parts before from): a
 * reader that looks up many channels of one thread and namespace hashes
 * those two once.
 */
uint64
cp_blob_key_parts(uint64 hash, const char *const *parts, const int *lens,
				  int from, int to)
{
	int			i;

	for (i = from; i < to; i++)
	{
		uint32		len = (uint32) lens[i];

		hash = hash_bytes_extended((const unsigned char *) &len, sizeof(len), hash);
		hash = hash_bytes_extended((const unsigned char *) parts[i], len, hash);
	}
	return hash;
}

PG_FUNCTION_INFO_V1(agentstore_checkpoint_blob_key);

/*
 * agentstore._checkpoint_blob_key(thread_id, checkpoint_ns, channel,
 * version): the expression of the index checkpoint_blobs_key, through which
 * get_checkpoint finds a channel's blob with one cheap integer search
 * instead of a four-column text comparison at every level of the primary
 * key.
 */
Datum
agentstore_checkpoint_blob_key(PG_FUNCTION_ARGS)
{
	const char *parts[4];
	int			lens[4];
	int			i;

	for (i = 0; i < 4; i++)
	{
		text	   *t = PG_GETARG_TEXT_PP(i);

		parts[i] = VARDATA_ANY(t);
		lens[i] = VARSIZE_ANY_EXHDR(t);
	}
	PG_RETURN_INT64(cp_blob_key(parts, lens));
}

/* Append a string of known length as a JSON string (for keys and ids). */
void
cp_append_json_string(StringInfo out, const char *s, int len)
{
	append_json_string(out, s, len);
}

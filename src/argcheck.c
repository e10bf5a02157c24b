/*-------------------------------------------------------------------------
 *
 * argcheck.c
 *	  Argument validation: one table of wording and SQLSTATEs, bounded
 *	  quoting of values, and the checks the session functions share.
 *
 * Every argument error is SQLSTATE 22023 (invalid_parameter_value) except
 * a NULL where a value is required (22004, null_value_not_allowed).  The
 * message names the argument; the DETAIL says what is wrong with it and
 * quotes at most ARGCHECK_QUOTE_MAX bytes of a value, cut at a character
 * boundary (pg_mbcliplen), so that a 10 MB argument is not echoed and a
 * multibyte character is never split.
 *
 * The interval rule (argcheck_interval): a TTL is refused unless each of
 * its fields (months, days, time) is >= 0.  '1 month -30 days' has no
 * sign of its own (it is positive in February and negative in March), so
 * it is refused rather than judged by today's calendar; '0' means never.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "argcheck.h"

/* The table: one SQLSTATE and one message per kind of problem. */
static const struct
{
	int			sqlstate;
	const char *message;		/* %s: the argument's name */
}			problems[ARG_NPROBLEMS] =
{
	[ARG_NULL] = {ERRCODE_NULL_VALUE_NOT_ALLOWED, "%s must not be NULL"},
	[ARG_EMPTY] = {ERRCODE_INVALID_PARAMETER_VALUE, "%s must not be empty"},
	[ARG_TOO_LONG] = {ERRCODE_INVALID_PARAMETER_VALUE, "%s is too long"},
	[ARG_NOT_OBJECT] = {ERRCODE_INVALID_PARAMETER_VALUE, "%s must be a JSON object"},
	[ARG_NOT_ARRAY] = {ERRCODE_INVALID_PARAMETER_VALUE, "%s must be a JSON array"},
	[ARG_NOT_ID] = {ERRCODE_INVALID_PARAMETER_VALUE, "%s must be a string or a number"},
	[ARG_NEGATIVE] = {ERRCODE_INVALID_PARAMETER_VALUE, "%s must not be negative"},
	[ARG_NOT_POSITIVE] = {ERRCODE_INVALID_PARAMETER_VALUE, "%s must be positive"},
	[ARG_MIXED_INTERVAL] = {ERRCODE_INVALID_PARAMETER_VALUE, "%s must not mix positive and negative fields"},
	[ARG_DUPLICATE] = {ERRCODE_INVALID_PARAMETER_VALUE, "%s has a duplicate value"},
};

/* "arg", "arg.field", "arg[3]" or "arg[3].field". */
char *
argcheck_name(const ArgName *name)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, name->arg);
	if (name->element >= 0)
		appendStringInfo(&buf, "[%d]", name->element);
	if (name->field != NULL)
		appendStringInfo(&buf, ".%s", name->field);
	return buf.data;
}

/*
 * A value quoted for a message: at most ARGCHECK_QUOTE_MAX bytes, cut at a
 * character boundary, with "..." when cut.  len < 0: NUL-terminated.
 */
char *
argcheck_quote(const char *value, int len)
{
	int			cut;

	if (len < 0)
		len = strlen(value);
	if (len <= ARGCHECK_QUOTE_MAX)
		return psprintf("\"%.*s\"", len, value);
	cut = pg_mbcliplen(value, len, ARGCHECK_QUOTE_MAX);
	return psprintf("\"%.*s...\"", cut, value);
}

/* The JSON type of a value, as jsonb_typeof() names it. */
const char *
argcheck_json_type(const JsonbValue *v)
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
			return JsonContainerIsObject(v->val.binary.data) ? "object" :
				JsonContainerIsScalar(v->val.binary.data) ? "scalar" : "array";
		default:
			return "value";
	}
}

/* Raise the error of 'problem' for argument 'name', with a DETAIL. */
void
argcheck_fail(ArgProblem problem, const ArgName *name, const char *detail_fmt,...)
{
	char	   *detail = NULL;

	Assert(problem >= 0 && problem < ARG_NPROBLEMS);
	if (detail_fmt != NULL)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		for (;;)
		{
			va_list		args;
			int			needed;

			va_start(args, detail_fmt);
			needed = appendStringInfoVA(&buf, detail_fmt, args);
			va_end(args);
			if (needed == 0)
				break;
			enlargeStringInfo(&buf, needed);
		}
		detail = buf.data;
	}
	ereport(ERROR,
			(errcode(problems[problem].sqlstate),
			 errmsg_internal(problems[problem].message, argcheck_name(name)),
			 detail ? errdetail_internal("%s", detail) : 0));
	pg_unreachable();
}

/* ERROR if argument argno (named arg) is NULL. */
void
argcheck_not_null(FunctionCallInfo fcinfo, int argno, const char *arg)
{
	if (PG_ARGISNULL(argno))
	{
		ArgName		name = ARGNAME(arg);

		argcheck_fail(ARG_NULL, &name, NULL);
	}
}

/*
 * Check a string: not empty (unless empty_ok), at most maxchars characters.
 * Counts characters only when the byte length exceeds the limit.
 */
void
argcheck_text(const ArgName *name, const char *value, int len, int maxchars,
			  bool empty_ok)
{
	int			nchars;

	if (len == 0 && !empty_ok)
		argcheck_fail(ARG_EMPTY, name, NULL);
	if (len <= maxchars)
		return;
	nchars = pg_mbstrlen_with_len(value, len);
	if (nchars > maxchars)
		argcheck_fail(ARG_TOO_LONG, name,
					  "The %s has %d characters; the limit is %d.",
					  argcheck_name(name), nchars, maxchars);
}

/* A jsonb argument that must be an object; NULL returns NULL if null_ok. */
Jsonb *
argcheck_object(FunctionCallInfo fcinfo, int argno, const char *arg,
				bool null_ok)
{
	Jsonb	   *j;
	ArgName		name = ARGNAME(arg);

	if (PG_ARGISNULL(argno))
	{
		if (!null_ok)
			argcheck_fail(ARG_NULL, &name, NULL);
		return NULL;
	}
	j = PG_GETARG_JSONB_P(argno);
	if (!JB_ROOT_IS_OBJECT(j))
		argcheck_fail(ARG_NOT_OBJECT, &name, "The %s given is a JSON %s.",
					  arg, JB_ROOT_IS_SCALAR(j) ? "scalar" : "array");
	return j;
}

/* A jsonb argument that must be an array (non-empty unless empty_ok). */
Jsonb *
argcheck_array(FunctionCallInfo fcinfo, int argno, const char *arg,
			   bool empty_ok)
{
	Jsonb	   *j;
	ArgName		name = ARGNAME(arg);

	argcheck_not_null(fcinfo, argno, arg);
	j = PG_GETARG_JSONB_P(argno);
	if (!JB_ROOT_IS_ARRAY(j) || JB_ROOT_IS_SCALAR(j))
		argcheck_fail(ARG_NOT_ARRAY, &name, "The %s argument is a JSON %s.",
					  arg, JB_ROOT_IS_SCALAR(j) ? "scalar" : "object");
	if (!empty_ok && JB_ROOT_COUNT(j) == 0)
		argcheck_fail(ARG_EMPTY, &name, NULL);
	return j;
}

/*
 * An identifier given in JSON (an event's "id"): a string or a number, as
 * text, 1..maxchars characters; NULL for JSON null.  A number is taken in
 * its canonical text form (1e400 has 401 characters).
 */
text *
argcheck_json_id(const JsonbValue *v, const ArgName *name, int maxchars)
{
	char	   *s;
	int			len;

	if (v->type == jbvNull)
		return NULL;
	if (v->type == jbvString)
	{
		s = v->val.string.val;
		len = v->val.string.len;
	}
	else if (v->type == jbvNumeric)
	{
		s = DatumGetCString(DirectFunctionCall1(numeric_out,
												NumericGetDatum(v->val.numeric)));
		len = strlen(s);
	}
	else
		argcheck_fail(ARG_NOT_ID, name, "The %s given is a JSON %s.",
					  argcheck_name(name), argcheck_json_type(v));
	argcheck_text(name, s, len, maxchars, false);
	return cstring_to_text_with_len(s, len);
}

/*
 * The rule for TTL intervals (see the file header): every field >= 0;
 * negative and mixed-sign intervals are refused.
 */
void
argcheck_interval(const Interval *iv, const ArgName *name)
{
	bool		neg = iv->month < 0 || iv->day < 0 || iv->time < 0;
	bool		pos = iv->month > 0 || iv->day > 0 || iv->time > 0;

	if (!neg)
		return;
	argcheck_fail(pos ? ARG_MIXED_INTERVAL : ARG_NEGATIVE, name,
				  "The %s given is %s; every field (months, days, time) of a TTL must be zero or positive.",
				  argcheck_name(name), DatumGetCString(DirectFunctionCall1(interval_out,
													  IntervalPGetDatum(iv))));
}

/*
 * An integer argument that must be >= min (0 or 1); NULL is left to the
 * caller.
 */
int64
argcheck_int64_min(int64 value, const char *arg, int64 min)
{
	ArgName		name = ARGNAME(arg);

	Assert(min == 0 || min == 1);
	if (value < min)
		argcheck_fail(min == 0 ? ARG_NEGATIVE : ARG_NOT_POSITIVE, &name,
					  "%s is " INT64_FORMAT ".", arg, value);
	return value;
}

/* A TTL argument: NULL (the default) or an interval the rule accepts. */
Interval *
argcheck_ttl(FunctionCallInfo fcinfo, int argno, const char *arg)
{
	Interval   *ttl;
	ArgName		name = ARGNAME(arg);

	if (PG_ARGISNULL(argno))
		return NULL;
	ttl = PG_GETARG_INTERVAL_P(argno);
	argcheck_interval(ttl, &name);
	return ttl;
}

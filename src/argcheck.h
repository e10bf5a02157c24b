/*-------------------------------------------------------------------------
 *
 * argcheck.h
 *	  Argument validation with one table of wording and SQLSTATEs.
 *
 * Every check of a function's arguments raises its error through
 * argcheck_fail(), so that one kind of problem has one wording and one
 * SQLSTATE wherever it is found.  Values are never echoed in full:
 * argcheck_quote() gives a bounded, character-aligned prefix.
 *
 * An argument is named by an ArgName: the argument ("event"), optionally
 * an element of it ("events", 3) and a key inside ("id"), printed as
 * "event.id" or "events[3].id".  The name is only formatted on failure.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGENTSTORE_ARGCHECK_H
#define AGENTSTORE_ARGCHECK_H

#include "fmgr.h"
#include "datatype/timestamp.h"
#include "utils/jsonb.h"

#include "compat.h"

/* Longest prefix of a value quoted in a message, in bytes. */
#define ARGCHECK_QUOTE_MAX	64

/* Kinds of bad arguments; each has one wording and one SQLSTATE. */
typedef enum ArgProblem
{
	ARG_NULL,					/* must not be NULL */
	ARG_EMPTY,					/* must not be empty */
	ARG_TOO_LONG,				/* more characters than allowed */
	ARG_NOT_OBJECT,				/* not a JSON object */
	ARG_NOT_ARRAY,				/* not a JSON array */
	ARG_NOT_ID,					/* an identifier neither string nor number */
	ARG_NEGATIVE,				/* a negative number or interval */
	ARG_NOT_POSITIVE,			/* zero or negative where > 0 is needed */
	ARG_MIXED_INTERVAL,			/* an interval mixing signs */
	ARG_DUPLICATE,				/* the same value twice in one argument */
	ARG_NPROBLEMS
} ArgProblem;

/* The name of an argument, of one of its elements, of a key in it. */
typedef struct ArgName
{
	const char *arg;			/* the argument, as in the SQL signature */
	int			element;		/* array element, or -1 */
	const char *field;			/* key inside, or NULL */
} ArgName;

#define ARGNAME(arg)	((ArgName) {(arg), -1, NULL})

extern char *argcheck_name(const ArgName *name);
extern char *argcheck_quote(const char *value, int len);
extern const char *argcheck_json_type(const JsonbValue *v);

extern COMPAT_NORETURN void argcheck_fail(ArgProblem problem, const ArgName *name,
										  const char *detail_fmt,...)
			pg_attribute_printf(3, 4) COMPAT_NORETURN_SUFFIX;

extern void argcheck_not_null(FunctionCallInfo fcinfo, int argno,
							  const char *arg);
extern void argcheck_text(const ArgName *name, const char *value, int len,
						  int maxchars, bool empty_ok);
extern Jsonb *argcheck_object(FunctionCallInfo fcinfo, int argno,
							  const char *arg, bool null_ok);
extern Jsonb *argcheck_array(FunctionCallInfo fcinfo, int argno,
							 const char *arg, bool empty_ok);
extern text *argcheck_json_id(const JsonbValue *v, const ArgName *name,
							  int maxchars);
extern int64 argcheck_int64_min(int64 value, const char *arg, int64 min);
extern Interval *argcheck_ttl(FunctionCallInfo fcinfo, int argno,
							  const char *arg);
extern void argcheck_interval(const Interval *iv, const ArgName *name);

#endif							/* AGENTSTORE_ARGCHECK_H */

/*-------------------------------------------------------------------------
 *
 * spi_util.c
 *	  Kept SPI plans by key, and results copied into the caller's memory
 *	  context (see spi_util.h for the rule this layer enforces).
 *
 * Plans are prepared on first use and kept (SPI_keepplan) in a hash table
 * in TopMemoryContext, one per key.  The plan cache revalidates kept plans,
 * so they survive DROP/CREATE EXTENSION in the same backend.  Every
 * statement given here must be fully schema-qualified, operators included,
 * since it is parsed under the caller's search_path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "spi_util.h"

/* An entry of the table of kept plans. */
typedef struct KeptPlan
{
	char		key[SPI_PLAN_KEY_MAX];	/* hash key */
	SPIPlanPtr	plan;
#ifdef USE_ASSERT_CHECKING
	const char *sql;			/* to catch two statements under one key */
#endif
} KeptPlan;

static HTAB *kept_plans = NULL;

/* See spi_util.h. */
SPIPlanPtr
spi_plan(const char *key, const char *sql, int nargs, const Oid *argtypes)
{
	KeptPlan   *entry;
	bool		found;
	SPIPlanPtr	plan;

	Assert(strlen(key) < SPI_PLAN_KEY_MAX);
	if (kept_plans == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = SPI_PLAN_KEY_MAX;
		ctl.entrysize = sizeof(KeptPlan);
		ctl.hcxt = TopMemoryContext;
		kept_plans = hash_create("agentstore kept SPI plans", 64, &ctl,
								 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	entry = hash_search(kept_plans, key, HASH_FIND, NULL);
	if (entry != NULL)
	{
		Assert(strcmp(entry->sql, sql) == 0);
		return entry->plan;
	}

	/* prepare before entering it, so that a failure leaves no entry */
	plan = SPI_prepare(sql, nargs, (Oid *) argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	entry = hash_search(kept_plans, key, HASH_ENTER, &found);
	Assert(!found);
	entry->plan = plan;
#ifdef USE_ASSERT_CHECKING
	entry->sql = sql;
#endif
	return plan;
}

/* See spi_util.h. */
uint64
spi_run(const char *key, const char *sql, int nargs, const Oid *argtypes,
		Datum *args, const char *nulls, bool read_only, long count,
		int expected_rc)
{
	MemoryContext caller = CurrentMemoryContext;
	SPIPlanPtr	plan = spi_plan(key, sql, nargs, argtypes);
	int			rc = SPI_execute_plan(plan, args, nulls, read_only, count);

	/*
	 * SPI leaves its procedure context current after every call: give the
	 * caller back the context it was working in (a per-batch one, say).
	 */
	MemoryContextSwitchTo(caller);
	if (rc != expected_rc)
		elog(ERROR, "statement \"%s\" failed: %s", key,
			 SPI_result_code_string(rc));
	return SPI_processed;
}

/* See spi_util.h. */
Datum
spi_value(uint64 row, int col, bool *isnull)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;
	Form_pg_attribute att = TupleDescAttr(desc, col - 1);
	Datum		d;

	Assert(row < SPI_processed);
	d = SPI_getbinval(SPI_tuptable->vals[row], desc, col, isnull);
	if (*isnull)
		return (Datum) 0;
	return SPI_datumTransfer(d, att->attbyval, att->attlen);
}

/* See spi_util.h. */
int64
spi_int64(uint64 row, int col)
{
	bool		isnull;
	Datum		d;

	Assert(row < SPI_processed);
	d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col,
					  &isnull);
	if (isnull)
		elog(ERROR, "unexpected NULL in column %d", col);
	return DatumGetInt64(d);
}

/* See spi_util.h. */
HeapTuple
spi_row(uint64 row)
{
	Assert(row < SPI_processed);
	return SPI_copytuple(SPI_tuptable->vals[row]);
}

/* See spi_util.h. */
Datum
spi_read_value(const char *key, const char *sql, int nargs,
			   const Oid *argtypes, Datum *args, const char *nulls,
			   bool *isnull)
{
	Datum		result = (Datum) 0;

	*isnull = true;
	SPI_connect();
	if (spi_run(key, sql, nargs, argtypes, args, nulls, true, 1,
				SPI_OK_SELECT) > 0)
		result = spi_value(0, 1, isnull);
	SPI_finish();
	return result;
}

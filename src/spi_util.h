/*-------------------------------------------------------------------------
 *
 * spi_util.h
 *	  One small SPI layer: prepared plans kept by key, execution with the
 *	  return code checked, and results copied out of SPI's memory into the
 *	  caller's context before SPI_finish.
 *
 * The rule it serves: a return value is never built inside SPI memory.
 * Values read from a result are copied with spi_value() / spi_row() into
 * the context that was current at SPI_connect (the function's own), so
 * that they survive SPI_finish; the function builds its result after
 * SPI_finish from those copies.  spi_read_value() is the whole of a
 * read-only function: connect, run, copy, finish.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGENTSTORE_SPI_UTIL_H
#define AGENTSTORE_SPI_UTIL_H

#include "access/htup.h"
#include "executor/spi.h"

/* Longest plan key (a short name such as "session.lookup"). */
#define SPI_PLAN_KEY_MAX	64

/*
 * The kept plan of 'key', prepared from 'sql' on its first use in this
 * backend.  The caller must be connected to SPI.
 */
extern SPIPlanPtr spi_plan(const char *key, const char *sql, int nargs,
						   const Oid *argtypes);

/*
 * Run the kept plan of 'key' (preparing it if need be); ERROR unless SPI
 * answers expected_rc.  Returns SPI_processed.
 */
extern uint64 spi_run(const char *key, const char *sql, int nargs,
					  const Oid *argtypes, Datum *args, const char *nulls,
					  bool read_only, long count, int expected_rc);

/*
 * Column col (from 1) of row 'row' of the last result, copied into the
 * caller's context; (Datum) 0 and *isnull when NULL.
 */
extern Datum spi_value(uint64 row, int col, bool *isnull);

/* Column col of row 'row' as an int64 (it must not be NULL). */
extern int64 spi_int64(uint64 row, int col);

/* Row 'row' of the last result, copied into the caller's context. */
extern HeapTuple spi_row(uint64 row);

/*
 * A whole read: connect, run the kept plan of 'key' read-only, copy the
 * first column of its first row into the caller's context, finish.  *isnull
 * when there is no row or the value is NULL.
 */
extern Datum spi_read_value(const char *key, const char *sql, int nargs,
							const Oid *argtypes, Datum *args,
							const char *nulls, bool *isnull);

#endif							/* AGENTSTORE_SPI_UTIL_H */

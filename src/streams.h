/*-------------------------------------------------------------------------
 *
 * streams.h
 *	  Event streams: the per-stream version module shared by the version
 *	  trigger (version_trigger.c), the bulk append (stream_append.c) and
 *	  anyone else who writes to agentstore.events from C.
 *
 * Versions are numbered under a per-stream lock held to transaction end.
 * The first use of a stream in a transaction takes the lock and reads the
 * stream's current version from the primary key; later uses count on in a
 * backend-local cache.  Everything that numbers rows of agentstore.events
 * in this backend must go through these functions, so that the trigger
 * path and the bulk path interleave correctly on one stream.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGENTSTORE_STREAMS_H
#define AGENTSTORE_STREAMS_H

#include "utils/relcache.h"

/* Longest stream name (events_stream_check). */
#define STREAM_NAME_MAX_LEN			1024

/* Most bytes of a user value quoted in a message (see stream_quote). */
#define STREAM_QUOTE_MAX_BYTES		64

/*
 * Expected-version constants of the append functions (NULL = any).  0 is an
 * exact expectation too: the stream has no event yet, like STREAM_NO_STREAM.
 */
#define STREAM_NO_STREAM			INT64CONST(-1)
#define STREAM_EXISTS				INT64CONST(-2)

/*
 * SQLSTATE of a failed expected-version check: class SV ("stream version"),
 * an implementation-defined class (SQL reserves classes 0-4 and A-H).
 */
#define ERRCODE_AGENTSTORE_WRONG_EXPECTED_VERSION	MAKE_SQLSTATE('S','V','0','0','1')

/* Attribute numbers and indexes of an events table (see stream_table_info). */
typedef struct StreamTableInfo
{
	Oid			relid;
	AttrNumber	stream_attnum;
	AttrNumber	version_attnum;
	AttrNumber	position_attnum;
	AttrNumber	transaction_id_attnum;
	AttrNumber	event_id_attnum;	/* InvalidAttrNumber if none */
	Oid			pkey_index;		/* (stream, version) */
	Oid			event_id_index; /* unique (stream, event_id), or InvalidOid */
	Oid			heads_relid;	/* stream_heads beside it, or InvalidOid */
	uint64		generation;		/* changes whenever the table is looked up again */
} StreamTableInfo;

extern const StreamTableInfo *stream_table_info(Relation rel);
extern Oid events_table_oid(void);

/* Order in which to lock several streams (see stream_versions.c). */
extern uint64 stream_lock_key(Relation rel, const char *name, int len);

/* Lock the stream (if not yet) and hand out versions first..first+count-1. */
extern int64 stream_reserve_versions(Relation rel, const char *name, int len,
									 int64 count);

/*
 * The version trigger's numbering of one row: a version handed out, or, if
 * the row's event id is already in the stream, one that is not
 * (*duplicate): the row will be skipped by ON CONFLICT or fail.
 */
extern int64 stream_version_for_row(Relation rel, const char *name, int len,
									text *event_id, bool *duplicate);

/* 22003 naming the stream if 'count' versions after 'current' overflow. */
extern void stream_check_version_room(const char *name, int len,
									  int64 current, int64 count);

/* Lock the stream (if not yet) and return its current version (0 = none). */
extern int64 stream_locked_version(Relation rel, const char *name, int len);

extern int64 stream_head_version(Relation rel, text *stream);

/* A row arrived with an explicit version: keep later numbering above it. */
extern void stream_note_version(Relation rel, const char *name, int len,
								int64 version);

/* Check an expected version against the actual one; ERROR on a mismatch. */
extern void stream_check_expected_version(const char *name, int len,
										  bool has_expected, int64 expected,
										  int64 actual);

/* Record the conflict about to be raised as SV001 (stream_conflict.c). */
extern void stream_remember_conflict(const char *name, int len,
									 int64 expected, int64 actual);

/*
 * Argument checks (stream_parse.c): a stream name of 1..STREAM_NAME_MAX_LEN
 * characters, else 22023 naming the argument; and a user value quoted in a
 * message as a bounded, character-aligned prefix.
 */
extern void stream_check_name(const char *argname, const char *name, int len);
extern char *stream_quote(const char *value, int len);

/* Reject expected versions that are neither >= 0 nor a known constant. */
extern void stream_validate_expected_version(int64 expected);

#endif							/* AGENTSTORE_STREAMS_H */

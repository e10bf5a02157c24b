/*-------------------------------------------------------------------------
 *
 * stream_append.h
 *	  The in-memory form of an append (stream_parse.c builds it from the
 *	  JSON arguments, stream_append.c checks and writes it).
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGENTSTORE_STREAM_APPEND_H
#define AGENTSTORE_STREAM_APPEND_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "utils/relcache.h"
#include "utils/jsonb.h"

/* One event of an append; strings and JSON point into the argument. */
typedef struct AppendEvent
{
	const char *event_id;		/* NULL if the event has none */
	int			event_id_len;
	const char *type;			/* NULL: the column default */
	int			type_len;
	JsonbValue	data;			/* jbvNull: the column default */
	JsonbValue	metadata;		/* jbvNull: the column default */
	bool		has_expires_at;
	TimestampTz expires_at;

	/* Filled in by the append: */
	bool		stored;			/* its event id is already in the stream */
	int64		version;
	int64		position;
} AppendEvent;

/* The events for one stream, with the expectation and the outcome. */
typedef struct StreamAppend
{
	text	   *stream;			/* detoasted */
	const char *name;			/* VARDATA_ANY(stream) */
	int			len;
	bool		has_expected;
	int64		expected;
	int			nevents;
	AppendEvent *events;
	int			nids;			/* events with an event id */
	char	   *label;			/* "events" or "appends[i].events" */
	int			index;			/* position in append_streams' array */
	uint64		lock_key;		/* stream_lock_key() */

	/* Filled in by the append: */
	int64		actual;			/* version before the append */
	bool		replay;			/* every event already stored: nothing to do */
	int			nnew;			/* events to write */
	bool		has_result;		/* false: empty, nothing written */
	int64		first_version;
	int64		last_version;
	int64		first_position;
	int64		last_position;
} StreamAppend;

/* The columns an append may set; the others always take their default. */
typedef struct AppendColumns
{
	AttrNumber	stream;
	AttrNumber	version;
	AttrNumber	position;
	AttrNumber	event_id;
	AttrNumber	type;
	AttrNumber	data;
	AttrNumber	metadata;
	AttrNumber	expires_at;
} AppendColumns;

/*
 * What an append needs to know about agentstore.events, worked out once per
 * relcache generation of the table (stream_table.c): the expressions are
 * planned, and a call copies them instead of parsing and planning again.
 */
typedef struct EventsTable
{
	AppendColumns cols;
	bool		bulk_ok;		/* no user BEFORE ROW trigger, no generated
								 * column, a plain table */
	int			natts;
	Expr	  **defaults;		/* planned column default, or NULL */
	bool	   *volatile_default;
	int			ncheck;
	Expr	  **checks;			/* planned CHECK constraints, in the order of
								 * the relation's constr->check */
} EventsTable;

extern Relation events_table_open(const EventsTable **table);

/* Longest event id, in characters (as for every key of agentstore). */
#define EVENT_ID_MAX_LEN	255

extern void stream_append_init(StreamAppend *sa, text *stream, bool has_expected,
							   int64 expected, const char *argname,
							   const char *label);
extern void stream_parse_events(StreamAppend *sa, JsonbValue *array);
extern void stream_parse_events_jsonb(StreamAppend *sa, Jsonb *events);
extern void stream_parse_events_text(StreamAppend *sa, text *events);
extern void stream_check_duplicate_ids(StreamAppend *sa);
extern List *stream_parse_appends(Jsonb *appends);

#endif							/* AGENTSTORE_STREAM_APPEND_H */

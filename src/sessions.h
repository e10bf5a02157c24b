/*-------------------------------------------------------------------------
 *
 * sessions.h
 *	  Declarations shared by the session files (src/session_*.c): argument
 *	  checks, TTL arithmetic, state-delta routing, kept SPI plans and the
 *	  bulk writer behind upsert_sessions and the session_import view.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGENTSTORE_SESSIONS_H
#define AGENTSTORE_SESSIONS_H

#include "executor/spi.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

/* Longest key (app_name, user_id, session_id, state keys, tracks). */
#define SESSION_KEY_MAX_LEN		255

/* A session key, checked (1..255 characters). */
typedef struct SessionKey
{
	text	   *app_name;
	text	   *user_id;
	text	   *session_id;
} SessionKey;

/* The TTL kinds, each with its agentstore.*_ttl parameter. */
typedef enum SessionTtlKind
{
	TTL_SESSION,
	TTL_APP_STATE,
	TTL_USER_STATE,
	TTL_TRACK_EVENT
} SessionTtlKind;

/*
 * A state delta split by routing: session keys to set and to remove, and
 * app and user keys with their values (NULL = remove the key).
 */
typedef struct StateDelta
{
	Jsonb	   *session_set;	/* object of keys to set, never NULL */
	ArrayType  *session_remove; /* text[] of keys to remove, never NULL */
	int			nsession_set;
	int			nsession_remove;
	int			napp;
	Datum	   *app_keys;		/* text */
	Datum	   *app_values;		/* jsonb */
	bool	   *app_nulls;		/* true: remove */
	int			nuser;
	Datum	   *user_keys;
	Datum	   *user_values;
	bool	   *user_nulls;
} StateDelta;

/* session_util.c: argument checks */
extern text *session_check_key_arg(FunctionCallInfo fcinfo, int argno,
								   const char *what);
extern void session_check_key_text(const char *what, const char *value,
								   int len, int element);
extern void session_get_key(FunctionCallInfo fcinfo, SessionKey *key);
extern void session_key_args(Datum *args, const SessionKey *key);
extern Jsonb *session_check_object_arg(FunctionCallInfo fcinfo, int argno,
									   const char *what, bool null_ok);
extern Interval *session_check_ttl_arg(FunctionCallInfo fcinfo, int argno);
extern void session_check_not_null(FunctionCallInfo fcinfo, int argno,
								   const char *what);

/* session_util.c: TTL, names, errors */
extern Datum session_default_ttl(SessionTtlKind kind);
extern char *session_stream_name(int64 session_ref);
extern char *session_track_stream_name(int64 session_ref, text *track);
extern char *session_key_string(const SessionKey *key);
extern void session_check_stale(const SessionKey *key, int64 session_ref);
extern void session_report_missing(const SessionKey *key, int64 session_ref);
extern int64 session_ref_arg(FunctionCallInfo fcinfo, int argno);
extern void session_check_events_select(void);

/*
 * SQLSTATE of a write addressed to a session incarnation that is no longer
 * the active one of its key (it was deleted and created again): class SV,
 * as SV001 of the streams (streams.h).
 */
#define ERRCODE_AGENTSTORE_STALE_SESSION	MAKE_SQLSTATE('S','V','0','0','2')

/* session_util.c: state deltas */
extern void session_parse_delta(Jsonb *delta, StateDelta *out);
extern void session_apply_shared_state(text *app_name, text *user_id,
									   const StateDelta *delta);

/* session_util.c: event windows */
extern int32 session_window_arg(FunctionCallInfo fcinfo, int argno);
extern int64 session_trim_threshold(void);

/* session_util.c: removal of rows */
extern int64 session_remove_rows(text *app_name, int64 session_ref, bool hard);

/* session_bulk.c: the bulk writer of upsert_sessions and session_import */
typedef struct SessionBulk SessionBulk;

/* Columns of one incoming session row (agent-go's fields plus app_name). */
typedef enum SessionField
{
	SF_APP_NAME,
	SF_SESSION_ID,
	SF_USER_ID,
	SF_AGENT_ID,
	SF_TEAM_ID,
	SF_WORKFLOW_ID,
	SF_NAME,
	SF_METADATA,
	SF_STATE,
	SF_AGENT_DATA,
	SF_RUNS,
	SF_SUMMARY,
	SF_CREATED_AT,
	SF_UPDATED_AT,
	SF_NFIELDS
} SessionField;

extern const char *const session_field_names[SF_NFIELDS];

extern SessionBulk *session_bulk_begin(MemoryContext parent,
									   const char *source, int64 rows_hint);
extern void session_bulk_add(SessionBulk *bulk, Datum *values, bool *nulls,
							 bool preserve_updated_at, int64 element);
extern void session_bulk_add_tuple(SessionBulk *bulk, HeapTuple tuple,
								   TupleDesc desc, bool preserve_updated_at,
								   int64 element);
extern void session_bulk_finish(SessionBulk *bulk, int64 *inserted,
								int64 *updated);
extern void session_bulk_abandon(SessionBulk *bulk);
extern void session_bulk_check_access(void);
extern char *session_bulk_where(const char *source, int64 element,
								bool capital);
extern void session_bulk_check_row(Datum *values, bool *nulls, int64 element,
								   const char *source);

#endif							/* AGENTSTORE_SESSIONS_H */

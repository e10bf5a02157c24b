/*-------------------------------------------------------------------------
 *
 * checkpoint.h
 *	  Declarations shared by the checkpoint files: the tables' layout as the
 *	  C code reads it, key limits, and the JSON helpers of
 *	  checkpoint_json.c.
 *
 * checkpoint_put.c writes (put_checkpoint, put_writes) through SPI with
 * cached plans; checkpoint_get.c reads (get_checkpoint, list_checkpoints)
 * with direct index scans, because a LangGraph read is one checkpoint row
 * plus one index probe per channel and the executor's per-node overhead
 * would dominate it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGENTSTORE_CHECKPOINT_H
#define AGENTSTORE_CHECKPOINT_H

#include "lib/stringinfo.h"
#include "storage/lockdefs.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

/* Key limits, in characters; the tables' CHECK constraints say the same. */
#define CP_MAX_KEY			255		/* thread_id, checkpoint_id, task_id,
									 * channel, version, type */
#define CP_MAX_NAMESPACE	1024	/* checkpoint_ns, task_path: nested
									 * subgraph paths grow with depth */

/*
 * Time to live, in seconds, of a thread that has writes but no row in
 * checkpoint_threads when agentstore.checkpoint_ttl is 0: how long writes
 * wait for a put that gives the thread its own expiry.
 */
#define CP_WRITES_ONLY_TTL	(24 * 3600)

/* LangGraph's special write channels, stored with negative idx. */
#define CP_TASKS_CHANNEL	"__pregel_tasks"

/* Blob type LangGraph's serializers use for JSON text. */
#define CP_JSON_TYPE		"json"

/* checkpoint_get.c */
extern bool cp_checkpoint_exists(Datum thread_id, Datum checkpoint_ns,
								 Datum checkpoint_id);
extern bool cp_thread_written_since(Datum thread_id, Snapshot since);
extern bool cp_thread_expiry(Datum thread_id, bool *expires_null);

/* checkpoint_lock.c */
extern bool cp_lock_thread(text *thread_id, LOCKMODE mode, bool nowait);
extern bool cp_thread_written_since_snapshot(Datum thread_id);

/* checkpoint_json.c */
extern void cp_check_key(const char *what, text *value, int maxlen,
						 bool allow_empty);
extern const char *cp_jsonb_type_name(JsonbValue *v);
extern bool cp_jsonb_is_primitive(JsonbValue *v);
extern char *cp_jsonb_value_text(JsonbValue *v, int *len);
extern char *cp_version_text(JsonbValue *v);
extern int	cp_version_length(JsonbValue *v);
extern bool cp_jbv_string_ok(JsonbValue *v, int max);
extern JsonbValue *cp_object_get(Jsonb *jb, const char *key,
								 JsonbValue *buf);
extern JsonbValue *cp_container_get(JsonbValue *obj, const char *key,
									int keylen, JsonbValue *buf);
extern Jsonb *cp_metadata_from_json(text *json);
extern bytea *cp_base64_decode(const char *subject, const char *data, int len);
extern void cp_check_json_blob(const char *subject, const char *data, int len);
extern void cp_append_blob_value(StringInfo out, const char *type, int typelen,
								 const char *data, int len);
extern void cp_append_json_string(StringInfo out, const char *s, int len);
extern int64 cp_blob_key(const char *const *parts, const int *lens);
extern uint64 cp_blob_key_parts(uint64 hash, const char *const *parts,
								const int *lens, int from, int to);

#endif							/* AGENTSTORE_CHECKPOINT_H */

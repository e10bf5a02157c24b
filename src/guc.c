/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  agentstore's configuration parameters, all under the reserved
 *	  "agentstore." prefix.  Durations are integers in seconds (units such
 *	  as '10min' are accepted); 0 means "never".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "agentstore.h"
#include "keylock.h"

bool		agentstore_soft_delete = true;
int			agentstore_batch_size = 1000;
int			agentstore_session_event_limit = 1000;
int			agentstore_session_event_retention = 0;
char	   *agentstore_ttl_role = NULL;
int			agentstore_ttl_interval = 300;
int			agentstore_ttl_batch_size = 1000;
int			agentstore_ttl_purge_after = 7 * 24 * 3600;
int			agentstore_session_ttl = 0;
int			agentstore_track_event_ttl = 0;
int			agentstore_app_state_ttl = 0;
int			agentstore_user_state_ttl = 0;
int			agentstore_checkpoint_ttl = 0;
int			agentstore_ttl_max_workers = 2;
int			agentstore_ttl_batch_delay = 100;
int			agentstore_ttl_worker_nice = 10;

/*
 * Define one "default TTL" parameter; they differ only in name and text.
 * The descriptions must be string constants: the GUC machinery keeps the
 * pointers for the life of the process (pg_settings and SHOW ALL read them),
 * and _PG_init runs in a memory context that is freed later.
 */
static void
define_ttl_guc(const char *name, const char *short_desc, int *variable)
{
	DefineCustomIntVariable(name,
							short_desc,
							"Each write sets expires_at = now() + this; a per-call ttl argument overrides it.",
							variable,
							0, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/*
 * Define every agentstore.* GUC and reserve the prefix, so that a typo such
 * as agentstore.sesion_ttl is rejected instead of silently ignored.
 */
void
agentstore_define_gucs(void)
{
	DefineCustomBoolVariable("agentstore.soft_delete",
							 "Delete and expire by stamping deleted_at instead of removing rows.",
							 "Soft-deleted rows are purged after agentstore.ttl_purge_after.",
							 &agentstore_soft_delete,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("agentstore.batch_size",
							"Rows processed per chunk by batch functions such as upsert_sessions.",
							"Bounds the memory a batch call uses, whatever the size of its input.",
							&agentstore_batch_size,
							1000, 1, 1000000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("agentstore.session_event_limit",
							"Most events a session read returns by default.",
							"A read window only: no event is deleted because of it (see agentstore.session_event_retention).",
							&agentstore_session_event_limit,
							1000, 1, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("agentstore.session_event_retention",
							"Most events a session keeps; the TTL worker deletes older ones. 0 keeps every event.",
							"Opt-in deletion: trim_session_events() and the expiry pass remove the oldest events of a session past this number.",
							&agentstore_session_event_retention,
							0, 0, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("agentstore.ttl_interval",
							"Time between two expiry passes of the background worker.",
							NULL,
							&agentstore_ttl_interval,
							300, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("agentstore.ttl_batch_size",
							"Most rows one expiry transaction touches.",
							"A larger backlog is worked off over several transactions.",
							&agentstore_ttl_batch_size,
							1000, 1, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("agentstore.ttl_purge_after",
							"How long soft-deleted rows are kept before they are removed for good; -1 keeps them forever.",
							NULL,
							&agentstore_ttl_purge_after,
							7 * 24 * 3600, -1, INT_MAX,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("agentstore.ttl_worker_nice",
							"Nice value of the TTL worker process (0 to 19).",
							"A worker with a higher nice value gets the CPU only when foreground work leaves it; 0 competes as an equal.",
							&agentstore_ttl_worker_nice,
							10, 0, 19,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("agentstore.ttl_batch_delay",
							"Pause of the TTL worker between two transactions of a pass.",
							"Leaves the CPU and the disks to foreground work while a backlog is worked off.",
							&agentstore_ttl_batch_delay,
							100, 0, 10000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("agentstore.ttl_max_workers",
							"Most databases the TTL worker expires rows in at the same time.",
							"Each takes a background worker slot (max_worker_processes) while its pass runs.",
							&agentstore_ttl_max_workers,
							2, 1, 64,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("agentstore.ttl_role",
							   "Role the TTL worker's expiry passes run as; empty means the owner of the extension in each database.",
							   "A pass runs as this role in a security-restricted operation, so triggers on agentstore tables run with its rights, never as a superuser unless it is one.",
							   &agentstore_ttl_role,
							   "",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	define_ttl_guc("agentstore.session_ttl",
				   "Default time to live of sessions (with their events, summaries and track events), in seconds; 0 means never.",
				   &agentstore_session_ttl);
	define_ttl_guc("agentstore.track_event_ttl",
				   "Default time to live of track events, in seconds; 0 means never.",
				   &agentstore_track_event_ttl);
	define_ttl_guc("agentstore.app_state_ttl",
				   "Default time to live of app state, in seconds; 0 means never.",
				   &agentstore_app_state_ttl);
	define_ttl_guc("agentstore.user_state_ttl",
				   "Default time to live of user state, in seconds; 0 means never.",
				   &agentstore_user_state_ttl);
	define_ttl_guc("agentstore.checkpoint_ttl",
				   "Default time to live of checkpoint threads, in seconds; 0 means never.",
				   &agentstore_checkpoint_ttl);

	DefineCustomIntVariable("agentstore.lock_escalation_threshold",
							"Key locks (streams, session keys, checkpoint threads) one transaction takes in a key space before it locks the whole space instead.",
							"Bounds the lock-table entries of any transaction, whatever it writes; a transaction past it makes the other writers of that space wait until it ends.",
							&keylock_escalation_threshold,
							32, 1, 10000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("agentstore");
}

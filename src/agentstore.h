/*-------------------------------------------------------------------------
 *
 * agentstore.h
 *	  Declarations shared by agentstore's C files: GUC variables and the
 *	  entry points each feature file exposes to _PG_init.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGENTSTORE_H
#define AGENTSTORE_H

/* Set by _PG_init when loaded through shared_preload_libraries. */
extern bool agentstore_loaded_at_startup;

/* GUC variables (src/guc.c); durations are in seconds, 0 = never. */
extern bool agentstore_soft_delete;
extern int	agentstore_batch_size;
extern int	agentstore_session_event_limit;
extern int	agentstore_session_event_retention;
extern char *agentstore_ttl_role;
extern int	agentstore_ttl_interval;
extern int	agentstore_ttl_batch_size;
extern int	agentstore_ttl_purge_after;
extern int	agentstore_session_ttl;
extern int	agentstore_track_event_ttl;
extern int	agentstore_app_state_ttl;
extern int	agentstore_user_state_ttl;
extern int	agentstore_checkpoint_ttl;
extern int	agentstore_ttl_max_workers;
extern int	agentstore_ttl_batch_delay;
extern int	agentstore_ttl_worker_nice;

extern void agentstore_define_gucs(void);
extern void agentstore_ttl_register(void);	/* src/ttl_shmem.c */

#endif							/* AGENTSTORE_H */

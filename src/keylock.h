/*-------------------------------------------------------------------------
 *
 * keylock.h
 *	  Transaction-level locks on a key (a stream name, a session key) in
 *	  lock spaces of agentstore's own, which SQL's advisory-lock functions
 *	  cannot reach.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGENTSTORE_KEYLOCK_H
#define AGENTSTORE_KEYLOCK_H

#include "storage/lockdefs.h"

/*
 * The lock space is stored in the 16-bit field4 of an advisory LOCKTAG;
 * SQL's pg_advisory_* functions use only 1 and 2 there.  pg_locks shows
 * these locks as locktype "advisory" with objsubid = the space.
 */
typedef enum KeyLockSpace
{
	KEYLOCK_STREAM = 0x4153,	/* a stream's versions */
	KEYLOCK_SESSION_KEY = 0x4154,	/* (app_name, user_id, session_id) */
	KEYLOCK_CHECKPOINT_THREAD = 0x4155	/* a LangGraph thread's rows */
} KeyLockSpace;

/* agentstore.lock_escalation_threshold: key locks per space before escalation */
extern int	keylock_escalation_threshold;

extern uint64 keylock_hash(int nparts, const char *const *parts);
extern void keylock_acquire(KeyLockSpace space, uint64 hash);
extern bool keylock_acquire_mode(KeyLockSpace space, uint64 hash,
								 LOCKMODE mode, bool nowait);

#endif							/* AGENTSTORE_KEYLOCK_H */

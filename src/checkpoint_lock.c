/*-------------------------------------------------------------------------
 *
 * checkpoint_lock.c
 *	  The per-thread lock that orders writes to a LangGraph thread against
 *	  its deletion, pruning and expiry.
 *
 * put_checkpoint and put_writes take it in ShareLock mode, so that writers
 * of one thread (parallel tasks storing their writes) do not wait for each
 * other; the removers (delete_thread, delete_checkpoint, delete_runs,
 * prune_checkpoints, copy_thread's target, expire_checkpoint_threads) take
 * it in ExclusiveLock mode, so that they wait for the writes in flight
 * and later writes wait for them -- and then, taking a fresh look, find the
 * checkpoint they refer to gone.  A heavyweight lock on a hash of the
 * thread id (an advisory LOCKTAG in a lock space of agentstore's own, like
 * keylock.c's) rather than a lock on the thread's row: it costs no tuple
 * write and no WAL, and it exists before the row does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"

#include "checkpoint.h"
#include "keylock.h"

PG_FUNCTION_INFO_V1(agentstore_checkpoint_lock_thread);

/*
 * Lock a thread in the given mode, held to the end of the transaction.
 * With nowait, returns false instead of waiting when the lock is taken.
 */
bool
cp_lock_thread(text *thread_id, LOCKMODE mode, bool nowait)
{
	const char *parts[1];

	parts[0] = text_to_cstring(thread_id);
	return keylock_acquire_mode(KEYLOCK_CHECKPOINT_THREAD, keylock_hash(1, parts),
								mode, nowait);
}

/*
 * agentstore._checkpoint_lock_thread(thread_id text, nowait boolean)
 * returns boolean: the exclusive thread lock, for the plpgsql functions
 * that remove a thread's rows.  With nowait, false when the thread is being
 * written to.
 */
Datum
agentstore_checkpoint_lock_thread(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(cp_lock_thread(PG_GETARG_TEXT_PP(0), ExclusiveLock, PG_GETARG_BOOL(1)));
}

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

#include "access/xact.h"
#include "fmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "argcheck.h"
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
 * Under REPEATABLE READ or SERIALIZABLE, a remover's snapshot may predate a
 * put that committed while the remover waited for the thread lock: it would
 * not see that put's checkpoint, take the blobs the checkpoint names for
 * unreferenced and remove them, leaving the checkpoint without its values;
 * nor the writes of a put_writes, which it would leave behind, for good
 * once the thread's row is gone.  True then (call it with the thread lock
 * held).  Under READ COMMITTED each statement of a remover takes a new
 * snapshot after the lock, and sees the put: always false.
 */
bool
cp_thread_written_since_snapshot(Datum thread_id)
{
	return IsolationUsesXactSnapshot() &&
		cp_thread_written_since(thread_id, GetTransactionSnapshot());
}

/*
 * The SQL removers fail when the thread was written since their snapshot,
 * as PostgreSQL fails an update of a row changed since the snapshot, and
 * let the caller retry.
 */
static void
check_no_write_since_snapshot(Datum thread_id)
{
	if (cp_thread_written_since_snapshot(thread_id))
	{
		text	   *t = DatumGetTextPP(thread_id);

		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent write to the checkpoint thread"),
				 errdetail("A checkpoint or pending writes of thread %s were stored by a transaction that committed after this transaction's snapshot was taken.",
						   argcheck_quote(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t))),
				 errhint("Retry the transaction.")));
	}
}

/*
 * agentstore._checkpoint_lock_thread(thread_id text, nowait boolean)
 * returns boolean: the exclusive thread lock, for the plpgsql functions
 * that remove a thread's rows.  With nowait, false when the thread is being
 * written to.  Under REPEATABLE READ or SERIALIZABLE, an error when the
 * thread was written since the snapshot (check_no_write_since_snapshot).
 */
Datum
agentstore_checkpoint_lock_thread(PG_FUNCTION_ARGS)
{
	Datum		thread_id = PG_GETARG_DATUM(0);

	if (!cp_lock_thread(DatumGetTextPP(thread_id), ExclusiveLock, PG_GETARG_BOOL(1)))
		PG_RETURN_BOOL(false);
	check_no_write_since_snapshot(thread_id);
	PG_RETURN_BOOL(true);
}

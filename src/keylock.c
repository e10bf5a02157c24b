/*-------------------------------------------------------------------------
 *
 * keylock.c
 *	  Transaction-level locks on keys, escalated to one lock on the whole
 *	  key space when a transaction takes many.
 *
 * Writers that must serialize on a key that may not have a row yet (the next
 * version of a stream, the creation of a session, the rows of a checkpoint
 * thread) lock a 64-bit hash of the key.  The lock lives in the lock manager
 * like an advisory lock, so it is held to the end of the transaction,
 * released by a rollback to a savepoint taken before it, shown in pg_locks,
 * and part of deadlock detection.  Two keys whose hashes collide only
 * serialize more than they need to.
 *
 * The lock manager's table is small and shared by the whole cluster, so a
 * transaction that touches many keys (a migration COPYing 100,000 streams,
 * a backfill creating 50,000 sessions) must not take an entry per key: it
 * would run the table out of memory for every backend.  Key locks are
 * therefore hierarchical, as in a database's intention locks:
 *
 * - before locking a key, a transaction takes the space's lock in an
 *   intention mode (RowShareLock for a shared key lock, RowExclusiveLock for
 *   an exclusive one), which never conflicts with other intentions;
 * - once it holds agentstore.lock_escalation_threshold keys of a space, it
 *   takes the space's lock itself (ShareLock or ExclusiveLock, matching the
 *   key mode asked for), which conflicts with the intentions of every other
 *   transaction that holds or wants a conflicting key, and takes no more key
 *   locks in that space.
 *
 * The price is paid by bulk transactions only: escalating waits for the
 * other writers of the space to finish, and writers that come later wait
 * for the escalated transaction.  A writer already waiting for one of the
 * escalating transaction's keys makes a deadlock, which PostgreSQL's
 * detector breaks by cancelling one of the two (SQLSTATE 40P01).  Two bulk
 * transactions would deadlock the same way, each waiting for the other's
 * intention: so only the holder of the space's escalation gate (a lock of
 * its own, taken without waiting) waits to escalate; the others go on with
 * key locks, up to KEYLOCK_GATELESS_FACTOR times the threshold, and only
 * then wait (and deadlock) as well.  So a transaction holds at most
 * threshold + 3 entries per space when it escalates alone, and at most
 * KEYLOCK_GATELESS_FACTOR x threshold + 2 when another escalates, whatever
 * it writes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/lock.h"

#include "keylock.h"

/* agentstore.lock_escalation_threshold (src/guc.c) */
int			keylock_escalation_threshold = 32;

/* A space's lock: field4 of the tag is the space plus this offset. */
#define KEYLOCK_SPACE_TAG_OFFSET 0x1000

#define KEYLOCK_NSPACES 3

/* Key locks a transaction takes while another holds the escalation gate. */
#define KEYLOCK_GATELESS_FACTOR 4

/* What the current transaction holds in one space. */
typedef struct KeyLockSpaceState
{
	int			nkeys;			/* key locks newly taken, a bound */
	LOCKMODE	escalated;		/* space lock held, NoLock if none */
	SubTransactionId escalated_subid;	/* subtransaction that took it */
	bool		gate;			/* the space's escalation gate held */
	SubTransactionId gate_subid;	/* subtransaction that took it */
	int			next_attempt;	/* nkeys at which to try the gate again */
} KeyLockSpaceState;

static KeyLockSpaceState space_state[KEYLOCK_NSPACES];
static bool callbacks_registered = false;

/* Index of a space in space_state. */
static int
space_index(KeyLockSpace space)
{
	int			i = (int) space - (int) KEYLOCK_STREAM;

	Assert(i >= 0 && i < KEYLOCK_NSPACES);
	return i;
}

/* Forget every space's state: the transaction's locks are gone. */
static void
keylock_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			memset(space_state, 0, sizeof(space_state));
			break;
		default:
			break;
	}
}

/*
 * A space lock taken in a subtransaction is released when it rolls back and
 * belongs to the parent when it commits; follow it.
 */
static void
keylock_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	int			i;

	for (i = 0; i < KEYLOCK_NSPACES; i++)
	{
		KeyLockSpaceState *st = &space_state[i];

		if (st->escalated != NoLock && st->escalated_subid == mySubid)
		{
			if (event == SUBXACT_EVENT_ABORT_SUB)
				st->escalated = NoLock;
			else if (event == SUBXACT_EVENT_COMMIT_SUB)
				st->escalated_subid = parentSubid;
		}
		if (st->gate && st->gate_subid == mySubid)
		{
			if (event == SUBXACT_EVENT_ABORT_SUB)
				st->gate = false;
			else if (event == SUBXACT_EVENT_COMMIT_SUB)
				st->gate_subid = parentSubid;
		}
	}
}

/*
 * Hash the parts of a key.  Each part is hashed with its length, so that
 * ("ab", "c") and ("a", "bc") differ.
 */
uint64
keylock_hash(int nparts, const char *const *parts)
{
	uint64		hash = 0;
	int			i;

	for (i = 0; i < nparts; i++)
	{
		uint32		len = (uint32) strlen(parts[i]);

		hash = hash_bytes_extended((const unsigned char *) &len, sizeof(len), hash);
		hash = hash_bytes_extended((const unsigned char *) parts[i], len, hash);
	}
	return hash;
}

/*
 * Take the exclusive lock on a key hash in the given space, waiting for a
 * holder to finish; it is released at the end of the transaction.
 */
void
keylock_acquire(KeyLockSpace space, uint64 hash)
{
	(void) keylock_acquire_mode(space, hash, ExclusiveLock, false);
}

/*
 * Take a lock of the given mode (ShareLock or ExclusiveLock) on a key hash:
 * writers that may run side by side take the shared mode, those that must
 * run alone the exclusive one.  Past the escalation threshold, the space's
 * lock in that mode stands for the key's.  With nowait, return false
 * instead of waiting when a conflicting lock is held.
 */
bool
keylock_acquire_mode(KeyLockSpace space, uint64 hash, LOCKMODE mode,
					 bool nowait)
{
	KeyLockSpaceState *st = &space_state[space_index(space)];
	LOCKTAG		spacetag;
	LOCKTAG		keytag;
	LockAcquireResult res;

	Assert(mode == ShareLock || mode == ExclusiveLock);

	if (!callbacks_registered)
	{
		RegisterXactCallback(keylock_xact_callback, NULL);
		RegisterSubXactCallback(keylock_subxact_callback, NULL);
		callbacks_registered = true;
	}

	/* ShareLock < ExclusiveLock: an exclusive space lock covers both. */
	if (st->escalated >= mode)
		return true;

	SET_LOCKTAG_ADVISORY(spacetag, MyDatabaseId, 0, 0,
						 (uint16) (space + KEYLOCK_SPACE_TAG_OFFSET));

	/*
	 * Past the threshold, escalate; but only the holder of the space's gate
	 * waits for the space lock.  Two transactions that both waited for it
	 * would each wait for the other's intention, a deadlock; one that finds
	 * the gate taken goes on with key locks (its keys are disjoint from the
	 * escalating transaction's, or it would be waiting for it anyway) and
	 * tries the gate again every threshold keys, up to
	 * KEYLOCK_GATELESS_FACTOR times the threshold: then it waits for the
	 * space lock all the same, as before there was a gate (a deadlock with
	 * the gate holder, which PostgreSQL breaks), so that the lock table
	 * stays bounded.
	 */
	if (st->nkeys >= keylock_escalation_threshold &&
		st->nkeys >= st->next_attempt)
	{
		if (!st->gate)
		{
			LOCKTAG		gatetag;

			SET_LOCKTAG_ADVISORY(gatetag, MyDatabaseId, 0, 1,
								 (uint16) (space + KEYLOCK_SPACE_TAG_OFFSET));
			if (LockAcquire(&gatetag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
			{
				st->gate = true;
				st->gate_subid = GetCurrentSubTransactionId();
			}
		}
		if (st->gate ||
			st->nkeys >= KEYLOCK_GATELESS_FACTOR * keylock_escalation_threshold)
		{
			if (LockAcquire(&spacetag, mode, false, nowait) == LOCKACQUIRE_NOT_AVAIL)
				return false;
			st->escalated = mode;
			st->escalated_subid = GetCurrentSubTransactionId();
			return true;
		}
		st->next_attempt = st->nkeys + Max(keylock_escalation_threshold, 1);
	}

	if (LockAcquire(&spacetag, mode == ShareLock ? RowShareLock : RowExclusiveLock,
					false, nowait) == LOCKACQUIRE_NOT_AVAIL)
		return false;

	SET_LOCKTAG_ADVISORY(keytag, MyDatabaseId,
						 (uint32) (hash >> 32), (uint32) hash,
						 (uint16) space);
	res = LockAcquire(&keytag, mode, false, nowait);
	if (res == LOCKACQUIRE_NOT_AVAIL)
		return false;
	if (res == LOCKACQUIRE_OK)
		st->nkeys++;
	return true;
}

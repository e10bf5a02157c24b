/*-------------------------------------------------------------------------
 *
 * keylock.c
 *	  Transaction-level exclusive locks on keys.
 *
 * Writers that must serialize on a key that may not have a row yet (the next
 * version of a stream, the creation of a session) lock a 64-bit hash of the
 * key.  The lock lives in the lock manager like an advisory lock, so it is
 * held to the end of the transaction, released by a rollback to a savepoint
 * taken before it, shown in pg_locks, and part of deadlock detection.  Two
 * keys whose hashes collide only serialize more than they need to.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/lock.h"

#include "keylock.h"

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
 * Take a lock of the given mode on a key hash (writers that may run side by
 * side take a shared mode, those that must run alone an exclusive one).
 * With nowait, return false instead of waiting when it is held.
 */
bool
keylock_acquire_mode(KeyLockSpace space, uint64 hash, LOCKMODE mode,
					 bool nowait)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) (hash >> 32), (uint32) hash,
						 (uint16) space);
	return LockAcquire(&tag, mode, false, nowait) != LOCKACQUIRE_NOT_AVAIL;
}

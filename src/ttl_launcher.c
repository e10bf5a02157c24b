/*-------------------------------------------------------------------------
 *
 * ttl_launcher.c
 *	  The TTL launcher: a background worker connected to no database that
 *	  decides, for every database, when its next expiry pass runs, and
 *	  starts one dynamic worker (ttl_worker.c) per database and pass.
 *
 *	  A database the launcher has not seen before (at its start, or created
 *	  since) is probed once by a worker that only checks whether agentstore
 *	  is installed.  Databases without it are not visited again until a
 *	  CREATE EXTENSION agentstore there commits (ttl_shmem.c tells us), so
 *	  they cost nothing.  Databases with it get a pass every
 *	  agentstore.ttl_interval, counted from the end of the previous one;
 *	  at most agentstore.ttl_max_workers passes run at once, the most
 *	  overdue first.  Templates and databases that refuse connections are
 *	  skipped: a connected worker would make CREATE DATABASE fail.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "agentstore.h"
#include "ttl.h"

/* What the launcher knows about a database. */
typedef enum TtlDbState
{
	TTL_DB_UNKNOWN,				/* not probed yet */
	TTL_DB_PRESENT,				/* agentstore is installed */
	TTL_DB_ABSENT				/* agentstore is not installed */
} TtlDbState;

typedef struct TtlDb
{
	Oid			dboid;			/* hash key */
	char		name[NAMEDATALEN];
	TtlDbState	state;
	bool		exists;			/* seen by the last scan of pg_database */
	bool		notified;		/* CREATE EXTENSION committed while a worker ran */
	TimestampTz last_end;		/* when its last worker ended */
	TimestampTz next_run;		/* when its next worker is due */
	int			slotno;			/* -1 when no worker runs for it */
	BackgroundWorkerHandle *handle;
} TtlDb;

/* How long to wait before retrying when no background worker slot is free. */
#define TTL_RETRY_MS 5000

static HTAB *ttl_dbs = NULL;
static MemoryContext launcher_cxt = NULL;
static TimestampTz next_scan = 0;
static TimestampTz last_no_slot_warning = 0;

/* Slots left by a previous launcher whose workers are still running. */
static bool adopted[TTL_MAX_WORKERS];

/* agentstore.ttl_interval in microseconds */
static int64
interval_us(void)
{
	return (int64) agentstore_ttl_interval * USECS_PER_SEC;
}

/*
 * At exit (error, SIGTERM, shutdown), take our workers down with us: a new
 * launcher cannot see their handles, and must not start a second worker in
 * the same database.  Their open transactions roll back.
 */
static void
launcher_exit(int code, Datum arg)
{
	HASH_SEQ_STATUS seq;
	TtlDb	   *db;

	if (ttl_dbs != NULL)
	{
		hash_seq_init(&seq, ttl_dbs);
		while ((db = hash_seq_search(&seq)) != NULL)
			if (db->handle != NULL)
				TerminateBackgroundWorker(db->handle);
	}
	SpinLockAcquire(&ttl_shared->mutex);
	if (ttl_shared->launcher_latch == MyLatch)
		ttl_shared->launcher_latch = NULL;
	SpinLockRelease(&ttl_shared->mutex);
}

/*
 * Take over the slots of a previous launcher: slots whose worker never
 * attached are freed (such a worker finds its slot gone and exits); slots
 * whose worker still runs count against ttl_max_workers until it exits.
 */
static void
adopt_slots(void)
{
	int			i;

	SpinLockAcquire(&ttl_shared->mutex);
	ttl_shared->launcher_latch = MyLatch;
	for (i = 0; i < TTL_MAX_WORKERS; i++)
	{
		TtlSlot    *slot = &ttl_shared->slots[i];

		adopted[i] = (slot->state == TTL_SLOT_RUNNING);
		if (!adopted[i])
			slot->state = TTL_SLOT_FREE;
	}
	SpinLockRelease(&ttl_shared->mutex);
}

/* Free the adopted slots whose worker has exited; return how many remain. */
static int
poll_adopted_slots(void)
{
	int			i;
	int			busy = 0;

	SpinLockAcquire(&ttl_shared->mutex);
	for (i = 0; i < TTL_MAX_WORKERS; i++)
	{
		if (!adopted[i])
			continue;
		if (ttl_shared->slots[i].state == TTL_SLOT_RUNNING)
			busy++;
		else
		{
			ttl_shared->slots[i].state = TTL_SLOT_FREE;
			adopted[i] = false;
		}
	}
	SpinLockRelease(&ttl_shared->mutex);
	return busy;
}

/* Whether an adopted worker still runs in database dboid. */
static bool
adopted_worker_in(Oid dboid)
{
	int			i;
	bool		found = false;

	SpinLockAcquire(&ttl_shared->mutex);
	for (i = 0; i < TTL_MAX_WORKERS; i++)
		if (adopted[i] && ttl_shared->slots[i].dboid == dboid)
			found = true;
	SpinLockRelease(&ttl_shared->mutex);
	return found;
}

/*
 * Read pg_database: new databases are probed at once; databases that are
 * gone are forgotten (once their worker, if any, has exited).
 */
static void
scan_databases(void)
{
	HASH_SEQ_STATUS seq;
	TtlDb	   *db;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	TimestampTz now = GetCurrentTimestamp();
	MemoryContext cxt = CurrentMemoryContext;

	hash_seq_init(&seq, ttl_dbs);
	while ((db = hash_seq_search(&seq)) != NULL)
		db->exists = false;

	StartTransactionCommand();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database dat = (Form_pg_database) GETSTRUCT(tup);
		bool		found;

		if (dat->datistemplate || !dat->datallowconn)
			continue;
#if PG_VERSION_NUM >= 150004
		/* left behind by an interrupted DROP DATABASE */
		if (database_is_invalid_form(dat))
			continue;
#endif
		db = hash_search(ttl_dbs, &dat->oid, HASH_ENTER, &found);
		if (!found)
		{
			db->state = TTL_DB_UNKNOWN;
			db->notified = false;
			db->last_end = now;
			db->next_run = now;
			db->slotno = -1;
			db->handle = NULL;
		}
		db->exists = true;
		strlcpy(db->name, NameStr(dat->datname), NAMEDATALEN);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);	/* the commit left us in TopMemoryContext */

	hash_seq_init(&seq, ttl_dbs);
	while ((db = hash_seq_search(&seq)) != NULL)
		if (!db->exists && db->slotno < 0)
			hash_search(ttl_dbs, &db->dboid, HASH_REMOVE, NULL);

	next_scan = TimestampTzPlusMilliseconds(now, agentstore_ttl_interval * INT64CONST(1000));
}

/*
 * Apply what other backends told us: databases that installed agentstore
 * (their first pass is one interval away) and whether to read pg_database.
 */
static void
take_notifications(void)
{
	Oid			notify[TTL_MAX_NOTIFY];
	int			nnotify;
	bool		overflow;
	bool		rescan;
	int			i;
	TimestampTz now = GetCurrentTimestamp();

	SpinLockAcquire(&ttl_shared->mutex);
	nnotify = ttl_shared->nnotify;
	memcpy(notify, ttl_shared->notify, nnotify * sizeof(Oid));
	overflow = ttl_shared->notify_overflow;
	rescan = ttl_shared->rescan;
	ttl_shared->nnotify = 0;
	ttl_shared->notify_overflow = false;
	ttl_shared->rescan = false;
	SpinLockRelease(&ttl_shared->mutex);

	if (rescan || overflow || nnotify > 0 || now >= next_scan)
		scan_databases();

	for (i = 0; i < nnotify; i++)
	{
		TtlDb	   *db = hash_search(ttl_dbs, &notify[i], HASH_FIND, NULL);

		if (db == NULL)
			continue;			/* a template, or dropped since */
		if (db->slotno >= 0)
			db->notified = true;	/* the running worker may have missed it */
		else if (db->state != TTL_DB_PRESENT)
			db->next_run = TimestampTzPlusMilliseconds(now, interval_us() / 1000);
		db->state = TTL_DB_PRESENT;
	}

	/* lost notifications: probe again every database thought to lack it */
	if (overflow)
	{
		HASH_SEQ_STATUS seq;
		TtlDb	   *db;

		hash_seq_init(&seq, ttl_dbs);
		while ((db = hash_seq_search(&seq)) != NULL)
			if (db->state == TTL_DB_ABSENT)
			{
				db->state = TTL_DB_UNKNOWN;
				db->next_run = now;
			}
	}
}

/* A new ttl_interval applies to the passes already scheduled. */
static void
reschedule(void)
{
	HASH_SEQ_STATUS seq;
	TtlDb	   *db;

	hash_seq_init(&seq, ttl_dbs);
	while ((db = hash_seq_search(&seq)) != NULL)
		if (db->state == TTL_DB_PRESENT && db->slotno < 0)
			db->next_run = TimestampTzPlusMilliseconds(db->last_end, interval_us() / 1000);
	next_scan = 0;
}

/*
 * Collect the workers that have exited, and schedule their database's next
 * pass one interval from now.  A pass that failed or was interrupted is
 * simply retried then.
 */
static void
reap_workers(void)
{
	HASH_SEQ_STATUS seq;
	TtlDb	   *db;
	TimestampTz now = GetCurrentTimestamp();

	hash_seq_init(&seq, ttl_dbs);
	while ((db = hash_seq_search(&seq)) != NULL)
	{
		pid_t		pid;
		BgwHandleStatus status;
		TtlResult	result;

		if (db->slotno < 0)
			continue;
		status = GetBackgroundWorkerPid(db->handle, &pid);
		if (status == BGWH_POSTMASTER_DIED)
			proc_exit(1);
		if (status != BGWH_STOPPED)
			continue;

		SpinLockAcquire(&ttl_shared->mutex);
		result = ttl_shared->slots[db->slotno].state == TTL_SLOT_EXITED ?
			ttl_shared->slots[db->slotno].result : TTL_RESULT_NONE;
		ttl_shared->slots[db->slotno].state = TTL_SLOT_FREE;
		SpinLockRelease(&ttl_shared->mutex);

		switch (result)
		{
			case TTL_RESULT_ABSENT:
				db->state = db->notified ? TTL_DB_PRESENT : TTL_DB_ABSENT;
				break;
			case TTL_RESULT_PRESENT:
			case TTL_RESULT_DONE:
			case TTL_RESULT_FAILED:
				db->state = TTL_DB_PRESENT;
				break;
			case TTL_RESULT_NONE:
				ereport(DEBUG1,
						(errmsg_internal("agentstore ttl worker for database \"%s\" exited without a result",
										 db->name)));
				break;
		}
		pfree(db->handle);
		db->handle = NULL;
		db->slotno = -1;
		db->notified = false;
		db->last_end = now;
		db->next_run = TimestampTzPlusMilliseconds(now, interval_us() / 1000);
	}
}

/* Register a worker for db; false (and a retry later) when none is free. */
static bool
launch_worker(TtlDb *db, TimestampTz now)
{
	BackgroundWorker worker;
	TtlWorkerArgs args;
	int			slotno = -1;
	int			i;

	SpinLockAcquire(&ttl_shared->mutex);
	for (i = 0; i < TTL_MAX_WORKERS; i++)
		if (ttl_shared->slots[i].state == TTL_SLOT_FREE && !adopted[i])
		{
			slotno = i;
			ttl_shared->slots[i].state = TTL_SLOT_LAUNCHED;
			ttl_shared->slots[i].dboid = db->dboid;
			ttl_shared->slots[i].generation = ttl_shared->next_generation++;
			ttl_shared->slots[i].pid = 0;
			ttl_shared->slots[i].result = TTL_RESULT_NONE;
			args.generation = ttl_shared->slots[i].generation;
			break;
		}
	SpinLockRelease(&ttl_shared->mutex);
	if (slotno < 0)
		return false;

	args.dboid = db->dboid;
	args.probe_only = (db->state == TTL_DB_UNKNOWN);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "agentstore");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "agentstore_ttl_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "agentstore ttl worker for database \"%s\"",
			 db->name);
	snprintf(worker.bgw_type, BGW_MAXLEN, "agentstore ttl worker");
	worker.bgw_main_arg = Int32GetDatum(slotno);
	memcpy(worker.bgw_extra, &args, sizeof(args));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &db->handle))
	{
		SpinLockAcquire(&ttl_shared->mutex);
		ttl_shared->slots[slotno].state = TTL_SLOT_FREE;
		SpinLockRelease(&ttl_shared->mutex);
		db->handle = NULL;
		db->next_run = TimestampTzPlusMilliseconds(now, TTL_RETRY_MS);
		if (TimestampDifferenceExceeds(last_no_slot_warning, now, 60 * 1000))
		{
			ereport(WARNING,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("could not start an agentstore ttl worker for database \"%s\"",
							db->name),
					 errdetail("All background worker slots are in use."),
					 errhint("Increase max_worker_processes.")));
			last_no_slot_warning = now;
		}
		return false;
	}
	db->slotno = slotno;
	return true;
}

/* qsort comparator: most overdue first */
static int
db_due_cmp(const void *a, const void *b)
{
	TimestampTz ta = (*(TtlDb *const *) a)->next_run;
	TimestampTz tb = (*(TtlDb *const *) b)->next_run;

	return ta < tb ? -1 : ta > tb ? 1 : 0;
}

/*
 * Start the workers that are due, most overdue first, up to
 * ttl_max_workers at once.  Returns how long to sleep, in milliseconds,
 * until the next one is due or the next scan of pg_database.
 */
static long
start_due_workers(void)
{
	HASH_SEQ_STATUS seq;
	TtlDb	   *db;
	TtlDb	  **due;
	int			ndue = 0;
	int			running = poll_adopted_slots();
	int			i;
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz wake = next_scan;

	due = palloc(sizeof(TtlDb *) * hash_get_num_entries(ttl_dbs));
	hash_seq_init(&seq, ttl_dbs);
	while ((db = hash_seq_search(&seq)) != NULL)
	{
		if (db->slotno >= 0)
			running++;
		else if (db->exists && db->state != TTL_DB_ABSENT)
		{
			if (db->next_run <= now && !adopted_worker_in(db->dboid))
				due[ndue++] = db;
			else if (db->next_run < wake)
				wake = db->next_run;
		}
	}
	qsort(due, ndue, sizeof(TtlDb *), db_due_cmp);
	for (i = 0; i < ndue && running < agentstore_ttl_max_workers; i++)
	{
		if (launch_worker(due[i], now))
			running++;
		else if (due[i]->next_run < wake)
			wake = due[i]->next_run;
	}
	/* the rest wait for a worker to exit, which sets our latch */
	pfree(due);

	if (wake <= now)
		return 10;
	return (long) Min((wake - now) / 1000 + 1, 3600 * 1000L);
}

/*
 * Entry point of the launcher.  SIGTERM ends it (die()); it is restarted
 * by the postmaster 5 s after an error exit, and after a crash.
 */
void
agentstore_ttl_launcher_main(Datum main_arg)
{
	HASHCTL		ctl;
	int			last_interval;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* no database: only shared catalogs, so that no DROP DATABASE waits on us */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	launcher_cxt = AllocSetContextCreate(TopMemoryContext,
										 "agentstore ttl launcher",
										 ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(launcher_cxt);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(TtlDb);
	ctl.hcxt = launcher_cxt;
	ttl_dbs = hash_create("agentstore ttl databases", 64, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	adopt_slots();
	before_shmem_exit(launcher_exit, (Datum) 0);
	ereport(LOG, (errmsg("agentstore ttl launcher started")));

	last_interval = agentstore_ttl_interval;
	for (;;)
	{
		long		timeout;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (agentstore_ttl_interval != last_interval)
			{
				last_interval = agentstore_ttl_interval;
				reschedule();
			}
		}

		take_notifications();
		reap_workers();
		timeout = start_due_workers();

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*-------------------------------------------------------------------------
 *
 * ttl_worker.c
 *	  A per-database TTL worker: started by the launcher for one database,
 *	  it checks that agentstore is installed there, runs one expiry pass
 *	  (ttl_pass.c) in transactions of at most agentstore.ttl_batch_size
 *	  rows, records it in agentstore.ttl_runs and exits.
 *
 *	  SIGTERM ends it at once (die()): the open transaction rolls back, so
 *	  no session is left half expired, and the next pass marks the
 *	  unfinished run as interrupted.  An error ends the pass: it is logged,
 *	  recorded in ttl_runs, and the launcher runs the next pass one
 *	  interval later.  Settings made with ALTER DATABASE / ALTER ROLE SET
 *	  (ttl_batch_size, soft_delete, ttl_purge_after, lock_timeout...)
 *	  apply, since every pass is a new connection.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/resource.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "agentstore.h"
#include "ttl.h"

static int	my_slot = -1;
static char *my_dbname = "?";

/* On exit, however it happens, hand the slot back to the launcher. */
static void
worker_detach(int code, Datum arg)
{
	TtlSlot    *slot = &ttl_shared->slots[my_slot];

	SpinLockAcquire(&ttl_shared->mutex);
	if (slot->state == TTL_SLOT_RUNNING && slot->pid == MyProcPid)
	{
		slot->state = TTL_SLOT_EXITED;
		slot->pid = 0;
	}
	SpinLockRelease(&ttl_shared->mutex);
}

/* Start a transaction of the pass, with SPI and a snapshot. */
static void
begin_batch(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
}

/* Commit a transaction of the pass. */
static void
commit_batch(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
}

/*
 * After an error: log it, roll back, and record it in the pass's ttl_runs
 * row (inserting one if the error struck before the row was committed).
 * Returns false when the extension is gone (then there is nowhere to
 * record it).
 */
static bool
record_failure(TtlPass *pass, MemoryContext cxt)
{
	ErrorData  *edata;
	char	   *message;

	HOLD_INTERRUPTS();
	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	EmitErrorReport();
	AbortOutOfAnyTransaction();
	FlushErrorState();
	RESUME_INTERRUPTS();

	message = edata->message ? edata->message : "unknown error";
	ereport(LOG,
			(errmsg("agentstore ttl pass in database \"%s\" failed; the next pass starts in %d s",
					my_dbname, agentstore_ttl_interval)));

	begin_batch();
	if (!OidIsValid(ttl_lock_extension()))
	{
		commit_batch();
		return false;
	}
	if (!pass->run_committed)
		pass->run_id = 0;		/* its insert was rolled back */
	memset(&pass->pending, 0, sizeof(pass->pending));
	ttl_pass_save(pass, true, message);
	commit_batch();
	return true;
}

/*
 * Run one pass, one transaction per batch, until every step is done.
 * Returns what to tell the launcher.
 */
static TtlResult
run_pass(void)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "agentstore ttl pass",
											  ALLOCSET_DEFAULT_SIZES);
	TtlPass		pass;
	volatile TtlResult result = TTL_RESULT_DONE;
	volatile bool first = true;

	ttl_pass_init(&pass, "worker");
	PG_TRY();
	{
		bool		done = false;

		while (!done)
		{
			CHECK_FOR_INTERRUPTS();
			if (ConfigReloadPending)
			{
				ConfigReloadPending = false;
				ProcessConfigFile(PGC_SIGHUP);
			}

			begin_batch();
			if (!OidIsValid(ttl_lock_extension()))
			{
				/* DROP EXTENSION committed while we ran: nothing left to do */
				commit_batch();
				ereport(LOG,
						(errmsg("agentstore was dropped in database \"%s\"; its ttl pass stops",
								my_dbname)));
				result = TTL_RESULT_ABSENT;
				break;
			}
			if (first)
			{
				/*
				 * A transaction of its own records the start of the pass, so
				 * that a pass that never finishes is visible, and says so.
				 */
				ttl_runs_mark_interrupted();
				ttl_pass_start(&pass);
				ttl_pass_save(&pass, false, NULL);
			}
			else
			{
				pgstat_report_activity(STATE_RUNNING, ttl_pass_step_name(&pass));
				done = ttl_pass_batch(&pass);
				ttl_pass_save(&pass, done, NULL);
			}
			commit_batch();
			ttl_pass_committed(&pass);
			if (!first && !done && agentstore_ttl_batch_delay > 0)
			{
				/* pg_stat_activity: still active, wait_event "Extension" */
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 agentstore_ttl_batch_delay, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
			}
			first = false;
		}
	}
	PG_CATCH();
	{
		result = record_failure(&pass, cxt) ? TTL_RESULT_FAILED : TTL_RESULT_ABSENT;
	}
	PG_END_TRY();

	pgstat_report_activity(STATE_IDLE, NULL);
	return result;
}

/*
 * Check, in a transaction of its own, whether agentstore is installed in
 * this database.
 */
static bool
extension_installed(void)
{
	bool		installed;

	begin_batch();
	my_dbname = MemoryContextStrdup(TopMemoryContext, get_database_name(MyDatabaseId));
	installed = OidIsValid(ttl_lock_extension());
	commit_batch();
	return installed;
}

/*
 * Entry point of a per-database worker.  bgw_main_arg is its slot in
 * shared memory, bgw_extra its TtlWorkerArgs.
 */
void
agentstore_ttl_worker_main(Datum main_arg)
{
	TtlWorkerArgs args;
	TtlResult	result;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	my_slot = DatumGetInt32(main_arg);
	if (!ttl_slot_attach(my_slot, args.generation))
		proc_exit(0);			/* the launcher gave this slot up */
	on_shmem_exit(worker_detach, (Datum) 0);

	/* never on a standby or during a binary upgrade */
	if (RecoveryInProgress() || IsBinaryUpgrade)
		proc_exit(0);

	/*
	 * Expiry can wait; foreground work should not.  With a nice value the
	 * kernel gives this process the CPU that foreground backends leave.
	 */
	if (agentstore_ttl_worker_nice > 0 &&
		setpriority(PRIO_PROCESS, 0, agentstore_ttl_worker_nice) != 0)
		ereport(LOG,
				(errmsg("could not set the nice value of the agentstore ttl worker to %d: %m",
						agentstore_ttl_worker_nice)));

	BackgroundWorkerInitializeConnectionByOid(args.dboid, InvalidOid, 0);

	if (!extension_installed())
		result = TTL_RESULT_ABSENT;
	else if (args.probe_only)
		result = TTL_RESULT_PRESENT;
	else
		result = run_pass();

	ttl_slot_set_result(my_slot, result);
	proc_exit(0);
}

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
 *	  The worker connects as the bootstrap superuser, but every transaction
 *	  of a pass runs as agentstore.ttl_role (by default the owner of the
 *	  extension) in a security-restricted operation: see become_pass_role().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/resource.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "agentstore.h"
#include "ttl.h"

static int	my_slot = -1;
static char *my_dbname = "?";

/* Who the worker was before a transaction of the pass switched to its role. */
static bool identity_switched = false;
static Oid	saved_userid;
static int	saved_sec_context;
static int	saved_nestlevel;

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

/* The owner of extension extoid. */
static Oid
extension_owner(Oid extoid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "could not find extension %u", extoid);
	owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/*
 * The role a pass runs as in this database: agentstore.ttl_role, or the
 * owner of the extension when it is empty.  A role that does not exist is
 * an error, or (owner_if_missing, to record that error) the owner.
 */
static Oid
pass_role(Oid extoid, bool owner_if_missing)
{
	const char *name = agentstore_ttl_role;
	Oid			roleid;

	if (name == NULL || name[0] == '\0')
		return extension_owner(extoid);
	roleid = get_role_oid(name, true);
	if (OidIsValid(roleid))
		return roleid;
	if (owner_if_missing)
		return extension_owner(extoid);
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("role \"%.*s\" named by agentstore.ttl_role does not exist",
					pg_mbcliplen(name, strlen(name), NAMEDATALEN - 1), name),
			 errhint("Create the role, or set agentstore.ttl_role to an existing role or to '' for the owner of the extension.")));
	return InvalidOid;			/* keep the compiler quiet */
}

/*
 * For the rest of this transaction, run as the pass's role in a
 * security-restricted operation, as autovacuum and REFRESH MATERIALIZED
 * VIEW run index expressions as the table's owner: a trigger on an
 * agentstore table runs with that role's rights (never the bootstrap
 * superuser's the worker connected as, unless the role is one), may not
 * SET ROLE, create temporary objects or leave a setting changed.
 */
static void
become_pass_role(Oid extoid, bool owner_if_missing)
{
	Oid			roleid = pass_role(extoid, owner_if_missing);

	GetUserIdAndSecContext(&saved_userid, &saved_sec_context);
	saved_nestlevel = NewGUCNestLevel();
	SetUserIdAndSecContext(roleid, saved_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	/* what is_superuser shows follows the role, until commit_batch() */
	SetConfigOption("is_superuser", superuser_arg(roleid) ? "on" : "off",
					PGC_INTERNAL, PGC_S_SESSION);
	identity_switched = true;
}

/*
 * Commit a transaction of the pass, after undoing become_pass_role() and
 * any setting changed under it.  (After an error, AbortTransaction does
 * both.)
 */
static void
commit_batch(void)
{
	if (identity_switched)
	{
		AtEOXact_GUC(false, saved_nestlevel);
		SetUserIdAndSecContext(saved_userid, saved_sec_context);
		identity_switched = false;
	}
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
	Oid			extoid;

	HOLD_INTERRUPTS();
	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	EmitErrorReport();
	AbortOutOfAnyTransaction();
	identity_switched = false;	/* the abort restored the user and settings */
	FlushErrorState();
	RESUME_INTERRUPTS();

	message = edata->message ? edata->message : "unknown error";
	ereport(LOG,
			(errmsg("agentstore ttl pass in database \"%s\" failed; the next pass starts in %d s",
					my_dbname, agentstore_ttl_interval)));

	begin_batch();
	extoid = ttl_lock_extension();
	if (!OidIsValid(extoid))
	{
		commit_batch();
		return false;
	}
	/* the error may be that ttl_role names no role: then record it as the owner */
	become_pass_role(extoid, true);
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

	ttl_pass_init(&pass, "worker", cxt);
	PG_TRY();
	{
		bool		done = false;
		Oid			extoid;

		while (!done)
		{
			CHECK_FOR_INTERRUPTS();
			if (ConfigReloadPending)
			{
				ConfigReloadPending = false;
				ProcessConfigFile(PGC_SIGHUP);
			}

			begin_batch();
			extoid = ttl_lock_extension();
			if (!OidIsValid(extoid))
			{
				/* DROP EXTENSION committed while we ran: nothing left to do */
				commit_batch();
				ereport(LOG,
						(errmsg("agentstore was dropped in database \"%s\"; its ttl pass stops",
								my_dbname)));
				result = TTL_RESULT_ABSENT;
				break;
			}
			become_pass_role(extoid, false);
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

	ttl_pass_end(&pass);
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

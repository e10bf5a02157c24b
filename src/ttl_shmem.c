/*-------------------------------------------------------------------------
 *
 * ttl_shmem.c
 *	  Wiring of the TTL worker: registration of the launcher, the shared
 *	  memory the launcher and its workers share, and the two ways other
 *	  backends talk to the launcher:
 *
 *	  - after a transaction that ran CREATE EXTENSION agentstore or CREATE
 *		DATABASE commits, the launcher is told (so a new installation is
 *		served without a restart, and a database without agentstore is
 *		never visited again after its first probe);
 *	  - DROP DATABASE, CREATE DATABASE ... TEMPLATE, ALTER DATABASE RENAME
 *		and SET TABLESPACE first terminate our worker in the database they
 *		need to themselves, instead of failing with "database is being
 *		accessed by other users" while a pass runs; only when the command
 *		is allowed to get that far (its user owns the database, and so on),
 *		so that nobody else can keep a pass from finishing.
 *
 *	  Everything here exists only when agentstore is preloaded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/tablespace.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "agentstore.h"
#include "compat.h"
#include "ttl.h"

TtlShared  *ttl_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static ProcessUtility_hook_type prev_ProcessUtility_hook = NULL;

/* What this backend's transaction will tell the launcher when it commits. */
static bool notify_registered = false;
static bool notify_installed = false;	/* CREATE EXTENSION agentstore ran */
static bool notify_rescan = false;	/* CREATE DATABASE ran */

static void ttl_shmem_request(void);
static void ttl_shmem_startup(void);
static void ttl_process_utility(PlannedStmt *pstmt, const char *queryString,
								bool readOnlyTree, ProcessUtilityContext context,
								ParamListInfo params, QueryEnvironment *queryEnv,
								DestReceiver *dest, QueryCompletion *qc);

/*
 * Called from _PG_init under shared_preload_libraries: reserve shared
 * memory, install the utility hook and register the launcher.  Nothing is
 * registered during a binary upgrade, where no expiry may run.
 */
void
agentstore_ttl_register(void)
{
	BackgroundWorker worker;

	if (IsBinaryUpgrade)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ttl_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ttl_shmem_startup;
	prev_ProcessUtility_hook = ProcessUtility_hook;
	ProcessUtility_hook = ttl_process_utility;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	/* a launcher that exits with an error is started again after 5 s */
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "agentstore");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "agentstore_ttl_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "agentstore ttl launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "agentstore ttl launcher");
	RegisterBackgroundWorker(&worker);
}

/* Reserve the shared state (PG 15 wants this in shmem_request_hook). */
static void
ttl_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(TtlShared)));
}

/* Create or attach the shared state; it is zeroed at every (re)start. */
static void
ttl_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ttl_shared = ShmemInitStruct("agentstore ttl", sizeof(TtlShared), &found);
	if (!found)
	{
		memset(ttl_shared, 0, sizeof(TtlShared));
		SpinLockInit(&ttl_shared->mutex);
		ttl_shared->next_generation = 1;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * A worker claims the slot the launcher prepared for it.  False when the
 * slot was meanwhile given up or reused: this worker is stale and must exit.
 */
bool
ttl_slot_attach(int slotno, uint64 generation)
{
	TtlSlot    *slot;
	bool		ok = false;

	if (ttl_shared == NULL || slotno < 0 || slotno >= TTL_MAX_WORKERS)
		return false;
	slot = &ttl_shared->slots[slotno];
	SpinLockAcquire(&ttl_shared->mutex);
	if (slot->state == TTL_SLOT_LAUNCHED && slot->generation == generation)
	{
		slot->state = TTL_SLOT_RUNNING;
		slot->pid = MyProcPid;
		slot->result = TTL_RESULT_NONE;
		ok = true;
	}
	SpinLockRelease(&ttl_shared->mutex);
	return ok;
}

/* Record what the worker found, for the launcher to read after it exits. */
void
ttl_slot_set_result(int slotno, TtlResult result)
{
	TtlSlot    *slot = &ttl_shared->slots[slotno];

	SpinLockAcquire(&ttl_shared->mutex);
	if (slot->state == TTL_SLOT_RUNNING && slot->pid == MyProcPid)
		slot->result = result;
	SpinLockRelease(&ttl_shared->mutex);
}

/* Wake the launcher, if one runs. */
void
ttl_wake_launcher(void)
{
	Latch	   *latch;

	if (ttl_shared == NULL)
		return;
	SpinLockAcquire(&ttl_shared->mutex);
	latch = ttl_shared->launcher_latch;
	SpinLockRelease(&ttl_shared->mutex);
	/* a stale pointer still points into the PGPROC array: harmless */
	if (latch)
		SetLatch(latch);
}

/*
 * At commit, pass what this transaction did on to the launcher; at abort,
 * forget it.  A probe that ran before the commit could not have seen the
 * new extension, so the launcher takes this message as the truth.
 */
static void
ttl_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && (notify_installed || notify_rescan))
	{
		SpinLockAcquire(&ttl_shared->mutex);
		if (notify_rescan)
			ttl_shared->rescan = true;
		if (notify_installed)
		{
			if (ttl_shared->nnotify < TTL_MAX_NOTIFY)
				ttl_shared->notify[ttl_shared->nnotify++] = MyDatabaseId;
			else
				ttl_shared->notify_overflow = true;
		}
		SpinLockRelease(&ttl_shared->mutex);
		ttl_wake_launcher();
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		notify_installed = notify_rescan = false;
}

/* Arrange for the launcher to be told at commit. */
static void
ttl_notify_at_commit(bool installed, bool rescan)
{
	if (!notify_registered)
	{
		RegisterXactCallback(ttl_xact_callback, NULL);
		notify_registered = true;
	}
	notify_installed |= installed;
	notify_rescan |= rescan;
}

/*
 * Terminate our worker connected to database dboid, if any, so that a
 * command that needs the database to itself does not wait for a pass.  The
 * pass's open transaction is rolled back; the launcher runs the next one
 * at the next interval.
 */
static void
ttl_stop_worker_in(Oid dboid)
{
	int			i;

	if (!OidIsValid(dboid) || ttl_shared == NULL)
		return;
	for (i = 0; i < TTL_MAX_WORKERS; i++)
	{
		TtlSlot    *slot = &ttl_shared->slots[i];
		pid_t		pid = 0;

		SpinLockAcquire(&ttl_shared->mutex);
		if (slot->state == TTL_SLOT_RUNNING && slot->dboid == dboid)
			pid = slot->pid;
		SpinLockRelease(&ttl_shared->mutex);
		if (pid != 0)
		{
			ereport(DEBUG1,
					(errmsg_internal("terminating agentstore ttl worker %d in database %u",
									 (int) pid, dboid)));
			(void) kill(pid, SIGTERM);
		}
	}
}

/*
 * The database named dbname, when the current user may run a command that
 * needs it to itself: it exists, it is not the current database, and the
 * user owns it (or is a superuser).  These are the checks dropdb(),
 * RenameDatabase() and movedb() make before they look for other sessions,
 * and that createdb() makes of a template that is not marked as one (the
 * launcher never works in templates).  InvalidOid otherwise: a role that
 * may not run the command must not be able to interrupt the pass there by
 * failing it over and over.
 */
static Oid
database_to_take(const char *dbname)
{
	Oid			dboid;

	if (dbname == NULL)
		return InvalidOid;
	dboid = get_database_oid(dbname, true);
	if (!OidIsValid(dboid) || dboid == MyDatabaseId ||
		!compat_database_ownercheck(dboid, GetUserId()))
		return InvalidOid;
	return dboid;
}

/* Whether the current user may create objects in tablespace name (NULL: the default). */
static bool
tablespace_usable(const char *name)
{
	Oid			spcoid;

	if (name == NULL)
		return true;
	spcoid = get_tablespace_oid(name, true);
	return OidIsValid(spcoid) &&
		compat_tablespace_aclcheck(spcoid, GetUserId(), ACL_CREATE) == ACLCHECK_OK;
}

/*
 * Whether the current user has CREATEDB (or is a superuser), as
 * have_createdb_privilege() checks, which not every PostgreSQL 15 minor
 * release exports.
 */
static bool
may_create_databases(void)
{
	HeapTuple	tup;
	bool		result = false;

	if (superuser())
		return true;
	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(GetUserId()));
	if (HeapTupleIsValid(tup))
	{
		result = ((Form_pg_authid) GETSTRUCT(tup))->rolcreatedb;
		ReleaseSysCache(tup);
	}
	return result;
}

/* Whether no database is called name (the new name of CREATE or RENAME). */
static bool
database_name_free(const char *name)
{
	return name != NULL && !OidIsValid(get_database_oid(name, true));
}

/* The value of option "name" of a CREATE/ALTER DATABASE statement, or NULL. */
static const char *
database_option(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, name) == 0)
			return def->arg ? defGetString(def) : NULL;
	}
	return NULL;
}

/*
 * Utility hook: let database-wide commands through our worker, and note
 * CREATE EXTENSION agentstore and CREATE DATABASE for the launcher.
 */
static void
ttl_process_utility(PlannedStmt *pstmt, const char *queryString,
					bool readOnlyTree, ProcessUtilityContext context,
					ParamListInfo params, QueryEnvironment *queryEnv,
					DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	bool		installed = false;
	bool		rescan = false;
	bool		toplevel = context == PROCESS_UTILITY_TOPLEVEL &&
		!IsTransactionBlock() && !IsSubTransaction();

	/*
	 * Our worker is stopped only for a command that is going to get as far
	 * as looking for other sessions in the database: run where PostgreSQL
	 * allows it (CREATE/DROP DATABASE and SET TABLESPACE refuse a
	 * transaction block) by a user who passes the command's own checks.
	 */
	switch (nodeTag(parsetree))
	{
		case T_DropdbStmt:
			if (toplevel)
				ttl_stop_worker_in(database_to_take(((DropdbStmt *) parsetree)->dbname));
			break;
		case T_CreatedbStmt:
			{
				CreatedbStmt *stmt = (CreatedbStmt *) parsetree;

				if (toplevel && may_create_databases() &&
					database_name_free(stmt->dbname) &&
					tablespace_usable(database_option(stmt->options, "tablespace")))
					ttl_stop_worker_in(database_to_take(database_option(stmt->options,
																		"template")));
				rescan = true;
				break;
			}
		case T_AlterDatabaseStmt:
			{
				AlterDatabaseStmt *stmt = (AlterDatabaseStmt *) parsetree;
				const char *spc = database_option(stmt->options, "tablespace");

				if (spc != NULL && toplevel && tablespace_usable(spc))
					ttl_stop_worker_in(database_to_take(stmt->dbname));
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->renameType == OBJECT_DATABASE && may_create_databases() &&
					database_name_free(stmt->newname))
					ttl_stop_worker_in(database_to_take(stmt->subname));
				break;
			}
		case T_CreateExtensionStmt:
			installed = strcmp(((CreateExtensionStmt *) parsetree)->extname,
							   "agentstore") == 0;
			break;
		default:
			break;
	}

	if (prev_ProcessUtility_hook)
		prev_ProcessUtility_hook(pstmt, queryString, readOnlyTree, context,
								 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);

	/* only once the command has succeeded */
	if ((installed || rescan) && ttl_shared != NULL)
		ttl_notify_at_commit(installed, rescan);
}

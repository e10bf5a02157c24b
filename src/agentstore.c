/*-------------------------------------------------------------------------
 *
 * agentstore.c
 *	  Module entry point: _PG_init wires up GUCs and, when the library is
 *	  preloaded, the background worker.  Nothing else happens here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "agentstore.h"

PG_MODULE_MAGIC;

bool		agentstore_loaded_at_startup = false;

void		_PG_init(void);

/*
 * Define the GUCs; remember whether we are being preloaded, because only
 * then can the TTL background worker be registered.
 */
void
_PG_init(void)
{
	agentstore_loaded_at_startup = process_shared_preload_libraries_in_progress;
	agentstore_define_gucs();
	if (agentstore_loaded_at_startup)
		agentstore_ttl_register();
}

PG_FUNCTION_INFO_V1(agentstore_preloaded);
PG_FUNCTION_INFO_V1(agentstore_warn_if_not_preloaded);

/*
 * agentstore.preloaded(): whether this server loaded agentstore through
 * shared_preload_libraries.  Backends inherit the flag from the postmaster.
 */
Datum
agentstore_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(agentstore_loaded_at_startup);
}

/*
 * Called once by CREATE EXTENSION: without preloading the SQL functions work
 * but nothing expires rows in the background, which must not go unnoticed.
 */
Datum
agentstore_warn_if_not_preloaded(PG_FUNCTION_ARGS)
{
	if (!agentstore_loaded_at_startup)
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("agentstore is not in shared_preload_libraries, so its TTL background worker is not running"),
				 errdetail("Expired sessions, state and checkpoints are not removed until agentstore.expire_now() is called."),
				 errhint("Add agentstore to shared_preload_libraries and restart the server.")));
	PG_RETURN_VOID();
}

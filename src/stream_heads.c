/*-------------------------------------------------------------------------
 *
 * stream_heads.c
 *	  agentstore.stream_heads_trigger(): keep the high-water mark of every
 *	  stream whose events are deleted, so that a version once issued is
 *	  never issued again.
 *
 * The current version of a stream is the greatest version in
 * agentstore.events (stream_versions.c).  When its newest events are
 * deleted -- the TTL worker purging expired events, delete_session, a
 * DELETE of the user's -- that greatest version goes down, and the next
 * append would reuse versions that consumers have already seen.  So every
 * DELETE on agentstore.events records, per stream it touched, the greatest
 * version it removed in agentstore.stream_heads (stream, version), keeping
 * the greater of the old and the new mark; the version probe takes the
 * greater of the table's greatest version and this mark.
 *
 * The trigger is an AFTER DELETE FOR EACH STATEMENT trigger with a
 * transition table: one INSERT ... ON CONFLICT per DELETE statement,
 * whatever the number of rows.  It writes stream_heads as the table's
 * owner (as PostgreSQL's foreign-key triggers write as the referenced
 * table's owner), so that a role allowed to delete events needs no grant
 * on this bookkeeping table.  TRUNCATE is not covered: it forgets the
 * streams and their versions start again at 1.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "streams.h"

PG_FUNCTION_INFO_V1(agentstore_stream_heads_trigger);

/*
 * AFTER DELETE FOR EACH STATEMENT, REFERENCING OLD TABLE: raise the
 * high-water mark of every stream the statement deleted events of.
 */
Datum
agentstore_stream_heads_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	Relation	heads;
	Oid			heads_relid;
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	char	   *nspname;
	StringInfoData sql;
	int			rc;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("agentstore.stream_heads_trigger() must be called as a trigger")));
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ||
		trigdata->tg_trigger->tgoldtable == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("agentstore.stream_heads_trigger() must be fired AFTER DELETE FOR EACH STATEMENT with an OLD TABLE")));

	rel = trigdata->tg_relation;
	heads_relid = get_relname_relid("stream_heads", RelationGetNamespace(rel));
	if (!OidIsValid(heads_relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no table \"stream_heads\" beside it",
						RelationGetRelationName(rel)),
				 errhint("Reinstall the agentstore extension.")));
	heads = table_open(heads_relid, RowExclusiveLock);
	owner = heads->rd_rel->relowner;
	table_close(heads, NoLock);

	nspname = get_namespace_name(RelationGetNamespace(rel));
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO %s.stream_heads AS h (stream, version)"
					 " SELECT o.stream, pg_catalog.max(o.version) FROM %s o"
					 " WHERE o.stream IS NOT NULL AND o.version IS NOT NULL"
					 " GROUP BY o.stream"
					 " ON CONFLICT (stream) DO UPDATE SET version = EXCLUDED.version"
					 " WHERE h.version OPERATOR(pg_catalog.<) EXCLUDED.version",
					 quote_identifier(nspname),
					 quote_identifier(trigdata->tg_trigger->tgoldtable));

	/* Write as the owner of stream_heads (see the file header). */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "SPI_register_trigger_data failed");
	rc = SPI_execute(sql.data, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "recording the high-water marks of agentstore streams failed: %s",
			 SPI_result_code_string(rc));
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	pfree(sql.data);
	return PointerGetDatum(NULL);
}

/*-------------------------------------------------------------------------
 *
 * stream_table.c
 *	  What append_events needs to know about agentstore.events: the columns
 *	  it sets, whether the bulk path may be used, and the table's column
 *	  defaults and CHECK constraints as planned expressions.
 *
 * Reading a default or a constraint means parsing its stored node string
 * and planning it; done per call that is a large part of a small append.
 * So it is done once per relcache generation of the table (see
 * stream_table_info), kept in a context of its own, and each call copies
 * the planned trees into its executor state.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "stream_append.h"
#include "streams.h"

static EventsTable events_table;
static Oid	events_table_relid = InvalidOid;
static uint64 events_table_generation = 0;
static MemoryContext events_table_context = NULL;

/* Attribute number of a column that must exist with the given type. */
static AttrNumber
required_column(Relation rel, const char *name, Oid typid)
{
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), name);

	if (attnum == InvalidAttrNumber ||
		TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid != typid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no column \"%s\" of type %s",
						RelationGetRelationName(rel), name, format_type_be(typid))));
	return attnum;
}

/* Whether a trigger is agentstore.version_trigger(). */
static bool
is_version_trigger(Oid funcid)
{
	char	   *name = get_func_name(funcid);
	bool		result;

	result = name != NULL && strcmp(name, "version_trigger") == 0 &&
		get_func_namespace(funcid) == get_namespace_oid("agentstore", false);
	if (name)
		pfree(name);
	return result;
}

/*
 * Whether the bulk path writes what a plain INSERT would, as far as the
 * table's definition goes: no BEFORE ROW INSERT trigger but the version
 * trigger (whose work the bulk path does), no stored generated column, a
 * plain (not partitioned) table.
 */
static bool
bulk_path_possible(Relation rel)
{
	TriggerDesc *trigdesc = rel->trigdesc;

	if (rel->rd_rel->relkind != RELKIND_RELATION)
		return false;
	if (rel->rd_att->constr && rel->rd_att->constr->has_generated_stored)
		return false;
	if (trigdesc != NULL && trigdesc->trig_insert_before_row)
	{
		for (int i = 0; i < trigdesc->numtriggers; i++)
		{
			Trigger    *trigger = &trigdesc->triggers[i];

			if (TRIGGER_FOR_ROW(trigger->tgtype) &&
				TRIGGER_FOR_BEFORE(trigger->tgtype) &&
				TRIGGER_FOR_INSERT(trigger->tgtype) &&
				trigger->tgenabled != TRIGGER_DISABLED &&
				!is_version_trigger(trigger->tgfoid))
				return false;
		}
	}
	return true;
}

/* Work out the EventsTable of 'rel' in events_table_context. */
static void
describe_table(Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	TupleConstr *constr = tupdesc->constr;
	EventsTable *t = &events_table;
	MemoryContext oldcontext;

	if (events_table_context == NULL)
		events_table_context = AllocSetContextCreate(CacheMemoryContext,
													 "agentstore events table",
													 ALLOCSET_SMALL_SIZES);
	MemoryContextReset(events_table_context);
	events_table_relid = InvalidOid;
	oldcontext = MemoryContextSwitchTo(events_table_context);

	memset(t, 0, sizeof(EventsTable));
	t->cols.stream = required_column(rel, "stream", TEXTOID);
	t->cols.version = required_column(rel, "version", INT8OID);
	t->cols.position = required_column(rel, "position", INT8OID);
	t->cols.event_id = required_column(rel, "event_id", TEXTOID);
	t->cols.type = required_column(rel, "type", TEXTOID);
	t->cols.data = required_column(rel, "data", JSONBOID);
	t->cols.metadata = required_column(rel, "metadata", JSONBOID);
	t->cols.expires_at = required_column(rel, "expires_at", TIMESTAMPTZOID);
	t->bulk_ok = bulk_path_possible(rel);

	t->natts = tupdesc->natts;
	t->defaults = palloc0(sizeof(Expr *) * t->natts);
	t->volatile_default = palloc0(sizeof(bool) * t->natts);
	for (int i = 0; i < t->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		Expr	   *expr;

		if (att->attisdropped || att->attgenerated)
			continue;
		expr = (Expr *) build_column_default(rel, i + 1);
		if (expr == NULL)
			continue;
		t->defaults[i] = expression_planner(expr);
		t->volatile_default[i] = contain_volatile_functions((Node *) t->defaults[i]);
	}

	t->ncheck = constr ? constr->num_check : 0;
	t->checks = palloc0(sizeof(Expr *) * Max(t->ncheck, 1));
	for (int i = 0; i < t->ncheck; i++)
		t->checks[i] = expression_planner(stringToNode(constr->check[i].ccbin));

	MemoryContextSwitchTo(oldcontext);
	events_table_relid = RelationGetRelid(rel);
}

/* The OID of agentstore.events; an error if there is no such table. */
Oid
events_table_oid(void)
{
	Oid			nsp = get_namespace_oid("agentstore", false);
	Oid			relid = get_relname_relid("events", nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"agentstore.events\" does not exist")));
	return relid;
}

/*
 * Open agentstore.events for an append (RowExclusiveLock, held to the end
 * of the transaction) and return its description.  The description stays
 * valid until the relation is invalidated: callers copy what they keep.
 */
Relation
events_table_open(const EventsTable **table)
{
	Oid			relid = events_table_oid();
	Relation	rel;
	const StreamTableInfo *info;

	rel = table_open(relid, RowExclusiveLock);
	info = stream_table_info(rel);
	if (events_table_relid != relid || events_table_generation != info->generation)
	{
		describe_table(rel);
		events_table_generation = info->generation;
	}
	*table = &events_table;
	return rel;
}

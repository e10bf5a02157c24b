/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  The PostgreSQL APIs that differ between the supported major versions
 *	  (15, 17, 18), behind one interface, so that no other file needs an #if.
 *
 * - Permission checks: up to 15 a range-table entry carries requiredPerms
 *   and the column sets; from 16 they live in an RTEPermissionInfo of their
 *   own, checked by ExecCheckPermissions.
 * - ExecInitRangeTable takes the permission infos from 16 and the unpruned
 *   relids from 18.
 * - ExecInsertIndexTuples gained onlySummarizing in 16, and table_tuple_update
 *   reports which indexes need new entries with a TU_UpdateIndexes.
 * - A function that never returns is marked before its declaration from 18.
 * - 18 gave index_beginscan an instrumentation argument and
 *   RelationGetPrimaryKeyIndex a deferrable_ok one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGENTSTORE_COMPAT_H
#define AGENTSTORE_COMPAT_H

#include "c.h"

/*
 * A function that never returns: PostgreSQL 18 marks it with a prefix
 * (pg_noreturn), earlier versions with a suffix (pg_attribute_noreturn()).
 */
#if PG_VERSION_NUM >= 180000
#define COMPAT_NORETURN pg_noreturn
#define COMPAT_NORETURN_SUFFIX
#else
#define COMPAT_NORETURN
#define COMPAT_NORETURN_SUFFIX pg_attribute_noreturn()
#endif

#include "access/genam.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "nodes/bitmapset.h"
#include "nodes/parsenodes.h"
#include "utils/rel.h"
#include "utils/relcache.h"

/* One relation as the executor sees it for a permission check. */
typedef struct CompatRelPerms
{
	List	   *rtable;			/* one RangeTblEntry */
	List	   *perminfos;		/* its RTEPermissionInfo (16+), else NIL */
} CompatRelPerms;

/*
 * The range table of one relation, asking for the given privileges on the
 * given columns (attribute numbers offset by FirstLowInvalidHeapAttributeNumber,
 * as in a range-table entry), checked as the current user.
 */
static inline CompatRelPerms
compat_relation_perms(Oid relid, char relkind, LOCKMODE lockmode, AclMode required,
					  Bitmapset *selected, Bitmapset *inserted, Bitmapset *updated)
{
	CompatRelPerms result;
	RangeTblEntry *rte = makeNode(RangeTblEntry);

	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = relkind;
	rte->rellockmode = lockmode;
#if PG_VERSION_NUM >= 160000
	{
		RTEPermissionInfo *perm = makeNode(RTEPermissionInfo);

		perm->relid = relid;
		perm->inh = false;
		perm->requiredPerms = required;
		perm->checkAsUser = InvalidOid;
		perm->selectedCols = selected;
		perm->insertedCols = inserted;
		perm->updatedCols = updated;
		rte->perminfoindex = 1;
		result.perminfos = list_make1(perm);
	}
#else
	rte->requiredPerms = required;
	rte->checkAsUser = InvalidOid;
	rte->selectedCols = selected;
	rte->insertedCols = inserted;
	rte->updatedCols = updated;
	result.perminfos = NIL;
#endif
	result.rtable = list_make1(rte);
	return result;
}

/* The executor's permission check of the relation; raises 42501. */
static inline void
compat_check_perms(const CompatRelPerms *perms)
{
#if PG_VERSION_NUM >= 160000
	ExecCheckPermissions(perms->rtable, perms->perminfos, true);
#else
	ExecCheckRTPerms(perms->rtable, true);
#endif
}

/* Give an executor state the relation's range table. */
static inline void
compat_init_range_table(EState *estate, const CompatRelPerms *perms)
{
#if PG_VERSION_NUM >= 180000
	ExecInitRangeTable(estate, perms->rtable, perms->perminfos,
					   bms_make_singleton(1));
#elif PG_VERSION_NUM >= 160000
	ExecInitRangeTable(estate, perms->rtable, perms->perminfos);
#else
	ExecInitRangeTable(estate, perms->rtable);
#endif
}

/*
 * Index entries for a new or updated tuple (only in the summarizing indexes
 * when an update says so, 16+).
 */
static inline List *
compat_insert_index_tuples(ResultRelInfo *rri, TupleTableSlot *slot,
						   EState *estate, bool update, bool noDupErr,
						   bool *specConflict, List *arbiterIndexes,
						   bool onlySummarizing)
{
#if PG_VERSION_NUM >= 160000
	return ExecInsertIndexTuples(rri, slot, estate, update, noDupErr,
								 specConflict, arbiterIndexes, onlySummarizing);
#else
	return ExecInsertIndexTuples(rri, slot, estate, update, noDupErr,
								 specConflict, arbiterIndexes);
#endif
}

/* An index scan without instrumentation. */
static inline IndexScanDesc
compat_index_beginscan(Relation heap, Relation index, Snapshot snapshot,
					   int nkeys, int norderbys)
{
#if PG_VERSION_NUM >= 180000
	return index_beginscan(heap, index, snapshot, NULL, nkeys, norderbys);
#else
	return index_beginscan(heap, index, snapshot, nkeys, norderbys);
#endif
}

/* The OID of a relation's primary key index (not a deferrable one). */
static inline Oid
compat_primary_key_index(Relation rel)
{
#if PG_VERSION_NUM >= 180000
	return RelationGetPrimaryKeyIndex(rel, false);
#else
	return RelationGetPrimaryKeyIndex(rel);
#endif
}

/* What table_tuple_update says of the indexes. */
#if PG_VERSION_NUM >= 160000
typedef TU_UpdateIndexes CompatUpdateIndexes;
#define COMPAT_UPDATE_NEEDS_INDEXES(u) ((u) != TU_None)
#define COMPAT_UPDATE_ONLY_SUMMARIZING(u) ((u) == TU_Summarizing)
#else
typedef bool CompatUpdateIndexes;
#define COMPAT_UPDATE_NEEDS_INDEXES(u) (u)
#define COMPAT_UPDATE_ONLY_SUMMARIZING(u) false
#endif

#endif							/* AGENTSTORE_COMPAT_H */

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
 * - CheckValidResultRel gained the MERGE actions in 17 and the ON CONFLICT
 *   action in 18; EvalPlanQualInit the result relations in 16; 18 renamed
 *   ResultRelInfo's ri_ConstraintExprs to ri_CheckConstraintExprs.
 * - The JSON parser's semantic actions return a JsonParseErrorType from 16;
 *   json_ereport_error became json_errsave_error in 16; the lexer
 *   constructors take a caller's JsonLexContext (or NULL) from 17.
 * - pg_b64_encode and pg_b64_decode take bytes as uint8 from 18.
 * - 16 replaced the per-catalog pg_*_ownercheck and pg_*_aclcheck functions
 *   by object_ownercheck and object_aclcheck.
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
#include "catalog/pg_database.h"
#include "catalog/pg_tablespace.h"
#include "common/base64.h"
#include "common/jsonapi.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "utils/acl.h"
#include "utils/jsonfuncs.h"
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

/*
 * The executor's check that a relation can take the rows of an operation
 * (no MERGE actions, no ON CONFLICT clause).
 */
static inline void
compat_check_valid_result_rel(ResultRelInfo *rri, CmdType operation)
{
#if PG_VERSION_NUM >= 180000
	CheckValidResultRel(rri, operation, ONCONFLICT_NONE, NIL);
#elif PG_VERSION_NUM >= 170000
	CheckValidResultRel(rri, operation, NIL);
#else
	CheckValidResultRel(rri, operation);
#endif
}

/*
 * An EvalPlanQual state; resultRelations (range-table indexes of the result
 * relations, 16+) is ignored before 16.
 */
static inline void
compat_eval_plan_qual_init(EPQState *epqstate, EState *parentestate,
						   Plan *subplan, List *auxrowmarks, int epqParam,
						   List *resultRelations)
{
#if PG_VERSION_NUM >= 160000
	EvalPlanQualInit(epqstate, parentestate, subplan, auxrowmarks, epqParam,
					 resultRelations);
#else
	EvalPlanQualInit(epqstate, parentestate, subplan, auxrowmarks, epqParam);
#endif
}

/* The compiled CHECK constraints of a result relation (an lvalue). */
#if PG_VERSION_NUM >= 180000
#define COMPAT_RI_CHECK_CONSTRAINT_EXPRS(rri) ((rri)->ri_CheckConstraintExprs)
#else
#define COMPAT_RI_CHECK_CONSTRAINT_EXPRS(rri) ((rri)->ri_ConstraintExprs)
#endif

/*
 * What a JSON semantic action returns: a JsonParseErrorType from 16 (always
 * JSON_SUCCESS here: errors are raised with ereport), nothing before.
 * Declare an action as "static CompatJsonSemResult f(...)" and leave it with
 * "return COMPAT_JSON_SEM_OK;".
 */
#if PG_VERSION_NUM >= 160000
typedef JsonParseErrorType CompatJsonSemResult;
#define COMPAT_JSON_SEM_OK JSON_SUCCESS
#else
typedef void CompatJsonSemResult;
#define COMPAT_JSON_SEM_OK
#endif

/* A palloc'd JSON lexer over len bytes of text in the given encoding. */
static inline JsonLexContext *
compat_json_lex_cstring(const char *json, int len, int encoding,
						bool need_escapes)
{
#if PG_VERSION_NUM >= 170000
	return makeJsonLexContextCstringLen(NULL, json, len, encoding, need_escapes);
#else
	return makeJsonLexContextCstringLen(unconstify(char *, json), len, encoding,
										need_escapes);
#endif
}

/* A palloc'd JSON lexer over a text datum (in the database encoding). */
static inline JsonLexContext *
compat_json_lex_text(text *json, bool need_escapes)
{
#if PG_VERSION_NUM >= 170000
	return makeJsonLexContext(NULL, json, need_escapes);
#else
	return makeJsonLexContext(json, need_escapes);
#endif
}

/* Raise the error of a failed pg_parse_json (22P02, as json_in does). */
static inline void
compat_json_ereport_error(JsonParseErrorType error, JsonLexContext *lex)
{
#if PG_VERSION_NUM >= 160000
	json_errsave_error(error, lex, NULL);
#else
	json_ereport_error(error, lex);
#endif
}

/* Base64 of len bytes into dst (at most dstlen); -1 on overflow. */
static inline int
compat_b64_encode(const void *src, int len, char *dst, int dstlen)
{
#if PG_VERSION_NUM >= 180000
	return pg_b64_encode((const uint8 *) src, len, dst, dstlen);
#else
	return pg_b64_encode((const char *) src, len, dst, dstlen);
#endif
}

/* The bytes of len characters of base64 into dst (at most dstlen); -1 if invalid. */
static inline int
compat_b64_decode(const char *src, int len, void *dst, int dstlen)
{
#if PG_VERSION_NUM >= 180000
	return pg_b64_decode(src, len, (uint8 *) dst, dstlen);
#else
	return pg_b64_decode(src, len, (char *) dst, dstlen);
#endif
}

/* Whether roleid owns database dboid (or is a superuser). */
static inline bool
compat_database_ownercheck(Oid dboid, Oid roleid)
{
#if PG_VERSION_NUM >= 160000
	return object_ownercheck(DatabaseRelationId, dboid, roleid);
#else
	return pg_database_ownercheck(dboid, roleid);
#endif
}

/* roleid's privileges mode on tablespace spcoid. */
static inline AclResult
compat_tablespace_aclcheck(Oid spcoid, Oid roleid, AclMode mode)
{
#if PG_VERSION_NUM >= 160000
	return object_aclcheck(TableSpaceRelationId, spcoid, roleid, mode);
#else
	return pg_tablespace_aclcheck(spcoid, roleid, mode);
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

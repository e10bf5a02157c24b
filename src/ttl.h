/*-------------------------------------------------------------------------
 *
 * ttl.h
 *	  TTL expiry: the shared memory the launcher and its per-database
 *	  workers use to talk to each other, and the expiry pass they run.
 *
 * Design (see docs/ttl.md): one launcher, connected to no database,
 * reads pg_database and starts one short-lived dynamic worker per database
 * and pass.  A worker connects, checks that agentstore is installed, runs
 * one pass in bounded transactions and exits, so that between passes no
 * process is connected to any database.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AGENTSTORE_TTL_H
#define AGENTSTORE_TTL_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/palloc.h"
#include "storage/latch.h"
#include "storage/spin.h"

/* Most per-database workers that can run at once (agentstore.ttl_max_workers). */
#define TTL_MAX_WORKERS 64
/* Databases whose CREATE EXTENSION the launcher has not yet seen. */
#define TTL_MAX_NOTIFY 64
/* Passes kept in agentstore.ttl_runs per database. */
#define TTL_HISTORY_SIZE 1000

/* What a worker tells the launcher before it exits. */
typedef enum TtlResult
{
	TTL_RESULT_NONE = 0,		/* nothing: it died, was terminated or never ran */
	TTL_RESULT_ABSENT,			/* agentstore is not installed in the database */
	TTL_RESULT_PRESENT,			/* probe only: agentstore is installed */
	TTL_RESULT_DONE,			/* a pass finished */
	TTL_RESULT_FAILED			/* a pass ended in an error, recorded in ttl_runs */
} TtlResult;

typedef enum TtlSlotState
{
	TTL_SLOT_FREE = 0,
	TTL_SLOT_LAUNCHED,			/* registered by the launcher, not yet attached */
	TTL_SLOT_RUNNING,			/* the worker attached; pid is valid */
	TTL_SLOT_EXITED				/* the worker detached; result is valid */
} TtlSlotState;

typedef struct TtlSlot
{
	TtlSlotState state;
	Oid			dboid;
	uint64		generation;		/* tells a stale worker from the current one */
	pid_t		pid;
	TtlResult	result;
} TtlSlot;

typedef struct TtlShared
{
	slock_t		mutex;			/* protects everything below */
	Latch	   *launcher_latch; /* NULL while no launcher runs */
	uint64		next_generation;
	bool		rescan;			/* a database was created: read pg_database */
	bool		notify_overflow;	/* notify[] overflowed: re-probe everything */
	int			nnotify;
	Oid			notify[TTL_MAX_NOTIFY]; /* databases that ran CREATE EXTENSION */
	TtlSlot		slots[TTL_MAX_WORKERS];
} TtlShared;

/* Passed to a worker in bgw_extra. */
typedef struct TtlWorkerArgs
{
	uint64		generation;
	Oid			dboid;
	bool		probe_only;		/* only check whether agentstore is installed */
} TtlWorkerArgs;

extern TtlShared *ttl_shared;

/* ttl_shmem.c */
extern bool ttl_slot_attach(int slotno, uint64 generation);
extern void ttl_slot_set_result(int slotno, TtlResult result);
extern void ttl_wake_launcher(void);

/* ttl_launcher.c */
extern PGDLLEXPORT void agentstore_ttl_launcher_main(Datum main_arg);

/* ttl_worker.c */
extern PGDLLEXPORT void agentstore_ttl_worker_main(Datum main_arg);

/* ttl_pass.c: one expiry pass, worked off in batches */
typedef enum TtlTable
{
	TTL_SESSIONS,
	TTL_SESSION_SUMMARIES,
	TTL_EVENTS,
	TTL_APP_STATES,
	TTL_USER_STATES,
	TTL_CHECKPOINT_THREADS,
	TTL_CHECKPOINTS,
	TTL_CHECKPOINT_BLOBS,
	TTL_CHECKPOINT_WRITES,
	TTL_NTABLES
} TtlTable;

typedef struct TtlCounts
{
	int64		expired[TTL_NTABLES];
	int64		purged[TTL_NTABLES];
	int64		trimmed;
	int32		transactions;
} TtlCounts;

typedef struct TtlPass
{
	const char *origin;			/* 'worker' or 'expire_now' */
	TimestampTz started_at;
	int64		run_id;			/* ttl_runs.id, 0 until inserted */
	bool		run_committed;	/* the ttl_runs row is committed */
	bool		trim_exists;	/* agentstore.trim_session_events exists */
	int			step;			/* next step to run */
	TimestampTz cursor;			/* where the step's next lookup starts */
	int			ncursor_keys;	/* group steps: the last group's key after */
	Datum		cursor_keys[2]; /* its time, 0 keys before the first group */
	TtlCounts	committed;		/* counts of committed transactions */
	TtlCounts	pending;		/* counts of the current transaction */

	/*
	 * Memory: the pass's context owns the others and is freed with its
	 * parent (on error too); cursor_cxt holds cursor_keys and is reset when
	 * the cursor moves on; batch_cxt is reset at every batch, group_cxt at
	 * every session or thread.  So a pass uses memory in proportion to a
	 * batch, never to its backlog.
	 */
	MemoryContext cxt;
	MemoryContext cursor_cxt;
	MemoryContext batch_cxt;
	MemoryContext group_cxt;
} TtlPass;

extern const char *const ttl_table_names[TTL_NTABLES];

extern Oid	ttl_lock_extension(void);
extern void ttl_pass_init(TtlPass *pass, const char *origin, MemoryContext parent);
extern void ttl_pass_end(TtlPass *pass);
extern void ttl_pass_start(TtlPass *pass);
extern bool ttl_pass_batch(TtlPass *pass);
extern const char *ttl_pass_step_name(TtlPass *pass);
extern void ttl_pass_save(TtlPass *pass, bool finished, const char *error);
extern void ttl_pass_committed(TtlPass *pass);
extern void ttl_runs_mark_interrupted(void);

#endif							/* AGENTSTORE_TTL_H */

/*
 * compat.h -- every PG_VERSION_NUM branch of pg_health lives here.
 *
 * Supported: PostgreSQL 15, 16, 17, 18, 19.  Each shim names the upstream
 * change it bridges, so that dropping a version is a matter of deleting
 * branches.
 */
#ifndef PG_HEALTH_COMPAT_H
#define PG_HEALTH_COMPAT_H

#include "postgres.h"

#include "postmaster/postmaster.h"
#include "storage/proc.h"
#include "utils/backend_status.h"
#include "utils/guc.h"

#if PG_VERSION_NUM < 150000
#error "pg_health requires PostgreSQL 15 or later"
#endif

/*
 * Declarations that PG19's header cleanups no longer bring along; a C file
 * that uses them includes this header.
 * PG19 (commit 20abdc9e82, "Avoid including commands/dbcommands.h in so many
 * places"): get_database_name() moved to utils/lsyscache.h and
 * get_database_oid() to catalog/pg_database.h; before, both are in
 * commands/dbcommands.h.
 * The next three headers exist in every supported version, so they are
 * included everywhere: PG19 (commit fba4233c83, "Reduce header inclusions
 * via execnodes.h"): funcapi.h no longer brings utils/tuplestore.h
 * (tuplestore_putvalues()); PG19 (commit 3bf31dd2, "Do a tiny bit of header
 * file maintenance"): nor access/htup_details.h (heap_form_tuple()); PG19
 * (commit 868825aaeb, "Don't include wait_event.h in pgstat.h"):
 * pgstat_report_wait_start() and _end() are in utils/wait_event.h alone.
 */
#if PG_VERSION_NUM >= 190000
#include "catalog/pg_database.h"
#include "utils/lsyscache.h"
#else
#include "commands/dbcommands.h"
#endif
#include "access/htup_details.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"

/*
 * PG16 (commit 6e2775e4d4): reserved_connections and the role
 * pg_use_reserved_connections were added, and ReservedBackends was renamed
 * SuperuserReservedConnections.
 */
#if PG_VERSION_NUM >= 160000
#define PH_HAVE_RESERVED_CONNECTIONS 1
#define PH_SUPERUSER_RESERVED()		SuperuserReservedConnections
#define PH_RESERVED_CONNECTIONS()	ReservedConnections
#else
#define PH_HAVE_RESERVED_CONNECTIONS 0
#define PH_SUPERUSER_RESERVED()		ReservedBackends
#define PH_RESERVED_CONNECTIONS()	0
#endif

/*
 * PG16 (commit 10ea0f924a): pgstat_fetch_stat_local_beentry() became a
 * lookup by BackendId; positional access moved to
 * pgstat_get_local_beentry_by_index().
 */
#if PG_VERSION_NUM >= 160000
#define ph_local_beentry_by_index(i)	pgstat_get_local_beentry_by_index(i)
#else
#define ph_local_beentry_by_index(i)	pgstat_fetch_stat_local_beentry(i)
#endif

/*
 * Number of free PGPROCs on the regular (client backend) free list, counted
 * the way InitPostgres() checks reserved slots.
 * PG16 (commit 6e2775e4d4): HaveNFreeProcs() reports the count it saw.  On 15
 * it only answers "at least n?", walking up to n entries under
 * ProcStructLock, so we search from the previous count (hint): when nothing
 * changed that is two calls, otherwise a galloping search then a bisection.
 */
static inline int
ph_free_client_slots(int max_slots, int hint)
{
	if (max_slots <= 0)
		return 0;
#if PG_VERSION_NUM >= 160000
	{
		int			nfree = 0;

		(void) hint;
		(void) HaveNFreeProcs(max_slots, &nfree);
		return nfree;
	}
#else
	{
		int			lo,			/* known: at least lo free */
					hi,			/* known: at most hi free */
					step = 1;

		hint = Min(Max(hint, 0), max_slots);
		if (hint == 0 || HaveNFreeProcs(hint))
		{
			lo = hint;
			for (;;)
			{
				if (lo + step > max_slots)
				{
					hi = max_slots;
					break;
				}
				if (!HaveNFreeProcs(lo + step))
				{
					hi = lo + step - 1;
					break;
				}
				lo += step;
				step *= 2;
			}
		}
		else
		{
			hi = hint - 1;
			for (;;)
			{
				int			probe = hi - step + 1;

				if (probe <= 0)
				{
					lo = 0;
					break;
				}
				if (HaveNFreeProcs(probe))
				{
					lo = probe;
					break;
				}
				hi = probe - 1;
				step *= 2;
			}
		}
		while (lo < hi)
		{
			int			mid = lo + (hi - lo + 1) / 2;

			if (HaveNFreeProcs(mid))
				lo = mid;
			else
				hi = mid - 1;
		}
		return lo;
	}
#endif
}

/*
 * Which processes count against a role's or a database's CONNECTION LIMIT
 * (CountUserBackends, CountDBConnections)?  The minor releases of February
 * 2025 (15.11, 16.7, 17.3; 18 from the start) count regular backends only:
 * a walsender no longer counts against its role, nor an autovacuum worker
 * or a walsender against its database.  Before, every process but
 * background workers counted.  A minor release changes no headers, so this
 * asks the running server.
 */
static inline bool
ph_limits_count_backends_only(void)
{
	static int	v = -1;

	if (v < 0)
	{
		const char *s = GetConfigOption("server_version_num", false, false);

		v = s ? atoi(s) : PG_VERSION_NUM;
	}
	return v >= 170003 || (v >= 160007 && v < 170000) || (v >= 150011 && v < 160000);
}

/*
 * Is roleid the owner of database dboid?  16 folded the per-kind owner
 * checks into object_ownercheck().
 */
#if PG_VERSION_NUM >= 160000
#define ph_database_ownercheck(dboid, roleid) \
	object_ownercheck(DatabaseRelationId, (dboid), (roleid))
#else
#define ph_database_ownercheck(dboid, roleid) pg_database_ownercheck((dboid), (roleid))
#endif

/*
 * Does roleid have pg_use_reserved_connections, which 16 added (commit
 * 6e2775e4d4)?
 */
#if PG_VERSION_NUM >= 160000
#define ph_uses_reserved_connections(roleid) \
	has_privs_of_role((roleid), ROLE_PG_USE_RESERVED_CONNECTIONS)
#else
#define ph_uses_reserved_connections(roleid) ((void) (roleid), false)
#endif

/*
 * A WaitEventSet, freed by the caller.  17 tracks them with a resource owner
 * (NULL: the caller frees it); before, they lived in a memory context.
 */
#if PG_VERSION_NUM >= 170000
#define ph_create_wait_event_set(n) CreateWaitEventSet(NULL, (n))
#else
#define ph_create_wait_event_set(n) CreateWaitEventSet(CurrentMemoryContext, (n))
#endif

/*
 * Has a replication slot been invalidated (it no longer holds WAL back)?
 * 16 records the cause; before, only the position at invalidation.
 * Called with the slot's spinlock held.
 */
#if PG_VERSION_NUM >= 160000
#define ph_slot_invalidated(s)	((s)->data.invalidated != RS_INVAL_NONE)
#else
#define ph_slot_invalidated(s)	(!XLogRecPtrIsInvalid((s)->data.invalidated_at))
#endif

/*
 * Is a replication slot in use by a process (pg_replication_slots.active)?
 * PG19 (replication/slot.h: ReplicationSlot's active_pid became active_proc):
 * a slot records the ProcNumber of that process, not its PID.  Called with
 * the slot's spinlock held.
 */
#if PG_VERSION_NUM >= 190000
#define ph_slot_active(s)	((s)->active_proc != INVALID_PROC_NUMBER)
#else
#define ph_slot_active(s)	((s)->active_pid != 0)
#endif

/*
 * PG19 (commit a36164e74, "Add WALRCV_CONNECTING state to the WAL
 * receiver"): a WAL receiver is WALRCV_CONNECTING until its upstream has
 * accepted START_REPLICATION, and only then WALRCV_STREAMING; before, it was
 * STREAMING from its start, connected or not.  The switch over WalRcvState
 * names the new state where it exists.
 */
#if PG_VERSION_NUM >= 190000
#define PH_HAVE_WALRCV_CONNECTING 1
#else
#define PH_HAVE_WALRCV_CONNECTING 0
#endif

/*
 * Log this process's memory contexts at LOG_SERVER_ONLY, as
 * pg_log_backend_memory_contexts() has a backend do (100 children a level).
 * PG17 (commit 32d3ed8165): MemoryContextStatsDetail() took a max_level.
 */
#include "utils/memutils.h"
static inline void
ph_log_memory_contexts(void)
{
#if PG_VERSION_NUM >= 170000
	MemoryContextStatsDetail(TopMemoryContext, 100, 100, false);
#else
	MemoryContextStatsDetail(TopMemoryContext, 100, false);
#endif
}

/*
 * A wait of pg_health's own, named in pg_stat_activity.wait_event
 * (wait_events.c).  PG17 (commit c9af05465, "Support custom wait events for
 * wait event type Extension"): WaitEventExtensionNew() registers a name in
 * shared memory, under WaitEventCustomLock, and returns its wait event;
 * before, every wait of an extension is PG_WAIT_EXTENSION, "Extension".
 */
#if PG_VERSION_NUM >= 170000
#define PH_HAVE_NAMED_WAIT_EVENTS 1
#define ph_register_wait_event(name)	WaitEventExtensionNew(name)
#define PH_WAIT_EVENT_NAMES_LOCK		WaitEventCustomLock
#else
#define PH_HAVE_NAMED_WAIT_EVENTS 0
#endif


/*
 * PG17 (commit b31ba5310b, "Rename ShmemVariableCache to TransamVariables"):
 * the shared XID counters and limits are reached under the new name.
 */
#if PG_VERSION_NUM >= 170000
#define PH_TRANSAM_VARIABLES	TransamVariables
#else
#define PH_TRANSAM_VARIABLES	ShmemVariableCache
#endif

#endif							/* PG_HEALTH_COMPAT_H */

/*
 * compat.h -- every PG_VERSION_NUM branch of pg_health lives here.
 *
 * Supported: PostgreSQL 15, 16, 17, 18.  Each shim names the upstream change
 * it bridges, so that dropping a version is a matter of deleting branches.
 */
#ifndef PG_HEALTH_COMPAT_H
#define PG_HEALTH_COMPAT_H

#include "postgres.h"

#include "postmaster/postmaster.h"
#include "storage/proc.h"
#include "utils/backend_status.h"

#if PG_VERSION_NUM < 150000
#error "pg_health requires PostgreSQL 15 or later"
#endif

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
 * PG16 (commit 6e2775e4d4): HaveNFreeProcs() reports the count it saw; on 15
 * it only answers "at least n?", so we bisect (monotonic, ~log2(n) calls).
 */
static inline int
ph_free_client_slots(int max_slots)
{
	if (max_slots <= 0)
		return 0;
#if PG_VERSION_NUM >= 160000
	{
		int			nfree = 0;

		(void) HaveNFreeProcs(max_slots, &nfree);
		return nfree;
	}
#else
	{
		int			lo = 0,		/* known: at least lo free */
					hi = max_slots; /* known: at most hi free */

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

#endif							/* PG_HEALTH_COMPAT_H */

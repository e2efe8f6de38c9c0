/*
 * tenants.c -- the table of asked (role, database) pairs (ground).
 *
 * "Would a new connection for this role to this database be admitted now?"
 * is asked by name, from SQL and from the HTTP endpoint, which has no
 * catalog access.  So askers write the pair into a small shared table and
 * wake the names worker (names.c); every pass it looks all the pairs up in
 * the shared catalogs and writes down what InitPostgres would consult
 * (PhTenantFacts).  Askers then read those facts, with the sessions the
 * latest sample counted for the role and the database.
 *
 * The table is bounded (PH_MAX_ASKED) and open to anyone who can reach the
 * HTTP port, so a new question takes, in this order: a free entry, one not
 * asked for PH_ASK_KEEP_MS, one about a name that does not exist; never
 * one that a prober asks about and that exists.  A flood of made-up names
 * can therefore delay a new real question (it is answered "table full"
 * until the names worker has found those names missing, within a pass) but
 * never evict one that is being asked.  Pairs not asked for
 * PH_ASK_FORGET_MS are forgotten by the names worker.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "shmem.h"
#include "tenants.h"
#include "workers.h"

#define PH_ASK_KEEP_MS		60000	/* a pair asked this recently keeps its entry */
#define PH_ASK_FORGET_MS	600000	/* a pair not asked this long is forgotten */

static PhAsked *
find_pair(const char *role, const char *database)
{
	for (int i = 0; i < PH_MAX_ASKED; i++)
	{
		PhAsked    *a = &ph_shared->asked[i];

		if (a->in_use && strcmp(a->role, role) == 0 && strcmp(a->database, database) == 0)
			return a;
	}
	return NULL;
}

/* Looked up, and a name asked for is missing. */
static bool
is_negative(const PhAsked *a)
{
	if (a->looked_up_at == 0)
		return false;
	return (a->role[0] != '\0' && !a->facts.role_exists) ||
		(a->database[0] != '\0' && !a->facts.db_exists);
}

/* The entry a new question may take (see the file's comment); NULL: none. */
static PhAsked *
choose_entry(TimestampTz now)
{
	PhAsked    *old = NULL;
	PhAsked    *negative = NULL;

	for (int i = 0; i < PH_MAX_ASKED; i++)
	{
		PhAsked    *a = &ph_shared->asked[i];
		TimestampTz at;

		if (!a->in_use)
			return a;
		at = (TimestampTz) pg_atomic_read_u64(&a->asked_at);
		if (!TimestampDifferenceExceeds(at, now, PH_ASK_KEEP_MS))
		{
			if (is_negative(a) &&
				(negative == NULL || at < (TimestampTz) pg_atomic_read_u64(&negative->asked_at)))
				negative = a;
			continue;
		}
		if (old == NULL || at < (TimestampTz) pg_atomic_read_u64(&old->asked_at))
			old = a;
	}
	return old != NULL ? old : negative;
}

/* Add the pair (the caller holds the lock exclusively); false: table full. */
static bool
add_pair(const char *role, const char *database, TimestampTz now)
{
	PhAsked    *a = find_pair(role, database);

	if (a != NULL)
		return true;			/* another asker was first */
	a = choose_entry(now);
	if (a == NULL)
		return false;
	a->in_use = true;
	strlcpy(a->role, role, NAMEDATALEN);
	strlcpy(a->database, database, NAMEDATALEN);
	a->looked_up_at = 0;
	memset(&a->facts, 0, sizeof(a->facts));
	pg_atomic_write_u64(&a->asked_at, (uint64) now);
	return true;
}

/*
 * Sessions of one role or database in the latest pool table: PostgreSQL's
 * count against its CONNECTION LIMIT.  Absent means none, unless the table
 * had no room for every role or database (then -1: not tracked).
 */
static int
sessions_of(const PhLimit *entries, int n, int untracked, Oid oid)
{
	const PhLimit *e = ph_find_limit(entries, n, oid);

	if (e != NULL)
		return e->used;
	return untracked > 0 ? -1 : 0;
}

/*
 * Answer one pair (role or database may be "": not asked): the facts the
 * names worker found, or why there are none yet.  A pair not in the table is
 * added and the names worker woken; may_wait_ms > 0 then waits that long at
 * most for its pass (SQL callers), 0 answers PH_LOOKUP_PENDING at once (the
 * HTTP worker).  Facts that have not been renewed for three of the names
 * worker's passes (and at least 10 s) are stale.
 */
void
ph_tenant_answer(const char *role, const char *database, int may_wait_ms, PhTenantAnswer *out)
{
	TimestampTz start = GetCurrentTimestamp();
	int			stale_ms = Max(3 * Max(ph_sample_interval_ms, 1000), 10000);
	bool		asked = false;

	memset(out, 0, sizeof(*out));
	for (;;)
	{
		PhAsked    *a;
		TimestampTz now = GetCurrentTimestamp();

		if (!ph_lock_for_reading())
		{
			out->lookup = PH_LOOKUP_BUSY;
			return;
		}
		out->names_pid = ph_shared->names.pid;
		a = find_pair(role, database);
		if (a != NULL)
		{
			pg_atomic_write_u64(&a->asked_at, (uint64) now);
			if (a->looked_up_at != 0)
			{
				const PhPoolTable *t = ph_shared_pool_table();

				out->looked_up_at = a->looked_up_at;
				out->facts = a->facts;
				out->role_used = sessions_of(t->roles, t->nroles, t->untracked_roles,
											 a->facts.role_oid);
				out->db_used = sessions_of(t->databases, t->ndatabases, t->untracked_databases,
										   a->facts.db_oid);
			}
		}
		LWLockRelease(ph_shared->lock);

		if (a != NULL && out->looked_up_at != 0)
		{
			out->lookup = TimestampDifferenceExceeds(out->looked_up_at, now, stale_ms) ?
				PH_LOOKUP_STALE : PH_LOOKUP_DONE;
			return;
		}
		if (a == NULL && !asked)
		{
			bool		added;

			if (!ph_lock_exclusive())
			{
				out->lookup = PH_LOOKUP_BUSY;
				return;
			}
			added = add_pair(role, database, now);
			LWLockRelease(ph_shared->lock);
			if (!added)
			{
				out->lookup = PH_LOOKUP_FULL;
				return;
			}
			asked = true;
		}
		out->lookup = PH_LOOKUP_PENDING;
		ph_wake_names_worker();
		if (may_wait_ms <= 0 ||
			TimestampDifferenceExceeds(start, GetCurrentTimestamp(), may_wait_ms))
			return;
		/* one pass: a broadcast, or a short nap should it have come between */
		ConditionVariablePrepareToSleep(&ph_shared->names_cv);
		(void) ConditionVariableTimedSleep(&ph_shared->names_cv, 100, PG_WAIT_EXTENSION);
		ConditionVariableCancelSleep();
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * For the names worker: the pairs to look up, copied into out (room for
 * PH_MAX_ASKED), after forgetting those nobody asked for PH_ASK_FORGET_MS.
 */
int
ph_tenants_to_look_up(PhAsked *out, TimestampTz now)
{
	int			n = 0;

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < PH_MAX_ASKED; i++)
	{
		PhAsked    *a = &ph_shared->asked[i];

		if (!a->in_use)
			continue;
		if (TimestampDifferenceExceeds((TimestampTz) pg_atomic_read_u64(&a->asked_at), now,
									   PH_ASK_FORGET_MS))
		{
			a->in_use = false;
			continue;
		}
		out[n].in_use = true;
		memcpy(out[n].role, a->role, NAMEDATALEN);
		memcpy(out[n].database, a->database, NAMEDATALEN);
		out[n].facts = a->facts;
		n++;
	}
	LWLockRelease(ph_shared->lock);
	return n;
}

/*
 * For the names worker: write what a pass found (looked[0..n) with their
 * facts) where the pair is still asked, then wake whoever waits for it.
 */
void
ph_tenants_looked_up(const PhAsked *looked, int n, TimestampTz at)
{
	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < n; i++)
	{
		PhAsked    *a = find_pair(looked[i].role, looked[i].database);

		if (a == NULL)
			continue;
		a->facts = looked[i].facts;
		a->looked_up_at = at;
	}
	LWLockRelease(ph_shared->lock);
	ConditionVariableBroadcast(&ph_shared->names_cv);
}

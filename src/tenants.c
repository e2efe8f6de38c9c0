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
 * asked for PH_ASK_KEEP_MS (at least three samples), one about a name that
 * does not exist; never one that a prober asks about and that exists.
 * Questions over HTTP may not take the last PH_ASKED_RESERVED free entries,
 * and a question from SQL or for a component (a trusted asker: it has a
 * login, or a superuser configured it) may also take the entry of a pair
 * only HTTP asks about.  So a flood over HTTP can delay a new HTTP question
 * (answered "table full": made-up names become evictable once the names
 * worker has found them missing, within a pass; someone who keeps asking
 * about a hundred pairs that exist holds them) but never evicts a pair
 * being asked about, nor keeps out SQL callers and components.  Pairs not
 * asked for PH_ASK_FORGET_MS are forgotten by the names worker.
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
#define PH_ASKED_RESERVED	32	/* free entries only trusted askers take */

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

/* Of two candidates, the one asked about least recently (either may be NULL). */
static PhAsked *
older(PhAsked *a, PhAsked *b)
{
	if (a == NULL || b == NULL)
		return a != NULL ? a : b;
	return pg_atomic_read_u64(&a->asked_at) <= pg_atomic_read_u64(&b->asked_at) ? a : b;
}

/*
 * The entry a new question may take (see the file's comment); NULL: none.
 * The caller holds the lock exclusively.
 */
static PhAsked *
choose_entry(TimestampTz now, bool trusted)
{
	int			keep_ms = Max(PH_ASK_KEEP_MS, 3 * Max(ph_sample_interval_ms, 1000));
	PhAsked    *free_entry = NULL;
	PhAsked    *idle = NULL;
	PhAsked    *negative = NULL;
	PhAsked    *http_only = NULL;
	int			nfree = 0;

	for (int i = 0; i < PH_MAX_ASKED; i++)
	{
		PhAsked    *a = &ph_shared->asked[i];

		if (!a->in_use)
		{
			nfree++;
			free_entry = free_entry ? free_entry : a;
		}
		else if (TimestampDifferenceExceeds((TimestampTz) pg_atomic_read_u64(&a->asked_at),
											now, keep_ms))
			idle = older(idle, a);
		else if (is_negative(a))
			negative = older(negative, a);
		else if (!a->trusted)
			http_only = older(http_only, a);
	}
	if (free_entry != NULL && (trusted || nfree > PH_ASKED_RESERVED))
		return free_entry;
	if (idle != NULL || negative != NULL)
		return idle != NULL ? idle : negative;
	return trusted ? http_only : NULL;
}

/*
 * Add the pair, or mark it trusted (the caller holds the lock exclusively);
 * false: table full.
 */
static bool
add_pair(const char *role, const char *database, bool trusted, TimestampTz now)
{
	PhAsked    *a = find_pair(role, database);

	if (a != NULL)
	{
		a->trusted |= trusted;	/* another asker was first */
		return true;
	}
	a = choose_entry(now, trusted);
	if (a == NULL)
		return false;
	a->in_use = true;
	a->trusted = trusted;
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
 * HTTP worker, the sampler).  trusted: the asker is SQL or a component (see
 * the file's comment).  Facts that have not been renewed for three of the
 * names worker's passes (and at least 10 s) are stale.
 */
void
ph_tenant_answer(const char *role, const char *database, int may_wait_ms, bool trusted,
				 PhTenantAnswer *out)
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
		if (a != NULL && trusted && !a->trusted)
			a = NULL;			/* to be marked trusted, below */
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
			added = add_pair(role, database, trusted, now);
			LWLockRelease(ph_shared->lock);
			if (!added)
			{
				out->lookup = PH_LOOKUP_FULL;
				return;
			}
			asked = true;
			continue;			/* read it again: it may have been there */
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
 * For the names worker: the pairs to look up (their names, copied into out,
 * which has room for PH_MAX_ASKED), after forgetting those nobody asked
 * for PH_ASK_FORGET_MS.
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

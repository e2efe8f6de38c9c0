/*
 * asked_pairs.c -- the table of asked (role, database) pairs (ground).
 *
 * "Would a new connection for this role to this database be admitted now?"
 * is asked by name, from SQL and from the HTTP endpoint, which has no
 * catalog access.  So askers write the pair into a small shared table and
 * wake the names worker (names.c); every pass it looks all the pairs up in
 * the shared catalogs and writes down what InitPostgres would consult
 * (PhTenantFacts).  Askers then read those facts, with the sessions the
 * latest sample counted for the role and the database.
 *
 * The table is bounded and open to anyone who reaches the HTTP port or can
 * log in, so no asker may deny it to another (docs/security.md says what
 * each can do):
 *
 * - Shares.  A pair's entry counts against the share of the asker who added
 *   it: HTTP (one anonymous asker, PH_ASKED_HTTP), components (the sampler,
 *   PH_ASKED_COMPONENTS, one per component at most) or SQL (PH_ASKED_SQL,
 *   and each role at most PH_ASKED_PER_ROLE of it).  The shares add up to
 *   the table, so an asker under its share always finds a free entry, and
 *   no asker ever takes an entry from another's share.
 * - Once an asker's share is full, a new question of its own may take, in
 *   this order: an entry of its share whose owner has not asked about it
 *   for PH_ASK_KEEP_MS (a component's pair: three samples); one of its own
 *   about a name that does not exist; for a role at its own limit, its own
 *   entry asked about longest ago.  Never one still waiting for its lookup
 *   (that would let a flood keep the names worker busy).  Otherwise the
 *   question is answered "full" under the shared lock: a flood costs its
 *   sender its own answers, not anyone else's.
 * - The charge follows the interest: an entry holds its place on its
 *   owner's asking alone.  Another asker's questions keep a pair from being
 *   forgotten but never keep it in someone else's share; once its owner
 *   lets it go, whoever still asks adds it again to their own share (a
 *   lookup later: the HTTP worker waits for it, as it does for any new
 *   pair).  So nobody can pin entries of another's share by asking about
 *   them.
 * - Times are monotonic (ph_monotonic_ms), so a step of the wall clock
 *   neither freezes the table nor stretches a wait.
 *
 * Pairs not asked for PH_ASK_FORGET_MS are forgotten by the names worker.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "ground/asked_pairs.h"
#include "ground/clock.h"
#include "ground/shmem.h"
#include "ground/worker_loop.h"
#include "ground/workers.h"

#define PH_ASK_KEEP_MS		60000	/* a pair its owner asked this recently
									 * keeps its entry */
#define PH_ASK_FORGET_MS	600000	/* a pair nobody asked this long is
									 * forgotten */

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

static bool
same_asker(const PhAsker *a, const PhAsker *b)
{
	return a->kind == b->kind && (a->kind != PH_ASKER_SQL || a->role == b->role);
}

/* An entry in the share of asker (all SQL roles share one). */
static bool
in_share(const PhAsked *a, const PhAsker *asker)
{
	return a->in_use && a->owner.kind == asker->kind;
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

static bool
asked_within(pg_atomic_uint64 *at, uint64 now, int ms)
{
	return now - pg_atomic_read_u64(at) < (uint64) ms;
}

/*
 * How long its owner's interest keeps an entry: a minute (at least three
 * samples); a component's pair is asked every sample, so three samples (a
 * pair a reconfigured or dropped component no longer names frees soon).
 */
static int
keep_ms(const PhAsked *a)
{
	int			interval = Max(ph_sample_interval_ms, 100);

	if (a->owner.kind == PH_ASKER_COMPONENT)
		return Max(3 * interval, 1000);
	return Max(PH_ASK_KEEP_MS, 3 * Max(interval, 1000));
}

/*
 * The entry a new question of asker may take (see the file's comment); NULL:
 * none, the asker's share is full.  Reads only, so the caller may hold the
 * lock in either mode; *own_limit says whether a role's own limit was the
 * bound.
 */
static PhAsked *
choose_entry(const PhAsker *asker, uint64 now, bool *own_limit)
{
	int			share = asker->kind == PH_ASKER_HTTP ? PH_ASKED_HTTP :
		asker->kind == PH_ASKER_COMPONENT ? PH_ASKED_COMPONENTS : PH_ASKED_SQL;
	PhAsked    *free_entry = NULL;
	PhAsked    *idle = NULL;
	PhAsked    *idle_own = NULL;
	PhAsked    *negative = NULL;
	PhAsked    *oldest_own = NULL;
	int			in_use = 0;
	int			own = 0;

	*own_limit = false;
	for (int i = 0; i < PH_MAX_ASKED; i++)
	{
		PhAsked    *a = &ph_shared->asked[i];
		bool		mine;

		if (!a->in_use)
		{
			free_entry = free_entry ? free_entry : a;
			continue;
		}
		if (!in_share(a, asker))
			continue;
		in_use++;
		mine = same_asker(&a->owner, asker);
		own += mine;
		if (!asked_within(&a->owner_at, now, keep_ms(a)))
		{
			/* its owner let it go: any asker of the share may take it */
			idle = older(idle, a);
			if (mine)
				idle_own = older(idle_own, a);
		}
		else if (!mine || a->looked_up_at == 0)
			continue;			/* someone else's while they ask, or pending */
		else if (is_negative(a))
			negative = older(negative, a);
		else
			oldest_own = older(oldest_own, a);
	}
	if (asker->kind == PH_ASKER_SQL && own >= PH_ASKED_PER_ROLE)
	{
		/* a role at its limit makes room among its own entries only */
		*own_limit = true;
		return idle_own ? idle_own : negative ? negative : oldest_own;
	}
	if (in_use < share && free_entry != NULL)
		return free_entry;
	return idle != NULL ? idle : negative;
}

/*
 * Add the pair for asker (the caller holds the lock exclusively); false:
 * its share is full (*own_limit: a role's own limit).
 */
static bool
add_pair(const char *role, const char *database, const PhAsker *asker, uint64 now,
		 bool *own_limit)
{
	PhAsked    *a;

	*own_limit = false;
	if (find_pair(role, database) != NULL)
		return true;			/* another asker was first */
	a = choose_entry(asker, now, own_limit);
	if (a == NULL)
		return false;
	a->in_use = true;
	a->owner = *asker;
	strlcpy(a->role, role, NAMEDATALEN);
	strlcpy(a->database, database, NAMEDATALEN);
	a->looked_up_at = 0;
	memset(&a->facts, 0, sizeof(a->facts));
	pg_atomic_write_u64(&a->asked_at, now);
	pg_atomic_write_u64(&a->owner_at, now);
	pg_atomic_write_u64(&a->others_at, 0);
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
 * Answer one pair (role or database may be "": not asked) for asker: the
 * facts the names worker found, or why there are none yet.  A pair not in
 * the table is added and the names worker woken; may_wait_ms > 0 then waits
 * that long at most for its pass (SQL callers), 0 answers PH_LOOKUP_PENDING
 * at once (the HTTP worker, the sampler).  An asker whose share is full
 * waits the same way for a pass to free an entry (a flood's own made-up
 * names become evictable once looked up), or is answered PH_LOOKUP_FULL.  Facts that have not been renewed
 * for three of the names worker's passes (and at least 10 s) are stale.
 */
void
ph_tenant_answer(const char *role, const char *database, int may_wait_ms, const PhAsker *asker,
				 PhTenantAnswer *out)
{
	uint64		start = ph_monotonic_ms();
	int			stale_ms = Max(3 * Max(ph_sample_interval_ms, 1000), 10000);

	memset(out, 0, sizeof(*out));
	for (;;)
	{
		PhAsked    *a;
		uint64		now = ph_monotonic_ms();
		bool		room = true;
		bool		own_limit = false;
		uint32		event;

		if (!ph_lock_for_reading())
		{
			out->lookup = PH_LOOKUP_BUSY;
			return;
		}
		out->names_pid = ph_shared->names.pid;
		a = find_pair(role, database);
		if (a != NULL)
		{
			pg_atomic_write_u64(&a->asked_at, now);
			pg_atomic_write_u64(same_asker(&a->owner, asker) ? &a->owner_at : &a->others_at, now);
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
		else
			/* a full share is answered here, without the exclusive lock */
			room = choose_entry(asker, now, &own_limit) != NULL;
		LWLockRelease(ph_shared->lock);

		if (a != NULL && out->looked_up_at != 0)
		{
			out->lookup = TimestampDifferenceExceeds(out->looked_up_at, GetCurrentTimestamp(), stale_ms) ?
				PH_LOOKUP_STALE : PH_LOOKUP_DONE;
			return;
		}
		if (a == NULL)
		{
			bool		added = false;

			if (room)
			{
				if (!ph_lock_exclusive())
				{
					out->lookup = PH_LOOKUP_BUSY;
					return;
				}
				added = add_pair(role, database, asker, now, &own_limit);
				LWLockRelease(ph_shared->lock);
			}
			if (added)
				continue;		/* read it again: it may have been there */
			/* a caller who may wait tries again after the next pass */
			out->lookup = PH_LOOKUP_FULL;
			out->full_own_limit = own_limit;
			out->asker_kind = asker->kind;
		}
		else
		{
			out->lookup = PH_LOOKUP_PENDING;
			ph_wake_worker(PH_WORKER_NAMES);
		}
		if (may_wait_ms <= 0 || ph_monotonic_ms() - start >= (uint64) may_wait_ms)
			return;
		/* one pass: a broadcast, or a short nap should it have come between */
		event = ph_wait_event(PH_WAIT_ASKED_PAIR);
		ConditionVariablePrepareToSleep(&ph_shared->names_cv);
		(void) ConditionVariableTimedSleep(&ph_shared->names_cv, 100, event);
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
ph_tenants_to_look_up(PhAsked *out)
{
	uint64		now = ph_monotonic_ms();
	int			n = 0;

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < PH_MAX_ASKED; i++)
	{
		PhAsked    *a = &ph_shared->asked[i];

		if (!a->in_use)
			continue;
		if (!asked_within(&a->asked_at, now, PH_ASK_FORGET_MS))
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

/* A monotonic time as the wall clock told it (0: never). */
static TimestampTz
wall_time(TimestampTz wall, uint64 now, uint64 at)
{
	if (at == 0)
		return 0;
	return wall - (TimestampTz) (now - at) * 1000;
}

/*
 * For health.asked_pairs: the pairs in the table, as rows (out has room for
 * PH_MAX_ASKED); copied under the shared lock, names resolved by the caller.
 */
int
ph_tenants_copy(PhAskedRow * out)
{
	int			n = 0;
	TimestampTz wall = GetCurrentTimestamp();
	uint64		now = ph_monotonic_ms();

	LWLockAcquire(ph_shared->lock, LW_SHARED);
	for (int i = 0; i < PH_MAX_ASKED; i++)
	{
		const PhAsked *a = &ph_shared->asked[i];
		PhAskedRow *r;

		if (!a->in_use)
			continue;
		r = &out[n++];
		memcpy(r->role, a->role, NAMEDATALEN);
		memcpy(r->database, a->database, NAMEDATALEN);
		r->owner = a->owner;
		r->asked_at = wall_time(wall, now, pg_atomic_read_u64((pg_atomic_uint64 *) &a->asked_at));
		r->shared_at = wall_time(wall, now, pg_atomic_read_u64((pg_atomic_uint64 *) &a->others_at));
		r->looked_up_at = a->looked_up_at;
		r->missing = is_negative(a);
	}
	LWLockRelease(ph_shared->lock);
	return n;
}

/*
 * shmem.c -- pg_health's shared memory (ground): its settings, layout,
 * initialisation, publish and copy-out.
 *
 * One fixed-size segment: PhShared (the latest snapshot and its verdict
 * block, the hooks' counters and refusal ring, the names map, component
 * states, custom-check results and bookkeeping), then the pool table of the
 * latest snapshot, then the history ring, then the events ring.  One LWLock
 * guards it all but the atomics.  The sampler publishes under LW_EXCLUSIVE
 * with a single memcpy per part; the names worker, the checker and
 * reporting backends write their own parts under it too; readers copy out
 * under LW_SHARED and format after releasing.  Nothing
 * that can fail or allocate runs while the lock is held.  The HTTP worker
 * reads without ever waiting for a writer (ph_reader_lock_timeout): when the
 * lock stays held, it answers from the last copy it has.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "utils/wait_event.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"

#include "ground/clock.h"
#include "ground/shmem.h"
#include "ground/wait_events.h"

PhShared   *ph_shared = NULL;

int			ph_history_size = 600;
int			ph_events_size = 200;
int			ph_max_components = 32;

void
ph_define_shmem_settings(void)
{
	DefineCustomIntVariable("pg_health.history_size",
							"Number of samples kept in health.history.",
							NULL,
							&ph_history_size,
							600, 0, 100000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.events_size",
							"Number of status transitions kept in health.events.",
							NULL,
							&ph_events_size,
							200, 0, 10000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.max_components",
							"Number of application components shared memory has room for.",
							NULL,
							&ph_max_components,
							32, 1, PH_MAX_COMPONENTS_LIMIT,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
}

/*
 * How long this process's readers poll for the lock before giving up, in
 * microseconds; -1: they wait as long as it takes (LWLockAcquire).  See
 * ph_reader_lock_timeout.
 */
static int	reader_lock_timeout_us = -1;

/* the sampler's pid as this process last read it (for readers that give up) */
static pid_t last_worker_pid = 0;

static inline PhPoolTable *
ph_pool_table(void)
{
	return (PhPoolTable *) ((char *) ph_shared + MAXALIGN(sizeof(PhShared)));
}

static inline PhHistoryEntry *
ph_history_ring(void)
{
	return (PhHistoryEntry *) ((char *) ph_pool_table() + MAXALIGN(sizeof(PhPoolTable)));
}

static inline PhEvent *
ph_events_ring(void)
{
	return (PhEvent *) ((char *) ph_history_ring() +
						MAXALIGN(mul_size(ph_shared->history_size,
										  sizeof(PhHistoryEntry))));
}

Size
ph_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(PhShared));

	size = add_size(size, MAXALIGN(sizeof(PhPoolTable)));

	size = add_size(size, MAXALIGN(mul_size(ph_history_size, sizeof(PhHistoryEntry))));
	size = add_size(size, MAXALIGN(mul_size(ph_events_size, sizeof(PhEvent))));
	return size;
}

void
ph_shmem_request(void)
{
	RequestAddinShmemSpace(ph_shmem_size());
	RequestNamedLWLockTranche("pg_health", 1);
}

/*
 * Runs in the postmaster at start and again after every crash restart, when
 * shared memory is made anew: shmem_initialized_at later than the server's
 * start time is how health.status shows that a crash restart happened.
 */
void
ph_shmem_startup(void)
{
	bool		found;
	Size		size = ph_shmem_size();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ph_shared = ShmemInitStruct("pg_health", size, &found);
	if (!found)
	{
		memset(ph_shared, 0, size);
		ph_shared->lock = &(GetNamedLWLockTranche("pg_health"))->lock;
		ph_shared->shmem_initialized_at = GetCurrentTimestamp();
		ph_shared->shmem_size = size;
		ph_shared->history_size = ph_history_size;
		ph_shared->max_components = ph_max_components;
		ph_shared->events_size = ph_events_size;
		pg_atomic_init_u64(&ph_shared->refresh_requested, 0);
		pg_atomic_init_u32(&ph_shared->http_pid, 0);
		pg_atomic_init_u32(&ph_shared->http_listening, 0);
		pg_atomic_init_u32(&ph_shared->verdict.changecount, 0);
		pg_atomic_init_u64(&ph_shared->authenticated, 0);
		pg_atomic_init_u64(&ph_shared->auth_failures, 0);
		pg_atomic_init_u64(&ph_shared->refused_no_slots, 0);
		pg_atomic_init_u64(&ph_shared->refused_starting, 0);
		pg_atomic_init_u64(&ph_shared->refused_role_limit, 0);
		pg_atomic_init_u64(&ph_shared->refused_database_limit, 0);
		pg_atomic_init_u64(&ph_shared->refused_walsenders, 0);
		for (int c = 0; c < PH_REFUSAL_CLASSES; c++)
			pg_atomic_init_u64(&ph_shared->refusal_ticket[c], 0);
		for (int c = 0; c < PH_REFUSAL_CLASSES; c++)
			for (int i = 0; i < PH_REFUSAL_RING; i++)
				pg_atomic_init_u64(&ph_shared->refusals[c][i].ticket, 0);
		for (int w = 0; w < PH_WORKER_KINDS; w++)
		{
			pg_atomic_init_u32(&ph_shared->worker_memory[w].pid, 0);
			pg_atomic_init_u64(&ph_shared->worker_memory[w].context_bytes, 0);
			pg_atomic_init_u64(&ph_shared->worker_memory[w].measured_at, 0);
			pg_atomic_init_u32(&ph_shared->worker_memory[w].log_requested, 0);
		}
		ConditionVariableInit(&ph_shared->sampled_cv);
		ConditionVariableInit(&ph_shared->names_cv);
		SpinLockInit(&ph_shared->disk_mutex);
		for (int i = 0; i < PH_MAX_ASKED; i++)
		{
			pg_atomic_init_u64(&ph_shared->asked[i].asked_at, 0);
			pg_atomic_init_u64(&ph_shared->asked[i].owner_at, 0);
			pg_atomic_init_u64(&ph_shared->asked[i].others_at, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Mirror the snapshot's verdict words; caller holds the lock exclusively. */
static void
update_verdict_block(void)
{
	PhVerdictBlock *v = &ph_shared->verdict;

	pg_atomic_fetch_add_u32(&v->changecount, 1);
	pg_write_barrier();
	v->generation = ph_shared->snap.generation;
	v->sampled_at = ph_shared->snap.sampled_at;
	v->started_at = ph_shared->snap.started_at;
	v->worker_pid = ph_shared->worker_pid;
	v->in_recovery = ph_shared->snap.in_recovery;
	memcpy(v->state, ph_shared->snap.state, sizeof(v->state));
	pg_write_barrier();
	pg_atomic_fetch_add_u32(&v->changecount, 1);
}

/* Claim (pid) or release (0) the sampler's place; returns the pid found. */
pid_t
ph_set_worker(pid_t expected, pid_t pid, Latch *latch)
{
	pid_t		found;

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	found = ph_shared->worker_pid;
	if (found == expected)
	{
		ph_shared->worker_pid = pid;
		ph_shared->worker_latch = latch;
		update_verdict_block();
	}
	LWLockRelease(ph_shared->lock);
	return found;
}

/*
 * Claim (pid) or release (0) the HTTP worker's place; returns the pid found.
 * An atomic, not the lock: the HTTP worker never waits for a writer, not
 * even to start.
 */
pid_t
ph_set_http_worker(pid_t expected, pid_t pid)
{
	uint32		found = (uint32) expected;

	if (pg_atomic_compare_exchange_u32(&ph_shared->http_pid, &found, (uint32) pid))
		return expected;
	return (pid_t) found;
}

/*
 * The port the HTTP worker listens on now, on at least one address (0: it
 * listens on none): set by it, read by the cluster poller, which waits for
 * this node's own endpoint before its first round.
 */
void
ph_set_http_listening(int port)
{
	pg_atomic_write_u32(&ph_shared->http_listening, (uint32) port);
}

int
ph_http_listening(void)
{
	return (int) pg_atomic_read_u32(&ph_shared->http_listening);
}

/*
 * Make this process's readers of the snapshot (ph_read_snapshot,
 * ph_read_snapshot_components, ph_read_pools, ph_read_standbys) give up on the lock after polling for it
 * max_wait_us, and return false, instead of waiting for it.  For the HTTP
 * worker: every writer holds the lock for one copy, so a lock held longer
 * means a writer that is stopped (SIGSTOP, a debugger) or starved of CPU,
 * and the endpoint must answer regardless.  A reader that gives up leaves
 * its buffers as they were, the last copy it made, and reports the
 * sampler's pid of that copy; the verdict judges that copy's age at the
 * time of the answer, so it turns unknown once the copy is stale, as it
 * does when the sampler stops.  After giving up once it does not poll again
 * until it has had the lock: a lock that stays held costs one try per
 * reading, not a wait.
 */
void
ph_reader_lock_timeout(int max_wait_us)
{
	reader_lock_timeout_us = max_wait_us;
}

bool
ph_lock_for_reading(void)
{
	static bool gave_up = false;
	TimestampTz start;

	if (reader_lock_timeout_us < 0)
	{
		LWLockAcquire(ph_shared->lock, LW_SHARED);
		return true;
	}
	if (LWLockConditionalAcquire(ph_shared->lock, LW_SHARED))
	{
		gave_up = false;
		return true;
	}
	if (gave_up)
		return false;
	start = GetCurrentTimestamp();
	for (long sleep_us = 20;; sleep_us = Min(sleep_us * 2, 1000))
	{
		pg_usleep(sleep_us);
		if (LWLockConditionalAcquire(ph_shared->lock, LW_SHARED))
			return true;
		if (GetCurrentTimestamp() - start >= reader_lock_timeout_us)
		{
			gave_up = true;
			return false;
		}
	}
}

/*
 * The lock, exclusively, for a reader that must write a little (an asked
 * pair, asked_pairs.c): waiting for it, or with ph_reader_lock_timeout set, one
 * try only (false when it is held).
 */
bool
ph_lock_exclusive(void)
{
	if (reader_lock_timeout_us < 0)
	{
		LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
		return true;
	}
	return LWLockConditionalAcquire(ph_shared->lock, LW_EXCLUSIVE);
}

/* The pool table of the latest sample, in shared memory (under the lock). */
const PhPoolTable *
ph_shared_pool_table(void)
{
	return ph_pool_table();
}


/*
 * Copy the used part of a pool table: its counts and the first npools,
 * nroles and ndatabases entries.
 */
static void
copy_pool_table(PhPoolTable *dst, const PhPoolTable *src)
{
	dst->generation = src->generation;
	dst->npools = src->npools;
	dst->nroles = src->nroles;
	dst->ndatabases = src->ndatabases;
	dst->untracked_roles = src->untracked_roles;
	dst->untracked_databases = src->untracked_databases;
	memcpy(dst->pools, src->pools, sizeof(PhPool) * src->npools);
	memcpy(dst->roles, src->roles, sizeof(PhLimit) * src->nroles);
	memcpy(dst->databases, src->databases, sizeof(PhLimit) * src->ndatabases);
}

static void
copy_component_table(PhComponentTable *dst, const PhComponentTable *src)
{
	dst->generation = src->generation;
	dst->n = src->n;
	memcpy(dst->items, src->items, sizeof(PhComponentResult) * src->n);
}

/* The used part of a pooler table: each pooler up to its last pool. */
void
ph_copy_pooler_table(PhPoolerTable *dst, const PhPoolerTable *src)
{
	dst->generation = src->generation;
	dst->n = src->n;
	dst->excess = src->excess;
	dst->poller_pid = src->poller_pid;
	for (int i = 0; i < src->n; i++)
		memcpy(&dst->items[i], &src->items[i],
			   offsetof(PhPooler, pools) + sizeof(PhPoolerPool) * src->items[i].npools);
}

static void
copy_standby_table(PhStandbyTable *dst, const PhStandbyTable *src)
{
	dst->generation = src->generation;
	dst->n = src->n;
	dst->omitted = src->omitted;
	memcpy(dst->items, src->items, sizeof(PhStandby) * src->n);
}

void
ph_publish(const PhSnapshot *snap, const PhPoolTable *pools,
		   const PhComponentTable *components, const PhStandbyTable *standbys,
		   const PhPoolerTable *poolers, const PhHistoryEntry *hist, const PhEvent *event)
{
	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	memcpy(&ph_shared->snap, snap, PH_SNAPSHOT_USED(snap));
	copy_pool_table(ph_pool_table(), pools);
	copy_component_table(&ph_shared->component_table, components);
	copy_standby_table(&ph_shared->standby_table, standbys);
	ph_copy_pooler_table(&ph_shared->pooler_table, poolers);
	update_verdict_block();
	if (hist && ph_shared->history_size > 0)
	{
		ph_history_ring()[ph_shared->history_count % ph_shared->history_size] = *hist;
		ph_shared->history_count++;
	}
	if (event && ph_shared->events_size > 0)
	{
		ph_events_ring()[ph_shared->events_count % ph_shared->events_size] = *event;
		ph_shared->events_count++;
	}
	LWLockRelease(ph_shared->lock);

	ConditionVariableBroadcast(&ph_shared->sampled_cv);
}

/*
 * A ring's last want entries (oldest first) into buf, which has room for
 * them; the caller holds the lock.  Returns how many there were.
 */
static int
copy_ring_tail(const void *ring, Size entry_size, int capacity, uint64 total, int want, void *buf)
{
	int			n = (int) Min(total, (uint64) Min(want, capacity));
	uint64		first = total - n;

	for (int i = 0; i < n; i++)
		memcpy((char *) buf + (Size) i * entry_size,
			   (const char *) ring + ((first + i) % capacity) * entry_size,
			   entry_size);
	return n;
}

/*
 * The one copy of what the sampler published: the snapshot (unless snap is
 * NULL) and the parts a reader asks for (PH_PART_*), all under one
 * acquisition of the lock, so a
 * page never mixes two samples.  Ring buffers are allocated here before the
 * lock is taken, for at most what is asked and what the ring holds (fixed at
 * server start), in the caller's memory context.  False when the lock could
 * not be had (only with ph_reader_lock_timeout: the HTTP worker): nothing is
 * copied, worker_pid is the last one read.
 */
bool
ph_copy_published(PhPublished *out, uint32 parts)
{
	int			want_history = 0;
	int			want_events = 0;

	out->nhistory = out->nevents = 0;
	out->events_total = 0;
	if ((parts & PH_PART_HISTORY) && ph_shared->history_size > 0)
	{
		want_history = out->history_max > 0 ? Min(out->history_max, ph_shared->history_size) :
			ph_shared->history_size;
		out->history = palloc(mul_size(want_history, sizeof(PhHistoryEntry)));
	}
	if ((parts & PH_PART_EVENTS) && ph_shared->events_size > 0)
	{
		want_events = out->events_max > 0 ? Min(out->events_max, ph_shared->events_size) :
			ph_shared->events_size;
		out->events = palloc(mul_size(want_events, sizeof(PhEvent)));
	}
	out->shmem_initialized_at = ph_shared->shmem_initialized_at;
	out->shmem_size = ph_shared->shmem_size;

	if (!ph_lock_for_reading())
	{
		out->worker_pid = last_worker_pid;
		return false;
	}
	if (out->snap != NULL)
		memcpy(out->snap, &ph_shared->snap, PH_SNAPSHOT_USED(&ph_shared->snap));
	out->worker_pid = last_worker_pid = ph_shared->worker_pid;
	if (parts & PH_PART_POOLS)
		copy_pool_table(out->pools, ph_pool_table());
	if (parts & PH_PART_COMPONENTS)
		copy_component_table(out->components, &ph_shared->component_table);
	if (parts & PH_PART_POOLERS)
		ph_copy_pooler_table(out->poolers, &ph_shared->pooler_table);
	if (parts & PH_PART_STANDBYS)
		copy_standby_table(out->standbys, &ph_shared->standby_table);
	if (want_history > 0)
		out->nhistory = copy_ring_tail(ph_history_ring(), sizeof(PhHistoryEntry),
									   ph_shared->history_size, ph_shared->history_count,
									   want_history, out->history);
	if (want_events > 0)
	{
		out->events_total = ph_shared->events_count;
		out->nevents = copy_ring_tail(ph_events_ring(), sizeof(PhEvent), ph_shared->events_size,
									  ph_shared->events_count, want_events, out->events);
	}
	LWLockRelease(ph_shared->lock);
	return true;
}

/* The snapshot alone (the sampler carrying on from the last sample). */
bool
ph_read_snapshot(PhSnapshot *out, pid_t *worker_pid)
{
	PhPublished p = {.snap = out};
	bool		ok = ph_copy_published(&p, 0);

	*worker_pid = p.worker_pid;
	return ok;
}

/* The roles and databases of the latest pool table (names worker). */
void
ph_read_limit_oids(PhLimit *roles, int *nroles, PhLimit *databases, int *ndatabases)
{
	PhPoolTable *t = ph_pool_table();

	LWLockAcquire(ph_shared->lock, LW_SHARED);
	*nroles = t->nroles;
	*ndatabases = t->ndatabases;
	memcpy(roles, t->roles, sizeof(PhLimit) * t->nroles);
	memcpy(databases, t->databases, sizeof(PhLimit) * t->ndatabases);
	LWLockRelease(ph_shared->lock);
}

/* qsort comparator of PhLimit by oid: the order ph_find_limit searches. */
int
ph_cmp_limit(const void *a, const void *b)
{
	Oid			x = ((const PhLimit *) a)->oid;
	Oid			y = ((const PhLimit *) b)->oid;

	return (x > y) - (x < y);
}

static int
cmp_limit_oid(const void *key, const void *entry)
{
	Oid			a = *(const Oid *) key;
	Oid			b = ((const PhLimit *) entry)->oid;

	return (a > b) - (a < b);
}

/* Binary search of an oid-sorted PhLimit array; NULL when absent. */
const PhLimit *
ph_find_limit(const PhLimit *entries, int n, Oid oid)
{
	if (n <= 0)
		return NULL;
	return bsearch(&oid, entries, n, sizeof(PhLimit), cmp_limit_oid);
}

/*
 * The O(1) path of live()/ready()/started(): a few words, read without a lock
 * (see PhVerdictBlock), so concurrent probes never contend.
 */
void
ph_read_verdict_input(PhRole role, PhVerdictInput *out)
{
	volatile PhVerdictBlock *v = &ph_shared->verdict;

	for (;;)
	{
		uint32		before = pg_atomic_read_u32(&ph_shared->verdict.changecount);
		uint32		after;

		pg_read_barrier();
		out->generation = v->generation;
		out->sampled_at = v->sampled_at;
		out->started_at = v->started_at;
		out->worker_pid = v->worker_pid;
		out->state = v->state[role];
		out->state_any = v->state[PH_ROLE_ANY];
		out->in_recovery = v->in_recovery;
		pg_read_barrier();
		after = pg_atomic_read_u32(&ph_shared->verdict.changecount);
		if (before == after && (before & 1) == 0)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	out->role = (uint8) role;
	out->live_in_recovery = ph_live_in_recovery();
	if (out->generation > 0 && out->live_in_recovery != out->in_recovery)
		ph_nudge_sampler();
}

/*
 * Whether the server is in recovery now, from the startup process's shared
 * state (a spinlock, no more): the role a probe asks for is judged against
 * this, not against the last sample, so that /primary answers a promotion
 * at once and never claims a role the server has left.
 */
bool
ph_live_in_recovery(void)
{
	return GetRecoveryState() != RECOVERY_STATE_DONE;
}

/*
 * Ask for a sample soon without waiting for it: a reader saw the server's
 * role differ from the last sample's.  The sampler takes at most one such
 * extra sample per interval, however many readers ask (sampler.c).
 */
void
ph_nudge_sampler(void)
{
	/*
	 * Without the lock, which the HTTP worker never waits for: a pointer is
	 * read whole, and a latch of a sampler that has just gone only wakes a
	 * process for nothing.
	 */
	Latch	   *latch = ((volatile PhShared *) ph_shared)->worker_latch;

	pg_atomic_add_fetch_u64(&ph_shared->refresh_requested, 1);
	if (latch != NULL)
		SetLatch(latch);
}

/*
 * The last max events (all: max <= 0), oldest first, palloc'd; *total counts
 * every event ever recorded (the checker's NOTIFY).  -1: the lock could not
 * be had.
 */
int
ph_read_events(PhEvent **out, int max, uint64 *total)
{
	PhPublished p = {.events_max = max};

	if (!ph_copy_published(&p, PH_PART_EVENTS))
		return -1;
	*out = p.events;
	if (total)
		*total = p.events_total;
	return p.nevents;
}

/*
 * Ask the sampler for a sample that starts after this call and wait for it,
 * at most timeout_ms: health.refresh().  Concurrent callers share a sample
 * (the sampler serves every request made before it starts), and the sampler
 * paces the samples refreshes ask for (sampler.c).  False when no sample
 * came in time.
 */
bool
ph_request_sample(int timeout_ms)
{
	uint64		ticket;
	uint64		start = ph_monotonic_ms();
	uint32		event = ph_wait_event(PH_WAIT_REFRESH);
	bool		answered = false;
	pid_t		woken = 0;

	ticket = pg_atomic_add_fetch_u64(&ph_shared->refresh_requested, 1);

	ConditionVariablePrepareToSleep(&ph_shared->sampled_cv);
	for (;;)
	{
		Latch	   *latch;
		uint64		served;
		pid_t		pid;
		long		remaining;

		LWLockAcquire(ph_shared->lock, LW_SHARED);
		served = ph_shared->snap.refresh_served;
		latch = ph_shared->worker_latch;
		pid = ph_shared->worker_pid;
		LWLockRelease(ph_shared->lock);

		if (served >= ticket)
		{
			answered = true;
			break;
		}
		/* monotonic: a step of the wall clock neither cuts nor stretches it */
		remaining = (long) timeout_ms - (long) (ph_monotonic_ms() - start);
		if (remaining <= 0)
			break;

		/*
		 * Wake the sampler once, and only when no earlier request is waiting
		 * (that one woke it already); again only for a sampler that has
		 * changed since, which never saw our request.
		 */
		if (latch && pid != woken)
		{
			if (woken != 0 || served + 1 >= ticket)
				SetLatch(latch);
			woken = pid;
		}
		(void) ConditionVariableTimedSleep(&ph_shared->sampled_cv, Min(remaining, 100), event);
	}
	ConditionVariableCancelSleep();
	return answered;
}

/* Whether shared memory exists: the library was preloaded. */
bool
ph_preloaded(void)
{
	return ph_shared != NULL;
}

/* SQL functions: shared memory exists only when the library was preloaded. */
void
ph_require_preloaded(void)
{
	if (ph_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_health must be loaded via \"shared_preload_libraries\""),
				 errhint("Add pg_health to shared_preload_libraries in postgresql.conf and restart the server.")));
}

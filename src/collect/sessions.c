/*
 * sessions.c -- the sampler's collector of connection slots, client
 * sessions and pools (collect): slots as PostgreSQL enforces them, sessions
 * by state with the oldest of each age, the (database, role,
 * application_name) pools, the use of each role's and database's
 * CONNECTION LIMIT, and the refusals the hooks counted (hooks.c).
 *
 * It reads shared memory only, with the protocols core provides: the
 * PGPROC free lists under ProcArrayLock, the local backend status snapshot,
 * the lock manager's wait events.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/proc.h"
#include "utils/backend_status.h"
#include "utils/float.h"
#include "common/hashfn.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "collect/hooks.h"
#include "collect/replication.h"
#include "collect/sessions.h"
#include "ground/compat.h"
#include "ground/shmem.h"
#include "judge/builtin_checks.h"
#include "judge/component_checks.h"

static int
cmp_pid(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return (x > y) - (x < y);
}

/*
 * Pids of processes waiting on a heavyweight lock, sorted, and their count by
 * the mode they wait for into by_mode.  wait_event_info is a 4-byte field each
 * process writes for itself; pg_stat_activity reads it without a lock too.
 * waitLockMode is set before the wait begins and read here the same way: a
 * torn or stale value is only counted when it is a lock mode.
 */
static int
collect_lock_waiters(int **out, int *by_mode)
{
	PROC_HDR   *pg = ProcGlobal;
	int		   *pids = palloc(sizeof(int) * Max(pg->allProcCount, 1));
	int			n = 0;

	for (uint32 i = 0; i < pg->allProcCount; i++)
	{
		volatile PGPROC *proc = &pg->allProcs[i];
		int			pid = proc->pid;
		uint32		wait = proc->wait_event_info;

		if (pid != 0 && (wait & 0xFF000000) == PG_WAIT_LOCK)
		{
			LOCKMODE	mode = proc->waitLockMode;

			pids[n++] = pid;
			if (mode > NoLock && mode < PH_LOCK_MODES)
				by_mode[mode]++;
		}
	}
	if (n > 1)
		qsort(pids, n, sizeof(int), cmp_pid);
	*out = pids;
	return n;
}

static inline void
keep_oldest(TimestampTz ts, int pid, TimestampTz *oldest, int *oldest_pid)
{
	if (ts != 0 && (*oldest == 0 || ts < *oldest))
	{
		*oldest = ts;
		*oldest_pid = pid;
	}
}

/* Count one client session into c. */
static void
count_client(PhSessionCounts *c, const PgBackendStatus *be, bool waiting)
{
	int			pid = be->st_procpid;

	c->sessions++;
	switch (be->st_state)
	{
		case STATE_RUNNING:
			c->active++;
			keep_oldest(be->st_activity_start_timestamp, pid,
						&c->oldest_query_start, &c->oldest_query_pid);
			break;
		case STATE_IDLE:
			c->idle++;
			break;
		case STATE_IDLEINTRANSACTION:
			c->idle_in_transaction++;
			keep_oldest(be->st_state_start_timestamp, pid,
						&c->oldest_idle_in_xact_start, &c->oldest_idle_in_xact_pid);
			break;
		case STATE_IDLEINTRANSACTION_ABORTED:
			c->idle_in_transaction_aborted++;
			keep_oldest(be->st_state_start_timestamp, pid,
						&c->oldest_idle_in_xact_start, &c->oldest_idle_in_xact_pid);
			break;
		case STATE_FASTPATH:
			c->fastpath++;
			break;
		case STATE_DISABLED:
			c->disabled++;
			break;
		default:
			c->starting++;
			break;
	}
	keep_oldest(be->st_xact_start_timestamp, pid, &c->oldest_xact_start, &c->oldest_xact_pid);
	if (waiting)
		c->waiting_on_locks++;
}

/* Add the counts of src into dst: the folded row of the pool table. */
static void
merge_counts(PhSessionCounts *dst, const PhSessionCounts *src)
{
	dst->sessions += src->sessions;
	dst->active += src->active;
	dst->idle += src->idle;
	dst->idle_in_transaction += src->idle_in_transaction;
	dst->idle_in_transaction_aborted += src->idle_in_transaction_aborted;
	dst->fastpath += src->fastpath;
	dst->disabled += src->disabled;
	dst->starting += src->starting;
	dst->waiting_on_locks += src->waiting_on_locks;
	keep_oldest(src->oldest_xact_start, src->oldest_xact_pid,
				&dst->oldest_xact_start, &dst->oldest_xact_pid);
	keep_oldest(src->oldest_query_start, src->oldest_query_pid,
				&dst->oldest_query_start, &dst->oldest_query_pid);
	keep_oldest(src->oldest_idle_in_xact_start, src->oldest_idle_in_xact_pid,
				&dst->oldest_idle_in_xact_start, &dst->oldest_idle_in_xact_pid);
}

/*
 * Slot accounting as InitPostgres() enforces it: a client backend takes a
 * PGPROC from the regular free list (max_connections of them; walsenders,
 * autovacuum and background workers have lists of their own), then an
 * ordinary role is refused unless superuser_reserved_connections (plus
 * reserved_connections on 16+) PGPROCs remain free.
 */
void
ph_collect_slots(PhConnections *c, int free_hint)
{
	int			reserved_total = PH_SUPERUSER_RESERVED() + PH_RESERVED_CONNECTIONS();

	c->max_connections = MaxConnections;
	c->superuser_reserved = PH_SUPERUSER_RESERVED();
	c->reserved = PH_HAVE_RESERVED_CONNECTIONS ? PH_RESERVED_CONNECTIONS() : -1;
	c->usable = Max(MaxConnections - reserved_total, 0);
	c->slots_free = ph_free_client_slots(MaxConnections, free_hint);
	c->slots_used = MaxConnections - c->slots_free;
	c->available_ordinary = Max(c->slots_free - reserved_total, 0);
	c->available_reserved = PH_HAVE_RESERVED_CONNECTIONS ?
		Max(c->slots_free - PH_SUPERUSER_RESERVED(), 0) : -1;
	c->utilization_pct = c->usable > 0 ? 100.0 * c->slots_used / c->usable : 100.0;
}

/* A pool's key: what health.pools groups client sessions by. */
typedef struct PoolKey
{
	Oid			datid;
	Oid			roleid;
	char		application_name[NAMEDATALEN];
} PoolKey;

typedef struct PoolEntry
{
	PoolKey		key;			/* must be first */
	uint64		seen;			/* the last sample that counted it */
	PhSessionCounts s;
} PoolEntry;

/* Hash the key's oids and the used part of its name, not all 72 bytes. */
static uint32
pool_key_hash(const void *key, Size keysize)
{
	const PoolKey *k = key;
	uint32		h = hash_bytes((const unsigned char *) k, offsetof(PoolKey, application_name));

	return hash_combine(h, hash_bytes((const unsigned char *) k->application_name,
									  strlen(k->application_name)));
}

typedef struct OidCount
{
	Oid			oid;			/* must be first */
	int			used;
} OidCount;

/*
 * The sampler's hash tables live as long as the worker and are emptied, not
 * freed, between samples: their entries go to the free list and are reused,
 * so a sample allocates nothing new once the largest one has been seen.
 * (Memory freed and allocated again at every sample costs a page fault per
 * page here: with 1,000 pools that was most of the sample's time.)
 */
static HTAB *
sampler_hash(HTAB **h, const char *name, Size keysize, Size entrysize,
			 HashValueFunc hash, bool clear)
{
	if (*h == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = keysize;
		ctl.entrysize = entrysize;
		ctl.hcxt = TopMemoryContext;
		ctl.hash = hash;
		*h = hash_create(name, 1024, &ctl, HASH_ELEM | HASH_CONTEXT |
						 (hash ? HASH_FUNCTION : HASH_BLOBS));
	}
	else if (clear)
	{
		HASH_SEQ_STATUS seq;
		void	   *e;

		hash_seq_init(&seq, *h);
		while ((e = hash_seq_search(&seq)) != NULL)
			(void) hash_search(*h, e, HASH_REMOVE, NULL);
	}
	return *h;
}

static void
count_oid(HTAB *h, Oid oid)
{
	bool		found;
	OidCount   *e;

	if (!OidIsValid(oid))
		return;
	e = hash_search(h, &oid, HASH_ENTER, &found);
	if (!found)
		e->used = 0;
	e->used++;
}

static int
cmp_pool(const void *a, const void *b)
{
	const PoolEntry *x = *(PoolEntry *const *) a;
	const PoolEntry *y = *(PoolEntry *const *) b;

	if (x->s.sessions != y->s.sessions)
		return x->s.sessions > y->s.sessions ? -1 : 1;
	if (x->key.datid != y->key.datid)
		return x->key.datid < y->key.datid ? -1 : 1;
	if (x->key.roleid != y->key.roleid)
		return x->key.roleid < y->key.roleid ? -1 : 1;
	return strcmp(x->key.application_name, y->key.application_name);
}

/*
 * Put the k first pools in cmp_pool's order, in no particular order, in
 * all[0..k): Wirth's selection, O(n) on average, with a median-of-three
 * pivot.  With more pools than the table keeps, only those k then need a
 * sort: with 1,000 pools sorting them all was a fifth of a sample.
 */
static void
select_first_pools(PoolEntry **all, int n, int k)
{
	int			target = k - 1;
	int			lo = 0,
				hi = n - 1;

	while (lo < hi)
	{
		PoolEntry  *a = all[lo],
				   *b = all[lo + (hi - lo) / 2],
				   *c = all[hi];
		PoolEntry  *pivot;
		int			i = lo,
					j = hi;

		/* the median of the three (one of them, so both scans stop) */
		if (cmp_pool(&a, &b) > 0)
		{
			PoolEntry  *t = a;

			a = b;
			b = t;
		}
		pivot = cmp_pool(&b, &c) <= 0 ? b : (cmp_pool(&a, &c) <= 0 ? c : a);
		do
		{
			while (cmp_pool(&all[i], &pivot) < 0)
				i++;
			while (cmp_pool(&pivot, &all[j]) < 0)
				j--;
			if (i <= j)
			{
				PoolEntry  *t = all[i];

				all[i++] = all[j];
				all[j--] = t;
			}
		} while (i <= j);
		if (j < target)
			lo = i;
		if (target < i)
			hi = j;
	}
}

static int
cmp_used_desc(const void *a, const void *b)
{
	const OidCount *x = a;
	const OidCount *y = b;

	if (x->used != y->used)
		return x->used > y->used ? -1 : 1;
	return (x->oid > y->oid) - (x->oid < y->oid);
}

/*
 * The roles (or databases) with sessions, sorted by oid; when there are more
 * than PH_MAX_NAMES, those with the most sessions are kept.  Returns how
 * many did not fit.
 */
static int
fill_limits(HTAB *h, PhLimit *out, int *nout)
{
	long		n = hash_get_num_entries(h);
	OidCount   *all = palloc(sizeof(OidCount) * Max(n, 1));
	HASH_SEQ_STATUS seq;
	OidCount   *e;
	int			k = 0;

	hash_seq_init(&seq, h);
	while ((e = hash_seq_search(&seq)) != NULL)
		all[k++] = *e;
	if (k > PH_MAX_NAMES)
		qsort(all, k, sizeof(OidCount), cmp_used_desc);
	*nout = Min(k, PH_MAX_NAMES);
	for (int i = 0; i < *nout; i++)
	{
		memset(&out[i], 0, sizeof(PhLimit));
		out[i].oid = all[i].oid;
		out[i].used = all[i].used;
		out[i].connlimit = -1;
	}
	qsort(out, *nout, sizeof(PhLimit), ph_cmp_limit);
	return k - *nout;
}

static int
limit_index(const PhLimit *entries, int n, Oid oid)
{
	const PhLimit *l = ph_find_limit(entries, n, oid);

	return l ? (int) (l - entries) : -1;
}

/*
 * The pool table: groups with the most sessions first; when there are more
 * than PH_MAX_POOLS, the last row sums all that did not fit.
 */
static void
fill_pools(HTAB *pools, PhPoolTable *t, uint64 sample_no)
{
	long		n = hash_get_num_entries(pools);
	PoolEntry **all = palloc(sizeof(PoolEntry *) * Max(n, 1));
	HASH_SEQ_STATUS seq;
	PoolEntry  *e;
	int			k = 0;
	int			keep;

	hash_seq_init(&seq, pools);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (e->seen == sample_no)
			all[k++] = e;
	keep = k > PH_MAX_POOLS ? PH_MAX_POOLS - 1 : k;
	if (keep < k)
		select_first_pools(all, k, keep);
	qsort(all, keep, sizeof(PoolEntry *), cmp_pool);
	for (int i = 0; i < keep; i++)
	{
		PhPool	   *p = &t->pools[i];

		memset(p, 0, sizeof(PhPool));
		p->datid = all[i]->key.datid;
		p->roleid = all[i]->key.roleid;
		strlcpy(p->application_name, all[i]->key.application_name, NAMEDATALEN);
		p->s = all[i]->s;
		p->role_index = limit_index(t->roles, t->nroles, p->roleid);
		p->db_index = limit_index(t->databases, t->ndatabases, p->datid);
	}
	t->npools = keep;
	if (k > keep)
	{
		PhPool	   *p = &t->pools[t->npools++];

		memset(p, 0, sizeof(PhPool));
		p->role_index = p->db_index = -1;
		p->folded = k - keep;
		for (int i = keep; i < k; i++)
			merge_counts(&p->s, &all[i]->s);
	}
}

/*
 * Sessions by state, ages and process kinds, from the local status snapshot;
 * the same per pool; and the use of each role's and database's CONNECTION
 * LIMIT, counted as PostgreSQL counts it: every process but background
 * workers against a database's limit, client backends and walsenders against
 * a role's.
 */
void
ph_collect_sessions(PhConnections *c, PhPoolTable *t, PhComponentTable *comps)
{
	int		   *waiters;
	int			nwaiters = collect_lock_waiters(&waiters, c->lock_waits);
	static HTAB *pools_h,
			   *roles_h,
			   *databases_h;
	static uint64 sample_no = 0;
	static long live_pools = 0;
	int			n;
	bool		backends_only;
	HTAB	   *pools;
	HTAB	   *roles = sampler_hash(&roles_h, "pg_health roles", sizeof(Oid), sizeof(OidCount),
									 NULL, true);
	HTAB	   *databases = sampler_hash(&databases_h, "pg_health databases", sizeof(Oid),
										 sizeof(OidCount), NULL, true);

	/*
	 * Pool entries are not cleared at every sample: an entry that this sample
	 * does not count is stale and skipped, and stale ones are swept out only
	 * when they outnumber the live ones.
	 */
	sample_no++;
	pools = sampler_hash(&pools_h, "pg_health pools", sizeof(PoolKey), sizeof(PoolEntry),
						 pool_key_hash, false);
	if (hash_get_num_entries(pools) > 2 * live_pools + 64)
	{
		HASH_SEQ_STATUS seq;
		PoolEntry  *e;

		hash_seq_init(&seq, pools);
		while ((e = hash_seq_search(&seq)) != NULL)
			if (e->seen != sample_no - 1)
				(void) hash_search(pools, e, HASH_REMOVE, NULL);
	}

	pgstat_clear_backend_activity_snapshot();
	backends_only = ph_limits_count_backends_only();
	n = pgstat_fetch_stat_numbackends();
	for (int i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = ph_local_beentry_by_index(i);
		PgBackendStatus *be;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (backends_only ? be->st_backendType == B_BACKEND : be->st_backendType != B_BG_WORKER)
			count_oid(databases, be->st_databaseid);
		switch (be->st_backendType)
		{
			case B_BACKEND:
				{
					int			pid = be->st_procpid;
					bool		waiting = nwaiters > 0 &&
						bsearch(&pid, waiters, nwaiters, sizeof(int), cmp_pid) != NULL;
					PoolKey		key;
					PoolEntry  *e;
					bool		found;

					count_client(&c->s, be, waiting);
					memset(&key, 0, sizeof(key));
					key.datid = be->st_databaseid;
					key.roleid = be->st_userid;
					if (be->st_appname)
						strlcpy(key.application_name, be->st_appname, NAMEDATALEN);
					e = hash_search(pools, &key, HASH_ENTER, &found);
					if (!found || e->seen != sample_no)
					{
						memset(&e->s, 0, sizeof(e->s));
						e->seen = sample_no;
					}
					count_client(&e->s, be, waiting);
					count_oid(roles, be->st_userid);
				}
				break;
			case B_AUTOVAC_LAUNCHER:
			case B_AUTOVAC_WORKER:
				c->autovacuum_workers++;
				break;
			case B_BG_WORKER:
				c->background_workers++;
				break;
			case B_WAL_SENDER:
				c->walsenders++;
				ph_note_walsender(be);
				if (!backends_only)
					count_oid(roles, be->st_userid);
				break;
			case B_STARTUP:
				ph_note_startup(be);
				c->other_processes++;
				break;
			default:
				c->other_processes++;
				break;
		}
	}
	pgstat_clear_backend_activity_snapshot();

	{
		HASH_SEQ_STATUS seq;
		PoolEntry  *e;

		live_pools = 0;
		hash_seq_init(&seq, pools);
		while ((e = hash_seq_search(&seq)) != NULL)
		{
			if (e->seen != sample_no)
				continue;
			live_pools++;
			if (comps->n > 0)
				ph_count_component_pools(comps, e->key.application_name, e->s.sessions);
		}
	}
	t->untracked_roles = fill_limits(roles, t->roles, &t->nroles);
	t->untracked_databases = fill_limits(databases, t->databases, &t->ndatabases);
	fill_pools(pools, t, sample_no);
}

/*
 * Connections turned away, from the hooks' counters.  Refusals within
 * pg_health.refusal_window are counted against the total at the newest of
 * this worker's samples older than the window (the oldest it has, when the
 * worker is younger than the window).
 */
#define PH_WINDOW_SAMPLES 4096

/*
 * The newest refusal of a class, into note; when its ring holds none
 * although the counter says there was one (every slot being rewritten), the
 * note of the previous sample.
 */
static void
note_refusal(PhRefusalNote *note, int class, uint64 count, const PhRefusalNote *prev)
{
	PhRefusal	r;

	if (ph_last_refusal(class, &r))
	{
		note->at = r.at;
		note->kind = r.kind;
		note->authenticated = r.authenticated;
		strlcpy(note->role, r.role, sizeof(note->role));
		strlcpy(note->database, r.database, sizeof(note->database));
	}
	else if (count > 0)
		*note = *prev;
	else
		memset(note, 0, sizeof(*note));
}

void
ph_collect_refusals(PhConnections *c, const PhSnapshot *prev, TimestampTz now)
{
	static struct
	{
		TimestampTz at;
		uint64		refused;
		uint64		limited;
	}			seen[PH_WINDOW_SAMPLES];
	static int	nseen = 0,
				head = 0;
	static bool touched = false;
	TimestampTz window_start = now - (int64) ph_refusal_window_s * USECS_PER_SEC;
	int			base;
	uint64		limited;
	const PhRefusalNote *last;

	c->authenticated = pg_atomic_read_u64(&ph_shared->authenticated);
	c->auth_failures = pg_atomic_read_u64(&ph_shared->auth_failures);
	/* each kind before the total, which writers count last (hooks.c) */
	c->refused_role_limit = pg_atomic_read_u64(&ph_shared->refused_role_limit);
	c->refused_database_limit = pg_atomic_read_u64(&ph_shared->refused_database_limit);
	pg_read_barrier();
	c->refused_no_slots = pg_atomic_read_u64(&ph_shared->refused_no_slots);
	c->refused_starting = pg_atomic_read_u64(&ph_shared->refused_starting);
	c->refused_walsenders = pg_atomic_read_u64(&ph_shared->refused_walsenders);
	limited = c->refused_role_limit + c->refused_database_limit;
	if (!touched)
	{
		/*
		 * Write the ring's pages once, at the worker's start: otherwise they
		 * become resident one sample at a time, and the sampler's memory
		 * reads as growing for its first 4096 samples.
		 */
		memset(seen, 0, sizeof(seen));
		touched = true;
	}

	/*
	 * the last refusal of each cause, and the newer of the two
	 * (health.connections)
	 */
	note_refusal(&c->last_slot_refusal, PH_REFUSAL_CLASS_SLOTS,
				 c->refused_no_slots - limited, &prev->conn.last_slot_refusal);
	note_refusal(&c->last_limit_refusal, PH_REFUSAL_CLASS_LIMITS, limited,
				 &prev->conn.last_limit_refusal);
	last = c->last_limit_refusal.at > c->last_slot_refusal.at ?
		&c->last_limit_refusal : &c->last_slot_refusal;
	c->last_refusal_at = last->at;
	c->last_refusal_authenticated = last->authenticated;
	strlcpy(c->last_refused_role, last->role, sizeof(c->last_refused_role));
	strlcpy(c->last_refused_database, last->database, sizeof(c->last_refused_database));

	/*
	 * The counters as they were when the window began.  The ring keeps a
	 * worker's first sample and then only the samples whose counters changed,
	 * so refreshes cannot push a refusal out of it early, and a window of any
	 * length back to the ring's oldest change is exact; the check also judges
	 * by the last refusal's time (builtin_checks.c).
	 */
	if (nseen == 0 ||
		seen[(head - 1 + PH_WINDOW_SAMPLES) % PH_WINDOW_SAMPLES].refused != c->refused_no_slots ||
		seen[(head - 1 + PH_WINDOW_SAMPLES) % PH_WINDOW_SAMPLES].limited != limited)
	{
		seen[head].at = now;
		seen[head].refused = c->refused_no_slots;
		seen[head].limited = limited;
		head = (head + 1) % PH_WINDOW_SAMPLES;
		nseen = Min(nseen + 1, PH_WINDOW_SAMPLES);
	}
	base = (head - nseen + PH_WINDOW_SAMPLES) % PH_WINDOW_SAMPLES;
	for (int i = 1; i <= nseen; i++)
	{
		int			k = (head - i + PH_WINDOW_SAMPLES) % PH_WINDOW_SAMPLES;

		if (seen[k].at < window_start)
		{
			base = k;
			break;
		}
	}
	c->refusals_in_window = (int) Min(c->refused_no_slots - seen[base].refused, (uint64) INT_MAX);
	c->limit_refusals_in_window = (int) Min(limited - seen[base].limited, (uint64) INT_MAX);
	c->slot_refusals_in_window = Max(c->refusals_in_window - c->limit_refusals_in_window, 0);

	if (prev->generation > 0 && now > prev->sampled_at)
	{
		double		secs = (double) (now - prev->sampled_at) / USECS_PER_SEC;

		c->connections_per_s = (c->authenticated - prev->conn.authenticated) / secs;
		c->refusals_per_s = (c->refused_no_slots - prev->conn.refused_no_slots) / secs;
		c->auth_failures_per_s = (c->auth_failures - prev->conn.auth_failures) / secs;
	}
	else
		c->connections_per_s = c->refusals_per_s = c->auth_failures_per_s = get_float8_nan();
}

/*
 * commit_waits.c -- (collect) commits that wait: processes waiting for
 * synchronous standbys (wait event SyncRep) or to write or flush WAL (IO
 * WALWrite and WALSync, LWLock WALWrite), how long the longest has waited,
 * and which members of synchronous_standby_names are not connected.
 *
 * PostgreSQL keeps no start time for a wait, so a wait is timed from the
 * first sample that saw it: at most one sample interval short.  It is the
 * same wait in the next sample only when nothing moved: for synchronous
 * replication, the same process waits for the same commit (PGPROC.waitLSN);
 * for WAL, the same process waits and WAL has not been flushed any further
 * meanwhile.  A busy primary whose commits each wait a few milliseconds (a
 * distant synchronous standby), or whose WAL writer is often caught
 * writing, never adds up to a long wait.  The waits of the previous sample
 * are kept here, sorted by pid.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "replication/syncrep.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "collect/commit_waits.h"
#include "ground/guard.h"

typedef struct Waiter
{
	int			pid;
	uint32		wait;
	XLogRecPtr	lsn;			/* the commit it waits for (SyncRep) */
	TimestampTz since;
} Waiter;

static Waiter *seen = NULL;		/* the previous sample's, by pid */
static int	nseen = 0;
static Waiter *cur = NULL;
static int	room = 0;
static XLogRecPtr seen_flush = InvalidXLogRecPtr;	/* WAL flushed at the
													 * previous sample */

static int
cmp_waiter(const void *a, const void *b)
{
	int			x = ((const Waiter *) a)->pid;
	int			y = ((const Waiter *) b)->pid;

	return (x > y) - (x < y);
}

static int
cmp_oldest(const void *a, const void *b)
{
	TimestampTz x = ((const Waiter *) a)->since;
	TimestampTz y = ((const Waiter *) b)->since;

	return (x > y) - (x < y);
}

static bool
is_sync_rep(uint32 wait)
{
	return wait == WAIT_EVENT_SYNC_REP;
}

static bool
is_wal_wait(uint32 wait)
{
	return wait == WAIT_EVENT_WAL_WRITE || wait == WAIT_EVENT_WAL_SYNC ||
		wait == (PG_WAIT_LWLOCK | WALWriteLock->tranche);
}

/* Members of synchronous_standby_names that no connected standby is. */
static void
missing_standbys(PhCommitWaits *w, const PhStandbyTable *standbys)
{
	const char *name;

	w->missing[0] = '\0';
	if (SyncRepConfig == NULL)
		return;
	name = SyncRepConfig->member_names;
	for (int i = 0; i < SyncRepConfig->nmembers; i++, name += strlen(name) + 1)
	{
		bool		connected = false;

		for (int k = 0; k < standbys->n && !connected; k++)
			connected = strcmp(name, "*") == 0 ||
				pg_strcasecmp(name, standbys->items[k].application_name) == 0;
		if (!connected)
		{
			size_t		len = strlen(w->missing);

			snprintf(w->missing + len, sizeof(w->missing) - len, "%s%s",
					 len > 0 ? ", " : "", strcmp(name, "*") == 0 ? "any standby (*)" : name);
		}
	}
}

void
ph_collect_commit_waits(PhCommitWaits *w, const PhStandbyTable *standbys, TimestampTz now)
{
	PROC_HDR   *pg = ProcGlobal;
	int			n = 0;
	Waiter	   *swap;
	XLogRecPtr	flush = GetFlushRecPtr(NULL);
	bool		wal_moved = flush != seen_flush;

	memset(w, 0, sizeof(*w));
	if (room < (int) pg->allProcCount)
	{
		/* once: the number of PGPROCs is fixed at start */
		room = (int) pg->allProcCount;
		seen = MemoryContextAllocZero(TopMemoryContext, sizeof(Waiter) * room);
		cur = MemoryContextAllocZero(TopMemoryContext, sizeof(Waiter) * room);
		nseen = 0;
	}
	for (uint32 i = 0; i < pg->allProcCount; i++)
	{
		volatile PGPROC *proc = &pg->allProcs[i];
		int			pid = proc->pid;
		uint32		wait = proc->wait_event_info;
		XLogRecPtr	lsn;
		Waiter		key;
		Waiter	   *before;
		bool		same;

		if (pid == 0 || !(is_sync_rep(wait) || is_wal_wait(wait)))
			continue;
		/* only a waiter's: another cache line of its PGPROC */
		lsn = proc->waitLSN;
		if (is_sync_rep(wait))
			w->sync_rep++;
		else
			w->wal++;
		key.pid = pid;
		before = nseen > 0 ? bsearch(&key, seen, nseen, sizeof(Waiter), cmp_waiter) : NULL;
		if (before == NULL || is_sync_rep(before->wait) != is_sync_rep(wait))
			same = false;
		else if (is_sync_rep(wait))
			same = before->lsn == lsn;
		else
			same = !wal_moved;
		cur[n].pid = pid;
		cur[n].wait = wait;
		cur[n].lsn = lsn;
		cur[n].since = same ? before->since : now;
		n++;
	}
	qsort(cur, n, sizeof(Waiter), cmp_oldest);
	for (int i = 0; i < n && i < PH_COMMIT_PIDS; i++)
		w->pids[w->npids++] = cur[i].pid;
	if (n > 0)
	{
		const char *type = pgstat_get_wait_event_type(cur[0].wait);
		const char *event = pgstat_get_wait_event(cur[0].wait);

		w->oldest_since = cur[0].since;
		w->oldest_pid = cur[0].pid;
		snprintf(w->oldest_wait, sizeof(w->oldest_wait), "%s:%s",
				 type ? type : "?", event ? event : "?");
	}
	if (w->sync_rep > 0)
	{
		missing_standbys(w, standbys);
		/* names from a setting, cut at the buffer: valid UTF-8 */
		ph_clean_text(w->missing, sizeof(w->missing), w->missing, sizeof(w->missing));
	}
	qsort(cur, n, sizeof(Waiter), cmp_waiter);
	swap = seen;
	seen = cur;
	cur = swap;
	nseen = n;
	seen_flush = flush;
}

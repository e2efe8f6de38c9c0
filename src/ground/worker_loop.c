/*
 * worker_loop.c -- the one skeleton of pg_health's background workers
 * (ground), as worker_spi and autoprewarm write theirs: start-up (signal
 * handlers), the claim of the worker's place in shared memory, so that one
 * of each kind runs at a time, and its release at exit (before_shmem_exit);
 * the loop's step (interrupts, the memory report, a settings reload); and its
 * waits, each named (wait_events.c).  Each worker's main function calls
 *
 *	 ph_worker_start();
 *	 [BackgroundWorkerInitializeConnection...(), for a worker with one]
 *	 ph_worker_claim(kind, parent);
 *	 for (;;)
 *	 {
 *		 ph_worker_step(kind);
 *		 ... its work ...
 *		 ph_worker_wait(PH_WAIT_..., ms);
 *	 }
 *
 * Where each kind keeps its place: the sampler's pid and latch under
 * PhShared.lock (ph_set_worker, which mirrors the pid into the verdict
 * block); the HTTP worker's pid in an atomic, since it never waits for a
 * writer, not even to start (ph_set_http_worker); the names worker's, the
 * checker's and the pooler worker's under PhShared.lock, here.
 */
#include "postgres.h"

#include <poll.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "storage/procsignal.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"

#include "ground/compat.h"
#include "ground/shmem.h"
#include "ground/wait_events.h"
#include "ground/worker_loop.h"
#include "ground/workers.h"

/* Where a kind's pid and latch live in PhShared, under PhShared.lock. */
typedef struct PhPlace
{
	pid_t	   *pid;
	Latch	  **latch;
} PhPlace;

/* false for the HTTP worker: an atomic pid and no latch (see above) */
static bool
place_of(PhWorkerKind kind, PhPlace *place)
{
	switch (kind)
	{
		case PH_WORKER_SAMPLER:
			place->pid = &ph_shared->worker_pid;
			place->latch = &ph_shared->worker_latch;
			return true;
		case PH_WORKER_NAMES:
			place->pid = &ph_shared->names.pid;
			place->latch = &ph_shared->names.latch;
			return true;
		case PH_WORKER_CHECKER:
			place->pid = &ph_shared->checker_pid;
			place->latch = &ph_shared->checker_latch;
			return true;
		case PH_WORKER_POLLER:
			place->pid = &ph_shared->poller_pid;
			place->latch = &ph_shared->poller_latch;
			return true;
		case PH_WORKER_DISK:
			place->pid = &ph_shared->disk_pid;
			place->latch = &ph_shared->disk_latch;
			return true;
		case PH_WORKER_HTTP:
		case PH_WORKER_KINDS:
			break;
	}
	return false;
}

/*
 * Signal handlers, then signals unblocked: SIGHUP asks for a reload (at the
 * next step), SIGTERM ends the worker at its next interrupt check.  A worker
 * with a database connection answers procsignals (barriers, the "leave this
 * database" of DROP DATABASE) there too, or DROP DATABASE waits for it.
 */
void
ph_worker_start(void)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	if (MyBgworkerEntry != NULL &&
		(MyBgworkerEntry->bgw_flags & BGWORKER_BACKEND_DATABASE_CONNECTION) != 0)
		pqsignal(SIGUSR1, procsignal_sigusr1_handler);
	BackgroundWorkerUnblockSignals();
}

/* At exit: give the place back, if it is still ours. */
static void
release_place(int code, Datum arg)
{
	PhWorkerKind kind = (PhWorkerKind) DatumGetInt32(arg);
	PhPlace		place;

	if (kind == PH_WORKER_SAMPLER)
	{
		(void) ph_set_worker(MyProcPid, 0, NULL);
		return;
	}
	if (!place_of(kind, &place))
	{
		(void) ph_set_http_worker(MyProcPid, 0);
		return;
	}
	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	if (*place.pid == MyProcPid)
	{
		*place.pid = 0;
		*place.latch = NULL;
		if (kind == PH_WORKER_CHECKER)
			ph_shared->checker_database = InvalidOid;
		/* readers of the polls see at once that nobody polls */
		if (kind == PH_WORKER_POLLER)
		{
			ph_shared->pooler_polls.poller_pid = 0;
			ph_shared->cluster_polls.poller_pid = 0;
		}
	}
	LWLockRelease(ph_shared->lock);
}

/*
 * Take this kind's place in shared memory, or leave: one worker of each
 * kind at a time.  The place is given back at exit.  parent is 0, or, for
 * a worker another one started (the checker), the pid of the names worker
 * that started it: such a worker serves only that one, and does not start
 * once it is gone (a new names worker starts its own).
 *
 * A worker that finds its place taken logs why and exits: with status 1
 * when the postmaster restarts it (it comes back if the other one goes),
 * with 0 when its starter does.
 */
void
ph_worker_claim(PhWorkerKind kind, pid_t parent)
{
	const char *what = ph_worker_kind_name(kind);
	PhPlace		place;
	pid_t		other;
	bool		orphan = false;

	if (kind == PH_WORKER_SAMPLER)
		other = ph_set_worker(0, MyProcPid, MyLatch);
	else if (!place_of(kind, &place))
		other = ph_set_http_worker(0, MyProcPid);
	else
	{
		LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
		other = *place.pid;
		orphan = parent != 0 && ph_shared->names.pid != parent;
		if (other == 0 && !orphan)
		{
			*place.pid = MyProcPid;
			*place.latch = MyLatch;
			if (kind == PH_WORKER_CHECKER)
				ph_shared->checker_database = MyDatabaseId;
		}
		LWLockRelease(ph_shared->lock);
	}
	if (other == 0 && !orphan)
	{
		before_shmem_exit(release_place, Int32GetDatum((int32) kind));
		return;
	}

	if (parent == 0)
	{
		ereport(LOG,
				(errmsg("pg_health %s already running with pid %d, exiting", what, (int) other)));
		proc_exit(1);
	}
	if (other != 0)
		ereport(LOG,
				(errmsg("pg_health %s not started: another %s runs with pid %d",
						what, what, (int) other)));
	else
		ereport(LOG,
				(errmsg("pg_health %s not started: the names worker that asked for it is gone",
						what)));
	proc_exit(0);
}

/*
 * Is pid the worker that holds this kind's place?  (The checker asks it of
 * the names worker that started it, every loop.)
 */
bool
ph_worker_running(PhWorkerKind kind, pid_t pid)
{
	PhPlace		place;
	pid_t		holder;

	if (!place_of(kind, &place))
		return (pid_t) pg_atomic_read_u32(&ph_shared->http_pid) == pid;
	LWLockAcquire(ph_shared->lock, LW_SHARED);
	holder = *place.pid;
	LWLockRelease(ph_shared->lock);
	return holder == pid;
}

/*
 * The top of every loop: stop when asked (SIGTERM), report this worker's
 * memory (health.workers), and reload the settings after a SIGHUP.  Returns
 * true when it reloaded them, for a worker that must look at what changed.
 */
bool
ph_worker_step(PhWorkerKind kind)
{
	CHECK_FOR_INTERRUPTS();
	ph_worker_memory_note(kind);
	if (!ConfigReloadPending)
		return false;
	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);
	return true;
}

/*
 * Wait for the latch, at most timeout_ms (at least 1 ms, so that a deadline
 * just passed cannot make a loop spin; < 0: no limit), shown as this wait;
 * then reset the latch and stop if asked.  Exits with the postmaster.  A
 * worker that waits on more than its latch (the HTTP worker's sockets)
 * passes ph_wait_event(wait) to its own WaitEventSetWait() instead.
 */
void
ph_worker_wait(PhWait wait, long timeout_ms)
{
	uint32		event = ph_wait_event(wait);

	if (timeout_ms < 0)
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1, event);
	else
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(timeout_ms, 1), event);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/*
 * The same wait, and also for a socket to become readable or writable
 * (events: WL_SOCKET_*); a socket of PGINVALID_SOCKET waits for the latch
 * and the time only.
 */
void
ph_worker_wait_socket(PhWait wait, pgsocket sock, int events, long timeout_ms)
{
	uint32		event = ph_wait_event(wait);

	/* WaitLatch() keeps its wait set; WaitLatchOrSocket() makes one a call */
	if (sock == PGINVALID_SOCKET)
	{
		ph_worker_wait(wait, Max(timeout_ms, 1));
		return;
	}
	(void) WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH | events,
							 sock, Max(timeout_ms, 1), event);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/*
 * Sleep ms whatever sets the latch (a pause that wakers cannot shorten),
 * shown as this wait; then stop if asked.  Exits with the postmaster.
 */
void
ph_worker_nap(PhWait wait, long ms)
{
	uint32		event = ph_wait_event(wait);

	if (ms > 0)
		(void) WaitLatch(NULL, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, event);
	CHECK_FOR_INTERRUPTS();
}

/*
 * Set the latch of the worker of this kind, if one runs.  The HTTP worker
 * keeps no latch in shared memory: nothing wakes it.  Under
 * ph_reader_lock_timeout (the HTTP worker waking the names worker) it gives
 * up rather than wait for the lock.
 */
void
ph_wake_worker(PhWorkerKind kind)
{
	PhPlace		place;
	Latch	   *latch;

	if (!place_of(kind, &place) || !ph_lock_for_reading())
		return;
	latch = *place.latch;
	LWLockRelease(ph_shared->lock);
	if (latch != NULL)
		SetLatch(latch);
}

/*
 * One wait of a round that polls sockets of its own (the pooler worker's
 * poolers and cluster members): interrupts and the postmaster first, then
 * poll() until the first deadline, at most 100 ms, under the named wait
 * event.  False when poll() failed (errno says why); EINTR is no failure.
 */
bool
ph_worker_poll(PhWait wait, struct pollfd *fds, int nfds, TimestampTz first_deadline)
{
	long		wait_ms;
	int			rc;

	CHECK_FOR_INTERRUPTS();
	if (!PostmasterIsAlive())
		proc_exit(1);
	wait_ms = Min(Max(TimestampDifferenceMilliseconds(GetCurrentTimestamp(), first_deadline), 1), 100);
	pgstat_report_wait_start(ph_wait_event(wait));
	rc = poll(fds, nfds, (int) wait_ms);
	pgstat_report_wait_end();
	return rc >= 0 || errno == EINTR;
}

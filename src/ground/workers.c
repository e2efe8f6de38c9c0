/*
 * workers.c -- what pg_health's background workers share (ground): the
 * cadence of sampling, the database the names worker and the checker
 * connect to (where the configuration the checker reads lives), how each
 * worker is described to the postmaster, and each worker's own report of
 * its memory (health.workers, health.log_worker_memory_contexts()).
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "ground/compat.h"
#include "ground/shmem.h"
#include "ground/workers.h"

/* how often a worker renews its memory figure, at most */
#define PH_MEMORY_NOTE_MS	100

int			ph_sample_interval_ms = 1000;
char	   *ph_database = NULL;

void
ph_define_worker_settings(void)
{
	DefineCustomIntVariable("pg_health.sample_interval",
							"Time between two samples of the health worker.",
							NULL,
							&ph_sample_interval_ms,
							1000, 10, 60000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomStringVariable("pg_health.database",
							   "Database that keeps the custom checks; the checker worker connects to it.",
							   "Empty turns custom checks and notifications off.",
							   &ph_database,
							   "postgres",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);
}

/*
 * Describe one of pg_health's background workers: function
 * pg_health_<what>_main, named and typed "pg_health <what>".
 */
void
ph_describe_worker(BackgroundWorker *w, const char *what, int flags,
				   BgWorkerStartTime start, int restart_seconds)
{
	memset(w, 0, sizeof(*w));
	w->bgw_flags = flags;
	w->bgw_start_time = start;
	w->bgw_restart_time = restart_seconds;
	strlcpy(w->bgw_library_name, "pg_health", sizeof(w->bgw_library_name));
	snprintf(w->bgw_function_name, sizeof(w->bgw_function_name), "pg_health_%s_main", what);
	snprintf(w->bgw_name, sizeof(w->bgw_name), "pg_health %s", what);
	snprintf(w->bgw_type, sizeof(w->bgw_type), "pg_health %s", what);
}

/*
 * What is configured in tables the checker reads (custom checks, poolers)
 * lives in pg_health.database: refuse to write it elsewhere, where nothing
 * would read it.  Who may write is the caller's to check.
 */
void
ph_require_config_database(const char *what)
{
	char	   *here = get_database_name(MyDatabaseId);

	if (ph_database == NULL || ph_database[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s are off: pg_health.database is empty", what),
				 errhint("Set pg_health.database to the database that keeps pg_health's configuration, and reload.")));
	if (here == NULL || strcmp(here, ph_database) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s are configured in database \"%s\", not \"%s\"",
						what, ph_database, here ? here : "?"),
				 errhint("Connect to database \"%s\" (pg_health.database) and call it there.",
						 ph_database)));
}

static const char *const worker_kind_names[PH_WORKER_KINDS] = {
	[PH_WORKER_SAMPLER] = "sampler",
	[PH_WORKER_HTTP] = "http",
	[PH_WORKER_NAMES] = "names",
	[PH_WORKER_CHECKER] = "checker",
	[PH_WORKER_POLLER] = "poller",
	[PH_WORKER_DISK] = "disk",
};

const char *
ph_worker_kind_name(PhWorkerKind kind)
{
	return worker_kind_names[kind];
}

bool
ph_worker_kind_from_name(const char *name, PhWorkerKind *kind)
{
	for (int k = 0; k < PH_WORKER_KINDS; k++)
		if (strcmp(name, worker_kind_names[k]) == 0)
		{
			*kind = (PhWorkerKind) k;
			return true;
		}
	return false;
}

static void
worker_memory_gone(int code, Datum arg)
{
	PhWorkerMemory *m = &ph_shared->worker_memory[DatumGetInt32(arg)];

	/* only our own place: a second worker of the kind may have taken it */
	if (pg_atomic_read_u32(&m->pid) == (uint32) MyProcPid)
	{
		m->latch = NULL;
		pg_write_barrier();
		pg_atomic_write_u32(&m->pid, 0);
	}
}

/*
 * A worker of this kind says what its memory contexts hold; called as it
 * loops, so that health.workers shows a figure at most PH_MEMORY_NOTE_MS
 * old from a worker that is awake (a worker asleep allocates nothing).
 * When a caller asked, it logs its contexts too, as
 * pg_log_backend_memory_contexts() makes a backend do.  Takes no lock.
 */
void
ph_worker_memory_note(PhWorkerKind kind)
{
	static bool registered = false;
	static TimestampTz last = 0;
	PhWorkerMemory *m = &ph_shared->worker_memory[kind];
	TimestampTz now;
	bool		log_it = pg_atomic_read_u32(&m->log_requested) != 0 &&
		pg_atomic_read_u32(&m->pid) == (uint32) MyProcPid;

	if (!registered)
	{
		before_shmem_exit(worker_memory_gone, Int32GetDatum((int32) kind));
		registered = true;
	}
	now = GetCurrentTimestamp();
	if (!log_it && !TimestampDifferenceExceeds(last, now, PH_MEMORY_NOTE_MS))
		return;
	last = now;
	m->latch = MyLatch;
	pg_atomic_write_u32(&m->pid, (uint32) MyProcPid);
	pg_atomic_write_u64(&m->context_bytes, (uint64) MemoryContextMemAllocated(TopMemoryContext, true));
	pg_atomic_write_u64(&m->measured_at, (uint64) now);
	if (log_it)
	{
		pg_atomic_write_u32(&m->log_requested, 0);
		ereport(LOG_SERVER_ONLY,
				(errhidestmt(true), errhidecontext(true),
				 errmsg("logging memory contexts of PID %d (pg_health %s)",
						MyProcPid, worker_kind_names[kind])));
		ph_log_memory_contexts();
	}
}

/*
 * Ask the worker of this kind to log its memory contexts at its next loop;
 * false when none runs.
 */
bool
ph_worker_memory_request_log(PhWorkerKind kind)
{
	PhWorkerMemory *m = &ph_shared->worker_memory[kind];
	Latch	   *latch;

	/* the pid first: a worker that left cleared its latch before its pid */
	if (pg_atomic_read_u32(&m->pid) == 0)
		return false;
	pg_read_barrier();
	latch = m->latch;
	pg_atomic_write_u32(&m->log_requested, 1);
	if (latch != NULL)
		SetLatch(latch);
	return true;
}

/* The figures of one kind's worker (a pid of 0: none runs). */
void
ph_worker_memory_read(PhWorkerKind kind, PhWorkerRow * row)
{
	PhWorkerMemory *m = &ph_shared->worker_memory[kind];

	row->worker = worker_kind_names[kind];
	row->pid = (pid_t) pg_atomic_read_u32(&m->pid);
	row->measured_at = (TimestampTz) pg_atomic_read_u64(&m->measured_at);
	row->context_bytes = (int64) pg_atomic_read_u64(&m->context_bytes);
}

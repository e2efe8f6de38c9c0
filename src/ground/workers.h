/*
 * workers.h -- what pg_health's background workers share (ground): how the
 * postmaster is told about one, the database they connect to and the
 * sampling cadence (workers.c).
 */
#ifndef PH_WORKERS_H
#define PH_WORKERS_H

#include "postgres.h"

#include "postmaster/bgworker.h"
#include "datatype/timestamp.h"

#include "ground/snapshot.h"

/* Long enough to avoid a hard restart loop, short enough for probes. */
#define PH_RESTART_SECONDS 2	/* the sampler's and the HTTP worker's */

/* pg_health.sample_interval, pg_health.database */
extern int	ph_sample_interval_ms;

/* max_worker_processes slots pg_health takes: five workers and the checker */
#define PH_WORKER_SLOTS 6
extern char *ph_database;

extern void ph_define_worker_settings(void);
extern void ph_describe_worker(BackgroundWorker *w, const char *what, int flags,
							   BgWorkerStartTime start, int restart_seconds);
extern void ph_require_config_database(const char *what);

/* each worker's report of its own memory (PhWorkerMemory), as a row */
typedef struct PhWorkerRow
{
	const char *worker;			/* its kind's name */
	pid_t		pid;			/* 0: none runs */
	int64		context_bytes;	/* 0 until measured */
	TimestampTz measured_at;	/* 0: never */
}			PhWorkerRow;

extern const char *ph_worker_kind_name(PhWorkerKind kind);
extern bool ph_worker_kind_from_name(const char *name, PhWorkerKind *kind);
extern void ph_worker_memory_note(PhWorkerKind kind);
extern bool ph_worker_memory_request_log(PhWorkerKind kind);
extern void ph_worker_memory_read(PhWorkerKind kind, PhWorkerRow * row);

#endif							/* PH_WORKERS_H */

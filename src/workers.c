/*
 * workers.c -- what pg_health's background workers share (ground): the
 * cadence of sampling, the database the names worker and the checker
 * connect to, and how each worker is described to the postmaster.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "workers.h"

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

/*
 * workers.c -- what pg_health's background workers share (ground): the
 * cadence of sampling, the database the names worker and the checker
 * connect to (where the configuration the checker reads lives), and how each
 * worker is described to the postmaster.
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "compat.h"
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

/*
 * pg_health.c -- module entry: GUCs, shared memory request, hooks, workers.
 *
 * _PG_init only registers.  When the library is not in
 * shared_preload_libraries it returns at once: the SQL functions then find no
 * shared memory and say how to preload (or, for live()/ready(), answer false).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/guc.h"

#include "pg_health.h"

PG_MODULE_MAGIC;

int			ph_sample_interval_ms = 1000;
int			ph_stale_after_ms = 5000;
int			ph_connections_warning = 80;
int			ph_connections_critical = 95;
int			ph_idle_xact_warning_s = 60;
int			ph_idle_xact_critical_s = 0;
int			ph_long_xact_warning_s = 300;
int			ph_long_xact_critical_s = 0;
int			ph_blocked_warning = 5;
int			ph_blocked_critical = 0;
int			ph_refusal_window_s = 60;
int			ph_history_size = 600;
int			ph_events_size = 200;
int			ph_limit_warning = 80;
int			ph_limit_critical = 100;
char	   *ph_required_components = NULL;
int			ph_component_ttl_s = 30;
int			ph_max_components = 32;
char	   *ph_database = NULL;
int			ph_http_port = 0;
char	   *ph_http_listen_addresses = NULL;
int			ph_http_max_clients = 64;
int			ph_http_client_timeout_ms = 2000;
double		ph_replica_max_lag_bytes = -1;
int			ph_replica_max_delay_ms = -1;
int			ph_replica_stream_grace_ms = 30000;
int			ph_min_sync_standbys = 0;
int			ph_slot_retained_warning_kb = 1024 * 1024;
int			ph_hold_samples = 1;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

void		_PG_init(void);

static void
ph_shmem_request_hook(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	ph_shmem_request();
}

static void
ph_shmem_startup_hook(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	ph_shmem_startup();
}

static void
ph_define_gucs(void)
{
	DefineCustomIntVariable("pg_health.sample_interval",
							"Time between two samples of the health worker.",
							NULL,
							&ph_sample_interval_ms,
							1000, 10, 60000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.stale_after",
							"Age after which the last sample counts as stale (status unknown, live() false).",
							"The effective limit is never below three sample intervals.",
							&ph_stale_after_ms,
							5000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.connections_warning",
							"Share of usable connection slots in use that makes the connections check a warning.",
							"Percent of max_connections less reserved slots; 0 turns the warning off.",
							&ph_connections_warning,
							80, 0, 1000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.connections_critical",
							"Share of usable connection slots in use that makes the connections check critical.",
							"Percent; 0 turns it off.  The check is critical whenever no slot is left for ordinary roles.",
							&ph_connections_critical,
							95, 0, 1000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.idle_in_transaction_warning",
							"Time idle in transaction after which the idle_in_transaction check warns.",
							"0 turns it off.",
							&ph_idle_xact_warning_s,
							60, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.idle_in_transaction_critical",
							"Time idle in transaction after which the idle_in_transaction check is critical.",
							"0 (the default) turns it off.",
							&ph_idle_xact_critical_s,
							0, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.long_transaction_warning",
							"Transaction age after which the long_transaction check warns.",
							"0 turns it off.",
							&ph_long_xact_warning_s,
							300, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.long_transaction_critical",
							"Transaction age after which the long_transaction check is critical.",
							"0 (the default) turns it off.",
							&ph_long_xact_critical_s,
							0, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.blocked_sessions_warning",
							"Number of sessions waiting on locks that makes the blocked_sessions check warn.",
							"0 turns it off.",
							&ph_blocked_warning,
							5, 0, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.blocked_sessions_critical",
							"Number of sessions waiting on locks that makes the blocked_sessions check critical.",
							"0 (the default) turns it off.",
							&ph_blocked_critical,
							0, 0, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.refusal_window",
							"How long after a connection refused for lack of slots the connection_refusals check stays critical.",
							"0 turns the check off.",
							&ph_refusal_window_s,
							60, 0, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.connection_limit_warning",
							"Percentage of a role's or database's CONNECTION LIMIT in use at which the connection_limits check warns.",
							"0 turns it off.",
							&ph_limit_warning,
							80, 0, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.connection_limit_critical",
							"Percentage of a role's or database's CONNECTION LIMIT in use at which the connection_limits check is critical.",
							"100 (the default) means at the limit, when its next connection is refused; 0 turns it off.",
							&ph_limit_critical,
							100, 0, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomStringVariable("pg_health.required_components",
							   "Application components that must report ready before the server is started and ready.",
							   "Comma-separated component names.",
							   &ph_required_components,
							   "",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   ph_check_required_components, NULL, NULL);
	DefineCustomIntVariable("pg_health.component_ttl",
							"Time without a report or heartbeat after which a component counts as lost.",
							"0 turns it off; a component's own ttl (health.configure_component) overrides it.",
							&ph_component_ttl_s,
							30, 0, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.max_components",
							"Number of application components shared memory has room for.",
							NULL,
							&ph_max_components,
							32, 1, PH_MAX_COMPONENTS_LIMIT,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomStringVariable("pg_health.database",
							   "Database that keeps the custom checks; the checker worker connects to it.",
							   "Empty turns custom checks and notifications off.",
							   &ph_database,
							   "postgres",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.http_port",
							"TCP port of the HTTP endpoint, served by the pg_health http worker.",
							"0 (the default) turns it off.  Applied on reload.",
							&ph_http_port,
							0, 0, 65535,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomStringVariable("pg_health.http_listen_addresses",
							   "Addresses the HTTP endpoint listens on.",
							   "Comma-separated host names or IP addresses; * for all.  Applied on reload.",
							   &ph_http_listen_addresses,
							   "localhost",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.http_max_clients",
							"HTTP clients served at once; more are answered 503 and closed.",
							NULL,
							&ph_http_max_clients,
							64, 1, 1024,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.http_client_timeout",
							"Time an HTTP client has to send its request and read the answer.",
							NULL,
							&ph_http_client_timeout_ms,
							2000, 10, 60000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomRealVariable("pg_health.replica_max_lag_bytes",
							 "Replay lag above which a standby is not ready (critical).",
							 "WAL received but not yet replayed; -1 (the default) turns it off.",
							 &ph_replica_max_lag_bytes,
							 -1, -1, 1e15,
							 PGC_SIGHUP, GUC_UNIT_BYTE,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.replica_max_delay",
							"Replay delay above which a standby is not ready (critical).",
							"How long received WAL has waited to be replayed; -1 (the default) turns it off.",
							&ph_replica_max_delay_ms,
							-1, -1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.replica_stream_grace",
							"Time a standby may go without streaming before it is not ready (critical).",
							"-1 does not require streaming (a standby fed from the archive).",
							&ph_replica_stream_grace_ms,
							30000, -1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.min_sync_standbys",
							"Synchronous standbys a primary needs to be ready; 0 (the default) turns it off.",
							NULL,
							&ph_min_sync_standbys,
							0, 0, 1000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.slot_retained_warning",
							"WAL retained by an inactive replication slot above which there is a warning.",
							"-1 turns it off.",
							&ph_slot_retained_warning_kb,
							1024 * 1024, -1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.hold_samples",
							"Consecutive samples a check's new status must hold before it counts.",
							"1 (the default) applies every change at once.",
							&ph_hold_samples,
							1, 1, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
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

	MarkGUCPrefixReserved("pg_health");
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

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	/* pg_upgrade's server must not run our workers or touch their data. */
	if (IsBinaryUpgrade)
		return;

	ph_define_gucs();

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ph_shmem_request_hook;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ph_shmem_startup_hook;

	ph_install_hooks();
	ph_register_sampler();
	ph_register_http_worker();
	ph_register_names_worker();
}

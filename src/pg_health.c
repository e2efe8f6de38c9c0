/*
 * pg_health.c -- module entry: each module's settings, the shared memory
 * request, the hooks and the workers (docs/design.md, "The house").
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

#include "collect/cluster_poll.h"
#include "collect/disk.h"
#include "collect/hooks.h"
#include "collect/names.h"
#include "collect/pooler_worker.h"
#include "collect/sampler.h"
#include "doors/fields.h"
#include "doors/http/http_server.h"
#include "doors/node.h"
#include "ground/shmem.h"
#include "ground/workers.h"
#include "judge/builtin_checks.h"
#include "judge/cluster_checks.h"
#include "judge/component_checks.h"
#include "judge/pooler_checks.h"
#include "judge/replication_checks.h"
#include "judge/verdict.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

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

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	/* pg_upgrade's server must not run our workers or touch their data. */
	if (IsBinaryUpgrade)
		return;

	/* each module defines the settings it owns (docs/settings.md) */
	ph_define_worker_settings();
	ph_define_shmem_settings();
	ph_define_verdict_settings();
	ph_define_check_settings();
	ph_define_component_settings();
	ph_define_http_settings();
	ph_define_field_settings();
	ph_define_cluster_poll_settings();
	ph_define_cluster_check_settings();
	ph_define_poller_settings();
	ph_define_pooler_check_settings();
	MarkGUCPrefixReserved("pg_health");

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ph_shmem_request_hook;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ph_shmem_startup_hook;

	ph_install_hooks();
	ph_register_sampler();
	ph_register_http_worker();
	ph_register_names_worker();
	ph_register_poller();
	ph_register_disk_worker();

	/*
	 * The five registered here and the checker the names worker starts: say
	 * so when they leave fewer than three slots for everyone else (the
	 * logical replication launcher takes one, parallel queries and other
	 * extensions the rest), as PostgreSQL's default of 8 does.
	 */
	if (max_worker_processes - PH_WORKER_SLOTS < 3)
		ereport(max_worker_processes - PH_WORKER_SLOTS < 1 ? WARNING : LOG,
				(errmsg("pg_health: its %d background workers leave %d of max_worker_processes (%d) for the logical replication launcher, parallel queries and other extensions",
						PH_WORKER_SLOTS, Max(max_worker_processes - PH_WORKER_SLOTS, 0),
						max_worker_processes),
				 errhint("Raise max_worker_processes by %d where those need more (a restart); with no slot left for the checker, the custom checks never run and health.started() stays false.",
						 PH_WORKER_SLOTS)));
}

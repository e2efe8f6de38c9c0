/*
 * test/instrumented/probe.c -- deliberate memory errors, for the preflight of
 * scripts/test's instrumented modes (PH_SANITIZE=1, PH_VALGRIND=1).  Built
 * with the same flags as pg_health, loaded into the same kind of server,
 * never installed: if the checker does not report these, a run that reports
 * nothing proves nothing.
 *
 *   ph_probe_backend()       a heap overflow in the calling backend
 *   ph_probe_worker()        the same in a background worker the postmaster
 *                            forks, as it forks pg_health's workers
 *   ph_probe_ub(int)         a shift by 32 + n bits (UndefinedBehaviorSanitizer;
 *                            not a signed overflow: PostgreSQL builds with
 *                            -fwrapv, which defines that one)
 */
#include "postgres.h"

#include <stdlib.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/builtins.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(ph_probe_backend);
PG_FUNCTION_INFO_V1(ph_probe_worker);
PG_FUNCTION_INFO_V1(ph_probe_ub);
PGDLLEXPORT void ph_probe_worker_main(Datum arg);

/* one byte written and read past a 16-byte malloc'd block */
static int
overflow(void)
{
	volatile size_t n = 16;		/* volatile: no compile-time warning */
	volatile char *p = malloc(n);
	int			c;

	if (p == NULL)
		elog(ERROR, "out of memory");
	p[n] = 'x';
	c = p[n];
	free((void *) p);
	return c;
}

Datum
ph_probe_backend(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(overflow());
}

void
ph_probe_worker_main(Datum arg)
{
	elog(LOG, "ph_probe worker: %d", overflow());
}

/* Starts the worker and waits for it to exit; true if it ran. */
Datum
ph_probe_worker(PG_FUNCTION_ARGS)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;
	pid_t		pid;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(w.bgw_library_name, text_to_cstring(PG_GETARG_TEXT_PP(0)), sizeof(w.bgw_library_name));
	strlcpy(w.bgw_function_name, "ph_probe_worker_main", sizeof(w.bgw_function_name));
	strlcpy(w.bgw_name, "ph_probe worker", sizeof(w.bgw_name));
	strlcpy(w.bgw_type, "ph_probe worker", sizeof(w.bgw_type));
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &h))
		PG_RETURN_BOOL(false);
	if (WaitForBackgroundWorkerStartup(h, &pid) != BGWH_STARTED)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(WaitForBackgroundWorkerShutdown(h) == BGWH_STOPPED);
}

Datum
ph_probe_ub(PG_FUNCTION_ARGS)
{
	volatile int bits = 32 + PG_GETARG_INT32(0);

	PG_RETURN_INT32(1 << bits);
}

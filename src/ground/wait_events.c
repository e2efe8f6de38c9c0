/*
 * wait_events.c -- the names of pg_health's waits (ground), so that
 * pg_stat_activity says what one of its processes waits for
 * ("PgHealthNamesPass") rather than "Extension", as worker_spi does.  On
 * PostgreSQL 15 and 16 there are no named waits of extensions: every one is
 * PG_WAIT_EXTENSION (compat.h).
 *
 * It calls nothing else of pg_health's, so that any file may name its waits,
 * shared memory's included.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/lwlock.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "ground/compat.h"
#include "ground/wait_events.h"

#if PH_HAVE_NAMED_WAIT_EVENTS
static const char *const wait_names[PH_WAITS] = {
	[PH_WAIT_SAMPLER_NEXT] = "PgHealthSamplerNextSample",
	[PH_WAIT_HTTP_CLIENTS] = "PgHealthHttpClients",
	[PH_WAIT_HTTP_IDLE] = "PgHealthHttpIdle",
	[PH_WAIT_NAMES_PASS] = "PgHealthNamesPass",
	[PH_WAIT_NAMES_PACING] = "PgHealthNamesPacing",
	[PH_WAIT_CHECKER_NEXT] = "PgHealthCheckerNextCheck",
	[PH_WAIT_POLLER_NEXT] = "PgHealthPollerNextRound",
	[PH_WAIT_POLLER_ANSWERS] = "PgHealthPollerAnswers",
	[PH_WAIT_ASKED_PAIR] = "PgHealthAskedPairLookup",
	[PH_WAIT_REFRESH] = "PgHealthRefresh",
	[PH_WAIT_DISK_NEXT] = "PgHealthDiskNextPass",
	[PH_WAIT_CLUSTER_ANSWERS] = "PgHealthClusterAnswers",
};

/*
 * Register one name.  The server keeps a fixed number of names for all
 * extensions together, and WaitEventExtensionNew() raises an error, holding
 * its lock, once they are taken: a worker must not die of that in its loop,
 * so the wait keeps the plain "Extension" and the log says why (once per
 * wait: the answer is kept).
 */
static uint32
register_name(const char *name)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile uint32 info = PG_WAIT_EXTENSION;
	ErrorData  *volatile edata = NULL;

	PG_TRY();
	{
		info = ph_register_wait_event(name);
	}
	PG_CATCH();
	{
		/* errfinish() zeroed the holdoff count that the release gives back */
		if (LWLockHeldByMe(PH_WAIT_EVENT_NAMES_LOCK))
		{
			HOLD_INTERRUPTS();
			LWLockRelease(PH_WAIT_EVENT_NAMES_LOCK);
		}
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	if (edata != NULL)
	{
		ereport(LOG,
				(errmsg("pg_health: wait event \"%s\" stays unnamed (\"Extension\"): %s",
						name, edata->message)));
		FreeErrorData(edata);
	}
	return info;
}
#endif

/*
 * The wait event to report for this wait: its name, registered at its
 * first use in this process (it takes a lock: never call it holding one),
 * or PG_WAIT_EXTENSION before 17.
 */
uint32
ph_wait_event(PhWait wait)
{
#if PH_HAVE_NAMED_WAIT_EVENTS
	static uint32 known[PH_WAITS];

	if (known[wait] == 0)
		known[wait] = register_name(wait_names[wait]);
	return known[wait];
#else
	return PG_WAIT_EXTENSION;
#endif
}

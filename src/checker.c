/*
 * checker.c -- custom checks (initialization gates) and notifications.
 *
 * A custom check is a named SQL query that returns one boolean, registered
 * in health.custom_checks of the database pg_health.database.  The checker
 * worker -- never the sampler, which must not block -- runs each one every
 * run_interval, in a subtransaction, as the role that registered it, under a
 * statement timeout, and caches the result in shared memory; the sampler
 * turns each result into a "custom:<name>" check of the verdict.  Whatever
 * the query does (false, NULL, no or several rows, an error, a timeout), the
 * checker records why and carries on.
 *
 * The checker also sends NOTIFY pg_health with a JSON payload for every
 * event the sampler records (a transition of the overall status or of any
 * check), on a primary.
 *
 * It is started, as a dynamic background worker, by the names worker
 * (names.c), which connects to no database and so can see whether
 * pg_health.database exists: a dropped database means no checker, one log
 * line, and a new checker once it exists again -- no restart loop of FATALs.
 * It handles SIGTERM (DROP DATABASE ... WITH (FORCE) sends it) and answers
 * procsignal barriers at every CHECK_FOR_INTERRUPTS, so CREATE and DROP
 * DATABASE never wait on it.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "compat.h"
#include "pg_health.h"

PG_FUNCTION_INFO_V1(pg_health_register_check_1_0);
PG_FUNCTION_INFO_V1(pg_health_drop_check_1_0);

#define PH_CHECK_MIN_INTERVAL_MS 100
#define PH_CHECK_MAX_INTERVAL_MS (86400 * 1000)
#define PH_CHECK_MAX_TIMEOUT_MS (300 * 1000)

/*
 * ------------------------------------------------------------------------
 * Registering and dropping (SQL functions, in any backend)
 * ------------------------------------------------------------------------
 */

/* Custom checks live in pg_health.database, by the owner's or a superuser's hand. */
static void
require_checks_database(void)
{
	char	   *here = get_database_name(MyDatabaseId);

	if (ph_database == NULL || ph_database[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("custom checks are off: pg_health.database is empty"),
				 errhint("Set pg_health.database to the database that keeps the custom checks, and reload.")));
	if (here == NULL || strcmp(here, ph_database) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("custom checks are registered in database \"%s\", not \"%s\"",
						ph_database, here ? here : "?"),
				 errhint("Connect to database \"%s\" (pg_health.database) and call it there.",
						 ph_database)));
	if (!superuser() && !ph_database_ownercheck(MyDatabaseId, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to manage custom checks in database \"%s\"", here),
				 errhint("Only the database's owner and superusers may register or drop custom checks.")));
}

static int
interval_ms_arg(FunctionCallInfo fcinfo, int argno, const char *what, int min_ms, int max_ms)
{
	Interval   *iv;
	double		ms;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what),
				 errhint("Leave it out to take the default.")));
	iv = PG_GETARG_INTERVAL_P(argno);
	ms = (iv->time + (double) iv->day * USECS_PER_DAY +
		  (double) iv->month * DAYS_PER_MONTH * USECS_PER_DAY) / 1000.0;
	if (ms < min_ms || ms > max_ms)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between %d ms and %d s", what, min_ms, max_ms / 1000),
				 errhint("Pass an interval such as '10s'.")));
	return (int) ms;
}

/*
 * Check that the query parses, plans for the caller, and returns exactly one
 * boolean column, so that a typo fails at registration, not at 3 a.m.
 */
static void
validate_query(const char *query)
{
	SPIPlanPtr	plan;
	List	   *sources;
	CachedPlanSource *src;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a custom check must be one SQL statement, not %d", list_length(sources)),
				 errhint("Write one SELECT that returns one boolean.")));
	src = linitial(sources);
	if (src->resultDesc == NULL || src->resultDesc->natts != 1 ||
		TupleDescAttr(src->resultDesc, 0)->atttypid != BOOLOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("a custom check must return one boolean column"),
				 errhint("For example: SELECT max(version) >= 42 FROM app.schema_migrations")));
	SPI_finish();
}

void
ph_wake_checker(void)
{
	Latch	   *latch;

	LWLockAcquire(ph_shared->lock, LW_SHARED);
	latch = ph_shared->checker_latch;
	LWLockRelease(ph_shared->lock);
	if (latch)
		SetLatch(latch);
}

Datum
pg_health_register_check_1_0(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *query;
	char	   *severity;
	int			interval_ms,
				timeout_ms;
	Oid			save_userid;
	int			save_sec;
	Oid			argtypes[6] = {TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID, TEXTOID};
	Datum		args[6];
	int64		count;
	bool		isnull;

	ph_require_preloaded();
	name = ph_name_arg(fcinfo, 0, "check name");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("query must not be NULL"),
				 errhint("Write one SELECT that returns one boolean.")));
	query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	severity = PG_ARGISNULL(2) ? "critical" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (strcmp(severity, "critical") != 0 && strcmp(severity, "warning") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid severity \"%s\"", severity),
				 errhint("Accepted values are 'critical' (a failing check makes the server not ready) and 'warning'.")));
	interval_ms = interval_ms_arg(fcinfo, 3, "run_interval", PH_CHECK_MIN_INTERVAL_MS,
								  PH_CHECK_MAX_INTERVAL_MS);
	timeout_ms = interval_ms_arg(fcinfo, 4, "timeout", 1, PH_CHECK_MAX_TIMEOUT_MS);
	require_checks_database();
	validate_query(query);

	args[0] = CStringGetTextDatum(name);
	args[1] = CStringGetTextDatum(query);
	args[2] = CStringGetTextDatum(severity);
	args[3] = Int32GetDatum(interval_ms);
	args[4] = Int32GetDatum(timeout_ms);
	args[5] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));

	ph_become_table_owner("custom_checks", &save_userid, &save_sec);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.count(*) FROM health.custom_checks "
							  "WHERE name OPERATOR(pg_catalog.<>) $1",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read health.custom_checks");
	count = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (count >= PH_MAX_CUSTOM_CHECKS)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("cannot register custom check \"%s\": there are already %d", name,
						PH_MAX_CUSTOM_CHECKS),
				 errhint("Drop checks no longer needed with health.drop_check(), or combine gates into one query.")));
	if (SPI_execute_with_args("INSERT INTO health.custom_checks "
							  "(name, query, severity, run_interval, timeout, registered_by) "
							  "VALUES ($1, $2, $3, $4 * interval '1 ms', $5 * interval '1 ms', $6) "
							  "ON CONFLICT (name) DO UPDATE SET query = EXCLUDED.query, "
							  "severity = EXCLUDED.severity, run_interval = EXCLUDED.run_interval, "
							  "timeout = EXCLUDED.timeout, registered_by = EXCLUDED.registered_by, "
							  "registered_at = pg_catalog.now()",
							  6, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write health.custom_checks");
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);

	ph_wake_checker();
	PG_RETURN_VOID();
}

Datum
pg_health_drop_check_1_0(PG_FUNCTION_ARGS)
{
	char	   *name;
	Oid			save_userid;
	int			save_sec;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		existed;

	ph_require_preloaded();
	name = ph_name_arg(fcinfo, 0, "check name");
	require_checks_database();
	args[0] = CStringGetTextDatum(name);
	ph_become_table_owner("custom_checks", &save_userid, &save_sec);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("DELETE FROM health.custom_checks WHERE name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not write health.custom_checks");
	existed = SPI_processed > 0;
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);
	ph_wake_checker();
	PG_RETURN_BOOL(existed);
}

/* The sampler: the checks and their last results. */
void
ph_read_custom_checks(PhCustomState *out)
{
	LWLockAcquire(ph_shared->lock, LW_SHARED);
	out->n = ph_shared->ncustom;
	memcpy(out->checks, ph_shared->custom, sizeof(PhCustomCheck) * out->n);
	out->checker_pid = ph_shared->checker_pid;
	out->loaded_at = ph_shared->checks_loaded_at;
	LWLockRelease(ph_shared->lock);
}

/*
 * ------------------------------------------------------------------------
 * The checker worker
 * ------------------------------------------------------------------------
 */

/* One registered check, as read from health.custom_checks. */
typedef struct CheckDef
{
	char		name[NAMEDATALEN];
	char	   *query;
	uint8		severity;
	int			interval_ms;
	int			timeout_ms;
	char		owner[NAMEDATALEN];
	TimestampTz next_run;
} CheckDef;

static MemoryContext defs_cxt = NULL;
static CheckDef *defs = NULL;
static int	ndefs = 0;

/* Read the registered checks; keep each one's schedule if it was known. */
static void
load_checks(void)
{
	MemoryContext old;
	MemoryContext fresh_cxt;
	CheckDef   *fresh;
	int			nfresh = 0;
	Oid			nsp;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_health: reading health.custom_checks");

	/* the new list gets a context of its own: the old one is still read below */
	fresh_cxt = AllocSetContextCreate(TopMemoryContext, "pg_health checks", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(fresh_cxt);
	fresh = palloc0(sizeof(CheckDef) * PH_MAX_CUSTOM_CHECKS);
	MemoryContextSwitchTo(old);

	nsp = get_namespace_oid("health", true);
	if (OidIsValid(nsp) && OidIsValid(get_relname_relid("custom_checks", nsp)))
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute("SELECT name, query, severity, "
						"pg_catalog.ceil(pg_catalog.date_part('epoch', run_interval) * 1000)::int4, "
						"pg_catalog.ceil(pg_catalog.date_part('epoch', timeout) * 1000)::int4, "
						"registered_by::pg_catalog.text "
						"FROM health.custom_checks ORDER BY name",
						true, PH_MAX_CUSTOM_CHECKS) != SPI_OK_SELECT)
			elog(ERROR, "could not read health.custom_checks");
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	row = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			CheckDef   *d = &fresh[nfresh++];
			bool		isnull;

			strlcpy(d->name, TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull)), NAMEDATALEN);
			old = MemoryContextSwitchTo(fresh_cxt);
			d->query = TextDatumGetCString(SPI_getbinval(row, desc, 2, &isnull));
			MemoryContextSwitchTo(old);
			d->severity = strcmp(TextDatumGetCString(SPI_getbinval(row, desc, 3, &isnull)),
								 "warning") == 0 ? PH_CHECK_WARNING : PH_CHECK_CRITICAL;
			d->interval_ms = DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull));
			d->timeout_ms = DatumGetInt32(SPI_getbinval(row, desc, 5, &isnull));
			strlcpy(d->owner, TextDatumGetCString(SPI_getbinval(row, desc, 6, &isnull)), NAMEDATALEN);
			d->next_run = 0;
			for (int k = 0; k < ndefs; k++)
				if (strcmp(defs[k].name, d->name) == 0 && defs[k].interval_ms == d->interval_ms &&
					strcmp(defs[k].query, d->query) == 0)
					d->next_run = defs[k].next_run;
		}
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	if (defs_cxt != NULL)
		MemoryContextDelete(defs_cxt);
	defs_cxt = fresh_cxt;
	defs = fresh;
	ndefs = nfresh;

	/* publish the list: results of checks that stay are kept */
	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	{
		PhCustomCheck list[PH_MAX_CUSTOM_CHECKS];

		for (int k = 0; k < ndefs; k++)
		{
			PhCustomCheck *c = &list[k];

			memset(c, 0, sizeof(*c));
			for (int j = 0; j < ph_shared->ncustom; j++)
				if (strcmp(ph_shared->custom[j].name, defs[k].name) == 0 &&
					defs[k].next_run != 0)
					*c = ph_shared->custom[j];
			strlcpy(c->name, defs[k].name, NAMEDATALEN);
			c->severity = defs[k].severity;
			c->interval_ms = defs[k].interval_ms;
			c->timeout_ms = defs[k].timeout_ms;
			strlcpy(c->owner, defs[k].owner, NAMEDATALEN);
		}
		memcpy(ph_shared->custom, list, sizeof(PhCustomCheck) * ndefs);
		ph_shared->ncustom = ndefs;
		if (ph_shared->checks_loaded_at == 0)
			ph_shared->checks_loaded_at = GetCurrentTimestamp();
	}
	LWLockRelease(ph_shared->lock);
}

/* Store one result. */
static void
publish_result(const CheckDef *d, bool passed, const char *detail, TimestampTz at, int64 duration_us)
{
	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	for (int j = 0; j < ph_shared->ncustom; j++)
	{
		PhCustomCheck *c = &ph_shared->custom[j];

		if (strcmp(c->name, d->name) != 0)
			continue;
		c->has_run = true;
		c->passed = passed;
		c->last_run_at = at;
		c->duration_us = duration_us;
		strlcpy(c->detail, detail, sizeof(c->detail));
	}
	LWLockRelease(ph_shared->lock);
}

/*
 * Run one check as its owner, in a subtransaction, under its timeout.  What
 * goes wrong inside is caught and becomes the result's detail.
 */
static void
run_check(CheckDef *d)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner_res;
	TimestampTz start;
	Oid			role;
	volatile bool passed = false;
	char		detail[PH_COMPONENT_DETAIL_LEN + 64];

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	owner_res = CurrentResourceOwner;
	pgstat_report_activity(STATE_RUNNING, d->query);
	start = GetCurrentTimestamp();
	role = get_role_oid(d->owner, true);

	if (!OidIsValid(role))
		snprintf(detail, sizeof(detail), "role \"%s\", which registered it, no longer exists", d->owner);
	else
	{
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			Oid			save_userid;
			int			save_sec;
			int			ret;

			GetUserIdAndSecContext(&save_userid, &save_sec);
			SetUserIdAndSecContext(role, save_sec | SECURITY_LOCAL_USERID_CHANGE |
								   SECURITY_RESTRICTED_OPERATION);
			enable_timeout_after(STATEMENT_TIMEOUT, d->timeout_ms);
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			ret = SPI_execute(d->query, false, 2);
			disable_timeout(STATEMENT_TIMEOUT, false);
			if (ret != SPI_OK_SELECT || SPI_tuptable == NULL)
				snprintf(detail, sizeof(detail), "the query is not a SELECT (%s)",
						 SPI_result_code_string(ret));
			else if (SPI_processed != 1)
				snprintf(detail, sizeof(detail), "returned %s, not one row",
						 SPI_processed == 0 ? "no row" : "more than one row");
			else if (SPI_tuptable->tupdesc->natts != 1 ||
					 TupleDescAttr(SPI_tuptable->tupdesc, 0)->atttypid != BOOLOID)
				snprintf(detail, sizeof(detail), "did not return one boolean column");
			else
			{
				bool		isnull;
				Datum		v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

				passed = !isnull && DatumGetBool(v);
				snprintf(detail, sizeof(detail), "%s", isnull ? "returned NULL" :
						 passed ? "returned true" : "returned false");
			}
			SPI_finish();
			SetUserIdAndSecContext(save_userid, save_sec);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner_res;
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			disable_timeout(STATEMENT_TIMEOUT, false);
			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner_res;
			passed = false;
			if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
				snprintf(detail, sizeof(detail), "did not finish within its timeout of %d ms",
						 d->timeout_ms);
			else
				snprintf(detail, sizeof(detail), "error: %s (SQLSTATE %s)", edata->message,
						 unpack_sql_state(edata->sqlerrcode));
			FreeErrorData(edata);
		}
		PG_END_TRY();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	publish_result(d, passed, detail, start, GetCurrentTimestamp() - start);
}

/* Send every event recorded since the last one sent: NOTIFY pg_health. */
static void
notify_events(void)
{
	PhEvent    *events;
	int			n;
	uint64		total,
				sent;

	if (RecoveryInProgress())
	{
		/* NOTIFY is impossible on a standby: skip what is there */
		LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
		ph_shared->events_notified = ph_shared->events_count;
		LWLockRelease(ph_shared->lock);
		return;
	}
	n = ph_read_events(&events, &total);
	LWLockAcquire(ph_shared->lock, LW_SHARED);
	sent = ph_shared->events_notified;
	LWLockRelease(ph_shared->lock);
	if (sent >= total || n == 0)
		return;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	for (int k = 0; k < n; k++)
	{
		uint64		seq = total - n + k;	/* this event's number */
		StringInfoData payload;

		if (seq < sent)
			continue;
		initStringInfo(&payload);
		ph_event_json(&payload, &events[k]);
		Async_Notify("pg_health", payload.data);
		pfree(payload.data);
	}
	CommitTransactionCommand();

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	ph_shared->events_notified = Max(ph_shared->events_notified, total);
	LWLockRelease(ph_shared->lock);
}

static void
ph_checker_detach(int code, Datum arg)
{
	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	if (ph_shared->checker_pid == MyProcPid)
	{
		ph_shared->checker_pid = 0;
		ph_shared->checker_latch = NULL;
		ph_shared->checker_database = InvalidOid;
	}
	LWLockRelease(ph_shared->lock);
}

/* Registered by the names worker with the database's oid as argument. */
bool
ph_start_checker(Oid dboid, BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	/* never restarted by the postmaster: the names worker restarts it */
	ph_describe_worker(&worker, "checker", BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION,
					   BgWorkerStart_ConsistentState, BGW_NEVER_RESTART);
	worker.bgw_main_arg = ObjectIdGetDatum(dboid);
	worker.bgw_notify_pid = MyProcPid;
	return RegisterDynamicBackgroundWorker(&worker, handle);
}

void
pg_health_checker_main(Datum main_arg)
{
	Oid			dboid = DatumGetObjectId(main_arg);

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);

	before_shmem_exit(ph_checker_detach, (Datum) 0);
	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	ph_shared->checker_pid = MyProcPid;
	ph_shared->checker_latch = MyLatch;
	ph_shared->checker_database = MyDatabaseId;
	LWLockRelease(ph_shared->lock);

	StartTransactionCommand();
	ereport(LOG,
			(errmsg("pg_health checker started in database \"%s\"", get_database_name(MyDatabaseId))));
	CommitTransactionCommand();

	for (;;)
	{
		TimestampTz now;
		TimestampTz next;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			char	   *here;

			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			StartTransactionCommand();
			here = get_database_name(MyDatabaseId);
			if (ph_database == NULL || here == NULL || strcmp(here, ph_database) != 0)
			{
				ereport(LOG,
						(errmsg("pg_health checker leaves database \"%s\": pg_health.database is now \"%s\"",
								here ? here : "?", ph_database ? ph_database : "")));
				proc_exit(0);
			}
			CommitTransactionCommand();
		}

		load_checks();
		now = GetCurrentTimestamp();
		next = TimestampTzPlusMilliseconds(now, 1000);
		for (int k = 0; k < ndefs; k++)
		{
			CHECK_FOR_INTERRUPTS();
			if (defs[k].next_run <= now)
			{
				run_check(&defs[k]);
				now = GetCurrentTimestamp();
				defs[k].next_run = TimestampTzPlusMilliseconds(now, defs[k].interval_ms);
			}
			next = Min(next, defs[k].next_run);
		}
		notify_events();

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next), 1),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

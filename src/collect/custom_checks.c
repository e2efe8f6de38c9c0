/*
 * custom_checks.c -- custom checks (initialization gates) and notifications
 * (collect).
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
 * The checker also loads the poolers' configuration (health.pooler_config)
 * for the pooler worker (pooler_config.c), and sends NOTIFY pg_health with a JSON payload for every
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
#include "storage/ipc.h"
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

#include "collect/custom_checks.h"
#include "collect/pooler_config.h"
#include "ground/compat.h"
#include "ground/guard.h"
#include "ground/json.h"
#include "ground/shmem.h"
#include "ground/worker_loop.h"
#include "ground/workers.h"
#include "judge/verdict.h"

PG_FUNCTION_INFO_V1(pg_health_register_check_1_0);
PG_FUNCTION_INFO_V1(pg_health_register_check_1_1);
PG_FUNCTION_INFO_V1(pg_health_drop_check_1_0);

#define PH_CHECK_MIN_INTERVAL_MS 100
#define PH_CHECK_MAX_INTERVAL_MS (86400 * 1000)
#define PH_CHECK_MAX_TIMEOUT_MS (300 * 1000)
#define PH_CHECK_MAX_SEARCH_PATH 1024

/*
 * ------------------------------------------------------------------------
 * Registering and dropping (SQL functions, in any backend)
 * ------------------------------------------------------------------------
 */

/* Custom checks live in pg_health.database, by the owner's or a superuser's hand. */
static void
require_checks_database(void)
{
	ph_require_config_database("custom checks");
	if (!superuser() && !ph_database_ownercheck(MyDatabaseId, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to manage custom checks in database \"%s\"", ph_database),
				 errhint("Only the database's owner and superusers may register or drop custom checks.")));
}

static void
validate_context(void *arg)
{
	errcontext("custom check query planned with search_path = %s: qualify its names "
			   "(app.schema_migrations) or register it with search_path => '...'",
			   (const char *) arg);
}

/*
 * Check that the query parses, plans for the caller, and returns exactly one
 * boolean column, so that a typo fails at registration, not at 3 a.m.
 */
static void
validate_query(const char *query, const char *search_path)
{
	SPIPlanPtr	plan;
	List	   *sources;
	CachedPlanSource *src;
	int			nestlevel;
	ErrorContextCallback context;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* names resolve now as they will when the checker runs it */
	nestlevel = ph_pin_search_path(search_path);
	context.callback = validate_context;
	context.arg = unconstify(char *, search_path ? search_path : PH_SAFE_SEARCH_PATH);
	context.previous = error_context_stack;
	error_context_stack = &context;
	plan = SPI_prepare(query, 0, NULL);
	error_context_stack = context.previous;
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
	ph_unpin_search_path(nestlevel);
	SPI_finish();
}

static Datum
interval_datum_ms(int ms)
{
	Interval   *iv = palloc0(sizeof(Interval));

	iv->time = (int64) ms * 1000;
	return IntervalPGetDatum(iv);
}

/*
 * register_check(name, query, severity, run_interval, timeout
 * [, search_path]): 1.0 has five arguments, 1.1 the sixth.
 */
static void
register_check(FunctionCallInfo fcinfo)
{
	char	   *name;
	char	   *query;
	char	   *severity;
	char	   *search_path = NULL;
	bool		with_path = PG_NARGS() > 5;
	int			interval_ms,
				timeout_ms;
	PhSavedUser save;
	Oid			argtypes[7] = {TEXTOID, TEXTOID, TEXTOID, INTERVALOID, INTERVALOID, TEXTOID, TEXTOID};
	Datum		args[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
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
	interval_ms = ph_interval_arg_ms(fcinfo, 3, "run_interval", PH_CHECK_MIN_INTERVAL_MS,
									 PH_CHECK_MAX_INTERVAL_MS);
	timeout_ms = ph_interval_arg_ms(fcinfo, 4, "timeout", 1, PH_CHECK_MAX_TIMEOUT_MS);
	if (with_path && !PG_ARGISNULL(5))
	{
		search_path = text_to_cstring(PG_GETARG_TEXT_PP(5));
		if (strlen(search_path) > PH_CHECK_MAX_SEARCH_PATH)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("search_path is %zu bytes long, more than the %d allowed",
							strlen(search_path), PH_CHECK_MAX_SEARCH_PATH),
					 errhint("Name the few schemas the query needs, or qualify its names and leave search_path out.")));
	}
	require_checks_database();
	validate_query(query, search_path);

	args[0] = CStringGetTextDatum(name);
	args[1] = CStringGetTextDatum(query);
	args[2] = CStringGetTextDatum(severity);
	args[3] = interval_datum_ms(interval_ms);
	args[4] = interval_datum_ms(timeout_ms);
	args[5] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	if (search_path)
		args[6] = CStringGetTextDatum(search_path);
	else
		nulls[6] = 'n';

	ph_become_table_owner("custom_checks", &save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* registrations one at a time, so the limit holds under concurrency */
	if (SPI_execute("LOCK TABLE health.custom_checks IN SHARE ROW EXCLUSIVE MODE",
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not lock health.custom_checks");
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
	if (SPI_execute_with_args(with_path ?
							  "INSERT INTO health.custom_checks "
							  "(name, query, severity, run_interval, timeout, registered_by, search_path) "
							  "VALUES ($1, $2, $3, $4, $5, $6, $7) "
							  "ON CONFLICT (name) DO UPDATE SET query = EXCLUDED.query, "
							  "severity = EXCLUDED.severity, run_interval = EXCLUDED.run_interval, "
							  "timeout = EXCLUDED.timeout, registered_by = EXCLUDED.registered_by, "
							  "search_path = EXCLUDED.search_path, registered_at = pg_catalog.now()" :
							  "INSERT INTO health.custom_checks "
							  "(name, query, severity, run_interval, timeout, registered_by) "
							  "VALUES ($1, $2, $3, $4, $5, $6) "
							  "ON CONFLICT (name) DO UPDATE SET query = EXCLUDED.query, "
							  "severity = EXCLUDED.severity, run_interval = EXCLUDED.run_interval, "
							  "timeout = EXCLUDED.timeout, registered_by = EXCLUDED.registered_by, "
							  "registered_at = pg_catalog.now()",
							  with_path ? 7 : 6, argtypes, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write health.custom_checks");
	SPI_finish();
	ph_restore_user(&save);

	ph_wake_worker(PH_WORKER_CHECKER);
}

Datum
pg_health_register_check_1_0(PG_FUNCTION_ARGS)
{
	register_check(fcinfo);
	PG_RETURN_VOID();
}

Datum
pg_health_register_check_1_1(PG_FUNCTION_ARGS)
{
	register_check(fcinfo);
	PG_RETURN_VOID();
}

Datum
pg_health_drop_check_1_0(PG_FUNCTION_ARGS)
{
	char	   *name;
	PhSavedUser save;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		existed;

	ph_require_preloaded();
	name = ph_name_arg(fcinfo, 0, "check name");
	require_checks_database();
	args[0] = CStringGetTextDatum(name);
	ph_become_table_owner("custom_checks", &save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("DELETE FROM health.custom_checks WHERE name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not write health.custom_checks");
	existed = SPI_processed > 0;
	SPI_finish();
	ph_restore_user(&save);
	ph_wake_worker(PH_WORKER_CHECKER);
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
	out->excess = ph_shared->custom_excess;
	memcpy(out->first_skipped, ph_shared->custom_first_skipped, NAMEDATALEN);
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
	char	   *search_path;	/* NULL: PH_SAFE_SEARCH_PATH */
	uint8		severity;
	int			interval_ms;
	int			timeout_ms;
	char		owner[NAMEDATALEN];
	TimestampTz next_run;
} CheckDef;

static MemoryContext defs_cxt = NULL;
static CheckDef *defs = NULL;
static int	ndefs = 0;

/* A text column of a row, copied into cxt; NULL stays NULL. */
static char *
text_column(HeapTuple row, TupleDesc desc, int col, MemoryContext cxt)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, desc, col, &isnull);

	return isnull ? NULL : MemoryContextStrdup(cxt, TextDatumGetCString(d));
}

/* An interval column in ms, clamped: a restored row may hold anything. */
static int
interval_column(HeapTuple row, TupleDesc desc, int col, int min_ms, int max_ms)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, desc, col, &isnull);

	return isnull ? max_ms : ph_clamp_ms(ph_interval_ms(DatumGetIntervalP(d)), min_ms, max_ms);
}

/*
 * Read the registered checks; keep each one's schedule if it was known.
 * Every row is taken as the table holds it, whatever put it there (a
 * restore, a superuser's INSERT): intervals and timeouts are clamped to
 * what register_check accepts, an unknown severity is critical, and rows
 * beyond PH_MAX_CUSTOM_CHECKS are counted, so that the sampler reports them
 * as a critical check instead of skipping them silently.
 */
static void
load_checks(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext fresh_cxt;
	CheckDef   *fresh;
	int			nfresh = 0;
	int			excess = 0;
	char		first_skipped[NAMEDATALEN] = "";
	Oid			nsp;
	Oid			relid = InvalidOid;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_health: reading health.custom_checks");

	/* the new list gets a context of its own: the old one is still read below */
	fresh_cxt = AllocSetContextCreate(TopMemoryContext, "pg_health checks", ALLOCSET_SMALL_SIZES);
	fresh = MemoryContextAllocZero(fresh_cxt, sizeof(CheckDef) * PH_MAX_CUSTOM_CHECKS);

	nsp = get_namespace_oid("health", true);
	if (OidIsValid(nsp))
		relid = get_relname_relid("custom_checks", nsp);
	if (OidIsValid(relid))
	{
		/* 1.0's table has no search_path column */
		bool		has_path = get_attnum(relid, "search_path") != InvalidAttrNumber;
		uint64		nrows;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(has_path ?
						"SELECT name, query, severity, run_interval, timeout, "
						"registered_by::pg_catalog.text, search_path "
						"FROM health.custom_checks ORDER BY name" :
						"SELECT name, query, severity, run_interval, timeout, "
						"registered_by::pg_catalog.text, NULL::pg_catalog.text "
						"FROM health.custom_checks ORDER BY name",
						true, PH_MAX_CUSTOM_CHECKS + 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read health.custom_checks");
		nrows = SPI_processed;
		for (uint64 r = 0; r < Min(nrows, PH_MAX_CUSTOM_CHECKS); r++)
		{
			HeapTuple	row = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			CheckDef   *d = &fresh[nfresh++];
			char	   *v;

			v = text_column(row, desc, 1, CurrentMemoryContext);
			ph_clean_text(d->name, NAMEDATALEN, v ? v : "", NAMEDATALEN);
			d->query = text_column(row, desc, 2, fresh_cxt);
			v = text_column(row, desc, 3, CurrentMemoryContext);
			d->severity = v && strcmp(v, "warning") == 0 ? PH_CHECK_WARNING : PH_CHECK_CRITICAL;
			d->interval_ms = interval_column(row, desc, 4, PH_CHECK_MIN_INTERVAL_MS,
											 PH_CHECK_MAX_INTERVAL_MS);
			d->timeout_ms = interval_column(row, desc, 5, 1, PH_CHECK_MAX_TIMEOUT_MS);
			v = text_column(row, desc, 6, CurrentMemoryContext);
			ph_clean_text(d->owner, NAMEDATALEN, v ? v : "", NAMEDATALEN);
			d->search_path = text_column(row, desc, 7, fresh_cxt);
			d->next_run = 0;
			for (int k = 0; k < ndefs; k++)
				if (strcmp(defs[k].name, d->name) == 0 && defs[k].interval_ms == d->interval_ms &&
					defs[k].query && d->query && strcmp(defs[k].query, d->query) == 0)
					d->next_run = defs[k].next_run;
		}
		if (nrows > PH_MAX_CUSTOM_CHECKS)
		{
			char	   *v = text_column(SPI_tuptable->vals[PH_MAX_CUSTOM_CHECKS],
										SPI_tuptable->tupdesc, 1, CurrentMemoryContext);
			bool		isnull;

			ph_clean_text(first_skipped, NAMEDATALEN, v ? v : "", NAMEDATALEN);
			if (SPI_execute("SELECT pg_catalog.count(*) FROM health.custom_checks",
							true, 1) != SPI_OK_SELECT)
				elog(ERROR, "could not count health.custom_checks");
			excess = (int) Min(DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, 1, &isnull)) -
							   PH_MAX_CUSTOM_CHECKS, (int64) INT_MAX);
		}
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	/* the commit left TopMemoryContext current */
	MemoryContextSwitchTo(cxt);
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
		ph_shared->custom_excess = excess;
		strlcpy(ph_shared->custom_first_skipped, first_skipped, NAMEDATALEN);
		if (ph_shared->checks_loaded_at == 0)
			ph_shared->checks_loaded_at = GetCurrentTimestamp();
	}
	LWLockRelease(ph_shared->lock);
}

/* Store one result; the detail is made valid UTF-8 before the lock. */
static void
publish_result(const CheckDef *d, bool passed, const char *detail, TimestampTz at, int64 duration_us)
{
	char		clean[sizeof(((PhCustomCheck *) NULL)->detail)];

	ph_clean_server_text(clean, sizeof(clean), detail);
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
		memcpy(c->detail, clean, sizeof(c->detail));
	}
	LWLockRelease(ph_shared->lock);
}

/*
 * Run one check as its owner, in a subtransaction, under its timeout, as a
 * function with SET clauses would run: at a GUC nest level of its own, with
 * search_path pinned (PH_SAFE_SEARCH_PATH unless the check stored one) and
 * transaction_read_only on, so a check that writes fails with its SQLSTATE.
 * The subtransaction is always rolled back: nothing a check does -- rows,
 * set_config(..., false), anything -- outlives it.  What goes wrong inside
 * is caught and becomes the result's detail.
 */
static void
run_check(CheckDef *d)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner_res;
	TimestampTz start;
	Oid			role;
	volatile bool passed = false;
	char	   *volatile detail = NULL;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	/* the detail outlives the transaction: it is made in the caller's context */
	MemoryContextSwitchTo(cxt);
	owner_res = CurrentResourceOwner;
	pgstat_report_activity(STATE_RUNNING, d->query ? d->query : "");
	start = GetCurrentTimestamp();
	role = get_role_oid(d->owner, true);

	if (d->query == NULL)
		detail = "its query is NULL in health.custom_checks";
	else if (!OidIsValid(role))
		detail = psprintf("role \"%s\", which registered it, no longer exists", d->owner);
	else
	{
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			Oid			save_userid;
			int			save_sec;
			int			ret;
			const char *result;
			char		buf[128];	/* SPI's memory is gone after SPI_finish */

			(void) ph_pin_search_path(d->search_path);
			/* as SET LOCAL: 16+ refuse it as a function's SET clause */
			(void) set_config_option("transaction_read_only", "on", PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_LOCAL, true, ERROR, false);
			GetUserIdAndSecContext(&save_userid, &save_sec);
			SetUserIdAndSecContext(role, save_sec | SECURITY_LOCAL_USERID_CHANGE |
								   SECURITY_RESTRICTED_OPERATION);
			enable_timeout_after(STATEMENT_TIMEOUT, d->timeout_ms);
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			ret = SPI_execute(d->query, false, 2);
			disable_timeout(STATEMENT_TIMEOUT, false);
			if (ret != SPI_OK_SELECT || SPI_tuptable == NULL)
			{
				snprintf(buf, sizeof(buf), "the query is not a SELECT (%s)",
						 SPI_result_code_string(ret));
				result = buf;
			}
			else if (SPI_processed != 1)
				result = SPI_processed == 0 ? "returned no row, not one row" :
					"returned more than one row, not one row";
			else if (SPI_tuptable->tupdesc->natts != 1 ||
					 TupleDescAttr(SPI_tuptable->tupdesc, 0)->atttypid != BOOLOID)
				result = "did not return one boolean column";
			else
			{
				bool		isnull;
				Datum		v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

				passed = !isnull && DatumGetBool(v);
				result = isnull ? "returned NULL" : passed ? "returned true" : "returned false";
			}
			SPI_finish();
			SetUserIdAndSecContext(save_userid, save_sec);
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner_res;
			detail = pstrdup(result);
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
				detail = psprintf("did not finish within its timeout of %d ms", d->timeout_ms);
			else
				detail = psprintf("error: %s (SQLSTATE %s)", edata->message,
								  unpack_sql_state(edata->sqlerrcode));
			FreeErrorData(edata);
		}
		PG_END_TRY();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
	publish_result(d, passed, detail, start, GetCurrentTimestamp() - start);
}

/*
 * One event as JSON: the NOTIFY pg_health payload.  "checks" lists the checks
 * whose status changed, as health.events.changes does (already JSON text).
 */
static void
event_json(StringInfo buf, const PhEvent *e)
{
	PhJson		jj;
	PhJson	   *j = &jj;

	ph_json_text_sink(j, buf);
	ph_json_open(j, false);
	ph_json_int(j, "generation", (int64) e->generation);
	ph_json_time(j, "occurred_at", e->occurred_at);
	ph_json_str(j, "old_status", ph_state_name((PhState) e->old_state));
	ph_json_str(j, "new_status", ph_state_name((PhState) e->new_state));
	ph_json_key(j, "checks");
	ph_json_value_start(j);
	appendStringInfoString(buf, e->changes[0] ? e->changes : "[]");
	ph_json_str(j, "reasons", e->reasons);
	ph_json_close(j);
}


/* Send every event recorded since the last one sent: NOTIFY pg_health. */
static void
notify_events(void)
{
	MemoryContext cxt = CurrentMemoryContext;
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
	/* nothing new: no copy of the ring */
	LWLockAcquire(ph_shared->lock, LW_SHARED);
	sent = ph_shared->events_notified;
	total = ph_shared->events_count;
	LWLockRelease(ph_shared->lock);
	if (sent >= total)
		return;
	/* only the new ones (more may have come since: the copy says how many) */
	n = ph_read_events(&events, (int) Min(total - sent, (uint64) INT_MAX), &total);
	if (n <= 0)
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
		event_json(&payload, &events[k]);
		Async_Notify("pg_health", payload.data);
		pfree(payload.data);
	}
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	pfree(events);

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	ph_shared->events_notified = Max(ph_shared->events_notified, total);
	LWLockRelease(ph_shared->lock);
}

/*
 * Registered by the names worker with the database's oid as argument and
 * its own pid in bgw_extra: a checker serves the names worker that started
 * it, and leaves when that one is gone (a new names worker starts its own),
 * so that terminating workers never multiplies checkers.
 */
bool
ph_start_checker(Oid dboid, BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	/* never restarted by the postmaster: the names worker restarts it */
	ph_describe_worker(&worker, "checker", BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION,
					   BgWorkerStart_ConsistentState, BGW_NEVER_RESTART);
	worker.bgw_main_arg = ObjectIdGetDatum(dboid);
	worker.bgw_notify_pid = MyProcPid;
	memcpy(worker.bgw_extra, &MyProcPid, sizeof(MyProcPid));
	return RegisterDynamicBackgroundWorker(&worker, handle);
}

void
pg_health_checker_main(Datum main_arg)
{
	Oid			dboid = DatumGetObjectId(main_arg);
	pid_t		parent;
	MemoryContext loop_cxt;

	ph_worker_start();
	memcpy(&parent, MyBgworkerEntry->bgw_extra, sizeof(parent));
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);

	/*
	 * One checker at a time, the current names worker's: a checker left by a
	 * names worker that was terminated leaves on its own (below), and a new
	 * one waits until it has.
	 */
	ph_worker_claim(PH_WORKER_CHECKER, parent);

	/*
	 * pg_health's own statements never resolve names through the database's
	 * path
	 */
	SetConfigOption("search_path", PH_SAFE_SEARCH_PATH, PGC_SUSET, PGC_S_SESSION);

	StartTransactionCommand();
	ereport(LOG,
			(errmsg("pg_health checker started in database \"%s\"", get_database_name(MyDatabaseId))));
	CommitTransactionCommand();

	/* each loop allocates here, and it is emptied at the end of the loop */
	loop_cxt = AllocSetContextCreate(TopMemoryContext, "pg_health checker loop",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TimestampTz now;
		TimestampTz next;
		bool		reloaded;

		reloaded = ph_worker_step(PH_WORKER_CHECKER);
		MemoryContextSwitchTo(loop_cxt);
		if (reloaded)
		{
			char	   *here;

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
			MemoryContextSwitchTo(loop_cxt);
		}
		if (!ph_worker_running(PH_WORKER_NAMES, parent))
		{
			ereport(LOG,
					(errmsg("pg_health checker exits: the names worker that started it (pid %d) is gone",
							(int) parent)));
			proc_exit(0);
		}

		load_checks();
		ph_load_poolers();
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

		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(loop_cxt);
		ph_worker_wait(PH_WAIT_CHECKER_NEXT,
					   TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next));
	}
}

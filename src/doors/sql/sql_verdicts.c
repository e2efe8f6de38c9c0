/*
 * sql_verdicts.c -- the verdict functions and the views of the verdict (doors):
 * live(), ready(), started(), checks, report, refresh, status, connections,
 * history, events, components.  sql_pools.c and sql_replication.c serve the
 * other views; components.c and custom_checks.c the configuration functions.
 *
 * Each reads through read.c (or copies a few words, or a ring, out of shared
 * memory under a shared lock, shmem.c) and formats after releasing it.  The verdict functions copy a few words, so
 * their cost does not depend on the number of sessions.  Without the library
 * preloaded there is no shared memory: live() and ready() answer false,
 * everything else fails with SQLSTATE 55000 and a hint.
 *
 * C symbols carry the SQL API version they first served (pg_stat_statements'
 * convention): a later version that changes a signature adds a new symbol
 * and keeps the old one, so an old install script keeps working.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "common/int.h"
#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "doors/fields.h"
#include "doors/report.h"
#include "ground/compat.h"
#include "ground/shmem.h"
#include "ground/workers.h"
#include "judge/admission.h"
#include "judge/component_checks.h"
#include "judge/verdict.h"
#include "read/read.h"

PG_FUNCTION_INFO_V1(pg_health_live_1_0);
PG_FUNCTION_INFO_V1(pg_health_ready_1_0);
PG_FUNCTION_INFO_V1(pg_health_ready_1_1);
PG_FUNCTION_INFO_V1(pg_health_started_1_0);
PG_FUNCTION_INFO_V1(pg_health_checks_1_0);
PG_FUNCTION_INFO_V1(pg_health_report_1_0);
PG_FUNCTION_INFO_V1(pg_health_report_1_1);
PG_FUNCTION_INFO_V1(pg_health_refresh_1_0);
PG_FUNCTION_INFO_V1(pg_health_status_1_0);
PG_FUNCTION_INFO_V1(pg_health_connections_1_0);
PG_FUNCTION_INFO_V1(pg_health_history_1_0);
PG_FUNCTION_INFO_V1(pg_health_events_1_0);
PG_FUNCTION_INFO_V1(pg_health_components_1_0);

/* Longest health.refresh() waits, at least; see ph_refresh_timeout(). */
#define PH_REFRESH_TIMEOUT_MS 5000

/* Longest a per-tenant call waits for the names worker to look new names up. */
#define PH_ADMISSION_WAIT_MS 2000

static PhRole
role_arg(FunctionCallInfo fcinfo, int argno)
{
	PhRole		role;
	char	   *s;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return PH_ROLE_ANY;
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (!ph_role_from_string(s, &role))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid role \"%s\"", s),
				 errhint("Accepted values are 'primary', 'replica', or NULL for either.")));
	return role;
}

/*
 * The replay limits of one call (arguments argno, argno + 1: max_lag_bytes
 * bigint, max_delay interval); NULL leaves the setting's limit.  Returns
 * whether there is any.
 */
static bool
overrides_arg(FunctionCallInfo fcinfo, int argno, PhOverrides *o)
{
	o->max_lag_bytes = -1;
	o->max_delay_ms = -1;
	if (PG_NARGS() > argno && !PG_ARGISNULL(argno))
	{
		o->max_lag_bytes = PG_GETARG_INT64(argno);
		if (o->max_lag_bytes < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_lag_bytes must not be negative: " INT64_FORMAT, o->max_lag_bytes),
					 errhint("Give the largest replay lag in bytes, e.g. pg_size_bytes('16MB'), or NULL for pg_health.replica_max_lag_bytes.")));
	}
	if (PG_NARGS() > argno + 1 && !PG_ARGISNULL(argno + 1))
	{
		Interval   *iv = PG_GETARG_INTERVAL_P(argno + 1);
		int64		us;

		if (iv->month != 0 ||
			pg_mul_s64_overflow((int64) iv->day, USECS_PER_DAY, &us) ||
			pg_add_s64_overflow(us, iv->time, &us) || us < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_delay must be a non-negative interval without months"),
					 errhint("Give the longest replay delay, e.g. interval '10 seconds', or NULL for pg_health.replica_max_delay.")));
		o->max_delay_ms = us / 1000;
	}
	return o->max_lag_bytes >= 0 || o->max_delay_ms >= 0;
}

/*
 * A role or database name to judge admission for (for_user, for_database:
 * argument argno); NULL when the call did not give one.  The names are
 * looked up exactly as a startup packet's are: case-sensitive, unquoted.
 */
static const char *
tenant_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	text	   *t;
	int			len;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return NULL;
	t = PG_GETARG_TEXT_PP(argno);
	len = VARSIZE_ANY_EXHDR(t);
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what),
				 errhint("Give a %s name as a connection would (case-sensitive, without quotes), or NULL not to ask.",
						 strcmp(what, "for_user") == 0 ? "role" : "database")));
	if (len >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("%s is too long: %d bytes", what, len),
				 errhint("Role and database names are at most %d bytes.", NAMEDATALEN - 1)));
	return text_to_cstring(t);
}

static void
verdict_now(PhRole role, PhVerdict *v)
{
	PhVerdictInput in;

	ph_read_verdict_input(role, &in);
	ph_verdict(&in, GetCurrentTimestamp(), v);
}

Datum
pg_health_live_1_0(PG_FUNCTION_ARGS)
{
	PhVerdict	v;

	if (!ph_preloaded())
		PG_RETURN_BOOL(false);
	verdict_now(PH_ROLE_ANY, &v);
	PG_RETURN_BOOL(v.live);
}

/*
 * health.ready(role, max_lag_bytes, max_delay[, for_user, for_database]):
 * 1.1 added the per-tenant arguments; 1.0's declaration has three.
 */
Datum
pg_health_ready_1_0(PG_FUNCTION_ARGS)
{
	PhRole		role = role_arg(fcinfo, 0);
	const char *user = tenant_arg(fcinfo, 3, "for_user");
	const char *database = tenant_arg(fcinfo, 4, "for_database");
	PhOverrides o;
	PhVerdict	v;

	if (user != NULL || database != NULL)
	{
		PhView		view;
		PhAdmission adm;

		if (!ph_preloaded())
			PG_RETURN_BOOL(false);
		(void) overrides_arg(fcinfo, 1, &o);
		ph_read_view(&view, role, &o, false);
		ph_read_admission(&view, user, database, false, PH_ADMISSION_WAIT_MS, &adm);
		PG_RETURN_BOOL(view.verdict.ready && adm.admit == PH_ADMIT_YES);
	}
	if (!overrides_arg(fcinfo, 1, &o))
	{
		if (!ph_preloaded())
			PG_RETURN_BOOL(false);
		verdict_now(role, &v);	/* O(1), no lock */
	}
	else
	{
		PhView		view;

		if (!ph_preloaded())
			PG_RETURN_BOOL(false);
		ph_read_view(&view, role, &o, false);
		v = view.verdict;
	}
	PG_RETURN_BOOL(v.ready);
}

Datum
pg_health_started_1_0(PG_FUNCTION_ARGS)
{
	PhVerdict	v;

	ph_require_preloaded();
	verdict_now(PH_ROLE_ANY, &v);
	PG_RETURN_BOOL(v.started);
}

Datum
pg_health_checks_1_0(PG_FUNCTION_ARGS)
{
	PhRole		role = role_arg(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PhView		view;
	PhCheck    *checks = ph_reader_buffer(PH_BUF_CHECKS);
	PhOverrides o;
	int			n;

	ph_require_preloaded();
	(void) overrides_arg(fcinfo, 1, &o);
	InitMaterializedSRF(fcinfo, 0);
	ph_require_natts(rsinfo->setDesc, "health.checks", 7);

	ph_read_view(&view, role, &o, false);
	n = ph_collect_checks(view.snap, view.worker_pid, role, view.now, checks);

	for (int i = 0; i < n; i++)
	{
		Datum		values[7];
		bool		nulls[7] = {0};

		values[0] = CStringGetTextDatum(checks[i].name);
		values[1] = CStringGetTextDatum(ph_check_status_name((PhCheckStatus) checks[i].status));
		ph_set_float(values, nulls, 2, checks[i].value);
		ph_set_float(values, nulls, 3, checks[i].warning_threshold);
		ph_set_float(values, nulls, 4, checks[i].critical_threshold);
		values[5] = CStringGetTextDatum(checks[i].detail);
		ph_set_time(values, nulls, 6, checks[i].since);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

Datum
pg_health_ready_1_1(PG_FUNCTION_ARGS)
{
	return pg_health_ready_1_0(fcinfo);
}

/* health.report(role, max_lag_bytes, max_delay[, for_user, for_database]) */
Datum
pg_health_report_1_0(PG_FUNCTION_ARGS)
{
	PhRole		role = role_arg(fcinfo, 0);
	const char *user = tenant_arg(fcinfo, 3, "for_user");
	const char *database = tenant_arg(fcinfo, 4, "for_database");
	PhView		view;
	PhOverrides o;
	PhAdmission adm;

	ph_require_preloaded();
	(void) overrides_arg(fcinfo, 1, &o);
	ph_read_view(&view, role, &o, true);
	if (user != NULL || database != NULL)
		ph_read_admission(&view, user, database, false, PH_ADMISSION_WAIT_MS, &adm);
	PG_RETURN_JSONB_P(ph_report_jsonb(view.snap, view.components, view.poolers, view.worker_pid, role, view.now,
									  user != NULL || database != NULL ? &adm : NULL));
}

Datum
pg_health_report_1_1(PG_FUNCTION_ARGS)
{
	return pg_health_report_1_0(fcinfo);
}

/* health.components: each component as the latest sample judged it. */
Datum
pg_health_components_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PhView		view;
	const PhSnapshot *snap;
	const PhComponentTable *t;
	static const char *const after[] = {"sampled_at", NULL};
	Datum		values[32];
	bool		nulls[32];
	uint8		skip;

	ph_require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	ph_read_view(&view, PH_ROLE_ANY, NULL, true);
	snap = view.snap;
	t = view.components;
	if (snap->generation == 0)
		return (Datum) 0;
	/* every call: the declaration called may be any (a few us) */
	ph_check_columns(rsinfo->setDesc, "health.components", 0, ph_component_fields,
					 ph_n_component_fields, after, &skip);
	if (rsinfo->setDesc->natts > (int) lengthof(values))
		elog(ERROR, "health.components has more columns than pg_health can fill");
	for (int k = 0; k < t->n; k++)
	{
		int			i = 0;

		memset(nulls, 0, sizeof(nulls));
		ph_put_fields(values, nulls, &i, ph_component_fields, ph_n_component_fields,
					  &t->items[k], snap->sampled_at, skip);
		values[i++] = TimestampTzGetDatum(snap->sampled_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

static int
ph_refresh_timeout(void)
{
	return Max(PH_REFRESH_TIMEOUT_MS, 3 * ph_sample_interval_ms);
}

/*
 * Ask the sampler for a sample that starts after this call, and wait for it.
 * Concurrent callers share one sample, and the sampler takes at most one
 * refresh-driven sample per interval besides its regular ones (sampler.c),
 * so the wait is at most about one interval, well within the timeout.
 * Returns false when no sample came in time.
 *
 * Callers wake the sampler as little as they can, since many in a loop
 * would otherwise keep it busy waking for nothing.  Only the first of the
 * waiting requests sets its latch: when an earlier one is still unanswered,
 * the sampler has been (or is being) woken for it, and it reads the counter
 * when a sample starts and again after each sample it publishes, so it sees
 * ours in time for the next sample it may take.  And the latch is set once,
 * not at every wake-up: a sampler that does not sample at once (it took its
 * extra sample of this interval) has seen the request and waits only until
 * it may.  A sampler that restarts while we wait has another pid and is set
 * again (its first sample answers every request made before it anyway).
 */
Datum
pg_health_refresh_1_0(PG_FUNCTION_ARGS)
{
	bool		answered;

	ph_require_preloaded();
	answered = ph_read_fresh_sample(ph_refresh_timeout());
	if (!answered)
		ereport(WARNING,
				(errmsg("pg_health sampler did not take a sample within %d ms",
						ph_refresh_timeout()),
				 errhint("Check that the \"pg_health sampler\" process runs; see the server log.")));
	PG_RETURN_BOOL(answered);
}

static TupleDesc
result_tupdesc(FunctionCallInfo fcinfo)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	return BlessTupleDesc(tupdesc);
}

Datum
pg_health_status_1_0(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc = result_tupdesc(fcinfo);
	PhPageView	pv;
	const PhSnapshot *snap;
	pid_t		worker_pid;
	PhVerdict	v;
	Datum		values[16];
	bool		nulls[16] = {0};
	int			i = 0;

	ph_require_preloaded();
	ph_require_natts(tupdesc, "health.status", lengthof(values));
	ph_read_page(&pv, 0, 0, 0);
	snap = pv.snap;
	worker_pid = pv.worker_pid;
	v = pv.verdict;

	values[i++] = CStringGetTextDatum(ph_state_name(v.state));
	values[i++] = BoolGetDatum(v.ready);
	values[i++] = BoolGetDatum(v.live);
	values[i++] = BoolGetDatum(v.started);
	if (snap->generation == 0)
	{
		nulls[i++] = true;
		nulls[i++] = true;
	}
	else
	{
		values[i++] = CStringGetTextDatum(ph_role_name(ph_role_of(snap->in_recovery)));
		values[i++] = BoolGetDatum(snap->in_recovery);
	}
	ph_set_time(values, nulls, i++, PgStartTime);
	ph_set_time(values, nulls, i++, pv.shmem_initialized_at);
	ph_set_time(values, nulls, i++, snap->started_at);
	if (worker_pid == 0)
		nulls[i++] = true;
	else
		values[i++] = Int32GetDatum(worker_pid);
	ph_set_time(values, nulls, i++, snap->worker_started_at);
	values[i++] = Int64GetDatum((int64) snap->generation);
	ph_set_time(values, nulls, i++, snap->sampled_at);
	if (v.age_ms < 0)
	{
		nulls[i++] = true;
		nulls[i++] = true;
	}
	else
	{
		values[i++] = ph_interval_datum(v.age_ms * 1000);
		values[i++] = ph_interval_datum(snap->sample_duration_us);
	}
	values[i++] = Int64GetDatum((int64) pv.shmem_size);
	Assert(i == tupdesc->natts);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

Datum
pg_health_connections_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PhView		view;
	const PhSnapshot *snap;
	static const char *const after[] = {"sampled_at", NULL};
	Datum		values[64];
	bool		nulls[64] = {0};
	int			i = 0;
	uint8		skip;

	ph_require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	/* every call: the declaration called may be any (a few us) */
	ph_check_columns(rsinfo->setDesc, "health.connections", 0, ph_connection_fields,
					 ph_n_connection_fields, after, &skip);
	if (rsinfo->setDesc->natts > (int) lengthof(values))
		elog(ERROR, "health.connections has more columns than pg_health can fill");
	ph_read_view(&view, PH_ROLE_ANY, NULL, false);
	snap = view.snap;
	if (snap->generation == 0)
		return (Datum) 0;

	/* the fields (fields.c), then the sample's time */
	ph_put_fields(values, nulls, &i, ph_connection_fields, ph_n_connection_fields,
				  &snap->conn, snap->sampled_at, skip);
	values[i++] = TimestampTzGetDatum(snap->sampled_at);
	Assert(i == rsinfo->setDesc->natts);

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/* health.history and health.events: a ring, its columns from fields.c. */
static void
ring_rows(FunctionCallInfo fcinfo, const char *view, uint32 part, const PhField *fields, int nfields)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	static const char *const nothing_after[] = {NULL};
	PhPageView	pv;
	Datum		values[32];
	bool		nulls[32];
	uint8		skip;
	int			n;
	Size		size;

	ph_require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	/* exactly the table's columns, or an error (never past the arrays) */
	ph_check_columns(rsinfo->setDesc, view, 0, fields, nfields, nothing_after, &skip);
	if (rsinfo->setDesc->natts > (int) lengthof(values))
		elog(ERROR, "%s has more columns than pg_health can fill", view);
	ph_read_page(&pv, part, 0, 0);
	n = part == PH_PART_HISTORY ? pv.nhistory : pv.nevents;
	size = part == PH_PART_HISTORY ? sizeof(PhHistoryEntry) : sizeof(PhEvent);
	for (int k = 0; k < n; k++)
	{
		const char *entry = (part == PH_PART_HISTORY ? (const char *) pv.history :
							 (const char *) pv.events) + k * size;
		int			i = 0;

		memset(nulls, 0, sizeof(nulls));
		ph_put_fields(values, nulls, &i, fields, nfields, entry, 0, skip);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

Datum
pg_health_history_1_0(PG_FUNCTION_ARGS)
{
	ring_rows(fcinfo, "health.history", PH_PART_HISTORY, ph_history_fields, ph_n_history_fields);
	return (Datum) 0;
}

Datum
pg_health_events_1_0(PG_FUNCTION_ARGS)
{
	ring_rows(fcinfo, "health.events", PH_PART_EVENTS, ph_event_fields, ph_n_event_fields);
	return (Datum) 0;
}

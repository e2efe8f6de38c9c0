/*
 * sql_poolers.c -- health.poolers and health.pooler_pools (doors): the
 * connection poolers in front of the server as the latest sample saw them,
 * one row per pooler and one per pool (database, user) at a pooler.  What
 * they show is the pooler worker's last poll (pooler_worker.c), copied with the
 * snapshot; the columns come from fields.c.  Never the conninfo.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "doors/fields.h"
#include "ground/compat.h"
#include "ground/shmem.h"
#include "judge/verdict.h"
#include "read/read.h"

PG_FUNCTION_INFO_V1(pg_health_poolers_1_1);
PG_FUNCTION_INFO_V1(pg_health_pooler_pools_1_1);

#define PH_POOLER_COLS 32

/* The check the latest sample made of a pooler ("pooler:<name>"). */
static const PhCheck *
pooler_check(const PhSnapshot *snap, const char *name)
{
	char		want[PH_NAME_LEN];

	snprintf(want, sizeof(want), "pooler:%s", name);
	for (int i = 0; i < snap->nchecks; i++)
		if (strcmp(snap->checks[i].name, want) == 0)
			return &snap->checks[i];
	return NULL;
}

/*
 * Both views: the latest sample with its poolers, and the view's columns
 * checked against the fields; false when nothing was sampled yet.
 */
static bool
begin_rows(FunctionCallInfo fcinfo, PhView *view, const char *name, int first,
		   const PhField *fields, int n, const char *const *after, uint8 *skip)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	ph_require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	ph_read_view(view, PH_ROLE_ANY, NULL, true);
	if (view->snap->generation == 0)
		return false;
	ph_check_columns(rsinfo->setDesc, name, first, fields, n, after, skip);
	if (rsinfo->setDesc->natts > PH_POOLER_COLS)
		elog(ERROR, "%s has more columns than pg_health can fill", name);
	return true;
}

Datum
pg_health_poolers_1_1(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PhView		view;
	static const char *const after[] = {"status", "detail", "sampled_at", NULL};
	Datum		values[PH_POOLER_COLS];
	bool		nulls[PH_POOLER_COLS];
	uint8		skip;

	if (!begin_rows(fcinfo, &view, "health.poolers", 0, ph_pooler_fields, ph_n_pooler_fields,
					after, &skip))
		return (Datum) 0;
	for (int k = 0; k < view.poolers->n; k++)
	{
		const PhPooler *p = &view.poolers->items[k];
		const PhCheck *c = pooler_check(view.snap, p->name);
		int			i = 0;

		memset(nulls, 0, sizeof(nulls));
		ph_put_fields(values, nulls, &i, ph_pooler_fields, ph_n_pooler_fields, p,
					  view.snap->sampled_at, skip);
		ph_set_text(values, nulls, i++, c ? ph_check_status_name((PhCheckStatus) c->status) : NULL);
		ph_set_text(values, nulls, i++, c ? c->detail : NULL);
		values[i++] = TimestampTzGetDatum(view.snap->sampled_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

Datum
pg_health_pooler_pools_1_1(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PhView		view;
	static const char *const after[] = {"answered_at", NULL};
	Datum		values[PH_POOLER_COLS];
	bool		nulls[PH_POOLER_COLS];
	uint8		skip;

	if (!begin_rows(fcinfo, &view, "health.pooler_pools", 1, ph_pooler_pool_fields,
					ph_n_pooler_pool_fields, after, &skip))
		return (Datum) 0;
	for (int k = 0; k < view.poolers->n; k++)
	{
		const PhPooler *p = &view.poolers->items[k];

		for (int j = 0; j < p->npools; j++)
		{
			int			i = 0;

			memset(nulls, 0, sizeof(nulls));
			values[i++] = CStringGetTextDatum(p->name);
			ph_put_fields(values, nulls, &i, ph_pooler_pool_fields, ph_n_pooler_pool_fields,
						  &p->pools[j], view.snap->sampled_at, skip);
			ph_set_time(values, nulls, i++, p->answered_at);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * sql_workers.c -- health.workers and health.log_worker_memory_contexts()
 * (doors): each of pg_health's workers as it reports itself (workers.c):
 * its pid and what its memory contexts hold, and a way to have it log
 * them.  pg_log_backend_memory_contexts() cannot reach the workers that
 * have no database connection ("not a PostgreSQL server process"); this
 * reaches all six, so a leak shows in a figure, not only in RSS.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "doors/fields.h"
#include "ground/compat.h"
#include "ground/shmem.h"
#include "ground/workers.h"

PG_FUNCTION_INFO_V1(pg_health_workers_1_2);
PG_FUNCTION_INFO_V1(pg_health_log_worker_memory_contexts_1_2);

Datum
pg_health_workers_1_2(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	static const char *const nothing_after[] = {NULL};
	Datum		values[8];
	bool		nulls[8];
	uint8		skip;

	ph_require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	/* exactly the table's columns, or an error (never past the arrays) */
	ph_check_columns(rsinfo->setDesc, "health.workers", 0, ph_worker_fields, ph_n_worker_fields,
					 nothing_after, &skip);
	if (rsinfo->setDesc->natts > (int) lengthof(values))
		elog(ERROR, "health.workers has more columns than pg_health can fill");
	for (int k = 0; k < PH_WORKER_KINDS; k++)
	{
		PhWorkerRow row;
		int			i = 0;

		ph_worker_memory_read((PhWorkerKind) k, &row);
		memset(nulls, 0, sizeof(nulls));
		ph_put_fields(values, nulls, &i, ph_worker_fields, ph_n_worker_fields, &row, 0, skip);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * health.log_worker_memory_contexts(worker): the worker logs its memory
 * contexts at its next loop (within its cadence: the sampler's interval, at
 * once for the HTTP worker), at LOG_SERVER_ONLY.  False when none runs.
 * Superusers only by default, like pg_log_backend_memory_contexts().
 */
Datum
pg_health_log_worker_memory_contexts_1_2(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	PhWorkerKind kind;

	ph_require_preloaded();
	if (!ph_worker_kind_from_name(name, &kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no pg_health worker is called \"%s\"", name),
				 errhint("The workers are sampler, http, names, checker, poller and disk (health.workers).")));
	PG_RETURN_BOOL(ph_worker_memory_request_log(kind));
}

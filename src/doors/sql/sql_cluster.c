/*
 * sql_cluster.c -- health.cluster (doors): each member of
 * pg_health.cluster_members as this node's poller last asked it for its
 * identity (cluster_poll.c), in the latest sample.  The same rows are
 * GET /cluster's members, the report's "cluster" and /metrics'
 * cluster_member_* families.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"

#include "doors/fields.h"
#include "ground/compat.h"
#include "ground/shmem.h"
#include "read/read.h"

PG_FUNCTION_INFO_V1(pg_health_cluster_1_2);

Datum
pg_health_cluster_1_2(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	static const char *const nothing_after[] = {NULL};
	Datum		values[24];
	bool		nulls[24];
	uint8		skip;
	PhView		view;
	const PhClusterTable *t;

	ph_require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	/* exactly the table's columns, or an error (never past the arrays) */
	ph_check_columns(rsinfo->setDesc, "health.cluster", 0, ph_member_fields,
					 ph_n_member_fields, nothing_after, &skip);
	if (rsinfo->setDesc->natts > (int) lengthof(values))
		elog(ERROR, "health.cluster has more columns than pg_health can fill");
	ph_read_view(&view, PH_ROLE_ANY, NULL, false);
	t = &view.snap->cluster;
	for (int k = 0; view.snap->generation > 0 && k < t->n; k++)
	{
		int			i = 0;

		memset(nulls, 0, sizeof(nulls));
		ph_put_fields(values, nulls, &i, ph_member_fields, ph_n_member_fields,
					  &t->members[k], view.now, skip);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

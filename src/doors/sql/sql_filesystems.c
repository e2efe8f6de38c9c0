/*
 * sql_filesystems.c -- health.filesystems (doors): each filesystem that
 * holds the data directory, pg_wal or a tablespace, as the disk worker last
 * measured it (disk.c) in the latest sample: size, room, growth and when it
 * is full at that growth.  The same rows are the report's
 * serving.filesystems and /metrics' filesystem_* families.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"

#include "doors/fields.h"
#include "ground/compat.h"
#include "ground/shmem.h"
#include "read/read.h"

PG_FUNCTION_INFO_V1(pg_health_filesystems_1_2);

Datum
pg_health_filesystems_1_2(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	static const char *const nothing_after[] = {NULL};
	Datum		values[12];
	bool		nulls[12];
	uint8		skip;
	PhView		view;
	const PhDisk *d;

	ph_require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	/* exactly the table's columns, or an error (never past the arrays) */
	ph_check_columns(rsinfo->setDesc, "health.filesystems", 0, ph_filesystem_fields,
					 ph_n_filesystem_fields, nothing_after, &skip);
	if (rsinfo->setDesc->natts > (int) lengthof(values))
		elog(ERROR, "health.filesystems has more columns than pg_health can fill");
	ph_read_view(&view, PH_ROLE_ANY, NULL, false);
	d = &view.snap->serving.disk;
	for (int k = 0; view.snap->generation > 0 && k < d->n; k++)
	{
		int			i = 0;

		memset(nulls, 0, sizeof(nulls));
		ph_put_fields(values, nulls, &i, ph_filesystem_fields, ph_n_filesystem_fields,
					  &d->fs[k], view.snap->sampled_at, skip);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

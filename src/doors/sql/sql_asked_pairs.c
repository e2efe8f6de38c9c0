/*
 * sql_asked_pairs.c -- health.asked_pairs (doors): the (role, database) pairs
 * the per-tenant question has been asked about, who asked first (whose
 * share of the table the entry takes, asked_pairs.c), when, and how their
 * lookup went.  For a DBA who wants to see who uses the table; the columns
 * come from fields.c.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"

#include "doors/fields.h"
#include "ground/asked_pairs.h"
#include "ground/compat.h"
#include "ground/shmem.h"

PG_FUNCTION_INFO_V1(pg_health_asked_pairs_1_2);

/* Who asked a pair first, in words: http, component, or the role's name. */
static void
asker_name(const PhAsker *asker, char *out, size_t len)
{
	const char *name;

	switch ((PhAskerKind) asker->kind)
	{
		case PH_ASKER_HTTP:
			strlcpy(out, "http", len);
			return;
		case PH_ASKER_COMPONENT:
			strlcpy(out, "component", len);
			return;
		case PH_ASKER_SQL:
			break;
	}
	name = GetUserNameFromId(asker->role, true);
	if (name != NULL)
		strlcpy(out, name, len);
	else
		snprintf(out, len, "oid %u", asker->role);
}

Datum
pg_health_asked_pairs_1_2(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	static const char *const nothing_after[] = {NULL};
	PhAskedRow *rows;
	Datum		values[16];
	bool		nulls[16];
	uint8		skip;
	int			n;

	ph_require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	/* exactly the table's columns, or an error (never past the arrays) */
	ph_check_columns(rsinfo->setDesc, "health.asked_pairs", 0, ph_asked_fields, ph_n_asked_fields,
					 nothing_after, &skip);
	if (rsinfo->setDesc->natts > (int) lengthof(values))
		elog(ERROR, "health.asked_pairs has more columns than pg_health can fill");
	rows = palloc(sizeof(PhAskedRow) * PH_MAX_ASKED);
	n = ph_tenants_copy(rows);
	for (int k = 0; k < n; k++)
	{
		int			i = 0;

		asker_name(&rows[k].owner, rows[k].asked_by, sizeof(rows[k].asked_by));
		memset(nulls, 0, sizeof(nulls));
		ph_put_fields(values, nulls, &i, ph_asked_fields, ph_n_asked_fields, &rows[k], 0, skip);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(rows);
	return (Datum) 0;
}

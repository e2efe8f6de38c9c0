/*
 * fields.c -- the doors' common ground (doors): a sample's figures, as the
 * field tables (field_tables.c) describe them, rendered as SQL columns
 * (with NULL where a figure is not known, and the view's columns checked
 * against the table on every call), JSON members (intervals as <name>_ms,
 * like ages) and metric values; and pg_health.http_client_addresses, what
 * the unauthenticated doors may show of a client's address.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "access/xlogrecovery.h"
#include "utils/pg_lsn.h"

#include "doors/fields.h"
#include "ground/asked_pairs.h"
#include "ground/workers.h"
#include "judge/admission.h"
#include "judge/component_checks.h"
#include "judge/replication_checks.h"
#include "judge/verdict.h"

/* one field: its name, its type, where it is, where it appears */
bool		ph_http_client_addresses = false;

void
ph_define_field_settings(void)
{
	DefineCustomBoolVariable("pg_health.http_client_addresses",
							 "Whether /metrics, the status page and the cluster's documents show the client addresses of a primary's standbys.",
							 "Off (the default): whoever reaches the port does not learn the standbys' addresses, nor discovered members' (/cluster, /health and health.report()); health.replication and health.cluster (pg_monitor) show them.",
							 &ph_http_client_addresses,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
}

/*
 * A client address as the unauthenticated doors may show it: as is when
 * pg_health.http_client_addresses allows, else empty.
 */
const char *
ph_client_addr_for_http(const char *addr)
{
	return ph_http_client_addresses ? addr : "";
}

/* ------------------------------------------------------------------------
 * Rendering: SQL columns, JSON members, metric values
 * ------------------------------------------------------------------------
 */

/* A field's value: its getter's, or read at its offset as its type says. */
static void
field_value(const PhField *f, const void *base, PhValue *v)
{
	const char *p = (const char *) base + f->offset;

	memset(v, 0, sizeof(*v));
	if (f->get != NULL)
	{
		f->get(base, v);
		return;
	}
	switch (f->type)
	{
		case PH_FIELD_INT:
		case PH_FIELD_OPT_INT:
		case PH_FIELD_PID:
			v->i = *(const int *) p;
			break;
		case PH_FIELD_BIGINT:
		case PH_FIELD_OPT_BIGINT:
		case PH_FIELD_INTERVAL:
			v->i = *(const int64 *) p;
			break;
		case PH_FIELD_FLOAT:
			v->f = *(const double *) p;
			break;
		case PH_FIELD_AGE:
		case PH_FIELD_TIME:
			v->t = *(const TimestampTz *) p;
			break;
		case PH_FIELD_LSN:
			v->lsn = *(const XLogRecPtr *) p;
			break;
		case PH_FIELD_TEXT:
		case PH_FIELD_JSONB:
			v->s = p;			/* a char array in the struct */
			break;
		case PH_FIELD_BOOL:
			v->i = *(const bool *) p;
			break;
		case PH_FIELD_OPT_BOOL:
			v->i = -1;			/* a getter's only */
			break;
	}
}

/* Whether a field is shown for a server in this role. */
bool
ph_field_applies(const PhField *f, bool in_recovery)
{
	if (f->in & PH_ON_STANDBY)
		return in_recovery;
	if (f->in & PH_ON_PRIMARY)
		return !in_recovery;
	return true;
}

/* The SQL type of a field's column. */
static Oid
field_sql_type(PhFieldType type)
{
	switch (type)
	{
		case PH_FIELD_INT:
		case PH_FIELD_OPT_INT:
		case PH_FIELD_PID:
			return INT4OID;
		case PH_FIELD_BIGINT:
		case PH_FIELD_OPT_BIGINT:
			return INT8OID;
		case PH_FIELD_FLOAT:
			return FLOAT8OID;
		case PH_FIELD_AGE:
		case PH_FIELD_INTERVAL:
			return INTERVALOID;
		case PH_FIELD_TIME:
			return TIMESTAMPTZOID;
		case PH_FIELD_LSN:
			return PG_LSNOID;
		case PH_FIELD_TEXT:
			return TEXTOID;
		case PH_FIELD_JSONB:
			return JSONBOID;
		case PH_FIELD_BOOL:
		case PH_FIELD_OPT_BOOL:
			return BOOLOID;
	}
	return InvalidOid;
}

/*
 * A set-returning function's result must have the columns its C code
 * fills: a declaration with other OUT parameters (an update not applied, a
 * hand-made CREATE FUNCTION) is refused, never filled past its arrays.
 */
void
ph_require_natts(TupleDesc desc, const char *view, int natts)
{
	if (desc->natts != natts)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s has %d columns, the pg_health library fills %d", view, desc->natts, natts),
				 errhint("Update the extension to the library's version: ALTER EXTENSION pg_health UPDATE.")));
}

static void
check_column(TupleDesc desc, const char *view, int col, const char *want, Oid type)
{
	const char *have = col < desc->natts ? NameStr(TupleDescAttr(desc, col)->attname) : "(none)";

	if (strcmp(have, want) == 0 && OidIsValid(type) && TupleDescAttr(desc, col)->atttypid != type)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s does not match the pg_health library: its column %s has type %s, the library's %s",
						view, have, format_type_be(TupleDescAttr(desc, col)->atttypid),
						format_type_be(type)),
				 errhint("Update the extension to the library's version: ALTER EXTENSION pg_health UPDATE.")));
	if (strcmp(have, want) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s does not match the pg_health library: its column %d is %s, the library's is %s",
						view, col + 1, have, want),
				 errhint("Update the extension to the library's version: ALTER EXTENSION pg_health UPDATE.")));
}

/*
 * The result's columns from first on are the table's SQL fields, in order,
 * then the names in after (NULL-terminated; NULL: nothing): otherwise the
 * install script and the library disagree (an update not applied), and
 * values would show under the wrong names.  A declaration with exactly the
 * columns 1.0 had (a 1.0 install running this library before ALTER
 * EXTENSION UPDATE) is served too: *skip is then PH_SINCE_1_1, the flag of
 * the fields ph_put_fields must leave out, else 0.  Returns the column
 * after the fields.
 */
int
ph_check_columns(TupleDesc desc, const char *view, int first, const PhField *fields, int n,
				 const char *const *after, uint8 *skip)
{
	int			col = first;
	int			next;
	int			newer = 0;
	int			nafter = 0;
	int			nsql = 0;

	for (int k = 0; k < n; k++)
	{
		nsql += (fields[k].in & PH_IN_SQL) != 0;
		newer += (fields[k].in & (PH_IN_SQL | PH_SINCE_1_1)) == (PH_IN_SQL | PH_SINCE_1_1);
	}
	for (const char *const *a = after; a != NULL && *a != NULL; a++)
		nafter++;
	*skip = newer > 0 && after != NULL && desc->natts == first + nsql - newer + nafter ?
		PH_SINCE_1_1 : 0;
	for (int k = 0; k < n; k++)
		if ((fields[k].in & PH_IN_SQL) && !(fields[k].in & *skip))
			check_column(desc, view, col++, fields[k].name, field_sql_type(fields[k].type));
	next = col;
	for (; after != NULL && *after != NULL; after++)
		check_column(desc, view, col++, *after, InvalidOid);
	if (after != NULL && col != desc->natts)
		check_column(desc, view, col, "(none)", InvalidOid);
	return next;
}

/* The table's SQL fields of base, into values from *i on. */
void
ph_put_fields(Datum *values, bool *nulls, int *i, const PhField *fields, int n,
			  const void *base, TimestampTz at, uint8 skip)
{
	for (int k = 0; k < n; k++)
	{
		const PhField *f = &fields[k];
		PhValue		v;
		int			c;

		if (!(f->in & PH_IN_SQL) || (f->in & skip))
			continue;
		field_value(f, base, &v);
		c = (*i)++;
		nulls[c] = false;
		switch (f->type)
		{
			case PH_FIELD_INT:
				values[c] = Int32GetDatum((int32) v.i);
				break;
			case PH_FIELD_OPT_INT:
				ph_set_opt_int(values, nulls, c, v.i < 0 ? -1 : (int) v.i);
				break;
			case PH_FIELD_PID:
				ph_set_opt_int(values, nulls, c, v.i == 0 ? -1 : (int) v.i);
				break;
			case PH_FIELD_BIGINT:
				values[c] = Int64GetDatum(v.i);
				break;
			case PH_FIELD_OPT_BIGINT:
				nulls[c] = v.i < 0;
				if (!nulls[c])
					values[c] = Int64GetDatum(v.i);
				break;
			case PH_FIELD_FLOAT:
				ph_set_float(values, nulls, c, v.f);
				break;
			case PH_FIELD_AGE:
				ph_set_age(values, nulls, c, v.t, at);
				break;
			case PH_FIELD_TIME:
				ph_set_time(values, nulls, c, v.t);
				break;
			case PH_FIELD_INTERVAL:
				nulls[c] = v.i < 0;
				if (!nulls[c])
					values[c] = ph_interval_datum(v.i);
				break;
			case PH_FIELD_LSN:
				ph_set_lsn(values, nulls, c, v.lsn);
				break;
			case PH_FIELD_TEXT:
				ph_set_text(values, nulls, c, v.s);
				break;
			case PH_FIELD_JSONB:
				nulls[c] = v.s == NULL;
				if (!nulls[c])
					values[c] = DirectFunctionCall1(jsonb_in, CStringGetDatum(v.s));
				break;
			case PH_FIELD_BOOL:
				values[c] = BoolGetDatum(v.i != 0);
				break;
			case PH_FIELD_OPT_BOOL:
				nulls[c] = v.i < 0;
				if (!nulls[c])
					values[c] = BoolGetDatum(v.i != 0);
				break;
		}
	}
}

/*
 * The table's JSON fields of base that apply to a server in this role, as
 * members of the open object.
 */
void
ph_json_fields(PhJson *j, const PhField *fields, int n, const void *base, TimestampTz at,
			   bool in_recovery)
{
	for (int k = 0; k < n; k++)
	{
		const PhField *f = &fields[k];
		PhValue		v;

		if (!(f->in & PH_IN_JSON) || !ph_field_applies(f, in_recovery))
			continue;
		field_value(f, base, &v);
		switch (f->type)
		{
			case PH_FIELD_INT:
			case PH_FIELD_BIGINT:
				ph_json_int(j, f->name, v.i);
				break;
			case PH_FIELD_OPT_INT:
			case PH_FIELD_OPT_BIGINT:
				ph_json_opt_int(j, f->name, v.i < 0 ? -1 : v.i);
				break;
			case PH_FIELD_PID:
				ph_json_opt_int(j, f->name, v.i == 0 ? -1 : v.i);
				break;
			case PH_FIELD_FLOAT:
				ph_json_num(j, f->name, v.f);
				break;
			case PH_FIELD_AGE:
				/* the Jsonb sink keeps the key: not on the stack */
				ph_json_age_ms(j, psprintf("%s_ms", f->name), v.t, at);
				break;
			case PH_FIELD_TIME:
				ph_json_time(j, f->name, v.t);
				break;
			case PH_FIELD_INTERVAL:
				{
					int64		ms = v.i < 0 ? -1 : v.i / 1000;
					size_t		len = strlen(f->name);

					/* in milliseconds, as its key says: <name>_ms */
					if (len > 3 && strcmp(f->name + len - 3, "_ms") == 0)
						ph_json_opt_int(j, f->name, ms);
					else
						ph_json_opt_int(j, psprintf("%s_ms", f->name), ms);
					/* and under 1.1's key without its unit, for 1.1's readers */
					if (f->in & PH_JSON_UNITLESS_1_1)
						ph_json_opt_int(j, f->name, ms);
				}
				break;
			case PH_FIELD_LSN:
				ph_json_lsn(j, f->name, v.lsn);
				break;
			case PH_FIELD_TEXT:
			case PH_FIELD_JSONB:	/* no such field in a JSON table */
				ph_json_str(j, f->name, v.s);
				break;
			case PH_FIELD_BOOL:
				ph_json_bool(j, f->name, v.i != 0);
				break;
			case PH_FIELD_OPT_BOOL:
				if (v.i < 0)
					ph_json_str(j, f->name, NULL);
				else
					ph_json_bool(j, f->name, v.i != 0);
				break;
		}
	}
}

/* A field as a metric's number (its scale applied); NaN when not known. */
double
ph_field_number(const PhField *f, const void *base, TimestampTz at)
{
	PhValue		v;
	double		d;

	field_value(f, base, &v);
	switch (f->type)
	{
		case PH_FIELD_FLOAT:
			d = v.f;
			break;
		case PH_FIELD_OPT_BIGINT:
		case PH_FIELD_OPT_BOOL:
		case PH_FIELD_INTERVAL:
			d = v.i < 0 ? get_float8_nan() : (double) v.i;
			break;
		case PH_FIELD_AGE:
			d = v.t ? Max(at - v.t, 0) / 1e6 : 0;
			break;
		case PH_FIELD_TIME:
		case PH_FIELD_LSN:
		case PH_FIELD_TEXT:
		case PH_FIELD_JSONB:
			d = get_float8_nan();
			break;
		default:
			d = (double) v.i;
			break;
	}
	return f->scale != 0 ? d * f->scale : d;
}

Datum
ph_interval_datum(int64 us)
{
	Interval   *iv = palloc0(sizeof(Interval));

	iv->time = us;
	return IntervalPGetDatum(iv);
}

/* Age at the sample's time, as an interval; NULL when there is none. */
void
ph_set_age(Datum *values, bool *nulls, int i, TimestampTz since, TimestampTz at)
{
	if (since == 0)
		nulls[i] = true;
	else
		values[i] = ph_interval_datum(Max(at - since, 0));
}

void
ph_set_time(Datum *values, bool *nulls, int i, TimestampTz ts)
{
	if (ts == 0)
		nulls[i] = true;
	else
		values[i] = TimestampTzGetDatum(ts);
}

void
ph_set_float(Datum *values, bool *nulls, int i, double v)
{
	if (isnan(v))
		nulls[i] = true;
	else
		values[i] = Float8GetDatum(v);
}

void
ph_set_opt_int(Datum *values, bool *nulls, int i, int v)
{
	if (v < 0)
		nulls[i] = true;
	else
		values[i] = Int32GetDatum(v);
}

void
ph_set_text(Datum *values, bool *nulls, int i, const char *s)
{
	nulls[i] = s == NULL;
	if (!nulls[i])
		values[i] = CStringGetTextDatum(s);
}

void
ph_set_lsn(Datum *values, bool *nulls, int i, XLogRecPtr lsn)
{
	nulls[i] = XLogRecPtrIsInvalid(lsn);
	if (!nulls[i])
		values[i] = LSNGetDatum(lsn);
}

/* A pool's database or role by name, or "oid N" while its name is not known. */
const char *
ph_limit_name(const PhLimit *l, Oid oid, char *buf, size_t len)
{
	if (l != NULL && l->known)
		return l->name;
	snprintf(buf, len, "oid %u", oid);
	return buf;
}

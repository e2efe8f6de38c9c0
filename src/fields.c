/*
 * fields.c -- the doors' common ground: every figure of a sample's
 * connections described once, in a table from which health.connections'
 * columns, the report's "connections" object and the connection metrics of
 * /metrics are produced (the session counts serve health.pools too); and a
 * sample's values as SQL columns, with NULL where a figure is not known.
 *
 * A new figure is one line here (and, for SQL, a column in the next
 * version's update script: ph_check_columns compares the view's columns
 * with the table, so a library and an install script that disagree say so
 * instead of showing values under the wrong names).
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "fields.h"

/* one field: its name, its type, where it is, where it appears */
#define F(name_, type_, offset_, in_) .name = (name_), .type = (type_), .offset = (offset_), .in = (in_)
#define CONN(member) offsetof(PhConnections, member)
#define SC(base, member) ((base) + offsetof(PhSessionCounts, member))
#define METRIC(name_, label_, value_) .metric = (name_), .label = (label_), .label_value = (value_)

/*
 * The by-state counts and oldest ages, for a struct with a PhSessionCounts
 * at BASE; TOTAL names the count of all of them.
 */
#define SESSION_FIELDS(BASE, TOTAL) \
	{F(TOTAL, PH_FIELD_INT, SC(BASE, sessions), PH_IN_BOTH)}, \
	{F("active", PH_FIELD_INT, SC(BASE, active), PH_IN_BOTH), \
	 METRIC("sessions", "state", "active"), \
	 .help = "Client sessions by state."}, \
	{F("idle", PH_FIELD_INT, SC(BASE, idle), PH_IN_BOTH), \
	 METRIC("sessions", "state", "idle")}, \
	{F("idle_in_transaction", PH_FIELD_INT, SC(BASE, idle_in_transaction), PH_IN_BOTH), \
	 METRIC("sessions", "state", "idle_in_transaction")}, \
	{F("idle_in_transaction_aborted", PH_FIELD_INT, SC(BASE, idle_in_transaction_aborted), PH_IN_BOTH), \
	 METRIC("sessions", "state", "idle_in_transaction_aborted")}, \
	{F("fastpath", PH_FIELD_INT, SC(BASE, fastpath), PH_IN_BOTH), \
	 METRIC("sessions", "state", "fastpath")}, \
	{F("disabled", PH_FIELD_INT, SC(BASE, disabled), PH_IN_BOTH), \
	 METRIC("sessions", "state", "disabled")}, \
	{F("starting", PH_FIELD_INT, SC(BASE, starting), PH_IN_BOTH), \
	 METRIC("sessions", "state", "starting")}, \
	{F("waiting_on_locks", PH_FIELD_INT, SC(BASE, waiting_on_locks), PH_IN_BOTH), \
	 METRIC("sessions_waiting_on_locks", NULL, NULL), \
	 .help = "Client sessions waiting on a heavyweight lock."}, \
	{F("oldest_transaction_age", PH_FIELD_AGE, SC(BASE, oldest_xact_start), PH_IN_BOTH), \
	 METRIC("oldest_transaction_seconds", NULL, NULL), \
	 .help = "Age of the oldest open transaction (0: none)."}, \
	{F("oldest_transaction_pid", PH_FIELD_PID, SC(BASE, oldest_xact_pid), PH_IN_SQL)}, \
	{F("oldest_query_age", PH_FIELD_AGE, SC(BASE, oldest_query_start), PH_IN_BOTH)}, \
	{F("oldest_query_pid", PH_FIELD_PID, SC(BASE, oldest_query_pid), PH_IN_SQL)}, \
	{F("longest_idle_in_transaction", PH_FIELD_AGE, SC(BASE, oldest_idle_in_xact_start), PH_IN_BOTH)}, \
	{F("longest_idle_in_transaction_pid", PH_FIELD_PID, SC(BASE, oldest_idle_in_xact_pid), PH_IN_SQL)}

const PhField ph_session_fields[] = {
	SESSION_FIELDS(0, "sessions"),
};
const int	ph_n_session_fields = lengthof(ph_session_fields);

const PhField ph_connection_fields[] = {
	{F("max_connections", PH_FIELD_INT, CONN(max_connections), PH_IN_BOTH),
	 METRIC("connection_slots", "kind", "max"),
	 .help = "Connection slots as PostgreSQL enforces them."},
	{F("superuser_reserved_connections", PH_FIELD_INT, CONN(superuser_reserved), PH_IN_BOTH)},
	{F("reserved_connections", PH_FIELD_OPT_INT, CONN(reserved), PH_IN_BOTH)},
	{F("usable_slots", PH_FIELD_INT, CONN(usable), PH_IN_BOTH),
	 METRIC("connection_slots", "kind", "usable")},
	{F("slots_used", PH_FIELD_INT, CONN(slots_used), PH_IN_BOTH),
	 METRIC("connection_slots", "kind", "used")},
	{F("slots_free", PH_FIELD_INT, CONN(slots_free), PH_IN_BOTH),
	 METRIC("connection_slots", "kind", "free")},
	{F("available_to_ordinary_roles", PH_FIELD_INT, CONN(available_ordinary), PH_IN_BOTH),
	 METRIC("connection_slots", "kind", "available_to_ordinary_roles")},
	{F("available_to_reserved_roles", PH_FIELD_OPT_INT, CONN(available_reserved), PH_IN_BOTH)},
	{F("utilization_pct", PH_FIELD_FLOAT, CONN(utilization_pct), PH_IN_BOTH),
	 METRIC("connection_utilization_ratio", NULL, NULL),
	 .scale = 0.01,
	 .help = "Used slots over usable slots."},
	SESSION_FIELDS(CONN(s), "client_backends"),
	{F("background_workers", PH_FIELD_INT, CONN(background_workers), PH_IN_BOTH),
	 METRIC("processes", "kind", "background_worker"),
	 .help = "Processes that do not use client slots."},
	{F("autovacuum_workers", PH_FIELD_INT, CONN(autovacuum_workers), PH_IN_BOTH),
	 METRIC("processes", "kind", "autovacuum")},
	{F("walsenders", PH_FIELD_INT, CONN(walsenders), PH_IN_BOTH),
	 METRIC("processes", "kind", "walsender")},
	{F("other_processes", PH_FIELD_INT, CONN(other_processes), PH_IN_BOTH),
	 METRIC("processes", "kind", "other")},
	{F("connections_authenticated", PH_FIELD_COUNTER, CONN(authenticated), PH_IN_BOTH),
	 METRIC("connections_authenticated_total", NULL, NULL),
	 .help = "Successful authentications since shared memory was initialized."},
	{F("authentication_failures", PH_FIELD_COUNTER, CONN(auth_failures), PH_IN_BOTH),
	 METRIC("authentication_failures_total", NULL, NULL),
	 .help = "Failed authentications since shared memory was initialized."},
	{F("refused_no_slots", PH_FIELD_COUNTER, CONN(refused_no_slots), PH_IN_BOTH),
	 METRIC("connections_refused_total", "reason", "no_slots"),
	 .help = "Connections refused: no_slots (SQLSTATE 53300, including CONNECTION LIMITs), starting (57P03)."},
	{F("refused_starting", PH_FIELD_COUNTER, CONN(refused_starting), PH_IN_BOTH),
	 METRIC("connections_refused_total", "reason", "starting")},
	{F("refusals_in_window", PH_FIELD_INT, CONN(refusals_in_window), PH_IN_BOTH)},
	{F("last_refusal_at", PH_FIELD_TIME, CONN(last_refusal_at), PH_IN_BOTH)},
	{F("last_refused_role", PH_FIELD_REFUSAL_NAME, CONN(last_refused_role), PH_IN_BOTH)},
	{F("last_refused_database", PH_FIELD_REFUSAL_NAME, CONN(last_refused_database), PH_IN_BOTH)},
	/* false: the names are what an unauthenticated startup packet asked for */
	{F("last_refusal_authenticated", PH_FIELD_REFUSAL_BOOL, CONN(last_refusal_authenticated), PH_IN_JSON)},
	{F("connections_per_s", PH_FIELD_FLOAT, CONN(connections_per_s), PH_IN_JSON),
	 METRIC("connections_per_second", NULL, NULL),
	 .help = "New authenticated connections per second, over the last sample interval."},
	{F("refusals_per_s", PH_FIELD_FLOAT, CONN(refusals_per_s), PH_IN_JSON)},
	{F("authentication_failures_per_s", PH_FIELD_FLOAT, CONN(auth_failures_per_s), PH_IN_JSON)},
};
const int	ph_n_connection_fields = lengthof(ph_connection_fields);

#define FIELD(type, base, f) ((const type *) ((const char *) (base) + (f)->offset))

/* A refusal's names and flag mean nothing before the first refusal. */
static bool
refused(const void *base)
{
	return ((const PhConnections *) base)->last_refusal_at != 0;
}

static void
check_column(TupleDesc desc, const char *view, int col, const char *want)
{
	const char *have = col < desc->natts ? NameStr(TupleDescAttr(desc, col)->attname) : "(none)";

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
 * values would show under the wrong names.  Returns the column after the
 * fields.
 */
int
ph_check_columns(TupleDesc desc, const char *view, int first, const PhField *fields, int n,
				 const char *const *after)
{
	int			col = first;
	int			next;

	for (int k = 0; k < n; k++)
		if (fields[k].in & PH_IN_SQL)
			check_column(desc, view, col++, fields[k].name);
	next = col;
	for (; after != NULL && *after != NULL; after++)
		check_column(desc, view, col++, *after);
	if (after != NULL && col != desc->natts)
		check_column(desc, view, col, "(none)");
	return next;
}

/* The table's SQL fields of base, into values from *i on. */
void
ph_put_fields(Datum *values, bool *nulls, int *i, const PhField *fields, int n,
			  const void *base, TimestampTz at)
{
	for (int k = 0; k < n; k++)
	{
		const PhField *f = &fields[k];
		int			c;

		if (!(f->in & PH_IN_SQL))
			continue;
		c = (*i)++;
		nulls[c] = false;
		switch (f->type)
		{
			case PH_FIELD_INT:
				values[c] = Int32GetDatum(*FIELD(int, base, f));
				break;
			case PH_FIELD_OPT_INT:
				ph_set_opt_int(values, nulls, c, *FIELD(int, base, f));
				break;
			case PH_FIELD_PID:
				ph_set_opt_int(values, nulls, c, *FIELD(int, base, f) == 0 ? -1 : *FIELD(int, base, f));
				break;
			case PH_FIELD_COUNTER:
				values[c] = Int64GetDatum((int64) *FIELD(uint64, base, f));
				break;
			case PH_FIELD_FLOAT:
				ph_set_float(values, nulls, c, *FIELD(double, base, f));
				break;
			case PH_FIELD_AGE:
				ph_set_age(values, nulls, c, *FIELD(TimestampTz, base, f), at);
				break;
			case PH_FIELD_TIME:
				ph_set_time(values, nulls, c, *FIELD(TimestampTz, base, f));
				break;
			case PH_FIELD_REFUSAL_NAME:
				nulls[c] = !refused(base);
				if (!nulls[c])
					values[c] = CStringGetTextDatum(FIELD(char, base, f));
				break;
			case PH_FIELD_REFUSAL_BOOL:
				values[c] = BoolGetDatum(refused(base) && *FIELD(bool, base, f));
				break;
		}
	}
}

/* The table's JSON fields of base, as members of the open object. */
void
ph_json_fields(PhJson *j, const PhField *fields, int n, const void *base, TimestampTz at)
{
	for (int k = 0; k < n; k++)
	{
		const PhField *f = &fields[k];

		if (!(f->in & PH_IN_JSON))
			continue;
		switch (f->type)
		{
			case PH_FIELD_INT:
				ph_json_int(j, f->name, *FIELD(int, base, f));
				break;
			case PH_FIELD_OPT_INT:
				ph_json_opt_int(j, f->name, *FIELD(int, base, f));
				break;
			case PH_FIELD_PID:
				ph_json_opt_int(j, f->name, *FIELD(int, base, f) == 0 ? -1 : *FIELD(int, base, f));
				break;
			case PH_FIELD_COUNTER:
				ph_json_int(j, f->name, (int64) *FIELD(uint64, base, f));
				break;
			case PH_FIELD_FLOAT:
				ph_json_num(j, f->name, *FIELD(double, base, f));
				break;
			case PH_FIELD_AGE:
				/* the Jsonb sink keeps the key: not on the stack */
				ph_json_age_ms(j, psprintf("%s_ms", f->name), *FIELD(TimestampTz, base, f), at);
				break;
			case PH_FIELD_TIME:
				ph_json_time(j, f->name, *FIELD(TimestampTz, base, f));
				break;
			case PH_FIELD_REFUSAL_NAME:
				ph_json_str(j, f->name, refused(base) ? FIELD(char, base, f) : NULL);
				break;
			case PH_FIELD_REFUSAL_BOOL:
				ph_json_bool(j, f->name, refused(base) && *FIELD(bool, base, f));
				break;
		}
	}
}

/* A field as a metric's number (its scale applied); NaN when not known. */
double
ph_field_number(const PhField *f, const void *base, TimestampTz at)
{
	double		v;

	switch (f->type)
	{
		case PH_FIELD_INT:
		case PH_FIELD_OPT_INT:
		case PH_FIELD_PID:
			v = *FIELD(int, base, f);
			break;
		case PH_FIELD_COUNTER:
			v = (double) *FIELD(uint64, base, f);
			break;
		case PH_FIELD_FLOAT:
			v = *FIELD(double, base, f);
			break;
		case PH_FIELD_AGE:
			{
				TimestampTz since = *FIELD(TimestampTz, base, f);

				v = since ? Max(at - since, 0) / 1e6 : 0;
				break;
			}
		default:
			v = get_float8_nan();
			break;
	}
	return f->scale != 0 ? v * f->scale : v;
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

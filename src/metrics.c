/*
 * metrics.c -- (doors) GET /metrics: the latest snapshot in the Prometheus text
 * exposition format (version 0.0.4).
 *
 * Every family has HELP and TYPE lines; names start with pg_health_.  Label
 * cardinality is bounded: one series per check and per component (both
 * bounded by shared memory), and per pool only for the PH_METRICS_POOLS
 * largest, the rest summed into one series whose labels are all "other".
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"
#include "utils/timestamp.h"

#include "fields.h"
#include "metrics.h"
#include "read.h"
#include "shmem.h"
#include "verdict.h"

#define PH_METRICS_POOLS 20

static void
family(StringInfo b, const char *name, const char *type, const char *help)
{
	appendStringInfo(b, "# HELP pg_health_%s %s\n# TYPE pg_health_%s %s\n", name, help, name, type);
}

/* A label value, escaped as the format wants (backslash, quote, newline). */
static void
label_value(StringInfo b, const char *v)
{
	appendStringInfoChar(b, '"');
	for (const char *p = v ? v : ""; *p; p++)
	{
		if (*p == '\\')
			appendStringInfoString(b, "\\\\");
		else if (*p == '"')
			appendStringInfoString(b, "\\\"");
		else if (*p == '\n')
			appendStringInfoString(b, "\\n");
		else
			appendStringInfoChar(b, *p);
	}
	appendStringInfoChar(b, '"');
}

static void
value(StringInfo b, double v)
{
	if (isnan(v))
		appendStringInfoString(b, " NaN\n");
	else
		appendStringInfo(b, " %.17g\n", v);
}

static void
sample(StringInfo b, const char *name, double v)
{
	appendStringInfo(b, "pg_health_%s", name);
	value(b, v);
}

static void
sample1(StringInfo b, const char *name, const char *label, const char *lv, double v)
{
	appendStringInfo(b, "pg_health_%s{%s=", name, label);
	label_value(b, lv);
	appendStringInfoChar(b, '}');
	value(b, v);
}

static void
pool_sample(StringInfo b, const char *name, const char *db, const char *role, const char *app,
			double v)
{
	appendStringInfo(b, "pg_health_%s{database=", name);
	label_value(b, db);
	appendStringInfoString(b, ",role=");
	label_value(b, role);
	appendStringInfoString(b, ",application_name=");
	label_value(b, app);
	appendStringInfoChar(b, '}');
	value(b, v);
}

/* pg_health_standby_*{application_name=...,pid=...}: a primary's standbys */
static void
standby_sample(StringInfo b, const char *name, const PhStandby *s, double v)
{
	appendStringInfo(b, "pg_health_%s{application_name=", name);
	label_value(b, s->application_name);
	appendStringInfo(b, ",pid=\"%d\"}", s->pid);
	value(b, v);
}

/* Replication figures: a standby's receiver and replay, a primary's standbys, slots. */
static void
replication_metrics(StringInfo b, const PhSnapshot *snap, const PhStandbyTable *t)
{
	const PhReplication *r = &snap->repl;

	if (snap->in_recovery)
	{
		family(b, "replication_streaming", "gauge", "1 while this standby's WAL receiver is streaming.");
		sample(b, "replication_streaming", r->receiver_state == PH_RCV_STREAMING);
		family(b, "replication_lag_bytes", "gauge", "WAL received by this standby and not yet replayed.");
		sample(b, "replication_lag_bytes", (double) r->lag_bytes);
		family(b, "replication_delay_seconds", "gauge", "How long the oldest received, unreplayed WAL has waited (0 when all is replayed).");
		sample(b, "replication_delay_seconds", r->delay_us / 1e6);
		family(b, "replication_paused", "gauge", "1 while replay is paused (or a pause is requested).");
		sample(b, "replication_paused", r->pause_state != 0);
	}
	else
	{
		family(b, "standbys", "gauge", "Physical standbys connected to this primary: all, streaming, synchronous (sync or quorum).");
		sample1(b, "standbys", "state", "connected", r->standbys);
		sample1(b, "standbys", "state", "streaming", r->standbys_streaming);
		sample1(b, "standbys", "state", "synchronous", r->sync_standbys);
		family(b, "standby_replay_lag_bytes", "gauge", "WAL this primary wrote that the standby has not replayed yet.");
		for (int i = 0; i < t->n; i++)
		{
			const PhStandby *s = &t->items[i];

			if (s->replay_lag_bytes >= 0)
				standby_sample(b, "standby_replay_lag_bytes", s, (double) s->replay_lag_bytes);
		}
	}
	family(b, "replication_slots", "gauge", "Replication slots by state.");
	sample1(b, "replication_slots", "state", "active", r->slots - r->inactive_slots);
	sample1(b, "replication_slots", "state", "inactive", r->inactive_slots);
	family(b, "inactive_slot_max_retained_bytes", "gauge", "WAL retained by the inactive slot that retains the most (0: none).");
	sample(b, "inactive_slot_max_retained_bytes", (double) Max(r->worst_retained_bytes, 0));
}

static const char *
oid_or_name(const PhLimit *l, Oid oid, char *buf, size_t len)
{
	if (l != NULL && l->known)
		return l->name;
	snprintf(buf, len, "oid %u", oid);
	return buf;
}

/*
 * The connection figures that have a metric (fields.c): a family's HELP and
 * TYPE before its first sample; the table keeps a family's fields together.
 */
static void
connection_metrics(StringInfo b, const PhSnapshot *snap)
{
	const char *open_family = NULL;

	for (int k = 0; k < ph_n_connection_fields; k++)
	{
		const PhField *f = &ph_connection_fields[k];
		double		v;

		if (f->metric == NULL)
			continue;
		if (open_family == NULL || strcmp(open_family, f->metric) != 0)
		{
			Assert(f->help != NULL);
			family(b, f->metric, f->type == PH_FIELD_COUNTER ? "counter" : "gauge", f->help);
			open_family = f->metric;
		}
		v = ph_field_number(f, &snap->conn, snap->sampled_at);
		if (f->label != NULL)
			sample1(b, f->metric, f->label, f->label_value, v);
		else
			sample(b, f->metric, v);
	}
}

void
ph_metrics_text(StringInfo b)
{
	PhSnapshot *snap = ph_reader_buffer(PH_BUF_SNAPSHOT);
	PhPoolTable *pools = ph_reader_buffer(PH_BUF_POOLS);
	PhComponentTable *comps = ph_reader_buffer(PH_BUF_COMPONENTS);
	PhCheck    *checks = ph_reader_buffer(PH_BUF_CHECKS);
	PhStandbyTable *standbys = ph_reader_buffer(PH_BUF_STANDBYS);
	TimestampTz now = GetCurrentTimestamp();
	pid_t		worker_pid;
	PhVerdict	v;
	int			nchecks;
	static const PhState states[] = {PH_STATE_READY, PH_STATE_DEGRADED, PH_STATE_NOT_READY,
	PH_STATE_STARTING, PH_STATE_UNKNOWN};
	static const char *const role_names[PH_NUM_ROLES] = {"any", "primary", "replica"};

	ph_read_pools(pools, snap, comps, &worker_pid);
	ph_verdict_from_snapshot(snap, worker_pid, PH_ROLE_ANY, now, &v);
	nchecks = ph_collect_checks(snap, worker_pid, PH_ROLE_ANY, now, checks);

	family(b, "live", "gauge", "1 when the pg_health worker is sampling (its last sample is fresh).");
	sample(b, "live", v.live);
	family(b, "started", "gauge", "1 once initialization is complete (health.started()).");
	sample(b, "started", v.started);
	family(b, "ready", "gauge", "1 when ready to take traffic for the role (health.ready(role)); role any = either.");
	for (int r = 0; r < PH_NUM_ROLES; r++)
	{
		PhVerdict	rv;

		ph_verdict_from_snapshot(snap, worker_pid, (PhRole) r, now, &rv);
		sample1(b, "ready", "role", role_names[r], rv.ready);
	}
	family(b, "status", "gauge", "1 for the overall status the server is in, 0 for the others.");
	for (int i = 0; i < (int) lengthof(states); i++)
		sample1(b, "status", "status", ph_state_name(states[i]), v.state == states[i]);
	family(b, "in_recovery", "gauge", "1 on a standby (in recovery), 0 on a primary.");
	sample(b, "in_recovery", snap->generation > 0 && snap->in_recovery);

	family(b, "check_status", "gauge", "Each check's status: 0 ok, 1 warning, 2 critical, 3 unknown.");
	for (int i = 0; i < nchecks; i++)
		sample1(b, "check_status", "check", checks[i].name, checks[i].status);
	family(b, "check_value", "gauge", "Each check's figure (see health.checks for its unit).");
	for (int i = 0; i < nchecks; i++)
		if (!isnan(checks[i].value))
			sample1(b, "check_value", "check", checks[i].name, checks[i].value);

	family(b, "sample_age_seconds", "gauge", "Age of the last sample.");
	sample(b, "sample_age_seconds", v.age_ms >= 0 ? v.age_ms / 1000.0 : get_float8_nan());
	family(b, "sample_duration_seconds", "gauge", "What the last sample cost the worker.");
	sample(b, "sample_duration_seconds", snap->sample_duration_us / 1e6);
	family(b, "samples_total", "counter", "Samples taken since shared memory was initialized.");
	sample(b, "samples_total", (double) snap->generation);

	if (snap->generation > 0)
	{
		connection_metrics(b, snap);
		ph_read_standbys(standbys, NULL, NULL);
		replication_metrics(b, snap, standbys);

		/* pools: the largest PH_METRICS_POOLS by name, the rest as "other" */
		family(b, "pool_sessions", "gauge", "Client sessions per database, role and application_name (the largest groups; the rest as other).");
		{
			double		other = 0;
			bool		any_other = false;

			for (int k = 0; k < pools->npools; k++)
			{
				const PhPool *p = &pools->pools[k];
				char		dbuf[32],
							rbuf[32];

				if (k >= PH_METRICS_POOLS || p->folded > 0)
				{
					other += p->s.sessions;
					any_other = true;
					continue;
				}
				pool_sample(b, "pool_sessions",
							oid_or_name(p->db_index >= 0 ? &pools->databases[p->db_index] : NULL,
										p->datid, dbuf, sizeof(dbuf)),
							oid_or_name(p->role_index >= 0 ? &pools->roles[p->role_index] : NULL,
										p->roleid, rbuf, sizeof(rbuf)),
							p->application_name, p->s.sessions);
			}
			if (any_other)
				pool_sample(b, "pool_sessions", "other", "other", "other", other);
		}
	}

	family(b, "component_status", "gauge", "Each application component's check: 0 ok, 1 warning, 2 critical, 3 unknown.");
	for (int k = 0; snap->generation > 0 && k < comps->n; k++)
		sample1(b, "component_status", "component", comps->items[k].c.name, comps->items[k].status);
}

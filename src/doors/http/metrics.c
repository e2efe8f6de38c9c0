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

#include "utils/guc.h"

#include <math.h>

#include "utils/float.h"
#include "utils/timestamp.h"

#include "doors/fields.h"
#include "doors/http/metrics.h"
#include "ground/shmem.h"
#include "judge/cluster_checks.h"
#include "judge/replication_checks.h"
#include "judge/verdict.h"
#include "read/read.h"

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

#ifndef PH_LIBRARY_VERSION
#define PH_LIBRARY_VERSION "unknown"	/* built without the Makefile */
#endif

/* The families of the checks' figures, one per unit (ph_check_unit). */
static const struct
{
	const char *family;
	const char *help;
}			check_units[] = {
	[PH_UNIT_COUNT] = {"check_value", "Each check's figure that is a count or a flag (sessions, refusals, standbys, 1/0)."},
	[PH_UNIT_SECONDS] = {"check_value_seconds", "Each check's figure that is a time: an age, a silence, a wait."},
	[PH_UNIT_BYTES] = {"check_value_bytes", "Each check's figure that is an amount of WAL: replay lag, retained by a slot."},
	[PH_UNIT_RATIO] = {"check_value_ratio", "Each check's figure that is a share: of the usable slots, of a CONNECTION LIMIT."},
};

/*
 * pg_health_<name>{k1="v1",...} v, for labels given as pairs of strings
 * after v, the last pair followed by NULL.
 */
static void
labeled(StringInfo b, const char *name, double v,...)
{
	va_list		ap;
	const char *key;
	bool		first = true;

	appendStringInfo(b, "pg_health_%s{", name);
	va_start(ap, v);
	while ((key = va_arg(ap, const char *)) != NULL)
	{
		appendStringInfo(b, "%s%s=", first ? "" : ",", key);
		label_value(b, va_arg(ap, const char *));
		first = false;
	}
	va_end(ap);
	appendStringInfoChar(b, '}');
	value(b, v);
}

/*
 * The poolers: per pooler, and per pool (database, user) at most
 * PH_MAX_POOLER_POOLS each (the rest folded into one row without names).
 */
static void
pooler_metrics(StringInfo b, const PhPoolerTable *t)
{
	static const char *const cl_states[] = {"active", "waiting"};
	static const char *const sv_states[] = {"active", "idle", "used", "tested", "login"};

	family(b, "pooler_up", "gauge", "1 when the pooler's last poll succeeded.");
	for (int k = 0; k < t->n; k++)
		sample1(b, "pooler_up", "pooler", t->items[k].name,
				t->items[k].answered_at != 0 && t->items[k].failing_since == 0);
	family(b, "pooler_poll_duration_seconds", "gauge", "What the pooler's last poll took.");
	for (int k = 0; k < t->n; k++)
		if (t->items[k].polled_at != 0)
			sample1(b, "pooler_poll_duration_seconds", "pooler", t->items[k].name,
					t->items[k].poll_duration_us / 1e6);
	family(b, "pooler_poll_failures_total", "counter", "Polls of the pooler that failed.");
	for (int k = 0; k < t->n; k++)
		sample1(b, "pooler_poll_failures_total", "pooler", t->items[k].name, t->items[k].failures);
	family(b, "pooler_client_connections", "gauge", "Client connections at the pooler (used_clients).");
	for (int k = 0; k < t->n; k++)
		if (t->items[k].answered_at != 0)
			sample1(b, "pooler_client_connections", "pooler", t->items[k].name,
					t->items[k].client_connections);
	family(b, "pooler_max_client_connections", "gauge", "The pooler's max_client_conn.");
	for (int k = 0; k < t->n; k++)
		if (t->items[k].max_client_conn >= 0)
			sample1(b, "pooler_max_client_connections", "pooler", t->items[k].name,
					t->items[k].max_client_conn);
	family(b, "pooler_clients", "gauge", "Clients of a pool at the pooler, by state.");
	for (int k = 0; k < t->n; k++)
		for (int j = 0; j < t->items[k].npools; j++)
		{
			const PhPoolerPool *p = &t->items[k].pools[j];
			const int	v[] = {p->cl_active, p->cl_waiting};

			for (int s = 0; s < (int) lengthof(cl_states); s++)
				labeled(b, "pooler_clients", v[s],
						"pooler", t->items[k].name, "database", p->database, "user", p->user, "state", cl_states[s], NULL);
		}
	family(b, "pooler_servers", "gauge", "Server connections of a pool at the pooler, by state.");
	for (int k = 0; k < t->n; k++)
		for (int j = 0; j < t->items[k].npools; j++)
		{
			const PhPoolerPool *p = &t->items[k].pools[j];
			const int	v[] = {p->sv_active, p->sv_idle, p->sv_used, p->sv_tested, p->sv_login};

			for (int s = 0; s < (int) lengthof(sv_states); s++)
				labeled(b, "pooler_servers", v[s],
						"pooler", t->items[k].name, "database", p->database, "user", p->user, "state", sv_states[s], NULL);
		}
	family(b, "pooler_max_wait_seconds", "gauge", "How long the oldest client of a pool at the pooler has waited.");
	for (int k = 0; k < t->n; k++)
		for (int j = 0; j < t->items[k].npools; j++)
		{
			const PhPoolerPool *p = &t->items[k].pools[j];

			labeled(b, "pooler_max_wait_seconds", p->maxwait_us / 1e6,
					"pooler", t->items[k].name, "database", p->database, "user", p->user, NULL);
		}
}

/* The applications' own pools (health.report_pool). */
static void
component_pool_metrics(StringInfo b, const PhComponentTable *t)
{
	family(b, "component_pool_connections", "gauge", "Connections of a component's own pool, by state (health.report_pool); waiting counts clients waiting for one.");
	for (int k = 0; k < t->n; k++)
	{
		const PhComponent *c = &t->items[k].c;

		if (!c->in_use || c->app_pool_at == 0)
			continue;
		labeled(b, "component_pool_connections", c->app_in_use,
				"component", c->name, "state", "in_use", NULL);
		labeled(b, "component_pool_connections", c->app_idle,
				"component", c->name, "state", "idle", NULL);
		labeled(b, "component_pool_connections", c->app_waiting,
				"component", c->name, "state", "waiting", NULL);
	}
	family(b, "component_pool_max_size", "gauge", "The most connections a component's own pool may hold.");
	for (int k = 0; k < t->n; k++)
		if (t->items[k].c.in_use && t->items[k].c.app_pool_at != 0)
			sample1(b, "component_pool_max_size", "component", t->items[k].c.name,
					t->items[k].c.app_max_size);
	family(b, "component_pool_longest_wait_seconds", "gauge", "How long the longest waiting client of a component's own pool has waited.");
	for (int k = 0; k < t->n; k++)
		if (t->items[k].c.in_use && t->items[k].c.app_pool_at != 0 && t->items[k].c.app_max_wait_us >= 0)
			sample1(b, "component_pool_longest_wait_seconds", "component", t->items[k].c.name,
					t->items[k].c.app_max_wait_us / 1e6);
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

/* A primary's standbys, one series each (the figures of the sample are fields.c's). */
static void
standby_metrics(StringInfo b, const PhSnapshot *snap, const PhStandbyTable *t)
{
	if (snap->in_recovery)
		return;
	family(b, "standby_info", "gauge", "Always 1: each standby connected to this primary, with its state, and its address when pg_health.http_client_addresses is on (at most 32).");
	for (int i = 0; i < t->n; i++)
	{
		const PhStandby *s = &t->items[i];
		char		pid[16];

		snprintf(pid, sizeof(pid), "%d", s->pid);
		labeled(b, "standby_info", 1,
				"application_name", s->application_name, "pid", pid, "client_addr", ph_client_addr_for_http(s->client_addr), "state", ph_walsender_state_name(s->state), "sync_state", ph_sync_state_name((PhSyncState) s->sync_state), NULL);
	}
	family(b, "standby_replay_lag_bytes", "gauge", "WAL this primary wrote that the standby has not replayed yet.");
	for (int i = 0; i < t->n; i++)
	{
		const PhStandby *s = &t->items[i];

		if (s->replay_lag_bytes >= 0)
			standby_sample(b, "standby_replay_lag_bytes", s, (double) s->replay_lag_bytes);
	}
	family(b, "standby_replay_lag_seconds", "gauge", "How long ago the WAL the standby last replayed was written (replay_lag; absent while it is idle).");
	for (int i = 0; i < t->n; i++)
	{
		const PhStandby *s = &t->items[i];

		if (s->replay_lag_us >= 0)
			standby_sample(b, "standby_replay_lag_seconds", s, s->replay_lag_us / 1e6);
	}
}



/*
 * Client sessions per database and state, summed over the pools: the
 * PH_METRICS_POOLS databases with the most sessions, the rest under database="".
 */
static void
database_session_metrics(StringInfo b, const PhPoolTable *pools)
{
	typedef struct DbSessions
	{
		Oid			datid;
		int			db_index;
		PhSessionCounts s;
	} DbSessions;
	static DbSessions dbs[PH_MAX_POOLS + 1];
	static const struct
	{
		const char *state;
		size_t		offset;
	}			states[] = {
		{"active", offsetof(PhSessionCounts, active)},
		{"idle", offsetof(PhSessionCounts, idle)},
		{"idle_in_transaction", offsetof(PhSessionCounts, idle_in_transaction)},
		{"idle_in_transaction_aborted", offsetof(PhSessionCounts, idle_in_transaction_aborted)},
		{"fastpath", offsetof(PhSessionCounts, fastpath)},
		{"disabled", offsetof(PhSessionCounts, disabled)},
		{"starting", offsetof(PhSessionCounts, starting)},
	};
	int			n = 0;
	bool		other = false;
	DbSessions	rest;

	memset(&rest, 0, sizeof(rest));
	for (int k = 0; k < pools->npools; k++)
	{
		const PhPool *p = &pools->pools[k];
		DbSessions *d = NULL;

		if (p->folded > 0)
		{
			d = &rest;
			other = true;
		}
		for (int i = 0; d == NULL && i < n; i++)
			if (dbs[i].datid == p->datid)
				d = &dbs[i];
		if (d == NULL)
		{
			d = &dbs[n++];
			memset(d, 0, sizeof(*d));
			d->datid = p->datid;
			d->db_index = p->db_index;
		}
		d->s.sessions += p->s.sessions;
		for (int j = 0; j < (int) lengthof(states); j++)
			*(int *) ((char *) &d->s + states[j].offset) += *(const int *) ((const char *) &p->s + states[j].offset);
	}
	/* the largest first; beyond PH_METRICS_POOLS, summed under database="" */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && dbs[j].s.sessions > dbs[j - 1].s.sessions; j--)
		{
			DbSessions	t = dbs[j];

			dbs[j] = dbs[j - 1];
			dbs[j - 1] = t;
		}
	for (int i = PH_METRICS_POOLS; i < n; i++)
	{
		other = true;
		for (int j = 0; j < (int) lengthof(states); j++)
			*(int *) ((char *) &rest.s + states[j].offset) += *(const int *) ((const char *) &dbs[i].s + states[j].offset);
	}
	family(b, "database_sessions", "gauge", "Client sessions per database and state (the databases with the most; the rest under database=\"\").");
	for (int i = 0; i <= Min(n, PH_METRICS_POOLS); i++)
	{
		const DbSessions *d = i < Min(n, PH_METRICS_POOLS) ? &dbs[i] : other ? &rest : NULL;
		char		dbuf[32];
		const char *name;

		if (d == NULL)
			break;
		/* the rest: a name no database can have */
		name = d == &rest ? "" :
			ph_limit_name(d->db_index >= 0 ? &pools->databases[d->db_index] : NULL, d->datid,
						  dbuf, sizeof(dbuf));
		for (int j = 0; j < (int) lengthof(states); j++)
			labeled(b, "database_sessions", *(const int *) ((const char *) &d->s + states[j].offset),
					"database", name, "state", states[j].state, NULL);
	}
}

/* a family named <name>_total counts since shared memory was initialized */
static bool
is_counter(const char *family)
{
	size_t		len = strlen(family);

	return len > 6 && strcmp(family + len - 6, "_total") == 0;
}

/*
 * Every filesystem that holds the data directory, pg_wal or a tablespace,
 * labelled by its path and what it holds (at most PH_MAX_FILESYSTEMS).
 */
static void
filesystem_metrics(StringInfo b, const PhDisk *d)
{
	family(b, "filesystem_size_bytes", "gauge", "Size of each filesystem that holds the data directory, pg_wal or a tablespace.");
	for (int k = 0; k < d->n; k++)
		if (d->fs[k].error == 0)
			labeled(b, "filesystem_size_bytes", (double) d->fs[k].total_bytes,
					"path", d->fs[k].path, "holds", ph_filesystem_holds(&d->fs[k]), NULL);
	family(b, "filesystem_free_bytes", "gauge", "Room left on it for PostgreSQL (f_bavail).");
	for (int k = 0; k < d->n; k++)
		if (d->fs[k].error == 0)
			labeled(b, "filesystem_free_bytes", (double) d->fs[k].free_bytes,
					"path", d->fs[k].path, "holds", ph_filesystem_holds(&d->fs[k]), NULL);
	family(b, "filesystem_full_in_seconds", "gauge", "When it is full at its growth over the history ring's span (absent: not filling).");
	for (int k = 0; k < d->n; k++)
		if (d->fs[k].error == 0 && !isnan(d->fs[k].full_in_s))
			labeled(b, "filesystem_full_in_seconds", d->fs[k].full_in_s,
					"path", d->fs[k].path, "holds", ph_filesystem_holds(&d->fs[k]), NULL);
}

/*
 * The cluster, when pg_health.cluster_members names any: members by state,
 * reachable primaries, and each member's figures (the member fields that
 * have a metric) labelled by its name; a figure not known is absent.  No
 * family at all when the list is empty, so that "primaries != 1" alerts
 * only where there is a cluster to judge.
 */
static void
cluster_metrics(StringInfo b, const PhClusterTable *t)
{
	PhClusterCount n;
	static const PhMemberState states[] = {PH_MEMBER_UP, PH_MEMBER_DOWN, PH_MEMBER_FOREIGN,
	PH_MEMBER_UNRESOLVED, PH_MEMBER_UNKNOWN};

	if (t->n == 0)
		return;
	ph_cluster_count(t, &n);
	family(b, "cluster_members", "gauge", "Members of pg_health.cluster_members by state, as this node polled them.");
	for (int s = 0; s < (int) lengthof(states); s++)
	{
		int			count = 0;

		for (int i = 0; i < t->n; i++)
			count += t->members[i].state == states[s];
		sample1(b, "cluster_members", "state", ph_member_state_name(states[s]), count);
	}
	family(b, "cluster_primaries", "gauge", "Reachable members that say they are a primary: 1 is a cluster that takes writes, 0 none, 2 and more a split brain.");
	sample(b, "cluster_primaries", n.primaries);
	family(b, "cluster_stale", "gauge", "1 when this node's view of the cluster is older than three polling rounds (nothing is judged from it).");
	sample(b, "cluster_stale", ph_cluster_stale(t, GetCurrentTimestamp()));
	for (int k = 0; k < ph_n_member_fields; k++)
	{
		const PhField *f = &ph_member_fields[k];

		if (f->metric == NULL)
			continue;
		family(b, f->metric, "gauge", f->help);
		for (int i = 0; i < t->n; i++)
		{
			double		v = ph_field_number(f, &t->members[i], 0);

			if (!isnan(v))
				labeled(b, f->metric, v, "member", t->members[i].name, NULL);
		}
	}
}

/*
 * The fields of a table that have a metric (fields.c) and apply to this
 * server's role: a family's HELP and TYPE before its first sample; each
 * table keeps a family's fields together.
 */
static void
field_metrics(StringInfo b, const PhField *fields, int n, const void *base, TimestampTz at,
			  bool in_recovery)
{
	const char *open_family = NULL;

	for (int k = 0; k < n; k++)
	{
		const PhField *f = &fields[k];
		double		v;

		if (f->metric == NULL || !ph_field_applies(f, in_recovery))
			continue;
		if (open_family == NULL || strcmp(open_family, f->metric) != 0)
		{
			Assert(f->help != NULL);
			family(b, f->metric, is_counter(f->metric) ? "counter" : "gauge", f->help);
			open_family = f->metric;
		}
		v = ph_field_number(f, base, at);
		if (f->label != NULL)
			sample1(b, f->metric, f->label, f->label_value, v);
		else
			sample(b, f->metric, v);
	}
}

void
ph_metrics_text(StringInfo b)
{
	PhPageView	pv;
	static const PhState states[] = {PH_STATE_READY, PH_STATE_DEGRADED, PH_STATE_NOT_READY,
	PH_STATE_STARTING, PH_STATE_UNKNOWN};
	PhSnapshot *snap;
	PhPoolTable *pools;
	PhComponentTable *comps;
	PhCheck    *checks;
	PhPoolerTable *poolers;
	pid_t		worker_pid;
	TimestampTz now;
	PhVerdict	v;
	int			nchecks;

	/* the tables, no rings: /metrics shows no history */
	ph_read_page(&pv, PH_PART_POOLS | PH_PART_COMPONENTS | PH_PART_POOLERS | PH_PART_STANDBYS, 0, 0);
	snap = pv.snap;
	pools = pv.pools;
	comps = pv.components;
	checks = pv.checks;
	poolers = pv.poolers;
	worker_pid = pv.worker_pid;
	now = pv.now;
	v = pv.verdict;
	nchecks = pv.nchecks;

	family(b, "build_info", "gauge", "Always 1: the versions of pg_health's library and of the PostgreSQL it runs in.");
	labeled(b, "build_info", 1,
			"version", PH_LIBRARY_VERSION, "pg_version", GetConfigOption("server_version", false, false), NULL);
	family(b, "live", "gauge", "1 when the pg_health worker is sampling (its last sample is fresh).");
	sample(b, "live", v.live);
	family(b, "started", "gauge", "1 once initialization is complete (health.started()).");
	sample(b, "started", v.started);
	family(b, "ready", "gauge", "1 when ready to take traffic for the role (health.ready(role)); role any = either.");
	for (int r = 0; r < PH_NUM_ROLES; r++)
	{
		PhVerdict	rv;

		ph_verdict_from_snapshot(snap, worker_pid, (PhRole) r, now, &rv);
		sample1(b, "ready", "role", r == PH_ROLE_ANY ? "any" : ph_role_name((PhRole) r), rv.ready);
	}
	family(b, "status", "gauge", "1 for the overall status the server is in, 0 for the others.");
	for (int i = 0; i < (int) lengthof(states); i++)
		sample1(b, "status", "status", ph_state_name(states[i]), v.state == states[i]);
	family(b, "in_recovery", "gauge", "1 on a standby (in recovery), 0 on a primary.");
	sample(b, "in_recovery", snap->generation > 0 && snap->in_recovery);

	family(b, "check_status", "gauge", "Each check's status: 0 ok, 1 warning, 2 critical, 3 unknown.");
	for (int i = 0; i < nchecks; i++)
		sample1(b, "check_status", "check", checks[i].name, checks[i].status);
	/* each check's figure in a family named for its unit, in base units */
	for (int u = 0; u < (int) lengthof(check_units); u++)
	{
		family(b, check_units[u].family, "gauge", check_units[u].help);
		for (int i = 0; i < nchecks; i++)
		{
			double		scale;

			if (!isnan(checks[i].value) &&
				ph_check_unit(checks[i].name, snap->generation > 0 && snap->in_recovery, &scale) == (PhCheckUnit) u)
				sample1(b, check_units[u].family, "check", checks[i].name, checks[i].value * scale);
		}
	}

	family(b, "sample_age_seconds", "gauge", "Age of the last sample.");
	sample(b, "sample_age_seconds", v.age_ms >= 0 ? v.age_ms / 1000.0 : get_float8_nan());
	family(b, "sample_duration_seconds", "gauge", "What the last sample cost the worker.");
	sample(b, "sample_duration_seconds", snap->sample_duration_us / 1e6);
	family(b, "samples_total", "counter", "Samples taken since shared memory was initialized.");
	sample(b, "samples_total", (double) snap->generation);

	if (snap->generation > 0)
	{
		field_metrics(b, ph_connection_fields, ph_n_connection_fields, &snap->conn,
					  snap->sampled_at, snap->in_recovery);
		field_metrics(b, ph_replication_fields, ph_n_replication_fields, snap,
					  snap->sampled_at, snap->in_recovery);
		standby_metrics(b, snap, pv.standbys);
		database_session_metrics(b, pools);
		field_metrics(b, ph_serving_fields, ph_n_serving_fields, snap,
					  snap->sampled_at, snap->in_recovery);
		filesystem_metrics(b, &snap->serving.disk);
		cluster_metrics(b, &snap->cluster);

		/*
		 * the 5 slots that retain the most; whether each is in use apart, so
		 * that a slot's series does not change when its consumer comes and
		 * goes
		 */
		family(b, "slot_retained_bytes", "gauge", "WAL retained by each of the 5 replication slots that retain the most, active or not.");
		for (int k = 0; k < snap->repl.ntop_slots; k++)
			sample1(b, "slot_retained_bytes", "slot", snap->repl.top_slots[k].name,
					(double) snap->repl.top_slots[k].retained_bytes);
		family(b, "slot_active", "gauge", "1 when a consumer uses the slot, for the slots of slot_retained_bytes.");
		for (int k = 0; k < snap->repl.ntop_slots; k++)
			sample1(b, "slot_active", "slot", snap->repl.top_slots[k].name,
					snap->repl.top_slots[k].active);

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
							ph_limit_name(p->db_index >= 0 ? &pools->databases[p->db_index] : NULL,
										  p->datid, dbuf, sizeof(dbuf)),
							ph_limit_name(p->role_index >= 0 ? &pools->roles[p->role_index] : NULL,
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
	if (snap->generation > 0)
	{
		component_pool_metrics(b, comps);
		pooler_metrics(b, poolers);
	}
}

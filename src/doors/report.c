/*
 * report.c -- the health report document (health.report(), GET /health) and
 * the HTTP probes' answers (doors), from a copied-out snapshot (never under
 * the lock), written with the one JSON writer (json.c).
 */
#include "postgres.h"

#include "doors/fields.h"
#include "doors/node.h"
#include "doors/report.h"
#include "ground/json.h"
#include "judge/admission.h"
#include "judge/component_checks.h"
#include "judge/replication_checks.h"
#include "judge/verdict.h"
#include "read/read.h"

/* The connection figures, as fields.c describes them. */
static void
report_connections(PhJson *j, const PhSnapshot *snap)
{
	ph_json_open(j, false);
	ph_json_fields(j, ph_connection_fields, ph_n_connection_fields, &snap->conn, snap->sampled_at,
				   snap->in_recovery);
	ph_json_close(j);
}

/* The verdict's keys, shared by the report and the HTTP probes' answers. */
static void
json_verdict(PhJson *j, const PhSnapshot *snap, PhRole role, const PhVerdict *v)
{
	ph_json_str(j, "status", ph_state_name(v->state));
	ph_json_bool(j, "ready", v->ready);
	ph_json_bool(j, "live", v->live);
	ph_json_bool(j, "started", v->started);
	ph_json_str(j, "role", snap->generation == 0 ? NULL :
				ph_role_name(ph_role_of(snap->in_recovery)));
	ph_json_str(j, "requested_role", ph_role_name(role));
	ph_json_int(j, "generation", (int64) snap->generation);
	ph_json_time(j, "sampled_at", snap->sampled_at);
	ph_json_opt_int(j, "sample_age_ms", v->age_ms);
}

/* One pooler and its pools, as health.poolers and health.pooler_pools show them. */
static void
report_pooler(PhJson *j, const PhPooler *p, TimestampTz at)
{
	ph_json_open(j, false);
	ph_json_fields(j, ph_pooler_fields, ph_n_pooler_fields, p, at, false);
	ph_json_key(j, "pools");
	ph_json_open(j, true);
	for (int k = 0; k < p->npools; k++)
	{
		ph_json_open(j, false);
		ph_json_fields(j, ph_pooler_pool_fields, ph_n_pooler_pool_fields, &p->pools[k], at, false);
		ph_json_close(j);
	}
	ph_json_close(j);
	ph_json_close(j);
}

/* One application component, as health.components shows it (fields.c). */
static void
report_component(PhJson *j, const PhComponentResult *r, TimestampTz at)
{
	ph_json_open(j, false);
	ph_json_fields(j, ph_component_fields, ph_n_component_fields, r, at, false);
	ph_json_close(j);
}

/*
 * The replication figures of the sample (fields.c): a standby's receiver,
 * or a primary's standbys, and either's slots.
 */
static void
report_replication(PhJson *j, const PhSnapshot *snap)
{
	ph_json_open(j, false);
	ph_json_fields(j, ph_replication_fields, ph_n_replication_fields, snap, snap->sampled_at,
				   snap->in_recovery);
	ph_json_close(j);
}

/*
 * Whether the server can serve (fields.c): the accept probe, commits
 * waiting, the archiver, the XID horizon, replay, and every filesystem.
 */
static void
report_serving(PhJson *j, const PhSnapshot *snap)
{
	const PhDisk *d = &snap->serving.disk;

	ph_json_open(j, false);
	ph_json_fields(j, ph_serving_fields, ph_n_serving_fields, snap, snap->sampled_at,
				   snap->in_recovery);
	ph_json_key(j, "filesystems");
	ph_json_open(j, true);
	for (int k = 0; k < d->n; k++)
	{
		ph_json_open(j, false);
		ph_json_fields(j, ph_filesystem_fields, ph_n_filesystem_fields, &d->fs[k],
					   snap->sampled_at, false);
		ph_json_close(j);
	}
	ph_json_close(j);
	ph_json_close(j);
}

/* A nullable boolean: a fact of a name that was asked about and exists. */
static void
json_fact(PhJson *j, const char *key, bool known, bool b)
{
	if (known)
		ph_json_bool(j, key, b);
	else
		ph_json_str(j, key, NULL);
}

/*
 * The per-tenant answer (admission.c): the names asked, the answer and
 * ready (the server's verdict and the answer together), the facts it
 * weighed, and each reason with its fix.
 */
static void
json_admission(PhJson *j, const PhAdmission *adm, bool server_ready)
{
	const PhTenantFacts *f = &adm->answer.facts;
	bool		done = adm->answer.lookup == PH_LOOKUP_DONE;
	bool		role = done && adm->user != NULL && f->role_exists;
	bool		db = done && adm->database != NULL && f->db_exists;

	ph_json_open(j, false);
	ph_json_str(j, "user", adm->user);
	ph_json_str(j, "database", adm->database);
	ph_json_str(j, "answer", ph_admit_name(adm->admit));
	ph_json_bool(j, "admitted", adm->admit == PH_ADMIT_YES);
	ph_json_bool(j, "ready", server_ready && adm->admit == PH_ADMIT_YES);
	ph_json_time(j, "looked_up_at", adm->answer.looked_up_at);
	ph_json_key(j, "facts");
	if (!done || adm->hide_facts)
		ph_json_null_value(j);
	else
	{
		ph_json_open(j, false);
		json_fact(j, "role_exists", adm->user != NULL, f->role_exists);
		json_fact(j, "can_login", role, f->can_login);
		json_fact(j, "superuser", role, f->superuser);
		json_fact(j, "use_reserved_connections", role, f->use_reserved);
		ph_json_time(j, "valid_until", role && f->valid_until != DT_NOEND ? f->valid_until : 0);
		ph_json_opt_int(j, "role_connection_limit", role ? f->role_connlimit : -1);
		ph_json_opt_int(j, "role_sessions", role ? adm->answer.role_used : -1);
		json_fact(j, "database_exists", adm->database != NULL, f->db_exists);
		json_fact(j, "allows_connections", db, f->allow_conn && f->db_valid);
		ph_json_opt_int(j, "database_connection_limit", db ? f->db_connlimit : -1);
		ph_json_opt_int(j, "database_sessions", db ? adm->answer.db_used : -1);
		json_fact(j, "can_connect", role && db && f->can_connect >= 0, f->can_connect == 1);
		ph_json_close(j);
	}
	ph_json_key(j, "reasons");
	ph_json_open(j, true);
	for (int i = 0; i < adm->nreasons; i++)
	{
		ph_json_open(j, false);
		ph_json_str(j, "reason", adm->reasons[i].reason);
		ph_json_bool(j, "refuses", adm->reasons[i].refuses);
		ph_json_str(j, "detail", adm->reasons[i].detail);
		ph_json_str(j, "fix", adm->reasons[i].fix);
		ph_json_close(j);
	}
	ph_json_close(j);
	ph_json_close(j);
}

/*
 * The whole report for one role at one time, as a Jsonb document: what
 * health.report() returns and GET /health renders.  Built from a
 * copied-out snapshot, never under the lock.
 */
Jsonb	   *
ph_report_jsonb(const PhSnapshot *snap, const PhComponentTable *components,
				const PhPoolerTable *poolers, pid_t worker_pid, PhRole role, TimestampTz now, const PhAdmission *adm)
{
	PhVerdict	v;
	PhCheck    *checks = ph_reader_buffer(PH_BUF_CHECKS);
	int			nchecks;
	PhJson		jj;
	PhJson	   *j = &jj;

	ph_verdict_from_snapshot(snap, worker_pid, role, now, &v);
	nchecks = ph_collect_checks(snap, worker_pid, role, now, checks);

	ph_json_jsonb_sink(j);
	ph_json_open(j, false);
	json_verdict(j, snap, role, &v);
	ph_json_int(j, "sample_duration_us", snap->sample_duration_us);

	ph_json_key(j, "checks");
	ph_json_open(j, true);
	for (int i = 0; i < nchecks; i++)
	{
		ph_json_open(j, false);
		ph_json_str(j, "name", checks[i].name);
		ph_json_str(j, "status", ph_check_status_name((PhCheckStatus) checks[i].status));
		ph_json_num(j, "value", checks[i].value);
		ph_json_num(j, "warning_threshold", checks[i].warning_threshold);
		ph_json_num(j, "critical_threshold", checks[i].critical_threshold);
		ph_json_str(j, "detail", checks[i].detail);
		ph_json_time(j, "since", checks[i].since);
		ph_json_close(j);
	}
	ph_json_close(j);

	ph_json_key(j, "connections");
	if (snap->generation == 0)
		ph_json_null_value(j);
	else
		report_connections(j, snap);

	ph_json_key(j, "replication");
	if (snap->generation == 0)
		ph_json_null_value(j);
	else
		report_replication(j, snap);

	ph_json_key(j, "serving");
	if (snap->generation == 0)
		ph_json_null_value(j);
	else
		report_serving(j, snap);

	/* as GET /cluster gives it; null when pg_health.cluster_members is empty */
	ph_json_key(j, "cluster");
	if (snap->generation == 0 || snap->cluster.n == 0)
		ph_json_null_value(j);
	else
		ph_cluster_doc(j, snap, now, NULL);

	ph_json_key(j, "components");
	ph_json_open(j, true);
	for (int k = 0; snap->generation > 0 && k < components->n; k++)
		report_component(j, &components->items[k], snap->sampled_at);
	ph_json_close(j);
	ph_json_key(j, "poolers");
	ph_json_open(j, true);
	for (int k = 0; snap->generation > 0 && k < poolers->n; k++)
		report_pooler(j, &poolers->items[k], snap->sampled_at);
	ph_json_close(j);
	if (adm != NULL)
	{
		ph_json_key(j, "admission");
		json_admission(j, adm, v.ready);
	}
	ph_json_close(j);
	return JsonbValueToJsonb(j->result);
}

/*
 * The answer of an HTTP probe (/live, /startup, /ready and its role
 * variants): the verdict, and every check that is not ok with its detail,
 * so a probe's log says why; with adm (/ready?user=&database=), the
 * per-tenant answer too, and then the question is "ready, and would this
 * connection be admitted?".  Sets the HTTP status: 200 when the probe's
 * question is answered yes, 503 otherwise.
 */
void
ph_probe_json(StringInfo buf, const PhSnapshot *snap, pid_t worker_pid, PhRole role,
			  TimestampTz now, const char *probe, const PhAdmission *adm, int *http_status)
{
	PhVerdict	v;
	PhCheck    *checks = ph_reader_buffer(PH_BUF_CHECKS);
	int			nchecks;
	bool		yes;
	PhJson		jj;
	PhJson	   *j = &jj;

	ph_verdict_from_snapshot(snap, worker_pid, role, now, &v);
	nchecks = ph_collect_checks(snap, worker_pid, role, now, checks);
	yes = strcmp(probe, "live") == 0 ? v.live :
		strcmp(probe, "startup") == 0 ? v.started : v.ready;
	if (adm != NULL)
		yes = yes && adm->admit == PH_ADMIT_YES;
	*http_status = yes ? 200 : 503;

	ph_json_text_sink(j, buf);
	ph_json_open(j, false);
	ph_json_str(j, "probe", probe);
	ph_json_bool(j, "ok", yes);
	json_verdict(j, snap, role, &v);
	ph_json_key(j, "reasons");
	ph_json_open(j, true);
	for (int i = 0; i < nchecks; i++)
	{
		if (checks[i].status == PH_CHECK_OK)
			continue;
		ph_json_open(j, false);
		ph_json_str(j, "check", checks[i].name);
		ph_json_str(j, "status", ph_check_status_name((PhCheckStatus) checks[i].status));
		ph_json_str(j, "detail", checks[i].detail);
		ph_json_close(j);
	}
	ph_json_close(j);
	if (adm != NULL)
	{
		ph_json_key(j, "admission");
		json_admission(j, adm, v.ready);
	}
	ph_json_close(j);
	appendStringInfoChar(buf, '\n');
}

/*
 * report.c -- the health report document: the JSON that health.report()
 * returns and that the HTTP endpoint will serve, built by this one function
 * from a copied-out snapshot (never under the lock).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/datetime.h"
#include "utils/json.h"

#include "pg_health.h"

static void
json_key(StringInfo buf, const char *key, bool *first)
{
	if (!*first)
		appendStringInfoChar(buf, ',');
	*first = false;
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
}

/* Times in UTC, ISO 8601, whatever the reader's TimeZone: one document. */
static void
json_time(StringInfo buf, const char *key, TimestampTz ts, bool *first)
{
	char		out[MAXDATELEN + 1];
	int			utc = 0;

	json_key(buf, key, first);
	if (ts == 0)
	{
		appendStringInfoString(buf, "null");
		return;
	}
	JsonEncodeDateTime(out, TimestampTzGetDatum(ts), TIMESTAMPTZOID, &utc);
	appendStringInfo(buf, "\"%s\"", out);
}

static void
json_num(StringInfo buf, const char *key, double v, bool *first)
{
	json_key(buf, key, first);
	if (isnan(v) || isinf(v))
		appendStringInfoString(buf, "null");
	else
		appendStringInfo(buf, "%.10g", v);
}

static void
json_int(StringInfo buf, const char *key, int64 v, bool *first)
{
	json_key(buf, key, first);
	appendStringInfo(buf, INT64_FORMAT, v);
}

/* An int figure that does not exist on this server (negative): null. */
static void
json_opt_int(StringInfo buf, const char *key, int64 v, bool *first)
{
	if (v < 0)
	{
		json_key(buf, key, first);
		appendStringInfoString(buf, "null");
	}
	else
		json_int(buf, key, v, first);
}

static void
json_bool(StringInfo buf, const char *key, bool v, bool *first)
{
	json_key(buf, key, first);
	appendStringInfoString(buf, v ? "true" : "false");
}

static void
json_str(StringInfo buf, const char *key, const char *v, bool *first)
{
	json_key(buf, key, first);
	if (v == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, v);
}

static void
json_age_ms(StringInfo buf, const char *key, TimestampTz since, TimestampTz at, bool *first)
{
	json_opt_int(buf, key, since == 0 ? -1 : Max(at - since, 0) / 1000, first);
}

static void
report_connections(StringInfo buf, const PhSnapshot *snap)
{
	const PhConnections *c = &snap->conn;
	bool		first = true;

	appendStringInfoChar(buf, '{');
	json_int(buf, "max_connections", c->max_connections, &first);
	json_int(buf, "superuser_reserved_connections", c->superuser_reserved, &first);
	json_opt_int(buf, "reserved_connections", c->reserved, &first);
	json_int(buf, "usable_slots", c->usable, &first);
	json_int(buf, "slots_used", c->slots_used, &first);
	json_int(buf, "slots_free", c->slots_free, &first);
	json_int(buf, "available_to_ordinary_roles", c->available_ordinary, &first);
	json_opt_int(buf, "available_to_reserved_roles", c->available_reserved, &first);
	json_num(buf, "utilization_pct", c->utilization_pct, &first);
	json_int(buf, "client_backends", c->s.sessions, &first);
	json_int(buf, "active", c->s.active, &first);
	json_int(buf, "idle", c->s.idle, &first);
	json_int(buf, "idle_in_transaction", c->s.idle_in_transaction, &first);
	json_int(buf, "idle_in_transaction_aborted", c->s.idle_in_transaction_aborted, &first);
	json_int(buf, "fastpath", c->s.fastpath, &first);
	json_int(buf, "disabled", c->s.disabled, &first);
	json_int(buf, "starting", c->s.starting, &first);
	json_int(buf, "waiting_on_locks", c->s.waiting_on_locks, &first);
	json_age_ms(buf, "oldest_transaction_age_ms", c->s.oldest_xact_start, snap->sampled_at, &first);
	json_age_ms(buf, "oldest_query_age_ms", c->s.oldest_query_start, snap->sampled_at, &first);
	json_age_ms(buf, "longest_idle_in_transaction_ms", c->s.oldest_idle_in_xact_start,
				snap->sampled_at, &first);
	json_int(buf, "background_workers", c->background_workers, &first);
	json_int(buf, "autovacuum_workers", c->autovacuum_workers, &first);
	json_int(buf, "walsenders", c->walsenders, &first);
	json_int(buf, "other_processes", c->other_processes, &first);
	json_int(buf, "connections_authenticated", (int64) c->authenticated, &first);
	json_int(buf, "authentication_failures", (int64) c->auth_failures, &first);
	json_int(buf, "refused_no_slots", (int64) c->refused_no_slots, &first);
	json_int(buf, "refused_starting", (int64) c->refused_starting, &first);
	json_int(buf, "refusals_in_window", c->refusals_in_window, &first);
	json_time(buf, "last_refusal_at", c->last_refusal_at, &first);
	json_str(buf, "last_refused_role", c->last_refusal_at ? c->last_refused_role : NULL, &first);
	json_str(buf, "last_refused_database", c->last_refusal_at ? c->last_refused_database : NULL, &first);
	/* false: the names are what an unauthenticated startup packet asked for */
	json_bool(buf, "last_refusal_authenticated", c->last_refusal_at && c->last_refusal_authenticated,
			  &first);
	json_num(buf, "connections_per_s", c->connections_per_s, &first);
	json_num(buf, "refusals_per_s", c->refusals_per_s, &first);
	json_num(buf, "authentication_failures_per_s", c->auth_failures_per_s, &first);
	appendStringInfoChar(buf, '}');
}

/*
 * The whole report for one role at one time.  Keys in the order a person
 * reads them: verdict first, then why, then the figures.
 */
/* The verdict's keys, shared by the report and the HTTP probes' answers. */
static void
json_verdict(StringInfo buf, const PhSnapshot *snap, PhRole role, const PhVerdict *v,
			 bool *first)
{
	json_str(buf, "status", ph_state_name(v->state), first);
	json_bool(buf, "ready", v->ready, first);
	json_bool(buf, "live", v->live, first);
	json_bool(buf, "started", v->started, first);
	json_str(buf, "role", snap->generation == 0 ? NULL :
			 snap->in_recovery ? "replica" : "primary", first);
	json_str(buf, "requested_role", ph_role_name(role), first);
	json_int(buf, "generation", (int64) snap->generation, first);
	json_time(buf, "sampled_at", snap->sampled_at, first);
	json_opt_int(buf, "sample_age_ms", v->age_ms, first);
}

/* One application component, as health.components shows it. */
static void
report_component(StringInfo buf, const PhComponentResult *r)
{
	bool		f = true;
	bool		reported = r->c.in_use;

	appendStringInfoChar(buf, '{');
	json_str(buf, "name", r->c.name, &f);
	json_bool(buf, "required", r->required, &f);
	json_str(buf, "state", ph_component_state_name((PhComponentState) r->effective), &f);
	json_str(buf, "status", ph_check_status_name((PhCheckStatus) r->status), &f);
	json_str(buf, "detail", reported && r->c.detail[0] ? r->c.detail : NULL, &f);
	json_time(buf, "state_since", reported ? r->c.state_since : 0, &f);
	json_time(buf, "last_heartbeat", reported ? r->c.last_heartbeat : 0, &f);
	json_bool(buf, "ready_once", r->c.first_ready_at != 0, &f);
	json_opt_int(buf, "ttl_s", r->ttl_s > 0 ? r->ttl_s : -1, &f);
	json_str(buf, "pool_application_name",
			 r->pool_connections >= 0 ? r->c.pool_application_name : NULL, &f);
	json_opt_int(buf, "pool_connections", r->pool_connections, &f);
	json_opt_int(buf, "pool_min_connections", r->pool_connections >= 0 ? r->c.pool_min : -1, &f);
	appendStringInfoChar(buf, '}');
}

static void
json_lsn(StringInfo buf, const char *key, XLogRecPtr lsn, bool *first)
{
	json_key(buf, key, first);
	if (XLogRecPtrIsInvalid(lsn))
		appendStringInfoString(buf, "null");
	else
		appendStringInfo(buf, "\"%X/%X\"", LSN_FORMAT_ARGS(lsn));
}

/* The replication figures of the sample: a standby's receiver, or a primary's standbys. */
static void
report_replication(StringInfo buf, const PhSnapshot *snap)
{
	const PhReplication *r = &snap->repl;
	bool		first = true;

	appendStringInfoChar(buf, '{');
	json_str(buf, "server", snap->in_recovery ? "standby" : "primary", &first);
	if (snap->in_recovery)
	{
		char		sender[96];

		json_str(buf, "receiver_state", ph_receiver_state_name((PhReceiverState) r->receiver_state), &first);
		/* where replay gets its WAL now */
		json_str(buf, "wal_source", r->receiver_state == PH_RCV_STREAMING ? "streaming" :
				 r->has_restore_command ? "archive" : "pg_wal", &first);
		json_bool(buf, "has_primary_conninfo", r->has_primary_conninfo, &first);
		json_opt_int(buf, "receiver_pid", r->receiver_pid > 0 ? r->receiver_pid : -1, &first);
		snprintf(sender, sizeof(sender), "%s:%d", r->sender_host, r->sender_port);
		json_str(buf, "sender", r->sender_host[0] ? sender : NULL, &first);
		json_time(buf, "state_since", r->state_since, &first);
		json_lsn(buf, "received_lsn", r->received_lsn, &first);
		json_lsn(buf, "replayed_lsn", r->replayed_lsn, &first);
		json_int(buf, "timeline", r->timeline, &first);
		json_int(buf, "lag_bytes", r->lag_bytes, &first);
		json_int(buf, "delay_ms", r->delay_us / 1000, &first);
		json_bool(buf, "replay_paused", r->pause_state != 0, &first);
		json_time(buf, "last_replayed_xact_at", r->last_replayed_xact_at, &first);
		json_time(buf, "last_message_at", r->last_message_at, &first);
	}
	else
	{
		json_lsn(buf, "current_lsn", r->current_lsn, &first);
		json_int(buf, "standbys", r->standbys, &first);
		json_int(buf, "standbys_streaming", r->standbys_streaming, &first);
		json_int(buf, "sync_standbys", r->sync_standbys, &first);
		json_int(buf, "sync_required", r->sync_required, &first);
		json_str(buf, "sync_method", r->sync_required == 0 ? NULL : r->sync_quorum ? "ANY" : "FIRST",
				 &first);
		json_int(buf, "max_standby_lag_bytes", r->max_standby_lag_bytes, &first);
	}
	json_int(buf, "slots", r->slots, &first);
	json_int(buf, "inactive_slots", r->inactive_slots, &first);
	json_str(buf, "worst_inactive_slot", r->worst_retained_bytes >= 0 ? r->worst_slot : NULL, &first);
	json_opt_int(buf, "worst_inactive_slot_retained_bytes", r->worst_retained_bytes, &first);
	appendStringInfoChar(buf, '}');
}

void
ph_report_json(StringInfo buf, const PhSnapshot *snap, const PhComponentTable *components,
			   pid_t worker_pid, PhRole role, TimestampTz now)
{
	PhVerdict	v;
	PhCheck    *checks = ph_reader_buffer(PH_BUF_CHECKS);
	int			nchecks;
	bool		first = true;

	ph_verdict_from_snapshot(snap, worker_pid, role, now, &v);
	nchecks = ph_collect_checks(snap, worker_pid, role, now, checks);

	appendStringInfoChar(buf, '{');
	json_verdict(buf, snap, role, &v, &first);
	json_int(buf, "sample_duration_us", snap->sample_duration_us, &first);

	json_key(buf, "checks", &first);
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < nchecks; i++)
	{
		bool		f = true;

		if (i > 0)
			appendStringInfoChar(buf, ',');
		appendStringInfoChar(buf, '{');
		json_str(buf, "name", checks[i].name, &f);
		json_str(buf, "status", ph_check_status_name((PhCheckStatus) checks[i].status), &f);
		json_num(buf, "value", checks[i].value, &f);
		json_num(buf, "warning_threshold", checks[i].warning_threshold, &f);
		json_num(buf, "critical_threshold", checks[i].critical_threshold, &f);
		json_str(buf, "detail", checks[i].detail, &f);
		json_time(buf, "since", checks[i].since, &f);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');

	json_key(buf, "connections", &first);
	if (snap->generation == 0)
		appendStringInfoString(buf, "null");
	else
		report_connections(buf, snap);

	json_key(buf, "replication", &first);
	if (snap->generation == 0)
		appendStringInfoString(buf, "null");
	else
		report_replication(buf, snap);

	json_key(buf, "components", &first);
	appendStringInfoChar(buf, '[');
	for (int k = 0; snap->generation > 0 && k < components->n; k++)
	{
		if (k > 0)
			appendStringInfoChar(buf, ',');
		report_component(buf, &components->items[k]);
	}
	appendStringInfoChar(buf, ']');
	appendStringInfoChar(buf, '}');
}

/*
 * One event as JSON: the NOTIFY pg_health payload.  "checks" lists the checks
 * whose status changed, as health.events.changes does.
 */
void
ph_event_json(StringInfo buf, const PhEvent *e)
{
	bool		first = true;

	appendStringInfoChar(buf, '{');
	json_int(buf, "generation", (int64) e->generation, &first);
	json_time(buf, "occurred_at", e->occurred_at, &first);
	json_str(buf, "old_status", ph_state_name((PhState) e->old_state), &first);
	json_str(buf, "new_status", ph_state_name((PhState) e->new_state), &first);
	json_key(buf, "checks", &first);
	appendStringInfoString(buf, e->changes[0] ? e->changes : "[]");
	json_str(buf, "reasons", e->reasons, &first);
	appendStringInfoChar(buf, '}');
}

/*
 * The answer of an HTTP probe (/live, /startup, /ready and its role
 * variants): the verdict, and every check that is not ok with its detail,
 * so a probe's log says why.  Sets the HTTP status: 200 when the probe's
 * question is answered yes, 503 otherwise.
 */
void
ph_probe_json(StringInfo buf, const PhSnapshot *snap, pid_t worker_pid, PhRole role,
			  TimestampTz now, const char *probe, int *http_status)
{
	PhVerdict	v;
	PhCheck    *checks = ph_reader_buffer(PH_BUF_CHECKS);
	int			nchecks;
	bool		first = true;
	bool		yes;

	ph_verdict_from_snapshot(snap, worker_pid, role, now, &v);
	nchecks = ph_collect_checks(snap, worker_pid, role, now, checks);
	yes = strcmp(probe, "live") == 0 ? v.live :
		strcmp(probe, "startup") == 0 ? v.started : v.ready;
	*http_status = yes ? 200 : 503;

	appendStringInfoChar(buf, '{');
	json_str(buf, "probe", probe, &first);
	json_bool(buf, "ok", yes, &first);
	json_verdict(buf, snap, role, &v, &first);
	json_key(buf, "reasons", &first);
	appendStringInfoChar(buf, '[');
	for (int i = 0, k = 0; i < nchecks; i++)
	{
		bool		f = true;

		if (checks[i].status == PH_CHECK_OK)
			continue;
		if (k++ > 0)
			appendStringInfoChar(buf, ',');
		appendStringInfoChar(buf, '{');
		json_str(buf, "check", checks[i].name, &f);
		json_str(buf, "status", ph_check_status_name((PhCheckStatus) checks[i].status), &f);
		json_str(buf, "detail", checks[i].detail, &f);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoString(buf, "]}\n");
}

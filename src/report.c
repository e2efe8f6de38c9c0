/*
 * report.c -- the health report document (health.report(), GET /health),
 * the HTTP probes' answers and the NOTIFY payloads: every JSON pg_health
 * writes, from a copied-out snapshot (never under the lock).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "pg_health.h"
#include "read.h"

/*
 * One JSON writer, two sinks.  The report is built as a Jsonb value: a tree
 * of JsonbValues that PostgreSQL's own JsonbValueToJsonb turns into the
 * jsonb datum, which SQL returns as it is and the HTTP door renders with
 * JsonbToCString, so no JSON text is written by hand and parsed back.  The
 * probes' answers and the NOTIFY payloads are small texts sent as they are
 * written: the same calls write them as text.
 *
 * The tree is built directly rather than through pushJsonbValue, whose
 * general-purpose sort of every object's keys (and its copying between
 * parse states) was half of the report's cost: an object's keys are sorted
 * here, in Jsonb's order, by an insertion sort that is cheap for a few dozen
 * constant keys.
 */
#define PH_JSON_DEPTH 8

typedef struct PhJson
{
	StringInfo	text;			/* the text sink; NULL: the Jsonb sink */
	int			depth;
	bool		in_array[PH_JSON_DEPTH];
	/* text sink */
	bool		first[PH_JSON_DEPTH];	/* no comma before the next */
	bool		after_key;		/* a value follows its key directly */
	/* Jsonb sink */
	JsonbValue *open[PH_JSON_DEPTH];	/* the containers being filled */
	int			room[PH_JSON_DEPTH];	/* their allocated pairs or elements */
	JsonbValue *result;			/* the document, once closed */
} PhJson;

static void
json_text_sink(PhJson *j, StringInfo buf)
{
	memset(j, 0, sizeof(*j));
	j->text = buf;
}

static void
json_jsonb_sink(PhJson *j)
{
	memset(j, 0, sizeof(*j));
}

/* text: the comma between members and elements, never after a key */
static void
json_separate(PhJson *j)
{
	if (j->after_key)
		j->after_key = false;
	else if (j->text && j->depth > 0)
	{
		if (!j->first[j->depth - 1])
			appendStringInfoChar(j->text, ',');
		j->first[j->depth - 1] = false;
	}
}

/*
 * Jsonb: where the next value goes: the open object's last pair (its key
 * was just added), a new element of the open array, or the document.
 */
static JsonbValue *
json_slot(PhJson *j)
{
	JsonbValue *c;

	if (j->depth == 0)
		return j->result = palloc(sizeof(JsonbValue));
	c = j->open[j->depth - 1];
	if (!j->in_array[j->depth - 1])
		return &c->val.object.pairs[c->val.object.nPairs - 1].value;
	if (c->val.array.nElems == j->room[j->depth - 1])
	{
		j->room[j->depth - 1] *= 2;
		c->val.array.elems = repalloc(c->val.array.elems,
									  sizeof(JsonbValue) * j->room[j->depth - 1]);
	}
	return &c->val.array.elems[c->val.array.nElems++];
}

/* One scalar, as an object's value or an array's element. */
static void
json_scalar(PhJson *j, JsonbValue *v)
{
	if (j->text)
		return;					/* written by the caller */
	*json_slot(j) = *v;
}

static void
json_open(PhJson *j, bool array)
{
	Assert(j->depth < PH_JSON_DEPTH);
	if (j->text)
	{
		json_separate(j);
		appendStringInfoChar(j->text, array ? '[' : '{');
		j->first[j->depth] = true;
	}
	else
	{
		JsonbValue *c = json_slot(j);

		/* the parent gets nothing more while this is open: c stays put */
		j->room[j->depth] = array ? 16 : 48;
		if (array)
		{
			c->type = jbvArray;
			c->val.array.rawScalar = false;
			c->val.array.nElems = 0;
			c->val.array.elems = palloc(sizeof(JsonbValue) * j->room[j->depth]);
		}
		else
		{
			c->type = jbvObject;
			c->val.object.nPairs = 0;
			c->val.object.pairs = palloc(sizeof(JsonbPair) * j->room[j->depth]);
		}
		j->open[j->depth] = c;
	}
	j->in_array[j->depth] = array;
	j->depth++;
}

/* Jsonb's order of keys: shorter first, then bytewise. */
static inline bool
key_before(const JsonbValue *a, const JsonbValue *b)
{
	if (a->val.string.len != b->val.string.len)
		return a->val.string.len < b->val.string.len;
	return memcmp(a->val.string.val, b->val.string.val, a->val.string.len) < 0;
}

static void
json_close(PhJson *j)
{
	bool		array = j->in_array[--j->depth];

	if (j->text)
		appendStringInfoChar(j->text, array ? ']' : '}');
	else if (!array)
	{
		JsonbValue *c = j->open[j->depth];
		JsonbPair  *p = c->val.object.pairs;

		for (int i = 1; i < c->val.object.nPairs; i++)
		{
			JsonbPair	x = p[i];
			int			k = i - 1;

			for (; k >= 0 && key_before(&x.key, &p[k].key); k--)
				p[k + 1] = p[k];
			p[k + 1] = x;
		}
	}
}

/* A member's key; the value follows.  Keys are string constants. */
static void
json_key(PhJson *j, const char *key)
{
	if (j->text)
	{
		json_separate(j);
		escape_json(j->text, key);
		appendStringInfoChar(j->text, ':');
		j->after_key = true;
	}
	else
	{
		JsonbValue *c = j->open[j->depth - 1];
		JsonbPair  *p;

		if (c->val.object.nPairs == j->room[j->depth - 1])
		{
			j->room[j->depth - 1] *= 2;
			c->val.object.pairs = repalloc(c->val.object.pairs,
										   sizeof(JsonbPair) * j->room[j->depth - 1]);
		}
		p = &c->val.object.pairs[c->val.object.nPairs];
		p->key.type = jbvString;
		p->key.val.string.val = unconstify(char *, key);
		p->key.val.string.len = strlen(key);
		p->order = c->val.object.nPairs++;
	}
}

/* A value: after its key, or separated from the element before it. */
static void
json_value_start(PhJson *j)
{
	if (j->text)
		json_separate(j);
}

static void
json_null_value(PhJson *j)
{
	JsonbValue	v;

	json_value_start(j);
	if (j->text)
		appendStringInfoString(j->text, "null");
	v.type = jbvNull;
	json_scalar(j, &v);
}

/* The string is copied: the Jsonb sink keeps a pointer until the end. */
static void
json_str_value(PhJson *j, const char *s)
{
	JsonbValue	v;

	if (s == NULL)
	{
		json_null_value(j);
		return;
	}
	json_value_start(j);
	if (j->text)
	{
		escape_json(j->text, s);
		return;
	}
	v.type = jbvString;
	v.val.string.val = pstrdup(s);
	v.val.string.len = strlen(s);
	json_scalar(j, &v);
}

static void
json_bool_value(PhJson *j, bool b)
{
	JsonbValue	v;

	json_value_start(j);
	if (j->text)
	{
		appendStringInfoString(j->text, b ? "true" : "false");
		return;
	}
	v.type = jbvBool;
	v.val.boolean = b;
	json_scalar(j, &v);
}

static void
json_int_value(PhJson *j, int64 n)
{
	JsonbValue	v;

	json_value_start(j);
	if (j->text)
	{
		appendStringInfo(j->text, INT64_FORMAT, n);
		return;
	}
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(n);
	json_scalar(j, &v);
}

/* Ten significant digits, as the text has always had; NaN and infinity: null. */
static void
json_num_value(PhJson *j, double d)
{
	char		buf[32];
	JsonbValue	v;

	if (isnan(d) || isinf(d))
	{
		json_null_value(j);
		return;
	}
	/* most figures are whole numbers, which ten digits write exactly */
	if (!j->text && d == rint(d) && fabs(d) < 1e10)
	{
		json_int_value(j, (int64) d);
		return;
	}
	snprintf(buf, sizeof(buf), "%.10g", d);
	json_value_start(j);
	if (j->text)
	{
		appendStringInfoString(j->text, buf);
		return;
	}
	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
														ObjectIdGetDatum(InvalidOid),
														Int32GetDatum(-1)));
	json_scalar(j, &v);
}

static void
json_str(PhJson *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str_value(j, s);
}

static void
json_bool(PhJson *j, const char *key, bool b)
{
	json_key(j, key);
	json_bool_value(j, b);
}

static void
json_int(PhJson *j, const char *key, int64 n)
{
	json_key(j, key);
	json_int_value(j, n);
}

static void
json_num(PhJson *j, const char *key, double d)
{
	json_key(j, key);
	json_num_value(j, d);
}

/* An int figure that does not exist on this server (negative): null. */
static void
json_opt_int(PhJson *j, const char *key, int64 n)
{
	json_key(j, key);
	if (n < 0)
		json_null_value(j);
	else
		json_int_value(j, n);
}

/* Times in UTC, ISO 8601, whatever the reader's TimeZone: one document. */
static void
json_time(PhJson *j, const char *key, TimestampTz ts)
{
	char		out[MAXDATELEN + 1];
	int			utc = 0;

	json_key(j, key);
	if (ts == 0)
	{
		json_null_value(j);
		return;
	}
	JsonEncodeDateTime(out, TimestampTzGetDatum(ts), TIMESTAMPTZOID, &utc);
	json_str_value(j, out);
}

static void
json_age_ms(PhJson *j, const char *key, TimestampTz since, TimestampTz at)
{
	json_opt_int(j, key, since == 0 ? -1 : Max(at - since, 0) / 1000);
}

static void
json_lsn(PhJson *j, const char *key, XLogRecPtr lsn)
{
	char		buf[32];

	json_key(j, key);
	if (XLogRecPtrIsInvalid(lsn))
	{
		json_null_value(j);
		return;
	}
	snprintf(buf, sizeof(buf), "%X/%X", LSN_FORMAT_ARGS(lsn));
	json_str_value(j, buf);
}

static void
report_connections(PhJson *j, const PhSnapshot *snap)
{
	const PhConnections *c = &snap->conn;

	json_open(j, false);
	json_int(j, "max_connections", c->max_connections);
	json_int(j, "superuser_reserved_connections", c->superuser_reserved);
	json_opt_int(j, "reserved_connections", c->reserved);
	json_int(j, "usable_slots", c->usable);
	json_int(j, "slots_used", c->slots_used);
	json_int(j, "slots_free", c->slots_free);
	json_int(j, "available_to_ordinary_roles", c->available_ordinary);
	json_opt_int(j, "available_to_reserved_roles", c->available_reserved);
	json_num(j, "utilization_pct", c->utilization_pct);
	json_int(j, "client_backends", c->s.sessions);
	json_int(j, "active", c->s.active);
	json_int(j, "idle", c->s.idle);
	json_int(j, "idle_in_transaction", c->s.idle_in_transaction);
	json_int(j, "idle_in_transaction_aborted", c->s.idle_in_transaction_aborted);
	json_int(j, "fastpath", c->s.fastpath);
	json_int(j, "disabled", c->s.disabled);
	json_int(j, "starting", c->s.starting);
	json_int(j, "waiting_on_locks", c->s.waiting_on_locks);
	json_age_ms(j, "oldest_transaction_age_ms", c->s.oldest_xact_start, snap->sampled_at);
	json_age_ms(j, "oldest_query_age_ms", c->s.oldest_query_start, snap->sampled_at);
	json_age_ms(j, "longest_idle_in_transaction_ms", c->s.oldest_idle_in_xact_start,
				snap->sampled_at);
	json_int(j, "background_workers", c->background_workers);
	json_int(j, "autovacuum_workers", c->autovacuum_workers);
	json_int(j, "walsenders", c->walsenders);
	json_int(j, "other_processes", c->other_processes);
	json_int(j, "connections_authenticated", (int64) c->authenticated);
	json_int(j, "authentication_failures", (int64) c->auth_failures);
	json_int(j, "refused_no_slots", (int64) c->refused_no_slots);
	json_int(j, "refused_starting", (int64) c->refused_starting);
	json_int(j, "refusals_in_window", c->refusals_in_window);
	json_time(j, "last_refusal_at", c->last_refusal_at);
	json_str(j, "last_refused_role", c->last_refusal_at ? c->last_refused_role : NULL);
	json_str(j, "last_refused_database", c->last_refusal_at ? c->last_refused_database : NULL);
	/* false: the names are what an unauthenticated startup packet asked for */
	json_bool(j, "last_refusal_authenticated", c->last_refusal_at && c->last_refusal_authenticated);
	json_num(j, "connections_per_s", c->connections_per_s);
	json_num(j, "refusals_per_s", c->refusals_per_s);
	json_num(j, "authentication_failures_per_s", c->auth_failures_per_s);
	json_close(j);
}

/* The verdict's keys, shared by the report and the HTTP probes' answers. */
static void
json_verdict(PhJson *j, const PhSnapshot *snap, PhRole role, const PhVerdict *v)
{
	json_str(j, "status", ph_state_name(v->state));
	json_bool(j, "ready", v->ready);
	json_bool(j, "live", v->live);
	json_bool(j, "started", v->started);
	json_str(j, "role", snap->generation == 0 ? NULL :
			 snap->in_recovery ? "replica" : "primary");
	json_str(j, "requested_role", ph_role_name(role));
	json_int(j, "generation", (int64) snap->generation);
	json_time(j, "sampled_at", snap->sampled_at);
	json_opt_int(j, "sample_age_ms", v->age_ms);
}

/* One application component, as health.components shows it. */
static void
report_component(PhJson *j, const PhComponentResult *r)
{
	bool		reported = r->c.in_use;

	json_open(j, false);
	json_str(j, "name", r->c.name);
	json_bool(j, "required", r->required);
	json_str(j, "state", ph_component_state_name((PhComponentState) r->effective));
	json_str(j, "status", ph_check_status_name((PhCheckStatus) r->status));
	json_str(j, "detail", reported && r->c.detail[0] ? r->c.detail : NULL);
	json_time(j, "state_since", reported ? r->c.state_since : 0);
	json_time(j, "last_heartbeat", reported ? r->c.last_heartbeat : 0);
	json_bool(j, "ready_once", r->c.first_ready_at != 0);
	json_opt_int(j, "ttl_s", r->ttl_s > 0 ? r->ttl_s : -1);
	json_str(j, "pool_application_name",
			 r->pool_connections >= 0 ? r->c.pool_application_name : NULL);
	json_opt_int(j, "pool_connections", r->pool_connections);
	json_opt_int(j, "pool_min_connections", r->pool_connections >= 0 ? r->c.pool_min : -1);
	json_close(j);
}

/* The replication figures of the sample: a standby's receiver, or a primary's standbys. */
static void
report_replication(PhJson *j, const PhSnapshot *snap)
{
	const PhReplication *r = &snap->repl;
	json_open(j, false);
	json_str(j, "server", snap->in_recovery ? "standby" : "primary");
	if (snap->in_recovery)
	{
		char		sender[96];

		json_str(j, "receiver_state", ph_receiver_state_name((PhReceiverState) r->receiver_state));
		/* where replay gets its WAL now */
		json_str(j, "wal_source", r->receiver_state == PH_RCV_STREAMING ? "streaming" :
				 r->has_restore_command ? "archive" : "pg_wal");
		json_bool(j, "has_primary_conninfo", r->has_primary_conninfo);
		json_opt_int(j, "receiver_pid", r->receiver_pid > 0 ? r->receiver_pid : -1);
		snprintf(sender, sizeof(sender), "%s:%d", r->sender_host, r->sender_port);
		json_str(j, "sender", r->sender_host[0] ? sender : NULL);
		json_time(j, "state_since", r->state_since);
		json_lsn(j, "received_lsn", r->received_lsn);
		json_lsn(j, "replayed_lsn", r->replayed_lsn);
		json_int(j, "timeline", r->timeline);
		json_int(j, "lag_bytes", r->lag_bytes);
		json_int(j, "delay_ms", r->delay_us / 1000);
		json_bool(j, "replay_paused", r->pause_state != 0);
		json_time(j, "last_replayed_xact_at", r->last_replayed_xact_at);
		json_time(j, "last_message_at", r->last_message_at);
	}
	else
	{
		json_lsn(j, "current_lsn", r->current_lsn);
		json_int(j, "standbys", r->standbys);
		json_int(j, "standbys_streaming", r->standbys_streaming);
		json_int(j, "sync_standbys", r->sync_standbys);
		json_int(j, "sync_required", r->sync_required);
		json_str(j, "sync_method", r->sync_required == 0 ? NULL : r->sync_quorum ? "ANY" : "FIRST");
		json_int(j, "max_standby_lag_bytes", r->max_standby_lag_bytes);
	}
	json_int(j, "slots", r->slots);
	json_int(j, "inactive_slots", r->inactive_slots);
	json_str(j, "worst_inactive_slot", r->worst_retained_bytes >= 0 ? r->worst_slot : NULL);
	json_opt_int(j, "worst_inactive_slot_retained_bytes", r->worst_retained_bytes);
	json_close(j);
}

/*
 * The whole report for one role at one time, as a Jsonb document: what
 * health.report() returns and GET /health renders.  Built from a
 * copied-out snapshot, never under the lock.
 */
Jsonb *
ph_report_jsonb(const PhSnapshot *snap, const PhComponentTable *components,
				pid_t worker_pid, PhRole role, TimestampTz now)
{
	PhVerdict	v;
	PhCheck    *checks = ph_reader_buffer(PH_BUF_CHECKS);
	int			nchecks;
	PhJson		jj;
	PhJson	   *j = &jj;

	ph_verdict_from_snapshot(snap, worker_pid, role, now, &v);
	nchecks = ph_collect_checks(snap, worker_pid, role, now, checks);

	json_jsonb_sink(j);
	json_open(j, false);
	json_verdict(j, snap, role, &v);
	json_int(j, "sample_duration_us", snap->sample_duration_us);

	json_key(j, "checks");
	json_open(j, true);
	for (int i = 0; i < nchecks; i++)
	{
		json_open(j, false);
		json_str(j, "name", checks[i].name);
		json_str(j, "status", ph_check_status_name((PhCheckStatus) checks[i].status));
		json_num(j, "value", checks[i].value);
		json_num(j, "warning_threshold", checks[i].warning_threshold);
		json_num(j, "critical_threshold", checks[i].critical_threshold);
		json_str(j, "detail", checks[i].detail);
		json_time(j, "since", checks[i].since);
		json_close(j);
	}
	json_close(j);

	json_key(j, "connections");
	if (snap->generation == 0)
		json_null_value(j);
	else
		report_connections(j, snap);

	json_key(j, "replication");
	if (snap->generation == 0)
		json_null_value(j);
	else
		report_replication(j, snap);

	json_key(j, "components");
	json_open(j, true);
	for (int k = 0; snap->generation > 0 && k < components->n; k++)
		report_component(j, &components->items[k]);
	json_close(j);
	json_close(j);
	return JsonbValueToJsonb(j->result);
}

/*
 * One event as JSON: the NOTIFY pg_health payload.  "checks" lists the checks
 * whose status changed, as health.events.changes does (already JSON text).
 */
void
ph_event_json(StringInfo buf, const PhEvent *e)
{
	PhJson		jj;
	PhJson	   *j = &jj;

	json_text_sink(j, buf);
	json_open(j, false);
	json_int(j, "generation", (int64) e->generation);
	json_time(j, "occurred_at", e->occurred_at);
	json_str(j, "old_status", ph_state_name((PhState) e->old_state));
	json_str(j, "new_status", ph_state_name((PhState) e->new_state));
	json_key(j, "checks");
	json_value_start(j);
	appendStringInfoString(buf, e->changes[0] ? e->changes : "[]");
	json_str(j, "reasons", e->reasons);
	json_close(j);
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
	bool		yes;
	PhJson		jj;
	PhJson	   *j = &jj;

	ph_verdict_from_snapshot(snap, worker_pid, role, now, &v);
	nchecks = ph_collect_checks(snap, worker_pid, role, now, checks);
	yes = strcmp(probe, "live") == 0 ? v.live :
		strcmp(probe, "startup") == 0 ? v.started : v.ready;
	*http_status = yes ? 200 : 503;

	json_text_sink(j, buf);
	json_open(j, false);
	json_str(j, "probe", probe);
	json_bool(j, "ok", yes);
	json_verdict(j, snap, role, &v);
	json_key(j, "reasons");
	json_open(j, true);
	for (int i = 0; i < nchecks; i++)
	{
		if (checks[i].status == PH_CHECK_OK)
			continue;
		json_open(j, false);
		json_str(j, "check", checks[i].name);
		json_str(j, "status", ph_check_status_name((PhCheckStatus) checks[i].status));
		json_str(j, "detail", checks[i].detail);
		json_close(j);
	}
	json_close(j);
	json_close(j);
	appendStringInfoChar(buf, '\n');
}

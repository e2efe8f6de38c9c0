/*
 * field_tables.c -- the doors' field tables (doors): every figure the doors
 * show in more than one form, one line each -- its name (the SQL column and
 * the JSON key), its type, where it is in the sample (or a small getter
 * that derives it), where it appears, its metric -- for the connections
 * (health.connections, the report's "connections", the connection
 * metrics), the session counts (health.pools too), the components, the
 * poolers and their pools, the history and events rings, the asked pairs,
 * the workers and the replication figures.  fields.c renders them.
 *
 * A new figure is one line here (and, for SQL, a column in the next
 * version's update script: ph_check_columns compares the view's columns
 * with the table, so a library and an install script that disagree say so
 * instead of showing values under the wrong names).
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
#include "judge/cluster_checks.h"
#include "judge/component_checks.h"
#include "judge/replication_checks.h"
#include "judge/verdict.h"

#define F(name_, type_, offset_, in_) .name = (name_), .type = (type_), .offset = (offset_), .in = (in_)
#define CONN(member) offsetof(PhConnections, member)
#define SC(base, member) ((base) + offsetof(PhSessionCounts, member))
#define METRIC(name_, label_, value_) .metric = (name_), .label = (label_), .label_value = (value_)

/*
 * Getters, for the fields whose value is derived.  The refusal's names and
 * flag mean nothing before the first refusal.
 */
static void
refused_role(const void *base, PhValue *v)
{
	const PhConnections *c = base;

	v->s = c->last_refusal_at ? c->last_refused_role : NULL;
}

static void
refused_database(const void *base, PhValue *v)
{
	const PhConnections *c = base;

	v->s = c->last_refusal_at ? c->last_refused_database : NULL;
}

static void
refusal_authenticated(const void *base, PhValue *v)
{
	const PhConnections *c = base;

	v->i = c->last_refusal_at && c->last_refusal_authenticated;
}

/* the last refusal by a CONNECTION LIMIT: which limit, and its names */
static void
limit_refused_kind(const void *base, PhValue *v)
{
	const PhRefusalNote *n = &((const PhConnections *) base)->last_limit_refusal;

	v->s = n->at == 0 ? NULL : n->kind == PH_REFUSED_ROLE_LIMIT ? "role" : "database";
}

static void
limit_refused_role(const void *base, PhValue *v)
{
	const PhRefusalNote *n = &((const PhConnections *) base)->last_limit_refusal;

	v->s = n->at == 0 ? NULL : n->role;
}

static void
limit_refused_database(const void *base, PhValue *v)
{
	const PhRefusalNote *n = &((const PhConnections *) base)->last_limit_refusal;

	v->s = n->at == 0 ? NULL : n->database;
}

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
	/* processes waiting for a heavyweight lock, by the mode asked for */
	{F("lock_waits_access_share", PH_FIELD_INT, CONN(lock_waits[AccessShareLock]), PH_IN_JSON),
		METRIC("lock_waits", "mode", "AccessShareLock"),
	.help = "Processes waiting for a heavyweight lock, by the mode they asked for (pg_locks.mode)."},
	{F("lock_waits_row_share", PH_FIELD_INT, CONN(lock_waits[RowShareLock]), PH_IN_JSON),
	METRIC("lock_waits", "mode", "RowShareLock")},
	{F("lock_waits_row_exclusive", PH_FIELD_INT, CONN(lock_waits[RowExclusiveLock]), PH_IN_JSON),
	METRIC("lock_waits", "mode", "RowExclusiveLock")},
	{F("lock_waits_share_update_exclusive", PH_FIELD_INT, CONN(lock_waits[ShareUpdateExclusiveLock]), PH_IN_JSON),
	METRIC("lock_waits", "mode", "ShareUpdateExclusiveLock")},
	{F("lock_waits_share", PH_FIELD_INT, CONN(lock_waits[ShareLock]), PH_IN_JSON),
	METRIC("lock_waits", "mode", "ShareLock")},
	{F("lock_waits_share_row_exclusive", PH_FIELD_INT, CONN(lock_waits[ShareRowExclusiveLock]), PH_IN_JSON),
	METRIC("lock_waits", "mode", "ShareRowExclusiveLock")},
	{F("lock_waits_exclusive", PH_FIELD_INT, CONN(lock_waits[ExclusiveLock]), PH_IN_JSON),
	METRIC("lock_waits", "mode", "ExclusiveLock")},
	{F("lock_waits_access_exclusive", PH_FIELD_INT, CONN(lock_waits[AccessExclusiveLock]), PH_IN_JSON),
	METRIC("lock_waits", "mode", "AccessExclusiveLock")},
	{F("background_workers", PH_FIELD_INT, CONN(background_workers), PH_IN_BOTH),
		METRIC("processes", "kind", "background_worker"),
	.help = "Processes that do not use client slots."},
	{F("autovacuum_workers", PH_FIELD_INT, CONN(autovacuum_workers), PH_IN_BOTH),
	METRIC("processes", "kind", "autovacuum")},
	{F("walsenders", PH_FIELD_INT, CONN(walsenders), PH_IN_BOTH),
	METRIC("processes", "kind", "walsender")},
	{F("other_processes", PH_FIELD_INT, CONN(other_processes), PH_IN_BOTH),
	METRIC("processes", "kind", "other")},
	{F("connections_authenticated", PH_FIELD_BIGINT, CONN(authenticated), PH_IN_BOTH),
		METRIC("connections_authenticated_total", NULL, NULL),
	.help = "Successful authentications since shared memory was initialized."},
	{F("authentication_failures", PH_FIELD_BIGINT, CONN(auth_failures), PH_IN_BOTH),
		METRIC("authentication_failures_total", NULL, NULL),
	.help = "Failed authentications since shared memory was initialized."},
	{F("refused_no_slots", PH_FIELD_BIGINT, CONN(refused_no_slots), PH_IN_BOTH),
		METRIC("connections_refused_total", "reason", "no_slots"),
	.help = "Connections refused: no_slots (SQLSTATE 53300, including CONNECTION LIMITs), starting (57P03)."},
	{F("refused_starting", PH_FIELD_BIGINT, CONN(refused_starting), PH_IN_BOTH),
	METRIC("connections_refused_total", "reason", "starting")},
	{F("refused_role_limit", PH_FIELD_BIGINT, CONN(refused_role_limit), PH_IN_JSON),
		METRIC("connections_refused_by_limit_total", "limit", "role"),
	.help = "Of the no_slots refusals, those a role's or a database's own CONNECTION LIMIT caused."},
	{F("refused_database_limit", PH_FIELD_BIGINT, CONN(refused_database_limit), PH_IN_JSON),
	METRIC("connections_refused_by_limit_total", "limit", "database")},
	{F("refused_walsenders", PH_FIELD_BIGINT, CONN(refused_walsenders), PH_IN_JSON)},
	{F("refusals_in_window", PH_FIELD_INT, CONN(refusals_in_window), PH_IN_BOTH)},
	{F("slot_refusals_in_window", PH_FIELD_INT, CONN(slot_refusals_in_window), PH_IN_JSON)},
	{F("limit_refusals_in_window", PH_FIELD_INT, CONN(limit_refusals_in_window), PH_IN_JSON)},
	{F("last_limit_refusal_at", PH_FIELD_TIME, CONN(last_limit_refusal.at), PH_IN_JSON)},
	{F("last_limit_refused", PH_FIELD_TEXT, 0, PH_IN_JSON),.get = limit_refused_kind},
	{F("last_limit_refused_role", PH_FIELD_TEXT, 0, PH_IN_JSON),.get = limit_refused_role},
	{F("last_limit_refused_database", PH_FIELD_TEXT, 0, PH_IN_JSON),.get = limit_refused_database},
	{F("last_refusal_at", PH_FIELD_TIME, CONN(last_refusal_at), PH_IN_BOTH)},
	{F("last_refused_role", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = refused_role},
	{F("last_refused_database", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = refused_database},
	/* false: the names are what an unauthenticated startup packet asked for */
	{F("last_refusal_authenticated", PH_FIELD_BOOL, 0, PH_IN_JSON),.get = refusal_authenticated},
	{F("connections_per_s", PH_FIELD_FLOAT, CONN(connections_per_s), PH_IN_JSON),
		METRIC("connections_per_second", NULL, NULL),
	.help = "New authenticated connections per second, over the last sample interval."},
	{F("refusals_per_s", PH_FIELD_FLOAT, CONN(refusals_per_s), PH_IN_JSON)},
	{F("authentication_failures_per_s", PH_FIELD_FLOAT, CONN(auth_failures_per_s), PH_IN_JSON)},
};
const int	ph_n_connection_fields = lengthof(ph_connection_fields);

/* ------------------------------------------------------------------------
 * Application components (a PhComponentResult)
 * ------------------------------------------------------------------------
 */
StaticAssertDecl(AccessExclusiveLock == MaxLockMode,
				 "each lock mode has its field in ph_connection_fields");

#define COMP(member) offsetof(PhComponentResult, member)

static void
comp_state(const void *base, PhValue *v)
{
	v->s = ph_component_state_name((PhComponentState) ((const PhComponentResult *) base)->effective);
}

static void
comp_status(const void *base, PhValue *v)
{
	v->s = ph_check_status_name((PhCheckStatus) ((const PhComponentResult *) base)->status);
}

static void
comp_detail(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->s = r->c.in_use && r->c.detail[0] ? r->c.detail : NULL;
}

static void
comp_state_since(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->t = r->c.in_use ? r->c.state_since : 0;
}

static void
comp_last_heartbeat(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->t = r->c.in_use ? r->c.last_heartbeat : 0;
}

static void
comp_ttl(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->i = r->ttl_s > 0 ? (int64) r->ttl_s * USECS_PER_SEC : -1;
}

static void
comp_ttl_s(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->i = r->ttl_s > 0 ? r->ttl_s : -1;
}

static void
comp_registered_at(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->t = r->c.in_use ? r->c.registered_at : 0;
}

static void
comp_ready_once(const void *base, PhValue *v)
{
	v->i = ((const PhComponentResult *) base)->c.first_ready_at != 0;
}

static void
comp_pool_name(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->s = r->pool_connections >= 0 ? r->c.pool_application_name : NULL;
}

static void
comp_pool_min(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->i = r->pool_connections >= 0 ? r->c.pool_min : -1;
}

static void
comp_for_user(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->s = r->c.in_use && r->c.for_user[0] ? r->c.for_user : NULL;
}

static void
comp_for_database(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->s = r->c.in_use && r->c.for_database[0] ? r->c.for_database : NULL;
}

static void
comp_admission(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->s = r->admit >= 0 ? ph_admit_name((PhAdmit) r->admit) : NULL;
}

static void
comp_pooler(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->s = r->pool_at_pooler ? r->c.pooler : NULL;
}

static void
comp_pool_max_wait(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->i = r->c.in_use && r->c.pool_max_wait_ms > 0 ? (int64) r->c.pool_max_wait_ms * 1000 : -1;
}

/* its own pool's figures: NULL until it reported one */
#define APP_POOL_GETTER(fn, member) \
static void \
fn(const void *base, PhValue *v) \
{ \
	const PhComponentResult *r = base; \
	v->i = r->c.in_use && r->c.app_pool_at != 0 ? r->c.member : -1; \
}
APP_POOL_GETTER(comp_pool_in_use, app_in_use)
APP_POOL_GETTER(comp_pool_idle, app_idle)
APP_POOL_GETTER(comp_pool_waiting, app_waiting)
APP_POOL_GETTER(comp_pool_max_size, app_max_size)
APP_POOL_GETTER(comp_pool_longest_wait, app_max_wait_us)

static void
comp_pool_reported_at(const void *base, PhValue *v)
{
	const PhComponentResult *r = base;

	v->t = r->c.in_use ? r->c.app_pool_at : 0;
}

const PhField ph_component_fields[] = {
	{F("name", PH_FIELD_TEXT, COMP(c.name), PH_IN_BOTH)},
	{F("required", PH_FIELD_BOOL, COMP(required), PH_IN_BOTH)},
	{F("state", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = comp_state},
	{F("status", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = comp_status},
	{F("detail", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = comp_detail},
	{F("state_since", PH_FIELD_TIME, 0, PH_IN_BOTH),.get = comp_state_since},
	{F("last_heartbeat", PH_FIELD_TIME, 0, PH_IN_BOTH),.get = comp_last_heartbeat},
	{F("heartbeat_age", PH_FIELD_AGE, 0, PH_IN_SQL),.get = comp_last_heartbeat},
	{F("ttl", PH_FIELD_INTERVAL, 0, PH_IN_SQL),.get = comp_ttl},
	{F("ttl_s", PH_FIELD_OPT_INT, 0, PH_IN_JSON),.get = comp_ttl_s},
	{F("registered_at", PH_FIELD_TIME, 0, PH_IN_SQL),.get = comp_registered_at},
	{F("first_ready_at", PH_FIELD_TIME, COMP(c.first_ready_at), PH_IN_SQL)},
	{F("ready_once", PH_FIELD_BOOL, 0, PH_IN_JSON),.get = comp_ready_once},
	{F("pool_application_name", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = comp_pool_name},
	{F("pool_connections", PH_FIELD_OPT_INT, COMP(pool_connections), PH_IN_BOTH)},
	{F("pool_min_connections", PH_FIELD_OPT_INT, 0, PH_IN_BOTH),.get = comp_pool_min},
	{F("for_user", PH_FIELD_TEXT, 0, PH_IN_BOTH | PH_SINCE_1_1),.get = comp_for_user},
	{F("for_database", PH_FIELD_TEXT, 0, PH_IN_BOTH | PH_SINCE_1_1),.get = comp_for_database},
	{F("admission", PH_FIELD_TEXT, 0, PH_IN_BOTH | PH_SINCE_1_1),.get = comp_admission},
	{F("pooler", PH_FIELD_TEXT, 0, PH_IN_BOTH | PH_SINCE_1_1),.get = comp_pooler},
	{F("pool_max_wait", PH_FIELD_INTERVAL, 0, PH_IN_BOTH | PH_SINCE_1_1 | PH_JSON_UNITLESS_1_1),.get = comp_pool_max_wait},
	{F("pool_in_use", PH_FIELD_OPT_INT, 0, PH_IN_BOTH | PH_SINCE_1_1),.get = comp_pool_in_use},
	{F("pool_idle", PH_FIELD_OPT_INT, 0, PH_IN_BOTH | PH_SINCE_1_1),.get = comp_pool_idle},
	{F("pool_waiting", PH_FIELD_OPT_INT, 0, PH_IN_BOTH | PH_SINCE_1_1),.get = comp_pool_waiting},
	{F("pool_max_size", PH_FIELD_OPT_INT, 0, PH_IN_BOTH | PH_SINCE_1_1),.get = comp_pool_max_size},
	{F("pool_longest_wait", PH_FIELD_INTERVAL, 0, PH_IN_BOTH | PH_SINCE_1_1 | PH_JSON_UNITLESS_1_1),.get = comp_pool_longest_wait},
	{F("pool_reported_at", PH_FIELD_TIME, 0, PH_IN_BOTH | PH_SINCE_1_1),.get = comp_pool_reported_at},
};

/* ------------------------------------------------------------------------
 * Poolers (a PhPooler) and their pools (a PhPoolerPool)
 * ------------------------------------------------------------------------
 */
#define PLR(member) offsetof(PhPooler, member)
#define PLP(member) offsetof(PhPoolerPool, member)

static void
pooler_state(const void *base, PhValue *v)
{
	const PhPooler *p = base;

	v->s = p->polled_at == 0 ? "not polled" : p->answered_at == 0 ? "never answered" :
		p->failing_since != 0 ? "failing" : "answering";
}

static void
pooler_host(const void *base, PhValue *v)
{
	const PhPooler *p = base;

	v->s = p->host[0] ? p->host : NULL;
}

static void
pooler_text_or_null(const char *s, PhValue *v)
{
	v->s = s[0] ? s : NULL;
}

static void
pooler_version(const void *base, PhValue *v)
{
	pooler_text_or_null(((const PhPooler *) base)->version, v);
}

static void
pooler_error(const void *base, PhValue *v)
{
	pooler_text_or_null(((const PhPooler *) base)->error, v);
}

static void
pooler_pool_mode(const void *base, PhValue *v)
{
	pooler_text_or_null(((const PhPooler *) base)->pool_mode, v);
}

static void
pooler_port(const void *base, PhValue *v)
{
	const PhPooler *p = base;

	v->i = p->port > 0 ? p->port : -1;
}

static void
pooler_longest_wait(const void *base, PhValue *v)
{
	const PhPooler *p = base;

	v->i = p->answered_at != 0 ? p->max_wait_us : -1;
}

static void
pooler_poll_duration(const void *base, PhValue *v)
{
	const PhPooler *p = base;

	v->i = p->polled_at != 0 ? p->poll_duration_us : -1;
}

/* figures of the last answer: NULL before the first */
#define ANSWER_GETTER(fn, member) \
static void \
fn(const void *base, PhValue *v) \
{ \
	const PhPooler *p = base; \
	v->i = p->answered_at != 0 ? p->member : -1; \
}
ANSWER_GETTER(pooler_clients, client_connections)
ANSWER_GETTER(pooler_waiting, clients_waiting)
ANSWER_GETTER(pooler_npools, npools)

const PhField ph_pooler_fields[] = {
	{F("name", PH_FIELD_TEXT, PLR(name), PH_IN_BOTH)},
	{F("host", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = pooler_host},
	{F("port", PH_FIELD_OPT_INT, 0, PH_IN_BOTH),.get = pooler_port},
	{F("state", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = pooler_state},
	{F("version", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = pooler_version},
	{F("error", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = pooler_error},
	{F("answered_at", PH_FIELD_TIME, PLR(answered_at), PH_IN_BOTH)},
	{F("failing_since", PH_FIELD_TIME, PLR(failing_since), PH_IN_BOTH)},
	{F("client_connections", PH_FIELD_OPT_INT, 0, PH_IN_BOTH),.get = pooler_clients},
	{F("max_client_conn", PH_FIELD_OPT_INT, PLR(max_client_conn), PH_IN_BOTH)},
	{F("clients_waiting", PH_FIELD_OPT_INT, 0, PH_IN_BOTH),.get = pooler_waiting},
	{F("longest_wait", PH_FIELD_INTERVAL, 0, PH_IN_BOTH | PH_JSON_UNITLESS_1_1),.get = pooler_longest_wait},
	{F("pools", PH_FIELD_OPT_INT, 0, PH_IN_SQL),.get = pooler_npools},
	{F("pool_mode", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = pooler_pool_mode},
	{F("default_pool_size", PH_FIELD_OPT_INT, PLR(default_pool_size), PH_IN_BOTH)},
	{F("configured_at", PH_FIELD_TIME, PLR(configured_at), PH_IN_BOTH)},
	{F("polled_at", PH_FIELD_TIME, PLR(polled_at), PH_IN_BOTH)},
	{F("poll_duration", PH_FIELD_INTERVAL, 0, PH_IN_BOTH | PH_JSON_UNITLESS_1_1),.get = pooler_poll_duration},
	{F("polls", PH_FIELD_BIGINT, PLR(polls), PH_IN_BOTH)},
	{F("failures", PH_FIELD_BIGINT, PLR(failures), PH_IN_BOTH)},
};
const int	ph_n_pooler_fields = lengthof(ph_pooler_fields);

/* the row that sums the pools that did not fit has no names */
static void
pool_database(const void *base, PhValue *v)
{
	const PhPoolerPool *p = base;

	v->s = p->folded > 0 ? NULL : p->database;
}

static void
pool_user(const void *base, PhValue *v)
{
	const PhPoolerPool *p = base;

	v->s = p->folded > 0 ? NULL : p->user;
}

static void
pool_mode_or_null(const void *base, PhValue *v)
{
	pooler_text_or_null(((const PhPoolerPool *) base)->pool_mode, v);
}

const PhField ph_pooler_pool_fields[] = {
	{F("database", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = pool_database},
	{F("user_name", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = pool_user},
	{F("folded_pools", PH_FIELD_INT, PLP(folded), PH_IN_BOTH)},
	{F("cl_active", PH_FIELD_INT, PLP(cl_active), PH_IN_BOTH)},
	{F("cl_waiting", PH_FIELD_INT, PLP(cl_waiting), PH_IN_BOTH)},
	{F("sv_active", PH_FIELD_INT, PLP(sv_active), PH_IN_BOTH)},
	{F("sv_idle", PH_FIELD_INT, PLP(sv_idle), PH_IN_BOTH)},
	{F("sv_used", PH_FIELD_INT, PLP(sv_used), PH_IN_BOTH)},
	{F("sv_tested", PH_FIELD_INT, PLP(sv_tested), PH_IN_BOTH)},
	{F("sv_login", PH_FIELD_INT, PLP(sv_login), PH_IN_BOTH)},
	{F("maxwait", PH_FIELD_INTERVAL, PLP(maxwait_us), PH_IN_BOTH | PH_JSON_UNITLESS_1_1)},
	{F("pool_size", PH_FIELD_OPT_INT, PLP(pool_size), PH_IN_BOTH)},
	{F("pool_mode", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = pool_mode_or_null},
};
const int	ph_n_pooler_pool_fields = lengthof(ph_pooler_pool_fields);
const int	ph_n_component_fields = lengthof(ph_component_fields);

/* ------------------------------------------------------------------------
 * The history ring (a PhHistoryEntry) and the events ring (a PhEvent):
 * health.history and health.events
 * ------------------------------------------------------------------------
 */
#define HIST(member) offsetof(PhHistoryEntry, member)

static void
hist_status(const void *base, PhValue *v)
{
	v->s = ph_state_name((PhState) ((const PhHistoryEntry *) base)->state);
}

static void
hist_oldest_xact_age(const void *base, PhValue *v)
{
	int64		us = ((const PhHistoryEntry *) base)->oldest_xact_age_us;

	v->i = us > 0 ? us : -1;	/* no open transaction: NULL */
}

const PhField ph_history_fields[] = {
	{F("sampled_at", PH_FIELD_TIME, HIST(sampled_at), PH_IN_SQL)},
	{F("generation", PH_FIELD_BIGINT, HIST(generation), PH_IN_SQL)},
	{F("status", PH_FIELD_TEXT, 0, PH_IN_SQL),.get = hist_status},
	{F("in_recovery", PH_FIELD_BOOL, HIST(in_recovery), PH_IN_SQL)},
	{F("client_backends", PH_FIELD_INT, HIST(client_backends), PH_IN_SQL)},
	{F("available_to_ordinary_roles", PH_FIELD_INT, HIST(available_ordinary), PH_IN_SQL)},
	{F("utilization_pct", PH_FIELD_FLOAT, HIST(utilization_pct), PH_IN_SQL)},
	{F("active", PH_FIELD_INT, HIST(active), PH_IN_SQL)},
	{F("idle_in_transaction", PH_FIELD_INT, HIST(idle_in_transaction), PH_IN_SQL)},
	{F("waiting_on_locks", PH_FIELD_INT, HIST(waiting_on_locks), PH_IN_SQL)},
	{F("oldest_transaction_age", PH_FIELD_INTERVAL, 0, PH_IN_SQL),.get = hist_oldest_xact_age},
	{F("warnings", PH_FIELD_INT, HIST(warnings), PH_IN_SQL)},
	{F("criticals", PH_FIELD_INT, HIST(criticals), PH_IN_SQL)},
	{F("sample_duration", PH_FIELD_INTERVAL, HIST(sample_duration_us), PH_IN_SQL)},
	{F("connections_per_s", PH_FIELD_FLOAT, HIST(connections_per_s), PH_IN_SQL)},
	{F("refusals_per_s", PH_FIELD_FLOAT, HIST(refusals_per_s), PH_IN_SQL)},
	{F("authentication_failures_per_s", PH_FIELD_FLOAT, HIST(auth_failures_per_s), PH_IN_SQL)},
};
const int	ph_n_history_fields = lengthof(ph_history_fields);

static void
event_old_status(const void *base, PhValue *v)
{
	v->s = ph_state_name((PhState) ((const PhEvent *) base)->old_state);
}

static void
event_new_status(const void *base, PhValue *v)
{
	v->s = ph_state_name((PhState) ((const PhEvent *) base)->new_state);
}

static void
event_changes(const void *base, PhValue *v)
{
	const PhEvent *e = base;

	v->s = e->changes[0] ? e->changes : "[]";
}

const PhField ph_event_fields[] = {
	{F("occurred_at", PH_FIELD_TIME, offsetof(PhEvent, occurred_at), PH_IN_SQL)},
	{F("generation", PH_FIELD_BIGINT, offsetof(PhEvent, generation), PH_IN_SQL)},
	{F("old_status", PH_FIELD_TEXT, 0, PH_IN_SQL),.get = event_old_status},
	{F("new_status", PH_FIELD_TEXT, 0, PH_IN_SQL),.get = event_new_status},
	{F("reasons", PH_FIELD_TEXT, offsetof(PhEvent, reasons), PH_IN_SQL)},
	{F("changes", PH_FIELD_JSONB, 0, PH_IN_SQL),.get = event_changes},
};
const int	ph_n_event_fields = lengthof(ph_event_fields);

/* ------------------------------------------------------------------------
 * The asked (role, database) pairs (a PhAskedRow, asked_pairs.h)
 * ------------------------------------------------------------------------
 */
#define ASK(member) offsetof(PhAskedRow, member)

static void
asked_role(const void *base, PhValue *v)
{
	const		PhAskedRow *r = base;

	v->s = r->role[0] ? r->role : NULL;
}

static void
asked_database(const void *base, PhValue *v)
{
	const		PhAskedRow *r = base;

	v->s = r->database[0] ? r->database : NULL;
}

static void
asked_lookup(const void *base, PhValue *v)
{
	const		PhAskedRow *r = base;

	v->s = r->looked_up_at == 0 ? "pending" : r->missing ? "missing" : "found";
}

const PhField ph_asked_fields[] = {
	{F("role", PH_FIELD_TEXT, 0, PH_IN_SQL),.get = asked_role},
	{F("database", PH_FIELD_TEXT, 0, PH_IN_SQL),.get = asked_database},
	{F("asked_by", PH_FIELD_TEXT, ASK(asked_by), PH_IN_SQL)},
	{F("asked_at", PH_FIELD_TIME, ASK(asked_at), PH_IN_SQL)},
	{F("asked_by_others_at", PH_FIELD_TIME, ASK(shared_at), PH_IN_SQL)},
	{F("looked_up_at", PH_FIELD_TIME, ASK(looked_up_at), PH_IN_SQL)},
	{F("lookup", PH_FIELD_TEXT, 0, PH_IN_SQL),.get = asked_lookup},
};
const int	ph_n_asked_fields = lengthof(ph_asked_fields);

/* ------------------------------------------------------------------------
 * The workers' own reports of their memory (a PhWorkerRow, workers.h)
 * ------------------------------------------------------------------------
 */
static void
worker_name(const void *base, PhValue *v)
{
	v->s = ((const PhWorkerRow *) base)->worker;
}

const PhField ph_worker_fields[] = {
	{F("worker", PH_FIELD_TEXT, 0, PH_IN_SQL),.get = worker_name},
	{F("pid", PH_FIELD_PID, offsetof(PhWorkerRow, pid), PH_IN_SQL)},
	{F("context_bytes", PH_FIELD_BIGINT, offsetof(PhWorkerRow, context_bytes), PH_IN_SQL)},
	{F("measured_at", PH_FIELD_TIME, offsetof(PhWorkerRow, measured_at), PH_IN_SQL)},
};
const int	ph_n_worker_fields = lengthof(ph_worker_fields);

/* ------------------------------------------------------------------------
 * Replication (a PhSnapshot: its role and its PhReplication)
 * ------------------------------------------------------------------------
 */
#define REPL(member) offsetof(PhSnapshot, repl.member)
#define SNAP_REPL(base) (&((const PhSnapshot *) (base))->repl)

static void
repl_server(const void *base, PhValue *v)
{
	v->s = ph_server_name(((const PhSnapshot *) base)->in_recovery);
}

static void
repl_receiver_state(const void *base, PhValue *v)
{
	v->s = ph_receiver_state_name((PhReceiverState) SNAP_REPL(base)->receiver_state);
}

static void
repl_streaming(const void *base, PhValue *v)
{
	v->i = SNAP_REPL(base)->receiver_state == PH_RCV_STREAMING;
}

/* where replay gets its WAL now */
static void
repl_wal_source(const void *base, PhValue *v)
{
	const PhReplication *r = SNAP_REPL(base);

	v->s = r->receiver_state == PH_RCV_STREAMING ? "streaming" :
		r->has_restore_command ? "archive" : "pg_wal";
}

static void
repl_receiver_pid(const void *base, PhValue *v)
{
	v->i = SNAP_REPL(base)->receiver_pid > 0 ? SNAP_REPL(base)->receiver_pid : -1;
}

static void
repl_sender(const void *base, PhValue *v)
{
	const PhReplication *r = SNAP_REPL(base);

	v->s = r->sender_host[0] ? psprintf("%s:%d", r->sender_host, r->sender_port) : NULL;
}

static void
repl_timeline(const void *base, PhValue *v)
{
	v->i = SNAP_REPL(base)->timeline;
}

static void
repl_paused(const void *base, PhValue *v)
{
	v->i = SNAP_REPL(base)->pause_state != RECOVERY_NOT_PAUSED;
}

static void
repl_sync_method(const void *base, PhValue *v)
{
	const PhReplication *r = SNAP_REPL(base);

	v->s = r->sync_required == 0 ? NULL : r->sync_quorum ? "ANY" : "FIRST";
}

static void
repl_active_slots(const void *base, PhValue *v)
{
	v->i = SNAP_REPL(base)->slots - SNAP_REPL(base)->inactive_slots;
}

static void
repl_worst_slot(const void *base, PhValue *v)
{
	const PhReplication *r = SNAP_REPL(base);

	v->s = r->worst_retained_bytes >= 0 ? r->worst_slot : NULL;
}

static void
repl_worst_retained(const void *base, PhValue *v)
{
	v->i = SNAP_REPL(base)->worst_retained_bytes;
}

static void
repl_max_retained(const void *base, PhValue *v)
{
	v->i = Max(SNAP_REPL(base)->worst_retained_bytes, 0);
}

/* in the order of their metrics (a family's fields together) */
const PhField ph_replication_fields[] = {
	{F("server", PH_FIELD_TEXT, 0, PH_IN_JSON),.get = repl_server},
	/* a standby */
	{F("receiver_state", PH_FIELD_TEXT, 0, PH_IN_JSON | PH_ON_STANDBY),.get = repl_receiver_state},
	{F("streaming", PH_FIELD_BOOL, 0, PH_ON_STANDBY),.get = repl_streaming,
		METRIC("replication_streaming", NULL, NULL),
	.help = "1 while this standby's WAL receiver is streaming."},
	{F("wal_source", PH_FIELD_TEXT, 0, PH_IN_JSON | PH_ON_STANDBY),.get = repl_wal_source},
	{F("has_primary_conninfo", PH_FIELD_BOOL, REPL(has_primary_conninfo), PH_IN_JSON | PH_ON_STANDBY)},
	{F("receiver_pid", PH_FIELD_OPT_INT, 0, PH_IN_JSON | PH_ON_STANDBY),.get = repl_receiver_pid},
	{F("sender", PH_FIELD_TEXT, 0, PH_IN_JSON | PH_ON_STANDBY),.get = repl_sender},
	{F("state_since", PH_FIELD_TIME, REPL(state_since), PH_IN_JSON | PH_ON_STANDBY)},
	{F("received_lsn", PH_FIELD_LSN, REPL(received_lsn), PH_IN_JSON | PH_ON_STANDBY)},
	{F("replayed_lsn", PH_FIELD_LSN, REPL(replayed_lsn), PH_IN_JSON | PH_ON_STANDBY)},
	{F("timeline", PH_FIELD_BIGINT, 0, PH_IN_JSON | PH_ON_STANDBY),.get = repl_timeline},
	{F("lag_bytes", PH_FIELD_BIGINT, REPL(lag_bytes), PH_IN_JSON | PH_ON_STANDBY),
		METRIC("replication_lag_bytes", NULL, NULL),
	.help = "WAL received by this standby and not yet replayed."},
	{F("delay_ms", PH_FIELD_INTERVAL, REPL(delay_us), PH_IN_JSON | PH_ON_STANDBY),
		METRIC("replication_delay_seconds", NULL, NULL),.scale = 1e-6,
	.help = "How long the oldest received, unreplayed WAL has waited (0 when all is replayed)."},
	{F("replay_paused", PH_FIELD_BOOL, 0, PH_IN_JSON | PH_ON_STANDBY),.get = repl_paused,
		METRIC("replication_paused", NULL, NULL),
	.help = "1 while replay is paused (or a pause is requested)."},
	{F("last_replayed_xact_at", PH_FIELD_TIME, REPL(last_replayed_xact_at), PH_IN_JSON | PH_ON_STANDBY)},
	{F("last_message_at", PH_FIELD_TIME, REPL(last_message_at), PH_IN_JSON | PH_ON_STANDBY)},
	/* a primary */
	{F("current_lsn", PH_FIELD_LSN, REPL(current_lsn), PH_IN_JSON | PH_ON_PRIMARY)},
	{F("standbys", PH_FIELD_INT, REPL(standbys), PH_IN_JSON | PH_ON_PRIMARY),
		METRIC("standbys", "state", "connected"),
	.help = "Physical standbys connected to this primary: all, streaming, synchronous (sync or quorum)."},
	{F("standbys_streaming", PH_FIELD_INT, REPL(standbys_streaming), PH_IN_JSON | PH_ON_PRIMARY),
	METRIC("standbys", "state", "streaming")},
	{F("sync_standbys", PH_FIELD_INT, REPL(sync_standbys), PH_IN_JSON | PH_ON_PRIMARY),
	METRIC("standbys", "state", "synchronous")},
	{F("sync_required", PH_FIELD_INT, REPL(sync_required), PH_IN_JSON | PH_ON_PRIMARY)},
	{F("sync_method", PH_FIELD_TEXT, 0, PH_IN_JSON | PH_ON_PRIMARY),.get = repl_sync_method},
	{F("max_standby_lag_bytes", PH_FIELD_BIGINT, REPL(max_standby_lag_bytes), PH_IN_JSON | PH_ON_PRIMARY)},
	/* either */
	{F("active_slots", PH_FIELD_INT, 0, 0),.get = repl_active_slots,
		METRIC("replication_slots", "state", "active"),
	.help = "Replication slots by state."},
	{F("inactive_slots", PH_FIELD_INT, REPL(inactive_slots), PH_IN_JSON),
	METRIC("replication_slots", "state", "inactive")},
	{F("slots", PH_FIELD_INT, REPL(slots), PH_IN_JSON)},
	{F("worst_inactive_slot", PH_FIELD_TEXT, 0, PH_IN_JSON),.get = repl_worst_slot},
	{F("worst_inactive_slot_retained_bytes", PH_FIELD_OPT_INT, 0, PH_IN_JSON),.get = repl_worst_retained},
	{F("inactive_slot_max_retained_bytes", PH_FIELD_BIGINT, 0, 0),.get = repl_max_retained,
		METRIC("inactive_slot_max_retained_bytes", NULL, NULL),
	.help = "WAL retained by the inactive slot that retains the most (0: none)."},
};
const int	ph_n_replication_fields = lengthof(ph_replication_fields);


/* ------------------------------------------------------------------------
 * Whether the server can serve (the report's "serving", its metrics)
 * ------------------------------------------------------------------------
 */
#define SERV(member) offsetof(PhSnapshot, serving.member)
#define SNAP_SERV(base) (&((const PhSnapshot *) (base))->serving)

static void
serv_accept_target(const void *base, PhValue *v)
{
	v->s = SNAP_SERV(base)->accept.target[0] ? SNAP_SERV(base)->accept.target : NULL;
}

static void
serv_accept_round_trip(const void *base, PhValue *v)
{
	const PhAccept *a = &SNAP_SERV(base)->accept;

	v->i = a->last_answer_at != 0 ? a->last_answer_us : -1;
}

static void
serv_accept_error(const void *base, PhValue *v)
{
	const PhAccept *a = &SNAP_SERV(base)->accept;

	v->s = a->unanswered_since != 0 && a->last_error[0] ? a->last_error : NULL;
}

static void
serv_missing_standbys(const void *base, PhValue *v)
{
	const PhCommitWaits *w = &SNAP_SERV(base)->commit;

	v->s = w->missing[0] ? w->missing : NULL;
}

static void
serv_oldest_commit_pid(const void *base, PhValue *v)
{
	v->i = SNAP_SERV(base)->commit.oldest_pid;
}

static void
serv_archived_wal(const void *base, PhValue *v)
{
	const PhArchiver *a = &SNAP_SERV(base)->archiver;

	v->s = a->last_archived_wal[0] ? a->last_archived_wal : NULL;
}

static void
serv_failed_wal(const void *base, PhValue *v)
{
	const PhArchiver *a = &SNAP_SERV(base)->archiver;

	v->s = a->last_failed_wal[0] ? a->last_failed_wal : NULL;
}

static void
serv_oldest_database(const void *base, PhValue *v)
{
	const PhWraparound *w = &SNAP_SERV(base)->wrap;

	v->s = w->oldest_database[0] ? w->oldest_database : NULL;
}

static void
serv_startup_wait(const void *base, PhValue *v)
{
	const PhReplication *r = SNAP_REPL(base);

	v->s = r->startup_wait[0] ? r->startup_wait : NULL;
}

static void
serv_replay_moved_at(const void *base, PhValue *v)
{
	v->t = SNAP_REPL(base)->replay_moved_at;
}

const PhField ph_serving_fields[] = {
	/* the accept probe */
	{F("accept_target", PH_FIELD_TEXT, 0, PH_IN_JSON),.get = serv_accept_target},
	{F("accept_last_answer_at", PH_FIELD_TIME, SERV(accept.last_answer_at), PH_IN_JSON)},
	{F("accept_round_trip_ms", PH_FIELD_INTERVAL, 0, PH_IN_JSON),.get = serv_accept_round_trip,
		METRIC("accept_probe_round_trip_seconds", NULL, NULL),.scale = 1e-6,
	.help = "How long the last answered accept probe took, connect to the backend's answer."},
	{F("accept_unanswered_since", PH_FIELD_TIME, SERV(accept.unanswered_since), PH_IN_JSON)},
	{F("accept_last_error", PH_FIELD_TEXT, 0, PH_IN_JSON),.get = serv_accept_error},
	{F("accept_probes", PH_FIELD_BIGINT, SERV(accept.probes), PH_IN_JSON),
		METRIC("accept_probes_total", NULL, NULL),
	.help = "Accept probes made by this sampler."},
	{F("accept_failures", PH_FIELD_BIGINT, SERV(accept.failures), PH_IN_JSON),
		METRIC("accept_probe_failures_total", NULL, NULL),
	.help = "Accept probes that failed or were given up."},
	/* commits waiting (a primary) */
	{F("commits_waiting_for_sync_standbys", PH_FIELD_INT, SERV(commit.sync_rep), PH_IN_JSON | PH_ON_PRIMARY),
		METRIC("commits_waiting", "wait", "sync_rep"),
	.help = "Processes waiting for synchronous standbys (SyncRep), or to write or flush WAL."},
	{F("processes_waiting_for_wal", PH_FIELD_INT, SERV(commit.wal), PH_IN_JSON | PH_ON_PRIMARY),
	METRIC("commits_waiting", "wait", "wal")},
	{F("longest_commit_wait", PH_FIELD_AGE, SERV(commit.oldest_since), PH_IN_JSON | PH_ON_PRIMARY),
		METRIC("commit_wait_seconds", NULL, NULL),
	.help = "How long the longest-waiting commit has waited (0: none), timed from the first sample that saw it."},
	{F("longest_commit_wait_pid", PH_FIELD_PID, 0, PH_IN_JSON | PH_ON_PRIMARY),.get = serv_oldest_commit_pid},
	{F("sync_standbys_not_connected", PH_FIELD_TEXT, 0, PH_IN_JSON | PH_ON_PRIMARY),.get = serv_missing_standbys},
	/* the archiver */
	{F("archiving", PH_FIELD_BOOL, SERV(archiver.on), PH_IN_JSON)},
	{F("archived_count", PH_FIELD_BIGINT, SERV(archiver.archived_count), PH_IN_JSON)},
	{F("archive_failed_count", PH_FIELD_BIGINT, SERV(archiver.failed_count), PH_IN_JSON),
		METRIC("archive_failures_total", NULL, NULL),
	.help = "WAL segments the archiver failed to archive (pg_stat_archiver.failed_count)."},
	{F("last_archived_wal", PH_FIELD_TEXT, 0, PH_IN_JSON),.get = serv_archived_wal},
	{F("last_archived_at", PH_FIELD_TIME, SERV(archiver.last_archived_at), PH_IN_JSON)},
	{F("last_failed_wal", PH_FIELD_TEXT, 0, PH_IN_JSON),.get = serv_failed_wal},
	{F("last_failed_at", PH_FIELD_TIME, SERV(archiver.last_failed_at), PH_IN_JSON)},
	{F("archive_failing_since", PH_FIELD_TIME, SERV(archiver.failing_since), PH_IN_JSON)},
	{F("archive_ready_segments", PH_FIELD_OPT_INT, SERV(disk.ready_files), PH_IN_JSON),
		METRIC("archive_ready_segments", NULL, NULL),
	.help = "WAL segments waiting to be archived (archive_status/*.ready); -1 when archive_mode is off."},
	/* the XID horizon (a primary) */
	{F("xid_age", PH_FIELD_BIGINT, SERV(wrap.xid_age), PH_IN_JSON | PH_ON_PRIMARY),
		METRIC("transaction_id_age", "kind", "xid"),
	.help = "Age of the oldest unfrozen transaction ID and MultiXact ID."},
	{F("multixact_age", PH_FIELD_BIGINT, SERV(wrap.mxid_age), PH_IN_JSON | PH_ON_PRIMARY),
	METRIC("transaction_id_age", "kind", "multixact")},
	{F("xid_stop_age", PH_FIELD_BIGINT, SERV(wrap.xid_stop_age), PH_IN_JSON | PH_ON_PRIMARY),
		METRIC("transaction_id_stop_age", "kind", "xid"),
	.help = "The age at which PostgreSQL refuses to assign new IDs (the stop limit)."},
	{F("multixact_stop_age", PH_FIELD_BIGINT, SERV(wrap.mxid_stop_age), PH_IN_JSON | PH_ON_PRIMARY),
	METRIC("transaction_id_stop_age", "kind", "multixact")},
	{F("xid_vacuum_age", PH_FIELD_BIGINT, SERV(wrap.xid_vacuum_age), PH_IN_JSON | PH_ON_PRIMARY)},
	{F("xid_warn_age", PH_FIELD_BIGINT, SERV(wrap.xid_warn_age), PH_IN_JSON | PH_ON_PRIMARY)},
	{F("oldest_xid_database", PH_FIELD_TEXT, 0, PH_IN_JSON | PH_ON_PRIMARY),.get = serv_oldest_database},
	/* replay (a standby) */
	{F("replay_moved_at", PH_FIELD_TIME, 0, PH_IN_JSON | PH_ON_STANDBY),.get = serv_replay_moved_at},
	{F("startup_wait", PH_FIELD_TEXT, 0, PH_IN_JSON | PH_ON_STANDBY),.get = serv_startup_wait},
	/* the disk: each filesystem apart (ph_filesystem_fields) */
	{F("disk_measured_at", PH_FIELD_TIME, SERV(disk.measured_at), PH_IN_JSON)},
	{F("disk_full_errors", PH_FIELD_BIGINT, SERV(disk.disk_full_errors), PH_IN_JSON),
		METRIC("disk_full_errors_total", NULL, NULL),
	.help = "Errors raised for lack of disk space (SQLSTATE 53100), in any process."},
	{F("last_disk_full_at", PH_FIELD_TIME, SERV(disk.last_disk_full_at), PH_IN_JSON)},
};
const int	ph_n_serving_fields = lengthof(ph_serving_fields);

#define FS(member) offsetof(PhFilesystem, member)

/* "data,pg_wal,tablespace": what a filesystem holds, for labels and keys */
const char *
ph_filesystem_holds(const PhFilesystem *fs)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "%s%s%s%s%s",
			 (fs->holds & PH_FS_DATA) ? "data" : "",
			 (fs->holds & PH_FS_DATA) && (fs->holds & ~PH_FS_DATA) ? "," : "",
			 (fs->holds & PH_FS_WAL) ? "pg_wal" : "",
			 (fs->holds & PH_FS_WAL) && (fs->holds & PH_FS_TABLESPACE) ? "," : "",
			 (fs->holds & PH_FS_TABLESPACE) ? "tablespace" : "");
	return buf;
}

static void
fs_holds(const void *base, PhValue *v)
{
	const PhFilesystem *fs = base;

	v->s = ph_filesystem_holds(fs);
}

static void
fs_tablespace(const void *base, PhValue *v)
{
	const PhFilesystem *fs = base;

	v->i = (fs->holds & PH_FS_TABLESPACE) ? (int64) fs->tablespace : -1;
}

static void
fs_used_pct(const void *base, PhValue *v)
{
	const PhFilesystem *fs = base;

	v->f = fs->error == 0 ? ph_filesystem_used_pct(fs) : get_float8_nan();
}

static void
fs_error(const void *base, PhValue *v)
{
	const PhFilesystem *fs = base;

	v->s = fs->error != 0 ? strerror(fs->error) : NULL;
}

/* one filesystem that holds data, pg_wal or a tablespace (the report's "filesystems") */
const PhField ph_filesystem_fields[] = {
	{F("path", PH_FIELD_TEXT, FS(path), PH_IN_BOTH)},
	{F("holds", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = fs_holds},
	{F("tablespace_oid", PH_FIELD_OPT_INT, 0, PH_IN_BOTH),.get = fs_tablespace},
	{F("total_bytes", PH_FIELD_BIGINT, FS(total_bytes), PH_IN_BOTH)},
	{F("free_bytes", PH_FIELD_BIGINT, FS(free_bytes), PH_IN_BOTH)},
	{F("used_pct", PH_FIELD_FLOAT, 0, PH_IN_BOTH),.get = fs_used_pct},
	{F("growth_bytes_per_s", PH_FIELD_FLOAT, FS(used_per_s), PH_IN_BOTH)},
	{F("full_in_s", PH_FIELD_FLOAT, FS(full_in_s), PH_IN_BOTH)},
	{F("error", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = fs_error},
};
const int	ph_n_filesystem_fields = lengthof(ph_filesystem_fields);

#define MEM(member) offsetof(PhMember, member)

/* what its last answer said it is; NULL before any */
const char *
ph_member_role(const PhMember *m)
{
	if (m->answered_at == 0)
		return NULL;
	return m->primary ? "primary" : m->recovering ? "recovering" : "standby";
}

static void
mem_state(const void *base, PhValue *v)
{
	v->s = ph_member_state_name((PhMemberState) ((const PhMember *) base)->state);
}

static void
mem_resolved(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->s = m->resolved[0] ? m->resolved : NULL;
}

/*
 * Over HTTP (and in the report, the same document), a discovered member's
 * address only with pg_health.http_client_addresses: it is a standby's
 * client address.
 */
const char *
ph_member_address_http(const PhMember *m, const char *addr)
{
	const char *shown = m->discovered ? ph_client_addr_for_http(addr) : addr;

	return shown[0] ? shown : NULL;
}

static void
mem_address_http(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->s = ph_member_address_http(m, m->address);
}

static void
mem_resolved_http(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->s = ph_member_address_http(m, m->resolved);
}

static void
mem_same_as(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->s = m->same_as[0] ? m->same_as : NULL;
}

static void
mem_role(const void *base, PhValue *v)
{
	v->s = ph_member_role(base);
}

static void
mem_node_name(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->s = m->answered_at != 0 ? m->node_name : NULL;
}

static void
mem_timeline(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->i = m->answered_at != 0 ? (int64) m->timeline : -1;
}

static void
mem_lsn(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->lsn = m->answered_at != 0 ? m->lsn : InvalidXLogRecPtr;
}

static void
mem_received_lsn(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->lsn = m->answered_at != 0 ? m->received_lsn : InvalidXLogRecPtr;
}

static void
mem_ready(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->i = m->answered_at != 0 ? m->ready : -1;
}

static void
mem_ready_since(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->t = m->answered_at != 0 ? m->ready_since : 0;
}

static void
mem_clock_skew(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->f = m->answered_at != 0 ? (double) m->clock_skew_ms : get_float8_nan();
}

static void
mem_poll(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->i = m->answered_at != 0 ? m->poll_us : -1;
}

static void
mem_up(const void *base, PhValue *v)
{
	v->i = ((const PhMember *) base)->state == PH_MEMBER_UP;
}

static void
mem_primary(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->i = m->state == PH_MEMBER_UP && m->primary && !m->recovering;
}

static void
mem_error(const void *base, PhValue *v)
{
	const PhMember *m = base;

	v->s = m->error[0] ? m->error : NULL;
}

/*
 * One member of pg_health.cluster_members as this node's poller last saw
 * it: health.cluster's columns, /cluster's and the report's members.  Its
 * metrics carry a member="<name>" label (metrics.c).
 */
const PhField ph_member_fields[] = {
	{F("name", PH_FIELD_TEXT, MEM(name), PH_IN_BOTH)},
	/* a discovered member's address is a standby's: over HTTP as allowed */
	{F("address", PH_FIELD_TEXT, MEM(address), PH_IN_SQL)},
	{F("address", PH_FIELD_TEXT, 0, PH_IN_JSON),.get = mem_address_http},
	{F("resolved_address", PH_FIELD_TEXT, 0, PH_IN_SQL),.get = mem_resolved},
	{F("resolved_address", PH_FIELD_TEXT, 0, PH_IN_JSON),.get = mem_resolved_http},
	{F("state", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = mem_state},
	{F("since", PH_FIELD_TIME, MEM(state_since), PH_IN_BOTH)},
	{F("self", PH_FIELD_BOOL, MEM(self), PH_IN_BOTH)},
	{F("discovered", PH_FIELD_BOOL, MEM(discovered), PH_IN_BOTH)},
	{F("same_as", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = mem_same_as},
	{F("up", PH_FIELD_BOOL, 0, 0),.get = mem_up,
		METRIC("cluster_member_up", NULL, NULL),
	.help = "1 when the member answered its last poll as a member of this cluster."},
	{F("node_name", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = mem_node_name},
	{F("role", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = mem_role},
	{F("is_primary", PH_FIELD_BOOL, 0, 0),.get = mem_primary,
		METRIC("cluster_member_primary", NULL, NULL),
	.help = "1 when the member is up and says it is a primary."},
	{F("timeline", PH_FIELD_OPT_BIGINT, 0, PH_IN_BOTH),.get = mem_timeline},
	{F("lsn", PH_FIELD_LSN, 0, PH_IN_BOTH),.get = mem_lsn},
	{F("received_lsn", PH_FIELD_LSN, 0, PH_IN_BOTH),.get = mem_received_lsn},
	{F("lag_bytes", PH_FIELD_OPT_BIGINT, MEM(lag_bytes), PH_IN_BOTH),
		METRIC("cluster_member_lag_bytes", NULL, NULL),
	.help = "The member's replay position behind the one primary's insert position, each as polled (absent: no one primary, or not known)."},
	{F("lag", PH_FIELD_INTERVAL, MEM(lag_us), PH_IN_BOTH),
		METRIC("cluster_member_lag_seconds", NULL, NULL),.scale = 1e-6,
	.help = "Since the primary, by its clock, had written no further than the member has replayed (one interval's resolution)."},
	{F("ready", PH_FIELD_OPT_BOOL, 0, PH_IN_BOTH),.get = mem_ready,
		METRIC("cluster_member_ready", NULL, NULL),
	.help = "1 when the member says it is ready (its own verdict)."},
	{F("ready_since", PH_FIELD_TIME, 0, PH_IN_BOTH),.get = mem_ready_since},
	{F("clock_skew_ms", PH_FIELD_FLOAT, 0, PH_IN_BOTH),.get = mem_clock_skew},
	{F("poll", PH_FIELD_INTERVAL, 0, PH_IN_BOTH),.get = mem_poll,
		METRIC("cluster_member_poll_seconds", NULL, NULL),.scale = 1e-6,
	.help = "The round trip of the member's last answered poll."},
	{F("answered_at", PH_FIELD_TIME, MEM(answered_at), PH_IN_BOTH)},
	{F("error", PH_FIELD_TEXT, 0, PH_IN_BOTH),.get = mem_error},
};
const int	ph_n_member_fields = lengthof(ph_member_fields);

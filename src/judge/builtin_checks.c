/*
 * checks.c -- the built-in readiness checks (judge): ph_evaluate() runs in
 * the sampler, once per sample, and turns the figures of a PhSnapshot into
 * check rows, with replication_checks.c's and component_checks.c's, and one
 * state per requested role (verdict.c).  It also derives what the sampler
 * keeps of a sample: its history entry, its reasons, its changes.
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/json.h"

#include "judge/builtin_checks.h"
#include "judge/component_checks.h"
#include "judge/pooler_checks.h"
#include "ground/guard.h"
#include "judge/replication_checks.h"
#include "judge/verdict.h"
#include "ground/workers.h"

int			ph_connections_warning = 80;
int			ph_connections_critical = 95;
int			ph_idle_xact_warning_s = 60;
int			ph_idle_xact_critical_s = 0;
int			ph_long_xact_warning_s = 300;
int			ph_long_xact_critical_s = 0;
int			ph_blocked_warning = 5;
int			ph_blocked_critical = 0;
int			ph_refusal_window_s = 60;
int			ph_limit_warning = 80;
int			ph_limit_critical = 0;
int			ph_hold_samples = 1;

void
ph_define_check_settings(void)
{
	DefineCustomIntVariable("pg_health.connections_warning",
							"Share of usable connection slots in use that makes the connections check a warning.",
							"Percent of max_connections less reserved slots; 0 turns the warning off.",
							&ph_connections_warning,
							80, 0, 1000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.connections_critical",
							"Share of usable connection slots in use that makes the connections check critical.",
							"Percent; 0 turns it off.  The check is critical whenever no slot is left for ordinary roles.",
							&ph_connections_critical,
							95, 0, 1000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.idle_in_transaction_warning",
							"Time idle in transaction after which the idle_in_transaction check warns.",
							"0 turns it off.",
							&ph_idle_xact_warning_s,
							60, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.idle_in_transaction_critical",
							"Time idle in transaction after which the idle_in_transaction check is critical.",
							"0 (the default) turns it off.",
							&ph_idle_xact_critical_s,
							0, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.long_transaction_warning",
							"Transaction age after which the long_transaction check warns.",
							"0 turns it off.",
							&ph_long_xact_warning_s,
							300, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.long_transaction_critical",
							"Transaction age after which the long_transaction check is critical.",
							"0 (the default) turns it off.",
							&ph_long_xact_critical_s,
							0, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.blocked_sessions_warning",
							"Number of sessions waiting on locks that makes the blocked_sessions check warn.",
							"0 turns it off.",
							&ph_blocked_warning,
							5, 0, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.blocked_sessions_critical",
							"Number of sessions waiting on locks that makes the blocked_sessions check critical.",
							"0 (the default) turns it off.",
							&ph_blocked_critical,
							0, 0, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.refusal_window",
							"How long after a connection refused for lack of slots the connection_refusals check stays critical.",
							"0 turns the check off.",
							&ph_refusal_window_s,
							60, 0, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.connection_limit_warning",
							"Percentage of a role's or database's CONNECTION LIMIT in use at which the connection_limits check warns.",
							"0 turns it off.",
							&ph_limit_warning,
							80, 0, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.connection_limit_critical",
							"Percentage of a role's or database's CONNECTION LIMIT in use at which the connection_limits check is critical.",
							"0 (the default) turns it off: a role or database at its own limit only warns, since the server still serves everyone else; 100 means at the limit.",
							&ph_limit_critical,
							0, 0, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.hold_samples",
							"Consecutive samples a check's new status must hold before it counts.",
							"1 (the default) applies every change at once.",
							&ph_hold_samples,
							1, 1, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
}

static PhCheck *
add_check(PhSnapshot *snap, const char *name, double value, int warning, int critical)
{
	PhCheck    *c = &snap->checks[snap->nchecks++];

	Assert(snap->nchecks <= PH_MAX_CHECKS);
	ph_threshold_check(c, name, value, warning, critical);
	return c;
}

static PhCheck *
next_check(PhSnapshot *snap)
{
	Assert(snap->nchecks < PH_MAX_CHECKS);
	return &snap->checks[snap->nchecks++];
}

static void
check_connections(PhSnapshot *snap)
{
	const PhConnections *cn = &snap->conn;
	PhCheck    *c = add_check(snap, "connections", cn->utilization_pct,
							  ph_connections_warning, ph_connections_critical);

	if (cn->available_ordinary <= 0)
	{
		c->status = PH_CHECK_CRITICAL;
		snprintf(c->detail, sizeof(c->detail),
				 "no connection slot left for ordinary roles: %d of %d usable slots in use "
				 "(%d more reserved for superusers); new connections are refused with "
				 "SQLSTATE 53300: end idle sessions or put a pooler in front",
				 cn->slots_used, cn->usable,
				 cn->superuser_reserved + Max(cn->reserved, 0));
	}
	else
		snprintf(c->detail, sizeof(c->detail),
				 "%d of %d usable connection slots in use (%.1f%%), %d left for ordinary roles%s",
				 cn->slots_used, cn->usable, cn->utilization_pct, cn->available_ordinary,
				 c->status == PH_CHECK_CRITICAL ? ": close to refusing connections (SQLSTATE 53300)" :
				 c->status == PH_CHECK_WARNING ? ": find who holds them before new connections are refused" : "");
}

/*
 * A check on the age of the oldest of something (an idle-in-transaction
 * state, an open transaction), naming the pid that holds it.
 */
static void
check_age(PhSnapshot *snap, const char *name, TimestampTz since, int pid,
		  int warning, int critical, const char *what, const char *none,
		  const char *advice)
{
	double		age = ph_age_seconds(since, snap->sampled_at);
	PhCheck    *c = add_check(snap, name, age, warning, critical);

	if (pid == 0)
		snprintf(c->detail, sizeof(c->detail), "%s", none);
	else
		snprintf(c->detail, sizeof(c->detail), "%s: pid %d, for %.0f s%s%s",
				 what, pid, age, c->status == PH_CHECK_OK ? "" : ": ",
				 c->status == PH_CHECK_OK ? "" : advice);
}

static void
check_blocked_sessions(PhSnapshot *snap)
{
	const PhConnections *cn = &snap->conn;
	PhCheck    *c = add_check(snap, "blocked_sessions", cn->s.waiting_on_locks,
							  ph_blocked_warning, ph_blocked_critical);

	if (cn->s.waiting_on_locks == 0)
		snprintf(c->detail, sizeof(c->detail), "no session is waiting on a lock");
	else
		snprintf(c->detail, sizeof(c->detail),
				 "%d session(s) waiting on a lock%s",
				 cn->s.waiting_on_locks,
				 c->status == PH_CHECK_OK ? "" :
				 ": find the blockers with pg_blocking_pids() and end or fix them");
}

/* " for role \"r\" on database \"d\"", as a refused client named them */
static char *
refused_names(const PhRefusalNote *n)
{
	return psprintf("%s \"%s\" on database \"%s\"",
					n->authenticated ? "for role" :
					"before authentication, for a client that asked for role",
					n->role, n->database);
}

/* A refusal within pg_health.refusal_window of the sample. */
static bool
within_window(const PhRefusalNote *n, TimestampTz at)
{
	return n->at != 0 && at - n->at <= (int64) ph_refusal_window_s * USECS_PER_SEC;
}

/*
 * Refusals inform, saturation decides.  A connection refused for lack of
 * slots within pg_health.refusal_window is a warning once slots are free
 * again, and critical only while no slot is free for ordinary roles (the
 * server is still full): so a load balancer takes a node back as soon as
 * the spike is over.  A connection refused by a role's or a database's own
 * CONNECTION LIMIT is never more than a warning: that role is full, not
 * the server.
 */
static void
check_connection_refusals(PhSnapshot *snap)
{
	const PhConnections *cn = &snap->conn;
	bool		on = ph_refusal_window_s > 0;
	bool		slots = on && (cn->slot_refusals_in_window > 0 ||
							   within_window(&cn->last_slot_refusal, snap->sampled_at));
	bool		limits = on && (cn->limit_refusals_in_window > 0 ||
								within_window(&cn->last_limit_refusal, snap->sampled_at));
	bool		full = cn->available_ordinary <= 0;
	PhCheck    *c = add_check(snap, "connection_refusals", cn->refusals_in_window, on ? 1 : 0, 0);
	StringInfoData d;

	initStringInfo(&d);
	c->status = PH_CHECK_OK;
	if (slots)
	{
		c->status = full ? PH_CHECK_CRITICAL : PH_CHECK_WARNING;
		appendStringInfo(&d, "%d connection(s) refused for lack of slots (SQLSTATE 53300) in the last %d s",
						 Max(cn->slot_refusals_in_window, 1), ph_refusal_window_s);
		if (cn->last_slot_refusal.at != 0)
			appendStringInfo(&d, ", the last %.0f s ago %s",
							 ph_age_seconds(cn->last_slot_refusal.at, snap->sampled_at),
							 refused_names(&cn->last_slot_refusal));
		if (full)
			appendStringInfoString(&d, ", and no slot is free for ordinary roles yet: free slots, "
								   "or raise max_connections");
		else
			appendStringInfo(&d, "; slots are free again (%d for ordinary roles), so it only warns "
							 "until the window has passed", cn->available_ordinary);
	}
	if (limits)
	{
		const PhRefusalNote *n = &cn->last_limit_refusal;
		bool		role = n->kind == PH_REFUSED_ROLE_LIMIT;
		const char *name = role ? n->role : n->database;

		if (c->status == PH_CHECK_OK)
			c->status = PH_CHECK_WARNING;
		appendStringInfo(&d, "%s%d connection(s) refused by a CONNECTION LIMIT in the last %d s",
						 d.len > 0 ? "; " : "", Max(cn->limit_refusals_in_window, 1),
						 ph_refusal_window_s);
		if (n->at != 0)
			appendStringInfo(&d, ", the last %.0f s ago: %s \"%s\" is at its limit; raise it with "
							 "ALTER %s %s CONNECTION LIMIT n",
							 ph_age_seconds(n->at, snap->sampled_at), role ? "role" : "database", name,
							 role ? "ROLE" : "DATABASE", quote_identifier(name));
		appendStringInfoString(&d, " (a role's or database's own limit never makes the server "
							   "not ready)");
	}
	if (d.len == 0 && on)
		appendStringInfo(&d, "no connection refused in the last %d s (%llu since the server started)",
						 ph_refusal_window_s, (unsigned long long) cn->refused_no_slots);
	else if (d.len == 0)
		appendStringInfo(&d, "off (pg_health.refusal_window = 0); %llu refused since the server started",
						 (unsigned long long) cn->refused_no_slots);
	strlcpy(c->detail, d.data, sizeof(c->detail));
	pfree(d.data);
}

/* Share of a limit in use, in percent; a limit of 0 with sessions is full. */
static double
limit_pct(const PhLimit *l)
{
	return l->connlimit > 0 ? 100.0 * l->used / l->connlimit : 100.0;
}

static bool
limit_applies(const PhLimit *l)
{
	return l->known && !l->exempt && l->connlimit >= 0;
}

/*
 * Roles and databases close to their CONNECTION LIMIT.  InitPostgres()
 * refuses a non-superuser's connection with SQLSTATE 53300 once the role (or
 * the database) already has that many, however many slots the server has
 * free: for that role it is a full server.  The check names the one closest
 * to its limit.
 */
static void
check_connection_limits(PhSnapshot *snap, const PhPoolTable *t)
{
	const PhLimit *worst = NULL;
	bool		worst_is_role = false;
	int			limited = 0,
				over_warning = 0,
				unknown = 0;
	PhCheck    *c;

	for (int kind = 0; kind < 2; kind++)
	{
		const PhLimit *entries = kind == 0 ? t->roles : t->databases;
		int			n = kind == 0 ? t->nroles : t->ndatabases;

		for (int i = 0; i < n; i++)
		{
			const PhLimit *l = &entries[i];

			if (!l->known)
			{
				unknown++;
				continue;
			}
			if (!limit_applies(l))
				continue;
			limited++;
			if (ph_limit_warning > 0 && limit_pct(l) >= ph_limit_warning)
				over_warning++;
			if (worst == NULL || limit_pct(l) > limit_pct(worst))
			{
				worst = l;
				worst_is_role = kind == 0;
			}
		}
	}

	c = add_check(snap, "connection_limits", worst ? limit_pct(worst) : 0.0,
				  ph_limit_warning, ph_limit_critical);
	if (worst != NULL && c->status != PH_CHECK_OK)
	{
		const char *what = worst_is_role ? "role" : "database";
		bool		full = worst->used >= worst->connlimit;

		snprintf(c->detail, sizeof(c->detail),
				 "%s \"%s\" %s %d of its %d connections%s%s: end its idle sessions, "
				 "or raise the limit with ALTER %s %s CONNECTION LIMIT",
				 what, worst->name, full ? "is at its CONNECTION LIMIT with" : "uses",
				 worst->used, worst->connlimit,
				 full ? ", so its next connection is refused with SQLSTATE 53300" : "",
				 over_warning > 1 ? psprintf(" (%d more roles or databases are above %d%%)",
											 over_warning - 1, ph_limit_warning) : "",
				 worst_is_role ? "ROLE" : "DATABASE", quote_identifier(worst->name));
	}
	else if (worst != NULL)
		snprintf(c->detail, sizeof(c->detail),
				 "%d role(s) or database(s) with sessions have a CONNECTION LIMIT; the closest is "
				 "%s \"%s\" with %d of %d",
				 limited, worst_is_role ? "role" : "database", worst->name,
				 worst->used, worst->connlimit);
	else if (unknown > 0)
		snprintf(c->detail, sizeof(c->detail),
				 "limits of %d role(s) or database(s) not known yet: the \"pg_health names\" "
				 "worker has not looked them up (it starts once the server is consistent)",
				 unknown);
	else
		snprintf(c->detail, sizeof(c->detail),
				 "no role or database with sessions has a CONNECTION LIMIT");
}

static void
check_role(PhSnapshot *snap, PhRole role)
{
	PhCheck    *c = &snap->role_checks[role];
	const char *server = snap->in_recovery ? "a standby (in recovery)" : "a primary";

	ph_init_check(c, "role", snap->in_recovery ? 1.0 : 0.0);
	if ((role == PH_ROLE_PRIMARY && snap->in_recovery) ||
		(role == PH_ROLE_REPLICA && !snap->in_recovery))
	{
		c->status = PH_CHECK_CRITICAL;
		snprintf(c->detail, sizeof(c->detail),
				 "%s was requested, but this server is %s: route this request elsewhere",
				 ph_role_name(role), server);
	}
	else
		snprintf(c->detail, sizeof(c->detail), "server is %s", server);
}

/*
 * One check per custom check: "custom:<name>".  It fails closed: a check
 * that has not run yet, or whose result is older than three of its
 * intervals (the checker is not running it), counts as failing, with its
 * severity.
 */
static void
check_custom(PhSnapshot *snap, const PhCustomCheck *cc, pid_t checker_pid)
{
	char		name[PH_NAME_LEN];
	double		age = ph_age_seconds(cc->last_run_at, snap->sampled_at);
	int64		stale_us = 3 * (int64) cc->interval_ms * 1000 + (int64) cc->timeout_ms * 1000 +
		5 * USECS_PER_SEC;
	PhCheck    *c;

	snprintf(name, sizeof(name), "custom:%s", cc->name);
	c = add_check(snap, name, cc->has_run ? (cc->passed ? 1.0 : 0.0) : get_float8_nan(), 0, 0);
	c->status = cc->severity;
	if (!cc->has_run)
		snprintf(c->detail, sizeof(c->detail), "has not run yet%s",
				 checker_pid == 0 ? ": the pg_health checker is not running; see the server log" :
				 ": the pg_health checker runs it within moments");
	else if (snap->sampled_at - cc->last_run_at > stale_us)
		snprintf(c->detail, sizeof(c->detail),
				 "its last result is %.0f s old, more than 3 runs: the pg_health checker is %s; "
				 "that result: %s", age,
				 checker_pid == 0 ? "not running (see the server log)" : "not keeping up",
				 cc->detail);
	else if (cc->passed)
	{
		c->status = PH_CHECK_OK;
		snprintf(c->detail, sizeof(c->detail), "passed %.0f s ago in %.1f ms (as role \"%s\", every %.1f s)",
				 age, cc->duration_us / 1000.0, cc->owner, cc->interval_ms / 1000.0);
	}
	else
		snprintf(c->detail, sizeof(c->detail), "failed %.0f s ago: %s (as role \"%s\", every %.1f s, timeout %d ms)",
				 age, cc->detail, cc->owner, cc->interval_ms / 1000.0, cc->timeout_ms);
}

/*
 * More custom checks in the table than the checker runs (a restore, a
 * superuser's INSERT; register_check refuses): fail closed, naming them.
 */
static void
check_custom_excess(PhSnapshot *snap, const PhCustomState *custom)
{
	PhCheck    *c = add_check(snap, "custom_checks", custom->excess, 0, 0);

	c->status = PH_CHECK_CRITICAL;
	snprintf(c->detail, sizeof(c->detail),
			 "%d custom check(s) in health.custom_checks beyond the %d that run, from \"%s\" on "
			 "(by name): they are not run; drop checks with health.drop_check()",
			 custom->excess, PH_MAX_CUSTOM_CHECKS, custom->first_skipped);
}

/*
 * Carry a check's history over from the previous sample: its status keeps
 * its start time for as long as it lasts, and with pg_health.hold_samples
 * above 1 (damp) a new status takes effect only once it has held that many
 * consecutive samples; until then the old status stays, and the detail says
 * what is pending.
 */
static void
carry_over(PhCheck *cur, const PhCheck *prev_checks, int nprev, TimestampTz now, bool damp)
{
	const PhCheck *p = NULL;

	cur->since = now;
	cur->pending_samples = 0;
	for (int i = 0; i < nprev && p == NULL; i++)
		if (strcmp(prev_checks[i].name, cur->name) == 0)
			p = &prev_checks[i];
	if (p == NULL)
		return;					/* a new check counts at once */
	if (damp && ph_hold_samples > 1 && cur->status != p->status)
	{
		int			held = (p->pending_samples > 0 && p->pending_status == cur->status) ?
			p->pending_samples + 1 : 1;

		if (held < ph_hold_samples)
		{
			char		raw[PH_DETAIL_LEN];

			strlcpy(raw, cur->detail, sizeof(raw));
			snprintf(cur->detail, sizeof(cur->detail),
					 "%s for %d of the %d samples pg_health.hold_samples asks before it counts: %s",
					 ph_check_status_name((PhCheckStatus) cur->status), held, ph_hold_samples, raw);
			cur->pending_status = cur->status;
			cur->pending_samples = (uint8) held;
			cur->status = p->status;
		}
	}
	if (p->status == cur->status && p->since != 0)
		cur->since = p->since;
}

/*
 * Evaluate every built-in check of a freshly collected snapshot.  prev is the
 * last published snapshot (generation 0 when there is none): it carries each
 * check's "since" and the time initialisation completed.
 */
void
ph_evaluate(PhSnapshot *snap, const PhSnapshot *prev, const PhPoolTable *pools,
			PhComponentTable *components, const PhCustomState *custom,
			const PhPoolerTable *poolers)
{
	TimestampTz now = snap->sampled_at;
	static const PhOverrides no_overrides = {-1, -1};
	bool		gates_known = ph_database == NULL || ph_database[0] == '\0' ||
		custom->loaded_at != 0;

	snap->consistent_at = prev->consistent_at;
	if (snap->consistent_at == 0 && snap->consistent)
		snap->consistent_at = now;
	snap->custom_loaded = gates_known;

	/*
	 * started: consistent once, every required component ready once, and the
	 * custom checks (gates) read at least once, so that a gate cannot be
	 * missed in the first moments after a restart
	 */
	if (snap->consistent_at != 0 && gates_known && ph_components_started(components))
		snap->started_at = prev->started_at != 0 ? prev->started_at : now;
	else
		snap->started_at = 0;

	snap->nchecks = 0;
	check_connections(snap);
	check_connection_refusals(snap);
	check_connection_limits(snap, pools);
	check_age(snap, "idle_in_transaction", snap->conn.s.oldest_idle_in_xact_start,
			  snap->conn.s.oldest_idle_in_xact_pid,
			  ph_idle_xact_warning_s, ph_idle_xact_critical_s,
			  "longest idle in transaction", "no session is idle in transaction",
			  "it holds locks and holds back vacuum; fix the application's transaction "
			  "handling or set idle_in_transaction_session_timeout");
	check_age(snap, "long_transaction", snap->conn.s.oldest_xact_start,
			  snap->conn.s.oldest_xact_pid,
			  ph_long_xact_warning_s, ph_long_xact_critical_s,
			  "oldest transaction", "no transaction is open",
			  "it holds back vacuum and may hold locks; check what it runs in pg_stat_activity");
	check_blocked_sessions(snap);
	ph_check_replication(next_check(snap), &snap->repl, snap->in_recovery, &no_overrides, now);
	ph_check_sync_standbys(next_check(snap), &snap->repl, snap->in_recovery);
	ph_check_replication_slots(next_check(snap), &snap->repl);
	for (int k = 0; k < components->n; k++)
		ph_check_component(next_check(snap), &components->items[k], now);
	for (int k = 0; k < custom->n; k++)
		check_custom(snap, &custom->checks[k], custom->checker_pid);
	if (custom->excess > 0)
		check_custom_excess(snap, custom);
	for (int k = 0; k < poolers->n; k++)
		ph_check_pooler(next_check(snap), &poolers->items[k], poolers->poller_pid, now);
	if (poolers->excess > 0)
		ph_check_pooler_excess(next_check(snap), poolers);
	for (int i = 0; i < snap->nchecks; i++)
		carry_over(&snap->checks[i], prev->checks, prev->nchecks, now, true);

	/* the role is a fact, not a measurement: never damped */
	for (int r = 0; r < PH_NUM_ROLES; r++)
	{
		check_role(snap, (PhRole) r);
		carry_over(&snap->role_checks[r], &prev->role_checks[r], 1, now, false);
	}
	ph_set_role_states(snap);

	/*
	 * Every text in a detail was valid UTF-8 when it entered shared memory;
	 * a detail cut at its size may end inside a character: drop that tail.
	 */
	for (int i = 0; i < snap->nchecks; i++)
		ph_clean_text(snap->checks[i].detail, PH_DETAIL_LEN, snap->checks[i].detail, PH_DETAIL_LEN);
	for (int r = 0; r < PH_NUM_ROLES; r++)
		ph_clean_text(snap->role_checks[r].detail, PH_DETAIL_LEN, snap->role_checks[r].detail,
					  PH_DETAIL_LEN);
}

void
ph_history_entry(const PhSnapshot *snap, PhHistoryEntry *h)
{
	const PhConnections *cn = &snap->conn;

	memset(h, 0, sizeof(*h));
	h->generation = snap->generation;
	h->sampled_at = snap->sampled_at;
	h->state = snap->state[PH_ROLE_ANY];
	h->in_recovery = snap->in_recovery;
	h->client_backends = cn->s.sessions;
	h->slots_used = cn->slots_used;
	h->available_ordinary = cn->available_ordinary;
	h->active = cn->s.active;
	h->idle = cn->s.idle;
	h->idle_in_transaction = cn->s.idle_in_transaction + cn->s.idle_in_transaction_aborted;
	h->waiting_on_locks = cn->s.waiting_on_locks;
	h->utilization_pct = cn->utilization_pct;
	h->oldest_xact_age_us = cn->s.oldest_xact_start ? snap->sampled_at - cn->s.oldest_xact_start : 0;
	h->sample_duration_us = snap->sample_duration_us;
	h->connections_per_s = cn->connections_per_s;
	h->refusals_per_s = cn->refusals_per_s;
	h->auth_failures_per_s = cn->auth_failures_per_s;
	h->lag_bytes = snap->in_recovery ? snap->repl.lag_bytes :
		snap->repl.standbys > 0 ? snap->repl.max_standby_lag_bytes : -1;
	for (int i = 0; i < snap->nchecks; i++)
	{
		if (snap->checks[i].status == PH_CHECK_WARNING)
			h->warnings++;
		else if (snap->checks[i].status == PH_CHECK_CRITICAL)
			h->criticals++;
	}
}

/* "name: detail; name: detail" for every check that is not ok. */
void
ph_reasons(const PhSnapshot *snap, PhRole role, char *buf, size_t len)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i <= snap->nchecks; i++)
	{
		const PhCheck *c = i < snap->nchecks ? &snap->checks[i] : &snap->role_checks[role];

		if (c->status == PH_CHECK_OK)
			continue;
		if (s.len > 0)
			appendStringInfoString(&s, "; ");
		appendStringInfo(&s, "%s %s: %s", c->name,
						 ph_check_status_name((PhCheckStatus) c->status), c->detail);
	}
	if (snap->consistent_at == 0)
		appendStringInfo(&s, "%sserver has not reached a consistent state yet",
						 s.len > 0 ? "; " : "");
	else if (!snap->custom_loaded)
		appendStringInfo(&s, "%snot started: the pg_health checker has not read the custom checks "
						 "of database \"%s\" yet", s.len > 0 ? "; " : "", ph_database);
	else if (snap->started_at == 0)
		appendStringInfo(&s, "%snot started: a required component has not been ready yet",
						 s.len > 0 ? "; " : "");
	if (s.len == 0)
		appendStringInfoString(&s, "all checks ok");
	strlcpy(buf, s.data, len);
	pfree(s.data);
}

static const PhCheck *
find_check(const PhSnapshot *snap, const char *name)
{
	for (int i = 0; i < snap->nchecks; i++)
		if (strcmp(snap->checks[i].name, name) == 0)
			return &snap->checks[i];
	return NULL;
}

/* {"check": name, "old": old, "new": new}, NULL as null */
static void
append_change(StringInfo s, const char *name, const char *old, const char *new)
{
	if (s->len > 1)
		appendStringInfoChar(s, ',');
	appendStringInfoString(s, "{\"check\":");
	escape_json(s, name);
	appendStringInfo(s, ",\"old\":%s%s%s,\"new\":%s%s%s}",
					 old ? "\"" : "", old ? old : "null", old ? "\"" : "",
					 new ? "\"" : "", new ? new : "null", new ? "\"" : "");
}

static const char *
status_of(const PhCheck *c)
{
	return c ? ph_check_status_name((PhCheckStatus) c->status) : NULL;
}

/*
 * The checks whose status changed from prev to cur, as a JSON array of
 * {"check", "old", "new"} (null for a check that appeared or went away; one
 * that appears or goes away as ok is no change), led by the server's role
 * when it changed (promotion: {"check": "role", "old": "standby", "new":
 * "primary"}).  Returns true when there is any.  An array too long for buf
 * ends with {"more": n}.
 */
bool
ph_check_changes(const PhSnapshot *cur, const PhSnapshot *prev, char *buf, size_t len)
{
	StringInfoData s;
	int			n = 0,
				more = 0;
	size_t		room = len - 32;	/* for the closing and a "more" entry */

	initStringInfo(&s);
	appendStringInfoChar(&s, '[');
	/* a role is a fact only once known: a first start's replay is no standby */
	if (prev->generation > 0 && prev->server_role != PH_SERVER_UNKNOWN &&
		cur->server_role != PH_SERVER_UNKNOWN && prev->server_role != cur->server_role)
	{
		append_change(&s, "role", ph_server_name(prev->in_recovery),
					  ph_server_name(cur->in_recovery));
		n++;
	}
	for (int pass = 0; pass < 2; pass++)
	{
		const PhSnapshot *a = pass == 0 ? cur : prev;
		const PhSnapshot *b = pass == 0 ? prev : cur;

		for (int i = 0; i < a->nchecks; i++)
		{
			const PhCheck *x = &a->checks[i];
			const PhCheck *y = find_check(b, x->name);
			int			before = s.len;

			if (pass == 1 && y != NULL)
				continue;		/* seen in the first pass */
			if (y == NULL ? x->status == PH_CHECK_OK : x->status == y->status)
				continue;
			if (pass == 0)
				append_change(&s, x->name, status_of(y), status_of(x));
			else
				append_change(&s, x->name, status_of(x), NULL);
			if ((size_t) s.len > room)
			{
				s.len = before;
				s.data[s.len] = '\0';
				more++;
			}
			else
				n++;
		}
	}
	if (more > 0)
		appendStringInfo(&s, "%s{\"more\":%d}", n > 0 ? "," : "", more);
	appendStringInfoChar(&s, ']');
	strlcpy(buf, s.data, len);
	pfree(s.data);
	return n + more > 0;
}

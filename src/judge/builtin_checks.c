/*
 * builtin_checks.c -- evaluating a sample (judge): ph_evaluate() runs in the
 * sampler, once per sample, and turns the figures of a PhSnapshot into check
 * rows -- the built-in checks' table (check_table.c), then one per
 * component, custom check and pooler, each carried over from the previous
 * sample (pg_health.hold_samples) -- and one state per requested role
 * (verdict.c).  The role check and the custom checks are judged here.  It
 * also derives what the sampler keeps of a sample: its history entry, its
 * reasons, its changes.
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"
#include "utils/guc.h"
#include "utils/json.h"

#include "ground/guard.h"
#include "ground/workers.h"
#include "judge/builtin_checks.h"
#include "judge/check_table.h"
#include "judge/component_checks.h"
#include "judge/pooler_checks.h"
#include "judge/verdict.h"

int			ph_hold_samples = 1;

/*
 * The built-in checks' settings come from their rows (check_table.c);
 * pg_health.hold_samples is no check's: it damps them all (carry_over).
 */
void
ph_define_check_settings(void)
{
	ph_define_check_table_settings();
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

/* The role check for a role asked for, on a server in (or out of) recovery. */
void
ph_check_role(PhCheck *c, bool in_recovery, PhRole role)
{
	const char *server = in_recovery ? "a standby (in recovery)" : "a primary";

	ph_init_check(c, "role", in_recovery ? 1.0 : 0.0);
	if ((role == PH_ROLE_PRIMARY && in_recovery) ||
		(role == PH_ROLE_REPLICA && !in_recovery))
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
	ph_run_check_table(snap, pools);
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
		ph_check_role(&snap->role_checks[r], snap->in_recovery, (PhRole) r);
		carry_over(&snap->role_checks[r], &prev->role_checks[r], 1, now, false);
	}
	ph_set_role_states(snap);

	/*
	 * Every text in a detail was valid UTF-8 when it entered shared memory; a
	 * detail cut at its size may end inside a character: drop that tail.
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

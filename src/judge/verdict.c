/*
 * verdict.c -- the judge's ground: a check row and its thresholds, the state
 * of each role from its checks, and the verdict a reader takes from a
 * snapshot at the time of reading.
 *
 * ph_evaluate() (builtin_checks.c) runs in the sampler, once per sample,
 * and turns the figures of a PhSnapshot into check rows and one state per
 * requested role.  The readers only add what depends on the time of
 * reading: whether the sample is fresh (ph_verdict, and the "sampler" row of
 * ph_collect_checks).  SQL and HTTP call the same functions, so they cannot
 * disagree.
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"
#include "utils/guc.h"

#include "ground/shmem.h"
#include "ground/workers.h"
#include "judge/verdict.h"

int			ph_stale_after_ms = 5000;

void
ph_define_verdict_settings(void)
{
	DefineCustomIntVariable("pg_health.stale_after",
							"Age after which the last sample counts as stale (status unknown, live() false).",
							"The effective limit is never below three sample intervals.",
							&ph_stale_after_ms,
							5000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

static const char *const state_names[] = {
	[PH_STATE_UNKNOWN] = "unknown",
	[PH_STATE_STARTING] = "starting",
	[PH_STATE_NOT_READY] = "not_ready",
	[PH_STATE_DEGRADED] = "degraded",
	[PH_STATE_READY] = "ready",
};

static const char *const check_status_names[] = {
	[PH_CHECK_OK] = "ok",
	[PH_CHECK_WARNING] = "warning",
	[PH_CHECK_CRITICAL] = "critical",
	[PH_CHECK_UNKNOWN] = "unknown",
};

const char *
ph_state_name(PhState state)
{
	return state_names[state];
}

const char *
ph_check_status_name(PhCheckStatus status)
{
	return check_status_names[status];
}

/*
 * The words for roles: a role asked for (ready('primary'), /ready/replica)
 * and the role a server has, for which the replication figures say
 * "standby" (a server in recovery) -- the one place each word is spelled.
 */
static const char *const role_names[PH_NUM_ROLES] = {
	[PH_ROLE_ANY] = NULL,
	[PH_ROLE_PRIMARY] = "primary",
	[PH_ROLE_REPLICA] = "replica",
};

/* "primary", "replica", or NULL for either */
const char *
ph_role_name(PhRole role)
{
	return role_names[role];
}

/* The role a server has: a standby serves as a replica. */
PhRole
ph_role_of(bool in_recovery)
{
	return in_recovery ? PH_ROLE_REPLICA : PH_ROLE_PRIMARY;
}

/* What a server is, as the replication figures and events name it. */
const char *
ph_server_name(bool in_recovery)
{
	return in_recovery ? "standby" : role_names[PH_ROLE_PRIMARY];
}

/*
 * NULL means "either role"; anything else must be spelled as the verdict
 * functions take it (docs/design.md, "The verdict"): "primary" or "replica".
 */
bool
ph_role_from_string(const char *s, PhRole *role)
{
	if (s == NULL)
		*role = PH_ROLE_ANY;
	else
	{
		for (int r = PH_ROLE_ANY + 1; r < PH_NUM_ROLES; r++)
			if (strcmp(s, role_names[r]) == 0)
			{
				*role = (PhRole) r;
				return true;
			}
		return false;
	}
	return true;
}

/* Never below three intervals: a slow sample must not read as a dead worker. */
int
ph_stale_after(void)
{
	return Max(ph_stale_after_ms, 3 * ph_sample_interval_ms);
}

/* The lower of two thresholds that are on (> 0); 0 when both are off. */
int
ph_first_threshold(int warning, int critical)
{
	if (warning > 0 && critical > 0)
		return Min(warning, critical);
	return Max(warning, critical);
}

static double
threshold_or_nan(int threshold)
{
	return threshold > 0 ? (double) threshold : get_float8_nan();
}

static PhCheckStatus
threshold_status(double value, double warning, double critical)
{
	if (!isnan(critical) && value >= critical)
		return PH_CHECK_CRITICAL;
	if (!isnan(warning) && value >= warning)
		return PH_CHECK_WARNING;
	return PH_CHECK_OK;
}

/*
 * A check row with no thresholds, status ok: every check starts here, the
 * built-in ones (check_table.c), replication_checks.c's and
 * component_checks.c's.
 */
void
ph_init_check(PhCheck *c, const char *name, double value)
{
	memset(c, 0, sizeof(*c));
	strlcpy(c->name, name, sizeof(c->name));
	c->value = value;
	c->warning_threshold = get_float8_nan();
	c->critical_threshold = get_float8_nan();
	c->status = PH_CHECK_OK;
}

/* Seconds from since to now; 0 when since is not set or not before now. */
double
ph_age_seconds(TimestampTz since, TimestampTz now)
{
	if (since == 0 || now <= since)
		return 0.0;
	return (double) (now - since) / USECS_PER_SEC;
}

/*
 * A check row judged by its thresholds (0: off): critical at or above the
 * critical one, warning at or above the warning one.
 */
void
ph_threshold_check(PhCheck *c, const char *name, double value, int warning, int critical)
{
	ph_init_check(c, name, value);
	c->warning_threshold = threshold_or_nan(warning);
	c->critical_threshold = threshold_or_nan(critical);
	c->status = threshold_status(value, c->warning_threshold, c->critical_threshold);
}

static PhState
state_for_role(const PhSnapshot *snap, PhRole role)
{
	bool		warning = false;

	if (snap->started_at == 0)
		return PH_STATE_STARTING;
	for (int i = 0; i <= snap->nchecks; i++)
	{
		const PhCheck *c = i < snap->nchecks ? &snap->checks[i] : &snap->role_checks[role];

		/* a check critical for writes only degrades the other roles */
		if (c->status == PH_CHECK_CRITICAL && !c->informational &&
			(!c->writes_only || role == PH_ROLE_PRIMARY))
			return PH_STATE_NOT_READY;
		if (c->status == PH_CHECK_WARNING || c->status == PH_CHECK_CRITICAL)
			warning = true;
	}
	return warning ? PH_STATE_DEGRADED : PH_STATE_READY;
}

/* The overall state for each role, from the checks as they stand. */
void
ph_set_role_states(PhSnapshot *snap)
{
	for (int r = 0; r < PH_NUM_ROLES; r++)
		snap->state[r] = (uint8) state_for_role(snap, (PhRole) r);
}

void
ph_verdict(const PhVerdictInput *in, TimestampTz now, PhVerdict *out)
{
	out->age_ms = in->generation == 0 ? -1 :
		(now > in->sampled_at ? (now - in->sampled_at) / 1000 : 0);
	out->fresh = in->generation > 0 && in->worker_pid != 0 &&
		out->age_ms <= ph_stale_after();
	out->live = out->fresh;
	out->started = in->started_at != 0;
	out->state = out->fresh ? (PhState) in->state : PH_STATE_UNKNOWN;

	/*
	 * A role asked for is the server's role now: promoted since the sample,
	 * it is the verdict for either role (the rest of the checks); no longer
	 * in the role asked for, it is not ready.  The next sample, which the
	 * reader asked for, says the rest.
	 */
	if (out->fresh && in->role != PH_ROLE_ANY && in->live_in_recovery != in->in_recovery &&
		out->state != PH_STATE_STARTING)
		out->state = ph_role_of(in->live_in_recovery) == (PhRole) in->role ?
			(PhState) in->state_any : PH_STATE_NOT_READY;
	out->ready = out->state == PH_STATE_READY || out->state == PH_STATE_DEGRADED;
}

void
ph_verdict_from_snapshot(const PhSnapshot *snap, pid_t worker_pid, PhRole role,
						 TimestampTz now, PhVerdict *out)
{
	PhVerdictInput in;

	in.generation = snap->generation;
	in.sampled_at = snap->sampled_at;
	in.started_at = snap->started_at;
	in.worker_pid = worker_pid;
	in.state = snap->state[role];
	in.state_any = snap->state[PH_ROLE_ANY];
	in.role = (uint8) role;
	in.in_recovery = snap->in_recovery;
	in.live_in_recovery = snap->generation > 0 ? ph_live_in_recovery() : snap->in_recovery;
	ph_verdict(&in, now, out);
}

/* The "sampler" row: the one check judged at read time. */
static void
sampler_check(const PhSnapshot *snap, pid_t worker_pid, const PhVerdict *v, PhCheck *c)
{
	double		age_s = v->age_ms / 1000.0;
	int			limit = ph_stale_after();

	memset(c, 0, sizeof(*c));
	strlcpy(c->name, "sampler", sizeof(c->name));
	c->value = v->age_ms >= 0 ? (double) v->age_ms : get_float8_nan();
	c->warning_threshold = get_float8_nan();
	c->critical_threshold = (double) limit;
	c->status = v->fresh ? PH_CHECK_OK : PH_CHECK_CRITICAL;
	c->since = v->fresh ? snap->worker_started_at :
		(snap->generation > 0 ? snap->sampled_at : 0);

	if (snap->generation == 0)
		snprintf(c->detail, sizeof(c->detail),
				 "the pg_health worker has not taken a sample yet%s",
				 worker_pid == 0 ? " and is not running: see the server log" : "");
	else if (worker_pid == 0)
		snprintf(c->detail, sizeof(c->detail),
				 "the pg_health worker is not running (last sample %.1f s ago); "
				 "the postmaster restarts it within seconds: see the server log",
				 age_s);
	else if (!v->fresh)
		snprintf(c->detail, sizeof(c->detail),
				 "last sample is %.1f s old (limit %.1f s): the pg_health worker (pid %d) "
				 "is not sampling; see the server log",
				 age_s, limit / 1000.0, (int) worker_pid);
	else
		snprintf(c->detail, sizeof(c->detail),
				 "sample %llu taken %lld ms ago by worker pid %d",
				 (unsigned long long) snap->generation, (long long) v->age_ms,
				 (int) worker_pid);
}

/*
 * All check rows for a role, as readers show them: the sampler row first, then
 * the built-in checks and the role check.  When the sample is stale, the
 * other rows keep their last detail but their status becomes "unknown".
 * out must have room for PH_MAX_CHECKS + 2 rows.
 */
int
ph_collect_checks(const PhSnapshot *snap, pid_t worker_pid, PhRole role,
				  TimestampTz now, PhCheck *out)
{
	PhVerdict	v;
	int			n = 0;

	ph_verdict_from_snapshot(snap, worker_pid, role, now, &v);
	sampler_check(snap, worker_pid, &v, &out[n++]);
	if (snap->generation == 0)
		return n;
	for (int i = 0; i <= snap->nchecks; i++)
	{
		out[n] = i < snap->nchecks ? snap->checks[i] : snap->role_checks[role];
		if (!v.fresh)
			out[n].status = PH_CHECK_UNKNOWN;
		n++;
	}
	return n;
}

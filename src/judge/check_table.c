/*
 * check_table.c -- the built-in checks, each described once (judge): one
 * row per check in check_table below, in the order health.checks shows
 * them, with its name, what its figure is (the unit and scale that /metrics
 * and the status page give it), which servers it judges, its settings and
 * its evaluator.  ph_run_check_table() runs the rows, the settings are
 * defined from them, ph_check_unit() reads them.  The evaluators of the
 * connection checks are here; the replication checks' live in
 * replication_checks.c, called through a small one each.
 *
 * Adding a check is one row and its evaluator (docs/design.md).  The checks
 * that are not rows keep their own code, as they come and go with what they
 * judge or are judged elsewhere: role and custom:<name> (builtin_checks.c),
 * component:<name> (component_checks.c), pooler:<name> (pooler_checks.c),
 * and sampler, judged at read time (verdict.c).
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"

#include "judge/check_table.h"
#include "judge/cluster_checks.h"
#include "judge/replication_checks.h"
#include "judge/serving_checks.h"
#include "judge/verdict.h"

/*
 * One setting of a check, exactly as pg_settings shows it.  Every one is a
 * reload setting (PGC_SIGHUP): a check's limits are the server's verdict,
 * not a session's.
 */
typedef struct PhCheckSetting
{
	const char *name;			/* NULL: the row has no such setting */
	const char *short_desc;
	const char *long_desc;		/* may be NULL */
	int		   *var;			/* an integer setting ... */
	double	   *real_var;		/* ... or a real one */
	double		boot;			/* default and bounds (exact for every int) */
	double		min;
	double		max;
	int			unit;			/* GUC_UNIT_*, or 0 */
} PhCheckSetting;

/* What a check's figure is on one kind of server. */
typedef struct PhCheckFigure
{
	PhCheckUnit unit;
	double		scale;			/* figure * scale is in the unit's base unit */
} PhCheckFigure;

/* The servers a check judges; on the others its row only says why not. */
typedef enum PhCheckServers
{
	PH_CHECK_ON_ANY,
	PH_CHECK_ON_PRIMARY,
	PH_CHECK_ON_STANDBY
} PhCheckServers;

/* What an evaluator reads: the sample, and what was collected beside it. */
typedef struct PhCheckInput
{
	const PhSnapshot *snap;
	const PhPoolTable *pools;
} PhCheckInput;

typedef struct PhCheckDef PhCheckDef;

/* Fills c, a fresh row of the sample, for this check. */
typedef void (*PhCheckEvaluator) (PhCheck *c, const PhCheckDef *def, const PhCheckInput *in);

struct PhCheckDef
{
	const char *name;
	PhCheckFigure figure[2];	/* [in_recovery]: on a primary, on a standby */
	PhCheckServers on;
	const char *elsewhere;		/* its detail on a server it does not judge */
	PhCheckSetting warning;
	PhCheckSetting critical;
	PhCheckSetting also[2];		/* more settings its evaluator reads: a
								 * window, more limits */
	PhCheckEvaluator evaluate;
};

/*
 * The settings' variables.  Their initial values are the rows' defaults
 * (define_setting asserts it), so a backend that never ran _PG_init reads
 * the same limits.
 */
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

/* ------------------------------------------------------------------------
 * The evaluators
 * ------------------------------------------------------------------------
 */

static int
setting_int(const PhCheckSetting *s)
{
	return s->var != NULL ? *s->var : 0;
}

/* The row judged by its own warning and critical settings (none or 0: off). */
static void
judge(PhCheck *c, const PhCheckDef *def, double value)
{
	ph_threshold_check(c, def->name, value, setting_int(&def->warning),
					   setting_int(&def->critical));
}

static void
check_connections(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	const PhConnections *cn = &in->snap->conn;

	judge(c, def, cn->utilization_pct);
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
check_age(PhCheck *c, const PhCheckDef *def, const PhSnapshot *snap, TimestampTz since,
		  int pid, const char *what, const char *none, const char *advice)
{
	double		age = ph_age_seconds(since, snap->sampled_at);

	judge(c, def, age);
	if (pid == 0)
		snprintf(c->detail, sizeof(c->detail), "%s", none);
	else
		snprintf(c->detail, sizeof(c->detail), "%s: pid %d, for %.0f s%s%s",
				 what, pid, age, c->status == PH_CHECK_OK ? "" : ": ",
				 c->status == PH_CHECK_OK ? "" : advice);
}

static void
check_idle_in_transaction(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	const PhSessionCounts *s = &in->snap->conn.s;

	check_age(c, def, in->snap, s->oldest_idle_in_xact_start, s->oldest_idle_in_xact_pid,
			  "longest idle in transaction", "no session is idle in transaction",
			  "it holds locks and holds back vacuum; fix the application's transaction "
			  "handling or set idle_in_transaction_session_timeout");
}

static void
check_long_transaction(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	const PhSessionCounts *s = &in->snap->conn.s;

	check_age(c, def, in->snap, s->oldest_xact_start, s->oldest_xact_pid,
			  "oldest transaction", "no transaction is open",
			  "it holds back vacuum and may hold locks; check what it runs in pg_stat_activity");
}

static void
check_blocked_sessions(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	const PhConnections *cn = &in->snap->conn;

	judge(c, def, cn->s.waiting_on_locks);
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
 * the server.  Its thresholds are no settings: any refusal in the window
 * counts (warning 1 while the window is on).
 */
static void
check_connection_refusals(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	const PhSnapshot *snap = in->snap;
	const PhConnections *cn = &snap->conn;
	bool		on = ph_refusal_window_s > 0;
	bool		slots = on && (cn->slot_refusals_in_window > 0 ||
							   within_window(&cn->last_slot_refusal, snap->sampled_at));
	bool		limits = on && (cn->limit_refusals_in_window > 0 ||
								within_window(&cn->last_limit_refusal, snap->sampled_at));
	bool		full = cn->available_ordinary <= 0;
	StringInfoData d;

	ph_threshold_check(c, def->name, cn->refusals_in_window, on ? 1 : 0, 0);
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
check_connection_limits(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	const PhPoolTable *t = in->pools;
	int			warning = setting_int(&def->warning);
	const PhLimit *worst = NULL;
	bool		worst_is_role = false;
	int			limited = 0,
				over_warning = 0,
				unknown = 0;

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
			if (warning > 0 && limit_pct(l) >= warning)
				over_warning++;
			if (worst == NULL || limit_pct(l) > limit_pct(worst))
			{
				worst = l;
				worst_is_role = kind == 0;
			}
		}
	}

	judge(c, def, worst ? limit_pct(worst) : 0.0);
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
											 over_warning - 1, warning) : "",
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

/*
 * The replication checks judge with the settings' limits here; readers
 * call ph_check_replication() again with their own (ph_apply_overrides).
 */
static void
check_replication(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	static const PhOverrides no_overrides = {-1, -1};

	ph_check_replication(c, &in->snap->repl, in->snap->in_recovery, &no_overrides,
						 in->snap->sampled_at);
}

static void
check_sync_standbys(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	ph_check_sync_standbys(c, &in->snap->repl);
}

static void
check_replication_slots(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	ph_check_replication_slots(c, &in->snap->repl);
}

/* Whether the server can serve: serving_checks.c judges. */
static void
check_accepting(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	ph_check_accepting(c, &in->snap->serving.accept, in->snap->sampled_at);
}

static void
check_commit_path(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	ph_check_commit_path(c, &in->snap->serving.commit, in->snap->sampled_at);
}

static void
check_disk(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	ph_check_disk(c, &in->snap->serving.disk, in->snap->sampled_at, ph_refusal_window_s,
				  ph_stale_after());
}

static void
check_archiver(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	ph_check_archiver(c, &in->snap->serving.archiver, &in->snap->serving.disk,
					  in->snap->sampled_at);
}

static void
check_wraparound(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	ph_check_wraparound(c, &in->snap->serving.wrap);
}

static void
check_replay(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	ph_check_replay(c, &in->snap->repl, &in->snap->conn.s, in->snap->sampled_at);
}

static void
check_cluster(PhCheck *c, const PhCheckDef *def, const PhCheckInput *in)
{
	ph_check_cluster(c, &in->snap->cluster, in->snap->in_recovery, in->snap->repl.timeline,
					 in->snap->sampled_at);
}

/* ------------------------------------------------------------------------
 * The table
 * ------------------------------------------------------------------------
 */

/* a figure that means the same on a primary and on a standby */
#define FIGURE(unit_, scale_)	.figure = {{(unit_), (scale_)}, {(unit_), (scale_)}}
#define SETTING(name_, short_, long_) .name = (name_), .short_desc = (short_), .long_desc = (long_)
#define INT_VALUE(var_, boot_, min_, max_, unit_) \
	.var = (var_), .boot = (boot_), .min = (min_), .max = (max_), .unit = (unit_)
#define REAL_VALUE(var_, boot_, min_, max_, unit_) \
	.real_var = (var_), .boot = (boot_), .min = (min_), .max = (max_), .unit = (unit_)

static const PhCheckDef check_table[] = {
	{
		.name = "connections",
		FIGURE(PH_UNIT_RATIO, 0.01),	/* percent of the usable slots */
		.warning = {SETTING("pg_health.connections_warning",
							"Share of usable connection slots in use that makes the connections check a warning.",
							"Percent of max_connections less reserved slots; 0 turns the warning off."),
		INT_VALUE(&ph_connections_warning, 80, 0, 1000, 0)},
		.critical = {SETTING("pg_health.connections_critical",
							 "Share of usable connection slots in use that makes the connections check critical.",
							 "Percent; 0 turns it off.  The check is critical whenever no slot is left for ordinary roles."),
		INT_VALUE(&ph_connections_critical, 95, 0, 1000, 0)},
		.evaluate = check_connections,
	},
	{
		.name = "connection_refusals",
		FIGURE(PH_UNIT_COUNT, 1),	/* refused within the window */
		.also = {{SETTING("pg_health.refusal_window",
						  "How long after a connection refused for lack of slots the connection_refusals check stays critical.",
						  "0 turns the check off."),
		INT_VALUE(&ph_refusal_window_s, 60, 0, 86400, GUC_UNIT_S)}},
		.evaluate = check_connection_refusals,
	},
	{
		.name = "connection_limits",
		FIGURE(PH_UNIT_RATIO, 0.01),	/* percent of a CONNECTION LIMIT */
		.warning = {SETTING("pg_health.connection_limit_warning",
							"Percentage of a role's or database's CONNECTION LIMIT in use at which the connection_limits check warns.",
							"0 turns it off."),
		INT_VALUE(&ph_limit_warning, 80, 0, 100, 0)},
		.critical = {SETTING("pg_health.connection_limit_critical",
							 "Percentage of a role's or database's CONNECTION LIMIT in use at which the connection_limits check is critical.",
							 "0 (the default) turns it off: a role or database at its own limit only warns, since the server still serves everyone else; 100 means at the limit."),
		INT_VALUE(&ph_limit_critical, 0, 0, 100, 0)},
		.evaluate = check_connection_limits,
	},
	{
		.name = "idle_in_transaction",
		FIGURE(PH_UNIT_SECONDS, 1),
		.warning = {SETTING("pg_health.idle_in_transaction_warning",
							"Time idle in transaction after which the idle_in_transaction check warns.",
							"0 turns it off."),
		INT_VALUE(&ph_idle_xact_warning_s, 60, 0, INT_MAX / 1000, GUC_UNIT_S)},
		.critical = {SETTING("pg_health.idle_in_transaction_critical",
							 "Time idle in transaction after which the idle_in_transaction check is critical.",
							 "0 (the default) turns it off."),
		INT_VALUE(&ph_idle_xact_critical_s, 0, 0, INT_MAX / 1000, GUC_UNIT_S)},
		.evaluate = check_idle_in_transaction,
	},
	{
		.name = "long_transaction",
		FIGURE(PH_UNIT_SECONDS, 1),
		.warning = {SETTING("pg_health.long_transaction_warning",
							"Transaction age after which the long_transaction check warns.",
							"0 turns it off."),
		INT_VALUE(&ph_long_xact_warning_s, 300, 0, INT_MAX / 1000, GUC_UNIT_S)},
		.critical = {SETTING("pg_health.long_transaction_critical",
							 "Transaction age after which the long_transaction check is critical.",
							 "0 (the default) turns it off."),
		INT_VALUE(&ph_long_xact_critical_s, 0, 0, INT_MAX / 1000, GUC_UNIT_S)},
		.evaluate = check_long_transaction,
	},
	{
		.name = "blocked_sessions",
		FIGURE(PH_UNIT_COUNT, 1),
		.warning = {SETTING("pg_health.blocked_sessions_warning",
							"Number of sessions waiting on locks that makes the blocked_sessions check warn.",
							"0 turns it off."),
		INT_VALUE(&ph_blocked_warning, 5, 0, INT_MAX, 0)},
		.critical = {SETTING("pg_health.blocked_sessions_critical",
							 "Number of sessions waiting on locks that makes the blocked_sessions check critical.",
							 "0 (the default) turns it off."),
		INT_VALUE(&ph_blocked_critical, 0, 0, INT_MAX, 0)},
		.evaluate = check_blocked_sessions,
	},

	/*
	 * The replication checks judge their limits themselves (the replication
	 * check's figure shows only the lag limit as its critical threshold), so
	 * their settings' variables live with them, in replication_checks.c.
	 */
	{
		.name = "replication",

		/*
		 * a primary: its standbys streaming; a standby: bytes not yet
		 * replayed
		 */
		.figure = {{PH_UNIT_COUNT, 1}, {PH_UNIT_BYTES, 1}},
		.critical = {SETTING("pg_health.replica_max_lag_bytes",
							 "Replay lag above which a standby is not ready (critical).",
							 "WAL received but not yet replayed; -1 (the default) turns it off."),
		REAL_VALUE(&ph_replica_max_lag_bytes, -1, -1, 1e15, GUC_UNIT_BYTE)},
		.also = {{SETTING("pg_health.replica_max_delay",
						  "Replay delay above which a standby is not ready (critical).",
						  "How long received WAL has waited to be replayed; -1 (the default) turns it off."),
		INT_VALUE(&ph_replica_max_delay_ms, -1, -1, INT_MAX, GUC_UNIT_MS)},
		{SETTING("pg_health.replica_stream_grace",
				 "Time a standby may go without streaming before it is not ready (critical).",
				 "-1 does not require streaming (a standby fed from the archive)."),
		INT_VALUE(&ph_replica_stream_grace_ms, 30000, -1, INT_MAX, GUC_UNIT_MS)}},
		.evaluate = check_replication,
	},
	{
		.name = "sync_standbys",
		FIGURE(PH_UNIT_COUNT, 1),
		.on = PH_CHECK_ON_PRIMARY,
		.elsewhere = "a standby: synchronous standbys are a primary's concern",
		.critical = {SETTING("pg_health.min_sync_standbys",
							 "Synchronous standbys a primary needs to be ready; 0 (the default) turns it off.",
							 NULL),
		INT_VALUE(&ph_min_sync_standbys, 0, 0, 1000, 0)},
		.evaluate = check_sync_standbys,
	},
	{
		.name = "replication_slots",
		FIGURE(PH_UNIT_BYTES, 1),	/* WAL the worst inactive slot retains */
		.warning = {SETTING("pg_health.slot_retained_warning",
							"WAL retained by an inactive replication slot above which there is a warning.",
							"-1 turns it off."),
		INT_VALUE(&ph_slot_retained_warning_kb, 1024 * 1024, -1, INT_MAX, GUC_UNIT_KB)},
		.evaluate = check_replication_slots,
	},
	{
		.name = "accepting",
		FIGURE(PH_UNIT_SECONDS, 0.001), /* unanswered for, in ms */
		.critical = {SETTING("pg_health.accept_timeout",
							 "Time without an answer to a new connection after which the accepting check is critical.",
							 "The accept probe connects as a client would and waits for the backend's answer."),
		INT_VALUE(&ph_accept_timeout_ms, 5000, 100, INT_MAX, GUC_UNIT_MS)},
		.also = {{SETTING("pg_health.accept_probe_interval",
						  "How often pg_health opens a connection to its own server to see that it is accepted.",
						  "0 turns the accept probe (and the accepting check) off."),
		INT_VALUE(&ph_accept_probe_interval_ms, 1000, 0, 3600 * 1000, GUC_UNIT_MS)}},
		.evaluate = check_accepting,
	},
	{
		.name = "commit_path",
		FIGURE(PH_UNIT_SECONDS, 0.001), /* the longest commit wait, in ms */
		.on = PH_CHECK_ON_PRIMARY,
		.elsewhere = "a standby: commits are a primary's",
		.warning = {SETTING("pg_health.commit_wait_warning",
							"Time a commit may wait for synchronous standbys or for WAL before the commit_path check warns.",
							"0 turns it off."),
		INT_VALUE(&ph_commit_wait_warning_ms, 1000, 0, INT_MAX, GUC_UNIT_MS)},
		.critical = {SETTING("pg_health.commit_wait_critical",
							 "Time a commit may wait for synchronous standbys or for WAL before the commit_path check is critical.",
							 "Critical takes the server out of /primary (writes) only; 0 turns it off."),
		INT_VALUE(&ph_commit_wait_critical_ms, 10000, 0, INT_MAX, GUC_UNIT_MS)},
		.evaluate = check_commit_path,
	},
	{
		.name = "disk",
		FIGURE(PH_UNIT_RATIO, 0.01),	/* percent used of the fullest
										 * filesystem */
		.warning = {SETTING("pg_health.disk_used_warning",
							"Percent used of a filesystem holding data, pg_wal or a tablespace at which the disk check warns.",
							"0 turns it off."),
		INT_VALUE(&ph_disk_used_warning, 90, 0, 100, 0)},
		.critical = {SETTING("pg_health.disk_used_critical",
							 "Percent used of such a filesystem at which the disk check is critical.",
							 "0 (the default) turns it off: the check is critical when writes fail for lack of space, or when pg_wal is about to fill (pg_health.wal_free_critical)."),
		INT_VALUE(&ph_disk_used_critical, 0, 0, 100, 0)},
		.also = {{SETTING("pg_health.disk_full_warning",
						  "Warn when a filesystem is full within this time at its recent growth.",
						  "The growth is measured over the history ring's span; 0 turns it off."),
		INT_VALUE(&ph_disk_full_warning_s, 3600, 0, INT_MAX, GUC_UNIT_S)},
		{SETTING("pg_health.wal_free_critical",
				 "Free space on pg_wal's filesystem below which the disk check is critical.",
				 "A full pg_wal stops the server (PANIC); 0 turns it off."),
		INT_VALUE(&ph_wal_free_critical_mb, 256, 0, INT_MAX, GUC_UNIT_MB)}},
		.evaluate = check_disk,
	},
	{
		.name = "archiver",
		FIGURE(PH_UNIT_SECONDS, 1), /* failing for */
		.warning = {SETTING("pg_health.archive_failing_warning",
							"Time archiving may fail before the archiver check warns.",
							"It is critical when archiving fails and pg_wal's filesystem is short of room; 0 warns at the first failure."),
		INT_VALUE(&ph_archive_failing_warning_s, 60, 0, INT_MAX, GUC_UNIT_S)},
		.evaluate = check_archiver,
	},
	{
		.name = "wraparound",
		FIGURE(PH_UNIT_RATIO, 0.01),	/* percent of the way to the stop
										 * limit */
		.on = PH_CHECK_ON_PRIMARY,
		.elsewhere = "a standby: transaction IDs are assigned by the primary",
		.warning = {SETTING("pg_health.wraparound_warning",
							"Percent of the way to the XID or MultiXact stop limit at which the wraparound check warns.",
							"0 turns it off."),
		INT_VALUE(&ph_wraparound_warning, 50, 0, 100, 0)},
		.critical = {SETTING("pg_health.wraparound_critical",
							 "Percent of the way to the XID or MultiXact stop limit at which the wraparound check is critical.",
							 "It is critical past the server's own warn limit too; critical takes the server out of /primary (writes) only.  0 turns the percentage off."),
		INT_VALUE(&ph_wraparound_critical, 95, 0, 100, 0)},
		.evaluate = check_wraparound,
	},
	{
		.name = "replay",
		FIGURE(PH_UNIT_SECONDS, 1), /* stalled for */
		.on = PH_CHECK_ON_STANDBY,
		.elsewhere = "a primary: it replays nothing",
		.warning = {SETTING("pg_health.replay_stall_warning",
							"Time replay may stand still with received WAL waiting before the replay check warns.",
							"0 turns it off."),
		INT_VALUE(&ph_replay_stall_warning_s, 30, 0, INT_MAX, GUC_UNIT_S)},
		.critical = {SETTING("pg_health.replay_stall_critical",
							 "Time replay may stand still with received WAL waiting before the replay check is critical.",
							 "0 turns it off."),
		INT_VALUE(&ph_replay_stall_critical_s, 300, 0, INT_MAX, GUC_UNIT_S)},
		.evaluate = check_replay,
	},
	{
		.name = "cluster",
		FIGURE(PH_UNIT_COUNT, 1),	/* reachable primaries */
		.also = {{SETTING("pg_health.cluster_min_standbys",
						  "Ready standbys the cluster should have; fewer make the cluster check warn (or critical: pg_health.cluster_min_standbys_level).",
						  "0 (the default) turns it off."),
		INT_VALUE(&ph_cluster_min_standbys, 0, 0, PH_MAX_MEMBERS, 0)}},
		.evaluate = check_cluster,
	},
};

/* room beside them for custom_checks and poolers, which appear only past their limits */
StaticAssertDecl(lengthof(check_table) + 2 <= PH_BUILTIN_CHECKS,
				 "PH_BUILTIN_CHECKS has no room for every row of check_table");

static void
define_setting(const PhCheckSetting *s)
{
	if (s->name == NULL)
		return;
	if (s->real_var != NULL)
	{
		Assert(*s->real_var == s->boot);
		DefineCustomRealVariable(s->name, s->short_desc, s->long_desc, s->real_var,
								 s->boot, s->min, s->max,
								 PGC_SIGHUP, s->unit, NULL, NULL, NULL);
	}
	else
	{
		Assert(*s->var == (int) s->boot);
		DefineCustomIntVariable(s->name, s->short_desc, s->long_desc, s->var,
								(int) s->boot, (int) s->min, (int) s->max,
								PGC_SIGHUP, s->unit, NULL, NULL, NULL);
	}
}

/* Every setting of every row: its thresholds, then the others it reads. */
void
ph_define_check_table_settings(void)
{
	for (int i = 0; i < (int) lengthof(check_table); i++)
	{
		const PhCheckDef *def = &check_table[i];

		define_setting(&def->warning);
		define_setting(&def->critical);
		for (int k = 0; k < (int) lengthof(def->also); k++)
			define_setting(&def->also[k]);
	}
}

static bool
judges(const PhCheckDef *def, bool in_recovery)
{
	return def->on == PH_CHECK_ON_ANY ||
		(def->on == PH_CHECK_ON_STANDBY) == in_recovery;
}

/*
 * One row of the sample per row of the table, in its order.  On a server a
 * check does not judge, its row is ok with no figure, and says why.
 */
void
ph_run_check_table(PhSnapshot *snap, const PhPoolTable *pools)
{
	PhCheckInput in = {snap, pools};

	for (int i = 0; i < (int) lengthof(check_table); i++)
	{
		const PhCheckDef *def = &check_table[i];
		PhCheck    *c = &snap->checks[snap->nchecks++];

		Assert(snap->nchecks <= PH_MAX_CHECKS);
		if (judges(def, snap->in_recovery))
			def->evaluate(c, def, &in);
		else
		{
			ph_init_check(c, def->name, get_float8_nan());
			strlcpy(c->detail, def->elsewhere, sizeof(c->detail));
		}
	}
}

/*
 * The unit of a check's figure (docs/checks.md gives them), and the factor
 * that takes the figure to the base unit: a row's from the table; the
 * sampler's age is in milliseconds, a component's silence and a pooler's
 * wait in seconds; the rest (role, custom:<name>, custom_checks, poolers)
 * are counts or 1/0 flags.
 */
PhCheckUnit
ph_check_unit(const char *name, bool in_recovery, double *scale)
{
	for (int i = 0; i < (int) lengthof(check_table); i++)
		if (strcmp(name, check_table[i].name) == 0)
		{
			const PhCheckFigure *f = &check_table[i].figure[in_recovery ? 1 : 0];

			*scale = f->scale;
			return f->unit;
		}
	*scale = 1;
	if (strcmp(name, "sampler") == 0)
	{
		*scale = 0.001;
		return PH_UNIT_SECONDS;
	}
	if (strncmp(name, "component:", 10) == 0 || strncmp(name, "pooler:", 7) == 0)
		return PH_UNIT_SECONDS;
	return PH_UNIT_COUNT;
}

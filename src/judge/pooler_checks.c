/*
 * pooler_checks.c -- judging the connection poolers in front of the server
 * (judge).  What the pooler worker read from each PgBouncer's admin console
 * (pooler_worker.c) becomes one check, "pooler:<name>": critical when the oldest
 * client waiting for a server connection has waited longer than
 * pg_health.pooler_wait_critical, or when the pooler has not answered for
 * longer than pg_health.pooler_grace; a warning above
 * pg_health.pooler_wait_warning, near max_client_conn, or while polls fail
 * within the grace (docs/checks.md, "pooler:<name>").
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/float.h"
#include "utils/guc.h"

#include "judge/pooler_checks.h"
#include "judge/verdict.h"

int			ph_pooler_wait_warning_ms = 1000;
int			ph_pooler_wait_critical_ms = 5000;
int			ph_pooler_grace_ms = 10000;
int			ph_pooler_clients_warning = 90;

void
ph_define_pooler_check_settings(void)
{
	DefineCustomIntVariable("pg_health.pooler_wait_warning",
							"Wait of a pooler's oldest waiting client that makes its pooler check warn.",
							"0 turns the warning off.",
							&ph_pooler_wait_warning_ms,
							1000, 0, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.pooler_wait_critical",
							"Wait of a pooler's oldest waiting client that makes its pooler check critical.",
							"0 turns it off.",
							&ph_pooler_wait_critical_ms,
							5000, 0, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.pooler_grace",
							"Time a pooler may go unanswered before its check is critical.",
							"Until then, failed polls only warn: a pooler that restarts is not an outage.",
							&ph_pooler_grace_ms,
							10000, 0, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.pooler_clients_warning",
							"Share of a pooler's max_client_conn in use at which its check warns.",
							"Percent; 0 turns it off.",
							&ph_pooler_clients_warning,
							90, 0, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
}

static void
pool_name(StringInfo s, const PhPoolerPool *pool)
{
	if (pool->folded > 0)
		appendStringInfo(s, "%d other pools", pool->folded);
	else
		appendStringInfo(s, "pool %s/%s", pool->database, pool->user);
}

/*
 * One check per pooler, "pooler:<name>"; its value is the longest wait in
 * seconds.  Polls that fail, or no poll at all (the pooler worker gone or
 * stuck), turn it critical once the last answer is older than the grace;
 * one never answered counts from when it was first polled (or listed), so
 * that a restart of the server or of the worker is no silence.
 */
void
ph_check_pooler(PhCheck *c, const PhPooler *p, pid_t poller_pid, TimestampTz now)
{
	char		name[PH_NAME_LEN];
	StringInfoData d;

	/*
	 * since its last answer, or since it was first polled (a restart is no
	 * silence)
	 */
	TimestampTz silent_since = Max(p->answered_at, p->watched_since);
	double		silent = ph_age_seconds(silent_since, now);
	bool		beyond_grace = now - silent_since > (int64) ph_pooler_grace_ms * 1000;
	double		wait_s = p->max_wait_us / 1e6;

	snprintf(name, sizeof(name), "pooler:%s", p->name);
	ph_init_check(c, name, p->answered_at != 0 ? wait_s : get_float8_nan());
	if (ph_pooler_wait_warning_ms > 0)
		c->warning_threshold = ph_pooler_wait_warning_ms / 1000.0;
	if (ph_pooler_wait_critical_ms > 0)
		c->critical_threshold = ph_pooler_wait_critical_ms / 1000.0;
	initStringInfo(&d);

	if (p->failing_since != 0 || p->answered_at == 0 || beyond_grace)
	{
		const char *why = p->error[0] ? p->error :
			poller_pid == 0 ? "the pg_health pooler worker is not running" :
			p->polled_at == 0 ? "not polled yet" : "no answer";

		c->status = beyond_grace ? PH_CHECK_CRITICAL : PH_CHECK_WARNING;
		if (p->answered_at == 0)
			appendStringInfo(&d, "pooler \"%s\" has not answered since it was first polled %.0f s ago: %s",
							 p->name, silent, why);
		else
			appendStringInfo(&d, "pooler \"%s\" unreachable: no answer for %.0f s: %s",
							 p->name, silent, why);
		if (!beyond_grace)
			appendStringInfo(&d, " (critical after pg_health.pooler_grace, %d s)",
							 ph_pooler_grace_ms / 1000);
	}
	else
	{
		const PhPoolerPool *worst = p->worst_pool >= 0 ? &p->pools[p->worst_pool] : NULL;

		c->status = PH_CHECK_OK;
		if (ph_pooler_wait_critical_ms > 0 && p->max_wait_us > (int64) ph_pooler_wait_critical_ms * 1000)
			c->status = PH_CHECK_CRITICAL;
		else if (ph_pooler_wait_warning_ms > 0 && p->max_wait_us > (int64) ph_pooler_wait_warning_ms * 1000)
			c->status = PH_CHECK_WARNING;
		if (p->clients_waiting > 0 && worst != NULL)
		{
			appendStringInfo(&d, "pooler \"%s\": %d client(s) waiting for a server connection; ",
							 p->name, p->clients_waiting);
			pool_name(&d, worst);
			appendStringInfo(&d, ": %d waiting, the oldest for %.1f s (%d of %d server connections in use)",
							 worst->cl_waiting, worst->maxwait_us / 1e6,
							 worst->sv_active, worst->pool_size);
			if (c->status != PH_CHECK_OK)
				appendStringInfoString(&d, ": raise its pool_size, or find what holds its server connections");
		}
		else
			appendStringInfo(&d, "pooler \"%s\": no client waiting", p->name);
		if (p->max_client_conn > 0)
		{
			double		pct = 100.0 * p->client_connections / p->max_client_conn;

			appendStringInfo(&d, "; %d of max_client_conn %d client connections",
							 p->client_connections, p->max_client_conn);
			if (ph_pooler_clients_warning > 0 && pct >= ph_pooler_clients_warning)
			{
				if (c->status == PH_CHECK_OK)
					c->status = PH_CHECK_WARNING;
				appendStringInfo(&d, " (%.0f%%: new clients are refused at max_client_conn)", pct);
			}
		}
	}
	strlcpy(c->detail, d.data, sizeof(c->detail));
	pfree(d.data);
}

/* More poolers in health.pooler_config than are polled (a restore): say so. */
void
ph_check_pooler_excess(PhCheck *c, const PhPoolerTable *t)
{
	ph_init_check(c, "poolers", t->excess);
	c->status = PH_CHECK_WARNING;
	snprintf(c->detail, sizeof(c->detail),
			 "%d pooler(s) in health.pooler_config beyond the %d that are polled: "
			 "drop those no longer used with health.drop_pooler()",
			 t->excess, PH_MAX_POOLERS);
}

/*
 * The client connections of one pool at a pooler (a NULL or empty database
 * or user: any), for a component that counts its pool there; -1 when the
 * pooler is not configured, has not answered within its grace, or has more
 * pools than are kept and the one asked for may be among those folded.
 */
int
ph_pooler_pool_clients(const PhPoolerTable *t, const char *pooler, const char *database,
					   const char *user, TimestampTz now)
{
	for (int i = 0; i < t->n; i++)
	{
		const PhPooler *p = &t->items[i];
		int			clients = 0;
		bool		exact = database && database[0] && user && user[0];
		bool		found = false;
		bool		folded = false;

		if (strcmp(p->name, pooler) != 0)
			continue;
		if (p->answered_at == 0 ||
			now - p->answered_at > (int64) ph_pooler_grace_ms * 1000)
			return -1;

		for (int k = 0; k < p->npools; k++)
		{
			const PhPoolerPool *pool = &p->pools[k];

			if (pool->folded > 0)
			{
				folded = true;
				continue;
			}
			if ((database && database[0] && strcmp(pool->database, database) != 0) ||
				(user && user[0] && strcmp(pool->user, user) != 0))
				continue;
			found = true;
			clients += pool->cl_active + pool->cl_waiting;
		}
		/* its pool may be among those folded away: not known, rather than 0 */
		if (folded && !(exact && found))
			return -1;
		return clients;
	}
	return -1;
}

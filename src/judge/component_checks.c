/*
 * component_checks.c -- judging application components (judge): which are
 * required (pg_health.required_components), which went silent for longer
 * than their TTL, how many connections their pools hold, and one check row
 * per component.  What the components reported comes from components.c.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "ground/guard.h"
#include "judge/admission.h"
#include "judge/component_checks.h"
#include "judge/pooler_checks.h"
#include "judge/verdict.h"

static bool ph_check_required_components(char **newval, void **extra, GucSource source);

char	   *ph_required_components = NULL;
int			ph_component_ttl_s = 30;

void
ph_define_component_settings(void)
{
	DefineCustomStringVariable("pg_health.required_components",
							   "Application components that must report ready before the server is started and ready.",
							   "Comma-separated component names.",
							   &ph_required_components,
							   "",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   ph_check_required_components, NULL, NULL);
	DefineCustomIntVariable("pg_health.component_ttl",
							"Time without a report or heartbeat after which a component counts as lost.",
							"0 turns it off; a component's own ttl (health.configure_component) overrides it.",
							&ph_component_ttl_s,
							30, 0, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
}

static const char *const component_state_names[] = {
	[PH_COMP_NONE] = NULL,
	[PH_COMP_STARTING] = "starting",
	[PH_COMP_READY] = "ready",
	[PH_COMP_DEGRADED] = "degraded",
	[PH_COMP_FAILED] = "failed",
	[PH_COMP_STOPPED] = "stopped",
	[PH_COMP_LOST] = "lost",
};

const char *
ph_component_state_name(PhComponentState state)
{
	return component_state_names[state];
}

/* GUC check hook: every name valid, no more than the table holds. */
static bool
ph_check_required_components(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *names;
	ListCell   *lc;

	if (!SplitGUCList(raw, ',', &names))
	{
		GUC_check_errdetail("List syntax is invalid.");
		return false;
	}
	foreach(lc, names)
	{
		const char *why;

		if (!ph_valid_name((char *) lfirst(lc), &why))
		{
			GUC_check_errdetail("Component name \"%s\" %s.", (char *) lfirst(lc), why);
			GUC_check_errhint("Component names are 1 to 63 bytes of lower-case letters, digits, '_', '.' and '-'.");
			return false;
		}
	}
	if (list_length(names) > PH_MAX_COMPONENTS_LIMIT)
	{
		GUC_check_errdetail("At most %d components can be required.", PH_MAX_COMPONENTS_LIMIT);
		return false;
	}
	return true;
}

/*
 * The sampler: the required components (in the GUC's order, reported or
 * not), then the others that reported, with the TTL applied.  Pool counts
 * start at 0 and are added by ph_count_component_pools.
 */
void
ph_component_results(PhComponentTable *t, const PhComponent *comps, int ncomps,
					 TimestampTz now)
{
	char	   *raw = pstrdup(ph_required_components ? ph_required_components : "");
	List	   *required = NIL;
	ListCell   *lc;
	bool	   *listed = palloc0(sizeof(bool) * Max(ncomps, 1));

	t->n = 0;
	if (!SplitGUCList(raw, ',', &required))
		required = NIL;			/* the check hook refused it; cannot happen */

	foreach(lc, required)
	{
		const char *name = lfirst(lc);
		PhComponentResult *r;
		bool		dup = false;

		for (int k = 0; k < t->n; k++)
			dup |= strcmp(t->items[k].c.name, name) == 0;
		if (dup || t->n >= (int) lengthof(t->items))
			continue;
		r = &t->items[t->n++];
		memset(r, 0, sizeof(*r));
		r->required = true;
		strlcpy(r->c.name, name, NAMEDATALEN);
		for (int i = 0; i < ncomps; i++)
		{
			if (strcmp(comps[i].name, name) == 0)
			{
				r->c = comps[i];
				listed[i] = true;
			}
		}
	}
	for (int i = 0; i < ncomps && t->n < (int) lengthof(t->items); i++)
	{
		PhComponentResult *r;

		if (listed[i])
			continue;
		r = &t->items[t->n++];
		memset(r, 0, sizeof(*r));
		r->c = comps[i];
	}

	for (int k = 0; k < t->n; k++)
	{
		PhComponentResult *r = &t->items[k];

		r->ttl_s = r->c.in_use && r->c.ttl_s >= 0 ? r->c.ttl_s : ph_component_ttl_s;
		if (!r->c.in_use)
			r->effective = PH_COMP_NONE;
		else if (r->ttl_s > 0 && now - r->c.last_heartbeat > (int64) r->ttl_s * USECS_PER_SEC)
			r->effective = PH_COMP_LOST;
		else
			r->effective = r->c.state;
		r->pool_at_pooler = r->c.in_use && r->c.pooler[0] != '\0';
		r->pool_unknown = false;
		r->pool_connections = r->c.in_use && r->c.pool_application_name[0] && !r->pool_at_pooler ?
			0 : -1;
	}
}

/*
 * The sampler, for the components that count their pool at a pooler: the
 * client connections of that pool (its database and user, by default the
 * component's for_database and for_user), as the pooler last answered.
 */
void
ph_count_component_pooler_pools(PhComponentTable *t, const PhPoolerTable *poolers,
								TimestampTz now)
{
	for (int k = 0; k < t->n; k++)
	{
		PhComponentResult *r = &t->items[k];
		const PhComponent *c = &r->c;

		if (!r->pool_at_pooler)
			continue;
		r->pool_connections =
			ph_pooler_pool_clients(poolers, c->pooler,
								   c->pooler_database[0] ? c->pooler_database : c->for_database,
								   c->pooler_user[0] ? c->pooler_user : c->for_user, now);
		r->pool_unknown = r->pool_connections < 0;
	}
}

/* Where a component's pool is counted, for its check's detail. */
static void
describe_pool(StringInfo d, const PhComponentResult *r)
{
	const PhComponent *c = &r->c;

	if (!r->pool_at_pooler)
	{
		appendStringInfo(d, "pool (application_name \"%s\")", c->pool_application_name);
		return;
	}
	appendStringInfo(d, "pool at pooler \"%s\" (database %s, user %s)", c->pooler,
					 c->pooler_database[0] ? c->pooler_database :
					 c->for_database[0] ? c->for_database : "any",
					 c->pooler_user[0] ? c->pooler_user :
					 c->for_user[0] ? c->for_user : "any");
}

/*
 * Its own pool, as the application reported it (health.report_pool): clients
 * waiting for a connection warn, and a wait longer than its pool_max_wait is
 * critical.  A report older than the component's TTL is not judged.
 */
static void
check_app_pool(PhCheck *ch, StringInfo d, const PhComponentResult *r, TimestampTz now)
{
	const PhComponent *c = &r->c;

	if (!c->in_use || c->app_pool_at == 0)
		return;
	if (r->ttl_s > 0 && now - c->app_pool_at > (int64) r->ttl_s * USECS_PER_SEC)
	{
		appendStringInfo(d, "; its own pool was last reported %.0f s ago", ph_age_seconds(c->app_pool_at, now));
		return;
	}
	appendStringInfo(d, "; its own pool: %d in use, %d idle, %d waiting, max %d",
					 c->app_in_use, c->app_idle, c->app_waiting, c->app_max_size);
	if (c->app_max_wait_us >= 0)
		appendStringInfo(d, ", the longest wait %.1f s", c->app_max_wait_us / 1e6);
	if (c->app_waiting == 0)
		return;
	if (c->pool_max_wait_ms > 0 && c->app_max_wait_us > (int64) c->pool_max_wait_ms * 1000)
	{
		ch->status = PH_CHECK_CRITICAL;
		appendStringInfo(d, ", longer than its pool_max_wait (%.1f s): its pool is too small "
						 "for its load, or its connections are held too long",
						 c->pool_max_wait_ms / 1000.0);
	}
	else if (ch->status == PH_CHECK_OK)
		ch->status = PH_CHECK_WARNING;
}

/* The sampler, for every pool: add its sessions to the components it serves. */
void
ph_count_component_pools(PhComponentTable *t, const char *application_name, int sessions)
{
	for (int k = 0; k < t->n; k++)
	{
		PhComponentResult *r = &t->items[k];

		if (r->pool_connections >= 0 &&
			strcmp(r->c.pool_application_name, application_name) == 0)
			r->pool_connections += sessions;
	}
}

/*
 * One check per component: "component:<name>".  A required component that is
 * not ready or degraded (never reported, starting, failed, stopped, or lost
 * because it went silent for longer than its TTL), or whose pool holds fewer
 * connections than its minimum, is critical; degraded is a warning.  For a
 * component that is not required, critical becomes a warning.
 */
void
ph_check_component(PhCheck *c, PhComponentResult *r, TimestampTz now)
{
	const PhComponent *comp = &r->c;
	PhComponentState st = (PhComponentState) r->effective;
	double		silent = comp->in_use ? ph_age_seconds(comp->last_heartbeat, now) : 0;
	bool		pool_short = comp->pool_min > 0 && r->pool_connections >= 0 &&
		r->pool_connections < comp->pool_min;
	char		name[PH_NAME_LEN];
	StringInfoData d;

	snprintf(name, sizeof(name), "component:%s", comp->name);
	ph_init_check(c, name, comp->in_use ? silent : get_float8_nan());
	if (r->ttl_s > 0)
		c->critical_threshold = r->ttl_s;

	initStringInfo(&d);
	switch (st)
	{
		case PH_COMP_NONE:
			c->status = PH_CHECK_CRITICAL;
			appendStringInfo(&d, "required component \"%s\" has not reported since the server started: "
							 "start it, or check that it calls health.set_component_state('%s', 'ready')",
							 comp->name, comp->name);
			break;
		case PH_COMP_LOST:
			c->status = PH_CHECK_CRITICAL;
			appendStringInfo(&d, "component \"%s\" is lost: no report or heartbeat for %.0f s (TTL %d s); "
							 "its last state was %s", comp->name, silent, r->ttl_s,
							 ph_component_state_name((PhComponentState) comp->state));
			break;
		default:
			c->status = st == PH_COMP_READY ? PH_CHECK_OK :
				st == PH_COMP_DEGRADED ? PH_CHECK_WARNING : PH_CHECK_CRITICAL;
			appendStringInfo(&d, "component \"%s\" is %s, for %.0f s", comp->name,
							 ph_component_state_name(st),
							 ph_age_seconds(comp->state_since, now));
			break;
	}
	if (comp->in_use && comp->detail[0])
		appendStringInfo(&d, ": %s", comp->detail);
	if (pool_short)
	{
		c->status = PH_CHECK_CRITICAL;
		appendStringInfoString(&d, "; its ");
		describe_pool(&d, r);
		appendStringInfo(&d, " holds %d of the %d connections it needs",
						 r->pool_connections, comp->pool_min);
	}
	else if (r->pool_unknown)
	{
		if (comp->pool_min > 0 && c->status == PH_CHECK_OK)
			c->status = PH_CHECK_WARNING;
		appendStringInfoString(&d, "; its ");
		describe_pool(&d, r);
		appendStringInfo(&d, " is not known: the pooler has not answered within pg_health.pooler_grace");
	}
	else if (r->pool_connections >= 0 && !r->pool_at_pooler)
		appendStringInfo(&d, "; pool \"%s\": %d connection(s)%s", comp->pool_application_name,
						 r->pool_connections,
						 comp->pool_min > 0 ? psprintf(", minimum %d", comp->pool_min) : "");
	else if (r->pool_connections >= 0)
	{
		appendStringInfoString(&d, "; ");
		describe_pool(&d, r);
		appendStringInfo(&d, ": %d client connection(s)%s", r->pool_connections,
						 comp->pool_min > 0 ? psprintf(", minimum %d", comp->pool_min) : "");
	}
	check_app_pool(c, &d, r, now);
	if (r->admit == PH_ADMIT_NO)
	{
		/* a lasting "no" (its role cannot log in, ...): it cannot work */
		if (r->admit_lasting)
			c->status = PH_CHECK_CRITICAL;
		else if (c->status == PH_CHECK_OK)
			c->status = PH_CHECK_WARNING;
		appendStringInfo(&d, "; a new connection as role \"%s\" to database \"%s\" would be refused%s: %s",
						 comp->for_user[0] ? comp->for_user : "(any)",
						 comp->for_database[0] ? comp->for_database : "(any)",
						 r->admit_lasting ? "" : " (its pool cannot grow)", r->admission);
	}
	if (!r->required && c->status != PH_CHECK_OK)
	{
		c->status = PH_CHECK_WARNING;
		appendStringInfoString(&d, " (not required: it only warns)");
	}
	strlcpy(c->detail, d.data, sizeof(c->detail));
	pfree(d.data);
	r->status = c->status;
}

/* Every required component has been ready at least once since it registered. */
bool
ph_components_started(const PhComponentTable *t)
{
	for (int k = 0; k < t->n; k++)
		if (t->items[k].required && t->items[k].c.first_ready_at == 0)
			return false;
	return true;
}

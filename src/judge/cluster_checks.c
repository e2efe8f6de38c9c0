/*
 * cluster_checks.c -- judging the cluster (judge): the "cluster" check, from
 * the members this node's poller asked for their identity (cluster_poll.c):
 * exactly one reachable primary, none, or two and more (split brain);
 * members unreachable, of another cluster, or not resolvable; this node
 * reaching fewer than half of them; fewer ready standbys than
 * pg_health.cluster_min_standbys.  By default the check never makes this
 * node not ready (a healthy standby must not leave a load balancer because
 * another node is down: pg_health.cluster_in_ready); with
 * pg_health.cluster_fence, a primary that sees a primary on a newer
 * timeline, or reaches fewer than half of the members, leaves /primary.
 * docs/cluster.md gives the rules.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "judge/cluster_checks.h"
#include "judge/verdict.h"

int			ph_cluster_min_standbys = 0;
int			ph_cluster_min_standbys_level = PH_CHECK_WARNING;
bool		ph_cluster_in_ready = false;
bool		ph_cluster_fence = false;

static const struct config_enum_entry level_options[] = {
	{"warning", PH_CHECK_WARNING, false},
	{"critical", PH_CHECK_CRITICAL, false},
	{NULL, 0, false}
};

void
ph_define_cluster_check_settings(void)
{
	DefineCustomEnumVariable("pg_health.cluster_min_standbys_level",
							 "What fewer ready standbys than pg_health.cluster_min_standbys make the cluster check: warning or critical.",
							 "Critical counts in this node's verdict only with pg_health.cluster_in_ready; /cluster's status code is about the primary alone.",
							 &ph_cluster_min_standbys_level,
							 PH_CHECK_WARNING, level_options,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_health.cluster_in_ready",
							 "Whether the cluster check's critical findings make this node not ready.",
							 "Off (the default): the cluster check warns and informs, and /cluster answers for the cluster; fencing is apart (pg_health.cluster_fence).",
							 &ph_cluster_in_ready,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_health.cluster_fence",
							 "Whether a primary that may be stale leaves /primary.",
							 "A primary that sees a primary on a newer timeline, or reaches fewer than half of the members, answers 503 on /primary and health.ready('primary') false.",
							 &ph_cluster_fence,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
}

static const char *const member_state_names[] = {
	[PH_MEMBER_UNKNOWN] = "unknown",
	[PH_MEMBER_UP] = "up",
	[PH_MEMBER_DOWN] = "unreachable",
	[PH_MEMBER_FOREIGN] = "foreign",
	[PH_MEMBER_UNRESOLVED] = "unresolved",
};

const char *
ph_member_state_name(PhMemberState s)
{
	return s <= PH_MEMBER_UNRESOLVED ? member_state_names[s] : "unknown";
}

/*
 * The poller's table is stale: never polled, the poller gone, or its last
 * round older than the poller itself says it may be (three rounds late).
 * Nothing is judged from a stale table: no split brain, no fencing.
 */
bool
ph_cluster_stale(const PhClusterTable *t, TimestampTz now)
{
	return t->polled_at == 0 || t->poller_pid == 0 ||
		now - t->polled_at > (int64) t->stale_after_ms * 1000;
}

/* The cluster's figures, counted once for the check and for /cluster. */
void
ph_cluster_count(const PhClusterTable *t, PhClusterCount *n)
{
	bool		listed = false;

	memset(n, 0, sizeof(*n));
	n->most_advanced = -1;
	/* with members listed, a discovered primary informs, it is not counted */
	for (int i = 0; i < t->n; i++)
		listed = listed || !t->members[i].discovered;
	for (int i = 0; i < t->n; i++)
	{
		const PhMember *m = &t->members[i];
		XLogRecPtr	pos = Max(m->lsn, m->received_lsn);

		/* the same server as another member: counted there */
		if (m->same_as[0] != '\0')
			continue;
		n->servers++;
		/* the partition rule: the configured members (the poller says which) */
		if (m->counted)
		{
			n->resolvable++;

			/*
			 * reached: it answered, even as another cluster; and this node
			 * itself
			 */
			if (m->state == PH_MEMBER_UP || m->state == PH_MEMBER_FOREIGN || m->self)
				n->answered++;
		}
		if (m->state != PH_MEMBER_UP)
			continue;
		n->reachable++;
		if (m->recovering)
			continue;
		if (m->primary)
		{
			if (listed && m->discovered)
				continue;
			if (n->primaries < PH_MAX_MEMBERS)
				n->primary[n->primaries] = i;
			n->primaries++;
		}
		else
		{
			if (m->ready)
				n->ready_standbys++;
			if (n->most_advanced < 0 ||
				pos > Max(t->members[n->most_advanced].lsn,
						  t->members[n->most_advanced].received_lsn))
				n->most_advanced = i;
		}
	}
}

void
ph_check_cluster(PhCheck *c, const PhClusterTable *t, bool in_recovery, uint32 own_timeline,
				 TimestampTz now)
{
	PhClusterCount n;
	StringInfoData s;
	bool		partitioned;
	bool		fenced = false;

	initStringInfo(&s);
	if (t->n == 0)
	{
		ph_init_check(c, "cluster", get_float8_nan());
		appendStringInfoString(&s, "off: pg_health.cluster_members is empty");
		strlcpy(c->detail, s.data, sizeof(c->detail));
		pfree(s.data);
		return;
	}
	ph_cluster_count(t, &n);
	ph_init_check(c, "cluster", (double) n.primaries);
	if (t->polled_at == 0)
	{
		appendStringInfo(&s, "%d member(s), not polled yet%s", t->n,
						 t->poller_pid == 0 ? ": the pg_health poller is not running" : "");
		strlcpy(c->detail, s.data, sizeof(c->detail));
		pfree(s.data);
		return;
	}
	if (ph_cluster_stale(t, now))
	{
		c->value = get_float8_nan();
		c->status = PH_CHECK_WARNING;
		c->informational = !ph_cluster_in_ready;
		appendStringInfo(&s, "the cluster view is %.0f s old: the pg_health poller %s; nothing is "
						 "judged from it (no split brain, no fencing) until it polls again",
						 ph_age_seconds(t->polled_at, now),
						 t->poller_pid == 0 ? "is not running (see the server log)" :
						 "is not keeping up");
		strlcpy(c->detail, s.data, sizeof(c->detail));
		pfree(s.data);
		return;
	}
	partitioned = n.answered * 2 < n.resolvable;

	if (n.primaries >= 2)
	{
		c->status = PH_CHECK_CRITICAL;
		appendStringInfoString(&s, "split brain:");
		for (int k = 0; k < n.primaries && k < PH_MAX_MEMBERS; k++)
			appendStringInfo(&s, "%s %s (timeline %u)", k == 0 ? "" : (k == n.primaries - 1 ? " and" : ","),
							 t->members[n.primary[k]].name, t->members[n.primary[k]].timeline);
		appendStringInfoString(&s, " are all primary: writes to the older may be lost");
	}
	else if (n.primaries == 0)
	{
		c->status = PH_CHECK_CRITICAL;
		appendStringInfoString(&s, "no primary: writes fail");
		if (n.most_advanced >= 0)
		{
			const PhMember *m = &t->members[n.most_advanced];

			appendStringInfo(&s, "; the most advanced standby is %s (timeline %u, %X/%X)",
							 m->name, m->timeline,
							 LSN_FORMAT_ARGS(Max(m->lsn, m->received_lsn)));
		}
	}
	else
		appendStringInfo(&s, "one primary, %s (timeline %u)", t->members[n.primary[0]].name,
						 t->members[n.primary[0]].timeline);
	appendStringInfo(&s, "; %d of %d member(s) reachable, %d ready standby(s)",
					 n.reachable, n.servers, n.ready_standbys);
	if (t->excess > 0)
		appendStringInfo(&s, "; %d member(s) not polled (more than %d, or an entry too long)",
						 t->excess, PH_MAX_MEMBERS);
	if (partitioned)
	{
		if (c->status == PH_CHECK_OK)
			c->status = PH_CHECK_WARNING;
		appendStringInfo(&s, "; this node may be partitioned: it reaches %d of %d", n.answered,
						 n.resolvable);
	}
	if (ph_cluster_min_standbys > 0 && n.ready_standbys < ph_cluster_min_standbys)
	{
		if (c->status < ph_cluster_min_standbys_level)
			c->status = (uint8) ph_cluster_min_standbys_level;
		appendStringInfo(&s, "; fewer ready standbys than pg_health.cluster_min_standbys (%d)",
						 ph_cluster_min_standbys);
	}
	for (int i = 0; i < t->n; i++)
	{
		const PhMember *m = &t->members[i];

		if (m->state == PH_MEMBER_UP && !m->ready && !m->self)
		{
			/* another member's alias: said under that member's name */
			if (m->same_as[0] != '\0')
				continue;
			/* it answers, and says it is not ready: its own checks say why */
			if (c->status == PH_CHECK_OK)
				c->status = PH_CHECK_WARNING;
			appendStringInfo(&s, "; %s not ready", m->name);
			if (m->ready_since != 0)
				appendStringInfo(&s, " for %.0f s", ph_age_seconds(m->ready_since, now));
			continue;
		}
		if (m->state == PH_MEMBER_UP || m->state == PH_MEMBER_UNKNOWN)
			continue;
		if (c->status == PH_CHECK_OK)
			c->status = PH_CHECK_WARNING;
		appendStringInfo(&s, "; %s %s", m->name, ph_member_state_name((PhMemberState) m->state));
		if (m->state_since != 0)
			appendStringInfo(&s, " for %.0f s", ph_age_seconds(m->state_since, now));
		if (m->error[0])
			appendStringInfo(&s, " (%s)", m->error);
	}

	/*
	 * Fencing: this primary may be stale when another primary is on a newer
	 * timeline (it was promoted after us), or when this node reaches fewer
	 * than half of the members (the others may have promoted one).
	 */
	if (ph_cluster_fence && !in_recovery)
	{
		/*
		 * a configured member's word only: anyone may stream and be
		 * discovered
		 */
		for (int k = 0; k < n.primaries && k < PH_MAX_MEMBERS; k++)
			if (t->members[n.primary[k]].timeline > own_timeline &&
				!t->members[n.primary[k]].discovered)
				fenced = true;
		fenced = fenced || partitioned;
	}
	if (fenced)
	{
		c->status = PH_CHECK_CRITICAL;
		c->writes_only = true;
		appendStringInfoString(&s, "; fenced (pg_health.cluster_fence): this primary may be stale, /primary answers 503");
	}
	else
		c->informational = !ph_cluster_in_ready;
	strlcpy(c->detail, s.data, sizeof(c->detail));
	pfree(s.data);
}

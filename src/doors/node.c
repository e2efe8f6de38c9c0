/*
 * node.c -- this node's identity document (doors): GET /node, what other
 * nodes of a cluster (and anyone deciding which node is the primary) ask
 * for: its name, the system identifier it shares with its primary and
 * standbys, its timeline, its role and WAL position read at the time of the
 * request (not the last sample's), the verdict, the versions and its clock.
 * Compact and fixed in shape, so that a peer's parser can be strict and a
 * poll cheap.
 */
#include "postgres.h"

#include <unistd.h>

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "replication/walreceiver.h"
#include "replication/walsender_private.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "collect/cluster_poll.h"
#include "doors/fields.h"
#include "doors/node.h"
#include "ground/guard.h"
#include "ground/json.h"
#include "ground/shmem.h"
#include "judge/cluster_checks.h"
#include "judge/verdict.h"
#include "read/read.h"

#ifndef PH_LIBRARY_VERSION
#define PH_LIBRARY_VERSION "unknown"	/* built without the Makefile */
#endif

/*
 * The document.  Always 200: it describes the node whatever its verdict
 * (which it carries).
 */
/*
 * A primary's streaming standbys by application_name, "s1,s2": the
 * synchronous (and quorum) ones, or the others.  Whole names only: one that
 * does not fit, or has a comma (it could not be told apart), is left out,
 * and the list is then said to be cut (false).
 */
static bool
standby_names(const PhStandbyTable *t, bool sync, char *out, size_t len)
{
	bool		whole = true;

	out[0] = '\0';
	for (int k = 0; k < t->n; k++)
	{
		const PhStandby *sb = &t->items[k];
		bool		is_sync = sb->sync_state == PH_SYNC_SYNC || sb->sync_state == PH_SYNC_QUORUM;
		size_t		used = strlen(out);

		/* physical standbys that replay: not pg_receivewal, nor pg_basebackup */
		if (is_sync != sync || sb->state != WALSNDSTATE_STREAMING || XLogRecPtrIsInvalid(sb->replay_lsn))
			continue;
		if (strchr(sb->application_name, ',') != NULL ||
			used + (used > 0) + strlen(sb->application_name) >= len)
		{
			whole = false;
			continue;
		}
		if (used > 0)
			strlcat(out, ",", len);
		strlcat(out, sb->application_name, len);
	}
	return whole;
}

/* how many times name is in the list "s1,s2" */
static int
count_name(const char *list, const char *name)
{
	size_t		len = strlen(name);
	int			n = 0;

	while (*list != '\0')
	{
		const char *comma = strchr(list, ',');
		size_t		item = comma ? (size_t) (comma - list) : strlen(list);

		n += item == len && strncmp(list, name, len) == 0;
		list += item;
		if (*list == ',')
			list++;
	}
	return n;
}

void
ph_node_json(StringInfo buf)
{
	PhPageView	pv;
	PhJson		jj;
	PhJson	   *j = &jj;
	char		name[NAMEDATALEN];
	char		sysid[32];
	bool		in_recovery = ph_live_in_recovery();
	TimeLineID	tli = 0;
	XLogRecPtr	lsn;
	XLogRecPtr	received = InvalidXLogRecPtr;
	bool		crash = false;
	char		sync[PH_SYNC_NAMES_LEN];
	char		async[PH_SYNC_NAMES_LEN];
	char		instance[40];
	bool		whole;

	ph_read_page(&pv, PH_PART_STANDBYS, 0, 0);
	ph_node_name(name, sizeof(name));
	ph_node_instance(instance, sizeof(instance));
	whole = standby_names(pv.standbys, true, sync, sizeof(sync));
	whole = standby_names(pv.standbys, false, async, sizeof(async)) && whole;
	snprintf(sysid, sizeof(sysid), UINT64_FORMAT, GetSystemIdentifier());
	if (in_recovery)
	{
		/* crash recovery is neither role yet */
		crash = GetRecoveryState() == RECOVERY_STATE_CRASH;
		lsn = GetXLogReplayRecPtr(&tli);
		received = GetWalRcvFlushRecPtr(NULL, NULL);
	}
	else
	{
		lsn = GetXLogInsertRecPtr();
		tli = GetWALInsertionTimeLine();
	}

	ph_json_text_sink(j, buf);
	ph_json_open(j, false);
	ph_json_str(j, "name", name);
	/* a string: 64 bits do not survive every JSON parser as a number */
	ph_json_str(j, "system_identifier", sysid);
	ph_json_int(j, "timeline", tli);
	ph_json_str(j, "role", crash ? "recovering" : ph_server_name(in_recovery));
	ph_json_lsn(j, "lsn", lsn);
	ph_json_lsn(j, "received_lsn", received);

	/* a primary's streaming standbys, as of the last sample */
	ph_json_str(j, "sync_standbys", in_recovery ? NULL : sync);
	ph_json_str(j, "async_standbys", in_recovery ? NULL : async);
	/* a name left out of them: a standby in neither cannot tell which it is */
	if (in_recovery)
		ph_json_str(j, "standbys_cut", NULL);
	else
		ph_json_bool(j, "standbys_cut", !whole);
	ph_json_str(j, "instance", instance);
	ph_json_str(j, "status", ph_state_name(pv.verdict.state));
	ph_json_bool(j, "ready", pv.verdict.ready);
	ph_json_bool(j, "started", pv.verdict.started);
	ph_json_time(j, "sampled_at", pv.snap->generation > 0 ? pv.snap->sampled_at : 0);
	ph_json_str(j, "pg_health_version", PH_LIBRARY_VERSION);
	ph_json_str(j, "pg_version", GetConfigOption("server_version", false, false));
	ph_json_time(j, "now", GetCurrentTimestamp());
	ph_json_close(j);
	appendStringInfoChar(buf, '\n');
}

/*
 * The cluster as this node's poller last saw it, and its verdict from here:
 * the object GET /cluster answers and the report's "cluster".  *status
 * (when asked): 200 when the cluster can take writes -- exactly one
 * reachable primary (so no split brain) in a view that is not stale -- and
 * 503 otherwise, with the cluster check's reasons.
 */
void
ph_cluster_doc(PhJson *j, const PhSnapshot *snap, TimestampTz now, int *status)
{
	const PhClusterTable *t = &snap->cluster;
	PhClusterCount n;
	const PhCheck *check = NULL;
	const PhMember *primary = NULL;
	char		name[NAMEDATALEN];
	bool		stale = ph_cluster_stale(t, now);
	bool		ok;

	ph_cluster_count(t, &n);
	if (n.primaries == 1)
		primary = &t->members[n.primary[0]];
	for (int i = 0; i < snap->nchecks; i++)
		if (strcmp(snap->checks[i].name, "cluster") == 0)
			check = &snap->checks[i];
	ok = snap->generation > 0 && !stale && n.primaries == 1;
	if (status != NULL)
		*status = ok ? 200 : 503;
	ph_node_name(name, sizeof(name));

	ph_json_open(j, false);
	ph_json_bool(j, "ok", ok);
	ph_json_str(j, "node", name);
	ph_json_str(j, "status", check ? ph_check_status_name((PhCheckStatus) check->status) : NULL);
	ph_json_str(j, "detail", check ? check->detail : NULL);
	{
		int			discovered = 0;

		for (int i = 0; i < t->n; i++)
			discovered += t->members[i].discovered;
		ph_json_int(j, "members_configured", t->n - discovered);
		ph_json_int(j, "members_discovered", discovered);
	}
	ph_json_int(j, "reachable", n.reachable);
	ph_json_int(j, "primaries", n.primaries);
	ph_json_str(j, "primary", primary ? primary->name : NULL);
	ph_json_int(j, "ready_standbys", n.ready_standbys);
	ph_json_str(j, "most_advanced_standby",
				n.most_advanced >= 0 ? t->members[n.most_advanced].name : NULL);
	ph_json_time(j, "polled_at", t->polled_at);
	ph_json_bool(j, "stale", stale);
	ph_json_int(j, "members_not_polled", t->excess);
	ph_json_key(j, "members");
	ph_json_open(j, true);
	for (int i = 0; i < t->n; i++)
	{
		ph_json_open(j, false);
		ph_json_fields(j, ph_member_fields, ph_n_member_fields, &t->members[i], now, false);
		ph_json_close(j);
	}
	ph_json_close(j);
	ph_json_close(j);
}

/* GET /cluster: the document above, its status code */
void
ph_cluster_json(StringInfo buf, int *status)
{
	PhView		view;
	PhJson		jj;

	ph_read_view(&view, PH_ROLE_ANY, NULL, false);
	ph_json_text_sink(&jj, buf);
	ph_cluster_doc(&jj, view.snap, view.now, status);
	appendStringInfoChar(buf, '\n');
}

/*
 * GET /sync and /async, Patroni's names: 200 when this server is a standby,
 * ready for reads, and the one primary of this node's cluster view names it
 * (by its WAL receiver's application_name) among its synchronous or quorum
 * standbys -- /sync -- or does not -- /async.  503 otherwise, and when there
 * is no current view with one primary to ask (so no answer without
 * pg_health.cluster_members or discovery).
 */
void
ph_sync_json(StringInfo buf, bool want_sync, int *status)
{
	PhView		view;
	PhJson		jj;
	PhJson	   *j = &jj;
	PhClusterCount n;
	const PhClusterTable *t;
	const PhMember *primary = NULL;
	bool		in_recovery = ph_live_in_recovery();
	char		own[NAMEDATALEN];
	const char *reason = NULL;
	int			is_sync = -1;

	/* the verdict as /replica gives it */
	ph_read_view(&view, PH_ROLE_REPLICA, NULL, false);
	t = &view.snap->cluster;
	ph_cluster_count(t, &n);
	ph_walreceiver_name(own, sizeof(own));
	if (n.primaries == 1)
		primary = &t->members[n.primary[0]];
	if (!in_recovery)
		reason = "this server is not a standby";
	else if (!view.verdict.ready)
		reason = "this standby is not ready for reads (see /replica)";
	else if (t->n == 0)
		reason = "no cluster view: pg_health.cluster_members is empty (or discovery off)";
	else if (ph_cluster_stale(t, view.now))
		reason = "the cluster view is stale";
	else if (primary == NULL)
		reason = n.primaries == 0 ? "no primary in the cluster view" : "more than one primary (split brain)";
	else
	{
		int			as_sync = count_name(primary->sync_standbys, own);
		int			as_async = count_name(primary->async_standbys, own);

		/*
		 * By name: a name two standbys share ("walreceiver") tells nothing.
		 * One the primary does not stream to (a cascading standby) is not
		 * synchronous -- unless the primary's lists left a name out.
		 */
		if (strchr(own, ',') != NULL)
			reason = "this standby's application_name has a comma: the primary's lists cannot name it";
		else if (as_sync + as_async > 1)
			reason = "ambiguous: more than one standby of the primary has this application_name";
		else if (as_sync + as_async == 0 && primary->standbys_cut)
			reason = "cannot tell: this standby is not in the primary's lists, which leave a name out "
				"(past 255 bytes, or with a comma)";
		else
		{
			is_sync = as_sync;
			if (is_sync != (want_sync ? 1 : 0))
				reason = is_sync ? "a synchronous standby" : "an asynchronous standby";
		}
	}
	*status = reason == NULL ? 200 : 503;

	ph_json_text_sink(j, buf);
	ph_json_open(j, false);
	ph_json_bool(j, "ok", *status == 200);
	ph_json_str(j, "role", in_recovery ? "standby" : "primary");
	if (is_sync >= 0)
		ph_json_bool(j, "sync", is_sync == 1);
	else
		ph_json_str(j, "sync", NULL);
	ph_json_str(j, "application_name", in_recovery ? own : NULL);
	ph_json_str(j, "primary", primary ? primary->name : NULL);
	ph_json_str(j, "primary_sync_standbys", primary ? primary->sync_standbys : NULL);
	ph_json_str(j, "reason", reason);
	ph_json_close(j);
	appendStringInfoChar(buf, '\n');
}

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
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "collect/cluster_poll.h"
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
void
ph_node_json(StringInfo buf)
{
	PhView		view;
	PhJson		jj;
	PhJson	   *j = &jj;
	char		name[NAMEDATALEN];
	char		sysid[32];
	bool		in_recovery = ph_live_in_recovery();
	TimeLineID	tli = 0;
	XLogRecPtr	lsn;
	XLogRecPtr	received = InvalidXLogRecPtr;
	bool		crash = false;

	ph_read_view(&view, PH_ROLE_ANY, NULL, false);
	ph_node_name(name, sizeof(name));
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
	ph_json_str(j, "status", ph_state_name(view.verdict.state));
	ph_json_bool(j, "ready", view.verdict.ready);
	ph_json_bool(j, "started", view.verdict.started);
	ph_json_time(j, "sampled_at", view.snap->generation > 0 ? view.snap->sampled_at : 0);
	ph_json_str(j, "pg_health_version", PH_LIBRARY_VERSION);
	ph_json_str(j, "pg_version", GetConfigOption("server_version", false, false));
	ph_json_time(j, "now", GetCurrentTimestamp());
	ph_json_close(j);
	appendStringInfoChar(buf, '\n');
}

/*
 * GET /cluster: the members as this node's poller last saw them and the
 * cluster's verdict from here.  200 when the cluster can take writes:
 * exactly one reachable primary (so no split brain); 503 otherwise, with the
 * cluster check's reasons.
 */
void
ph_cluster_json(StringInfo buf, int *status)
{
	PhView		view;
	PhJson		jj;
	PhJson	   *j = &jj;
	const PhClusterTable *t;
	PhClusterCount n;
	const PhCheck *check = NULL;
	const PhMember *primary = NULL;
	char		name[NAMEDATALEN];

	ph_read_view(&view, PH_ROLE_ANY, NULL, false);
	t = &view.snap->cluster;
	ph_cluster_count(t, &n);
	if (n.primaries == 1)
		primary = &t->members[n.primary[0]];
	for (int i = 0; i < view.snap->nchecks; i++)
		if (strcmp(view.snap->checks[i].name, "cluster") == 0)
			check = &view.snap->checks[i];
	*status = view.snap->generation > 0 && !ph_cluster_stale(t, view.now) && n.primaries == 1 ? 200 : 503;
	ph_node_name(name, sizeof(name));

	ph_json_text_sink(j, buf);
	ph_json_open(j, false);
	ph_json_bool(j, "ok", *status == 200);
	ph_json_str(j, "node", name);
	ph_json_str(j, "status", check ? ph_check_status_name((PhCheckStatus) check->status) : NULL);
	ph_json_str(j, "detail", check ? check->detail : NULL);
	ph_json_int(j, "members_configured", t->n);
	ph_json_int(j, "reachable", n.reachable);
	ph_json_int(j, "primaries", n.primaries);
	ph_json_str(j, "primary", primary ? primary->name : NULL);
	ph_json_time(j, "polled_at", t->polled_at);
	ph_json_bool(j, "stale", ph_cluster_stale(t, view.now));
	ph_json_int(j, "members_not_polled", t->excess);
	ph_json_key(j, "members");
	ph_json_open(j, true);
	for (int i = 0; i < t->n; i++)
	{
		const PhMember *m = &t->members[i];
		bool		known = m->answered_at != 0;
		XLogRecPtr	pos = Max(m->lsn, m->received_lsn);

		ph_json_open(j, false);
		ph_json_str(j, "name", m->name);
		ph_json_str(j, "address", m->address);
		ph_json_str(j, "state", ph_member_state_name((PhMemberState) m->state));
		ph_json_time(j, "since", m->state_since);
		ph_json_str(j, "node_name", known ? m->node_name : NULL);
		ph_json_str(j, "role", !known ? NULL : m->primary ? "primary" :
					m->recovering ? "recovering" : "standby");
		ph_json_bool(j, "self", m->self);
		ph_json_opt_int(j, "timeline", known ? (int64) m->timeline : -1);
		ph_json_lsn(j, "lsn", known ? m->lsn : InvalidXLogRecPtr);
		ph_json_lsn(j, "received_lsn", known ? m->received_lsn : InvalidXLogRecPtr);
		/* behind the one primary, by its position when it was polled */
		ph_json_opt_int(j, "lag_bytes", known && primary != NULL && !m->primary ?
						(int64) (primary->lsn > pos ? primary->lsn - pos : 0) : -1);
		if (known)
			ph_json_bool(j, "ready", m->ready);
		else
			ph_json_str(j, "ready", NULL);
		if (known)
			ph_json_int(j, "clock_skew_ms", m->clock_skew_ms);
		else
			ph_json_str(j, "clock_skew_ms", NULL);
		ph_json_opt_int(j, "poll_ms", known ? m->poll_us / 1000 : -1);
		ph_json_str(j, "error", m->error[0] ? m->error : NULL);
		ph_json_close(j);
	}
	ph_json_close(j);
	ph_json_close(j);
	appendStringInfoChar(buf, '\n');
}

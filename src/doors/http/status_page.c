/*
 * status_page.c -- (doors) GET / and /status: the verdict, its reasons and
 * its history on one self-contained HTML page for a person (docs/http.md,
 * "The status page").
 *
 * The page is built, like /metrics, from this process's copies of what the
 * sampler published (the snapshot, pools, standbys, components, poolers, and
 * the history and events rings): no database connection, no lock held while
 * writing.  It has no script, no external style, font or image: inline CSS
 * (status_style.c), and the plots as inline SVG drawn from the history ring
 * (status_plots.c), so that it works with JavaScript off and behind any
 * proxy.  Every text that comes from outside (names, details, reasons) goes
 * through ph_html_esc() (status_text.c): HTML-escaped, and bytes that are not
 * UTF-8 replaced.  This file assembles the page: the banner and the sections.
 */
#include "postgres.h"

#include <math.h>

#include "utils/guc.h"
#include "utils/timestamp.h"

#include "doors/fields.h"
#include "doors/http/status_page.h"
#include "doors/http/status_plots.h"
#include "doors/http/status_style.h"
#include "doors/http/status_text.h"
#include "ground/shmem.h"
#include "ground/workers.h"
#include "judge/cluster_checks.h"
#include "judge/component_checks.h"
#include "judge/replication_checks.h"
#include "judge/verdict.h"
#include "read/read.h"

#ifndef PH_LIBRARY_VERSION
#define PH_LIBRARY_VERSION "unknown"	/* built without the Makefile */
#endif

/* the largest pools shown, the transitions shown */
#define PAGE_POOLS	10
#define PAGE_EVENTS 20

static const char *
status_class(PhCheckStatus s)
{
	switch (s)
	{
		case PH_CHECK_OK:
			return "ok";
		case PH_CHECK_WARNING:
			return "warning";
		case PH_CHECK_CRITICAL:
			return "critical";
		default:
			return "unknown";
	}
}

static const char *
state_class(PhState s)
{
	switch (s)
	{
		case PH_STATE_READY:
			return "ok";
		case PH_STATE_DEGRADED:
			return "warning";
		case PH_STATE_NOT_READY:
			return "critical";
		default:
			return "unknown";
	}
}

/* <td>s</td>, escaped */
static void
td(StringInfo b, const char *s)
{
	appendStringInfoString(b, "<td>");
	ph_html_esc(b, s);
	appendStringInfoString(b, "</td>");
}

static void
td_int(StringInfo b, long long v)
{
	appendStringInfo(b, "<td class=\"n\">%lld</td>", v);
}

/* ------------------------------------------------------------------------
 * Sections
 * ------------------------------------------------------------------------
 */

static void
banner(StringInfo b, const PhSnapshot *snap, const PhVerdict *v, const PhCheck *checks,
	   int nchecks)
{
	int			nreasons = 0;

	appendStringInfo(b, "<header id=\"verdict\" class=\"st-%s\" data-status=\"%s\">"
					 "<h1><span id=\"status\">%s</span></h1><p class=\"meta\">",
					 state_class(v->state), ph_state_name(v->state), ph_state_name(v->state));
	appendStringInfo(b, "<span id=\"server-role\">%s</span> &middot; live %s &middot; ready %s &middot; started %s",
					 snap->generation > 0 ? ph_server_name(snap->in_recovery) : "unknown",
					 v->live ? "yes" : "no", v->ready ? "yes" : "no", v->started ? "yes" : "no");
	if (snap->generation > 0)
	{
		appendStringInfo(b, " &middot; sample %llu at ", (unsigned long long) snap->generation);
		ph_html_time(b, snap->sampled_at, true);
		appendStringInfo(b, " UTC (%.1f s ago)", v->age_ms / 1000.0);
	}
	appendStringInfoString(b, " &middot; pg_health " PH_LIBRARY_VERSION ", PostgreSQL ");
	ph_html_esc(b, GetConfigOption("server_version", false, false));
	appendStringInfoString(b, "</p><ul id=\"reasons\">");
	for (int i = 0; i < nchecks; i++)
	{
		if (checks[i].status == PH_CHECK_OK)
			continue;
		appendStringInfo(b, "<li class=\"st-%s\"><b>", status_class(checks[i].status));
		ph_html_esc(b, checks[i].name);
		appendStringInfo(b, "</b> %s: ", ph_check_status_name(checks[i].status));
		ph_html_esc(b, checks[i].detail);
		appendStringInfoString(b, "</li>");
		nreasons++;
	}
	if (nreasons == 0)
		appendStringInfoString(b, "<li class=\"st-ok\">every check is ok</li>");
	appendStringInfoString(b, "</ul></header>");
}

/* The slots as one bar: used, free for ordinary roles, the reserved rest. */
static void
slots_bar(StringInfo b, const PhConnections *c)
{
	int			max = Max(c->max_connections, 1);
	int			used = Min(c->slots_used, max);
	int			free_ord = Min(Max(c->available_ordinary, 0), max - used);
	int			reserved = Max(max - used - free_ord, 0);
	int			w = 600;
	int			x1 = w * used / max,
				x2 = x1 + w * free_ord / max;

	appendStringInfoString(b, "<section id=\"slots\"><h2>Connection slots</h2>");
	appendStringInfo(b, "<svg class=\"bar\" viewBox=\"0 0 %d 28\" width=\"%d\" height=\"28\" role=\"img\" "
					 "aria-label=\"connection slots\" xmlns=\"http://www.w3.org/2000/svg\">"
					 "<rect class=\"used\" x=\"0\" y=\"0\" width=\"%d\" height=\"28\"/>"
					 "<rect class=\"free\" x=\"%d\" y=\"0\" width=\"%d\" height=\"28\"/>"
					 "<rect class=\"reserved\" x=\"%d\" y=\"0\" width=\"%d\" height=\"28\"/></svg>",
					 w, w, x1, x1, x2 - x1, x2, w - x2);
	appendStringInfo(b, "<ul class=\"legend\"><li><span class=\"sw used\"></span>used: "
					 "<b id=\"slots-used\">%d</b></li>"
					 "<li><span class=\"sw free\"></span>free for ordinary roles: <b>%d</b></li>"
					 "<li><span class=\"sw reserved\"></span>reserved and other: <b>%d</b> "
					 "(superuser_reserved_connections %d",
					 c->slots_used, free_ord, reserved, c->superuser_reserved);
	if (c->reserved >= 0)
		appendStringInfo(b, ", reserved_connections %d", c->reserved);
	appendStringInfo(b, ")</li><li>max_connections: <b>%d</b>, usable by ordinary roles %d "
					 "(%.1f %% in use)</li></ul>",
					 c->max_connections, c->usable, c->utilization_pct);
	appendStringInfo(b, "<p class=\"note\">sessions: %d active, %d idle, %d idle in transaction, "
					 "%d waiting on a lock; %d background workers, %d autovacuum, %d walsenders; "
					 "%llu refused for lack of a slot, %llu authentication failures since start</p>"
					 "</section>",
					 c->s.active, c->s.idle, c->s.idle_in_transaction + c->s.idle_in_transaction_aborted,
					 c->s.waiting_on_locks, c->background_workers, c->autovacuum_workers,
					 c->walsenders, (unsigned long long) c->refused_no_slots,
					 (unsigned long long) c->auth_failures);
}

static void
checks_table(StringInfo b, const PhSnapshot *snap, const PhCheck *checks, int nchecks,
			 bool custom)
{
	int			shown = 0;

	if (custom)
		appendStringInfoString(b, "<section id=\"custom\"><h2>Custom checks</h2>");
	else
		appendStringInfoString(b, "<section id=\"checks\"><h2>Checks</h2>");
	appendStringInfo(b, "<table id=\"%s-table\"><thead><tr><th>check</th><th>status</th>"
					 "<th>value</th><th>warning</th><th>critical</th><th>detail</th>"
					 "<th>since (UTC)</th></tr></thead><tbody>", custom ? "custom" : "checks");
	for (int i = 0; i < nchecks; i++)
	{
		const PhCheck *c = &checks[i];
		bool		is_custom = strncmp(c->name, "custom:", 7) == 0;
		double		scale;
		PhCheckUnit unit = ph_check_unit(c->name, snap->generation > 0 && snap->in_recovery, &scale);

		if (is_custom != custom)
			continue;
		appendStringInfo(b, "<tr class=\"st-%s\" data-check=\"", status_class(c->status));
		ph_html_esc(b, c->name);
		appendStringInfoString(b, "\">");
		td(b, c->name);
		appendStringInfo(b, "<td class=\"status\">%s</td><td class=\"n\">",
						 ph_check_status_name(c->status));
		ph_html_value(b, c->value, unit, scale);
		appendStringInfoString(b, "</td><td class=\"n\">");
		ph_html_value(b, c->warning_threshold, unit, scale);
		appendStringInfoString(b, "</td><td class=\"n\">");
		ph_html_value(b, c->critical_threshold, unit, scale);
		appendStringInfoString(b, "</td>");
		td(b, c->detail);
		appendStringInfoString(b, "<td class=\"t\">");
		ph_html_time(b, c->since, true);
		appendStringInfoString(b, "</td></tr>");
		shown++;
	}
	if (shown == 0)
		appendStringInfo(b, "<tr><td colspan=\"7\" class=\"none\">%s</td></tr>",
						 custom ? "none registered (health.register_check())" : "none");
	appendStringInfoString(b, "</tbody></table></section>");
}

static int
cmp_pool_sessions(const void *a, const void *b)
{
	const PhPool *x = *(const PhPool *const *) a;
	const PhPool *y = *(const PhPool *const *) b;

	return (y->s.sessions > x->s.sessions) - (y->s.sessions < x->s.sessions);
}

static void
pools_table(StringInfo b, const PhPoolTable *t)
{
	const PhPool **order = palloc(sizeof(PhPool *) * Max(t->npools, 1));
	int			n = 0;

	for (int k = 0; k < t->npools; k++)
		order[n++] = &t->pools[k];
	qsort(order, n, sizeof(PhPool *), cmp_pool_sessions);
	appendStringInfoString(b, "<section id=\"pools\"><h2>Largest pools</h2>"
						   "<table id=\"pools-table\"><thead><tr><th>database</th><th>role</th>"
						   "<th>application_name</th><th>sessions</th><th>active</th><th>idle</th>"
						   "<th>idle in transaction</th><th>waiting on a lock</th></tr></thead><tbody>");
	for (int k = 0; k < n && k < PAGE_POOLS; k++)
	{
		const PhPool *p = order[k];
		char		dbuf[32],
					rbuf[32];

		appendStringInfoString(b, "<tr>");
		if (p->folded > 0)
		{
			appendStringInfo(b, "<td colspan=\"3\">%d more groups, summed</td>", p->folded);
		}
		else
		{
			td(b, ph_limit_name(p->db_index >= 0 ? &t->databases[p->db_index] : NULL,
								p->datid, dbuf, sizeof(dbuf)));
			td(b, ph_limit_name(p->role_index >= 0 ? &t->roles[p->role_index] : NULL,
								p->roleid, rbuf, sizeof(rbuf)));
			td(b, p->application_name);
		}
		td_int(b, p->s.sessions);
		td_int(b, p->s.active);
		td_int(b, p->s.idle);
		td_int(b, p->s.idle_in_transaction + p->s.idle_in_transaction_aborted);
		td_int(b, p->s.waiting_on_locks);
		appendStringInfoString(b, "</tr>");
	}
	if (n == 0)
		appendStringInfoString(b, "<tr><td colspan=\"8\" class=\"none\">no client sessions</td></tr>");
	appendStringInfo(b, "</tbody></table><p class=\"note\">%d of %d groups by database, role and "
					 "application_name (<code>health.pools</code>)</p></section>",
					 Min(n, PAGE_POOLS), n);
	pfree(order);
}

static void
replication_section(StringInfo b, const PhSnapshot *snap, const PhStandbyTable *standbys)
{
	const PhReplication *r = &snap->repl;

	appendStringInfoString(b, "<section id=\"replication\"><h2>Replication</h2>");
	if (snap->in_recovery)
	{
		appendStringInfo(b, "<p>a standby; WAL receiver <b>%s</b>",
						 ph_receiver_state_name((PhReceiverState) r->receiver_state));
		if (r->sender_host[0])
		{
			appendStringInfoString(b, " from ");
			ph_html_esc(b, r->sender_host);
			appendStringInfo(b, ":%d", r->sender_port);
		}
		appendStringInfoString(b, "; replay lag ");
		ph_html_bytes(b, (double) r->lag_bytes);
		appendStringInfoString(b, ", delay ");
		ph_html_seconds(b, r->delay_us / 1e6);
		appendStringInfo(b, "%s</p>", r->pause_state != 0 ? "; replay <b>paused</b>" : "");
	}
	else
	{
		appendStringInfo(b, "<p>a primary; %d standbys, %d streaming, %d synchronous",
						 r->standbys, r->standbys_streaming, r->sync_standbys);
		if (r->sync_required > 0)
			appendStringInfo(b, " (%d required)", r->sync_required);
		appendStringInfoString(b, "</p><table id=\"standbys-table\"><thead><tr><th>application_name</th>"
							   "<th>client_addr</th><th>state</th><th>sync_state</th>"
							   "<th>replay lag</th><th>replay lag time</th></tr></thead><tbody>");
		for (int k = 0; k < standbys->n; k++)
		{
			const PhStandby *s = &standbys->items[k];

			appendStringInfoString(b, "<tr>");
			td(b, s->application_name);
			td(b, ph_http_client_addresses ? s->client_addr : "hidden");
			td(b, ph_walsender_state_name(s->state));
			td(b, ph_sync_state_name((PhSyncState) s->sync_state));
			appendStringInfoString(b, "<td class=\"n\">");
			if (s->replay_lag_bytes >= 0)
				ph_html_bytes(b, (double) s->replay_lag_bytes);
			else
				appendStringInfoString(b, "&mdash;");
			appendStringInfoString(b, "</td><td class=\"n\">");
			if (s->replay_lag_us >= 0)
				ph_html_seconds(b, s->replay_lag_us / 1e6);
			else
				appendStringInfoString(b, "&mdash;");
			appendStringInfoString(b, "</td></tr>");
		}
		if (standbys->n == 0)
			appendStringInfoString(b, "<tr><td colspan=\"6\" class=\"none\">no standby connected</td></tr>");
		appendStringInfoString(b, "</tbody></table>");
	}
	appendStringInfo(b, "<table id=\"slots-table\"><thead><tr><th>replication slot</th><th>active</th>"
					 "<th>WAL retained</th></tr></thead><tbody>");
	for (int k = 0; k < r->ntop_slots; k++)
	{
		appendStringInfoString(b, "<tr>");
		td(b, r->top_slots[k].name);
		td(b, r->top_slots[k].active ? "yes" : "no");
		appendStringInfoString(b, "<td class=\"n\">");
		ph_html_bytes(b, (double) r->top_slots[k].retained_bytes);
		appendStringInfoString(b, "</td></tr>");
	}
	if (r->ntop_slots == 0)
		appendStringInfoString(b, "<tr><td colspan=\"3\" class=\"none\">no replication slot</td></tr>");
	appendStringInfo(b, "</tbody></table><p class=\"note\">%d slots, %d inactive; the %d that "
					 "retain the most WAL shown</p></section>", r->slots, r->inactive_slots,
					 r->ntop_slots);
}

/*
 * Whether the server can serve: every filesystem holding data, pg_wal or a
 * tablespace, and the archiver's queue (the serving checks' rows are in the
 * checks table above).
 */
static void
filesystems_section(StringInfo b, const PhSnapshot *snap)
{
	const PhDisk *d = &snap->serving.disk;

	appendStringInfoString(b, "<section id=\"filesystems\"><h2>Filesystems</h2>"
						   "<table id=\"filesystems-table\"><thead><tr><th>path</th><th>holds</th>"
						   "<th>size</th><th>free</th><th>used</th><th>full in</th></tr></thead><tbody>");
	for (int k = 0; k < d->n; k++)
	{
		const PhFilesystem *fs = &d->fs[k];

		appendStringInfoString(b, "<tr>");
		td(b, fs->path);
		td(b, ph_filesystem_holds(fs));
		if (fs->error != 0)
		{
			appendStringInfoString(b, "<td colspan=\"4\" class=\"none\">");
			ph_html_esc(b, strerror(fs->error));
			appendStringInfoString(b, "</td></tr>");
			continue;
		}
		appendStringInfoString(b, "<td class=\"n\">");
		ph_html_bytes(b, (double) fs->total_bytes);
		appendStringInfoString(b, "</td><td class=\"n\">");
		ph_html_bytes(b, (double) fs->free_bytes);
		appendStringInfo(b, "</td><td class=\"n\">%.1f%%</td><td class=\"n\">",
						 ph_filesystem_used_pct(fs));
		if (isnan(fs->full_in_s))
			appendStringInfoString(b, "&mdash;");
		else
			ph_html_seconds(b, fs->full_in_s);
		appendStringInfoString(b, "</td></tr>");
	}
	if (d->n == 0)
		appendStringInfoString(b, "<tr><td colspan=\"6\" class=\"none\">not measured yet</td></tr>");
	appendStringInfoString(b, "</tbody></table>");
	if (d->ready_files >= 0)
		appendStringInfo(b, "<p class=\"note\">%d WAL segment(s) waiting to be archived</p>",
						 d->ready_files);
	appendStringInfoString(b, "</section>");
}

/*
 * The cluster, when pg_health.cluster_members names any: the verdict from
 * here (the cluster check's detail is in the checks table) and each member
 * as polled.  A standby's lag is behind the one primary.
 */
static void
cluster_section(StringInfo b, const PhSnapshot *snap, TimestampTz now)
{
	const PhClusterTable *t = &snap->cluster;
	PhClusterCount n;

	if (t->n == 0)
		return;
	ph_cluster_count(t, &n);
	appendStringInfoString(b, "<section id=\"cluster\"><h2>Cluster</h2>");
	if (ph_cluster_stale(t, now))
		appendStringInfoString(b, "<p class=\"note st-warning\">this node's view of the cluster is stale: nothing is judged from it</p>");
	else
		appendStringInfo(b, "<p class=\"note st-%s\">%s</p>",
						 n.primaries == 1 ? "ok" : "critical",
						 n.primaries == 1 ? "one primary" :
						 n.primaries == 0 ? "no primary: writes fail" : "split brain: more than one primary");
	appendStringInfoString(b, "<table id=\"cluster-table\"><thead><tr><th>member</th><th>address</th>"
						   "<th>state</th><th>role</th><th>timeline</th><th>ready</th>"
						   "<th>lag</th><th>poll</th><th>why</th></tr></thead><tbody>");
	for (int i = 0; i < t->n; i++)
	{
		const PhMember *m = &t->members[i];
		const char *role = ph_member_role(m);

		appendStringInfo(b, "<tr class=\"st-%s\">",
						 m->state == PH_MEMBER_UP && (m->ready || m->self) ? "ok" : "warning");
		appendStringInfoString(b, "<td>");
		ph_html_esc(b, m->name);
		if (m->self)
			appendStringInfoString(b, " (this node)");
		appendStringInfoString(b, "</td>");
		td(b, ph_member_address_http(m, m->address) ? m->address : "hidden");
		td(b, ph_member_state_name((PhMemberState) m->state));
		td(b, role ? role : "");
		if (m->answered_at != 0)
			td_int(b, (long long) m->timeline);
		else
			td(b, "");
		td(b, m->answered_at == 0 ? "" : m->ready ? "yes" : "no");
		appendStringInfoString(b, "<td class=\"n\">");
		if (m->lag_bytes >= 0)
		{
			ph_html_bytes(b, (double) m->lag_bytes);
			if (m->lag_us >= 0)
			{
				appendStringInfoString(b, ", ");
				ph_html_seconds(b, m->lag_us / 1e6);
			}
		}
		appendStringInfoString(b, "</td><td class=\"n\">");
		if (m->answered_at != 0)
			appendStringInfo(b, "%.1f ms", m->poll_us / 1000.0);
		appendStringInfoString(b, "</td>");
		td(b, m->error);
		appendStringInfoString(b, "</tr>");
	}
	appendStringInfoString(b, "</tbody></table>");
	if (t->excess > 0)
		appendStringInfo(b, "<p class=\"note\">%d member(s) not polled</p>", t->excess);
	appendStringInfoString(b, "</section>");
}

static void
components_section(StringInfo b, const PhComponentTable *t)
{
	appendStringInfoString(b, "<section id=\"components\"><h2>Components</h2>"
						   "<table id=\"components-table\"><thead><tr><th>component</th>"
						   "<th>required</th><th>state</th><th>status</th><th>detail</th>"
						   "<th>pool</th><th>last heard (UTC)</th></tr></thead><tbody>");
	for (int k = 0; k < t->n; k++)
	{
		const PhComponentResult *r = &t->items[k];

		appendStringInfo(b, "<tr class=\"st-%s\">", status_class(r->status));
		td(b, r->c.name);
		td(b, r->required ? "yes" : "no");
		td(b, ph_component_state_name((PhComponentState) r->effective));
		appendStringInfo(b, "<td class=\"status\">%s</td>", ph_check_status_name(r->status));
		td(b, r->c.detail);
		appendStringInfoString(b, "<td>");
		if (r->c.app_pool_at != 0)
			appendStringInfo(b, "own pool: %d in use, %d idle, %d waiting of %d",
							 r->c.app_in_use, r->c.app_idle, r->c.app_waiting, r->c.app_max_size);
		else if (r->pool_connections >= 0)
			appendStringInfo(b, "%d connections (at least %d)", r->pool_connections, r->c.pool_min);
		else
			appendStringInfoString(b, "&mdash;");
		appendStringInfoString(b, "</td><td class=\"t\">");
		ph_html_time(b, Max(r->c.last_heartbeat, r->c.state_since), true);
		appendStringInfoString(b, "</td></tr>");
	}
	if (t->n == 0)
		appendStringInfoString(b, "<tr><td colspan=\"7\" class=\"none\">none configured or reporting "
							   "(health.configure_component())</td></tr>");
	appendStringInfoString(b, "</tbody></table></section>");
}

static void
poolers_section(StringInfo b, const PhPoolerTable *t)
{
	if (t->n == 0)
		return;
	appendStringInfoString(b, "<section id=\"poolers\"><h2>Poolers</h2><table id=\"poolers-table\">"
						   "<thead><tr><th>pooler</th><th>version</th><th>clients</th>"
						   "<th>waiting</th><th>longest wait</th><th>last answer (UTC)</th>"
						   "<th>error</th></tr></thead><tbody>");
	for (int k = 0; k < t->n; k++)
	{
		const PhPooler *p = &t->items[k];

		appendStringInfoString(b, "<tr>");
		td(b, p->name);
		td(b, p->version);
		appendStringInfo(b, "<td class=\"n\">%d of %d</td>", p->client_connections, p->max_client_conn);
		td_int(b, p->clients_waiting);
		appendStringInfoString(b, "<td class=\"n\">");
		ph_html_seconds(b, p->max_wait_us / 1e6);
		appendStringInfoString(b, "</td><td class=\"t\">");
		ph_html_time(b, p->answered_at, true);
		appendStringInfoString(b, "</td>");
		td(b, p->error);
		appendStringInfoString(b, "</tr>");
	}
	appendStringInfoString(b, "</tbody></table></section>");
}

static void
events_section(StringInfo b, const PhPageView *pv)
{
	const PhEvent *e = pv->events;
	uint64		total = pv->events_total;
	int			n = pv->copied ? pv->nevents : -1;

	if (n < 0)
	{
		appendStringInfoString(b, "<section id=\"events\"><h2>Last transitions</h2><p class=\"none\">"
							   "the events could not be read now (the lock was held): reload</p></section>");
		return;
	}
	appendStringInfoString(b, "<section id=\"events\"><h2>Last transitions</h2>"
						   "<table id=\"events-table\"><thead><tr><th>at (UTC)</th><th>sample</th>"
						   "<th>from</th><th>to</th><th>reasons</th></tr></thead><tbody>");
	for (int k = n - 1; k >= 0; k--)
	{
		appendStringInfo(b, "<tr class=\"st-%s\"><td class=\"t\">", state_class((PhState) e[k].new_state));
		ph_html_time(b, e[k].occurred_at, true);
		appendStringInfo(b, "</td><td class=\"n\">%llu</td>", (unsigned long long) e[k].generation);
		td(b, ph_state_name((PhState) e[k].old_state));
		td(b, ph_state_name((PhState) e[k].new_state));
		td(b, e[k].reasons);
		appendStringInfoString(b, "</tr>");
	}
	if (n == 0)
		appendStringInfoString(b, "<tr><td colspan=\"5\" class=\"none\">none yet</td></tr>");
	appendStringInfo(b, "</tbody></table><p class=\"note\">%llu transitions since start, the last "
					 "%d shown (<code>health.events</code>)</p></section>",
					 (unsigned long long) total, n);
}

/*
 * The whole page into b; *status is 200 when the server is ready, else 503,
 * like GET /health, so that a check pointed at it by mistake still tells the
 * truth.  refresh_s > 0: the page asks the browser to reload it that often.
 */
void
ph_status_page_html(StringInfo b, int refresh_s, int *status)
{
	PhPageView	pv;
	PhSnapshot *snap;
	const PhCheck *checks;
	int			nchecks;
	PhVerdict	v;

	/* the whole page from one copy, under one lock: one sample throughout */
	ph_read_page(&pv, PH_PART_POOLS | PH_PART_COMPONENTS | PH_PART_POOLERS | PH_PART_STANDBYS |
				 PH_PART_HISTORY | PH_PART_EVENTS, PH_PAGE_SAMPLES, PAGE_EVENTS);
	snap = pv.snap;
	checks = pv.checks;
	nchecks = pv.nchecks;
	v = pv.verdict;
	*status = v.ready ? 200 : 503;

	appendStringInfoString(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
						   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
	if (refresh_s > 0)
		appendStringInfo(b, "<meta http-equiv=\"refresh\" content=\"%d\">", refresh_s);
	appendStringInfo(b, "<title>pg_health: %s</title><style>%s</style></head><body>",
					 ph_state_name(v.state), ph_status_page_style);
	banner(b, snap, &v, checks, nchecks);
	appendStringInfoString(b, "<main>");
	if (snap->generation > 0)
	{
		slots_bar(b, &snap->conn);
		checks_table(b, snap, checks, nchecks, false);
		ph_status_history(b, snap, checks, nchecks, pv.history, pv.copied ? pv.nhistory : -1);
		pools_table(b, pv.pools);
		replication_section(b, snap, pv.standbys);
		filesystems_section(b, snap);
		cluster_section(b, snap, pv.now);
		components_section(b, pv.components);
		checks_table(b, snap, checks, nchecks, true);
		poolers_section(b, pv.poolers);
	}
	else
		appendStringInfoString(b, "<p class=\"none\">no sample yet: the sampler has not published one</p>");
	events_section(b, &pv);
	appendStringInfoString(b, "</main><footer>pg_health status page &middot; machine-readable: "
						   "<a href=\"/health\">/health</a> &middot; <a href=\"/metrics\">/metrics</a>");
	if (refresh_s > 0)
		appendStringInfo(b, " &middot; reloads every %d s (<a href=\"?\">stop</a>)", refresh_s);
	else
		appendStringInfoString(b, " &middot; <a href=\"?refresh=10\">reload every 10 s</a>");
	appendStringInfoString(b, "</footer></body></html>\n");
}

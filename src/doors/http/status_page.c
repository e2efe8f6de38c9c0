/*
 * status_page.c -- (doors) GET / and /status: the verdict, its reasons and
 * its history on one self-contained HTML page for a person (docs/http.md,
 * "The status page").
 *
 * The page is built, like /metrics, from this process's copies of what the
 * sampler published (the snapshot, pools, standbys, components, poolers, and
 * the history and events rings): no database connection, no lock held while
 * writing.  It has no script, no external style, font or image: inline CSS,
 * and the plots as inline SVG drawn here from the history ring, so that it
 * works with JavaScript off and behind any proxy.  Every text that comes from
 * outside (names, details, reasons) goes through esc(): HTML-escaped, and
 * bytes that are not UTF-8 replaced.
 */
#include "postgres.h"

#include <math.h>

#include "mb/pg_wchar.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "judge/component_checks.h"
#include "doors/fields.h"
#include "read/read.h"
#include "judge/replication_checks.h"
#include "ground/shmem.h"
#include "doors/http/status_page.h"
#include "judge/verdict.h"
#include "ground/workers.h"

#ifndef PH_LIBRARY_VERSION
#define PH_LIBRARY_VERSION "unknown"	/* built without the Makefile */
#endif

/* the largest pools shown, the transitions shown */
#define PAGE_POOLS	10
#define PAGE_EVENTS 20
/* the samples plotted: the last of the history ring (an hour at 1 s) */
#define PAGE_SAMPLES 3600

/* ------------------------------------------------------------------------
 * Text
 * ------------------------------------------------------------------------
 */

/*
 * s, HTML-escaped for text and attribute values (quoted with "): the five
 * markup characters as entities; control characters (C0, DEL, C1) and bytes
 * that are not UTF-8 as U+FFFD.  (Bidirectional overrides are kept, and
 * isolated by the page's style: unicode-bidi on every cell.)
 */
static void
esc(StringInfo b, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		if (*p < 0x80)
		{
			switch (*p)
			{
				case '&':
					appendStringInfoString(b, "&amp;");
					break;
				case '<':
					appendStringInfoString(b, "&lt;");
					break;
				case '>':
					appendStringInfoString(b, "&gt;");
					break;
				case '"':
					appendStringInfoString(b, "&quot;");
					break;
				case '\'':
					appendStringInfoString(b, "&#39;");
					break;
				default:
					if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7F)
						appendStringInfoString(b, "\xEF\xBF\xBD");
					else
						appendStringInfoChar(b, (char) *p);
			}
			p++;
			continue;
		}
		else
		{
			int			len = pg_utf_mblen(p);
			bool		whole = true;

			for (int i = 1; i < len && whole; i++)
				if (p[i] == '\0')
					whole = false;
			/* C1 controls (U+0080..U+009F) as U+FFFD too */
			if (whole && len > 1 && pg_utf8_islegal(p, len) && !(p[0] == 0xC2 && p[1] < 0xA0))
			{
				appendBinaryStringInfo(b, (const char *) p, len);
				p += len;
			}
			else
			{
				appendStringInfoString(b, "\xEF\xBF\xBD");
				p++;
			}
		}
	}
}

/* A time in UTC: "2026-12-02 17:30:05" (with_date) or "17:30:05". */
static void
put_time(StringInfo b, TimestampTz ts, bool with_date)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (ts == 0 || timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
	{
		appendStringInfoString(b, "—");
		return;
	}
	if (with_date)
		appendStringInfo(b, "%04d-%02d-%02d ", tm.tm_year, tm.tm_mon, tm.tm_mday);
	appendStringInfo(b, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* An amount of bytes as pg_size_pretty() writes it, roughly. */
static void
put_bytes(StringInfo b, double v)
{
	static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB", "PB"};
	int			u = 0;

	while (fabs(v) >= 1024 * 10 && u < (int) lengthof(units) - 1)
	{
		v /= 1024;
		u++;
	}
	appendStringInfo(b, "%.0f %s", v, units[u]);
}

/* A time in seconds, in the unit a person reads it in. */
static void
put_seconds(StringInfo b, double s)
{
	if (fabs(s) < 1)
		appendStringInfo(b, s != 0 && fabs(s) < 0.01 ? "%.2f ms" : "%.0f ms", s * 1000);
	else if (fabs(s) < 120)
		appendStringInfo(b, "%.1f s", s);
	else if (fabs(s) < 7200)
		appendStringInfo(b, "%.1f min", s / 60);
	else if (fabs(s) < 172800)
		appendStringInfo(b, "%.1f h", s / 3600);
	else
		appendStringInfo(b, "%.1f d", s / 86400);
}

/* A figure in its unit; a dash for none. */
static void
put_value(StringInfo b, double v, PhCheckUnit unit, double scale)
{
	if (isnan(v))
	{
		appendStringInfoString(b, "—");
		return;
	}
	switch (unit)
	{
		case PH_UNIT_SECONDS:
			put_seconds(b, v * scale);
			break;
		case PH_UNIT_BYTES:
			put_bytes(b, v * scale);
			break;
		case PH_UNIT_RATIO:
			appendStringInfo(b, "%.1f %%", v * scale * 100);
			break;
		default:
			appendStringInfo(b, "%.10g", v);
	}
}

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
	esc(b, s);
	appendStringInfoString(b, "</td>");
}

static void
td_int(StringInfo b, long long v)
{
	appendStringInfo(b, "<td class=\"n\">%lld</td>", v);
}

/* ------------------------------------------------------------------------
 * Plots: inline SVG over the history ring
 * ------------------------------------------------------------------------
 */
#define PW 600					/* the SVG's width */
#define PH 190
#define PL 70					/* left margin: the y labels */
#define PR 10
#define PT 10
#define PB 24					/* bottom: the time labels */

typedef struct PlotSeries
{
	const char *name;
	double		(*get) (const PhHistoryEntry *h);	/* NaN: none */
} PlotSeries;

typedef struct PlotLine
{
	const char *name;			/* "usable", "warning", "critical" */
	double		value;			/* NaN: not drawn */
} PlotLine;

/* A round number at or above v: 1, 2 or 5 times a power of ten (or of 1024 for bytes). */
static double
nice_ceiling(double v, bool bytes)
{
	double		base = bytes ? 1024 : 10;
	double		p = 1;

	if (!(v > 1e-9))
		return 1;
	if (v > 1e300)
		return v;
	/* p: the largest power of the base at or below v */
	while (p > v)
		p /= base;
	while (p * base <= v)
		p *= base;
	if (bytes)
	{
		for (double m = 1; m <= 1024; m *= 2)
			if (p * m >= v)
				return p * m;
		return p * base;
	}
	if (p >= v)
		return p;
	if (2 * p >= v)
		return 2 * p;
	if (5 * p >= v)
		return 5 * p;
	return 10 * p;
}

/* series s at sample i: NaN when it has none (or not a finite one) */
static inline double
value_at(const PlotSeries *series, const PhHistoryEntry *h)
{
	double		v = series->get(h);

	return isfinite(v) ? v : get_float8_nan();
}

static bool
any_value(const PhHistoryEntry *h, int n, const PlotSeries *series, int nseries)
{
	for (int s = 0; s < nseries; s++)
		for (int i = 0; i < n; i++)
			if (!isnan(value_at(&series[s], &h[i])))
				return true;
	return false;
}

static void
put_axis_value(StringInfo b, double v, PhCheckUnit unit)
{
	if (unit == PH_UNIT_COUNT)
		appendStringInfo(b, v == floor(v) ? "%.0f" : "%.2f", v);
	else
		put_value(b, v, unit, 1);
}

/*
 * One plot: each series over time (the most of each pixel column's samples,
 * so that a short spike stays visible), the threshold lines, a time axis and
 * a value axis; the legend with each series' last value below it.
 */
static void
plot(StringInfo b, const char *id, const char *title, PhCheckUnit unit,
	 const PhHistoryEntry *h, int n, const PlotSeries *series, int nseries,
	 const PlotLine *lines, int nlines)
{
	int			pw = PW - PL - PR,
				ph = PH - PT - PB;
	int			buckets = Min(n, pw);
	double		ymax = 0;
	TimestampTz t0,
				t1;
	bool		long_span;
	/* a silence of the sampler that breaks the lines */
	int64		gap_us = (int64) Max(ph_sample_interval_ms, 100) * 3000;

	appendStringInfo(b, "<figure class=\"plot\" id=\"plot-%s\"><figcaption>%s</figcaption>", id, title);
	if (n < 2)
	{
		appendStringInfoString(b, "<p class=\"none\">not enough samples yet</p></figure>");
		return;
	}
	/* the span of the samples' times (the clock may have stepped back) */
	t0 = t1 = h[0].sampled_at;
	for (int i = 1; i < n; i++)
	{
		t0 = Min(t0, h[i].sampled_at);
		t1 = Max(t1, h[i].sampled_at);
	}
	if (t1 <= t0)
		t1 = t0 + 1;
	long_span = t1 - t0 > USECS_PER_DAY;

	for (int s = 0; s < nseries; s++)
		for (int i = 0; i < n; i++)
		{
			double		v = value_at(&series[s], &h[i]);

			if (!isnan(v) && v > ymax)
				ymax = v;
		}
	if (ymax == 0 && !any_value(h, n, series, nseries))
	{
		appendStringInfoString(b, "<p class=\"none\">no values in this period</p></figure>");
		return;
	}
	for (int k = 0; k < nlines; k++)
		if (isfinite(lines[k].value) && lines[k].value > ymax)
			ymax = lines[k].value;
	/* an axis of bytes starts at a kilobyte: 0.5 bytes is no label */
	if (unit == PH_UNIT_BYTES && ymax < 1024)
		ymax = 1024;
	ymax = nice_ceiling(ymax, unit == PH_UNIT_BYTES);

	appendStringInfo(b, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
					 "role=\"img\" aria-label=\"%s\" xmlns=\"http://www.w3.org/2000/svg\">",
					 PW, PH, PW, PH, title);
	/* value axis: 0, half, top, with grid lines */
	for (int k = 0; k <= 2; k++)
	{
		double		v = ymax * k / 2;
		int			y = PT + ph - (int) lround((double) ph * k / 2);

		appendStringInfo(b, "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
						 PL, y, PL + pw, y);
		appendStringInfo(b, "<text class=\"ylabel\" x=\"%d\" y=\"%d\">", PL - 4, y + 4);
		put_axis_value(b, v, unit);
		appendStringInfoString(b, "</text>");
	}
	/* time axis: five ticks */
	for (int k = 0; k <= 4; k++)
	{
		TimestampTz t = t0 + (t1 - t0) * k / 4;
		int			x = PL + pw * k / 4;

		appendStringInfo(b, "<line class=\"tick\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
						 x, PT + ph, x, PT + ph + 4);
		appendStringInfo(b, "<text class=\"xlabel%s\" x=\"%d\" y=\"%d\">",
						 k == 0 ? " first" : k == 4 ? " last" : "", x, PH - 6);
		put_time(b, t, long_span);
		appendStringInfoString(b, "</text>");
	}
	appendStringInfo(b, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
					 PL, PT, pw, ph);
	/* thresholds */
	for (int k = 0; k < nlines; k++)
	{
		int			y;

		if (!isfinite(lines[k].value))
			continue;
		y = PT + ph - (int) lround(ph * lines[k].value / ymax);
		appendStringInfo(b, "<line class=\"th th-%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
						 "<text class=\"thlabel th-%s\" x=\"%d\" y=\"%d\">%s</text>",
						 lines[k].name, PL, y, PL + pw, y, lines[k].name, PL + pw - 2, y - 3,
						 lines[k].name);
	}
	/*
	 * the series: one polyline per run of samples that have a value, broken
	 * where the sampler was silent for more than three intervals; of a flat
	 * stretch only its ends (pend_x: the last point not yet written)
	 */
	for (int s = 0; s < nseries; s++)
	{
		bool		open = false;
		int			pend_x = -1,
					last_y = -1;

		for (int k = 0; k <= buckets; k++)
		{
			int			from = (int) ((int64) k * n / buckets),
						to = (int) ((int64) (k + 1) * n / buckets);
			double		v = get_float8_nan();
			bool		gap = false;
			int			x = 0,
						y = 0;

			if (k < buckets)
			{
				for (int i = from; i < to; i++)
				{
					double		w = value_at(&series[s], &h[i]);

					if (!isnan(w) && (isnan(v) || w > v))
						v = w;
					if (i > 0 && h[i].sampled_at - h[i - 1].sampled_at > gap_us)
						gap = true;
				}
			}
			/* the line so far ends: at the end, before a gap or a sample without a value */
			if (open && (k == buckets || gap || isnan(v)))
			{
				if (pend_x >= 0)
					appendStringInfo(b, " %d,%d", pend_x, last_y);
				appendStringInfoString(b, "\"/>");
				open = false;
				pend_x = -1;
			}
			if (k == buckets || isnan(v))
				continue;
			x = PL + (int) lround((double) pw * (h[to - 1].sampled_at - t0) / (t1 - t0));
			x = Min(Max(x, PL), PL + pw);
			y = PT + ph - (int) lround(ph * Max(v, 0) / ymax);
			if (open && y == last_y)
			{
				pend_x = x;		/* still flat: written when it ends */
				continue;
			}
			if (!open)
				appendStringInfo(b, "<polyline class=\"s%d\" points=\"%d,%d", s + 1, x, y);
			else
			{
				if (pend_x >= 0)
					appendStringInfo(b, " %d,%d", pend_x, last_y);
				appendStringInfo(b, " %d,%d", x, y);
			}
			open = true;
			pend_x = -1;
			last_y = y;
		}
	}
	appendStringInfoString(b, "</svg><ul class=\"legend\">");
	for (int s = 0; s < nseries; s++)
	{
		double		last = value_at(&series[s], &h[n - 1]);

		appendStringInfo(b, "<li><span class=\"sw s%d\"></span>%s: ", s + 1, series[s].name);
		put_axis_value(b, last, unit);
		appendStringInfoString(b, "</li>");
	}
	for (int k = 0; k < nlines; k++)
	{
		if (!isfinite(lines[k].value))
			continue;
		appendStringInfo(b, "<li><span class=\"sw th-%s\"></span>%s: ", lines[k].name, lines[k].name);
		put_axis_value(b, lines[k].value, unit);
		appendStringInfoString(b, "</li>");
	}
	appendStringInfoString(b, "</ul></figure>");
}

static double
h_slots_used(const PhHistoryEntry *h)
{
	return h->slots_used;
}

static double
h_active(const PhHistoryEntry *h)
{
	return h->active;
}

static double
h_idle(const PhHistoryEntry *h)
{
	return h->idle;
}

static double
h_idle_in_xact(const PhHistoryEntry *h)
{
	return h->idle_in_transaction;
}

static double
h_waiting(const PhHistoryEntry *h)
{
	return h->waiting_on_locks;
}

static double
h_connections(const PhHistoryEntry *h)
{
	return h->connections_per_s;
}

static double
h_refusals(const PhHistoryEntry *h)
{
	return h->refusals_per_s;
}

static double
h_auth_failures(const PhHistoryEntry *h)
{
	return h->auth_failures_per_s;
}

static double
h_lag(const PhHistoryEntry *h)
{
	return h->lag_bytes < 0 ? get_float8_nan() : (double) h->lag_bytes;
}

static double
h_duration(const PhHistoryEntry *h)
{
	return h->sample_duration_us / 1e6;
}

/* A check's row among the collected ones, NULL when absent. */
static const PhCheck *
find_check(const PhCheck *checks, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(checks[i].name, name) == 0)
			return &checks[i];
	return NULL;
}

static void
history_plots(StringInfo b, const PhSnapshot *snap, const PhCheck *checks, int nchecks)
{
	PhHistoryEntry *h;
	int			n = ph_read_history(&h, PAGE_SAMPLES);
	const PhCheck *conn = find_check(checks, nchecks, "connections");
	const PhCheck *repl = find_check(checks, nchecks, "replication");
	double		usable = snap->conn.usable;
	double		nan = get_float8_nan();
	static const PlotSeries slots[] = {{"used", h_slots_used}};
	static const PlotSeries sessions[] = {
		{"active", h_active}, {"idle", h_idle}, {"idle in transaction", h_idle_in_xact},
		{"waiting on a lock", h_waiting}};
	static const PlotSeries rates[] = {
		{"authentications/s", h_connections}, {"refusals/s", h_refusals},
		{"authentication failures/s", h_auth_failures}};
	static const PlotSeries lag[] = {{"replay lag", h_lag}};
	static const PlotSeries duration[] = {{"sample duration", h_duration}};
	PlotLine	slot_lines[3] = {
		{"usable", usable},
		{"warning", conn && !isnan(conn->warning_threshold) ? usable * conn->warning_threshold / 100 : nan},
		{"critical", conn && !isnan(conn->critical_threshold) ? usable * conn->critical_threshold / 100 : nan}};
	bool		lag_in_bytes = snap->in_recovery && repl != NULL;
	PlotLine	lag_lines[2] = {
		{"warning", lag_in_bytes ? repl->warning_threshold : nan},
		{"critical", lag_in_bytes ? repl->critical_threshold : nan}};
	PlotLine	duration_lines[1] = {{"interval", ph_sample_interval_ms / 1000.0}};

	if (n < 0)
	{
		appendStringInfoString(b, "<section id=\"history\"><h2>History</h2><p class=\"none\">"
							   "the history could not be read now (the lock was held): reload</p></section>");
		return;
	}
	appendStringInfo(b, "<section id=\"history\"><h2>History</h2><p class=\"note\">%d samples", n);
	if (n > 0)
	{
		appendStringInfoString(b, ", ");
		put_time(b, h[0].sampled_at, true);
		appendStringInfoString(b, " to ");
		put_time(b, h[n - 1].sampled_at, true);
		appendStringInfoString(b, " UTC");
	}
	appendStringInfoString(b, " (<code>health.history</code>)</p>");
	plot(b, "slots", "Connection slots used", PH_UNIT_COUNT, h, n, slots, lengthof(slots),
		 slot_lines, lengthof(slot_lines));
	plot(b, "sessions", "Client sessions by state", PH_UNIT_COUNT, h, n, sessions,
		 lengthof(sessions), NULL, 0);
	plot(b, "rates", "Authentications and refusals per second", PH_UNIT_COUNT, h, n, rates,
		 lengthof(rates), NULL, 0);
	plot(b, "lag", snap->in_recovery ? "Replay lag (this standby)" :
		 "Replay lag (the farthest standby)", PH_UNIT_BYTES, h, n, lag, lengthof(lag),
		 lag_lines, lengthof(lag_lines));
	plot(b, "duration", "Sample duration", PH_UNIT_SECONDS, h, n, duration, lengthof(duration),
		 duration_lines, lengthof(duration_lines));
	appendStringInfoString(b, "</section>");
	if (h != NULL)
		pfree(h);
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
	appendStringInfo(b, "<span id=\"server-role\">%s</span> · live %s · ready %s · started %s",
					 snap->generation > 0 ? ph_server_name(snap->in_recovery) : "unknown",
					 v->live ? "yes" : "no", v->ready ? "yes" : "no", v->started ? "yes" : "no");
	if (snap->generation > 0)
	{
		appendStringInfo(b, " · sample %llu at ", (unsigned long long) snap->generation);
		put_time(b, snap->sampled_at, true);
		appendStringInfo(b, " UTC (%.1f s ago)", v->age_ms / 1000.0);
	}
	appendStringInfoString(b, " · pg_health " PH_LIBRARY_VERSION ", PostgreSQL ");
	esc(b, GetConfigOption("server_version", false, false));
	appendStringInfoString(b, "</p><ul id=\"reasons\">");
	for (int i = 0; i < nchecks; i++)
	{
		if (checks[i].status == PH_CHECK_OK)
			continue;
		appendStringInfo(b, "<li class=\"st-%s\"><b>", status_class(checks[i].status));
		esc(b, checks[i].name);
		appendStringInfo(b, "</b> %s: ", ph_check_status_name(checks[i].status));
		esc(b, checks[i].detail);
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
		esc(b, c->name);
		appendStringInfoString(b, "\">");
		td(b, c->name);
		appendStringInfo(b, "<td class=\"status\">%s</td><td class=\"n\">",
						 ph_check_status_name(c->status));
		put_value(b, c->value, unit, scale);
		appendStringInfoString(b, "</td><td class=\"n\">");
		put_value(b, c->warning_threshold, unit, scale);
		appendStringInfoString(b, "</td><td class=\"n\">");
		put_value(b, c->critical_threshold, unit, scale);
		appendStringInfoString(b, "</td>");
		td(b, c->detail);
		appendStringInfoString(b, "<td class=\"t\">");
		put_time(b, c->since, true);
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
			esc(b, r->sender_host);
			appendStringInfo(b, ":%d", r->sender_port);
		}
		appendStringInfoString(b, "; replay lag ");
		put_bytes(b, (double) r->lag_bytes);
		appendStringInfoString(b, ", delay ");
		put_seconds(b, r->delay_us / 1e6);
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
				put_bytes(b, (double) s->replay_lag_bytes);
			else
				appendStringInfoString(b, "—");
			appendStringInfoString(b, "</td><td class=\"n\">");
			if (s->replay_lag_us >= 0)
				put_seconds(b, s->replay_lag_us / 1e6);
			else
				appendStringInfoString(b, "—");
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
		put_bytes(b, (double) r->top_slots[k].retained_bytes);
		appendStringInfoString(b, "</td></tr>");
	}
	if (r->ntop_slots == 0)
		appendStringInfoString(b, "<tr><td colspan=\"3\" class=\"none\">no replication slot</td></tr>");
	appendStringInfo(b, "</tbody></table><p class=\"note\">%d slots, %d inactive; the %d that "
					 "retain the most WAL shown</p></section>", r->slots, r->inactive_slots,
					 r->ntop_slots);
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
			appendStringInfoString(b, "—");
		appendStringInfoString(b, "</td><td class=\"t\">");
		put_time(b, Max(r->c.last_heartbeat, r->c.state_since), true);
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
		put_seconds(b, p->max_wait_us / 1e6);
		appendStringInfoString(b, "</td><td class=\"t\">");
		put_time(b, p->answered_at, true);
		appendStringInfoString(b, "</td>");
		td(b, p->error);
		appendStringInfoString(b, "</tr>");
	}
	appendStringInfoString(b, "</tbody></table></section>");
}

static void
events_section(StringInfo b)
{
	PhEvent    *e;
	uint64		total;
	int			n = ph_read_events(&e, PAGE_EVENTS, &total);

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
		put_time(b, e[k].occurred_at, true);
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
	if (e != NULL)
		pfree(e);
}

static const char page_style[] =
"body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1f2328;background:#f6f8fa}"
"main{padding:0 16px 24px;max-width:1400px}"
"header{padding:12px 16px;color:#fff}header h1{margin:0;font-size:28px;text-transform:uppercase}"
"header .meta{margin:2px 0 6px;opacity:.9}header ul{margin:0;padding-left:18px}"
"header.st-ok{background:#1a7f37}header.st-warning{background:#9a6700}"
"header.st-critical{background:#cf222e}header.st-unknown{background:#57606a}"
"h2{font-size:17px;margin:20px 0 6px}"
"table{border-collapse:collapse;background:#fff;font-size:13px}"
"th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top;unicode-bidi:isolate}"
"#reasons li{unicode-bidi:isolate}"
"td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.t{white-space:nowrap}"
"tr.st-warning td.status{background:#fff8c5}tr.st-critical td.status{background:#ffebe9}"
"tr.st-ok td.status{color:#1a7f37}.none{color:#57606a;font-style:italic}.note{color:#57606a;margin:4px 0}"
"#history{display:flex;flex-wrap:wrap;gap:8px 24px}#history h2,#history p.note{flex-basis:100%}"
"figure{margin:0}figcaption{font-weight:600}"
"svg{background:#fff;border:1px solid #d0d7de;max-width:100%;height:auto}"
".chart text{font-size:11px;fill:#57606a}.ylabel{text-anchor:end}.xlabel{text-anchor:middle}"
".xlabel.first{text-anchor:start}.xlabel.last{text-anchor:end}.thlabel{text-anchor:end}"
".grid{stroke:#eaeef2}.tick{stroke:#8c959f}.frame{fill:none;stroke:#8c959f}"
"polyline{fill:none;stroke-width:1.5}.s1{stroke:#0969da;background:#0969da}"
".s2{stroke:#1a7f37;background:#1a7f37}.s3{stroke:#bf8700;background:#bf8700}"
".s4{stroke:#cf222e;background:#cf222e}"
".th{stroke-dasharray:6 4;stroke-width:1}.th-usable{stroke:#57606a;background:#57606a}"
".th-interval{stroke:#57606a;background:#57606a}"
".th-warning{stroke:#bf8700;background:#bf8700}.th-critical{stroke:#cf222e;background:#cf222e}"
"text.th-usable,text.th-interval,text.th-warning,text.th-critical{stroke:none}"
"text.th-warning{fill:#9a6700}text.th-critical{fill:#cf222e}"
".legend{list-style:none;padding:0;margin:2px 0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}"
".sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}"
".bar .used,.sw.used{fill:#0969da;background:#0969da}.bar .free,.sw.free{fill:#8dd7a0;background:#8dd7a0}"
".bar .reserved,.sw.reserved{fill:#d0d7de;background:#d0d7de}"
"footer{padding:8px 16px;color:#57606a}";

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

	ph_read_page_view(&pv);
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
					 ph_state_name(v.state), page_style);
	banner(b, snap, &v, checks, nchecks);
	appendStringInfoString(b, "<main>");
	if (snap->generation > 0)
	{
		slots_bar(b, &snap->conn);
		checks_table(b, snap, checks, nchecks, false);
		history_plots(b, snap, checks, nchecks);
		pools_table(b, pv.pools);
		replication_section(b, snap, pv.standbys);
		components_section(b, pv.components);
		checks_table(b, snap, checks, nchecks, true);
		poolers_section(b, pv.poolers);
	}
	else
		appendStringInfoString(b, "<p class=\"none\">no sample yet: the sampler has not published one</p>");
	events_section(b);
	appendStringInfoString(b, "</main><footer>pg_health status page · machine-readable: "
						   "<a href=\"/health\">/health</a> · <a href=\"/metrics\">/metrics</a>");
	if (refresh_s > 0)
		appendStringInfo(b, " · reloads every %d s (<a href=\"?\">stop</a>)", refresh_s);
	else
		appendStringInfoString(b, " · <a href=\"?refresh=10\">reload every 10 s</a>");
	appendStringInfoString(b, "</footer></body></html>\n");
}

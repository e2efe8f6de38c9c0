/*
 * status_plots.c -- (doors) the status page's plots: each figure of the
 * history ring over time as inline SVG, drawn here (no script, no image),
 * with its thresholds, axes and legend; and the page's History section that
 * holds them.
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"
#include "utils/timestamp.h"

#include "doors/http/status_plots.h"
#include "doors/http/status_text.h"
#include "ground/shmem.h"
#include "ground/workers.h"

/* the samples plotted: the last of the history ring (an hour at 1 s) */

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
		ph_html_value(b, v, unit, 1);
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
		ph_html_time(b, t, long_span);
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

			/*
			 * the line so far ends: at the end, before a gap or a sample
			 * without a value
			 */
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

void
ph_status_history(StringInfo b, const PhSnapshot *snap, const PhCheck *checks, int nchecks,
				  const PhHistoryEntry *h, int n)
{
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
		ph_html_time(b, h[0].sampled_at, true);
		appendStringInfoString(b, " to ");
		ph_html_time(b, h[n - 1].sampled_at, true);
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
}

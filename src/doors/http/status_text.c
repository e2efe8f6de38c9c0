/*
 * status_text.c -- (doors) the status page's text: every outside text
 * HTML-escaped (ph_html_esc), and times, sizes and figures written in the
 * units a person reads them in.  Shared by the page (status_page.c) and its
 * plots (status_plots.c).
 */
#include "postgres.h"

#include <math.h>

#include "mb/pg_wchar.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "doors/http/status_text.h"

/*
 * s, HTML-escaped for text and attribute values (quoted with "): the five
 * markup characters as entities; control characters (C0, DEL, C1) and bytes
 * that are not UTF-8 as U+FFFD.  (Bidirectional overrides are kept, and
 * isolated by the page's style: unicode-bidi on every cell.)
 */
void
ph_html_esc(StringInfo b, const char *s)
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
void
ph_html_time(StringInfo b, TimestampTz ts, bool with_date)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (ts == 0 || timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
	{
		appendStringInfoString(b, "&mdash;");
		return;
	}
	if (with_date)
		appendStringInfo(b, "%04d-%02d-%02d ", tm.tm_year, tm.tm_mon, tm.tm_mday);
	appendStringInfo(b, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* An amount of bytes as pg_size_pretty() writes it, roughly. */
void
ph_html_bytes(StringInfo b, double v)
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
void
ph_html_seconds(StringInfo b, double s)
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
void
ph_html_value(StringInfo b, double v, PhCheckUnit unit, double scale)
{
	if (isnan(v))
	{
		appendStringInfoString(b, "&mdash;");
		return;
	}
	switch (unit)
	{
		case PH_UNIT_SECONDS:
			ph_html_seconds(b, v * scale);
			break;
		case PH_UNIT_BYTES:
			ph_html_bytes(b, v * scale);
			break;
		case PH_UNIT_RATIO:
			appendStringInfo(b, "%.1f %%", v * scale * 100);
			break;
		default:
			appendStringInfo(b, "%.10g", v);
	}
}

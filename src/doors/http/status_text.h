/*
 * status_text.h -- the status page's text: escaping, and figures in a
 * person's units (status_text.c).
 */
#ifndef PH_STATUS_TEXT_H
#define PH_STATUS_TEXT_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/timestamp.h"

#include "judge/verdict.h"

extern void ph_html_esc(StringInfo b, const char *s);
extern void ph_html_time(StringInfo b, TimestampTz ts, bool with_date);
extern void ph_html_bytes(StringInfo b, double v);
extern void ph_html_seconds(StringInfo b, double s);
extern void ph_html_value(StringInfo b, double v, PhCheckUnit unit, double scale);

#endif							/* PH_STATUS_TEXT_H */

/*
 * metrics.h -- the Prometheus text exposition of the latest sample
 * (metrics.c).
 */
#ifndef PH_METRICS_H
#define PH_METRICS_H

#include "postgres.h"

#include "lib/stringinfo.h"

extern void ph_metrics_text(StringInfo buf);

#endif							/* PH_METRICS_H */

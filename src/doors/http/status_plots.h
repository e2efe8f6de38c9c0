/*
 * status_plots.h -- the status page's History section: its plots as inline
 * SVG (status_plots.c).
 */
#ifndef PH_STATUS_PLOTS_H
#define PH_STATUS_PLOTS_H

#include "postgres.h"

#include "lib/stringinfo.h"

#include "ground/snapshot.h"

/* the history entries the plots show at most */
#define PH_PAGE_SAMPLES 3600

/* h: the last n history entries, oldest first; n < 0: they could not be read */
extern void ph_status_history(StringInfo b, const PhSnapshot *snap, const PhCheck *checks,
							  int nchecks, const PhHistoryEntry *h, int n);

#endif							/* PH_STATUS_PLOTS_H */

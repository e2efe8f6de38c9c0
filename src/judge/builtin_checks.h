/*
 * checks.h -- the built-in checks and the evaluation of a sample (checks.c):
 * the sampler's one call that turns figures into check rows and a state per
 * role, and what it derives for history and events.
 */
#ifndef PH_CHECKS_H
#define PH_CHECKS_H

#include "ground/snapshot.h"

/* the thresholds of the built-in checks (docs/settings.md) */
extern int	ph_connections_warning;
extern int	ph_connections_critical;
extern int	ph_idle_xact_warning_s;
extern int	ph_idle_xact_critical_s;
extern int	ph_long_xact_warning_s;
extern int	ph_long_xact_critical_s;
extern int	ph_blocked_warning;
extern int	ph_blocked_critical;
extern int	ph_refusal_window_s;
extern int	ph_limit_warning;
extern int	ph_limit_critical;
extern int	ph_hold_samples;

extern void ph_define_check_settings(void);
extern void ph_evaluate(PhSnapshot *snap, const PhSnapshot *prev,
						const PhPoolTable *pools, PhComponentTable *components,
						const PhCustomState *custom,
						const PhPoolerTable *poolers);
extern void ph_history_entry(const PhSnapshot *snap, PhHistoryEntry *out);
extern void ph_reasons(const PhSnapshot *snap, PhRole role, char *buf, size_t len);
extern bool ph_check_changes(const PhSnapshot *cur, const PhSnapshot *prev,
							 char *buf, size_t len);

#endif							/* PH_CHECKS_H */

/*
 * builtin_checks.h -- evaluating a sample (builtin_checks.c): the sampler's
 * one call that turns figures into check rows and a state per role, and
 * what it derives for history and events.
 */
#ifndef PH_BUILTIN_CHECKS_H
#define PH_BUILTIN_CHECKS_H

#include "ground/snapshot.h"

/* the built-in checks' thresholds, for the files that read them beside ph_evaluate() */
#include "judge/check_table.h"

/* pg_health.hold_samples */
extern int	ph_hold_samples;

extern void ph_define_check_settings(void);
extern void ph_check_role(PhCheck *c, bool in_recovery, PhRole role);
extern void ph_evaluate(PhSnapshot *snap, const PhSnapshot *prev,
						const PhPoolTable *pools, PhComponentTable *components,
						const PhCustomState *custom,
						const PhPoolerTable *poolers);
extern void ph_history_entry(const PhSnapshot *snap, PhHistoryEntry *out);
extern void ph_reasons(const PhSnapshot *snap, PhRole role, char *buf, size_t len);
extern bool ph_check_changes(const PhSnapshot *cur, const PhSnapshot *prev,
							 char *buf, size_t len);

#endif							/* PH_BUILTIN_CHECKS_H */

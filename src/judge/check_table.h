/*
 * check_table.h -- the built-in checks, each described once (check_table.c):
 * one row per check with its name, what its figure is, which servers it
 * judges, its settings and its evaluator.  ph_evaluate() (builtin_checks.c)
 * runs the rows in order; the settings and ph_check_unit() (declared in
 * verdict.h, beside the units) come from them.
 */
#ifndef PH_CHECK_TABLE_H
#define PH_CHECK_TABLE_H

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

extern void ph_define_check_table_settings(void);
extern void ph_run_check_table(PhSnapshot *snap, const PhPoolTable *pools);

#endif							/* PH_CHECK_TABLE_H */

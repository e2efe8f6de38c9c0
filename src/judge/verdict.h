/*
 * verdict.h -- the judge's ground (verdict.c): a check row and its
 * thresholds, the state of each role from its checks, and what a reader
 * adds at the time of reading: freshness, live/ready/started and the
 * "sampler" row.  The words for states, statuses and roles are here.
 */
#ifndef PH_VERDICT_H
#define PH_VERDICT_H

#include "ground/snapshot.h"

/* pg_health.stale_after */
extern int	ph_stale_after_ms;

extern void ph_define_verdict_settings(void);
extern int	ph_stale_after(void);

/* the unit of a check's figure */
typedef enum PhCheckUnit
{
	PH_UNIT_COUNT,				/* a count or a 1/0 flag */
	PH_UNIT_SECONDS,			/* a time (its figure may be in ms: see scale) */
	PH_UNIT_BYTES,
	PH_UNIT_RATIO				/* its figure is a percentage: scale 0.01 */
} PhCheckUnit;

/*
 * The unit of a check's figure, and the factor to its base unit.  Defined
 * by the check table (check_table.c), which knows the built-in checks';
 * declared here, beside the units, for the readers that show figures.
 */
extern PhCheckUnit ph_check_unit(const char *name, bool in_recovery, double *scale);

extern const char *ph_state_name(PhState state);
extern const char *ph_check_status_name(PhCheckStatus status);
extern const char *ph_role_name(PhRole role);
extern const char *ph_server_name(bool in_recovery);
extern PhRole ph_role_of(bool in_recovery);
extern bool ph_role_from_string(const char *s, PhRole *role);

extern double ph_age_seconds(TimestampTz since, TimestampTz now);
extern int	ph_first_threshold(int warning, int critical);
extern void ph_init_check(PhCheck *c, const char *name, double value);
extern void ph_threshold_check(PhCheck *c, const char *name, double value,
							   int warning, int critical);
extern void ph_set_role_states(PhSnapshot *snap);

extern void ph_verdict(const PhVerdictInput *in, TimestampTz now, PhVerdict *out);
extern void ph_verdict_from_snapshot(const PhSnapshot *snap, pid_t worker_pid,
									 PhRole role, TimestampTz now, PhVerdict *out);
extern int	ph_collect_checks(const PhSnapshot *snap, pid_t worker_pid, PhRole role,
							  TimestampTz now, PhCheck *out);

#endif							/* PH_VERDICT_H */

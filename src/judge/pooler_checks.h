/*
 * pooler_checks.h -- judging the connection poolers in front of the server
 * (pooler_checks.c): one "pooler:<name>" check each, and the clients of a
 * pool at a pooler for the components that count theirs there.
 */
#ifndef PH_POOLER_CHECKS_H
#define PH_POOLER_CHECKS_H

#include "ground/snapshot.h"

/* pg_health.pooler_wait_warning, _critical, pooler_grace (ms), pooler_clients_warning (%) */
extern int	ph_pooler_wait_warning_ms;
extern int	ph_pooler_wait_critical_ms;
extern int	ph_pooler_grace_ms;
extern int	ph_pooler_clients_warning;

extern void ph_define_pooler_check_settings(void);
extern void ph_check_pooler(PhCheck *c, const PhPooler *p, pid_t poller_pid, TimestampTz now);
extern void ph_check_pooler_excess(PhCheck *c, const PhPoolerTable *t);
extern int	ph_pooler_pool_clients(const PhPoolerTable *t, const char *pooler,
								   const char *database, const char *user, TimestampTz now);

#endif							/* PH_POOLER_CHECKS_H */

/*
 * pooler_worker.h -- the pooler worker (pooler_worker.c): it polls each configured
 * PgBouncer's admin console and publishes what it read.
 */
#ifndef PH_POLLER_H
#define PH_POLLER_H

#include "postgres.h"

/* pg_health.pooler_interval, pg_health.pooler_timeout (ms) */
extern int	ph_pooler_interval_ms;
extern int	ph_pooler_timeout_ms;

extern void ph_define_poller_settings(void);
extern void ph_register_poller(void);
extern void ph_pooler_target(const char *conninfo, char *host, size_t hostlen, int *port);
extern PGDLLEXPORT void pg_health_poller_main(Datum main_arg);

#endif							/* PH_POLLER_H */

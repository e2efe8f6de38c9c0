/*
 * names.h -- the names worker (names.c): role and database names and
 * CONNECTION LIMITs for the sampler, and the supervisor of the checker.
 */
#ifndef PH_NAMES_H
#define PH_NAMES_H

#include "ground/snapshot.h"

extern PGDLLEXPORT void pg_health_names_main(Datum main_arg);
extern void ph_register_names_worker(void);
extern bool ph_apply_names(PhPoolTable *pools);

#endif							/* PH_NAMES_H */

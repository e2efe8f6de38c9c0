/*
 * custom_checks.h -- custom checks (custom_checks.c): their registration, the checker
 * worker that runs them, and the sampler's copy of their results.
 */
#ifndef PH_CHECKER_H
#define PH_CHECKER_H

#include "ground/snapshot.h"

#include "postmaster/bgworker.h"

extern PGDLLEXPORT void pg_health_checker_main(Datum main_arg);
extern bool ph_start_checker(Oid dboid, BackgroundWorkerHandle **handle);
extern void ph_read_custom_checks(PhCustomState *out);

#endif							/* PH_CHECKER_H */

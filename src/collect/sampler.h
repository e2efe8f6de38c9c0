/*
 * sampler.h -- the sampler worker (sampler.c): collect, evaluate, publish.
 */
#ifndef PH_SAMPLER_H
#define PH_SAMPLER_H

#include "postgres.h"

#include "fmgr.h"

extern PGDLLEXPORT void pg_health_sampler_main(Datum main_arg);
extern void ph_register_sampler(void);

#endif							/* PH_SAMPLER_H */

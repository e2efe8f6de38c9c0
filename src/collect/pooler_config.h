/*
 * pooler_config.h -- the connection poolers pg_health polls (pooler_config.c): their
 * configuration (SQL), the checker's loading of it, and the sampler's copy
 * of the pooler worker's polls.
 */
#ifndef PH_POOLERS_H
#define PH_POOLERS_H

#include "ground/snapshot.h"

extern void ph_load_poolers(void);
extern void ph_read_pooler_polls(PhPoolerTable *out);

#endif							/* PH_POOLERS_H */

/*
 * components.h -- application components' reports and configuration
 * (components.c): the SQL functions services call, and the sampler's copy
 * of what they reported.
 */
#ifndef PH_COMPONENTS_H
#define PH_COMPONENTS_H

#include "ground/snapshot.h"

extern int	ph_read_components(PhComponent *out);
extern void ph_component_admissions(PhComponentTable *t, const PhSnapshot *snap, TimestampTz now);

#endif							/* PH_COMPONENTS_H */

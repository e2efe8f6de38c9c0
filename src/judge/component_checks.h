/*
 * component_checks.h -- judging application components (component_checks.c):
 * which are required, their TTL, their pools, and one check row each.
 */
#ifndef PH_COMPONENT_CHECKS_H
#define PH_COMPONENT_CHECKS_H

#include "ground/snapshot.h"

/* pg_health.required_components, pg_health.component_ttl */
extern char *ph_required_components;
extern int	ph_component_ttl_s;

extern void ph_define_component_settings(void);
extern const char *ph_component_state_name(PhComponentState state);
extern void ph_component_results(PhComponentTable *t, const PhComponent *comps, int ncomps,
								 TimestampTz now);
extern void ph_count_component_pools(PhComponentTable *t, const char *application_name,
									 int sessions);
extern void ph_count_component_pooler_pools(PhComponentTable *t, const PhPoolerTable *poolers,
											TimestampTz now);
extern bool ph_components_started(const PhComponentTable *t);
extern void ph_check_component(PhCheck *c, PhComponentResult *r, TimestampTz now);

#endif							/* PH_COMPONENT_CHECKS_H */

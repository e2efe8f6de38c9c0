/*
 * tenants.h -- the table of asked (role, database) pairs (tenants.c): askers
 * read answers from it, the names worker fills it.
 */
#ifndef PH_TENANTS_H
#define PH_TENANTS_H

#include "snapshot.h"

extern void ph_tenant_answer(const char *role, const char *database, int may_wait_ms,
							 bool trusted, PhTenantAnswer *out);
extern int	ph_tenants_to_look_up(PhAsked *out, TimestampTz now);
extern void ph_tenants_looked_up(const PhAsked *looked, int n, TimestampTz at);

#endif							/* PH_TENANTS_H */

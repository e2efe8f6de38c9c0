/*
 * asked_pairs.h -- the table of asked (role, database) pairs (asked_pairs.c): askers
 * read answers from it, the names worker fills it.
 */
#ifndef PH_TENANTS_H
#define PH_TENANTS_H

#include "ground/snapshot.h"

extern void ph_tenant_answer(const char *role, const char *database, int may_wait_ms,
							 const PhAsker *asker, PhTenantAnswer *out);
extern int	ph_tenants_to_look_up(PhAsked *out);
extern void ph_tenants_looked_up(const PhAsked *looked, int n, TimestampTz at);

/* A pair in the table as health.asked_pairs shows it. */
typedef struct PhAskedRow
{
	char		role[NAMEDATALEN];	/* "": not asked */
	char		database[NAMEDATALEN];
	PhAsker		owner;
	TimestampTz asked_at;
	TimestampTz shared_at;		/* last asked by someone else; 0: never */
	TimestampTz looked_up_at;	/* 0: not yet */
	bool		missing;		/* looked up: a name does not exist */
	char		asked_by[NAMEDATALEN];	/* filled by the door */
}			PhAskedRow;

extern int	ph_tenants_copy(PhAskedRow * out);

#endif							/* PH_TENANTS_H */

/*
 * sessions.h -- the sampler's collector of connection slots, sessions,
 * pools and refusals (sessions.c).
 */
#ifndef PH_SESSIONS_H
#define PH_SESSIONS_H

#include "ground/snapshot.h"

extern void ph_collect_slots(PhConnections *c, int free_hint);
extern void ph_collect_sessions(PhConnections *c, PhPoolTable *t, PhComponentTable *comps);
extern void ph_collect_refusals(PhConnections *c, const PhSnapshot *prev, TimestampTz now);

#endif							/* PH_SESSIONS_H */

/*
 * replication.h -- the sampler's collector of replication figures
 * (replication.c): a standby's WAL receiver, a primary's standbys, slots.
 */
#ifndef PH_REPLICATION_H
#define PH_REPLICATION_H

#include "ground/snapshot.h"

struct PgBackendStatus;

extern void ph_replication_begin(void);
extern void ph_note_walsender(const struct PgBackendStatus *be);
extern void ph_note_startup(const struct PgBackendStatus *be);
extern void ph_collect_replication(PhReplication *r, PhStandbyTable *t, const PhReplication *prev,
								   bool in_recovery, TimestampTz now);

#endif							/* PH_REPLICATION_H */

/*
 * commit_waits.h -- commits waiting for synchronous standbys or for WAL
 * (commit_waits.c)
 */
#ifndef PH_COMMIT_WAITS_H
#define PH_COMMIT_WAITS_H

#include "ground/snapshot.h"

extern void ph_collect_commit_waits(PhCommitWaits *w, const PhStandbyTable *standbys,
									TimestampTz now);

#endif							/* PH_COMMIT_WAITS_H */

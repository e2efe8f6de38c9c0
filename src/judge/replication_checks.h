/*
 * replication_checks.h -- judging replication (replication_checks.c): the
 * replication, sync_standbys and replication_slots checks, and the same
 * checks again with a caller's lag limits (ph_apply_overrides).  The words
 * for receiver, walsender and sync states are here.
 */
#ifndef PH_REPLICATION_CHECKS_H
#define PH_REPLICATION_CHECKS_H

#include "ground/snapshot.h"

/* the replication settings (docs/replication.md), defined by their rows in check_table.c */
extern double ph_replica_max_lag_bytes;
extern int	ph_replica_max_delay_ms;
extern int	ph_replica_stream_grace_ms;
extern int	ph_min_sync_standbys;
extern int	ph_slot_retained_warning_kb;

extern void ph_check_replication(PhCheck *c, const PhReplication *r, bool in_recovery,
								 const PhOverrides *o, TimestampTz now);
extern void ph_check_sync_standbys(PhCheck *c, const PhReplication *r);
extern void ph_check_replication_slots(PhCheck *c, const PhReplication *r);
extern bool ph_apply_overrides(PhSnapshot *snap, const PhOverrides *o);
extern const char *ph_receiver_state_name(PhReceiverState s);
extern const char *ph_walsender_state_name(int s);
extern const char *ph_sync_state_name(PhSyncState s);

#endif							/* PH_REPLICATION_CHECKS_H */

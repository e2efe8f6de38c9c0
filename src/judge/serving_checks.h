/*
 * serving_checks.h -- judging whether the server can serve
 * (serving_checks.c): accepting, commit_path, disk, archiver, wraparound,
 * replay.
 */
#ifndef PH_SERVING_CHECKS_H
#define PH_SERVING_CHECKS_H

#include "ground/snapshot.h"

/* the settings (docs/settings.md), defined by their rows in check_table.c */
extern PGDLLIMPORT int ph_accept_probe_interval_ms;
extern PGDLLIMPORT int ph_accept_timeout_ms;
extern int	ph_commit_wait_warning_ms;
extern int	ph_commit_wait_critical_ms;
extern int	ph_disk_used_warning;
extern int	ph_disk_used_critical;
extern int	ph_disk_full_warning_s;
extern int	ph_wal_free_critical_mb;
extern int	ph_archive_failing_warning_s;
extern int	ph_wraparound_warning;
extern int	ph_wraparound_critical;
extern int	ph_replay_stall_warning_s;
extern int	ph_replay_stall_critical_s;

extern void ph_check_accepting(PhCheck *c, const PhAccept *a, TimestampTz now);
extern void ph_check_commit_path(PhCheck *c, const PhCommitWaits *w, TimestampTz now);
extern void ph_check_disk(PhCheck *c, const PhDisk *d, TimestampTz now, int window_s,
						  int stale_ms);
extern void ph_check_archiver(PhCheck *c, const PhArchiver *a, const PhDisk *d, TimestampTz now);
extern void ph_check_wraparound(PhCheck *c, const PhWraparound *w);
extern void ph_check_replay(PhCheck *c, const PhReplication *r, const PhSessionCounts *sessions,
							TimestampTz now);

#endif							/* PH_SERVING_CHECKS_H */

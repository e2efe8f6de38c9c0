/*
 * shmem.h -- pg_health's shared memory (ground): its layout and size, the
 * one writer's publish, and the readers' copies out under the lock
 * (shmem.c).
 */
#ifndef PH_SHMEM_H
#define PH_SHMEM_H

#include "ground/snapshot.h"

/* pg_health.history_size, pg_health.events_size, pg_health.max_components */
extern int	ph_history_size;
extern int	ph_events_size;
extern int	ph_max_components;

extern PhShared *ph_shared;

extern void ph_define_shmem_settings(void);
extern void ph_shmem_request(void);
extern void ph_shmem_startup(void);
extern Size ph_shmem_size(void);
extern void ph_require_preloaded(void);

extern void ph_publish(const PhSnapshot *snap, const PhPoolTable *pools,
					   const PhComponentTable *components, const PhStandbyTable *standbys,
					   const PhPoolerTable *poolers, const PhHistoryEntry *history,
					   const PhEvent *event);
extern void ph_copy_pooler_table(PhPoolerTable *dst, const PhPoolerTable *src);
extern pid_t ph_set_worker(pid_t expected, pid_t pid, Latch *latch);
extern pid_t ph_set_http_worker(pid_t expected, pid_t pid);

extern void ph_reader_lock_timeout(int max_wait_us);
extern bool ph_lock_for_reading(void);
extern bool ph_lock_exclusive(void);
extern const PhPoolTable *ph_shared_pool_table(void);
extern void ph_wake_names_worker(void);
extern bool ph_read_snapshot(PhSnapshot *out, pid_t *worker_pid);
extern bool ph_read_snapshot_components(PhSnapshot *snap, PhComponentTable *out,
										PhPoolerTable *poolers, pid_t *worker_pid);
extern void ph_read_verdict_input(PhRole role, PhVerdictInput *out);
extern int	ph_read_history(PhHistoryEntry **out, int max);
extern int	ph_read_events(PhEvent **out, int max, uint64 *total);
extern bool ph_read_pools(PhPoolTable *out, PhSnapshot *snap, PhComponentTable *components,
						  PhPoolerTable *poolers, pid_t *worker_pid);
extern bool ph_read_standbys(PhStandbyTable *out, PhSnapshot *snap, pid_t *worker_pid);
extern void ph_read_limit_oids(PhLimit *roles, int *nroles,
							   PhLimit *databases, int *ndatabases);
extern int	ph_cmp_limit(const void *a, const void *b);
extern const PhLimit *ph_find_limit(const PhLimit *entries, int n, Oid oid);

#endif							/* PH_SHMEM_H */

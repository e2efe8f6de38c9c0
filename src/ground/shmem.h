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

extern PhShared * ph_shared;

extern void ph_define_shmem_settings(void);
extern void ph_shmem_request(void);
extern void ph_shmem_startup(void);
extern Size ph_shmem_size(void);
extern bool ph_preloaded(void);
extern void ph_require_preloaded(void);

extern void ph_publish(const PhSnapshot *snap, const PhPoolTable *pools,
					   const PhComponentTable *components, const PhStandbyTable *standbys,
					   const PhPoolerTable *poolers, const PhHistoryEntry *history,
					   const PhEvent *event);
extern void ph_copy_pooler_table(PhPoolerTable *dst, const PhPoolerTable *src);
extern pid_t ph_set_worker(pid_t expected, pid_t pid, Latch *latch);
extern pid_t ph_set_http_worker(pid_t expected, pid_t pid);
extern void ph_set_http_listening(int port);
extern int	ph_http_listening(void);

extern void ph_reader_lock_timeout(int max_wait_us);
extern bool ph_lock_for_reading(void);
extern bool ph_lock_exclusive(void);
extern const PhPoolTable *ph_shared_pool_table(void);

/*
 * The parts of what the sampler published a reader may copy with the
 * snapshot, under one lock (ph_copy_published).
 */
#define PH_PART_POOLS		0x01
#define PH_PART_COMPONENTS	0x02
#define PH_PART_POOLERS		0x04
#define PH_PART_STANDBYS	0x08
#define PH_PART_HISTORY		0x10
#define PH_PART_EVENTS		0x20

typedef struct PhPublished
{
	/* destinations, as many as the parts asked for */
	PhSnapshot *snap;
	PhPoolTable *pools;
	PhComponentTable *components;
	PhPoolerTable *poolers;
	PhStandbyTable *standbys;
	int			history_max;	/* entries wanted, the newest (<= 0: all) */
	int			events_max;
	/* filled in */
	PhHistoryEntry *history;	/* palloc'd, oldest first */
	int			nhistory;
	PhEvent    *events;			/* palloc'd, oldest first */
	int			nevents;
	uint64		events_total;	/* every event ever recorded */
	pid_t		worker_pid;
	TimestampTz shmem_initialized_at;
	Size		shmem_size;
} PhPublished;

extern bool ph_copy_published(PhPublished *out, uint32 parts);
extern bool ph_read_snapshot(PhSnapshot *out, pid_t *worker_pid);
extern int	ph_read_events(PhEvent **out, int max, uint64 *total);
extern void ph_read_verdict_input(PhRole role, PhVerdictInput *out);
extern bool ph_request_sample(int timeout_ms);
extern bool ph_live_in_recovery(void);
extern void ph_nudge_sampler(void);
extern void ph_read_limit_oids(PhLimit *roles, int *nroles,
							   PhLimit *databases, int *ndatabases);
extern int	ph_cmp_limit(const void *a, const void *b);
extern const PhLimit *ph_find_limit(const PhLimit *entries, int n, Oid oid);

#endif							/* PH_SHMEM_H */

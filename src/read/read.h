/*
 * read.h -- the one way every door (SQL functions, HTTP, metrics) reads
 * what the sampler published (read.c).
 */
#ifndef PH_READ_H
#define PH_READ_H

#include "ground/shmem.h"
#include "ground/snapshot.h"

/* Per-process buffers a reader copies a sample into (see read.c). */
typedef enum PhBuffer
{
	PH_BUF_SNAPSHOT,
	PH_BUF_OVERRIDDEN,			/* a copy with a caller's lag limits applied */
	PH_BUF_COMPONENTS,
	PH_BUF_POOLS,
	PH_BUF_CHECKS,
	PH_BUF_STANDBYS,
	PH_BUF_POOLERS,
	PH_BUF_COUNT
} PhBuffer;

extern void *ph_reader_buffer(PhBuffer which);

/* The latest sample as one caller sees it. */
typedef struct PhView
{
	PhSnapshot *snap;			/* this process's copy (not to be changed) */
	PhComponentTable *components;	/* NULL unless asked for */
	PhPoolerTable *poolers;		/* with the components */
	pid_t		worker_pid;		/* the sampler's; 0 when none runs */
	TimestampTz now;			/* when it was read: freshness is judged then */
	PhVerdict	verdict;		/* for the role asked */
} PhView;

extern void ph_read_view(PhView *view, PhRole role, const PhOverrides *o, bool with_components);

/*
 * The latest sample with what a page or a view shows (/metrics, the status
 * page, health.pools, health.replication, health.history, health.events,
 * health.status): the snapshot and the parts asked for under one lock
 * (PH_PART_*, ground/shmem.h), the checks as read now, and the verdict for
 * any role.
 */
typedef struct PhPageView
{
	bool		copied;			/* false: the lock could not be had */
	PhSnapshot *snap;
	PhPoolTable *pools;
	PhComponentTable *components;
	PhPoolerTable *poolers;
	PhStandbyTable *standbys;
	PhHistoryEntry *history;	/* oldest first */
	int			nhistory;
	PhEvent    *events;			/* oldest first */
	int			nevents;
	uint64		events_total;	/* every event ever recorded */
	TimestampTz shmem_initialized_at;
	Size		shmem_size;
	PhCheck    *checks;
	int			nchecks;
	pid_t		worker_pid;
	TimestampTz now;
	PhVerdict	verdict;
} PhPageView;

extern void ph_read_page(PhPageView *pv, uint32 parts, int history_max, int events_max);
extern bool ph_read_fresh_sample(int timeout_ms);

struct PhAdmission;
extern void ph_read_admission(const PhView *view, const char *user, const char *database,
							  bool http, int may_wait_ms, struct PhAdmission *adm);
extern bool ph_read_lookup_pending(const PhTenantAnswer *answer);
extern bool ph_read_admission_pending(const char *user, const char *database);

#endif							/* PH_READ_H */

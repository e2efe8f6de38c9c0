/*
 * sampler.c -- (collect) the pg_health sampler: a background worker with shared memory
 * access only (no database connection), started with the postmaster so it
 * can say "starting" during recovery.
 *
 * Every pg_health.sample_interval (a regular sample), and at most once more
 * per interval when health.refresh() asks (a refresh-driven sample), it
 * has its collectors read connection slots, backend status and wait events
 * (sessions.c), recovery and replication state (replication.c), the hooks'
 * counters (hooks.c), the component states (components.c), the custom
 * checks' results (custom_checks.c), the poolers' last polls
 * (pooler_config.c), and whether the server can serve: the accept probe it
 * drives between samples (accept_probe.c), commits waiting
 * (commit_waits.c), the disk worker's figures (disk.c), the archiver
 * (archiver.c) and the XID horizon (wraparound.c); it evaluates the checks (builtin_checks.c) and publishes
 * one snapshot (shmem.c).  Status transitions become events and one LOG line
 * each.  Only regular samples enter the history, so that it keeps its cadence
 * however often health.refresh() is called (docs/design.md, "The sampler").
 *
 * It only samples: the HTTP endpoint is served by a worker of its own
 * (http_server.c), a reader of the published snapshot like any SQL backend, so
 * neither ever waits for the other.
 *
 * It never raises an error for a run-time condition: what it reads is
 * shared memory, copied with the protocols core provides.  On SIGTERM it
 * exits with status 1 and the postmaster restarts it after
 * PH_RESTART_SECONDS.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/proc.h"
#include "utils/backend_status.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "common/hashfn.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "collect/accept_probe.h"
#include "collect/archiver.h"
#include "collect/cluster_poll.h"
#include "collect/commit_waits.h"
#include "collect/components.h"
#include "collect/custom_checks.h"
#include "collect/disk.h"
#include "collect/names.h"
#include "collect/pooler_config.h"
#include "collect/replication.h"
#include "collect/sampler.h"
#include "collect/sessions.h"
#include "collect/wraparound.h"
#include "ground/guard.h"
#include "ground/shmem.h"
#include "ground/worker_loop.h"
#include "ground/workers.h"
#include "judge/builtin_checks.h"
#include "judge/component_checks.h"
#include "judge/verdict.h"

void
ph_register_sampler(void)
{
	BackgroundWorker worker;

	ph_describe_worker(&worker, "sampler", BGWORKER_SHMEM_ACCESS,
					   BgWorkerStart_PostmasterStart, PH_RESTART_SECONDS);
	RegisterBackgroundWorker(&worker);
}

/*
 * The counters as they were at this worker's last history entry.  An
 * entry's per-second rates span the time since the previous entry, not since
 * the previous sample: otherwise a refresh-driven sample between two entries
 * would leave the later entry a rate over a sliver of its interval, and what
 * happened before the sliver in no entry at all.
 */
typedef struct PhHistoryBase
{
	TimestampTz at;				/* 0: no entry yet from this worker */
	uint64		authenticated;
	uint64		refused_no_slots;
	uint64		auth_failures;
} PhHistoryBase;

static void
history_rates(PhHistoryEntry *hist, const PhConnections *c, TimestampTz at)
{
	static PhHistoryBase base;

	/* the first entry of a worker keeps the rates since the last sample */
	if (base.at > 0 && at > base.at)
	{
		double		secs = (double) (at - base.at) / USECS_PER_SEC;

		hist->connections_per_s = (c->authenticated - base.authenticated) / secs;
		hist->refusals_per_s = (c->refused_no_slots - base.refused_no_slots) / secs;
		hist->auth_failures_per_s = (c->auth_failures - base.auth_failures) / secs;
	}
	base.at = at;
	base.authenticated = c->authenticated;
	base.refused_no_slots = c->refused_no_slots;
	base.auth_failures = c->auth_failures;
}

/*
 * One sample.  prev holds the last published snapshot and is updated to the
 * new one.  A regular sample (to_history) also appends a history entry.  All
 * allocation happens in the caller's short-lived context.
 */
static void
take_sample(PhSnapshot *prev, TimestampTz worker_started_at, bool first_of_worker,
			bool to_history)
{
	static PhSnapshot cur;
	static PhPoolTable pools;
	static PhComponentTable comps;
	static PhStandbyTable standbys;
	static PhComponent reported[PH_MAX_COMPONENTS_LIMIT];
	static PhCustomState custom;
	static PhPoolerTable poolers;
	static PhEvent event;
	int			nreported;
	PhHistoryEntry hist;
	bool		status_changed;
	bool		checks_changed;
	bool		transition;
	bool		unnamed;
	PhState		old_state;
	RecoveryState recovery;
	TimestampTz start = GetCurrentTimestamp();

	memset(&cur, 0, offsetof(PhSnapshot, checks));
	/* requests made before this point are answered by this sample */
	cur.refresh_served = pg_atomic_read_u64(&ph_shared->refresh_requested);
	cur.generation = prev->generation + 1;
	cur.sampled_at = start;
	cur.worker_started_at = worker_started_at;

	/*
	 * One read of the recovery state for both, so that a promotion between
	 * two reads cannot leave a sample in recovery with no role.  A server
	 * replaying WAL after a crash, or at its very first start, is not a
	 * standby: it is nothing yet.  Archive recovery is a standby (or a
	 * restore).
	 */
	recovery = GetRecoveryState();
	cur.in_recovery = recovery != RECOVERY_STATE_DONE;
	cur.server_role = !cur.in_recovery ? PH_SERVER_PRIMARY :
		recovery == RECOVERY_STATE_ARCHIVE ? PH_SERVER_STANDBY : PH_SERVER_UNKNOWN;
	(void) RecoveryInProgress();	/* this process's view of it, for what
									 * follows */
	cur.consistent = !cur.in_recovery || HotStandbyActive();

	ph_collect_slots(&cur.conn, prev->generation > 0 ? prev->conn.slots_free : MaxConnections);
	pools.generation = cur.generation;
	comps.generation = cur.generation;
	nreported = ph_read_components(reported);
	ph_component_results(&comps, reported, nreported, start);
	ph_replication_begin();
	ph_collect_sessions(&cur.conn, &pools, &comps);
	standbys.generation = cur.generation;
	ph_collect_replication(&cur.repl, &standbys, &prev->repl, cur.in_recovery, start);
	unnamed = ph_apply_names(&pools);
	ph_collect_refusals(&cur.conn, prev, start);
	ph_component_admissions(&comps, &cur, start);
	ph_read_pooler_polls(&poolers);
	poolers.generation = cur.generation;
	ph_count_component_pooler_pools(&comps, &poolers, start);
	ph_read_custom_checks(&custom);
	ph_accept_probe_read(&cur.serving.accept);
	if (!cur.in_recovery)
		ph_collect_commit_waits(&cur.serving.commit, &standbys, start);
	ph_read_disk(&cur.serving.disk);
	ph_collect_archiver(&cur.serving.archiver, &prev->serving.archiver, cur.in_recovery,
						cur.serving.disk.ready_files, start);
	ph_collect_wraparound(&cur.serving.wrap);
	ph_read_cluster(&cur.cluster);
	/* a primary's own timeline, for fencing (a standby's is its replay's) */
	if (!cur.in_recovery)
		cur.repl.timeline = GetWALInsertionTimeLine();
	ph_evaluate(&cur, prev, &pools, &comps, &custom, &poolers);

	/*
	 * Readers see "unknown" from the moment a worker's pid is cleared, so the
	 * first sample of every worker records the way back as a transition.  An
	 * event is a transition of the overall status or of any check.
	 */
	old_state = first_of_worker ? PH_STATE_UNKNOWN : (PhState) prev->state[PH_ROLE_ANY];
	status_changed = old_state != (PhState) cur.state[PH_ROLE_ANY];
	memset(&event, 0, sizeof(event));
	checks_changed = ph_check_changes(&cur, prev, event.changes, sizeof(event.changes));
	transition = status_changed || checks_changed;

	cur.sample_duration_us = GetCurrentTimestamp() - start;
	if (to_history)
	{
		ph_history_entry(&cur, &hist);
		history_rates(&hist, &cur.conn, start);
	}
	if (transition)
	{
		event.occurred_at = start;
		event.generation = cur.generation;
		event.old_state = (uint8) old_state;
		event.new_state = cur.state[PH_ROLE_ANY];
		ph_reasons(&cur, PH_ROLE_ANY, event.reasons, sizeof(event.reasons));
		/* cut at its size, a text may end inside a character */
		ph_clean_text(event.reasons, sizeof(event.reasons), event.reasons, sizeof(event.reasons));
	}
	ph_clean_text(event.changes, sizeof(event.changes), event.changes, sizeof(event.changes));

	ph_publish(&cur, &pools, &comps, &standbys, &poolers, to_history ? &hist : NULL,
			   transition ? &event : NULL);
	if (unnamed)
		ph_wake_worker(PH_WORKER_NAMES);
	if (transition)
		ph_wake_worker(PH_WORKER_CHECKER);	/* it sends the NOTIFY */

	if (status_changed)
		ereport(LOG,
				(errmsg("pg_health: status changed from %s to %s",
						ph_state_name(old_state), ph_state_name(cur.state[PH_ROLE_ANY])),
				 errdetail_internal("%s", event.reasons)));
	else if (checks_changed)
		ereport(LOG,
				(errmsg("pg_health: checks changed, status still %s: %s",
						ph_state_name(old_state), event.changes)));

	memcpy(prev, &cur, PH_SNAPSHOT_USED(&cur));
}

void
pg_health_sampler_main(Datum main_arg)
{
	static PhSnapshot prev;
	MemoryContext sample_cxt;
	TimestampTz worker_started_at = GetCurrentTimestamp();
	TimestampTz last_regular = 0;
	TimestampTz last_extra = 0;
	bool		first = true;
	pid_t		other;

	ph_worker_start();
	ph_worker_claim(PH_WORKER_SAMPLER, 0);
	/* carry on from the last sample: generation, since, started_at */
	ph_read_snapshot(&prev, &other);

	/* its first block is kept across resets: no allocation churn per sample */
	sample_cxt = AllocSetContextCreate(TopMemoryContext, "pg_health sample",
									   1024 * 1024, 1024 * 1024, ALLOCSET_DEFAULT_MAXSIZE);

	/*
	 * Regular samples come every interval from the last regular one.  A
	 * pending health.refresh() is answered by the next sample that starts,
	 * regular or not; a refresh-driven one is taken only when none was in the
	 * last interval, so that callers in a loop cost the sampler at most twice
	 * its idle rate and cannot push the regular ones about.
	 */
	for (;;)
	{
		TimestampTz now;
		TimestampTz next_regular;
		TimestampTz next_extra;
		bool		pending;
		TimestampTz wake;
		bool		regular;
		pgsocket	probe;
		int			probe_events;
		long		probe_ms;
		long		wait_ms;

		/* a reload may change the interval: read it after */
		(void) ph_worker_step(PH_WORKER_SAMPLER);
		now = GetCurrentTimestamp();
		next_regular = TimestampTzPlusMilliseconds(last_regular, ph_sample_interval_ms);
		next_extra = TimestampTzPlusMilliseconds(last_extra, ph_sample_interval_ms);
		pending = pg_atomic_read_u64(&ph_shared->refresh_requested) > prev.refresh_served;

		/* a clock set back must not hold sampling until it catches up */
		if (now < last_regular)
			next_regular = now;
		if (now < last_extra)
			next_extra = now;
		regular = first || now >= next_regular;
		if (regular || (pending && now >= next_extra))
		{
			MemoryContext old;

			/* an answer waiting in the probe's socket counts in this sample */
			ph_accept_probe_step(now);
			old = MemoryContextSwitchTo(sample_cxt);

			if (regular)
				last_regular = now;
			else
				last_extra = now;
			take_sample(&prev, worker_started_at, first, regular);
			first = false;
			MemoryContextSwitchTo(old);
			MemoryContextReset(sample_cxt);
			now = GetCurrentTimestamp();
			next_regular = TimestampTzPlusMilliseconds(last_regular, ph_sample_interval_ms);
			next_extra = TimestampTzPlusMilliseconds(last_extra, ph_sample_interval_ms);
			pending = pg_atomic_read_u64(&ph_shared->refresh_requested) > prev.refresh_served;
		}

		/*
		 * Wait for the next regular sample, or for the next allowed
		 * refresh-driven one when a request is pending; a new request sets
		 * the latch, and the loop looks again.  The accept probe's socket
		 * wakes it too, and its next step bounds the wait.
		 */
		wake = next_regular;
		if (pending && next_extra < wake)
			wake = next_extra;
		ph_accept_probe_step(now);
		probe = ph_accept_probe_socket(now, &probe_events, &probe_ms);
		wait_ms = TimestampDifferenceMilliseconds(now, wake);
		if (probe_ms >= 0 && probe_ms < wait_ms)
			wait_ms = probe_ms;
		ph_worker_wait_socket(PH_WAIT_SAMPLER_NEXT, probe, probe_events, wait_ms);
	}
}

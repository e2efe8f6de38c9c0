/*
 * read.c -- the one way every door reads the verdict (read).
 *
 * SQL functions, the HTTP endpoint and /metrics all read the same way: copy
 * the latest published sample out of shared memory under the shared lock
 * (shmem.c), apply the caller's own lag limits to a copy of it
 * (replication_checks.c re-judges the replication check with them), and
 * judge freshness at the moment of reading (verdict.c).  Formatting happens
 * afterwards, outside the lock, in the door.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "ground/asked_pairs.h"
#include "ground/shmem.h"
#include "judge/admission.h"
#include "judge/builtin_checks.h"
#include "judge/replication_checks.h"
#include "judge/verdict.h"
#include "read/read.h"

/*
 * Per-process buffers for copies of the snapshot, the component table and
 * so on.  They are large (the snapshot is ~90 kB), and allocated afresh at
 * every call they would come from mmap and cost a page fault per page
 * touched: that made health.report() five times slower.  Every reader fills
 * and uses them within one call, without recursion.
 */
void	   *
ph_reader_buffer(PhBuffer which)
{
	static void *bufs[PH_BUF_COUNT];
	static const Size sizes[PH_BUF_COUNT] = {
		[PH_BUF_SNAPSHOT] = sizeof(PhSnapshot),
		[PH_BUF_OVERRIDDEN] = sizeof(PhSnapshot),
		[PH_BUF_COMPONENTS] = sizeof(PhComponentTable),
		[PH_BUF_POOLS] = sizeof(PhPoolTable),
		[PH_BUF_CHECKS] = sizeof(PhCheck) * (PH_MAX_CHECKS + 2),
		[PH_BUF_STANDBYS] = sizeof(PhStandbyTable),
		[PH_BUF_POOLERS] = sizeof(PhPoolerTable),
	};

	if (bufs[which] == NULL)
		bufs[which] = MemoryContextAlloc(TopMemoryContext, sizes[which]);
	return bufs[which];
}

/*
 * The server's role now, when it is not the sample's (promoted since): the
 * role checks and the states judged again for it, on a copy (into buf, or
 * in place when the snapshot already is one), and the sampler asked for a
 * new sample.  The other figures stay the sample's until then.
 */
static PhSnapshot *
live_role(PhSnapshot *snap, PhBuffer buf)
{
	bool		live;
	PhSnapshot *copy = snap;

	if (snap->generation == 0)
		return snap;
	live = ph_live_in_recovery();
	if (live == snap->in_recovery)
		return snap;
	if (snap != ph_reader_buffer(buf))
	{
		copy = ph_reader_buffer(buf);
		memcpy(copy, snap, PH_SNAPSHOT_USED(snap));
	}
	for (int r = 0; r < PH_NUM_ROLES; r++)
	{
		TimestampTz since = copy->role_checks[r].since;
		size_t		len;

		ph_check_role(&copy->role_checks[r], live, (PhRole) r);
		copy->role_checks[r].since = since;
		len = strlen(copy->role_checks[r].detail);
		snprintf(copy->role_checks[r].detail + len, sizeof(copy->role_checks[r].detail) - len,
				 " (%s since the last sample: read now)",
				 live ? "in recovery" : "promoted");
	}
	ph_set_role_states(copy);
	ph_nudge_sampler();
	return copy;
}

/*
 * The latest sample for one caller: copied out (with the component and
 * pooler tables when asked), the caller's lag limits applied to a copy of it (o may be
 * NULL), and the verdict for role judged now.  A reader that polls for the
 * lock (ph_reader_lock_timeout: the HTTP worker) gets its last copy when the
 * lock stays held; the buffers are never changed in place, so that copy is
 * always one as published.
 */
void
ph_read_view(PhView *view, PhRole role, const PhOverrides *o, bool with_components)
{
	PhPublished p = {0};

	p.snap = view->snap = ph_reader_buffer(PH_BUF_SNAPSHOT);
	view->components = NULL;
	view->poolers = NULL;
	if (with_components)
	{
		p.components = view->components = ph_reader_buffer(PH_BUF_COMPONENTS);
		p.poolers = view->poolers = ph_reader_buffer(PH_BUF_POOLERS);
	}
	(void) ph_copy_published(&p, with_components ? PH_PART_COMPONENTS | PH_PART_POOLERS : 0);
	view->worker_pid = p.worker_pid;
	if (o != NULL && (o->max_lag_bytes >= 0 || o->max_delay_ms >= 0))
	{
		/*
		 * on a copy: the HTTP worker answers from its last copy when the lock
		 * stays held, and that must stay the sample as published
		 */
		PhSnapshot *copy = ph_reader_buffer(PH_BUF_OVERRIDDEN);

		memcpy(copy, view->snap, PH_SNAPSHOT_USED(view->snap));
		ph_apply_overrides(copy, o);
		view->snap = copy;
	}
	view->snap = live_role(view->snap, PH_BUF_OVERRIDDEN);
	view->now = GetCurrentTimestamp();
	ph_verdict_from_snapshot(view->snap, view->worker_pid, role, view->now, &view->verdict);
}

/*
 * The latest sample with the parts a page or a view shows (PH_PART_*, read.h),
 * all under one acquisition of the lock, into this process's buffers (the
 * rings' tails, at most history_max and events_max entries, palloc'd in the
 * caller's context); then the verdict for any role and the checks, as read
 * now.  When the lock could not be had (the HTTP worker), the tables hold
 * the last copy and the rings nothing: copied says so.
 */
void
ph_read_page(PhPageView *pv, uint32 parts, int history_max, int events_max)
{
	PhPublished p = {0};

	/* buffers only for the parts asked for: a process keeps what it takes */
	p.snap = pv->snap = ph_reader_buffer(PH_BUF_SNAPSHOT);
	p.pools = pv->pools = (parts & PH_PART_POOLS) ? ph_reader_buffer(PH_BUF_POOLS) : NULL;
	p.components = pv->components =
		(parts & PH_PART_COMPONENTS) ? ph_reader_buffer(PH_BUF_COMPONENTS) : NULL;
	p.poolers = pv->poolers = (parts & PH_PART_POOLERS) ? ph_reader_buffer(PH_BUF_POOLERS) : NULL;
	p.standbys = pv->standbys =
		(parts & PH_PART_STANDBYS) ? ph_reader_buffer(PH_BUF_STANDBYS) : NULL;
	p.history_max = history_max;
	p.events_max = events_max;
	pv->copied = ph_copy_published(&p, parts);
	pv->worker_pid = p.worker_pid;
	pv->history = p.history;
	pv->nhistory = p.nhistory;
	pv->events = p.events;
	pv->nevents = p.nevents;
	pv->events_total = p.events_total;
	pv->shmem_initialized_at = p.shmem_initialized_at;
	pv->shmem_size = p.shmem_size;

	/*
	 * after the copy, as ph_read_view: freshness is judged at the time of
	 * reading
	 */
	pv->checks = ph_reader_buffer(PH_BUF_CHECKS);
	pv->snap = live_role(pv->snap, PH_BUF_OVERRIDDEN);
	pv->now = GetCurrentTimestamp();
	ph_verdict_from_snapshot(pv->snap, pv->worker_pid, PH_ROLE_ANY, pv->now, &pv->verdict);
	pv->nchecks = ph_collect_checks(pv->snap, pv->worker_pid, PH_ROLE_ANY, pv->now, pv->checks);
}

/* health.refresh(): a sample that starts after the call, waited for. */
bool
ph_read_fresh_sample(int timeout_ms)
{
	return ph_request_sample(timeout_ms);
}

/*
 * The per-tenant answer for user and database (either NULL: not asked),
 * judged against the view's sample: the names worker's facts and the
 * sample's slots and sessions.  From SQL (http false) a pair asked for the
 * first time waits up to may_wait_ms for the names worker, and the answer
 * carries the facts; the pair counts against the share of the session's
 * login role (asked_pairs.c).  Over HTTP it never waits (the HTTP worker
 * parks the request instead: ph_read_admission_pending), its questions take
 * the HTTP share, and the answer is judged as for an ordinary role with the
 * facts left out: whoever reaches the port learns the answer and its
 * reasons, not which roles are superusers or when their passwords expire
 * (admission.c).
 */
void
ph_read_admission(const PhView *view, const char *user, const char *database, bool http,
				  int may_wait_ms, PhAdmission *adm)
{
	PhAsker		asker = {.kind = http ? PH_ASKER_HTTP : PH_ASKER_SQL,
	.role = http ? InvalidOid : GetSessionUserId()};

	memset(adm, 0, sizeof(*adm));
	adm->user = user;
	adm->database = database;
	adm->hide_facts = http;
	ph_tenant_answer(user ? user : "", database ? database : "", http ? 0 : may_wait_ms, &asker,
					 &adm->answer);
	ph_judge_admission(view->snap, adm, view->now);
}

/*
 * Does this answer wait for the names worker: the pair not looked up yet,
 * and a names worker running that will, within a pass?  Then the HTTP
 * worker, which never waits inside a request, parks the request and asks
 * again (ph_read_admission_pending) instead of answering "looking_up".
 */
bool
ph_read_lookup_pending(const PhTenantAnswer *answer)
{
	return answer->lookup == PH_LOOKUP_PENDING && answer->names_pid != 0;
}

/*
 * For a parked HTTP request: is its pair's lookup still pending?  Asked as
 * ph_read_admission asks over HTTP (which wakes the names worker again), but
 * without copying or judging the sample: cheap enough for every wake-up.
 */
bool
ph_read_admission_pending(const char *user, const char *database)
{
	PhAsker		asker = {.kind = PH_ASKER_HTTP,.role = InvalidOid};
	PhTenantAnswer answer;

	ph_tenant_answer(user ? user : "", database ? database : "", 0, &asker, &answer);
	return ph_read_lookup_pending(&answer);
}

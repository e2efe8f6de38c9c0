/*
 * replication.c -- what the sampler knows about streaming replication, and
 * the checks built on it: "replication" (a standby streams and keeps up),
 * "sync_standbys" (a primary has its synchronous standbys) and
 * "replication_slots" (no inactive slot holds back too much WAL).
 *
 * Everything is read from shared memory, the way pg_stat_wal_receiver,
 * pg_stat_replication and pg_replication_slots read it, but without a
 * database connection or a catalog lookup: the WAL receiver's state under
 * its spinlock, the walsenders' positions under theirs, the slots under
 * ReplicationSlotControlLock.  Walsenders' names and addresses come from the
 * backend status the sampler reads anyway (ph_note_walsender).
 *
 * Replay delay.  The usual formula, now() - pg_last_xact_replay_timestamp(),
 * grows on a standby of an idle primary although nothing is behind, and
 * jumps to the length of the idle period at the first write.  pg_health
 * measures instead how long the oldest WAL that was received but not yet
 * replayed has been waiting: the sampler remembers when the received
 * position passed each point (a short list of arrivals), and the delay is
 * the age of the first arrival beyond the replay position.  Everything
 * replayed means zero, however long the primary was idle.  Its resolution
 * is one sample interval (it is a lower bound).
 */
#include "postgres.h"

#include <math.h>

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xlogrecovery.h"
#include "fmgr.h"
#include "funcapi.h"
#include "replication/slot.h"
#include "replication/syncrep.h"
#include "replication/walreceiver.h"
#include "replication/walsender.h"
#include "replication/walsender_private.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"

#include "pg_health.h"
#include "read.h"
#include "compat.h"

/* ------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------
 */

const char *
ph_receiver_state_name(PhReceiverState s)
{
	switch (s)
	{
		case PH_RCV_STOPPED:
			return "stopped";
		case PH_RCV_STARTING:
			return "starting";
		case PH_RCV_STREAMING:
			return "streaming";
		case PH_RCV_WAITING:
			return "waiting";
		case PH_RCV_RESTARTING:
			return "restarting";
		case PH_RCV_STOPPING:
			return "stopping";
		default:
			return "none";
	}
}

/* As pg_stat_replication.state spells WalSndState. */
const char *
ph_walsender_state_name(int s)
{
	switch ((WalSndState) s)
	{
		case WALSNDSTATE_STARTUP:
			return "startup";
		case WALSNDSTATE_BACKUP:
			return "backup";
		case WALSNDSTATE_CATCHUP:
			return "catchup";
		case WALSNDSTATE_STREAMING:
			return "streaming";
		case WALSNDSTATE_STOPPING:
			return "stopping";
	}
	return "unknown";
}

const char *
ph_sync_state_name(PhSyncState s)
{
	switch (s)
	{
		case PH_SYNC_POTENTIAL:
			return "potential";
		case PH_SYNC_SYNC:
			return "sync";
		case PH_SYNC_QUORUM:
			return "quorum";
		default:
			return "async";
	}
}

/* pg_size_pretty's units, for details a person reads. */
static void
format_bytes(char *buf, size_t len, int64 bytes)
{
	if (bytes < 10 * 1024)
		snprintf(buf, len, INT64_FORMAT " bytes", bytes);
	else if (bytes < INT64CONST(10) * 1024 * 1024)
		snprintf(buf, len, "%.0f kB", bytes / 1024.0);
	else if (bytes < INT64CONST(10) * 1024 * 1024 * 1024)
		snprintf(buf, len, "%.0f MB", bytes / (1024.0 * 1024.0));
	else
		snprintf(buf, len, "%.0f GB", bytes / (1024.0 * 1024.0 * 1024.0));
}

/* ------------------------------------------------------------------------
 * Collection (sampler)
 * ------------------------------------------------------------------------
 */

/* A walsender as backend status shows it, noted while the sampler reads it. */
typedef struct WalsenderNote
{
	int			pid;
	Oid			datid;			/* logical walsenders connect to a database */
	char		application_name[NAMEDATALEN];
	char		client_addr[64];
	TimestampTz backend_start;
} WalsenderNote;

static WalsenderNote *notes = NULL;
static int	nnotes = 0;

void
ph_replication_begin(void)
{
	if (notes == NULL && max_wal_senders > 0)
		notes = MemoryContextAllocZero(TopMemoryContext,
									   sizeof(WalsenderNote) * max_wal_senders);
	nnotes = 0;
}

void
ph_note_walsender(const PgBackendStatus *be)
{
	WalsenderNote *n;

	if (notes == NULL || nnotes >= max_wal_senders)
		return;
	n = &notes[nnotes++];
	n->pid = be->st_procpid;
	n->datid = be->st_databaseid;
	strlcpy(n->application_name, be->st_appname ? be->st_appname : "", NAMEDATALEN);
	if (!ph_format_client_addr(be, n->client_addr, sizeof(n->client_addr)))
		n->client_addr[0] = '\0';
	n->backend_start = be->st_proc_start_timestamp;
}

static const WalsenderNote *
find_note(int pid)
{
	for (int i = 0; i < nnotes; i++)
		if (notes[i].pid == pid)
			return &notes[i];
	return NULL;
}

/* When the received position passed a point: see the header comment. */
#define PH_ARRIVALS 64
static struct
{
	TimestampTz at;
	XLogRecPtr	lsn;
}			arrivals[PH_ARRIVALS];
static int	narrivals = 0;

static int64
replay_delay(XLogRecPtr received, XLogRecPtr replayed, TimestampTz now)
{
	if (received <= replayed)
	{
		narrivals = 0;
		return 0;
	}
	if (narrivals > 0 && received < arrivals[narrivals - 1].lsn)
		narrivals = 0;			/* a new receiver started further back */
	if (narrivals == 0 || received > arrivals[narrivals - 1].lsn)
	{
		if (narrivals == PH_ARRIVALS)
		{
			/* keep the oldest (it bounds the delay), lose some precision */
			memmove(&arrivals[1], &arrivals[2], sizeof(arrivals[0]) * (PH_ARRIVALS - 2));
			narrivals--;
		}
		arrivals[narrivals].at = now;
		arrivals[narrivals].lsn = received;
		narrivals++;
	}
	while (narrivals > 1 && arrivals[0].lsn <= replayed)
	{
		memmove(&arrivals[0], &arrivals[1], sizeof(arrivals[0]) * (narrivals - 1));
		narrivals--;
	}
	return now > arrivals[0].at ? now - arrivals[0].at : 0;
}

static PhReceiverState
receiver_state(WalRcvState s)
{
	switch (s)
	{
		case WALRCV_STOPPED:
			return PH_RCV_STOPPED;
		case WALRCV_STARTING:
			return PH_RCV_STARTING;
		case WALRCV_STREAMING:
			return PH_RCV_STREAMING;
		case WALRCV_WAITING:
			return PH_RCV_WAITING;
		case WALRCV_RESTARTING:
			return PH_RCV_RESTARTING;
		case WALRCV_STOPPING:
			return PH_RCV_STOPPING;
	}
	return PH_RCV_STOPPED;
}

static void
collect_receiver(PhReplication *r, const PhReplication *prev, TimestampTz now)
{
	WalRcvData *w = WalRcv;
	WalRcvState state;
	XLogRecPtr	received;
	TimeLineID	tli;
	bool		was_streaming,
				streaming;

	SpinLockAcquire(&w->mutex);
	state = w->walRcvState;
	r->receiver_pid = (int) w->pid;
	received = w->flushedUpto;
	r->last_message_at = w->lastMsgReceiptTime;
	if (w->ready_to_display)
	{
		strlcpy(r->sender_host, w->sender_host, sizeof(r->sender_host));
		r->sender_port = w->sender_port;
	}
	SpinLockRelease(&w->mutex);

	r->receiver_state = (uint8) receiver_state(state);
	r->replayed_lsn = GetXLogReplayRecPtr(&tli);
	r->timeline = tli;
	r->current_lsn = r->replayed_lsn;
	r->received_lsn = received;

	/*
	 * After a WAL switch the receiver holds the rest of the segment, zeroes
	 * that replay skips: not lag.
	 */
	if (received > r->replayed_lsn && XLogSegmentOffset(received, wal_segment_size) == 0 &&
		(r->replayed_lsn - 1) / wal_segment_size == (received - 1) / wal_segment_size)
		received = r->replayed_lsn;
	r->lag_bytes = received > r->replayed_lsn ? (int64) (received - r->replayed_lsn) : 0;
	r->delay_us = replay_delay(received, r->replayed_lsn, now);
	r->last_replayed_xact_at = GetLatestXTime();
	r->pause_state = (uint8) GetRecoveryPauseState();
	r->has_primary_conninfo = PrimaryConnInfo != NULL && PrimaryConnInfo[0] != '\0';
	r->has_restore_command = recoveryRestoreCommand != NULL && recoveryRestoreCommand[0] != '\0';

	/* streaming, or not, since the sample that first saw it */
	streaming = r->receiver_state == PH_RCV_STREAMING;
	was_streaming = prev->receiver_state == PH_RCV_STREAMING;
	r->state_since = (prev->receiver_state != PH_RCV_NONE && prev->state_since != 0 &&
					  streaming == was_streaming) ? prev->state_since : now;
}

/* A walsender copied under its spinlock, and where it sorts for syncrep. */
typedef struct SenderCopy
{
	PhStandby	s;
	int			index;
	bool		candidate;
} SenderCopy;

/* Synchronous candidates by priority, then slot order (as syncrep.c). */
static int
cmp_candidate(const void *a, const void *b)
{
	const SenderCopy *x = a;
	const SenderCopy *y = b;

	if (x->candidate != y->candidate)
		return x->candidate ? -1 : 1;
	if (x->s.sync_priority != y->s.sync_priority)
		return x->s.sync_priority < y->s.sync_priority ? -1 : 1;
	return x->index - y->index;
}

static void
collect_standbys(PhReplication *r, PhStandbyTable *t)
{
	static SenderCopy *s = NULL;	/* for the worker's life, like notes */
	int			n = 0;
	int			sync_left;
	bool		quorum = SyncRepConfig != NULL &&
		SyncRepConfig->syncrep_method == SYNC_REP_QUORUM;

	r->current_lsn = GetXLogInsertRecPtr();
	r->sync_required = SyncRepConfig != NULL ? SyncRepConfig->num_sync : 0;
	r->sync_quorum = quorum;
	if (max_wal_senders <= 0 || WalSndCtl == NULL)
		return;

	if (s == NULL)
		s = MemoryContextAlloc(TopMemoryContext, sizeof(SenderCopy) * max_wal_senders);
	for (int i = 0; i < max_wal_senders; i++)
	{
		WalSnd	   *ws = &WalSndCtl->walsnds[i];
		SenderCopy *c = &s[n];
		const WalsenderNote *note;

		memset(c, 0, sizeof(*c));
		SpinLockAcquire(&ws->mutex);
		c->s.pid = (int) ws->pid;
		c->s.state = (uint8) ws->state;
		c->s.sent_lsn = ws->sentPtr;
		c->s.write_lsn = ws->write;
		c->s.flush_lsn = ws->flush;
		c->s.replay_lsn = ws->apply;
		c->s.replay_lag_us = ws->applyLag;
		c->s.sync_priority = ws->sync_standby_priority;
		c->s.reply_at = ws->replyTime;
		SpinLockRelease(&ws->mutex);
		if (c->s.pid == 0)
			continue;
		note = find_note(c->s.pid);
		if (note != NULL && OidIsValid(note->datid))
			continue;			/* logical replication: not a standby */
		if (note != NULL)
		{
			strlcpy(c->s.application_name, note->application_name, NAMEDATALEN);
			strlcpy(c->s.client_addr, note->client_addr, sizeof(c->s.client_addr));
			c->s.backend_start = note->backend_start;
		}
		c->index = i;
		c->candidate = c->s.state == WALSNDSTATE_STREAMING && !XLogRecPtrIsInvalid(c->s.flush_lsn) &&
			c->s.sync_priority > 0;
		n++;
	}

	qsort(s, n, sizeof(SenderCopy), cmp_candidate);
	sync_left = r->sync_required;
	for (int i = 0; i < n; i++)
	{
		PhStandby  *c = &s[i].s;
		XLogRecPtr	behind = !XLogRecPtrIsInvalid(c->replay_lsn) ? c->replay_lsn : c->flush_lsn;
		PhSyncState sync = PH_SYNC_ASYNC;

		c->replay_lag_bytes = XLogRecPtrIsInvalid(behind) ? -1 :
			(r->current_lsn > behind ? (int64) (r->current_lsn - behind) : 0);
		r->max_standby_lag_bytes = Max(r->max_standby_lag_bytes, c->replay_lag_bytes);
		r->standbys++;
		if (c->state == WALSNDSTATE_STREAMING)
			r->standbys_streaming++;
		if (c->sync_priority > 0)
		{
			if (s[i].candidate && quorum)
				sync = PH_SYNC_QUORUM;
			else if (s[i].candidate && sync_left > 0)
			{
				sync = PH_SYNC_SYNC;
				sync_left--;
			}
			else
				sync = PH_SYNC_POTENTIAL;
		}
		c->sync_state = (uint8) sync;
		if (sync == PH_SYNC_SYNC || sync == PH_SYNC_QUORUM)
			r->sync_standbys++;
		if (t->n < PH_MAX_STANDBYS)
			t->items[t->n++] = *c;
		else
			t->omitted++;
	}
}

/* Inactive slots and the WAL they hold back, from current_lsn. */
static void
collect_slots(PhReplication *r)
{
	if (max_replication_slots <= 0 || ReplicationSlotCtl == NULL)
		return;
	LWLockAcquire(ReplicationSlotControlLock, LW_SHARED);
	for (int i = 0; i < max_replication_slots; i++)
	{
		ReplicationSlot *s = &ReplicationSlotCtl->replication_slots[i];
		pid_t		active_pid;
		XLogRecPtr	restart_lsn;
		bool		invalidated;
		NameData	name;

		if (!s->in_use)
			continue;
		SpinLockAcquire(&s->mutex);
		active_pid = s->active_pid;
		restart_lsn = s->data.restart_lsn;
		invalidated = ph_slot_invalidated(s);
		name = s->data.name;
		SpinLockRelease(&s->mutex);

		r->slots++;
		if (active_pid != 0)
			continue;
		r->inactive_slots++;
		if (!invalidated && !XLogRecPtrIsInvalid(restart_lsn) && r->current_lsn > restart_lsn &&
			(int64) (r->current_lsn - restart_lsn) > r->worst_retained_bytes)
		{
			r->worst_retained_bytes = (int64) (r->current_lsn - restart_lsn);
			strlcpy(r->worst_slot, NameStr(name), NAMEDATALEN);
		}
	}
	LWLockRelease(ReplicationSlotControlLock);
}

/*
 * The replication figures of one sample.  prev is the previous sample's
 * (zeroes for a worker's first): it carries "streaming since".
 */
void
ph_collect_replication(PhReplication *r, PhStandbyTable *t, const PhReplication *prev,
					   bool in_recovery, TimestampTz now)
{
	memset(r, 0, sizeof(*r));
	t->n = t->omitted = 0;
	r->worst_retained_bytes = -1;
	if (in_recovery)
		collect_receiver(r, prev, now);
	else
	{
		narrivals = 0;
		collect_standbys(r, t);
	}
	collect_slots(r);
}

/* ------------------------------------------------------------------------
 * Checks
 * ------------------------------------------------------------------------
 */

/*
 * "replication".  On a standby: critical when the WAL receiver has not been
 * streaming for longer than pg_health.replica_stream_grace, or when replay
 * is behind by more than the lag limits (the request's, else the
 * settings'); a warning while replay is paused.  On a primary it only
 * describes the standbys.  Used by the sampler with no overrides and by
 * readers that have them (ph_apply_overrides), so both word it alike.
 */
void
ph_check_replication(PhCheck *c, const PhReplication *r, bool in_recovery,
					 const PhOverrides *o, TimestampTz now)
{
	int64		max_lag = o->max_lag_bytes >= 0 ? o->max_lag_bytes :
		(ph_replica_max_lag_bytes >= 0 ? (int64) ph_replica_max_lag_bytes : -1);
	int64		max_delay_ms = o->max_delay_ms >= 0 ? o->max_delay_ms :
		(ph_replica_max_delay_ms >= 0 ? ph_replica_max_delay_ms : -1);

	/*
	 * A delay limit too large to express in microseconds cannot be exceeded:
	 * tested before multiplying, so that no limit can overflow into a wrong
	 * verdict (the HTTP parser bounds its own and the setting is int ms; this
	 * holds whatever a future caller passes).
	 */
	bool		over_delay = max_delay_ms >= 0 && max_delay_ms <= PG_INT64_MAX / 1000 &&
		r->delay_us > max_delay_ms * 1000;
	char		lag[32];
	char		limit[32];
	char		where[160];
	double		delay_s = r->delay_us / 1e6;
	double		state_s = (now > r->state_since && r->state_since != 0) ?
		(now - r->state_since) / 1e6 : 0.0;

	if (!in_recovery)
	{
		format_bytes(lag, sizeof(lag), r->max_standby_lag_bytes);
		ph_init_check(c, "replication", (double) r->standbys_streaming);
		if (r->standbys == 0)
			snprintf(c->detail, sizeof(c->detail),
					 "a primary with no standby connected");
		else
			snprintf(c->detail, sizeof(c->detail),
					 "a primary: %d standby(s) connected, %d streaming; the farthest behind has "
					 "replayed up to %s less than this server wrote",
					 r->standbys, r->standbys_streaming, lag);
		return;
	}

	ph_init_check(c, "replication", (double) r->lag_bytes);
	if (max_lag >= 0)
		c->critical_threshold = (double) max_lag;
	format_bytes(lag, sizeof(lag), r->lag_bytes);
	if (r->sender_host[0] != '\0')
		snprintf(where, sizeof(where), " from %s:%d", r->sender_host, r->sender_port);
	else
		where[0] = '\0';

	if (r->receiver_state != PH_RCV_STREAMING)
	{
		const char *why = !r->has_primary_conninfo ?
			(r->has_restore_command ? "primary_conninfo is empty: replaying from the archive only" :
			 "primary_conninfo is empty and there is no restore_command") :
			"the primary is unreachable or refused the connection: see this server's log";

		if (ph_replica_stream_grace_ms >= 0 && state_s * 1000.0 > ph_replica_stream_grace_ms)
		{
			c->status = PH_CHECK_CRITICAL;
			snprintf(c->detail, sizeof(c->detail),
					 "not streaming for %.0f s (WAL receiver %s; limit pg_health.replica_stream_grace "
					 "= %d ms): %s; replayed up to %X/%X",
					 state_s, ph_receiver_state_name((PhReceiverState) r->receiver_state),
					 ph_replica_stream_grace_ms, why, LSN_FORMAT_ARGS(r->replayed_lsn));
			return;
		}
		snprintf(c->detail, sizeof(c->detail),
				 "not streaming for %.1f s (WAL receiver %s)%s: %s; replayed up to %X/%X",
				 state_s, ph_receiver_state_name((PhReceiverState) r->receiver_state),
				 ph_replica_stream_grace_ms >= 0 ? ", within pg_health.replica_stream_grace" :
				 ", and pg_health.replica_stream_grace = -1 does not require it",
				 why, LSN_FORMAT_ARGS(r->replayed_lsn));
	}
	else
		snprintf(c->detail, sizeof(c->detail),
				 "streaming%s for %.0f s; replay is %s behind what was received, "
				 "waiting %.1f s",
				 where, state_s, lag, delay_s);

	if (max_lag >= 0 && r->lag_bytes > max_lag)
	{
		format_bytes(limit, sizeof(limit), max_lag);
		c->status = PH_CHECK_CRITICAL;
		snprintf(c->detail, sizeof(c->detail),
				 "replay lag %s (" INT64_FORMAT " bytes) is over the limit of %s "
				 "(" INT64_FORMAT " bytes%s)%s; received %X/%X, replayed %X/%X",
				 lag, r->lag_bytes, limit, max_lag,
				 o->max_lag_bytes >= 0 ? ", this request's" : ": pg_health.replica_max_lag_bytes",
				 r->pause_state != RECOVERY_NOT_PAUSED ? "; replay is paused" : "",
				 LSN_FORMAT_ARGS(r->received_lsn), LSN_FORMAT_ARGS(r->replayed_lsn));
	}
	else if (over_delay)
	{
		c->status = PH_CHECK_CRITICAL;
		snprintf(c->detail, sizeof(c->detail),
				 "replay delay " INT64_FORMAT " ms is over the limit of " INT64_FORMAT " ms (%s): "
				 "received WAL has waited that long to be replayed%s; %s behind",
				 r->delay_us / 1000, max_delay_ms,
				 o->max_delay_ms >= 0 ? "this request's" : "pg_health.replica_max_delay",
				 r->pause_state != RECOVERY_NOT_PAUSED ? " (replay is paused)" : "", lag);
	}
	else if (r->pause_state != RECOVERY_NOT_PAUSED)
	{
		c->status = PH_CHECK_WARNING;
		snprintf(c->detail, sizeof(c->detail),
				 "replay is paused, %s behind what was received: SELECT pg_wal_replay_resume() "
				 "resumes it", lag);
	}
}

/*
 * "sync_standbys" on a primary: critical with fewer synchronous standbys
 * than pg_health.min_sync_standbys; a warning when synchronous_standby_names
 * asks for more than are connected (commits wait for them).
 */
void
ph_check_sync_standbys(PhCheck *c, const PhReplication *r, bool in_recovery)
{
	if (in_recovery)
	{
		ph_init_check(c, "sync_standbys", get_float8_nan());
		snprintf(c->detail, sizeof(c->detail),
				 "a standby: synchronous standbys are a primary's concern");
		return;
	}
	ph_init_check(c, "sync_standbys", (double) r->sync_standbys);
	if (ph_min_sync_standbys > 0)
		c->critical_threshold = (double) ph_min_sync_standbys;
	if (ph_min_sync_standbys > 0 && r->sync_standbys < ph_min_sync_standbys)
	{
		c->status = PH_CHECK_CRITICAL;
		snprintf(c->detail, sizeof(c->detail),
				 "%d synchronous standby(s) connected, pg_health.min_sync_standbys requires %d%s",
				 r->sync_standbys, ph_min_sync_standbys,
				 r->sync_required == 0 ? ": synchronous_standby_names is empty" :
				 ": check the standbys and their application_name against synchronous_standby_names");
	}
	else if (r->sync_required > r->sync_standbys)
	{
		c->status = PH_CHECK_WARNING;
		snprintf(c->detail, sizeof(c->detail),
				 "synchronous_standby_names asks for %d synchronous standby(s) (%s), %d connected: "
				 "commits wait until enough of them are",
				 r->sync_required, r->sync_quorum ? "ANY" : "FIRST", r->sync_standbys);
	}
	else if (r->sync_required > 0)
		snprintf(c->detail, sizeof(c->detail),
				 "%d synchronous standby(s) connected, synchronous_standby_names asks for %d (%s)",
				 r->sync_standbys, r->sync_required, r->sync_quorum ? "ANY" : "FIRST");
	else
		snprintf(c->detail, sizeof(c->detail), "asynchronous replication (synchronous_standby_names is empty)");
}

/* "replication_slots": a warning when an inactive slot retains too much WAL. */
void
ph_check_replication_slots(PhCheck *c, const PhReplication *r)
{
	char		held[32];
	char		limit[32];
	int64		threshold = ph_slot_retained_warning_kb >= 0 ?
		(int64) ph_slot_retained_warning_kb * 1024 : -1;

	ph_init_check(c, "replication_slots", (double) Max(r->worst_retained_bytes, 0));
	if (threshold >= 0)
		c->warning_threshold = (double) threshold;
	format_bytes(held, sizeof(held), Max(r->worst_retained_bytes, 0));
	format_bytes(limit, sizeof(limit), Max(threshold, 0));
	if (threshold >= 0 && r->worst_retained_bytes > threshold)
	{
		c->status = PH_CHECK_WARNING;
		snprintf(c->detail, sizeof(c->detail),
				 "inactive replication slot \"%s\" retains %s of WAL (over %s: "
				 "pg_health.slot_retained_warning); %d of %d slots inactive: reconnect its consumer "
				 "or drop it with SELECT pg_drop_replication_slot('%s')",
				 r->worst_slot, held, limit, r->inactive_slots, r->slots, r->worst_slot);
	}
	else if (r->slots == 0)
		snprintf(c->detail, sizeof(c->detail), "no replication slots");
	else if (r->worst_retained_bytes >= 0)
		snprintf(c->detail, sizeof(c->detail),
				 "%d slot(s), %d inactive; the inactive slot \"%s\" retains %s of WAL",
				 r->slots, r->inactive_slots, r->worst_slot, held);
	else
		snprintf(c->detail, sizeof(c->detail), "%d slot(s), %d inactive, none retaining WAL",
				 r->slots, r->inactive_slots);
}

/*
 * A reader's request with its own lag limits: judge the "replication" check
 * of its copy of the snapshot again with them, and the states with it.
 * The result is not damped (pg_health.hold_samples applies to the settings'
 * limits only).  Returns false when there was nothing to override.
 */
bool
ph_apply_overrides(PhSnapshot *snap, const PhOverrides *o)
{
	if (o->max_lag_bytes < 0 && o->max_delay_ms < 0)
		return false;
	for (int i = 0; i < snap->nchecks; i++)
	{
		PhCheck    *c = &snap->checks[i];

		if (strcmp(c->name, "replication") == 0)
		{
			PhCheckStatus old = (PhCheckStatus) c->status;
			TimestampTz since = c->since;

			ph_check_replication(c, &snap->repl, snap->in_recovery, o, snap->sampled_at);
			c->since = c->status == old ? since : snap->sampled_at;
			ph_set_role_states(snap);
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------------
 * SQL: health.replication
 * ------------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(pg_health_replication_1_0);

#define REPLICATION_COLS 17

static void
put_lsn(Datum *values, bool *nulls, int i, XLogRecPtr lsn)
{
	nulls[i] = XLogRecPtrIsInvalid(lsn);
	if (!nulls[i])
		values[i] = LSNGetDatum(lsn);
}

/* how far behind current a position is, NULL when it is not known */
static void
put_behind(Datum *values, bool *nulls, int i, XLogRecPtr current, XLogRecPtr lsn)
{
	nulls[i] = XLogRecPtrIsInvalid(lsn);
	if (!nulls[i])
		values[i] = Int64GetDatum(current > lsn ? (int64) (current - lsn) : 0);
}

static void
put_text(Datum *values, bool *nulls, int i, const char *s)
{
	nulls[i] = s == NULL || s[0] == '\0';
	if (!nulls[i])
		values[i] = CStringGetTextDatum(s);
}

Datum
pg_health_replication_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PhSnapshot *snap;
	PhStandbyTable *t;
	pid_t		worker_pid;
	Datum		values[REPLICATION_COLS];
	bool		nulls[REPLICATION_COLS];

	ph_require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	snap = ph_reader_buffer(PH_BUF_SNAPSHOT);
	t = ph_reader_buffer(PH_BUF_STANDBYS);
	ph_read_standbys(t, snap, &worker_pid);
	if (snap->generation == 0)
		return (Datum) 0;

	if (snap->in_recovery)
	{
		const PhReplication *r = &snap->repl;
		char		peer[96];

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum("receiver");
		ph_set_opt_int(values, nulls, 1, r->receiver_pid > 0 ? r->receiver_pid : -1);
		nulls[2] = true;
		if (r->sender_host[0] != '\0')
			snprintf(peer, sizeof(peer), "%s:%d", r->sender_host, r->sender_port);
		else
			peer[0] = '\0';
		put_text(values, nulls, 3, peer);
		values[4] = CStringGetTextDatum(ph_receiver_state_name((PhReceiverState) r->receiver_state));
		ph_set_time(values, nulls, 5, r->state_since);
		nulls[6] = nulls[7] = true;
		put_lsn(values, nulls, 8, r->received_lsn);
		put_lsn(values, nulls, 9, r->replayed_lsn);
		nulls[10] = nulls[11] = true;
		values[12] = Int64GetDatum(r->lag_bytes);
		values[13] = ph_interval_datum(r->delay_us);
		values[14] = BoolGetDatum(r->pause_state != RECOVERY_NOT_PAUSED);
		ph_set_time(values, nulls, 15, r->last_message_at);
		ph_set_time(values, nulls, 16, snap->sampled_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		return (Datum) 0;
	}

	for (int i = 0; i < t->n; i++)
	{
		const PhStandby *s = &t->items[i];

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum("standby");
		values[1] = Int32GetDatum(s->pid);
		put_text(values, nulls, 2, s->application_name);
		put_text(values, nulls, 3, s->client_addr);
		values[4] = CStringGetTextDatum(ph_walsender_state_name(s->state));
		ph_set_time(values, nulls, 5, s->backend_start);
		values[6] = CStringGetTextDatum(ph_sync_state_name((PhSyncState) s->sync_state));
		put_lsn(values, nulls, 7, s->sent_lsn);
		put_lsn(values, nulls, 8, s->flush_lsn);
		put_lsn(values, nulls, 9, s->replay_lsn);
		put_behind(values, nulls, 10, snap->repl.current_lsn, s->sent_lsn);
		put_behind(values, nulls, 11, snap->repl.current_lsn, s->flush_lsn);
		nulls[12] = s->replay_lag_bytes < 0;
		if (!nulls[12])
			values[12] = Int64GetDatum(s->replay_lag_bytes);
		nulls[13] = s->replay_lag_us < 0;
		if (!nulls[13])
			values[13] = ph_interval_datum(s->replay_lag_us);
		nulls[14] = true;
		ph_set_time(values, nulls, 15, s->reply_at);
		ph_set_time(values, nulls, 16, snap->sampled_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

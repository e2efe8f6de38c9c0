/*
 * replication.c -- what the sampler knows about streaming replication
 * (collect): a standby's WAL receiver, a primary's standbys, the slots.
 * replication_checks.c judges these figures.
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

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xlogrecovery.h"
#include "replication/slot.h"
#include "replication/syncrep.h"
#include "replication/walreceiver.h"
#include "replication/walsender.h"
#include "replication/walsender_private.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/spin.h"
#include "utils/backend_status.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "collect/replication.h"
#include "ground/compat.h"
#include "ground/guard.h"

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
static int	startup_pid = 0;	/* the startup process, as this sample saw it */

void
ph_replication_begin(void)
{
	if (notes == NULL && max_wal_senders > 0)
		notes = MemoryContextAllocZero(TopMemoryContext,
									   sizeof(WalsenderNote) * max_wal_senders);
	nnotes = 0;
	startup_pid = 0;
}

/* The startup process, from the backend status the sampler reads. */
void
ph_note_startup(const PgBackendStatus *be)
{
	startup_pid = be->st_procpid;
}

/*
 * What the startup process waits on ("IPC:RecoveryConflictSnapshot",
 * "IPC:RecoveryPause", "Timeout:RecoveryApplyDelay", "BufferPin:BufferPin",
 * "Lock:relation", ...); empty when it does not wait (it replays, or waits
 * for WAL).
 */
static void
note_startup_wait(PhReplication *r)
{
	PGPROC	   *proc = startup_pid != 0 ? AuxiliaryPidGetProc(startup_pid) : NULL;
	uint32		wait = proc != NULL ? proc->wait_event_info : 0;
	const char *type;
	const char *event;

	r->startup_pid = startup_pid;
	r->startup_wait[0] = '\0';
	if (wait == 0 || wait == WAIT_EVENT_RECOVERY_WAL_STREAM || wait == WAIT_EVENT_WAL_READ)
		return;
	type = pgstat_get_wait_event_type(wait);
	event = pgstat_get_wait_event(wait);
	snprintf(r->startup_wait, sizeof(r->startup_wait), "%s:%s",
			 type ? type : "?", event ? event : "?");
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
#if PH_HAVE_WALRCV_CONNECTING
		case WALRCV_CONNECTING:
			/* connecting to its upstream: not streaming yet, so starting */
			return PH_RCV_STARTING;
#endif
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

	/*
	 * Replay moves, or has nothing to do: otherwise it is stalled since the
	 * last sample where it was either.
	 */
	if (r->lag_bytes == 0 || prev->replay_moved_at == 0 || r->replayed_lsn != prev->replayed_lsn)
		r->replay_moved_at = now;
	else
		r->replay_moved_at = prev->replay_moved_at;
	note_startup_wait(r);
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

/* Keep a slot among the PH_TOP_SLOTS that retain the most WAL. */
static void
note_top_slot(PhReplication *r, const char *name, int64 retained, bool active)
{
	int			k = r->ntop_slots < PH_TOP_SLOTS ? r->ntop_slots++ : PH_TOP_SLOTS;

	if (k == PH_TOP_SLOTS)
	{
		if (retained <= r->top_slots[PH_TOP_SLOTS - 1].retained_bytes)
			return;
		k = PH_TOP_SLOTS - 1;
	}
	/* insertion: the most first */
	for (; k > 0 && r->top_slots[k - 1].retained_bytes < retained; k--)
		r->top_slots[k] = r->top_slots[k - 1];
	strlcpy(r->top_slots[k].name, name, NAMEDATALEN);
	r->top_slots[k].retained_bytes = retained;
	r->top_slots[k].active = active;
}

/* Inactive slots and the WAL they hold back, from current_lsn; the top slots. */
static void
collect_slots(PhReplication *r)
{
	if (max_replication_slots <= 0 || ReplicationSlotCtl == NULL)
		return;
	LWLockAcquire(ReplicationSlotControlLock, LW_SHARED);
	for (int i = 0; i < max_replication_slots; i++)
	{
		ReplicationSlot *s = &ReplicationSlotCtl->replication_slots[i];
		bool		active;
		XLogRecPtr	restart_lsn;
		bool		invalidated;
		NameData	name;

		if (!s->in_use)
			continue;
		SpinLockAcquire(&s->mutex);
		active = ph_slot_active(s);
		restart_lsn = s->data.restart_lsn;
		invalidated = ph_slot_invalidated(s);
		name = s->data.name;
		SpinLockRelease(&s->mutex);

		r->slots++;
		if (!invalidated && !XLogRecPtrIsInvalid(restart_lsn))
			note_top_slot(r, NameStr(name), r->current_lsn > restart_lsn ?
						  (int64) (r->current_lsn - restart_lsn) : 0, active);
		if (active)
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

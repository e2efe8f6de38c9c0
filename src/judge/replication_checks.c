/*
 * replication_checks.c -- judging replication (judge): "replication" (a
 * standby streams and keeps up), "sync_standbys" (a primary has its
 * synchronous standbys) and "replication_slots" (no inactive slot holds
 * back too much WAL), from the figures replication.c collected; the same
 * judgement with a caller's own lag limits (ph_apply_overrides); and the
 * words for receiver, walsender and sync states.
 */
#include "postgres.h"

#include <math.h>

#include "access/xlogdefs.h"
#include "access/xlogrecovery.h"
#include "replication/walsender_private.h"

#include "judge/replication_checks.h"
#include "judge/verdict.h"

/*
 * The settings' variables; their rows in check_table.c define the settings
 * (these initial values are the rows' defaults).
 */
double		ph_replica_max_lag_bytes = -1;
int			ph_replica_max_delay_ms = -1;
int			ph_replica_stream_grace_ms = 30000;
int			ph_min_sync_standbys = 0;
int			ph_slot_retained_warning_kb = 1024 * 1024;

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
 * asks for more than are connected (commits wait for them).  A standby's
 * row only says that it is a primary's concern (its row in check_table.c).
 */
void
ph_check_sync_standbys(PhCheck *c, const PhReplication *r)
{
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

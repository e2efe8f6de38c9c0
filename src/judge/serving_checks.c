/*
 * serving_checks.c -- judging whether the server can serve (judge):
 * "accepting" (a new connection is answered), "commit_path" (commits do
 * not hang on synchronous standbys or WAL), "disk" (room on the
 * filesystems, pg_wal first), "archiver" (archiving works), "wraparound"
 * (XIDs last) and "replay" (a standby's replay moves).  Their rows are in
 * check_table.c, their figures collected by accept_probe.c, commit_waits.c,
 * disk.c, archiver.c, wraparound.c and replication.c.  docs/checks.md says
 * why each limit is what it is.
 */
#include "postgres.h"

#include <math.h>

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "ground/shmem.h"
#include "ground/workers.h"
#include "judge/serving_checks.h"
#include "judge/verdict.h"

/*
 * The settings' variables; their rows in check_table.c define the settings
 * (these initial values are the rows' defaults).
 */
int			ph_accept_probe_interval_ms = 1000;
int			ph_accept_timeout_ms = 5000;
int			ph_commit_wait_warning_ms = 1000;
int			ph_commit_wait_critical_ms = 10000;
int			ph_disk_used_warning = 90;
int			ph_disk_used_critical = 0;
int			ph_disk_full_warning_s = 3600;
int			ph_wal_free_critical_mb = 256;
int			ph_archive_failing_warning_s = 60;
int			ph_wraparound_warning = 50;
int			ph_wraparound_critical = 95;
int			ph_replay_stall_warning_s = 30;
int			ph_replay_stall_critical_s = 300;

/* "1.5 GB", "310 MB", "12 kB" */
static void
append_bytes(StringInfo s, double bytes)
{
	static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB", "PB"};
	int			u = 0;

	while (fabs(bytes) >= 1024 && u < (int) lengthof(units) - 1)
	{
		bytes /= 1024;
		u++;
	}
	appendStringInfo(s, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

/* "45 s", "12 min", "3.2 h" */
static void
append_duration(StringInfo s, double seconds)
{
	if (seconds < 120)
		appendStringInfo(s, "%.0f s", seconds);
	else if (seconds < 7200)
		appendStringInfo(s, "%.0f min", seconds / 60);
	else
		appendStringInfo(s, "%.1f h", seconds / 3600);
}

static void
set_detail(PhCheck *c, StringInfo s)
{
	strlcpy(c->detail, s->data, sizeof(c->detail));
	pfree(s->data);
}

static void
raise_to(PhCheck *c, PhCheckStatus status)
{
	if (c->status == PH_CHECK_UNKNOWN || c->status < status)
		c->status = status;
}

/* ------------------------------------------------------------------------
 * accepting
 * ------------------------------------------------------------------------
 */
void
ph_check_accepting(PhCheck *c, const PhAccept *a, TimestampTz now)
{
	double		unanswered_ms = a->unanswered_since != 0 && now > a->unanswered_since ?
		(double) (now - a->unanswered_since) / 1000.0 : 0.0;
	StringInfoData s;

	initStringInfo(&s);
	if (ph_accept_probe_interval_ms <= 0 || !a->on)
	{
		ph_init_check(c, "accepting", get_float8_nan());
		appendStringInfo(&s, "not probed: %s", a->target[0] ? a->target :
						 "the sampler has not probed yet");
		set_detail(c, &s);
		return;
	}
	ph_threshold_check(c, "accepting", unanswered_ms, 0, ph_accept_timeout_ms);
	if (c->status == PH_CHECK_CRITICAL)
	{
		appendStringInfo(&s, "no new connection answered for %.1f s on %s (limit %.1f s): "
						 "the postmaster is not accepting connections or cannot start "
						 "backends (stopped, hung, fork failing, listen queue full), so "
						 "clients cannot connect",
						 unanswered_ms / 1000, a->target, ph_accept_timeout_ms / 1000.0);
		if (a->last_error[0])
			appendStringInfo(&s, "; last attempt: %s", a->last_error);
	}
	else if (a->unanswered_since != 0 && a->last_error[0])
	{
		c->status = PH_CHECK_WARNING;
		appendStringInfo(&s, "a new connection on %s failed %.1f s ago: %s",
						 a->target, unanswered_ms / 1000, a->last_error);
	}
	else if (a->last_answer_at == 0)
		appendStringInfo(&s, "probing %s: no answer yet", a->target);
	else
		appendStringInfo(&s, "a new connection on %s was answered in %.1f ms, %.1f s ago "
						 "(%llu probes, %llu failed)", a->target,
						 a->last_answer_us / 1000.0,
						 ph_age_seconds(a->last_answer_at, now),
						 (unsigned long long) a->probes, (unsigned long long) a->failures);
	set_detail(c, &s);
}

/* ------------------------------------------------------------------------
 * commit_path
 * ------------------------------------------------------------------------
 */
void
ph_check_commit_path(PhCheck *c, const PhCommitWaits *w, TimestampTz now)
{
	double		waited_ms = w->oldest_since != 0 && now > w->oldest_since ?
		(double) (now - w->oldest_since) / 1000.0 : 0.0;
	StringInfoData s;

	ph_threshold_check(c, "commit_path", waited_ms, ph_commit_wait_warning_ms,
					   ph_commit_wait_critical_ms);

	/*
	 * Commits waiting for a standby hang writes only; a WAL device that does
	 * not write hangs reads too (evicting a dirty buffer flushes WAL first).
	 */
	c->writes_only = strstr(w->oldest_wait, "SyncRep") != NULL;
	initStringInfo(&s);
	if (w->sync_rep + w->wal == 0)
	{
		appendStringInfoString(&s, "no commit is waiting for a synchronous standby or for WAL");
		set_detail(c, &s);
		return;
	}
	if (w->sync_rep > 0)
		appendStringInfo(&s, "%d process(es) waiting for synchronous standbys to confirm a commit",
						 w->sync_rep);
	if (w->wal > 0)
		appendStringInfo(&s, "%s%d process(es) waiting to write or flush WAL",
						 s.len > 0 ? ", " : "", w->wal);
	appendStringInfo(&s, "; the longest, pid %d, for at least %.1f s (%s)",
					 w->oldest_pid, waited_ms / 1000, w->oldest_wait);
	if (w->npids > 1)
	{
		appendStringInfoString(&s, "; pids");
		for (int i = 0; i < w->npids; i++)
			appendStringInfo(&s, "%s %d", i > 0 ? "," : "", w->pids[i]);
	}

	/*
	 * The detail holds PH_DETAIL_LEN bytes: what says why and what to do
	 * comes first, the rest only when it fits whole.
	 */
	if (c->status != PH_CHECK_OK && w->sync_rep > 0)
	{
		const char *durable = "; the waiting commits are durable here and return once a "
			"standby confirms";

		if (w->missing[0])
			appendStringInfo(&s, "; not connected: %s: start it, or take it out of "
							 "synchronous_standby_names and reload", w->missing);
		else
			appendStringInfoString(&s, ": start the standby, or take it out of "
								   "synchronous_standby_names and reload");
		if (s.len + strlen(durable) < sizeof(c->detail))
			appendStringInfoString(&s, durable);
	}
	else if (c->status != PH_CHECK_OK)
		appendStringInfoString(&s, ": the storage of pg_wal is slow or hung; check it");
	if (c->status == PH_CHECK_CRITICAL)
	{
		const char *effect = " (writes hang: /primary answers 503, /ready stays 200)";

		if (s.len + strlen(effect) < sizeof(c->detail))
			appendStringInfoString(&s, effect);
	}
	set_detail(c, &s);
}

/* ------------------------------------------------------------------------
 * disk
 * ------------------------------------------------------------------------
 */

static double
used_pct(const PhFilesystem *fs)
{
	return ph_filesystem_used_pct(fs);
}

static void
append_holds(StringInfo s, const PhFilesystem *fs)
{
	bool		first = true;

	appendStringInfoString(s, " (");
	if (fs->holds & PH_FS_DATA)
	{
		appendStringInfoString(s, "data directory");
		first = false;
	}
	if (fs->holds & PH_FS_WAL)
	{
		appendStringInfo(s, "%spg_wal", first ? "" : ", ");
		first = false;
	}
	if (fs->holds & PH_FS_TABLESPACE)
	{
		appendStringInfo(s, "%stablespace oid %u", first ? "" : ", ", fs->tablespace);
		if (fs->tablespaces > 1)
			appendStringInfo(s, " and %d more", fs->tablespaces - 1);
	}
	appendStringInfoChar(s, ')');
}

static const PhFilesystem *
wal_filesystem(const PhDisk *d)
{
	for (int i = 0; i < d->n; i++)
		if (d->fs[i].holds & PH_FS_WAL)
			return &d->fs[i];
	return NULL;
}

/*
 * pg_wal's filesystem is short of room for WAL that cannot be removed: less
 * than PH_ARCHIVE_ROOM_FACTOR times pg_health.wal_free_critical left (1 GB
 * at the default), an absolute measure, so that a large volume that is 90%
 * full but has a terabyte free is not short.
 */
#define PH_ARCHIVE_ROOM_FACTOR 4

static bool
wal_room_short(const PhDisk *d)
{
	const PhFilesystem *w = wal_filesystem(d);

	return w != NULL && w->error == 0 && ph_wal_free_critical_mb > 0 &&
		w->free_bytes < (uint64) PH_ARCHIVE_ROOM_FACTOR * ph_wal_free_critical_mb * 1024 * 1024;
}

void
ph_check_disk(PhCheck *c, const PhDisk *d, TimestampTz now, int window_s, int stale_ms)
{
	const PhFilesystem *fullest = NULL;
	const PhFilesystem *soonest = NULL;
	const PhFilesystem *wal = wal_filesystem(d);
	bool		filling;
	StringInfoData s;
	StringInfoData part;
	StringInfoData stale;

	for (int i = 0; i < d->n; i++)
	{
		const PhFilesystem *fs = &d->fs[i];

		if (fs->error != 0)
			continue;
		if (fullest == NULL || used_pct(fs) > used_pct(fullest))
			fullest = fs;
		if (!isnan(fs->full_in_s) && (soonest == NULL || fs->full_in_s < soonest->full_in_s))
			soonest = fs;
	}
	initStringInfo(&s);
	if (d->measured_at == 0)
	{
		ph_init_check(c, "disk", get_float8_nan());
		if (d->worker_pid == 0)
		{
			c->status = PH_CHECK_WARNING;
			appendStringInfoString(&s, "the pg_health disk worker is not running: see the server log");
		}
		else
			appendStringInfoString(&s, "the pg_health disk worker has not measured yet");
		set_detail(c, &s);
		return;
	}
	ph_threshold_check(c, "disk", fullest ? used_pct(fullest) : 0.0,
					   ph_disk_used_warning, ph_disk_used_critical);

	/*
	 * Writes failing now, or pg_wal about to fill: critical.  A write refused
	 * for lack of room is critical while a filesystem is still short of it;
	 * once every one has room again (a query that filled a temporary
	 * tablespace and ended) it only warns for the rest of the window.
	 */
	if (window_s > 0 && d->last_disk_full_at != 0 &&
		now - d->last_disk_full_at <= (int64) window_s * USECS_PER_SEC)
	{
		bool		short_of_room = false;

		for (int i = 0; i < d->n; i++)
			if (d->fs[i].error == 0 &&
				((ph_disk_used_warning > 0 && used_pct(&d->fs[i]) >= ph_disk_used_warning) ||
				 d->fs[i].free_bytes < (uint64) ph_wal_free_critical_mb * 1024 * 1024))
				short_of_room = true;
		raise_to(c, short_of_room ? PH_CHECK_CRITICAL : PH_CHECK_WARNING);
		appendStringInfo(&s, "writes failed for lack of disk space (SQLSTATE 53100) %.0f s ago "
						 "(%llu since the server started; the server log names the file)%s: ",
						 ph_age_seconds(d->last_disk_full_at, now),
						 (unsigned long long) d->disk_full_errors,
						 short_of_room ? "" : "; every filesystem has room again");
	}
	if (wal != NULL && wal->error == 0 &&
		wal->free_bytes < (uint64) ph_wal_free_critical_mb * 1024 * 1024)
	{
		c->status = PH_CHECK_CRITICAL;
		appendStringInfo(&s, "pg_wal's filesystem %s has ", wal->path);
		append_bytes(&s, (double) wal->free_bytes);
		appendStringInfo(&s, " free, below pg_health.wal_free_critical (%d MB): a full pg_wal "
						 "stops the server (PANIC); free space, or find what retains WAL "
						 "(a failing archiver, an inactive slot): ", ph_wal_free_critical_mb);
	}

	/*
	 * The figures are old: said last, with room kept for it.  The detail
	 * holds PH_DETAIL_LEN bytes: what says why comes first, each figure after
	 * it only when it fits whole.
	 */
	initStringInfo(&stale);
	if (d->measuring_since != 0 && now - d->measuring_since > (int64) stale_ms * 1000)
	{
		raise_to(c, PH_CHECK_WARNING);
		appendStringInfo(&stale, "; these figures are %.0f s old: the disk worker has waited %.0f s "
						 "on %s (a network filesystem that does not answer?)",
						 ph_age_seconds(d->measured_at, now),
						 ph_age_seconds(d->measuring_since, now), d->measuring);
	}
	else if (now - d->measured_at > (int64) stale_ms * 1000)
	{
		raise_to(c, PH_CHECK_WARNING);
		appendStringInfo(&stale, "; these figures are %.0f s old: the pg_health disk worker %s",
						 ph_age_seconds(d->measured_at, now),
						 d->worker_pid == 0 ? "is not running (see the server log)" : "is not keeping up");
	}
	initStringInfo(&part);
	filling = soonest != NULL && ph_disk_full_warning_s > 0 &&
		soonest->full_in_s < ph_disk_full_warning_s;
	if (filling)
		raise_to(c, PH_CHECK_WARNING);
	/* the filesystem filling, when it is not the fullest (said there) */
	if (filling && soonest != fullest)
	{
		appendStringInfo(&part, "%s", soonest->path);
		append_holds(&part, soonest);
		appendStringInfoString(&part, " is full in ");
		append_duration(&part, soonest->full_in_s);
		appendStringInfoString(&part, " at the growth of the last ");
		append_duration(&part, (double) Max(ph_history_size, 1) * ph_sample_interval_ms / 1000.0);
		appendStringInfoString(&part, " (");
		append_bytes(&part, soonest->used_per_s);
		appendStringInfoString(&part, "/s): ");
		if (s.len + part.len + stale.len < PH_DETAIL_LEN)
			appendBinaryStringInfo(&s, part.data, part.len);
		resetStringInfo(&part);
	}
	if (fullest != NULL)
	{
		appendStringInfo(&part, "fullest: %s", fullest->path);
		append_holds(&part, fullest);
		appendStringInfo(&part, " %.1f%% used, ", used_pct(fullest));
		append_bytes(&part, (double) fullest->free_bytes);
		appendStringInfoString(&part, " free");
		if (filling && soonest == fullest)
		{
			appendStringInfoString(&part, ", full in ");
			append_duration(&part, fullest->full_in_s);
			appendStringInfoString(&part, " at the growth of the last ");
			append_duration(&part, (double) Max(ph_history_size, 1) * ph_sample_interval_ms / 1000.0);
			appendStringInfoString(&part, " (");
			append_bytes(&part, fullest->used_per_s);
			appendStringInfoString(&part, "/s)");
		}
		appendStringInfo(&part, "; %d filesystem(s)", d->n);
		if (s.len + part.len + stale.len < PH_DETAIL_LEN)
			appendBinaryStringInfo(&s, part.data, part.len);
		resetStringInfo(&part);
	}
	for (int i = 0; i < d->n; i++)
		if (d->fs[i].error != 0)
		{
			raise_to(c, PH_CHECK_WARNING);
			appendStringInfo(&part, "; could not read %s: %s", d->fs[i].path, strerror(d->fs[i].error));
			if (s.len + part.len + stale.len < PH_DETAIL_LEN)
				appendBinaryStringInfo(&s, part.data, part.len);
			resetStringInfo(&part);
		}
	if (d->omitted > 0)
		appendStringInfo(&part, "; %d more not shown", d->omitted);
	if (s.len + part.len + stale.len < PH_DETAIL_LEN)
		appendBinaryStringInfo(&s, part.data, part.len);
	appendBinaryStringInfo(&s, stale.data, stale.len);
	pfree(part.data);
	pfree(stale.data);
	set_detail(c, &s);
}

/* ------------------------------------------------------------------------
 * archiver
 * ------------------------------------------------------------------------
 */
void
ph_check_archiver(PhCheck *c, const PhArchiver *a, const PhDisk *d, TimestampTz now)
{
	TimestampTz since = a->failing_since;
	double		failing_s;
	StringInfoData s;

	/* failing, or standing still with segments waiting: whichever is older */
	if (a->stalled_since != 0 && (since == 0 || a->stalled_since < since))
		since = a->stalled_since;
	failing_s = since != 0 ? ph_age_seconds(since, now) : 0.0;
	initStringInfo(&s);
	if (!a->on)
	{
		ph_init_check(c, "archiver", get_float8_nan());
		appendStringInfoString(&s, "this server does not archive (archive_mode)");
		set_detail(c, &s);
		return;
	}
	ph_threshold_check(c, "archiver", failing_s, ph_archive_failing_warning_s, 0);
	/* 0 is not "off" here: it warns at the first failure */
	if (ph_archive_failing_warning_s == 0)
	{
		c->warning_threshold = 0;
		if (since != 0)
			raise_to(c, PH_CHECK_WARNING);
	}
	if (a->failing_since != 0)
	{
		appendStringInfo(&s, "archiving has failed since %s (%.0f s; %llu failures in all); the "
						 "last failure %.0f s ago, on segment %s",
						 timestamptz_to_str(a->failing_since),
						 ph_age_seconds(a->failing_since, now),
						 (unsigned long long) a->failed_count,
						 ph_age_seconds(a->last_failed_at, now), a->last_failed_wal);
	}
	else if (a->stalled_since != 0)
		appendStringInfo(&s, "no segment archived for %.0f s while segments wait, and no failure "
						 "reported: archive_command hangs, or archiving is not configured",
						 failing_s);
	else if (a->last_archived_at != 0)
		appendStringInfo(&s, "archiving works: %llu segments archived, the last (%s) %.0f s ago",
						 (unsigned long long) a->archived_count, a->last_archived_wal,
						 ph_age_seconds(a->last_archived_at, now));
	else
		appendStringInfoString(&s, "nothing archived yet");
	if (d->ready_files > 0)
	{
		appendStringInfo(&s, "; %d WAL segment(s) (", d->ready_files);
		append_bytes(&s, (double) d->ready_files * wal_segment_size);
		appendStringInfoString(&s, ") wait to be archived and cannot be removed");
	}
	if (c->status != PH_CHECK_OK)
	{
		if (wal_room_short(d))
		{
			c->status = PH_CHECK_CRITICAL;
			appendStringInfoString(&s, ", and pg_wal's filesystem is short of room (the disk "
								   "check says how much)");
		}
		appendStringInfoString(&s, ": fix archive_command (its error is in the server log)");
	}
	set_detail(c, &s);
}

/* ------------------------------------------------------------------------
 * wraparound
 * ------------------------------------------------------------------------
 */
static double
share_of(int64 age, int64 limit)
{
	return limit > 0 ? 100.0 * (double) age / (double) limit : 0.0;
}

void
ph_check_wraparound(PhCheck *c, const PhWraparound *w)
{
	double		xid_pct = share_of(w->xid_age, w->xid_stop_age);
	double		mxid_pct = share_of(w->mxid_age, w->mxid_stop_age);
	bool		xid_worse = xid_pct >= mxid_pct;
	StringInfoData s;

	initStringInfo(&s);
	if (!w->known)
	{
		ph_init_check(c, "wraparound", get_float8_nan());
		appendStringInfoString(&s, "the transaction ID limits are not set yet");
		set_detail(c, &s);
		return;
	}
	ph_threshold_check(c, "wraparound", Max(xid_pct, mxid_pct), ph_wraparound_warning,
					   ph_wraparound_critical);
	c->writes_only = true;
	if (w->xid_age >= w->xid_warn_age)
		c->status = PH_CHECK_CRITICAL;

	/*
	 * The detail holds PH_DETAIL_LEN bytes, the database's name up to 63 of
	 * them: the figures, the stop, what to do; the rest when it fits whole.
	 */
	appendStringInfo(&s, "oldest unfrozen XID is %lld transactions old (%.1f%% of the way to the "
					 "stop limit", (long long) w->xid_age, xid_pct);
	if (c->status == PH_CHECK_OK)
		appendStringInfo(&s, "; autovacuum forces freezing from %lld", (long long) w->xid_vacuum_age);
	if (w->oldest_database[0])
		appendStringInfo(&s, ") in database \"%s\"", w->oldest_database);
	else
		appendStringInfo(&s, ") in the database with oid %u", w->oldest_xid_database);
	appendStringInfo(&s, "; MultiXact %.1f%%", mxid_pct);
	if (w->xid_age >= w->xid_stop_age || w->mxid_age >= w->mxid_stop_age)
		appendStringInfoString(&s, ": past the stop limit, PostgreSQL refuses commands that "
							   "assign new IDs");
	if (c->status != PH_CHECK_OK)
		appendStringInfo(&s, ": VACUUM (FREEZE) %s (vacuumdb --all --freeze) after ending what "
						 "holds the horizon back (long or prepared transactions, stale slots)",
						 xid_worse && w->oldest_database[0] ? "that database" : "every database");
	if (c->status == PH_CHECK_CRITICAL)
	{
		const char *effect = " (/primary answers 503; reads are served)";

		if (s.len + strlen(effect) < sizeof(c->detail))
			appendStringInfoString(&s, effect);
	}
	set_detail(c, &s);
}

/* ------------------------------------------------------------------------
 * replay
 * ------------------------------------------------------------------------
 */
void
ph_check_replay(PhCheck *c, const PhReplication *r, const PhSessionCounts *sessions,
				TimestampTz now)
{
	double		stalled = r->lag_bytes > 0 ? ph_age_seconds(r->replay_moved_at, now) : 0.0;
	bool		delayed = strstr(r->startup_wait, "RecoveryApplyDelay") != NULL;
	bool		paused = r->pause_state != RECOVERY_NOT_PAUSED;
	StringInfoData s;

	/* an apply delay holds WAL back on purpose: only what exceeds it counts */
	if (delayed)
		stalled = Max(stalled - recovery_min_apply_delay / 1000.0, 0.0);
	ph_threshold_check(c, "replay", stalled, ph_replay_stall_warning_s,
					   ph_replay_stall_critical_s);
	initStringInfo(&s);
	if (paused)
	{
		raise_to(c, PH_CHECK_WARNING);
		appendStringInfo(&s, "recovery is %s (pg_wal_replay_pause()): resume it with "
						 "SELECT pg_wal_replay_resume(); ",
						 r->pause_state == RECOVERY_PAUSED ? "paused" : "pausing");
	}
	if (r->lag_bytes == 0)
		appendStringInfoString(&s, "replay has nothing waiting: all WAL received is replayed");
	else
	{
		appendStringInfo(&s, "%lld bytes received wait to be replayed; replay %s",
						 (long long) r->lag_bytes,
						 stalled >= 1 ? "has not advanced for " : "advances");
		if (stalled >= 1)
			append_duration(&s, stalled);
	}
	if (r->startup_wait[0])
	{
		appendStringInfo(&s, "; the startup process (pid %d) waits on %s", r->startup_pid,
						 r->startup_wait);
		if (strstr(r->startup_wait, "RecoveryConflict") != NULL ||
			strstr(r->startup_wait, "BufferPin") != NULL ||
			strncmp(r->startup_wait, "Lock:", 5) == 0)
		{
			appendStringInfoString(&s, ": a query on this standby conflicts with replay");
			if (sessions->oldest_xact_pid != 0)
				appendStringInfo(&s, "; the oldest transaction here is pid %d, open for %.0f s",
								 sessions->oldest_xact_pid,
								 ph_age_seconds(sessions->oldest_xact_start, now));
			if (c->status != PH_CHECK_OK)
				appendStringInfoString(&s, ": end it (pg_terminate_backend), or bound the wait "
									   "with max_standby_streaming_delay");
		}
		else if (delayed)
			appendStringInfo(&s, " (recovery_min_apply_delay = %d ms, not counted)",
							 recovery_min_apply_delay);
	}
	set_detail(c, &s);
}

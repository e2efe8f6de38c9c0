/*
 * archiver.c -- (collect) the archiver, from its statistics (what
 * pg_stat_archiver shows): whether this server archives, what it archived
 * and failed to archive last, and since when it has been failing.  The WAL
 * waiting to be archived is counted by the disk worker (disk.c), which
 * reads directories.
 *
 * The statistics keep only the last failure; "failing since" is the first
 * failure this worker saw after the last success (the last failure's time,
 * when it first sees one).  A command that hangs, or an empty one, reports
 * no failure at all: "stalled since" is the first sample that saw segments
 * waiting with nothing archived since.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "pgstat.h"

#include "collect/archiver.h"

void
ph_collect_archiver(PhArchiver *a, const PhArchiver *prev, bool in_recovery, int ready_files,
					TimestampTz now)
{
	PgStat_ArchiverStats *st;
	bool		failing;

	memset(a, 0, sizeof(*a));
	a->on = in_recovery ? XLogArchivingAlways() : XLogArchivingActive();
	if (!a->on)
		return;

	/* a fresh copy each time: without a transaction, nothing clears it */
	pgstat_clear_snapshot();
	st = pgstat_fetch_stat_archiver();
	if (st == NULL)
		return;
	a->archived_count = (uint64) st->archived_count;
	a->failed_count = (uint64) st->failed_count;
	strlcpy(a->last_archived_wal, st->last_archived_wal, sizeof(a->last_archived_wal));
	strlcpy(a->last_failed_wal, st->last_failed_wal, sizeof(a->last_failed_wal));
	a->last_archived_at = st->last_archived_timestamp;
	a->last_failed_at = st->last_failed_timestamp;
	pgstat_clear_snapshot();

	failing = a->last_failed_at != 0 && a->last_failed_at > a->last_archived_at;
	if (!failing)
		a->failing_since = 0;
	else if (prev->failing_since != 0 && prev->failing_since > a->last_archived_at)
		a->failing_since = prev->failing_since;
	else
		a->failing_since = a->last_failed_at;

	/*
	 * A command that hangs, or none (archive_mode on, archive_command empty),
	 * reports no failure: segments wait and nothing is archived.
	 */
	if (ready_files <= 0 || a->archived_count != prev->archived_count || !prev->on)
		a->stalled_since = 0;
	else
		a->stalled_since = prev->stalled_since != 0 ? prev->stalled_since : now;
}

/*
 * disk.c -- (collect) the pg_health disk worker: every sample interval it
 * asks the filesystems that hold the data directory, pg_wal (when it is a
 * link elsewhere) and each tablespace (the links in pg_tblspc) how much room
 * they have (statvfs, no SQL), keeps their growth over a window as long as
 * the history ring's (pg_health.history_size samples), and counts the WAL
 * segments waiting to be archived (archive_status/ *.ready).
 *
 * It is a worker of its own because statvfs() and readdir() can hang (a
 * network filesystem that stopped answering): then only this worker waits,
 * and it says on what (PhDisk.measuring_since, measuring), so the sampler
 * goes on sampling and the disk check says the figures are stale and why.
 */
#include "postgres.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/spin.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "collect/disk.h"
#include "ground/guard.h"
#include "ground/shmem.h"
#include "ground/worker_loop.h"
#include "ground/workers.h"

/* readings kept per filesystem for its growth rate */
#define PH_DISK_READINGS 120

typedef struct Reading
{
	TimestampTz at;
	uint64		used;
} Reading;

/* a filesystem's readings, found again by its device at the next pass */
typedef struct Growth
{
	dev_t		dev;
	int			n;
	int			head;
	Reading		r[PH_DISK_READINGS];
} Growth;

static Growth growth[PH_MAX_FILESYSTEMS];
static dev_t devs[PH_MAX_FILESYSTEMS];

void
ph_register_disk_worker(void)
{
	BackgroundWorker worker;

	ph_describe_worker(&worker, "disk", BGWORKER_SHMEM_ACCESS,
					   BgWorkerStart_PostmasterStart, PH_RESTART_SECONDS);
	RegisterBackgroundWorker(&worker);
}

/* Say what the worker is about to do, so that a hang is seen with its path. */
static void
measuring(const char *path)
{
	TimestampTz now = path != NULL ? GetCurrentTimestamp() : 0;

	SpinLockAcquire(&ph_shared->disk_mutex);
	ph_shared->disk.measuring_since = now;
	if (path != NULL)
		strlcpy(ph_shared->disk.measuring, path, sizeof(ph_shared->disk.measuring));
	SpinLockRelease(&ph_shared->disk_mutex);
}

/*
 * The growth over the window: from the oldest reading in it to now, when
 * they are at least PH_DISK_MIN_SPAN apart.
 */
#define PH_DISK_MIN_SPAN_S 5

static void
note_growth(PhFilesystem *fs, dev_t dev, TimestampTz now, int64 window_ms)
{
	Growth	   *g = NULL;
	Reading    *oldest = NULL;
	uint64		used = fs->used_bytes;

	for (int i = 0; i < PH_MAX_FILESYSTEMS && g == NULL; i++)
		if (growth[i].n > 0 && growth[i].dev == dev)
			g = &growth[i];
	for (int i = 0; i < PH_MAX_FILESYSTEMS && g == NULL; i++)
		if (growth[i].n == 0)
		{
			g = &growth[i];
			g->dev = dev;
		}
	fs->used_per_s = get_float8_nan();
	fs->full_in_s = get_float8_nan();
	if (g == NULL)
		return;

	/* a reading at most every window / PH_DISK_READINGS */
	if (g->n == 0 ||
		now - g->r[(g->head - 1 + PH_DISK_READINGS) % PH_DISK_READINGS].at >=
		window_ms * 1000 / PH_DISK_READINGS)
	{
		g->r[g->head].at = now;
		g->r[g->head].used = used;
		g->head = (g->head + 1) % PH_DISK_READINGS;
		g->n = Min(g->n + 1, PH_DISK_READINGS);
	}
	for (int i = g->n; i >= 1; i--)
	{
		Reading    *r = &g->r[(g->head - i + PH_DISK_READINGS) % PH_DISK_READINGS];

		if (now - r->at <= window_ms * 1000)
		{
			oldest = r;
			break;
		}
	}
	if (oldest != NULL && now - oldest->at >= PH_DISK_MIN_SPAN_S * USECS_PER_SEC)
	{
		fs->used_per_s = ((double) used - (double) oldest->used) /
			((double) (now - oldest->at) / USECS_PER_SEC);
		if (fs->used_per_s > 0)
			fs->full_in_s = (double) fs->free_bytes / fs->used_per_s;
	}
}

/* Forget the readings of filesystems no longer seen. */
static void
forget_gone(int n)
{
	for (int i = 0; i < PH_MAX_FILESYSTEMS; i++)
	{
		bool		live = false;

		for (int k = 0; k < n && !live; k++)
			live = growth[i].n > 0 && growth[i].dev == devs[k];
		if (!live)
			growth[i].n = 0;
	}
}

/* Add the filesystem holding path to d (merged with one already there). */
static void
measure(PhDisk *d, const char *path, const char *shown, uint8 holds, Oid tablespace,
		TimestampTz now, int64 window_ms)
{
	struct stat st;
	struct statvfs vfs;
	PhFilesystem *fs = NULL;
	int			err = 0;

	measuring(path);
	if (stat(path, &st) != 0)
		err = errno;
	else
		for (int i = 0; i < d->n && fs == NULL; i++)
			if (devs[i] == st.st_dev)
				fs = &d->fs[i];
	if (fs == NULL && err == 0 && statvfs(path, &vfs) != 0)
		err = errno;
	measuring(NULL);

	if (fs == NULL)
	{
		if (d->n >= PH_MAX_FILESYSTEMS)
		{
			d->omitted++;
			return;
		}
		fs = &d->fs[d->n];
		memset(fs, 0, sizeof(*fs));
		/* a link's target is any bytes a superuser wrote: valid UTF-8 here */
		ph_clean_text(fs->path, sizeof(fs->path), shown, strlen(shown));
		fs->error = err;
		devs[d->n] = err == 0 ? st.st_dev : 0;
		d->n++;
		if (err == 0)
		{
			fs->total_bytes = (uint64) vfs.f_blocks * vfs.f_frsize;
			fs->used_bytes = (uint64) (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
			fs->free_bytes = (uint64) vfs.f_bavail * vfs.f_frsize;
			note_growth(fs, st.st_dev, now, window_ms);
		}
		else
			fs->used_per_s = fs->full_in_s = get_float8_nan();
	}
	fs->holds |= holds;
	if (holds & PH_FS_TABLESPACE)
	{
		if (fs->tablespaces++ == 0)
			fs->tablespace = tablespace;
	}
}

/* Where a link points, for the path shown; the link itself when unreadable. */
static void
link_target(const char *link, char *out, size_t len)
{
	ssize_t		n = readlink(link, out, len - 1);

	if (n < 0)
		strlcpy(out, link, len);
	else
		out[n] = '\0';
}

/* WAL segments waiting to be archived: archive_status/ *.ready */
static int
count_ready(void)
{
	DIR		   *dir;
	struct dirent *de;
	int			n = 0;

	measuring(XLOGDIR "/archive_status");
	dir = opendir(XLOGDIR "/archive_status");
	if (dir == NULL)
	{
		measuring(NULL);
		return -1;
	}
	while ((de = readdir(dir)) != NULL)
	{
		size_t		len = strlen(de->d_name);

		if (len > 6 && strcmp(de->d_name + len - 6, ".ready") == 0)
			n++;
	}
	closedir(dir);
	measuring(NULL);
	return n;
}

/* One pass over the filesystems; the working directory is the data directory. */
static void
measure_all(PhDisk *d)
{
	TimestampTz now = GetCurrentTimestamp();
	int64		window_ms = (int64) Max(ph_history_size, 1) * ph_sample_interval_ms;
	char		target[MAXPGPATH];
	DIR		   *dir;
	struct dirent *de;

	memset(d, 0, offsetof(PhDisk, fs));
	measure(d, ".", DataDir, PH_FS_DATA, InvalidOid, now, window_ms);
	link_target(XLOGDIR, target, sizeof(target));
	if (strcmp(target, XLOGDIR) == 0)
		snprintf(target, sizeof(target), "%s/%s", DataDir, XLOGDIR);
	measure(d, XLOGDIR, target, PH_FS_WAL, InvalidOid, now, window_ms);

	measuring("pg_tblspc");
	dir = opendir("pg_tblspc");
	measuring(NULL);
	while (dir != NULL && (de = readdir(dir)) != NULL)
	{
		char		link[MAXPGPATH];
		Oid			spc = (Oid) strtoul(de->d_name, NULL, 10);

		if (!OidIsValid(spc) || strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		snprintf(link, sizeof(link), "pg_tblspc/%s", de->d_name);
		link_target(link, target, sizeof(target));
		measure(d, link, target, PH_FS_TABLESPACE, spc, now, window_ms);
	}
	if (dir != NULL)
		closedir(dir);
	forget_gone(d->n);
	d->ready_files = XLogArchiveMode != ARCHIVE_MODE_OFF ? count_ready() : -1;
	d->measured_at = GetCurrentTimestamp();
}

static void
publish(const PhDisk *d)
{
	SpinLockAcquire(&ph_shared->disk_mutex);
	memcpy(&ph_shared->disk, d, offsetof(PhDisk, measuring_since));
	ph_shared->disk.n = d->n;
	ph_shared->disk.omitted = d->omitted;
	memcpy(ph_shared->disk.fs, d->fs, sizeof(d->fs));
	ph_shared->disk.ready_files = d->ready_files;
	SpinLockRelease(&ph_shared->disk_mutex);
}

void
pg_health_disk_main(Datum main_arg)
{
	static PhDisk d;

	ph_worker_start();
	ph_worker_claim(PH_WORKER_DISK, 0);
	/* bgworkers start in the data directory; paths are relative to it */
	for (;;)
	{
		TimestampTz next;

		(void) ph_worker_step(PH_WORKER_DISK);
		next = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ph_sample_interval_ms);
		measure_all(&d);
		publish(&d);
		ph_worker_wait(PH_WAIT_DISK_NEXT,
					   TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next));
	}
}

/*
 * In the sampler: the disk worker's last pass, and the disk-full errors the
 * log hook counted (hooks.c).
 */
void
ph_read_disk(PhDisk *d)
{
	SpinLockAcquire(&ph_shared->disk_mutex);
	*d = ph_shared->disk;
	SpinLockRelease(&ph_shared->disk_mutex);
	/* a word, read whole; its writers hold PhShared.lock */
	d->worker_pid = ((volatile PhShared *) ph_shared)->disk_pid;
	d->disk_full_errors = pg_atomic_read_u64(&ph_shared->disk_full_errors);
	d->last_disk_full_at = (TimestampTz) pg_atomic_read_u64(&ph_shared->last_disk_full_at);
}

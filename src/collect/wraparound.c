/*
 * wraparound.c -- (collect) how far the oldest unfrozen transaction ID and
 * MultiXact ID are from the limits where PostgreSQL forces autovacuum,
 * warns, and refuses to assign new ones: from shared memory, as
 * SetTransactionIdLimit() and SetMultiXactIdLimit() left them.  The
 * database with the oldest datfrozenxid is named by the names worker.
 *
 * The MultiXact limits are not in shared memory where an extension can
 * read them; they are computed as multixact.c computes them: the wrap limit
 * half the ID space after the oldest, the stop limit 3 million before it
 * (the margin since PostgreSQL 14; not counting the member space, which can
 * stop the server earlier).
 */
#include "postgres.h"

#include "access/multixact.h"
#include "access/transam.h"
#include "commands/dbcommands.h"
#include "postmaster/autovacuum.h"
#include "storage/lwlock.h"

#include "collect/wraparound.h"
#include "ground/compat.h"
#include "ground/guard.h"
#include "ground/shmem.h"

#define PH_MXID_STOP_MARGIN 3000000

/* how far b is past a, for IDs that wrap at 2^32 */
static int64
distance(uint32 a, uint32 b)
{
	return (int64) (uint32) (b - a);
}

void
ph_collect_wraparound(PhWraparound *w)
{
	TransactionId next,
				oldest,
				vac,
				warn,
				stop;
	Oid			db;
	MultiXactId oldest_mxid,
				next_mxid;

	memset(w, 0, sizeof(*w));
	LWLockAcquire(XidGenLock, LW_SHARED);
	next = XidFromFullTransactionId(PH_TRANSAM_VARIABLES->nextXid);
	oldest = PH_TRANSAM_VARIABLES->oldestXid;
	vac = PH_TRANSAM_VARIABLES->xidVacLimit;
	warn = PH_TRANSAM_VARIABLES->xidWarnLimit;
	stop = PH_TRANSAM_VARIABLES->xidStopLimit;
	db = PH_TRANSAM_VARIABLES->oldestXidDB;
	LWLockRelease(XidGenLock);

	/* set once the startup process has read the checkpoint */
	if (!TransactionIdIsNormal(oldest) || !TransactionIdIsValid(stop))
		return;
	w->known = true;
	w->xid_age = distance(oldest, next);
	w->xid_vacuum_age = distance(oldest, vac);
	w->xid_warn_age = distance(oldest, warn);
	w->xid_stop_age = distance(oldest, stop);
	w->oldest_xid_database = db;

	ReadMultiXactIdRange(&oldest_mxid, &next_mxid);
	w->mxid_age = distance(oldest_mxid, next_mxid);
	w->mxid_vacuum_age = autovacuum_multixact_freeze_max_age;
	w->mxid_stop_age = (int64) (MaxMultiXactId >> 1) - PH_MXID_STOP_MARGIN;

	LWLockAcquire(ph_shared->lock, LW_SHARED);
	if (ph_shared->names.oldest_xid_database == db)
		memcpy(w->oldest_database, ph_shared->names.oldest_xid_database_name,
			   sizeof(w->oldest_database));
	LWLockRelease(ph_shared->lock);
}

/* The names worker, in a transaction: the name of that database. */
void
ph_name_oldest_xid_database(void)
{
	Oid			db;
	char	   *name;

	LWLockAcquire(XidGenLock, LW_SHARED);
	db = PH_TRANSAM_VARIABLES->oldestXidDB;
	LWLockRelease(XidGenLock);
	name = OidIsValid(db) ? get_database_name(db) : NULL;
	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	ph_shared->names.oldest_xid_database = db;
	/* a name in any encoding a database was created with: valid UTF-8 */
	ph_clean_text(ph_shared->names.oldest_xid_database_name,
				  sizeof(ph_shared->names.oldest_xid_database_name),
				  name ? name : "", name ? strlen(name) : 0);
	LWLockRelease(ph_shared->lock);
	if (name)
		pfree(name);
}

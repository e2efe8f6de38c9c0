/*
 * names.c -- (collect) role and database names (and CONNECTION LIMITs) for the
 * sampler.
 *
 * The sampler has no database connection, so it sees only oids.  Pools, the
 * connection_limits check and /metrics need names and limits, and they must
 * be in shared memory for readers that have no connection either (the HTTP
 * endpoint).  So a second, small background worker, "pg_health names",
 * connects to no particular database (only the shared catalogs pg_authid
 * and pg_database are readable that way, which is all it needs, and it
 * never holds up DROP DATABASE) and, every sample interval or as soon as the
 * sampler meets an oid it cannot name, looks up the roles and databases the
 * last sample saw in the system caches and publishes them.  See
 * docs/design.md, "The names worker".
 *
 * It also answers the per-tenant question (asked_pairs.c, admission.c): every
 * pass it looks up each asked (role, database) pair by name -- the role's
 * LOGIN, VALID UNTIL, CONNECTION LIMIT and reserved-slot membership, the
 * database's ALLOW_CONNECTIONS, validity and CONNECTION LIMIT, and the
 * role's CONNECT on it -- and writes the facts back for the askers.
 *
 * It starts once the server is consistent (on a standby, when hot standby
 * accepts reads): until then, and if it is not running, pools show oids with
 * NULL names, the connection_limits check says the limits are unknown, and
 * per-tenant answers are "unknown".
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "utils/acl.h"
#include "utils/catcache.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "collect/custom_checks.h"
#include "collect/names.h"
#include "collect/wraparound.h"
#include "ground/asked_pairs.h"
#include "ground/compat.h"
#include "ground/guard.h"
#include "ground/shmem.h"
#include "ground/worker_loop.h"
#include "ground/workers.h"

#define PH_NAMES_RESTART_SECONDS 5
#define PH_NAMES_MIN_PASS_MS	100 /* however often it is woken */

void
ph_register_names_worker(void)
{
	BackgroundWorker worker;

	ph_describe_worker(&worker, "names", BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION,
					   BgWorkerStart_ConsistentState, PH_NAMES_RESTART_SECONDS);
	RegisterBackgroundWorker(&worker);
}

/*
 * In the sampler: give the pool table's roles and databases the names and
 * limits the map has.  Returns true when an oid is missing: the sampler then
 * wakes the names worker once the table is published (ph_wake_worker),
 * so the next sample has it.
 */
bool
ph_apply_names(PhPoolTable *t)
{
	PhNameMap  *map = &ph_shared->names;
	bool		missing = false;

	LWLockAcquire(ph_shared->lock, LW_SHARED);
	for (int kind = 0; kind < 2; kind++)
	{
		PhLimit    *entries = kind == 0 ? t->roles : t->databases;
		int			n = kind == 0 ? t->nroles : t->ndatabases;
		const PhLimit *known = kind == 0 ? map->roles : map->databases;
		int			nknown = kind == 0 ? map->nroles : map->ndatabases;

		for (int i = 0; i < n; i++)
		{
			const PhLimit *m = ph_find_limit(known, nknown, entries[i].oid);

			if (m == NULL)
			{
				missing = true;
				continue;
			}
			entries[i].known = true;
			entries[i].connlimit = m->connlimit;
			entries[i].exempt = m->exempt;
			memcpy(entries[i].name, m->name, NAMEDATALEN);
		}
	}
	LWLockRelease(ph_shared->lock);
	return missing;
}

/* Look up one role or database; false when it no longer exists. */
static bool
resolve(int kind, PhLimit *e)
{
	HeapTuple	tup;

	tup = SearchSysCache1(kind == 0 ? AUTHOID : DATABASEOID, ObjectIdGetDatum(e->oid));
	if (!HeapTupleIsValid(tup))
		return false;
	if (kind == 0)
	{
		Form_pg_authid role = (Form_pg_authid) GETSTRUCT(tup);

		ph_clean_text(e->name, NAMEDATALEN, NameStr(role->rolname), NAMEDATALEN);
		e->connlimit = role->rolconnlimit;
		e->exempt = role->rolsuper;
	}
	else
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		ph_clean_text(e->name, NAMEDATALEN, NameStr(db->datname), NAMEDATALEN);
		/* 17+ marks a half-dropped database with -2: no usable limit */
		e->connlimit = db->datconnlimit >= 0 ? db->datconnlimit : -1;
		e->exempt = false;
	}
	e->known = true;
	ReleaseSysCache(tup);
	return true;
}

/* Add the known entries missing from cur (sorted by oid), while there is room. */
static int
merge_known(PhLimit *cur, int n, const PhLimit *known, int nknown)
{
	int			total = n;

	for (int i = 0; i < nknown && total < PH_MAX_NAMES; i++)
		if (ph_find_limit(cur, n, known[i].oid) == NULL)
			cur[total++] = known[i];
	if (total > n)
		qsort(cur, total, sizeof(PhLimit), ph_cmp_limit);
	return total;
}

/*
 * One pass: the oids of the latest pool table, looked up in a fresh
 * transaction (so renames and ALTER ... CONNECTION LIMIT are seen), then
 * published as the new map.  Both lists stay sorted by oid.
 */
static void
resolve_all(void)
{
	static PhLimit roles[PH_MAX_NAMES];
	static PhLimit databases[PH_MAX_NAMES];
	static PhLimit known_roles[PH_MAX_NAMES];
	static PhLimit known_databases[PH_MAX_NAMES];
	int			nroles,
				ndatabases,
				nknown_roles,
				nknown_databases;
	int			kept[2] = {0, 0};

	/*
	 * What the last sample saw, plus what the map already knows (while there
	 * is room): a role that comes back after a moment without sessions is
	 * still named in the very first sample that sees it again.
	 */
	ph_read_limit_oids(roles, &nroles, databases, &ndatabases);
	LWLockAcquire(ph_shared->lock, LW_SHARED);
	nknown_roles = ph_shared->names.nroles;
	nknown_databases = ph_shared->names.ndatabases;
	memcpy(known_roles, ph_shared->names.roles, sizeof(PhLimit) * nknown_roles);
	memcpy(known_databases, ph_shared->names.databases, sizeof(PhLimit) * nknown_databases);
	LWLockRelease(ph_shared->lock);
	nroles = merge_known(roles, nroles, known_roles, nknown_roles);
	ndatabases = merge_known(databases, ndatabases, known_databases, nknown_databases);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "resolving role and database names");
	for (int kind = 0; kind < 2; kind++)
	{
		PhLimit    *entries = kind == 0 ? roles : databases;
		int			n = kind == 0 ? nroles : ndatabases;

		for (int i = 0; i < n; i++)
		{
			PhLimit		e;

			memset(&e, 0, sizeof(e));
			e.oid = entries[i].oid;
			if (resolve(kind, &e))
				entries[kept[kind]++] = e;
		}
	}
	ph_name_oldest_xid_database();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	ph_shared->names.nroles = kept[0];
	ph_shared->names.ndatabases = kept[1];
	memcpy(ph_shared->names.roles, roles, sizeof(PhLimit) * kept[0]);
	memcpy(ph_shared->names.databases, databases, sizeof(PhLimit) * kept[1]);
	ph_shared->names.resolved_at = GetCurrentTimestamp();
	LWLockRelease(ph_shared->lock);
}

/*
 * CONNECT on a database for role as if it were no superuser: granted to
 * PUBLIC, to the role, or to a role it is a member of (superuser status
 * left out, unlike aclmask()).  The answer over HTTP uses it, so that it
 * does not tell which roles are superusers (admission.c).
 */
static bool
connect_as_ordinary(const Acl *acl, Oid role)
{
	const AclItem *items;
	int			n = ACL_NUM(acl);

	/*
	 * An ACL never has nulls, so its items start right after the header
	 * (ACL_DAT() says the same through a conditional that -Wsign-compare
	 * flags in this file's headers).
	 */
	if (ARR_HASNULL(acl))
		return false;
	items = (const AclItem *) ((const char *) acl + ARR_OVERHEAD_NONULLS(ARR_NDIM(acl)));
	for (int k = 0; k < n; k++)
	{
		const AclItem *item = &items[k];

		if ((ACLITEM_GET_PRIVS(*item) & ACL_CONNECT) == 0)
			continue;
		if (item->ai_grantee == ACL_ID_PUBLIC || item->ai_grantee == role ||
			is_member_of_role_nosuper(role, item->ai_grantee))
			return true;
	}
	return false;
}

/*
 * The facts of every asked database (by name), in one plain scan of
 * pg_database (see find_database), as CheckMyDatabase() would consult them;
 * and whether each asked role (looked up before) has CONNECT on it, from
 * the very tuple scanned: a database dropped meanwhile cannot make the
 * check fail, and the facts are of one snapshot.
 */
static void
look_up_databases(PhAsked *asked, int n)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		Acl		   *acl = NULL;

		for (int i = 0; i < n; i++)
		{
			PhTenantFacts *f = &asked[i].facts;

			if (strcmp(asked[i].database, NameStr(db->datname)) != 0)
				continue;
			f->db_exists = true;
			f->db_oid = db->oid;
			f->allow_conn = db->datallowconn;

			/*
			 * -2 (DATCONNLIMIT_INVALID_DB, 15.4+): a DROP DATABASE was
			 * interrupted
			 */
			f->db_valid = db->datconnlimit != -2;
			f->db_connlimit = db->datconnlimit >= 0 ? db->datconnlimit : -1;
			if (!f->role_exists)
				continue;
			if (acl == NULL)
			{
				bool		isnull;
				Datum		d = heap_getattr(tup, Anum_pg_database_datacl,
											 RelationGetDescr(rel), &isnull);

				/* no ACL: the default, CONNECT for PUBLIC */
				acl = isnull ? acldefault(OBJECT_DATABASE, db->datdba) : DatumGetAclPCopy(d);
			}
			f->can_connect = f->superuser ||
				(aclmask(acl, f->role_oid, db->datdba, ACL_CONNECT, ACLMASK_ANY) & ACL_CONNECT) != 0;
			f->can_connect_ordinary = connect_as_ordinary(acl, f->role_oid);
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * A role's facts, as InitializeSessionUserId() and authentication use them.
 * Returns false when there is no such role: the system cache then keeps a
 * negative entry for the name, which the caller must flush (anyone who
 * reaches the HTTP port may ask for as many names as they like).
 */
static bool
look_up_role(const char *name, PhTenantFacts *f)
{
	HeapTuple	tup;
	Form_pg_authid role;
	Datum		d;
	bool		isnull;

	tup = SearchSysCache1(AUTHNAME, CStringGetDatum(name));
	if (!HeapTupleIsValid(tup))
		return false;
	role = (Form_pg_authid) GETSTRUCT(tup);
	f->role_exists = true;
	f->role_oid = role->oid;
	f->can_login = role->rolcanlogin;
	f->superuser = role->rolsuper;
	f->role_connlimit = role->rolconnlimit >= 0 ? role->rolconnlimit : -1;
	d = SysCacheGetAttr(AUTHNAME, tup, Anum_pg_authid_rolvaliduntil, &isnull);
	f->valid_until = isnull ? DT_NOEND : DatumGetTimestampTz(d);
	ReleaseSysCache(tup);

	/*
	 * only reserved_connections > 0 makes it matter: spare the membership
	 * walk
	 */
	f->use_reserved = !f->superuser && PH_RESERVED_CONNECTIONS() > 0 &&
		ph_uses_reserved_connections(f->role_oid);
	return true;
}

/*
 * One pass over the asked (role, database) pairs (asked_pairs.c): each looked
 * up afresh, in one transaction, and written back for the askers.
 */
static void
look_up_tenants(void)
{
	static PhAsked asked[PH_MAX_ASKED];
	int			n = ph_tenants_to_look_up(asked);
	bool		missing = false;

	if (n == 0)
		return;
	for (int i = 0; i < n; i++)
	{
		memset(&asked[i].facts, 0, sizeof(PhTenantFacts));
		asked[i].facts.can_connect = -1;
		asked[i].facts.can_connect_ordinary = -1;
		asked[i].facts.role_connlimit = -1;
		asked[i].facts.db_connlimit = -1;
		asked[i].facts.valid_until = DT_NOEND;
	}

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "looking up asked roles and databases");
	(void) GetTransactionSnapshot();
	for (int i = 0; i < n; i++)
		if (asked[i].role[0] != '\0' && !look_up_role(asked[i].role, &asked[i].facts))
			missing = true;
	look_up_databases(asked, n);
	/* drop the cache's negative entries for names that do not exist */
	if (missing)
		CatalogCacheFlushCatalog(AuthIdRelationId);
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	ph_tenants_looked_up(asked, n, GetCurrentTimestamp());
}

/*
 * The oid of a database by name, by a plain scan of pg_database (as the
 * autovacuum launcher lists databases): without a database of its own this
 * worker cannot rely on pg_database's indexes being loaded.
 */
static Oid
find_database(const char *name)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Oid			found = InvalidOid;

	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (strcmp(NameStr(db->datname), name) == 0 && db->datallowconn)
		{
			found = db->oid;
			break;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Keep one checker worker (custom_checks.c) running in pg_health.database while
 * it exists: started when it appears, restarted at most every
 * PH_CHECKER_BACKOFF_MS when it exits, stopped when the setting changes.  A
 * missing database is said once in the log, not in a loop.
 */
#define PH_CHECKER_BACKOFF_MS 2000

static void
supervise_checker(void)
{
	static BackgroundWorkerHandle *handle = NULL;
	static Oid	running_in = InvalidOid;
	static TimestampTz last_start = 0;
	static bool said_missing = false;
	Oid			dboid = InvalidOid;
	pid_t		pid;
	bool		alive;

	if (ph_database != NULL && ph_database[0] != '\0')
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		(void) GetTransactionSnapshot();
		dboid = find_database(ph_database);
		CommitTransactionCommand();
	}

	alive = handle != NULL && GetBackgroundWorkerPid(handle, &pid) != BGWH_STOPPED;
	if (alive && running_in != dboid)
	{
		TerminateBackgroundWorker(handle);
		alive = false;
	}
	if (!alive && handle != NULL)
	{
		pfree(handle);
		handle = NULL;
	}

	/*
	 * A checker this worker did not start (its names worker was terminated)
	 * sees that it is not ours and leaves; wake it so it does so now, and
	 * start ours once it has gone.
	 */
	if (handle == NULL)
	{
		pid_t		orphan;
		Latch	   *latch;

		LWLockAcquire(ph_shared->lock, LW_SHARED);
		orphan = ph_shared->checker_pid;
		latch = ph_shared->checker_latch;
		LWLockRelease(ph_shared->lock);
		if (orphan != 0)
		{
			if (latch != NULL)
				SetLatch(latch);
			return;
		}
	}

	if (!OidIsValid(dboid))
	{
		if (ph_database != NULL && ph_database[0] != '\0' && !said_missing)
			ereport(LOG,
					(errmsg("pg_health: database \"%s\" (pg_health.database) does not exist or does not allow connections; custom checks and notifications wait for it",
							ph_database)));
		said_missing = true;
		return;
	}
	if (said_missing)
		ereport(LOG, (errmsg("pg_health: database \"%s\" (pg_health.database) exists now", ph_database)));
	said_missing = false;

	if (handle == NULL &&
		TimestampDifferenceExceeds(last_start, GetCurrentTimestamp(), PH_CHECKER_BACKOFF_MS))
	{
		last_start = GetCurrentTimestamp();
		running_in = dboid;
		if (!ph_start_checker(dboid, &handle))
		{
			handle = NULL;
			ereport(LOG,
					(errmsg("pg_health: could not start the checker worker: no background worker slot free"),
					 errhint("Raise max_worker_processes.")));
		}
	}
}

void
pg_health_names_main(Datum main_arg)
{
	ph_worker_start();
	/* no database: the shared catalogs are all it reads */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	ph_worker_claim(PH_WORKER_NAMES, 0);

	for (;;)
	{
		TimestampTz pass_started = GetCurrentTimestamp();
		long		since;

		(void) ph_worker_step(PH_WORKER_NAMES);
		resolve_all();
		look_up_tenants();
		supervise_checker();

		ph_worker_wait(PH_WAIT_NAMES_PASS, Max(ph_sample_interval_ms, 1000));

		/* askers may wake it often (anyone who reaches the HTTP port): pace */
		since = TimestampDifferenceMilliseconds(pass_started, GetCurrentTimestamp());
		if (since < PH_NAMES_MIN_PASS_MS)
			ph_worker_nap(PH_WAIT_NAMES_PACING, PH_NAMES_MIN_PASS_MS - since);
	}
}

/*
 * sql_pools.c -- health.pools and health.sessions (doors).
 *
 * health.pools reads the pool table the sampler published with its latest
 * snapshot: the same sample as the verdict, so a pool that explains a
 * critical check is the one that sample saw.
 *
 * health.sessions is a detail view and reads live backend status at call
 * time (docs/design.md, "Readers", allows it for detail views), classifying
 * each client session with the thresholds the checks use.  What it reveals
 * follows pg_stat_activity: query text and client address only to roles that
 * have the privileges of pg_read_all_stats or of the session's role.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "common/ip.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/inet.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "doors/fields.h"
#include "ground/compat.h"
#include "ground/guard.h"
#include "ground/shmem.h"
#include "judge/builtin_checks.h"
#include "judge/verdict.h"
#include "read/read.h"

PG_FUNCTION_INFO_V1(pg_health_pools_1_0);
PG_FUNCTION_INFO_V1(pg_health_sessions_1_0);

static const PhLimit *
limit_at(const PhLimit *entries, int index)
{
	return index >= 0 ? &entries[index] : NULL;
}

/* A CONNECTION LIMIT that refuses this pool's next connection when reached. */
static bool
binding(const PhLimit *l, const PhLimit *role)
{
	return l != NULL && l->known && l->connlimit >= 0 &&
		!(role != NULL && role->known && role->exempt);
}

/*
 * How many more connections this pool could open before something refuses
 * one, and what: the server's free slots (ordinary roles cannot take the
 * reserved ones), the database's or the role's CONNECTION LIMIT.  The most
 * specific wins a tie.
 */
static void
headroom(const PhSnapshot *snap, const PhLimit *role, const PhLimit *db,
		 int *left, const char **by)
{
	bool		superuser = role != NULL && role->known && role->exempt;

	*left = superuser ? snap->conn.slots_free : snap->conn.available_ordinary;
	*by = "server";
	if (binding(db, role) && Max(db->connlimit - db->used, 0) <= *left)
	{
		*left = Max(db->connlimit - db->used, 0);
		*by = "database";
	}
	if (binding(role, role) && Max(role->connlimit - role->used, 0) <= *left)
	{
		*left = Max(role->connlimit - role->used, 0);
		*by = "role";
	}
}

static void
put_limit(Datum *values, bool *nulls, int *i, const PhLimit *l)
{
	if (l == NULL)
		nulls[(*i)++] = true;
	else
		values[(*i)++] = Int32GetDatum(l->used);
	ph_set_opt_int(values, nulls, (*i)++, l != NULL && l->known ? l->connlimit : -1);
}

/* health.pools: datid to folded_groups, the session counts, slot_share_pct to sampled_at */
#define POOL_KEY_COLUMNS 6
#define POOL_AFTER_COLUMNS 11
#define POOL_MAX_COLUMNS 64

Datum
pg_health_pools_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PhPoolTable *t;
	PhPageView	pv;
	PhSnapshot *snap;
	PhComponentTable *comps;
	uint8		skip;

	ph_require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	/* the session counts (fields.c) follow the six columns of the pool's key */
	if (ph_check_columns(rsinfo->setDesc, "health.pools", POOL_KEY_COLUMNS, ph_session_fields,
						 ph_n_session_fields, NULL, &skip) + POOL_AFTER_COLUMNS != rsinfo->setDesc->natts ||
		rsinfo->setDesc->natts > POOL_MAX_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("health.pools has %d columns, not the %d the pg_health library fills",
						rsinfo->setDesc->natts, POOL_KEY_COLUMNS + POOL_AFTER_COLUMNS + ph_n_session_fields),
				 errhint("Update the extension to the library's version: ALTER EXTENSION pg_health UPDATE.")));
	ph_read_page(&pv, PH_PART_POOLS | PH_PART_COMPONENTS, 0, 0);
	t = pv.pools;
	snap = pv.snap;
	comps = pv.components;
	if (snap->generation == 0 || t->generation != snap->generation)
		return (Datum) 0;

	for (int k = 0; k < t->npools; k++)
	{
		const PhPool *p = &t->pools[k];
		const PhLimit *role = limit_at(t->roles, p->role_index);
		const PhLimit *db = limit_at(t->databases, p->db_index);
		const PhComponentResult *comp = NULL;
		Datum		values[POOL_MAX_COLUMNS];
		bool		nulls[POOL_MAX_COLUMNS] = {0};
		int			i = 0;

		for (int c = 0; c < comps->n && comp == NULL && p->folded == 0; c++)
			if (comps->items[c].pool_connections >= 0 &&
				strcmp(comps->items[c].c.pool_application_name, p->application_name) == 0)
				comp = &comps->items[c];

		if (p->folded > 0)
		{
			/* the groups that did not fit: no key of their own */
			for (int j = 0; j < 5; j++)
				nulls[i++] = true;
		}
		else
		{
			values[i++] = ObjectIdGetDatum(p->datid);
			ph_set_text(values, nulls, i++, db && db->known ? db->name : NULL);
			values[i++] = ObjectIdGetDatum(p->roleid);
			ph_set_text(values, nulls, i++, role && role->known ? role->name : NULL);
			values[i++] = CStringGetTextDatum(p->application_name);
		}
		values[i++] = Int32GetDatum(p->folded);
		ph_put_fields(values, nulls, &i, ph_session_fields, ph_n_session_fields, &p->s,
					  snap->sampled_at, skip);
		values[i++] = Float8GetDatum(snap->conn.usable > 0 ?
									 100.0 * p->s.sessions / snap->conn.usable : 100.0);
		if (role != NULL && role->known)
			values[i++] = BoolGetDatum(role->exempt);
		else
			nulls[i++] = true;
		put_limit(values, nulls, &i, db);
		put_limit(values, nulls, &i, role);
		if (p->folded > 0)
		{
			nulls[i++] = true;
			nulls[i++] = true;
		}
		else
		{
			int			left;
			const char *by;

			headroom(snap, role, db, &left, &by);
			values[i++] = Int32GetDatum(left);
			values[i++] = CStringGetTextDatum(by);
		}
		/* the component whose pool this application_name is, and its minimum */
		if (comp != NULL)
		{
			values[i++] = CStringGetTextDatum(comp->c.name);
			values[i++] = Int32GetDatum(comp->c.pool_min);
		}
		else
		{
			nulls[i++] = true;
			nulls[i++] = true;
		}
		values[i++] = TimestampTzGetDatum(snap->sampled_at);
		Assert(i == rsinfo->setDesc->natts);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* One client session as health.sessions shows it, before classification. */
typedef struct SessionRow
{
	PgBackendStatus *be;
	uint32		wait_event_info;
	ArrayType  *blocked_by;		/* NULL unless waiting on a lock */
	bool		blocking;
} SessionRow;

static const char *
state_name(BackendState state)
{
	switch (state)
	{
		case STATE_RUNNING:
			return "active";
		case STATE_IDLE:
			return "idle";
		case STATE_IDLEINTRANSACTION:
			return "idle in transaction";
		case STATE_IDLEINTRANSACTION_ABORTED:
			return "idle in transaction (aborted)";
		case STATE_FASTPATH:
			return "fastpath function call";
		case STATE_DISABLED:
			return "disabled";
		default:
			return NULL;
	}
}

static int64
age_us(TimestampTz since, TimestampTz now)
{
	return since == 0 ? -1 : Max(now - since, 0);
}

/*
 * The classification, most actionable first: a session waiting on a lock is
 * "blocked" (ending it frees nothing), one holding a lock others wait for is
 * "blocking", then idle in transaction past the idle_in_transaction check's
 * first threshold, then a transaction (or, outside one, a query) older than
 * the long_transaction check's first threshold.
 */
static const char *
classify(const SessionRow *r, TimestampTz now)
{
	const PgBackendStatus *be = r->be;
	int			idle_s = ph_first_threshold(ph_idle_xact_warning_s, ph_idle_xact_critical_s);
	int			long_s = ph_first_threshold(ph_long_xact_warning_s, ph_long_xact_critical_s);
	int64		running;

	if (r->blocked_by != NULL && ArrayGetNItems(ARR_NDIM(r->blocked_by),
												ARR_DIMS(r->blocked_by)) > 0)
		return "blocked";
	if (r->blocking)
		return "blocking";
	if (idle_s > 0 &&
		(be->st_state == STATE_IDLEINTRANSACTION ||
		 be->st_state == STATE_IDLEINTRANSACTION_ABORTED) &&
		age_us(be->st_state_start_timestamp, now) >= (int64) idle_s * USECS_PER_SEC)
		return "idle_in_transaction";
	running = be->st_xact_start_timestamp != 0 ?
		age_us(be->st_xact_start_timestamp, now) :
		(be->st_state == STATE_RUNNING ? age_us(be->st_activity_start_timestamp, now) : -1);
	if (long_s > 0 && running >= (int64) long_s * USECS_PER_SEC)
		return "long_query";
	return "ok";
}

static void
put_client_addr(Datum *values, bool *nulls, int i, const PgBackendStatus *be)
{
	char		host[NI_MAXHOST];

	nulls[i] = !ph_format_client_addr(be, host, sizeof(host));
	if (!nulls[i])
		values[i] = DirectFunctionCall1(inet_in, CStringGetDatum(host));
}

static bool
array_has_pid(ArrayType *a, int pid)
{
	Datum	   *pids;
	int			n;

	deconstruct_array(a, INT4OID, sizeof(int32), true, TYPALIGN_INT, &pids, NULL, &n);
	for (int i = 0; i < n; i++)
		if (DatumGetInt32(pids[i]) == pid)
			return true;
	return false;
}

Datum
pg_health_sessions_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz now = GetCurrentTimestamp();
	bool		read_all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
	SessionRow *rows;
	int			nrows = 0;
	int			n;

	ph_require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	ph_require_natts(rsinfo->setDesc, "health.sessions", 17);

	n = pgstat_fetch_stat_numbackends();
	rows = palloc0(sizeof(SessionRow) * Max(n, 1));
	for (int k = 1; k <= n; k++)
	{
		LocalPgBackendStatus *local = ph_local_beentry_by_index(k);
		SessionRow *r;
		PGPROC	   *proc;

		if (local == NULL || local->backendStatus.st_backendType != B_BACKEND)
			continue;
		r = &rows[nrows++];
		r->be = &local->backendStatus;
		proc = BackendPidGetProc(r->be->st_procpid);
		r->wait_event_info = proc ? *((volatile uint32 *) &proc->wait_event_info) : 0;
		if ((r->wait_event_info & 0xFF000000) == PG_WAIT_LOCK)
			r->blocked_by = DatumGetArrayTypeP(DirectFunctionCall1(pg_blocking_pids,
																   Int32GetDatum(r->be->st_procpid)));
	}
	for (int a = 0; a < nrows; a++)
		for (int b = 0; b < nrows && !rows[a].blocking; b++)
			if (rows[b].blocked_by != NULL &&
				array_has_pid(rows[b].blocked_by, rows[a].be->st_procpid))
				rows[a].blocking = true;

	for (int k = 0; k < nrows; k++)
	{
		const SessionRow *r = &rows[k];
		const PgBackendStatus *be = r->be;
		bool		full = read_all || has_privs_of_role(GetUserId(), be->st_userid);
		Datum		values[17];
		bool		nulls[17] = {0};
		int			i = 0;
		int64		age;

		values[i++] = Int32GetDatum(be->st_procpid);
		values[i++] = ObjectIdGetDatum(be->st_databaseid);
		ph_set_text(values, nulls, i++, get_database_name(be->st_databaseid));
		values[i++] = ObjectIdGetDatum(be->st_userid);
		ph_set_text(values, nulls, i++, GetUserNameFromId(be->st_userid, true));
		values[i++] = CStringGetTextDatum(be->st_appname ? be->st_appname : "");
		if (full)
			put_client_addr(values, nulls, i++, be);
		else
			nulls[i++] = true;
		ph_set_time(values, nulls, i++, be->st_proc_start_timestamp);
		ph_set_text(values, nulls, i++, state_name(be->st_state));
		ph_set_age(values, nulls, i++, be->st_state_start_timestamp, now);
		ph_set_age(values, nulls, i++, be->st_xact_start_timestamp, now);
		age = be->st_state == STATE_RUNNING || be->st_state == STATE_FASTPATH ?
			age_us(be->st_activity_start_timestamp, now) : -1;
		if (age < 0)
			nulls[i++] = true;
		else
			values[i++] = ph_interval_datum(age);
		ph_set_text(values, nulls, i++, pgstat_get_wait_event_type(r->wait_event_info));
		ph_set_text(values, nulls, i++, pgstat_get_wait_event(r->wait_event_info));
		if (r->blocked_by != NULL)
			values[i++] = PointerGetDatum(r->blocked_by);
		else
			nulls[i++] = true;
		values[i++] = CStringGetTextDatum(classify(r, now));
		if (full && be->st_activity_raw != NULL)
			values[i++] = CStringGetTextDatum(pgstat_clip_activity(be->st_activity_raw));
		else
			nulls[i++] = true;
		Assert(i == rsinfo->setDesc->natts);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * pooler_config.c -- the connection poolers in front of this server (collect):
 * health.configure_pooler() and health.drop_pooler(), the checker's loading
 * of health.pooler_config into shared memory, and the sampler's copy of
 * what the pooler worker (pooler_worker.c) read from them.
 *
 * A pooler's conninfo may hold a password: the table is readable by
 * superusers only, only superusers configure poolers, and the conninfo in
 * shared memory is read by the pooler worker alone.  The configuration
 * lives in pg_health.database, like the custom checks, because the checker
 * (connected there) is what reads it, once a second; the pooler worker has
 * no database connection and gets the list through shared memory.
 */
#include "postgres.h"

#include <arpa/inet.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "collect/pooler_config.h"
#include "ground/guard.h"
#include "ground/shmem.h"
#include "ground/worker_loop.h"
#include "ground/workers.h"

PG_FUNCTION_INFO_V1(pg_health_configure_pooler_1_1);
PG_FUNCTION_INFO_V1(pg_health_drop_pooler_1_1);

static void
require_superuser(const char *name)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to configure pooler \"%s\"", name),
				 errdetail("A pooler's conninfo may hold a password, and pg_health connects with it."),
				 errhint("Ask a superuser to call health.configure_pooler().")));
}

/*
 * The pooler worker never waits for a name to be resolved (libpq does that
 * synchronously, and a slow resolver would hold up every pooler's poll and
 * the worker's shutdown): every host must be an address or a Unix-socket
 * directory, unless hostaddr gives the addresses.
 */
static void
check_host_addresses(const char *name, char *hosts)
{
	char	   *save = NULL;

	for (char *h = strtok_r(hosts, ",", &save); h != NULL; h = strtok_r(NULL, ",", &save))
	{
		unsigned char buf[sizeof(struct in6_addr)];

		if (h[0] == '/' || h[0] == '@' || inet_pton(AF_INET, h, buf) == 1 ||
			inet_pton(AF_INET6, h, buf) == 1)
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("conninfo of pooler \"%s\" names host \"%s\", which the pooler worker would have to look up", name, h),
				 errdetail("libpq resolves host names synchronously: a slow resolver would hold up every pooler's poll."),
				 errhint("Give the address: host=10.0.0.5, or hostaddr=10.0.0.5 (with host=%s kept for TLS); or a Unix-socket directory.", h)));
	}
}

/*
 * A conninfo pg_health can use: libpq parses it, it is not too long, it
 * names PgBouncer's admin console (dbname=pgbouncer), and addresses only.
 */
static void
check_conninfo(const char *name, const char *conninfo)
{
	char	   *err = NULL;
	PQconninfoOption *opts;
	const char *dbname = NULL;
	char	   *host = NULL;
	bool		hostaddr = false;

	if (strlen(conninfo) >= PH_CONNINFO_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("conninfo of pooler \"%s\" is %zu bytes long, more than the %d allowed",
						name, strlen(conninfo), PH_CONNINFO_LEN - 1),
				 errhint("Keep the password in a passfile (passfile=...) rather than in the conninfo.")));
	opts = PQconninfoParse(conninfo, &err);
	if (opts == NULL)
	{
		char		msg[256];

		/*
		 * libpq's message may quote a piece of the conninfo, a password
		 * included: only the one that names an unknown keyword is shown
		 */
		strlcpy(msg, err && strncmp(err, "invalid connection option", 25) == 0 ? err :
				"libpq cannot parse it", sizeof(msg));
		msg[strcspn(msg, "\n")] = '\0';
		if (err)
		{
			explicit_bzero(err, strlen(err));
			PQfreemem(err);
		}
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid conninfo for pooler \"%s\": %s", name, msg),
				 errhint("Give it as libpq takes it, for example 'hostaddr=10.0.0.5 port=6432 dbname=pgbouncer user=pg_health'.")));
	}
	for (PQconninfoOption * o = opts; o->keyword != NULL; o++)
	{
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "dbname") == 0)
			dbname = pstrdup(o->val);
		else if (strcmp(o->keyword, "host") == 0)
			host = pstrdup(o->val);
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = true;
	}
	PQconninfoFree(opts);
	if (host != NULL && !hostaddr)
		check_host_addresses(name, host);
	if (dbname == NULL || strcmp(dbname, "pgbouncer") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("conninfo of pooler \"%s\" must name PgBouncer's admin console", name),
				 errdetail("It names database \"%s\".", dbname ? dbname : "(none)"),
				 errhint("Add dbname=pgbouncer, and connect as a user in the pooler's admin_users or stats_users.")));
}

/* Has this database 1.1's health.pooler_config? */
static bool
have_pooler_config(void)
{
	Oid			nsp = get_namespace_oid("health", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("pooler_config", nsp));
}

/*
 * health.configure_pooler(name, conninfo): add or change a pooler.  Runs
 * as the caller, a superuser, under the safe search_path.
 */
Datum
pg_health_configure_pooler_1_1(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *conninfo;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	int			nestlevel;
	int64		others;
	bool		isnull;

	ph_require_preloaded();
	name = ph_name_arg(fcinfo, 0, "pooler name");
	require_superuser(name);
	ph_require_config_database("poolers");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("conninfo must not be NULL"),
				 errhint("Give the pooler's admin console, for example 'host=10.0.0.5 port=6432 dbname=pgbouncer user=pg_health'.")));
	conninfo = text_to_cstring(PG_GETARG_TEXT_PP(1));
	check_conninfo(name, conninfo);

	args[0] = CStringGetTextDatum(name);
	args[1] = CStringGetTextDatum(conninfo);
	nestlevel = ph_pin_search_path(NULL);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.count(*) FROM health.pooler_config "
							  "WHERE name OPERATOR(pg_catalog.<>) $1",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read health.pooler_config");
	others = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (others >= PH_MAX_POOLERS)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("cannot configure pooler \"%s\": %d poolers are configured, the most pg_health polls",
						name, PH_MAX_POOLERS),
				 errhint("Drop a pooler no longer used with health.drop_pooler().")));
	if (SPI_execute_with_args("INSERT INTO health.pooler_config (name, conninfo) VALUES ($1, $2) "
							  "ON CONFLICT (name) DO UPDATE SET conninfo = EXCLUDED.conninfo, "
							  "configured_at = pg_catalog.now(), configured_by = CURRENT_USER",
							  2, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write health.pooler_config");
	SPI_finish();
	ph_unpin_search_path(nestlevel);
	explicit_bzero(conninfo, strlen(conninfo));
	/* the checker loads the list at once, then wakes the pooler worker */
	ph_wake_worker(PH_WORKER_CHECKER);
	PG_RETURN_VOID();
}

/* health.drop_pooler(name): forget a pooler; false when there was none. */
Datum
pg_health_drop_pooler_1_1(PG_FUNCTION_ARGS)
{
	char	   *name;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int			nestlevel;
	bool		existed;

	ph_require_preloaded();
	name = ph_name_arg(fcinfo, 0, "pooler name");
	require_superuser(name);
	ph_require_config_database("poolers");
	args[0] = CStringGetTextDatum(name);
	nestlevel = ph_pin_search_path(NULL);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("DELETE FROM health.pooler_config WHERE name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not write health.pooler_config");
	existed = SPI_processed > 0;
	SPI_finish();
	ph_unpin_search_path(nestlevel);
	ph_wake_worker(PH_WORKER_CHECKER);
	PG_RETURN_BOOL(existed);
}

/*
 * The checker, each loop: read health.pooler_config and, when the list
 * changed, publish it for the pooler worker and wake it.  Rows beyond
 * PH_MAX_POOLERS (a restore) are counted, and the sampler says so.
 */
void
ph_load_poolers(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	static PhPoolerConfig fresh[PH_MAX_POOLERS];
	int			n = 0;
	int			excess = 0;
	Latch	   *latch = NULL;
	TimestampTz now = GetCurrentTimestamp();

	memset(fresh, 0, sizeof(fresh));
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (have_pooler_config())
	{
		uint64		nrows;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute("SELECT name, conninfo, configured_at FROM health.pooler_config ORDER BY name",
						true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read health.pooler_config");
		nrows = SPI_processed;
		for (uint64 r = 0; r < nrows; r++)
		{
			HeapTuple	row = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			PhPoolerConfig *c;
			bool		isnull;
			Datum		d;

			if (n >= PH_MAX_POOLERS)
			{
				excess++;
				continue;
			}
			c = &fresh[n++];
			d = SPI_getbinval(row, desc, 1, &isnull);
			if (!isnull)
				ph_clean_text(c->name, NAMEDATALEN, TextDatumGetCString(d), NAMEDATALEN);
			d = SPI_getbinval(row, desc, 2, &isnull);

			/*
			 * a restored row may be longer than configure_pooler allows: it
			 * then fails to connect
			 */
			if (!isnull)
				strlcpy(c->conninfo, TextDatumGetCString(d), PH_CONNINFO_LEN);
			d = SPI_getbinval(row, desc, 3, &isnull);
			c->configured_at = isnull ? 0 : DatumGetTimestampTz(d);
		}
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	/* a pooler listed already keeps the time it was first listed */
	for (int i = 0; i < n; i++)
	{
		fresh[i].loaded_at = now;
		for (int k = 0; k < ph_shared->npooler_config; k++)
			if (strcmp(ph_shared->pooler_config[k].name, fresh[i].name) == 0 &&
				strcmp(ph_shared->pooler_config[k].conninfo, fresh[i].conninfo) == 0)
				fresh[i].loaded_at = ph_shared->pooler_config[k].loaded_at;
	}
	if (n != ph_shared->npooler_config || excess != ph_shared->pooler_excess ||
		memcmp(fresh, ph_shared->pooler_config, sizeof(PhPoolerConfig) * n) != 0)
	{
		memcpy(ph_shared->pooler_config, fresh, sizeof(PhPoolerConfig) * n);
		ph_shared->npooler_config = n;
		ph_shared->pooler_excess = excess;
		ph_shared->pooler_config_version++;
		latch = ph_shared->poller_latch;
	}
	LWLockRelease(ph_shared->lock);
	explicit_bzero(fresh, sizeof(fresh));
	if (latch != NULL)
		SetLatch(latch);
}

/*
 * The sampler: the pooler worker's last polls.  A pooler the worker has not
 * taken up yet (it was just configured, or no pooler worker runs) is
 * listed from the configuration, never polled, so that its check says so.
 */
void
ph_read_pooler_polls(PhPoolerTable *out)
{
	LWLockAcquire(ph_shared->lock, LW_SHARED);
	ph_copy_pooler_table(out, &ph_shared->pooler_polls);
	out->poller_pid = ph_shared->poller_pid;
	out->excess = ph_shared->pooler_excess;

	/*
	 * a pooler dropped from the list (or listed anew) is gone, whatever the
	 * worker last said
	 */
	for (int k = 0; k < out->n;)
	{
		bool		listed = false;

		for (int i = 0; i < ph_shared->npooler_config && !listed; i++)
			listed = strcmp(out->items[k].name, ph_shared->pooler_config[i].name) == 0 &&
				out->items[k].loaded_at == ph_shared->pooler_config[i].loaded_at;
		if (listed)
			k++;
		else
		{
			out->n--;
			if (k < out->n)
				memcpy(&out->items[k], &out->items[out->n],
					   offsetof(PhPooler, pools) + sizeof(PhPoolerPool) * out->items[out->n].npools);
		}
	}
	for (int i = 0; i < ph_shared->npooler_config; i++)
	{
		const PhPoolerConfig *c = &ph_shared->pooler_config[i];
		bool		polled = false;

		/*
		 * a result of an earlier conninfo of the same name is not this
		 * pooler's
		 */
		for (int k = 0; k < out->n && !polled; k++)
			polled = strcmp(out->items[k].name, c->name) == 0 &&
				out->items[k].loaded_at == c->loaded_at;
		if (!polled && out->n < PH_MAX_POOLERS)
		{
			PhPooler   *p = &out->items[out->n++];

			memset(p, 0, offsetof(PhPooler, pools));
			strlcpy(p->name, c->name, NAMEDATALEN);
			p->configured_at = c->configured_at;
			p->watched_since = c->loaded_at;
			p->loaded_at = c->loaded_at;
			p->max_client_conn = -1;
			p->default_pool_size = -1;
			p->worst_pool = -1;
		}
	}
	LWLockRelease(ph_shared->lock);
}

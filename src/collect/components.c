/*
 * components.c -- application components (collect): services that use the database
 * report their initialization state into it, and it becomes part of the one
 * verdict (docs/components.md, "Application components").
 *
 * Runtime state lives in shared memory (PhShared.components, at most
 * pg_health.max_components), written by the reporting backends under
 * PhShared.lock.  What is configured -- who may report for a component, its
 * TTL, its pool -- lives in the table health.component_config, so it survives
 * restarts and replicates to standbys; it is read again at every report, so
 * the runtime copy follows the table.  Which components are required is the
 * reloadable GUC pg_health.required_components, so a standby or a freshly
 * restarted server knows what it waits for before anyone has reported.
 *
 * The sampler judges the components once per sample, like everything else
 * (component_checks.c).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "collect/components.h"
#include "ground/asked_pairs.h"
#include "ground/compat.h"
#include "ground/guard.h"
#include "ground/shmem.h"
#include "judge/admission.h"
#include "judge/component_checks.h"

/* a heartbeat's TTL: at most a day (a restored row is clamped to it) */
#define PH_COMPONENT_MAX_TTL_MS (86400 * 1000)

PG_FUNCTION_INFO_V1(pg_health_set_component_state_1_0);
PG_FUNCTION_INFO_V1(pg_health_heartbeat_1_0);
PG_FUNCTION_INFO_V1(pg_health_configure_component_1_0);
PG_FUNCTION_INFO_V1(pg_health_configure_component_1_1);
PG_FUNCTION_INFO_V1(pg_health_drop_component_1_0);
PG_FUNCTION_INFO_V1(pg_health_report_pool_1_1);

static PhComponentState
state_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *s;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("state must not be NULL"),
				 errhint("Accepted states are starting, ready, degraded, failed and stopped.")));
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	for (int st = PH_COMP_STARTING; st <= PH_COMP_STOPPED; st++)
		if (strcmp(s, ph_component_state_name((PhComponentState) st)) == 0)
			return (PhComponentState) st;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid component state \"%s\"", s),
			 errhint("Accepted states are starting, ready, degraded, failed and stopped.")));
	pg_unreachable();
}

/* What health.component_config says of one component. */
typedef struct ComponentConfig
{
	bool		found;
	char		reporter[NAMEDATALEN];	/* "": none */
	int			ttl_s;			/* -1: the GUC's */
	char		pool_application_name[NAMEDATALEN];
	int			pool_min;
	char		for_user[NAMEDATALEN];	/* "": not said */
	char		for_database[NAMEDATALEN];
	char		pooler[NAMEDATALEN];	/* "": its pool is not counted at a
										 * pooler */
	char		pooler_database[NAMEDATALEN];
	char		pooler_user[NAMEDATALEN];
	int			pool_max_wait_ms;	/* 0: none */
} ComponentConfig;

/* Has health.component_config 1.1's for_user and for_database columns? */
static bool
config_has_tenant(void)
{
	Oid			nsp = get_namespace_oid("health", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("component_config", nsp) : InvalidOid;

	return OidIsValid(relid) && get_attnum(relid, "for_user") != InvalidAttrNumber;
}

/*
 * for_user, for_database of configure_component: a name that is not empty
 * (the type name already cuts it at 63 bytes).  One that does not exist yet
 * is taken, with a warning: services are often configured before their
 * role or database is created, and the component's check says so until
 * it is.
 */
static void
check_tenant_name(FunctionCallInfo fcinfo, int argno, const char *what)
{
	const char *s;
	bool		exists;

	if (PG_ARGISNULL(argno))
		return;
	s = NameStr(*PG_GETARG_NAME(argno));
	if (s[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what),
				 errhint("Give the name the component connects with, or NULL.")));
	exists = strcmp(what, "for_user") == 0 ? OidIsValid(get_role_oid(s, true)) :
		OidIsValid(get_database_oid(s, true));
	if (!exists)
		ereport(WARNING,
				(errmsg("%s \"%s\" does not exist", strcmp(what, "for_user") == 0 ? "role" : "database", s),
				 errdetail("The component's check says its connections would be refused until it does.")));
}

/*
 * Read one row of health.component_config, as the table's owner: a reporting
 * role needs no privilege on the table, and cannot change what it says.  Not
 * read-only in SPI's sense, so that it takes a fresh snapshot and sees what
 * configure_component just wrote.
 */
static void
load_config(const char *name, ComponentConfig *cfg)
{
	PhSavedUser save;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	memset(cfg, 0, sizeof(*cfg));
	cfg->ttl_s = -1;
	ph_become_table_owner("component_config", &save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = CStringGetTextDatum(name);
	/* 1.0's table has none of 1.1's columns (for_user ... pool_max_wait) */
	if (SPI_execute_with_args(config_has_tenant() ?
							  "SELECT reporter::pg_catalog.text, ttl, "
							  "pool_application_name, pool_min_connections, "
							  "for_user::pg_catalog.text, for_database::pg_catalog.text, "
							  "pooler, pooler_database, pooler_user, pool_max_wait "
							  "FROM health.component_config WHERE name OPERATOR(pg_catalog.=) $1" :
							  "SELECT reporter::pg_catalog.text, ttl, "
							  "pool_application_name, pool_min_connections, "
							  "NULL::pg_catalog.text, NULL::pg_catalog.text, "
							  "NULL::pg_catalog.text, NULL::pg_catalog.text, NULL::pg_catalog.text, "
							  "NULL::pg_catalog.interval "
							  "FROM health.component_config WHERE name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read health.component_config");
	if (SPI_processed > 0)
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		cfg->found = true;
		d = SPI_getbinval(row, desc, 1, &isnull);
		if (!isnull)
			strlcpy(cfg->reporter, TextDatumGetCString(d), NAMEDATALEN);
		d = SPI_getbinval(row, desc, 2, &isnull);
		/* a restored row may hold any interval: clamp it */
		if (!isnull)
			cfg->ttl_s = ph_clamp_ms(ph_interval_ms(DatumGetIntervalP(d)), 0,
									 PH_COMPONENT_MAX_TTL_MS) / 1000;
		d = SPI_getbinval(row, desc, 3, &isnull);
		if (!isnull)
			strlcpy(cfg->pool_application_name, TextDatumGetCString(d), NAMEDATALEN);
		d = SPI_getbinval(row, desc, 4, &isnull);
		if (!isnull)
			cfg->pool_min = DatumGetInt32(d);
		d = SPI_getbinval(row, desc, 5, &isnull);
		if (!isnull)
			strlcpy(cfg->for_user, TextDatumGetCString(d), NAMEDATALEN);
		d = SPI_getbinval(row, desc, 6, &isnull);
		if (!isnull)
			strlcpy(cfg->for_database, TextDatumGetCString(d), NAMEDATALEN);
		/* the table's CHECKs bound these; a restored row is cut, and cleaned */
		d = SPI_getbinval(row, desc, 7, &isnull);
		if (!isnull)
			ph_clean_server_text(cfg->pooler, NAMEDATALEN, TextDatumGetCString(d));
		d = SPI_getbinval(row, desc, 8, &isnull);
		if (!isnull)
			ph_clean_server_text(cfg->pooler_database, NAMEDATALEN, TextDatumGetCString(d));
		d = SPI_getbinval(row, desc, 9, &isnull);
		if (!isnull)
			ph_clean_server_text(cfg->pooler_user, NAMEDATALEN, TextDatumGetCString(d));
		d = SPI_getbinval(row, desc, 10, &isnull);
		if (!isnull)
			cfg->pool_max_wait_ms = ph_clamp_ms(ph_interval_ms(DatumGetIntervalP(d)), 0,
												PH_COMPONENT_MAX_TTL_MS);
	}
	SPI_finish();
	ph_restore_user(&save);
}

/*
 * May the current role report for this component?  Superusers always;
 * otherwise members of the reporter role health.component_config names.
 */
static void
authorize(const char *name, const ComponentConfig *cfg)
{
	Oid			reporter;

	if (superuser())
		return;
	reporter = cfg->reporter[0] ? get_role_oid(cfg->reporter, true) : InvalidOid;
	if (OidIsValid(reporter) && has_privs_of_role(GetUserId(), reporter))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to report for component \"%s\"", name),
			 !cfg->found ?
			 errdetail("Component \"%s\" has no row in health.component_config, so only superusers may report for it.", name) :
			 !OidIsValid(reporter) ?
			 errdetail("Component \"%s\" has no reporter role, so only superusers may report for it.", name) :
			 errdetail("Only superusers and members of role \"%s\" may report for component \"%s\".",
					   cfg->reporter, name),
			 errhint("An administrator allows a role with SELECT health.configure_component('%s', reporter => 'role_name').",
					 name)));
}

/* The runtime entry of a component; caller holds the lock. */
static PhComponent *
find_component(const char *name)
{
	for (int i = 0; i < ph_shared->max_components; i++)
		if (ph_shared->components[i].in_use &&
			strcmp(ph_shared->components[i].name, name) == 0)
			return &ph_shared->components[i];
	return NULL;
}

/* heartbeat() and report_pool() for a component with no state yet */
static void
not_reported(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("component \"%s\" has not reported a state since the server started", name),
			 errhint("Report one first with health.set_component_state('%s', 'starting').", name)));
}

static void
apply_config(PhComponent *c, const ComponentConfig *cfg)
{
	c->ttl_s = cfg->ttl_s;
	strlcpy(c->pool_application_name, cfg->pool_application_name, NAMEDATALEN);
	c->pool_min = cfg->pool_min;
	strlcpy(c->for_user, cfg->for_user, NAMEDATALEN);
	strlcpy(c->for_database, cfg->for_database, NAMEDATALEN);
	strlcpy(c->pooler, cfg->pooler, NAMEDATALEN);
	strlcpy(c->pooler_database, cfg->pooler_database, NAMEDATALEN);
	strlcpy(c->pooler_user, cfg->pooler_user, NAMEDATALEN);
	c->pool_max_wait_ms = cfg->pool_max_wait_ms;
}

Datum
pg_health_set_component_state_1_0(PG_FUNCTION_ARGS)
{
	char	   *name;
	PhComponentState state;
	char	   *detail = NULL;
	char		clean_detail[PH_COMPONENT_DETAIL_LEN];
	ComponentConfig cfg;
	PhComponent *c;
	TimestampTz now = GetCurrentTimestamp();

	ph_require_preloaded();
	name = ph_name_arg(fcinfo, 0, "component name");
	state = state_arg(fcinfo, 1);
	if (!PG_ARGISNULL(2))
	{
		detail = text_to_cstring(PG_GETARG_TEXT_PP(2));
		if (strlen(detail) >= PH_COMPONENT_DETAIL_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("component detail is %zu bytes long, more than the %d allowed",
							strlen(detail), PH_COMPONENT_DETAIL_LEN - 1),
					 errhint("Say in one sentence what an operator should know; put the rest in the service's log.")));
	}
	/* valid UTF-8 whatever this database's encoding: readers trust it */
	ph_clean_server_text(clean_detail, sizeof(clean_detail), detail ? detail : "");
	load_config(name, &cfg);
	authorize(name, &cfg);

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	c = find_component(name);
	if (c == NULL)
	{
		for (int i = 0; i < ph_shared->max_components && c == NULL; i++)
			if (!ph_shared->components[i].in_use)
				c = &ph_shared->components[i];
		if (c == NULL)
		{
			LWLockRelease(ph_shared->lock);
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("cannot register component \"%s\": all %d component places are taken",
							name, ph_shared->max_components),
					 errhint("Raise pg_health.max_components (restart required), or remove components no longer used with health.drop_component().")));
		}
		memset(c, 0, sizeof(*c));
		c->in_use = true;
		strlcpy(c->name, name, NAMEDATALEN);
		c->registered_at = now;
		c->state_since = now;
	}
	else if (c->state != (uint8) state)
		c->state_since = now;
	c->state = (uint8) state;
	memcpy(c->detail, clean_detail, sizeof(c->detail));
	c->last_heartbeat = now;
	if (state == PH_COMP_READY && c->first_ready_at == 0)
		c->first_ready_at = now;
	apply_config(c, &cfg);
	LWLockRelease(ph_shared->lock);
	PG_RETURN_VOID();
}

Datum
pg_health_heartbeat_1_0(PG_FUNCTION_ARGS)
{
	char	   *name;
	ComponentConfig cfg;
	PhComponent *c;

	ph_require_preloaded();
	name = ph_name_arg(fcinfo, 0, "component name");
	load_config(name, &cfg);
	authorize(name, &cfg);

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	c = find_component(name);
	if (c != NULL)
	{
		c->last_heartbeat = GetCurrentTimestamp();
		apply_config(c, &cfg);
	}
	LWLockRelease(ph_shared->lock);
	if (c == NULL)
		not_reported(name);
	PG_RETURN_VOID();
}

/* A name of at most 63 bytes, not empty (argument argno; NULL is fine). */
static void
check_short_name(FunctionCallInfo fcinfo, int argno, const char *what)
{
	char	   *s;

	if (PG_ARGISNULL(argno))
		return;
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (s[0] == '\0' || strlen(s) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(s[0] == '\0' ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_NAME_TOO_LONG),
				 errmsg("%s must be 1 to %d bytes long", what, NAMEDATALEN - 1),
				 errhint("Give it as the pooler's SHOW POOLS shows it, or NULL.")));
}

/*
 * 1.1's pooler, pooler_database, pooler_user and pool_max_wait: a pool is
 * counted either by application_name or at a pooler, never both.
 */
static void
check_pooler_args(FunctionCallInfo fcinfo)
{
	if (!PG_ARGISNULL(7))
	{
		const char *why;
		char	   *pooler = text_to_cstring(PG_GETARG_TEXT_PP(7));

		if (!ph_valid_name(pooler, &why))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pooler name \"%s\" %s", pooler, why),
					 errhint("Give the name the pooler was configured with (health.configure_pooler).")));
		if (!PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a component's pool is counted by application_name or at a pooler, not both"),
					 errhint("Pass pool_application_name => NULL with pooler => '%s'.", pooler)));
	}
	else if (!PG_ARGISNULL(8) || !PG_ARGISNULL(9))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pooler_database and pooler_user need a pooler"),
				 errhint("Name the pooler whose pool they are: pooler => 'name'.")));
	check_short_name(fcinfo, 8, "pooler_database");
	check_short_name(fcinfo, 9, "pooler_user");
	if (!PG_ARGISNULL(10))
		(void) ph_interval_arg_ms(fcinfo, 10, "pool_max_wait", 0, PH_COMPONENT_MAX_TTL_MS);
}

/*
 * Configure a component: who may report for it, its TTL, its pool.  Runs as
 * the caller, so only roles allowed to write health.component_config
 * (superusers, unless granted) can; the runtime copy is updated at once.
 */
Datum
pg_health_configure_component_1_0(PG_FUNCTION_ARGS)
{
	char	   *name;
	Oid			argtypes[11] = {TEXTOID, NAMEOID, INTERVALOID, TEXTOID, INT4OID, NAMEOID, NAMEOID,
	TEXTOID, TEXTOID, TEXTOID, INTERVALOID};
	Datum		args[11];
	char		nulls[11];
	int			nargs = PG_NARGS() >= 11 ? 11 : 5;	/* 1.1 added for_user ...
													 * pool_max_wait */
	ComponentConfig cfg;
	PhComponent *c;
	int			nestlevel;

	ph_require_preloaded();
	name = ph_name_arg(fcinfo, 0, "component name");
	args[0] = CStringGetTextDatum(name);
	nulls[0] = ' ';
	for (int i = 1; i < nargs; i++)
	{
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
		if (!PG_ARGISNULL(i))
			args[i] = PG_GETARG_DATUM(i);
	}
	if (!PG_ARGISNULL(1) && !OidIsValid(get_role_oid(NameStr(*PG_GETARG_NAME(1)), true)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" does not exist", NameStr(*PG_GETARG_NAME(1))),
				 errhint("Create the service's role first, or pass reporter => NULL to let only superusers report.")));
	if (!PG_ARGISNULL(3) && strlen(TextDatumGetCString(args[3])) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pool application_name is longer than %d bytes", NAMEDATALEN - 1),
				 errhint("PostgreSQL truncates application_name to %d bytes, so a longer one never matches.",
						 NAMEDATALEN - 1)));
	if (!PG_ARGISNULL(2))
		(void) ph_interval_arg_ms(fcinfo, 2, "ttl", 0, PH_COMPONENT_MAX_TTL_MS);
	if (!PG_ARGISNULL(4) && PG_GETARG_INT32(4) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pool_min_connections must not be negative"),
				 errhint("0 means the pool's size is not checked.")));
	if (PG_ARGISNULL(4))
	{
		nulls[4] = ' ';
		args[4] = Int32GetDatum(0);
	}
	for (int i = 5; i < Min(nargs, 7); i++)
		check_tenant_name(fcinfo, i, i == 5 ? "for_user" : "for_database");
	if (nargs == 11)
		check_pooler_args(fcinfo);

	/* as the caller (its privileges on the table decide), under the safe path */
	nestlevel = ph_pin_search_path(NULL);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(nargs == 11 ?
							  "INSERT INTO health.component_config "
							  "(name, reporter, ttl, pool_application_name, pool_min_connections, "
							  "for_user, for_database, pooler, pooler_database, pooler_user, pool_max_wait) "
							  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
							  "ON CONFLICT (name) DO UPDATE SET "
							  "reporter = EXCLUDED.reporter, ttl = EXCLUDED.ttl, "
							  "pool_application_name = EXCLUDED.pool_application_name, "
							  "pool_min_connections = EXCLUDED.pool_min_connections, "
							  "for_user = EXCLUDED.for_user, for_database = EXCLUDED.for_database, "
							  "pooler = EXCLUDED.pooler, pooler_database = EXCLUDED.pooler_database, "
							  "pooler_user = EXCLUDED.pooler_user, pool_max_wait = EXCLUDED.pool_max_wait" :
							  "INSERT INTO health.component_config "
							  "(name, reporter, ttl, pool_application_name, pool_min_connections) "
							  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET "
							  "reporter = EXCLUDED.reporter, ttl = EXCLUDED.ttl, "
							  "pool_application_name = EXCLUDED.pool_application_name, "
							  "pool_min_connections = EXCLUDED.pool_min_connections",
							  nargs, argtypes, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write health.component_config");
	SPI_finish();
	ph_unpin_search_path(nestlevel);

	load_config(name, &cfg);
	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	c = find_component(name);
	if (c != NULL)
		apply_config(c, &cfg);
	LWLockRelease(ph_shared->lock);
	PG_RETURN_VOID();
}

Datum
pg_health_configure_component_1_1(PG_FUNCTION_ARGS)
{
	return pg_health_configure_component_1_0(fcinfo);
}

/* A count argument of report_pool: not NULL, not negative. */
static int
count_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	int			v;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what),
				 errhint("Report the pool's figures as the pool library gives them (0 when there are none).")));
	v = PG_GETARG_INT32(argno);
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative", what),
				 errhint("Report the pool's figures as the pool library gives them.")));
	return v;
}

/*
 * health.report_pool(component, in_use, idle, waiting, max_size, max_wait):
 * an application's own connection pool, authorized like
 * set_component_state.  It counts as a heartbeat.  The component must have
 * reported a state first.
 */
Datum
pg_health_report_pool_1_1(PG_FUNCTION_ARGS)
{
	char	   *name;
	int			in_use,
				idle,
				waiting,
				max_size;
	int64		max_wait_us = -1;
	ComponentConfig cfg;
	PhComponent *c;
	TimestampTz now = GetCurrentTimestamp();

	ph_require_preloaded();
	name = ph_name_arg(fcinfo, 0, "component name");
	in_use = count_arg(fcinfo, 1, "in_use");
	idle = count_arg(fcinfo, 2, "idle");
	waiting = count_arg(fcinfo, 3, "waiting");
	max_size = count_arg(fcinfo, 4, "max_size");
	if (max_size < 1 || (int64) in_use + idle > max_size)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pool of component \"%s\": %d in use and %d idle do not fit a max_size of %d",
						name, in_use, idle, max_size),
				 errhint("max_size is the most connections the pool may hold; in_use and idle are those it holds now.")));
	if (!PG_ARGISNULL(5))
		max_wait_us = (int64) ph_interval_arg_ms(fcinfo, 5, "max_wait", 0, PH_COMPONENT_MAX_TTL_MS) * 1000;
	load_config(name, &cfg);
	authorize(name, &cfg);

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	c = find_component(name);
	if (c != NULL)
	{
		c->app_pool_at = now;
		c->app_in_use = in_use;
		c->app_idle = idle;
		c->app_waiting = waiting;
		c->app_max_size = max_size;
		c->app_max_wait_us = max_wait_us;
		c->last_heartbeat = now;
		apply_config(c, &cfg);
	}
	LWLockRelease(ph_shared->lock);
	if (c == NULL)
		not_reported(name);
	PG_RETURN_VOID();
}

/* Forget a component: its configuration and its runtime state. */
Datum
pg_health_drop_component_1_0(PG_FUNCTION_ARGS)
{
	char	   *name;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	PhComponent *c;
	bool		existed;
	int			nestlevel;

	ph_require_preloaded();
	name = ph_name_arg(fcinfo, 0, "component name");
	args[0] = CStringGetTextDatum(name);
	nestlevel = ph_pin_search_path(NULL);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("DELETE FROM health.component_config WHERE name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not write health.component_config");
	existed = SPI_processed > 0;
	SPI_finish();
	ph_unpin_search_path(nestlevel);

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	c = find_component(name);
	if (c != NULL)
	{
		memset(c, 0, sizeof(*c));
		existed = true;
	}
	LWLockRelease(ph_shared->lock);
	PG_RETURN_BOOL(existed);
}

/* The sampler: copy the runtime entries in use. */
int
ph_read_components(PhComponent *out)
{
	int			n = 0;

	LWLockAcquire(ph_shared->lock, LW_SHARED);
	for (int i = 0; i < ph_shared->max_components; i++)
		if (ph_shared->components[i].in_use)
			out[n++] = ph_shared->components[i];
	LWLockRelease(ph_shared->lock);
	return n;
}

/*
 * The sampler: for every component that names the role and database it
 * connects with, would a new connection of it be admitted now
 * (admission.c)?  Asking every sample keeps the pair in the table of asked
 * pairs (asked_pairs.c), so it is never forgotten while the component is known.
 */
void
ph_component_admissions(PhComponentTable *t, const PhSnapshot *snap, TimestampTz now)
{
	static const PhAsker component_asker = {.kind = PH_ASKER_COMPONENT};

	for (int k = 0; k < t->n; k++)
	{
		PhComponentResult *r = &t->items[k];
		PhAdmission adm;

		r->admit = -1;
		r->admission[0] = '\0';
		if (!r->c.in_use || (r->c.for_user[0] == '\0' && r->c.for_database[0] == '\0'))
			continue;
		memset(&adm, 0, sizeof(adm));
		/* as over HTTP: an application's traffic does not use the reserves */
		adm.hide_facts = true;
		adm.user = r->c.for_user[0] ? r->c.for_user : NULL;
		adm.database = r->c.for_database[0] ? r->c.for_database : NULL;
		ph_tenant_answer(r->c.for_user, r->c.for_database, 0, &component_asker, &adm.answer);
		ph_judge_admission(snap, &adm, now);
		r->admit = (int8) adm.admit;
		r->admit_lasting = false;
		for (int i = 0; i < adm.nreasons; i++)
		{
			const PhAdmissionReason *why = &adm.reasons[i];

			if (adm.admit == PH_ADMIT_NO && !why->refuses)
				continue;
			if (r->admission[0] == '\0')
				snprintf(r->admission, sizeof(r->admission), "%s (%s)", why->detail, why->fix);
			r->admit_lasting |= why->lasting;
		}
	}
}

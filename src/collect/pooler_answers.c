/*
 * pooler_answers.c -- what a PgBouncer's admin console answers (collect):
 * the results of one poll's SHOW statements, read row by row into the
 * figures the pooler worker (pooler_worker.c) publishes.  Columns are found
 * by name, so versions that add columns work; numbers that are missing,
 * negative or not numbers read as 0, names are cut to their place; at most
 * PH_POOLER_MAX_ROWS rows are kept, the rest summed into one.
 */
#include "postgres.h"

#include <limits.h>

#include "libpq-fe.h"

#include "collect/pooler_answers.h"
#include "ground/guard.h"

const char *const ph_poll_query_text[PH_Q_COUNT] = {
	"SHOW VERSION", "SHOW CONFIG", "SHOW LISTS", "SHOW DATABASES", "SHOW POOLS",
};

/* A new poll: nothing read yet. */
void
ph_poll_answer_start(PhPollAnswer *t)
{
	PhPooler   *f = &t->fresh;

	t->rows = NULL;
	t->nrows = 0;
	t->rows_cap = 0;
	memset(&t->overflow, 0, sizeof(t->overflow));
	t->sizes = NULL;
	t->nsizes = 0;
	t->sizes_cap = 0;
	memset(f, 0, offsetof(PhPooler, pools));
	f->max_client_conn = -1;
	f->default_pool_size = -1;
	f->worst_pool = -1;
}

/* ------------------------------------------------------------------------
 * Reading a result
 * ------------------------------------------------------------------------
 */

/* A non-negative integer column (NULL, missing, negative or not a number: 0). */
static int64
int_value(const PGresult * res, int row, int col)
{
	const char *s;
	char	   *end;
	long long	v;

	if (col < 0 || PQgetisnull(res, row, col))
		return 0;
	s = PQgetvalue(res, row, col);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		return 0;
	return (int64) Min(v, (long long) PG_INT64_MAX / 2);
}

static int
int_column(const PGresult * res, int row, int col)
{
	return (int) Min(int_value(res, row, col), (int64) INT_MAX);
}

/* A text column, made valid UTF-8 and cut to size ("" when missing). */
static void
text_column(char *dst, size_t size, const PGresult * res, int row, int col)
{
	const char *s = col >= 0 && !PQgetisnull(res, row, col) ? PQgetvalue(res, row, col) : "";

	ph_clean_text(dst, size, s, strlen(s));
}

/* Add a pool to the row that sums those that did not fit. */
static void
fold_pool(PhPoolerPool *o, const PhPoolerPool *p)
{
	o->folded += Max(p->folded, 1);
	o->cl_active = (int) Min((int64) o->cl_active + p->cl_active, (int64) INT_MAX);
	o->cl_waiting = (int) Min((int64) o->cl_waiting + p->cl_waiting, (int64) INT_MAX);
	o->sv_active = (int) Min((int64) o->sv_active + p->sv_active, (int64) INT_MAX);
	o->sv_idle = (int) Min((int64) o->sv_idle + p->sv_idle, (int64) INT_MAX);
	o->sv_used = (int) Min((int64) o->sv_used + p->sv_used, (int64) INT_MAX);
	o->sv_tested = (int) Min((int64) o->sv_tested + p->sv_tested, (int64) INT_MAX);
	o->sv_login = (int) Min((int64) o->sv_login + p->sv_login, (int64) INT_MAX);
	o->maxwait_us = Max(o->maxwait_us, p->maxwait_us);
}

static void
read_version(PhPollAnswer *t, const PGresult * res, char *error, size_t errlen)
{
	if (PQntuples(res) < 1 || PQnfields(res) < 1)
		return;					/* PgBouncer before 1.12 said it in a NOTICE */
	text_column(t->fresh.version, sizeof(t->fresh.version), res, 0, 0);
	if (strncmp(t->fresh.version, "PgBouncer", 9) != 0)
		snprintf(error, errlen,
				 "not a PgBouncer admin console: SHOW VERSION answered \"%s\"", t->fresh.version);
}

static void
read_config(PhPollAnswer *t, const PGresult * res)
{
	int			key = PQfnumber(res, "key");
	int			value = PQfnumber(res, "value");

	for (int r = 0; key >= 0 && value >= 0 && r < Min(PQntuples(res), PH_POOLER_MAX_ROWS); r++)
	{
		const char *k = PQgetvalue(res, r, key);

		if (strcmp(k, "max_client_conn") == 0)
			t->fresh.max_client_conn = int_column(res, r, value);
		else if (strcmp(k, "default_pool_size") == 0)
			t->fresh.default_pool_size = int_column(res, r, value);
		else if (strcmp(k, "pool_mode") == 0)
			text_column(t->fresh.pool_mode, sizeof(t->fresh.pool_mode), res, r, value);
	}
}

static void
read_lists(PhPollAnswer *t, const PGresult * res)
{
	int			list = PQfnumber(res, "list");
	int			items = PQfnumber(res, "items");

	for (int r = 0; list >= 0 && r < Min(PQntuples(res), PH_POOLER_MAX_ROWS); r++)
		if (strcmp(PQgetvalue(res, r, list), "used_clients") == 0)
			t->fresh.client_connections = int_column(res, r, items);
}

/* Room for one more row in a growing array (NULL: the cap is reached). */
static void *
next_row(void **rows, int *n, int *cap, Size size)
{
	if (*n >= PH_POOLER_MAX_ROWS)
		return NULL;
	if (*n >= *cap)
	{
		int			grown = Min(Max(*cap * 2, 64), PH_POOLER_MAX_ROWS);

		*rows = *rows == NULL ? palloc(size * grown) : repalloc(*rows, size * grown);
		*cap = grown;
	}
	return (char *) *rows + size * (*n)++;
}

static void
read_databases(PhPollAnswer *t, const PGresult * res)
{
	int			name = PQfnumber(res, "name");
	int			size = PQfnumber(res, "pool_size");

	for (int r = 0; name >= 0 && r < PQntuples(res); r++)
	{
		PhDbSize   *d = next_row((void **) &t->sizes, &t->nsizes, &t->sizes_cap, sizeof(PhDbSize));

		if (d == NULL)
			return;				/* the rest keep pool_size unknown */
		text_column(d->name, sizeof(d->name), res, r, name);
		d->pool_size = size >= 0 ? int_column(res, r, size) : -1;
	}
}

static void
read_pools(PhPollAnswer *t, const PGresult * res, char *error, size_t errlen)
{
	int			db = PQfnumber(res, "database");
	int			user = PQfnumber(res, "user");
	int			cl_active = PQfnumber(res, "cl_active");
	int			cl_waiting = PQfnumber(res, "cl_waiting");
	int			sv_active = PQfnumber(res, "sv_active");
	int			sv_idle = PQfnumber(res, "sv_idle");
	int			sv_used = PQfnumber(res, "sv_used");
	int			sv_tested = PQfnumber(res, "sv_tested");
	int			sv_login = PQfnumber(res, "sv_login");
	int			maxwait = PQfnumber(res, "maxwait");
	int			maxwait_us = PQfnumber(res, "maxwait_us");
	int			mode = PQfnumber(res, "pool_mode");

	if (db < 0 || user < 0 || cl_waiting < 0 || maxwait < 0)
	{
		strlcpy(error, "not a PgBouncer admin console: SHOW POOLS has no database, user, "
				"cl_waiting or maxwait column", errlen);
		return;
	}
	for (int r = 0; r < PQntuples(res); r++)
	{
		PhPoolerPool one;
		PhPoolerPool *p;

		memset(&one, 0, sizeof(one));
		text_column(one.database, sizeof(one.database), res, r, db);
		/* the admin console itself, where this worker is a client */
		if (strcmp(one.database, "pgbouncer") == 0)
			continue;
		text_column(one.user, sizeof(one.user), res, r, user);
		one.cl_active = int_column(res, r, cl_active);
		one.cl_waiting = int_column(res, r, cl_waiting);
		one.sv_active = int_column(res, r, sv_active);
		one.sv_idle = int_column(res, r, sv_idle);
		one.sv_used = int_column(res, r, sv_used);
		one.sv_tested = int_column(res, r, sv_tested);
		one.sv_login = int_column(res, r, sv_login);
		one.maxwait_us = Min(int_value(res, r, maxwait), (int64) 86400 * 365) * USECS_PER_SEC +
			Min(int_value(res, r, maxwait_us), (int64) USECS_PER_SEC - 1);
		text_column(one.pool_mode, sizeof(one.pool_mode), res, r, mode);
		one.pool_size = -1;
		p = next_row((void **) &t->rows, &t->nrows, &t->rows_cap, sizeof(PhPoolerPool));
		if (p != NULL)
			*p = one;
		else
			fold_pool(&t->overflow, &one);
	}
}

/* The worst pools first: most waiting, then the longest wait, then the most clients. */
static int
cmp_pool(const void *a, const void *b)
{
	const PhPoolerPool *x = a;
	const PhPoolerPool *y = b;

	if (x->cl_waiting != y->cl_waiting)
		return x->cl_waiting > y->cl_waiting ? -1 : 1;
	if (x->maxwait_us != y->maxwait_us)
		return x->maxwait_us > y->maxwait_us ? -1 : 1;
	if (x->cl_active != y->cl_active)
		return x->cl_active > y->cl_active ? -1 : 1;
	return strcmp(x->database, y->database) != 0 ? strcmp(x->database, y->database) :
		strcmp(x->user, y->user);
}

/*
 * A poll that succeeded: its pools with their sizes, the worst first and
 * the rest folded into one row, and the totals the check judges.
 */
void
ph_poll_answer_finish(PhPollAnswer *t)
{
	PhPooler   *f = &t->fresh;
	int			keep;

	if (t->nrows > 1)
		qsort(t->rows, t->nrows, sizeof(PhPoolerPool), cmp_pool);
	keep = t->nrows <= PH_MAX_POOLER_POOLS && t->overflow.folded == 0 ?
		t->nrows : PH_MAX_POOLER_POOLS - 1;
	for (int k = 0; k < t->nrows; k++)
	{
		PhPoolerPool *p = &t->rows[k];

		f->clients_waiting = (int) Min((int64) f->clients_waiting + p->cl_waiting, (int64) INT_MAX);
		if (k < keep && p->cl_waiting > 0 &&
			(f->worst_pool < 0 || p->maxwait_us > f->max_wait_us))
		{
			f->max_wait_us = p->maxwait_us;
			f->worst_pool = k;
		}
		for (int d = 0; d < t->nsizes; d++)
			if (strcmp(t->sizes[d].name, p->database) == 0)
				p->pool_size = t->sizes[d].pool_size;
		if (p->pool_mode[0] == '\0')
			strlcpy(p->pool_mode, f->pool_mode, sizeof(p->pool_mode));
	}
	if (keep > 0)				/* no pools: t->rows is NULL */
		memcpy(f->pools, t->rows, sizeof(PhPoolerPool) * keep);
	f->npools = keep;
	if (t->nrows > keep || t->overflow.folded > 0)
	{
		PhPoolerPool *o = &f->pools[f->npools++];

		/* no names: a real pool may be called anything */
		*o = t->overflow;
		o->database[0] = '\0';
		o->user[0] = '\0';
		o->pool_size = -1;
		for (int k = keep; k < t->nrows; k++)
			fold_pool(o, &t->rows[k]);
		/* the longest wait may be among them */
		if (o->cl_waiting > 0 && (f->worst_pool < 0 || o->maxwait_us > f->max_wait_us))
		{
			f->max_wait_us = o->maxwait_us;
			f->worst_pool = f->npools - 1;
		}
		f->clients_waiting = (int) Min((int64) f->clients_waiting + t->overflow.cl_waiting,
									   (int64) INT_MAX);
	}
}

/*
 * One result (a statement's rows, or one row in single-row mode) of the
 * statement query; a SHOW VERSION that is not PgBouncer's sets error.
 */
void
ph_poll_answer_read(PhPollAnswer *t, PhPollQuery query, const PGresult * res, char *error,
					size_t errlen)
{
	switch (query)
	{
		case PH_Q_VERSION:
			read_version(t, res, error, errlen);
			break;
		case PH_Q_CONFIG:
			read_config(t, res);
			break;
		case PH_Q_LISTS:
			read_lists(t, res);
			break;
		case PH_Q_DATABASES:
			read_databases(t, res);
			break;
		case PH_Q_POOLS:
			read_pools(t, res, error, errlen);
			break;
		case PH_Q_COUNT:
			break;
	}
}

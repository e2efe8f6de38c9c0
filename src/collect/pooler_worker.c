/*
 * poller.c -- the pooler worker (collect): it reads the admin console of
 * every connection pooler (PgBouncer) configured with
 * health.configure_pooler(), and publishes what it found for the sampler,
 * which judges it (pooler_checks.c) into the one verdict.
 *
 * A background worker with shared memory access only, like the sampler and
 * the HTTP worker: no database connection, so nothing in a database can
 * block it and it never holds up DROP DATABASE.  Its list of poolers, with
 * their conninfo, comes from shared memory, where the checker loads
 * health.pooler_config (poolers.c).  It talks to the poolers through libpq,
 * as dblink and postgres_fdw do, but never blocks on one: every poller is
 * polled at once, non-blocking, and each poll has a deadline
 * (pg_health.pooler_timeout) for the connection and all its statements
 * together, so a pooler that hangs (SIGSTOP, a full network buffer) costs
 * its own poll and nothing else.  Each poll has a connection of its own:
 * one kept between polls would hold up PgBouncer's shutdown (from 1.23 on,
 * SIGTERM waits for every client to disconnect).
 *
 * Each poll is SHOW VERSION (is it PgBouncer?), SHOW CONFIG
 * (max_client_conn, default_pool_size, pool_mode), SHOW LISTS (client
 * connections in use), SHOW DATABASES (each database's pool_size) and SHOW
 * POOLS (clients active and waiting, servers, maxwait, per database and
 * user).  Columns are found by name, so versions that add columns work.
 *
 * Like every pg_health worker it never raises an error for what a pooler
 * does: a failed poll is recorded with the pooler's own message.  It exits
 * with status 1 on SIGTERM and is restarted after PH_RESTART_SECONDS.
 */
#include "postgres.h"

#include <limits.h>
#include <poll.h>

#include "libpq-fe.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "ground/guard.h"
#include "collect/pooler_worker.h"
#include "ground/shmem.h"
#include "ground/workers.h"

int			ph_pooler_interval_ms = 1000;
int			ph_pooler_timeout_ms = 2000;

void
ph_define_poller_settings(void)
{
	DefineCustomIntVariable("pg_health.pooler_interval",
							"Time between two polls of each pooler's admin console.",
							NULL,
							&ph_pooler_interval_ms,
							1000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.pooler_timeout",
							"Time a poll of one pooler may take: connecting and every statement together.",
							"A pooler that does not answer within it counts as unreachable for that poll.",
							&ph_pooler_timeout_ms,
							2000, 10, 60 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

void
ph_register_poller(void)
{
	BackgroundWorker worker;

	ph_describe_worker(&worker, "poller", BGWORKER_SHMEM_ACCESS,
					   BgWorkerStart_PostmasterStart, PH_RESTART_SECONDS);
	RegisterBackgroundWorker(&worker);
}

/* The statements of one poll, in order. */
typedef enum PollQuery
{
	Q_VERSION,
	Q_CONFIG,
	Q_LISTS,
	Q_DATABASES,
	Q_POOLS,
	Q_COUNT
} PollQuery;

static const char *const query_text[Q_COUNT] = {
	"SHOW VERSION", "SHOW CONFIG", "SHOW LISTS", "SHOW DATABASES", "SHOW POOLS",
};

typedef enum Step
{
	STEP_DONE,					/* not polling (this round's poll is over) */
	STEP_CONNECTING,
	STEP_SEND,					/* the next statement is to be sent */
	STEP_FLUSH,					/* sent, not all written out yet */
	STEP_READ,					/* waiting for its result */
} Step;

/* A database's pool_size, from SHOW DATABASES. */
typedef struct DbSize
{
	char		name[NAMEDATALEN];
	int			pool_size;
} DbSize;

/*
 * At most this many rows of SHOW POOLS and SHOW DATABASES are kept in a
 * poll; more pools are summed into one row, more databases left without a
 * pool_size.  Results are read one row at a time (single-row mode), so a
 * pooler that answers without end costs its own poll's deadline, not memory.
 */
#define PH_POOLER_MAX_ROWS 2000

typedef struct Target
{
	char		name[NAMEDATALEN];
	char		conninfo[PH_CONNINFO_LEN];
	PGconn	   *conn;
	Step		step;
	bool		want_write;		/* connecting: PQconnectPoll wants to write */
	PollQuery	query;
	TimestampTz started;
	TimestampTz deadline;
	char		error[PH_POOLER_ERROR_LEN];
	PhPooler	out;			/* what is published */
	/* this poll's figures, moved to out when it succeeds */
	PhPooler	fresh;
	PhPoolerPool *rows;			/* SHOW POOLS, in the round's memory */
	int			nrows;
	int			rows_cap;
	PhPoolerPool overflow;		/* rows beyond PH_POOLER_MAX_ROWS, summed */
	DbSize	   *sizes;			/* SHOW DATABASES */
	int			nsizes;
	int			sizes_cap;
} Target;

static Target targets[PH_MAX_POOLERS];
static int	ntargets = 0;
static int	excess = 0;
static uint64 config_version = PG_UINT64_MAX;

/* ------------------------------------------------------------------------
 * Reading a result
 * ------------------------------------------------------------------------
 */

/* A non-negative integer column (NULL, missing, negative or not a number: 0). */
static int64
int_value(const PGresult *res, int row, int col)
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
int_column(const PGresult *res, int row, int col)
{
	return (int) Min(int_value(res, row, col), (int64) INT_MAX);
}

/* A text column, made valid UTF-8 and cut to size ("" when missing). */
static void
text_column(char *dst, size_t size, const PGresult *res, int row, int col)
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
read_version(Target *t, const PGresult *res)
{
	if (PQntuples(res) < 1 || PQnfields(res) < 1)
		return;					/* PgBouncer before 1.12 said it in a NOTICE */
	text_column(t->fresh.version, sizeof(t->fresh.version), res, 0, 0);
	if (strncmp(t->fresh.version, "PgBouncer", 9) != 0)
		snprintf(t->error, sizeof(t->error),
				 "not a PgBouncer admin console: SHOW VERSION answered \"%s\"", t->fresh.version);
}

static void
read_config(Target *t, const PGresult *res)
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
read_lists(Target *t, const PGresult *res)
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
read_databases(Target *t, const PGresult *res)
{
	int			name = PQfnumber(res, "name");
	int			size = PQfnumber(res, "pool_size");

	for (int r = 0; name >= 0 && r < PQntuples(res); r++)
	{
		DbSize	   *d = next_row((void **) &t->sizes, &t->nsizes, &t->sizes_cap, sizeof(DbSize));

		if (d == NULL)
			return;				/* the rest keep pool_size unknown */
		text_column(d->name, sizeof(d->name), res, r, name);
		d->pool_size = size >= 0 ? int_column(res, r, size) : -1;
	}
}

static void
read_pools(Target *t, const PGresult *res)
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
		strlcpy(t->error, "not a PgBouncer admin console: SHOW POOLS has no database, user, "
				"cl_waiting or maxwait column", sizeof(t->error));
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
static void
finish_poll(Target *t)
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

/* ------------------------------------------------------------------------
 * One round: every pooler polled at once, each under its deadline
 * ------------------------------------------------------------------------
 */

/* The first line of a libpq message, without "ERROR:  " or "FATAL:  ". */
static void
set_error(Target *t, const char *prefix, const char *msg)
{
	char		line[PH_POOLER_ERROR_LEN];
	size_t		len;

	if (msg == NULL)
		msg = "";
	if (strncmp(msg, "ERROR:  ", 8) == 0 || strncmp(msg, "FATAL:  ", 8) == 0)
		msg += 8;
	len = strcspn(msg, "\n");
	snprintf(line, sizeof(line), "%s%.*s", prefix, (int) Min(len, sizeof(line)), msg);
	ph_clean_text(t->error, sizeof(t->error), line, strlen(line));
}

static void
drop_connection(Target *t)
{
	if (t->conn != NULL)
		PQfinish(t->conn);
	t->conn = NULL;
}

/* The poll is over: publishable in t->out. */
static void
end_poll(Target *t, TimestampTz now)
{
	PhPooler   *o = &t->out;

	/*
	 * A connection per poll: one kept open would hold up PgBouncer's own
	 * shutdown (from 1.23 on, SIGTERM waits for every client to leave)
	 */
	drop_connection(t);
	o->polled_at = now;
	o->poll_duration_us = now - t->started;
	o->polls++;
	if (t->error[0] == '\0')
	{
		PhPooler   *f = &t->fresh;

		finish_poll(t);
		strlcpy(o->version, f->version, sizeof(o->version));
		o->client_connections = f->client_connections;
		o->max_client_conn = f->max_client_conn;
		o->default_pool_size = f->default_pool_size;
		strlcpy(o->pool_mode, f->pool_mode, sizeof(o->pool_mode));
		o->clients_waiting = f->clients_waiting;
		o->max_wait_us = f->max_wait_us;
		o->worst_pool = f->worst_pool;
		o->npools = f->npools;
		memcpy(o->pools, f->pools, sizeof(PhPoolerPool) * f->npools);
		o->answered_at = now;
		o->failing_since = 0;
		o->error[0] = '\0';
	}
	else
	{
		/* the last answer's pools stay, with its time: readers see how old */
		o->failures++;
		if (o->failing_since == 0)
			o->failing_since = now;
		strlcpy(o->error, t->error, sizeof(o->error));
	}
	t->step = STEP_DONE;
}

static void
fail(Target *t, const char *prefix, const char *msg, TimestampTz now)
{
	set_error(t, prefix, msg);
	end_poll(t, now);
}

static void
ignore_notice(void *arg, const char *message)
{
}

/*
 * Start connecting.  GSS encryption is off unless the conninfo asks for it
 * (setting it up may ask a Kerberos server, and wait).
 */
static void
connect_start(Target *t, TimestampTz now)
{
	const char *const keywords[] = {"gssencmode", "dbname", "fallback_application_name", NULL};
	const char *const values[] = {"disable", t->conninfo, "pg_health pooler worker", NULL};

	drop_connection(t);
	t->conn = PQconnectStartParams(keywords, values, 1);
	if (t->conn == NULL)
	{
		fail(t, "could not connect: ", "out of memory", now);
		return;
	}
	if (PQstatus(t->conn) == CONNECTION_BAD)
	{
		fail(t, "could not connect: ", PQerrorMessage(t->conn), now);
		return;
	}
	/* what a pooler says in NOTICEs goes nowhere: libpq would print it on stderr */
	PQsetNoticeProcessor(t->conn, ignore_notice, NULL);
	t->step = STEP_CONNECTING;
	t->want_write = true;
}

static void
start_poll(Target *t, TimestampTz now)
{
	PhPooler   *f = &t->fresh;

	t->started = now;
	t->deadline = TimestampTzPlusMilliseconds(now, ph_pooler_timeout_ms);
	t->error[0] = '\0';
	t->query = Q_VERSION;
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

	connect_start(t, now);
}

/* Read and drop what libpq queued besides results: a pooler never sends them. */
static bool
unexpected_notifications(Target *t)
{
	PGnotify   *n;
	bool		any = false;

	while ((n = PQnotifies(t->conn)) != NULL)
	{
		PQfreemem(n);
		any = true;
	}
	return any;
}

/* Consume a statement's results; move on to the next statement, or end. */
static void
read_results(Target *t, TimestampTz now)
{
	if (!PQconsumeInput(t->conn))
	{
		fail(t, "connection lost: ", PQerrorMessage(t->conn), now);
		return;
	}
	if (unexpected_notifications(t))
	{
		fail(t, "not a PgBouncer admin console: ", "it sent a notification (NOTIFY)", now);
		return;
	}
	/* a bounded number of results per wake-up: the deadline is looked at between */
	for (int n = 0; n < 10000 && t->step == STEP_READ && !PQisBusy(t->conn); n++)
	{
		PGresult   *res = PQgetResult(t->conn);
		ExecStatusType st;

		if (res == NULL)
		{
			/* the statement is complete */
			if (t->error[0] != '\0')
			{
				end_poll(t, now);
				return;
			}
			t->query++;
			if (t->query == Q_COUNT)
				end_poll(t, now);
			else
				t->step = STEP_SEND;
			return;
		}
		st = PQresultStatus(res);
		if (st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE)
		{
			if (t->error[0] == '\0')
			{
				switch (t->query)
				{
					case Q_VERSION:
						read_version(t, res);
						break;
					case Q_CONFIG:
						read_config(t, res);
						break;
					case Q_LISTS:
						read_lists(t, res);
						break;
					case Q_DATABASES:
						read_databases(t, res);
						break;
					case Q_POOLS:
						read_pools(t, res);
						break;
					case Q_COUNT:
						break;
				}
			}
		}
		else if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || st == PGRES_BAD_RESPONSE)
		{
			if (t->error[0] == '\0')
			{
				char		prefix[64];

				snprintf(prefix, sizeof(prefix), "%s%s: ",
						 t->query == Q_VERSION ? "not a PgBouncer admin console: " : "",
						 query_text[t->query]);
				set_error(t, prefix, PQresultErrorMessage(res));
			}
		}
		else if (st != PGRES_COMMAND_OK && st != PGRES_EMPTY_QUERY)
		{
			/* COPY, pipeline states: no admin console answers SHOW with them */
			char		msg[128];

			snprintf(msg, sizeof(msg), "%s answered with %s", query_text[t->query], PQresStatus(st));
			PQclear(res);
			fail(t, "not a PgBouncer admin console: ", msg, now);
			return;
		}
		PQclear(res);
	}
}

/* Advance a poll that needs no waiting: connect done, send, flush. */
static void
advance(Target *t, short revents, TimestampTz now)
{
	if (t->step == STEP_CONNECTING)
	{
		switch (PQconnectPoll(t->conn))
		{
			case PGRES_POLLING_READING:
				t->want_write = false;
				return;
			case PGRES_POLLING_WRITING:
				t->want_write = true;
				return;
			case PGRES_POLLING_OK:
				if (PQsetnonblocking(t->conn, 1) != 0)
				{
					fail(t, "could not connect: ", PQerrorMessage(t->conn), now);
					return;
				}
				t->step = STEP_SEND;
				break;
			default:
				fail(t, "could not connect: ", PQerrorMessage(t->conn), now);
				return;
		}
	}
	if (t->step == STEP_SEND)
	{
		if (!PQsendQuery(t->conn, query_text[t->query]))
		{
			fail(t, "could not send: ", PQerrorMessage(t->conn), now);
			return;
		}
		/* one row at a time: a pooler answering without end costs no memory */
		(void) PQsetSingleRowMode(t->conn);
		t->step = STEP_FLUSH;
	}
	if (t->step == STEP_FLUSH)
	{
		int			r = PQflush(t->conn);

		if (r < 0)
		{
			fail(t, "could not send: ", PQerrorMessage(t->conn), now);
			return;
		}
		if (r > 0)
			return;
		t->step = STEP_READ;
		revents |= POLLIN;		/* a result may be buffered already */
	}
	if (t->step == STEP_READ && (revents & (POLLIN | POLLERR | POLLHUP)))
		read_results(t, now);
}

/*
 * Poll every pooler, together, until each has answered, failed or passed
 * its deadline.  Waits in poll(2) for at most 100 ms at a time, so that
 * SIGTERM, a reload and the postmaster's death are seen at once.
 */
static void
poll_round(void)
{
	TimestampTz now = GetCurrentTimestamp();
	struct pollfd fds[PH_MAX_POOLERS];
	Target	   *who[PH_MAX_POOLERS];

	for (int i = 0; i < ntargets; i++)
		start_poll(&targets[i], now);
	for (;;)
	{
		int			nfds = 0;
		TimestampTz first_deadline = 0;
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (!PostmasterIsAlive())
			proc_exit(1);
		now = GetCurrentTimestamp();
		for (int i = 0; i < ntargets; i++)
		{
			Target	   *t = &targets[i];

			if (t->step != STEP_DONE && now >= t->deadline)
			{
				char		msg[128];

				snprintf(msg, sizeof(msg), "no answer within pg_health.pooler_timeout (%d ms)%s%s",
						 ph_pooler_timeout_ms,
						 t->step == STEP_CONNECTING ? " while connecting" : " to ",
						 t->step == STEP_CONNECTING ? "" : query_text[t->query]);
				fail(t, "timed out: ", msg, now);
			}
			if (t->step == STEP_SEND || t->step == STEP_FLUSH)
				advance(t, 0, now);
			if (t->step == STEP_DONE || PQsocket(t->conn) < 0)
			{
				if (t->step != STEP_DONE)
					fail(t, "connection lost: ", PQerrorMessage(t->conn), now);
				continue;
			}
			fds[nfds].fd = PQsocket(t->conn);
			fds[nfds].events = (t->step == STEP_CONNECTING ? t->want_write : t->step == STEP_FLUSH) ?
				POLLOUT : POLLIN;
			fds[nfds].revents = 0;
			who[nfds++] = t;
			if (first_deadline == 0 || t->deadline < first_deadline)
				first_deadline = t->deadline;
		}
		if (nfds == 0)
			return;
		wait_ms = Min(Max(TimestampDifferenceMilliseconds(now, first_deadline), 1), 100);
		pgstat_report_wait_start(PG_WAIT_EXTENSION);
		if (poll(fds, nfds, (int) wait_ms) < 0 && errno != EINTR)
		{
			pgstat_report_wait_end();
			for (int k = 0; k < nfds; k++)
				fail(who[k], "poll failed: ", strerror(errno), GetCurrentTimestamp());
			return;
		}
		pgstat_report_wait_end();
		now = GetCurrentTimestamp();
		for (int k = 0; k < nfds; k++)
			if (fds[k].revents != 0 && who[k]->step != STEP_DONE)
				advance(who[k], fds[k].revents, now);
	}
}

/* ------------------------------------------------------------------------
 * The list of poolers, and publishing
 * ------------------------------------------------------------------------
 */

/*
 * Take the list the checker loaded when it changed: a pooler whose conninfo
 * stays keeps its connection and its last answer; one that changed starts
 * afresh; one gone is disconnected.
 */
static void
take_config(void)
{
	static PhPoolerConfig config[PH_MAX_POOLERS];
	static Target old[PH_MAX_POOLERS];
	int			nconfig;
	int			nold = ntargets;
	uint64		version;

	LWLockAcquire(ph_shared->lock, LW_SHARED);
	version = ph_shared->pooler_config_version;
	nconfig = ph_shared->npooler_config;
	if (version != config_version)
		memcpy(config, ph_shared->pooler_config, sizeof(PhPoolerConfig) * nconfig);
	excess = ph_shared->pooler_excess;
	LWLockRelease(ph_shared->lock);
	if (version == config_version)
		return;
	config_version = version;

	memcpy(old, targets, sizeof(Target) * nold);
	ntargets = 0;
	for (int i = 0; i < nconfig; i++)
	{
		Target	   *t = &targets[ntargets++];
		bool		kept = false;

		for (int k = 0; k < nold; k++)
		{
			if (old[k].name[0] != '\0' && strcmp(old[k].name, config[i].name) == 0 &&
				strcmp(old[k].conninfo, config[i].conninfo) == 0)
			{
				*t = old[k];
				old[k].name[0] = '\0';	/* taken: its connection is t's now */
				kept = true;
			}
		}
		if (!kept)
		{
			memset(t, 0, sizeof(*t));
			strlcpy(t->name, config[i].name, sizeof(t->name));
			strlcpy(t->conninfo, config[i].conninfo, sizeof(t->conninfo));
			t->step = STEP_DONE;
			strlcpy(t->out.name, config[i].name, sizeof(t->out.name));
			t->out.worst_pool = -1;
			t->out.max_client_conn = -1;
			t->out.default_pool_size = -1;
			ph_pooler_target(config[i].conninfo, t->out.host, sizeof(t->out.host), &t->out.port);
		}
		t->out.configured_at = config[i].configured_at;
		t->out.loaded_at = config[i].loaded_at;
		if (!kept)
			t->out.watched_since = GetCurrentTimestamp();
	}
	for (int k = 0; k < nold; k++)
		if (old[k].name[0] != '\0' && old[k].conn != NULL)
			PQfinish(old[k].conn);
	/* conninfos live in targets[] only: wipe every other copy */
	explicit_bzero(config, sizeof(config));
	explicit_bzero(old, sizeof(old));
	explicit_bzero(&targets[ntargets], sizeof(Target) * (PH_MAX_POOLERS - ntargets));
}

static void
publish(void)
{
	PhPoolerTable *t = &ph_shared->pooler_polls;

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	t->n = ntargets;
	t->excess = excess;
	t->poller_pid = MyProcPid;
	for (int i = 0; i < ntargets; i++)
	{
		const PhPooler *o = &targets[i].out;

		memcpy(&t->items[i], o, offsetof(PhPooler, pools) + sizeof(PhPoolerPool) * o->npools);
	}
	LWLockRelease(ph_shared->lock);
}

static void
ph_poller_detach(int code, Datum arg)
{
	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	if (ph_shared->poller_pid == MyProcPid)
	{
		ph_shared->poller_pid = 0;
		ph_shared->poller_latch = NULL;
		ph_shared->pooler_polls.poller_pid = 0;
	}
	LWLockRelease(ph_shared->lock);
}

/*
 * The host and port a conninfo names, for people (health.poolers): never
 * its password or anything else.  "" and 0 when it names none.
 */
void
ph_pooler_target(const char *conninfo, char *host, size_t hostlen, int *port)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);

	host[0] = '\0';
	*port = 0;
	if (opts == NULL)
		return;
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
	{
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "host") == 0 || (strcmp(o->keyword, "hostaddr") == 0 && host[0] == '\0'))
			ph_clean_text(host, hostlen, o->val, strlen(o->val));
		else if (strcmp(o->keyword, "port") == 0)
			*port = atoi(o->val);
	}
	PQconninfoFree(opts);
}

void
pg_health_poller_main(Datum main_arg)
{
	MemoryContext round_cxt;
	pid_t		other;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* one pooler worker at a time */
	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	other = ph_shared->poller_pid;
	if (other == 0)
	{
		ph_shared->poller_pid = MyProcPid;
		ph_shared->poller_latch = MyLatch;
	}
	LWLockRelease(ph_shared->lock);
	if (other != 0)
	{
		ereport(LOG,
				(errmsg("pg_health poller already running with pid %d, exiting", (int) other)));
		proc_exit(1);
	}
	before_shmem_exit(ph_poller_detach, (Datum) 0);

	round_cxt = AllocSetContextCreate(TopMemoryContext, "pg_health poller round",
									  ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TimestampTz next;

		CHECK_FOR_INTERRUPTS();
		ph_worker_memory_note(PH_WORKER_POLLER);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		take_config();
		next = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ph_pooler_interval_ms);
		if (ntargets > 0)
		{
			MemoryContext old = MemoryContextSwitchTo(round_cxt);

			poll_round();
			MemoryContextSwitchTo(old);
			MemoryContextReset(round_cxt);
		}
		publish();

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next), 1),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * pooler_worker.c -- the pooler worker (collect): it reads the admin console of
 * every connection pooler (PgBouncer) configured with
 * health.configure_pooler(), and publishes what it found for the sampler,
 * which judges it (pooler_checks.c) into the one verdict.
 *
 * A background worker with shared memory access only, like the sampler and
 * the HTTP worker: no database connection, so nothing in a database can
 * block it and it never holds up DROP DATABASE.  Its list of poolers, with
 * their conninfo, comes from shared memory, where the checker loads
 * health.pooler_config (pooler_config.c).  It talks to the poolers through libpq,
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
 * It also polls the cluster's members (cluster_poll.c), at their own
 * cadence, between its rounds.
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
#include "storage/ipc.h"
#include "storage/pmsignal.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "collect/cluster_poll.h"
#include "collect/pooler_answers.h"
#include "collect/pooler_worker.h"
#include "ground/guard.h"
#include "ground/shmem.h"
#include "ground/worker_loop.h"
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

typedef enum Step
{
	STEP_DONE,					/* not polling (this round's poll is over) */
	STEP_CONNECTING,
	STEP_SEND,					/* the next statement is to be sent */
	STEP_FLUSH,					/* sent, not all written out yet */
	STEP_READ,					/* waiting for its result */
} Step;

typedef struct Target
{
	char		name[NAMEDATALEN];
	char		conninfo[PH_CONNINFO_LEN];
	PGconn	   *conn;
	Step		step;
	bool		want_write;		/* connecting: PQconnectPoll wants to write */
	PhPollQuery query;
	TimestampTz started;
	TimestampTz deadline;
	char		error[PH_POOLER_ERROR_LEN];
	PhPooler	out;			/* what is published */
	PhPollAnswer answer;		/* this poll's, moved to out when it succeeds */
} Target;

static Target targets[PH_MAX_POOLERS];
static int	ntargets = 0;
static int	excess = 0;
static uint64 config_version = PG_UINT64_MAX;

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
		PhPooler   *f = &t->answer.fresh;

		ph_poll_answer_finish(&t->answer);
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

	/*
	 * what a pooler says in NOTICEs goes nowhere: libpq would print it on
	 * stderr
	 */
	PQsetNoticeProcessor(t->conn, ignore_notice, NULL);
	t->step = STEP_CONNECTING;
	t->want_write = true;
}

static void
start_poll(Target *t, TimestampTz now)
{
	t->started = now;
	t->deadline = TimestampTzPlusMilliseconds(now, ph_pooler_timeout_ms);
	t->error[0] = '\0';
	t->query = PH_Q_VERSION;
	ph_poll_answer_start(&t->answer);

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

	/*
	 * a bounded number of results per wake-up: the deadline is looked at
	 * between
	 */
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
			if (t->query == PH_Q_COUNT)
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
				ph_poll_answer_read(&t->answer, t->query, res, t->error, sizeof(t->error));
			}
		}
		else if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || st == PGRES_BAD_RESPONSE)
		{
			if (t->error[0] == '\0')
			{
				char		prefix[64];

				snprintf(prefix, sizeof(prefix), "%s%s: ",
						 t->query == PH_Q_VERSION ? "not a PgBouncer admin console: " : "",
						 ph_poll_query_text[t->query]);
				set_error(t, prefix, PQresultErrorMessage(res));
			}
		}
		else if (st != PGRES_COMMAND_OK && st != PGRES_EMPTY_QUERY)
		{
			/* COPY, pipeline states: no admin console answers SHOW with them */
			char		msg[128];

			snprintf(msg, sizeof(msg), "%s answered with %s", ph_poll_query_text[t->query], PQresStatus(st));
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
		if (!PQsendQuery(t->conn, ph_poll_query_text[t->query]))
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
						 t->step == STEP_CONNECTING ? "" : ph_poll_query_text[t->query]);
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
		if (!ph_worker_poll(PH_WAIT_POLLER_ANSWERS, fds, nfds, first_deadline))
		{
			for (int k = 0; k < nfds; k++)
				fail(who[k], "poll failed: ", strerror(errno), GetCurrentTimestamp());
			return;
		}
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
	for (PQconninfoOption * o = opts; o->keyword != NULL; o++)
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
	TimestampTz next_round = 0;

	ph_worker_start();
	ph_worker_claim(PH_WORKER_POLLER, 0);

	round_cxt = AllocSetContextCreate(TopMemoryContext, "pg_health poller round",
									  ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TimestampTz now;
		long		wait_ms;
		long		cluster_ms;

		(void) ph_worker_step(PH_WORKER_POLLER);
		take_config();
		now = GetCurrentTimestamp();
		/* a reload may shorten the interval: never wait past it */
		if (next_round > TimestampTzPlusMilliseconds(now, ph_pooler_interval_ms))
			next_round = now;
		if (now >= next_round)
		{
			next_round = TimestampTzPlusMilliseconds(now, ph_pooler_interval_ms);
			if (ntargets > 0)
			{
				MemoryContext old = MemoryContextSwitchTo(round_cxt);

				poll_round();
				MemoryContextSwitchTo(old);
				MemoryContextReset(round_cxt);
			}
			publish();
		}
		/* the cluster's members, at their own cadence (cluster_poll.c) */
		cluster_ms = ph_cluster_poll_step(ntargets > 0 ? ph_pooler_timeout_ms : 0);

		wait_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next_round);
		if (cluster_ms >= 0 && cluster_ms < wait_ms)
			wait_ms = cluster_ms;
		ph_worker_wait(PH_WAIT_POLLER_NEXT, wait_ms);
	}
}

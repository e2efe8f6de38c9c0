/*
 * http_server.c -- (doors) the HTTP endpoint's server: the background worker
 * "pg_health http", its clients, their places and deadlines, and its main
 * loop.  The listening sockets are http_listen.c's, the parser and the routes
 * http_parse.c's, the answers http_answers.c's.
 *
 * The worker is registered at preload like the sampler: shared memory access
 * only, started with the postmaster (so it answers during recovery),
 * restarted PH_RESTART_SECONDS after it exits, one at a time (its pid is
 * claimed in shared memory).  It waits on a WaitEventSet over its latch, the
 * listening sockets and its clients' sockets, single-threaded and
 * non-blocking; with pg_health.http_port = 0 it only waits on its latch for
 * a reload.  It never waits for the sampler: a sample does not delay an
 * answer, nor an answer a sample, and when the sampler is stopped or gone
 * the answers say "unknown" once the snapshot is older than
 * pg_health.stale_after (the verdict's freshness rule).  Not even
 * pg_health's lock can hold it: its reads give up after
 * PH_HTTP_LOCK_WAIT_US and it answers from the last copy it has, judged by
 * the same rule (ph_reader_lock_timeout).
 *
 * Clients that send little or nothing must not starve the probes, nor the
 * sampling.  A probe sends its whole request with the connection (on Linux
 * TCP_DEFER_ACCEPT hands the connection over only once data has arrived), so
 * it is read and answered as it is accepted, and takes no place at all when
 * its answer leaves in one go.  Only a client that has to wait, because its
 * request is incomplete, its answer did not fit in the socket, or its answer
 * waits for a names lookup (parked, below), takes one of the
 * pg_health.http_max_clients places, until its deadline
 * (pg_health.http_client_timeout; a 408 if its request is still
 * incomplete).  When a newcomer needs a place and all are taken, the oldest
 * client whose request is still incomplete gives its place up (a 408 at
 * once): slow, silent-after-one-byte and slowloris clients, however many,
 * only take places from each other.  Failing that a parked client is
 * answered at once, as it would have been without parking.  "Busy", a 503
 * "too many HTTP clients", is left for a newcomer that must wait while every
 * place holds a client whose answer is still being sent.  Each wake accepts
 * at most PH_HTTP_ACCEPTS_PER_WAKE connections and a close drains at most
 * PH_HTTP_DRAIN_MAX unread bytes, so a flood delays a reload, a deadline or
 * a shutdown by one bounded batch of work.
 *
 * Parking: a request about a role and database asked for the first time
 * (?user=, ?database=) would be answered "unknown" (looking_up) until the
 * names worker's next pass, which comes within PH_NAMES_MIN_PASS_MS of
 * being woken.  Rather than make every new tenant's first probe fail, the
 * client is parked: kept in its place with a "parked until" time
 * (PH_HTTP_PARK_MS at most, and never past its deadline), not listened to,
 * while the worker serves everyone else and wakes at least every
 * PH_HTTP_PARK_POLL_MS to ask again whether the lookup is done
 * (ph_http_answer_waits, cheap: the sample is not copied).  It is answered
 * as soon as it is, or when its time is up, then with "looking_up".  Parking
 * has a budget (PH_HTTP_PARK_BURST), so that a flood of new pairs is
 * answered as before, at once.
 *
 * Memory: an answer is built in answer_cxt, reset once it is sent; only the
 * bytes a slow reader has not taken yet are copied to the long-lived
 * http_cxt, and freed when it is closed.  Whatever else a wait allocates
 * goes to wait_cxt, reset when the wait returns.  So nothing grows with the
 * number of requests.
 *
 * Writes never raise SIGPIPE (MSG_NOSIGNAL).
 */
#include "postgres.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "doors/http/http_answers.h"
#include "doors/http/http_listen.h"
#include "doors/http/http_parse.h"
#include "doors/http/http_server.h"
#include "ground/clock.h"
#include "ground/compat.h"
#include "ground/shmem.h"
#include "ground/worker_loop.h"
#include "ground/workers.h"
#include "read/read.h"

int			ph_http_max_clients = 64;
int			ph_http_client_timeout_ms = 2000;

/* the five settings: the listeners' two, the clients' two, the answers' one */
void
ph_define_http_settings(void)
{
	ph_define_http_listen_settings();
	DefineCustomIntVariable("pg_health.http_max_clients",
							"HTTP clients served at once; more are answered 503 and closed.",
							NULL,
							&ph_http_max_clients,
							64, 1, 1024,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.http_client_timeout",
							"Time an HTTP client has to send its request and read the answer.",
							NULL,
							&ph_http_client_timeout_ms,
							2000, 10, 60000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	ph_define_http_answer_settings();
}

#ifndef MSG_MORE
#define MSG_MORE 0				/* not Linux: no corking, one packet more */
#endif

/* connections accepted per wake (shared by the listeners), then the latch is looked at */
#define PH_HTTP_ACCEPTS_PER_WAKE 64

/* unread bytes read away before a close, at most (see hang_up) */
#define PH_HTTP_DRAIN_MAX	(64 * 1024)

/*
 * How long a read of the snapshot polls for pg_health's lock before the
 * answer is built from the last copy (ph_reader_lock_timeout).  A writer
 * holds it for one copy, microseconds; a preempted one on a saturated
 * machine for a scheduling delay, milliseconds.
 */
#define PH_HTTP_LOCK_WAIT_US 10000

/*
 * A request whose answer waits for a names lookup is parked this long at
 * most: the names worker makes its pass within 100 ms of being woken
 * (PH_NAMES_MIN_PASS_MS), and a pass takes milliseconds.  While any is
 * parked, the worker asks again this often.
 */
#define PH_HTTP_PARK_MS		300
#define PH_HTTP_PARK_POLL_MS 10
/* a request is parked only when this much is left after PH_HTTP_PARK_MS */
#define PH_HTTP_PARK_MARGIN_MS 200

/*
 * Parking's budget: PH_HTTP_PARK_BURST requests at once, one more every
 * PH_HTTP_PARK_REFILL_MS.  New tenants come a few pairs at a time; a stream
 * of ever new pairs (a scan, made-up names) would cost a names pass, 100 ms,
 * each, one after another, and hold client places: past the budget its
 * requests are answered at once, "looking_up", as without parking.
 */
#define PH_HTTP_PARK_BURST	64
#define PH_HTTP_PARK_REFILL_MS 1000

typedef struct HttpClient
{
	pgsocket	fd;				/* PGINVALID_SOCKET: a free entry */
	uint64		seq;			/* order of arrival: the oldest is evicted
								 * first */
	TimestampTz deadline;
	bool		responding;		/* its answer is being sent */
	bool		parked;			/* its whole request read, its answer waits
								 * for names */
	bool		clean;			/* whole request read, nothing more expected */
	bool		listed;			/* in client_wes */
	uint64		parked_until;	/* monotonic ms: when a parked one is
								 * answered, looked up or not */
	PhHttpRequest req;			/* a parked one's request */
	char	   *out;			/* the answer's bytes not sent yet, in
								 * http_cxt */
	size_t		outlen;
	size_t		sent;			/* of out */
	size_t		len;			/* request bytes read */
	char		in[PH_HTTP_MAX_REQUEST + 1];
} HttpClient;

/*
 * pg_health.http_max_clients places, and one entry more: where a newcomer
 * is read and answered before it is known whether it needs a place at all.
 */
static HttpClient *clients = NULL;
static int	nclient_slots = 0;	/* places */
static int	nopen = 0;			/* open clients; at most nclient_slots between
								 * accepts */
static int	nparked = 0;		/* of them, parked */
static uint64 next_seq = 0;
static uint64 parked_asked_at = 0;	/* when the parked ones last asked again */
static int	parks_left = PH_HTTP_PARK_BURST;	/* the budget */
static uint64 parks_refilled_at = 0;	/* monotonic ms */

static WaitEventSet *base_wes = NULL;	/* latch, postmaster death, listeners */
static WaitEventSet *client_wes = NULL; /* the same and the open clients */
static bool clients_changed = false;	/* client_wes no longer matches them */

static MemoryContext http_cxt = NULL;	/* what outlives a wait */
static MemoryContext wait_cxt = NULL;	/* one wait's allocations */
static MemoryContext answer_cxt = NULL; /* one answer's */

static const char timeout_answer[] =
"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/* "busy": its headers alone are the answer to a HEAD (RFC 9110, 9.3.2) */
#define BUSY_BODY "{\"error\":\"too many HTTP clients\"}\n"
#define BUSY_HEADERS \
	"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n" \
	"Content-Length: 34\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
StaticAssertDecl(sizeof(BUSY_BODY) - 1 == 34, "busy answer's Content-Length");
static const char busy_answer[] = BUSY_HEADERS BUSY_BODY;

/* ------------------------------------------------------------------------
 * Wait sets and connections
 * ------------------------------------------------------------------------
 */

static void
drop_client_wes(void)
{
	if (client_wes != NULL)
		FreeWaitEventSet(client_wes);
	client_wes = NULL;
}

static void
drop_wait_sets(void)
{
	if (base_wes != NULL)
		FreeWaitEventSet(base_wes);
	base_wes = NULL;
	drop_client_wes();
}

/*
 * End a connection whose answer has been queued.  The answer is sent with
 * MSG_MORE, so its last segment waits in the socket; shutdown(SHUT_WR) sends
 * it with the FIN in one packet, and a probe gets its answer and the end of it
 * in one wake-up instead of two.  Only then are unread bytes drained (closing
 * with unread bytes sends a reset), so that a reset, if one still comes,
 * comes after the answer, never instead of it: the staged close RFC 9112
 * section 9.6 asks of a server.  No drain when the request was
 * read whole and announced no body: a client that sends Connection: close
 * sends nothing more, and that saves a system call per probe.  The drain
 * stops after PH_HTTP_DRAIN_MAX bytes: a client that keeps sending as fast
 * as it is read must not keep the worker here (it gets its reset).
 */
static void
hang_up(pgsocket fd, bool drain)
{
	char		buf[4096];

	(void) shutdown(fd, SHUT_WR);
	if (drain)
		for (size_t drained = 0; drained < PH_HTTP_DRAIN_MAX;)
		{
			ssize_t		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (n <= 0)
				break;
			drained += n;
		}
	closesocket(fd);
}

static void
close_client(HttpClient *c)
{
	if (c->fd == PGINVALID_SOCKET)
		return;
	hang_up(c->fd, !c->clean);
	c->fd = PGINVALID_SOCKET;
	nopen--;
	if (c->listed)
		clients_changed = true;
	if (c->out)
		pfree(c->out);
	c->out = NULL;
	c->outlen = c->sent = c->len = 0;
	if (c->parked)
		nparked--;
	c->responding = c->parked = c->clean = c->listed = false;
}

static void
close_all_clients(void)
{
	for (int i = 0; clients != NULL && i <= nclient_slots; i++)
		close_client(&clients[i]);
}

/* A fixed answer (408, 503) as the last words to a client. */
static void
send_canned(HttpClient *c, const char *answer, size_t len)
{
	(void) send(c->fd, answer, len, MSG_NOSIGNAL | MSG_MORE);
	close_client(c);
}

/*
 * Make the listeners and the client table match the settings: at start,
 * after a reload, and while a bind keeps failing (http_listen.c).
 */
static void
configure(TimestampTz now)
{
	if (ph_http_listen(now, http_cxt))
		drop_wait_sets();		/* the kept wait sets must follow the
								 * listeners */
	/* the client table follows pg_health.http_max_clients */
	if (nclient_slots != ph_http_max_clients)
	{
		close_all_clients();
		drop_client_wes();		/* it points into the table */
		if (clients)
			pfree(clients);
		clients = MemoryContextAllocZero(http_cxt,
										 sizeof(HttpClient) * (ph_http_max_clients + 1));
		for (int i = 0; i <= ph_http_max_clients; i++)
			clients[i].fd = PGINVALID_SOCKET;
		nclient_slots = ph_http_max_clients;
	}
}

/* ------------------------------------------------------------------------
 * Clients
 * ------------------------------------------------------------------------
 */

/*
 * Send buf[0..len) as far as the socket takes it now.  Returns the bytes
 * sent, or -1 when the client is gone.
 */
static ssize_t
send_some(pgsocket fd, const char *buf, size_t len)
{
	size_t		done = 0;

	while (done < len)
	{
		/* MSG_MORE: the last segment leaves with the FIN (hang_up) */
		ssize_t		n = send(fd, buf + done, len - done, MSG_NOSIGNAL | MSG_MORE);

		if (n > 0)
			done += n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;				/* the rest when it is writable */
		else
			return -1;
	}
	return (ssize_t) done;
}

/*
 * May c's request be parked now?  The budget, refilled; and time enough
 * before its deadline to wait and still send the answer.  Times that only
 * measure intervals are monotonic (a step of the wall clock must not hold
 * a parked client, nor stop the budget's refill).
 */
static bool
may_park(const HttpClient *c)
{
	uint64		now = ph_monotonic_ms();
	uint64		refills = (now - parks_refilled_at) / PH_HTTP_PARK_REFILL_MS;

	if (refills > 0)
	{
		parks_left = (int) Min((uint64) parks_left + refills, (uint64) PH_HTTP_PARK_BURST);
		parks_refilled_at = parks_left == PH_HTTP_PARK_BURST ? now :
			parks_refilled_at + refills * PH_HTTP_PARK_REFILL_MS;
	}
	return parks_left > 0 &&
		TimestampDifferenceMilliseconds(GetCurrentTimestamp(), c->deadline) >
		PH_HTTP_PARK_MS + PH_HTTP_PARK_MARGIN_MS;
}

/*
 * Keep a client whose answer waits for a names lookup (see the file's
 * comment): its request is kept, its socket left out of the wait set.
 */
static void
park(HttpClient *c, const PhHttpRequest *req)
{
	parks_left--;
	c->req = *req;
	c->parked = true;
	/* may_park() left it PH_HTTP_PARK_MARGIN_MS to send the answer after */
	c->parked_until = ph_monotonic_ms() + PH_HTTP_PARK_MS;
	nparked++;
	if (c->listed)
		clients_changed = true; /* not to be listened to meanwhile */
}

/*
 * Answer a whole (or hopeless) request.  The answer is built in answer_cxt
 * and sent as far as the socket takes it; only what a slow reader has not
 * taken is copied to http_cxt, to be sent when it is writable.  The context
 * is reset before returning, so no allocation of an answer (a report parsed
 * as jsonb is ~55 kB) survives it.  may_wait: a request whose answer waits
 * for a names lookup is parked instead.
 */
static void
answer(HttpClient *c, PhHttpParse parsed, const PhHttpRequest *req, bool may_wait)
{
	MemoryContext old = MemoryContextSwitchTo(answer_cxt);
	StringInfoData out;
	ssize_t		n;

	initStringInfo(&out);
	if (!ph_http_answer(&out, parsed, req, may_wait && parsed == PH_HTTP_OK && may_park(c)))
		park(c, req);
	else
	{
		if (c->parked)
			nparked--;
		c->parked = false;
		c->responding = true;
		n = send_some(c->fd, out.data, out.len);
		if (n < 0 || n == out.len)
			close_client(c);	/* all sent (the usual case), or gone */
		else
		{
			c->outlen = out.len - n;
			c->out = MemoryContextAlloc(http_cxt, c->outlen);
			memcpy(c->out, out.data + n, c->outlen);
			c->sent = 0;
			clients_changed = true; /* it now waits to write, not to read */
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(answer_cxt);
}

/* A parked client's answer, now: looked up, or not in time. */
static void
unpark(HttpClient *c)
{
	answer(c, PH_HTTP_OK, &c->req, false);
}

/* A client being answered is writable again: send it more. */
static void
try_send(HttpClient *c)
{
	ssize_t		n = send_some(c->fd, c->out + c->sent, c->outlen - c->sent);

	if (n > 0)
		c->sent += n;
	if (n < 0 || c->sent == c->outlen)
		close_client(c);
}

static void
on_readable(HttpClient *c)
{
	for (;;)
	{
		ssize_t		n;
		PhHttpRequest req;
		PhHttpParse parsed;

		if (c->len >= PH_HTTP_MAX_REQUEST)
			n = 0;
		else
			n = recv(c->fd, c->in + c->len, PH_HTTP_MAX_REQUEST - c->len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n < 0 || (n == 0 && c->len < PH_HTTP_MAX_REQUEST))
		{
			close_client(c);	/* gone before a whole request */
			return;
		}
		c->len += n;
		parsed = ph_http_parse(c->in, c->len, &req);
		if (parsed == PH_HTTP_INCOMPLETE && c->len < PH_HTTP_MAX_REQUEST)
			continue;
		if (parsed == PH_HTTP_INCOMPLETE)
			parsed = PH_HTTP_HEADERS_TOO_LARGE;
		/* a whole GET/HEAD and nothing after it: no need to drain at close */
		c->clean = (parsed == PH_HTTP_OK && !req.body && req.length == c->len);
		answer(c, parsed, &req, true);
		return;
	}
}

/*
 * A newcomer has to wait (its request is incomplete, its answer did not
 * leave whole, or it is parked) and all places are taken.  The oldest
 * client whose request is still incomplete gives its place up, with a 408:
 * a complete request is answered the moment it arrives, so a client still
 * incomplete after every later one is the least likely to be a probe.
 * Failing that, a parked client is answered now, without its lookup: the
 * newcomer itself if it is one, else the oldest.  When every place holds a
 * client being answered, the newcomer is the one refused: a 503 if it has
 * not sent a whole request (busy), else it keeps what of its answer left.
 */
static void
make_room(HttpClient *newcomer)
{
	/* a parked client answered may still be sending: then look again */
	while (nopen > nclient_slots && newcomer->fd != PGINVALID_SOCKET)
	{
		HttpClient *incomplete = NULL;
		HttpClient *parked = NULL;

		for (int i = 0; i <= nclient_slots; i++)
		{
			HttpClient *c = &clients[i];

			if (c == newcomer || c->fd == PGINVALID_SOCKET || c->responding)
				continue;
			if (c->parked && (parked == NULL || c->seq < parked->seq))
				parked = c;
			else if (!c->parked && (incomplete == NULL || c->seq < incomplete->seq))
				incomplete = c;
		}
		if (incomplete != NULL)
			send_canned(incomplete, timeout_answer, sizeof(timeout_answer) - 1);
		else if (newcomer->parked)
			unpark(newcomer);
		else if (parked != NULL)
			unpark(parked);
		else if (!newcomer->responding)
			send_canned(newcomer, busy_answer,
						ph_http_is_head(newcomer->in, newcomer->len) ?
						sizeof(BUSY_HEADERS) - 1 : sizeof(busy_answer) - 1);
		else
			close_client(newcomer);
	}
}

/*
 * Take up to budget connections from a listener.  A probe's request has
 * arrived with its connection: it is answered here and needs no place.
 */
static void
accept_clients(pgsocket lfd, TimestampTz now, int budget)
{
	while (budget-- > 0)
	{
		pgsocket	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		HttpClient *c = NULL;

		if (fd == PGINVALID_SOCKET)
			return;				/* EAGAIN, or a transient error */
		/* nopen <= nclient_slots here, so one of the entries is free */
		for (int i = 0; i <= nclient_slots && c == NULL; i++)
			if (clients[i].fd == PGINVALID_SOCKET)
				c = &clients[i];
		if (c == NULL)
		{
			closesocket(fd);	/* cannot happen; never index past the table */
			continue;
		}
		c->fd = fd;
		c->seq = ++next_seq;
		c->len = 0;
		c->deadline = TimestampTzPlusMilliseconds(now, ph_http_client_timeout_ms);
		nopen++;
		on_readable(c);
		if (c->fd == PGINVALID_SOCKET)
			continue;			/* answered (a probe), or gone */
		clients_changed = true; /* it waits: the wait set must follow */
		if (nopen > nclient_slots)
			make_room(c);
	}
}

/* ------------------------------------------------------------------------
 * The worker
 * ------------------------------------------------------------------------
 */

static void
add_base_events(WaitEventSet *wes)
{
	AddWaitEventToSet(wes, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(wes, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < ph_http_nlisteners; i++)
		AddWaitEventToSet(wes, WL_SOCKET_READABLE, ph_http_listeners[i], NULL, NULL);
}

/*
 * The wait set for this wait.  Both sets are kept from one wait to the next
 * (building one costs a system call per socket): the base one while no
 * client waits, which is the usual case since probes are answered on accept,
 * and the one with the clients until a client comes, goes, or turns from
 * reading to writing or to being parked (a parked client is not listened
 * to: nothing it sends matters until it is answered).
 */
static WaitEventSet *
wait_set(void)
{
	MemoryContext old;

	if (nopen == 0)
	{
		drop_client_wes();		/* its sockets are closed */
		if (base_wes == NULL)
		{
			old = MemoryContextSwitchTo(http_cxt);
			base_wes = ph_create_wait_event_set(2 + ph_http_nlisteners);
			add_base_events(base_wes);
			MemoryContextSwitchTo(old);
		}
		return base_wes;
	}
	if (client_wes == NULL || clients_changed)
	{
		drop_client_wes();
		old = MemoryContextSwitchTo(http_cxt);
		client_wes = ph_create_wait_event_set(2 + ph_http_nlisteners + nopen);
		add_base_events(client_wes);
		for (int i = 0; i <= nclient_slots; i++)
		{
			HttpClient *c = &clients[i];

			c->listed = false;
			if (c->fd == PGINVALID_SOCKET || c->parked)
				continue;
			AddWaitEventToSet(client_wes, c->responding ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE,
							  c->fd, NULL, c);
			c->listed = true;
		}
		MemoryContextSwitchTo(old);
		clients_changed = false;
	}
	return client_wes;
}

/* The sooner of two timeouts in ms; -1 is none (wait for an event). */
static long
sooner(long a, long b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return Min(a, b);
}

/*
 * Answer the parked clients whose lookup is done or whose time is up; the
 * others bound the wait by their time and by the next time they ask again.
 * They ask at most every PH_HTTP_PARK_POLL_MS, however often other clients
 * wake the worker.
 */
static long
serve_parked(long timeout_ms)
{
	uint64		now = ph_monotonic_ms();
	bool		ask = now - parked_asked_at >= PH_HTTP_PARK_POLL_MS;

	if (nparked == 0)
		return timeout_ms;
	for (int i = 0; i <= nclient_slots && nparked > 0; i++)
	{
		HttpClient *c = &clients[i];

		if (c->fd == PGINVALID_SOCKET || !c->parked)
			continue;
		if (c->parked_until <= now || (ask && !ph_http_answer_waits(&c->req)))
			unpark(c);
		else
			timeout_ms = sooner(timeout_ms, (long) Max(c->parked_until - now, 1));
	}
	if (ask)
		parked_asked_at = now;
	if (nparked > 0)
		timeout_ms = sooner(timeout_ms,
							(long) Max((int64) PH_HTTP_PARK_POLL_MS - (int64) (now - parked_asked_at), 1));
	return timeout_ms;
}

/*
 * Wait for the latch, postmaster death or HTTP traffic, and serve what
 * arrives.  With the endpoint off this is a plain wait on the latch.
 */
static void
serve(void)
{
	TimestampTz now = GetCurrentTimestamp();
	long		timeout_ms;
	WaitEvent	events[64];
	int			n;

	configure(now);
	/* an address still to bind: retry then */
	timeout_ms = ph_http_listen_retry_ms(now);
	if (ph_http_nlisteners == 0)
	{
		close_all_clients();	/* the endpoint is off: nobody serves them */
		ph_worker_wait(PH_WAIT_HTTP_IDLE, timeout_ms);
		return;
	}

	timeout_ms = serve_parked(timeout_ms);

	/* drop clients past their deadline; the next deadline bounds the wait */
	for (int i = 0; i <= nclient_slots; i++)
	{
		HttpClient *c = &clients[i];

		if (c->fd == PGINVALID_SOCKET || c->parked)
			continue;			/* a parked one is answered before its
								 * deadline */
		if (c->deadline <= now)
		{
			if (!c->responding)
				send_canned(c, timeout_answer, sizeof(timeout_answer) - 1);
			else
				close_client(c);
			continue;
		}
		timeout_ms = sooner(timeout_ms, Max(TimestampDifferenceMilliseconds(now, c->deadline), 1));
	}

	n = WaitEventSetWait(wait_set(), timeout_ms, events, lengthof(events),
						 ph_wait_event(PH_WAIT_HTTP_CLIENTS));

	now = GetCurrentTimestamp();
	for (int k = 0; k < n; k++)
	{
		WaitEvent  *e = &events[k];

		if (e->events & WL_LATCH_SET)
			ResetLatch(MyLatch);
		else if (e->user_data == NULL && e->fd != PGINVALID_SOCKET)
			accept_clients(e->fd, now, Max(PH_HTTP_ACCEPTS_PER_WAKE / ph_http_nlisteners, 4));
		else if (e->user_data != NULL)
		{
			HttpClient *c = (HttpClient *) e->user_data;

			/* closed meanwhile (its entry may even hold a newcomer: harmless) */
			if (c->fd == PGINVALID_SOCKET || c->fd != e->fd || c->parked)
				continue;
			if (c->responding)
				try_send(c);
			else
				on_readable(c);
		}
	}
}

/* On exit: close everything (the skeleton gives the place up after). */
static void
http_detach(int code, Datum arg)
{
	close_all_clients();
	drop_wait_sets();
	ph_http_unlisten();
}

void
ph_register_http_worker(void)
{
	BackgroundWorker worker;

	ph_describe_worker(&worker, "http", BGWORKER_SHMEM_ACCESS,
					   BgWorkerStart_PostmasterStart, PH_RESTART_SECONDS);
	RegisterBackgroundWorker(&worker);
}

/*
 * The HTTP worker.  Every allocation of a wait goes to wait_cxt, reset when
 * it returns; an answer's to answer_cxt (see answer); what outlives a wait
 * (the client table, the kept wait sets, the bytes a slow reader has not
 * taken yet) to http_cxt.
 */
void
pg_health_http_main(Datum main_arg)
{
	ph_worker_start();
	/* one HTTP worker at a time: the skeleton's claim gives it back at exit */
	ph_worker_claim(PH_WORKER_HTTP, 0);
	/* closes the sockets first (exit hooks run last registered first) */
	before_shmem_exit(http_detach, (Datum) 0);

	http_cxt = AllocSetContextCreate(TopMemoryContext, "pg_health http",
									 ALLOCSET_DEFAULT_SIZES);
	wait_cxt = AllocSetContextCreate(http_cxt, "pg_health http wait",
									 ALLOCSET_SMALL_SIZES);
	/* most answers fit in its first block, which a reset keeps */
	answer_cxt = AllocSetContextCreate(http_cxt, "pg_health http answer",
									   0, 64 * 1024, ALLOCSET_DEFAULT_MAXSIZE);

	/*
	 * Never wait for a writer of the snapshot.  The reader buffers start as
	 * the copy of no sample (generation 0, "unknown"), the answer until a
	 * first copy is made.
	 */
	ph_reader_lock_timeout(PH_HTTP_LOCK_WAIT_US);
	memset(ph_reader_buffer(PH_BUF_SNAPSHOT), 0, offsetof(PhSnapshot, checks));
	memset(ph_reader_buffer(PH_BUF_COMPONENTS), 0, offsetof(PhComponentTable, items));
	memset(ph_reader_buffer(PH_BUF_POOLS), 0, offsetof(PhPoolTable, pools));
	memset(ph_reader_buffer(PH_BUF_STANDBYS), 0, offsetof(PhStandbyTable, items));

	for (;;)
	{
		MemoryContext old = MemoryContextSwitchTo(wait_cxt);

		serve();
		MemoryContextSwitchTo(old);
		MemoryContextReset(wait_cxt);
		(void) ph_worker_step(PH_WORKER_HTTP);
	}
}

/*
 * http.c -- the HTTP endpoint, served by the sampler worker.
 *
 * When pg_health.http_port is set, the sampler's wait between samples is a
 * WaitEventSet over its latch, the listening sockets and its clients' sockets
 * (ph_http_wait), so one process samples and answers, single-threaded and
 * non-blocking.  Answers are built from the snapshot in shared memory, read
 * as the SQL functions read it, by the same C code: no database connection,
 * no credentials, no connection slot.  So it answers when every slot is
 * taken, during recovery, and under a lock pile-up.
 *
 * Every client has a deadline (pg_health.http_client_timeout) and a request
 * size limit; past pg_health.http_max_clients, a new connection gets a short
 * 503 and is closed.  Writes never raise SIGPIPE (MSG_NOSIGNAL).  A port that
 * cannot be bound is logged and retried every PH_HTTP_RETRY_MS while the
 * worker goes on sampling.  Changing the port or the addresses takes effect
 * on reload.
 */
#include "postgres.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "utils/wait_event.h"

#include "compat.h"
#include "http_parse.h"
#include "pg_health.h"

#ifndef MSG_MORE
#define MSG_MORE 0			/* not Linux: no corking, one packet more */
#endif

#define PH_HTTP_MAX_LISTEN	16
#define PH_HTTP_RETRY_MS	5000

typedef struct HttpClient
{
	pgsocket	fd;
	TimestampTz deadline;
	size_t		len;			/* bytes read */
	char		in[PH_HTTP_MAX_REQUEST + 1];
	StringInfoData out;			/* the response, once built */
	size_t		sent;
	bool		responding;
	bool		clean;			/* whole request read, nothing more expected */
} HttpClient;

static pgsocket listeners[PH_HTTP_MAX_LISTEN];
static struct sockaddr_storage listener_addr[PH_HTTP_MAX_LISTEN];
static socklen_t listener_addrlen[PH_HTTP_MAX_LISTEN];
static int	nlisteners = 0;
static bool some_failed = false;	/* an address could not be bound: retry it */
static HttpClient *clients = NULL;	/* pg_health.http_max_clients of them */
static int	nclient_slots = 0;
static int	bound_port = 0;
static char *bound_addresses = NULL;
static TimestampTz retry_at = 0;
static bool said_bind_failure = false;
static MemoryContext http_cxt = NULL;

/* ------------------------------------------------------------------------
 * Listening
 * ------------------------------------------------------------------------
 */

static void drop_base_wes(void);

static void
close_listeners(void)
{
	drop_base_wes();
	for (int i = 0; i < nlisteners; i++)
		closesocket(listeners[i]);
	nlisteners = 0;
	bound_port = 0;
	some_failed = false;
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
 * sends nothing more, and that saves a system call per probe.
 */
static void
hang_up(pgsocket fd, bool drain)
{
	char		buf[512];

	(void) shutdown(fd, SHUT_WR);
	if (drain)
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	closesocket(fd);
}

static void
close_client(HttpClient *c)
{
	if (c->fd != PGINVALID_SOCKET)
		hang_up(c->fd, !c->clean);
	c->fd = PGINVALID_SOCKET;
	if (c->out.data)
		pfree(c->out.data);
	memset(&c->out, 0, sizeof(c->out));
	c->len = c->sent = 0;
	c->responding = false;
	c->clean = false;
}

static void
set_nonblocking(pgsocket fd)
{
	int			flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		(void) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static bool
already_bound(const struct addrinfo *ai)
{
	for (int i = 0; i < nlisteners; i++)
		if (listener_addrlen[i] == ai->ai_addrlen &&
			memcmp(&listener_addr[i], ai->ai_addr, ai->ai_addrlen) == 0)
			return true;
	return false;
}

/*
 * Bind every address of pg_health.http_listen_addresses ('*' = every
 * address) that is not bound yet.  An address that fails is logged (once
 * per run of failures) and retried later, while the others serve; so is a
 * port in use.  Returns true when every address is bound.
 */
static bool
open_listeners(void)
{
	char	   *raw = pstrdup(ph_http_listen_addresses ? ph_http_listen_addresses : "");
	List	   *addrs;
	ListCell   *lc;
	char		port[16];
	StringInfoData failures;

	initStringInfo(&failures);
	snprintf(port, sizeof(port), "%d", ph_http_port);
	if (!SplitGUCList(raw, ',', &addrs))
		addrs = NIL;

	foreach(lc, addrs)
	{
		const char *host = lfirst(lc);
		struct addrinfo hints,
				   *res,
				   *ai;
		int			rc;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &res);
		if (rc != 0)
		{
			appendStringInfo(&failures, "%s\"%s\": %s", failures.len ? "; " : "", host,
							 gai_strerror(rc));
			continue;
		}
		for (ai = res; ai != NULL && nlisteners < PH_HTTP_MAX_LISTEN; ai = ai->ai_next)
		{
			pgsocket	fd;
			int			one = 1;

			if (already_bound(ai))
				continue;
			fd = socket(ai->ai_family, SOCK_STREAM, 0);
			if (fd == PGINVALID_SOCKET)
				continue;
			(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6)
				(void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0)
			{
				int			err = errno;
				char		name[NI_MAXHOST];

				if (getnameinfo(ai->ai_addr, ai->ai_addrlen, name, sizeof(name), NULL, 0,
								NI_NUMERICHOST) != 0)
					strlcpy(name, host, sizeof(name));
				appendStringInfo(&failures, "%s%s port %d: %s", failures.len ? "; " : "",
								 name, ph_http_port, strerror(err));
				closesocket(fd);
				continue;
			}
			set_nonblocking(fd);
#ifdef TCP_DEFER_ACCEPT
			{
				/*
				 * Linux: report a connection only once its request has
				 * arrived, so that a probe is accepted, read and answered in
				 * one go; one that sends nothing never takes a client place.
				 */
				int			secs = 1;

				(void) setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs));
			}
#endif
			memcpy(&listener_addr[nlisteners], ai->ai_addr, ai->ai_addrlen);
			listener_addrlen[nlisteners] = ai->ai_addrlen;
			listeners[nlisteners++] = fd;
			drop_base_wes();	/* the kept wait set must include it */
		}
		freeaddrinfo(res);
	}

	if (failures.len > 0 && !said_bind_failure)
		ereport(LOG,
				(errmsg("pg_health: could not listen for HTTP on %s; retrying every 5 s, sampling goes on",
						failures.data)));
	if (nlisteners > 0 && (failures.len == 0 || !said_bind_failure))
		ereport(LOG,
				(errmsg("pg_health: HTTP endpoint listening on port %d (%s)%s", ph_http_port,
						ph_http_listen_addresses, failures.len > 0 ? ", on some of the addresses" : "")));
	said_bind_failure = failures.len > 0;
	some_failed = failures.len > 0;
	pfree(failures.data);
	if (nlisteners > 0)
		bound_port = ph_http_port;
	return failures.len == 0;
}

/*
 * Make the listeners match the settings: at start, after a reload, and
 * every PH_HTTP_RETRY_MS while a bind keeps failing.
 */
static void
configure(TimestampTz now)
{
	bool		changed = bound_addresses == NULL || ph_http_listen_addresses == NULL ||
		strcmp(bound_addresses, ph_http_listen_addresses) != 0 ||
		(nlisteners > 0 && bound_port != ph_http_port);

	if (http_cxt == NULL)
		http_cxt = AllocSetContextCreate(TopMemoryContext, "pg_health http",
										 ALLOCSET_DEFAULT_SIZES);
	if (changed || ph_http_port == 0)
	{
		if (nlisteners > 0)
			close_listeners();
		retry_at = 0;
		said_bind_failure = false;
		if (bound_addresses)
			pfree(bound_addresses);
		bound_addresses = MemoryContextStrdup(http_cxt, ph_http_listen_addresses ?
											  ph_http_listen_addresses : "");
	}
	/* the client table follows pg_health.http_max_clients */
	if (nclient_slots != ph_http_max_clients)
	{
		HttpClient *fresh = MemoryContextAllocZero(http_cxt, sizeof(HttpClient) * ph_http_max_clients);

		for (int i = 0; i < ph_http_max_clients; i++)
			fresh[i].fd = PGINVALID_SOCKET;
		for (int i = 0; i < nclient_slots; i++)
			close_client(&clients[i]);
		if (clients)
			pfree(clients);
		clients = fresh;
		nclient_slots = ph_http_max_clients;
	}
	if (ph_http_port == 0 || (nlisteners > 0 && !some_failed) || now < retry_at)
		return;
	if (!open_listeners())
		retry_at = TimestampTzPlusMilliseconds(now, PH_HTTP_RETRY_MS);
}

/* ------------------------------------------------------------------------
 * Responses
 * ------------------------------------------------------------------------
 */

static const char *
reason_phrase(int status)
{
	switch (status)
	{
		case 200:
			return "OK";
		case 400:
			return "Bad Request";
		case 404:
			return "Not Found";
		case 405:
			return "Method Not Allowed";
		case 408:
			return "Request Timeout";
		case 414:
			return "URI Too Long";
		case 431:
			return "Request Header Fields Too Large";
		case 503:
			return "Service Unavailable";
		default:
			return "Error";
	}
}

static void
respond(StringInfo out, int status, const char *content_type, const char *body, size_t len,
		bool head)
{
	appendStringInfo(out,
					 "HTTP/1.1 %d %s\r\n"
					 "Content-Type: %s\r\n"
					 "Content-Length: %zu\r\n"
					 "Cache-Control: no-store\r\n"
					 "Connection: close\r\n"
					 "%s"
					 "\r\n",
					 status, reason_phrase(status), content_type, len,
					 status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head)
		appendBinaryStringInfo(out, body, (int) len);
}

static void
respond_error(StringInfo out, int status, const char *message)
{
	StringInfoData body;

	initStringInfo(&body);
	appendStringInfo(&body, "{\"error\":\"%s\"}\n", message);
	respond(out, status, "application/json", body.data, body.len, false);
	pfree(body.data);
}

/* The probe answer: the verdict, and the reasons when it is not positive. */
static void
verdict_body(StringInfo body, PhHttpPath path, PhRole role, const PhOverrides *o, int *status)
{
	PhSnapshot *snap = ph_reader_buffer(PH_BUF_SNAPSHOT);
	PhComponentTable *comps = ph_reader_buffer(PH_BUF_COMPONENTS);
	pid_t		worker_pid;

	ph_read_snapshot_components(snap, comps, &worker_pid);
	ph_apply_overrides(snap, o);
	ph_probe_json(body, snap, worker_pid, role, GetCurrentTimestamp(),
				  path == PH_PATH_LIVE ? "live" : path == PH_PATH_STARTUP ? "startup" : "ready",
				  status);
}

/* GET /health: health.report()'s document, as SQL returns it (jsonb text). */
static void
health_body(StringInfo body, PhRole role, const PhOverrides *o, int *status)
{
	PhSnapshot *snap = ph_reader_buffer(PH_BUF_SNAPSHOT);
	PhComponentTable *comps = ph_reader_buffer(PH_BUF_COMPONENTS);
	pid_t		worker_pid;
	StringInfoData raw;
	PhVerdict	v;
	Jsonb	   *jb;
	TimestampTz now = GetCurrentTimestamp();

	ph_read_snapshot_components(snap, comps, &worker_pid);
	ph_apply_overrides(snap, o);
	initStringInfo(&raw);
	ph_report_json(&raw, snap, comps, worker_pid, role, now);
	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(raw.data)));
	(void) JsonbToCString(body, &jb->root, VARSIZE(jb));
	appendStringInfoChar(body, '\n');
	ph_verdict_from_snapshot(snap, worker_pid, role, now, &v);
	*status = v.ready ? 200 : 503;
	pfree(raw.data);
}

static void
build_response(HttpClient *c, PhHttpParse parsed, const PhHttpRequest *req)
{
	StringInfoData body;
	int			status = 200;
	PhRole		role = PH_ROLE_ANY;
	PhOverrides o = {req->lag_bytes, req->delay_ms};

	initStringInfo(&c->out);
	switch (parsed)
	{
		case PH_HTTP_BAD_REQUEST:
			respond_error(&c->out, 400, "malformed request");
			return;
		case PH_HTTP_BAD_QUERY:
			respond_error(&c->out, 400, "bad query: /ready and /health take role=primary|replica, "
						  "lag=<bytes, or n kB|MB|GB|TB> and delay=<n ms|s|min|h|d>; /replica takes lag and delay");
			return;
		case PH_HTTP_NOT_FOUND:
			respond_error(&c->out, 404, "unknown path: try /live, /ready, /startup, /health, /primary, /replica or /metrics");
			return;
		case PH_HTTP_BAD_METHOD:
			respond_error(&c->out, 405, "only GET and HEAD");
			return;
		case PH_HTTP_URI_TOO_LONG:
			respond_error(&c->out, 414, "request line too long");
			return;
		case PH_HTTP_HEADERS_TOO_LARGE:
			respond_error(&c->out, 431, "request headers too large");
			return;
		default:
			break;
	}

	if (req->role == PH_ROLE_ARG_PRIMARY || req->path == PH_PATH_PRIMARY)
		role = PH_ROLE_PRIMARY;
	else if (req->role == PH_ROLE_ARG_REPLICA || req->path == PH_PATH_REPLICA)
		role = PH_ROLE_REPLICA;

	initStringInfo(&body);
	if (req->path == PH_PATH_METRICS)
	{
		ph_metrics_text(&body);
		respond(&c->out, 200, "text/plain; version=0.0.4; charset=utf-8", body.data, body.len,
				req->head);
	}
	else
	{
		if (req->path == PH_PATH_HEALTH)
			health_body(&body, role, &o, &status);
		else
			verdict_body(&body, req->path, role, &o, &status);
		respond(&c->out, status, "application/json", body.data, body.len, req->head);
	}
	pfree(body.data);
}

/* ------------------------------------------------------------------------
 * Clients
 * ------------------------------------------------------------------------
 */

static void
try_send(HttpClient *c)
{
	while (c->sent < (size_t) c->out.len)
	{
		/* MSG_MORE: the last segment leaves with the FIN (hang_up) */
		ssize_t		n = send(c->fd, c->out.data + c->sent, c->out.len - c->sent,
							 MSG_NOSIGNAL | MSG_MORE);

		if (n > 0)
			c->sent += n;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;				/* wait until writable */
		else
			break;				/* the client went away */
	}
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
		build_response(c, parsed, &req);
		/* a whole GET/HEAD and nothing after it: no need to drain at close */
		c->clean = (parsed == PH_HTTP_OK && !req.body && req.length == c->len);
		c->responding = true;
		try_send(c);
		return;
	}
}

static void
accept_clients(pgsocket lfd, TimestampTz now)
{
	for (;;)
	{
		pgsocket	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		HttpClient *slot = NULL;

		if (fd == PGINVALID_SOCKET)
			return;				/* EAGAIN, or a transient error */
		for (int i = 0; i < nclient_slots && slot == NULL; i++)
			if (clients[i].fd == PGINVALID_SOCKET)
				slot = &clients[i];
		if (slot == NULL)
		{
			static const char busy[] =
				"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
				"Content-Length: 34\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
				"{\"error\":\"too many HTTP clients\"}\n";

			(void) send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_MORE);
			hang_up(fd, true);
			continue;
		}
		slot->fd = fd;
		slot->len = slot->sent = 0;
		slot->responding = false;
		slot->deadline = TimestampTzPlusMilliseconds(now, ph_http_client_timeout_ms);
		/* a probe sends its request with the connection: answer at once */
		on_readable(slot);
	}
}

/* ------------------------------------------------------------------------
 * The sampler's wait
 * ------------------------------------------------------------------------
 */

static WaitEventSet *base_wes = NULL;	/* latch, postmaster death, listeners */

static void
add_base_events(WaitEventSet *wes)
{
	AddWaitEventToSet(wes, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(wes, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < nlisteners; i++)
		AddWaitEventToSet(wes, WL_SOCKET_READABLE, listeners[i], NULL, NULL);
}

static void
drop_base_wes(void)
{
	if (base_wes != NULL)
		FreeWaitEventSet(base_wes);
	base_wes = NULL;
}

/*
 * Wait up to timeout_ms for the latch, postmaster death or HTTP traffic, and
 * serve what arrives.  With the endpoint off this is the plain latch wait.
 */
void
ph_http_wait(long timeout_ms)
{
	TimestampTz now = GetCurrentTimestamp();
	WaitEventSet *wes;
	WaitEvent	events[64];
	int			n;
	int			pending = 0;
	MemoryContext old;

	configure(now);
	if (nlisteners == 0)
	{
		if (ph_http_port != 0)
			timeout_ms = Min(timeout_ms, Max(TimestampDifferenceMilliseconds(now, retry_at), 1));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		return;
	}

	/* drop clients past their deadline; the next deadline bounds the wait */
	for (int i = 0; i < nclient_slots; i++)
	{
		HttpClient *c = &clients[i];

		if (c->fd == PGINVALID_SOCKET)
			continue;
		pending++;
		if (c->deadline <= now)
		{
			if (!c->responding)
			{
				static const char slow[] =
					"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

				(void) send(c->fd, slow, sizeof(slow) - 1, MSG_NOSIGNAL | MSG_MORE);
			}
			close_client(c);
			pending--;
			continue;
		}
		timeout_ms = Min(timeout_ms, Max(TimestampDifferenceMilliseconds(now, c->deadline), 1));
	}

	/*
	 * Most probes are answered within accept_clients(), so usually no client
	 * is pending and the set of the latch and the listeners, kept from one
	 * wait to the next, is enough.  With clients pending (slow ones), a set
	 * that includes them is built for this wait only.
	 */
	if (pending > 0)
	{
		old = MemoryContextSwitchTo(http_cxt);
		wes = ph_create_wait_event_set(2 + nlisteners + nclient_slots);
		add_base_events(wes);
		for (int i = 0; i < nclient_slots; i++)
			if (clients[i].fd != PGINVALID_SOCKET)
				AddWaitEventToSet(wes, clients[i].responding ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE,
								  clients[i].fd, NULL, &clients[i]);
		MemoryContextSwitchTo(old);
	}
	else
	{
		if (base_wes == NULL)
		{
			old = MemoryContextSwitchTo(http_cxt);
			base_wes = ph_create_wait_event_set(2 + nlisteners);
			add_base_events(base_wes);
			MemoryContextSwitchTo(old);
		}
		wes = base_wes;
	}

	n = WaitEventSetWait(wes, timeout_ms, events, lengthof(events), PG_WAIT_EXTENSION);
	if (wes != base_wes)
		FreeWaitEventSet(wes);

	now = GetCurrentTimestamp();
	for (int k = 0; k < n; k++)
	{
		WaitEvent  *e = &events[k];

		if (e->events & WL_LATCH_SET)
			ResetLatch(MyLatch);
		else if (e->user_data == NULL && e->fd != PGINVALID_SOCKET)
			accept_clients(e->fd, now);
		else if (e->user_data != NULL)
		{
			HttpClient *c = (HttpClient *) e->user_data;

			if (c->fd == PGINVALID_SOCKET || c->fd != e->fd)
				continue;
			if (c->responding)
				try_send(c);
			else
				on_readable(c);
		}
	}
}

/* On exit: close everything (the postmaster restarts the worker). */
void
ph_http_shutdown(void)
{
	for (int i = 0; i < nclient_slots; i++)
		close_client(&clients[i]);
	close_listeners();
}

/*
 * http.c -- (doors) the HTTP endpoint, served by a background worker of its own,
 * "pg_health http".
 *
 * The worker is registered at preload like the sampler: shared memory access
 * only, started with the postmaster (so it answers during recovery),
 * restarted PH_RESTART_SECONDS after it exits, one at a time (its pid is
 * claimed in shared memory).  It waits on a WaitEventSet over its latch, the
 * listening sockets and its clients' sockets, single-threaded and
 * non-blocking; with pg_health.http_port = 0 it only waits on its latch for
 * a reload.  Answers are built from the snapshot the sampler publishes, read
 * as the SQL functions read it, by the same C code: no database connection,
 * no credentials, no connection slot.  So it answers when every slot is
 * taken, during recovery, and under a lock pile-up.  It never waits for the
 * sampler: a sample does not delay an answer, nor an answer a sample, and
 * when the sampler is stopped or gone the answers say "unknown" once the
 * snapshot is older than pg_health.stale_after (the verdict's freshness
 * rule).  Not even pg_health's lock can hold it: its reads give up after
 * PH_HTTP_LOCK_WAIT_US and it answers from the last copy it has, judged by
 * the same rule (ph_reader_lock_timeout).
 *
 * Clients that send little or nothing must not starve the probes, nor the
 * sampling.  A probe sends its whole request with the connection (on Linux
 * TCP_DEFER_ACCEPT hands the connection over only once data has arrived), so
 * it is read and answered as it is accepted, and takes no place at all when
 * its answer leaves in one go.  Only a client that has to wait, because its
 * request is incomplete or its answer did not fit in the socket, takes one
 * of the pg_health.http_max_clients places, until its deadline
 * (pg_health.http_client_timeout; a 408 if its request is still
 * incomplete).  When a newcomer needs a place and all are taken, the oldest
 * client whose request is still incomplete gives its place up (a 408 at
 * once): slow, silent-after-one-byte and slowloris clients, however many,
 * only take places from each other.  "Busy", a 503 "too many HTTP clients",
 * is left for a newcomer that must wait while every place holds a client
 * whose answer is still being sent.  Each wake accepts at most
 * PH_HTTP_ACCEPTS_PER_WAKE connections and a close drains at most
 * PH_HTTP_DRAIN_MAX unread bytes, so a flood delays a reload, a deadline
 * or a shutdown by one bounded batch of work.
 *
 * Memory: an answer is built in answer_cxt, reset once it is sent; only the
 * bytes a slow reader has not taken yet are copied to the long-lived
 * http_cxt, and freed when it is closed.  Whatever else a wait allocates
 * goes to wait_cxt, reset when the wait returns.  So nothing grows with the
 * number of requests.
 *
 * Writes never raise SIGPIPE (MSG_NOSIGNAL).  A port that cannot be bound is
 * logged and retried every PH_HTTP_RETRY_MS.  Changing the port or the
 * addresses takes effect on reload.
 */
#include "postgres.h"

#include <zlib.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "utils/wait_event.h"

#include "ground/compat.h"
#include "doors/http/http_server.h"
#include "doors/http/http_parse.h"
#include "doors/http/metrics.h"
#include "doors/http/status_page.h"
#include "read/read.h"
#include "judge/replication_checks.h"
#include "judge/admission.h"
#include "doors/report.h"
#include "ground/shmem.h"
#include "judge/verdict.h"
#include "ground/workers.h"

int			ph_http_port = 0;
char	   *ph_http_listen_addresses = NULL;
int			ph_http_max_clients = 64;
int			ph_http_client_timeout_ms = 2000;
bool		ph_http_admission = true;

void
ph_define_http_settings(void)
{
	DefineCustomIntVariable("pg_health.http_port",
							"TCP port of the HTTP endpoint, served by the pg_health http worker.",
							"0 (the default) turns it off.  Applied on reload.",
							&ph_http_port,
							0, 0, 65535,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomStringVariable("pg_health.http_listen_addresses",
							   "Addresses the HTTP endpoint listens on.",
							   "Comma-separated host names or IP addresses; * for all.  Applied on reload.",
							   &ph_http_listen_addresses,
							   "localhost",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   NULL, NULL, NULL);
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
	DefineCustomBoolVariable("pg_health.http_admission",
							 "Whether /ready and /health answer the per-tenant question (?user=, ?database=).",
							 "Its answers tell whoever reaches the port whether a role or database exists.",
							 &ph_http_admission,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
}

#ifndef MSG_MORE
#define MSG_MORE 0			/* not Linux: no corking, one packet more */
#endif

#define PH_HTTP_MAX_LISTEN	16
#define PH_HTTP_RETRY_MS	5000

/*
 * The kernel's queue of connections not accepted yet is where a probe waits
 * during a flood: a full one drops its connection attempt, which costs it a
 * retransmission (a second or more), a long one only microseconds per
 * connection ahead of it.  (The kernel caps it at net.core.somaxconn.)
 */
#define PH_HTTP_BACKLOG		1024

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

typedef struct HttpClient
{
	pgsocket	fd;				/* PGINVALID_SOCKET: a free entry */
	uint64		seq;			/* order of arrival: the oldest is evicted first */
	TimestampTz deadline;
	bool		responding;		/* its request was read: it is being answered */
	bool		clean;			/* whole request read, nothing more expected */
	bool		listed;			/* in client_wes */
	char	   *out;			/* the answer's bytes not sent yet, in http_cxt */
	size_t		outlen;
	size_t		sent;			/* of out */
	size_t		len;			/* request bytes read */
	char		in[PH_HTTP_MAX_REQUEST + 1];
} HttpClient;

static pgsocket listeners[PH_HTTP_MAX_LISTEN];
static struct sockaddr_storage listener_addr[PH_HTTP_MAX_LISTEN];
static socklen_t listener_addrlen[PH_HTTP_MAX_LISTEN];
static int	nlisteners = 0;
static bool some_failed = false;	/* an address could not be bound: retry it */
static int	bound_port = 0;
static char *bound_addresses = NULL;
static TimestampTz retry_at = 0;
static bool said_bind_failure = false;

/*
 * pg_health.http_max_clients places, and one entry more: where a newcomer
 * is read and answered before it is known whether it needs a place at all.
 */
static HttpClient *clients = NULL;
static int	nclient_slots = 0;	/* places */
static int	nopen = 0;			/* open clients; at most nclient_slots between accepts */
static uint64 next_seq = 0;

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

static void
close_listeners(void)
{
	drop_wait_sets();
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
	c->responding = c->clean = c->listed = false;
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

/* ------------------------------------------------------------------------
 * Listening
 * ------------------------------------------------------------------------
 */

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
/* the ::1 that "localhost" adds (by address: not one written in the setting) */
static const char localhost_v6[] = "::1";

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

	/*
	 * "localhost" is the loopback addresses, IPv4 and IPv6, whatever the
	 * resolver says of the name (many containers' /etc/hosts give only
	 * 127.0.0.1); ::1 is skipped quietly where the host has no IPv6
	 */
	{
		List	   *expanded = NIL;

		foreach(lc, addrs)
		{
			if (pg_strcasecmp((char *) lfirst(lc), "localhost") == 0)
			{
				expanded = lappend(expanded, "127.0.0.1");
				expanded = lappend(expanded, (char *) localhost_v6);
			}
			else
				expanded = lappend(expanded, lfirst(lc));
		}
		addrs = expanded;
	}

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
		if (rc != 0 && host == localhost_v6)
			continue;			/* no IPv6 here: localhost is 127.0.0.1 alone */
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
			{
				/* no IPv6 in this kernel: quiet for localhost's ::1 only */
				if (host != localhost_v6)
					appendStringInfo(&failures, "%s\"%s\": %s", failures.len ? "; " : "", host,
									 strerror(errno));
				continue;
			}
			(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6)
				(void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, PH_HTTP_BACKLOG) != 0)
			{
				int			err = errno;
				char		name[NI_MAXHOST];

				if (host == localhost_v6 && (err == EADDRNOTAVAIL || err == EAFNOSUPPORT))
				{
					closesocket(fd);	/* IPv6 loopback disabled: not a failure */
					continue;
				}

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
			drop_wait_sets();	/* the kept wait sets must include it */
		}
		freeaddrinfo(res);
	}

	if (failures.len > 0 && !said_bind_failure)
		ereport(LOG,
				(errmsg("pg_health: could not listen for HTTP on %s; retrying every 5 s (sampling and SQL are not affected)",
						failures.data)));
	if (nlisteners > 0 && (failures.len == 0 || !said_bind_failure))
		ereport(LOG,
				(errmsg("pg_health: HTTP endpoint listening on port %d (%s)%s", ph_http_port,
						ph_http_listen_addresses, failures.len > 0 ? ", on some of the addresses" : "")));
	said_bind_failure = failures.len > 0;
	some_failed = failures.len > 0;
	pfree(failures.data);
	list_free(addrs);
	pfree(raw);
	if (nlisteners > 0)
		bound_port = ph_http_port;
	/* nothing bound is never done, even when nothing was worth a log line */
	return failures.len == 0 && nlisteners > 0;
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
		case 403:
			return "Forbidden";
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
		case 505:
			return "HTTP Version Not Supported";
		default:
			return "Error";
	}
}

/*
 * body[0..len) gzip-encoded into out (RFC 1952); false when zlib fails, and
 * the answer then goes out as it is.  zlib allocates through palloc, in the
 * answer's context, which is reset once the answer is sent.
 */
static voidpf
zalloc_palloc(voidpf opaque, uInt items, uInt size)
{
	return palloc_extended((Size) items * size, MCXT_ALLOC_NO_OOM);
}

static void
zfree_palloc(voidpf opaque, voidpf address)
{
	pfree(address);
}

static bool
gzip_body(StringInfo out, const char *body, size_t len)
{
	z_stream	z;
	uLong		bound;
	int			rc;

	memset(&z, 0, sizeof(z));
	z.zalloc = zalloc_palloc;
	z.zfree = zfree_palloc;
	/* 15 + 16: a gzip header and trailer; level 6, zlib's default */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	bound = deflateBound(&z, (uLong) len);
	enlargeStringInfo(out, (int) bound);
	z.next_in = (Bytef *) body;
	z.avail_in = (uInt) len;
	z.next_out = (Bytef *) out->data + out->len;
	z.avail_out = (uInt) bound;
	rc = deflate(&z, Z_FINISH);
	if (rc == Z_STREAM_END)
	{
		out->len += (int) z.total_out;
		out->data[out->len] = '\0';
	}
	(void) deflateEnd(&z);
	return rc == Z_STREAM_END;
}

/*
 * The answer: headers, and the body unless HEAD.  With gzip (the client
 * accepts it), a body of a kilobyte or more goes out gzip-encoded.
 */
static void
respond_encoded(StringInfo out, int status, const char *content_type, const char *body,
				size_t len, bool head, bool gzip)
{
	StringInfoData z;
	bool		zipped = false;

	if (gzip && len >= 1024)
	{
		initStringInfo(&z);
		zipped = gzip_body(&z, body, len);
		if (zipped)
		{
			body = z.data;
			len = (size_t) z.len;
		}
	}
	appendStringInfo(out,
					 "HTTP/1.1 %d %s\r\n"
					 "Content-Type: %s\r\n"
					 "Content-Length: %zu\r\n"
					 "%s"
					 "Cache-Control: no-store\r\n"
					 "Connection: close\r\n"
					 "%s%s"
					 "\r\n",
					 status, reason_phrase(status), content_type, len,
					 zipped ? "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n" :
					 gzip ? "Vary: Accept-Encoding\r\n" : "",
					 status == 405 ? "Allow: GET, HEAD\r\n" : "",
	/* the status page: nothing but its own inline style may load or run */
					 strncmp(content_type, "text/html", 9) == 0 ?
					 "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "
					 "base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"
					 "X-Content-Type-Options: nosniff\r\n"
					 "Referrer-Policy: no-referrer\r\n" : "");
	if (!head)
		appendBinaryStringInfo(out, body, (int) len);
}

static void
respond(StringInfo out, int status, const char *content_type, const char *body, size_t len,
		bool head)
{
	respond_encoded(out, status, content_type, body, len, head, false);
}

/*
 * An error's answer.  To a HEAD, its headers only, Content-Length that of
 * the body a GET would get: no answer to a HEAD has a body, whatever its
 * status (RFC 9110, 9.3.2).
 */
static void
respond_error(StringInfo out, int status, const char *message, bool head)
{
	StringInfoData body;

	initStringInfo(&body);
	appendStringInfo(&body, "{\"error\":\"%s\"}\n", message);
	respond(out, status, "application/json", body.data, body.len, head);
	pfree(body.data);
}

/* A 400 for a query: it names the parameter at fault, never echoes input. */
static void
respond_bad_query(StringInfo out, PhHttpArg arg, bool about_database, bool head)
{
	char		msg[256];
	const char *name = about_database ? "database" : "user";

	switch (arg)
	{
		case PH_ARG_ROLE:
			snprintf(msg, sizeof(msg), "bad query: role must be primary or replica");
			break;
		case PH_ARG_LAG:
			snprintf(msg, sizeof(msg), "bad query: lag must be bytes, or n kB|MB|GB|TB");
			break;
		case PH_ARG_LAG_RANGE:
			snprintf(msg, sizeof(msg), "bad query: lag is out of range: at most %lldTB (2^62 bytes)",
					 PH_HTTP_MAX_LAG_BYTES >> 40);
			break;
		case PH_ARG_DELAY:
			snprintf(msg, sizeof(msg), "bad query: delay must be n ms|s|min|h|d (a unit is required)");
			break;
		case PH_ARG_DELAY_RANGE:
			snprintf(msg, sizeof(msg), "bad query: delay is out of range: at most %lldd",
					 PH_HTTP_MAX_DELAY_MS / (86400LL * 1000));
			break;
		case PH_ARG_NAME_EMPTY:
			snprintf(msg, sizeof(msg), "bad query: %s must not be empty", name);
			break;
		case PH_ARG_NAME_LONG:
			snprintf(msg, sizeof(msg), "bad query: %s is too long: names are at most %d bytes",
					 name, PH_HTTP_MAX_NAME);
			break;
		case PH_ARG_NAME_ENCODING:
			snprintf(msg, sizeof(msg), "bad query: %s must be UTF-8, %%-escaped (%%XX), without %%00",
					 name);
			break;
		case PH_ARG_NAME_REPEATED:
			snprintf(msg, sizeof(msg), "bad query: %s is given twice", name);
			break;
		case PH_ARG_REFRESH:
			snprintf(msg, sizeof(msg), "bad query: refresh must be whole seconds, 1 to %d, given once",
					 PH_HTTP_MAX_REFRESH_S);
			break;
		default:
			snprintf(msg, sizeof(msg), "bad query: /ready and /health take role=primary|replica, "
					 "lag=<bytes, or n kB|MB|GB|TB>, delay=<n ms|s|min|h|d>, user=<role> and database=<name>; "
					 "/replica takes lag and delay; / and /status take refresh=<seconds>");
			break;
	}
	respond_error(out, 400, msg, head);
}

/*
 * The per-tenant answer of a request with ?user= or ?database= (NULL
 * without): never waiting, so a name asked for the first time is answered
 * "unknown" until the names worker's next pass.
 */
static PhAdmission *
admission_of(const PhView *view, const PhHttpRequest *req, PhAdmission *adm)
{
	if (req->user[0] == '\0' && req->database[0] == '\0')
		return NULL;
	ph_read_admission(view, req->user[0] ? req->user : NULL,
					  req->database[0] ? req->database : NULL, true, 0, adm);
	return adm;
}

/* The probe answer: the verdict, and the reasons when it is not positive. */
static void
verdict_body(StringInfo body, const PhHttpRequest *req, PhRole role, const PhOverrides *o,
			 int *status)
{
	PhView		view;
	PhAdmission adm;

	/* with the components: the reader buffers must stay of one sample */
	ph_read_view(&view, role, o, true);
	ph_probe_json(body, view.snap, view.worker_pid, role, view.now,
				  req->path == PH_PATH_LIVE ? "live" :
				  req->path == PH_PATH_STARTUP ? "startup" : "ready",
				  admission_of(&view, req, &adm), status);
}

/* GET /health: health.report()'s document, as SQL returns it (jsonb text). */
static void
health_body(StringInfo body, const PhHttpRequest *req, PhRole role, const PhOverrides *o,
			int *status)
{
	PhView		view;
	PhAdmission adm;
	PhAdmission *asked;
	Jsonb	   *jb;

	ph_read_view(&view, role, o, true);
	asked = admission_of(&view, req, &adm);
	jb = ph_report_jsonb(view.snap, view.components, view.poolers, view.worker_pid, role, view.now, asked);
	(void) JsonbToCString(body, &jb->root, VARSIZE(jb));
	appendStringInfoChar(body, '\n');
	*status = view.verdict.ready && (asked == NULL || asked->admit == PH_ADMIT_YES) ? 200 : 503;
}

/* The whole answer to a parsed request, into out. */
static void
build_response(StringInfo out, PhHttpParse parsed, const PhHttpRequest *req)
{
	StringInfoData body;
	int			status = 200;
	PhRole		role = PH_ROLE_ANY;
	PhOverrides o = {req->lag_bytes, req->delay_ms};

	switch (parsed)
	{
		case PH_HTTP_BAD_REQUEST:
			respond_error(out, 400, "malformed request", req->head);
			return;
		case PH_HTTP_BAD_QUERY:
			respond_bad_query(out, req->bad_arg, req->bad_is_database, req->head);
			return;
		case PH_HTTP_NOT_FOUND:
			respond_error(out, 404, "unknown path: try /live, /ready, /startup, /health, /primary, /replica, /metrics or / (the status page)",
						  req->head);
			return;
		case PH_HTTP_BAD_METHOD:
			respond_error(out, 405, "only GET and HEAD", req->head);
			return;
		case PH_HTTP_URI_TOO_LONG:
			respond_error(out, 414, "request line too long", req->head);
			return;
		case PH_HTTP_HEADERS_TOO_LARGE:
			respond_error(out, 431, "request headers too large", req->head);
			return;
		case PH_HTTP_BAD_VERSION:
			respond_error(out, 505, "HTTP version not supported: only HTTP/1.0 and HTTP/1.1",
						  req->head);
			return;
		default:
			break;
	}

	if (!ph_http_admission && (req->user[0] != '\0' || req->database[0] != '\0'))
	{
		respond_error(out, 403, "the per-tenant question (user=, database=) is off here: pg_health.http_admission",
					  req->head);
		return;
	}

	if (req->role == PH_ROLE_ARG_PRIMARY || req->path == PH_PATH_PRIMARY)
		role = PH_ROLE_PRIMARY;
	else if (req->role == PH_ROLE_ARG_REPLICA || req->path == PH_PATH_REPLICA)
		role = PH_ROLE_REPLICA;

	initStringInfo(&body);
	if (req->path == PH_PATH_STATUS)
	{
		ph_status_page_html(&body, req->refresh_s, &status);
		respond_encoded(out, status, "text/html; charset=utf-8", body.data, body.len,
						req->head, req->gzip);
	}
	else if (req->path == PH_PATH_METRICS)
	{
		ph_metrics_text(&body);
		respond_encoded(out, 200, "text/plain; version=0.0.4; charset=utf-8", body.data, body.len,
						req->head, req->gzip);
	}
	else
	{
		if (req->path == PH_PATH_HEALTH)
			health_body(&body, req, role, &o, &status);
		else
			verdict_body(&body, req, role, &o, &status);
		/* the probes' short answers go as they are: only the report is worth it */
		respond_encoded(out, status, "application/json", body.data, body.len, req->head,
						req->gzip && req->path == PH_PATH_HEALTH);
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
 * Answer a whole (or hopeless) request.  The answer is built in answer_cxt
 * and sent as far as the socket takes it; only what a slow reader has not
 * taken is copied to http_cxt, to be sent when it is writable.  The context
 * is reset before returning, so no allocation of an answer (a report parsed
 * as jsonb is ~55 kB) survives it.
 */
static void
answer(HttpClient *c, PhHttpParse parsed, const PhHttpRequest *req)
{
	MemoryContext old = MemoryContextSwitchTo(answer_cxt);
	StringInfoData out;
	ssize_t		n;

	initStringInfo(&out);
	build_response(&out, parsed, req);
	c->responding = true;
	n = send_some(c->fd, out.data, out.len);
	if (n < 0 || n == out.len)
		close_client(c);		/* all sent (the usual case), or gone */
	else
	{
		c->outlen = out.len - n;
		c->out = MemoryContextAlloc(http_cxt, c->outlen);
		memcpy(c->out, out.data + n, c->outlen);
		c->sent = 0;
		clients_changed = true; /* it now waits to write, not to read */
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(answer_cxt);
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
		answer(c, parsed, &req);
		return;
	}
}

/*
 * A newcomer has to wait (its request is incomplete, or its answer did not
 * leave whole) and all places are taken.  The oldest client whose request
 * is still incomplete gives its place up, with a 408: a complete request is
 * answered the moment it arrives, so a client still incomplete after every
 * later one is the least likely to be a probe.  When every place holds a
 * client being answered, the newcomer is the one refused: a 503 if it has
 * not sent a whole request (busy), else it keeps what of its answer left.
 */
static void
make_room(HttpClient *newcomer)
{
	HttpClient *oldest = NULL;

	for (int i = 0; i <= nclient_slots; i++)
	{
		HttpClient *c = &clients[i];

		if (c == newcomer || c->fd == PGINVALID_SOCKET || c->responding)
			continue;
		if (oldest == NULL || c->seq < oldest->seq)
			oldest = c;
	}
	if (oldest != NULL)
		send_canned(oldest, timeout_answer, sizeof(timeout_answer) - 1);
	else if (!newcomer->responding)
		send_canned(newcomer, busy_answer,
					ph_http_is_head(newcomer->in, newcomer->len) ?
					sizeof(BUSY_HEADERS) - 1 : sizeof(busy_answer) - 1);
	else
		close_client(newcomer);
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
		clients_changed = true; /* it waits: the wait set must include it */
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
	for (int i = 0; i < nlisteners; i++)
		AddWaitEventToSet(wes, WL_SOCKET_READABLE, listeners[i], NULL, NULL);
}

/*
 * The wait set for this wait.  Both sets are kept from one wait to the next
 * (building one costs a system call per socket): the base one while no
 * client waits, which is the usual case since probes are answered on accept,
 * and the one with the clients until a client comes, goes, or turns from
 * reading to writing.
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
			base_wes = ph_create_wait_event_set(2 + nlisteners);
			add_base_events(base_wes);
			MemoryContextSwitchTo(old);
		}
		return base_wes;
	}
	if (client_wes == NULL || clients_changed)
	{
		drop_client_wes();
		old = MemoryContextSwitchTo(http_cxt);
		client_wes = ph_create_wait_event_set(2 + nlisteners + nopen);
		add_base_events(client_wes);
		for (int i = 0; i <= nclient_slots; i++)
		{
			HttpClient *c = &clients[i];

			if (c->fd == PGINVALID_SOCKET)
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
 * Wait for the latch, postmaster death or HTTP traffic, and serve what
 * arrives.  With the endpoint off this is a plain wait on the latch.
 */
static void
serve(void)
{
	TimestampTz now = GetCurrentTimestamp();
	long		timeout_ms = -1;
	WaitEvent	events[64];
	int			n;

	configure(now);
	/* an address still to bind: retry at retry_at */
	if (ph_http_port != 0 && (nlisteners == 0 || some_failed))
		timeout_ms = Max(TimestampDifferenceMilliseconds(now, retry_at), 1);
	if (nlisteners == 0)
	{
		close_all_clients();	/* the endpoint is off: nobody serves them */
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (timeout_ms >= 0 ? WL_TIMEOUT : 0),
						 timeout_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		return;
	}

	/* drop clients past their deadline; the next deadline bounds the wait */
	for (int i = 0; i <= nclient_slots; i++)
	{
		HttpClient *c = &clients[i];

		if (c->fd == PGINVALID_SOCKET)
			continue;
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

	n = WaitEventSetWait(wait_set(), timeout_ms, events, lengthof(events), PG_WAIT_EXTENSION);

	now = GetCurrentTimestamp();
	for (int k = 0; k < n; k++)
	{
		WaitEvent  *e = &events[k];

		if (e->events & WL_LATCH_SET)
			ResetLatch(MyLatch);
		else if (e->user_data == NULL && e->fd != PGINVALID_SOCKET)
			accept_clients(e->fd, now, Max(PH_HTTP_ACCEPTS_PER_WAKE / nlisteners, 4));
		else if (e->user_data != NULL)
		{
			HttpClient *c = (HttpClient *) e->user_data;

			/* closed meanwhile (its entry may even hold a newcomer: harmless) */
			if (c->fd == PGINVALID_SOCKET || c->fd != e->fd)
				continue;
			if (c->responding)
				try_send(c);
			else
				on_readable(c);
		}
	}
}

/* On exit: close everything, give the place up (the postmaster restarts it). */
static void
http_detach(int code, Datum arg)
{
	close_all_clients();
	close_listeners();
	(void) ph_set_http_worker(MyProcPid, 0);
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
	pid_t		other;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* one HTTP worker at a time; the place is released by http_detach */
	before_shmem_exit(http_detach, (Datum) 0);
	other = ph_set_http_worker(0, MyProcPid);
	if (other != 0)
	{
		ereport(LOG,
				(errmsg("pg_health http already running with pid %d, exiting", (int) other)));
		proc_exit(1);
	}

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
		ph_worker_memory_note(PH_WORKER_HTTP);
		CHECK_FOR_INTERRUPTS();

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}

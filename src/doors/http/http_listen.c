/*
 * http_listen.c -- (doors) the HTTP endpoint's listening sockets: binding
 * pg_health.http_listen_addresses on pg_health.http_port, following both on
 * reload, and retrying an address that cannot be bound.
 *
 * "localhost" is the loopback addresses, IPv4 and IPv6, whatever the
 * resolver says.  A port that cannot be bound (in use, or an address that
 * does not exist) is one LOG line and a retry every PH_HTTP_RETRY_MS, while
 * the addresses that could be bound serve; sampling and SQL are not
 * affected.  On Linux the sockets use TCP_DEFER_ACCEPT, so a probe's
 * connection is handed over with its request (http_server.c answers it as
 * it accepts it).
 */
#include "postgres.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "doors/http/http_listen.h"
#include "ground/shmem.h"

#define PH_HTTP_RETRY_MS	5000

/*
 * The kernel's queue of connections not accepted yet is where a probe waits
 * during a flood: a full one drops its connection attempt, which costs it a
 * retransmission (a second or more), a long one only microseconds per
 * connection ahead of it.  (The kernel caps it at net.core.somaxconn.)
 */
#define PH_HTTP_BACKLOG		1024

int			ph_http_port = 0;
char	   *ph_http_listen_addresses = NULL;

pgsocket	ph_http_listeners[PH_HTTP_MAX_LISTEN];
int			ph_http_nlisteners = 0;

static struct sockaddr_storage listener_addr[PH_HTTP_MAX_LISTEN];
static socklen_t listener_addrlen[PH_HTTP_MAX_LISTEN];
static bool some_failed = false;	/* an address could not be bound: retry it */
static int	bound_port = 0;
static char *bound_addresses = NULL;
static TimestampTz retry_at = 0;
static bool said_bind_failure = false;

void
ph_define_http_listen_settings(void)
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
	for (int i = 0; i < ph_http_nlisteners; i++)
		if (listener_addrlen[i] == ai->ai_addrlen &&
			memcmp(&listener_addr[i], ai->ai_addr, ai->ai_addrlen) == 0)
			return true;
	return false;
}

/* the ::1 that "localhost" adds (by address: not one written in the setting) */
static const char localhost_v6[] = "::1";

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
		for (ai = res; ai != NULL && ph_http_nlisteners < PH_HTTP_MAX_LISTEN; ai = ai->ai_next)
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
					closesocket(fd);	/* IPv6 loopback disabled: not a
										 * failure */
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
			memcpy(&listener_addr[ph_http_nlisteners], ai->ai_addr, ai->ai_addrlen);
			listener_addrlen[ph_http_nlisteners] = ai->ai_addrlen;
			ph_http_listeners[ph_http_nlisteners++] = fd;
		}
		freeaddrinfo(res);
	}

	if (failures.len > 0 && !said_bind_failure)
		ereport(LOG,
				(errmsg("pg_health: could not listen for HTTP on %s; retrying every 5 s (sampling and SQL are not affected)",
						failures.data)));
	if (ph_http_nlisteners > 0 && (failures.len == 0 || !said_bind_failure))
		ereport(LOG,
				(errmsg("pg_health: HTTP endpoint listening on port %d (%s)%s", ph_http_port,
						ph_http_listen_addresses, failures.len > 0 ? ", on some of the addresses" : "")));
	said_bind_failure = failures.len > 0;
	some_failed = failures.len > 0;
	pfree(failures.data);
	list_free(addrs);
	pfree(raw);
	if (ph_http_nlisteners > 0)
		bound_port = ph_http_port;
	/* nothing bound is never done, even when nothing was worth a log line */
	return failures.len == 0 && ph_http_nlisteners > 0;
}

void
ph_http_unlisten(void)
{
	for (int i = 0; i < ph_http_nlisteners; i++)
		closesocket(ph_http_listeners[i]);
	ph_http_nlisteners = 0;
	bound_port = 0;
	some_failed = false;
	ph_set_http_listening(0);
}

/*
 * Make the listeners match the settings: at start, after a reload, and
 * every PH_HTTP_RETRY_MS while a bind keeps failing.  Returns true when a
 * listener was closed or opened: the caller's wait sets must follow.  What
 * outlives the call is allocated in cxt.
 */
bool
ph_http_listen(TimestampTz now, MemoryContext cxt)
{
	bool		changed = bound_addresses == NULL || ph_http_listen_addresses == NULL ||
		strcmp(bound_addresses, ph_http_listen_addresses) != 0 ||
		(ph_http_nlisteners > 0 && bound_port != ph_http_port);
	bool		closed = false;
	int			before;

	if (changed || ph_http_port == 0)
	{
		if (ph_http_nlisteners > 0)
		{
			ph_http_unlisten();
			closed = true;
		}
		retry_at = 0;
		said_bind_failure = false;
		if (bound_addresses)
			pfree(bound_addresses);
		bound_addresses = MemoryContextStrdup(cxt, ph_http_listen_addresses ?
											  ph_http_listen_addresses : "");
	}
	if (ph_http_port == 0 || (ph_http_nlisteners > 0 && !some_failed) || now < retry_at)
		return closed;
	before = ph_http_nlisteners;
	if (!open_listeners())
		retry_at = TimestampTzPlusMilliseconds(now, PH_HTTP_RETRY_MS);
	ph_set_http_listening(ph_http_nlisteners > 0 ? bound_port : 0);
	return closed || ph_http_nlisteners != before;
}

/* How long until an address still to bind is retried, in ms; -1: none is. */
long
ph_http_listen_retry_ms(TimestampTz now)
{
	if (ph_http_port == 0 || (ph_http_nlisteners > 0 && !some_failed))
		return -1;
	return Max(TimestampDifferenceMilliseconds(now, retry_at), 1);
}

/*
 * accept_probe.c -- (collect) does the server accept a new connection?  The
 * sampler opens a connection to its own server every
 * pg_health.accept_probe_interval, as a client would, and asks for SSL: the
 * postmaster must accept it and fork a backend, and that backend must
 * answer ('N', or 'S').  It then hangs up before sending a startup packet,
 * which PostgreSQL does not log as an error (it logs "connection received"
 * with log_connections on).  Nobody logs in, no credentials are needed.
 *
 * The target is what a local client uses: the first of
 * unix_socket_directories, or, when there is none, the first of
 * listen_addresses (its numeric address; "*" and "localhost" are the
 * loopback).  Everything is non-blocking: the sampler drives the probe
 * between samples (ph_accept_probe_step) and waits for its socket with its
 * latch (ph_accept_probe_socket), so a hung postmaster never stalls a
 * sample.  One attempt is in flight at a time; an attempt that has not been
 * answered is kept (so that a postmaster that resumes answers it) until it
 * is PH_ACCEPT_ABANDON_FACTOR times pg_health.accept_timeout old.
 */
#include "postgres.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "libpq/pqcomm.h"
#include "port/pg_bswap.h"
#include "postmaster/postmaster.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "collect/accept_probe.h"
#include "ground/guard.h"
#include "judge/serving_checks.h"

#define PH_ACCEPT_ABANDON_FACTOR 4

typedef enum ProbeState
{
	PROBE_IDLE,
	PROBE_CONNECTING,			/* connect() in progress */
	PROBE_SENT					/* request sent, waiting for the answer */
} ProbeState;

static pgsocket sock = PGINVALID_SOCKET;
static ProbeState state = PROBE_IDLE;
static TimestampTz attempt_at = 0;	/* the attempt in flight began */
static TimestampTz next_at = 0; /* the next attempt is due */
static PhAccept acc;

/* Where a local client connects. */
typedef struct ProbeTarget
{
	struct sockaddr_storage addr;
	socklen_t	len;
	char		text[PH_TARGET_LEN];
} ProbeTarget;

static bool
unix_target(ProbeTarget *t)
{
	char	   *raw;
	List	   *dirs = NIL;
	bool		found = false;

	if (Unix_socket_directories == NULL || Unix_socket_directories[0] == '\0')
		return false;
	raw = pstrdup(Unix_socket_directories);
	if (SplitDirectoriesString(raw, ',', &dirs) && dirs != NIL)
	{
		const char *dir = linitial(dirs);
		struct sockaddr_un *un = (struct sockaddr_un *) &t->addr;
		char		path[MAXPGPATH];
		bool		abstract = dir[0] == '@';

		snprintf(path, sizeof(path), "%s/.s.PGSQL.%d", dir, PostPortNumber);
		if (strlen(path) < sizeof(un->sun_path))
		{
			memset(&t->addr, 0, sizeof(t->addr));
			un->sun_family = AF_UNIX;
			strlcpy(un->sun_path, path, sizeof(un->sun_path));
			t->len = sizeof(struct sockaddr_un);
			if (abstract)
			{
				/* Linux's abstract namespace: a leading NUL, no file */
				un->sun_path[0] = '\0';
				t->len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
			}
			snprintf(t->text, sizeof(t->text), "Unix socket %s", path);
			found = true;
		}
	}
	list_free_deep(dirs);
	pfree(raw);
	return found;
}

static bool
tcp_target(ProbeTarget *t)
{
	char	   *raw;
	List	   *hosts = NIL;
	bool		found = false;

	if (ListenAddresses == NULL || ListenAddresses[0] == '\0')
		return false;
	raw = pstrdup(ListenAddresses);
	if (SplitGUCList(raw, ',', &hosts) && hosts != NIL)
	{
		const char *host = linitial(hosts);
		struct sockaddr_in *in4 = (struct sockaddr_in *) &t->addr;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &t->addr;

		memset(&t->addr, 0, sizeof(t->addr));
		if (strcmp(host, "*") == 0 || strcmp(host, "localhost") == 0 ||
			strcmp(host, "0.0.0.0") == 0)
			host = "127.0.0.1";
		else if (strcmp(host, "::") == 0)
			host = "::1";
		/* numeric addresses only: a name would need a resolver that may block */
		if (inet_pton(AF_INET, host, &in4->sin_addr) == 1)
		{
			in4->sin_family = AF_INET;
			in4->sin_port = pg_hton16((uint16) PostPortNumber);
			t->len = sizeof(*in4);
			found = true;
		}
		else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1)
		{
			in6->sin6_family = AF_INET6;
			in6->sin6_port = pg_hton16((uint16) PostPortNumber);
			t->len = sizeof(*in6);
			found = true;
		}
		if (found)
			snprintf(t->text, sizeof(t->text), "%s port %d", host, PostPortNumber);
		else
			snprintf(t->text, sizeof(t->text),
					 "none: listen_addresses names \"%s\", which the probe does not resolve", host);
	}
	/* SplitGUCList's elements point into raw: the list only */
	list_free(hosts);
	pfree(raw);
	return found;
}

static void
close_probe(void)
{
	if (sock != PGINVALID_SOCKET)
		closesocket(sock);
	sock = PGINVALID_SOCKET;
	state = PROBE_IDLE;
}

static void
answered(TimestampTz now)
{
	acc.last_answer_at = now;
	acc.last_answer_us = now - attempt_at;
	acc.unanswered_since = 0;
	acc.last_error[0] = '\0';
	close_probe();
}

/*
 * An attempt failed: the next one comes within half the timeout, so that
 * one transient failure (a fork that failed once) is not judged for a whole
 * long interval.
 */
static void
failed(const char *why)
{
	TimestampTz retry = TimestampTzPlusMilliseconds(attempt_at, ph_accept_timeout_ms / 2);

	acc.failures++;
	/* server text and strerror(): valid UTF-8, whole characters */
	ph_clean_text(acc.last_error, sizeof(acc.last_error), why, strlen(why));
	if (acc.unanswered_since == 0)
		acc.unanswered_since = attempt_at;
	if (retry < next_at)
		next_at = retry;
	close_probe();
}

static void
failed_errno(const char *what, int err)
{
	char		why[sizeof(acc.last_error)];

	snprintf(why, sizeof(why), "%s: %s", what, strerror(err));
	failed(why);
}

/* An SSLRequest: length 8, then the SSL negotiation code. */
static void
send_request(void)
{
	uint32		request[2];
	ssize_t		n;

	request[0] = pg_hton32(8);
	request[1] = pg_hton32(NEGOTIATE_SSL_CODE);
	n = send(sock, request, sizeof(request), MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == (ssize_t) sizeof(request))
		state = PROBE_SENT;
	else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		state = PROBE_CONNECTING;	/* not writable yet: try again */
	else if (n < 0)
		failed_errno("could not send the request", errno);
	else
		failed("could not send the request whole");
}

static void
start_attempt(TimestampTz now)
{
	ProbeTarget t;
	int			flags;

	memset(&t, 0, sizeof(t));
	if (!unix_target(&t) && !tcp_target(&t))
	{
		acc.on = false;
		if (t.text[0] == '\0')
			strlcpy(t.text, "none: unix_socket_directories and listen_addresses are empty",
					sizeof(t.text));
		ph_clean_text(acc.target, sizeof(acc.target), t.text, strlen(t.text));
		return;
	}
	acc.on = true;
	/* a directory's name is any bytes: valid UTF-8 for the doors */
	ph_clean_text(acc.target, sizeof(acc.target), t.text, strlen(t.text));
	acc.probes++;
	attempt_at = now;
	sock = socket(t.addr.ss_family, SOCK_STREAM, 0);
	if (sock == PGINVALID_SOCKET)
	{
		failed_errno("could not create a socket", errno);
		return;
	}
	flags = fcntl(sock, F_GETFL);
	if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0 ||
		fcntl(sock, F_SETFD, FD_CLOEXEC) < 0)
	{
		failed_errno("could not make the socket non-blocking", errno);
		return;
	}
	if (connect(sock, (struct sockaddr *) &t.addr, t.len) == 0)
		send_request();
	else if (errno == EINPROGRESS || errno == EINTR)
		state = PROBE_CONNECTING;
	else if (errno == EAGAIN)
		/* a Unix socket whose listen queue is full */
		failed("the listen queue is full (EAGAIN): the postmaster is not accepting");
	else
		failed_errno("could not connect", errno);
}

/* A connect() in progress: done, failed, or not yet (poll without waiting). */
static void
check_connected(void)
{
	struct pollfd p = {.fd = sock,.events = POLLOUT};
	int			err = 0;
	socklen_t	len = sizeof(err);

	if (poll(&p, 1, 0) <= 0)
		return;
	if (getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0)
		failed_errno("could not connect", err);
	else
		send_request();
}

/*
 * The backend's answer: 'N' or 'S' (or 'G'), a byte; 'E' and a message
 * when the postmaster could not start one (fork failed, out of memory).
 */
static void
read_answer(TimestampTz now)
{
	char		buf[256];
	ssize_t		n = recv(sock, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0)
		failed_errno("the connection failed before an answer", errno);
	else if (n == 0)
		failed("the server closed the connection without answering");
	else if (buf[0] == 'N' || buf[0] == 'S' || buf[0] == 'G')
		answered(now);
	else if (buf[0] == 'E')
	{
		char		why[sizeof(acc.last_error)];
		const char *msg = "";

		/*
		 * The postmaster's own error when it could not start a backend
		 * ("could not fork new process for connection: ...") is 'E' and a
		 * plain text; a backend's is 'E', a length (its first byte 0), then
		 * fields "<code>text\0".
		 */
		buf[n] = '\0';
		if (n > 1 && buf[1] != '\0')
			msg = buf + 1;
		else
			for (ssize_t i = 5; i < n; i += strlen(buf + i) + 1)
				if (buf[i] == 'M')
				{
					msg = buf + i + 1;
					break;
				}
		snprintf(why, sizeof(why), "the server answered with an error%s%s", msg[0] ? ": " : "", msg);
		/* the plain text ends with a newline */
		if (strlen(why) > 0 && why[strlen(why) - 1] == '\n')
			why[strlen(why) - 1] = '\0';
		failed(why);
	}
	else
		failed("the server answered something that is not PostgreSQL's");
}

/*
 * Drive the probe: read an answer, finish a connect, give up on an attempt
 * too old, start the next one when it is due.  Never waits.
 */
void
ph_accept_probe_step(TimestampTz now)
{
	if (ph_accept_probe_interval_ms <= 0)
	{
		close_probe();
		memset(&acc, 0, sizeof(acc));
		strlcpy(acc.target, "off (pg_health.accept_probe_interval = 0)", sizeof(acc.target));
		return;
	}
	if (state == PROBE_CONNECTING)
		check_connected();
	if (state == PROBE_SENT)
		read_answer(now);
	if (state != PROBE_IDLE &&
		now - attempt_at > (int64) PH_ACCEPT_ABANDON_FACTOR * ph_accept_timeout_ms * 1000)
	{
		char		why[sizeof(acc.last_error)];

		snprintf(why, sizeof(why), "no answer in %d s: the postmaster did not accept the "
				 "connection, or the backend it started did not run",
				 PH_ACCEPT_ABANDON_FACTOR * ph_accept_timeout_ms / 1000);
		failed(why);
	}
	if (state == PROBE_IDLE && now >= next_at)
	{
		next_at = TimestampTzPlusMilliseconds(now, ph_accept_probe_interval_ms);
		start_attempt(now);
		if (state == PROBE_SENT)
			read_answer(now);
	}
	/* a clock set back must not hold the probe until it catches up */
	if (next_at > TimestampTzPlusMilliseconds(now, ph_accept_probe_interval_ms))
		next_at = now;
}

/*
 * The probe's socket and what to wait for (WL_SOCKET_*), or
 * PGINVALID_SOCKET; *wait_ms is the time until the probe next needs a step.
 */
pgsocket
ph_accept_probe_socket(TimestampTz now, int *events, long *wait_ms)
{
	*events = state == PROBE_CONNECTING ? WL_SOCKET_WRITEABLE :
		state == PROBE_SENT ? WL_SOCKET_READABLE : 0;
	if (ph_accept_probe_interval_ms <= 0)
		*wait_ms = -1;
	else if (state == PROBE_IDLE)
		*wait_ms = Max(TimestampDifferenceMilliseconds(now, next_at), 0);
	else
		/* the socket wakes it; this only gives up on it in time */
		*wait_ms = 1000;
	return state == PROBE_IDLE ? PGINVALID_SOCKET : sock;
}

/* What the probe knows, for a sample. */
void
ph_accept_probe_read(PhAccept *out)
{
	*out = acc;
	if (out->unanswered_since == 0 && state != PROBE_IDLE)
		out->unanswered_since = attempt_at;
}

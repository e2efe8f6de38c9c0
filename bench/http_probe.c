/*
 * http_probe.c -- probe an HTTP (or raw TCP) health endpoint the way a
 * Kubernetes probe or a load balancer does: connect, send one request, read
 * the whole answer, close; in a loop, from C concurrent threads.
 *
 *   http_probe -p PORT [-h 127.0.0.1] [-P /ready] [-c CLIENTS]
 *              [-T SECONDS | -n REQUESTS] [-r]
 *
 * -r sends nothing and just reads (for bgw_replstatus, which answers on
 * connect).  Prints one line:
 *   requests=N ok=N http_2xx=N http_5xx=N errors=N rps=R p50_ms=.. p99_ms=.. max_ms=..
 * "ok" counts answers that arrived whole (any status); errors are failed
 * connects, resets and timeouts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *host = "127.0.0.1";
static int	port = 0;
static const char *path = "/ready";
static int	clients = 1;
static double seconds = 0;
static long total = 0;
static int	raw = 0;

typedef struct Stats
{
	double	   *lat;			/* ms */
	long		n,
				cap,
				ok,
				s2xx,
				s5xx,
				errors;
} Stats;

static long issued = 0;
static pthread_mutex_t issue_lock = PTHREAD_MUTEX_INITIALIZER;
static double deadline = 0;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
take_one(void)
{
	int			go;

	if (seconds > 0)
		return now_s() < deadline;
	pthread_mutex_lock(&issue_lock);
	go = issued < total;
	if (go)
		issued++;
	pthread_mutex_unlock(&issue_lock);
	return go;
}

static int
probe_once(const struct sockaddr_in *sa, const char *req, size_t reqlen, int *status)
{
	int			fd = socket(AF_INET, SOCK_STREAM, 0);
	char		buf[65536];
	size_t		got = 0;
	ssize_t		n;
	struct timeval tv = {5, 0};
	int			one = 1;

	*status = 0;
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *) sa, sizeof(*sa)) != 0)
	{
		close(fd);
		return -1;
	}
	if (reqlen > 0 && send(fd, req, reqlen, MSG_NOSIGNAL) != (ssize_t) reqlen)
	{
		close(fd);
		return -1;
	}
	while ((n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
	{
		got += n;
		if (got >= sizeof(buf) - 1)
			break;
	}
	close(fd);
	if (n < 0 || got == 0)
		return -1;
	buf[got] = '\0';
	if (!raw && sscanf(buf, "HTTP/1.%*d %d", status) != 1)
		return -1;
	return 0;
}

static void *
worker(void *arg)
{
	Stats	   *st = arg;
	struct sockaddr_in sa;
	char		req[512];
	size_t		reqlen = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (!raw)
		reqlen = snprintf(req, sizeof(req),
						  "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: http_probe\r\n"
						  "Accept: */*\r\nConnection: close\r\n\r\n", path, host);
	while (take_one())
	{
		double		t0 = now_s();
		int			status;
		int			rc = probe_once(&sa, req, reqlen, &status);
		double		ms = (now_s() - t0) * 1000.0;

		if (st->n == st->cap)
		{
			st->cap = st->cap ? st->cap * 2 : 4096;
			st->lat = realloc(st->lat, st->cap * sizeof(double));
		}
		st->lat[st->n++] = ms;
		if (rc != 0)
			st->errors++;
		else
		{
			st->ok++;
			if (status >= 200 && status < 300)
				st->s2xx++;
			else if (status >= 500)
				st->s5xx++;
		}
	}
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int			opt;
	pthread_t  *th;
	Stats	   *st;
	Stats		all = {0};
	double		t0,
				elapsed;

	while ((opt = getopt(argc, argv, "h:p:P:c:T:n:r")) != -1)
	{
		switch (opt)
		{
			case 'h':
				host = optarg;
				break;
			case 'p':
				port = atoi(optarg);
				break;
			case 'P':
				path = optarg;
				break;
			case 'c':
				clients = atoi(optarg);
				break;
			case 'T':
				seconds = atof(optarg);
				break;
			case 'n':
				total = atol(optarg);
				break;
			case 'r':
				raw = 1;
				break;
			default:
				fprintf(stderr, "usage: %s -p PORT [-h HOST] [-P PATH] [-c CLIENTS] [-T SECONDS | -n REQUESTS] [-r]\n", argv[0]);
				return 2;
		}
	}
	if (port <= 0 || clients <= 0 || (seconds <= 0 && total <= 0))
	{
		fprintf(stderr, "%s: need -p and one of -T or -n\n", argv[0]);
		return 2;
	}
	th = calloc(clients, sizeof(pthread_t));
	st = calloc(clients, sizeof(Stats));
	t0 = now_s();
	deadline = t0 + seconds;
	for (int i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, worker, &st[i]);
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	elapsed = now_s() - t0;

	for (int i = 0; i < clients; i++)
	{
		all.ok += st[i].ok;
		all.s2xx += st[i].s2xx;
		all.s5xx += st[i].s5xx;
		all.errors += st[i].errors;
		all.lat = realloc(all.lat, (all.n + st[i].n + 1) * sizeof(double));
		memcpy(all.lat + all.n, st[i].lat, st[i].n * sizeof(double));
		all.n += st[i].n;
	}
	qsort(all.lat, all.n, sizeof(double), cmp_double);
	printf("requests=%ld ok=%ld http_2xx=%ld http_5xx=%ld errors=%ld rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
		   all.n, all.ok, all.s2xx, all.s5xx, all.errors, all.n / elapsed,
		   all.n ? all.lat[all.n / 2] : 0, all.n ? all.lat[(long) (all.n * 0.99)] : 0,
		   all.n ? all.lat[all.n - 1] : 0);
	return all.errors > 0 ? 1 : 0;
}

/*
 * http_probe.c -- probe an HTTP (or raw TCP) health endpoint the way a
 * Kubernetes probe or a load balancer does: connect, send one request, read
 * the whole answer, close; in a loop, from C concurrent threads.
 *
 *   http_probe -p PORT [-h 127.0.0.1] [-P /ready] [-c CLIENTS]
 *              [-T SECONDS | -n REQUESTS] [-r] [-i MS] [-o FILE]
 *   http_probe -x [-c CLIENTS] [-T SECONDS | -n REQUESTS] [-i MS] [-o FILE] -- COMMAND [ARGS...]
 *   http_probe -w -i MS [-T SECONDS | -n REQUESTS] [-o FILE]
 *
 * -r sends nothing and just reads (for bgw_replstatus, which answers on
 * connect).  -i paces each client: one probe every MS milliseconds, as a
 * prober with a period does (a probe that takes longer delays the next; no
 * catching up), instead of back to back.  -x runs COMMAND as the probe (an
 * exec probe: pg_isready, psql -c ...), its output discarded: exit status 0
 * counts as 2xx, any other as 5xx.  -w probes nothing: it sleeps until each
 * probe's time and measures how late it wakes up, the delay any process of
 * normal priority waits for a CPU here (a prober pays it on every wake-up).
 * -o appends every probe's time (ms) to FILE, one a line.  -S asks the
 * kernel for scheduling slices of US microseconds (Linux 6.12+, EEVDF:
 * sched_attr.sched_runtime; a shorter slice lets a waking task preempt
 * sooner, at the same priority); ignored where it cannot be set.
 * Prints one line:
 *   requests=N ok=N http_2xx=N http_5xx=N errors=N rps=R p50_ms=.. p99_ms=.. max_ms=..
 * "ok" counts answers that arrived whole (any status); errors are failed
 * connects, resets and timeouts (or commands that could not be run).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *host = "127.0.0.1";
static int	port = 0;
static const char *path = "/ready";
static int	clients = 1;
static double seconds = 0;
static long total = 0;
static int	raw = 0;
static double interval_s = 0;	/* -i: the pace; 0 = back to back */
static char **command = NULL;	/* -x: the command to run */
static int	wake_only = 0;		/* -w */
static const char *out_file = NULL; /* -o */
static long slice_us = 0;		/* -S */

/* Ask for scheduling slices of slice_us for the calling thread (EEVDF). */
static void
set_slice(void)
{
#ifdef SYS_sched_setattr
	struct
	{
		unsigned int size,
					policy;
		unsigned long long flags;
		int			nice;
		unsigned int priority;
		unsigned long long runtime,
					deadline,
					period;
	}			attr;

	if (slice_us <= 0)
		return;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.policy = 0;			/* SCHED_OTHER, the priority unchanged */
	attr.runtime = (unsigned long long) slice_us * 1000;
	if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0)
		perror("sched_setattr (-S ignored)");
#endif
}

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

/* Run the command once, output to /dev/null; its exit status, -1 if it could not run. */
static int
exec_once(int *status)
{
	posix_spawn_file_actions_t fa;
	pid_t		pid;
	int			wst,
				rc;

	*status = 0;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, command[0], &fa, NULL, command, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	while (waitpid(pid, &wst, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(wst))
		return -1;
	/* as an HTTP status: exit 0 answers yes, anything else no */
	*status = WEXITSTATUS(wst) == 0 ? 200 : 503;
	return 0;
}

static void
sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t) t;
	ts.tv_nsec = (long) ((t - ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
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
	double		due = now_s();

	set_slice();
	while (take_one())
	{
		double		t0;
		int			status = 200;
		int			rc = 0;
		double		ms;

		if (interval_s > 0)
		{
			sleep_until(due);
			due += interval_s;
		}
		t0 = now_s();
		if (wake_only)
			ms = (t0 - (due - interval_s)) * 1000.0;	/* late by */
		else
		{
			rc = command ? exec_once(&status) : probe_once(&sa, req, reqlen, &status);
			ms = (now_s() - t0) * 1000.0;
		}
		if (interval_s > 0 && due < now_s())
			due = now_s();		/* late: the next one a period from now, no burst */

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

	while ((opt = getopt(argc, argv, "h:p:P:c:T:n:ri:xwo:S:")) != -1)
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
			case 'i':
				interval_s = atof(optarg) / 1000.0;
				break;
			case 'x':
				command = argv;	/* set below, after the options */
				break;
			case 'w':
				wake_only = 1;
				break;
			case 'o':
				out_file = optarg;
				break;
			case 'S':
				slice_us = atol(optarg);
				break;
			default:
				fprintf(stderr, "usage: %s -p PORT [-h HOST] [-P PATH] [-c CLIENTS] [-T SECONDS | -n REQUESTS] [-r] [-i MS] [-o FILE]\n"
						"       %s -x [-c CLIENTS] [-T SECONDS | -n REQUESTS] [-i MS] [-o FILE] -- COMMAND [ARGS...]\n"
						"       %s -w -i MS [-T SECONDS | -n REQUESTS] [-o FILE]\n", argv[0], argv[0], argv[0]);
				return 2;
		}
	}
	if (command)
		command = optind < argc ? argv + optind : NULL;
	if (clients <= 0 || (seconds <= 0 && total <= 0) ||
		(command == NULL && !wake_only && port <= 0) || (wake_only && interval_s <= 0))
	{
		fprintf(stderr, "%s: need one of -T or -n, and -p (a port), -x with a command, or -w with -i\n",
				argv[0]);
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
	if (out_file)
	{
		FILE	   *f = fopen(out_file, "a");

		if (f == NULL)
		{
			perror(out_file);
			return 2;
		}
		for (long i = 0; i < all.n; i++)
			fprintf(f, "%.3f\n", all.lat[i]);
		fclose(f);
	}
	qsort(all.lat, all.n, sizeof(double), cmp_double);
	printf("requests=%ld ok=%ld http_2xx=%ld http_5xx=%ld errors=%ld rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
		   all.n, all.ok, all.s2xx, all.s5xx, all.errors, all.n / elapsed,
		   all.n ? all.lat[all.n / 2] : 0, all.n ? all.lat[(long) (all.n * 0.99)] : 0,
		   all.n ? all.lat[all.n - 1] : 0);
	return all.errors > 0 ? 1 : 0;
}

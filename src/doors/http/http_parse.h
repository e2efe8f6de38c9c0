/*
 * http_parse.h -- the HTTP request parser of pg_health's endpoint.
 *
 * Plain C with no PostgreSQL dependency, so that the fuzz target
 * (test/fuzz/fuzz_http.c) can link it alone.  It reads what a probe sends:
 * a request line and headers, which it checks but does not keep.
 */
#ifndef PH_HTTP_PARSE_H
#define PH_HTTP_PARSE_H

#include <stddef.h>

#define PH_HTTP_MAX_REQUEST	4096	/* request line and headers, bytes */
#define PH_HTTP_MAX_LINE	1024	/* the request line, bytes */

/*
 * The largest limits a query accepts; more is out of range (400).  Both stay
 * far from overflow wherever they are used (a limit in bytes is compared
 * with a WAL distance; a delay is multiplied by 1000 into microseconds):
 * 2^62 bytes is a quarter of what a 64-bit LSN addresses, and 10 years in
 * microseconds (3.2e14) is nowhere near INT64_MAX.  No useful replay limit
 * comes close to either.
 */
#define PH_HTTP_MAX_LAG_BYTES	(1LL << 62)	/* 4194304 TB */
#define PH_HTTP_MAX_DELAY_MS	(3650LL * 86400 * 1000)	/* 3650 days */

/* A role or database name (?user=, ?database=): NAMEDATALEN - 1 bytes */
#define PH_HTTP_MAX_NAME	63

typedef enum PhHttpParse
{
	PH_HTTP_INCOMPLETE = 0,		/* need more bytes */
	PH_HTTP_OK,					/* a complete, acceptable request */
	PH_HTTP_BAD_REQUEST,		/* 400 */
	PH_HTTP_NOT_FOUND,			/* 404 */
	PH_HTTP_BAD_METHOD,			/* 405 */
	PH_HTTP_URI_TOO_LONG,		/* 414 */
	PH_HTTP_HEADERS_TOO_LARGE,	/* 431 */
	PH_HTTP_BAD_QUERY,			/* 400: a query parameter the path does not take */
	PH_HTTP_BAD_VERSION			/* 505: HTTP/x.y, but neither 1.0 nor 1.1 */
} PhHttpParse;
#define PH_HTTP_PARSE_LAST PH_HTTP_BAD_VERSION

typedef enum PhHttpPath
{
	PH_PATH_NONE = 0,
	PH_PATH_LIVE,
	PH_PATH_READY,
	PH_PATH_STARTUP,
	PH_PATH_HEALTH,
	PH_PATH_PRIMARY,
	PH_PATH_REPLICA,
	PH_PATH_METRICS,
	PH_PATH_STATUS				/* / and /status: the status page */
} PhHttpPath;

typedef enum PhHttpRoleArg
{
	PH_ROLE_ARG_NONE = 0,
	PH_ROLE_ARG_PRIMARY,
	PH_ROLE_ARG_REPLICA
} PhHttpRoleArg;

/* the query parameter a PH_HTTP_BAD_QUERY is about */
typedef enum PhHttpArg
{
	PH_ARG_NONE = 0,			/* one the path does not take, or an unknown one */
	PH_ARG_ROLE,				/* role=: neither primary nor replica */
	PH_ARG_LAG,					/* lag=: malformed */
	PH_ARG_LAG_RANGE,			/* lag=: over PH_HTTP_MAX_LAG_BYTES */
	PH_ARG_DELAY,				/* delay=: malformed (or without a unit) */
	PH_ARG_DELAY_RANGE,			/* delay=: over PH_HTTP_MAX_DELAY_MS */
	PH_ARG_NAME_EMPTY,			/* user= or database=: empty */
	PH_ARG_NAME_LONG,			/* ...: over PH_HTTP_MAX_NAME bytes decoded */
	PH_ARG_NAME_ENCODING,		/* ...: a bad %-escape, a NUL, or not UTF-8 */
	PH_ARG_NAME_REPEATED,		/* ...: given twice */
	PH_ARG_REFRESH				/* refresh=: not whole seconds in 1..PH_HTTP_MAX_REFRESH_S */
} PhHttpArg;
#define PH_ARG_LAST PH_ARG_REFRESH

/* the longest auto-refresh period the status page takes (?refresh=) */
#define PH_HTTP_MAX_REFRESH_S 3600

typedef struct PhHttpRequest
{
	int			head;			/* HEAD: no body, whatever the verdict */
	PhHttpPath	path;
	PhHttpRoleArg role;			/* ?role= */
	long long	lag_bytes;		/* ?lag=16MB; -1: none; at most PH_HTTP_MAX_LAG_BYTES */
	long long	delay_ms;		/* ?delay=10s; -1: none; at most PH_HTTP_MAX_DELAY_MS */
	char		user[PH_HTTP_MAX_NAME + 1];	/* ?user=, decoded; "": none */
	char		database[PH_HTTP_MAX_NAME + 1];	/* ?database=, decoded; "": none */
	int			refresh_s;		/* ?refresh=<seconds>; 0: none */
	PhHttpArg	bad_arg;		/* for PH_HTTP_BAD_QUERY: which parameter, and why */
	int			bad_is_database;	/* for PH_ARG_NAME_*: database=, not user= */
	size_t		length;			/* bytes of request line and headers */
	int			body;			/* Content-Length (not 0) or Transfer-Encoding */
	int			gzip;			/* Accept-Encoding takes gzip */
} PhHttpRequest;

/*
 * Parse buf[0..len).  Returns PH_HTTP_INCOMPLETE until the blank line that
 * ends the headers has arrived (or a limit is exceeded), then the verdict;
 * req is filled for PH_HTTP_OK, and bad_arg (with path) for
 * PH_HTTP_BAD_QUERY; head for every verdict, so that no answer to a HEAD
 * carries a body (RFC 9110, 9.3.2).  Never reads past len.
 */
extern PhHttpParse ph_http_parse(const char *buf, size_t len, PhHttpRequest *req);

/*
 * Does buf[0..len), a request or its beginning, say HEAD?  As soon as the
 * method and its space have arrived; methods are case-sensitive.
 */
extern int	ph_http_is_head(const char *buf, size_t len);

#endif							/* PH_HTTP_PARSE_H */

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

typedef enum PhHttpParse
{
	PH_HTTP_INCOMPLETE = 0,		/* need more bytes */
	PH_HTTP_OK,					/* a complete, acceptable request */
	PH_HTTP_BAD_REQUEST,		/* 400 */
	PH_HTTP_NOT_FOUND,			/* 404 */
	PH_HTTP_BAD_METHOD,			/* 405 */
	PH_HTTP_URI_TOO_LONG,		/* 414 */
	PH_HTTP_HEADERS_TOO_LARGE,	/* 431 */
	PH_HTTP_BAD_QUERY			/* 400: a query parameter the path does not take */
} PhHttpParse;
#define PH_HTTP_PARSE_LAST PH_HTTP_BAD_QUERY

typedef enum PhHttpPath
{
	PH_PATH_NONE = 0,
	PH_PATH_LIVE,
	PH_PATH_READY,
	PH_PATH_STARTUP,
	PH_PATH_HEALTH,
	PH_PATH_PRIMARY,
	PH_PATH_REPLICA,
	PH_PATH_METRICS
} PhHttpPath;

typedef enum PhHttpRoleArg
{
	PH_ROLE_ARG_NONE = 0,
	PH_ROLE_ARG_PRIMARY,
	PH_ROLE_ARG_REPLICA
} PhHttpRoleArg;

typedef struct PhHttpRequest
{
	int			head;			/* HEAD: no body */
	PhHttpPath	path;
	PhHttpRoleArg role;			/* ?role= */
	long long	lag_bytes;		/* ?lag=16MB; -1: none */
	long long	delay_ms;		/* ?delay=10s; -1: none */
	size_t		length;			/* bytes of request line and headers */
	int			body;			/* Content-Length (not 0) or Transfer-Encoding */
} PhHttpRequest;

/*
 * Parse buf[0..len).  Returns PH_HTTP_INCOMPLETE until the blank line that
 * ends the headers has arrived (or a limit is exceeded), then the verdict;
 * req is filled for PH_HTTP_OK.  Never reads past len.
 */
extern PhHttpParse ph_http_parse(const char *buf, size_t len, PhHttpRequest *req);

#endif							/* PH_HTTP_PARSE_H */

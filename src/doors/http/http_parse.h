/*
 * http_parse.h -- the HTTP request parser of pg_health's endpoint, and the
 * route table it matches requests with (http_parse.c).
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
#define PH_HTTP_MAX_LAG_BYTES	(1LL << 62) /* 4194304 TB */
#define PH_HTTP_MAX_DELAY_MS	(3650LL * 86400 * 1000) /* 3650 days */

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
	PH_HTTP_BAD_QUERY,			/* 400: a query parameter the path does not
								 * take */
	PH_HTTP_BAD_VERSION			/* 505: HTTP/x.y, but neither 1.0 nor 1.1 */
} PhHttpParse;
#define PH_HTTP_PARSE_LAST PH_HTTP_BAD_VERSION

/*
 * The routes: what a path answers.  Several paths may share one (/ and
 * /status); each has a row of ph_http_routes, indexed by this id, and a
 * handler in http_answers.c's table, indexed the same way.
 */
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
	PH_PATH_STATUS,				/* / and /status: the status page */
	PH_PATH_NODE,				/* this node's identity document */
	PH_PATH_READ_WRITE,			/* Patroni's /read-write and /leader */
	PH_PATH_READ_ONLY,			/* Patroni's /read-only */
	PH_PATH_CLUSTER,			/* the cluster as this node sees it */
	PH_PATH_SYNC,				/* Patroni's /sync: a synchronous standby */
	PH_PATH_ASYNC				/* Patroni's /async: an asynchronous one */
} PhHttpPath;
#define PH_PATH_LAST PH_PATH_ASYNC

/* methods, as bits of PhHttpRoute.methods */
#define PH_METHOD_GET		1
#define PH_METHOD_HEAD		2
#define PH_METHOD_OPTIONS	4	/* as Patroni answers it: HEAD's answer */

/* query parameters, as bits of PhHttpRoute.params (ph_http_params reads each) */
#define PH_PARAM_ROLE		1	/* role=primary|replica */
#define PH_PARAM_LAG		2	/* lag=<size> */
#define PH_PARAM_DELAY		4	/* delay=<duration> */
#define PH_PARAM_USER		8	/* user=<role> */
#define PH_PARAM_DATABASE	16	/* database=<name> */
#define PH_PARAM_REFRESH	32	/* refresh=<seconds> */

#define PH_ROUTE_MAX_PATHS	2

/*
 * One route: everything about it but the code that builds its answer.  The
 * parser matches paths, methods and parameters with it; the answers
 * (http_answers.c) take the content type and gzip from it, and write the
 * help texts from it (the 404's list of paths, the 400's list of parameters,
 * a 405's Allow).  So a new path is a row here and a handler there.
 */
typedef struct PhHttpRoute
{
	const char *paths[PH_ROUTE_MAX_PATHS];	/* the first is the one the 404
											 * lists */
	int			methods;		/* PH_METHOD_* it answers */
	int			params;			/* PH_PARAM_* its query may hold */
	const char *content_type;
	int			gzip;			/* a body of 1 kB or more is gzipped for a
								 * client that takes it */
	const char *note;			/* said after its path in the 404's list, or
								 * NULL */
} PhHttpRoute;

/* indexed by PhHttpPath; row PH_PATH_NONE is empty */
extern const PhHttpRoute ph_http_routes[PH_PATH_LAST + 1];

/* The methods any route answers (for an Allow without a route). */
extern int	ph_http_all_methods(void);

/* The methods a request line may name; the last row's name is NULL. */
typedef struct PhHttpMethod
{
	const char *name;			/* case-sensitive (RFC 9110, 9.1) */
	int			bit;			/* PH_METHOD_* */
} PhHttpMethod;

extern const PhHttpMethod ph_http_methods[];

typedef enum PhHttpRoleArg
{
	PH_ROLE_ARG_NONE = 0,
	PH_ROLE_ARG_PRIMARY,
	PH_ROLE_ARG_REPLICA
} PhHttpRoleArg;

/* the query parameter a PH_HTTP_BAD_QUERY is about */
typedef enum PhHttpArg
{
	PH_ARG_NONE = 0,			/* one the path does not take, or an unknown
								 * one */
	PH_ARG_ROLE,				/* role=: neither primary nor replica */
	PH_ARG_LAG,					/* lag=: malformed */
	PH_ARG_LAG_RANGE,			/* lag=: over PH_HTTP_MAX_LAG_BYTES */
	PH_ARG_DELAY,				/* delay=: malformed (or without a unit) */
	PH_ARG_DELAY_RANGE,			/* delay=: over PH_HTTP_MAX_DELAY_MS */
	PH_ARG_NAME_EMPTY,			/* user= or database=: empty */
	PH_ARG_NAME_LONG,			/* ...: over PH_HTTP_MAX_NAME bytes decoded */
	PH_ARG_NAME_ENCODING,		/* ...: a bad %-escape, a NUL, or not UTF-8 */
	PH_ARG_NAME_REPEATED,		/* ...: given twice */
	PH_ARG_REFRESH				/* refresh=: not whole seconds in
								 * 1..PH_HTTP_MAX_REFRESH_S */
}			PhHttpArg;
#define PH_ARG_LAST PH_ARG_REFRESH

/* the longest auto-refresh period the status page takes (?refresh=) */
#define PH_HTTP_MAX_REFRESH_S 3600

typedef struct PhHttpRequest
{
	int			head;			/* HEAD: no body, whatever the verdict */
	int			options;		/* OPTIONS: HEAD's answer, but Content-Length:
								 * 0 */
	PhHttpPath	path;
	PhHttpRoleArg role;			/* ?role= */
	long long	lag_bytes;		/* ?lag=16MB; -1: none; at most
								 * PH_HTTP_MAX_LAG_BYTES */
	long long	delay_ms;		/* ?delay=10s; -1: none; at most
								 * PH_HTTP_MAX_DELAY_MS */
	char		user[PH_HTTP_MAX_NAME + 1]; /* ?user=, decoded; "": none */
	char		database[PH_HTTP_MAX_NAME + 1]; /* ?database=, decoded; "":
												 * none */
	int			refresh_s;		/* ?refresh=<seconds>; 0: none */
	PhHttpArg	bad_arg;		/* for PH_HTTP_BAD_QUERY: which parameter, and
								 * why */
	int			bad_is_database;	/* for PH_ARG_NAME_*: database=, not user= */
	size_t		length;			/* bytes of request line and headers */
	int			body;			/* Content-Length (not 0) or Transfer-Encoding */
	int			gzip;			/* Accept-Encoding takes gzip */
} PhHttpRequest;

/*
 * The query parameters a route may take, in the order the 400's help names
 * them; the last row's name is NULL.  read takes the value (after "=") into
 * the request: PH_ARG_NONE when it is good, else what is wrong with it.
 */
typedef struct PhHttpParam
{
	const char *name;			/* before the "=" */
	int			bit;			/* PH_PARAM_* */
	const char *form;			/* how the help writes it the first time */
				PhHttpArg(*read) (const char *v, size_t len, PhHttpRequest *req);
} PhHttpParam;

extern const PhHttpParam ph_http_params[];

/*
 * Parse buf[0..len).  Returns PH_HTTP_INCOMPLETE until the blank line that
 * ends the headers has arrived (or a limit is exceeded), then the verdict;
 * req is filled for PH_HTTP_OK, and bad_arg (with path) for
 * PH_HTTP_BAD_QUERY; path for a PH_HTTP_BAD_METHOD of a known path (its
 * route's methods are the ones to allow), PH_PATH_NONE for a method no route
 * answers; head for every verdict, so that no answer to a HEAD carries a
 * body (RFC 9110, 9.3.2).  Never reads past len.
 */
extern PhHttpParse ph_http_parse(const char *buf, size_t len, PhHttpRequest *req);

/*
 * Does buf[0..len), a request or its beginning, say HEAD?  As soon as the
 * method and its space have arrived; methods are case-sensitive.
 */
extern int	ph_http_is_head(const char *buf, size_t len);

#endif							/* PH_HTTP_PARSE_H */

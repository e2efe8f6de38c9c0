/*
 * fuzz_http.c -- libFuzzer target for the HTTP request parser
 * (src/doors/http/http_parse.c), which reads bytes from the network in the
 * worker that every probe depends on.  Run by test/fuzz/run.sh; see
 * docs/testing.md.
 *
 * Besides the sanitizers' own checks, it asserts what the parser promises:
 * a known verdict; for an accepted request a known path, a length within
 * what was read, replay limits absent or within their maxima (so that no
 * product of them can overflow), and role and database names that are
 * what a startup packet may carry (at most 63 bytes of UTF-8, no NUL,
 * terminated), and a refresh period only on the status page, within 1 to
 * 3600 s and equal to the one refresh= of the query read independently;
 * that the route table holds: the path of an origin-form request is one of
 * its route's paths, its method one of its route's, and a parameter given
 * only where its route takes it; for a bad query a known parameter named.  And what RFC 9110 and 9112 ask, each
 * read here independently of the parser: HEAD is known for every verdict,
 * so that no answer to one carries a body (RFC 9110, 9.3.2); a request the
 * parser gets as far as its method and path carries one Host if it is
 * HTTP/1.1, never two (RFC 9112, 3.2); its target is origin-form or
 * absolute-form http(s) with a host and no userinfo, and an absolute-form
 * one means what the same request in origin-form means (RFC 9112, 3.2.2);
 * and only HTTP/1.0 and HTTP/1.1 get that far, while a 505 is for a
 * well-formed HTTP/DIGIT.DIGIT of another version (RFC 9110, 15.6.6).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "doors/http/http_parse.h"

/* A name as the endpoint may pass it on: terminated, short, well-formed UTF-8. */
static int
sound_name(const char *name)
{
	size_t		len = strnlen(name, PH_HTTP_MAX_NAME + 1);
	const unsigned char *s = (const unsigned char *) name;

	if (len > PH_HTTP_MAX_NAME)
		return 0;
	for (size_t i = 0; i < len;)
	{
		size_t		n = s[i] < 0x80 ? 0 : s[i] >= 0xf0 ? 3 : s[i] >= 0xe0 ? 2 : s[i] >= 0xc2 ? 1 : 99;

		if (n == 99 || s[i] > 0xf4 || (n > 0 && i + n >= len))
			return 0;
		for (size_t k = 1; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += n + 1;
	}
	return 1;
}

/* Does buf[0..len) hold the header name Accept-Encoding (any case)? */
static int
has_accept_encoding(const char *buf, size_t len)
{
	static const char name[] = "\naccept-encoding:";

	for (size_t i = 0; i + sizeof(name) - 1 <= len; i++)
		if (strncasecmp(buf + i, name, sizeof(name) - 1) == 0)
			return 1;
	return 0;
}

/*
 * The refresh= of the request line's query, read here independently of the
 * parser: its digits as a number, 0 when there is none (or more than one).
 */
static int
refresh_of(const char *buf, size_t len)
{
	const char *eol = memchr(buf, '\n', len);
	const char *q = memchr(buf, '?', eol ? (size_t) (eol - buf) : len);
	const char *sp;
	int			found = 0;
	long		v = 0;

	if (q == NULL || eol == NULL)
		return 0;
	sp = memchr(q, ' ', (size_t) (eol - q));
	if (sp == NULL)
		return 0;
	for (const char *p = q + 1; p < sp;)
	{
		const char *amp = memchr(p, '&', (size_t) (sp - p));
		const char *end = amp ? amp : sp;

		if (end - p > 8 && memcmp(p, "refresh=", 8) == 0)
		{
			found++;
			v = 0;
			for (const char *d = p + 8; d < end && v <= 100000; d++)
				v = v * 10 + (*d - '0');
		}
		p = end + 1;
	}
	return found == 1 ? (int) v : 0;
}

/*
 * The request line's parts, split here at its first two spaces: target at
 * buf + *t, *tlen bytes; the version its last 8 bytes (after a space), or
 * NULL when the line is shorter.  Returns 0 when there is no whole line with
 * two spaces.
 */
static int
split_line(const char *buf, size_t len, size_t *t, size_t *tlen, const char **version)
{
	const char *eol = memchr(buf, '\n', len);
	size_t		n;
	const char *sp1,
			   *sp2;

	if (eol == NULL)
		return 0;
	n = (size_t) (eol - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	sp1 = memchr(buf, ' ', n);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t) (buf + n - sp1 - 1)) : NULL;
	if (sp2 == NULL)
		return 0;
	*t = (size_t) (sp1 + 1 - buf);
	*tlen = (size_t) (sp2 - sp1 - 1);
	*version = n >= 9 && buf[n - 9] == ' ' ? buf + n - 8 : NULL;
	return 1;
}

/* Is v (8 bytes) HTTP/DIGIT.DIGIT? */
static int
is_http_version(const char *v)
{
	return v != NULL && memcmp(v, "HTTP/", 5) == 0 && v[5] >= '0' && v[5] <= '9' &&
		v[6] == '.' && v[7] >= '0' && v[7] <= '9';
}

/* Header lines named Host (any case) in buf[0..len), the header block. */
static int
host_lines(const char *buf, size_t len)
{
	static const char name[] = "\nhost:";
	int			n = 0;

	for (size_t i = 0; i + sizeof(name) - 1 <= len; i++)
		if (strncasecmp(buf + i, name, sizeof(name) - 1) == 0)
			n++;
	return n;
}

/*
 * For an absolute-form target at buf + t (tlen bytes): the length of its
 * scheme and authority ("http://host:1"), or 0 when it is not http(s) with a
 * non-empty authority free of userinfo.
 */
static size_t
absolute_prefix(const char *buf, size_t t, size_t tlen)
{
	size_t		skip,
				end;

	if (tlen >= 7 && strncasecmp(buf + t, "http://", 7) == 0)
		skip = 7;
	else if (tlen >= 8 && strncasecmp(buf + t, "https://", 8) == 0)
		skip = 8;
	else
		return 0;
	for (end = skip; end < tlen && buf[t + end] != '/' && buf[t + end] != '?'; end++)
		if (buf[t + end] == '@')
			return 0;
	return end > skip ? end : 0;
}

/*
 * An accepted absolute-form request is the same request as its origin-form:
 * parse that (the path and query after the authority, "/" for an empty path)
 * and compare.
 */
static void
check_absolute_form(const char *buf, size_t size, PhHttpParse r, const PhHttpRequest *req,
					size_t t, size_t tlen, size_t prefix)
{
	size_t		rest = tlen - prefix;
	int			slash = rest == 0 || buf[t + prefix] == '?';
	size_t		olen = size - prefix + slash;
	char	   *o = malloc(olen);
	PhHttpRequest oreq;
	PhHttpParse or;

	memcpy(o, buf, t);
	if (slash)
		o[t] = '/';
	memcpy(o + t + slash, buf + t + prefix, size - t - prefix);
	or = ph_http_parse(o, olen, &oreq);
	if (or != r || oreq.path != req->path || oreq.head != req->head)
		abort();
	if (r == PH_HTTP_OK &&
		(oreq.role != req->role || oreq.lag_bytes != req->lag_bytes ||
		 oreq.delay_ms != req->delay_ms || strcmp(oreq.user, req->user) != 0 ||
		 strcmp(oreq.database, req->database) != 0 || oreq.refresh_s != req->refresh_s ||
		 oreq.gzip != req->gzip || oreq.body != req->body ||
		 oreq.length + prefix != req->length + slash))
		abort();
	if (r == PH_HTTP_BAD_QUERY &&
		(oreq.bad_arg != req->bad_arg || oreq.bad_is_database != req->bad_is_database))
		abort();
	free(o);
}

/*
 * An accepted request against the route table: its method is one its route
 * answers; in origin-form, its path is one of its route's paths; and each
 * parameter it carries is one its route takes.
 */
static void
check_route(const char *buf, size_t size, const PhHttpRequest *req)
{
	const PhHttpRoute *route = &ph_http_routes[req->path];
	size_t		t,
				tlen,
				plen;
	const char *version;
	const char *sp = memchr(buf, ' ', size);
	int			method = 0,
				matched = 0;

	for (const PhHttpMethod *m = ph_http_methods; m->name != NULL; m++)
		if (sp != NULL && (size_t) (sp - buf) == strlen(m->name) &&
			memcmp(buf, m->name, strlen(m->name)) == 0)
			method = m->bit;
	if (!(route->methods & method))
		abort();
	if (!split_line(buf, size, &t, &tlen, &version))
		abort();
	if (buf[t] == '/')
	{
		const char *q = memchr(buf + t, '?', tlen);

		plen = q ? (size_t) (q - buf - t) : tlen;
		for (int k = 0; k < PH_ROUTE_MAX_PATHS && route->paths[k] != NULL; k++)
			matched |= strlen(route->paths[k]) == plen && memcmp(route->paths[k], buf + t, plen) == 0;
		if (!matched)
			abort();
	}
	if ((req->role != PH_ROLE_ARG_NONE && !(route->params & PH_PARAM_ROLE)) ||
		(req->lag_bytes >= 0 && !(route->params & PH_PARAM_LAG)) ||
		(req->delay_ms >= 0 && !(route->params & PH_PARAM_DELAY)) ||
		(req->user[0] && !(route->params & PH_PARAM_USER)) ||
		(req->database[0] && !(route->params & PH_PARAM_DATABASE)) ||
		(req->refresh_s != 0 && !(route->params & PH_PARAM_REFRESH)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PhHttpRequest req;
	/* a copy of exactly size bytes, so that reading past it is caught */
	char	   *buf = malloc(size ? size : 1);
	PhHttpParse r;
	size_t		t = 0,
				tlen = 0;
	const char *version = NULL;
	int			has_line;
	int			head;

	memcpy(buf, data, size);
	r = ph_http_parse(buf, size, &req);
	has_line = split_line(buf, size, &t, &tlen, &version);
	/* HEAD, and OPTIONS, which is answered as Patroni does: HEAD's answer */
	head = (size >= 5 && memcmp(buf, "HEAD ", 5) == 0) ||
		(size >= 8 && memcmp(buf, "OPTIONS ", 8) == 0);
	if (r < PH_HTTP_INCOMPLETE || r > PH_HTTP_PARSE_LAST)
		abort();
	if (r == PH_HTTP_OK && (req.path <= PH_PATH_NONE || req.path > PH_PATH_LAST))
		abort();
	if (r == PH_HTTP_OK && (req.length == 0 || req.length > size))
		abort();				/* the request's length is within what was read */
	if (r == PH_HTTP_OK && (req.lag_bytes < -1 || req.delay_ms < -1))
		abort();				/* limits are absent (-1) or non-negative */
	if (r == PH_HTTP_OK &&
		(req.lag_bytes > PH_HTTP_MAX_LAG_BYTES || req.delay_ms > PH_HTTP_MAX_DELAY_MS))
		abort();				/* ... and never over their maxima */
	if (r == PH_HTTP_OK && (!sound_name(req.user) || !sound_name(req.database)))
		abort();				/* names are terminated, short, UTF-8 */
	if (r == PH_HTTP_OK && (req.user[0] || req.database[0]) &&
		req.path != PH_PATH_READY && req.path != PH_PATH_HEALTH)
		abort();				/* only /ready and /health take names */
	if (r == PH_HTTP_OK && (req.refresh_s < 0 || req.refresh_s > PH_HTTP_MAX_REFRESH_S ||
							(req.refresh_s != 0 && req.path != PH_PATH_STATUS) ||
							req.refresh_s != refresh_of(buf, req.length)))
		abort();				/* refresh: only the status page's, within its range, as asked */
	if (r == PH_HTTP_OK)
		check_route(buf, size, &req);
	if (r == PH_HTTP_OK && req.bad_arg != PH_ARG_NONE)
		abort();				/* an accepted request names no bad parameter */
	if (r == PH_HTTP_BAD_QUERY &&
		(req.bad_arg < PH_ARG_NONE || req.bad_arg > PH_ARG_LAST ||
		 req.path <= PH_PATH_NONE || req.path > PH_PATH_LAST))
		abort();				/* a bad query names a known parameter of a known path */
	if (r == PH_HTTP_OK && req.gzip != 0 &&
		(req.gzip != 1 || !has_accept_encoding(buf, req.length)))
		abort();				/* gzip only for a request that says Accept-Encoding */
	if (r == PH_HTTP_INCOMPLETE && size > PH_HTTP_MAX_REQUEST)
		abort();				/* the parser must give up past the limit */

	/* RFC 9110, 9.3.2: whatever the verdict, HEAD (and OPTIONS) is known (no body) */
	if (req.head != head || ph_http_is_head(buf, size) != head)
		abort();

	/*
	 * Past the request line and the headers: the method, the path or the
	 * query decided.  Only HTTP/1.0 and 1.1 get here (RFC 9110, 15.6.6);
	 * with one Host for 1.1, never two (RFC 9112, 3.2); with a target in
	 * origin-form or http(s) absolute-form (RFC 9112, 3.2.2).
	 */
	if (r == PH_HTTP_OK || r == PH_HTTP_NOT_FOUND || r == PH_HTTP_BAD_QUERY ||
		r == PH_HTTP_BAD_METHOD)
	{
		int			hosts = host_lines(buf, req.length);

		if (!has_line || version == NULL ||
			(memcmp(version, "HTTP/1.0", 8) != 0 && memcmp(version, "HTTP/1.1", 8) != 0))
			abort();
		if (hosts > 1 || (version[7] == '1' && hosts != 1))
			abort();
	}
	if (r == PH_HTTP_OK || r == PH_HTTP_NOT_FOUND || r == PH_HTTP_BAD_QUERY)
	{
		size_t		prefix = buf[t] == '/' ? 0 : absolute_prefix(buf, t, tlen);

		if (buf[t] != '/' && prefix == 0)
			abort();			/* neither origin-form nor http(s) absolute-form */
		if (prefix > 0)
			check_absolute_form(buf, size, r, &req, t, tlen, prefix);
	}

	/* RFC 9110, 15.6.6: 505 only for a well-formed version we do not speak */
	if (r == PH_HTTP_BAD_VERSION &&
		(!has_line || !is_http_version(version) || memcmp(version, "HTTP/1.0", 8) == 0 ||
		 memcmp(version, "HTTP/1.1", 8) == 0))
		abort();
	free(buf);
	return 0;
}

/*
 * fuzz_http.c -- libFuzzer target for the HTTP request parser
 * (src/http_parse.c), which reads bytes from the network in the worker that
 * every probe depends on.  Run by test/fuzz/run.sh; see docs/testing.md.
 *
 * Besides the sanitizers' own checks, it asserts what the parser promises:
 * a known verdict; for an accepted request a known path, a length within
 * what was read, replay limits absent or within their maxima (so that no
 * product of them can overflow), and role and database names that are
 * what a startup packet may carry (at most 63 bytes of UTF-8, no NUL,
 * terminated), and a refresh period only on the status page, within 1 to
 * 3600 s and equal to the one refresh= of the query read independently; for
 * a bad query a known parameter named.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_parse.h"

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PhHttpRequest req;
	/* a copy of exactly size bytes, so that reading past it is caught */
	char	   *buf = malloc(size ? size : 1);
	PhHttpParse r;

	memcpy(buf, data, size);
	r = ph_http_parse(buf, size, &req);
	if (r < PH_HTTP_INCOMPLETE || r > PH_HTTP_PARSE_LAST)
		abort();
	if (r == PH_HTTP_OK && (req.path <= PH_PATH_NONE || req.path > PH_PATH_STATUS))
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
	if (r == PH_HTTP_OK && req.bad_arg != PH_ARG_NONE)
		abort();				/* an accepted request names no bad parameter */
	if (r == PH_HTTP_BAD_QUERY &&
		(req.bad_arg < PH_ARG_NONE || req.bad_arg > PH_ARG_LAST ||
		 req.path <= PH_PATH_NONE || req.path > PH_PATH_STATUS))
		abort();				/* a bad query names a known parameter of a known path */
	if (r == PH_HTTP_OK && req.gzip != 0 &&
		(req.gzip != 1 || !has_accept_encoding(buf, req.length)))
		abort();				/* gzip only for a request that says Accept-Encoding */
	if (r == PH_HTTP_INCOMPLETE && size > PH_HTTP_MAX_REQUEST)
		abort();				/* the parser must give up past the limit */
	free(buf);
	return 0;
}

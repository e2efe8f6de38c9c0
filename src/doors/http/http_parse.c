/*
 * http_parse.c -- the request parser of the HTTP endpoint (see http_parse.h),
 * and what it matches requests with: the routes (each path's methods, query
 * parameters, content type, gzip and note for the help), the methods and the
 * query parameters (each one's reading and its help).
 *
 * Accepts "METHOD SP target SP HTTP/1.x CRLF", then header lines, then an
 * empty line (bare LF accepted too).  Only the method and target matter; the
 * headers are checked for shape and size, Host as RFC 9112 (3.2) asks, and
 * are otherwise ignored.  The target is origin-form ("/path?query") or
 * absolute-form ("http://host/path?query", RFC 9112, 3.2.2).  A request body
 * is not expected (GET and HEAD only), and bytes after the blank line are
 * ignored.
 */
#include <string.h>
#include <strings.h>

#include "doors/http/http_parse.h"

/*
 * The routes.  A new path is a row here (its paths, methods, parameters,
 * content type, gzip and note for the 404) and a handler in
 * http_answers.c's table.
 */
#define JSON "application/json"
#define GET_HEAD (PH_METHOD_GET | PH_METHOD_HEAD)
/* the probes answer OPTIONS as Patroni does (HAProxy's "option httpchk OPTIONS /primary") */
#define PROBE (GET_HEAD | PH_METHOD_OPTIONS)
#define VERDICT_PARAMS (PH_PARAM_ROLE | PH_PARAM_LAG | PH_PARAM_DELAY | PH_PARAM_USER | PH_PARAM_DATABASE)

const PhHttpRoute ph_http_routes[PH_PATH_LAST + 1] = {
	[PH_PATH_LIVE] = {{"/live", "/liveness"}, PROBE, 0, JSON, 0, NULL},
	[PH_PATH_READY] = {{"/ready", "/readiness"}, PROBE, VERDICT_PARAMS, JSON, 0, NULL},
	[PH_PATH_STARTUP] = {{"/startup"}, PROBE, 0, JSON, 0, NULL},
	/* the probes' short answers go as they are: only the report is worth gzip */
	[PH_PATH_HEALTH] = {{"/health"}, PROBE, VERDICT_PARAMS, JSON, 1, NULL},
	[PH_PATH_PRIMARY] = {{"/primary"}, PROBE, 0, JSON, 0, NULL},
	[PH_PATH_REPLICA] = {{"/replica"}, PROBE, PH_PARAM_LAG | PH_PARAM_DELAY, JSON, 0, NULL},
	[PH_PATH_METRICS] = {{"/metrics"}, GET_HEAD, 0, "text/plain; version=0.0.4; charset=utf-8", 1, NULL},
	[PH_PATH_STATUS] = {{"/", "/status"}, GET_HEAD, PH_PARAM_REFRESH, "text/html; charset=utf-8", 1,
	"the status page"},
	[PH_PATH_NODE] = {{"/node"}, GET_HEAD, 0, JSON, 0, "this node's identity"},
	/* Patroni's names where they mean the same (docs/http.md) */
	[PH_PATH_READ_WRITE] = {{"/read-write", "/leader"}, PROBE, 0, JSON, 0, NULL},
	[PH_PATH_READ_ONLY] = {{"/read-only"}, PROBE, PH_PARAM_LAG | PH_PARAM_DELAY, JSON, 0, NULL},
	[PH_PATH_CLUSTER] = {{"/cluster"}, PROBE, 0, JSON, 0, NULL},
	[PH_PATH_SYNC] = {{"/sync", "/synchronous"}, PROBE, 0, JSON, 0, NULL},
	[PH_PATH_ASYNC] = {{"/async", "/asynchronous"}, PROBE, 0, JSON, 0, NULL},
};

const PhHttpMethod ph_http_methods[] = {
	{"GET", PH_METHOD_GET},
	{"HEAD", PH_METHOD_HEAD},
	{"OPTIONS", PH_METHOD_OPTIONS},
	{NULL}
};

typedef struct
{
	const char *name;
	long long	factor;
} Unit;

/* sizes as PostgreSQL and Patroni write them (kB = 1024 bytes) */
static const Unit size_units[] = {
	{"", 1}, {"B", 1}, {"kB", 1024LL}, {"MB", 1024LL * 1024}, {"GB", 1024LL * 1024 * 1024},
	{"TB", 1024LL * 1024 * 1024 * 1024}, {NULL, 0}
};

/* durations need a unit: a bare number would be ambiguous */
static const Unit time_units[] = {
	{"ms", 1}, {"s", 1000}, {"min", 60 * 1000}, {"h", 3600 * 1000}, {"d", 86400 * 1000},
	{NULL, 0}
};

/*
 * A non-negative integer followed by one of units (case-insensitive), into
 * *out.  Returns 1, or 0 when malformed, or -1 when well formed but over max
 * (in the base unit).  The digits are not limited in number (leading zeros
 * are harmless); the value saturates instead of overflowing.
 */
static int
parse_with_unit(const char *s, size_t len, const Unit *units, long long max, long long *out)
{
	long long	v = 0;
	int			over = 0;
	size_t		i = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9')
	{
		if (!over && v > (max - (s[i] - '0')) / 10)
			over = 1;			/* over max even before a unit multiplies it */
		else if (!over)
			v = v * 10 + (s[i] - '0');
		i++;
	}
	if (i == 0)
		return 0;
	for (const Unit *u = units; u->name != NULL; u++)
	{
		if (strlen(u->name) == len - i && strncasecmp(u->name, s + i, len - i) == 0)
		{
			if (over || v > max / u->factor)
				return -1;
			*out = v * u->factor;
			return 1;
		}
	}
	return 0;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Is s[0..len) well-formed UTF-8 (RFC 3629: shortest forms only, no
 * surrogates, nothing above U+10FFFF)?
 */
static int
valid_utf8(const unsigned char *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = s[i];
		size_t		n;
		unsigned int cp;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (size_t k = 1; k <= n; k++)
		{
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
			(cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/*
 * A name from the query (user=, database=): %XX escapes and '+' for a space
 * decoded into out (room for PH_HTTP_MAX_NAME bytes and a NUL).  Returns
 * PH_ARG_NONE when it is a name: 1 to PH_HTTP_MAX_NAME bytes of UTF-8
 * without NUL.
 */
static PhHttpArg
decode_name(const char *s, size_t len, char *out)
{
	size_t		n = 0;

	if (len == 0)
		return PH_ARG_NAME_EMPTY;
	for (size_t i = 0; i < len; i++)
	{
		int			c = (unsigned char) s[i];

		if (c == '%')
		{
			int			hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
			int			lo = hi >= 0 ? hex_value(s[i + 2]) : -1;

			if (lo < 0)
				return PH_ARG_NAME_ENCODING;
			c = hi * 16 + lo;
			i += 2;
			if (c == 0)
				return PH_ARG_NAME_ENCODING;
		}
		else if (c == '+')
			c = ' ';
		if (n == PH_HTTP_MAX_NAME)
			return PH_ARG_NAME_LONG;
		out[n++] = (char) c;
	}
	out[n] = '\0';
	if (!valid_utf8((const unsigned char *) out, n))
		return PH_ARG_NAME_ENCODING;
	return PH_ARG_NONE;
}

/* Does this header announce a request body? */
static int
announces_body(const char *line, size_t colon, size_t n)
{
	const char *v = line + colon + 1;
	size_t		vlen = n - colon - 1;

	if (colon == 17 && strncasecmp(line, "transfer-encoding", 17) == 0)
		return 1;
	if (colon != 14 || strncasecmp(line, "content-length", 14) != 0)
		return 0;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	return !(vlen == 1 && v[0] == '0');
}

/*
 * What Accept-Encoding headers said of gzip (RFC 9110, 12.5.3): bit 0 gzip
 * accepted, bit 1 gzip refused (q=0), bit 2 "*" accepted, bit 3 "*"
 * refused.  Several Accept-Encoding lines add up.
 */
#define GZIP_YES	1
#define GZIP_NO		2
#define STAR_YES	4
#define STAR_NO		8

static void
note_accept_encoding(const char *line, size_t colon, size_t n, int *said)
{
	const char *v = line + colon + 1;
	const char *end = line + n;

	if (colon != 15 || strncasecmp(line, "accept-encoding", 15) != 0)
		return;
	while (v < end)
	{
		const char *item = v;
		const char *comma = memchr(v, ',', (size_t) (end - v));
		const char *item_end = comma ? comma : end;
		const char *semi;
		size_t		len;
		int			zero = 0;

		v = comma ? comma + 1 : end;
		while (item < item_end && (*item == ' ' || *item == '\t'))
			item++;
		semi = memchr(item, ';', (size_t) (item_end - item));
		len = (size_t) ((semi ? semi : item_end) - item);
		while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t'))
			len--;
		if (semi != NULL)
		{
			/* ";q=0", ";q=0.", ";q=0.000" is a refusal */
			const char *q = semi + 1;

			while (q < item_end && (*q == ' ' || *q == '\t'))
				q++;
			if (item_end - q >= 3 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=' && q[2] == '0')
			{
				zero = 1;
				for (const char *d = q + 3; d < item_end; d++)
					if (*d != '.' && *d != '0' && *d != ' ' && *d != '\t')
						zero = 0;
			}
		}
		/* x-gzip is gzip (RFC 9110, 8.4.1.3) */
		if ((len == 4 && strncasecmp(item, "gzip", 4) == 0) ||
			(len == 6 && strncasecmp(item, "x-gzip", 6) == 0))
			*said |= zero ? GZIP_NO : GZIP_YES;
		else if (len == 1 && item[0] == '*')
			*said |= zero ? STAR_NO : STAR_YES;
	}
}

/* gzip named and not refused, or not named and "*" taken */
static int
gzip_accepted(int said)
{
	if (said & GZIP_NO)
		return 0;
	if (said & GZIP_YES)
		return 1;
	return (said & STAR_YES) && !(said & STAR_NO);
}

/* Where the headers end: the offset just past the blank line, or 0. */
static size_t
end_of_headers(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
	{
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int
is_token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		(c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 3986 (2.2, 2.3): what a host may hold besides %-escapes */
static int
is_host_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) ||
		(c != '\0' && strchr("-._~!$&'()*+,;=", c) != NULL);
}

/*
 * An authority as a target or a Host names the server: host [":" port]
 * (RFC 3986, 3.2).  The host is an IP literal in brackets or a reg-name (an
 * IPv4 address is one), never empty (RFC 9110, 4.2.1); userinfo ("user@")
 * is rejected, as RFC 9110 (4.2.4) advises, since it has no business in a
 * request.
 */
static int
valid_authority(const char *s, size_t len)
{
	size_t		i = 0;

	if (len > 0 && s[0] == '[')
	{
		for (i = 1; i < len && s[i] != ']'; i++)
			if (!is_host_char(s[i]) && s[i] != ':')
				return 0;
		if (i == len || i == 1)
			return 0;			/* unclosed, or empty */
		i++;
	}
	else
	{
		for (; i < len && s[i] != ':'; i++)
		{
			if (s[i] == '%')
			{
				if (i + 2 >= len || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
					return 0;
				i += 2;
			}
			else if (!is_host_char(s[i]))
				return 0;
		}
		if (i == 0)
			return 0;
	}
	if (i < len && s[i] == ':')
		for (i++; i < len; i++)
			if (!is_digit(s[i]))
				return 0;
	return i == len;
}

/*
 * A Host header's value (RFC 9110, 7.2): an authority, or empty (what a
 * client sends for a target without one).  Surrounding blanks are not part
 * of it (RFC 9110, 5.5).
 */
static int
valid_host_value(const char *v, size_t len)
{
	while (len > 0 && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return len == 0 || valid_authority(v, len);
}

/*
 * An absolute-form target (RFC 9112, 3.2.2): "http://" or "https://" (the
 * scheme in any case, RFC 3986, 3.1), an authority, then the path and query
 * an origin-form target would carry.  *target and *len are set to those;
 * an empty path is left empty (it means "/", RFC 9110, 4.2.3).  Returns 0
 * for anything else: another scheme, no "//", a bad authority.  The
 * authority itself is not compared with this server's names: whatever name
 * reached this port is this server.
 */
static int
absolute_to_origin(const char **target, size_t *len)
{
	const char *t = *target;
	size_t		n = *len;
	size_t		skip,
				end;

	if (n >= 7 && strncasecmp(t, "http://", 7) == 0)
		skip = 7;
	else if (n >= 8 && strncasecmp(t, "https://", 8) == 0)
		skip = 8;
	else
		return 0;
	for (end = skip; end < n && t[end] != '/' && t[end] != '?'; end++)
		;
	if (!valid_authority(t + skip, end - skip))
		return 0;
	*target = t + end;
	*len = n - end;
	return 1;
}

/*
 * The query parameters: each one's reading of its value v[0..len) into req,
 * PH_ARG_NONE when it is good, else what is wrong with it (for the 400,
 * which names it).
 */
static PhHttpArg
param_role(const char *v, size_t len, PhHttpRequest *req)
{
	if (len == 7 && memcmp(v, "primary", 7) == 0)
		req->role = PH_ROLE_ARG_PRIMARY;
	else if (len == 7 && memcmp(v, "replica", 7) == 0)
		req->role = PH_ROLE_ARG_REPLICA;
	else
		return PH_ARG_ROLE;
	return PH_ARG_NONE;
}

static PhHttpArg
param_lag(const char *v, size_t len, PhHttpRequest *req)
{
	int			r = parse_with_unit(v, len, size_units, PH_HTTP_MAX_LAG_BYTES, &req->lag_bytes);

	return r > 0 ? PH_ARG_NONE : r < 0 ? PH_ARG_LAG_RANGE : PH_ARG_LAG;
}

static PhHttpArg
param_delay(const char *v, size_t len, PhHttpRequest *req)
{
	int			r = parse_with_unit(v, len, time_units, PH_HTTP_MAX_DELAY_MS, &req->delay_ms);

	return r > 0 ? PH_ARG_NONE : r < 0 ? PH_ARG_DELAY_RANGE : PH_ARG_DELAY;
}

/* user= or database=: a name, once */
static PhHttpArg
param_name(const char *v, size_t len, PhHttpRequest *req, int is_db)
{
	char	   *dst = is_db ? req->database : req->user;

	req->bad_is_database = is_db;
	return dst[0] != '\0' ? PH_ARG_NAME_REPEATED : decode_name(v, len, dst);
}

static PhHttpArg
param_user(const char *v, size_t len, PhHttpRequest *req)
{
	return param_name(v, len, req, 0);
}

static PhHttpArg
param_database(const char *v, size_t len, PhHttpRequest *req)
{
	return param_name(v, len, req, 1);
}

/* whole seconds, 1 to PH_HTTP_MAX_REFRESH_S, once */
static PhHttpArg
param_refresh(const char *v, size_t len, PhHttpRequest *req)
{
	int			secs = 0;
	size_t		k;

	for (k = 0; k < len && v[k] >= '0' && v[k] <= '9' && secs <= PH_HTTP_MAX_REFRESH_S; k++)
		secs = secs * 10 + (v[k] - '0');
	if (k == 0 || k < len || secs < 1 || secs > PH_HTTP_MAX_REFRESH_S || req->refresh_s != 0)
		return PH_ARG_REFRESH;
	req->refresh_s = secs;
	return PH_ARG_NONE;
}

/* The parameters a route may take (its PH_PARAM_* bits), in the 400's order. */
const PhHttpParam ph_http_params[] = {
	{"role", PH_PARAM_ROLE, "role=primary|replica", param_role},
	{"lag", PH_PARAM_LAG, "lag=<bytes, or n kB|MB|GB|TB>", param_lag},
	{"delay", PH_PARAM_DELAY, "delay=<n ms|s|min|h|d>", param_delay},
	{"user", PH_PARAM_USER, "user=<role>", param_user},
	{"database", PH_PARAM_DATABASE, "database=<name>", param_database},
	{"refresh", PH_PARAM_REFRESH, "refresh=<seconds>", param_refresh},
	{NULL}
};

/*
 * The query string: "&"-separated name=value pairs, each a parameter the
 * route takes (accepts: its PH_PARAM_* bits), read by its row of params.
 * Anything else is a bad request; req->bad_arg says which parameter and why,
 * so that the answer can name it.
 */
static PhHttpParse
parse_query(const char *q, size_t len, int accepts, PhHttpRequest *req)
{
	size_t		start = 0;

	while (start < len)
	{
		const char *p = q + start;
		const char *amp = memchr(p, '&', len - start);
		size_t		n = amp ? (size_t) (amp - p) : len - start;
		PhHttpArg	bad = PH_ARG_NONE;
		int			found = 0;

		for (const PhHttpParam *param = ph_http_params; param->name != NULL && !found; param++)
		{
			size_t		name_len = strlen(param->name);

			if ((accepts & param->bit) && n > name_len &&
				memcmp(p, param->name, name_len) == 0 && p[name_len] == '=')
			{
				found = 1;
				bad = param->read(p + name_len + 1, n - name_len - 1, req);
			}
		}
		if (!found || bad != PH_ARG_NONE)
		{
			req->bad_arg = bad; /* PH_ARG_NONE: not a parameter of this path */
			return PH_HTTP_BAD_QUERY;
		}
		start += n + 1;
	}
	return PH_HTTP_OK;
}

int
ph_http_all_methods(void)
{
	int			mask = 0;

	for (int id = 1; id <= PH_PATH_LAST; id++)
		mask |= ph_http_routes[id].methods;
	return mask;
}

/* The route of path[0..len), PH_PATH_NONE when none has it. */
static PhHttpPath
find_route(const char *path, size_t len)
{
	for (int id = 1; id <= PH_PATH_LAST; id++)
		for (int k = 0; k < PH_ROUTE_MAX_PATHS && ph_http_routes[id].paths[k] != NULL; k++)
			if (strlen(ph_http_routes[id].paths[k]) == len &&
				memcmp(path, ph_http_routes[id].paths[k], len) == 0)
				return (PhHttpPath) id;
	return PH_PATH_NONE;
}

/* ------------------------------------------------------------------------
 * The request
 * ------------------------------------------------------------------------
 */

int
ph_http_is_head(const char *buf, size_t len)
{
	/* OPTIONS is answered as Patroni does: HEAD's status and headers */
	return (len >= 5 && memcmp(buf, "HEAD ", 5) == 0) ||
		(len >= 8 && memcmp(buf, "OPTIONS ", 8) == 0);
}

PhHttpParse
ph_http_parse(const char *buf, size_t len, PhHttpRequest *req)
{
	const char *line_end;
	size_t		line_len,
				end,
				i,
				method_len,
				target_start,
				target_len,
				qmark;
	const char *target;
	const char *version;
	const char *path;
	size_t		path_len;
	int			gzip_said = 0;
	int			method = 0;
	int			http11;
	int			hosts = 0;

	memset(req, 0, sizeof(*req));
	req->lag_bytes = -1;
	req->delay_ms = -1;
	/* before any verdict: a HEAD is answered without a body, even a 400 */
	req->head = ph_http_is_head(buf, len);
	req->options = len >= 8 && memcmp(buf, "OPTIONS ", 8) == 0;

	line_end = memchr(buf, '\n', len);
	if (line_end == NULL)
		return len > PH_HTTP_MAX_LINE ? PH_HTTP_URI_TOO_LONG : PH_HTTP_INCOMPLETE;
	line_len = (size_t) (line_end - buf);
	if (line_len > PH_HTTP_MAX_LINE)
		return PH_HTTP_URI_TOO_LONG;
	if (line_len > 0 && buf[line_len - 1] == '\r')
		line_len--;

	end = end_of_headers(buf, len);
	if (end == 0)
		return len > PH_HTTP_MAX_REQUEST ? PH_HTTP_HEADERS_TOO_LARGE : PH_HTTP_INCOMPLETE;
	if (end > PH_HTTP_MAX_REQUEST)
		return PH_HTTP_HEADERS_TOO_LARGE;
	req->length = end;

	/* method */
	for (i = 0; i < line_len && is_token_char(buf[i]); i++)
		;
	method_len = i;
	if (method_len == 0 || i >= line_len || buf[i] != ' ')
		return PH_HTTP_BAD_REQUEST;

	/* target */
	target_start = i + 1;
	for (i = target_start; i < line_len && buf[i] != ' '; i++)
		if ((unsigned char) buf[i] <= 0x20 || (unsigned char) buf[i] >= 0x7f)
			return PH_HTTP_BAD_REQUEST;
	target_len = i - target_start;
	if (target_len == 0 || i >= line_len)
		return PH_HTTP_BAD_REQUEST;

	/*
	 * version: "HTTP/" DIGIT "." DIGIT (RFC 9112, 2.3; case-sensitive), and
	 * nothing after it.  One that is well formed but neither 1.0 nor 1.1 is a
	 * version this server does not speak: 505 (RFC 9110, 15.6.6), decided
	 * before anything else the request says, which that version might mean
	 * otherwise.  Anything else is no request line: 400.
	 */
	version = buf + i + 1;
	if (line_len - (i + 1) != 8 || memcmp(version, "HTTP/", 5) != 0 ||
		!is_digit(version[5]) || version[6] != '.' || !is_digit(version[7]))
		return PH_HTTP_BAD_REQUEST;
	if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
		return PH_HTTP_BAD_VERSION;
	http11 = version[7] == '1';

	/* headers: "name: value" lines, no control characters but tab */
	for (const char *p = line_end + 1; p < buf + end;)
	{
		const char *nl = memchr(p, '\n', (size_t) (buf + end - p));
		size_t		n;
		size_t		colon = 0;

		if (nl == NULL)
			return PH_HTTP_BAD_REQUEST;
		n = (size_t) (nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;				/* the blank line */
		for (size_t k = 0; k < n; k++)
		{
			unsigned char c = (unsigned char) p[k];

			if (colon == 0 && c == ':')
				colon = k;
			else if (colon == 0 && !is_token_char((char) c))
				return PH_HTTP_BAD_REQUEST;
			else if (c < 0x20 && c != '\t')
				return PH_HTTP_BAD_REQUEST;
			else if (c == 0x7f)
				return PH_HTTP_BAD_REQUEST;
		}
		if (colon == 0)
			return PH_HTTP_BAD_REQUEST;
		if (announces_body(p, colon, n))
			req->body = 1;
		note_accept_encoding(p, colon, n, &gzip_said);
		if (colon == 4 && strncasecmp(p, "host", 4) == 0)
		{
			hosts++;
			if (!valid_host_value(p + 5, n - 5))
				return PH_HTTP_BAD_REQUEST;
		}
		p = nl + 1;
	}
	req->gzip = gzip_accepted(gzip_said);

	/*
	 * RFC 9112 (3.2): 400 for an HTTP/1.1 request without Host, and for any
	 * request with more than one (or an invalid one, above).  HTTP/1.0 did
	 * not require it.  It comes before the method and the path: the RFC's
	 * "MUST respond with 400" leaves such a request no other answer.
	 */
	if (hosts > 1 || (http11 && hosts == 0))
		return PH_HTTP_BAD_REQUEST;

	/* a method some route answers (methods are case-sensitive) */
	for (const PhHttpMethod *m = ph_http_methods; m->name != NULL; m++)
		if (strlen(m->name) == method_len && memcmp(buf, m->name, method_len) == 0)
			method = m->bit;
	if (!(method & ph_http_all_methods()))
		return PH_HTTP_BAD_METHOD;

	/*
	 * origin-form, or absolute-form reduced to it; nothing else is a target
	 * of GET or HEAD (RFC 9112, 3.2: authority-form is CONNECT's,
	 * asterisk-form OPTIONS')
	 */
	target = buf + target_start;
	if (target[0] != '/' && !absolute_to_origin(&target, &target_len))
		return PH_HTTP_BAD_REQUEST;
	qmark = 0;
	while (qmark < target_len && target[qmark] != '?')
		qmark++;
	path = target;
	path_len = qmark;
	if (path_len == 0)
	{
		path = "/";				/* "http://host" or "http://host?q": RFC 9110,
								 * 4.2.3 */
		path_len = 1;
	}
	req->path = find_route(path, path_len);
	if (req->path == PH_PATH_NONE)
		return PH_HTTP_NOT_FOUND;
	if (!(method & ph_http_routes[req->path].methods))
		return PH_HTTP_BAD_METHOD;	/* req->path tells the answer its Allow */
	if (qmark == target_len)
		return PH_HTTP_OK;
	return parse_query(target + qmark + 1, target_len - qmark - 1,
					   ph_http_routes[req->path].params, req);
}

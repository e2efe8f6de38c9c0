/*
 * http_answers.c -- (doors) the HTTP endpoint's answers: each route's handler
 * (indexed by the route, as ph_http_routes in http_parse.c is), the errors'
 * texts (the 404's and the 400's help written from the routes), and the
 * headers every answer carries.  The server (http_server.c) reads requests
 * and sends what this builds.
 *
 * Answers are built from the snapshot the sampler published, read as the SQL
 * functions read it, by the same C code: no database connection, no
 * credentials, no connection slot.  Reads never wait for pg_health's lock
 * beyond the server's ph_reader_lock_timeout.  A handler that meets names
 * asked for the first time, not looked up yet, says so (waits): the server
 * may then park the request until the names worker's pass (see
 * ph_http_answer).
 */
#include "postgres.h"

#include <zlib.h>

#include "utils/guc.h"
#include "utils/jsonb.h"

#include "doors/http/http_answers.h"
#include "doors/http/metrics.h"
#include "doors/http/status_page.h"
#include "doors/node.h"
#include "doors/report.h"
#include "judge/admission.h"
#include "judge/verdict.h"
#include "read/read.h"

bool		ph_http_admission = true;

void
ph_define_http_answer_settings(void)
{
	DefineCustomBoolVariable("pg_health.http_admission",
							 "Whether /ready and /health answer the per-tenant question (?user=, ?database=).",
							 "Its answers tell whoever reaches the port whether a role or database exists.",
							 &ph_http_admission,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
}

/* ------------------------------------------------------------------------
 * Status line and headers
 * ------------------------------------------------------------------------
 */

static const char *
reason_phrase(int status)
{
	switch (status)
	{
		case 200:
			return "OK";
		case 400:
			return "Bad Request";
		case 403:
			return "Forbidden";
		case 404:
			return "Not Found";
		case 405:
			return "Method Not Allowed";
		case 408:
			return "Request Timeout";
		case 414:
			return "URI Too Long";
		case 431:
			return "Request Header Fields Too Large";
		case 503:
			return "Service Unavailable";
		case 505:
			return "HTTP Version Not Supported";
		default:
			return "Error";
	}
}

/*
 * body[0..len) gzip-encoded into out (RFC 1952); false when zlib fails, and
 * the answer then goes out as it is.  zlib allocates through palloc, in the
 * answer's context, which is reset once the answer is sent.
 */
static voidpf
zalloc_palloc(voidpf opaque, uInt items, uInt size)
{
	return palloc_extended((Size) items * size, MCXT_ALLOC_NO_OOM);
}

static void
zfree_palloc(voidpf opaque, voidpf address)
{
	pfree(address);
}

static bool
gzip_body(StringInfo out, const char *body, size_t len)
{
	z_stream	z;
	uLong		bound;
	int			rc;

	memset(&z, 0, sizeof(z));
	z.zalloc = zalloc_palloc;
	z.zfree = zfree_palloc;
	/* 15 + 16: a gzip header and trailer; level 6, zlib's default */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	bound = deflateBound(&z, (uLong) len);
	enlargeStringInfo(out, (int) bound);
	z.next_in = (Bytef *) body;
	z.avail_in = (uInt) len;
	z.next_out = (Bytef *) out->data + out->len;
	z.avail_out = (uInt) bound;
	rc = deflate(&z, Z_FINISH);
	if (rc == Z_STREAM_END)
	{
		out->len += (int) z.total_out;
		out->data[out->len] = '\0';
	}
	(void) deflateEnd(&z);
	return rc == Z_STREAM_END;
}

/*
 * The answer: headers, and the body unless HEAD.  With gzip (the route
 * allows it and the client accepts it), a body of a kilobyte or more goes
 * out gzip-encoded.  allow: the methods a 405 names, else NULL.
 */
static void
respond_encoded(StringInfo out, int status, const char *content_type, const char *body,
				size_t len, bool head, bool gzip, const char *allow)
{
	StringInfoData z;
	bool		zipped = false;

	if (gzip && len >= 1024)
	{
		initStringInfo(&z);
		zipped = gzip_body(&z, body, len);
		if (zipped)
		{
			body = z.data;
			len = (size_t) z.len;
		}
	}
	appendStringInfo(out,
					 "HTTP/1.1 %d %s\r\n"
					 "Content-Type: %s\r\n"
					 "Content-Length: %zu\r\n"
					 "%s"
					 "Cache-Control: no-store\r\n"
					 "Connection: close\r\n",
					 status, reason_phrase(status), content_type, len,
					 zipped ? "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n" :
					 gzip ? "Vary: Accept-Encoding\r\n" : "");
	if (allow != NULL)
		appendStringInfo(out, "Allow: %s\r\n", allow);
	/* the status page: nothing but its own inline style may load or run */
	if (strncmp(content_type, "text/html", 9) == 0)
		appendStringInfoString(out,
							   "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "
							   "base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"
							   "X-Content-Type-Options: nosniff\r\n"
							   "Referrer-Policy: no-referrer\r\n");
	appendStringInfoString(out, "\r\n");
	if (!head)
		appendBinaryStringInfo(out, body, (int) len);
}

/*
 * An error's answer.  To a HEAD, its headers only, Content-Length that of
 * the body a GET would get: no answer to a HEAD has a body, whatever its
 * status (RFC 9110, 9.3.2).
 */
static void
respond_error(StringInfo out, int status, const char *message, bool head, const char *allow)
{
	StringInfoData body;

	initStringInfo(&body);
	appendStringInfo(&body, "{\"error\":\"%s\"}\n", message);
	respond_encoded(out, status, "application/json", body.data, body.len, head, false, allow);
	pfree(body.data);
}

/* ------------------------------------------------------------------------
 * Help texts, from the routes, methods and parameters (http_parse.c)
 * ------------------------------------------------------------------------
 */

/* Before item i of n in a list: nothing, ", " or " <last> " (NULL: ", "). */
static void
list_separator(StringInfo b, int i, int n, const char *last)
{
	if (i == 0)
		return;
	if (i < n - 1 || last == NULL)
		appendStringInfoString(b, ", ");
	else
		appendStringInfo(b, " %s ", last);
}

/* "unknown path: try /live, /ready, ... or / (the status page)": each route's first path */
static void
help_paths(StringInfo b)
{
	appendStringInfoString(b, "unknown path: try ");
	for (int id = 1; id <= PH_PATH_LAST; id++)
	{
		list_separator(b, id - 1, PH_PATH_LAST, "or");
		appendStringInfoString(b, ph_http_routes[id].paths[0]);
		if (ph_http_routes[id].note != NULL)
			appendStringInfo(b, " (%s)", ph_http_routes[id].note);
	}
}

/*
 * "bad query: /ready and /health take role=primary|replica, ...; /replica
 * takes lag and delay; ...": the routes that take parameters, grouped by the
 * parameters they take, in the order of the routes, with every path of a
 * group; a parameter is written in full the first time, by its name after.
 */
static void
help_params(StringInfo b)
{
	int			said = 0;		/* the parameters written in full */
	bool		first_group = true;

	appendStringInfoString(b, "bad query: ");
	for (int id = 1; id <= PH_PATH_LAST; id++)
	{
		int			mask = ph_http_routes[id].params;
		const char *paths[(PH_PATH_LAST + 1) * PH_ROUTE_MAX_PATHS];
		int			npaths = 0,
					nparams = 0,
					i = 0;
		bool		written = false;

		for (int r = 1; r < id; r++)
			written |= ph_http_routes[r].params == mask;
		if (mask == 0 || written)
			continue;			/* none, or its group is written */
		for (int r = id; r <= PH_PATH_LAST; r++)
			for (int k = 0; k < PH_ROUTE_MAX_PATHS && ph_http_routes[r].paths[k] != NULL; k++)
				if (ph_http_routes[r].params == mask)
					paths[npaths++] = ph_http_routes[r].paths[k];
		if (!first_group)
			appendStringInfoString(b, "; ");
		first_group = false;
		for (i = 0; i < npaths; i++)
		{
			list_separator(b, i, npaths, "and");
			appendStringInfoString(b, paths[i]);
		}
		appendStringInfoString(b, npaths > 1 ? " take " : " takes ");
		for (const PhHttpParam *p = ph_http_params; p->name != NULL; p++)
			nparams += (mask & p->bit) != 0;
		i = 0;
		for (const PhHttpParam *p = ph_http_params; p->name != NULL; p++)
		{
			if (!(mask & p->bit))
				continue;
			list_separator(b, i++, nparams, "and");
			appendStringInfoString(b, (said & p->bit) ? p->name : p->form);
		}
		said |= mask;
	}
}

/* The methods of mask: "GET, HEAD" (last NULL, as Allow lists them) or "GET and HEAD". */
static void
method_names(StringInfo b, int mask, const char *last)
{
	int			n = 0,
				i = 0;

	for (const PhHttpMethod *m = ph_http_methods; m->name != NULL; m++)
		n += (mask & m->bit) != 0;
	for (const PhHttpMethod *m = ph_http_methods; m->name != NULL; m++)
	{
		if (!(mask & m->bit))
			continue;
		list_separator(b, i++, n, last);
		appendStringInfoString(b, m->name);
	}
}

/* A 405: the methods of the route asked for, or of any route. */
static void
respond_bad_method(StringInfo out, const PhHttpRequest *req)
{
	int			mask = req->path != PH_PATH_NONE ? ph_http_routes[req->path].methods :
		ph_http_all_methods();
	StringInfoData allow;
	StringInfoData msg;

	initStringInfo(&allow);
	method_names(&allow, mask, NULL);
	initStringInfo(&msg);
	appendStringInfoString(&msg, "only ");
	method_names(&msg, mask, "and");
	respond_error(out, 405, msg.data, req->head, allow.data);
}

/* A 404: the paths there are. */
static void
respond_not_found(StringInfo out, const PhHttpRequest *req)
{
	StringInfoData msg;

	initStringInfo(&msg);
	help_paths(&msg);
	respond_error(out, 404, msg.data, req->head, NULL);
}

/* A 400 for a query: it names the parameter at fault, never echoes input. */
static void
respond_bad_query(StringInfo out, PhHttpArg arg, bool about_database, bool head)
{
	StringInfoData msg;
	const char *name = about_database ? "database" : "user";

	initStringInfo(&msg);
	switch (arg)
	{
		case PH_ARG_ROLE:
			appendStringInfoString(&msg, "bad query: role must be primary or replica");
			break;
		case PH_ARG_LAG:
			appendStringInfoString(&msg, "bad query: lag must be bytes, or n kB|MB|GB|TB");
			break;
		case PH_ARG_LAG_RANGE:
			appendStringInfo(&msg, "bad query: lag is out of range: at most %lldTB (2^62 bytes)",
							 PH_HTTP_MAX_LAG_BYTES >> 40);
			break;
		case PH_ARG_DELAY:
			appendStringInfoString(&msg, "bad query: delay must be n ms|s|min|h|d (a unit is required)");
			break;
		case PH_ARG_DELAY_RANGE:
			appendStringInfo(&msg, "bad query: delay is out of range: at most %lldd",
							 PH_HTTP_MAX_DELAY_MS / (86400LL * 1000));
			break;
		case PH_ARG_NAME_EMPTY:
			appendStringInfo(&msg, "bad query: %s must not be empty", name);
			break;
		case PH_ARG_NAME_LONG:
			appendStringInfo(&msg, "bad query: %s is too long: names are at most %d bytes",
							 name, PH_HTTP_MAX_NAME);
			break;
		case PH_ARG_NAME_ENCODING:
			appendStringInfo(&msg, "bad query: %s must be UTF-8, %%-escaped (%%XX), without %%00",
							 name);
			break;
		case PH_ARG_NAME_REPEATED:
			appendStringInfo(&msg, "bad query: %s is given twice", name);
			break;
		case PH_ARG_REFRESH:
			appendStringInfo(&msg, "bad query: refresh must be whole seconds, 1 to %d, given once",
							 PH_HTTP_MAX_REFRESH_S);
			break;
		default:
			/* not a parameter of this path: which path takes which */
			help_params(&msg);
			break;
	}
	respond_error(out, 400, msg.data, head, NULL);
}

/* ------------------------------------------------------------------------
 * The routes' handlers: a body and its status
 * ------------------------------------------------------------------------
 */

/*
 * A handler writes the body into body and sets *status (200 unless it says
 * otherwise); *waits when the body only says that names asked for are being
 * looked up, by a names worker that runs (ph_http_answer).
 */
typedef void (*PhHttpHandler) (StringInfo body, const PhHttpRequest *req, int *status,
							   bool *waits);

/* The role asked for with ?role=, else any. */
static PhRole
role_asked(const PhHttpRequest *req)
{
	if (req->role == PH_ROLE_ARG_PRIMARY)
		return PH_ROLE_PRIMARY;
	if (req->role == PH_ROLE_ARG_REPLICA)
		return PH_ROLE_REPLICA;
	return PH_ROLE_ANY;
}

/*
 * The per-tenant answer of a request with ?user= or ?database= (NULL
 * without), never waiting: a pair asked for the first time is "unknown"
 * until the names worker's pass, and *waits says so.
 */
static PhAdmission *
admission_of(const PhView *view, const PhHttpRequest *req, PhAdmission *adm, bool *waits)
{
	if (req->user[0] == '\0' && req->database[0] == '\0')
		return NULL;
	ph_read_admission(view, req->user[0] ? req->user : NULL,
					  req->database[0] ? req->database : NULL, true, 0, adm);
	*waits = ph_read_lookup_pending(&adm->answer);
	return adm;
}

/* The probe answer: the verdict, and the reasons when it is not positive. */
static void
verdict_body(StringInfo body, const PhHttpRequest *req, PhRole role, const char *probe,
			 int *status, bool *waits)
{
	PhView		view;
	PhAdmission adm;
	PhOverrides o = {req->lag_bytes, req->delay_ms};

	/* with the components: the reader buffers must stay of one sample */
	ph_read_view(&view, role, &o, true);
	ph_probe_json(body, view.snap, view.worker_pid, role, view.now, probe,
				  admission_of(&view, req, &adm, waits), status);
}

static void
answer_live(StringInfo body, const PhHttpRequest *req, int *status, bool *waits)
{
	verdict_body(body, req, role_asked(req), "live", status, waits);
}

static void
answer_ready(StringInfo body, const PhHttpRequest *req, int *status, bool *waits)
{
	verdict_body(body, req, role_asked(req), "ready", status, waits);
}

static void
answer_startup(StringInfo body, const PhHttpRequest *req, int *status, bool *waits)
{
	verdict_body(body, req, role_asked(req), "startup", status, waits);
}

static void
answer_primary(StringInfo body, const PhHttpRequest *req, int *status, bool *waits)
{
	verdict_body(body, req, PH_ROLE_PRIMARY, "ready", status, waits);
}

static void
answer_replica(StringInfo body, const PhHttpRequest *req, int *status, bool *waits)
{
	verdict_body(body, req, PH_ROLE_REPLICA, "ready", status, waits);
}

/* GET /health: health.report()'s document, as SQL returns it (jsonb text). */
static void
answer_health(StringInfo body, const PhHttpRequest *req, int *status, bool *waits)
{
	PhView		view;
	PhAdmission adm;
	PhAdmission *asked;
	PhRole		role = role_asked(req);
	PhOverrides o = {req->lag_bytes, req->delay_ms};
	Jsonb	   *jb;

	ph_read_view(&view, role, &o, true);
	asked = admission_of(&view, req, &adm, waits);
	jb = ph_report_jsonb(view.snap, view.components, view.poolers, view.worker_pid, role, view.now, asked);
	(void) JsonbToCString(body, &jb->root, VARSIZE(jb));
	appendStringInfoChar(body, '\n');
	*status = view.verdict.ready && (asked == NULL || asked->admit == PH_ADMIT_YES) ? 200 : 503;
}

static void
answer_metrics(StringInfo body, const PhHttpRequest *req, int *status, bool *waits)
{
	ph_metrics_text(body);
}

static void
answer_status_page(StringInfo body, const PhHttpRequest *req, int *status, bool *waits)
{
	ph_status_page_html(body, req->refresh_s, status);
}

/* GET /node: this node's identity document, always 200 */
static void
answer_node(StringInfo body, const PhHttpRequest *req, int *status, bool *waits)
{
	ph_node_json(body);
}

/* GET /cluster: the members and the cluster's verdict from here */
static void
answer_cluster(StringInfo body, const PhHttpRequest *req, int *status, bool *waits)
{
	ph_cluster_json(body, status);
}

/* GET /sync, /async: a standby named (or not) by the primary as synchronous */
static void
answer_sync(StringInfo body, const PhHttpRequest *req, int *status, bool *waits)
{
	ph_sync_json(body, true, status);
}

static void
answer_async(StringInfo body, const PhHttpRequest *req, int *status, bool *waits)
{
	ph_sync_json(body, false, status);
}

/* indexed by route, as ph_http_routes is: a new path is a row there and here */
static const PhHttpHandler handlers[PH_PATH_LAST + 1] = {
	[PH_PATH_LIVE] = answer_live,
	[PH_PATH_READY] = answer_ready,
	[PH_PATH_STARTUP] = answer_startup,
	[PH_PATH_HEALTH] = answer_health,
	[PH_PATH_PRIMARY] = answer_primary,
	[PH_PATH_REPLICA] = answer_replica,
	[PH_PATH_METRICS] = answer_metrics,
	[PH_PATH_STATUS] = answer_status_page,
	[PH_PATH_NODE] = answer_node,

	/*
	 * Patroni's names: /read-write and /leader are /primary, /read-only is
	 * /ready
	 */
	[PH_PATH_READ_WRITE] = answer_primary,
	[PH_PATH_READ_ONLY] = answer_ready,
	[PH_PATH_CLUSTER] = answer_cluster,
	[PH_PATH_SYNC] = answer_sync,
	[PH_PATH_ASYNC] = answer_async,
};

/* ------------------------------------------------------------------------
 * The answer
 * ------------------------------------------------------------------------
 */

bool
ph_http_answer(StringInfo out, PhHttpParse parsed, const PhHttpRequest *req, bool may_wait)
{
	StringInfoData body;
	int			status = 200;
	bool		waits = false;
	const PhHttpRoute *route;

	switch (parsed)
	{
		case PH_HTTP_OK:
			break;
		case PH_HTTP_BAD_QUERY:
			respond_bad_query(out, req->bad_arg, req->bad_is_database, req->head);
			return true;
		case PH_HTTP_NOT_FOUND:
			respond_not_found(out, req);
			return true;
		case PH_HTTP_BAD_METHOD:
			respond_bad_method(out, req);
			return true;
		case PH_HTTP_URI_TOO_LONG:
			respond_error(out, 414, "request line too long", req->head, NULL);
			return true;
		case PH_HTTP_HEADERS_TOO_LARGE:
			respond_error(out, 431, "request headers too large", req->head, NULL);
			return true;
		case PH_HTTP_BAD_VERSION:
			respond_error(out, 505, "HTTP version not supported: only HTTP/1.0 and HTTP/1.1",
						  req->head, NULL);
			return true;
		default:
			/* PH_HTTP_BAD_REQUEST, and a request that never completed */
			respond_error(out, 400, "malformed request", req->head, NULL);
			return true;
	}

	if (!ph_http_admission && (req->user[0] != '\0' || req->database[0] != '\0'))
	{
		respond_error(out, 403, "the per-tenant question (user=, database=) is off here: pg_health.http_admission",
					  req->head, NULL);
		return true;
	}
	if (req->path <= PH_PATH_NONE || req->path > PH_PATH_LAST || handlers[req->path] == NULL)
	{
		/* a route without a handler: a row added on one side only */
		respond_not_found(out, req);
		return true;
	}

	route = &ph_http_routes[req->path];
	initStringInfo(&body);
	handlers[req->path] (&body, req, &status, &waits);
	if (waits && may_wait)
	{
		pfree(body.data);
		return false;
	}

	/*
	 * OPTIONS, as Patroni answers it: the status, and no body; unlike HEAD's,
	 * its Content-Length is that of what follows, none
	 */
	respond_encoded(out, status, route->content_type, body.data, req->options ? 0 : body.len,
					req->head, req->gzip && route->gzip && !req->options, NULL);
	pfree(body.data);
	return true;
}

bool
ph_http_answer_waits(const PhHttpRequest *req)
{
	if (!ph_http_admission || (req->user[0] == '\0' && req->database[0] == '\0'))
		return false;
	return ph_read_admission_pending(req->user[0] ? req->user : NULL,
									 req->database[0] ? req->database : NULL);
}

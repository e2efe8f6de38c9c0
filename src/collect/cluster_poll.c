/*
 * cluster_poll.c -- (collect) the cluster's members, as this node sees them:
 * every pg_health.cluster_interval the pooler worker asks each member of
 * pg_health.cluster_members for its identity document (GET /node, node.c)
 * and publishes what it found for the sampler, which judges it
 * (cluster_checks.c).
 *
 * Every member is asked at once, non-blocking, each poll with a deadline
 * (pg_health.cluster_timeout); an answer is read into a buffer of
 * PH_NODE_ANSWER_MAX bytes, no more, and parsed strictly (an HTTP/1.x 200,
 * then one flat JSON object of strings, numbers, booleans and nulls with
 * the keys /node gives).  A member that is stopped, slow, huge, hostile or
 * garbage fails its own poll and nothing else.  Addresses are numeric (IPv4,
 * IPv6), "localhost", or host names, resolved asynchronously (glibc's
 * getaddrinfo_a: a helper thread of glibc's own, every signal blocked in
 * it) so that a resolver that does not answer never stalls the worker: the
 * member is "unresolved" until it answers, and a name is resolved again
 * every PH_RESOLVE_EVERY_S seconds, keeping its last address while the
 * resolver fails for a while.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "replication/walsender_private.h"
#include "port/pg_bswap.h"
#include "storage/ipc.h"
#include "storage/pmsignal.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "collect/cluster_poll.h"
#include "libpq-fe.h"
#include "ground/guard.h"
#include "ground/shmem.h"
#include "ground/wait_events.h"
#include "ground/worker_loop.h"

char	   *ph_cluster_name = NULL;
char	   *ph_cluster_members = NULL;
bool		ph_cluster_discover = false;
int			ph_cluster_discover_port = 0;
int			ph_cluster_interval_ms = 1000;
int			ph_cluster_timeout_ms = 1000;

/* an identity document is a few hundred bytes: anything longer is not one */
#define PH_NODE_ANSWER_MAX 4096

typedef enum PollStep
{
	POLL_IDLE,
	POLL_CONNECTING,
	POLL_READING,
	POLL_DONE
} PollStep;

/* a name is resolved again this often (and sooner after a failure) */
#define PH_RESOLVE_EVERY_S 30
#define PH_RESOLVE_RETRY_S 5

typedef struct Member
{
	PhMember	out;			/* what is published */
	struct sockaddr_storage addr;
	socklen_t	addrlen;
	bool		resolved;		/* addr holds its address */
	char		host[PH_TARGET_LEN];	/* a name to resolve ("": numeric) */
	uint16		port;
	int			resolution;		/* its resolution in flight; -1: none */
	TimestampTz next_resolve;
	TimestampTz seen_at;		/* discovered: last seen by discovery */
	bool		named_self;		/* this node by its name (or the loopback) */
	pgsocket	sock;
	PollStep	step;
	TimestampTz started;
	TimestampTz deadline;
	size_t		len;
	TimestampTz their_now;		/* its clock in its last valid answer */
	char		buf[PH_NODE_ANSWER_MAX + 1];
} Member;

static Member members[PH_MAX_MEMBERS];

/*
 * The resolutions handed to getaddrinfo_a: glibc writes into a slot until
 * it is done, so a slot is reused only once collected, even when the list
 * changed meanwhile (its member then -1).  Twice the members: a resolver
 * that never answers keeps a changed list's slots until it does.
 */
typedef struct Resolution
{
	struct gaicb cb;
	struct addrinfo hints;
	char		host[PH_TARGET_LEN];
	bool		busy;			/* handed over, not collected */
	int			member;			/* whose; -1: orphaned */
	TimestampTz started;
} Resolution;

static Resolution resolutions[PH_MAX_MEMBERS * 2];
static int	nmembers = 0;
static int	nconfigured = 0;	/* members[0..nconfigured) are the setting's */
static int	discovered_excess = 0;	/* discovered, not polled: the list is
									 * full */
static int	excess = 0;
static char *loaded = NULL;		/* the setting the list was made from */
static TimestampTz next_round = 0;

void
ph_define_cluster_poll_settings(void)
{
	DefineCustomStringVariable("pg_health.cluster_name",
							   "This node's name in its cluster, as GET /node gives it.",
							   "Empty (the default) uses the host name.",
							   &ph_cluster_name,
							   "",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("pg_health.cluster_members",
							   "The cluster's members: name=host:port of each node's pg_health HTTP endpoint, comma-separated.",
							   "This node may be in the list.  Hosts are IPv4 or IPv6 addresses, localhost, or host names (resolved without waiting); empty turns the cluster view off.",
							   &ph_cluster_members,
							   "",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_health.cluster_discover",
							 "Whether the cluster's members include those PostgreSQL knows of: this node's standbys and its upstream.",
							 "Each at the pg_health port of pg_health.cluster_discover_port; marked as discovered.",
							 &ph_cluster_discover,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.cluster_discover_port",
							"The pg_health HTTP port of the members discovered.",
							"0 (the default): this node's own pg_health.http_port.",
							&ph_cluster_discover_port,
							0, 0, 65535,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.cluster_interval",
							"Time between two polls of every cluster member's identity (GET /node).",
							NULL,
							&ph_cluster_interval_ms,
							1000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_health.cluster_timeout",
							"Time a poll of one cluster member may take, connecting and reading together.",
							"At most 10 s: the pooler worker polls the poolers between two rounds, and a longer wait would make them look unanswered (pg_health.pooler_grace).",
							&ph_cluster_timeout_ms,
							1000, 10, 10 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/* pg_health.cluster_name, or the host name: valid UTF-8 */
void
ph_node_name(char *out, size_t len)
{
	char		host[256];

	if (ph_cluster_name != NULL && ph_cluster_name[0] != '\0')
		ph_clean_text(out, len, ph_cluster_name, strlen(ph_cluster_name));
	else if (gethostname(host, sizeof(host)) == 0)
	{
		host[sizeof(host) - 1] = '\0';
		ph_clean_text(out, len, host, strlen(host));
	}
	else
		strlcpy(out, "", len);
}

/*
 * The application_name this standby's WAL receiver gives its upstream, as
 * walreceiver.c chooses it: primary_conninfo's, else cluster_name, else
 * "walreceiver".  What a primary's pg_stat_replication (and /node's
 * sync_standbys) names it by.
 */
void
ph_walreceiver_name(char *out, size_t len)
{
	const char *conninfo = GetConfigOption("primary_conninfo", true, false);
	const char *cluster = GetConfigOption("cluster_name", true, false);
	PQconninfoOption *opts = conninfo ? PQconninfoParse(conninfo, NULL) : NULL;

	strlcpy(out, cluster && cluster[0] ? cluster : "walreceiver", len);
	for (PQconninfoOption * o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "application_name") == 0 && o->val != NULL && o->val[0] != '\0')
			strlcpy(out, o->val, len);
	if (opts != NULL)
		PQconninfoFree(opts);
}

/* a host name as DNS allows it: letters, digits, '-', '.', '_' */
static bool
host_name(const char *h)
{
	size_t		len = strlen(h);

	if (len == 0 || len > 253 || h[0] == '-' || h[0] == '.')
		return false;
	return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") == len;
}

/* a resolved or numeric address with the member's port, into m */
static void
set_address(Member *m, const struct sockaddr *sa, socklen_t len)
{
	memset(&m->addr, 0, sizeof(m->addr));
	memcpy(&m->addr, sa, len);
	m->addrlen = len;
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *) &m->addr)->sin_port = pg_hton16(m->port);
	else
		((struct sockaddr_in6 *) &m->addr)->sin6_port = pg_hton16(m->port);
	m->resolved = true;
	/* where it is polled, numeric */
	if (getnameinfo(sa, len, m->out.resolved, sizeof(m->out.resolved), NULL, 0, NI_NUMERICHOST) != 0)
		m->out.resolved[0] = '\0';
}

/*
 * "host:port", "[v6]:port": a numeric address into m's, or a host name to
 * resolve into m->host; false when it is neither.
 */
static bool
parse_address(Member *m, const char *hostport)
{
	char		host[PH_TARGET_LEN];
	const char *colon = strrchr(hostport, ':');
	const char *h = hostport;
	size_t		hlen;
	long		port;
	char	   *end;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;

	m->resolved = false;
	m->host[0] = '\0';
	if (colon == NULL)
		return false;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535 || end == colon + 1)
		return false;
	m->port = (uint16) port;
	hlen = colon - hostport;
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']')
	{
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (strcmp(host, "localhost") == 0)
		strlcpy(host, "127.0.0.1", sizeof(host));
	memset(&in4, 0, sizeof(in4));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, host, &in4.sin_addr) == 1)
	{
		in4.sin_family = AF_INET;
		set_address(m, (struct sockaddr *) &in4, sizeof(in4));
		return true;
	}
	if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1)
	{
		in6.sin6_family = AF_INET6;
		set_address(m, (struct sockaddr *) &in6, sizeof(in6));
		return true;
	}
	if (!host_name(host))
		return false;
	strlcpy(m->host, host, sizeof(m->host));
	return true;
}

static void
close_member(Member *m)
{
	if (m->sock != PGINVALID_SOCKET)
		closesocket(m->sock);
	m->sock = PGINVALID_SOCKET;
}

/* A member at the end of the list; NULL when the list is full. */
static Member *
add_member(const char *name, const char *addr, bool self, bool discovered)
{
	Member	   *m;

	if (nmembers >= PH_MAX_MEMBERS)
		return NULL;
	m = &members[nmembers++];
	memset(&m->out, 0, sizeof(m->out));
	ph_clean_text(m->out.name, sizeof(m->out.name), name, strlen(name));
	ph_clean_text(m->out.address, sizeof(m->out.address), addr, strlen(addr));
	m->out.self = self;
	m->named_self = self;
	m->out.state_since = GetCurrentTimestamp();
	m->out.discovered = discovered;
	m->sock = PGINVALID_SOCKET;
	m->step = POLL_IDLE;
	m->resolution = -1;
	m->next_resolve = 0;
	m->seen_at = 0;
	if (!parse_address(m, addr))
		snprintf(m->out.error, sizeof(m->out.error),
				 "not host:port (an IP address or a host name, and a port)");
	else if (m->host[0] != '\0')
	{
		m->out.named = true;
		snprintf(m->out.error, sizeof(m->out.error), "not resolved yet");
	}
	m->out.state = m->resolved ? PH_MEMBER_UNKNOWN : PH_MEMBER_UNRESOLVED;
	return m;
}

/*
 * A resolution whose member is gone: cancelled if glibc has not started it
 * (then glibc no longer refers to the slot: free at once), else it ends for
 * nobody and its slot is collected then.
 */
static void
orphan(Resolution *res)
{
	res->member = -1;
	if (gai_cancel(&res->cb) == EAI_CANCELED)
	{
		res->busy = false;
		res->cb.ar_result = NULL;
	}
}

/* Member k out of the list; its resolution in flight ends for nobody. */
static void
remove_member(int k)
{
	close_member(&members[k]);
	for (int r = 0; r < (int) lengthof(resolutions); r++)
	{
		if (!resolutions[r].busy || resolutions[r].member < k)
			continue;
		if (resolutions[r].member == k)
			orphan(&resolutions[r]);
		else
			resolutions[r].member--;
	}
	for (int j = k + 1; j < nmembers; j++)
		members[j - 1] = members[j];
	nmembers--;
}

/* The list, made anew when the setting changed: "a=10.0.0.1:8008, b=..." */
static void
take_members(void)
{
	const char *setting = ph_cluster_members ? ph_cluster_members : "";
	const char *p;

	static char loaded_name[PH_MEMBER_NAME_LEN];
	char		own[PH_MEMBER_NAME_LEN];

	ph_node_name(own, sizeof(own));
	if (loaded != NULL && strcmp(loaded, setting) == 0 && strcmp(loaded_name, own) == 0)
		return;
	strlcpy(loaded_name, own, sizeof(loaded_name));
	while (nmembers > 0)
		remove_member(nmembers - 1);
	excess = 0;
	if (loaded != NULL)
		pfree(loaded);
	loaded = MemoryContextStrdup(TopMemoryContext, setting);
	p = setting;
	while (*p != '\0')
	{
		const char *end = strchr(p, ',');
		size_t		len = end ? (size_t) (end - p) : strlen(p);
		char		item[PH_MEMBER_NAME_LEN + PH_TARGET_LEN + 2];
		char	   *eq;
		char	   *name;
		char	   *addr;

		if (len >= sizeof(item))
			excess++;			/* said in /cluster: members_not_polled */
		else
		{
			memcpy(item, p, len);
			item[len] = '\0';
			name = item;
			while (*name == ' ')
				name++;
			eq = strchr(name, '=');
			if (eq != NULL)
			{
				*eq = '\0';
				addr = eq + 1;
				while (*addr == ' ')
					addr++;
				for (char *t = addr + strlen(addr); t > addr && t[-1] == ' '; t--)
					t[-1] = '\0';
				for (char *t = name + strlen(name); t > name && t[-1] == ' '; t--)
					t[-1] = '\0';
				if (name[0] != '\0' && addr[0] != '\0' &&
					add_member(name, addr, strcmp(own, name) == 0, false) == NULL)
					excess++;
			}
		}
		p += len;
		if (*p == ',')
			p++;
	}
	nconfigured = nmembers;
	next_round = 0;
}

/* ------------------------------------------------------------------------
 * Discovery (pg_health.cluster_discover): the members PostgreSQL knows of
 * ------------------------------------------------------------------------
 *
 * This node itself (over the loopback, at its own pg_health.http_port)
 * unless the setting lists it, a primary's streaming standbys (its
 * walsenders' client addresses; not pg_basebackup, nor pg_receivewal, which
 * replays nothing) and a standby's upstream (the WAL receiver's host), each
 * at the pg_health port of pg_health.cluster_discover_port (this node's own
 * by default), unless a configured member polls that address (as given, or
 * resolved).  A standby is named by its application_name (unless that is
 * the default "walreceiver"), else "standby-N", never by its address; the
 * upstream "upstream".  A member stays while PostgreSQL shows it and
 * PH_DISCOVERED_KEEP_S after (a standby that stops is reported, not
 * forgotten at once), answering or not.  Discovered members inform; they
 * never count for the partition rule nor fence (anyone allowed to stream
 * could be one).
 */
#define PH_DISCOVERED_KEEP_S 300

/* whether a configured member already polls host:port (by address, or resolved) */
static bool
configured_polls(const char *addr, const char *host, int port)
{
	for (int i = 0; i < nconfigured; i++)
	{
		const Member *m = &members[i];

		if (strcmp(m->out.address, addr) == 0 ||
			(m->port == port && m->out.resolved[0] != '\0' && strcmp(m->out.resolved, host) == 0))
			return true;
	}
	return false;
}

static void
saw(const char *name, const char *host, size_t host_size, int port, bool self, TimestampTz now)
{
	char		addr[PH_TARGET_LEN];
	char		clean_name[PH_MEMBER_NAME_LEN];
	char		numbered[PH_MEMBER_NAME_LEN];
	Member	   *m;
	int			len;

	/* a Unix socket, nothing we can poll, or a host cut to its buffer */
	if (host[0] == '\0' || host[0] == '/' || strchr(host, ',') != NULL || strchr(host, '=') != NULL ||
		strlen(host) >= host_size - 1)
		return;
	len = snprintf(addr, sizeof(addr), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	if (len < 0 || len >= (int) sizeof(addr))
		return;
	if (configured_polls(addr, host, port))
		return;
	for (int i = nconfigured; i < nmembers; i++)
		if (strcmp(members[i].out.address, addr) == 0)
		{
			members[i].seen_at = now;
			return;
		}
	/* never named by its address (which /cluster shows only as allowed) */
	if (name == NULL)
	{
		/* the lowest "standby-N" no member has */
		for (int k = 1; k <= PH_MAX_MEMBERS + 1; k++)
		{
			bool		taken = false;

			snprintf(numbered, sizeof(numbered), "standby-%d", k);
			for (int i = 0; i < nmembers && !taken; i++)
				taken = strcmp(members[i].out.name, numbered) == 0;
			if (!taken)
				break;
		}
		name = numbered;
	}
	/* a name no other member has: "c", else "c#2", ... */
	ph_clean_text(clean_name, sizeof(clean_name), name, strlen(name));
	for (int k = 2; k < 2 + PH_MAX_MEMBERS; k++)
	{
		bool		taken = false;

		for (int i = 0; i < nmembers && !taken; i++)
			taken = strcmp(members[i].out.name, clean_name) == 0;
		if (!taken)
			break;
		ph_clean_text(clean_name, sizeof(clean_name) - 8, name, strlen(name));
		snprintf(clean_name + strlen(clean_name), 8, "#%d", k);
	}
	m = add_member(clean_name, addr, self, true);
	if (m == NULL)
	{
		discovered_excess++;
		return;
	}
	m->seen_at = now;
}

/* this node's own pg_health.http_port (the HTTP worker's setting); 0: off */
static int
own_http_port(void)
{
	const char *setting = GetConfigOption("pg_health.http_port", true, false);

	return setting ? atoi(setting) : 0;
}

static void
discover(TimestampTz now)
{
	static PhSnapshot *snap = NULL;
	static PhStandbyTable *standbys = NULL;
	PhPublished p;
	char		own[PH_MEMBER_NAME_LEN];
	int			port = ph_cluster_discover_port;
	int			own_port;
	bool		have_self = false;

	static TimestampTz last = 0;

	if (!ph_cluster_discover)
	{
		while (nmembers > nconfigured)
			remove_member(nmembers - 1);
		discovered_excess = 0;
		return;
	}
	/* once a round (or a clock set back) */
	if (now >= last && now - last < (int64) ph_cluster_interval_ms * 1000)
		return;
	last = now;
	if (snap == NULL)
	{
		snap = MemoryContextAllocZero(TopMemoryContext, sizeof(PhSnapshot));
		standbys = MemoryContextAllocZero(TopMemoryContext, sizeof(PhStandbyTable));
	}
	memset(&p, 0, sizeof(p));
	p.snap = snap;
	p.standbys = standbys;
	if (!ph_copy_published(&p, PH_PART_STANDBYS) || snap->generation == 0)
		return;
	own_port = own_http_port();
	if (port == 0)
		port = own_port;
	if (port <= 0 || port > 65535)
		return;
	ph_node_name(own, sizeof(own));
	discovered_excess = 0;
	/* this node itself, over the loopback, unless the setting lists it */
	for (int i = 0; i < nconfigured; i++)
		have_self = have_self || members[i].out.self;
	if (!have_self && own_port > 0 && own_port <= 65535)
		saw(own, "127.0.0.1", sizeof("127.0.0.1") + 1, own_port, true, now);

	/*
	 * streaming physical standbys: not pg_basebackup, nor pg_receivewal (no
	 * replay)
	 */
	for (int k = 0; k < standbys->n; k++)
	{
		const PhStandby *sb = &standbys->items[k];
		bool		named = sb->application_name[0] != '\0' &&
			strcmp(sb->application_name, "walreceiver") != 0;

		if (sb->state != WALSNDSTATE_STREAMING || XLogRecPtrIsInvalid(sb->replay_lsn))
			continue;
		saw(named ? sb->application_name : NULL, sb->client_addr,
			sizeof(sb->client_addr), port, false, now);
	}
	if (snap->in_recovery)
		saw("upstream", snap->repl.sender_host, sizeof(snap->repl.sender_host),
			port, false, now);
	/* forget those PostgreSQL has not shown for a while, answering or not */
	for (int i = nmembers - 1; i >= nconfigured; i--)
		if (now - members[i].seen_at > (int64) PH_DISCOVERED_KEEP_S * 1000000)
			remove_member(i);
}

static void
member_failed(Member *m, const char *why, TimestampTz now)
{
	close_member(m);
	m->step = POLL_DONE;
	ph_clean_text(m->out.error, sizeof(m->out.error), why, strlen(why));
	if (m->out.state != PH_MEMBER_DOWN)
	{
		m->out.state = PH_MEMBER_DOWN;
		m->out.state_since = now;
	}
}

/* ------------------------------------------------------------------------
 * The answer: HTTP/1.x 200, headers, one flat JSON object
 * ------------------------------------------------------------------------
 */
typedef struct NodeDoc
{
	char		name[PH_MEMBER_NAME_LEN];
	char		sysid[32];
	int64		timeline;
	char		role[16];
	char		lsn[32];
	char		received_lsn[32];
	bool		ready;
	char		now[64];
	char		sync_standbys[PH_SYNC_NAMES_LEN];
	char		async_standbys[PH_SYNC_NAMES_LEN];
	bool		standbys_cut;	/* said so, or a list too long here */
	char		instance[40];
	int			seen;			/* bits of the keys found */
} NodeDoc;

#define K_NAME 1
#define K_SYSID 2
#define K_TLI 4
#define K_ROLE 8
#define K_LSN 16
#define K_READY 32
#define K_NOW 64
#define K_REQUIRED (K_NAME | K_SYSID | K_TLI | K_ROLE | K_LSN | K_READY | K_NOW)

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* A JSON string without escapes we need (\" and \\ pass), into out; NULL: bad. */
static const char *
json_string(const char *p, const char *end, char *out, size_t outlen)
{
	size_t		n = 0;

	if (p >= end || *p != '"')
		return NULL;
	p++;
	while (p < end && *p != '"')
	{
		char		c = *p;

		if ((unsigned char) c < 0x20)
			return NULL;
		if (c == '\\')
		{
			if (p + 1 >= end)
				return NULL;
			c = p[1];
			if (c != '"' && c != '\\' && c != '/')
				c = '?';		/* an escape we do not decode: kept visible */
			p++;
		}
		if (n + 1 < outlen)
			out[n++] = c;
		p++;
	}
	if (p >= end)
		return NULL;
	out[n] = '\0';
	return p + 1;
}

/* A value: a string (into str), a number, true/false (into *b), null. */
static const char *
json_value(const char *p, const char *end, char *str, size_t strlen_, bool *b, bool *is_null)
{
	*is_null = false;
	str[0] = '\0';
	if (p < end && *p == '"')
		return json_string(p, end, str, strlen_);
	if (end - p >= 4 && memcmp(p, "true", 4) == 0)
	{
		*b = true;
		return p + 4;
	}
	if (end - p >= 5 && memcmp(p, "false", 5) == 0)
	{
		*b = false;
		return p + 5;
	}
	if (end - p >= 4 && memcmp(p, "null", 4) == 0)
	{
		*is_null = true;
		return p + 4;
	}
	{
		size_t		n = 0;

		while (p < end && (isdigit((unsigned char) *p) || *p == '-' || *p == '+' ||
						   *p == '.' || *p == 'e' || *p == 'E'))
		{
			if (n + 1 < strlen_)
				str[n++] = *p;
			p++;
		}
		if (n == 0)
			return NULL;		/* an object, an array, or garbage */
		str[n] = '\0';
		return p;
	}
}

/*
 * A list of names "s1,s2" into out: whole names only.  A list longer than out
 * is cut at the last comma that fits (a name's beginning is not a name), and
 * said so (false).
 */
static bool
whole_names(char *out, size_t outlen, const char *list)
{
	size_t		len = strlen(list);

	if (len < outlen)
	{
		memcpy(out, list, len + 1);
		return true;
	}
	len = outlen - 1;
	while (len > 0 && list[len] != ',')
		len--;
	memcpy(out, list, len);
	out[len] = '\0';
	return false;
}

static bool
parse_doc(const char *body, size_t len, NodeDoc *d)
{
	const char *p = body;
	const char *end = body + len;

	memset(d, 0, sizeof(*d));
	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return false;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return false;
	for (;;)
	{
		char		key[32];
		char		val[PH_SYNC_NAMES_LEN + 64];
		bool		b = false;
		bool		is_null;

		p = json_string(skip_ws(p, end), end, key, sizeof(key));
		if (p == NULL)
			return false;
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return false;
		p = json_value(skip_ws(p + 1, end), end, val, sizeof(val), &b, &is_null);
		if (p == NULL)
			return false;
		/* a key twice is not an identity document (which one would be meant?) */
		{
			int			bit = strcmp(key, "name") == 0 ? K_NAME :
				strcmp(key, "system_identifier") == 0 ? K_SYSID :
				strcmp(key, "timeline") == 0 ? K_TLI :
				strcmp(key, "role") == 0 ? K_ROLE :
				strcmp(key, "lsn") == 0 ? K_LSN :
				strcmp(key, "ready") == 0 ? K_READY :
				strcmp(key, "now") == 0 ? K_NOW : 0;

			if (bit != 0 && (d->seen & bit))
				return false;
		}
		if (strcmp(key, "name") == 0 && !is_null)
		{
			strlcpy(d->name, val, sizeof(d->name));
			d->seen |= K_NAME;
		}
		else if (strcmp(key, "system_identifier") == 0 && !is_null)
		{
			strlcpy(d->sysid, val, sizeof(d->sysid));
			d->seen |= K_SYSID;
		}
		else if (strcmp(key, "timeline") == 0 && !is_null)
		{
			char	   *e;

			if (strspn(val, "0123456789") != strlen(val) || val[0] == '\0')
				return false;
			d->timeline = strtoll(val, &e, 10);
			d->seen |= K_TLI;
		}
		else if (strcmp(key, "role") == 0 && !is_null)
		{
			strlcpy(d->role, val, sizeof(d->role));
			d->seen |= K_ROLE;
		}
		else if (strcmp(key, "lsn") == 0 && !is_null)
		{
			strlcpy(d->lsn, val, sizeof(d->lsn));
			d->seen |= K_LSN;
		}
		else if (strcmp(key, "received_lsn") == 0 && !is_null)
			strlcpy(d->received_lsn, val, sizeof(d->received_lsn));
		else if (strcmp(key, "sync_standbys") == 0 && !is_null)
			d->standbys_cut |= !whole_names(d->sync_standbys, sizeof(d->sync_standbys), val);
		else if (strcmp(key, "async_standbys") == 0 && !is_null)
			d->standbys_cut |= !whole_names(d->async_standbys, sizeof(d->async_standbys), val);
		else if (strcmp(key, "standbys_cut") == 0 && !is_null)
		{
			/* a boolean, nothing else */
			if (val[0] != '\0')
				return false;
			d->standbys_cut |= b;
		}
		else if (strcmp(key, "instance") == 0 && !is_null)
			strlcpy(d->instance, val, sizeof(d->instance));
		else if (strcmp(key, "ready") == 0)
		{
			/* a boolean, nothing else */
			if (is_null || val[0] != '\0')
				return false;
			d->ready = b;
			d->seen |= K_READY;
		}
		else if (strcmp(key, "now") == 0 && !is_null)
		{
			strlcpy(d->now, val, sizeof(d->now));
			d->seen |= K_NOW;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',')
		{
			p++;
			continue;
		}
		if (p < end && *p == '}')
			break;
		return false;
	}
	p = skip_ws(p + 1, end);
	return p == end && (d->seen & K_REQUIRED) == K_REQUIRED;
}

/* "0/3000148" as an LSN; false when it is not one */
static bool
parse_lsn(const char *s, XLogRecPtr *out)
{
	const char *slash = strchr(s, '/');
	size_t		hi_len = slash ? (size_t) (slash - s) : 0;
	size_t		lo_len = slash ? strlen(slash + 1) : 0;
	const char *hex = "0123456789ABCDEFabcdef";

	/* 1-8 hex digits, a slash, 1-8 hex digits: nothing else */
	if (slash == NULL || hi_len < 1 || hi_len > 8 || lo_len < 1 || lo_len > 8 ||
		strspn(s, hex) != hi_len || strspn(slash + 1, hex) != lo_len)
		return false;
	*out = ((uint64) strtoul(s, NULL, 16) << 32) | (uint64) strtoul(slash + 1, NULL, 16);
	return true;
}

/* "2026-12-06T22:30:01.456789+00:00" as a timestamp, to microseconds; 0: bad */
static TimestampTz
parse_time(const char *s)
{
	int			y,
				mo,
				d,
				h,
				mi,
				n = 0;
	double		sec;
	struct pg_tm tm;
	TimestampTz ts;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
		strcmp(s + n, "+00:00") != 0 || !(sec >= 0 && sec < 61) ||
		y < 2000 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
		h < 0 || h > 23 || mi < 0 || mi > 59)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y;
	tm.tm_mon = mo;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = (int) sec;
	if (tm2timestamp(&tm, (fsec_t) ((sec - (int) sec) * 1000000), NULL, &ts) != 0)
		return 0;
	return ts;
}

static void
answered(Member *m, TimestampTz now)
{
	const char *hdr_end;
	const char *body;
	NodeDoc		d;
	XLogRecPtr	lsn = InvalidXLogRecPtr;
	XLogRecPtr	received = InvalidXLogRecPtr;
	TimestampTz their_now;
	uint64		sysid;
	char	   *end;
	PhMemberState state;

	m->buf[m->len] = '\0';
	if (m->len < 12 || (strncmp(m->buf, "HTTP/1.1 200", 12) != 0 &&
						strncmp(m->buf, "HTTP/1.0 200", 12) != 0))
	{
		member_failed(m, "not an identity document: no HTTP 200 answer to GET /node", now);
		return;
	}
	hdr_end = strstr(m->buf, "\r\n\r\n");
	if (hdr_end == NULL)
	{
		member_failed(m, "not an identity document: the answer's headers do not end", now);
		return;
	}
	body = hdr_end + 4;
	if (!parse_doc(body, m->len - (body - m->buf), &d) ||
		(strcmp(d.role, "primary") != 0 && strcmp(d.role, "standby") != 0 &&
		 strcmp(d.role, "recovering") != 0) ||
		!parse_lsn(d.lsn, &lsn) ||
		(d.received_lsn[0] != '\0' && !parse_lsn(d.received_lsn, &received)) ||
		(their_now = parse_time(d.now)) == 0 ||
		d.timeline < 0 || d.timeline > PG_UINT32_MAX ||
		(d.timeline == 0 && strcmp(d.role, "recovering") != 0))
	{
		member_failed(m, "not an identity document: GET /node answered something else", now);
		return;
	}
	sysid = strtoull(d.sysid, &end, 10);
	if (*end != '\0' || d.sysid[0] == '\0')
	{
		member_failed(m, "not an identity document: a bad system identifier", now);
		return;
	}
	close_member(m);
	m->step = POLL_DONE;
	ph_clean_text(m->out.node_name, sizeof(m->out.node_name), d.name, strlen(d.name));
	m->out.system_identifier = sysid;
	m->out.timeline = (uint32) d.timeline;
	m->out.primary = strcmp(d.role, "primary") == 0;
	m->out.recovering = strcmp(d.role, "recovering") == 0;
	if (m->out.answered_at == 0 || m->out.ready != d.ready || m->out.state != PH_MEMBER_UP)
		m->out.ready_since = now;
	m->out.ready = d.ready;
	ph_clean_text(m->out.sync_standbys, sizeof(m->out.sync_standbys), d.sync_standbys,
				  strlen(d.sync_standbys));
	ph_clean_text(m->out.async_standbys, sizeof(m->out.async_standbys), d.async_standbys,
				  strlen(d.async_standbys));
	m->out.standbys_cut = d.standbys_cut;
	ph_clean_text(m->out.instance, sizeof(m->out.instance), d.instance, strlen(d.instance));
	m->their_now = their_now;
	m->out.lsn = lsn;
	m->out.received_lsn = received;
	/* its clock at the answer's middle, against ours */
	m->out.clock_skew_ms = (their_now - (m->started + (now - m->started) / 2)) / 1000;
	m->out.poll_us = now - m->started;
	m->out.answered_at = now;
	m->out.error[0] = '\0';
	state = sysid == GetSystemIdentifier() ? PH_MEMBER_UP : PH_MEMBER_FOREIGN;
	if (state == PH_MEMBER_FOREIGN)
		snprintf(m->out.error, sizeof(m->out.error),
				 "another cluster: system identifier " UINT64_FORMAT ", not ours", sysid);
	if (m->out.state != state)
	{
		m->out.state = (uint8) state;
		m->out.state_since = now;
	}
}

/* ------------------------------------------------------------------------
 * Host names, resolved without waiting
 * ------------------------------------------------------------------------
 */
static void
unresolved(Member *m, const char *why, TimestampTz now)
{
	m->resolved = false;
	m->out.resolved[0] = '\0';
	ph_clean_text(m->out.error, sizeof(m->out.error), why, strlen(why));
	if (m->out.state != PH_MEMBER_UNRESOLVED)
	{
		m->out.state = PH_MEMBER_UNRESOLVED;
		m->out.state_since = now;
	}
}

/* A resolution ended (err: getaddrinfo's result): its address, or why not. */
static void
took_resolution(Member *m, const Resolution *res, int err, TimestampTz now)
{
	const struct addrinfo *ai;
	char		why[160];

	m->resolution = -1;
	m->next_resolve = TimestampTzPlusMilliseconds(now, PH_RESOLVE_EVERY_S * 1000);
	for (ai = err == 0 ? res->cb.ar_result : NULL; ai != NULL; ai = ai->ai_next)
		if ((ai->ai_family == AF_INET && ai->ai_addrlen == sizeof(struct sockaddr_in)) ||
			(ai->ai_family == AF_INET6 && ai->ai_addrlen == sizeof(struct sockaddr_in6)))
			break;
	if (ai != NULL)
	{
		set_address(m, ai->ai_addr, ai->ai_addrlen);
		if (m->out.state == PH_MEMBER_UNRESOLVED)
		{
			m->out.state = PH_MEMBER_UNKNOWN;
			m->out.state_since = now;
			m->out.error[0] = '\0';
		}
		return;
	}
	m->next_resolve = TimestampTzPlusMilliseconds(now, PH_RESOLVE_RETRY_S * 1000);
	/* a resolver failing for a while: the last address stands */
	if (m->resolved && (err == EAI_AGAIN || err == EAI_FAIL || err == EAI_SYSTEM ||
						err == EAI_MEMORY || err == EAI_CANCELED))
		return;
	snprintf(why, sizeof(why), "could not resolve %s: %s", m->host,
			 err == 0 ? "no IPv4 or IPv6 address" : gai_strerror(err));
	unresolved(m, why, now);
}

/*
 * Collect the resolutions that ended, start those that are due; a member
 * whose resolver has not answered yet says for how long.
 */
static void
resolve_step(TimestampTz now)
{
	for (int r = 0; r < (int) lengthof(resolutions); r++)
	{
		Resolution *res = &resolutions[r];
		int			err;

		if (!res->busy)
			continue;
		err = gai_error(&res->cb);
		if (err == EAI_INPROGRESS)
			continue;
		res->busy = false;
		if (res->member >= 0)
			took_resolution(&members[res->member], res, err, now);
		if (res->cb.ar_result != NULL)
			freeaddrinfo(res->cb.ar_result);
		res->cb.ar_result = NULL;
	}
	for (int i = 0; i < nmembers; i++)
	{
		Member	   *m = &members[i];
		Resolution *res = NULL;
		struct gaicb *list[1];
		int			rc;
		int			r;

		if (m->host[0] == '\0')
			continue;
		if (m->resolution >= 0)
		{
			char		why[160];

			if (m->resolved)
				continue;		/* polled at its last address meanwhile */
			snprintf(why, sizeof(why), "resolving %s: the resolver has not answered for %.0f s",
					 m->host, (now - resolutions[m->resolution].started) / 1e6);
			unresolved(m, why, now);
			continue;
		}
		if (now < m->next_resolve)
			continue;
		for (r = 0; r < (int) lengthof(resolutions); r++)
			if (!resolutions[r].busy)
			{
				res = &resolutions[r];
				break;
			}
		if (res == NULL)
		{
			if (!m->resolved)
				unresolved(m, "not resolved: earlier resolutions have not ended (the resolver does not answer)", now);
			continue;
		}
		memset(res, 0, sizeof(*res));
		strlcpy(res->host, m->host, sizeof(res->host));
		res->hints.ai_family = AF_UNSPEC;
		res->hints.ai_socktype = SOCK_STREAM;
		res->cb.ar_name = res->host;
		res->cb.ar_request = &res->hints;
		list[0] = &res->cb;
		rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
		/* it may fail after glibc took the request: then the slot is busy */
		if (rc != 0 && gai_error(&res->cb) != EAI_INPROGRESS)
		{
			res->cb.ar_result = NULL;
			took_resolution(m, res, rc, now);
			continue;
		}
		res->busy = true;
		res->member = i;
		res->started = now;
		m->resolution = r;
	}
}

/* ------------------------------------------------------------------------
 * A round
 * ------------------------------------------------------------------------
 */
static void
start_poll(Member *m, TimestampTz now)
{
	int			flags;

	m->step = POLL_DONE;
	if (!m->resolved)
		return;
	m->len = 0;
	m->started = now;
	m->deadline = TimestampTzPlusMilliseconds(now, ph_cluster_timeout_ms);
	m->sock = socket(m->addr.ss_family, SOCK_STREAM, 0);
	if (m->sock == PGINVALID_SOCKET)
	{
		member_failed(m, "could not create a socket", now);
		return;
	}
	flags = fcntl(m->sock, F_GETFL);
	if (flags < 0 || fcntl(m->sock, F_SETFL, flags | O_NONBLOCK) < 0 ||
		fcntl(m->sock, F_SETFD, FD_CLOEXEC) < 0)
	{
		member_failed(m, "could not make the socket non-blocking", now);
		return;
	}
	if (connect(m->sock, (struct sockaddr *) &m->addr, m->addrlen) < 0 && errno != EINPROGRESS)
	{
		char		why[128];

		snprintf(why, sizeof(why), "could not connect: %s", strerror(errno));
		member_failed(m, why, now);
		return;
	}
	m->step = POLL_CONNECTING;
}

static void
advance(Member *m, short revents, TimestampTz now)
{
	if (m->step == POLL_CONNECTING)
	{
		static const char request[] = "GET /node HTTP/1.1\r\nHost: pg_health\r\nConnection: close\r\n\r\n";
		int			err = 0;
		socklen_t	len = sizeof(err);
		ssize_t		n;

		if (getsockopt(m->sock, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0)
		{
			char		why[128];

			snprintf(why, sizeof(why), "could not connect: %s", strerror(err));
			member_failed(m, why, now);
			return;
		}
		n = send(m->sock, request, sizeof(request) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n != (ssize_t) sizeof(request) - 1)
		{
			member_failed(m, "could not send the request", now);
			return;
		}
		m->step = POLL_READING;
		return;
	}
	if (m->step == POLL_READING)
	{
		ssize_t		n = recv(m->sock, m->buf + m->len, PH_NODE_ANSWER_MAX - m->len, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n < 0)
		{
			member_failed(m, "the connection failed while reading the answer", now);
			return;
		}
		m->len += (size_t) n;
		if (n == 0)
			answered(m, now);	/* Connection: close: the end is the end */
		else if (m->len >= PH_NODE_ANSWER_MAX)
		{
			char		why[128];

			snprintf(why, sizeof(why), "not an identity document: more than %d bytes",
					 PH_NODE_ANSWER_MAX);
			member_failed(m, why, now);
		}
	}
}

static void
poll_members(void)
{
	TimestampTz now = GetCurrentTimestamp();
	struct pollfd fds[PH_MAX_MEMBERS];
	Member	   *who[PH_MAX_MEMBERS];

	for (int i = 0; i < nmembers; i++)
		start_poll(&members[i], now);
	for (;;)
	{
		int			nfds = 0;
		TimestampTz first_deadline = 0;

		now = GetCurrentTimestamp();
		for (int i = 0; i < nmembers; i++)
		{
			Member	   *m = &members[i];

			if (m->step == POLL_DONE || m->step == POLL_IDLE)
				continue;
			if (now >= m->deadline)
			{
				char		why[128];

				snprintf(why, sizeof(why), "no answer within pg_health.cluster_timeout (%d ms)%s",
						 ph_cluster_timeout_ms,
						 m->step == POLL_CONNECTING ? " while connecting" : "");
				member_failed(m, why, now);
				continue;
			}
			fds[nfds].fd = m->sock;
			fds[nfds].events = m->step == POLL_CONNECTING ? POLLOUT : POLLIN;
			fds[nfds].revents = 0;
			who[nfds++] = m;
			if (first_deadline == 0 || m->deadline < first_deadline)
				first_deadline = m->deadline;
		}
		if (nfds == 0)
			return;
		if (!ph_worker_poll(PH_WAIT_CLUSTER_ANSWERS, fds, nfds, first_deadline))
		{
			for (int k = 0; k < nfds; k++)
				member_failed(who[k], "poll failed", GetCurrentTimestamp());
			return;
		}
		now = GetCurrentTimestamp();
		for (int k = 0; k < nfds; k++)
			if (fds[k].revents != 0)
				advance(who[k], fds[k].revents, now);
	}
}

/* ------------------------------------------------------------------------
 * Lag behind the one primary
 * ------------------------------------------------------------------------
 *
 * In bytes: the primary's insert position against a standby's replay
 * position, each as of its poll in the same round.  In time, by the
 * primary's own clock: since the last round in which the primary had
 * written no further than the standby has replayed -- from the primary's
 * positions of the last rounds, kept in a ring (PH_LAG_RING rounds: at a
 * 1 s interval, a lag beyond about a minute is given as the ring's span, a
 * lower bound).  The ring restarts when another member, or the same on
 * another timeline, is the primary, or when the primary was away for more
 * than two rounds (a gap would read as lag).
 */
#define PH_LAG_RING 64

static struct
{
	XLogRecPtr	lsn;
	TimestampTz at;				/* the primary's clock */
}			lag_ring[PH_LAG_RING];
static int	lag_n = 0;
static int	lag_head = 0;		/* the next slot to write */
static char lag_primary[PH_MEMBER_NAME_LEN];
static uint32 lag_timeline = 0;

static void
compute_lags(void)
{
	Member	   *primary = NULL;
	int			primaries = 0;

	for (int i = 0; i < nmembers; i++)
	{
		members[i].out.lag_bytes = -1;
		members[i].out.lag_us = -1;
		if (members[i].out.state == PH_MEMBER_UP && members[i].out.primary &&
			!members[i].out.recovering && members[i].out.same_as[0] == '\0')
		{
			primary = &members[i];
			primaries++;
		}
	}
	/* none or several this round: nothing to measure against (the ring stays) */
	if (primaries != 1)
		return;
	if (lag_n == 0 || strcmp(lag_primary, primary->out.name) != 0 ||
		lag_timeline != primary->out.timeline ||
		primary->their_now - lag_ring[(lag_head + PH_LAG_RING - 1) % PH_LAG_RING].at >
		(int64) 2 * (ph_cluster_interval_ms + ph_cluster_timeout_ms) * 1000)
	{
		lag_n = 0;
		lag_head = 0;
		strlcpy(lag_primary, primary->out.name, sizeof(lag_primary));
		lag_timeline = primary->out.timeline;
	}
	/* this round's position, unless the last one already had it */
	if (lag_n == 0 || lag_ring[(lag_head + PH_LAG_RING - 1) % PH_LAG_RING].at != primary->their_now)
	{
		lag_ring[lag_head].lsn = primary->out.lsn;
		lag_ring[lag_head].at = primary->their_now;
		lag_head = (lag_head + 1) % PH_LAG_RING;
		lag_n = Min(lag_n + 1, PH_LAG_RING);
	}
	for (int i = 0; i < nmembers; i++)
	{
		PhMember   *m = &members[i].out;
		TimestampTz caught_up = lag_ring[(lag_head + PH_LAG_RING - lag_n) % PH_LAG_RING].at;

		if (m->state != PH_MEMBER_UP || m->primary || m->recovering)
			continue;
		m->lag_bytes = primary->out.lsn > m->lsn ? (int64) (primary->out.lsn - m->lsn) : 0;
		if (m->lag_bytes == 0)
		{
			m->lag_us = 0;
			continue;
		}

		/*
		 * The last round in which the primary had written no further than it
		 * has replayed: it lacks WAL written since, at most that long ago
		 * (one interval's resolution).  None in the ring: at least as old as
		 * the ring.
		 */
		for (int k = 1; k <= lag_n; k++)
		{
			int			slot = (lag_head + PH_LAG_RING - k) % PH_LAG_RING;

			if (lag_ring[slot].lsn <= m->lsn)
			{
				caught_up = lag_ring[slot].at;
				break;
			}
		}
		m->lag_us = Max(primary->their_now - caught_up, 0);
	}
}

/*
 * This server's identity in /node: its postmaster's pid and start, which
 * two servers share only by a coincidence of both.
 */
void
ph_node_instance(char *out, size_t len)
{
	snprintf(out, len, "%d-" INT64_FORMAT, (int) PostmasterPid, (int64) PgStartTime);
}

/* a named member whose first resolution may still come: not counted yet */
#define PH_RESOLVE_GRACE_S 10

/*
 * After a round: which members are the same server (by the instance in
 * their documents: a configured one and a discovered one, a name and an
 * address of one host), which one is this server, and which count for
 * the partition rule -- the configured members, once each, but an address
 * that is none, and a name given a little time for its first resolution.
 */
static void
identify(TimestampTz now)
{
	char		own[40];

	ph_node_instance(own, sizeof(own));
	for (int i = 0; i < nmembers; i++)
	{
		PhMember   *m = &members[i].out;

		m->same_as[0] = '\0';

		/*
		 * this node: by its name, or answering now with this server's
		 * instance
		 */
		m->self = members[i].named_self ||
			(m->state == PH_MEMBER_UP && m->instance[0] != '\0' && strcmp(m->instance, own) == 0);
	}

	/*
	 * The same server twice: by the instance of their last answers.  A member
	 * points at another that answers now if there is one, else at an earlier
	 * one; never at a discovered member (anyone may stream and claim any
	 * instance) unless that is this node over the loopback.
	 */
	for (int i = 0; i < nmembers; i++)
	{
		PhMember   *m = &members[i].out;
		int			target = -1;

		if (m->instance[0] == '\0' || m->answered_at == 0)
			continue;
		for (int j = 0; j < nmembers; j++)
		{
			const PhMember *o = &members[j].out;

			if (j == i || o->same_as[0] != '\0' || o->answered_at == 0 ||
				strcmp(o->instance, m->instance) != 0 || (o->discovered && !members[j].named_self))
				continue;
			/* one that answers now, else an earlier one; never hide an up one */
			if (m->state == PH_MEMBER_UP && (o->state != PH_MEMBER_UP || j > i))
				continue;
			if (m->state != PH_MEMBER_UP && o->state != PH_MEMBER_UP && j > i)
				continue;
			if (target < 0 || (o->state == PH_MEMBER_UP && members[target].out.state != PH_MEMBER_UP))
				target = j;
		}
		if (target >= 0)
			strlcpy(m->same_as, members[target].out.name, sizeof(m->same_as));
	}
	for (int i = 0; i < nmembers; i++)
	{
		PhMember   *m = &members[i].out;

		m->counted = !m->discovered && m->same_as[0] == '\0' &&
			(m->state != PH_MEMBER_UNRESOLVED ||
			 (m->named && now - m->state_since >= (int64) PH_RESOLVE_GRACE_S * 1000000));
	}
}

/* how long the worker's other round (its poolers') may hold up ours */
static int	other_round_ms = 0;

/*
 * What the cluster check judges first, as a fingerprint: which members are
 * up and primary, on which timeline.  When it changes, the sampler is asked
 * for a sample now rather than at its next interval, so that /cluster and
 * the check follow a failover within a polling round.
 */
static uint64
roles_fingerprint(void)
{
	uint64		h = 1469598103934665603ULL;

	for (int i = 0; i < nmembers; i++)
	{
		const PhMember *m = &members[i].out;
		uint64		v = ((uint64) m->state << 40) | ((uint64) (m->primary && !m->recovering) << 33) |
			((uint64) (m->same_as[0] != '\0') << 32) | m->timeline;

		h = (h ^ v) * 1099511628211ULL;
	}
	return h;
}

static void
publish(TimestampTz at)
{
	PhClusterTable *t = &ph_shared->cluster_polls;
	uint64		roles = roles_fingerprint();

	static uint64 last_roles = 0;

	LWLockAcquire(ph_shared->lock, LW_EXCLUSIVE);
	t->n = nmembers;
	t->excess = excess + discovered_excess;
	t->poller_pid = MyProcPid;
	t->polled_at = at;
	/* three rounds late, each as long as it may take, and a pooler round */
	t->stale_after_ms = 3 * (ph_cluster_interval_ms + ph_cluster_timeout_ms) + other_round_ms;
	for (int i = 0; i < nmembers; i++)
		t->members[i] = members[i].out;
	LWLockRelease(ph_shared->lock);
	if (roles != last_roles)
		ph_nudge_sampler();
	last_roles = roles;
}

/*
 * Before this worker's first round: whether to wait for this node's own
 * HTTP endpoint, which starts beside it with the server, to listen.  A
 * round before then would read this node, a member of its own list, as
 * unreachable, and a primary's cluster as without a primary: a critical
 * event on every start.  It waits at most PH_OWN_ENDPOINT_WAIT_MS from its
 * first step: an endpoint that cannot listen (its port taken) is then
 * reported as it is.
 */
#define PH_OWN_ENDPOINT_WAIT_MS 5000
#define PH_OWN_ENDPOINT_STEP_MS 20

static bool
awaiting_own_endpoint(TimestampTz now)
{
	static TimestampTz first_step = 0;
	static bool polled = false;
	int			own_port;
	bool		self = false;

	if (polled)
		return false;
	if (first_step == 0)
		first_step = now;
	for (int i = 0; i < nmembers; i++)
		self = self || members[i].named_self;
	own_port = own_http_port();
	if (self && own_port > 0 && ph_http_listening() != own_port &&
		now - first_step < (int64) PH_OWN_ENDPOINT_WAIT_MS * 1000)
		return true;
	polled = true;
	return false;
}

/*
 * In the pooler worker's loop: a round when one is due (every member at
 * once, within pg_health.cluster_timeout), then publish.  between_ms: how
 * long the worker's other work may delay a round.  Returns the ms until the
 * next round is due (-1: no members).
 */
long
ph_cluster_poll_step(int between_ms)
{
	TimestampTz now;

	static bool published_empty = false;

	other_round_ms = between_ms;
	take_members();
	discover(GetCurrentTimestamp());
	if (nmembers == 0)
	{
		/* once: readers see that nobody is a member */
		if (!published_empty)
			publish(0);
		published_empty = true;
		return -1;
	}
	published_empty = false;
	now = GetCurrentTimestamp();
	resolve_step(now);
	/* a clock set back, or a shorter interval: never wait past one interval */
	if (next_round > TimestampTzPlusMilliseconds(now, ph_cluster_interval_ms))
		next_round = now;
	if (awaiting_own_endpoint(now))
	{
		/* readers see the members, not polled yet */
		publish(0);
		return PH_OWN_ENDPOINT_STEP_MS;
	}
	if (now >= next_round)
	{
		next_round = TimestampTzPlusMilliseconds(now, ph_cluster_interval_ms);
		poll_members();
		identify(GetCurrentTimestamp());
		compute_lags();
		publish(now);
		now = GetCurrentTimestamp();
	}
	return Max(TimestampDifferenceMilliseconds(now, next_round), 1);
}

/* In the sampler: the members as last published. */
void
ph_read_cluster(PhClusterTable *t)
{
	LWLockAcquire(ph_shared->lock, LW_SHARED);
	t->n = ph_shared->cluster_polls.n;
	t->excess = ph_shared->cluster_polls.excess;
	t->poller_pid = ph_shared->cluster_polls.poller_pid;
	t->polled_at = ph_shared->cluster_polls.polled_at;
	t->stale_after_ms = ph_shared->cluster_polls.stale_after_ms;
	memcpy(t->members, ph_shared->cluster_polls.members, sizeof(PhMember) * t->n);
	LWLockRelease(ph_shared->lock);
}

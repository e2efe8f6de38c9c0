/*
 * guard.c -- (ground) what keeps pg_health's own SQL safe and what comes from outside
 * clean.
 *
 * pg_health runs SQL of its own in every database it is installed in, some
 * of it as a table's owner (a switch like SECURITY DEFINER) and some in a
 * worker connected as the bootstrap superuser.  Every such statement is
 * planned under search_path = pg_catalog, pg_temp, set at a GUC nest level
 * of its own, as PostgreSQL does for a function with a SET clause: nothing a
 * role can create in a schema of the caller's or the database's search_path
 * is ever resolved by pg_health's own statements.
 *
 * Text from outside -- names from unauthenticated startup packets, details
 * written by applications, error messages in a database's own encoding --
 * is made valid UTF-8 without control characters, and cut to its place on
 * a character boundary, before it enters shared memory: every reader
 * (JSON, HTTP, metrics) can then trust it.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/backend_status.h"
#include "common/ip.h"
#include "utils/inet.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "ground/guard.h"

/*
 * Set search_path (PH_SAFE_SEARCH_PATH when NULL) at a new GUC nest level;
 * ph_unpin_search_path, or the end of the (sub)transaction, restores it.
 * An invalid search_path raises the GUC's own error.
 */
int
ph_pin_search_path(const char *search_path)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", search_path ? search_path : PH_SAFE_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, ERROR, false);
	return nestlevel;
}

void
ph_unpin_search_path(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/*
 * Act as the owner of health.<relname>, as a SECURITY DEFINER function
 * would: a restricted operation, under the safe search_path.  Errors undo
 * it with the transaction; ph_restore_user undoes it otherwise.
 */
void
ph_become_table_owner(const char *relname, PhSavedUser *save)
{
	Oid			nsp = get_namespace_oid("health", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table health.%s does not exist in this database", relname),
				 errhint("Run CREATE EXTENSION pg_health in this database.")));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);

	GetUserIdAndSecContext(&save->userid, &save->sec_context);
	SetUserIdAndSecContext(owner, save->sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save->guc_nestlevel = ph_pin_search_path(NULL);
}

void
ph_restore_user(const PhSavedUser *save)
{
	ph_unpin_search_path(save->guc_nestlevel);
	SetUserIdAndSecContext(save->userid, save->sec_context);
}

/*
 * Copy at most srclen bytes of src into dst (size bytes, always terminated)
 * as valid UTF-8: an invalid byte becomes '?', a control character a space,
 * and a character that does not fit whole is left out with the rest.  Takes
 * no lock and allocates nothing: it runs in dying backends too.
 */
void
ph_clean_text(char *dst, size_t size, const char *src, size_t srclen)
{
	const unsigned char *p = (const unsigned char *) src;
	const unsigned char *end = p + srclen;
	size_t		out = 0;

	if (size == 0)
		return;
	while (p < end && *p != '\0')
	{
		int			len = 1;

		if (*p >= 0x80)
		{
			len = pg_utf_mblen(p);
			if (len < 2 || len > end - p || !pg_utf8_islegal(p, len))
			{
				if (out + 1 >= size)
					break;
				dst[out++] = '?';
				p++;
				continue;
			}
		}
		if (out + len >= size)
			break;
		if (len == 1)
			dst[out++] = (*p < 0x20 || *p == 0x7f) ? ' ' : (char) *p;
		else
		{
			memcpy(dst + out, p, len);
			out += len;
		}
		p += len;
	}
	dst[out] = '\0';
}

/*
 * The same for text in the current database's encoding (an error message,
 * a detail an application wrote): converted to UTF-8 first where the
 * encoding says what its bytes mean.  SQL_ASCII says nothing, so its bytes
 * are only cleaned.
 */
void
ph_clean_server_text(char *dst, size_t size, const char *src)
{
	int			enc = GetDatabaseEncoding();
	size_t		len = strlen(src);
	char	   *utf8 = (char *) src;

	if (enc != PG_UTF8 && enc != PG_SQL_ASCII)
	{
		/* a few characters past the place are enough to fill it */
		size_t		take = Min(len, size * MAX_CONVERSION_GROWTH);

		MemoryContext cxt = CurrentMemoryContext;

		take = pg_mbcliplen(src, (int) take, (int) take);
		/* a character without a UTF-8 mapping: clean the bytes as they are */
		PG_TRY();
		{
			utf8 = (char *) pg_do_encoding_conversion((unsigned char *) src, (int) take,
													  enc, PG_UTF8);
			len = strlen(utf8);
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(cxt);
			FlushErrorState();
			utf8 = (char *) src;
		}
		PG_END_TRY();
	}
	ph_clean_text(dst, size, utf8, len);
	if (utf8 != src)
		pfree(utf8);
}

/* An interval in milliseconds, a month as 30 days (as interval comparison does). */
double
ph_interval_ms(const Interval *iv)
{
	return (iv->time + (double) iv->day * USECS_PER_DAY +
			(double) iv->month * DAYS_PER_MONTH * USECS_PER_DAY) / 1000.0;
}

int
ph_clamp_ms(double ms, int min_ms, int max_ms)
{
	if (isnan(ms) || ms < min_ms)
		return min_ms;
	if (ms > max_ms)
		return max_ms;
	return (int) ms;
}

/* "100 ms", "30 s", "24 h": the largest unit that says it exactly */
static void
format_ms(char *buf, size_t len, int ms)
{
	if (ms >= 3600 * 1000 && ms % (3600 * 1000) == 0)
		snprintf(buf, len, "%d h", ms / (3600 * 1000));
	else if (ms >= 60 * 1000 && ms % (60 * 1000) == 0)
		snprintf(buf, len, "%d min", ms / (60 * 1000));
	else if (ms >= 1000 && ms % 1000 == 0)
		snprintf(buf, len, "%d s", ms / 1000);
	else
		snprintf(buf, len, "%d ms", ms);
}

/*
 * An interval argument in milliseconds, within [min_ms, max_ms]: NULL and
 * anything outside (negative, infinite, too large) are errors naming it.
 */
int
ph_interval_arg_ms(FunctionCallInfo fcinfo, int argno, const char *what, int min_ms, int max_ms)
{
	double		ms;
	char		lo[32],
				hi[32];

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what),
				 errhint("Leave it out to take the default.")));
	ms = ph_interval_ms(PG_GETARG_INTERVAL_P(argno));
	if (isnan(ms) || ms < min_ms || ms > max_ms)
	{
		format_ms(lo, sizeof(lo), min_ms);
		format_ms(hi, sizeof(hi), max_ms);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between %s and %s", what, lo, hi),
				 errhint("Pass an interval such as '10s'.")));
	}
	return (int) ms;
}

/* Names: 1 to 63 bytes of lower-case letters, digits, '_', '.', '-'. */
bool
ph_valid_name(const char *name, const char **why)
{
	size_t		len = strlen(name);

	if (len == 0)
	{
		*why = "is empty";
		return false;
	}
	if (len >= NAMEDATALEN)
	{
		*why = "is longer than 63 bytes";
		return false;
	}
	for (const char *p = name; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			  *p == '_' || *p == '.' || *p == '-'))
		{
			*why = "contains a character other than a-z, 0-9, '_', '.' and '-'";
			return false;
		}
	}
	return true;
}

char	   *
ph_name_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	char	   *name;
	const char *why;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what),
				 errhint("Names are 1 to 63 bytes of lower-case letters, digits, '_', '.' and '-'.")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (!ph_valid_name(name, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\": it %s", what, name, why),
				 errhint("Names are 1 to 63 bytes of lower-case letters, digits, '_', '.' and '-'.")));
	return name;
}

/*
 * A session's client address as text (numeric, IPv6 scope removed), or false
 * for a Unix socket or an unknown family.  Shared by the sessions and
 * replication collectors and health.sessions.
 */
bool
ph_format_client_addr(const PgBackendStatus *be, char *host, size_t len)
{
	const SockAddr *addr = &be->st_clientaddr;
	char		port[NI_MAXSERV];

	if (addr->addr.ss_family != AF_INET && addr->addr.ss_family != AF_INET6)
		return false;
	host[0] = port[0] = '\0';
	if (pg_getnameinfo_all(&addr->addr, addr->salen, host, len,
						   port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return false;
	clean_ipv6_addr(addr->addr.ss_family, host);
	return true;
}

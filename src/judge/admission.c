/*
 * admission.c -- the per-tenant verdict (judge): would a new connection for
 * this role to this database be admitted now?
 *
 * It weighs what InitPostgres() and authentication weigh, in the order a
 * connection meets them: the role exists, may log in and its password has
 * not expired (VALID UNTIL); the database exists, allows connections, is not
 * half-dropped, and the role has CONNECT on it; neither is at its CONNECTION
 * LIMIT (superusers are exempt, as in core); and a slot is free for this
 * role: an ordinary one, or a reserved one for a superuser or (16+) a member
 * of pg_use_reserved_connections.  Every "no" is a reason with the command
 * that fixes it.  The facts come from the names worker's lookup (asked_pairs.c);
 * the slot and session figures from the sample.  What it cannot see is said
 * in docs/checks.md: pg_hba.conf and the client's credentials.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "judge/admission.h"

static const char *const admit_names[] = {
	[PH_ADMIT_YES] = "yes",
	[PH_ADMIT_NO] = "no",
	[PH_ADMIT_UNKNOWN] = "unknown",
};

const char *
ph_admit_name(PhAdmit admit)
{
	return admit_names[admit];
}

/* A reason: one that refuses (no), or one that leaves the answer unknown. */
static void
pg_attribute_printf(5, 6)
add(PhAdmission *adm, bool refuses, const char *reason, const char *fix, const char *fmt,...)
{
	PhAdmissionReason *r;
	va_list		ap;

	if (adm->nreasons >= PH_MAX_ADMISSION_REASONS)
		return;
	r = &adm->reasons[adm->nreasons++];
	r->reason = reason;
	r->refuses = refuses;
	r->lasting = refuses && strcmp(reason, "role_limit") != 0 &&
		strcmp(reason, "database_limit") != 0 && strcmp(reason, "no_slot") != 0;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	strlcpy(r->fix, fix, sizeof(r->fix));
}

#define add_reason(adm, ...)	add((adm), true, __VA_ARGS__)
#define add_unknown(adm, ...)	add((adm), false, __VA_ARGS__)

/*
 * A role's or a database's CONNECTION LIMIT (superusers exempt: the caller
 * asks only for others): a "no" when used has reached it, "unknown" when
 * its sessions are not tracked (used < 0).  kind is "role" or "database".
 */
static void
judge_limit(PhAdmission *adm, const char *kind, const char *name, int limit, int used)
{
	bool		is_role = strcmp(kind, "role") == 0;
	char		fix[PH_DETAIL_LEN];

	if (limit < 0)
		return;
	if (used < 0)
	{
		snprintf(fix, sizeof(fix), "pg_health tracks the sessions of the first %d %s that have any.",
				 PH_MAX_NAMES, is_role ? "roles" : "databases");
		add_unknown(adm, is_role ? "role_sessions_untracked" : "database_sessions_untracked", fix,
					"%s \"%s\" has a CONNECTION LIMIT of %d, and its sessions are not tracked",
					kind, name, limit);
	}
	else if (used >= limit)
	{
		snprintf(fix, sizeof(fix), "ALTER %s %s CONNECTION LIMIT %d; (or end some of its sessions)",
				 is_role ? "ROLE" : "DATABASE", quote_identifier(name), limit + Max(limit / 4, 1));
		add_reason(adm, is_role ? "role_limit" : "database_limit", fix,
				   "%s \"%s\" has %d sessions: its CONNECTION LIMIT is %d",
				   kind, name, used, limit);
	}
}

/* Why the facts are not there: the lookup's state. */
static void
judge_lookup(PhAdmission *adm)
{
	const PhTenantAnswer *a = &adm->answer;

	switch ((PhLookup) a->lookup)
	{
		case PH_LOOKUP_DONE:
			break;
		case PH_LOOKUP_PENDING:
			if (a->names_pid == 0)
				add_unknown(adm, "names_worker_absent",
							"The \"pg_health names\" worker starts once the server is consistent and restarts within 5 s; see the server log.",
							"the names worker is not running, so these names have not been looked up");
			else
				add_unknown(adm, "looking_up", "Ask again in a second.",
							"asked now: the names worker looks these names up within a pass");
			break;
		case PH_LOOKUP_STALE:
			add_unknown(adm, "names_stale",
						"The \"pg_health names\" worker restarts within 5 s; see the server log.",
						"the names were last looked up at %s: the names worker is not keeping up",
						timestamptz_to_str(a->looked_up_at));
			break;
		case PH_LOOKUP_FULL:
			if (a->full_own_limit)
				add_unknown(adm, "asked_table_full",
							"Ask about fewer pairs from this role, or ask again in a minute.",
							"this login role asked about %d other role and database pairs in the last minute: no room to remember this one yet",
							PH_ASKED_PER_ROLE);
			else
				add_unknown(adm, "asked_table_full", "Ask again in a minute.",
							"%d other role and database pairs were asked about %s in the last minute: no room to remember this one yet",
							a->asker_kind == PH_ASKER_HTTP ? PH_ASKED_HTTP :
							a->asker_kind == PH_ASKER_COMPONENT ? PH_ASKED_COMPONENTS : PH_ASKED_SQL,
							a->asker_kind == PH_ASKER_HTTP ? "over HTTP" :
							a->asker_kind == PH_ASKER_COMPONENT ? "for components" : "from SQL");
			break;
		case PH_LOOKUP_BUSY:
			add_unknown(adm, "busy", "Ask again.",
						"pg_health's shared memory was busy: the lookup was not read");
			break;
	}
}

static void
judge_role(PhAdmission *adm, TimestampTz now)
{
	const PhTenantFacts *f = &adm->answer.facts;
	const char *q = quote_identifier(adm->user);
	char		fix[PH_DETAIL_LEN];

	if (!f->role_exists)
	{
		add_reason(adm, "no_such_role",
				   "Check the name (role names are case-sensitive), or CREATE ROLE it WITH LOGIN.",
				   "role \"%s\" does not exist", adm->user);
		return;
	}
	if (!f->can_login)
	{
		snprintf(fix, sizeof(fix), "ALTER ROLE %s LOGIN;", q);
		add_reason(adm, "role_cannot_login", fix, "role \"%s\" is not permitted to log in", adm->user);
	}
	if (f->valid_until != DT_NOEND && f->valid_until < now)
	{
		snprintf(fix, sizeof(fix), "ALTER ROLE %s VALID UNTIL 'infinity'; (or a later date)", q);
		add_reason(adm, "role_expired", fix,
				   "the password of role \"%s\" has expired (VALID UNTIL): password authentication refuses it (trust, peer and certificate authentication do not look at it)",
				   adm->user);
	}
	if (!f->superuser || adm->hide_facts)
		judge_limit(adm, "role", adm->user, f->role_connlimit, adm->answer.role_used);
}

static void
judge_database(PhAdmission *adm)
{
	const PhTenantFacts *f = &adm->answer.facts;
	const char *q = quote_identifier(adm->database);
	char		fix[PH_DETAIL_LEN];

	/* over HTTP everyone is judged as an ordinary role: see judge_slots() */
	bool		superuser = adm->user != NULL && f->role_exists && f->superuser && !adm->hide_facts;

	if (!f->db_exists)
	{
		add_reason(adm, "no_such_database",
				   "Check the name (database names are case-sensitive), or CREATE DATABASE it.",
				   "database \"%s\" does not exist", adm->database);
		return;
	}
	if (!f->db_valid)
	{
		snprintf(fix, sizeof(fix), "DROP DATABASE %s; (it cannot be used again)", q);
		add_reason(adm, "database_invalid", fix,
				   "database \"%s\" is invalid: a DROP DATABASE was interrupted", adm->database);
		return;
	}
	if (!f->allow_conn)
	{
		snprintf(fix, sizeof(fix), "ALTER DATABASE %s ALLOW_CONNECTIONS true;", q);
		add_reason(adm, "database_not_allowing", fix,
				   "database \"%s\" does not allow connections", adm->database);
	}
	if (!superuser)
		judge_limit(adm, "database", adm->database, f->db_connlimit, adm->answer.db_used);
	if (adm->user != NULL && f->role_exists &&
		(adm->hide_facts ? f->can_connect_ordinary : f->can_connect) == 0)
	{
		snprintf(fix, sizeof(fix), "GRANT CONNECT ON DATABASE %s TO %s;", q,
				 quote_identifier(adm->user));
		add_reason(adm, "no_connect_privilege", fix,
				   "role \"%s\" does not have CONNECT on database \"%s\"",
				   adm->user, adm->database);
	}
}

/*
 * A free slot for this role, as InitPostgres() checks: superusers may take
 * every slot, pg_use_reserved_connections members all but the superusers'
 * reserve, everyone else what neither reserve holds.  A role not asked about
 * (or not found) is judged as an ordinary one; one not looked up yet only
 * by whether any slot is free.  Over HTTP (hide_facts) every role is judged
 * as an ordinary one, like its CONNECTION LIMITs: an answer that differed
 * for a superuser would tell anyone on the network which roles are
 * superusers.  The reserves are for administrators, not for the traffic a
 * load balancer routes, so "no" is the useful answer there anyway.
 */
static void
judge_slots(PhAdmission *adm, const PhConnections *c)
{
	const PhTenantFacts *f = &adm->answer.facts;
	bool		known = adm->user != NULL && adm->answer.lookup == PH_LOOKUP_DONE && f->role_exists &&
		!adm->hide_facts;
	static const char fix[] =
		"Wait for sessions to end, put a pooler in front, or raise max_connections (a restart).";

	/* a role not looked up yet may be a superuser: only a full server is a no */
	if ((known && f->superuser) ||
		(adm->user != NULL && adm->answer.lookup != PH_LOOKUP_DONE && !adm->hide_facts))
	{
		if (c->slots_free <= 0)
			add_reason(adm, "no_slot", fix,
					   "no connection slot is free: all %d are in use", c->max_connections);
	}
	else if (known && f->use_reserved && c->available_reserved >= 0)
	{
		if (c->available_reserved <= 0)
			add_reason(adm, "no_slot", fix,
					   "no slot is free for roles with pg_use_reserved_connections: the %d left are for superusers",
					   c->slots_free);
	}
	else if (c->available_ordinary <= 0)
		add_reason(adm, "no_slot", fix,
				   "no slot is free for ordinary roles: %d free, all reserved",
				   c->slots_free);
}

/*
 * Judge adm (its user and database as asked, NULL when not, and the answer
 * the lookup gave) against the sample snap, at now.
 */
void
ph_judge_admission(const PhSnapshot *snap, PhAdmission *adm, TimestampTz now)
{
	bool		refused = false;

	adm->nreasons = 0;
	judge_lookup(adm);
	if (adm->answer.lookup == PH_LOOKUP_DONE)
	{
		if (adm->user != NULL)
			judge_role(adm, now);
		if (adm->database != NULL)
			judge_database(adm);
	}
	if (snap->generation > 0)
		judge_slots(adm, &snap->conn);

	for (int i = 0; i < adm->nreasons; i++)
		refused |= adm->reasons[i].refuses;
	adm->admit = refused ? PH_ADMIT_NO : adm->nreasons > 0 ? PH_ADMIT_UNKNOWN : PH_ADMIT_YES;
	if (snap->generation == 0 && !refused)
		adm->admit = PH_ADMIT_UNKNOWN;
}

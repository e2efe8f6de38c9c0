/*
 * hooks.c -- (collect) hooks that run in every backend and count connections turned
 * away: refused with 53300 (for lack of slots, or by a role's or database's
 * CONNECTION LIMIT, told apart), refused while starting up or shutting down (57P03),
 * failed authentications, and successful ones (for churn); and writes
 * that failed for lack of disk space (53100), in any process.
 *
 * They run in the connection path of every backend, so they take no lock:
 * counters are atomics, and the names of the last refusals go into a small
 * ring whose slots are claimed with an atomic ticket (see PhRefusal).
 */
#include "postgres.h"

#include "libpq/auth.h"
#include "libpq/libpq-be.h"
#include "miscadmin.h"
#include "replication/walsender.h"
#include "utils/elog.h"
#include "utils/timestamp.h"

#include "collect/hooks.h"
#include "ground/guard.h"
#include "ground/shmem.h"

static emit_log_hook_type prev_emit_log_hook = NULL;
static ClientAuthentication_hook_type prev_client_auth_hook = NULL;

/*
 * This backend's client authenticated: its role and database names are
 * real.  "Too many clients" is raised before authentication, so its names
 * are only what the startup packet asked for.
 */
static bool authenticated = false;

/*
 * Which limit refused a connection with 53300, from the server's own
 * message before translation (the same in every lc_messages): a role's or a
 * database's CONNECTION LIMIT, or else the server's slots ("sorry, too many
 * clients already", "remaining connection slots are reserved ...").
 */
static PhRefusalKind
refusal_kind(const ErrorData *edata)
{
	if (edata->message_id == NULL)
		return PH_REFUSED_SLOTS;
	if (strcmp(edata->message_id, "too many connections for role \"%s\"") == 0)
		return PH_REFUSED_ROLE_LIMIT;
	if (strcmp(edata->message_id, "too many connections for database \"%s\"") == 0)
		return PH_REFUSED_DATABASE_LIMIT;
	return PH_REFUSED_SLOTS;
}

/*
 * Only called for a backend serving a connection: MyProcPort is set.  The
 * kind's counter is counted before refused_no_slots, which readers read
 * last (ph_collect_refusals), so that they never see more refusals of a
 * kind than of all kinds.
 */
static void
record_refusal(PhRefusalKind kind)
{
	int			class = PH_REFUSAL_CLASS(kind);
	uint64		ticket = pg_atomic_fetch_add_u64(&ph_shared->refusal_ticket[class], 1);
	PhRefusal  *r = &ph_shared->refusals[class][ticket % PH_REFUSAL_RING];
	uint64		held = pg_atomic_read_u64(&r->ticket);

	if (kind == PH_REFUSED_ROLE_LIMIT)
		pg_atomic_fetch_add_u64(&ph_shared->refused_role_limit, 1);
	else if (kind == PH_REFUSED_DATABASE_LIMIT)
		pg_atomic_fetch_add_u64(&ph_shared->refused_database_limit, 1);
	pg_atomic_fetch_add_u64(&ph_shared->refused_no_slots, 1);

	/*
	 * Claim the slot: a writer 8 tickets ahead of or behind us may be on it
	 * (a connection storm); then only one of us writes the names.
	 */
	if (held == PH_REFUSAL_BUSY ||
		!pg_atomic_compare_exchange_u64(&r->ticket, &held, PH_REFUSAL_BUSY))
		return;
	r->at = GetCurrentTimestamp();
	r->kind = (uint8) kind;
	r->authenticated = authenticated;
	/* the startup packet's bytes, as any client sent them: made valid UTF-8 */
	ph_clean_text(r->role, sizeof(r->role),
				  MyProcPort->user_name ? MyProcPort->user_name : "", NAMEDATALEN);
	ph_clean_text(r->database, sizeof(r->database),
				  MyProcPort->database_name ? MyProcPort->database_name : "", NAMEDATALEN);
	pg_write_barrier();
	pg_atomic_write_u64(&r->ticket, ticket + 1);
}

/*
 * Connection refusals are FATAL errors raised while a backend starts; only
 * processes serving a client connection (MyProcPort set) count.  Called only
 * for messages sent to the server log, which FATAL always is unless
 * log_min_messages is PANIC.
 */
static void
ph_emit_log(ErrorData *edata)
{
	/*
	 * A write that failed for lack of room, in any process: the disk check is
	 * critical while one is recent (docs/checks.md).  Only the server's own:
	 * a file operation that failed with ENOSPC (errcode_for_file_access()),
	 * not anyone's RAISE ... USING ERRCODE = 'disk_full'.
	 */
	if (ph_shared != NULL && edata->sqlerrcode == ERRCODE_DISK_FULL && edata->elevel >= ERROR &&
		edata->saved_errno == ENOSPC)
	{
		pg_atomic_write_u64(&ph_shared->last_disk_full_at, (uint64) GetCurrentTimestamp());
		pg_atomic_fetch_add_u64(&ph_shared->disk_full_errors, 1);
	}
	if (ph_shared != NULL && edata->elevel == FATAL && MyProcPort != NULL)
	{
		/*
		 * A replication connection takes a walsender's slot, not a client's:
		 * "number of requested standby connections exceeds max_wal_senders"
		 * is counted apart, or anyone who can reach the port could make the
		 * server look full (no credentials are needed to be refused).
		 */
		if (edata->sqlerrcode == ERRCODE_TOO_MANY_CONNECTIONS && am_walsender)
			pg_atomic_fetch_add_u64(&ph_shared->refused_walsenders, 1);
		else if (edata->sqlerrcode == ERRCODE_TOO_MANY_CONNECTIONS)
			record_refusal(refusal_kind(edata));
		else if (edata->sqlerrcode == ERRCODE_CANNOT_CONNECT_NOW)
			pg_atomic_fetch_add_u64(&ph_shared->refused_starting, 1);
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * STATUS_EOF is a client that hung up when asked for a password (psql's
 * first try without one): neither a success nor a failure.
 */
static void
ph_client_auth(Port *port, int status)
{
	if (prev_client_auth_hook)
		prev_client_auth_hook(port, status);
	if (ph_shared == NULL)
		return;
	if (status == STATUS_OK)
	{
		authenticated = true;
		pg_atomic_fetch_add_u64(&ph_shared->authenticated, 1);
	}
	else if (status == STATUS_ERROR)
		pg_atomic_fetch_add_u64(&ph_shared->auth_failures, 1);
}

void
ph_install_hooks(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = ph_emit_log;
	prev_client_auth_hook = ClientAuthentication_hook;
	ClientAuthentication_hook = ph_client_auth;
}

/*
 * The newest complete refusal record of a class (PH_REFUSAL_CLASS_*), or
 * false when its ring holds none.  A slot rewritten while we copy it
 * changes its ticket, and we try the one before.
 */
bool
ph_last_refusal(int class, PhRefusal *out)
{
	uint64		next = pg_atomic_read_u64(&ph_shared->refusal_ticket[class]);

	for (uint64 t = next; t > 0 && next - t < PH_REFUSAL_RING; t--)
	{
		PhRefusal  *r = &ph_shared->refusals[class][(t - 1) % PH_REFUSAL_RING];

		if (pg_atomic_read_u64(&r->ticket) != t)
			continue;
		pg_read_barrier();
		out->at = r->at;
		out->kind = r->kind;
		out->authenticated = r->authenticated;
		memcpy(out->role, r->role, sizeof(out->role));
		memcpy(out->database, r->database, sizeof(out->database));
		pg_read_barrier();
		if (pg_atomic_read_u64(&r->ticket) == t && out->kind <= PH_REFUSED_DATABASE_LIMIT)
		{
			/* made valid when written; a torn copy must not leave that */
			ph_clean_text(out->role, sizeof(out->role), out->role, sizeof(out->role));
			ph_clean_text(out->database, sizeof(out->database), out->database,
						  sizeof(out->database));
			return true;
		}
	}
	return false;
}

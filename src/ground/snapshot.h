/*
 * snapshot.h -- the data every layer shares (ground): a sample's figures and
 * checks, the tables published beside it, and the shared-memory layout.
 *
 * The sampler worker fills a PhSnapshot in its own memory, evaluates the
 * checks into it and publishes it into shared memory in one copy (shmem.c).
 * Readers (SQL functions, the HTTP worker) copy it back out under a shared
 * lock and format outside the lock (read.c).  Freshness of the snapshot is
 * the one thing judged at read time, by ph_verdict() (verdict.c), which
 * every reader shares.  docs/design.md draws the whole house.
 */
#ifndef PH_SNAPSHOT_H
#define PH_SNAPSHOT_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lockdefs.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#define PH_NAME_LEN			80	/* "component:" and a component name */
#define PH_DETAIL_LEN		400
#define PH_BUILTIN_CHECKS	24
#define PH_MAX_COMPONENTS_LIMIT 64	/* upper bound of pg_health.max_components */
/* the built-in checks, then one per component (reported or required) */
#define PH_MAX_CHECKS		(PH_BUILTIN_CHECKS + 2 * PH_MAX_COMPONENTS_LIMIT + PH_MAX_CUSTOM_CHECKS + \
							 PH_MAX_POOLERS)
#define PH_COMPONENT_DETAIL_LEN 200
#define PH_MAX_CUSTOM_CHECKS 32
#define PH_CHANGES_LEN		1024
#define PH_REASONS_LEN		1024
#define PH_REFUSAL_RING		8
#define PH_REFUSAL_CLASSES	2	/* for lack of slots; by a CONNECTION LIMIT */
#define PH_MAX_POOLS		256 /* pools kept per sample; the rest are folded */
#define PH_MAX_NAMES		512 /* roles, and databases, tracked per sample */
#define PH_MAX_STANDBYS		32	/* standbys kept per sample on a primary */
#define PH_TOP_SLOTS		5	/* slots kept per sample, by WAL retained */
#define PH_MAX_POOLERS		8	/* PgBouncers polled (health.configure_pooler) */
#define PH_MAX_POOLER_POOLS 32	/* pools kept per pooler; the rest are folded */
#define PH_CONNINFO_LEN		1024	/* a pooler's conninfo, with its
									 * terminator */
#define PH_POOLER_ERROR_LEN 256

/* Status of one check. */
typedef enum PhCheckStatus
{
	PH_CHECK_OK = 0,
	PH_CHECK_WARNING,
	PH_CHECK_CRITICAL,
	PH_CHECK_UNKNOWN
} PhCheckStatus;

/* Overall status (docs/design.md, "The verdict"). */
typedef enum PhState
{
	PH_STATE_UNKNOWN = 0,		/* sampler stale or absent */
	PH_STATE_STARTING,			/* not yet started() */
	PH_STATE_NOT_READY,			/* a critical check */
	PH_STATE_DEGRADED,			/* warnings only: still ready */
	PH_STATE_READY
} PhState;

/* The role a caller asks readiness for. */
typedef enum PhRole
{
	PH_ROLE_ANY = 0,
	PH_ROLE_PRIMARY,
	PH_ROLE_REPLICA
} PhRole;
#define PH_NUM_ROLES 3

typedef struct PhCheck
{
	char		name[PH_NAME_LEN];
	uint8		status;			/* PhCheckStatus */
	double		value;			/* NaN when the check has no figure */
	double		warning_threshold;	/* NaN when off */
	double		critical_threshold; /* NaN when off */
	char		detail[PH_DETAIL_LEN];
	TimestampTz since;			/* when this status began */
	/* flap damping (pg_health.hold_samples): a new status not yet in force */
	uint8		pending_status;
	uint8		pending_samples;	/* 0: none pending */
	/* critical only for writes: /primary fails, /ready and /replica degrade */
	bool		writes_only;
	/* critical shown, but it never makes the server not ready */
	bool		informational;
} PhCheck;

/* the heavyweight lock modes, as lockdefs.h numbers them (0: none) */
#define PH_LOCK_MODES	(MaxLockMode + 1)

/*
 * Client sessions by state, with the oldest of each age: for the whole
 * server (PhConnections) and for each pool (PhPool).
 */
typedef struct PhSessionCounts
{
	int			sessions;
	int			active;
	int			idle;
	int			idle_in_transaction;
	int			idle_in_transaction_aborted;
	int			fastpath;
	int			disabled;
	int			starting;		/* no state yet (authenticating) */
	int			waiting_on_locks;

	TimestampTz oldest_xact_start;
	int			oldest_xact_pid;
	TimestampTz oldest_query_start;
	int			oldest_query_pid;
	TimestampTz oldest_idle_in_xact_start;
	int			oldest_idle_in_xact_pid;
} PhSessionCounts;

/*
 * Why a connection was refused with SQLSTATE 53300 (hooks.c tells them
 * apart by the server's untranslated message).
 */
typedef enum PhRefusalKind
{
	PH_REFUSED_SLOTS,			/* no slot: too many clients, or only reserved
								 * ones left */
	PH_REFUSED_ROLE_LIMIT,		/* its role's CONNECTION LIMIT */
	PH_REFUSED_DATABASE_LIMIT,	/* its database's CONNECTION LIMIT */
} PhRefusalKind;

/* The ring a refusal goes to (PhShared.refusals): for lack of slots, or by a limit. */
#define PH_REFUSAL_CLASS_SLOTS	0
#define PH_REFUSAL_CLASS_LIMITS 1
#define PH_REFUSAL_CLASS(kind)	((kind) == PH_REFUSED_SLOTS ? PH_REFUSAL_CLASS_SLOTS : \
								 PH_REFUSAL_CLASS_LIMITS)

/* The last refused connection of a kind, as the sampler found it. */
typedef struct PhRefusalNote
{
	TimestampTz at;				/* 0: none yet */
	uint8		kind;			/* PhRefusalKind */
	bool		authenticated;	/* false: the names are what an
								 * unauthenticated client asked for */
	char		role[NAMEDATALEN];
	char		database[NAMEDATALEN];
} PhRefusalNote;

/* Connection-slot and session figures of one sample. */
typedef struct PhConnections
{
	int			max_connections;
	int			superuser_reserved;
	int			reserved;		/* reserved_connections; -1 before PG16 */
	int			usable;			/* slots ordinary roles may ever use */
	int			slots_used;		/* client PGPROCs in use */
	int			slots_free;
	int			available_ordinary; /* free slots an ordinary role can take */
	int			available_reserved; /* ... a pg_use_reserved_connections role;
									 * -1 before PG16 */
	double		utilization_pct;	/* slots_used / usable */

	PhSessionCounts s;			/* client sessions seen in backend status */

	/*
	 * processes of any kind waiting for a heavyweight lock, by the mode they
	 * asked for (index: LOCKMODE, 1..PH_LOCK_MODES-1; 0 unused)
	 */
	int			lock_waits[PH_LOCK_MODES];

	int			background_workers;
	int			autovacuum_workers;
	int			walsenders;
	int			other_processes;

	/* connections turned away, counted by hooks.c since shared memory init */
	uint64		authenticated;
	uint64		auth_failures;
	uint64		refused_no_slots;
	uint64		refused_starting;
	int			refusals_in_window; /* refused_no_slots in the window */
	TimestampTz last_refusal_at;
	bool		last_refusal_authenticated; /* false: the names are what an
											 * unauthenticated client asked
											 * for */
	char		last_refused_role[NAMEDATALEN];
	char		last_refused_database[NAMEDATALEN];
	/* of refused_no_slots: those a CONNECTION LIMIT refused, by kind */
	uint64		refused_role_limit;
	uint64		refused_database_limit;
	uint64		refused_walsenders; /* replication connections: not counted
									 * above */
	int			slot_refusals_in_window;	/* for lack of server slots */
	int			limit_refusals_in_window;	/* by a CONNECTION LIMIT */
	PhRefusalNote last_slot_refusal;
	PhRefusalNote last_limit_refusal;
	/* per second since the previous sample; NaN for a worker's first */
	double		connections_per_s;
	double		refusals_per_s;
	double		auth_failures_per_s;
} PhConnections;

/*
 * A role or a database with sessions, and its CONNECTION LIMIT.  "used" is
 * counted the way PostgreSQL counts it against the limit (CountUserBackends,
 * CountDBConnections); name and limit come from the names worker's map
 * (names.c), because the sampler cannot read the catalogs.
 */
struct PgBackendStatus;			/* utils/backend_status.h */

typedef struct PhLimit
{
	Oid			oid;
	int			used;
	int			connlimit;		/* -1: no limit */
	bool		exempt;			/* superuser role: limits do not apply */
	bool		known;			/* name and limit resolved */
	char		name[NAMEDATALEN];
} PhLimit;

/* Client sessions of one (database, role, application_name) group. */
typedef struct PhPool
{
	Oid			datid;
	Oid			roleid;
	char		application_name[NAMEDATALEN];
	int			folded;			/* >0: this row sums that many groups that did
								 * not fit */
	int			role_index;		/* into PhPoolTable.roles; -1: none */
	int			db_index;		/* into PhPoolTable.databases; -1: none */
	PhSessionCounts s;
} PhPool;

/*
 * The pools of one sample, published with the snapshot of the same
 * generation but kept apart from it, so that readers of the verdict and the
 * checks do not copy them.
 */
typedef struct PhPoolTable
{
	uint64		generation;
	int			npools;
	int			nroles;
	int			ndatabases;
	int			untracked_roles;	/* beyond PH_MAX_NAMES */
	int			untracked_databases;
	PhPool		pools[PH_MAX_POOLS];
	PhLimit		roles[PH_MAX_NAMES];	/* sorted by oid */
	PhLimit		databases[PH_MAX_NAMES];	/* sorted by oid */
} PhPoolTable;

/*
 * Role and database names and limits, written by the names worker for the
 * oids the last sample saw; the sampler looks them up.  Sorted by oid.
 */
typedef struct PhNameMap
{
	pid_t		pid;			/* names worker; 0 when none runs */
	Latch	   *latch;
	TimestampTz resolved_at;
	int			nroles;
	int			ndatabases;
	PhLimit		roles[PH_MAX_NAMES];
	PhLimit		databases[PH_MAX_NAMES];
	/* the database with the oldest datfrozenxid (the wraparound check) */
	Oid			oldest_xid_database;
	char		oldest_xid_database_name[NAMEDATALEN];
} PhNameMap;

/*
 * The per-tenant question (health.ready(for_user, for_database), GET
 * /ready?user=&database=): "would a new connection for this role to this
 * database be admitted now?".  Callers ask by name; the names worker
 * (names.c) looks every asked pair up in the shared catalogs each pass and
 * writes down what InitPostgres would consult (asked_pairs.c keeps the table).
 */
/*
 * The table has a share for each kind of asker, and the shares add up to
 * the table, so no kind can take another's entries (asked_pairs.c): HTTP (one
 * anonymous asker), components (the sampler asks for each), and SQL
 * callers, each role at most PH_ASKED_PER_ROLE of the SQL share.
 */
#define PH_ASKED_HTTP		128 /* pairs asked over HTTP */
#define PH_ASKED_COMPONENTS PH_MAX_COMPONENTS_LIMIT /* pairs of components */
#define PH_ASKED_SQL		128 /* pairs asked from SQL, all roles */
#define PH_ASKED_PER_ROLE	16	/* pairs one role holds of the SQL share */
#define PH_MAX_ASKED		(PH_ASKED_HTTP + PH_ASKED_COMPONENTS + PH_ASKED_SQL)

/* Who asked a pair first: its entry counts against that asker's share. */
typedef enum PhAskerKind
{
	PH_ASKER_HTTP = 0,
	PH_ASKER_COMPONENT,
	PH_ASKER_SQL
} PhAskerKind;

typedef struct PhAsker
{
	uint8		kind;			/* PhAskerKind */
	Oid			role;			/* PH_ASKER_SQL: the session's user */
} PhAsker;

typedef struct PhTenantFacts
{
	bool		role_exists;
	bool		can_login;
	bool		superuser;
	bool		use_reserved;	/* has pg_use_reserved_connections (16+) */
	Oid			role_oid;
	int			role_connlimit; /* -1: none */
	TimestampTz valid_until;	/* DT_NOEND: none (never expires) */
	bool		db_exists;
	bool		allow_conn;
	bool		db_valid;		/* false: an interrupted DROP DATABASE */
	Oid			db_oid;
	int			db_connlimit;	/* -1: none */
	int8		can_connect;	/* CONNECT privilege: 1, 0; -1 not judged */
	int8		can_connect_ordinary;	/* the same, were the role no
										 * superuser */
} PhTenantFacts;

typedef struct PhAsked
{
	bool		in_use;
	PhAsker		owner;			/* who added it: whose share it takes */
	char		role[NAMEDATALEN];	/* "": not asked */
	char		database[NAMEDATALEN];	/* "": not asked */
	/* monotonic milliseconds (ph_monotonic_ms), set under the shared lock */
	pg_atomic_uint64 asked_at;	/* last asked by anyone: forgotten when old */
	pg_atomic_uint64 owner_at;	/* last asked by its owner: while recent, it
								 * holds its entry in the owner's share */
	pg_atomic_uint64 others_at; /* last asked by someone else (shown only) */
	TimestampTz looked_up_at;	/* 0: not yet */
	PhTenantFacts facts;
} PhAsked;

/* How a reader's lookup of a pair went. */
typedef enum PhLookup
{
	PH_LOOKUP_DONE = 0,			/* facts as the names worker found them */
	PH_LOOKUP_PENDING,			/* asked, not looked up yet */
	PH_LOOKUP_STALE,			/* looked up too long ago (no names worker) */
	PH_LOOKUP_FULL,				/* the asker's share is full of recent
								 * questions */
	PH_LOOKUP_BUSY				/* the lock could not be had (HTTP) */
} PhLookup;

/* What a reader copies out for one pair, with the sessions that count. */
typedef struct PhTenantAnswer
{
	uint8		lookup;			/* PhLookup */
	pid_t		names_pid;		/* the names worker's; 0: none runs */
	TimestampTz looked_up_at;
	PhTenantFacts facts;
	int			role_used;		/* sessions of the role; -1: not tracked */
	int			db_used;		/* of the database; -1: not tracked */
	bool		full_own_limit; /* PH_LOOKUP_FULL: the role's own limit */
	uint8		asker_kind;		/* PH_LOOKUP_FULL: whose share (PhAskerKind) */
} PhTenantAnswer;

/* The WAL receiver's state, as walreceiver.h names it; NONE on a primary. */
typedef enum PhReceiverState
{
	PH_RCV_NONE = 0,
	PH_RCV_STOPPED,
	PH_RCV_STARTING,
	PH_RCV_STREAMING,
	PH_RCV_WAITING,
	PH_RCV_RESTARTING,
	PH_RCV_STOPPING
} PhReceiverState;

/*
 * Replication figures of one sample (replication.c), read from shared memory
 * like everything else the sampler collects.
 */
typedef struct PhReplication
{
	/* a standby: its WAL receiver and its replay */
	uint8		receiver_state; /* PhReceiverState */
	int			receiver_pid;
	TimestampTz state_since;	/* streaming (or not) since, as sampled */
	XLogRecPtr	received_lsn;	/* flushed by the WAL receiver */
	XLogRecPtr	replayed_lsn;
	TimeLineID	timeline;
	int64		lag_bytes;		/* received, not yet replayed */
	int64		delay_us;		/* how long that WAL has been waiting */
	TimestampTz last_replayed_xact_at;
	TimestampTz last_message_at;	/* from the primary */
	uint8		pause_state;	/* RecoveryPauseState */
	bool		has_primary_conninfo;
	bool		has_restore_command;
	TimestampTz replay_moved_at;	/* replay last advanced, or had nothing to
									 * do; 0 on a primary */
	int			startup_pid;
	char		startup_wait[64];	/* "Type:Event" the startup process waits
									 * on; empty when it does not wait */
	char		sender_host[64];
	int			sender_port;

	/* a primary: its physical standbys */
	XLogRecPtr	current_lsn;	/* primary: insert position; standby: replay */
	int			standbys;
	int			standbys_streaming;
	int			sync_standbys;	/* in sync or quorum state */
	int			sync_required;	/* num_sync of synchronous_standby_names */
	bool		sync_quorum;	/* ANY (quorum) rather than FIRST */
	int64		max_standby_lag_bytes;	/* current_lsn - the farthest replay */

	/* replication slots, either role */
	int			slots;
	int			inactive_slots;
	int64		worst_retained_bytes;	/* by an inactive slot; -1: none */
	char		worst_slot[NAMEDATALEN];
	/* the slots that retain the most WAL, active or not, the most first */
	int			ntop_slots;
	struct
	{
		char		name[NAMEDATALEN];
		int64		retained_bytes;
		bool		active;
	}			top_slots[PH_TOP_SLOTS];
} PhReplication;

/* A connected physical standby, as a primary sees it (pg_stat_replication). */
typedef enum PhSyncState
{
	PH_SYNC_ASYNC = 0,
	PH_SYNC_POTENTIAL,
	PH_SYNC_SYNC,
	PH_SYNC_QUORUM
} PhSyncState;

typedef struct PhStandby
{
	int			pid;
	char		application_name[NAMEDATALEN];
	char		client_addr[64];
	TimestampTz backend_start;
	uint8		state;			/* WalSndState */
	uint8		sync_state;		/* PhSyncState */
	int			sync_priority;
	XLogRecPtr	sent_lsn;
	XLogRecPtr	write_lsn;
	XLogRecPtr	flush_lsn;
	XLogRecPtr	replay_lsn;
	int64		replay_lag_bytes;	/* primary's position - replay (or flush);
									 * -1: unknown */
	int64		replay_lag_us;	/* -1: not known (idle) */
	TimestampTz reply_at;
} PhStandby;

typedef struct PhStandbyTable
{
	uint64		generation;
	int			n;
	int			omitted;		/* standbys beyond PH_MAX_STANDBYS */
	PhStandby	items[PH_MAX_STANDBYS];
} PhStandbyTable;

/*
 * What a server is, as far as a sample can tell: while the startup process
 * replays WAL after a crash or a first start, it is neither yet.
 */
typedef enum PhServerRole
{
	PH_SERVER_UNKNOWN,			/* crash recovery, or start-up */
	PH_SERVER_PRIMARY,
	PH_SERVER_STANDBY,			/* archive recovery: a standby, or a restore */
} PhServerRole;


/*
 * Whether the server can serve (docs/checks.md, "Serving"): the accept
 * probe, the commit path, the filesystems, the archiver, the XID horizon.
 */
#define PH_TARGET_LEN		128
#define PH_MAX_FILESYSTEMS	8
#define PH_COMMIT_PIDS		5	/* waiting commits named per sample */

/* The accept probe (accept_probe.c): a connection that a backend answers. */
typedef struct PhAccept
{
	bool		on;				/* pg_health.accept_probe_interval > 0 and a
								 * target */
	char		target[PH_TARGET_LEN];	/* the socket or address it connects
										 * to */
	TimestampTz last_answer_at; /* 0: none yet */
	int64		last_answer_us; /* its round trip */
	TimestampTz unanswered_since;	/* first attempt unanswered since the last
									 * answer; 0: answering */
	uint64		probes;
	uint64		failures;
	char		last_error[128];	/* of the last failed attempt */
} PhAccept;

/* Commits waiting: for synchronous standbys, or to write or flush WAL. */
typedef struct PhCommitWaits
{
	int			sync_rep;		/* processes waiting in SyncRep */
	int			wal;			/* processes waiting to write or flush WAL */
	TimestampTz oldest_since;	/* the longest wait began (first seen); 0:
								 * none */
	int			oldest_pid;
	char		oldest_wait[32];	/* its wait event */
	int			npids;
	int			pids[PH_COMMIT_PIDS];	/* the longest waiting first */
	char		missing[256];	/* synchronous_standby_names' members not
								 * connected */
} PhCommitWaits;

typedef enum PhFsHolds
{
	PH_FS_DATA = 1 << 0,
	PH_FS_WAL = 1 << 1,
	PH_FS_TABLESPACE = 1 << 2
} PhFsHolds;

/* One filesystem that holds the data directory, pg_wal or a tablespace. */
typedef struct PhFilesystem
{
	char		path[PH_TARGET_LEN];	/* the first path found on it */
	uint8		holds;			/* PhFsHolds */
	int			tablespaces;	/* how many tablespaces it holds */
	Oid			tablespace;		/* the first of them */
	uint64		total_bytes;
	uint64		used_bytes;		/* in use (f_blocks - f_bfree) */
	uint64		free_bytes;		/* available to PostgreSQL (f_bavail) */
	double		used_per_s;		/* growth over the window; NaN: not known */
	double		full_in_s;		/* at that rate; NaN: not filling */
	int			error;			/* errno of statvfs, 0: read */
} PhFilesystem;

/*
 * Percent used, as df computes it: what is in use of what PostgreSQL could
 * use (the root reserve counts on neither side).
 */
static inline double
ph_filesystem_used_pct(const PhFilesystem *fs)
{
	double		room = (double) fs->used_bytes + (double) fs->free_bytes;

	return room > 0 ? 100.0 * (double) fs->used_bytes / room : 0.0;
}

/* What the disk worker measured (disk.c), and the disk-full errors seen. */
typedef struct PhDisk
{
	TimestampTz measured_at;	/* the worker's last pass; 0: never */
	TimestampTz measuring_since;	/* a pass in progress began; 0: none */
	char		measuring[PH_TARGET_LEN];	/* the path it is on */
	int			n;
	int			omitted;		/* filesystems beyond PH_MAX_FILESYSTEMS */
	PhFilesystem fs[PH_MAX_FILESYSTEMS];
	int			ready_files;	/* WAL segments waiting to be archived (-1:
								 * not counted) */
	int			worker_pid;		/* the disk worker's; 0: not running */
	uint64		disk_full_errors;	/* SQLSTATE 53100 raised, ever */
	TimestampTz last_disk_full_at;
} PhDisk;

/* The archiver, from its statistics. */
typedef struct PhArchiver
{
	bool		on;				/* this server archives (archive_mode) */
	uint64		archived_count;
	uint64		failed_count;
	char		last_archived_wal[41];
	char		last_failed_wal[41];
	TimestampTz last_archived_at;
	TimestampTz last_failed_at;
	TimestampTz failing_since;	/* first failure seen since the last success;
								 * 0: not failing */
	TimestampTz stalled_since;	/* segments waiting and none archived since (a
								 * hung or empty archive_command); 0: no */
} PhArchiver;

/* Transaction ID and MultiXact ID ages against the server's limits. */
typedef struct PhWraparound
{
	bool		known;
	int64		xid_age;		/* next XID - the oldest datfrozenxid */
	int64		xid_vacuum_age; /* ages where autovacuum forces, */
	int64		xid_warn_age;	/* where the server warns, */
	int64		xid_stop_age;	/* and where it refuses new XIDs */
	Oid			oldest_xid_database;
	int64		mxid_age;
	int64		mxid_vacuum_age;
	int64		mxid_stop_age;
	Oid			oldest_mxid_database;
	char		oldest_database[NAMEDATALEN];	/* name of the XID one, when
												 * known */
} PhWraparound;

typedef struct PhServing
{
	PhAccept	accept;
	PhCommitWaits commit;
	PhDisk		disk;
	PhArchiver	archiver;
	PhWraparound wrap;
} PhServing;


/*
 * The cluster (docs/cluster.md): the members of pg_health.cluster_members
 * as this node's poller last asked them for their identity (GET /node).
 */
#define PH_MAX_MEMBERS		16
#define PH_MEMBER_NAME_LEN	64
#define PH_SYNC_NAMES_LEN	256 /* a primary's synchronous standbys, named */

typedef enum PhMemberState
{
	PH_MEMBER_UNKNOWN = 0,		/* not asked yet */
	PH_MEMBER_UP,				/* answered, of this cluster */
	PH_MEMBER_DOWN,				/* no answer, or not a valid one */
	PH_MEMBER_FOREIGN,			/* answered with another system identifier */
	PH_MEMBER_UNRESOLVED		/* its address is not a host:port, or a name
								 * not resolved (yet) */
} PhMemberState;

typedef struct PhMember
{
	char		name[PH_MEMBER_NAME_LEN];	/* as configured */
	char		address[PH_TARGET_LEN]; /* host:port, as configured */
	uint8		state;			/* PhMemberState */
	bool		self;			/* this node (its name is ours) */
	bool		named;			/* its address is a host name, resolved */
	bool		counted;		/* counts for the partition rule (a configured
								 * member, not the same server twice, its name
								 * resolved or given time to) */
	char		instance[40];	/* the server's identity in its /node: the
								 * same server polled twice shows it twice */
	char		same_as[PH_MEMBER_NAME_LEN];	/* the member it is the same
												 * server as; "" */
	char		async_standbys[PH_SYNC_NAMES_LEN];	/* a primary's others */
	bool		discovered;		/* from PostgreSQL
								 * (pg_health.cluster_discover) */
	char		resolved[48];	/* the address the name resolved to; "" */
	TimestampTz state_since;	/* this state since (as polled) */
	TimestampTz answered_at;	/* its last valid answer; 0: none */
	/* from its last valid answer */
	char		node_name[PH_MEMBER_NAME_LEN];
	uint64		system_identifier;
	uint32		timeline;
	bool		primary;
	bool		recovering;		/* crash recovery: neither role yet */
	bool		ready;
	XLogRecPtr	lsn;			/* insert (primary) or replay (standby) */
	XLogRecPtr	received_lsn;
	char		sync_standbys[PH_SYNC_NAMES_LEN];	/* a primary's: "s1,s2" */
	bool		standbys_cut;	/* a primary's: a name left out of the two */
	TimestampTz ready_since;	/* ready (or not) since (as polled) */
	int64		clock_skew_ms;	/* its clock minus ours at the answer */
	int64		poll_us;		/* the last poll's round trip */
	/* behind the one primary, when there is one (-1: not known, or none) */
	int64		lag_bytes;		/* its replay position behind the primary's */
	int64		lag_us;			/* since the primary was where it replays */
	char		error[128];		/* why the last poll failed */
} PhMember;

typedef struct PhClusterTable
{
	int			n;				/* members configured (at most PH_MAX_MEMBERS) */
	int			excess;			/* members beyond PH_MAX_MEMBERS */
	pid_t		poller_pid;		/* who polls them; 0: nobody */
	TimestampTz polled_at;		/* the last round */
	int			stale_after_ms; /* a table older than this is stale */
	PhMember	members[PH_MAX_MEMBERS];
} PhClusterTable;

/* Per-request lag limits (health.ready(role, max_lag_bytes, max_delay), /replica?lag=). */
typedef struct PhOverrides
{
	int64		max_lag_bytes;	/* -1: pg_health.replica_max_lag_bytes */
	int64		max_delay_ms;	/* -1: pg_health.replica_max_delay */
} PhOverrides;

typedef struct PhSnapshot
{
	uint64		generation;		/* 0: never sampled */
	TimestampTz sampled_at;
	int64		sample_duration_us;
	uint64		refresh_served; /* refresh requests this sample answers */
	bool		in_recovery;
	uint8		server_role;	/* PhServerRole */
	bool		consistent;		/* primary, or hot standby accepting reads */
	TimestampTz started_at;		/* when started() first became true; 0 = not */
	TimestampTz worker_started_at;	/* start of the worker that took it */
	TimestampTz consistent_at;	/* when the server first was consistent */
	bool		custom_loaded;	/* the custom checks are known (or off) */
	PhConnections conn;
	PhReplication repl;
	PhServing	serving;
	PhClusterTable cluster;		/* as the poller last published it */
	PhCheck		role_checks[PH_NUM_ROLES];
	uint8		state[PH_NUM_ROLES];	/* PhState, freshness not applied */
	int			nchecks;
	/* last, so that copies can stop after the nchecks in use */
	PhCheck		checks[PH_MAX_CHECKS];	/* role-independent checks */
} PhSnapshot;

/* Bytes of a snapshot in use: everything up to its last check. */
#define PH_SNAPSHOT_USED(snap) \
	(offsetof(PhSnapshot, checks) + sizeof(PhCheck) * (snap)->nchecks)

/* An application component's state, as reported (docs/components.md). */
typedef enum PhComponentState
{
	PH_COMP_NONE = 0,			/* required, never reported */
	PH_COMP_STARTING,
	PH_COMP_READY,
	PH_COMP_DEGRADED,
	PH_COMP_FAILED,
	PH_COMP_STOPPED,
	PH_COMP_LOST				/* no heartbeat within its TTL */
} PhComponentState;

/*
 * A component's runtime state in shared memory, written by the backends that
 * report for it (components.c) under PhShared.lock.
 */
typedef struct PhComponent
{
	bool		in_use;
	char		name[NAMEDATALEN];
	uint8		state;			/* PhComponentState, as reported */
	char		detail[PH_COMPONENT_DETAIL_LEN];
	TimestampTz registered_at;	/* first report since shared memory init */
	TimestampTz state_since;
	TimestampTz last_heartbeat;
	TimestampTz first_ready_at; /* 0: never ready since registered */
	int			ttl_s;			/* -1: pg_health.component_ttl */
	char		pool_application_name[NAMEDATALEN]; /* "": no pool */
	int			pool_min;
	char		for_user[NAMEDATALEN];	/* the role it connects as; "": not
										 * said */
	char		for_database[NAMEDATALEN];	/* ... and its database */
	/* its pool counted at a pooler instead of by application_name */
	char		pooler[NAMEDATALEN];	/* "": not at a pooler */
	char		pooler_database[NAMEDATALEN];	/* "": for_database */
	char		pooler_user[NAMEDATALEN];	/* "": for_user; both "": any */
	int			pool_max_wait_ms;	/* its own pool's wait that is critical;
									 * 0: none */
	/* its own pool (health.report_pool) */
	TimestampTz app_pool_at;	/* 0: never reported */
	int			app_in_use;
	int			app_idle;
	int			app_waiting;
	int			app_max_size;
	int64		app_max_wait_us;	/* -1: not said */
} PhComponent;

/* A component as a sample judged it: health.components and the report. */
typedef struct PhComponentResult
{
	PhComponent c;				/* copy; c.in_use false: never reported */
	bool		required;
	uint8		effective;		/* PhComponentState, TTL applied */
	int			ttl_s;			/* effective TTL; 0: none */
	int			pool_connections;	/* -1: no pool declared, or not known
									 * (pooler) */
	bool		pool_at_pooler; /* counted at its pooler (c.pooler) */
	bool		pool_unknown;	/* ... which has not answered within its grace */
	uint8		status;			/* PhCheckStatus of its check */
	int8		admit;			/* PhAdmit for for_user, for_database; -1: not
								 * asked */
	bool		admit_lasting;	/* a "no" that lasts until the configuration
								 * changes */
	char		admission[PH_DETAIL_LEN];	/* why not, and the fix */
} PhComponentResult;

/*
 * A custom check (initialization gate) and its last result, written by the
 * checker worker (custom_checks.c) under PhShared.lock; the sampler turns each into
 * a "custom:<name>" check.
 */
typedef struct PhCustomCheck
{
	char		name[NAMEDATALEN];
	uint8		severity;		/* PH_CHECK_WARNING or PH_CHECK_CRITICAL */
	int			interval_ms;
	int			timeout_ms;
	char		owner[NAMEDATALEN]; /* runs as this role */
	bool		has_run;
	bool		passed;
	TimestampTz last_run_at;
	int64		duration_us;
	char		detail[PH_COMPONENT_DETAIL_LEN + 64];
} PhCustomCheck;

/* What the sampler knows of the custom checks when it samples. */
typedef struct PhCustomState
{
	int			n;
	int			excess;			/* registered beyond PH_MAX_CUSTOM_CHECKS */
	char		first_skipped[NAMEDATALEN]; /* the first of those, by name */
	pid_t		checker_pid;
	TimestampTz loaded_at;
	PhCustomCheck checks[PH_MAX_CUSTOM_CHECKS];
} PhCustomState;

typedef struct PhComponentTable
{
	uint64		generation;
	int			n;
	PhComponentResult items[2 * PH_MAX_COMPONENTS_LIMIT];
} PhComponentTable;

/*
 * A connection pooler (PgBouncer) in front of this server, as the pooler
 * worker (pooler_worker.c) read its admin console: one pool per (database, user).
 */
typedef struct PhPoolerPool
{
	char		database[NAMEDATALEN];
	char		user[NAMEDATALEN];
	int			folded;			/* >0: this row sums that many pools that did
								 * not fit */
	int			cl_active;		/* clients linked to a server, or idle */
	int			cl_waiting;		/* clients waiting for a server */
	int			sv_active;
	int			sv_idle;
	int			sv_used;
	int			sv_tested;
	int			sv_login;
	int64		maxwait_us;		/* how long the oldest waiting client waits */
	int			pool_size;		/* -1: not known */
	char		pool_mode[16];
} PhPoolerPool;

typedef struct PhPooler
{
	char		name[NAMEDATALEN];
	char		host[64];		/* from its conninfo, for people ("": default) */
	int			port;			/* 0: default */
	TimestampTz configured_at;	/* its conninfo as now, since */
	TimestampTz watched_since;	/* polled by this pooler worker (or listed,
								 * when none has taken it up) since */
	TimestampTz loaded_at;		/* the configuration it was polled with
								 * (PhPoolerConfig.loaded_at) */
	TimestampTz polled_at;		/* the last poll ended; 0: not yet */
	TimestampTz answered_at;	/* the last poll that succeeded; 0: never */
	TimestampTz failing_since;	/* polls fail since; 0: the last succeeded */
	int64		poll_duration_us;	/* of the last poll */
	uint64		polls;
	uint64		failures;
	char		error[PH_POOLER_ERROR_LEN]; /* of the last poll; "": none */
	char		version[32];	/* "PgBouncer 1.18.0" */
	int			client_connections; /* used_clients (SHOW LISTS) */
	int			max_client_conn;	/* -1: not known */
	int			default_pool_size;	/* -1: not known */
	char		pool_mode[16];	/* the default */
	/* of the last successful poll: kept while polls fail */
	int			clients_waiting;
	int64		max_wait_us;
	int			worst_pool;		/* the pool with the longest wait; -1: none */
	int			npools;
	PhPoolerPool pools[PH_MAX_POOLER_POOLS];	/* the worst first */
} PhPooler;

typedef struct PhPoolerTable
{
	uint64		generation;
	int			n;
	int			excess;			/* configured beyond PH_MAX_POOLERS: not
								 * polled */
	pid_t		poller_pid;		/* the pooler worker's; 0: none runs */
	PhPooler	items[PH_MAX_POOLERS];
} PhPoolerTable;

/* What health.pooler_config says of one pooler (the checker loads it). */
typedef struct PhPoolerConfig
{
	char		name[NAMEDATALEN];
	char		conninfo[PH_CONNINFO_LEN];	/* read by the pooler worker only */
	TimestampTz configured_at;
	TimestampTz loaded_at;		/* this name and conninfo in shared memory
								 * since */
} PhPoolerConfig;

typedef struct PhHistoryEntry
{
	uint64		generation;
	TimestampTz sampled_at;
	uint8		state;
	bool		in_recovery;
	int			client_backends;
	int			slots_used;
	int			available_ordinary;
	int			active;
	int			idle;
	int			idle_in_transaction;
	int			waiting_on_locks;
	int			warnings;
	int			criticals;
	double		utilization_pct;
	int64		oldest_xact_age_us;
	int64		sample_duration_us;
	double		connections_per_s;
	double		refusals_per_s;
	double		auth_failures_per_s;
	/* a standby's replay lag; a primary's farthest standby's (-1: none) */
	int64		lag_bytes;
} PhHistoryEntry;

typedef struct PhEvent
{
	TimestampTz occurred_at;
	uint64		generation;
	uint8		old_state;
	uint8		new_state;
	char		reasons[PH_REASONS_LEN];
	/* JSON array of the checks whose status changed: name, old, new */
	char		changes[PH_CHANGES_LEN];
} PhEvent;

/*
 * The few words live()/ready()/started() need, for every role, kept beside
 * the snapshot under a change counter so readers never write shared memory:
 * the writer (always holding PhShared.lock exclusively) bumps the counter to
 * odd, writes, bumps it to even; a reader retries until it copied between
 * two equal even values.  The protocol is PgBackendStatus's.
 */
typedef struct PhVerdictBlock
{
	pg_atomic_uint32 changecount;
	uint64		generation;
	TimestampTz sampled_at;
	TimestampTz started_at;
	pid_t		worker_pid;
	bool		in_recovery;	/* the sample's */
	uint8		state[PH_NUM_ROLES];
} PhVerdictBlock;

/*
 * What each of pg_health's workers says about its own memory (workers.c):
 * the bytes its memory contexts hold, renewed as it loops, and a request to
 * log its contexts.  Its own report, since pg_log_backend_memory_contexts()
 * reaches only processes in the proc array, which the workers without a
 * database connection are not.  Atomics: no lock is taken either way.
 */
typedef enum PhWorkerKind
{
	PH_WORKER_SAMPLER = 0,
	PH_WORKER_HTTP,
	PH_WORKER_NAMES,
	PH_WORKER_CHECKER,
	PH_WORKER_POLLER,
	PH_WORKER_DISK,
	PH_WORKER_KINDS
} PhWorkerKind;

typedef struct PhWorkerMemory
{
	pg_atomic_uint32 pid;		/* 0: not running */
	pg_atomic_uint64 context_bytes; /* in all its memory contexts */
	pg_atomic_uint64 measured_at;	/* TimestampTz */
	pg_atomic_uint32 log_requested; /* set by a caller, cleared when logged */
	Latch	   *latch;			/* to wake it for a log request */
} PhWorkerMemory;

/*
 * A connection refused with 53300, with its kind and names.  Writers (any
 * backend, lock-free) take a ticket, claim the ticket's slot by swapping
 * what it holds for PH_REFUSAL_BUSY (a writer that finds it busy leaves the
 * names out: the counters still count), and publish it by storing ticket + 1
 * last; 0 means empty.
 */
#define PH_REFUSAL_BUSY PG_UINT64_MAX
typedef struct PhRefusal
{
	pg_atomic_uint64 ticket;
	TimestampTz at;
	uint8		kind;			/* PhRefusalKind */
	bool		authenticated;	/* false: names as an unauthenticated startup
								 * packet gave them */
	char		role[NAMEDATALEN];
	char		database[NAMEDATALEN];
} PhRefusal;

typedef struct PhShared
{
	LWLock	   *lock;			/* guards everything below but the atomics */
	PhVerdictBlock verdict;		/* written under lock, read without it */
	TimestampTz shmem_initialized_at;
	Size		shmem_size;
	pid_t		worker_pid;		/* 0 when no sampler runs */
	Latch	   *worker_latch;
	pg_atomic_uint32 http_pid;	/* the HTTP worker's; 0 when none runs */
	pg_atomic_uint32 http_listening;	/* the port it listens on; 0: none */
	PhWorkerMemory worker_memory[PH_WORKER_KINDS];
	pg_atomic_uint64 refresh_requested;
	ConditionVariable sampled_cv;	/* broadcast after each publish */
	/* hooks.c: counters written by every backend, without locks */
	pg_atomic_uint64 authenticated;
	pg_atomic_uint64 auth_failures;
	pg_atomic_uint64 refused_no_slots;	/* every 53300 */
	pg_atomic_uint64 refused_role_limit;	/* of those: a role's CONNECTION
											 * LIMIT */
	pg_atomic_uint64 refused_database_limit;	/* a database's */
	pg_atomic_uint64 refused_starting;
	pg_atomic_uint64 refused_walsenders;	/* replication connections
											 * refused: not client slots */
	pg_atomic_uint64 disk_full_errors;	/* SQLSTATE 53100 raised */
	pg_atomic_uint64 last_disk_full_at; /* TimestampTz */
	/* the last refusals, a ring per class: for lack of slots, by a limit */
	pg_atomic_uint64 refusal_ticket[PH_REFUSAL_CLASSES];
	PhRefusal	refusals[PH_REFUSAL_CLASSES][PH_REFUSAL_RING];
	PhSnapshot	snap;
	PhNameMap	names;
	/* asked_pairs.c: the asked (role, database) pairs; PhShared.lock */
	PhAsked		asked[PH_MAX_ASKED];
	ConditionVariable names_cv; /* broadcast after each names pass */
	int			max_components;
	/* component runtime states: PhShared.lock */
	PhComponent components[PH_MAX_COMPONENTS_LIMIT];
	PhComponentTable component_table;	/* of the latest snapshot */
	PhStandbyTable standby_table;	/* of the latest snapshot */
	/* the checker worker and the custom checks it runs: PhShared.lock */
	pid_t		checker_pid;
	Latch	   *checker_latch;
	Oid			checker_database;
	TimestampTz checks_loaded_at;	/* the checker first read the list; 0 =
									 * not yet */
	uint64		events_notified;	/* events sent with NOTIFY so far */
	int			ncustom;
	PhCustomCheck custom[PH_MAX_CUSTOM_CHECKS];
	int			custom_excess;	/* rows beyond PH_MAX_CUSTOM_CHECKS: not run */
	char		custom_first_skipped[NAMEDATALEN];
	/* poolers: the checker loads the list, the pooler worker polls them */
	int			npooler_config;
	int			pooler_excess;	/* rows beyond PH_MAX_POOLERS */
	uint64		pooler_config_version;	/* bumped at every change of the list */
	PhPoolerConfig pooler_config[PH_MAX_POOLERS];
	pid_t		poller_pid;		/* the pooler worker's; 0 when none runs */
	Latch	   *poller_latch;
	PhPoolerTable pooler_polls; /* the pooler worker's last polls */
	PhClusterTable cluster_polls;	/* the cluster members, as it polled them */
	PhPoolerTable pooler_table; /* of the latest snapshot */

	/*
	 * the disk worker: its place under PhShared.lock, its figures under
	 * disk_mutex
	 */
	pid_t		disk_pid;
	Latch	   *disk_latch;
	slock_t		disk_mutex;		/* a copy of PhDisk, no more: never
								 * PhShared.lock, which the HTTP worker must
								 * find free */
	PhDisk		disk;
	int			history_size;
	uint64		history_count;	/* entries ever appended */
	int			events_size;
	uint64		events_count;
	/* pool table, history ring, then events ring follow (see shmem.c) */
}			PhShared;

/* What a reader needs to decide, copied from shared memory. */
typedef struct PhVerdictInput
{
	uint64		generation;
	TimestampTz sampled_at;
	TimestampTz started_at;
	pid_t		worker_pid;
	uint8		state;			/* for the role asked */
	/* a role asked for is judged against the server's recovery state now */
	uint8		role;			/* PhRole */
	uint8		state_any;		/* the state for either role */
	bool		in_recovery;	/* the sample's */
	bool		live_in_recovery;	/* the server's, when read */
} PhVerdictInput;

typedef struct PhVerdict
{
	PhState		state;
	bool		live;
	bool		ready;
	bool		started;
	bool		fresh;
	int64		age_ms;			/* -1 when never sampled */
} PhVerdict;

#endif							/* PH_SNAPSHOT_H */

/*
 * fields.h -- the doors' common ground (fields.c): every figure of a
 * sample's connections described once -- its SQL column, its JSON key, its
 * metric -- and a sample's values as SQL columns.
 */
#ifndef PH_FIELDS_H
#define PH_FIELDS_H

#include "ground/snapshot.h"

#include "access/tupdesc.h"
#include "access/xlogdefs.h"
#include "ground/json.h"

typedef enum PhFieldType
{
	PH_FIELD_INT,				/* int */
	PH_FIELD_OPT_INT,			/* int; below 0: not known (NULL) */
	PH_FIELD_PID,				/* int; 0: none (NULL) */
	PH_FIELD_BIGINT,			/* int64 (uint64 counters too) */
	PH_FIELD_OPT_BIGINT,		/* int64; below 0: not known (NULL) */
	PH_FIELD_FLOAT,				/* double; NaN: not known (NULL) */
	PH_FIELD_AGE,				/* TimestampTz "since": SQL an interval, JSON
								 * <name>_ms, metric seconds; 0: none */
	PH_FIELD_TIME,				/* TimestampTz; 0: NULL */
	PH_FIELD_INTERVAL,			/* int64 microseconds; below 0: NULL */
	PH_FIELD_LSN,				/* XLogRecPtr; invalid: NULL */
	PH_FIELD_TEXT,				/* a string; NULL: NULL */
	PH_FIELD_BOOL,
	PH_FIELD_OPT_BOOL,			/* a getter's i: 0, 1; below 0: not known
								 * (NULL) */
	PH_FIELD_JSONB,				/* a JSON text; SQL jsonb (SQL tables only) */
} PhFieldType;

/* where a field appears */
#define PH_IN_SQL	0x01		/* a column of the table's view */
#define PH_IN_JSON	0x02		/* a key of the report's object */
#define PH_IN_BOTH	(PH_IN_SQL | PH_IN_JSON)
#define PH_ON_STANDBY 0x04		/* only on a standby (replication figures) */
#define PH_ON_PRIMARY 0x08		/* only on a primary */
#define PH_SINCE_1_1 0x10		/* an SQL column from 1.1 on: a view declared
								 * by 1.0 (an update not yet applied) lacks it */
#define PH_JSON_UNITLESS_1_1 0x20	/* an interval 1.1 put out in JSON under
									 * its bare name (milliseconds): 1.2 adds
									 * <name>_ms and keeps the bare key */

/* a field's value, for the fields a getter derives */
typedef struct PhValue
{
	int64		i;				/* INT, OPT_INT, PID, BIGINT, INTERVAL, BOOL */
	double		f;				/* FLOAT */
	TimestampTz t;				/* AGE, TIME */
	XLogRecPtr	lsn;			/* LSN */
	const char *s;				/* TEXT */
} PhValue;

typedef struct PhField
{
	const char *name;			/* SQL column and JSON key */
	PhFieldType type;
	uint16		offset;			/* in the table's struct (without a getter) */
	uint8		in;				/* PH_IN_*, PH_ON_* */
	void		(*get) (const void *base, PhValue *v);	/* or the value is at
														 * offset */
	/* in /metrics: pg_health_<metric>{<label>="<label_value>"} value*scale */
	const char *metric;
	const char *label;
	const char *label_value;
	double		scale;			/* 0: 1 */
	const char *help;			/* the family's, on its first field */
} PhField;

/* health.connections' columns and the report's "connections", in order */
extern const PhField ph_connection_fields[];
extern const int ph_n_connection_fields;

/* a PhSessionCounts: the columns of health.pools between folded_groups and slot_share_pct */
extern const PhField ph_session_fields[];
extern const int ph_n_session_fields;

/* a PhComponentResult: health.components' columns, the report's components */
extern const PhField ph_component_fields[];
extern const int ph_n_component_fields;

/* a PhPooler: health.poolers' columns, the report's poolers; a PhPoolerPool: health.pooler_pools */
extern const PhField ph_pooler_fields[];
extern const int ph_n_pooler_fields;
extern const PhField ph_pooler_pool_fields[];
extern const int ph_n_pooler_pool_fields;

/* a PhHistoryEntry: health.history; a PhEvent: health.events */
extern const PhField ph_history_fields[];
extern const int ph_n_history_fields;
extern const PhField ph_event_fields[];
extern const int ph_n_event_fields;

/* a PhAskedRow (asked_pairs.h): health.asked_pairs */
extern const PhField ph_asked_fields[];
extern const int ph_n_asked_fields;

/* a PhWorkerRow (workers.h): health.workers */
extern const PhField ph_worker_fields[];
extern const int ph_n_worker_fields;

/* a PhReplication: the report's "replication" and the replication metrics */
extern const PhField ph_replication_fields[];
extern const int ph_n_replication_fields;

/* a PhSnapshot: the report's "serving"; a PhFilesystem: its "filesystems" */
extern const PhField ph_serving_fields[];
extern const int ph_n_serving_fields;
extern const PhField ph_filesystem_fields[];
extern const int ph_n_filesystem_fields;
extern const char *ph_filesystem_holds(const PhFilesystem *fs);

/* a PhMember: health.cluster's columns, the members of /cluster and the report's "cluster" */
extern const PhField ph_member_fields[];
extern const int ph_n_member_fields;
extern const char *ph_member_role(const PhMember *m);
extern const char *ph_member_address_http(const PhMember *m, const char *addr);

/* pg_health.http_client_addresses */
extern bool ph_http_client_addresses;
extern void ph_define_field_settings(void);
extern const char *ph_client_addr_for_http(const char *addr);

extern void ph_require_natts(TupleDesc desc, const char *view, int natts);
extern int	ph_check_columns(TupleDesc desc, const char *view, int first,
							 const PhField *fields, int n, const char *const *after,
							 uint8 *skip);
extern void ph_put_fields(Datum *values, bool *nulls, int *i, const PhField *fields, int n,
						  const void *base, TimestampTz at, uint8 skip);
extern void ph_json_fields(PhJson *j, const PhField *fields, int n, const void *base,
						   TimestampTz at, bool in_recovery);
extern bool ph_field_applies(const PhField *f, bool in_recovery);
extern double ph_field_number(const PhField *f, const void *base, TimestampTz at);

extern Datum ph_interval_datum(int64 us);
extern void ph_set_age(Datum *values, bool *nulls, int i, TimestampTz since, TimestampTz at);
extern void ph_set_time(Datum *values, bool *nulls, int i, TimestampTz ts);
extern void ph_set_float(Datum *values, bool *nulls, int i, double v);
extern void ph_set_opt_int(Datum *values, bool *nulls, int i, int v);
extern void ph_set_text(Datum *values, bool *nulls, int i, const char *s);
extern void ph_set_lsn(Datum *values, bool *nulls, int i, XLogRecPtr lsn);

/* a pool's database or role by name, or "oid N" while its name is not known */
extern const char *ph_limit_name(const PhLimit *l, Oid oid, char *buf, size_t len);

#endif							/* PH_FIELDS_H */

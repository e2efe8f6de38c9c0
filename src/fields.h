/*
 * fields.h -- the doors' common ground (fields.c): every figure of a
 * sample's connections described once -- its SQL column, its JSON key, its
 * metric -- and a sample's values as SQL columns.
 */
#ifndef PH_FIELDS_H
#define PH_FIELDS_H

#include "snapshot.h"

#include "access/tupdesc.h"
#include "json.h"

typedef enum PhFieldType
{
	PH_FIELD_INT,				/* int */
	PH_FIELD_OPT_INT,			/* int; below 0: not known (NULL) */
	PH_FIELD_PID,				/* int; 0: none (NULL) */
	PH_FIELD_COUNTER,			/* uint64 since shared memory init (bigint) */
	PH_FIELD_FLOAT,				/* double; NaN: not known (NULL) */
	PH_FIELD_AGE,				/* TimestampTz "since": SQL an interval, JSON
								 * <name>_ms, metric seconds; 0: none */
	PH_FIELD_TIME,				/* TimestampTz; 0: NULL */
	PH_FIELD_REFUSAL_NAME,		/* char[NAMEDATALEN]; NULL without a refusal */
	PH_FIELD_REFUSAL_BOOL,		/* bool; false without a refusal */
} PhFieldType;

/* where a field appears */
#define PH_IN_SQL	0x01		/* a column (health.connections, health.pools) */
#define PH_IN_JSON	0x02		/* a key of the report's "connections" */
#define PH_IN_BOTH	(PH_IN_SQL | PH_IN_JSON)

typedef struct PhField
{
	const char *name;			/* SQL column and JSON key */
	PhFieldType type;
	uint16		offset;			/* in the table's struct */
	uint8		in;				/* PH_IN_* */
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

extern int	ph_check_columns(TupleDesc desc, const char *view, int first,
							 const PhField *fields, int n, const char *const *after);
extern void ph_put_fields(Datum *values, bool *nulls, int *i, const PhField *fields, int n,
						  const void *base, TimestampTz at);
extern void ph_json_fields(PhJson *j, const PhField *fields, int n, const void *base,
						   TimestampTz at);
extern double ph_field_number(const PhField *f, const void *base, TimestampTz at);

extern Datum ph_interval_datum(int64 us);
extern void ph_set_age(Datum *values, bool *nulls, int i, TimestampTz since, TimestampTz at);
extern void ph_set_time(Datum *values, bool *nulls, int i, TimestampTz ts);
extern void ph_set_float(Datum *values, bool *nulls, int i, double v);
extern void ph_set_opt_int(Datum *values, bool *nulls, int i, int v);

#endif							/* PH_FIELDS_H */

/*
 * json.h -- the one JSON writer (json.c), with two sinks: a Jsonb value
 * (the report) or text (the probes' answers, NOTIFY payloads).
 */
#ifndef PH_JSON_H
#define PH_JSON_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#define PH_JSON_DEPTH 8

typedef struct PhJson
{
	StringInfo	text;			/* the text sink; NULL: the Jsonb sink */
	int			depth;
	bool		in_array[PH_JSON_DEPTH];
	/* text sink */
	bool		first[PH_JSON_DEPTH];	/* no comma before the next */
	bool		after_key;		/* a value follows its key directly */
	/* Jsonb sink */
	JsonbValue *open[PH_JSON_DEPTH];	/* the containers being filled */
	int			room[PH_JSON_DEPTH];	/* their allocated pairs or elements */
	JsonbValue *result;			/* the document, once closed */
} PhJson;

extern void ph_json_text_sink(PhJson *j, StringInfo buf);
extern void ph_json_jsonb_sink(PhJson *j);
extern void ph_json_open(PhJson *j, bool array);
extern void ph_json_close(PhJson *j);
extern void ph_json_key(PhJson *j, const char *key);
extern void ph_json_value_start(PhJson *j);

/* values: an object's after ph_json_key, or an array's elements */
extern void ph_json_null_value(PhJson *j);
extern void ph_json_str_value(PhJson *j, const char *s);
extern void ph_json_bool_value(PhJson *j, bool b);
extern void ph_json_int_value(PhJson *j, int64 n);
extern void ph_json_num_value(PhJson *j, double d);

/* members: key and value; NULL, NaN, -1 or 0 (see json.c) as null */
extern void ph_json_str(PhJson *j, const char *key, const char *s);
extern void ph_json_bool(PhJson *j, const char *key, bool b);
extern void ph_json_int(PhJson *j, const char *key, int64 n);
extern void ph_json_num(PhJson *j, const char *key, double d);
extern void ph_json_opt_int(PhJson *j, const char *key, int64 n);
extern void ph_json_time(PhJson *j, const char *key, TimestampTz ts);
extern void ph_json_age_ms(PhJson *j, const char *key, TimestampTz since, TimestampTz at);
extern void ph_json_lsn(PhJson *j, const char *key, XLogRecPtr lsn);

/* the result of the Jsonb sink, once its outermost container is closed */
#define ph_json_result(j) ((j)->result)

#endif							/* PH_JSON_H */

/*
 * json.c -- the one JSON writer pg_health has (ground): report.c builds the
 * report with it, the checker its NOTIFY payloads.
 *
 * One JSON writer, two sinks.  The report is built as a Jsonb value: a tree
 * of JsonbValues that PostgreSQL's own JsonbValueToJsonb turns into the
 * jsonb datum, which SQL returns as it is and the HTTP door renders with
 * JsonbToCString, so no JSON text is written by hand and parsed back.  The
 * probes' answers and the NOTIFY payloads are small texts sent as they are
 * written: the same calls write them as text.
 *
 * The tree is built directly rather than through pushJsonbValue, whose
 * general-purpose sort of every object's keys (and its copying between
 * parse states) was half of the report's cost: an object's keys are sorted
 * here, in Jsonb's order, by an insertion sort that is cheap for a few dozen
 * constant keys.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/numeric.h"

#include "ground/json.h"

void
ph_json_text_sink(PhJson *j, StringInfo buf)
{
	memset(j, 0, sizeof(*j));
	j->text = buf;
}

void
ph_json_jsonb_sink(PhJson *j)
{
	memset(j, 0, sizeof(*j));
}

/* text: the comma between members and elements, never after a key */
static void
json_separate(PhJson *j)
{
	if (j->after_key)
		j->after_key = false;
	else if (j->text && j->depth > 0)
	{
		if (!j->first[j->depth - 1])
			appendStringInfoChar(j->text, ',');
		j->first[j->depth - 1] = false;
	}
}

/*
 * Jsonb: where the next value goes: the open object's last pair (its key
 * was just added), a new element of the open array, or the document.
 */
static JsonbValue *
json_slot(PhJson *j)
{
	JsonbValue *c;

	if (j->depth == 0)
		return j->result = palloc(sizeof(JsonbValue));
	c = j->open[j->depth - 1];
	if (!j->in_array[j->depth - 1])
		return &c->val.object.pairs[c->val.object.nPairs - 1].value;
	if (c->val.array.nElems == j->room[j->depth - 1])
	{
		j->room[j->depth - 1] *= 2;
		c->val.array.elems = repalloc(c->val.array.elems,
									  sizeof(JsonbValue) * j->room[j->depth - 1]);
	}
	return &c->val.array.elems[c->val.array.nElems++];
}

/* One scalar, as an object's value or an array's element. */
static void
json_scalar(PhJson *j, JsonbValue *v)
{
	if (j->text)
		return;					/* written by the caller */
	*json_slot(j) = *v;
}

void
ph_json_open(PhJson *j, bool array)
{
	Assert(j->depth < PH_JSON_DEPTH);
	if (j->text)
	{
		json_separate(j);
		appendStringInfoChar(j->text, array ? '[' : '{');
		j->first[j->depth] = true;
	}
	else
	{
		JsonbValue *c = json_slot(j);

		/* the parent gets nothing more while this is open: c stays put */
		j->room[j->depth] = array ? 16 : 48;
		if (array)
		{
			c->type = jbvArray;
			c->val.array.rawScalar = false;
			c->val.array.nElems = 0;
			c->val.array.elems = palloc(sizeof(JsonbValue) * j->room[j->depth]);
		}
		else
		{
			c->type = jbvObject;
			c->val.object.nPairs = 0;
			c->val.object.pairs = palloc(sizeof(JsonbPair) * j->room[j->depth]);
		}
		j->open[j->depth] = c;
	}
	j->in_array[j->depth] = array;
	j->depth++;
}

/* Jsonb's order of keys: shorter first, then bytewise. */
static inline bool
key_before(const JsonbValue *a, const JsonbValue *b)
{
	if (a->val.string.len != b->val.string.len)
		return a->val.string.len < b->val.string.len;
	return memcmp(a->val.string.val, b->val.string.val, a->val.string.len) < 0;
}

void
ph_json_close(PhJson *j)
{
	bool		array = j->in_array[--j->depth];

	if (j->text)
		appendStringInfoChar(j->text, array ? ']' : '}');
	else if (!array)
	{
		JsonbValue *c = j->open[j->depth];
		JsonbPair  *p = c->val.object.pairs;

		for (int i = 1; i < c->val.object.nPairs; i++)
		{
			JsonbPair	x = p[i];
			int			k = i - 1;

			for (; k >= 0 && key_before(&x.key, &p[k].key); k--)
				p[k + 1] = p[k];
			p[k + 1] = x;
		}
	}
}

/*
 * A member's key; the value follows.  The Jsonb sink keeps the pointer: a key
 * must live until the document is made (string constants do).
 */
void
ph_json_key(PhJson *j, const char *key)
{
	if (j->text)
	{
		json_separate(j);
		escape_json(j->text, key);
		appendStringInfoChar(j->text, ':');
		j->after_key = true;
	}
	else
	{
		JsonbValue *c = j->open[j->depth - 1];
		JsonbPair  *p;

		if (c->val.object.nPairs == j->room[j->depth - 1])
		{
			j->room[j->depth - 1] *= 2;
			c->val.object.pairs = repalloc(c->val.object.pairs,
										   sizeof(JsonbPair) * j->room[j->depth - 1]);
		}
		p = &c->val.object.pairs[c->val.object.nPairs];
		p->key.type = jbvString;
		p->key.val.string.val = unconstify(char *, key);
		p->key.val.string.len = strlen(key);
		p->order = c->val.object.nPairs++;
	}
}

/* A value: after its key, or separated from the element before it. */
void
ph_json_value_start(PhJson *j)
{
	if (j->text)
		json_separate(j);
}

void
ph_json_null_value(PhJson *j)
{
	JsonbValue	v;

	ph_json_value_start(j);
	if (j->text)
		appendStringInfoString(j->text, "null");
	v.type = jbvNull;
	json_scalar(j, &v);
}

/* The string is copied: the Jsonb sink keeps a pointer until the end. */
void
ph_json_str_value(PhJson *j, const char *s)
{
	JsonbValue	v;

	if (s == NULL)
	{
		ph_json_null_value(j);
		return;
	}
	ph_json_value_start(j);
	if (j->text)
	{
		escape_json(j->text, s);
		return;
	}
	v.type = jbvString;
	v.val.string.val = pstrdup(s);
	v.val.string.len = strlen(s);
	json_scalar(j, &v);
}

void
ph_json_bool_value(PhJson *j, bool b)
{
	JsonbValue	v;

	ph_json_value_start(j);
	if (j->text)
	{
		appendStringInfoString(j->text, b ? "true" : "false");
		return;
	}
	v.type = jbvBool;
	v.val.boolean = b;
	json_scalar(j, &v);
}

void
ph_json_int_value(PhJson *j, int64 n)
{
	JsonbValue	v;

	ph_json_value_start(j);
	if (j->text)
	{
		appendStringInfo(j->text, INT64_FORMAT, n);
		return;
	}
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(n);
	json_scalar(j, &v);
}

/* Ten significant digits, as the text has always had; NaN and infinity: null. */
void
ph_json_num_value(PhJson *j, double d)
{
	char		buf[32];
	JsonbValue	v;

	if (isnan(d) || isinf(d))
	{
		ph_json_null_value(j);
		return;
	}
	/* most figures are whole numbers, which ten digits write exactly */
	if (!j->text && d == rint(d) && fabs(d) < 1e10)
	{
		ph_json_int_value(j, (int64) d);
		return;
	}
	snprintf(buf, sizeof(buf), "%.10g", d);
	ph_json_value_start(j);
	if (j->text)
	{
		appendStringInfoString(j->text, buf);
		return;
	}
	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
														ObjectIdGetDatum(InvalidOid),
														Int32GetDatum(-1)));
	json_scalar(j, &v);
}

void
ph_json_str(PhJson *j, const char *key, const char *s)
{
	ph_json_key(j, key);
	ph_json_str_value(j, s);
}

void
ph_json_bool(PhJson *j, const char *key, bool b)
{
	ph_json_key(j, key);
	ph_json_bool_value(j, b);
}

void
ph_json_int(PhJson *j, const char *key, int64 n)
{
	ph_json_key(j, key);
	ph_json_int_value(j, n);
}

void
ph_json_num(PhJson *j, const char *key, double d)
{
	ph_json_key(j, key);
	ph_json_num_value(j, d);
}

/* An int figure that does not exist on this server (negative): null. */
void
ph_json_opt_int(PhJson *j, const char *key, int64 n)
{
	ph_json_key(j, key);
	if (n < 0)
		ph_json_null_value(j);
	else
		ph_json_int_value(j, n);
}

/* Times in UTC, ISO 8601, whatever the reader's TimeZone: one document. */
void
ph_json_time(PhJson *j, const char *key, TimestampTz ts)
{
	char		out[MAXDATELEN + 1];
	int			utc = 0;

	ph_json_key(j, key);
	if (ts == 0)
	{
		ph_json_null_value(j);
		return;
	}
	JsonEncodeDateTime(out, TimestampTzGetDatum(ts), TIMESTAMPTZOID, &utc);
	ph_json_str_value(j, out);
}

void
ph_json_age_ms(PhJson *j, const char *key, TimestampTz since, TimestampTz at)
{
	ph_json_opt_int(j, key, since == 0 ? -1 : Max(at - since, 0) / 1000);
}

void
ph_json_lsn(PhJson *j, const char *key, XLogRecPtr lsn)
{
	char		buf[32];

	ph_json_key(j, key);
	if (XLogRecPtrIsInvalid(lsn))
	{
		ph_json_null_value(j);
		return;
	}
	snprintf(buf, sizeof(buf), "%X/%X", LSN_FORMAT_ARGS(lsn));
	ph_json_str_value(j, buf);
}

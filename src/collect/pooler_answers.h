/*
 * pooler_answers.h -- what a PgBouncer's admin console answers
 * (pooler_answers.c): one poll's SHOW statements and the figures read from
 * their results.
 */
#ifndef PH_POOLER_ANSWERS_H
#define PH_POOLER_ANSWERS_H

#include "postgres.h"

#include "libpq-fe.h"

#include "ground/snapshot.h"

/* The statements of one poll, in order. */
typedef enum PhPollQuery
{
	PH_Q_VERSION,
	PH_Q_CONFIG,
	PH_Q_LISTS,
	PH_Q_DATABASES,
	PH_Q_POOLS,
	PH_Q_COUNT
} PhPollQuery;

extern const char *const ph_poll_query_text[PH_Q_COUNT];

/* A database's pool_size, from SHOW DATABASES. */
typedef struct PhDbSize
{
	char		name[NAMEDATALEN];
	int			pool_size;
} PhDbSize;

/*
 * At most this many rows of SHOW POOLS and SHOW DATABASES are kept in a
 * poll; more pools are summed into one row, more databases left without a
 * pool_size.  Results are read one row at a time (single-row mode), so a
 * pooler that answers without end costs its own poll's deadline, not memory.
 */
#define PH_POOLER_MAX_ROWS 2000

/* One poll's figures, as read so far (its rows in the round's memory). */
typedef struct PhPollAnswer
{
	PhPooler	fresh;			/* the totals and, once finished, the pools */
	PhPoolerPool *rows;			/* SHOW POOLS */
	int			nrows;
	int			rows_cap;
	PhPoolerPool overflow;		/* rows beyond PH_POOLER_MAX_ROWS, summed */
	PhDbSize   *sizes;			/* SHOW DATABASES */
	int			nsizes;
	int			sizes_cap;
} PhPollAnswer;

extern void ph_poll_answer_start(PhPollAnswer *a);
extern void ph_poll_answer_read(PhPollAnswer *a, PhPollQuery query, const PGresult * res,
								char *error, size_t errlen);
extern void ph_poll_answer_finish(PhPollAnswer *a);

#endif							/* PH_POOLER_ANSWERS_H */

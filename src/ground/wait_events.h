/*
 * wait_events.h -- what pg_health's processes wait for, by name
 * (wait_events.c): pg_stat_activity.wait_event on PostgreSQL 17 and later.
 */
#ifndef PH_WAIT_EVENTS_H
#define PH_WAIT_EVENTS_H

/* Each wait of pg_health's own; the names are in wait_events.c. */
typedef enum PhWait
{
	PH_WAIT_SAMPLER_NEXT = 0,	/* the sampler, for its next sample */
	PH_WAIT_HTTP_CLIENTS,		/* the HTTP worker, on its sockets */
	PH_WAIT_HTTP_IDLE,			/* the HTTP worker with nothing to listen on */
	PH_WAIT_NAMES_PASS,			/* the names worker, for its next pass */
	PH_WAIT_NAMES_PACING,		/* the names worker, pacing its passes */
	PH_WAIT_CHECKER_NEXT,		/* the checker, for its next check */
	PH_WAIT_POLLER_NEXT,		/* the pooler worker, for its next round */
	PH_WAIT_POLLER_ANSWERS,		/* the pooler worker, for the poolers' answers */
	PH_WAIT_ASKED_PAIR,			/* an asker, for the names worker's pass */
	PH_WAIT_REFRESH,			/* health.refresh(), for its sample */
	PH_WAIT_DISK_NEXT,			/* the disk worker, for its next pass */
	PH_WAIT_CLUSTER_ANSWERS,	/* the pooler worker, for the members' answers */
	PH_WAITS
} PhWait;

extern uint32 ph_wait_event(PhWait wait);

#endif							/* PH_WAIT_EVENTS_H */

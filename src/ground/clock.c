/*
 * clock.c -- the monotonic clock (ground): for what compares times across
 * processes of this machine (the asked pairs' ages) and for waits, which a
 * step of the wall clock must neither freeze nor cut.  Calls nothing.
 */
#include "postgres.h"

#include <time.h>

#include "ground/clock.h"

/* Milliseconds of CLOCK_MONOTONIC, which never steps. */
uint64
ph_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64) ts.tv_sec * 1000 + (uint64) ts.tv_nsec / 1000000;
}

/*
 * clock.h -- the monotonic clock (clock.c).
 */
#ifndef PH_CLOCK_H
#define PH_CLOCK_H

#include "postgres.h"

extern uint64 ph_monotonic_ms(void);

#endif							/* PH_CLOCK_H */

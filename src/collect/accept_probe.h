/*
 * accept_probe.h -- does the server accept a new connection (accept_probe.c)
 */
#ifndef PH_ACCEPT_PROBE_H
#define PH_ACCEPT_PROBE_H

#include "ground/snapshot.h"

extern void ph_accept_probe_step(TimestampTz now);
extern pgsocket ph_accept_probe_socket(TimestampTz now, int *events, long *wait_ms);
extern void ph_accept_probe_read(PhAccept *out);

#endif							/* PH_ACCEPT_PROBE_H */

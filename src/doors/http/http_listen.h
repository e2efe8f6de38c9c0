/*
 * http_listen.h -- the HTTP endpoint's listening sockets (http_listen.c):
 * pg_health.http_port and pg_health.http_listen_addresses.
 */
#ifndef PH_HTTP_LISTEN_H
#define PH_HTTP_LISTEN_H

#include "postgres.h"

#include "utils/timestamp.h"

#define PH_HTTP_MAX_LISTEN	16

extern int	ph_http_port;
extern char *ph_http_listen_addresses;

/* the sockets listening now: ph_http_listeners[0 .. ph_http_nlisteners) */
extern pgsocket ph_http_listeners[PH_HTTP_MAX_LISTEN];
extern int	ph_http_nlisteners;

extern void ph_define_http_listen_settings(void);
extern bool ph_http_listen(TimestampTz now, MemoryContext cxt);
extern long ph_http_listen_retry_ms(TimestampTz now);
extern void ph_http_unlisten(void);

#endif							/* PH_HTTP_LISTEN_H */

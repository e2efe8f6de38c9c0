/*
 * http_server.h -- the HTTP worker (http_server.c): /live, /ready, /startup,
 * /health, /primary, /replica, /metrics and the status page, without
 * credentials.
 */
#ifndef PH_HTTP_SERVER_H
#define PH_HTTP_SERVER_H

#include "postgres.h"

#include "fmgr.h"

/*
 * pg_health.http_max_clients and http_client_timeout; the other three HTTP
 * settings belong to the listeners (http_port, http_listen_addresses:
 * http_listen.h) and the answers (http_admission: http_answers.h), and
 * ph_define_http_settings defines all five.  (http_client_addresses, which
 * SQL obeys too, is doors/fields.c's.)
 */
extern int	ph_http_max_clients;
extern int	ph_http_client_timeout_ms;

extern void ph_define_http_settings(void);
extern PGDLLEXPORT void pg_health_http_main(Datum main_arg);
extern void ph_register_http_worker(void);

#endif							/* PH_HTTP_SERVER_H */

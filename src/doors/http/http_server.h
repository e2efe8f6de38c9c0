/*
 * http.h -- the HTTP worker (http.c): /live, /ready, /started, /health,
 * /metrics without credentials.
 */
#ifndef PH_HTTP_H
#define PH_HTTP_H

#include "postgres.h"

#include "fmgr.h"

/* pg_health.http_port, http_listen_addresses, http_max_clients, http_client_timeout */
extern int	ph_http_port;
extern char *ph_http_listen_addresses;
extern int	ph_http_max_clients;
extern int	ph_http_client_timeout_ms;
extern bool ph_http_admission;

extern void ph_define_http_settings(void);
extern PGDLLEXPORT void pg_health_http_main(Datum main_arg);
extern void ph_register_http_worker(void);

#endif							/* PH_HTTP_H */

/*
 * guard.h -- what keeps pg_health's own SQL safe and what comes from outside
 * clean (guard.c).
 */
#ifndef PH_GUARD_H
#define PH_GUARD_H

#include "postgres.h"

#include "fmgr.h"
#include "datatype/timestamp.h"

/* The search_path every statement pg_health runs itself is planned under. */
#define PH_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

/* A role switch to a table's owner, undone by ph_restore_user. */
typedef struct PhSavedUser
{
	Oid			userid;
	int			sec_context;
	int			guc_nestlevel;
} PhSavedUser;

extern int	ph_pin_search_path(const char *search_path);
extern void ph_unpin_search_path(int nestlevel);
extern void ph_become_table_owner(const char *relname, PhSavedUser *save);
extern void ph_restore_user(const PhSavedUser *save);

extern void ph_clean_text(char *dst, size_t size, const char *src, size_t srclen);
extern void ph_clean_server_text(char *dst, size_t size, const char *src);

extern double ph_interval_ms(const Interval *iv);
extern int	ph_interval_arg_ms(FunctionCallInfo fcinfo, int argno, const char *what,
							   int min_ms, int max_ms);
extern int	ph_clamp_ms(double ms, int min_ms, int max_ms);

extern bool ph_valid_name(const char *name, const char **why);
extern char *ph_name_arg(FunctionCallInfo fcinfo, int argno, const char *what);

struct PgBackendStatus;
extern bool ph_format_client_addr(const struct PgBackendStatus *be, char *host, size_t len);

#endif							/* PH_GUARD_H */

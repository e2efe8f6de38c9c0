/*
 * test/instrumented/sanitizer_preload.c -- preloaded after libasan into every
 * server of scripts/test's PH_SANITIZE=1 run (ph_instrument_postgres in
 * scripts/lib.sh).  It mends three ways in which the sanitizer runtimes, made
 * for programs built with them, fail in Debian's postgres, which is not:
 *
 * 1. Preloaded alone, libasan initialises lazily, at the first malloc().  In
 *    Debian's postgres (and psql) that happens in libgpg-error's constructor,
 *    inside bindtextdomain() with glibc's gettext lock held for writing; ASan's
 *    initialisation calls dlerror(), which takes the same lock for reading and
 *    leaves it unbalanced: the process then hangs for ever in its own
 *    bindtextdomain() (postgres -V) or at exit (psql -V).  Linked with
 *    -z initfirst, this object's constructor runs before every other one, and
 *    its malloc() initialises ASan while no lock is held.
 *
 * 2. The runtimes read their options from /proc/self/environ, the memory the
 *    process started with, which PostgreSQL overwrites with each process's
 *    title (ps_status.c).  ASan reads it at once, in the postmaster, but
 *    libubsan (loaded with pg_health) only at its first report, in a backend
 *    or worker, where UBSAN_OPTIONS is gone: the report would have no stack
 *    and not end the process.  libubsan asks __ubsan_default_options() first;
 *    this one answers from getenv(), which PostgreSQL keeps working.
 *
 * 3. libubsan sets its report file with __sanitizer_set_report_path(), which
 *    libasan, preloaded, interposes: UBSan's log_path moves ASan's reports
 *    and UBSan's own go to stderr.  So, once more, with libubsan's own
 *    function.  (Give ASan and UBSan the same log_path.)
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

const char *__ubsan_default_options(void);

__attribute__((constructor))
static void
ph_sanitizer_init_first(void)
{
	void	   *volatile p = malloc(1);	/* volatile: not optimised away */

	free(p);
}

/* Called by libubsan as it initialises, in the process of its first report. */
const char *
__ubsan_default_options(void)
{
	static char path[4096];
	const char *options = getenv("UBSAN_OPTIONS");
	const char *lp;
	void	   *ubsan;
	void		(*set_path) (const char *);

	if (options == NULL)
		return "";
	lp = strstr(options, "log_path=");
	ubsan = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
	if (lp != NULL && ubsan != NULL)
	{
		lp += strlen("log_path=");
		strncpy(path, lp, sizeof(path) - 1);
		path[strcspn(path, ":")] = '\0';
		set_path = (void (*) (const char *)) dlsym(ubsan, "__sanitizer_set_report_path");
		if (set_path != NULL)
			set_path(path);
	}
	return options;
}

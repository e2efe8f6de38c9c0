# pg_health -- PGXS build.  See README.md for the two commands that matter.

EXTENSION = pg_health
MODULE_big = pg_health
OBJS = src/pg_health.o \
	src/shmem.o src/tenants.o src/guard.o src/workers.o src/json.o \
	src/verdict.o src/checks.o src/replication_checks.o src/component_checks.o src/admission.o src/pooler_checks.o \
	src/sessions.o src/replication.o src/hooks.o src/components.o src/checker.o src/names.o src/poolers.o src/poller.o src/sampler.o \
	src/read.o \
	src/fields.o src/report.o src/metrics.o src/status_page.o src/sql.o src/sql_pools.o src/sql_replication.o src/sql_poolers.o src/sql_tenants.o src/sql_workers.o src/http_parse.o src/http.o
DATA = pg_health--1.0.sql pg_health--1.0--1.1.sql pg_health--1.1--1.2.sql
PGFILEDESC = "pg_health - one authoritative readiness verdict"

# Tests need a preloaded server: `make installcheck` runs them against a
# private temporary instance (never an existing cluster).
REGRESS = install verdicts views pools privileges bad_input components
REGRESS_OPTS = --temp-instance=$(CURDIR)/tmp_regress --temp-config=$(srcdir)/test/conf/preload.conf
ISOLATION = sessions
ISOLATION_OPTS = --temp-instance=$(CURDIR)/tmp_check_iso --temp-config=$(srcdir)/test/conf/preload.conf \
	--inputdir=$(srcdir)/test/isolation
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl
NO_INSTALLCHECK_EXISTING = 1

# the library's version (pg_health_build_info), from the control file
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(srcdir)/pg_health.control)
PG_CPPFLAGS = -I$(srcdir)/src -I$(libpq_srcdir) -DPH_LIBRARY_VERSION='"$(EXTVERSION)"'
# the pooler worker talks to PgBouncer through libpq, as dblink does; the
# HTTP worker gzips /metrics and /health for clients that accept it
SHLIB_LINK_INTERNAL = $(libpq)
SHLIB_LINK = -lz
EXTRA_CLEAN = tmp_check tmp_regress tmp_check_iso output_iso results regression.diffs regression.out log

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# a build outside the source tree (VPATH, as pg_buildext does) needs src/ for the objects
ifdef VPATH
$(shell mkdir -p src)
endif

# after the include: Makefile.global resets PROVE_FLAGS
override PROVE_FLAGS += -I $(srcdir)/test/perl

# PGXS tracks no header dependencies: every object depends on the shared
# headers, so a changed struct never meets a stale object.
$(OBJS): $(wildcard $(srcdir)/src/*.h)

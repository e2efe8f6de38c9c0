# pg_health -- PGXS build.  See README.md for the two commands that matter.

EXTENSION = pg_health
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)
MODULE_big = pg_health
OBJS = src/pg_health.o src/shmem.o src/sampler.o src/names.o src/checker.o src/components.o src/checks.o src/report.o src/sql.o src/pools.o src/hooks.o src/http.o src/http_parse.o src/metrics.o src/replication.o src/guard.o src/read.o
HEADERS_pg_health = src/pg_health.h src/compat.h
DATA = pg_health--1.0.sql pg_health--1.0--1.1.sql
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

PG_CPPFLAGS = -I$(srcdir)/src
EXTRA_CLEAN = tmp_check tmp_regress tmp_check_iso output_iso results regression.diffs regression.out log

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# after the include: Makefile.global resets PROVE_FLAGS
override PROVE_FLAGS += -I $(srcdir)/test/perl

# PGXS tracks no header dependencies: every object depends on the shared
# headers, so a changed struct never meets a stale object.
$(OBJS): $(srcdir)/src/pg_health.h $(srcdir)/src/compat.h $(srcdir)/src/http_parse.h $(srcdir)/src/guard.h $(srcdir)/src/read.h

# pg_health -- PGXS build.  See README.md for the two commands that matter.

EXTENSION = pg_health
MODULE_big = pg_health
# The sources' folders are the house's layers (docs/design.md, "The house"):
# src/pg_health.c the entry, then src/doors (with sql/ and http/), src/read,
# src/collect, src/judge, src/ground.  Every .c in them is built.
PH_LAYERS = ground judge collect read doors doors/sql doors/http
OBJS = src/pg_health.o $(patsubst $(srcdir)/%.c,%.o,$(sort $(foreach d,$(PH_LAYERS),$(wildcard $(srcdir)/src/$(d)/*.c))))
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
# HTTP worker gzips /metrics and /health for clients that accept it; the
# cluster poller resolves host names with getaddrinfo_a (libanl before glibc
# 2.34, a stub in libc since)
SHLIB_LINK_INTERNAL = $(libpq)
SHLIB_LINK = -lz -lanl
EXTRA_CLEAN = tmp_check tmp_regress tmp_check_iso output_iso results regression.diffs regression.out log

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# a build outside the source tree (VPATH, as pg_buildext does) needs the
# layers' folders for the objects
ifdef VPATH
$(shell mkdir -p $(addprefix src/,$(PH_LAYERS)))
endif

# every TAP test's servers start with test/conf/tap.conf (PostgreSQL::Test::Cluster
# appends TEMP_CONFIG at initdb)
export TEMP_CONFIG = $(abspath $(srcdir))/test/conf/tap.conf

# after the include: Makefile.global resets PROVE_FLAGS
override PROVE_FLAGS += -I $(srcdir)/test/perl

# PGXS tracks no header dependencies: every object depends on the shared
# headers, so a changed struct never meets a stale object.
$(OBJS): $(foreach d,$(PH_LAYERS),$(wildcard $(srcdir)/src/$(d)/*.h))

# Every build checks the house's rule on the objects it made: a call up a
# layer, a loop, or a source file outside the layers' folders fails it.
all: layers-checked
layers-checked: $(OBJS)
	perl $(srcdir)/scripts/check-layers src
	@touch $@
EXTRA_CLEAN += layers-checked

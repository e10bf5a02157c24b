# agentstore: PGXS build.  `make`, `make install`, `make installcheck`
# (against a running server chosen by the PG* variables); the whole suite on a
# throwaway cluster is scripts/test.sh.

EXTENSION = agentstore
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" agentstore.control)

MODULE_big = agentstore
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is assembled from one file per feature (sql/NN_name.sql),
# in file-name order.  Upgrade scripts from released versions live in
# sql/upgrade/ and are installed as they are.
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(wildcard sql/upgrade/$(EXTENSION)--*--*.sql) \
	$(wildcard sql/releases/$(EXTENSION)--*.sql)

# One regression file per feature, pgTAP contracts included (test/sql/*.sql),
# isolation specs (test/specs/*.spec) and TAP tests (test/t/*.pl).
TESTS = $(sort $(wildcard test/sql/*.sql))
REGRESS = $(patsubst test/sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=test --load-extension=pgtap --load-extension=$(EXTENSION)
ISOLATION = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --load-extension=$(EXTENSION)
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl
PROVE_FLAGS = -I test/perl

EXTRA_CLEAN = $(EXTENSION)--$(EXTVERSION).sql results output_iso tmp_check \
	regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/[0-9]*.sql)) agentstore.control
	cat $(sort $(wildcard sql/[0-9]*.sql)) > $@

.PHONY: demo test bench
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
bench:
	bash bench/run.sh

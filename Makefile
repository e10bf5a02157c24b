# agentstore: PGXS build.  `make`, `make install`, `make installcheck`
# (against a running server chosen by the PG* variables, as any user; see
# docs/testing.md); the whole suite on throwaway clusters is scripts/test.sh.

EXTENSION = agentstore
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" agentstore.control)

MODULE_big = agentstore
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is assembled from one file per feature (sql/NN_name.sql),
# in file-name order.  Upgrade scripts from released versions live in
# sql/upgrade/ and are installed as they are.
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(wildcard sql/upgrade/$(EXTENSION)--*--*.sql) \
	$(wildcard sql/releases/$(EXTENSION)--*.sql) \
	$(wildcard sql/releases/$(EXTENSION)--*.control)

# One regression file per feature, pgTAP contracts included (test/sql/*.sql),
# isolation specs (test/specs/*.spec) and TAP tests (test/t/*.pl); the
# expected outputs of both are in the top-level expected/.
# The pgTAP contracts are the files that SELECT plan(n); NO_PGTAP=1 leaves them
# out, for a server without pgTAP.
TESTS = $(sort $(wildcard test/sql/*.sql))
PGTAP_TESTS = $(patsubst test/sql/%.sql,%,$(shell grep -l -i -E 'select (\* from )?(no_)?plan' $(TESTS)))
ifdef NO_PGTAP
REGRESS = $(filter-out $(PGTAP_TESTS),$(patsubst test/sql/%.sql,%,$(TESTS)))
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION)
else
REGRESS = $(patsubst test/sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=test --load-extension=pgtap --load-extension=$(EXTENSION)
endif
ISOLATION = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --load-extension=$(EXTENSION)
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

EXTRA_CLEAN = $(EXTENSION)--$(EXTVERSION).sql results output_iso tmp_check \
	regression.diffs regression.out

# Checked before installcheck runs anything (installcheck-prereq, below).
REGRESS_PREP = installcheck-prereq

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# installcheck: the tests use the database names scripts/test.sh's pg_regress
# uses (a test reconnects to "regression"); the TAP tests find the source
# tree (released install scripts) through AGENTSTORE_SRC and their helper
# module in test/perl.
CONTRIB_TESTDB = regression
export AGENTSTORE_SRC ?= $(CURDIR)
# (after the include: Makefile.global empties PROVE_FLAGS)
PROVE_FLAGS = -I test/perl

# Before installcheck: say plainly what the server lacks, instead of failing
# every test.  The server is the one psql reaches with the PG* variables.
INSTALLCHECK_PSQL = '$(bindir)/psql' -X -q -A -t -d postgres
.PHONY: installcheck-prereq
installcheck-prereq:
	@$(INSTALLCHECK_PSQL) -c 'SELECT 1' >/dev/null || \
		{ echo "installcheck: cannot connect to the server (set PGHOST, PGPORT, PGUSER as for psql)" >&2; exit 1; }
	@test "$$($(INSTALLCHECK_PSQL) -c "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" = t || \
		{ echo "installcheck: the tests need a superuser role (PGUSER): they create databases and extensions" >&2; exit 1; }
	@test "$$($(INSTALLCHECK_PSQL) -c "SELECT count(*) FROM pg_available_extension_versions WHERE name = '$(EXTENSION)' AND version = '$(EXTVERSION)'")" = 1 || \
		{ echo "installcheck: $(EXTENSION) $(EXTVERSION) is not installed in this server: run make install (with this server's PG_CONFIG) first" >&2; exit 1; }
ifndef NO_PGTAP
	@test "$$($(INSTALLCHECK_PSQL) -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'pgtap'")" = 1 || \
		{ echo "installcheck: pgTAP is not installed in this server, and the contract tests ($(PGTAP_TESTS)) need it." >&2; \
		  echo "installcheck: install it (Debian: postgresql-15-pgtap; elsewhere https://pgxn.org/dist/pgtap/) or run the other tests with: make installcheck NO_PGTAP=1" >&2; exit 1; }
endif
	@test "$$($(INSTALLCHECK_PSQL) -c "SELECT count(*) FROM pg_settings WHERE name = 'shared_preload_libraries' AND '$(EXTENSION)' = ANY (string_to_array(replace(setting, ' ', ''), ','))") $$($(INSTALLCHECK_PSQL) -c "SELECT setting FROM pg_settings WHERE name = 'agentstore.ttl_interval'")" = "1 3600" || \
		{ echo "installcheck: the server must run with the settings of test/test.conf: shared_preload_libraries = '$(EXTENSION)' and agentstore.ttl_interval = '1h' (shared_preload_libraries needs a restart, ttl_interval a reload)" >&2; exit 1; }
	@# pg_regress looks for expected/ under its output directory first: the
	@# isolation tests write to output_iso, so it gets a link to expected/.
	@mkdir -p output_iso && ln -sfn ../expected output_iso/expected

# The TAP tests alone (PGXS has no target for them outside PostgreSQL's tree).
# They start clusters of their own with this server's binaries, so they need
# no running server, only a user other than root and Perl's IPC::Run.
.PHONY: prove_installcheck
prove_installcheck:
	@perl -MIPC::Run -e 1 2>/dev/null || \
		{ echo "prove_installcheck: the TAP tests need Perl's IPC::Run (Debian: libipc-run-perl)" >&2; exit 1; }
	$(prove_installcheck)

$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/[0-9]*.sql)) agentstore.control
	cat $(sort $(wildcard sql/[0-9]*.sql)) > $@

.PHONY: demo test bench
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
bench:
	bash bench/run.sh

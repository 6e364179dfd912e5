# pgbundle - compiler (pgbundle) and runtime (pgapply) for PostgreSQL migrations.

VERSION	 = 0.1.0
PREFIX	?= /usr/local
DESTDIR	?=
PKG_CONFIG ?= pkg-config
CC	?= cc
CFLAGS	?= -O2 -g
WARN	 = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wvla -Wwrite-strings \
	   -Wstrict-prototypes -Wmissing-prototypes -Wno-format-nonliteral
PGB_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	   -DPGB_VERSION='"$(VERSION)"' $(WARN) \
	   $(shell $(PKG_CONFIG) --cflags libpq libarchive libcrypto zlib)
DEPFLAGS = -MMD -MP
LIBS	 = $(shell $(PKG_CONFIG) --libs libpq libarchive libcrypto zlib)
# pgapply reads bundles with its own ustar reader (runtime/ustar.c): no
# libarchive, a dozen shared libraries fewer to load at every start.
RT_LIBS	 = $(shell $(PKG_CONFIG) --libs libpq libcrypto zlib)
TESTLIBS = $(shell $(PKG_CONFIG) --libs cmocka)
ifneq ($(SANITIZE),)
PGB_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS	  += -fsanitize=$(SANITIZE)
endif

# Each part of the tree sees its own folder and include/, nothing more
# (docs/ARCHITECTURE.md): include/ holds what the compiler and the runtime
# share, runtime/ and compiler/ their own headers, and compiler/server/ the
# tools that need a PostgreSQL server.  So a runtime file that includes a
# compiler header, or a file of the compiler's pipeline that includes a
# header of compiler/server/, does not build (tests/e2e/002_layout.pl).
# The compiler's front end (main.c, cli.c, cmd_*.c) reaches the server
# tools; the unit tests and fuzz targets reach everything.
RT_INC	 = -Iruntime -Iinclude
CC_INC	 = -Icompiler -Iinclude
SV_INC	 = -Icompiler/server -Icompiler -Iinclude
ALL_INC	 = -Icompiler/server -Icompiler -Iruntime -Iinclude

B	 = build
# Modules shared by both programs live in runtime/ (the runtime must stay
# self-contained); the compiler links them.
RT_OBJS	 = $(patsubst %.c,$(B)/%.o,$(filter-out runtime/main.c,$(wildcard runtime/*.c)))
CC_OBJS	 = $(patsubst %.c,$(B)/%.o,$(filter-out compiler/main.c,\
	   $(wildcard compiler/*.c compiler/server/*.c)))
CMD_OBJS = $(patsubst %.c,$(B)/%.o,\
	   $(wildcard compiler/main.c compiler/cli.c compiler/cmd_*.c))
RT_LIB	 = $(B)/libpgbrt.a
CC_LIB	 = $(B)/libpgbcc.a
UNIT	 = $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))

all: bin/pgbundle bin/pgapply

bin/pgapply: $(B)/runtime/main.o $(RT_LIB)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(RT_LIBS)

bin/pgbundle: $(B)/compiler/main.o $(CC_LIB) $(RT_LIB)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(RT_LIB): $(RT_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(CC_LIB): $(CC_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/runtime/%.o: runtime/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PGB_CFLAGS) $(DEPFLAGS) $(RT_INC) -c -o $@ $<

$(B)/compiler/%.o: compiler/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PGB_CFLAGS) $(DEPFLAGS) $(CC_INC) -c -o $@ $<

$(B)/compiler/server/%.o: compiler/server/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PGB_CFLAGS) $(DEPFLAGS) $(SV_INC) -c -o $@ $<

$(CMD_OBJS): $(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PGB_CFLAGS) $(DEPFLAGS) $(SV_INC) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(CC_LIB) $(RT_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PGB_CFLAGS) $(DEPFLAGS) $(ALL_INC) $(LDFLAGS) -o $@ \
	    $(filter %.c %.a,$^) $(LIBS) $(TESTLIBS)

units: $(UNIT)

# The whole suite: cmocka units and end-to-end tests against a throwaway
# PostgreSQL, under one harness that ends with "N passed, N failed".
# JOBS test files run at once (default: one per core; each end-to-end
# file has a server of its own).
JOBS	?=
RUN	 = JOBS=$(JOBS) perl tests/run.pl

test check: all units
	$(RUN) $(UNIT) $(sort $(wildcard tests/e2e/*.pl))

check-unit: units
	$(RUN) $(UNIT)

check-e2e: all
	$(RUN) $(sort $(wildcard tests/e2e/*.pl))

# How one part of the tree (PART=RT, CC or SV, as the *_INC above) is
# compiled, on one line: tests/e2e/002_layout.pl compiles probes with it.
print-flags:
	@: $(info $(CC) $(CFLAGS) $(PGB_CFLAGS) $($(PART)_INC))

# Compile migrations/ and apply it to a throwaway local server (README).
demo: all
	sh scripts/demo.sh

# bin/pgapply-static: pgapply with no shared libraries, stripped, for
# FROM-scratch images (docs/DEPLOY.md).  scripts/build-static.sh builds
# libpq once into $(SB), which "make clean" keeps and "make distclean"
# removes; OpenSSL and zlib are Debian's static libraries.
SB	 = $(B)/static
SRT_OBJS = $(patsubst %.c,$(B)/sobj/%.o,$(wildcard runtime/*.c))
SLIBS	 = -L$(SB)/lib -lpq -lpgcommon_shlib -lpgport_shlib -lssl \
	   -lcrypto -lz -lpthread

static: bin/pgapply-static

bin/pgapply-static: $(SRT_OBJS)
	@mkdir -p bin
	$(CC) -static -s -o $@ $(SRT_OBJS) $(SLIBS)

$(B)/sobj/runtime/%.o: runtime/%.c $(SB)/.done
	@mkdir -p $(@D)
	$(CC) -I$(SB)/include $(CFLAGS) $(filter-out -fsanitize%,$(PGB_CFLAGS)) \
	    $(DEPFLAGS) $(RT_INC) -c -o $@ $<

$(SB)/.done: scripts/build-static.sh
	rm -f $@
	sh scripts/build-static.sh $(SB)

# The FROM-scratch image of the Dockerfile, pgapply:$(VERSION) and
# pgapply:latest, with podman or docker (docs/DEPLOY.md).  scripts/image.sh
# keeps podman's configuration and storage, and the Debian base it makes
# with mmdebstrap when no registry answers, in $(IB), which "make clean"
# keeps and "make distclean" removes.  IMAGE_ENGINE=podman|docker and
# IMAGE_BASE=IMAGE choose instead of it.
IB	 = $(B)/image

image:
	sh scripts/image.sh build

# Benchmarks against psql and peer tools on a throwaway durable server;
# long, and never part of test.  BENCH_QUICK=1 for a short run (bench/run.pl).
bench: all
	perl bench/run.pl

# One bundle to 100 databases: a shell loop of pgapply against --targets
# -j 1 and -j 4 (bench/fleet.pl, docs/BENCHMARKS.md).
bench-fleet: all
	perl bench/fleet.pl

# libFuzzer targets (clang, from Debian): the bundle reader behind the
# signature, the manifest parser, the SQL lexer and classifier, built into
# $(FB) with ASan and UBSan.  Each runs FUZZ_TIME seconds from seeds made
# from the test fixtures, after replaying tests/fuzz/regress/ (run.sh).
FUZZ_TIME ?= 60
FUZZ_CC	 ?= clang
FB	 = build-fuzz
FUZZERS	 = $(patsubst tests/fuzz/%.c,$(B)/%,$(wildcard tests/fuzz/fuzz_*.c))

fuzz:
	$(MAKE) B=$(FB) CC=$(FUZZ_CC) SANITIZE=fuzzer-no-link,address,undefined \
	    fuzzers
	sh tests/fuzz/run.sh $(FB) $(FUZZ_TIME)

fuzzers: $(FUZZERS)

$(B)/fuzz_%: tests/fuzz/fuzz_%.c $(CC_LIB) $(RT_LIB)
	$(CC) $(CFLAGS) $(PGB_CFLAGS) $(DEPFLAGS) $(ALL_INC) $(LDFLAGS) \
	    -fsanitize=fuzzer -o $@ $(filter %.c %.a,$^) $(LIBS)

# Longer runs than CI's: each fuzzer SOAK_FUZZ_TIME seconds, the kill -9
# sweep of tests/e2e/050_faults.pl SOAK_KILLS times and the server crashes
# of tests/e2e/048_commit_crash.pl SOAK_CRASHES times (docs/RELIABILITY.md).
SOAK_FUZZ_TIME ?= 600
SOAK_KILLS ?= 300
SOAK_CRASHES ?= 100

soak: all
	$(MAKE) fuzz FUZZ_TIME=$(SOAK_FUZZ_TIME)
	PGB_SOAK=$(SOAK_KILLS) $(RUN) tests/e2e/050_faults.pl
	PGB_SOAK=$(SOAK_CRASHES) $(RUN) tests/e2e/048_commit_crash.pl

# The runtime's end-to-end tests that cover the most of it, with pgapply
# under valgrind's memcheck: any error or leak fails the test (exit 99).
VALGRIND_TESTS = tests/e2e/020_apply.pl tests/e2e/021_refusals.pl \
	   tests/e2e/053_hostile_more.pl

check-valgrind: all
	PGB_VALGRIND=1 $(RUN) $(VALGRIND_TESTS)

# The runtime's end-to-end tests against the other PostgreSQL majors in
# tests/pg-versions (13, 14, 16, 17, 18; "make test" uses Debian's 15),
# whose server programs scripts/deps.sh installs into tests/tools/pg from
# the npm registry.  A major that is missing fails the run.  JOBS majors
# at a time (default: one per core), each running its files one at a
# time; PGB_VERSIONS="17 18" runs only those majors.
# The files: apply, refusals and the no-transaction resume, runners and
# the lock, rollback and adopt, the real other tools' databases, the
# pipeline, the server stopping, and check --db.
VERSION_TESTS = tests/e2e/020_apply.pl tests/e2e/021_refusals.pl \
	   tests/e2e/022_runners.pl tests/e2e/024_rollback.pl \
	   tests/e2e/025_adopt_tools.pl tests/e2e/026_pipeline.pl \
	   tests/e2e/051_server_stop.pl tests/e2e/070_check.pl

test-versions: all
	JOBS=$(JOBS) perl tests/versions.pl $(VERSION_TESTS)

.PHONY: fuzz fuzzers soak check-valgrind test-versions

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 bin/pgbundle bin/pgapply $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 compiler/pgbundle.1 runtime/pgapply.1 \
	    $(DESTDIR)$(PREFIX)/share/man/man1/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pgbundle $(DESTDIR)$(PREFIX)/bin/pgapply
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/pgbundle.1 \
	    $(DESTDIR)$(PREFIX)/share/man/man1/pgapply.1

clean:
	rm -rf bin $(filter-out $(SB) $(IB),$(wildcard $(B)/*))

distclean: clean
	sh scripts/image.sh clean
	rm -rf $(B)

.PHONY: all units test check check-unit check-e2e print-flags demo bench \
	bench-fleet install uninstall clean distclean static image

-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d $(B)/fuzz_*.d)

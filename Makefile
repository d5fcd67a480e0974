# parlab: `make` builds everything into build/, `make test` and
# `make report` install what is missing first (scripts/deps).

CC      ?= cc
CFLAGS  ?= -O2 -g
PREFIX  ?= /usr/local
SANITIZE ?=

WARN    := -Wall -Wextra
ALL_CFLAGS = $(CFLAGS) $(WARN) -pthread -MMD -MP -Iexecutors/include -Iworkloads
LDLIBS_BASE := -pthread -lm

# A sanitizer build gets its own tree so that it never mixes with the plain
# one: build-san-thread/, build-san-address-undefined/.
ifeq ($(SANITIZE),)
BUILD   ?= build
else
comma := ,
BUILD   ?= build-san-$(subst $(comma),-,$(SANITIZE))
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDLIBS_BASE += -fsanitize=$(SANITIZE)
endif

OPENMP  := -fopenmp
CRITERION_CFLAGS = $(shell pkg-config --cflags criterion 2>/dev/null)
CRITERION_LIBS   = $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)
# The folder API server and client: libmicrohttpd, libcurl, json-c.
FOLDERS_CFLAGS := $(shell pkg-config --cflags libmicrohttpd libcurl json-c 2>/dev/null)
MHD_LIBS    := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
CURL_LIBS   := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
JSONC_LIBS  := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)

# --- libraries -------------------------------------------------------------
# The folder client needs libcurl and json-c; it gets its own archive so
# that only the programs that talk HTTP link them, together with what only
# the folders programs use (their shared plumbing and the token bucket).
FOLDERS_SRC := workloads/folder_client.c workloads/folder_server_ctl.c \
               workloads/folders_work.c workloads/token_bucket.c
FOLDERS_OBJ := $(FOLDERS_SRC:%.c=$(BUILD)/obj/%.o)
LIBPLF  := $(BUILD)/libparlab-folders.a
FSRV_SRC := $(wildcard workloads/folder_server/*.c)
FSRV_OBJ := $(FSRV_SRC:%.c=$(BUILD)/obj/%.o)
FOLDER_SERVER := $(BUILD)/workloads/folder-api-server
WL_SRC  := $(filter-out $(FOLDERS_SRC),$(wildcard workloads/*.c))
WL_OBJ  := $(WL_SRC:%.c=$(BUILD)/obj/%.o)
# The MPI backend (executors/src/mpi/) is not part of libcf: it links
# libmpi, which costs every exec of a program that links it (mk/mpi.mk).
CF_SRC  := $(filter-out executors/src/mpi/%,$(wildcard executors/src/*/*.c))
CF_OBJ  := $(CF_SRC:%.c=$(BUILD)/obj/%.o)
LIBPL   := $(BUILD)/libparlab.a
LIBCF_A := $(BUILD)/libcf.a
LIBCF_SO := $(BUILD)/libcf.so
MICRO_LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard benchmarks/micro/lib/*.c))

# --- programs: one binary per workload file of each model --------------------
serial_PROGS   := $(patsubst workloads/serial/%.c,$(BUILD)/serial/%,$(wildcard workloads/serial/*.c))
exec_PROGS     := $(patsubst executors/%.c,$(BUILD)/executors/%,$(wildcard executors/*.c))
threads_PROGS  := $(patsubst raw_threads/%.c,$(BUILD)/raw_threads/%,$(wildcard raw_threads/*.c))
procs_PROGS    := $(patsubst raw_processes/%.c,$(BUILD)/raw_processes/%,$(wildcard raw_processes/*.c))
openmp_PROGS   := $(patsubst openmp/%.c,$(BUILD)/openmp/%,$(wildcard openmp/*.c))
micro_PROGS    := $(patsubst benchmarks/micro/%.c,$(BUILD)/micro/%,$(wildcard benchmarks/micro/*.c))
tool_PROGS     := $(patsubst workloads/tools/%.c,$(BUILD)/workloads/%,$(wildcard workloads/tools/*.c))
PROGRAMS := $(serial_PROGS) $(exec_PROGS) $(threads_PROGS) $(procs_PROGS) \
            $(openmp_PROGS) $(micro_PROGS) $(tool_PROGS) $(FOLDER_SERVER)

TEST_SRC := $(wildcard tests/*.c)
TEST_BIN := $(BUILD)/tests/parlab-tests

.PHONY: all build test report install uninstall clean deps deps-test deps-report
# `make` first installs what the build needs and is missing (scripts/deps
# says what it installs and does nothing when all is there), then builds
# in a second make, so that pkg-config sees the new packages.
all:
	@scripts/deps build
	@$(MAKE) --no-print-directory build
build: $(LIBCF_A) $(LIBCF_SO) $(LIBPL) $(LIBPLF) $(PROGRAMS) $(BUILD)/cf.pc

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c $< -o $@

$(LIBPL): $(WL_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
$(LIBPLF): $(FOLDERS_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
$(FOLDERS_OBJ) $(FSRV_OBJ) $(BUILD)/obj/tests/test_folder_%.o: ALL_CFLAGS += $(FOLDERS_CFLAGS)
# Every model's `folders` program links the client (and nothing else does).
FOLDERS_PROGS := $(filter %/folders,$(PROGRAMS))
$(FOLDERS_PROGS): $(LIBPLF)
$(FOLDERS_PROGS): ALL_CFLAGS += $(FOLDERS_CFLAGS)
# libparlab.a again after the folders archive: its objects call the
# shared parser and stats, and a static archive only serves what is
# already missing when the linker reaches it.
$(FOLDERS_PROGS): LDLIBS_BASE += $(LIBPLF) $(LIBPL) $(CURL_LIBS) $(JSONC_LIBS)
# The library is C11 and POSIX.1-2008 everywhere but its platform layer
# (executors/src/platform/), which asks for what it needs itself; it
# exports the public API only (CF_API in cf.h), and no array is sized by
# what a caller passes.  Its files include each other by layer path
# ("core/future.h"), as do the tests that reach inside it.
CF_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -Wvla -fvisibility=hidden -Iexecutors/src
$(CF_OBJ): ALL_CFLAGS += $(CF_CFLAGS)
$(BUILD)/obj/tests/%.o: ALL_CFLAGS += -Iexecutors/src
# Made afresh: `ar r` would keep members of files since removed.  Member
# names are file names without their directory, so no two library files
# may share one (scripts/check-layout says so).
$(LIBCF_A): $(CF_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^
$(LIBCF_SO): $(CF_OBJ)
	$(CC) -shared -Wl,-soname,libcf.so.0 -o $@ $^ $(LDLIBS_BASE)

# Programs compile and link in one step; their dependency files go under
# obj/ like every other, not beside the binaries a user lists.
DEPFILE = $(BUILD)/obj/$(patsubst $(BUILD)/%,%,$@).d
LINK = mkdir -p $(dir $(DEPFILE)) && \
	$(CC) $(ALL_CFLAGS) -MF $(DEPFILE) -o $@ $< $(1) $(LDLIBS_BASE)
$(BUILD)/serial/%: workloads/serial/%.c $(LIBPL)
	@mkdir -p $(@D)
	$(call LINK,$(LIBPL))
$(BUILD)/workloads/%: workloads/tools/%.c $(LIBPL)
	@mkdir -p $(@D)
	$(call LINK,$(LIBPL))
$(FOLDER_SERVER): $(FSRV_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(MHD_LIBS) $(JSONC_LIBS) $(LDLIBS_BASE)
# An executor program's objects (prerequisites below) link before the
# archives they call.  executors/squares.c is the seed's program; its two
# tuned --results ways live beside it in executors/squares/ and are linked
# into it.
$(BUILD)/executors/%: executors/%.c $(LIBPL) $(LIBCF_A)
	@mkdir -p $(@D)
	$(call LINK,$(filter %.o,$^) $(LIBPL) $(LIBCF_A))
$(BUILD)/executors/squares: $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard executors/squares/*.c))
$(BUILD)/raw_threads/%: raw_threads/%.c $(LIBPL)
	@mkdir -p $(@D)
	$(call LINK,$(LIBPL))
$(BUILD)/raw_processes/%: raw_processes/%.c $(LIBPL)
	@mkdir -p $(@D)
	$(call LINK,$(LIBPL))
$(BUILD)/openmp/%: openmp/%.c $(LIBPL)
	@mkdir -p $(@D)
	$(call LINK,$(LIBPL) $(OPENMP)) $(OPENMP)
$(BUILD)/micro/%: benchmarks/micro/%.c $(MICRO_LIB_OBJ) $(LIBPL) $(LIBCF_A)
	@mkdir -p $(@D)
	$(call LINK,-Ibenchmarks/micro/lib $(MICRO_LIB_OBJ) $(LIBPL) $(LIBCF_A) $(OPENMP)) $(OPENMP)

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CRITERION_CFLAGS) -c $< -o $@
$(TEST_BIN): $(TEST_SRC:%.c=$(BUILD)/obj/%.o) $(LIBPLF) $(LIBPL) $(LIBCF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.o,$^) $(LIBPLF) $(LIBPL) $(LIBCF_A) $(CRITERION_LIBS) \
		$(CURL_LIBS) $(JSONC_LIBS) $(LDLIBS_BASE)

$(BUILD)/cf.pc: executors/cf.pc.in
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' $< > $@

# --- the two commands of README.md ---------------------------------------------
# Tests run from the top directory with a bound on every test, so that a
# deadlock fails the run instead of hanging it.
# Under ThreadSanitizer, Criterion's runner aborts (Criterion issue #274):
# the same tests run from tests/shim's runner instead, which takes the
# same options (mk/sanitize.mk, docs/reliability.md).  UBSan goes on after
# a finding by default; halt_on_error makes it an error status, which
# fails the test that ran the program (ASan's findings already do).
# Both runners say how many tests there are, then every 20 s how many are
# done (tests/progress.c, tests/shim/runner.c); their summary stays last
# (print_suppressions=0: LSan lists no suppressed Criterion leak after it).
TEST_TIMEOUT ?= 120
test: deps-test
ifneq ($(findstring thread,$(SANITIZE)),)
	$(MAKE) --no-print-directory all $(SHIM_BIN)
	PARLAB_BUILD=$(BUILD) TSAN_OPTIONS='$(TSAN_TEST_OPTIONS)' \
		$(SHIM_BIN) --timeout $(TEST_TIMEOUT) -j2 $(TEST_ARGS)
else
	$(MAKE) --no-print-directory all $(TEST_BIN)
	PARLAB_BUILD=$(BUILD) LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(TEST_BIN) --timeout $(TEST_TIMEOUT) -j2 $(TEST_ARGS)
endif

# make report [PROFILE=quick|full|smoke] [MODELS=openmp,pthreads]
#             [WORKLOADS=squares,sleep] [JOBS=1,2,4]: bad values are refused
# (exit 2) before anything is installed, built or run.
PROFILE   ?= quick
MODELS    ?=
WORKLOADS ?=
JOBS      ?=
REPORT_ARGS = --profile '$(PROFILE)' --models '$(MODELS)' --workloads '$(WORKLOADS)' --jobs '$(JOBS)'
# exec: a signal that reaches make's shell alone must reach the report
# (which stops its steps and never becomes latest), not orphan it.
report:
	@scripts/plan --check $(REPORT_ARGS)
	@scripts/deps report
	$(MAKE) --no-print-directory all
	PARLAB_BUILD=$(BUILD) exec scripts/report $(REPORT_ARGS)

# make exercise EX=N [SOLUTION=1]: builds exercise N of docs/exercises/
# (your exercise.c, or with SOLUTION=1 the reference solution) with its
# checker and runs the checks (scripts/exercise, docs/exercises/README.md).
EX       ?=
SOLUTION ?=
.PHONY: exercise
exercise:
	@scripts/deps build
	@$(MAKE) -s --no-print-directory $(LIBPL) $(LIBCF_A)
	@PARLAB_BUILD=$(BUILD) CC='$(CC)' \
		PARLAB_EXERCISE_CFLAGS='$(CFLAGS) $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer)' \
		scripts/exercise $(EX) $(if $(filter-out 0 no,$(SOLUTION)),--solution)

deps-test:
	@scripts/deps test
deps-report:
	@scripts/deps report

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(LIBCF_A) $(DESTDIR)$(PREFIX)/lib/libcf.a
	install -m 755 $(LIBCF_SO) $(DESTDIR)$(PREFIX)/lib/libcf.so.0
	ln -sf libcf.so.0 $(DESTDIR)$(PREFIX)/lib/libcf.so
	install -m 644 executors/include/cf.h $(DESTDIR)$(PREFIX)/include/cf.h
	# The MPI backend's archive, where Open MPI was found (docs/distributed.md).
	if [ -f $(LIBCF_MPI_A) ]; then install -m 644 $(LIBCF_MPI_A) $(DESTDIR)$(PREFIX)/lib/libcf-mpi.a; fi
	sed -e 's|@PREFIX@|$(PREFIX)|g' executors/cf.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/cf.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libcf.a $(DESTDIR)$(PREFIX)/lib/libcf.so \
	      $(DESTDIR)$(PREFIX)/lib/libcf-mpi.a \
	      $(DESTDIR)$(PREFIX)/lib/libcf.so.0 $(DESTDIR)$(PREFIX)/include/cf.h \
	      $(DESTDIR)$(PREFIX)/lib/pkgconfig/cf.pc

clean:
	rm -rf build build-san-*

# make help: prints the lines below that start with "## " (this comment is
# the help text, so that it is written once, next to the rule that shows
# it), then the values the variables have now.  tests/test_harness.c checks
# that it names every target the README uses and every .PHONY target.
## Usage: make [TARGET] [VARIABLE=VALUE ...]
## Every target but clean, uninstall and help first installs what it needs
## and is missing (scripts/deps says what it installs).
##
## Targets
##   make                 build everything into build/ (programs, libcf, micro-benchmarks)
##   make build           the same without scripts/deps
##   make report          measure every model, write reports/RUN-ID/ (docs/report.md);
##                        a complete quick or full run repoints reports/latest,
##                        any other run only reports/latest-PROFILE
##   make test            build and run every test (Criterion, build/tests/parlab-tests)
##   make exercise EX=N   check your docs/exercises/N-*/exercise.c (SOLUTION=1: the
##                        reference solution) (docs/exercises/README.md)
##   make targets         the cf library's performance targets, into reports/targets-*/
##   make stress          a million tasks, racing shutdowns, lifecycles (scripts/stress)
##   make memcheck        valgrind over the stress programs, seeds and tests; helgrind
##   make fuzz            libFuzzer over the frame decoder and the folder response parser
##   make fuzz-merge      add what fuzzing found to tests/fuzz/corpus/
##   make fuzz-build      only build the fuzz targets
##   make fuzz-seeds      rewrite the seed inputs a fuzz target can make itself
##   make fuzz-cli        scripts/fuzz-cli: every program under hostile command lines
##   make install         install libcf.a, libcf.so, cf.h and cf.pc under PREFIX
##                        (and libcf-mpi.a where Open MPI was found)
##   make uninstall       remove what make install installed
##   make clean           remove build/ and build-san-*/
##   make help            this text
##
## Variables
##   PROFILE=quick|full|smoke    report: how much to measure (default quick)
##   MODELS=openmp,pthreads,...  report: only these models (serial always runs)
##   WORKLOADS=squares,sleep,folders  report: only these workloads
##   JOBS=1,2,4                  report: these worker counts
##   PARLAB_REPORTS=DIR          report, targets (environment): write under DIR, not reports/
##   SANITIZE=address,undefined or SANITIZE=thread
##                               test, exercise, fuzz-cli: build with sanitizers,
##                               into build-san-address-undefined/ or build-san-thread/
##   TEST_ARGS='--filter cli/*'  test: options for the test runner
##   TEST_TIMEOUT=120            test: seconds each test may take
##   EX=N SOLUTION=1             exercise: which one, and the reference solution
##   STRESS_SCALE=small|full     stress: how big (default small)
##   FUZZ_SECONDS=60             fuzz: seconds per target
##   FUZZ_TARGETS='frame_decoder ...'  fuzz, fuzz-merge: only these targets
##   FUZZ_SEED=N                 fuzz: libFuzzer's seed
##   FUZZ_CLI_ARGS='--count 100' fuzz-cli: options for scripts/fuzz-cli
##   TARGETS_MODELS=serial,...   targets: the models measured
##   CC=cc CFLAGS='-O2 -g'       compiler and flags (warnings and -pthread are added)
##   PREFIX=/usr/local DESTDIR=  install, uninstall: where
##   BUILD=build                 the build tree
HELP_FILE := $(lastword $(MAKEFILE_LIST))
shell_quote = '$(subst ','\'',$(1))'
.PHONY: help
help:
	@sed -n 's/^## \{0,1\}//p' $(HELP_FILE)
	@printf '\nNow: CC=%s CFLAGS=%s PREFIX=%s BUILD=%s PROFILE=%s\n' \
		$(call shell_quote,$(CC)) $(call shell_quote,$(CFLAGS)) \
		$(call shell_quote,$(PREFIX)) $(call shell_quote,$(BUILD)) \
		$(call shell_quote,$(PROFILE))

# --- issue 8: make stress, make memcheck ------------------------------------
# Stress programs (tests/stress/*.c, plain C with their own main) and the
# valgrind runs; scripts/stress and scripts/memcheck say what they check.
# make stress [STRESS_SCALE=small|full]; make memcheck.
STRESS_SCALE ?= small
stress_PROGS := $(patsubst tests/stress/%.c,$(BUILD)/stress/%,$(wildcard tests/stress/*.c))
$(BUILD)/stress/%: tests/stress/%.c $(LIBPL) $(LIBCF_A)
	@mkdir -p $(@D)
	$(call LINK,$(LIBPL) $(LIBCF_A))
.PHONY: stress memcheck
stress:
	@scripts/deps build
	@$(MAKE) --no-print-directory $(stress_PROGS)
	PARLAB_BUILD=$(BUILD) STRESS_SCALE='$(STRESS_SCALE)' scripts/stress
memcheck:
	@scripts/deps test
	@$(MAKE) --no-print-directory all $(stress_PROGS) $(SHIM_BIN)
	PARLAB_BUILD=$(BUILD) scripts/memcheck

# Larger optional parts keep their rules in mk/*.mk (fuzzing, peers, ...).
-include $(sort $(wildcard mk/*.mk))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Sanitizer and valgrind runs of the test sources (issue 8; docs/reliability.md).
#
# $(BUILD)/tests/parlab-tests-shim: tests/*.c compiled against the small
# Criterion stand-in in tests/shim/criterion/ and linked with
# tests/shim/runner.c, which runs each test in a forked child with a time
# bound.  `make test SANITIZE=thread` runs it, because Criterion's own
# runner aborts under ThreadSanitizer (Criterion issue #274);
# scripts/memcheck runs the plain build's under valgrind.  It needs no
# Criterion at all.
SHIM_BIN := $(BUILD)/tests/parlab-tests-shim
SHIM_OBJ := $(TEST_SRC:tests/%.c=$(BUILD)/obj/shim/tests/%.o) \
            $(BUILD)/obj/shim/tests/shim/runner.o

$(BUILD)/obj/shim/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/shim -Iexecutors/src -c $< -o $@
$(BUILD)/obj/shim/tests/test_folder_%.o: ALL_CFLAGS += $(FOLDERS_CFLAGS)
$(SHIM_BIN): $(SHIM_OBJ) $(LIBPLF) $(LIBPL) $(LIBCF_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $(SHIM_OBJ) $(LIBPLF) $(LIBPL) $(LIBCF_A) \
		$(CURL_LIBS) $(JSONC_LIBS) $(LDLIBS_BASE)

# What `make test SANITIZE=thread` gives TSan: stop at the first report
# (the runner fails the test that caused it, also when the report comes
# from a program the test started), and show both stacks of a lock-order
# inversion.  No suppression file: there is nothing to suppress.
TSAN_TEST_OPTIONS := halt_on_error=1 second_deadlock_stack=1

# --- OpenMP under ThreadSanitizer ------------------------------------------------
# GCC's libgomp is not instrumented and has no TSan support: every OpenMP
# join looks like a race to TSan (a false positive in every program).  In
# the TSan tree the OpenMP programs are therefore built with clang and
# LLVM's libomp, whose Archer tool (libarcher.so, loaded by libomp) tells
# TSan about barriers, tasks and locks; tests/shim/archer.c says why
# it also sets ignore_noninstrumented_modules=1 for them alone.  Their
# shared code is compiled by clang too, in $(BUILD)/archer/, so that one
# TSan runtime sees the whole program.  The micro-benchmarks, which no test
# runs, keep GCC's OpenMP and are not meant to run in this tree.
ifneq ($(findstring thread,$(SANITIZE)),)
ARCHER_CC   ?= clang
ARCHER_DIR  := $(BUILD)/archer
ARCHER_LIBPL  := $(ARCHER_DIR)/libparlab.a
ARCHER_LIBPLF := $(ARCHER_DIR)/libparlab-folders.a
ARCHER_OBJ  := $(ARCHER_DIR)/obj/tests/shim/archer.o

$(ARCHER_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(ARCHER_CC) $(ALL_CFLAGS) $(OPENMP) -c $< -o $@
$(ARCHER_LIBPL): $(WL_SRC:%.c=$(ARCHER_DIR)/obj/%.o)
	$(AR) rcs $@ $^
$(FOLDERS_SRC:%.c=$(ARCHER_DIR)/obj/%.o): ALL_CFLAGS += $(FOLDERS_CFLAGS)
$(ARCHER_LIBPLF): $(FOLDERS_SRC:%.c=$(ARCHER_DIR)/obj/%.o)
	$(AR) rcs $@ $^

# An explicit rule: it takes the place of the pattern rule in the Makefile.
$(openmp_PROGS): $(BUILD)/openmp/%: openmp/%.c $(ARCHER_LIBPL) $(ARCHER_LIBPLF) $(ARCHER_OBJ)
	@mkdir -p $(@D) $(dir $(DEPFILE))
	$(ARCHER_CC) $(ALL_CFLAGS) $(OPENMP) -MF $(DEPFILE) -o $@ $< $(ARCHER_OBJ) \
		$(if $(filter %/folders,$@),$(ARCHER_LIBPLF) $(ARCHER_LIBPL) $(CURL_LIBS) $(JSONC_LIBS)) \
		$(ARCHER_LIBPL) -Wl,--wrap=__kmpc_omp_task_alloc -pthread -lm -fsanitize=$(SANITIZE)
endif

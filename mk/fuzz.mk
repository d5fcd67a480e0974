# make fuzz: libFuzzer over the parsers that read bytes another process
# wrote (issue 8, "Hostile input"; docs/reliability.md).
#
# Every tests/fuzz/NAME.c defines LLVMFuzzerTestOneInput and becomes
# $(BUILD)/fuzz/NAME, built with clang -fsanitize=fuzzer,address,undefined
# and linked with the library and workload sources compiled the same way
# in $(BUILD)/fuzz/obj/ (never the gcc-built archives: libFuzzer needs the
# coverage instrumentation, and ASan must see every allocation).  A target
# links only the objects it calls: they come from one archive.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS='frame_decoder ...'] [FUZZ_SEED=N]
#	runs each target for FUZZ_SECONDS from tests/fuzz/corpus/NAME/;
#	new inputs go to $(BUILD)/fuzz/work/NAME/new/ (scratch), crashes,
#	leaks, timeouts and OOMs to $(BUILD)/fuzz/work/NAME/artifacts/.
#	Last line: "N passed, N failed"; exit status 1 on any failure.
#   make fuzz-merge	adds the scratch inputs that reach new coverage to
#	the committed corpus (libFuzzer -merge=1: a minimal subset).
#   make fuzz-build	only builds the targets.
#   make fuzz-cli	runs scripts/fuzz-cli over every program (see below).
#   make fuzz-seeds	rewrites the seed inputs that a target can make
#	itself (a target built with -DFUZZ_SEED_MAIN has a main(DIR)).

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_SEED    ?=
FUZZ_DIR     := $(BUILD)/fuzz
# -O1 -g as libFuzzer's documentation advises; UBSan findings abort, so
# that libFuzzer keeps them as crashes instead of printing and going on.
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g $(WARN) -pthread -MMD -MP -Iexecutors/include -Iexecutors/src \
		-Iworkloads $(FOLDERS_CFLAGS) $(FUZZ_SAN)
FUZZ_LIBS     = $(CURL_LIBS) $(JSONC_LIBS) -pthread -lm

# What the targets may call: the cf library and the workloads' shared code
# (the folder client among it); not the folder server, which has a main().
FUZZ_LIB_SRC := $(CF_SRC) $(wildcard workloads/*.c)
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_LIB     := $(FUZZ_DIR)/libfuzzdeps.a
FUZZ_SRC     := $(wildcard tests/fuzz/*.c)
FUZZ_PROGS   := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRC))

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	$(AR) rcs $@ $^
$(FUZZ_DIR)/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(@D) $(FUZZ_DIR)/obj/tests/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MF $(FUZZ_DIR)/obj/tests/fuzz/$*.d -fsanitize=fuzzer \
		-o $@ $< $(FUZZ_LIB) $(FUZZ_LIBS)
# The same source as a plain program that writes its seed inputs.
$(FUZZ_DIR)/seed/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_SEED_MAIN -fsanitize=fuzzer-no-link \
		-o $@ $< $(FUZZ_LIB) $(FUZZ_LIBS)

.PHONY: fuzz fuzz-build fuzz-merge fuzz-seeds
fuzz-build:
	@scripts/deps fuzz
	@$(MAKE) --no-print-directory $(FUZZ_PROGS)
fuzz: fuzz-build
	@PARLAB_BUILD=$(BUILD) FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_SEED='$(FUZZ_SEED)' \
		scripts/fuzz run $(FUZZ_TARGETS)
fuzz-merge: fuzz-build
	@PARLAB_BUILD=$(BUILD) scripts/fuzz merge $(FUZZ_TARGETS)
# Only targets whose source mentions FUZZ_SEED_MAIN have a seeder.
fuzz-seeds: fuzz-build
	@for t in $(FUZZ_SRC:tests/fuzz/%.c=%); do \
		if grep -q FUZZ_SEED_MAIN tests/fuzz/$$t.c; then \
			$(MAKE) --no-print-directory $(FUZZ_DIR)/seed/$$t && \
			mkdir -p tests/fuzz/corpus/$$t && \
			$(FUZZ_DIR)/seed/$$t tests/fuzz/corpus/$$t || exit 1; \
		fi; \
	done

# make fuzz-cli [SANITIZE=address,undefined] [FUZZ_CLI_ARGS='--count 100']:
# builds the programs (in the sanitizer tree with SANITIZE) and runs
# scripts/fuzz-cli over every one of them (docs/reliability.md).
FUZZ_CLI_ARGS ?=
.PHONY: fuzz-cli
fuzz-cli:
	@scripts/deps fuzz
	@$(MAKE) --no-print-directory all
	scripts/fuzz-cli --build $(BUILD) $(FUZZ_CLI_ARGS)

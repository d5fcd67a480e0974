# The MPI backend (issue 22, docs/distributed.md): built only where
# pkg-config finds Open MPI's ompi-c (scripts/deps test installs it), and
# never in a sanitizer tree, where Open MPI's own leaks and races would
# bury ours.  It stays out of libcf.a and libcf.so: linking libmpi adds
# its loading to every exec, and every process-backend worker is one.
# Programs that want it link its objects (CF_MPI_OBJ, not an archive: a
# constructor in them registers the backend and turns a spawned copy of
# the program into a worker) before libcf.a, then CF_MPI_LIBS.
#
# build/executors/mpi/NAME is executors/NAME.c linked with it; the plain
# build/executors/NAME execs that copy when asked for --executor mpi
# (workloads/cf_glue.c).  libcf-mpi.a holds the same objects for
# programs outside parlab (link it with --whole-archive).
CF_MPI_SRC := $(wildcard executors/src/mpi/*.c)
CF_MPI_OBJ := $(CF_MPI_SRC:%.c=$(BUILD)/obj/%.o)
LIBCF_MPI_A := $(BUILD)/libcf-mpi.a
HAVE_MPI := $(if $(SANITIZE),,$(shell pkg-config --exists ompi-c 2>/dev/null && echo 1))
CF_MPI_CFLAGS := $(shell pkg-config --cflags ompi-c 2>/dev/null)
CF_MPI_LIBS := $(shell pkg-config --libs ompi-c 2>/dev/null)
exec_mpi_PROGS := $(patsubst executors/%.c,$(BUILD)/executors/mpi/%,$(wildcard executors/*.c))

$(CF_MPI_OBJ): ALL_CFLAGS += $(CF_CFLAGS) $(CF_MPI_CFLAGS)

ifeq ($(HAVE_MPI),1)
build: $(LIBCF_MPI_A) $(exec_mpi_PROGS)
$(TEST_BIN): $(CF_MPI_OBJ)
$(TEST_BIN): private LDLIBS_BASE += $(CF_MPI_LIBS)
$(BUILD)/obj/tests/%.o: ALL_CFLAGS += -DPARLAB_HAVE_MPI=1
endif

$(LIBCF_MPI_A): $(CF_MPI_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^
$(BUILD)/executors/mpi/%: executors/%.c $(CF_MPI_OBJ) $(LIBPL) $(LIBCF_A)
	@mkdir -p $(@D)
	$(call LINK,$(filter %.o,$^) $(LIBPL) $(LIBCF_A) $(CF_MPI_LIBS))
$(BUILD)/executors/mpi/squares: $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard executors/squares/*.c))
$(filter %/folders,$(exec_mpi_PROGS)): $(LIBPLF)
$(filter %/folders,$(exec_mpi_PROGS)): ALL_CFLAGS += $(FOLDERS_CFLAGS)
$(filter %/folders,$(exec_mpi_PROGS)): LDLIBS_BASE += $(LIBPLF) $(LIBPL) $(CURL_LIBS) $(JSONC_LIBS)

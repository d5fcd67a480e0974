# The MPI backend's benchmark (issue 22): build/micro/cf_mpi_overhead from
# benchmarks/mpi/, which is not under benchmarks/micro/ so that the
# generic $(BUILD)/micro/% rule never tries it where Open MPI is missing.
# Built only with the backend (HAVE_MPI, mk/mpi.mk, which sorts and so is
# read before this file); scripts/run-micro then runs it with the other
# micro-benchmarks.  The backend comes as objects, not an archive: their
# constructor registers it and turns a spawned copy into a worker.
ifeq ($(HAVE_MPI),1)
MPI_BENCH     := $(BUILD)/micro/cf_mpi_overhead
MPI_BENCH_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out %/cf_mpi_overhead.c,\
                 $(wildcard benchmarks/mpi/*.c)))
$(MPI_BENCH_OBJ): ALL_CFLAGS += $(CF_MPI_CFLAGS) -Ibenchmarks/micro/lib
$(MPI_BENCH): private ALL_CFLAGS += $(CF_MPI_CFLAGS) -Ibenchmarks/micro/lib -Ibenchmarks/mpi
$(MPI_BENCH): benchmarks/mpi/cf_mpi_overhead.c $(MPI_BENCH_OBJ) $(MICRO_LIB_OBJ) $(LIBPL) \
              $(CF_MPI_OBJ) $(LIBCF_A)
	@mkdir -p $(@D)
	$(call LINK,$(MPI_BENCH_OBJ) $(MICRO_LIB_OBJ) $(LIBPL) $(CF_MPI_OBJ) $(LIBCF_A) $(CF_MPI_LIBS))
build: $(MPI_BENCH)
endif

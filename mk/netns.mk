# build/tests/netns/where (issue 22): a tiny MPI program that says on
# which host each rank runs, for tests/netns/two-hosts and the
# cf_mpi_hosts tests.  Built only when the MPI parts are (HAVE_MPI from
# mk/mpi.mk: Open MPI found and no sanitizer); its flags come from
# pkg-config here, so that it does not depend on mk/mpi.mk's names.
NETNS_WHERE := $(BUILD)/tests/netns/where
# Until mk/mpi.mk says otherwise, the same rule it follows: ompi-c found,
# no sanitizer.
ifeq ($(origin HAVE_MPI),undefined)
HAVE_MPI := $(if $(SANITIZE),,$(shell pkg-config --exists ompi-c 2>/dev/null && echo 1))
endif
NETNS_MPI_CFLAGS := $(shell pkg-config --cflags ompi-c 2>/dev/null)
NETNS_MPI_LIBS   := $(shell pkg-config --libs ompi-c 2>/dev/null)
ifeq ($(HAVE_MPI),1)
build: $(NETNS_WHERE)
$(TEST_BIN): | $(NETNS_WHERE)
endif
$(NETNS_WHERE): tests/netns/where.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -std=c11 $(NETNS_MPI_CFLAGS) -o $@ $< $(NETNS_MPI_LIBS)

# The peers micro-benchmark (benchmarks/micro/peers.c, issue 7) links GLib
# for GThreadPool; the generic $(BUILD)/micro/% rule builds it, these add
# GLib's flags to that one program.  `private`: the flags stay off the
# prerequisites (libcf.a's objects, the micro lib) this target may build.
PEERS_GLIB_CFLAGS := $(shell pkg-config --cflags glib-2.0 2>/dev/null)
PEERS_GLIB_LIBS   := $(shell pkg-config --libs glib-2.0 2>/dev/null || echo -lglib-2.0)
$(BUILD)/micro/peers: private ALL_CFLAGS += $(PEERS_GLIB_CFLAGS)
$(BUILD)/micro/peers: private LDLIBS_BASE += $(PEERS_GLIB_LIBS)

/* --trace FILE (trace.h): the shared mapping every worker records into,
 * and the Chrome Trace Event JSON written from it at exit.
 *
 * The mapping is a POSIX shared-memory object: threads share it as memory
 * does, forked children inherit it, and a process pool's workers (the
 * program started afresh) open it by the name PARLAB_TRACE_SHM gives.
 * It holds a header and fixed-size blocks; a worker (a thread, in
 * whichever process) takes a row number the first time it records and
 * a block whenever its block is full.  Each block is written by one
 * thread only, and its count is published with a release store, so the
 * writer at exit reads whole events without any lock.
 */
#define _GNU_SOURCE
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define SHM_ENV "PARLAB_TRACE_SHM"
#define TRACE_MAGIC 0x706c747231ULL     /* "pltr1" */

struct event {
	uint64_t t0, t1;        /* pl_trace_clock() */
	int64_t task;
	int32_t detail;
	uint16_t kind;          /* enum pl_trace_kind */
	uint16_t unused;
};

struct block {
	uint32_t row;                   /* the worker's row, from 1 */
	atomic_uint count;              /* events written, published last */
	uint64_t unused;
	struct event events[PL_TRACE_BLOCK_EVENTS];
};

struct header {
	uint64_t magic;
	uint64_t origin;                /* pl_trace_clock() at the start */
	uint64_t size;                  /* of the whole mapping */
	uint32_t nblocks;
	atomic_uint next_block;
	atomic_uint rows;               /* rows taken so far */
	atomic_ulong dropped;           /* events that found no room */
};

/* The blocks start a cache line after the header. */
#define HEADER_SIZE 64

_Static_assert(sizeof(struct event) == 32, "an event is 32 bytes");
_Static_assert(sizeof(struct header) <= HEADER_SIZE, "the header fits its cache line");

_Atomic int pl__trace_state;            /* 0 unknown, 1 on, -1 off */
static struct header *shared;           /* the mapping */
static struct block *blocks;

/* The calling thread's worker: its row and the block it fills.  my_row is
 * 0 until taken; the main thread's row is written as tid 0. */
#define MAIN_ROW UINT32_MAX
static _Thread_local struct block *my_block;
static _Thread_local uint32_t my_row;

uint64_t pl_trace_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A forked child's only thread is a copy of the parent's forking thread:
 * it must not go on filling that thread's block. */
static void forget_worker(void)
{
	my_block = NULL;
	my_row = 0;
}

static int map_shared(int fd, size_t size, int populate)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE | populate, fd, 0);

	if (p == MAP_FAILED)
		return -1;
	shared = p;
	blocks = (struct block *)((char *)p + HEADER_SIZE);
	pthread_atfork(NULL, NULL, forget_worker);
	return 0;
}

static void set_state(int state)
{
	atomic_store_explicit(&pl__trace_state, state, memory_order_release);
}

/* A process started afresh by a pool: attach to the run's mapping, if
 * the run traces.  Once per process, whichever thread asks first; the
 * others wait for its answer rather than see a half-made one. */
static void attach(void)
{
	const char *name = getenv(SHM_ENV);
	struct stat st;
	int fd, state = -1;

	if (name && (fd = shm_open(name, O_RDWR, 0)) >= 0) {
		if (fstat(fd, &st) == 0 && (size_t)st.st_size > HEADER_SIZE &&
		    map_shared(fd, (size_t)st.st_size, 0) == 0 && shared->magic == TRACE_MAGIC)
			state = 1;
		close(fd);
	}
	set_state(state);
}

bool pl__trace_check(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, attach);
	return atomic_load_explicit(&pl__trace_state, memory_order_acquire) > 0;
}

static pid_t owner;                     /* the process that writes the file */

/* Row 0 is the traced program's main thread (it runs the tasks itself in
 * the serial model, and in OpenMP as the team's first thread); every other
 * thread, in whichever process, gets the next number from 1. */
static void take_row(void)
{
	if (getpid() == owner && gettid() == owner)
		my_row = MAIN_ROW;
	else
		my_row = atomic_fetch_add_explicit(&shared->rows, 1, memory_order_relaxed) + 1;
}

uint64_t pl_trace_start(void)
{
	if (my_row == 0 && pl_trace_on())
		take_row();
	return pl_trace_clock();
}

static struct block *take_block(void)
{
	unsigned i = atomic_fetch_add_explicit(&shared->next_block, 1, memory_order_relaxed);

	if (i >= shared->nblocks)
		return NULL;
	if (my_row == 0)
		take_row();
	blocks[i].row = my_row;
	return &blocks[i];
}

void pl_trace_record(enum pl_trace_kind kind, long task, long detail, uint64_t t0, uint64_t t1)
{
	if (!pl_trace_on())
		return;
	struct block *b = my_block;
	unsigned n = b ? atomic_load_explicit(&b->count, memory_order_relaxed) : 0;

	if (!b || n == PL_TRACE_BLOCK_EVENTS) {
		/* Once the mapping is full, a load per event, not an add. */
		if (atomic_load_explicit(&shared->next_block, memory_order_relaxed) >= shared->nblocks ||
		    !(b = take_block())) {
			atomic_fetch_add_explicit(&shared->dropped, 1, memory_order_relaxed);
			return;
		}
		my_block = b;
		n = 0;
	}
	b->events[n] = (struct event){ .t0 = t0, .t1 = t1, .task = task,
				       .detail = (int32_t)detail, .kind = (uint16_t)kind };
	atomic_store_explicit(&b->count, n + 1, memory_order_release);
}

/* --- the run's side: making the mapping, writing the JSON --------------- */

static FILE *out;                       /* the trace file, open from the start */
static char out_path[4096];
static char shm_name[64];
static char description[2048];          /* "PROGRAM ARGS", JSON-escaped */
static char program_name[256];
static long run_workers;

static const char *const kind_name[PL_TRACE_KINDS] = {
	[PL_TRACE_TASK] = "task", [PL_TRACE_LOOKUP] = "lookup", [PL_TRACE_FETCH] = "fetch",
	[PL_TRACE_CACHE_WAIT] = "cache wait", [PL_TRACE_RATE_WAIT] = "rate-limit wait",
	[PL_TRACE_RETRY] = "retry",
};
static const char *const kind_cat[PL_TRACE_KINDS] = {
	[PL_TRACE_TASK] = "task", [PL_TRACE_LOOKUP] = "task", [PL_TRACE_FETCH] = "fetch",
	[PL_TRACE_CACHE_WAIT] = "wait", [PL_TRACE_RATE_WAIT] = "wait", [PL_TRACE_RETRY] = "retry",
};
static const char *const detail_name[PL_TRACE_KINDS] = {
	[PL_TRACE_FETCH] = "status", [PL_TRACE_RETRY] = "attempt",
};

/* Appends s to buf (of size `size`, holding `len` bytes) as JSON string
 * content; returns the new length (what does not fit is cut). */
static size_t json_escape(char *buf, size_t size, size_t len, const char *s)
{
	for (; *s && len + 7 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			len += (size_t)snprintf(buf + len, size - len, "\\%c", c);
		else if (c < 0x20)
			len += (size_t)snprintf(buf + len, size - len, "\\u%04x", c);
		else
			buf[len++] = (char)c;
	}
	buf[len] = '\0';
	return len;
}

/* Room for every event a run of this size records, with blocks to spare
 * for the workers' partly filled ones (a pool may replace its workers). */
static size_t blocks_needed(const struct pl_options *opts)
{
	size_t per_task = opts->program->workload == PL_FOLDERS ? 8 : 1;
	size_t events = (size_t)opts->tasks * per_task;

	return events / PL_TRACE_BLOCK_EVENTS + 4 * (size_t)opts->workers + 64;
}

static void make_mapping(const struct pl_options *opts)
{
	size_t nblocks = blocks_needed(opts);
	size_t size = HEADER_SIZE + nblocks * sizeof(struct block);
	int fd;

	snprintf(shm_name, sizeof(shm_name), "/parlab-trace-%ld-%lx", (long)getpid(),
		 (unsigned long)pl_trace_clock());
	fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		pl_die(opts, "--trace: cannot make shared memory %s: %s", shm_name, strerror(errno));
	/* Not populated: the mapping has room to spare (blocks_needed), and
	 * faulting all of it in at the start cost 1 ms even for -n 1.  A
	 * block's pages are faulted in by the worker that fills it, 8 faults
	 * per 1024 events. */
	if (ftruncate(fd, (off_t)size) != 0 || map_shared(fd, size, 0) != 0) {
		int err = errno;
		close(fd);
		shm_unlink(shm_name);
		pl_die(opts, "--trace: cannot map %zu bytes of shared memory: %s", size,
		       strerror(err));
	}
	close(fd);
	shared->origin = pl_trace_clock();
	shared->size = size;
	shared->nblocks = (uint32_t)nblocks;
	shared->magic = TRACE_MAGIC;
}

/* The writer formats by hand, many events into one buffer per fwrite: a
 * run of a million tasks writes a million events at exit, and that time
 * is part of what tracing costs. */
#define LINE_MAX_BYTES 512              /* more than one event's line can take */
struct line {
	char buf[64 * 1024];
	size_t len;
};

static void put_mem(struct line *l, const char *s, size_t n)
{
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void put_str(struct line *l, const char *s)
{
	put_mem(l, s, strlen(s));
}

/* A string literal, its length known when compiling. */
#define PUT_LIT(l, s) put_mem((l), "" s, sizeof(s) - 1)

static void put_u64(struct line *l, uint64_t v)
{
	char digits[24];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		l->buf[l->len++] = digits[--n];
}

static void put_i64(struct line *l, int64_t v)
{
	if (v < 0) {
		l->buf[l->len++] = '-';
		put_u64(l, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(l, (uint64_t)v);
	}
}

/* Nanoseconds as microseconds with three decimals. */
static void put_us(struct line *l, uint64_t ns)
{
	put_u64(l, ns / 1000);
	l->buf[l->len++] = '.';
	l->buf[l->len++] = (char)('0' + ns / 100 % 10);
	l->buf[l->len++] = (char)('0' + ns / 10 % 10);
	l->buf[l->len++] = (char)('0' + ns % 10);
}

static uint64_t since_origin(uint64_t t)
{
	return t > shared->origin ? t - shared->origin : 0;
}

static void write_event(struct line *l, const struct event *e, uint32_t tid)
{
	unsigned k = e->kind < PL_TRACE_KINDS ? e->kind : PL_TRACE_TASK;
	uint64_t t1 = e->t1 > e->t0 ? e->t1 : e->t0;

	PUT_LIT(l, ",\n{\"ph\":\"X\",\"cat\":\"");
	put_str(l, kind_cat[k]);
	PUT_LIT(l, "\",\"name\":\"");
	put_str(l, kind_name[k]);
	if (k == PL_TRACE_TASK || k == PL_TRACE_LOOKUP) {
		PUT_LIT(l, " ");
		put_i64(l, e->task);
	}
	PUT_LIT(l, "\",\"pid\":1,\"tid\":");
	put_u64(l, tid);
	PUT_LIT(l, ",\"ts\":");
	put_us(l, since_origin(e->t0));
	PUT_LIT(l, ",\"dur\":");
	put_us(l, t1 - e->t0);
	PUT_LIT(l, ",\"args\":{\"task\":");
	put_i64(l, e->task);
	if (detail_name[k]) {
		PUT_LIT(l, ",\"");
		put_str(l, detail_name[k]);
		PUT_LIT(l, "\":");
		put_i64(l, e->detail);
	}
	PUT_LIT(l, "}}");
}

static unsigned blocks_used(void)
{
	unsigned used = atomic_load(&shared->next_block);

	return used < shared->nblocks ? used : shared->nblocks;
}

static uint32_t tid_of(const struct block *b)
{
	return b->row == MAIN_ROW ? 0 : b->row;
}

/* Takes the count of each of the first nblocks blocks and returns
 * the end of the last event; first[0 .. rows] gets the start of each
 * row's first event (its "worker start"). */
static uint64_t scan_events(unsigned *counts, unsigned nblocks, uint64_t *first,
			    unsigned rows)
{
	uint64_t span = shared->origin;

	for (unsigned i = 0; i < nblocks; i++) {
		unsigned n = counts[i] = atomic_load_explicit(&blocks[i].count, memory_order_acquire);
		uint32_t tid = tid_of(&blocks[i]);

		for (unsigned k = 0; k < n; k++) {
			const struct event *e = &blocks[i].events[k];

			if (e->t1 > span)
				span = e->t1;
			if (tid <= rows && (first[tid] == 0 || e->t0 < first[tid]))
				first[tid] = e->t0;
		}
	}
	return span;
}

static void write_events(const unsigned *counts, unsigned nblocks)
{
	static struct line l;

	l.len = 0;
	for (unsigned i = 0; i < nblocks; i++) {
		for (unsigned k = 0; k < counts[i]; k++) {
			if (l.len > sizeof(l.buf) - LINE_MAX_BYTES) {
				fwrite(l.buf, 1, l.len, out);
				l.len = 0;
			}
			write_event(&l, &blocks[i].events[k], tid_of(&blocks[i]));
		}
	}
	fwrite(l.buf, 1, l.len, out);
}

static void write_rows(unsigned rows, const uint64_t *first)
{
	fprintf(out, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"tid\":0,\"ts\":0,"
		"\"args\":{\"name\":\"%s\"}}", description);
	for (unsigned r = 0; r <= rows; r++) {
		char name[32];

		if (r)
			snprintf(name, sizeof(name), "worker %u", r);
		else
			snprintf(name, sizeof(name), "main");
		fprintf(out, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%u,"
			"\"ts\":0,\"args\":{\"name\":\"%s\"}}", r, name);
		if (first[r] && r > 0)
			fprintf(out, ",\n{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"worker\","
				"\"name\":\"worker start\",\"pid\":1,\"tid\":%u,\"ts\":%.3f}",
				r, since_origin(first[r]) / 1000.0);
	}
}

static void write_other_data(unsigned rows, uint64_t span, unsigned long dropped)
{
	char model[sizeof(program_name)], *slash;

	snprintf(model, sizeof(model), "%s", program_name);
	slash = strchr(model, '/');
	fprintf(out, "\n],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":{\"parlab_trace\":1,"
		"\"model\":\"%.*s\",\"workload\":\"%s\",\"program\":\"%s\",\"args\":\"%s\","
		"\"workers\":%u,\"requested_workers\":%ld,\"clock\":\"CLOCK_MONOTONIC\","
		"\"span_us\":%.3f,\"dropped\":%lu}}\n",
		slash ? (int)(slash - model) : 0, model, slash ? slash + 1 : model, program_name,
		description + strlen(program_name) + (description[strlen(program_name)] == ' '),
		rows, run_workers, since_origin(span) / 1000.0, dropped);
}

int pl_trace_end(void)
{
	if (getpid() != owner || !out)
		return 0;
	unsigned rows = atomic_load(&shared->rows);
	unsigned nblocks = blocks_used();
	uint64_t *first = calloc(rows + 1, sizeof(*first));
	unsigned *counts = calloc(nblocks + 1, sizeof(*counts));
	unsigned long dropped = atomic_load(&shared->dropped);

	set_state(-1);
	if (!first || !counts) {
		fprintf(stderr, "%s: --trace: out of memory for the trace\n", program_name);
		free(first);
		free(counts);
		fclose(out);
		out = NULL;
		shm_unlink(shm_name);
		return 1;
	}
	/* The counts are read once: a worker still running (a shutdown that
	 * did not wait) may add events meanwhile, and what is written must
	 * agree with the span and rows taken here. */
	uint64_t span = scan_events(counts, nblocks, first, rows);
	fputs("{\"traceEvents\":[\n", out);
	write_rows(rows, first);
	write_events(counts, nblocks);
	write_other_data(rows, span, dropped);
	free(first);
	free(counts);
	int failed = ferror(out) | (fclose(out) != 0);
	out = NULL;
	shm_unlink(shm_name);
	if (failed)
		fprintf(stderr, "%s: --trace: cannot write %s: %s\n", program_name, out_path,
			strerror(errno));
	if (dropped)
		fprintf(stderr, "%s: --trace: %lu events did not fit and are not in %s\n",
			program_name, dropped, out_path);
	return failed || dropped ? 1 : 0;
}

static void write_trace_at_exit(void)
{
	pl_trace_end();
}

void pl_trace_begin(const char *path, const struct pl_options *opts, int argc, char **argv)
{
	size_t len;

	unsetenv(SHM_ENV);      /* a traced program's own trace, not its parent's */
	if (!path) {
		set_state(-1);
		return;
	}
	out = fopen(path, "w");
	if (!out)
		pl_usage_error(opts, "--trace: cannot write %s: %s", path, strerror(errno));
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	snprintf(out_path, sizeof(out_path), "%s", path);
	snprintf(program_name, sizeof(program_name), "%s", opts->program->name);
	len = json_escape(description, sizeof(description), 0, program_name);
	for (int i = 1; i < argc; i++) {
		len = json_escape(description, sizeof(description), len, " ");
		len = json_escape(description, sizeof(description), len, argv[i]);
	}
	run_workers = opts->workers;
	make_mapping(opts);
	owner = getpid();
	if (setenv(SHM_ENV, shm_name, 1) != 0 || atexit(write_trace_at_exit) != 0)
		pl_die(opts, "--trace: cannot set up: %s", strerror(errno));
	set_state(1);
}

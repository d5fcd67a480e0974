/* libFuzzer target: the process backend's frames (executors/src/wire/wire.h)
 * and their two readers (frame_io.c), fed bytes nobody checked.
 *
 * Input: one knob byte, then a byte stream as a worker or a pool would
 * read it.  Each run:
 *
 *  1. walks the stream with the pure decoders (cf_wire_get_header, then
 *     cf_wire_get_fnref and cf_wire_get_error on every payload), each
 *     given a heap copy of exactly the bytes it may read, so that ASan
 *     catches a read one byte too far; every field that decodes must
 *     encode back to the same bytes (the format is canonical: reserved
 *     bytes are zero, integers fixed-width);
 *  2. feeds the stream through a non-blocking pipe in pieces whose sizes
 *     the knob chooses, reading after each piece with the incremental
 *     reader (cf__frame_read_some), and through a file with the blocking
 *     reader (cf__frame_read); both must return exactly the frames of
 *     step 1 and end the way it ended (clean EOF, truncated, or the same
 *     header error);
 *  3. writes the frames again with cf__frame_write: the bytes must be the
 *     input's, frame for frame.
 *
 * Any difference aborts, and libFuzzer keeps the input.  The readers
 * allocate a payload's length only after the header check bounded it
 * (CF_WIRE_MAX_PAYLOAD); scripts/fuzz sets libFuzzer's -malloc_limit_mb
 * just above that bound, so a bigger allocation fails the run.  See
 * docs/reliability.md, "Hostile input".
 *
 * Built with -DFUZZ_SEED_MAIN the file also has a main(DIR) that writes
 * the seed corpus (valid frames made with the encoder, truncated and
 * oversized ones) into DIR: make fuzz-seeds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wire/frame_io.h"
#include "wire/wire.h"

#define FUZZ_TARGET "frame_decoder"
#include "fuzz_check.h"

/* Frames kept per input; a longer stream is checked up to there. */
#define MAX_FRAMES 4096

struct frame {
	struct cf_wire_header h;
	const uint8_t *bytes;           /* the whole frame in the input */
};

/* How a walk over the stream ended. */
struct ending {
	bool clean;                     /* EOF between frames */
	enum cf_wire_error error;       /* else: what was wrong */
};

/* ---- 1. the pure decoders --------------------------------------------- */

static void check_fnref(const uint8_t *payload, size_t len)
{
	unsigned char *copy = exact(payload, len);
	struct cf_fnref ref;
	const unsigned char *rest;
	size_t rest_len, used;

	if (cf_wire_get_fnref(copy, len, &ref, &rest, &rest_len) == CF_WIRE_OK) {
		used = cf_wire_fnref_size(&ref);
		CHECK(ref.module_len <= CF_WIRE_MAX_NAME);
		CHECK(used <= len && rest == copy + used && rest_len == len - used);
		CHECK(!memchr(ref.module, '\0', ref.module_len));

		unsigned char *again = malloc(used);
		CHECK(again);
		cf_wire_put_fnref(again, &ref);
		CHECK(memcmp(again, copy, used) == 0);
		free(again);
		/* Resolving a hostile name or offset must stay inside what is
		 * loaded: NULL, or an address in an executable segment. */
		(void)cf__fnref_to_fn(&ref);
	}
	free(copy);
}

static void check_error(const uint8_t *payload, size_t len)
{
	unsigned char *copy = exact(payload, len);
	cf_error e;

	memset(&e, 0x5a, sizeof(e));
	if (cf_wire_get_error(copy, len, &e) == CF_WIRE_OK) {
		CHECK(len >= 4);
		CHECK(strlen(e.message) == len - 4);
		CHECK(cf_wire_error_size(&e) == len);

		unsigned char *again = malloc(len);
		CHECK(again);
		cf_wire_put_error(again, &e);
		CHECK(memcmp(again, copy, len) == 0);
		free(again);
	}
	free(copy);
}

/* Walks data as a stream of frames; fills frames[] (at most MAX_FRAMES)
 * and returns how many, with how the stream ended in *end. */
static size_t walk(const uint8_t *data, size_t size, struct frame *frames,
		   struct ending *end)
{
	size_t at = 0, n = 0;

	*end = (struct ending){ .clean = true };
	while (at < size && n < MAX_FRAMES) {
		struct cf_wire_header h;
		unsigned char *header, again[CF_WIRE_HEADER_SIZE];
		enum cf_wire_error e;

		if (size - at < CF_WIRE_HEADER_SIZE) {
			*end = (struct ending){ .error = CF_WIRE_TRUNCATED };
			break;
		}
		header = exact(data + at, CF_WIRE_HEADER_SIZE);
		e = cf_wire_get_header(header, &h);
		free(header);
		CHECK(cf_wire_strerror(e) != NULL);
		if (e != CF_WIRE_OK) {
			*end = (struct ending){ .error = e };
			break;
		}
		CHECK(h.length <= CF_WIRE_MAX_PAYLOAD);
		CHECK(h.type >= CF_WIRE_TASK && h.type <= CF_WIRE_TYPE_MAX);
		cf_wire_put_header(again, h.type, h.id, h.length);
		CHECK(memcmp(again, data + at, CF_WIRE_HEADER_SIZE) == 0);
		if (h.length > size - at - CF_WIRE_HEADER_SIZE) {
			*end = (struct ending){ .error = CF_WIRE_TRUNCATED };
			break;
		}
		/* Every decoder on every payload, whatever the type says: a
		 * reader that trusts the type must still be safe on the rest. */
		check_fnref(data + at + CF_WIRE_HEADER_SIZE, h.length);
		check_error(data + at + CF_WIRE_HEADER_SIZE, h.length);
		frames[n++] = (struct frame){ h, data + at };
		at += CF_WIRE_HEADER_SIZE + h.length;
	}
	return n;
}

/* ---- 2. the readers --------------------------------------------------- */

static void same_frame(const struct frame *want, const struct cf_wire_header *h,
		       const unsigned char *payload)
{
	CHECK(h->type == want->h.type && h->id == want->h.id &&
	      h->length == want->h.length);
	CHECK((h->length == 0) == (payload == NULL));
	if (h->length)
		CHECK(memcmp(payload, want->bytes + CF_WIRE_HEADER_SIZE, h->length) == 0);
}

/* How the readers must end after the walk's frames (when the walk kept
 * them all). */
static void same_ending(const struct ending *end, enum cf_frame_status st,
			enum cf_wire_error e)
{
	if (end->clean) {
		CHECK(st == CF_FRAME_EOF);
	} else {
		CHECK(st == CF_FRAME_CORRUPT);
		CHECK(e == end->error);
	}
}

/* Sizes of the pieces written between two reads: the knob picks a
 * pattern, a small generator seeded by it the sizes. */
static size_t next_piece(uint8_t knob, uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	switch (knob & 3) {
	case 0:
		return 1;                       /* a byte at a time */
	case 1:
		return 1 + x % 7;               /* splits every field */
	case 2:
		return 1 + x % 64;
	default:
		return 4096;                    /* everything at once */
	}
}

static void incremental(const uint8_t *data, size_t size, uint8_t knob,
			const struct frame *frames, size_t n, const struct ending *end,
			bool complete)
{
	struct cf_frame_reader r = { 0 };
	uint32_t state = 0x9e3779b9u ^ knob;
	size_t at = 0, got = 0;
	enum cf_frame_status st = CF_FRAME_AGAIN;
	enum cf_wire_error e = CF_WIRE_OK;
	int fds[2];

	CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
	for (;;) {
		struct cf_wire_header h;
		unsigned char *payload;

		/* More bytes only when the reader has taken all there were, so
		 * that the pipe never holds more than one piece. */
		if (st == CF_FRAME_AGAIN && at < size) {
			size_t piece = next_piece(knob, &state);
			ssize_t w;

			if (piece > size - at)
				piece = size - at;
			w = write(fds[1], data + at, piece);
			CHECK(w == (ssize_t)piece);
			at += piece;
		}
		if (at == size && fds[1] >= 0) {
			close(fds[1]);
			fds[1] = -1;
		}

		st = cf__frame_read_some(fds[0], &r, false, &h, &payload, &e);
		if (st == CF_FRAME_OK) {
			if (got < n)
				same_frame(&frames[got], &h, payload);
			got++;
			free(payload);
			if (!complete && got == n)
				break;
			continue;               /* read on before writing more */
		}
		CHECK(payload == NULL);
		if (st == CF_FRAME_AGAIN) {
			CHECK(fds[1] >= 0);     /* a closed pipe ends in EOF */
			continue;
		}
		break;
	}
	if (complete) {
		CHECK(got == n);
		same_ending(end, st, e);
	}
	cf__frame_reader_clear(&r);
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
}

/* A file that holds the stream, read from its start. */
static int stream_file(const uint8_t *data, size_t size)
{
	int fd = memfd_create("frame_decoder", MFD_CLOEXEC);

	CHECK(fd >= 0);
	CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

static void blocking(const uint8_t *data, size_t size, const struct frame *frames,
		     size_t n, const struct ending *end, bool complete)
{
	int fd = stream_file(data, size);
	static struct cf_frame_inbuf in;
	size_t got = 0;

	in.start = in.end = 0;
	for (;;) {
		struct cf_wire_header h;
		unsigned char *payload;
		enum cf_wire_error e;
		enum cf_frame_status st = cf__frame_read(fd, &in, &h, &payload, &e);

		if (st != CF_FRAME_OK) {
			CHECK(payload == NULL);
			if (complete) {
				CHECK(got == n);
				same_ending(end, st, e);
			}
			break;
		}
		CHECK(got < n || !complete);
		if (got < n)
			same_frame(&frames[got], &h, payload);
		free(payload);
		if (++got == n && !complete)
			break;
	}
	close(fd);
}

/* ---- 3. the writer ---------------------------------------------------- */

/* Writes every frame again (the payload split in two parts at a point the
 * knob picks) and compares the bytes with the input's. */
static void rewrite(const uint8_t *data, const struct frame *frames, size_t n, uint8_t knob)
{
	int fd = memfd_create("frame_rewrite", MFD_CLOEXEC);
	size_t total = 0;

	CHECK(fd >= 0);
	for (size_t i = 0; i < n; i++) {
		const struct frame *f = &frames[i];
		const uint8_t *payload = f->bytes + CF_WIRE_HEADER_SIZE;
		size_t split = f->h.length ? knob % (f->h.length + 1) : 0;

		CHECK(cf__frame_write(fd, f->h.type, f->h.id, payload, split,
				      payload + split, f->h.length - split) == CF_FRAME_OK);
		total += CF_WIRE_HEADER_SIZE + f->h.length;
	}
	if (total) {
		unsigned char *back = malloc(total);

		CHECK(back);
		CHECK(pread(fd, back, total, 0) == (ssize_t)total);
		CHECK(memcmp(back, data, total) == 0);
		free(back);
	}
	close(fd);
}

static struct frame frames[MAX_FRAMES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ending end;
	uint8_t knob;
	size_t n;
	bool complete;

	if (size == 0)
		return 0;
	knob = data[0];
	data++;
	size--;

	n = walk(data, size, frames, &end);
	/* A walk stopped by MAX_FRAMES cannot say how the stream ends. */
	complete = n < MAX_FRAMES;
	incremental(data, size, knob, frames, n, &end, complete);
	blocking(data, size, frames, n, &end, complete);
	rewrite(data, frames, n, knob);
	return 0;
}

#ifdef FUZZ_SEED_MAIN
/* ---- the seed corpus, made with the encoder --------------------------- */

static const char *seed_dir;
static int seed_count;

struct buf {
	unsigned char data[8192];
	size_t len;
};

static void add(struct buf *b, const void *p, size_t len)
{
	CHECK(b->len + len <= sizeof(b->data));
	memcpy(b->data + b->len, p, len);
	b->len += len;
}

/* A frame with a payload made of two parts, as the pool sends them. */
static void frame(struct buf *b, uint8_t type, uint64_t id, const void *p1, size_t l1,
		  const void *p2, size_t l2)
{
	unsigned char h[CF_WIRE_HEADER_SIZE];

	cf_wire_put_header(h, type, id, (uint32_t)(l1 + l2));
	add(b, h, sizeof(h));
	if (l1)
		add(b, p1, l1);
	if (l2)
		add(b, p2, l2);
}

static void task(struct buf *b, uint8_t type, uint64_t id, const char *module,
		 uint64_t offset, const void *arg, size_t arg_len)
{
	struct cf_fnref ref = { module, strlen(module), offset };
	unsigned char fn[2 + 64 + 8];

	CHECK(cf_wire_fnref_size(&ref) <= sizeof(fn));
	cf_wire_put_fnref(fn, &ref);
	frame(b, type, id, fn, cf_wire_fnref_size(&ref), arg, arg_len);
}

static void failure(struct buf *b, uint8_t type, uint64_t id, int code, const char *message)
{
	cf_error e = { .code = code };
	unsigned char p[sizeof(e.message) + 4];

	snprintf(e.message, sizeof(e.message), "%s", message);
	cf_wire_put_error(p, &e);
	frame(b, type, id, p, cf_wire_error_size(&e), NULL, 0);
}

/* Writes knob + bytes as the next seed file. */
static void save(const char *what, uint8_t knob, const struct buf *b, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%02d-%s", seed_dir, ++seed_count, what);
	f = fopen(path, "wb");
	if (!f || fwrite(&knob, 1, 1, f) != 1 || fwrite(b->data, 1, len, f) != len ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const unsigned char squares_arg[8] = { 7 };
	static const unsigned char result[8] = { 49 };
	unsigned char pid[4] = { 0x39, 0x30 };
	struct buf b = { 0 }, all = { 0 };

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed_dir = argv[1];

	/* One valid frame of each type. */
	task(&b, CF_WIRE_TASK, 1, "", 0x1234, squares_arg, sizeof(squares_arg));
	save("task", 0, &b, b.len), add(&all, b.data, b.len), b.len = 0;
	task(&b, CF_WIRE_TASK, 2, "libcf.so.0", 0x40, NULL, 0);
	save("task-module", 1, &b, b.len), add(&all, b.data, b.len), b.len = 0;
	frame(&b, CF_WIRE_RESULT, 1, result, sizeof(result), NULL, 0);
	save("result", 2, &b, b.len), add(&all, b.data, b.len), b.len = 0;
	failure(&b, CF_WIRE_ERROR, 3, 22, "ValueError: n must not be negative");
	save("error", 3, &b, b.len), add(&all, b.data, b.len), b.len = 0;
	task(&b, CF_WIRE_INIT, 0, "", 0x2000, "seed", 4);
	save("init", 1, &b, b.len), add(&all, b.data, b.len), b.len = 0;
	failure(&b, CF_WIRE_INIT_FAILED, 0, 1, "initializer returned 1");
	save("init-failed", 2, &b, b.len), add(&all, b.data, b.len), b.len = 0;
	frame(&b, CF_WIRE_HELLO, 0, pid, sizeof(pid), NULL, 0);
	save("hello", 0, &b, b.len), add(&all, b.data, b.len), b.len = 0;
	frame(&b, CF_WIRE_EXIT, 0, NULL, 0, NULL, 0);
	save("exit", 3, &b, b.len), add(&all, b.data, b.len), b.len = 0;

	/* A conversation: every frame above, one after the other. */
	save("stream", 1, &all, all.len);
	save("stream-bytewise", 0, &all, all.len);

	/* Truncated: inside a header, inside a payload. */
	save("truncated-header", 2, &all, 13);
	save("truncated-payload", 1, &all, CF_WIRE_HEADER_SIZE + 5);

	/* Oversized: one byte over the limit, and the limit itself with no
	 * payload behind it (the reader must not wait or read past). */
	frame(&b, CF_WIRE_RESULT, 9, NULL, 0, NULL, 0);
	b.data[16] = 0x01, b.data[17] = 0x00, b.data[18] = 0x00, b.data[19] = 0x40;
	save("too-long", 3, &b, b.len);
	b.data[16] = 0x00;
	save("max-length-truncated", 3, &b, b.len);
	b.len = 0;

	/* Broken headers: magic, version, type 0 and past the last,
	 * reserved bytes set. */
	frame(&b, CF_WIRE_EXIT, 0, NULL, 0, NULL, 0);
	b.data[0] = 'X';
	save("bad-magic", 3, &b, b.len);
	b.data[0] = 'C', b.data[4] = 2;
	save("bad-version", 3, &b, b.len);
	b.data[4] = 1, b.data[5] = 0;
	save("type-zero", 3, &b, b.len);
	b.data[5] = CF_WIRE_TYPE_MAX + 1;
	save("type-past-last", 3, &b, b.len);
	b.data[5] = CF_WIRE_EXIT, b.data[21] = 1;
	save("reserved-set", 3, &b, b.len);
	b.len = 0;

	/* Payloads whose fields lie: a name longer than the limit, a name
	 * with a NUL, an error message too long for cf_error. */
	{
		unsigned char p[2 + 8] = { 0x01, 0x10 };        /* 4097 */

		frame(&b, CF_WIRE_TASK, 4, p, sizeof(p), NULL, 0);
		save("name-too-long", 2, &b, b.len), b.len = 0;
	}
	{
		unsigned char p[2 + 3 + 8] = { 3, 0, 'a', 0, 'b' };

		frame(&b, CF_WIRE_TASK, 5, p, sizeof(p), NULL, 0);
		save("name-with-nul", 1, &b, b.len), b.len = 0;
	}
	{
		unsigned char p[4 + 300];

		memset(p, 'm', sizeof(p));
		frame(&b, CF_WIRE_ERROR, 6, p, sizeof(p), NULL, 0);
		save("message-too-long", 2, &b, b.len), b.len = 0;
	}
	printf("%d seed inputs in %s\n", seed_count, seed_dir);
	return 0;
}
#endif

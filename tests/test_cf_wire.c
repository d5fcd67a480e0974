/* The wire format of the process backend (executors/src/wire/wire.h) and its
 * transport over a file descriptor (frame_io.h), as pure functions: the
 * byte layout, round trips, and a decoder that reports every malformed
 * input with the right cf_wire_error and never reads past the bytes it was
 * given.  The buffers handed to the decoders are malloc'ed to their exact
 * length, so that a build with -fsanitize=address catches a read one byte
 * too far.  Function references (fnref.c) are tested here too.
 *
 * Suite: cf_wire.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire/frame_io.h"
#include "wire/wire.h"

/* ---- helpers ------------------------------------------------------------ */

/* A fixed-seed generator, so that a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* A heap copy of exactly len bytes (at least one byte is allocated, but
 * only len are given to the decoder). */
static unsigned char *exact_copy(const void *src, size_t len)
{
	unsigned char *p = malloc(len ? len : 1);

	cr_assert_not_null(p);
	if (len)
		memcpy(p, src, len);
	return p;
}

static uint64_t le_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

/* Decodes a header given as exactly CF_WIRE_HEADER_SIZE heap bytes. */
static enum cf_wire_error get_header(const unsigned char *bytes, struct cf_wire_header *h)
{
	unsigned char *copy = exact_copy(bytes, CF_WIRE_HEADER_SIZE);
	enum cf_wire_error e = cf_wire_get_header(copy, h);

	free(copy);
	return e;
}

static enum cf_wire_error get_fnref(const unsigned char *bytes, size_t len, struct cf_fnref *ref,
				    size_t *rest_offset, size_t *rest_len)
{
	unsigned char *copy = exact_copy(bytes, len);
	const unsigned char *rest = NULL;
	enum cf_wire_error e = cf_wire_get_fnref(copy, len, ref, &rest, rest_len);

	if (e == CF_WIRE_OK) {
		cr_assert(rest >= copy && rest <= copy + len, "rest outside the payload");
		cr_assert_eq(rest + *rest_len, copy + len, "rest does not end with the payload");
		cr_assert((const unsigned char *)ref->module >= copy &&
			  (const unsigned char *)ref->module + ref->module_len <= copy + len,
			  "module name outside the payload");
		if (rest_offset)
			*rest_offset = (size_t)(rest - copy);
	}
	free(copy);
	/* ref->module pointed into copy: callers compare before this returns
	 * only through round_trip_fnref, which keeps its own buffer. */
	ref->module = NULL;
	return e;
}

static enum cf_wire_error get_error(const unsigned char *bytes, size_t len, cf_error *error)
{
	unsigned char *copy = exact_copy(bytes, len);
	enum cf_wire_error e;

	memset(error, 0x55, sizeof(*error));
	e = cf_wire_get_error(copy, len, error);
	free(copy);
	if (e == CF_WIRE_OK)
		cr_assert_lt(strnlen(error->message, sizeof(error->message)), sizeof(error->message),
			     "decoded message not NUL-terminated");
	return e;
}

/* An encoded fnref followed by arg bytes, in a new exact buffer. */
static unsigned char *encode_task(const char *module, size_t module_len, uint64_t offset,
				  const void *arg, size_t arg_len, size_t *len)
{
	struct cf_fnref ref = { .module = module, .module_len = module_len, .offset = offset };
	size_t head = cf_wire_fnref_size(&ref);
	unsigned char *p = malloc(head + arg_len + 1);

	cr_assert_not_null(p);
	cr_assert_eq(head, 2 + module_len + 8);
	cf_wire_put_fnref(p, &ref);
	if (arg_len)
		memcpy(p + head, arg, arg_len);
	*len = head + arg_len;
	return p;
}

/* ---- headers ------------------------------------------------------------ */

Test(cf_wire, header_layout_is_little_endian, .timeout = 10)
{
	unsigned char b[CF_WIRE_HEADER_SIZE];

	memset(b, 0xee, sizeof(b));
	cf_wire_put_header(b, CF_WIRE_RESULT, 0x0102030405060708ull, 0x0a0b0c0du);
	cr_expect_eq(memcmp(b, "CFW1", 4), 0, "magic");
	cr_expect_eq(b[4], 1, "version");
	cr_expect_eq(b[5], CF_WIRE_RESULT, "type");
	cr_expect_eq(b[6], 0, "reserved");
	cr_expect_eq(b[7], 0, "reserved");
	static const unsigned char id[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	cr_expect_eq(memcmp(b + 8, id, 8), 0, "id little-endian");
	static const unsigned char len[4] = { 0x0d, 0x0c, 0x0b, 0x0a };
	cr_expect_eq(memcmp(b + 16, len, 4), 0, "length little-endian");
	for (int i = 20; i < 24; i++)
		cr_expect_eq(b[i], 0, "reserved byte %d", i);
}

Test(cf_wire, header_round_trip, .timeout = 10)
{
	static const uint64_t ids[] = { 0, 1, 255, 256, 0x0102030405060708ull, UINT64_MAX };
	static const uint32_t lens[] = { 0, 1, 24, 65536, CF_WIRE_MAX_PAYLOAD - 1,
					 CF_WIRE_MAX_PAYLOAD };

	for (int type = CF_WIRE_TASK; type <= CF_WIRE_TYPE_MAX; type++) {
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
				unsigned char b[CF_WIRE_HEADER_SIZE];
				struct cf_wire_header h = { 0 };

				cf_wire_put_header(b, (uint8_t)type, ids[i], lens[j]);
				cr_assert_eq(get_header(b, &h), CF_WIRE_OK, "type %d id %zu len %zu",
					     type, i, j);
				cr_assert_eq(h.type, type);
				cr_assert_eq(h.id, ids[i]);
				cr_assert_eq(h.length, lens[j]);
			}
		}
	}
}

Test(cf_wire, header_bad_magic, .timeout = 10)
{
	for (int i = 0; i < 4; i++) {
		unsigned char b[CF_WIRE_HEADER_SIZE];
		struct cf_wire_header h;

		cf_wire_put_header(b, CF_WIRE_TASK, 1, 0);
		b[i] ^= 0x20;   /* "cFW1", "CfW1", ... */
		cr_expect_eq(get_header(b, &h), CF_WIRE_BAD_MAGIC, "byte %d changed", i);
	}
	unsigned char zeros[CF_WIRE_HEADER_SIZE] = { 0 };
	struct cf_wire_header h;
	cr_expect_eq(get_header(zeros, &h), CF_WIRE_BAD_MAGIC, "all zeros");
}

Test(cf_wire, header_bad_version, .timeout = 10)
{
	static const unsigned char versions[] = { 0, 2, 0x31, 255 };

	for (size_t i = 0; i < sizeof(versions); i++) {
		unsigned char b[CF_WIRE_HEADER_SIZE];
		struct cf_wire_header h;

		cf_wire_put_header(b, CF_WIRE_TASK, 1, 0);
		b[4] = versions[i];
		cr_expect_eq(get_header(b, &h), CF_WIRE_BAD_VERSION, "version %d", versions[i]);
	}
}

Test(cf_wire, header_bad_type, .timeout = 10)
{
	static const unsigned char types[] = { 0, CF_WIRE_TYPE_MAX + 1, 0x7f, 0x80, 255 };

	for (size_t i = 0; i < sizeof(types); i++) {
		unsigned char b[CF_WIRE_HEADER_SIZE];
		struct cf_wire_header h;

		cf_wire_put_header(b, types[i], 1, 0);
		cr_expect_eq(get_header(b, &h), CF_WIRE_BAD_TYPE, "type %d", types[i]);
	}
}

Test(cf_wire, header_too_long, .timeout = 10)
{
	static const uint32_t lens[] = { CF_WIRE_MAX_PAYLOAD + 1, 0x80000000u, UINT32_MAX };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		unsigned char b[CF_WIRE_HEADER_SIZE];
		struct cf_wire_header h;

		cf_wire_put_header(b, CF_WIRE_RESULT, 1, lens[i]);
		cr_expect_eq(get_header(b, &h), CF_WIRE_TOO_LONG, "length %u", lens[i]);
	}
}

/* The checks come in a fixed order: magic, version, type, length. */
Test(cf_wire, header_first_fault_is_reported, .timeout = 10)
{
	unsigned char b[CF_WIRE_HEADER_SIZE];
	struct cf_wire_header h;

	cf_wire_put_header(b, 0, 1, UINT32_MAX);
	b[4] = 9;
	cr_expect_eq(get_header(b, &h), CF_WIRE_BAD_VERSION);
	b[4] = 1;
	cr_expect_eq(get_header(b, &h), CF_WIRE_BAD_TYPE);
	b[5] = CF_WIRE_RESULT;
	cr_expect_eq(get_header(b, &h), CF_WIRE_TOO_LONG);
}

/* ---- function references ------------------------------------------------ */

Test(cf_wire, fnref_round_trip, .timeout = 10)
{
	static char long_name[CF_WIRE_MAX_NAME];
	const char *modules[] = { "", "/lib/x86_64-linux-gnu/libc.so.6", "a", long_name };
	size_t module_lens[] = { 0, strlen(modules[1]), 1, sizeof(long_name) };
	static const uint64_t offsets[] = { 0, 0x1234, 0x0102030405060708ull, UINT64_MAX };
	unsigned char arg[100];

	memset(long_name, 'n', sizeof(long_name));
	for (size_t i = 0; i < sizeof(arg); i++)
		arg[i] = (unsigned char)(i * 7 + 1);
	for (size_t m = 0; m < 4; m++) {
		for (size_t o = 0; o < 4; o++) {
			for (size_t arg_len = 0; arg_len <= sizeof(arg); arg_len += 33) {
				size_t len, rest_len = 12345, rest_off = 0;
				unsigned char *p = encode_task(modules[m], module_lens[m], offsets[o],
							       arg, arg_len, &len);
				struct cf_fnref ref = { 0 };
				const unsigned char *rest;

				cr_assert_eq(le_u64(p + 2 + module_lens[m]), offsets[o]);
				cr_assert_eq(p[0] | p[1] << 8, (int)module_lens[m]);
				cr_assert_eq(cf_wire_get_fnref(p, len, &ref, &rest, &rest_len),
					     CF_WIRE_OK, "module %zu offset %zu arg %zu", m, o, arg_len);
				cr_assert_eq(ref.module_len, module_lens[m]);
				cr_assert_eq(memcmp(ref.module, modules[m], module_lens[m]), 0);
				cr_assert_eq(ref.offset, offsets[o]);
				cr_assert_eq(rest_len, arg_len);
				cr_assert_eq(rest, p + 2 + module_lens[m] + 8);
				cr_assert_eq(memcmp(rest, arg, arg_len), 0);
				/* The same through an exact heap copy. */
				cr_assert_eq(get_fnref(p, len, &ref, &rest_off, &rest_len), CF_WIRE_OK);
				cr_assert_eq(rest_off, len - arg_len);
				free(p);
			}
		}
	}
}

Test(cf_wire, fnref_every_truncation, .timeout = 30)
{
	const char *module = "libexample.so.3";
	unsigned char arg[3] = { 1, 2, 3 };
	size_t len, head = 2 + strlen(module) + 8;
	unsigned char *p = encode_task(module, strlen(module), 0xabcdef, arg, sizeof(arg), &len);

	for (size_t n = 0; n <= len; n++) {
		struct cf_fnref ref;
		size_t rest_len = 0;
		enum cf_wire_error e = get_fnref(p, n, &ref, NULL, &rest_len);

		if (n < head) {
			cr_expect_eq(e, CF_WIRE_TRUNCATED, "prefix of %zu bytes: %s", n,
				     cf_wire_strerror(e));
		} else {
			cr_expect_eq(e, CF_WIRE_OK, "prefix of %zu bytes", n);
			cr_expect_eq(rest_len, n - head);
		}
	}
	free(p);
}

Test(cf_wire, fnref_name_too_long, .timeout = 10)
{
	static const uint16_t lens[] = { CF_WIRE_MAX_NAME + 1, 0x8000, UINT16_MAX };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		/* Long enough for the name that the length claims, so that only
		 * the limit can reject it. */
		size_t len = 2 + lens[i] + 8;
		unsigned char *p = calloc(1, len);
		struct cf_fnref ref;
		size_t rest_len;

		cr_assert_not_null(p);
		memset(p + 2, 'x', lens[i]);
		put_le_u16(p, lens[i]);
		cr_expect_eq(get_fnref(p, len, &ref, NULL, &rest_len), CF_WIRE_BAD_FIELD,
			     "name of %u bytes", lens[i]);
		/* And when the payload is shorter than the name: still refused
		 * without reading the name. */
		cr_expect_neq(get_fnref(p, 2, &ref, NULL, &rest_len), CF_WIRE_OK);
		free(p);
	}
}

Test(cf_wire, fnref_name_with_nul, .timeout = 10)
{
	static const char *names[] = { "\0libc.so", "lib\0c.so", "libc.so\0" };

	for (size_t i = 0; i < 3; i++) {
		size_t len;
		unsigned char *p = encode_task(names[i], 8, 42, "arg", 3, &len);
		struct cf_fnref ref;
		size_t rest_len;

		cr_expect_eq(get_fnref(p, len, &ref, NULL, &rest_len), CF_WIRE_BAD_FIELD,
			     "NUL at %zu", i);
		free(p);
	}
}

/* ---- errors ------------------------------------------------------------- */

Test(cf_wire, error_round_trip, .timeout = 10)
{
	static const int codes[] = { 1, -1, 42, INT_MAX, INT_MIN };
	char longest[CF_ERROR_MESSAGE_MAX];

	memset(longest, 'm', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	const char *messages[] = { "", "bad 7", "ünïcödé \t\n", longest };

	for (size_t c = 0; c < sizeof(codes) / sizeof(codes[0]); c++) {
		for (size_t m = 0; m < 4; m++) {
			cf_error in = { .code = codes[c] }, out;
			unsigned char buf[4 + CF_ERROR_MESSAGE_MAX];

			snprintf(in.message, sizeof(in.message), "%s", messages[m]);
			size_t size = cf_wire_error_size(&in);
			cr_assert_eq(size, 4 + strlen(messages[m]));
			cf_wire_put_error(buf, &in);
			cr_assert_eq(le_u32(buf), (uint32_t)codes[c], "code little-endian");
			cr_assert_eq(get_error(buf, size, &out), CF_WIRE_OK);
			cr_expect_eq(out.code, codes[c]);
			cr_expect_str_eq(out.message, messages[m]);
		}
	}
}

/* A message that fills the whole array without a NUL (a caller's bug) is
 * cut at 255 bytes, never read past. */
Test(cf_wire, error_unterminated_message_is_cut, .timeout = 10)
{
	cf_error *in = malloc(sizeof(*in));
	cf_error out;
	unsigned char buf[4 + CF_ERROR_MESSAGE_MAX];

	cr_assert_not_null(in);
	in->code = 5;
	memset(in->message, 'z', sizeof(in->message));
	cr_assert_eq(cf_wire_error_size(in), 4 + CF_ERROR_MESSAGE_MAX - 1);
	cf_wire_put_error(buf, in);
	cr_assert_eq(get_error(buf, cf_wire_error_size(in), &out), CF_WIRE_OK);
	cr_expect_eq(strlen(out.message), CF_ERROR_MESSAGE_MAX - 1);
	free(in);
}

Test(cf_wire, error_truncated, .timeout = 10)
{
	unsigned char buf[4] = { 1, 0, 0, 0 };

	for (size_t n = 0; n < 4; n++) {
		cf_error out;
		cr_expect_eq(get_error(buf, n, &out), CF_WIRE_TRUNCATED, "%zu bytes", n);
	}
	cf_error out;
	cr_expect_eq(get_error(buf, 4, &out), CF_WIRE_OK, "code and empty message");
	cr_expect_eq(out.code, 1);
	cr_expect_str_eq(out.message, "");
}

Test(cf_wire, error_message_too_long, .timeout = 10)
{
	unsigned char buf[4 + 1000];

	memset(buf, 'q', sizeof(buf));
	put_le_u32(buf, 3);
	cf_error out;
	cr_expect_eq(get_error(buf, 4 + CF_ERROR_MESSAGE_MAX - 1, &out), CF_WIRE_OK, "255 bytes");
	cr_expect_eq(get_error(buf, 4 + CF_ERROR_MESSAGE_MAX, &out), CF_WIRE_BAD_FIELD,
		     "256 bytes");
	cr_expect_eq(get_error(buf, sizeof(buf), &out), CF_WIRE_BAD_FIELD, "1000 bytes");
}

Test(cf_wire, strerror_names_every_error, .timeout = 10)
{
	const char *seen[CF_WIRE_BAD_FIELD + 1];

	for (int e = CF_WIRE_OK; e <= CF_WIRE_BAD_FIELD; e++) {
		seen[e] = cf_wire_strerror((enum cf_wire_error)e);
		cr_assert_not_null(seen[e]);
		cr_expect_gt(strlen(seen[e]), 0);
		cr_expect_str_neq(seen[e], "unknown wire error", "error %d", e);
		for (int k = 0; k < e; k++)
			cr_expect_str_neq(seen[e], seen[k], "errors %d and %d share a name", e, k);
	}
	cr_expect_str_eq(cf_wire_strerror((enum cf_wire_error)99), "unknown wire error");
}

/* ---- never out of bounds ------------------------------------------------ */

/* Every prefix of valid TASK and ERROR payloads, in exact heap buffers:
 * meaningful under ASan, where one byte read too far aborts. */
Test(cf_wire, decoders_stay_in_bounds_on_truncations, .timeout = 60)
{
	static char module[300];
	unsigned char arg[64];
	size_t len;

	memset(module, 'M', sizeof(module));
	for (size_t i = 0; i < sizeof(arg); i++)
		arg[i] = (unsigned char)rng();
	unsigned char *p = encode_task(module, sizeof(module), 77, arg, sizeof(arg), &len);
	for (size_t n = 0; n <= len; n++) {
		struct cf_fnref ref;
		size_t rest_len;
		cf_error out;

		get_fnref(p, n, &ref, NULL, &rest_len);
		/* The same bytes seen as an ERROR payload. */
		get_error(p, n, &out);
	}
	free(p);

	cf_error in = { .code = -9 };
	unsigned char buf[4 + CF_ERROR_MESSAGE_MAX];
	memset(in.message, 'e', sizeof(in.message) - 1);
	cf_wire_put_error(buf, &in);
	for (size_t n = 0; n <= cf_wire_error_size(&in); n++) {
		struct cf_fnref ref;
		size_t rest_len;
		cf_error out;

		cr_expect_eq(get_error(buf, n, &out), n < 4 ? CF_WIRE_TRUNCATED : CF_WIRE_OK);
		get_fnref(buf, n, &ref, NULL, &rest_len);
	}
}

Test(cf_wire, decoders_stay_in_bounds_on_random_bytes, .timeout = 120)
{
	int rounds = 200000;

	for (int r = 0; r < rounds; r++) {
		size_t len = (size_t)(rng() % 320);
		unsigned char *p = malloc(len ? len : 1);
		struct cf_fnref ref;
		size_t rest_len;
		cf_error out;

		cr_assert_not_null(p);
		for (size_t i = 0; i < len; i++)
			p[i] = (unsigned char)rng();
		/* Make the name lengths small often enough to go past the
		 * length check into the name and offset. */
		if (len >= 2 && (r & 1))
			put_le_u16(p, (uint16_t)(rng() % (len + 8)));
		get_fnref(p, len, &ref, NULL, &rest_len);
		get_error(p, len, &out);

		unsigned char h[CF_WIRE_HEADER_SIZE];
		struct cf_wire_header hdr;
		for (size_t i = 0; i < sizeof(h); i++)
			h[i] = (unsigned char)rng();
		if (r & 1) {            /* a plausible start, random rest */
			memcpy(h, "CFW1", 4);
			h[4] = 1;
			h[5] = (unsigned char)(rng() % 10);
		}
		enum cf_wire_error e = get_header(h, &hdr);
		if (e == CF_WIRE_OK) {
			cr_assert(hdr.type >= CF_WIRE_TASK && hdr.type <= CF_WIRE_TYPE_MAX);
			cr_assert_leq(hdr.length, CF_WIRE_MAX_PAYLOAD);
		}
		free(p);
	}
}

/* ---- frames over a file descriptor -------------------------------------- */

/* A pipe whose write end holds `bytes`, then is closed. */
static int pipe_with(const void *bytes, size_t len)
{
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	cr_assert_lt(len, 65536, "more than a pipe holds without a reader");
	if (len)
		cr_assert_eq(write(fds[1], bytes, len), (ssize_t)len);
	close(fds[1]);
	return fds[0];
}

/* in: the stream's read-ahead, one per descriptor; NULL for a fresh one
 * when a single frame is read. */
static enum cf_frame_status read_frame(struct cf_frame_inbuf *in, int fd, struct cf_wire_header *h,
				       unsigned char **payload, enum cf_wire_error *we)
{
	struct cf_frame_inbuf fresh = { .start = 0 };

	*we = (enum cf_wire_error)-1;
	return cf__frame_read(fd, in ? in : &fresh, h, payload, we);
}

Test(cf_wire, frame_round_trip_over_a_pipe, .timeout = 10)
{
	int fds[2];
	struct cf_wire_header h;
	unsigned char *payload = (unsigned char *)"not touched";
	enum cf_wire_error we;
	struct cf_frame_inbuf in = { .start = 0 };

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(cf__frame_write(fds[1], CF_WIRE_TASK, 7, "head", 4, "tail!", 5), CF_FRAME_OK);
	cr_assert_eq(cf__frame_write(fds[1], CF_WIRE_EXIT, 0, NULL, 0, NULL, 0), CF_FRAME_OK);
	cr_assert_eq(cf__frame_write(fds[1], CF_WIRE_RESULT, UINT64_MAX, NULL, 0, "x", 1),
		     CF_FRAME_OK);
	close(fds[1]);

	cr_assert_eq(read_frame(&in, fds[0], &h, &payload, &we), CF_FRAME_OK);
	cr_expect_eq(we, CF_WIRE_OK);
	cr_expect_eq(h.type, CF_WIRE_TASK);
	cr_expect_eq(h.id, 7);
	cr_assert_eq(h.length, 9);
	cr_expect_eq(memcmp(payload, "headtail!", 9), 0);
	free(payload);

	cr_assert_eq(read_frame(&in, fds[0], &h, &payload, &we), CF_FRAME_OK);
	cr_expect_eq(h.type, CF_WIRE_EXIT);
	cr_expect_eq(h.length, 0);
	cr_expect_null(payload, "an empty payload is NULL");

	cr_assert_eq(read_frame(&in, fds[0], &h, &payload, &we), CF_FRAME_OK);
	cr_expect_eq(h.type, CF_WIRE_RESULT);
	cr_expect_eq(h.id, UINT64_MAX);
	cr_assert_eq(h.length, 1);
	cr_expect_eq(payload[0], 'x');
	free(payload);

	cr_expect_eq(read_frame(&in, fds[0], &h, &payload, &we), CF_FRAME_EOF, "clean EOF after frames");
	cr_expect_null(payload);
	close(fds[0]);
}

/* The blocking reader takes several frames in one read and hands them
 * out one at a time, the last one's payload partly from its buffer and
 * partly from the descriptor when it is larger than the buffer. */
Test(cf_wire, frame_read_ahead_keeps_frames_apart, .timeout = 10)
{
	size_t big = sizeof(((struct cf_frame_inbuf *)0)->data) * 3 + 5;
	unsigned char *blob = malloc(big);
	struct cf_frame_inbuf in = { .start = 0 };
	struct cf_wire_header h;
	unsigned char *payload;
	enum cf_wire_error we;
	int sv[2];

	cr_assert(blob);
	for (size_t i = 0; i < big; i++)
		blob[i] = (unsigned char)(i * 7);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (uint64_t id = 1; id <= 3; id++)
		cr_assert_eq(cf__frame_write(sv[1], CF_WIRE_TASK, id, &id, sizeof(id), NULL, 0),
			     CF_FRAME_OK);
	cr_assert_eq(cf__frame_write(sv[1], CF_WIRE_RESULT, 4, blob, big, NULL, 0), CF_FRAME_OK);
	close(sv[1]);
	for (uint64_t id = 1; id <= 3; id++) {
		cr_assert_eq(read_frame(&in, sv[0], &h, &payload, &we), CF_FRAME_OK);
		cr_expect_eq(h.id, id);
		cr_assert_eq(h.length, sizeof(id));
		cr_expect_eq(memcmp(payload, &id, sizeof(id)), 0);
		free(payload);
	}
	cr_assert_eq(read_frame(&in, sv[0], &h, &payload, &we), CF_FRAME_OK);
	cr_expect_eq(h.id, 4);
	cr_assert_eq(h.length, big);
	cr_expect_eq(memcmp(payload, blob, big), 0, "the big payload came back intact");
	free(payload);
	cr_expect_eq(read_frame(&in, sv[0], &h, &payload, &we), CF_FRAME_EOF);
	close(sv[0]);
	free(blob);
}

Test(cf_wire, frame_clean_eof, .timeout = 10)
{
	int fd = pipe_with(NULL, 0);
	struct cf_wire_header h;
	unsigned char *payload;
	enum cf_wire_error we;

	cr_expect_eq(read_frame(NULL, fd, &h, &payload, &we), CF_FRAME_EOF);
	cr_expect_null(payload);
	cr_expect_eq(we, CF_WIRE_OK);
	close(fd);
}

Test(cf_wire, frame_truncated_header, .timeout = 10)
{
	unsigned char b[CF_WIRE_HEADER_SIZE];

	cf_wire_put_header(b, CF_WIRE_RESULT, 3, 10);
	for (size_t n = 1; n < sizeof(b); n++) {
		int fd = pipe_with(b, n);
		struct cf_wire_header h;
		unsigned char *payload;
		enum cf_wire_error we;

		cr_expect_eq(read_frame(NULL, fd, &h, &payload, &we), CF_FRAME_CORRUPT, "%zu bytes", n);
		cr_expect_eq(we, CF_WIRE_TRUNCATED, "%zu bytes: %s", n, cf_wire_strerror(we));
		cr_expect_null(payload);
		close(fd);
	}
}

Test(cf_wire, frame_truncated_payload, .timeout = 10)
{
	unsigned char b[CF_WIRE_HEADER_SIZE + 100];

	memset(b, 'p', sizeof(b));
	cf_wire_put_header(b, CF_WIRE_RESULT, 3, 100);
	for (size_t n = CF_WIRE_HEADER_SIZE; n < sizeof(b); n += 11) {
		int fd = pipe_with(b, n);
		struct cf_wire_header h;
		unsigned char *payload;
		enum cf_wire_error we;

		cr_expect_eq(read_frame(NULL, fd, &h, &payload, &we), CF_FRAME_CORRUPT,
			     "header and %zu payload bytes", n - CF_WIRE_HEADER_SIZE);
		cr_expect_eq(we, CF_WIRE_TRUNCATED, "%s", cf_wire_strerror(we));
		cr_expect_null(payload);
		close(fd);
	}
}

Test(cf_wire, frame_garbage, .timeout = 10)
{
	struct {
		const char *what;
		int byte, value;
		uint32_t length;
		enum cf_wire_error expect;
	} cases[] = {
		{ "magic", 0, 'X', 4, CF_WIRE_BAD_MAGIC },
		{ "version", 4, 7, 4, CF_WIRE_BAD_VERSION },
		{ "type", 5, 0, 4, CF_WIRE_BAD_TYPE },
		{ "type", 5, 200, 4, CF_WIRE_BAD_TYPE },
		{ "length", -1, 0, CF_WIRE_MAX_PAYLOAD + 1, CF_WIRE_TOO_LONG },
		{ "length", -1, 0, UINT32_MAX, CF_WIRE_TOO_LONG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char b[CF_WIRE_HEADER_SIZE + 4];
		struct cf_wire_header h;
		unsigned char *payload;
		enum cf_wire_error we;

		cf_wire_put_header(b, CF_WIRE_RESULT, 1, cases[i].length);
		memcpy(b + CF_WIRE_HEADER_SIZE, "abcd", 4);
		if (cases[i].byte >= 0)
			b[cases[i].byte] = (unsigned char)cases[i].value;
		int fd = pipe_with(b, sizeof(b));
		cr_expect_eq(read_frame(NULL, fd, &h, &payload, &we), CF_FRAME_CORRUPT, "bad %s",
			     cases[i].what);
		cr_expect_eq(we, cases[i].expect, "bad %s: %s", cases[i].what, cf_wire_strerror(we));
		cr_expect_null(payload);
		close(fd);
	}

	/* Text where a frame should be. */
	const char *text = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	int fd = pipe_with(text, strlen(text));
	struct cf_wire_header h;
	unsigned char *payload;
	enum cf_wire_error we;
	cr_expect_eq(read_frame(NULL, fd, &h, &payload, &we), CF_FRAME_CORRUPT);
	cr_expect_eq(we, CF_WIRE_BAD_MAGIC);
	close(fd);
}

Test(cf_wire, frame_read_of_a_bad_fd, .timeout = 10)
{
	struct cf_wire_header h;
	unsigned char *payload;
	enum cf_wire_error we;

	/* -1 rather than a closed descriptor, which another thread of the
	 * test runner could reopen. */
	cr_expect_eq(read_frame(NULL, -1, &h, &payload, &we), CF_FRAME_IO_ERROR);
	cr_expect_eq(errno, EBADF);
	cr_expect_null(payload);
}

Test(cf_wire, frame_write_over_the_limit, .timeout = 10)
{
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	/* The size is refused before any byte is touched. */
	errno = 0;
	cr_expect_eq(cf__frame_write(fds[1], CF_WIRE_RESULT, 1, NULL, CF_WIRE_MAX_PAYLOAD, NULL, 1),
		     CF_FRAME_IO_ERROR);
	cr_expect_eq(errno, EMSGSIZE);
	close(fds[1]);
	struct cf_wire_header h;
	unsigned char *payload;
	enum cf_wire_error we;
	cr_expect_eq(read_frame(NULL, fds[0], &h, &payload, &we), CF_FRAME_EOF, "nothing was written");
	close(fds[0]);
}

/* A dead peer on a socket is an error, not a SIGPIPE that kills us. */
Test(cf_wire, frame_write_to_a_closed_socket, .timeout = 10)
{
	int sv[2];
	struct sigaction old, dfl = { .sa_handler = SIG_DFL };

	cr_assert_eq(sigaction(SIGPIPE, &dfl, &old), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	cr_expect_eq(cf__frame_write(sv[0], CF_WIRE_TASK, 1, "x", 1, NULL, 0), CF_FRAME_IO_ERROR);
	cr_expect_eq(errno, EPIPE);
	close(sv[0]);
	sigaction(SIGPIPE, &old, NULL);
}

struct big_reader {
	int fd;
	enum cf_frame_status st;
	struct cf_wire_header h;
	unsigned char *payload;
	enum cf_wire_error we;
};

static void *read_one_frame(void *arg)
{
	struct big_reader *r = arg;

	static struct cf_frame_inbuf in;

	r->st = cf__frame_read(r->fd, &in, &r->h, &r->payload, &r->we);
	return NULL;
}

/* A frame much larger than the socket buffer: written in pieces (partial
 * writes inside an iovec) and read back intact. */
Test(cf_wire, frame_of_16_mib_over_a_socket, .timeout = 60)
{
	size_t n1 = 16u << 20, n2 = 12345;
	unsigned char *a = malloc(n1), *b = malloc(n2);
	struct big_reader r = { 0 };
	pthread_t t;
	int sv[2];

	cr_assert(a && b);
	for (size_t i = 0; i < n1; i++)
		a[i] = (unsigned char)(i * 131 + (i >> 16));
	for (size_t i = 0; i < n2; i++)
		b[i] = (unsigned char)(i ^ 0x5a);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r.fd = sv[1];
	cr_assert_eq(pthread_create(&t, NULL, read_one_frame, &r), 0);
	cr_expect_eq(cf__frame_write(sv[0], CF_WIRE_RESULT, 99, a, n1, b, n2), CF_FRAME_OK);
	pthread_join(t, NULL);
	cr_assert_eq(r.st, CF_FRAME_OK);
	cr_expect_eq(r.h.id, 99);
	cr_assert_eq(r.h.length, n1 + n2);
	cr_expect_eq(memcmp(r.payload, a, n1), 0, "first part intact");
	cr_expect_eq(memcmp(r.payload + n1, b, n2), 0, "second part intact");
	free(r.payload);
	free(a);
	free(b);
	close(sv[0]);
	close(sv[1]);
}

/* ---- function references (fnref.c) -------------------------------------- */

static int local_function(int x)
{
	return x + 1;
}

int cf_wire_test_global_function(void);
int cf_wire_test_global_function(void)
{
	return 7;
}

Test(cf_wire, fnref_of_functions_in_the_program, .timeout = 10)
{
	void (*fns[])(void) = {
		(void (*)(void))local_function,
		(void (*)(void))cf_wire_test_global_function,
		(void (*)(void))cf__fnref_from_fn,     /* in libcf.a, linked in */
	};

	for (size_t i = 0; i < 3; i++) {
		struct cf_fnref ref = { 0 };

		cr_assert_eq(cf__fnref_from_fn(fns[i], &ref), 0, "function %zu", i);
		cr_expect_eq(ref.module_len, 0, "the main program is named \"\"");
		cr_expect_str_eq(ref.module, "");
		cr_expect_eq(cf__fnref_to_fn(&ref), fns[i], "function %zu comes back", i);
	}
	cr_expect_eq(local_function(1), 2);
}

Test(cf_wire, fnref_of_a_shared_library_function, .timeout = 10)
{
	void (*fn)(void) = (void (*)(void))qsort;
	struct cf_fnref ref = { 0 };

	cr_assert_eq(cf__fnref_from_fn(fn, &ref), 0);
	/* qsort lives in libc (or in libasan, which intercepts it), unless
	 * libc is linked statically. */
	cr_expect_eq(strlen(ref.module), ref.module_len);
	cr_expect_eq(cf__fnref_to_fn(&ref), fn);

	/* Through the wire and back. */
	size_t len;
	unsigned char *p = encode_task(ref.module, ref.module_len, ref.offset, NULL, 0, &len);
	struct cf_fnref back;
	const unsigned char *rest;
	size_t rest_len;
	cr_assert_eq(cf_wire_get_fnref(p, len, &back, &rest, &rest_len), CF_WIRE_OK);
	cr_expect_eq(cf__fnref_to_fn(&back), fn);
	free(p);
}

static int some_data[16];

Test(cf_wire, fnref_refuses_what_is_not_code, .timeout = 10)
{
	struct cf_fnref ref;
	char *heap = malloc(64);

	cr_assert_not_null(heap);
	cr_expect_eq(cf__fnref_from_fn((void (*)(void))(void *)some_data, &ref), -1, "data");
	cr_expect_eq(cf__fnref_from_fn((void (*)(void))(void *)heap, &ref), -1, "heap");
	cr_expect_eq(cf__fnref_from_fn((void (*)(void))(void *)&ref, &ref), -1, "stack");
	cr_expect_eq(cf__fnref_from_fn(NULL, &ref), -1, "NULL");
	free(heap);

	/* A name no loaded object has, an offset outside the code, an offset
	 * into the program's data. */
	struct cf_fnref unknown = { "libnothing.so.9", 15, 0x1000 };
	cr_expect_null(cf__fnref_to_fn(&unknown));
	struct cf_fnref far = { "", 0, 1ull << 46 };
	cr_expect_null(cf__fnref_to_fn(&far));
	struct cf_fnref huge = { "", 0, UINT64_MAX - 16 };
	cr_expect_null(cf__fnref_to_fn(&huge));
	struct cf_fnref good;
	cr_assert_eq(cf__fnref_from_fn((void (*)(void))local_function, &good), 0);
	uintptr_t base = (uintptr_t)local_function - (uintptr_t)good.offset;
	struct cf_fnref data = { "", 0, (uint64_t)((uintptr_t)some_data - base) };
	cr_expect_null(cf__fnref_to_fn(&data), "an offset into .bss is not a function");
	/* A prefix of a real name is not that name. */
	struct cf_fnref qs;
	cr_assert_eq(cf__fnref_from_fn((void (*)(void))qsort, &qs), 0);
	if (qs.module_len > 1) {
		qs.module_len--;
		cr_expect_null(cf__fnref_to_fn(&qs), "a prefix of the library's name");
	}
}

/* ---- frames read in pieces (cf__frame_read_some) ------------------------ */

static enum cf_frame_status read_some(int fd, struct cf_frame_reader *r, struct cf_wire_header *h,
				      unsigned char **payload, enum cf_wire_error *we)
{
	*we = (enum cf_wire_error)-1;
	*payload = (unsigned char *)"not set";
	return cf__frame_read_some(fd, r, false, h, payload, we);
}

struct late_writer {
	int fd;
	const unsigned char *bytes;
	size_t len;
};

static void *write_late(void *arg)
{
	struct late_writer *lw = arg;

	usleep(100 * 1000);
	if (write(lw->fd, lw->bytes, lw->len) != (ssize_t)lw->len)
		return (void *)1;
	return NULL;
}

/* wait_for_start: the read waits for a frame to begin, and no longer for
 * the rest of one that began (a stalled peer must not block the reader). */
Test(cf_wire, read_some_waits_for_a_start_only, .timeout = 10)
{
	unsigned char frame[CF_WIRE_HEADER_SIZE + 4];
	struct cf_frame_reader r = { 0 };
	struct cf_wire_header h;
	unsigned char *payload;
	enum cf_wire_error we;
	pthread_t t;
	void *failed;
	int sv[2];

	cf_wire_put_header(frame, CF_WIRE_RESULT, 5, 4);
	memcpy(frame + CF_WIRE_HEADER_SIZE, "abcd", 4);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);

	/* A whole frame that comes late: one call waits for it. */
	struct late_writer whole = { sv[1], frame, sizeof(frame) };
	cr_assert_eq(pthread_create(&t, NULL, write_late, &whole), 0);
	cr_expect_eq(cf__frame_read_some(sv[0], &r, true, &h, &payload, &we), CF_FRAME_OK);
	cr_assert_eq(pthread_join(t, &failed), 0);
	cr_assert_null(failed);
	cr_assert_eq(h.length, 4);
	cr_expect_eq(memcmp(payload, "abcd", 4), 0);
	free(payload);

	/* Only a header that comes late: the call returns with it, AGAIN,
	 * instead of waiting for a payload that may never come. */
	struct late_writer head = { sv[1], frame, CF_WIRE_HEADER_SIZE };
	cr_assert_eq(pthread_create(&t, NULL, write_late, &head), 0);
	cr_expect_eq(cf__frame_read_some(sv[0], &r, true, &h, &payload, &we), CF_FRAME_AGAIN);
	cr_assert_eq(pthread_join(t, &failed), 0);
	cr_assert_null(failed);
	cr_expect_eq(cf__frame_read_some(sv[0], &r, true, &h, &payload, &we), CF_FRAME_AGAIN,
		     "a frame begun: no waiting for its rest");
	cr_assert_eq(write(sv[1], frame + CF_WIRE_HEADER_SIZE, 4), 4);
	cr_expect_eq(cf__frame_read_some(sv[0], &r, true, &h, &payload, &we), CF_FRAME_OK);
	free(payload);
	cf__frame_reader_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/* A frame that arrives one byte at a time comes out whole, once. */
Test(cf_wire, read_some_byte_by_byte, .timeout = 10)
{
	unsigned char frame[CF_WIRE_HEADER_SIZE + 10];
	struct cf_frame_reader r = { 0 };
	struct cf_wire_header h;
	unsigned char *payload;
	enum cf_wire_error we;
	int sv[2];

	cf_wire_put_header(frame, CF_WIRE_RESULT, 77, 10);
	memcpy(frame + CF_WIRE_HEADER_SIZE, "0123456789", 10);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_expect_eq(read_some(sv[0], &r, &h, &payload, &we), CF_FRAME_AGAIN, "nothing sent");
	for (size_t i = 0; i < sizeof(frame); i++) {
		cr_assert_eq(write(sv[1], frame + i, 1), 1);
		enum cf_frame_status st = read_some(sv[0], &r, &h, &payload, &we);
		if (i + 1 < sizeof(frame)) {
			cr_assert_eq(st, CF_FRAME_AGAIN, "after %zu bytes", i + 1);
			continue;
		}
		cr_assert_eq(st, CF_FRAME_OK, "after the last byte");
		cr_expect_eq(we, CF_WIRE_OK);
		cr_expect_eq(h.type, CF_WIRE_RESULT);
		cr_expect_eq(h.id, 77);
		cr_assert_eq(h.length, 10);
		cr_expect_eq(memcmp(payload, "0123456789", 10), 0);
		free(payload);
	}
	cr_expect_eq(read_some(sv[0], &r, &h, &payload, &we), CF_FRAME_AGAIN, "no second frame");
	close(sv[1]);
	cr_expect_eq(read_some(sv[0], &r, &h, &payload, &we), CF_FRAME_EOF, "clean EOF");
	cf__frame_reader_clear(&r);
	close(sv[0]);
}

Test(cf_wire, read_some_frames_back_to_back, .timeout = 10)
{
	struct cf_frame_reader r = { 0 };
	struct cf_wire_header h;
	unsigned char *payload;
	enum cf_wire_error we;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(cf__frame_write(sv[1], CF_WIRE_TASK, 1, "ab", 2, "c", 1), CF_FRAME_OK);
	cr_assert_eq(cf__frame_write(sv[1], CF_WIRE_EXIT, 2, NULL, 0, NULL, 0), CF_FRAME_OK);
	cr_assert_eq(cf__frame_write(sv[1], CF_WIRE_ERROR, 3, "\1\0\0\0x", 5, NULL, 0),
		     CF_FRAME_OK);

	cr_assert_eq(read_some(sv[0], &r, &h, &payload, &we), CF_FRAME_OK);
	cr_expect_eq(h.id, 1);
	cr_assert_eq(h.length, 3);
	cr_expect_eq(memcmp(payload, "abc", 3), 0);
	free(payload);
	cr_assert_eq(read_some(sv[0], &r, &h, &payload, &we), CF_FRAME_OK);
	cr_expect_eq(h.id, 2);
	cr_expect_eq(h.type, CF_WIRE_EXIT);
	cr_expect_eq(h.length, 0);
	cr_expect_null(payload, "an empty payload is NULL");
	cr_assert_eq(read_some(sv[0], &r, &h, &payload, &we), CF_FRAME_OK);
	cr_expect_eq(h.id, 3);
	cr_assert_eq(h.length, 5);
	free(payload);
	cr_expect_eq(read_some(sv[0], &r, &h, &payload, &we), CF_FRAME_AGAIN);
	cf__frame_reader_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/* EOF inside the header or the payload: truncated, and nothing leaks once
 * the reader is cleared (ASan checks). */
Test(cf_wire, read_some_truncated, .timeout = 10)
{
	unsigned char frame[CF_WIRE_HEADER_SIZE + 50];

	memset(frame, 'p', sizeof(frame));
	cf_wire_put_header(frame, CF_WIRE_RESULT, 5, 50);
	for (size_t n = 1; n < sizeof(frame); n += 3) {
		struct cf_frame_reader r = { 0 };
		struct cf_wire_header h;
		unsigned char *payload;
		enum cf_wire_error we;
		int sv[2];

		cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		cr_assert_eq(write(sv[1], frame, n), (ssize_t)n);
		cr_expect_eq(read_some(sv[0], &r, &h, &payload, &we), CF_FRAME_AGAIN, "%zu bytes", n);
		close(sv[1]);
		cr_expect_eq(read_some(sv[0], &r, &h, &payload, &we), CF_FRAME_CORRUPT,
			     "%zu bytes then EOF", n);
		cr_expect_eq(we, CF_WIRE_TRUNCATED, "%zu bytes: %s", n, cf_wire_strerror(we));
		cr_expect_null(payload);
		cf__frame_reader_clear(&r);
		close(sv[0]);
	}
}

Test(cf_wire, read_some_garbage, .timeout = 10)
{
	static const struct {
		int byte, value;
		uint32_t length;
		enum cf_wire_error expect;
	} cases[] = {
		{ 0, 'X', 0, CF_WIRE_BAD_MAGIC },
		{ 4, 0, 0, CF_WIRE_BAD_VERSION },
		{ 5, 99, 0, CF_WIRE_BAD_TYPE },
		{ -1, 0, UINT32_MAX, CF_WIRE_TOO_LONG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char b[CF_WIRE_HEADER_SIZE];
		struct cf_frame_reader r = { 0 };
		struct cf_wire_header h;
		unsigned char *payload;
		enum cf_wire_error we;
		int sv[2];

		cf_wire_put_header(b, CF_WIRE_RESULT, 1, cases[i].length);
		if (cases[i].byte >= 0)
			b[cases[i].byte] = (unsigned char)cases[i].value;
		cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		cr_assert_eq(write(sv[1], b, sizeof(b)), (ssize_t)sizeof(b));
		cr_expect_eq(read_some(sv[0], &r, &h, &payload, &we), CF_FRAME_CORRUPT, "case %zu",
			     i);
		cr_expect_eq(we, cases[i].expect, "case %zu: %s", i, cf_wire_strerror(we));
		cr_expect_null(payload);
		cf__frame_reader_clear(&r);
		close(sv[0]);
		close(sv[1]);
	}
}

/* Frames go over pipes between a pool and its workers, and over sockets
 * (frame_io.h): the piecewise reader must work on an O_NONBLOCK pipe too. */
Test(cf_wire, read_some_over_a_pipe, .timeout = 10)
{
	struct cf_frame_reader r = { 0 };
	struct cf_wire_header h;
	unsigned char *payload;
	enum cf_wire_error we;
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	cr_expect_eq(read_some(fds[0], &r, &h, &payload, &we), CF_FRAME_AGAIN,
		     "an empty pipe (errno %s)", strerror(errno));
	cr_assert_eq(cf__frame_write(fds[1], CF_WIRE_RESULT, 4, "pipe", 4, NULL, 0), CF_FRAME_OK);
	cr_expect_eq(read_some(fds[0], &r, &h, &payload, &we), CF_FRAME_OK,
		     "a frame on a pipe (errno %s)", strerror(errno));
	if (h.length == 4 && payload)
		free(payload);
	close(fds[1]);
	cr_expect_eq(read_some(fds[0], &r, &h, &payload, &we), CF_FRAME_EOF);
	cf__frame_reader_clear(&r);
	close(fds[0]);
}

/* The process pool's result pipe is blocking, for a caller that waits on
 * it, and read by the manager, which must not wait: read_some never waits
 * on a blocking pipe, and with wait_for_start it does, for a frame written
 * later by another thread. */
Test(cf_wire, read_some_does_not_wait_on_a_blocking_pipe, .timeout = 10)
{
	struct cf_frame_reader r = { 0 };
	struct cf_wire_header h;
	unsigned char *payload;
	enum cf_wire_error we;
	unsigned char frame[CF_WIRE_HEADER_SIZE + 3];
	pthread_t writer;
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	cr_expect_eq(read_some(fds[0], &r, &h, &payload, &we), CF_FRAME_AGAIN,
		     "an empty blocking pipe (errno %s)", strerror(errno));
	/* Half a header: still nothing whole, and no wait for the rest. */
	cf_wire_put_header(frame, CF_WIRE_RESULT, 8, 3);
	memcpy(frame + CF_WIRE_HEADER_SIZE, "abc", 3);
	cr_assert_eq(write(fds[1], frame, 10), 10);
	cr_expect_eq(read_some(fds[0], &r, &h, &payload, &we), CF_FRAME_AGAIN);
	struct late_writer lw = { fds[1], frame + 10, sizeof(frame) - 10 };
	cr_assert_eq(pthread_create(&writer, NULL, write_late, &lw), 0);
	enum cf_frame_status st;
	while ((st = cf__frame_read_some(fds[0], &r, true, &h, &payload, &we)) == CF_FRAME_AGAIN)
		;
	cr_expect_eq(st, CF_FRAME_OK);
	cr_expect_eq(h.id, 8);
	cr_expect(h.length == 3 && payload && !memcmp(payload, "abc", 3));
	free(payload);
	pthread_join(writer, NULL);
	cf__frame_reader_clear(&r);
	close(fds[0]);
	close(fds[1]);
}

static void *close_late(void *arg)
{
	usleep(200 * 1000);
	close(*(int *)arg);
	return NULL;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* cf__frame_write_pipe on a full O_NONBLOCK pipe waits for room, and
 * gives up with EPIPE when the descriptor it watches hangs up: the pool
 * watches a worker's result pipe while it writes to its task pipe. */
Test(cf_wire, write_pipe_gives_up_on_a_hang_up, .timeout = 10)
{
	int tasks[2], results[2];
	size_t big = 1u << 20;
	unsigned char *blob = calloc(1, big);

	cr_assert_not_null(blob);
	cr_assert_eq(pipe(tasks), 0);
	cr_assert_eq(pipe(results), 0);
	cr_assert_eq(fcntl(tasks[1], F_SETFL, O_NONBLOCK), 0);
	/* Nobody reads tasks[0]; the "worker" hangs up in 0.2 s. */
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, close_late, &results[1]), 0);
	double t0 = mono_s();
	enum cf_frame_status st = cf__frame_write_pipe(tasks[1], results[0], CF_WIRE_TASK, 1,
							blob, big, NULL, 0);
	int err = errno;
	cr_expect_eq(st, CF_FRAME_IO_ERROR);
	cr_expect_eq(err, EPIPE, "errno %s", strerror(err));
	cr_expect_geq(mono_s() - t0, 0.15, "it gave up before the hang-up");
	pthread_join(t, NULL);
	/* And a frame that fits goes whole, in one call's worth. */
	int more[2];
	cr_assert_eq(pipe(more), 0);
	cr_assert_eq(fcntl(more[1], F_SETFL, O_NONBLOCK), 0);
	cr_expect_eq(cf__frame_write_pipe(more[1], results[0], CF_WIRE_TASK, 2, "ab", 2, "c", 1),
		     CF_FRAME_OK);
	unsigned char got[CF_WIRE_HEADER_SIZE + 3];
	cr_expect_eq(read(more[0], got, sizeof(got)), (ssize_t)sizeof(got));
	cr_expect_eq(memcmp(got + CF_WIRE_HEADER_SIZE, "abc", 3), 0);
	for (int i = 0; i < 2; i++) {
		close(tasks[i]);
		close(more[i]);
	}
	close(results[0]);
	free(blob);
}

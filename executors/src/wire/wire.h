/* The wire format between a process pool and its workers, apart from any
 * transport, so that a later distributed backend reuses it over TCP.
 *
 * A frame is a 24-byte header and a payload:
 *
 *   offset size  field
 *   0      4     magic "CFW1"
 *   4      1     version (1)
 *   5      1     type (enum cf_wire_type)
 *   6      2     reserved, zero
 *   8      8     id: the task's number (0 for frames about the worker)
 *   16     4     payload length in bytes (at most CF_WIRE_MAX_PAYLOAD)
 *   20     4     reserved, zero
 *
 * All integers are little-endian.  Payloads by type:
 *
 *   TASK, INIT   function reference, then the argument bytes
 *   RESULT       the result bytes
 *   ERROR,       i32 code, then the message bytes (no NUL, < 256)
 *   INIT_FAILED
 *   HELLO        u32 pid of the worker
 *   EXIT         empty
 *
 * A function reference is how a function is named across processes that
 * run the same program but map it at different addresses: u16 length and
 * the name of the loaded object that holds it ("" for the main program),
 * then the u64 offset of the function from that object's load address.
 *
 * Decoding never trusts the bytes: a bad magic, version, type, length or a
 * payload shorter than its fields is reported, never read past.
 */
#ifndef CF_WIRE_H
#define CF_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "cf.h"

#define CF_WIRE_HEADER_SIZE 24
#define CF_WIRE_MAX_PAYLOAD (1u << 30)  /* 1 GiB */
#define CF_WIRE_MAX_NAME 4096

enum cf_wire_type {
	CF_WIRE_TASK = 1,
	CF_WIRE_RESULT,
	CF_WIRE_ERROR,
	CF_WIRE_INIT,
	CF_WIRE_INIT_FAILED,
	CF_WIRE_HELLO,
	CF_WIRE_EXIT,
	CF_WIRE_TYPE_MAX = CF_WIRE_EXIT,
};

struct cf_wire_header {
	uint8_t type;
	uint64_t id;
	uint32_t length;
};

enum cf_wire_error {
	CF_WIRE_OK = 0,
	CF_WIRE_BAD_MAGIC,
	CF_WIRE_BAD_VERSION,
	CF_WIRE_BAD_TYPE,
	CF_WIRE_TOO_LONG,
	CF_WIRE_TRUNCATED,      /* payload shorter than its own fields say */
	CF_WIRE_BAD_FIELD,      /* e.g. a name with a NUL, a message too long */
};

const char *cf_wire_strerror(enum cf_wire_error e);

struct cf_fnref {
	const char *module;     /* not NUL-terminated when decoded: use module_len */
	size_t module_len;
	uint64_t offset;
};

void cf_wire_put_header(unsigned char out[CF_WIRE_HEADER_SIZE], uint8_t type,
			uint64_t id, uint32_t length);
enum cf_wire_error cf_wire_get_header(const unsigned char in[CF_WIRE_HEADER_SIZE],
				      struct cf_wire_header *h);

/* Bytes needed for a function reference. */
size_t cf_wire_fnref_size(const struct cf_fnref *ref);
/* Writes a function reference at out (cf_wire_fnref_size bytes). */
void cf_wire_put_fnref(unsigned char *out, const struct cf_fnref *ref);
/* Reads a function reference at the start of a TASK or INIT payload;
 * *rest and *rest_len get the argument bytes after it. */
enum cf_wire_error cf_wire_get_fnref(const unsigned char *payload, size_t len,
				     struct cf_fnref *ref, const unsigned char **rest,
				     size_t *rest_len);

/* ERROR and INIT_FAILED payloads. */
size_t cf_wire_error_size(const cf_error *error);
void cf_wire_put_error(unsigned char *out, const cf_error *error);
enum cf_wire_error cf_wire_get_error(const unsigned char *payload, size_t len, cf_error *error);

/* ---- function references (fnref.c) ---- */

/* Names fn by its loaded object and offset.  0, or -1 if fn lies in no
 * loaded object (a JIT, a bad pointer). */
int cf__fnref_from_fn(void (*fn)(void), struct cf_fnref *ref);
/* Finds the function a reference names in this process: NULL unless the
 * object is loaded here and the offset falls in one of its executable
 * segments. */
void (*cf__fnref_to_fn(const struct cf_fnref *ref))(void);
/* Splits a TASK or INIT payload into the function it names here (NULL
 * when none) and its argument, which is moved to the start of the
 * buffer: malloc aligned that for any type, as cf_task_arg promises. */
void (*cf__fnref_take(unsigned char *payload, size_t len, size_t *arg_len))(void);

#endif

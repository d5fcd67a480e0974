/* Encoding and decoding of the frames described in wire.h: bytes in, bytes
 * out, no I/O. */
#include "wire/wire.h"

#include "wire/le.h"

#include <string.h>

static const unsigned char magic[4] = { 'C', 'F', 'W', '1' };
#define WIRE_VERSION 1

const char *cf_wire_strerror(enum cf_wire_error e)
{
	switch (e) {
	case CF_WIRE_OK: return "ok";
	case CF_WIRE_BAD_MAGIC: return "bad magic (not a cf frame)";
	case CF_WIRE_BAD_VERSION: return "unknown wire version";
	case CF_WIRE_BAD_TYPE: return "unknown frame type";
	case CF_WIRE_TOO_LONG: return "payload length over the limit";
	case CF_WIRE_TRUNCATED: return "payload shorter than its fields";
	case CF_WIRE_BAD_FIELD: return "malformed field";
	}
	return "unknown wire error";
}

void cf_wire_put_header(unsigned char out[CF_WIRE_HEADER_SIZE], uint8_t type,
			uint64_t id, uint32_t length)
{
	memcpy(out, magic, 4);
	out[4] = WIRE_VERSION;
	out[5] = type;
	cf__le_put_u16(out + 6, 0);
	cf__le_put_u64(out + 8, id);
	cf__le_put_u32(out + 16, length);
	cf__le_put_u32(out + 20, 0);
}

enum cf_wire_error cf_wire_get_header(const unsigned char in[CF_WIRE_HEADER_SIZE],
				      struct cf_wire_header *h)
{
	if (memcmp(in, magic, 4) != 0)
		return CF_WIRE_BAD_MAGIC;
	if (in[4] != WIRE_VERSION)
		return CF_WIRE_BAD_VERSION;
	if (in[5] < CF_WIRE_TASK || in[5] > CF_WIRE_TYPE_MAX)
		return CF_WIRE_BAD_TYPE;
	if (cf__le_get_u16(in + 6) != 0 || cf__le_get_u32(in + 20) != 0)
		return CF_WIRE_BAD_FIELD;       /* reserved: a newer version? */
	h->type = in[5];
	h->id = cf__le_get_u64(in + 8);
	h->length = cf__le_get_u32(in + 16);
	if (h->length > CF_WIRE_MAX_PAYLOAD)
		return CF_WIRE_TOO_LONG;
	return CF_WIRE_OK;
}

size_t cf_wire_fnref_size(const struct cf_fnref *ref)
{
	return 2 + ref->module_len + 8;
}

void cf_wire_put_fnref(unsigned char *out, const struct cf_fnref *ref)
{
	cf__le_put_u16(out, (uint16_t)ref->module_len);
	memcpy(out + 2, ref->module, ref->module_len);
	cf__le_put_u64(out + 2 + ref->module_len, ref->offset);
}

enum cf_wire_error cf_wire_get_fnref(const unsigned char *payload, size_t len,
				     struct cf_fnref *ref, const unsigned char **rest,
				     size_t *rest_len)
{
	size_t name_len;

	if (len < 2)
		return CF_WIRE_TRUNCATED;
	name_len = cf__le_get_u16(payload);
	if (name_len > CF_WIRE_MAX_NAME)
		return CF_WIRE_BAD_FIELD;
	if (len < 2 + name_len + 8)
		return CF_WIRE_TRUNCATED;
	if (memchr(payload + 2, '\0', name_len))
		return CF_WIRE_BAD_FIELD;
	ref->module = (const char *)payload + 2;
	ref->module_len = name_len;
	ref->offset = cf__le_get_u64(payload + 2 + name_len);
	*rest = payload + 2 + name_len + 8;
	*rest_len = len - (2 + name_len + 8);
	return CF_WIRE_OK;
}

size_t cf_wire_error_size(const cf_error *error)
{
	return 4 + strnlen(error->message, sizeof(error->message) - 1);
}

void cf_wire_put_error(unsigned char *out, const cf_error *error)
{
	size_t n = strnlen(error->message, sizeof(error->message) - 1);

	cf__le_put_u32(out, (uint32_t)error->code);
	memcpy(out + 4, error->message, n);
}

enum cf_wire_error cf_wire_get_error(const unsigned char *payload, size_t len, cf_error *error)
{
	if (len < 4)
		return CF_WIRE_TRUNCATED;
	if (len - 4 > sizeof(error->message) - 1 || memchr(payload + 4, '\0', len - 4))
		return CF_WIRE_BAD_FIELD;
	error->code = (int)cf__le_get_u32(payload);
	memcpy(error->message, payload + 4, len - 4);
	error->message[len - 4] = '\0';
	return CF_WIRE_OK;
}

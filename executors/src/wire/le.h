/* Fixed-width little-endian integers at any address, whatever the
 * machine's own byte order: how the wire's frames (wire.h) and a map's
 * remote chunks (map/chunk.h) write their numbers.  Byte by byte, so that
 * no address needs to be aligned, and spelled out byte by byte rather than
 * in a loop: compilers recognise this form and make each one load or store
 * (with a byte swap on a big-endian machine), which matters to a map that
 * reads a record header per item. */
#ifndef CF_WIRE_LE_H
#define CF_WIRE_LE_H

#include <stdint.h>

static inline void cf__le_put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void cf__le_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void cf__le_put_u64(unsigned char *p, uint64_t v)
{
	cf__le_put_u32(p, (uint32_t)v);
	cf__le_put_u32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t cf__le_get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t cf__le_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t cf__le_get_u64(const unsigned char *p)
{
	return (uint64_t)cf__le_get_u32(p) | (uint64_t)cf__le_get_u32(p + 4) << 32;
}

#endif

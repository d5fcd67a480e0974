/* Naming a function across processes.  A worker process runs the same
 * program but, being a fresh exec, maps it at other addresses (ASLR), so a
 * function pointer means nothing there.  The loaded object that holds the
 * function and the offset from its load address do. */
#include "wire/wire.h"

#include "platform/platform.h"

#include <stdint.h>
#include <string.h>

int cf__fnref_from_fn(void (*fn)(void), struct cf_fnref *ref)
{
	const char *name;
	uint64_t offset;

	if (!cf__object_of((uintptr_t)fn, &name, &offset))
		return -1;
	ref->module = name;
	ref->module_len = strlen(name);
	ref->offset = offset;
	return ref->module_len <= CF_WIRE_MAX_NAME ? 0 : -1;
}

void (*cf__fnref_to_fn(const struct cf_fnref *ref))(void)
{
	return (void (*)(void))cf__object_address(ref->module, ref->module_len, ref->offset);
}

void (*cf__fnref_take(unsigned char *payload, size_t len, size_t *arg_len))(void)
{
	struct cf_fnref ref;
	const unsigned char *arg;
	void (*fn)(void);

	if (cf_wire_get_fnref(payload, len, &ref, &arg, arg_len) != CF_WIRE_OK)
		return NULL;
	fn = cf__fnref_to_fn(&ref);
	memmove(payload, arg, *arg_len);
	return fn;
}

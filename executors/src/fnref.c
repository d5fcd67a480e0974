/* Naming a function across processes.  A worker process runs the same
 * program but, being a fresh exec, maps it at other addresses (ASLR), so a
 * function pointer means nothing there.  The loaded object that holds the
 * function and the offset from its load address do. */
#define _GNU_SOURCE
#include "wire.h"

#include <link.h>
#include <stdint.h>
#include <string.h>

struct lookup {
	uintptr_t addr;
	struct cf_fnref *ref;
	bool found;
	bool main_seen;
};

static bool in_exec_segment(const struct dl_phdr_info *info, uintptr_t addr)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    addr >= start && addr < start + ph->p_memsz)
			return true;
	}
	return false;
}

/* The first object dl_iterate_phdr reports is the main program, whose
 * name is "" (its path would differ between a program and its copy). */
static int find_by_addr(struct dl_phdr_info *info, size_t size, void *data)
{
	struct lookup *l = data;
	bool is_main = !l->main_seen;

	(void)size;
	l->main_seen = true;
	if (!in_exec_segment(info, l->addr))
		return 0;
	l->ref->module = is_main ? "" : info->dlpi_name;
	l->ref->module_len = strlen(l->ref->module);
	l->ref->offset = l->addr - info->dlpi_addr;
	l->found = true;
	return 1;
}

int cf__fnref_from_fn(void (*fn)(void), struct cf_fnref *ref)
{
	struct lookup l = { .addr = (uintptr_t)fn, .ref = ref };

	dl_iterate_phdr(find_by_addr, &l);
	return l.found && ref->module_len <= CF_WIRE_MAX_NAME ? 0 : -1;
}

struct resolve {
	const struct cf_fnref *ref;
	uintptr_t addr;
	bool main_seen;
};

static int find_by_name(struct dl_phdr_info *info, size_t size, void *data)
{
	struct resolve *r = data;
	bool is_main = !r->main_seen;
	const char *name = is_main ? "" : info->dlpi_name;

	(void)size;
	r->main_seen = true;
	if (strlen(name) != r->ref->module_len ||
	    memcmp(name, r->ref->module, r->ref->module_len) != 0)
		return 0;
	uintptr_t addr = info->dlpi_addr + (uintptr_t)r->ref->offset;
	if (in_exec_segment(info, addr))
		r->addr = addr;
	return 1;
}

void (*cf__fnref_to_fn(const struct cf_fnref *ref))(void)
{
	struct resolve r = { .ref = ref };

	dl_iterate_phdr(find_by_name, &r);
	return (void (*)(void))r.addr;
}

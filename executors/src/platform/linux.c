/* The platform layer for Linux with glibc (platform/platform.h). */
#define _GNU_SOURCE
#include "platform/platform.h"

#include <errno.h>
#include <link.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <unistd.h>

int cf__cpu_count(void)
{
	cpu_set_t set;

	/* Respect an affinity mask (taskset, containers) like os.process_cpu_count. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

void cf__thread_set_name(const char *name)
{
	char truncated[CF_THREAD_NAME_MAX + 1];

	snprintf(truncated, sizeof(truncated), "%s", name);
	pthread_setname_np(pthread_self(), truncated);
}

int cf__mutex_init_adaptive(pthread_mutex_t *lock)
{
	pthread_mutexattr_t attr;
	int rc = pthread_mutexattr_init(&attr);

	if (rc != 0)
		return rc;
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	rc = pthread_mutex_init(lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return rc;
}

/* ---- loaded objects, for naming a function across processes ---- */

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

struct object_search {
	uintptr_t addr;                 /* by address: in */
	const char *name;               /* by name: in; by address: out */
	size_t name_len;
	uint64_t offset;                /* by name: in; by address: out */
	bool found;
	bool main_seen;
};

/* The first object dl_iterate_phdr reports is the main program, whose
 * name is "". */
static const char *object_name(struct object_search *s, const struct dl_phdr_info *info)
{
	bool is_main = !s->main_seen;

	s->main_seen = true;
	return is_main ? "" : info->dlpi_name;
}

static int find_by_address(struct dl_phdr_info *info, size_t size, void *data)
{
	struct object_search *s = data;
	const char *name = object_name(s, info);

	(void)size;
	if (!in_exec_segment(info, s->addr))
		return 0;
	s->name = name;
	s->offset = s->addr - info->dlpi_addr;
	s->found = true;
	return 1;
}

bool cf__object_of(uintptr_t addr, const char **name, uint64_t *offset)
{
	struct object_search s = { .addr = addr };

	dl_iterate_phdr(find_by_address, &s);
	*name = s.name;
	*offset = s.offset;
	return s.found;
}

static int find_by_name(struct dl_phdr_info *info, size_t size, void *data)
{
	struct object_search *s = data;
	const char *name = object_name(s, info);

	(void)size;
	if (strlen(name) != s->name_len || memcmp(name, s->name, s->name_len) != 0)
		return 0;
	uintptr_t addr = info->dlpi_addr + (uintptr_t)s->offset;
	if (in_exec_segment(info, addr)) {
		s->addr = addr;
		s->found = true;
	}
	return 1;
}

uintptr_t cf__object_address(const char *name, size_t name_len, uint64_t offset)
{
	struct object_search s = { .name = name, .name_len = name_len, .offset = offset };

	dl_iterate_phdr(find_by_name, &s);
	return s.found ? s.addr : 0;
}

/* ---- descriptors and processes ---- */

/* RWF_NOWAIT says "do not wait" per call, so one pipe can have a reader
 * that wants to wait on it (a borrower, process/direct_read.c) beside one
 * that must not (the manager).  A kernel without it for pipes gets a poll
 * first. */
ssize_t cf__read_pipe_nowait(int fd, void *buf, size_t len)
{
	struct iovec iov = { buf, len };
	ssize_t n = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);

	if (n >= 0 || (errno != EOPNOTSUPP && errno != EINVAL))
		return n;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, 0) == 0) {
		errno = EAGAIN;
		return -1;
	}
	return read(fd, buf, len);
}

void cf__die_with_parent(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

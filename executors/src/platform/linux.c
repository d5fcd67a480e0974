/* The platform layer for Linux with glibc (platform/platform.h). */
#define _GNU_SOURCE
#include "platform/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
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

int cf__pipe_cloexec(int fds[2])
{
	return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno;
}

int cf__pipe_capacity(int fd)
{
	return fcntl(fd, F_GETPIPE_SZ);
}

int cf__spawn_close_from(posix_spawn_file_actions_t *actions, int fd)
{
	return posix_spawn_file_actions_addclosefrom_np(actions, fd);
}

/* ---- the running program's file ---- */

/* readlink, not "/proc/self/exe" itself: under valgrind the latter is
 * valgrind, the former the program. */
ssize_t cf__exe_path(char *buf, size_t size)
{
	ssize_t len = size > 0 ? readlink("/proc/self/exe", buf, size - 1) : -1;

	if (len < 0)
		return -1;
	buf[len] = '\0';
	return len;
}

int cf__exe_open(void)
{
	return open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
}

/* The child's own descriptors differ from its parent's by the time it
 * runs the path, so the path names the parent's by its pid. */
void cf__fd_path(int fd, char *buf, size_t size)
{
	int len = snprintf(buf, size, "/proc/%ld/fd/%d", (long)getpid(), fd);

	if (len < 0 || (size_t)len >= size)
		buf[0] = '\0';
}

/* Whether the main program has an ELF interpreter (is dynamic). */
static int has_interp(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_INTERP)
			*(bool *)data = true;
	return 1;       /* the main program comes first: stop there */
}

/* A dynamic program started through its loader has the loader as
 * /proc/self/exe and no AT_BASE, which the kernel sets only when it loads
 * an interpreter itself. */
bool cf__started_by_loader(void)
{
	bool dynamic = false;

	dl_iterate_phdr(has_interp, &dynamic);
	return dynamic && getauxval(AT_BASE) == 0;
}

/* ---- pollers and wake-ups: epoll and eventfd ---- */

int cf__poller_open(struct cf_poller *poller)
{
	poller->fd = epoll_create1(EPOLL_CLOEXEC);
	return poller->fd >= 0 ? 0 : errno;
}

/* Level-triggered: a descriptor with bytes left after a read is reported
 * again, so a reader may take one frame at a time. */
int cf__poller_add(struct cf_poller *poller, int fd, void *data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = data };

	return epoll_ctl(poller->fd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
}

int cf__poller_remove(struct cf_poller *poller, int fd)
{
	return epoll_ctl(poller->fd, EPOLL_CTL_DEL, fd, NULL) == 0 ? 0 : errno;
}

int cf__poller_wait(struct cf_poller *poller, void **ready, int max, int timeout_ms)
{
	struct epoll_event events[CF_POLLER_MAX_EVENTS];

	if (max > CF_POLLER_MAX_EVENTS)
		max = CF_POLLER_MAX_EVENTS;
	int n = epoll_wait(poller->fd, events, max, timeout_ms);
	for (int i = 0; i < n; i++)
		ready[i] = events[i].data.ptr;
	return n;
}

void cf__poller_close(struct cf_poller *poller)
{
	if (poller->fd >= 0)
		close(poller->fd);
	poller->fd = -1;
}

int cf__wakeup_open(struct cf_wakeup *wakeup)
{
	wakeup->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return wakeup->fd >= 0 ? 0 : errno;
}

/* EAGAIN: the counter is full, so a wake-up is pending already. */
int cf__wakeup_signal(struct cf_wakeup *wakeup)
{
	uint64_t one = 1;

	for (;;) {
		if (write(wakeup->fd, &one, sizeof(one)) >= 0 || errno == EAGAIN)
			return 0;
		if (errno != EINTR)
			return errno;
	}
}

/* EAGAIN: nothing was signalled (another drain took it). */
int cf__wakeup_drain(struct cf_wakeup *wakeup)
{
	uint64_t count;

	for (;;) {
		if (read(wakeup->fd, &count, sizeof(count)) >= 0 || errno == EAGAIN)
			return 0;
		if (errno != EINTR)
			return errno;
	}
}

void cf__wakeup_close(struct cf_wakeup *wakeup)
{
	if (wakeup->fd >= 0)
		close(wakeup->fd);
	wakeup->fd = -1;
}

/* ---- who a remote worker is (the MPI backend) ---- */

/* The main program's GNU build note: in the first object
 * dl_iterate_phdr reports, a PT_NOTE segment holding a note of type
 * NT_GNU_BUILD_ID named "GNU". */
struct build_id_search {
	char *hex;
	size_t size;
	bool found;
};

static void note_to_hex(struct build_id_search *s, const unsigned char *desc, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;

	for (size_t i = 0; i < len && n + 2 < s->size; i++) {
		s->hex[n++] = digits[desc[i] >> 4];
		s->hex[n++] = digits[desc[i] & 15];
	}
	s->hex[n] = '\0';
	s->found = n > 0;
}

static void scan_notes(struct build_id_search *s, const unsigned char *p, size_t len)
{
	while (len >= sizeof(ElfW(Nhdr)) && !s->found) {
		const ElfW(Nhdr) *nh = (const void *)p;
		size_t name_len = (nh->n_namesz + 3u) & ~3u;
		size_t desc_len = (nh->n_descsz + 3u) & ~3u;
		size_t whole = sizeof(*nh) + name_len + desc_len;

		if (whole > len)
			return;
		if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
		    memcmp(p + sizeof(*nh), "GNU", 4) == 0)
			note_to_hex(s, p + sizeof(*nh) + name_len, nh->n_descsz);
		p += whole;
		len -= whole;
	}
}

static int find_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
	struct build_id_search *s = data;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum && !s->found; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_NOTE)
			scan_notes(s, (const unsigned char *)(info->dlpi_addr + ph->p_vaddr),
				   ph->p_memsz);
	}
	return 1;       /* the main program only */
}

bool cf__build_id(char *hex, size_t size)
{
	struct build_id_search s = { .hex = hex, .size = size };

	if (size == 0)
		return false;
	hex[0] = '\0';
	dl_iterate_phdr(find_build_id, &s);
	return s.found;
}

bool cf__pid_gone(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The state follows the command name, which may hold spaces and
	 * parentheses: it is after the last ')'. */
	const char *close = strrchr(buf, ')');
	return close && (close[2] == 'Z' || close[2] == 'X');
}

void cf__machine_id(char *buf, size_t size)
{
	char boot[64] = "";
	struct stat ns;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (f) {
		if (!fgets(boot, sizeof(boot), f))
			boot[0] = '\0';
		fclose(f);
		boot[strcspn(boot, "\n")] = '\0';
	}
	if (stat("/proc/self/ns/pid", &ns) != 0)
		ns.st_ino = 0;
	snprintf(buf, size, "%s:%lu", boot, (unsigned long)ns.st_ino);
}

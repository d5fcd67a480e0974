/* What parlab's library needs from the operating system beyond C11 and
 * POSIX.1-2008: one header, implemented for Linux with glibc in linux.c
 * (the only platform parlab runs on).  Every other library file compiles
 * with -std=c11 -D_POSIX_C_SOURCE=200809L and no system-specific header.
 */
#ifndef CF_PLATFORM_H
#define CF_PLATFORM_H

#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* CPUs this process may run on (its affinity mask), at least 1. */
int cf__cpu_count(void);

/* Names the calling thread for debuggers and top, in at most
 * CF_THREAD_NAME_MAX bytes; best effort. */
#define CF_THREAD_NAME_MAX 15
void cf__thread_set_name(const char *name);

/* A mutex that spins a little before it sleeps, where the system has
 * one (a queue's lock is held for a few instructions); 0 or an errno. */
int cf__mutex_init_adaptive(pthread_mutex_t *lock);

/* The loaded object holding code address addr: its name ("" for the main
 * program, whose path differs between a program and its copy) and addr's
 * offset from its load address.  The name stays valid while the object
 * is loaded.  False if no loaded object's code holds addr. */
bool cf__object_of(uintptr_t addr, const char **name, uint64_t *offset);
/* The inverse in this process: the code address at offset in the object
 * named name (of name_len bytes), or 0 if there is none. */
uintptr_t cf__object_address(const char *name, size_t name_len, uint64_t offset);

/* One read from a pipe that does not wait, whether or not the pipe is
 * O_NONBLOCK: bytes read, 0 at EOF, -1 with errno EAGAIN when none are
 * there now, or -1 on error. */
ssize_t cf__read_pipe_nowait(int fd, void *buf, size_t len);

/* Asks the kernel to kill this process when its parent dies (a worker
 * must not outlive the program it serves); best effort. */
void cf__die_with_parent(void);

/* A pipe whose two ends are close-on-exec: 0 or an errno. */
int cf__pipe_cloexec(int fds[2]);
/* How many bytes the pipe fd holds before a write waits, or -1 (errno)
 * when the system cannot say. */
int cf__pipe_capacity(int fd);

/* Adds "close every descriptor from fd up" to a spawn's file actions:
 * 0 or an errno. */
int cf__spawn_close_from(posix_spawn_file_actions_t *actions, int fd);

/* ---- the running program's file, to start it again ---- */

/* The path of the running program's file, NUL-terminated in buf: its
 * length, or -1 (errno). */
ssize_t cf__exe_path(char *buf, size_t size);
/* Opens the running program's file read-only, close-on-exec, even when
 * its path no longer names it: a descriptor, or -1 (errno). */
int cf__exe_open(void);
/* A path that opens what this process has open as fd, in another
 * process too (a child started from it): "" when it does not fit. */
void cf__fd_path(int fd, char *buf, size_t size);
/* Whether this program was started by running the dynamic loader on it
 * ("ld.so PROGRAM"): the program's file is then the loader, and starting
 * that file again would start the loader alone. */
bool cf__started_by_loader(void);

/* ---- who a remote worker is (the MPI backend) ---- */

/* The running program's GNU build ID as hex, NUL-terminated in hex
 * (truncated to size); false when the program has none. */
bool cf__build_id(char *hex, size_t size);
/* Whether process pid (on this host) is gone: no such process, or a
 * zombie nobody has reaped yet.  False when it cannot be told. */
bool cf__pid_gone(pid_t pid);
/* Where this process's pids mean something: the boot's ID and the pid
 * namespace, "BOOT_ID:INODE".  Two processes with the same one can see
 * each other's pids; a host name says less (two machines may share one). */
void cf__machine_id(char *buf, size_t size);

/* ---- waiting for several descriptors at once ---- */

/* A set of descriptors to wait on, each with a pointer of the caller's
 * that a wait returns when it is readable (or hung up, or in error).  A
 * descriptor may be removed and added again while another thread waits
 * on the set. */
struct cf_poller {
	int fd;
};

/* More ready descriptors than this are returned by the next wait. */
#define CF_POLLER_MAX_EVENTS 16

/* Each returns 0 or an errno.  Closing an fd of -1 (never opened, or
 * closed) does nothing. */
int cf__poller_open(struct cf_poller *poller);
int cf__poller_add(struct cf_poller *poller, int fd, void *data);
int cf__poller_remove(struct cf_poller *poller, int fd);
/* Waits up to timeout_ms (-1: no bound) for readable descriptors and
 * puts the pointers of at most max (<= CF_POLLER_MAX_EVENTS) of them in
 * ready: how many, 0 on timeout, or -1 (errno). */
int cf__poller_wait(struct cf_poller *poller, void **ready, int max, int timeout_ms);
void cf__poller_close(struct cf_poller *poller);

/* A wake-up one thread sends another that waits for it in a poller: a
 * descriptor that is readable from the first signal until drained.
 * Signals sent before a drain count as one. */
struct cf_wakeup {
	int fd;
};

/* 0 or an errno; as with a poller, closing an fd of -1 does nothing. */
int cf__wakeup_open(struct cf_wakeup *wakeup);
static inline int cf__wakeup_fd(const struct cf_wakeup *wakeup)
{
	return wakeup->fd;
}
/* 0 or an errno (only a descriptor that is not a wake-up's fails). */
int cf__wakeup_signal(struct cf_wakeup *wakeup);
/* Takes what was signalled, if anything: 0 or an errno. */
int cf__wakeup_drain(struct cf_wakeup *wakeup);
void cf__wakeup_close(struct cf_wakeup *wakeup);

#endif

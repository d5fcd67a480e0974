/* What parlab's library needs from the operating system beyond C11 and
 * POSIX.1-2008: one header, implemented for Linux with glibc in linux.c
 * (the only platform parlab runs on).  Every other library file compiles
 * with -std=c11 -D_POSIX_C_SOURCE=200809L and no system-specific header.
 */
#ifndef CF_PLATFORM_H
#define CF_PLATFORM_H

#include <pthread.h>
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

#endif

#define _GNU_SOURCE
#include "primitives.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "micro_util.h"
#include "placement.h"
#include "stats.h"

/* ---- placement of the two ends ---- */

/* Starts the partner of a two-thread ping-pong on pl's far CPU (the
 * attribute pins it before it runs a single instruction) and moves the
 * caller to the near one; both masks are read back.  pl NULL or unpinned:
 * wherever the scheduler likes. */
static void start_partner(pthread_t *t, void *(*fn)(void *), void *arg,
			  const struct micro_place *pl)
{
	pthread_attr_t attr;
	cpu_set_t set;

	pthread_attr_init(&attr);
	if (micro_pinned(pl)) {
		CPU_ZERO(&set);
		CPU_SET(pl->there, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		micro_pin_self(pl->here);
	}
	if (pthread_create(t, &attr, fn, arg) != 0)
		micro_fail("pthread_create failed");
	pthread_attr_destroy(&attr);
	if (micro_pinned(pl))
		micro_expect_thread(*t, pl->there, "the ping-pong partner");
}

static void end_partner(pthread_t t, const struct micro_place *pl)
{
	pthread_join(t, NULL);
	if (micro_pinned(pl))
		micro_unpin_self();
}

/* ---- condvar ---- */

struct pingpong {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int turn;               /* 0: main's turn, 1: partner's, -1: stop */
};

static void *condvar_partner(void *arg)
{
	struct pingpong *pp = arg;

	pthread_mutex_lock(&pp->lock);
	for (;;) {
		while (pp->turn == 0)
			pthread_cond_wait(&pp->cond, &pp->lock);
		if (pp->turn < 0)
			break;
		pp->turn = 0;
		pthread_cond_signal(&pp->cond);
	}
	pthread_mutex_unlock(&pp->lock);
	return NULL;
}

double floor_condvar_round_trip_ns(long iterations, const struct micro_place *pl)
{
	struct pingpong pp = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
	pthread_t partner;

	start_partner(&partner, condvar_partner, &pp, pl);
	double start = pl_now();
	pthread_mutex_lock(&pp.lock);
	for (long i = 0; i < iterations; i++) {
		pp.turn = 1;
		pthread_cond_signal(&pp.cond);
		while (pp.turn == 1)
			pthread_cond_wait(&pp.cond, &pp.lock);
	}
	double elapsed = pl_now() - start;
	pp.turn = -1;
	pthread_cond_signal(&pp.cond);
	pthread_mutex_unlock(&pp.lock);
	end_partner(partner, pl);
	return elapsed * 1e9 / iterations;
}

/* ---- futex ---- */

static void futex_wait(atomic_int *word, int value)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void futex_wake(atomic_int *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

struct futex_pp {
	atomic_int turn;        /* 0 main, 1 partner, -1 stop */
};

static void *futex_partner(void *arg)
{
	struct futex_pp *pp = arg;
	int t;

	while ((t = atomic_load(&pp->turn)) >= 0) {
		if (t == 0) {
			futex_wait(&pp->turn, 0);
			continue;
		}
		atomic_store(&pp->turn, 0);
		futex_wake(&pp->turn);
	}
	return NULL;
}

double floor_futex_round_trip_ns(long iterations, const struct micro_place *pl)
{
	struct futex_pp pp = { 0 };
	pthread_t partner;

	start_partner(&partner, futex_partner, &pp, pl);
	double start = pl_now();
	for (long i = 0; i < iterations; i++) {
		atomic_store(&pp.turn, 1);
		futex_wake(&pp.turn);
		while (atomic_load(&pp.turn) == 1)
			futex_wait(&pp.turn, 1);
	}
	double elapsed = pl_now() - start;
	atomic_store(&pp.turn, -1);
	futex_wake(&pp.turn);
	end_partner(partner, pl);
	return elapsed * 1e9 / iterations;
}

/* ---- cache line ---- */

struct spin_pp {
	_Alignas(64) atomic_long ball;  /* odd: partner's turn; < 0: stop */
};

/* Polls before a waiting end yields its CPU.  On one core the other end
 * cannot run while this one spins, so without the yield every round trip
 * lasted two scheduler time slices (milliseconds).  Across cores the ball
 * comes back long before, unless the other end has lost its CPU to
 * another task, when yielding is what a spinner should do anyway: the
 * cross-core figure stays a cache line's round trip. */
#define SPIN_POLLS 1024

static void spin_wait(unsigned *polls)
{
	if (++*polls > SPIN_POLLS)
		sched_yield();
}

static void *spin_partner(void *arg)
{
	struct spin_pp *pp = arg;
	unsigned polls = 0;
	long b;

	while ((b = atomic_load_explicit(&pp->ball, memory_order_acquire)) >= 0) {
		if (b & 1) {
			atomic_store_explicit(&pp->ball, b + 1, memory_order_release);
			polls = 0;
		} else {
			spin_wait(&polls);
		}
	}
	return NULL;
}

double floor_cache_line_round_trip_ns(long iterations, const struct micro_place *pl)
{
	struct spin_pp pp = { 0 };
	pthread_t partner;

	start_partner(&partner, spin_partner, &pp, pl);
	double start = pl_now();
	for (long i = 0; i < iterations; i++) {
		long b = atomic_load(&pp.ball);
		unsigned polls = 0;

		atomic_store_explicit(&pp.ball, b + 1, memory_order_release);
		while (atomic_load_explicit(&pp.ball, memory_order_acquire) == b + 1)
			spin_wait(&polls);
	}
	double elapsed = pl_now() - start;
	atomic_store(&pp.ball, -1);
	end_partner(partner, pl);
	return elapsed * 1e9 / iterations;
}

/* ---- pipe ---- */

__attribute__((noinline, aligned(64))) static void pipe_echo(int down, int up)
{
	char byte;

	while (read(down, &byte, 1) == 1 && write(up, &byte, 1) == 1)
		;
}

/* The child's end: pinned to cpu (-1: not), it echoes every byte until
 * the pipe closes. */
static void pipe_child(int down, int up, int cpu)
{
	cpu_set_t set;

	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			_exit(1);
	}
	pipe_echo(down, up);
	_exit(0);
}

/* Out of line and on a 64-byte boundary, like the spin loop (spin.c):
 * the floor's code then sits the same way in every build of this
 * program, and a change elsewhere in it cannot move the floor. */
__attribute__((noinline, aligned(64))) static void pipe_trip(int down, int up)
{
	char byte = 0;

	if (write(down, &byte, 1) != 1 || read(up, &byte, 1) != 1)
		micro_fail("pipe ping-pong failed: the child did not answer");
}

double floor_pipe_round_trip_ns(long iterations, const struct micro_place *pl)
{
	int down[2], up[2];

	if (pipe(down) || pipe(up))
		micro_fail("pipe failed");
	if (micro_pinned(pl))
		micro_pin_self(pl->here);
	pid_t child = fork();
	if (child < 0)
		micro_fail("fork failed");
	if (child == 0) {
		close(down[1]);         /* else its read never sees EOF */
		close(up[0]);
		pipe_child(down[0], up[1], micro_pinned(pl) ? pl->there : -1);
	}
	close(down[0]);
	close(up[1]);           /* a child that dies gives EOF, not a hang */
	/* One trip first: by its answer the child has pinned itself. */
	pipe_trip(down[1], up[0]);
	if (micro_pinned(pl))
		micro_expect_task(child, pl->there, "the pipe's child");
	double start = pl_now();
	for (long i = 0; i < iterations; i++)
		pipe_trip(down[1], up[0]);
	double elapsed = pl_now() - start;
	close(down[1]);
	waitpid(child, NULL, 0);
	close(up[0]);
	if (micro_pinned(pl))
		micro_unpin_self();
	return elapsed * 1e9 / iterations;
}

/* ---- creation ---- */

static void *nothing(void *arg)
{
	return arg;
}

double floor_thread_create_join_ns(long iterations)
{
	pthread_t t;
	double start = pl_now();

	for (long i = 0; i < iterations; i++) {
		if (pthread_create(&t, NULL, nothing, NULL) != 0)
			micro_fail("pthread_create failed");
		pthread_join(t, NULL);
	}
	return (pl_now() - start) * 1e9 / iterations;
}

double floor_fork_wait_ns(long iterations)
{
	double start = pl_now();

	for (long i = 0; i < iterations; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			micro_fail("fork failed");
		waitpid(pid, NULL, 0);
	}
	return (pl_now() - start) * 1e9 / iterations;
}

double floor_nanosleep_ns(long us, long iterations)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	double start = pl_now();

	for (long i = 0; i < iterations; i++)
		nanosleep(&ts, NULL);
	return (pl_now() - start) * 1e9 / iterations;
}

#define _GNU_SOURCE
#include "primitives.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "micro_util.h"
#include "stats.h"

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

double floor_condvar_round_trip_ns(long iterations)
{
	struct pingpong pp = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
	pthread_t partner;

	pthread_create(&partner, NULL, condvar_partner, &pp);
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
	pthread_join(partner, NULL);
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

double floor_futex_round_trip_ns(long iterations)
{
	struct futex_pp pp = { 0 };
	pthread_t partner;

	pthread_create(&partner, NULL, futex_partner, &pp);
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
	pthread_join(partner, NULL);
	return elapsed * 1e9 / iterations;
}

/* ---- cache line ---- */

struct spin_pp {
	_Alignas(64) atomic_long ball;  /* odd: partner's turn; < 0: stop */
};

static void *spin_partner(void *arg)
{
	struct spin_pp *pp = arg;
	long b;

	while ((b = atomic_load_explicit(&pp->ball, memory_order_acquire)) >= 0)
		if (b & 1)
			atomic_store_explicit(&pp->ball, b + 1, memory_order_release);
	return NULL;
}

double floor_cache_line_round_trip_ns(long iterations)
{
	struct spin_pp pp = { 0 };
	pthread_t partner;

	pthread_create(&partner, NULL, spin_partner, &pp);
	double start = pl_now();
	for (long i = 0; i < iterations; i++) {
		long b = atomic_load(&pp.ball);
		atomic_store_explicit(&pp.ball, b + 1, memory_order_release);
		while (atomic_load_explicit(&pp.ball, memory_order_acquire) == b + 1)
			;
	}
	double elapsed = pl_now() - start;
	atomic_store(&pp.ball, -1);
	pthread_join(partner, NULL);
	return elapsed * 1e9 / iterations;
}

/* ---- pipe ---- */

double floor_pipe_round_trip_ns(long iterations)
{
	int there[2], back[2];
	char byte = 0;

	if (pipe(there) || pipe(back))
		micro_fail("pipe failed");
	pid_t child = fork();
	if (child == 0) {
		close(there[1]);        /* else its read never sees EOF */
		close(back[0]);
		while (read(there[0], &byte, 1) == 1 && write(back[1], &byte, 1) == 1)
			;
		_exit(0);
	}
	double start = pl_now();
	for (long i = 0; i < iterations; i++)
		if (write(there[1], &byte, 1) != 1 || read(back[0], &byte, 1) != 1)
			micro_fail("pipe ping-pong failed");
	double elapsed = pl_now() - start;
	close(there[1]);
	waitpid(child, NULL, 0);
	close(there[0]);
	close(back[0]);
	close(back[1]);
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

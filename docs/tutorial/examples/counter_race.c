/* A data race on a counter, and two ways to remove it: chapter 5.
 *
 * Two threads add 1 to one shared counter, ten million times each.
 * `plain` uses counter++ on an ordinary variable: the increment is a
 * load, an add and a store, and when the two threads interleave those
 * steps, one thread's store overwrites the other's, and increments are
 * lost.  `atomic` makes the increment one indivisible step; `mutex`
 * lets one thread at a time run the three steps.
 *
 * Build and run from the top of the repository:
 *     cc -O2 -Wall -Wextra -pthread -o build/counter_race \
 *        docs/tutorial/examples/counter_race.c
 *     build/counter_race plain; build/counter_race atomic; build/counter_race mutex
 *
 * Exit status: 0 when the count is right, 1 when increments were lost,
 * 2 for a bad argument.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define THREADS 2
#define INCREMENTS 10000000L

enum variant { PLAIN, ATOMIC, MUTEX };

/* The broken counter.  volatile makes gcc emit counter++ as the three
 * steps it is, load, add and store, as unoptimised code does.  Without
 * it, gcc -O2 emits one add-to-memory instruction: two cores still race
 * on it (it is not atomic without a lock prefix), but a single core
 * cannot be interrupted in the middle of it, so the loss would show
 * only when both threads run at the same instant.  volatile makes
 * nothing atomic and orders nothing: it is no tool for threads. */
static volatile long plain_counter;
static atomic_long atomic_counter;
static long locked_counter;
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;

static atomic_int arrived;
static enum variant variant;

/* The broken increment and its two fixes. */
static void increment(void)
{
	switch (variant) {
	case PLAIN:
		plain_counter++;        /* load, add, store: three steps */
		break;
	case ATOMIC:
		atomic_fetch_add_explicit(&atomic_counter, 1, memory_order_relaxed);
		break;
	case MUTEX:
		pthread_mutex_lock(&counter_lock);
		locked_counter++;
		pthread_mutex_unlock(&counter_lock);
		break;
	}
}

static void *count(void *arg)
{
	(void)arg;
	/* Start together, so that the two loops really overlap: spin until
	 * every thread is here (a sleeping barrier would wake the others
	 * late, and a short loop could be over by then). */
	atomic_fetch_add(&arrived, 1);
	while (atomic_load(&arrived) < THREADS)
		;
	for (long i = 0; i < INCREMENTS; i++)
		increment();
	return NULL;
}

static long final_count(void)
{
	switch (variant) {
	case PLAIN:
		return plain_counter;
	case ATOMIC:
		return atomic_load(&atomic_counter);
	default:
		return locked_counter;
	}
}

static int parse_variant(const char *name)
{
	static const char *const names[] = { "plain", "atomic", "mutex" };

	for (int v = 0; v < 3; v++)
		if (strcmp(name, names[v]) == 0)
			return v;
	return -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	pthread_t threads[THREADS];
	int v = argc == 2 ? parse_variant(argv[1]) : -1;

	if (v < 0) {
		fprintf(stderr, "usage: %s plain|atomic|mutex\n", argv[0]);
		return 2;
	}
	variant = v;

	double start = now();
	for (int t = 0; t < THREADS; t++)
		pthread_create(&threads[t], NULL, count, NULL);
	for (int t = 0; t < THREADS; t++)
		pthread_join(threads[t], NULL);
	double wall = now() - start;

	/* pthread_join makes every write of the threads visible here. */
	long expected = THREADS * INCREMENTS, got = final_count();

	printf("%s: %d threads x %ld increments: counter = %ld, expected %ld",
	       argv[1], THREADS, INCREMENTS, got, expected);
	if (got != expected)
		printf(", %ld increments lost", expected - got);
	printf(" (%.3f s)\n", wall);
	return got == expected ? 0 : 1;
}

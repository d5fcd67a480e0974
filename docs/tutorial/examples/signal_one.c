/* pthread_cond_signal where every waiter must wake: chapter 5.
 *
 * Three workers wait at a gate until main opens it.  The condition
 * "the gate is open" concerns all of them, but pthread_cond_signal wakes
 * (at least) one waiter: with `signal`, one worker goes through and the
 * others sleep on, although the gate is open, because nobody will ever
 * signal again.  With `broadcast`, all three wake, see the open gate and
 * go through.
 *
 * A real program would hang here.  main waits at most a second for the
 * workers to pass, says what it saw, and exits; the exit ends the
 * threads still asleep.
 *
 * Build and run from the top of the repository:
 *     cc -O2 -Wall -Wextra -pthread -o build/signal_one docs/tutorial/examples/signal_one.c
 *     build/signal_one signal; build/signal_one broadcast
 *
 * Exit status: 0 when every worker passed, 1 when some were still asleep
 * after a second, 2 for a bad argument.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define WORKERS 3

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t opened;          /* the workers wait here */
	pthread_cond_t progress;        /* main waits here */
	bool open;
	int waiting;                    /* workers that reached the gate */
	int passed;                     /* workers through it */
};

static struct gate gate = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.opened = PTHREAD_COND_INITIALIZER,
	.progress = PTHREAD_COND_INITIALIZER,
};

static void *worker(void *arg)
{
	struct gate *g = arg;

	pthread_mutex_lock(&g->lock);
	g->waiting++;
	pthread_cond_signal(&g->progress);
	while (!g->open)                /* the predicate loop is right */
		pthread_cond_wait(&g->opened, &g->lock);
	g->passed++;
	pthread_cond_signal(&g->progress);
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/* Opens the gate; the bug and its fix are the one call that wakes. */
static void open_gate(struct gate *g, bool wake_all)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	if (wake_all)
		pthread_cond_broadcast(&g->opened);     /* every waiter */
	else
		pthread_cond_signal(&g->opened);        /* one waiter */
	pthread_mutex_unlock(&g->lock);
}

/* Waits until every worker passed or the deadline; returns how many. */
static int wait_for_workers(struct gate *g, const struct timespec *deadline)
{
	int err = 0;

	pthread_mutex_lock(&g->lock);
	while (g->passed < WORKERS && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&g->progress, &g->lock, deadline);
	int passed = g->passed;
	pthread_mutex_unlock(&g->lock);
	return passed;
}

int main(int argc, char **argv)
{
	pthread_t workers[WORKERS];
	bool wake_all = argc == 2 && strcmp(argv[1], "broadcast") == 0;

	if (argc != 2 || (!wake_all && strcmp(argv[1], "signal") != 0)) {
		fprintf(stderr, "usage: %s signal|broadcast\n", argv[0]);
		return 2;
	}
	for (int w = 0; w < WORKERS; w++)
		pthread_create(&workers[w], NULL, worker, &gate);

	/* Every worker asleep at the gate before it opens. */
	pthread_mutex_lock(&gate.lock);
	while (gate.waiting < WORKERS)
		pthread_cond_wait(&gate.progress, &gate.lock);
	pthread_mutex_unlock(&gate.lock);

	printf("%d workers wait at the gate; main opens it with pthread_cond_%s\n",
	       WORKERS, argv[1]);
	open_gate(&gate, wake_all);

	/* pthread_cond_timedwait measures against CLOCK_REALTIME. */
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 1;
	int passed = wait_for_workers(&gate, &deadline);

	if (passed < WORKERS) {
		printf("after 1 s, %d of %d workers passed; %d still asleep at an open gate\n",
		       passed, WORKERS, WORKERS - passed);
		return 1;               /* exit ends the sleeping threads */
	}
	for (int w = 0; w < WORKERS; w++)
		pthread_join(workers[w], NULL);
	printf("%d of %d workers passed\n", passed, WORKERS);
	return 0;
}

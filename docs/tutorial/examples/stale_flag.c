/* A flag that one thread sets and another never sees: chapter 5.
 *
 * main writes an answer, then sets `ready`; the worker waits for `ready`
 * and reads the answer.  With `plain`, ready is an ordinary bool: nothing
 * tells the compiler that another thread may change it, so gcc -O2 reads
 * it once, before the loop, and the worker spins forever (clang -O2
 * deletes the loop instead, and the worker does not wait at all).  With
 * `atomic`,
 * every read of ready really reads memory, and the release store paired
 * with the acquire load also guarantees that the worker, once it sees
 * ready, sees the answer written before it.
 *
 * Build and run from the top of the repository:
 *     cc -O2 -Wall -Wextra -pthread -o build/stale_flag \
 *        docs/tutorial/examples/stale_flag.c
 *     build/stale_flag plain; build/stale_flag atomic
 *
 * Exit status: 0 when the worker waited for the flag and read the
 * answer, 1 when it was still spinning after a second (the alarm ends
 * the program) or went on without waiting, 2 for a bad argument.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long answer;
static long seen_answer;        /* what the worker read, for main */

static bool plain_ready;
static atomic_bool atomic_ready;

/* Tells main that the worker is about to wait, so that main sets the
 * flag only once the worker has read it at least once. */
static atomic_bool waiting;

/* Broken: nothing in the loop can change plain_ready as far as the
 * compiler knows, so it may load it once and loop on a register. */
static void *wait_plain(void *arg)
{
	(void)arg;
	atomic_store(&waiting, true);
	while (!plain_ready)
		;
	seen_answer = answer;
	printf("worker: past the wait, answer = %ld\n", seen_answer);
	return NULL;
}

/* Fixed: an atomic load every time round, and acquire pairs with main's
 * release, so the answer written before the flag is visible too. */
static void *wait_atomic(void *arg)
{
	(void)arg;
	atomic_store(&waiting, true);
	while (!atomic_load_explicit(&atomic_ready, memory_order_acquire))
		;
	seen_answer = answer;
	printf("worker: past the wait, answer = %ld\n", seen_answer);
	return NULL;
}

/* The bound on the broken run: one second after main set the flag, the
 * worker is still spinning, so say so and end the program (write(), not
 * printf: only async-signal-safe calls in a signal handler). */
static void give_up(int sig)
{
	static const char msg[] =
		"main: 1 s later the worker is still spinning: it never saw ready = true\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing to do: we leave anyway */
	}
	_exit(1);
}

int main(int argc, char **argv)
{
	bool use_atomic = argc == 2 && strcmp(argv[1], "atomic") == 0;
	pthread_t worker;

	if (argc != 2 || (!use_atomic && strcmp(argv[1], "plain") != 0)) {
		fprintf(stderr, "usage: %s plain|atomic\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);       /* lines in order with write() */
	pthread_create(&worker, NULL, use_atomic ? wait_atomic : wait_plain, NULL);

	/* Let the worker start waiting, then publish the answer. */
	while (!atomic_load(&waiting))
		;
	nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	answer = 42;
	printf("main: answer = 42, now ready = true\n");
	if (use_atomic)
		atomic_store_explicit(&atomic_ready, true, memory_order_release);
	else
		plain_ready = true;

	signal(SIGALRM, give_up);
	alarm(1);
	pthread_join(worker, NULL);
	/* Another compiler may break the plain version the other way: clang
	 * deletes the empty loop, and the worker reads the answer too early. */
	if (seen_answer != 42) {
		printf("main: the worker did not wait: it read the answer before it was written\n");
		return 1;
	}
	printf("main: the worker finished\n");
	return 0;
}

/* Why the process pool does not simply fork(): chapter 4.
 *
 * A thread keeps busy with malloc, stdio and a mutex of the program's own,
 * which it holds most of the time. The main thread forks children meanwhile,
 * and each child calls malloc, then fprintf, then pthread_mutex_lock on that
 * mutex, with a 1 s alarm on each step. The parent counts how far each child
 * got.
 *
 * glibc takes its malloc locks around fork and resets its malloc and stdio
 * locks in the child, so those two calls return. Nobody resets the program's
 * mutex: a child forked while the other thread held it holds a locked mutex
 * whose owner does not exist in the child, and waits for it forever. (POSIX
 * is stricter still: until it execs, the child of a multithreaded program
 * may call only async-signal-safe functions, and malloc and fprintf are not;
 * glibc makes these two work, other libraries' locks get no such care.)
 *
 * Build and run from the top of the repository:
 *     cc -O2 -o build/ch4_fork_locks docs/tutorial/examples/ch4_fork_locks.c -pthread
 *     build/ch4_fork_locks
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILDREN 20

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *devnull;

/* The busy thread: holds `lock` while it allocates and prints. */
static void *busy(void *unused)
{
	(void)unused;
	for (;;) {
		pthread_mutex_lock(&lock);
		for (int i = 0; i < 100; i++) {
			free(malloc(64 + i));
			fprintf(devnull, "%d\n", i);
		}
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

/* In the child: which step it is in, for the alarm to report. */
static volatile sig_atomic_t step;

static void on_alarm(int sig)
{
	(void)sig;
	_exit(10 + step);       /* _exit is async-signal-safe */
}

static void child(void)
{
	signal(SIGALRM, on_alarm);
	alarm(1);
	step = 0;
	free(malloc(100));
	alarm(1);
	step = 1;
	fprintf(devnull, "child %d\n", (int)getpid());
	fflush(devnull);
	alarm(1);
	step = 2;
	pthread_mutex_lock(&lock);
	_exit(0);
}

int main(void)
{
	const char *steps[] = { "malloc", "fprintf", "pthread_mutex_lock" };
	int hung[3] = { 0 }, finished = 0;
	struct timespec pause = { 0, 2 * 1000000L };
	pthread_t thread;

	devnull = fopen("/dev/null", "w");
	if (!devnull || pthread_create(&thread, NULL, busy, NULL) != 0)
		return 1;
	for (int i = 0; i < CHILDREN; i++) {
		nanosleep(&pause, NULL);
		pid_t pid = fork();
		if (pid == 0)
			child();
		if (pid < 0)
			return 1;
	}
	for (int i = 0; i < CHILDREN; i++) {
		int status;
		if (wait(&status) < 0)
			return 1;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			finished++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) >= 10 &&
			 WEXITSTATUS(status) <= 12)
			hung[WEXITSTATUS(status) - 10]++;
	}
	printf("%d children forked while another thread ran:\n", CHILDREN);
	printf("  finished all three steps: %d\n", finished);
	for (int s = 0; s < 3; s++)
		printf("  hung in %-18s %d\n", steps[s], hung[s]);
	return 0;
}

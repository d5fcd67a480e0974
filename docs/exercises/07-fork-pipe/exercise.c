/* Exercise 7: results from forked children through a pipe, and a crash.
 *
 * This version has the classic bugs of a first fork program: the parent
 * keeps its own write end of the pipe open, waits for the children before
 * reading what they send, and never looks at how they ended.  With a few
 * items it hangs; with many, the children block on a full pipe while the
 * parent waits for them.
 * Statement: docs/exercises/07-fork-pipe/README.md
 * Check it:  make exercise EX=7
 */
#include <sys/wait.h>
#include <unistd.h>

#include "exercise.h"

struct record {
	long i;
	long value;
};

int run_forked(long n, int workers, long (*work)(long i), long *results, unsigned char *done)
{
	int fds[2];
	pid_t pids[256];
	int started = 0;

	if (workers > 256)
		workers = 256;
	if (pipe(fds) != 0)
		return -1;
	for (int k = 0; k < workers && k < n; k++) {
		pid_t pid = fork();

		if (pid == 0) {
			close(fds[0]);
			for (long i = k; i < n; i += workers) {
				struct record r = { i, work(i) };
				if (write(fds[1], &r, sizeof(r)) != sizeof(r))
					_exit(1);
			}
			_exit(0);
		}
		if (pid > 0)
			pids[started++] = pid;
	}

	/* TODO: the order of these steps, and what is missing between them. */
	for (int k = 0; k < started; k++)
		waitpid(pids[k], NULL, 0);

	struct record r;
	while (read(fds[0], &r, sizeof(r)) == sizeof(r)) {
		results[r.i] = r.value;
		done[r.i] = 1;
	}
	close(fds[0]);
	close(fds[1]);
	return 0;       /* TODO: how many children failed? */
}

/* Exercise 7, a reference solution.
 *
 * Three rules make a fork-and-pipe program end:
 * 1. Every process closes the pipe ends it does not use.  End of file
 *    comes only when EVERY write end is closed; the parent's own copy
 *    counts.
 * 2. The parent reads until end of file BEFORE it waits for the children.
 *    A pipe holds 64 KiB; a child with more to say blocks until someone
 *    reads, so waiting first deadlocks.
 * 3. The parent reaps every child (no zombies) and reads its status: a
 *    child killed by a signal simply stops writing, and only waitpid says
 *    so.
 * Records are smaller than PIPE_BUF, so each write lands whole and the
 * children's records never interleave; the parent still reads a record
 * in pieces if need be, since read() may return less. */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exercise.h"

struct record {
	long i;
	long value;
};

/* 1 with a whole record, 0 at end of file. */
static int read_record(int fd, struct record *r)
{
	char *p = (char *)r;
	size_t got = 0;

	while (got < sizeof(*r)) {
		ssize_t k = read(fd, p + got, sizeof(*r) - got);
		if (k > 0)
			got += (size_t)k;
		else if (k == 0)
			return 0;       /* a torn record at the end is dropped */
		else if (errno != EINTR)
			return 0;
	}
	return 1;
}

int run_forked(long n, int workers, long (*work)(long i), long *results, unsigned char *done)
{
	int fds[2];
	pid_t pids[256];
	int started = 0, failed = 0;

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
		if (pid < 0) {
			failed++;       /* its items will be missing from done[] */
			continue;
		}
		pids[started++] = pid;
	}
	close(fds[1]);                          /* rule 1 */

	struct record r;
	while (read_record(fds[0], &r)) {       /* rule 2 */
		if (r.i >= 0 && r.i < n) {
			results[r.i] = r.value;
			done[r.i] = 1;
		}
	}
	close(fds[0]);

	for (int k = 0; k < started; k++) {     /* rule 3 */
		int status;

		while (waitpid(pids[k], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed;
}

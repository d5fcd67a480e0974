/* A WRONG solution of exercise 7, kept to prove that the checker sees it.
 *
 * What is wrong: it counts as failed only the children killed by a
 * signal (WIFSIGNALED).  A child that meets an error and exits with a
 * status other than 0, the way most programs report failure, is counted
 * as a success.  Success is exactly WIFEXITED(status) &&
 * WEXITSTATUS(status) == 0; everything else is a failure.
 * Caught by: a child that exits with status 3: counted as failed too
 */
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
		if (pid > 0)
			pids[started++] = pid;
	}
	close(fds[1]);

	struct record r;
	while (read_record(fds[0], &r)) {
		if (r.i >= 0 && r.i < n) {
			results[r.i] = r.value;
			done[r.i] = 1;
		}
	}
	close(fds[0]);

	for (int k = 0; k < started; k++) {
		int status;

		while (waitpid(pids[k], &status, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(status))        /* the mistake: exit(3) is a failure too */
			failed++;
	}
	return failed;
}

/* A parent that keeps the write end of its own pipe: chapter 6.
 *
 * Three children each write one line into a pipe and exit; the parent
 * reads until end of file, then reaps them.  A read on a pipe returns end
 * of file (0) only when no process holds a write end any more, and the
 * parent got one from pipe() too.  With `keep`, the parent forgets to
 * close it: after the children's lines, read() blocks for ever, waiting
 * for a writer that is the reader itself.  With `close`, the parent
 * closes its copy before reading, and end of file comes when the last
 * child exits.
 *
 * A real program would hang here; an alarm interrupts the read after two
 * seconds and the parent says so.
 *
 * Build and run from the top of the repository:
 *     cc -O2 -Wall -Wextra -o build/pipe_eof docs/tutorial/examples/pipe_eof.c
 *     build/pipe_eof keep; build/pipe_eof close
 *
 * Exit status: 0 when the parent saw end of file and reaped every child,
 * 1 when the read was still waiting after 2 s, 2 for a bad argument.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 3

static void child(int id, int out)
{
	char line[32];
	int len = snprintf(line, sizeof(line), "child %d done\n", id);

	/* One write of less than PIPE_BUF bytes: never mixed with another. */
	_exit(write(out, line, len) == len ? 0 : 1);
}

/* Nothing to do but interrupt the read: the handler is installed
 * without SA_RESTART, so read() returns -1 with EINTR. */
static void on_alarm(int sig)
{
	(void)sig;
}

/* Copies the pipe to stdout until end of file (true) or until the
 * alarm interrupts the read (false). */
static bool read_to_end(int in)
{
	char buf[256];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0)
			return false;   /* EINTR: the alarm rang */
		fwrite(buf, 1, n, stdout);
		fflush(stdout);
	}
	return true;
}

int main(int argc, char **argv)
{
	bool close_ours = argc == 2 && strcmp(argv[1], "close") == 0;
	struct sigaction alarm_action = { .sa_handler = on_alarm };
	int fds[2];

	if (argc != 2 || (!close_ours && strcmp(argv[1], "keep") != 0)) {
		fprintf(stderr, "usage: %s keep|close\n", argv[0]);
		return 2;
	}
	if (pipe(fds) < 0) {
		perror("pipe");
		return 1;
	}
	fflush(stdout);         /* nothing buffered for the children to copy */
	for (int id = 0; id < CHILDREN; id++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			close(fds[0]);
			child(id, fds[1]);
		}
	}

	/* The bug and its fix: the parent's own write end. */
	if (close_ours)
		close(fds[1]);

	sigaction(SIGALRM, &alarm_action, NULL);
	alarm(2);
	bool eof = read_to_end(fds[0]);
	alarm(0);
	if (eof)
		printf("parent: end of file\n");
	else
		printf("parent: no end of file after 2 s: the pipe still has a writer, "
		       "the parent itself\n");

	int reaped = 0;
	while (wait(NULL) > 0)
		reaped++;
	printf("parent: reaped %d children\n", reaped);
	return eof ? 0 : 1;
}

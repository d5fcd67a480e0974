/* Runs programs under test with a hard time bound: each child gets its own
 * process group, which is killed with SIGKILL when the bound passes, so a
 * hung program fails its test instead of hanging the suite. */
#define _GNU_SOURCE
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *built(const char *rel)
{
	static __thread char slots[4][512];
	static __thread int next;
	const char *dir = getenv("PARLAB_BUILD");
	char *buf = slots[next++ % 4];

	snprintf(buf, sizeof(slots[0]), "%s/%s", dir && *dir ? dir : "build", rel);
	return buf;
}

struct sink {
	char *data;
	size_t len, cap;
};

static void sink_add(struct sink *s, const char *bytes, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (s->len + n + 1 > cap)
			cap *= 2;
		s->data = realloc(s->data, cap);
		if (!s->data)
			abort();
		s->cap = cap;
	}
	memcpy(s->data + s->len, bytes, n);
	s->len += n;
	s->data[s->len] = '\0';
}

static double monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t spawn(char *const argv[], int out_fd[2], int err_fd[2])
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	setpgid(0, 0);
	int devnull = open("/dev/null", O_RDONLY);
	dup2(devnull, 0);
	dup2(out_fd[1], 1);
	dup2(err_fd[1], 2);
	close(out_fd[0]);
	close(err_fd[0]);
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Reads both pipes until they close or the deadline passes. */
static bool drain(int out, int err, struct sink *so, struct sink *se, double deadline)
{
	struct pollfd fds[2] = { { out, POLLIN, 0 }, { err, POLLIN, 0 } };
	struct sink *sinks[2] = { so, se };
	int open_fds = 2;
	char buf[65536];

	while (open_fds > 0) {
		int ms = (int)((deadline - monotonic()) * 1000);
		if (ms <= 0)
			return false;
		if (poll(fds, 2, ms) < 0 && errno != EINTR)
			return false;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			ssize_t n = read(fds[i].fd, buf, sizeof(buf));
			if (n > 0) {
				sink_add(sinks[i], buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
	return true;
}

int run_argv(struct run_result *r, double timeout_s, char *const argv[])
{
	int out_fd[2], err_fd[2];
	struct sink so = { 0 }, se = { 0 };
	double deadline = monotonic() + timeout_s;
	int wstatus;

	memset(r, 0, sizeof(*r));
	if (pipe2(out_fd, O_CLOEXEC))
		return -1;
	if (pipe2(err_fd, O_CLOEXEC)) {
		close(out_fd[0]);
		close(out_fd[1]);
		return -1;
	}
	pid_t pid = spawn(argv, out_fd, err_fd);
	close(out_fd[1]);
	close(err_fd[1]);
	if (pid < 0) {
		close(out_fd[0]);
		close(err_fd[0]);
		return -1;
	}
	setpgid(pid, pid);      /* also here: no race with the child's own call */

	bool finished = drain(out_fd[0], err_fd[0], &so, &se, deadline);
	pid_t waited;
	wstatus = 0;
	while (finished && (waited = waitpid(pid, &wstatus, WNOHANG)) <= 0) {
		if (waited < 0 && errno != EINTR) {
			finished = false;       /* cannot happen: it is our child */
			break;
		}
		if (monotonic() > deadline) {
			finished = false;
			break;
		}
		usleep(1000);
	}
	if (!finished) {
		r->timed_out = true;
		kill(-pid, SIGKILL);
		waitpid(pid, &wstatus, 0);
	}
	close(out_fd[0]);
	close(err_fd[0]);
	sink_add(&so, "", 0);
	sink_add(&se, "", 0);
	r->out = so.data;
	r->err = se.data;
	r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	return 0;
}

int run_program(struct run_result *r, double timeout_s, const char *path, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)path;
	va_start(ap, path);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		if (++argc == 63)
			abort();        /* a test with that many arguments is a bug */
	va_end(ap);
	argv[argc] = NULL;
	return run_argv(r, timeout_s, argv);
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

int count_lines(const char *s, const char *line)
{
	size_t len = strlen(line);
	int count = 0;

	while (s && *s) {
		const char *end = strchr(s, '\n');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		if (n == len && strncmp(s, line, len) == 0)
			count++;
		s = end ? end + 1 : s + n;
	}
	return count;
}

char *read_whole_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0, got;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap + 1);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *bigger = realloc(buf, 2 * cap + 1);
			if (!bigger)
				free(buf);
			buf = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

void remove_tree(const char *dir)
{
	struct run_result r;

	if (run_program(&r, 60, "/bin/rm", "-rf", dir, NULL) == 0)
		run_result_free(&r);
}

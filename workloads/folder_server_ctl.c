/* The server as a child process: spawn, wait for its port, stop.
 *
 * The port comes through a pipe (--port-fd 3), which the server writes
 * and closes once it listens, so the parent never has to parse the
 * server's stdout or guess a free port (and race another program for it).
 * A pipe rather than a file: there is nothing on disk, so a program killed
 * while its server starts (SIGTERM, SIGINT, SIGKILL alike) leaves nothing
 * behind, and a read-only /tmp or an unusable TMPDIR does not matter.  A
 * temporary file would need a signal handler to unlink it, which a
 * library cannot install behind its program's back, and which SIGKILL
 * defeats anyway.
 */
#define _GNU_SOURCE
#include "folder_server_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 64
/* The server's end of the port pipe, as it sees it. */
#define PORT_FD 3
#define PORT_FD_TEXT "3"

const char *pl_folder_server_path(char *buf, size_t cap)
{
	const char *env = getenv("PARLAB_FOLDER_SERVER");
	char exe[4096];
	ssize_t n;

	if (env && *env)
		return snprintf(buf, cap, "%s", env) < (int)cap ? buf : NULL;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return snprintf(buf, cap, "build/workloads/folder-api-server") < (int)cap ? buf : NULL;
	exe[n] = '\0';
	/* exe is BUILD/<model>/<program>, or BUILD/executors/mpi/<program>
	 * for the MPI backend's copies: the server is BUILD/workloads/. */
	const char *dir = dirname(exe);
	size_t len = strlen(dir);
	const char *up = len >= 14 && strcmp(dir + len - 14, "/executors/mpi") == 0 ? "../.." : "..";
	return snprintf(buf, cap, "%s/%s/workloads/folder-api-server", dir, up) < (int)cap
	       ? buf : NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

static void fail(struct pl_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct pl_server *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
}

/* The port the server sent, from what has come through the pipe so
 * far: "PORT\n".  0 while the line is not complete, -1 if it is not a
 * port. */
static int parse_port(const char *buf, size_t len)
{
	char *end;
	long port;

	if (!len || buf[len - 1] != '\n')
		return 0;
	port = strtol(buf, &end, 10);
	return *end == '\n' && port > 0 && port < 65536 ? (int)port : -1;
}

/* Only async-signal-safe calls between fork and exec: the parent may
 * have threads, and one of them may hold malloc's lock. */
static void child(char *const argv[], pid_t parent, int devnull, int port_w)
{
	int high;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);     /* the parent died before prctl */
	/* The pipe's write end out of the way of 0-3 first (it may have any
	 * number), then as --port-fd 3, without close-on-exec. */
	high = fcntl(port_w, F_DUPFD, PORT_FD + 1);
	dup2(devnull, STDIN_FILENO);
	dup2(devnull, STDOUT_FILENO);
	dup2(high, PORT_FD);
	/* Keep only 0-3: a pipe of the caller's held open by the server
	 * would keep a reader of that pipe waiting for the server to die. */
	close_range(PORT_FD + 1, ~0U, 0);
	execv(argv[0], argv);
	_exit(127);
}

/* Waits for the port on port_r, watching the server: 0 with *port set,
 * or -1 with out->error set (the server is then reaped). */
static int wait_for_port(const char *server_path, pid_t pid, int port_r,
			 struct pl_server *out, int *port)
{
	double deadline = now_s() + PL_SERVER_START_TIMEOUT_S;
	char buf[16];
	size_t len = 0;
	int status;

	for (;;) {
		struct pollfd p = { port_r, POLLIN, 0 };
		pid_t w;

		/* The server's death is noticed at once too (a bad option, a
		 * missing library), not at the deadline: poll the pipe in
		 * short slices and look at the child between them. */
		if (poll(&p, p.fd < 0 ? 0 : 1, 20) > 0) {
			ssize_t n = read(port_r, buf + len, sizeof(buf) - 1 - len);

			if (n > 0)
				len += (size_t)n;
			else if (n == 0 || errno != EINTR)
				port_r = -1;    /* closed without a port: it is exiting */
			buf[len] = '\0';
			*port = parse_port(buf, len);
			if (*port > 0)
				return 0;
			if (*port < 0 || len == sizeof(buf) - 1) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				fail(out, "folder API server %s sent no port number", server_path);
				return -1;
			}
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			fail(out, "folder API server %s exited with status %d before listening",
			     server_path, WIFEXITED(status) ? WEXITSTATUS(status)
			     : 128 + WTERMSIG(status));
			return -1;
		}
		if (now_s() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail(out, "folder API server %s did not listen within %d s",
			     server_path, PL_SERVER_START_TIMEOUT_S);
			return -1;
		}
	}
}

int pl_folder_server_start(const char *server_path, const char *const *extra_args,
			   struct pl_server *out)
{
	char *argv[MAX_ARGS], port_fd[] = PORT_FD_TEXT;
	int argc = 0, pipe_fd[2], devnull, port = 0, rc;
	pid_t pid, parent = getpid();

	memset(out, 0, sizeof(*out));
	if (!server_path || access(server_path, X_OK) != 0) {
		fail(out, "cannot run folder API server '%s': %s",
		     server_path ? server_path : "(null)", strerror(errno ? errno : EINVAL));
		return -1;
	}
	argv[argc++] = (char *)server_path;
	argv[argc++] = "--port";
	argv[argc++] = "0";
	argv[argc++] = "--port-fd";
	argv[argc++] = port_fd;
	for (int i = 0; extra_args && extra_args[i]; i++) {
		if (argc == MAX_ARGS - 1) {
			fail(out, "too many server arguments");
			return -1;
		}
		argv[argc++] = (char *)extra_args[i];
	}
	argv[argc] = NULL;

	if (pipe2(pipe_fd, O_CLOEXEC) != 0) {
		fail(out, "cannot make a pipe for the server's port: %s", strerror(errno));
		return -1;
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid = fork();
	if (pid == 0)
		child(argv, parent, devnull, pipe_fd[1]);
	if (devnull >= 0)
		close(devnull);
	close(pipe_fd[1]);
	if (pid < 0) {
		close(pipe_fd[0]);
		fail(out, "fork: %s", strerror(errno));
		return -1;
	}
	rc = wait_for_port(server_path, pid, pipe_fd[0], out, &port);
	close(pipe_fd[0]);
	if (rc != 0)
		return -1;
	out->pid = pid;
	out->port = port;
	snprintf(out->base_url, sizeof(out->base_url), "http://127.0.0.1:%d", port);
	return 0;
}

int pl_folder_server_stop(struct pl_server *s)
{
	double deadline = now_s() + PL_SERVER_STOP_TIMEOUT_S;
	int status = 0;
	pid_t w;

	if (!s || s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	while ((w = waitpid(s->pid, &status, WNOHANG)) == 0 && now_s() < deadline)
		sleep_ms(2);
	if (w == 0) {
		kill(s->pid, SIGKILL);
		w = waitpid(s->pid, &status, 0);
	}
	s->pid = 0;
	if (w < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

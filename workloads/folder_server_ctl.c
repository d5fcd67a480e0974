/* The server as a child process: spawn, wait for its port, stop.
 *
 * The port comes through --port-file, which the server writes atomically
 * once it listens, so the parent never has to parse the server's stdout
 * or guess a free port (and race another program for it).
 */
#define _GNU_SOURCE
#include "folder_server_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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
	/* exe is BUILD/<model>/<program>: the server is BUILD/workloads/. */
	return snprintf(buf, cap, "%s/../workloads/folder-api-server", dirname(exe)) < (int)cap
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

/* The port, once the file holds "PORT\n"; 0 until then. */
static int read_port(const char *path)
{
	char buf[16] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *end;
	long port;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || buf[n - 1] != '\n')
		return 0;
	port = strtol(buf, &end, 10);
	return *end == '\n' && port > 0 && port < 65536 ? (int)port : 0;
}

/* Only async-signal-safe calls between fork and exec: the parent may
 * have threads, and one of them may hold malloc's lock. */
static void child(char *const argv[], pid_t parent, int devnull)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);     /* the parent died before prctl */
	dup2(devnull, STDIN_FILENO);
	dup2(devnull, STDOUT_FILENO);
	/* Keep only 0-2: a pipe of the caller's held open by the server
	 * would keep a reader of that pipe waiting for the server to die. */
	close_range(3, ~0U, 0);
	execv(argv[0], argv);
	_exit(127);
}

int pl_folder_server_start(const char *server_path, const char *const *extra_args,
			   struct pl_server *out)
{
	char port_file[] = "/tmp/parlab-folder-port-XXXXXX";
	char *argv[MAX_ARGS];
	int argc = 0, fd, devnull, port = 0, status;
	double deadline;
	pid_t pid, parent = getpid();

	memset(out, 0, sizeof(*out));
	if (!server_path || access(server_path, X_OK) != 0) {
		fail(out, "cannot run folder API server '%s': %s",
		     server_path ? server_path : "(null)", strerror(errno ? errno : EINVAL));
		return -1;
	}
	fd = mkstemp(port_file);
	if (fd < 0) {
		fail(out, "cannot create a port file: %s", strerror(errno));
		return -1;
	}
	close(fd);

	argv[argc++] = (char *)server_path;
	argv[argc++] = "--port";
	argv[argc++] = "0";
	argv[argc++] = "--port-file";
	argv[argc++] = port_file;
	for (int i = 0; extra_args && extra_args[i]; i++) {
		if (argc == MAX_ARGS - 1) {
			unlink(port_file);
			fail(out, "too many server arguments");
			return -1;
		}
		argv[argc++] = (char *)extra_args[i];
	}
	argv[argc] = NULL;

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid = fork();
	if (pid == 0)
		child(argv, parent, devnull);
	if (devnull >= 0)
		close(devnull);
	if (pid < 0) {
		unlink(port_file);
		fail(out, "fork: %s", strerror(errno));
		return -1;
	}

	/* Wait for the port, but notice a server that died (a bad option,
	 * a missing library) at once instead of at the deadline. */
	deadline = now_s() + PL_SERVER_START_TIMEOUT_S;
	while (!(port = read_port(port_file))) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid) {
			unlink(port_file);
			fail(out, "folder API server %s exited with status %d before listening",
			     server_path, WIFEXITED(status) ? WEXITSTATUS(status)
			     : 128 + WTERMSIG(status));
			return -1;
		}
		if (now_s() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			unlink(port_file);
			fail(out, "folder API server %s did not listen within %d s",
			     server_path, PL_SERVER_START_TIMEOUT_S);
			return -1;
		}
		sleep_ms(2);
	}
	unlink(port_file);
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

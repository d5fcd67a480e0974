/* folder-api-server: a simulated cloud folder API on 127.0.0.1.
 *
 * Threading: libmicrohttpd with one thread per connection.  The simulated
 * latency is a sleep in the connection's own thread, so concurrent
 * requests wait concurrently, and a slow client ties up only its own
 * thread until the connection timeout closes it.  A thread costs ~10 us to
 * create and a small stack; the 256+ connections the benchmarks use are
 * far below where that matters (see docs/folder-api.md for the numbers).
 *
 * Accepting is ours, not libmicrohttpd's (listener.h says why): at its
 * descriptor limit the server waits for a connection to close instead of
 * spinning on accept().
 *
 * Signals: SIGTERM and SIGINT are blocked in every thread and taken by
 * sigwait() in main, so shutdown runs in ordinary code, not in a handler.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delay.h"
#include "faults.h"
#include "handler.h"
#include "listener.h"
#include "options.h"
#include "stats.h"

#define PROG "folder-api-server"

/* Thread stacks: a request needs a few kilobytes; the default 8 MiB of
 * address space per thread would make 1024 connections reserve 8 GiB. */
#define STACK_SIZE (256 * 1024)

/* Writes "PORT\n" to a fresh temporary file beside path and renames it
 * over path, so that a reader polling the file never sees half a number.
 * mkstemp creates the temporary with O_EXCL (a name planted in advance,
 * symlink or not, is never opened), and rename replaces whatever is at
 * path, a symlink included, without following it.  This is the only file
 * the server writes, and it has no data file to read. */
static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096], text[16];
	int fd, len, saved;
	bool ok;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	len = snprintf(text, sizeof(text), "%u\n", port);
	ok = fchmod(fd, 0644) == 0 && write(fd, text, (size_t)len) == len;
	saved = errno;
	if (close(fd) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (!ok || rename(tmp, path) != 0) {
		saved = ok ? errno : saved;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

/* "PORT\n" in one write (a pipe takes it whole, never half a number),
 * then close: the reader's end of file comes with the port. */
static int write_port_fd(int fd, unsigned port)
{
	char text[16];
	int len = snprintf(text, sizeof(text), "%u\n", port);
	ssize_t n;

	while ((n = write(fd, text, (size_t)len)) < 0 && errno == EINTR)
		;
	if (n != len) {
		int saved = n < 0 ? errno : EIO;

		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd) == 0 || errno == EINTR ? 0 : -1;
}

/* libmicrohttpd decodes %XX in the path before the handler sees it, so
 * "/v3/folders/1%00" would arrive as "/v3/folders/1" and answer folder 1.
 * No path of this API needs an escape: keep them as sent, and an id with
 * one in it is simply not an id (400). */
static size_t keep_escapes(void *cls, struct MHD_Connection *conn, char *uri)
{
	(void)cls;
	(void)conn;
	return strlen(uri);
}

/* The URL clients use: http://127.0.0.1:PORT or http://[::1]:PORT. */
static void base_url(const struct fs_config *cfg, unsigned port, char *buf, size_t cap)
{
	if (cfg->bind.ss_family == AF_INET6)
		snprintf(buf, cap, "http://[%s]:%u", cfg->bind_text, port);
	else
		snprintf(buf, cap, "http://%s:%u", cfg->bind_text, port);
}

/* One connection uses one descriptor; let --max-connections really fit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	struct fs_config cfg;
	struct MHD_Daemon *d;
	sigset_t stop;
	unsigned port;
	char url[128];
	int sig;

	fs_parse_options(argc, argv, &cfg);
	raise_fd_limit();
	fs_delay_init();
	fs_stats_init();
	fs_faults_init(&cfg);
	fs_handler_init(&cfg);

	/* Before any thread exists, so that all of them inherit the mask. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* 127.0.0.1 unless --bind said otherwise (and a non-loopback
	 * address also needed --allow-remote, checked with the options). */
	if (cfg.bind.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&cfg.bind)->sin6_port = htons((uint16_t)cfg.port);
	else
		((struct sockaddr_in *)&cfg.bind)->sin_port = htons((uint16_t)cfg.port);
	if (cfg.allow_remote)
		fprintf(stderr, PROG ": warning: --allow-remote: listening on %s, which "
			"other machines may reach\n", cfg.bind_text);

	port = fs_listener_open((struct sockaddr *)&cfg.bind, cfg.bind_len);
	if (!port) {
		fprintf(stderr, PROG ": error: cannot listen on %s port %u: %s\n",
			cfg.bind_text, cfg.port, strerror(errno));
		return 1;
	}
	/* The logger first: libmicrohttpd reports on the options before it
	 * in its own way. */
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET |
			     (cfg.verbose ? MHD_USE_ERROR_LOG : 0),
			     0, NULL, NULL, fs_handle, NULL,
			     MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
			     MHD_OPTION_UNESCAPE_CALLBACK, keep_escapes, NULL,
			     MHD_OPTION_CONNECTION_TIMEOUT, cfg.conn_timeout_s,
			     MHD_OPTION_CONNECTION_LIMIT,
			     FS_MHD_CONNECTION_LIMIT(cfg.max_connections),
			     MHD_OPTION_THREAD_STACK_SIZE, (size_t)STACK_SIZE,
			     MHD_OPTION_NOTIFY_COMPLETED, fs_completed, NULL,
			     MHD_OPTION_NOTIFY_CONNECTION, fs_listener_notify, NULL,
			     MHD_OPTION_END);
	if (!d || fs_listener_start(d, cfg.max_connections) != 0) {
		fprintf(stderr, PROG ": error: cannot start serving on %s port %u: %s\n",
			cfg.bind_text, port, strerror(errno ? errno : ENOMEM));
		return 1;
	}

	if (cfg.port_file && write_port_file(cfg.port_file, port) != 0) {
		fprintf(stderr, PROG ": error: cannot write --port-file %s: %s\n",
			cfg.port_file, strerror(errno));
		fs_listener_stop();
		MHD_stop_daemon(d);
		return 1;
	}
	if (cfg.port_fd >= 0 && write_port_fd(cfg.port_fd, port) != 0) {
		fprintf(stderr, PROG ": error: cannot write to --port-fd %d: %s\n",
			cfg.port_fd, strerror(errno));
		fs_listener_stop();
		MHD_stop_daemon(d);
		return 1;
	}
	base_url(&cfg, port, url, sizeof(url));
	printf("listening on %s\n", url);
	fflush(stdout);

	while (sigwait(&stop, &sig) != 0)
		;

	/* Wake the sleepers first, or stop would wait out their latency. */
	fs_delay_stop();
	fs_listener_stop();
	MHD_stop_daemon(d);
	fs_stats_destroy();
	fs_faults_destroy();
	fs_config_free(&cfg);
	return 0;
}

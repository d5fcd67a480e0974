/* The listening socket and its accepting thread (see listener.h). */
#define _GNU_SOURCE
#include "listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#define PROG "folder-api-server"

/* A burst of 256 connects must not overflow the accept queue: a dropped
 * SYN costs the client a one-second retransmit. */
#define BACKLOG 4096

static int listen_fd = -1;
/* Made at start, while descriptors are still to be had: counts closed
 * connections, and wakes the thread to stop. */
static int wake_fd = -1;
static struct MHD_Daemon *daemon_;
static pthread_t thread;
static atomic_bool stopping;
/* Connections handed to libmicrohttpd and not closed yet, against
 * --max-connections.  libmicrohttpd's own check cannot be the limit: it
 * does not count connections added but not yet taken up by its thread,
 * and the one that catches them (new_connection_process_ in 0.9.75)
 * returns with its cleanup mutex locked, which hangs the whole server.
 * Its limit is set above ours so that it is never reached. */
static atomic_uint open_connections;
static unsigned max_connections;
/* Connections handed to libmicrohttpd, and those its thread has taken up
 * (told by MHD_CONNECTION_NOTIFY_STARTED).  The listener stops only when
 * the two are equal: libmicrohttpd 0.9.75, when it stops, frees a
 * connection still waiting to be taken up without its lock, ordered after
 * our hand-over only by a `volatile` flag; ThreadSanitizer cannot see that
 * and reported a race inside libmicrohttpd (3 runs in 4 of
 * faults_folders::no_port_file_left_when_killed_during_start).  A
 * connection taken up went through libmicrohttpd's lock, which it sees. */
static atomic_uint handed_over, taken_up;
#define TAKE_UP_WAIT_MS 200

static unsigned port_of(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return ntohs(((const struct sockaddr_in *)a)->sin_port);
}

unsigned fs_listener_open(const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage bound;
	socklen_t bound_len = sizeof(bound);
	int one = 1, fd, saved;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	/* As libmicrohttpd does: a restarted server gets its port back at
	 * once; and ::1 means IPv6 only. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, addr, len) != 0 || listen(fd, BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &bound_len) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return 0;
	}
	listen_fd = fd;
	return port_of(&bound);
}

void fs_listener_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode code)
{
	uint64_t one = 1;

	(void)cls;
	(void)conn;
	(void)socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&taken_up, 1);
	if (code != MHD_CONNECTION_NOTIFY_CLOSED)
		return;
	/* libmicrohttpd's thread takes up new connections only after it
	 * has finished this one's clean-up, its own count included. */
	atomic_fetch_sub(&open_connections, 1);
	if (wake_fd >= 0)
		(void)!write(wake_fd, &one, sizeof(one));
}

static void drain_wake(void)
{
	uint64_t n;

	(void)!read(wake_fd, &n, sizeof(n));
}

/* Until a connection closes, the server stops, or ms pass.
 * libmicrohttpd tells of a close just before it closes the descriptor, so
 * the next accept() may still fail once; then this waits again. */
static void wait_for_room(int ms)
{
	struct pollfd p = { wake_fd, POLLIN, 0 };

	if (poll(&p, 1, ms) > 0)
		drain_wake();
}

static bool out_of_descriptors(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/* Once per run: a server at its limit would otherwise say it on every
 * connection. */
static void warn_once(int err)
{
	static bool warned;
	struct rlimit rl;

	if (warned)
		return;
	warned = true;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		rl.rlim_cur = RLIM_INFINITY;
	if (rl.rlim_cur != RLIM_INFINITY)
		fprintf(stderr, PROG ": warning: cannot accept a connection: %s (ulimit -n "
			"%llu); new connections wait until one closes\n", strerror(err),
			(unsigned long long)rl.rlim_cur);
	else
		fprintf(stderr, PROG ": warning: cannot accept a connection: %s; new "
			"connections wait until one closes\n", strerror(err));
}

static void accept_one(void)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	int fd = accept4(listen_fd, (struct sockaddr *)&addr, &len, SOCK_CLOEXEC);

	if (fd >= 0) {
		/* Past --max-connections a connection is closed at once: a
		 * client is told now, not after a wait of unknown length. */
		if (atomic_load(&open_connections) >= max_connections) {
			close(fd);
			return;
		}
		atomic_fetch_add(&open_connections, 1);
		/* It closes fd itself when it refuses it. */
		if (MHD_add_connection(daemon_, fd, (struct sockaddr *)&addr, len) == MHD_YES)
			atomic_fetch_add(&handed_over, 1);
		else
			atomic_fetch_sub(&open_connections, 1);
		return;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
		return;         /* the client gave up first, or a signal */
	if (out_of_descriptors(errno))
		warn_once(errno);
	/* Whatever else went wrong, the socket stays readable: polling it
	 * again at once would spin. */
	wait_for_room(FS_LISTENER_BACKOFF_MS);
}

static void *accept_loop(void *unused)
{
	struct pollfd p[2] = { { listen_fd, POLLIN, 0 }, { wake_fd, POLLIN, 0 } };

	(void)unused;
	while (!atomic_load(&stopping)) {
		if (poll(p, 2, -1) < 0)
			continue;       /* EINTR */
		if (p[1].revents)
			drain_wake();
		if (p[0].revents && !atomic_load(&stopping))
			accept_one();
	}
	return NULL;
}

int fs_listener_start(struct MHD_Daemon *d, unsigned max)
{
	int err;

	daemon_ = d;
	max_connections = max;
	wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wake_fd < 0)
		return -1;
	err = pthread_create(&thread, NULL, accept_loop, NULL);
	if (err) {
		close(wake_fd);
		wake_fd = -1;
		errno = err;
		return -1;
	}
	return 0;
}

void fs_listener_stop(void)
{
	uint64_t one = 1;

	if (wake_fd >= 0) {
		atomic_store(&stopping, true);
		(void)!write(wake_fd, &one, sizeof(one));
		pthread_join(thread, NULL);
		/* See handed_over.  Bounded: a stop must not wait on a
		 * libmicrohttpd thread that is stuck. */
		for (int ms = 0; ms < TAKE_UP_WAIT_MS &&
				 atomic_load(&taken_up) != atomic_load(&handed_over); ms++)
			usleep(1000);
	}
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
}

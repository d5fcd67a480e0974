/* The server's listening socket and the thread that accepts on it.
 *
 * libmicrohttpd 0.9.75 in thread-per-connection mode polls its listening
 * socket whatever happens: at the descriptor limit the socket stays
 * readable, accept() fails with EMFILE at once, and its polling thread
 * burns a whole core (MHD_poll_listen_socket ignores its own "at limit"
 * flag).  So the server accepts here and hands each connection to
 * libmicrohttpd with MHD_add_connection(); when accept() finds no
 * descriptor, the listener stops polling the socket until a connection
 * closes (or FS_LISTENER_BACKOFF_MS pass, for a descriptor freed some
 * other way).  New connections wait in the kernel's backlog meanwhile
 * and are served as soon as there is room.
 */
#ifndef FS_LISTENER_H
#define FS_LISTENER_H

#include <microhttpd.h>
#include <sys/socket.h>

#define FS_LISTENER_BACKOFF_MS 100

/* Binds addr (its port 0: a free one) and listens.  Returns the port, or
 * 0 with errno set. */
unsigned fs_listener_open(const struct sockaddr *addr, socklen_t len);

/* libmicrohttpd's MHD_OPTION_CONNECTION_LIMIT for a --max-connections
 * of max: never reached, the listener keeps the limit (listener.c). */
#define FS_MHD_CONNECTION_LIMIT(max) ((max) + 64U)

/* Starts accepting into d (started with MHD_USE_NO_LISTEN_SOCKET,
 * fs_listener_notify as its MHD_OPTION_NOTIFY_CONNECTION and
 * FS_MHD_CONNECTION_LIMIT(max)), at most max connections at once: past
 * them a new connection is closed at once.  0, or -1 with errno set. */
int fs_listener_start(struct MHD_Daemon *d, unsigned max);

/* libmicrohttpd's connection notifier: a closed connection wakes the
 * listener when it waits for a descriptor. */
void fs_listener_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode code);

/* Stops accepting and closes the listening socket; before
 * MHD_stop_daemon(). */
void fs_listener_stop(void);

#endif

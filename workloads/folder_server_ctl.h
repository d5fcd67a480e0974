/* Starting and stopping folder-api-server as a child process, for the
 * tests and for the folders programs that need a server of their own.
 */
#ifndef PARLAB_FOLDER_SERVER_CTL_H
#define PARLAB_FOLDER_SERVER_CTL_H

#include <stddef.h>
#include <sys/types.h>

struct pl_server {
	pid_t pid;              /* 0 when not running */
	int port;
	char base_url[64];      /* "http://127.0.0.1:PORT", no trailing '/' */
	char error[256];        /* why start failed, one line */
};

/* How long start waits for the port, and stop for the exit after SIGTERM
 * before it sends SIGKILL. */
#define PL_SERVER_START_TIMEOUT_S 10
#define PL_SERVER_STOP_TIMEOUT_S 5

/* Where the server binary is: $PARLAB_FOLDER_SERVER if set, else
 * workloads/folder-api-server beside the running program's build folder
 * (build/openmp/folders -> build/workloads/folder-api-server).  Writes
 * into buf; returns buf, or NULL if it does not fit. */
const char *pl_folder_server_path(char *buf, size_t cap);

/* Starts server_path with --port 0 --port-fd 3 (a pipe: no file is
 * made, in /tmp or anywhere, so a caller killed during the start leaves
 * none behind) and extra_args (NULL or NULL-terminated), and waits until
 * it listens.  Its stdout goes to /dev/null, its stderr is ours.  It dies
 * with the thread that started it (PR_SET_PDEATHSIG), so a crashed test
 * leaves no server behind.  Returns 0, or -1 with out->error set (and no
 * child left running). */
int pl_folder_server_start(const char *server_path, const char *const *extra_args,
			   struct pl_server *out);

/* SIGTERM, then waits up to PL_SERVER_STOP_TIMEOUT_S, then SIGKILL.
 * Returns the exit status (0 for a clean stop), 128 + signal if it was
 * killed, or -1 if it was not running. */
int pl_folder_server_stop(struct pl_server *s);

#endif

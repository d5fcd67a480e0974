/* The worker side of the process backend.
 *
 * A worker is the program itself, started again by posix_spawn with the
 * environment variable CF_PROCESS_WORKER="IN:OUT:PARENT_PID".  This
 * constructor runs before main(), sees the variable, reads tasks from the
 * pipe IN, writes their results to the pipe OUT and exits, so the
 * program's main() never runs in a worker.  Starting a fresh program
 * (rather than fork() alone) is what makes a process pool safe to create
 * while other threads run: a forked child inherits every lock another
 * thread held at that instant, an exec'd one inherits none.
 */
#include "process/worker.h"

#include "core/task.h"
#include "platform/platform.h"
#include "wire/frame_io.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKER_ENV "CF_PROCESS_WORKER"

typedef int (*initializer_fn)(const void *, size_t);

/* Results go up a pipe: a write where the parent is gone raises SIGPIPE,
 * which ends the worker as it should (it dies with its parent anyway). */
static int send_frame(int fd, uint8_t type, uint64_t id, const void *data, size_t len)
{
	return cf__frame_write_pipe(fd, -1, type, id, data, len, NULL, 0);
}

static int send_error(int fd, uint8_t type, uint64_t id, const cf_error *error)
{
	unsigned char buf[4 + CF_ERROR_MESSAGE_MAX];

	cf_wire_put_error(buf, error);
	return send_frame(fd, type, id, buf, cf_wire_error_size(error));
}

static int send_failure(int fd, uint8_t type, uint64_t id, const char *message)
{
	cf_error error = { .code = -1 };

	snprintf(error.message, sizeof(error.message), "%s", message);
	return send_error(fd, type, id, &error);
}

static int run_task(int fd, uint64_t id, unsigned char *payload, size_t len)
{
	size_t arg_len = 0;
	cf_fn fn = (cf_fn)cf__fnref_take(payload, len, &arg_len);
	struct cf_task task;
	int rc;

	if (!fn)
		return send_failure(fd, CF_WIRE_ERROR, id,
				    "the task function is not in the worker's program");
	cf__task_init(&task, arg_len ? payload : NULL, arg_len);
	cf__task_run(&task, fn);
	if (task.error)
		rc = send_error(fd, CF_WIRE_ERROR, id, task.error);
	else
		rc = send_frame(fd, CF_WIRE_RESULT, id, cf__bytes_data(&task.result),
				task.result.size);
	cf__task_clear(&task);
	return rc;
}

/* 0 when the initializer succeeded. */
static int run_initializer(int fd, unsigned char *payload, size_t len)
{
	size_t arg_len = 0;
	initializer_fn init = (initializer_fn)cf__fnref_take(payload, len, &arg_len);
	int rc;

	if (!init) {
		send_failure(fd, CF_WIRE_INIT_FAILED, 0,
			     "the initializer is not in the worker's program");
		return -1;
	}
	rc = init(arg_len ? payload : NULL, arg_len);
	if (rc != 0) {
		char message[64];
		snprintf(message, sizeof(message), "initializer returned %d", rc);
		send_failure(fd, CF_WIRE_INIT_FAILED, 0, message);
		return -1;
	}
	return 0;
}

/* Serves frames from in_fd, answering on out_fd, until told to exit or
 * the parent goes away.  Returns the exit status: 0 on EXIT or EOF, 1
 * after a failed initializer, 3 on a protocol error. */
static int serve(int in_fd, int out_fd)
{
	static struct cf_frame_inbuf in;

	for (;;) {
		struct cf_wire_header h;
		unsigned char *payload;
		enum cf_wire_error wire_error;
		enum cf_frame_status st = cf__frame_read(in_fd, &in, &h, &payload, &wire_error);
		int rc = 0;

		if (st == CF_FRAME_EOF)
			return 0;
		if (st != CF_FRAME_OK)
			return 3;
		switch (h.type) {
		case CF_WIRE_TASK:
			rc = run_task(out_fd, h.id, payload, h.length) == CF_FRAME_OK ? 0 : 3;
			break;
		case CF_WIRE_INIT:
			rc = run_initializer(out_fd, payload, h.length) == 0 ? 0 : 1;
			break;
		case CF_WIRE_EXIT:
			free(payload);
			return 0;
		default:
			rc = 3;
		}
		free(payload);
		if (rc)
			return rc;
	}
}

__attribute__((constructor)) void cf__process_worker_entry(void)
{
	const char *spec = getenv(WORKER_ENV);
	int in_fd, out_fd;
	long parent;

	if (!spec || sscanf(spec, "%d:%d:%ld", &in_fd, &out_fd, &parent) != 3)
		return;
	unsetenv(WORKER_ENV);
	/* Die with the pool's process instead of lingering as an orphan. */
	cf__die_with_parent();
	if (getppid() != (pid_t)parent)
		_exit(0);
	int status = serve(in_fd, out_fd);
	fflush(NULL);
	_exit(status);
}

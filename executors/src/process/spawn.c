/* Starting and reaping workers (pool.h), and the program file they run. */
#include "process/pool.h"

#include "base/annotate.h"
#include "base/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* A worker's descriptors: it reads tasks from the first, writes results
 * to the second (worker.c). */
#define WORKER_TASKS_FD 3
#define WORKER_RESULTS_FD 4

/* A TASK frame at its largest, its argument aside: header, function name. */
#define TASK_FRAME_EXTRA (CF_WIRE_HEADER_SIZE + 2 + CF_WIRE_MAX_NAME + 8)

/* A close whose failure leaves nothing to do: on Linux the descriptor is
 * released even when close reports EINTR or EIO, and EBADF would be a
 * bug of ours. */
static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Moves fd to a number above WORKER_RESULTS_FD: 0 or an errno. */
static int move_above_worker_fds(int *fd)
{
	int moved = fcntl(*fd, F_DUPFD_CLOEXEC, WORKER_RESULTS_FD + 1);
	int err = moved < 0 ? errno : 0;

	close_fd(fd);
	*fd = moved;
	return err;
}

static void close_pipes(int tasks[2], int results[2])
{
	close_fd(&tasks[0]);
	close_fd(&tasks[1]);
	close_fd(&results[0]);
	close_fd(&results[1]);
}

/* A new worker's two pipes, close-on-exec: tasks down, results up.  The
 * spawn gives tasks[0] and results[1] to the worker, the pool keeps the
 * rest.  The spawn's first dup2 overwrites WORKER_TASKS_FD, so results[1]
 * must not be that descriptor (possible only if another thread closed
 * low descriptors between the two pipes). */
static int open_pipes(int tasks[2], int results[2])
{
	int err;

	results[0] = results[1] = -1;
	err = cf__pipe_cloexec(tasks);
	if (err)
		return err;
	err = cf__pipe_cloexec(results);
	if (!err && results[1] == WORKER_TASKS_FD)
		err = move_above_worker_fds(&results[1]);
	if (!err && fcntl(tasks[1], F_SETFL, O_NONBLOCK) != 0)
		err = errno;
	if (err)
		close_pipes(tasks, results);
	return err;
}

/* The path that starts this program: its name while that still names the
 * same file, else the descriptor kept open on it (the child's own
 * descriptors are closed by then; the parent's stay open). */
static const char *exe_to_start(struct process_pool *p, char *buf, size_t size)
{
	struct stat now;

	if (stat(p->exe, &now) == 0 && now.st_dev == p->exe_dev && now.st_ino == p->exe_ino)
		return p->exe;
	cf__fd_path(p->exe_fd, buf, size);
	return buf[0] ? buf : p->exe;
}

/* The worker gets its two pipe ends as fds 3 and 4 and nothing else the
 * program had open beyond stdin, stdout and stderr. */
static int worker_fd_actions(posix_spawn_file_actions_t *actions, const int tasks[2],
			     const int results[2])
{
	int err = posix_spawn_file_actions_init(actions);

	if (err)
		return err;
	err = posix_spawn_file_actions_adddup2(actions, tasks[0], WORKER_TASKS_FD);
	if (!err)
		err = posix_spawn_file_actions_adddup2(actions, results[1], WORKER_RESULTS_FD);
	if (!err)
		err = cf__spawn_close_from(actions, WORKER_RESULTS_FD + 1);
	if (err)
		posix_spawn_file_actions_destroy(actions);
	return err;
}

/* The environment with CF_PROCESS_WORKER in front (spec holds it), or
 * NULL. */
static char **worker_environment(char *spec, size_t spec_size)
{
	size_t nenv = 0;

	while (environ[nenv])
		nenv++;
	char **env = malloc((nenv + 2) * sizeof(*env));
	if (!env)
		return NULL;
	snprintf(spec, spec_size, "CF_PROCESS_WORKER=%d:%d:%ld", WORKER_TASKS_FD,
		 WORKER_RESULTS_FD, (long)getpid());
	env[0] = spec;
	memcpy(env + 1, environ, (nenv + 1) * sizeof(*env));
	return env;
}

/* Starts the program again as a worker on these pipes; its pid in *pid. */
static int spawn_process(struct process_pool *p, const int tasks[2], const int results[2],
			 pid_t *pid)
{
	posix_spawn_file_actions_t actions;
	char spec[64], kept[64];
	char *argv[] = { p->exe, NULL };
	char **env = worker_environment(spec, sizeof(spec));

	if (!env)
		return ENOMEM;
	int err = worker_fd_actions(&actions, tasks, results);
	if (!err) {
		err = posix_spawn(pid, exe_to_start(p, kept, sizeof(kept)), &actions, NULL,
				  argv, env);
		posix_spawn_file_actions_destroy(&actions);
	}
	free(env);
	return err;
}

/* Waits for pid, which has exited or is about to; its wait status, or -1
 * when it cannot be had (ECHILD: the program reaps its children itself,
 * or ignores SIGCHLD). */
static int wait_for(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Kills and reaps a worker that never became READY.  kill fails only for
 * a process already reaped, and this one is not. */
static void discard_process(pid_t pid)
{
	kill(pid, SIGKILL);
	wait_for(pid);
}

/* The INIT frame goes first, before any task can be sent.  EPIPE: the
 * worker died at once, which the manager learns, with its exit status,
 * from the end of its result pipe.  Any other failure (a frame too long)
 * would leave a worker without its initializer: 0 or an errno. */
static int send_init(struct process_pool *p, int tasks_fd, int results_fd)
{
	if (!p->init_frame || cf__frame_write_pipe(tasks_fd, results_fd, CF_WIRE_INIT, 0,
						   p->init_frame, p->init_frame_len,
						   NULL, 0) == CF_FRAME_OK)
		return 0;
	return errno == EPIPE ? 0 : errno;
}

/* Starts the process, watched by the manager and initialised: 0 or an
 * errno, with everything undone. */
static int start_process(struct process_pool *p, struct worker *w, int tasks[2], int results[2],
			 pid_t *pid)
{
	int err = spawn_process(p, tasks, results, pid);

	close_fd(&results[1]);  /* the worker's alone: its end is the pool's EOF */
	if (err)
		return err;
	err = cf__poller_add(&p->poller, results[0], w);
	if (err) {
		discard_process(*pid);
		return err;
	}
	err = send_init(p, tasks[1], results[0]);
	if (err) {
		/* Removing what was just added fails only on a bug; closing
		 * the descriptor removes it anyway. */
		cf__poller_remove(&p->poller, results[0]);
		discard_process(*pid);
	}
	return err;
}

int cf__proc_spawn_worker(struct process_pool *p, struct worker *w)
{
	int tasks[2], results[2], err;
	pid_t pid;

	if (p->exe_problem)
		return ENOEXEC;
	err = open_pipes(tasks, results);
	if (err)
		return err;
	err = start_process(p, w, tasks, results, &pid);
	if (err) {
		close_pipes(tasks, results);
		return err;
	}
	atomic_fetch_add(&p->processes_created, 1);
	/* A task sent ahead must fit in the empty pipe (WORKER_DEPTH).  A
	 * pipe is 64 KiB unless the user's pipe limit made it smaller; one
	 * whose size is unknown gets no task ahead. */
	int pipe_size = cf__pipe_capacity(tasks[1]);
	w->tasks_fd = tasks[1];
	w->tasks_kept_fd = tasks[0];
	w->results_fd = results[0];
	pthread_mutex_lock(&p->lock);
	CF_DEBUG_ASSERT(w->state == WORKER_FREE);
	w->ahead_max = pipe_size > TASK_FRAME_EXTRA ? (size_t)pipe_size - TASK_FRAME_EXTRA : 0;
	w->pid = pid;
	w->state = WORKER_READY;
	w->ntasks = 0;
	w->tasks_done = 0;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);   /* a shorter sleep, when interrupted, is fine */
}

/* Waits up to grace_s for pid to exit on its own; true if it did, with
 * its wait status in *status. */
static bool exited_within(pid_t pid, double grace_s, int *status)
{
	double end = cf__now() + grace_s;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return true;
		if ((r < 0 && errno != EINTR) || cf__now() >= end)
			return false;
		sleep_ms(1);
	}
}

/* Stops both readers' and writers' use of w's descriptors and closes
 * them.  The poller may have lost w already (a borrower could not put it
 * back, which broke the pool): closing is all that is left either way. */
static void close_worker_fds(struct process_pool *p, struct worker *w)
{
	pthread_mutex_lock(&w->read_lock);
	cf__poller_remove(&p->poller, w->results_fd);
	pthread_mutex_lock(&w->send_lock);
	close_fd(&w->results_fd);
	close_fd(&w->tasks_fd);
	close_fd(&w->tasks_kept_fd);
	pthread_mutex_unlock(&w->send_lock);
	cf__frame_reader_clear(&w->reader);
	pthread_mutex_unlock(&w->read_lock);
}

/* The slot is kept until the worker is reaped, so that nobody reuses it. */
int cf__proc_reap_worker(struct process_pool *p, struct worker *w, bool kill_it, double grace_s)
{
	pid_t pid = w->pid;
	int status = -1;
	bool reaped = kill_it && grace_s > 0 && exited_within(pid, grace_s, &status);

	/* Its result pipe hangs up: that frees a writer waiting for room in
	 * its task pipe and a borrower waiting on it. */
	if (kill_it && !reaped)
		kill(pid, SIGKILL);
	close_worker_fds(p, w);
	if (!reaped)
		status = wait_for(pid);
	pthread_mutex_lock(&p->lock);
	CF_DEBUG_ASSERT(w->state == WORKER_RETIRING || w->state == WORKER_STOPPING);
	w->state = WORKER_FREE;
	pthread_mutex_unlock(&p->lock);
	return status;
}

/* A dynamic program started through its loader ("ld.so PROGRAM") would
 * start the loader alone: the pool says why no worker can start instead. */
int cf__proc_open_exe(struct process_pool *p)
{
	struct stat st;

	if (cf__exe_path(p->exe, sizeof(p->exe)) <= 0)
		return -1;
	if (cf__started_by_loader())
		p->exe_problem = "the program was started through the dynamic loader "
				 "(ld.so PROGRAM), and a worker would start the loader "
				 "alone: run the program directly";
	/* Deleted already, the name ends in " (deleted)": the program's own
	 * file still opens. */
	p->exe_fd = open(p->exe, O_RDONLY | O_CLOEXEC);
	if (p->exe_fd < 0)
		p->exe_fd = cf__exe_open();
	if (p->exe_fd < 0 || fstat(p->exe_fd, &st) != 0)
		return -1;
	p->exe_dev = st.st_dev;
	p->exe_ino = st.st_ino;
	return 0;
}

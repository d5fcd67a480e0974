/* folders with raw processes: fork, two pipes, waitpid, and a bucket in
 * shared memory.
 *
 * Processes share no memory unless asked to, so each piece of shared
 * state has to be placed somewhere on purpose:
 *
 * The cache lives in the parent, which removes the duplicates before any
 * child exists: each distinct id is handed out once, so each is fetched
 * once.  That is the cost of a model that does not share: a cache the
 * workers could consult as they go would have to be built in shared
 * memory, with a process-shared lock and a way to wait for an entry in
 * progress (the raw_threads version, plus mmap and robust mutexes).  With
 * the whole list known up front, removing the duplicates first is both
 * simpler and exact.  (It would not do for a stream of ids.)
 *
 * The work goes out through one pipe that every child reads: the parent
 * writes distinct-id numbers, 8 bytes each, and whichever child is free
 * reads the next one.  Writes of at most PIPE_BUF bytes are atomic and
 * every read asks for exactly one record, so no record is ever split
 * between two children.  Answers come back through a second pipe, one
 * fixed-size record per write (below PIPE_BUF, so never interleaved).
 * The parent polls both pipes: it keeps feeding ids while it reads
 * answers, so neither side can block the other on a full pipe.
 *
 * The rate limit is one token bucket in a MAP_SHARED mapping, made before
 * the fork so every child sees the same one, behind a process-shared
 * mutex.  The mutex is robust: a child that dies holding it does not
 * leave the others waiting forever; the next locker is told (EOWNERDEAD)
 * and carries on.
 *
 * A child that crashes is reported with its signal; the ids it had taken
 * and not answered are reported as failed folders, the parent still waits
 * for every other child, and the exit status is 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_status.h"
#include "cli.h"
#include "folders_work.h"
#include "stats.h"
#include "token_bucket.h"

static const struct pl_program program = {
	.name = "raw_processes/folders",
	.summary = "folder names looked up by forked children: the parent removes "
		   "duplicates, pipes carry ids and answers, the bucket is in shared memory",
	.workload = PL_FOLDERS,
	.default_workers = 5,
	PL_FOLDERS_OPTIONS,
};

/* The token bucket every process uses, in a MAP_SHARED mapping. */
struct shared_bucket {
	pthread_mutex_t lock;           /* process-shared and robust */
	struct pl_token_bucket bucket;
};

/* One answer on the answer pipe. */
struct answer_msg {
	long slot;                      /* which distinct id */
	struct pl_folder_answer answer;
};
_Static_assert(sizeof(struct answer_msg) <= PIPE_BUF, "answers must be atomic writes");

/* Who each worker is, for waitpid and the messages.  Static rather than
 * malloc'ed: a child leaves with _exit and never frees. */
static pid_t pids[PL_MAX_WORKERS];

/* Test hook: PARLAB_TEST_CRASH_WORKER=K makes worker K (counting from 0)
 * kill itself with SIGKILL after taking its first id, so the tests can
 * crash a child mid-run deterministically.  Unset in normal use. */
static long crash_worker(void)
{
	const char *k = getenv("PARLAB_TEST_CRASH_WORKER");

	return k && *k ? strtol(k, NULL, 10) : -1;
}

static struct shared_bucket *make_shared_bucket(const struct pl_folders *f)
{
	pthread_mutexattr_t attr;
	struct shared_bucket *sb = mmap(NULL, sizeof(*sb), PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (sb == MAP_FAILED)
		pl_die(f->opts, "mmap: %s", strerror(errno));
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&sb->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pl_token_bucket_init(&sb->bucket, f->rate, f->burst);
	return sb;
}

static void wait_for_token(struct shared_bucket *sb)
{
	/* The holder died inside these few lines: the bucket is at worst a
	 * token off, which is fine for a rate limit. */
	if (pthread_mutex_lock(&sb->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&sb->lock);
	double wait = pl_token_bucket_reserve(&sb->bucket, pl_now());
	pthread_mutex_unlock(&sb->lock);
	pl_sleep_s(wait);
}

/* Reads exactly len bytes; returns len, 0 at end of file, -1 on error. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : (ssize_t)got;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* The hook itself (crash_worker), called by every child before it serves
 * so that serve's loop has no test in it: worker K takes one id and dies
 * without answering it (getting no id, it does not). */
static void test_crash_after_first_id(long id, int ids_in)
{
	long slot;

	if (id == crash_worker() && read_full(ids_in, &slot, sizeof(slot)) == sizeof(slot))
		raise(SIGKILL);
}

/* A child: take the next distinct id, wait for a token, fetch, answer;
 * until the parent closes the id pipe.  Returns the child's exit status. */
static int serve(const struct pl_folders *f, const long *distinct,
		 struct shared_bucket *sb, int ids_in, int answers_out)
{
	struct answer_msg m;
	long slot;

	while (read_full(ids_in, &slot, sizeof(slot)) == sizeof(slot)) {
		wait_for_token(sb);
		pl_folders_fetch(f->client, distinct[slot], f->work_us, &m.answer);
		m.slot = slot;
		if (write(answers_out, &m, sizeof(m)) != sizeof(m))
			return 1;
	}
	return 0;
}

/* The parent's loop: feed slot numbers into the id pipe while reading
 * answers, until every child has closed the answer pipe. */
static void feed_and_collect(long n_distinct, int ids_out, int answers_in,
			     struct pl_folder_answer *answers, bool *answered)
{
	long sent = 0;

	fcntl(ids_out, F_SETFL, O_NONBLOCK);
	if (n_distinct == 0) {
		close(ids_out);
		ids_out = -1;
	}
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = answers_in, .events = POLLIN },
			{ .fd = ids_out, .events = POLLOUT },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) {
			ssize_t w = 0;

			while (sent < n_distinct &&
			       (w = write(ids_out, &sent, sizeof(sent))) == sizeof(sent))
				sent++;
			/* All sent, or no child left to read (EPIPE): either
			 * way the children must now see the end. */
			if (sent == n_distinct || (w < 0 && errno != EAGAIN && errno != EINTR)) {
				close(ids_out);
				ids_out = -1;
			}
		}
		if (p[0].revents) {
			struct answer_msg m;
			ssize_t n = read_full(answers_in, &m, sizeof(m));

			if (n != sizeof(m))
				break;  /* every child has exited */
			if (m.slot >= 0 && m.slot < n_distinct) {
				answers[m.slot] = m.answer;
				answered[m.slot] = true;
			}
		}
	}
	if (ids_out >= 0)
		close(ids_out);
	close(answers_in);
}

int main(int argc, char **argv)
{
	struct pl_options opts;
	struct pl_folders f;
	struct pl_id_map cache;
	long n_distinct = 0;
	int ids_pipe[2], answer_pipe[2];

	pl_parse_args(argc, argv, &program, &opts);
	/* Whoever started us may have left SIGCHLD ignored (some shells and
	 * daemons do, and exec keeps it): the kernel then reaps our children
	 * itself and every waitpid below fails with ECHILD.  Take the default
	 * back before the first fork. */
	signal(SIGCHLD, SIG_DFL);
	pl_children_die_with_parent(&opts);
	pl_folders_begin(&f, &opts);

	/* The cache, all of it, before any child exists. */
	size_t room = f.n ? (size_t)f.n : 1;
	long *distinct = calloc(room, sizeof(*distinct));
	long *slot_of = calloc(room, sizeof(*slot_of));
	struct pl_folder_answer *answers = calloc(room, sizeof(*answers));
	bool *answered = calloc(room, sizeof(*answered));
	if (!distinct || !slot_of || !answers || !answered)
		pl_die(&opts, "out of memory");
	pl_id_map_init(&cache, room);
	for (long i = 0; i < f.n; i++) {
		long k = pl_id_map_get(&cache, f.ids[i]);

		if (k < 0) {
			k = n_distinct++;
			pl_id_map_put(&cache, f.ids[i], k);
			distinct[k] = f.ids[i];
		}
		slot_of[i] = k;
	}

	struct shared_bucket *sb = make_shared_bucket(&f);
	if (pipe(ids_pipe) || pipe(answer_pipe))
		pl_die(&opts, "pipe: %s", strerror(errno));
	/* A write to an id pipe nobody reads any more must fail with EPIPE,
	 * not kill the parent; the old disposition comes back before the
	 * results are printed, so that a reader gone from stdout ends this
	 * program as it ends the others. */
	struct sigaction ignore = { .sa_handler = SIG_IGN }, sigpipe_before;
	sigaction(SIGPIPE, &ignore, &sigpipe_before);
	fflush(NULL);

	long started = 0;
	int fork_err = 0;
	for (; started < opts.workers; started++) {
		pid_t pid = fork();

		if (pid < 0) {
			fork_err = errno;
			break;
		}
		if (pid == 0) {
			/* Only the parent writes ids and reads answers: a
			 * child holding those ends open would keep the other
			 * children from ever seeing the end of the id pipe. */
			close(ids_pipe[1]);
			close(answer_pipe[0]);
			test_crash_after_first_id(started, ids_pipe[0]);
			int code = serve(&f, distinct, sb, ids_pipe[0], answer_pipe[1]);
			/* The child's copies of the parent's tables: freed, so
			 * that valgrind sees no leak in any process.  _exit, not
			 * exit: the child must not flush the stdio buffers or run
			 * the atexit handlers it inherited from the parent. */
			free(distinct);
			free(slot_of);
			free(answers);
			free(answered);
			_exit(code);
		}
		pids[started] = pid;
		pl_count_processes(1);
	}
	close(ids_pipe[0]);
	close(answer_pipe[1]);

	if (started > 0)
		feed_and_collect(n_distinct, ids_pipe[1], answer_pipe[0], answers, answered);

	bool worker_failed = false;
	for (long k = 0; k < started; k++) {
		int status;

		if (waitpid(pids[k], &status, 0) < 0)
			pl_die(&opts, "waitpid: %s", strerror(errno));
		worker_failed |= pl_report_child(&opts, k, pids[k], status);
	}
	sigaction(SIGPIPE, &sigpipe_before, NULL);
	if (fork_err)
		pl_die(&opts, "fork: %s", strerror(fork_err));

	for (long k = 0; k < n_distinct; k++)
		if (!answered[k])
			pl_folders_lost(&answers[k], distinct[k], "its worker died");
	for (long i = 0; i < f.n; i++)
		pl_folders_set(&f, i, &answers[slot_of[i]]);

	int status = pl_folders_finish(&f);
	pthread_mutex_destroy(&sb->lock);
	munmap(sb, sizeof(*sb));
	pl_id_map_free(&cache);
	free(distinct);
	free(slot_of);
	free(answers);
	free(answered);
	return status || worker_failed;
}

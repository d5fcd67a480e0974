#define _GNU_SOURCE
#include "child_status.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The process that is forking, noted just before the fork in the forking
 * thread and read just after it in the child, whose one thread is a copy
 * of that thread: thread-local, so that two threads forking at once
 * cannot swap their values. */
static _Thread_local pid_t forker;

static void note_forker(void)
{
	forker = getpid();
}

/* Runs in every new child, inside fork(), before fork returns there.
 * Nothing tells a child that its parent died: it is handed to init (or a
 * subreaper) and runs on, and a parent killed by SIGKILL gets no chance
 * to kill it.  So the child asks the kernel itself; the request is not
 * inherited, every child must make it. */
static void die_with_forker(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* A parent that died before the line above sends nothing: the child
	 * has already been handed over, and its parent is someone else. */
	if (getppid() != forker)
		_exit(1);
}

void pl_children_die_with_parent(const struct pl_options *opts)
{
	/* A fork handler rather than two lines after each fork(): one call
	 * covers every fork in the program, and the child asks before fork()
	 * has even returned in it. */
	int err = pthread_atfork(note_forker, NULL, die_with_forker);

	if (err)
		pl_die(opts, "pthread_atfork: %s", strerror(err));
}

bool pl_report_child(const struct pl_options *opts, long worker, pid_t pid, int status)
{
	const char *name = opts->program->name;

	if (WIFSIGNALED(status)) {
		fprintf(stderr, "%s: worker %ld (pid %d) killed by signal %d (%s)\n", name,
			worker, (int)pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
		return true;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: worker %ld (pid %d) exited with status %d\n", name, worker,
			(int)pid, WEXITSTATUS(status));
		return true;
	}
	return false;
}

#define _GNU_SOURCE
#include "child_status.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

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

/* How a model that forks reports what became of a child, in one format:
 * "PROG: worker K (pid N) killed by signal S (Name)". */
#ifndef PARLAB_CHILD_STATUS_H
#define PARLAB_CHILD_STATUS_H

#include <stdbool.h>
#include <sys/types.h>

#include "cli.h"

/* Given a wait status from waitpid: prints one line on stderr and returns
 * true when the child failed (a signal, or an exit status other than 0). */
bool pl_report_child(const struct pl_options *opts, long worker, pid_t pid, int status);

#endif

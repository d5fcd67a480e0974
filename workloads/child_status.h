/* What a model that forks needs around its children: that none outlives
 * it, and a report of what became of each, in one format:
 * "PROG: worker K (pid N) killed by signal S (Name)". */
#ifndef PARLAB_CHILD_STATUS_H
#define PARLAB_CHILD_STATUS_H

#include <stdbool.h>
#include <sys/types.h>

#include "cli.h"

/* Call once, before the first fork: from then on every child this
 * process forks is killed (SIGKILL) when the thread that forked it dies,
 * however it dies, SIGKILL included, and a child whose parent died before
 * it could ask for that exits at once.  Linux only (PR_SET_PDEATHSIG). */
void pl_children_die_with_parent(const struct pl_options *opts);

/* Given a wait status from waitpid: prints one line on stderr and returns
 * true when the child failed (a signal, or an exit status other than 0). */
bool pl_report_child(const struct pl_options *opts, long worker, pid_t pid, int status);

#endif

/* What the programs written with the cf library share: the backend words
 * for --executor and the --stats counts of what a pool created. */
#ifndef PARLAB_CF_GLUE_H
#define PARLAB_CF_GLUE_H

#include "cf.h"
#include "cli.h"

/* "thread", "process", "mpi", NULL: the choices of --executor. */
extern const char *const pl_cf_backends[];

/* Called right after pl_parse_args, before anything else happens: when
 * --executor names a backend this program lacks (mpi, which only the
 * copies in build/executors/mpi/ link), execs that copy with the same
 * arguments; where there is none, a usage error (exit status 2). */
void pl_cf_use_backend_build(const struct pl_options *o, char **argv);

/* What a cf status means for the programs' messages: cf_strerror(st),
 * and for CF_BROKEN why ex broke ("executor is broken: worker 1 (pid
 * 4711) ended: killed by signal 9 (Killed)"); for CF_SYSTEM the system's
 * word from errno.  ex may be NULL.  A static buffer: one thread. */
const char *pl_cf_why(cf_executor *ex, cf_status st);

/* Says "what: why" as pl_die does and exits 1, after freeing ex (NULL
 * allowed) so its threads and workers end before the program does: a
 * broken pool's manager thread has already returned and is joined here,
 * not left behind for the exit. */
void pl_cf_die(const struct pl_options *o, cf_executor *ex, cf_status st, const char *what)
	__attribute__((noreturn));

/* Adds the threads and processes ex created to the --stats counters. */
void pl_count_cf_workers(cf_executor *ex);

#endif

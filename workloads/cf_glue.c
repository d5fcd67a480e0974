#include "cf_glue.h"
#include "stats.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *const pl_cf_backends[] = { "thread", "process", "mpi", NULL };

void pl_cf_use_backend_build(const struct pl_options *o, char **argv)
{
	const char *backend = pl_choice(o, "executor");
	char exe[PATH_MAX], copy[PATH_MAX], path[PATH_MAX + 8];
	ssize_t n;

	if (cf_backend_available(backend))
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(copy, sizeof(copy), "%s", exe);
		snprintf(path, sizeof(path), "%s/mpi/%s", dirname(exe), basename(copy));
		execv(path, argv);
	}
	pl_usage_error(o, "--executor %s: this build has no MPI backend (build/executors/mpi/ "
		       "is made only where pkg-config finds Open MPI's ompi-c; "
		       "`scripts/deps test` installs it)", backend);
}

const char *pl_cf_why(cf_executor *ex, cf_status st)
{
	static char buf[320];
	const char *why = st == CF_BROKEN ? cf_executor_broken_reason(ex) : NULL;

	if (why)
		snprintf(buf, sizeof(buf), "%s: %s", cf_strerror(st), why);
	else if (st == CF_SYSTEM && errno)
		snprintf(buf, sizeof(buf), "%s: %s", cf_strerror(st), strerror(errno));
	else
		snprintf(buf, sizeof(buf), "%s", cf_strerror(st));
	return buf;
}

void pl_cf_die(const struct pl_options *o, cf_executor *ex, cf_status st, const char *what)
{
	char message[400];

	snprintf(message, sizeof(message), "%s: %s", what, pl_cf_why(ex, st));
	if (ex)
		cf_executor_free(ex);
	pl_die(o, "%s", message);
}

void pl_count_cf_workers(cf_executor *ex)
{
	cf_executor_stats stats;

	if (cf_executor_stats_get(ex, &stats) != CF_OK)
		return;
	/* The process pool's manager thread is a thread the program got too. */
	pl_count_threads((long)(stats.threads_created + stats.helper_threads));
	pl_count_processes((long)stats.processes_created);
}

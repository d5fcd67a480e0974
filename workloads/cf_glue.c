#include "cf_glue.h"
#include "stats.h"

const char *const pl_cf_backends[] = { "thread", "process", NULL };

void pl_count_cf_workers(cf_executor *ex)
{
	cf_executor_stats stats;

	if (cf_executor_stats_get(ex, &stats) != CF_OK)
		return;
	/* The process pool's manager thread is a thread the program got too. */
	pl_count_threads((long)(stats.threads_created + stats.helper_threads));
	pl_count_processes((long)stats.processes_created);
}

#include "cf_measure.h"

#include "micro_util.h"
#include "stats.h"

int micro_empty_task(cf_task *task)
{
	(void)task;
	return 0;
}

double micro_map_empty_ns(cf_executor *ex, long tasks, size_t chunksize)
{
	cf_map_options opts = { .timeout = CF_FOREVER, .chunksize = chunksize };
	cf_map_iter *it;
	long got = 0;

	double start = pl_now();
	if (cf_map(ex, micro_empty_task, NULL, 0, (size_t)tasks, &opts, &it) != CF_OK)
		micro_fail("cf_map failed");
	while (cf_map_next(it, NULL, NULL) == CF_OK)
		got++;
	cf_map_free(it);
	double elapsed = pl_now() - start;
	if (got != tasks)
		micro_fail("cf_map lost results");
	return elapsed * 1e9 / tasks;
}

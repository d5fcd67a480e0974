/* sleep with the executor library: the seed's
 *
 *     with ThreadPoolExecutor(max_workers=3) as executor:
 *         futures = [executor.submit(task, i) for i in [3, 1, 2]]
 *         for future in as_completed(futures):
 *             print(future.result())
 */
#include <stdlib.h>
#include <string.h>

#include "cf.h"
#include "cf_glue.h"
#include "cli.h"
#include "sleep_work.h"

struct sleep_arg {
	long index;
	double scale;
	long work_us;
};

/* The seed's task(n): sleeps n seconds, returns "Task n completed". */
static int task(cf_task *t)
{
	const struct sleep_arg *arg = cf_task_arg(t, NULL);
	char message[PL_SLEEP_MSG_MAX];

	pl_sleep_task(arg->index, arg->scale, arg->work_us, message);
	return cf_task_return(t, message, strlen(message) + 1);
}

static struct pl_choice_option choices[] = {
	{ .name = "executor", .choices = pl_cf_backends, .value = "thread",
	  .help = "the backend: the one word that changes" },
	{ 0 },
};
static const struct pl_program program = {
	.name = "executors/sleep",
	.summary = "tasks sleeping 3, 1, 2 s submitted to a pool, printed with as_completed",
	.workload = PL_SLEEP,
	.default_workers = 3,
	.choices = choices,
};

int main(int argc, char **argv)
{
	struct pl_options o;
	struct pl_sleep_results results;
	cf_executor *ex;
	cf_as_completed *completed;
	cf_future *future;
	cf_status st;

	pl_parse_args(argc, argv, &program, &o);
	pl_cf_use_backend_build(&o, argv);
	cf_future **futures = calloc((size_t)o.tasks + 1, sizeof(*futures));
	if (!futures)
		pl_die(&o, "out of memory for %ld futures", o.tasks);

	cf_options opts = { .max_workers = (int)o.workers };
	st = cf_executor_new(pl_choice(&o, "executor"), &opts, &ex);
	if (st != CF_OK)
		pl_cf_die(&o, NULL, st, "cannot create the executor");

	for (long i = 0; i < o.tasks; i++) {
		struct sleep_arg arg = { .index = i, .scale = o.scale, .work_us = o.work_us };
		st = cf_submit(ex, task, &arg, sizeof(arg), &futures[i]);
		if (st != CF_OK)
			pl_cf_die(&o, ex, st, "submit");
	}

	pl_sleep_begin(&results, &o);
	st = cf_as_completed_new(futures, (size_t)o.tasks, CF_FOREVER, &completed);
	while (st == CF_OK && (st = cf_as_completed_next(completed, &future)) == CF_OK) {
		const char *message;
		st = cf_future_result(future, CF_FOREVER, (const void **)&message, NULL);
		if (st == CF_OK)
			pl_sleep_collect(&results, message);
	}
	if (st != CF_END)
		pl_cf_die(&o, ex, st, "as_completed");

	cf_as_completed_free(completed);
	for (long i = 0; i < o.tasks; i++)
		cf_future_release(futures[i]);
	free(futures);
	pl_count_cf_workers(ex);
	cf_executor_free(ex);
	return pl_sleep_finish(&results);
}

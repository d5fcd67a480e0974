/* cf_wait: block until some, the first failed, or all futures are done.
 * The C side of chapter 3.
 *
 *     fs = [executor.submit(nap, ms) for ms in (300, 100, 600)]  # 100 fails
 *     done, not_done = wait(fs, return_when=FIRST_COMPLETED)
 *     done, not_done = wait(fs, return_when=FIRST_EXCEPTION)
 *     done, not_done = wait(fs, timeout=0.1)                     # ALL_COMPLETED
 *     done, not_done = wait(fs)
 *
 * Build and run from the top of the repository (after `make`):
 *     cc -O2 -Iexecutors/include -o build/wait docs/tutorial/examples/wait.c \
 *        build/libcf.a -pthread
 *     build/wait
 */
#include <stdio.h>
#include <time.h>

#include "cf.h"

/* Sleeps `ms` milliseconds; the 100 ms task fails after its sleep. */
static int nap(cf_task *task)
{
	const long *ms = cf_task_arg(task, NULL);
	struct timespec ts = { *ms / 1000, (*ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	if (*ms == 100)
		return cf_task_fail(task, 5, "the %ld ms task failed", *ms);
	return cf_task_return(task, ms, sizeof(*ms));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void show(const char *call, cf_status st, size_t n_done, size_t n_not_done,
		 double start)
{
	printf("%-34s %-9s done=%zu not_done=%zu after %.1f s\n", call, cf_strerror(st),
	       n_done, n_not_done, now() - start);
}

int main(void)
{
	const long durations[] = { 300, 100, 600 };
	cf_options opts = { .max_workers = 3 };
	cf_future *fs[3], *done[3], *not_done[3];
	size_t nd, nn;
	cf_executor *ex;

	if (cf_executor_new("thread", &opts, &ex) != CF_OK)
		return 1;
	double start = now();
	for (int i = 0; i < 3; i++)
		cf_submit(ex, nap, &durations[i], sizeof(durations[i]), &fs[i]);

	cf_status st = cf_wait(fs, 3, CF_FOREVER, CF_FIRST_COMPLETED, done, &nd, not_done, &nn);
	show("wait(FIRST_COMPLETED)", st, nd, nn, start);

	st = cf_wait(fs, 3, CF_FOREVER, CF_FIRST_EXCEPTION, done, &nd, not_done, &nn);
	show("wait(FIRST_EXCEPTION)", st, nd, nn, start);
	for (size_t i = 0; i < nd; i++) {
		const cf_error *error;
		if (cf_future_exception(done[i], 0, &error) == CF_OK && error)
			printf("    the failure: %s\n", error->message);
	}

	st = cf_wait(fs, 3, 0.1, CF_ALL_COMPLETED, done, &nd, not_done, &nn);
	show("wait(ALL_COMPLETED, timeout=0.1)", st, nd, nn, start);

	st = cf_wait(fs, 3, CF_FOREVER, CF_ALL_COMPLETED, done, &nd, not_done, &nn);
	show("wait(ALL_COMPLETED)", st, nd, nn, start);

	for (int i = 0; i < 3; i++)
		cf_future_release(fs[i]);
	cf_executor_free(ex);
	return 0;
}

/* Leaving the `with` block early: chapter 1's second prediction.
 *
 *     with ThreadPoolExecutor(max_workers=2) as executor:
 *         fs = [executor.submit(nap, 300) for _ in range(5)]
 *         time.sleep(0.05)
 *         executor.shutdown(wait=True, cancel_futures=True)
 *     print([f.cancelled() for f in fs])
 *
 * Build and run from the top of the repository (after `make`):
 *     cc -O2 -Iexecutors/include -o build/ch1_shutdown docs/tutorial/examples/ch1_shutdown.c \
 *        build/libcf.a -pthread
 *     build/ch1_shutdown
 */
#include <stdio.h>
#include <time.h>

#include "cf.h"

static int nap(cf_task *task)
{
	const long *ms = cf_task_arg(task, NULL);
	struct timespec ts = { *ms / 1000, (*ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	return cf_task_return(task, ms, sizeof(*ms));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *backend = argc > 1 ? argv[1] : "thread";
	cf_options opts = { .max_workers = 2 };
	struct timespec pause = { 0, 50 * 1000000L };
	cf_executor *ex;
	cf_future *fs[5];
	long ms = 300;

	if (cf_executor_new(backend, &opts, &ex) != CF_OK) {
		fprintf(stderr, "usage: %s [thread|process]\n", argv[0]);
		return 2;
	}
	double start = now();
	for (int i = 0; i < 5; i++)
		cf_submit(ex, nap, &ms, sizeof(ms), &fs[i]);
	nanosleep(&pause, NULL);        /* the workers have begun tasks 1 and 2 */

	cf_shutdown(ex, true, true);    /* wait=True, cancel_futures=True */
	printf("shutdown returned after %.1f s\n", now() - start);
	for (int i = 0; i < 5; i++)
		printf("task %d: %s\n", i + 1,
		       cf_future_cancelled(fs[i]) ? "cancelled" : "finished");

	for (int i = 0; i < 5; i++)
		cf_future_release(fs[i]);
	cf_executor_free(ex);
	return 0;
}

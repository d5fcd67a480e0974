/* A future's life, step by step: the C side of chapter 1.
 *
 *     with ThreadPoolExecutor(max_workers=2) as executor:
 *         f = executor.submit(nap, 200)
 *         f.done()                    # False: still running
 *         f.result(timeout=0.05)      # TimeoutError
 *         f.result()                  # "slept 200 ms"
 *         g = executor.submit(nap, -1)
 *         g.exception()               # ValueError("cannot sleep -1 ms")
 *
 * Build and run from the top of the repository (after `make`):
 *     cc -O2 -Iexecutors/include -o build/futures docs/tutorial/examples/futures.c \
 *        build/libcf.a -pthread
 *     build/futures
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cf.h"

/* The task: sleeps `ms` milliseconds and returns a message; fails, like a
 * Python function that raises, when ms is negative. */
static int nap(cf_task *task)
{
	const long *ms = cf_task_arg(task, NULL);
	char message[64];

	if (*ms < 0)
		return cf_task_fail(task, 22, "cannot sleep %ld ms", *ms);
	struct timespec ts = { *ms / 1000, (*ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	snprintf(message, sizeof(message), "slept %ld ms", *ms);
	return cf_task_return(task, message, strlen(message) + 1);
}

int main(void)
{
	cf_options opts = { .max_workers = 2 };
	cf_executor *ex;
	cf_future *f, *g, *slow[3];
	const char *message;
	const cf_error *error;
	long ms = 200;

	if (cf_executor_new("thread", &opts, &ex) != CF_OK)
		return 1;

	/* submit: the argument's bytes are copied, so `ms` may change now. */
	cf_submit(ex, nap, &ms, sizeof(ms), &f);
	printf("submitted: done=%s\n", cf_future_done(f) ? "yes" : "no");

	cf_status st = cf_future_result(f, 0.05, NULL, NULL);
	printf("result(timeout=0.05): %s\n", cf_strerror(st));

	st = cf_future_result(f, CF_FOREVER, (const void **)&message, NULL);
	printf("result(): %s, \"%s\", done=%s\n", cf_strerror(st), message,
	       cf_future_done(f) ? "yes" : "no");

	/* A task that fails: the error travels in the future. */
	ms = -1;
	cf_submit(ex, nap, &ms, sizeof(ms), &g);
	st = cf_future_result(g, CF_FOREVER, NULL, NULL);
	cf_future_exception(g, CF_FOREVER, &error);
	printf("failing task: %s, code %d, \"%s\"\n", cf_strerror(st), error->code,
	       error->message);

	/* Three slow tasks on two workers: the third waits in the queue, and
	 * a task that has not started can still be cancelled. */
	ms = 300;
	for (int i = 0; i < 3; i++)
		cf_submit(ex, nap, &ms, sizeof(ms), &slow[i]);
	printf("cancel the third: %s\n", cf_future_cancel(slow[2]) ? "cancelled" : "too late");
	cf_future_result(slow[0], 0.05, NULL, NULL);    /* by now it runs */
	printf("cancel the first: %s\n", cf_future_cancel(slow[0]) ? "cancelled" : "too late");
	st = cf_future_result(slow[2], CF_FOREVER, NULL, NULL);
	printf("result() of the third: %s\n", cf_strerror(st));

	/* The caller owns every future it got, and releases each once. */
	cf_future_release(f);
	cf_future_release(g);
	for (int i = 0; i < 3; i++)
		cf_future_release(slow[i]);
	cf_executor_free(ex);   /* the end of the `with` block: waits */
	return 0;
}

/* Which task can still be cancelled: chapter 4's comparison with Python.
 * Three 300 ms tasks on two workers; 50 ms later, every task has had time
 * to start if it is going to. The first two run; the third waits.
 *
 *     with ProcessPoolExecutor(max_workers=2) as executor:
 *         slow = [executor.submit(nap, 300) for _ in range(3)]
 *         time.sleep(0.05)
 *         slow[2].cancel()     # False: Python already marked it running
 *
 * cf leaves the third task pending on both backends, so it can be
 * cancelled; docs/tutorial/examples/ch4_cancel.py is the Python twin.
 *
 * Build and run from the top of the repository (after `make`):
 *     cc -O2 -Iexecutors/include -o build/ch4_cancel docs/tutorial/examples/ch4_cancel.c \
 *        build/libcf.a -pthread
 *     build/ch4_cancel process
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cf.h"

static int nap(cf_task *task)
{
	const long *ms = cf_task_arg(task, NULL);
	struct timespec ts = { *ms / 1000, (*ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	return cf_task_return(task, ms, sizeof(*ms));
}

int main(int argc, char **argv)
{
	const char *backend = argc > 1 ? argv[1] : "thread";
	cf_options opts = { .max_workers = 2 };
	struct timespec pause = { 0, 50 * 1000000L };
	cf_executor *ex;
	cf_future *slow[3];
	long ms = 300;

	if (cf_executor_new(backend, &opts, &ex) != CF_OK) {
		fprintf(stderr, "usage: %s [thread|process]\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < 3; i++)
		cf_submit(ex, nap, &ms, sizeof(ms), &slow[i]);
	nanosleep(&pause, NULL);

	printf("%s: running:", backend);
	for (int i = 0; i < 3; i++)
		printf(" %s", cf_future_running(slow[i]) ? "yes" : "no");
	printf("\n%s: cancel the third: %s\n", backend,
	       cf_future_cancel(slow[2]) ? "cancelled" : "too late");

	for (int i = 0; i < 3; i++)
		cf_future_release(slow[i]);
	cf_executor_free(ex);
	return 0;
}

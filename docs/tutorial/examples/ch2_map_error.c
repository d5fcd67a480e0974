/* What map gives when a task fails: chapter 2's prediction.
 * Ten items on five workers; every task sleeps 100 ms and returns n * n,
 * except item 4, which fails at once, while items 0 to 3 still sleep.
 *
 *     def square(n):
 *         if n == 4:
 *             raise ValueError("4 is unlucky")
 *         time.sleep(0.1)
 *         return n * n
 *
 *     with ThreadPoolExecutor(max_workers=5) as executor:
 *         for result in executor.map(square, range(10)):
 *             print("got", result)
 *
 * Build and run from the top of the repository (after `make`):
 *     cc -O2 -Iexecutors/include -o build/ch2_map_error docs/tutorial/examples/ch2_map_error.c \
 *        build/libcf.a -pthread
 *     build/ch2_map_error
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cf.h"

static int square(cf_task *task)
{
	const int64_t *n = cf_task_arg(task, NULL);
	struct timespec ts = { 0, 100 * 1000000L };

	if (*n == 4)
		return cf_task_fail(task, 22, "4 is unlucky");
	nanosleep(&ts, NULL);
	int64_t result = *n * *n;
	return cf_task_return(task, &result, sizeof(result));
}

int main(void)
{
	const int64_t numbers[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	cf_options opts = { .max_workers = 5 };
	cf_executor *ex;
	cf_map_iter *it;
	const int64_t *result;
	cf_status st;

	if (cf_executor_new("thread", &opts, &ex) != CF_OK)
		return 1;
	st = cf_map(ex, square, numbers, sizeof(numbers[0]), 10, NULL, &it);
	while (st == CF_OK && (st = cf_map_next(it, (const void **)&result, NULL)) == CF_OK)
		printf("got %lld\n", (long long)*result);
	if (st == CF_TASK_FAILED) {
		size_t index;
		const cf_error *error = cf_map_error(it, &index);
		printf("map: %s at item %zu: %s\n", cf_strerror(st), index, error->message);
	}
	printf("next call: %s\n", cf_strerror(cf_map_next(it, (const void **)&result, NULL)));
	cf_map_free(it);
	cf_executor_free(ex);
	return 0;
}

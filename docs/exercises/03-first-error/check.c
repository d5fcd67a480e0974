/* The checker of exercise 3: run_until_first_error() on a real thread
 * pool, with failures early, late, fast and slow. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "cf_testing.h"
#include "exercise.h"
#include "check.h"

static atomic_long started;

int check_item(cf_task *task)
{
	const struct item *it = cf_task_arg(task, NULL);
	long twice = it->value * 2;

	atomic_fetch_add(&started, 1);
	check_sleep_ms(it->ms);
	if (it->value < 0)
		return cf_task_fail(task, 1, "item %ld is negative", it->value);
	return cf_task_return(task, &twice, sizeof(twice));
}

static void all_good(void)
{
	struct item items[8];
	long results[8] = { 0 };
	size_t bad = 99;
	char msg[128] = "";
	cf_executor *ex = check_thread_pool(4);

	for (int i = 0; i < 8; i++)
		items[i] = (struct item){ .value = i + 1, .ms = 10 * (8 - i) };
	int rc = run_until_first_error(ex, items, 8, results, &bad, msg, sizeof(msg));
	CHECK(rc == 0, "every item is good, but it returned %d (\"%s\")", rc, msg);
	for (int i = 0; i < 8; i++)
		CHECK(results[i] == 2 * (i + 1), "results[%d] = %ld, expected %d", i, results[i],
		      2 * (i + 1));
	cf_executor_free(ex);
}

static void stops_early(void)
{
	enum { N = 10 };
	struct item items[N];
	long results[N];
	size_t bad = 99;
	char msg[128] = "";
	cf_executor *ex = check_thread_pool(2);

	items[0] = (struct item){ .value = 1, .ms = 50 };
	items[1] = (struct item){ .value = -5, .ms = 80 };
	for (int i = 2; i < N; i++)
		items[i] = (struct item){ .value = i, .ms = 400 };
	double start = check_now();
	int rc = run_until_first_error(ex, items, N, results, &bad, msg, sizeof(msg));
	double took = check_now() - start;
	CHECK(rc == -1, "item 1 fails, but it returned %d", rc);
	CHECK(bad == 1, "failed_index is %zu, expected 1", bad);
	CHECK(strcmp(msg, "item -5 is negative") == 0, "message \"%s\", expected \"item -5 is "
	      "negative\"", msg);
	CHECK(took < 0.5, "returned after %.2f s; the failure was known after 80 ms", took);
	cf_executor_free(ex);
	long n = atomic_load(&started);
	CHECK(n <= 4, "%ld of %d tasks ran: after the failure, cancel the tasks that have "
	      "not started (at most 4 can have started by then on 2 workers)", n, N);
}

static void first_in_time(void)
{
	const struct item items[] = {
		{ .value = -1, .ms = 400 },
		{ .value = 2, .ms = 50 },
		{ .value = -3, .ms = 100 },
	};
	long results[3];
	size_t bad = 99;
	char msg[128] = "";
	cf_executor *ex = check_thread_pool(3);
	double start = check_now();
	int rc = run_until_first_error(ex, items, 3, results, &bad, msg, sizeof(msg));
	double took = check_now() - start;

	CHECK(rc == -1, "returned %d, expected -1", rc);
	CHECK(bad == 2, "failed_index is %zu: item 2 fails after 100 ms, item 0 only after "
	      "400 ms, so the first failure is item 2", bad);
	CHECK(took < 0.3, "returned after %.2f s; the first failure came after 100 ms", took);
	cf_executor_free(ex);
}

/* The caller sleeps until the first failure. */
static void asleep(void)
{
	const struct item items[] = { { -1, 600 }, { 1, 1200 }, { 2, 1200 } };
	long results[3];
	size_t bad;
	char msg[64];
	cf_executor *ex = check_thread_pool(3);
	struct check_wait w;

	check_wait_begin(&w);
	run_until_first_error(ex, items, 3, results, &bad, msg, sizeof(msg));
	check_wait_end(&w);
	CHECK_WAITED_ASLEEP(w, "cf_wait with CF_FIRST_EXCEPTION.");
	cf_executor_free(ex);
}

/* Another part of the program, sharing the executor: it submits a task of
 * its own while run_until_first_error is running. */
struct bystander {
	cf_executor *ex;
	cf_status submitted;
	cf_future *f;
};

static void *bystander_submits(void *arg)
{
	struct bystander *b = arg;
	const struct item mine = { .value = 7, .ms = 10 };

	check_sleep_ms(30);
	b->submitted = cf_submit(b->ex, check_item, &mine, sizeof(mine), &b->f);
	return NULL;
}

static void shared_executor(void)
{
	const struct item items[] = { { -1, 100 }, { 1, 400 }, { 2, 400 }, { 3, 400 } };
	const struct item after = { .value = 8, .ms = 10 };
	long results[4];
	size_t bad;
	char msg[64];
	cf_executor *ex = check_thread_pool(2);
	struct bystander b = { .ex = ex };
	pthread_t t;
	cf_future *f;
	cf_status st;

	pthread_create(&t, NULL, bystander_submits, &b);
	run_until_first_error(ex, items, 4, results, &bad, msg, sizeof(msg));
	pthread_join(t, NULL);
	const char *why = "the executor belongs to the caller, who may share it with the rest "
			  "of the program.\n    cf_shutdown stops it for everyone: it cancels "
			  "every pending task, not only yours,\n    and refuses every later "
			  "submit.  Cancel your own futures, one by one, with\n    "
			  "cf_future_cancel";
	CHECK(b.submitted == CF_OK, "another thread submitted a task to the same executor "
	      "while your call ran, and\n    cf_submit refused it (%s): %s",
	      cf_strerror(b.submitted), why);
	st = cf_future_result(b.f, 5.0, NULL, NULL);
	CHECK(st == CF_OK, "another thread's task, queued on the same executor while your call "
	      "ran, ended with\n    \"%s\" instead of running: %s", cf_strerror(st), why);
	cf_future_release(b.f);
	st = cf_submit(ex, check_item, &after, sizeof(after), &f);
	CHECK(st == CF_OK, "after your call, the caller's next cf_submit was refused (%s): %s",
	      cf_strerror(st), why);
	cf_future_release(f);
	cf_executor_free(ex);
}

static void releases(void)
{
	const struct item items[] = { { 1, 10 }, { -1, 20 }, { 3, 300 }, { 4, 300 } };
	long results[4];
	size_t bad;
	char msg[64];
	cf_executor *ex = check_thread_pool(1);

	run_until_first_error(ex, items, 4, results, &bad, msg, sizeof(msg));
	cf_executor_free(ex);
	CHECK(cf_futures_alive() == 0, "%zu futures still alive: release every future",
	      cf_futures_alive());
}

int main(void)
{
	check_begin("03-first-error");
	check_run("all items good: every result, returns 0", all_good, 10);
	check_run("a failure after 80 ms stops the run at once and cancels the rest",
		  stops_early, 10);
	check_run("the first failure in time wins, not the first in the array",
		  first_in_time, 10);
	check_run("the caller sleeps until the first failure (no busy polling)", asleep, 10);
	check_run("only the call's own futures are cancelled: the executor goes on",
		  shared_executor, 10);
	check_run("every future is released", releases, 10);
	return check_end();
}

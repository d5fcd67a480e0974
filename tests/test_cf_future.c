/* Futures of the cf library: cancel, result and its timeout, a task's
 * error, done callbacks, release and ownership, and that arguments and
 * results are copied bytes.
 *
 * Suites: cf_future, cf_callback.  Every test runs on every backend.
 */
#define _GNU_SOURCE
#include "cf_test_util.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

/* ---- cancel --------------------------------------------------------------- */

/* A pool of one worker kept busy by a sleeping task, then a few quick tasks
 * (a backend may hand some work to its worker ahead, where it can no
 * longer be cancelled), then the task under test, which stays pending. */
#define FILLERS 3

BACKEND_TEST(cf_future, cancel_pending, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *blocker = submit_sleep(ex, 1.0);
	cf_future *fill[FILLERS], *f;

	for (int i = 0; i < FILLERS; i++)
		fill[i] = submit_square(ex, i);
	f = submit_square(ex, 7);

	cr_assert(cf_future_cancel(f), "a pending future must be cancellable");
	cr_expect(cf_future_cancelled(f));
	cr_expect(cf_future_done(f));
	cr_expect(!cf_future_running(f));
	cr_expect(cf_future_cancel(f), "cancel of a cancelled future stays true");

	const void *data = (const void *)1;
	size_t size = 1;
	cr_expect_eq(cf_future_result(f, 0, &data, &size), CF_CANCELLED);
	cr_expect_null(data);
	cr_expect_eq(size, 0);
	cr_expect_eq(cf_future_result(f, BOUND, NULL, NULL), CF_CANCELLED);

	const cf_error *err = (const cf_error *)1;
	cr_expect_eq(cf_future_exception(f, 0, &err), CF_CANCELLED);
	cr_expect_null(err);

	/* The rest of the pool is unaffected. */
	for (int i = 0; i < FILLERS; i++)
		cr_expect_eq(result_long(fill[i], BOUND), (long)i * i);
	cr_expect_eq(cf_future_result(blocker, BOUND, NULL, NULL), CF_OK);
	cr_expect(!cf_future_cancel(blocker));

	release_ok(f);
	release_ok(blocker);
	release_all(fill, FILLERS);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_future, cancel_running_fails, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_job(ex, 1.5, 6, 0);

	cr_assert(wait_running(f, BOUND), "the task never ran");
	cr_expect(!cf_future_cancel(f), "a running future cannot be cancelled");
	cr_expect(!cf_future_cancelled(f));
	cr_expect(cf_future_running(f));
	cr_expect(!cf_future_done(f));
	cr_expect_eq(result_long(f, BOUND), 36, "the task runs to its end");
	cr_expect(!cf_future_running(f));
	release_ok(f);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_future, cancel_finished_fails, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_square(ex, 5);

	cr_assert_eq(result_long(f, BOUND), 25);
	cr_expect(cf_future_done(f));
	cr_expect(!cf_future_cancel(f), "a finished future cannot be cancelled");
	cr_expect(!cf_future_cancelled(f));
	cr_expect_eq(result_long(f, 0), 25, "the result survives the attempt");
	release_ok(f);
	cf_executor_free(ex);
}

/* ---- result --------------------------------------------------------------- */

BACKEND_TEST(cf_future, result_timeout_then_result, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_job(ex, 0.5, 9, 0);
	const void *data = (const void *)1;
	size_t size = 1;

	double t0 = now_s();
	cr_assert_eq(cf_future_result(f, 0.05, &data, &size), CF_TIMEOUT);
	double waited = now_s() - t0;
	cr_expect_geq(waited, 0.04, "returned after %.3f s, before its bound", waited);
	cr_expect_lt(waited, 2.0, "the timeout came after %.3f s", waited);
	cr_expect_null(data);
	cr_expect_eq(size, 0);
	cr_expect(!cf_future_done(f));

	cr_expect_eq(cf_future_result(f, 0, NULL, NULL), CF_TIMEOUT, "timeout 0 polls");
	const cf_error *err = (const cf_error *)1;
	cr_expect_eq(cf_future_exception(f, 0.01, &err), CF_TIMEOUT);

	cr_expect_eq(result_long(f, BOUND), 81);
	release_ok(f);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_future, result_into_buffers, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_square(ex, 12);
	char small[4];
	long big[2] = { 0 };
	size_t size = 0;

	cr_assert_eq(cf_future_result_into(f, BOUND, small, sizeof(small), &size),
		     CF_BUFFER_TOO_SMALL);
	cr_expect_eq(size, sizeof(long), "the size needed is reported");

	size = 0;
	cr_expect_eq(cf_future_result_into(f, BOUND, NULL, 0, &size), CF_BUFFER_TOO_SMALL,
		     "a NULL buffer of capacity 0 asks for the size");
	cr_expect_eq(size, sizeof(long));

	cr_expect_eq(cf_future_result_into(f, BOUND, NULL, sizeof(big), &size),
		     CF_INVALID_ARGUMENT, "a NULL buffer cannot take the result");

	size = 0;
	cr_expect_eq(cf_future_result_into(f, BOUND, big, sizeof(big), &size), CF_OK);
	cr_expect_eq(size, sizeof(long));
	cr_expect_eq(big[0], 144);
	cr_expect_eq(big[1], 0, "nothing written past the result");

	cr_expect_eq(cf_future_result_into(f, BOUND, big, sizeof(long), NULL), CF_OK,
		     "size may be NULL");
	release_ok(f);
	cf_executor_free(ex);
}

static int empty_task(cf_task *task)
{
	(void)task;
	return 0;
}

BACKEND_TEST(cf_future, empty_result, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_ok(ex, empty_task, NULL, 0);
	const void *data = (const void *)1;
	size_t size = 1;

	cr_assert_eq(cf_future_result(f, BOUND, &data, &size), CF_OK);
	cr_expect_eq(size, 0);
	size = 1;
	cr_expect_eq(cf_future_result_into(f, BOUND, NULL, 0, &size), CF_OK,
		     "an empty result fits a NULL buffer");
	cr_expect_eq(size, 0);
	release_ok(f);
	cf_executor_free(ex);
}

/* The result is the argument reversed, built in place: a result and an
 * argument whose bytes must survive the move from the argument's place in
 * the future to the result's (they share one buffer).  A misaligned
 * argument fails the task. */
static int reverse_task(cf_task *task)
{
	size_t size;
	const unsigned char *arg = cf_task_arg(task, &size);

	if (size && (uintptr_t)arg % alignof(max_align_t) != 0)
		return cf_task_fail(task, 1, "argument of %zu bytes misaligned", size);
	unsigned char *out = cf_task_result_buffer(task, size);
	if (!out)
		return cf_task_fail(task, 2, "no result buffer");
	if ((uintptr_t)out % alignof(max_align_t) != 0)
		return cf_task_fail(task, 3, "result buffer of %zu bytes misaligned", size);
	for (size_t i = 0; i < size; i++)
		out[i] = arg[size - 1 - i];
	return 0;
}

/* Around the size up to which arguments and results live inside the
 * future (16 bytes), where a larger one is allocated. */
BACKEND_TEST(cf_future, sizes_around_the_inline_bound, .timeout = 30)
{
	static const size_t sizes[] = { 0, 1, 8, 15, 16, 17, 24, 100 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	cf_executor *ex = make_pool(backend, 2);
	cf_future *fs[N];
	unsigned char arg[100];

	for (size_t i = 0; i < sizeof(arg); i++)
		arg[i] = (unsigned char)(i + 1);
	for (int k = 0; k < N; k++)
		fs[k] = submit_ok(ex, reverse_task, sizes[k] ? arg : NULL, sizes[k]);
	for (int k = 0; k < N; k++) {
		const unsigned char *data = (const unsigned char *)1;
		size_t size = 12345;
		const cf_error *err = NULL;

		cf_future_exception(fs[k], BOUND, &err);
		cr_assert_eq(cf_future_result(fs[k], BOUND, (const void **)&data, &size), CF_OK,
			     "%zu bytes: %s", sizes[k], err ? err->message : "?");
		cr_expect_eq(size, sizes[k]);
		if (sizes[k] == 0) {
			cr_expect_null(data, "an empty result has no bytes");
			continue;
		}
		cr_expect_eq((uintptr_t)data % alignof(max_align_t), 0,
			     "a result of %zu bytes is aligned for any type", size);
		bool same = true;
		for (size_t i = 0; i < size; i++)
			same = same && data[i] == arg[size - 1 - i];
		cr_expect(same, "the %zu bytes come back reversed", size);
	}
	release_all(fs, N);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

/* ---- a task's error ------------------------------------------------------- */

BACKEND_TEST(cf_future, failing_task_reports_code_and_message, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	struct fail_arg a = { .code = 42, .x = 7 };
	cf_future *f = submit_ok(ex, fail_task, &a, sizeof(a));
	const void *data = (const void *)1;
	const cf_error *err = NULL;
	char buf[16];
	size_t size;

	cr_assert_eq(cf_future_result(f, BOUND, &data, NULL), CF_TASK_FAILED);
	cr_expect_null(data);
	cr_expect_eq(cf_future_result_into(f, BOUND, buf, sizeof(buf), &size), CF_TASK_FAILED);
	cr_expect(cf_future_done(f));
	cr_expect(!cf_future_cancelled(f));

	cr_assert_eq(cf_future_exception(f, BOUND, &err), CF_OK,
		     "a failed task's exception is given with CF_OK");
	cr_assert_not_null(err);
	cr_expect_eq(err->code, 42);
	cr_expect_str_eq(err->message, "bad 7");
	cr_expect_eq(cf_future_exception(f, 0, NULL), CF_OK, "error may be NULL");
	release_ok(f);

	/* The pool survives a failed task. */
	f = submit_square(ex, 3);
	cr_expect_eq(result_long(f, BOUND), 9);
	release_ok(f);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_future, nonzero_return_without_message, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	int rc = 3;
	cf_future *f = submit_ok(ex, rc_task, &rc, sizeof(rc));
	const cf_error *err = NULL;

	cr_assert_eq(cf_future_result(f, BOUND, NULL, NULL), CF_TASK_FAILED);
	cr_assert_eq(cf_future_exception(f, BOUND, &err), CF_OK);
	cr_assert_not_null(err);
	cr_expect_eq(err->code, 3, "the return value is the code");
	cr_expect_lt(strnlen(err->message, CF_ERROR_MESSAGE_MAX), (size_t)CF_ERROR_MESSAGE_MAX,
		     "the message is NUL-terminated");
	release_ok(f);
	cf_executor_free(ex);
}

static int fail_code_zero_task(cf_task *task)
{
	return cf_task_fail(task, 0, "zero");
}

/* A message longer than the buffer is cut, never overflows. */
static int fail_long_message_task(cf_task *task)
{
	return cf_task_fail(task, 5, "%0*d", 1000, 0);
}

BACKEND_TEST(cf_future, fail_code_zero_and_long_message, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_ok(ex, fail_code_zero_task, NULL, 0);
	cf_future *g = submit_ok(ex, fail_long_message_task, NULL, 0);
	const cf_error *err = NULL;

	cr_assert_eq(cf_future_exception(f, BOUND, &err), CF_OK);
	cr_assert_not_null(err);
	cr_expect_eq(err->code, -1, "code 0 becomes -1");
	cr_expect_str_eq(err->message, "zero");

	cr_assert_eq(cf_future_exception(g, BOUND, &err), CF_OK);
	cr_assert_not_null(err);
	cr_expect_eq(err->code, 5);
	cr_expect_eq(strnlen(err->message, CF_ERROR_MESSAGE_MAX), CF_ERROR_MESSAGE_MAX - 1);
	release_ok(f);
	release_ok(g);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_future, success_has_no_error, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_square(ex, 4);
	const cf_error *err = (const cf_error *)1;

	cr_assert_eq(cf_future_exception(f, BOUND, &err), CF_OK);
	cr_expect_null(err);
	cr_expect_eq(cf_future_result(f, 0, NULL, NULL), CF_OK);
	release_ok(f);
	cf_executor_free(ex);
}

/* ---- arguments and results are copied bytes ------------------------------- */

#define BIG_ARG 200

struct big_arg {
	double sleep_s;
	unsigned char bytes[BIG_ARG];
};

/* Sleeps (so that the caller has overwritten its copy), then returns the
 * sum of the bytes and whether the argument was aligned for any type. */
static int checksum_task(cf_task *task)
{
	size_t size;
	const struct big_arg *a = cf_task_arg(task, &size);
	unsigned long r[2] = { 0, 0 };

	if (!a || size != sizeof(*a))
		return cf_task_fail(task, 99, "argument of %zu bytes", size);
	sleep_s(a->sleep_s);
	for (int i = 0; i < BIG_ARG; i++)
		r[0] += a->bytes[i];
	r[1] = (uintptr_t)a % alignof(max_align_t) == 0;
	return cf_task_return(task, r, sizeof(r));
}

BACKEND_TEST(cf_future, argument_copied_at_submit, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	struct big_arg a = { .sleep_s = 0.2 };
	unsigned long expected = 0, r[2];
	size_t size;

	for (int i = 0; i < BIG_ARG; i++) {
		a.bytes[i] = (unsigned char)(i * 7);
		expected += a.bytes[i];
	}
	cf_future *f = submit_ok(ex, checksum_task, &a, sizeof(a));
	memset(&a, 0xff, sizeof(a));    /* the caller reuses its memory */

	cr_assert_eq(cf_future_result_into(f, BOUND, r, sizeof(r), &size), CF_OK);
	cr_expect_eq(r[0], expected, "the task saw the bytes as they were at submit");
	cr_expect_eq(r[1], 1, "cf_task_arg is aligned for any type");
	release_ok(f);
	cf_executor_free(ex);
}

#define BIG_RESULT (100 * 1000)

static int big_result_task(cf_task *task)
{
	static unsigned char buf[BIG_RESULT];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i % 251);
	return cf_task_return(task, buf, sizeof(buf));
}

BACKEND_TEST(cf_future, big_result, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_ok(ex, big_result_task, NULL, 0);
	const unsigned char *data = NULL;
	size_t size = 0;
	bool same = true;

	cr_assert_eq(cf_future_result(f, BOUND, (const void **)&data, &size), CF_OK);
	cr_assert_eq(size, BIG_RESULT);
	for (size_t i = 0; i < size; i++)
		same = same && data[i] == (unsigned char)(i % 251);
	cr_expect(same, "the result's bytes arrive unchanged");
	release_ok(f);
	cf_executor_free(ex);
}

/* No argument: cf_task_arg gives NULL and size 0. */
static int no_arg_task(cf_task *task)
{
	size_t size = 123;
	const void *arg = cf_task_arg(task, &size);
	long r = arg == NULL && size == 0;

	return cf_task_return(task, &r, sizeof(r));
}

/* A later cf_task_return replaces an earlier one. */
static int return_twice_task(cf_task *task)
{
	cf_task_return(task, "abc", 3);
	return cf_task_return(task, "hello", 6);
}

BACKEND_TEST(cf_future, no_argument_and_return_twice, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_ok(ex, no_arg_task, NULL, 0);
	cf_future *g = submit_ok(ex, return_twice_task, NULL, 0);
	char buf[16];
	size_t size = 0;

	cr_expect_eq(result_long(f, BOUND), 1, "no argument: NULL and size 0");
	cr_assert_eq(cf_future_result_into(g, BOUND, buf, sizeof(buf), &size), CF_OK);
	cr_expect_eq(size, 6);
	cr_expect_str_eq(buf, "hello");
	release_ok(f);
	release_ok(g);
	cf_executor_free(ex);
}

/* A task that returns part of its own result buffer: 8 bytes of a
 * 100-byte one (they leave the heap for the inline place while the heap
 * buffer is freed), or of a 16-byte one (inline onto itself).  The
 * argument says which. */
static int return_own_bytes_task(cf_task *task)
{
	const int *whole = cf_task_arg(task, NULL);
	unsigned char *buf = cf_task_result_buffer(task, (size_t)*whole);

	if (!buf)
		return cf_task_fail(task, 1, "no result buffer");
	for (int i = 0; i < *whole; i++)
		buf[i] = (unsigned char)i;
	return cf_task_return(task, buf + 4, 8);
}

BACKEND_TEST(cf_future, return_part_of_own_result, .timeout = 30)
{
	static const int wholes[] = { 100, 16 };
	cf_executor *ex = make_pool(backend, 1);

	for (int k = 0; k < 2; k++) {
		cf_future *f = submit_ok(ex, return_own_bytes_task, &wholes[k], sizeof(int));
		unsigned char buf[8] = { 0 };
		size_t size = 0;
		bool right = true;

		cr_assert_eq(cf_future_result_into(f, BOUND, buf, sizeof(buf), &size), CF_OK);
		cr_expect_eq(size, 8);
		for (int i = 0; i < 8; i++)
			right = right && buf[i] == i + 4;
		cr_expect(right, "8 of %d own bytes: got %d %d ... %d, not 4 5 ... 11", wholes[k],
			  buf[0], buf[1], buf[7]);
		release_ok(f);
	}
	cf_executor_free(ex);
}

/* ---- release and ownership ------------------------------------------------ */

BACKEND_TEST(cf_future, release_twice_is_invalid_state, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_square(ex, 2);
	cf_as_completed *it = NULL;
	cf_future *got = NULL;

	cr_assert_eq(result_long(f, BOUND), 4);
	/* The iterator keeps its own reference, so f stays alive. */
	cr_assert_eq(cf_as_completed_new(&f, 1, BOUND, &it), CF_OK);
	cr_expect_eq(cf_future_release(f), CF_OK);
	cr_expect_eq(cf_future_release(f), CF_INVALID_STATE, "a second release is refused");
	cr_expect_eq(cf_as_completed_next(it, &got), CF_OK);
	cr_expect_eq(got, f);
	cf_as_completed_free(it);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), 0);
}

BACKEND_TEST(cf_future, release_twice_while_queued, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	size_t base = cf_futures_alive();
	cf_future *blocker = submit_sleep(ex, 0.5);
	cf_future *fill[FILLERS], *f;

	for (int i = 0; i < FILLERS; i++)
		fill[i] = submit_square(ex, i);
	f = submit_square(ex, 3);
	/* The executor still holds the queued task. */
	cr_expect_eq(cf_future_release(f), CF_OK);
	cr_expect_eq(cf_future_release(f), CF_INVALID_STATE);
	cr_expect_eq(cf_future_result(blocker, BOUND, NULL, NULL), CF_OK);
	release_ok(blocker);
	release_all(fill, FILLERS);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), base, "every future freed");
}

BACKEND_TEST(cf_future, release_pending_task_still_runs, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	size_t base = cf_futures_alive();
	cf_future *f = submit_sleep(ex, 0.2);
	cf_future *g;

	release_ok(f);          /* its result will be dropped */
	g = submit_square(ex, 8);
	cr_expect_eq(result_long(g, BOUND), 64);
	release_ok(g);
	cf_executor_free(ex);
	cr_expect_eq(cf_futures_alive(), base, "a released future is freed once run");
}

/* cf_futures_alive counts per thread: more threads than it has slots for
 * (64) each make a future; then the first half free their own and one of
 * the second half's, and all exit, so that each thread's count is +1 or
 * -1 and only their sum, kept when they exit, is 0. */
#define COUNTING_THREADS 80

struct counting {
	cf_executor *ex;
	cf_future *futures[COUNTING_THREADS];
	pthread_barrier_t made, counted;
};

struct counting_thread {
	struct counting *c;
	int index;
};

static void *make_then_free_another(void *arg)
{
	struct counting_thread *t = arg;
	struct counting *c = t->c;

	c->futures[t->index] = submit_square(c->ex, t->index);
	pthread_barrier_wait(&c->made);
	pthread_barrier_wait(&c->counted);
	if (t->index < COUNTING_THREADS / 2) {
		release_ok(c->futures[t->index]);
		release_ok(c->futures[t->index + COUNTING_THREADS / 2]);
	}
	return NULL;
}

Test(cf_future, alive_count_across_threads, .timeout = 30)
{
	static struct counting c;
	struct counting_thread args[COUNTING_THREADS];
	pthread_t threads[COUNTING_THREADS];
	size_t base = cf_futures_alive();

	c.ex = make_pool("thread", 2);
	pthread_barrier_init(&c.made, NULL, COUNTING_THREADS + 1);
	pthread_barrier_init(&c.counted, NULL, COUNTING_THREADS + 1);
	for (int i = 0; i < COUNTING_THREADS; i++) {
		args[i] = (struct counting_thread){ &c, i };
		cr_assert_eq(pthread_create(&threads[i], NULL, make_then_free_another, &args[i]), 0);
	}
	pthread_barrier_wait(&c.made);
	cr_expect_eq(cf_futures_alive(), base + COUNTING_THREADS,
		     "one future per thread is alive");
	pthread_barrier_wait(&c.counted);
	for (int i = 0; i < COUNTING_THREADS; i++)
		pthread_join(threads[i], NULL);
	cf_executor_free(c.ex);
	cr_expect_eq(cf_futures_alive(), base,
		     "every future freed, half of them by another thread than their maker");
	pthread_barrier_destroy(&c.made);
	pthread_barrier_destroy(&c.counted);
}

BACKEND_TEST(cf_future, future_outlives_executor, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 2);
	cf_future *f = submit_job(ex, 0.1, 11, 0);
	struct fail_arg a = { .code = 8, .x = 1 };
	cf_future *g = submit_ok(ex, fail_task, &a, sizeof(a));
	const cf_error *err = NULL;

	cf_executor_free(ex);   /* waits for both tasks */
	cr_expect(cf_future_done(f));
	cr_expect_eq(result_long(f, 0), 121, "the result is kept after the executor is freed");
	cr_expect_eq(cf_future_exception(g, 0, &err), CF_OK);
	cr_assert_not_null(err);
	cr_expect_eq(err->code, 8);
	cr_expect_str_eq(err->message, "bad 1");
	release_ok(f);
	release_ok(g);
	cr_expect_eq(cf_futures_alive(), 0);
}

/* ---- done callbacks ------------------------------------------------------- */

struct cb_log {
	atomic_int calls;
	atomic_int next_seq;
	int seq[8];             /* ids in call order */
	pthread_t thread;       /* the thread of the last call */
	bool saw_done;
	bool saw_cancelled;
	cf_status result;
	long value;
};

struct cb_arg {
	struct cb_log *log;
	int id;
	int rc;
};

/* Records who called it and what the future looked like; returns a->rc. */
static int record_cb(cf_future *f, void *arg)
{
	struct cb_arg *a = arg;
	struct cb_log *log = a->log;
	const void *data = NULL;
	size_t size = 0;
	int slot = atomic_fetch_add(&log->next_seq, 1);

	if (slot < 8)
		log->seq[slot] = a->id;
	log->thread = pthread_self();
	log->saw_done = cf_future_done(f);
	log->saw_cancelled = cf_future_cancelled(f);
	log->result = cf_future_result(f, 0, &data, &size);
	if (log->result == CF_OK && size == sizeof(long))
		memcpy(&log->value, data, sizeof(long));
	atomic_fetch_add(&log->calls, 1);       /* publishes the fields */
	return a->rc;
}

BACKEND_TEST(cf_callback, on_done_future_runs_at_once, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_square(ex, 6);
	struct cb_log log = { 0 };
	struct cb_arg a = { .log = &log, .id = 1 };

	cr_assert_eq(result_long(f, BOUND), 36);
	cr_assert_eq(cf_future_add_done_callback(f, record_cb, &a), CF_OK);
	cr_expect_eq(atomic_load(&log.calls), 1, "ran before add_done_callback returned");
	cr_expect(pthread_equal(log.thread, pthread_self()), "ran in the caller's thread");
	cr_expect(log.saw_done);
	cr_expect_eq(log.result, CF_OK);
	cr_expect_eq(log.value, 36);
	release_ok(f);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_callback, on_pending_future_runs_once_when_done, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_job(ex, 1.0, 5, 0);
	struct cb_log log = { 0 };
	struct cb_arg a = { .log = &log, .id = 1 };

	cr_assert_eq(cf_future_add_done_callback(f, record_cb, &a), CF_OK);
	cr_expect_eq(atomic_load(&log.calls), 0, "not run before the task is done");
	cr_assert_eq(result_long(f, BOUND), 25);
	cr_assert(wait_counter(&log.calls, 1, BOUND), "the callback never ran");
	/* The thread that completed the future runs it: a pool thread, or on
	 * the process backend also a caller that read its own result while
	 * it waited (docs/api.md, "the caller's direct read"). */
	if (!strcmp(backend, "thread"))
		cr_expect(!pthread_equal(log.thread, pthread_self()),
			  "ran in the thread that completed the future");
	cr_expect(log.saw_done, "the future is done inside its callback");
	cr_expect_eq(log.result, CF_OK);
	cr_expect_eq(log.value, 25);
	sleep_s(0.1);
	cr_expect_eq(atomic_load(&log.calls), 1, "ran exactly once");
	release_ok(f);
	cf_executor_free(ex);
	cr_expect_eq(atomic_load(&log.calls), 1);
}

BACKEND_TEST(cf_callback, several_run_in_order, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *f = submit_sleep(ex, 0.5);
	struct cb_log log = { 0 };
	struct cb_arg a[4];

	for (int i = 0; i < 3; i++) {
		a[i] = (struct cb_arg){ .log = &log, .id = i };
		cr_assert_eq(cf_future_add_done_callback(f, record_cb, &a[i]), CF_OK);
	}
	cr_assert_eq(cf_future_result(f, BOUND, NULL, NULL), CF_OK);
	cr_assert(wait_counter(&log.calls, 3, BOUND));
	a[3] = (struct cb_arg){ .log = &log, .id = 3 };
	cr_assert_eq(cf_future_add_done_callback(f, record_cb, &a[3]), CF_OK);
	cr_expect_eq(atomic_load(&log.calls), 4);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(log.seq[i], i, "call %d was callback %d", i, log.seq[i]);
	release_ok(f);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_callback, failing_callback_is_counted, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	size_t before, after;
	struct cb_log log = { 0 };
	struct cb_arg bad = { .log = &log, .id = 1, .rc = 1 };
	cf_future *f = submit_sleep(ex, 0.3);

	before = cf_callback_errors();
	/* One runs in the completing thread, one at once in this thread. */
	cr_assert_eq(cf_future_add_done_callback(f, record_cb, &bad), CF_OK);
	cr_assert_eq(cf_future_result(f, BOUND, NULL, NULL), CF_OK);
	cr_assert(wait_counter(&log.calls, 1, BOUND));
	cr_assert_eq(cf_future_add_done_callback(f, record_cb, &bad), CF_OK);
	cr_expect_eq(atomic_load(&log.calls), 2);

	double end = now_s() + BOUND;
	do {
		after = cf_callback_errors();
		sleep_s(0.001);
	} while (after < before + 2 && now_s() < end);
	cr_expect_eq(after, before + 2);

	/* The pool still works. */
	cf_future *g = submit_square(ex, 10);
	cr_expect_eq(result_long(g, BOUND), 100);
	release_ok(f);
	release_ok(g);
	cf_executor_free(ex);
}

BACKEND_TEST(cf_callback, cancel_runs_callback_in_canceller, .timeout = 30)
{
	cf_executor *ex = make_pool(backend, 1);
	cf_future *blocker = submit_sleep(ex, 0.5);
	cf_future *fill[FILLERS], *f;
	struct cb_log log = { 0 };
	struct cb_arg a = { .log = &log, .id = 1 };

	for (int i = 0; i < FILLERS; i++)
		fill[i] = submit_square(ex, i);
	f = submit_square(ex, 3);
	cr_assert_eq(cf_future_add_done_callback(f, record_cb, &a), CF_OK);
	cr_assert(cf_future_cancel(f));
	cr_expect_eq(atomic_load(&log.calls), 1, "cancel runs the callbacks at once");
	cr_expect(pthread_equal(log.thread, pthread_self()));
	cr_expect(log.saw_cancelled);
	cr_expect_eq(log.result, CF_CANCELLED);
	cf_executor_free(ex);
	cr_expect_eq(atomic_load(&log.calls), 1, "never run a second time");
	release_ok(f);
	release_ok(blocker);
	release_all(fill, FILLERS);
}

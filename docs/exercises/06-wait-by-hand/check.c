/* The checker of exercise 6: worker threads complete slots on a
 * schedule; the checker times group_wait() for every condition, checks
 * its CPU use, and makes several threads wait at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "check.h"
#include "exercise.h"

struct plan {
	struct group *g;
	size_t i;
	long ms;
	bool fail;
};

static void *completer(void *arg)
{
	struct plan *p = arg;

	check_sleep_ms(p->ms);
	group_complete(p->g, p->i, (long)p->i * 10, p->fail);
	return NULL;
}

/* Completes slot i after ms[i] milliseconds, failing where fail[i]. */
static pthread_t *start(struct group *g, size_t n, const long *ms, const bool *fail)
{
	pthread_t *threads = calloc(n, sizeof(*threads));
	struct plan *plans = calloc(n, sizeof(*plans));

	CHECK(group_init(g, n) == 0, "group_init failed");
	for (size_t i = 0; i < n; i++) {
		plans[i] = (struct plan){ g, i, ms[i], fail ? fail[i] : false };
		pthread_create(&threads[i], NULL, completer, &plans[i]);
	}
	return threads;
}

static void timed(enum when when, const long *ms, const bool *fail, double timeout,
		  int want_rc, size_t want_done, double lo, double hi)
{
	struct group g;
	size_t done = 999;
	double t0 = check_now();
	pthread_t *threads = start(&g, 3, ms, fail);
	int rc = group_wait(&g, when, timeout, &done);
	double took = check_now() - t0;

	CHECK(rc == want_rc, "returned %d, expected %s", rc, want_rc ? "ETIMEDOUT" : "0");
	CHECK(done == want_done, "*n_done = %zu, expected %zu%s", done, want_done,
	      rc == 0 && done < want_done ?
	      ":\n    it returned before its condition held.  A wake-up from pthread_cond_wait "
	      "means\n    \"something changed, look again\", not \"your condition holds\": "
	      "test it in a loop" : "");
	CHECK(took >= lo && took <= hi, "returned after %.3f s, expected between %.2f and %.2f s",
	      took, lo, hi);
	for (int i = 0; i < 3; i++)
		pthread_join(threads[i], NULL);
	group_destroy(&g);
}

static void first_completed(void)
{
	const long ms[] = { 300, 100, 200 };
	timed(WHEN_FIRST_COMPLETED, ms, NULL, -1, 0, 1, 0.08, 0.2);
}

static void first_exception(void)
{
	const long ms[] = { 100, 200, 600 };
	const bool fail[] = { false, true, false };
	timed(WHEN_FIRST_EXCEPTION, ms, fail, -1, 0, 2, 0.18, 0.35);
}

static void first_exception_none_fails(void)
{
	const long ms[] = { 100, 300, 200 };
	timed(WHEN_FIRST_EXCEPTION, ms, NULL, -1, 0, 3, 0.28, 0.45);
}

static void all_completed(void)
{
	const long ms[] = { 300, 100, 200 };
	const bool fail[] = { false, true, false };
	timed(WHEN_ALL_COMPLETED, ms, fail, -1, 0, 3, 0.28, 0.45);
}

static void times_out(void)
{
	const long ms[] = { 1000, 1000, 1000 };
	timed(WHEN_FIRST_COMPLETED, ms, NULL, 0.2, ETIMEDOUT, 0, 0.18, 0.4);
}

static void already_done(void)
{
	const long ms[] = { 0, 0, 0 };
	struct group g;
	pthread_t *threads = start(&g, 3, ms, NULL);

	for (int i = 0; i < 3; i++)
		pthread_join(threads[i], NULL);
	double t0 = check_now();
	size_t done;
	int rc = group_wait(&g, WHEN_ALL_COMPLETED, 5.0, &done);
	CHECK(rc == 0 && done == 3, "everything was done before the call: expected 0 and 3, "
	      "got %d and %zu", rc, done);
	CHECK(check_now() - t0 < 0.05, "everything was done, but the call waited %.3f s",
	      check_now() - t0);
	rc = group_wait(&g, WHEN_FIRST_EXCEPTION, 0, &done);
	CHECK(rc == 0, "a timeout of 0 with the condition true must return 0, got %d", rc);
	group_destroy(&g);
}

static void no_busy_wait(void)
{
	const long ms[] = { 500, 500, 500 };
	struct group g;
	struct check_wait w;
	pthread_t *threads = start(&g, 3, ms, NULL);

	check_wait_begin(&w);
	group_wait(&g, WHEN_ALL_COMPLETED, -1, NULL);
	check_wait_end(&w);
	CHECK_WAITED_ASLEEP(w, "pthread_cond_wait (or pthread_cond_timedwait), in a loop "
			    "that tests the condition.");
	for (int i = 0; i < 3; i++)
		pthread_join(threads[i], NULL);
	group_destroy(&g);
}

struct waiter {
	struct group *g;
	enum when when;
	int rc;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->rc = group_wait(w->g, w->when, -1, NULL);
	return NULL;
}

static void many_waiters(void)
{
	const long ms[] = { 100, 200, 300 };
	const bool fail[] = { false, true, false };
	struct group g;
	struct waiter w[6];
	pthread_t wt[6];
	pthread_t *threads = start(&g, 3, ms, fail);

	for (int k = 0; k < 6; k++) {
		w[k] = (struct waiter){ &g, (enum when)(k % 3), -1 };
		pthread_create(&wt[k], NULL, wait_thread, &w[k]);
	}
	int asleep = 0;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;              /* every slot is done after 0.3 s */
	for (int k = 0; k < 6; k++)
		if (pthread_timedjoin_np(wt[k], NULL, &until) != 0)
			asleep++;
	CHECK(asleep == 0, "%d of the 6 waiting threads still sleep, 2 s after the last slot "
	      "was done: wake-ups\n    were lost.  These threads wait for different "
	      "conditions, so the one a\n    pthread_cond_signal wakes may find its own "
	      "condition false and sleep again,\n    while one whose condition holds is never "
	      "woken: broadcast", asleep);
	for (int k = 0; k < 6; k++)
		CHECK(w[k].rc == 0, "waiter %d returned %d", k, w[k].rc);
	for (int i = 0; i < 3; i++)
		pthread_join(threads[i], NULL);
	group_destroy(&g);
}

int main(void)
{
	check_begin("06-wait-by-hand");
	check_run("FIRST_COMPLETED returns when the first slot is done (0.1 s)",
		  first_completed, 5);
	check_run("FIRST_EXCEPTION returns at the first failure (0.2 s)", first_exception, 5);
	check_run("FIRST_EXCEPTION with no failure waits for all (0.3 s)",
		  first_exception_none_fails, 5);
	check_run("ALL_COMPLETED waits for all, failures included (0.3 s)", all_completed, 5);
	check_run("a timeout of 0.2 s returns ETIMEDOUT after 0.2 s", times_out, 5);
	check_run("a condition already true returns at once", already_done, 5);
	check_run("no busy waiting", no_busy_wait, 5);
	check_run("six threads waiting at once all wake up", many_waiters, 5);
	return check_end();
}

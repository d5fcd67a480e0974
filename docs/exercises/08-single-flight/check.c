/* The checker of exercise 8: a slow fake API that counts its calls per
 * id, and many threads asking for the same and for different ids. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "exercise.h"

#define MAX_ID 1000

static atomic_int fetches[MAX_ID];
static atomic_int in_flight, peak;
static long latency_ms = 100;

/* The fake API: ids ending in 404 never exist; id 503 fails on its first
 * call and works afterwards. */
static int fetch(long id, char *name, size_t cap, void *ctx)
{
	(void)ctx;
	int n = atomic_fetch_add(&fetches[id % MAX_ID], 1) + 1;
	int now = atomic_fetch_add(&in_flight, 1) + 1;
	int p = atomic_load(&peak);

	while (now > p && !atomic_compare_exchange_weak(&peak, &p, now))
		;
	check_sleep_ms(latency_ms);
	atomic_fetch_sub(&in_flight, 1);
	if (id % 1000 == 404) {
		snprintf(name, cap, "folder %ld not found", id);
		return 404;
	}
	if (id == 503 && n == 1) {
		snprintf(name, cap, "folder %ld: service unavailable", id);
		return 503;
	}
	snprintf(name, cap, "Folder %ld", id);
	return 0;
}

struct ask {
	struct cache *c;
	long id;
	int rc;
	char name[128];
	struct check_wait cost;         /* what the call cost its thread */
};

static void *asker(void *arg)
{
	struct ask *a = arg;

	check_wait_begin(&a->cost);
	a->rc = cache_get(a->c, a->id, a->name, sizeof(a->name));
	check_wait_end(&a->cost);
	return NULL;
}

/* n threads ask for ids[k] at the same moment. */
static void ask_all(struct cache *c, struct ask *asks, const long *ids, int n)
{
	pthread_t t[256];

	for (int k = 0; k < n; k++) {
		asks[k] = (struct ask){ .c = c, .id = ids[k] };
		pthread_create(&t[k], NULL, asker, &asks[k]);
	}
	for (int k = 0; k < n; k++)
		pthread_join(t[k], NULL);
}

static void hit_after_miss(void)
{
	struct cache *c = cache_new(fetch, NULL);
	char name[64];

	CHECK(c, "cache_new failed");
	CHECK(cache_get(c, 7, name, sizeof(name)) == 0, "get(7) failed: %s", name);
	CHECK(strcmp(name, "Folder 7") == 0, "name \"%s\", expected \"Folder 7\"", name);
	double t0 = check_now();
	CHECK(cache_get(c, 7, name, sizeof(name)) == 0 && strcmp(name, "Folder 7") == 0,
	      "second get(7): \"%s\"", name);
	CHECK(check_now() - t0 < 0.05, "the second get(7) took %.3f s: it should be a hit",
	      check_now() - t0);
	CHECK(fetches[7] == 1, "id 7 was fetched %d times, expected once", (int)fetches[7]);
	cache_free(c);
}

static void one_flight(void)
{
	enum { N = 16 };
	long ids[N];
	struct ask asks[N];
	struct cache *c = cache_new(fetch, NULL);

	latency_ms = 300;       /* time enough for every thread to start */
	for (int k = 0; k < N; k++)
		ids[k] = 42;
	ask_all(c, asks, ids, N);
	for (int k = 0; k < N; k++)
		CHECK(asks[k].rc == 0 && strcmp(asks[k].name, "Folder 42") == 0,
		      "caller %d got %d, \"%s\"", k, asks[k].rc, asks[k].name);
	CHECK(fetches[42] == 1, "16 threads asked for id 42 at once and the API saw %d "
	      "requests for it: they must share one fetch", (int)fetches[42]);
	/* A thread asleep costs a few milliseconds however long it waits; one
	 * that polls is running or ready to run the whole time, however
	 * loaded the machine (see check_thread_busy_seconds). */
	double busy = 0, wall = 0;
	for (int k = 0; k < N; k++) {
		busy += asks[k].cost.busy / N;
		if (asks[k].cost.wall > wall)
			wall = asks[k].cost.wall;
	}
	CHECK(busy <= check_wait_allowed(wall),
	      "16 threads waited up to %.2f s for one fetch, and each was running or ready "
	      "to run\n    for %.3f s of that on average (at most %.3f s allowed): the "
	      "waiters poll the flight\n    instead of sleeping until it lands.  Wait on a "
	      "condition variable that the\n    fetching thread broadcasts",
	      wall, busy, check_wait_allowed(wall));
	cache_free(c);
}

static void in_parallel(void)
{
	enum { N = 8 };
	long ids[N];
	struct ask asks[N];
	struct cache *c = cache_new(fetch, NULL);

	for (int k = 0; k < N; k++)
		ids[k] = 100 + k;
	double t0 = check_now();
	ask_all(c, asks, ids, N);
	double took = check_now() - t0;
	for (int k = 0; k < N; k++)
		CHECK(asks[k].rc == 0, "get(%ld) failed: %s", ids[k], asks[k].name);
	CHECK(took < 0.35, "8 different ids, 100 ms each, took %.2f s: fetches of different "
	      "ids must run at the same time (is a lock held during the fetch?)", took);
	cache_free(c);
}

static void mixed(void)
{
	enum { THREADS = 40 };
	long ids[THREADS];
	struct ask asks[THREADS];
	struct cache *c = cache_new(fetch, NULL);

	latency_ms = 30;
	for (int round = 0; round < 5; round++) {
		for (int k = 0; k < THREADS; k++)
			ids[k] = 200 + (k * 7 + round) % 20;
		ask_all(c, asks, ids, THREADS);
		for (int k = 0; k < THREADS; k++) {
			char want[64];
			snprintf(want, sizeof(want), "Folder %ld", ids[k]);
			CHECK(asks[k].rc == 0 && strcmp(asks[k].name, want) == 0,
			      "get(%ld) gave %d, \"%s\"", ids[k], asks[k].rc, asks[k].name);
		}
	}
	for (long id = 200; id < 220; id++)
		CHECK(fetches[id] == 1, "200 requests over 20 ids: id %ld was fetched %d times, "
		      "expected once", id, (int)fetches[id]);
	cache_free(c);
}

static void failure_shared_not_kept(void)
{
	enum { N = 8 };
	long ids[N];
	struct ask asks[N];
	struct cache *c = cache_new(fetch, NULL);
	char name[64];

	latency_ms = 300;
	for (int k = 0; k < N; k++)
		ids[k] = 7404;
	ask_all(c, asks, ids, N);
	for (int k = 0; k < N; k++)
		CHECK(asks[k].rc != 0 && strcmp(asks[k].name, "folder 7404 not found") == 0,
		      "caller %d of a failing id got %d, \"%s\": every waiter gets the error",
		      k, asks[k].rc, asks[k].name);
	CHECK(fetches[404] == 1, "8 callers of a failing id at once made %d fetches, "
	      "expected 1 (they share the flight, and its error)", (int)fetches[404]);
	CHECK(cache_get(c, 7404, name, sizeof(name)) != 0, "a missing folder cannot succeed");
	CHECK(fetches[404] == 2, "after the failure, a new call must fetch again (a failure "
	      "is not kept): %d fetches", (int)fetches[404]);
	cache_free(c);
}

static void transient(void)
{
	struct cache *c = cache_new(fetch, NULL);
	char name[64];

	latency_ms = 10;
	CHECK(cache_get(c, 503, name, sizeof(name)) != 0, "id 503 fails the first time");
	CHECK(strstr(name, "unavailable"), "the error message is \"%s\"", name);
	CHECK(cache_get(c, 503, name, sizeof(name)) == 0, "id 503 works the second time, but "
	      "got \"%s\": was the failure cached?", name);
	CHECK(strcmp(name, "Folder 503") == 0, "name \"%s\"", name);
	cache_free(c);
}

int main(void)
{
	check_begin("08-single-flight");
	check_run("a miss fetches, the next call hits", hit_after_miss, 10);
	check_run("16 callers of one id at once share one fetch, asleep", one_flight, 10);
	check_run("different ids are fetched at the same time", in_parallel, 10);
	check_run("200 requests over 20 ids from 40 threads: one fetch per id", mixed, 20);
	check_run("callers of a failing fetch share its error; failures are not kept",
		  failure_shared_not_kept, 10);
	check_run("a transient failure, then success", transient, 10);
	return check_end();
}

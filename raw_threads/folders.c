/* folders with raw POSIX threads: the tutorial's cache and rate limit,
 * made correct by hand.
 *
 * -j threads take list indexes from a shared counter.  The cache maps an
 * id to an entry that is either FETCHING or DONE:
 *   - the first thread to ask for an id adds a FETCHING entry, drops the
 *     lock, fetches, and marks the entry DONE with a broadcast;
 *   - a thread that finds the entry FETCHING waits on the condition
 *     variable until it is DONE, then takes the same answer.
 * So every id is fetched once, however many duplicates are in flight: the
 * tutorial's "if folder_id in folder_cache" races because its check and
 * its insert are two steps with the network call between them; here the
 * check and the claim are one critical section.
 *
 * One condition variable serves every entry: a broadcast wakes all the
 * waiters and each re-checks its own entry.  Waiters are rare (a repeat
 * of an id still in flight), so that costs less than a condition variable
 * per entry.  The price of this model's way: a waiting thread does
 * nothing else meanwhile.
 *
 * The rate limit is one token bucket for all threads, behind its own
 * mutex so that a thread waiting for a token never holds up the cache.
 * The lock is held only to reserve a token; the sleep happens outside.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "folders_work.h"
#include "stats.h"
#include "token_bucket.h"
#include "trace.h"

static const struct pl_program program = {
	.name = "raw_threads/folders",
	.summary = "folder names looked up by pthreads sharing a single-flight "
		   "cache (mutex + condition variable) and one token bucket",
	.workload = PL_FOLDERS,
	.default_workers = 5,
	PL_FOLDERS_OPTIONS,
};

enum { FETCHING, DONE };

struct entry {
	int state;                      /* under cache_lock */
	struct pl_folder_answer answer; /* written by the fetcher only */
};

struct shared {
	struct pl_folders *f;

	pthread_mutex_t cache_lock;     /* next, cache, entries[].state */
	pthread_cond_t fetched;         /* broadcast when an entry is DONE */
	long next;                      /* next list index to take */
	struct pl_id_map cache;         /* id -> index in entries */
	struct entry *entries;
	long n_entries;

	pthread_mutex_t bucket_lock;
	struct pl_token_bucket bucket;
};

static void wait_for_token(struct shared *s)
{
	pthread_mutex_lock(&s->bucket_lock);
	double wait = pl_token_bucket_reserve(&s->bucket, pl_now());
	pthread_mutex_unlock(&s->bucket_lock);
	pl_sleep_s(wait);
}

static void *worker(void *arg)
{
	struct shared *s = arg;
	struct pl_folders *f = s->f;

	pthread_mutex_lock(&s->cache_lock);
	while (s->next < f->n) {
		long i = s->next++;
		long id = f->ids[i];
		long k = pl_id_map_get(&s->cache, id);

		if (k < 0) {
			/* First asker: claim the id, then fetch unlocked. */
			k = s->n_entries++;
			s->entries[k].state = FETCHING;
			pl_id_map_put(&s->cache, id, k);
			pthread_mutex_unlock(&s->cache_lock);

			wait_for_token(s);
			pl_folders_fetch(f->client, id, f->work_us, &s->entries[k].answer);

			pthread_mutex_lock(&s->cache_lock);
			s->entries[k].state = DONE;
			pthread_cond_broadcast(&s->fetched);
		} else if (s->entries[k].state != DONE) {
			/* Someone else asked first: wait for their answer
			 * (a cache wait on the timeline, docs/timeline.md). */
			uint64_t waited = pl_trace_mark();
			do
				pthread_cond_wait(&s->fetched, &s->cache_lock);
			while (s->entries[k].state != DONE);
			pl_trace_since(PL_TRACE_CACHE_WAIT, id, waited);
		}
		/* The answer is never written again once DONE, and the mutex
		 * made the fetcher's writes visible to us. */
		pl_folders_set(f, i, &s->entries[k].answer);
	}
	pthread_mutex_unlock(&s->cache_lock);
	return NULL;
}

int main(int argc, char **argv)
{
	struct pl_options opts;
	struct pl_folders f;

	pl_parse_args(argc, argv, &program, &opts);
	pl_folders_begin(&f, &opts);

	struct shared s = {
		.f = &f,
		.cache_lock = PTHREAD_MUTEX_INITIALIZER,
		.fetched = PTHREAD_COND_INITIALIZER,
		.bucket_lock = PTHREAD_MUTEX_INITIALIZER,
		.entries = calloc(f.n ? f.n : 1, sizeof(*s.entries)),
	};
	pthread_t *threads = calloc(opts.workers, sizeof(*threads));
	if (!s.entries || !threads)
		pl_die(&opts, "out of memory");
	pl_id_map_init(&s.cache, (size_t)f.n);
	pl_token_bucket_init(&s.bucket, f.rate, f.burst);

	for (long t = 0; t < opts.workers; t++) {
		int err = pthread_create(&threads[t], NULL, worker, &s);
		if (err)
			pl_die(&opts, "pthread_create: %s", strerror(err));
		pl_count_threads(1);
	}
	for (long t = 0; t < opts.workers; t++)
		pthread_join(threads[t], NULL);

	int status = pl_folders_finish(&f);
	pl_id_map_free(&s.cache);
	free(s.entries);
	free(threads);
	return status;
}

/* folders with OpenMP: the serial loop, one pragma, one lock.
 *
 * `parallel for schedule(dynamic, 1)` hands the list out one index at a
 * time: an index that turns out to be a repeat costs almost nothing, so
 * equal static blocks would leave some threads with all the fetching.
 *
 * Single-flight, OpenMP style.  OpenMP has locks but no condition
 * variable, so a thread cannot sleep until another thread's fetch is
 * done.  It does not need to: under the cache lock the first thread to
 * meet an id claims it (it will fetch it), and a later thread only notes
 * which claim its index shares, and moves on to the next index.  Nobody
 * waits for an answer inside the loop; the barrier at the end of the loop
 * is the one wait, and after it every claim has its answer.  One request
 * per distinct id, and no thread ever idles on a duplicate.
 *
 * The rate limit is one token bucket for the team, reserved inside a
 * named critical section (a lock OpenMP makes for us); the sleep happens
 * outside it.
 */
#include <omp.h>
#include <stdlib.h>

#include "cli.h"
#include "folders_work.h"
#include "stats.h"
#include "token_bucket.h"

static const struct pl_program program = {
	.name = "openmp/folders",
	.summary = "folder names looked up by an OpenMP team: parallel for, an "
		   "omp lock around the cache, a critical section around the bucket",
	.workload = PL_FOLDERS,
	.default_workers = 5,
	PL_FOLDERS_OPTIONS,
};

int main(int argc, char **argv)
{
	struct pl_options opts;
	struct pl_folders f;
	struct pl_token_bucket bucket;
	struct pl_id_map cache;         /* id -> claim, under cache_lock */
	omp_lock_t cache_lock;
	long n_claims = 0;

	pl_parse_args(argc, argv, &program, &opts);
	pl_folders_begin(&f, &opts);
	pl_token_bucket_init(&bucket, f.rate, f.burst);
	pl_id_map_init(&cache, (size_t)f.n);
	omp_init_lock(&cache_lock);

	/* claims[k]: the answer for the k-th distinct id; claim_of[i]: the
	 * claim index i shares. */
	struct pl_folder_answer *claims = calloc(f.n ? f.n : 1, sizeof(*claims));
	long *claim_of = calloc(f.n ? f.n : 1, sizeof(*claim_of));
	if (!claims || !claim_of)
		pl_die(&opts, "out of memory");

	omp_set_num_threads(opts.workers);
#pragma omp parallel
	{
		/* The runtime creates the team; all but the master are new. */
#pragma omp master
		pl_count_threads(omp_get_num_threads() - 1);

#pragma omp for schedule(dynamic, 1)
		for (long i = 0; i < f.n; i++) {
			bool mine = false;
			long k;

			omp_set_lock(&cache_lock);
			k = pl_id_map_get(&cache, f.ids[i]);
			if (k < 0) {
				k = n_claims++;
				pl_id_map_put(&cache, f.ids[i], k);
				mine = true;
			}
			omp_unset_lock(&cache_lock);
			claim_of[i] = k;

			if (mine) {
				double wait;

#pragma omp critical(bucket)
				wait = pl_token_bucket_reserve(&bucket, pl_now());
				pl_sleep_s(wait);
				pl_folders_fetch(f.client, f.ids[i], f.work_us, &claims[k]);
			}
		}
		/* The loop's implicit barrier: every claim is fetched. */
	}

	for (long i = 0; i < f.n; i++)
		pl_folders_set(&f, i, &claims[claim_of[i]]);

	int status = pl_folders_finish(&f);
	omp_destroy_lock(&cache_lock);
	pl_id_map_free(&cache);
	free(claims);
	free(claim_of);
	return status;
}

/* folders, serial: the reference answer and the speedup baseline.
 *
 * The tutorial's fetch_folder_name() and get_folder_names() without
 * threads: one loop over the list, a dict as the cache, and the rate
 * limit as a token bucket that only this loop uses.
 *
 *     for idx, folder_id in enumerate(folder_id_list):
 *         if folder_id not in folder_cache:
 *             limiter.wait()
 *             folder_cache[folder_id] = fetch(folder_id)
 *         folder_names[f"folder_{idx}_name"] = folder_cache[folder_id]
 *
 * With one worker the cache cannot race and the bucket needs no lock:
 * every other model's folders.c is this file plus what sharing costs.
 * Failures are cached too: the client has already retried what was worth
 * retrying, so asking again for a duplicate would only repeat the error.
 */
#include <stdlib.h>

#include "cli.h"
#include "folders_work.h"
#include "stats.h"
#include "token_bucket.h"

static const struct pl_program program = {
	.name = "serial/folders",
	.summary = "Folder names looked up one after the other, with a cache, the "
		   "reference every model is compared with.\n-j is checked and then "
		   "ignored: the loop is one worker.",
	.workload = PL_FOLDERS,
	.default_workers = 1,
	PL_FOLDERS_OPTIONS,
};

int main(int argc, char **argv)
{
	struct pl_options opts;
	struct pl_folders f;
	struct pl_token_bucket bucket;
	struct pl_id_map cache;         /* id -> slot in `fetched` */
	long n_fetched = 0;

	pl_parse_args(argc, argv, &program, &opts);
	pl_folders_begin(&f, &opts);
	pl_token_bucket_init(&bucket, f.rate, f.burst);
	pl_id_map_init(&cache, (size_t)f.n);
	struct pl_folder_answer *fetched = calloc(f.n ? f.n : 1, sizeof(*fetched));
	if (!fetched)
		pl_die(&opts, "out of memory");

	for (long i = 0; i < f.n; i++) {
		long k = pl_id_map_get(&cache, f.ids[i]);

		if (k < 0) {
			/* Only a real request waits for a token: a cache hit
			 * costs the server nothing. */
			pl_sleep_s(pl_token_bucket_reserve(&bucket, pl_now()));
			k = n_fetched++;
			pl_folders_fetch(f.client, f.ids[i], f.work_us, &fetched[k]);
			pl_id_map_put(&cache, f.ids[i], k);
		}
		pl_folders_set(&f, i, &fetched[k]);
	}

	int status = pl_folders_finish(&f);
	pl_id_map_free(&cache);
	free(fetched);
	return status;
}

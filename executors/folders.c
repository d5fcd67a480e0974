/* folders with the executor library: the tutorial's get_folder_names()
 *
 *     with ThreadPoolExecutor(max_workers=5) as executor:
 *         future_to_id = {executor.submit(fetch_folder_name, folder_id): (idx, folder_id)
 *                         for idx, folder_id in enumerate(folder_id_list)}
 *         for future in as_completed(future_to_id):
 *             ...
 *
 * with its two weak spots moved to where they cannot go wrong.
 *
 * The cache is a cache of *futures*, kept by the one thread that submits.
 * The first time an id comes up, its lookup is submitted and the future
 * goes into the cache; a repeat gets the same future instead of a new
 * task.  A future stands for an answer that may not exist yet, so a
 * repeat of an id still in flight shares the fetch in progress: one
 * request per distinct id, with no lock, because only the submitting
 * thread touches the cache.  (The tutorial checks its dict inside the
 * task, in five threads at once: two of them miss the same id together
 * and both fetch it.)
 *
 * Errors travel as the task's failure: the task fails with the client's
 * error class and message, and the caller reads them from the future with
 * cf_future_exception(), like the exception a Python future carries.
 *
 * The rate limit paces the submissions: the submitting thread takes a
 * token from the bucket before each new lookup.  This is the one place
 * that sees every request on both backends (on the process backend the
 * tasks run in other processes, which share no memory with us), so the
 * task function stays the same for both and --executor remains the one
 * word that changes.  The cost: the bucket meters when a lookup is
 * handed to the pool, not when it reaches the server.  While a worker is
 * free, which is the case whenever the rate is below what the pool can
 * do, the two are the same moment; a saturated pool could start queued
 * lookups closer together (docs/folders.md).
 *
 * The task must get everything through its argument bytes: a process
 * worker is this program started afresh, which never ran main().  So the
 * base URL and the client's options travel with every task, and each
 * worker process makes its client the first time it needs one.  The URL
 * goes as long as it is, not in a fixed 512-byte field: every pending
 * lookup carries its argument until it runs, and with -n 2000000 they are
 * all pending at once.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf.h"
#include "cf_glue.h"
#include "cli.h"
#include "folders_work.h"
#include "stats.h"
#include "token_bucket.h"

struct fetch_arg {
	long id;
	long work_us;
	struct pl_folder_client_options client_opts;
	char base_url[];                /* NUL-terminated */
};

/* One client per process, made by the first task that needs it.  On the
 * thread backend all workers share it (each thread gets its own libcurl
 * handle inside it); on the process backend each worker makes its own. */
static pthread_mutex_t client_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pl_folder_client *client;

static struct pl_folder_client *worker_client(const struct fetch_arg *arg)
{
	pthread_mutex_lock(&client_lock);
	if (!client)
		client = pl_folder_client_new(arg->base_url, &arg->client_opts);
	pthread_mutex_unlock(&client_lock);
	return client;
}

/* The tutorial's fetch_folder_name(), minus the cache (see above). */
static int fetch_folder_name(cf_task *t)
{
	const struct fetch_arg *arg = cf_task_arg(t, NULL);
	struct pl_folder_client *c = worker_client(arg);
	struct pl_folder_answer a;

	if (!c)
		return cf_task_fail(t, PL_FOLDER_INVALID, "folder %ld: cannot make a "
				    "client for %s", arg->id, arg->base_url);
	pl_folders_fetch(c, arg->id, arg->work_us, &a);
	if (a.status != PL_FOLDER_OK)
		return cf_task_fail(t, a.status, "%s", a.error);
	return cf_task_return(t, a.name, strlen(a.name) + 1);
}

static struct pl_choice_option choices[] = {
	{ "executor", pl_cf_backends, "the backend: the one word that changes", "thread" },
	{ NULL, NULL, NULL, NULL },
};
static const struct pl_program program = {
	.name = "executors/folders",
	.summary = "folder names looked up by a pool, a cache of futures, "
		   "as_completed to collect",
	.workload = PL_FOLDERS,
	.default_workers = 5,
	.choices = choices,
	PL_FOLDERS_OPTIONS,
};

/* What a done future says, as an answer. */
static void read_future(cf_executor *ex, cf_future *future, struct pl_folder_answer *a)
{
	const cf_error *error;
	const char *name;
	cf_status st = cf_future_result(future, CF_FOREVER, (const void **)&name, NULL);

	if (st == CF_OK) {
		a->status = PL_FOLDER_OK;
		snprintf(a->name, sizeof(a->name), "%s", name);
	} else if (st == CF_TASK_FAILED &&
		   cf_future_exception(future, CF_FOREVER, &error) == CF_OK && error) {
		a->status = error->code;
		snprintf(a->error, sizeof(a->error), "%s", error->message);
	} else {
		pl_folders_lost(a, a->id, pl_cf_why(ex, st));  /* a broken pool */
	}
}

static int nothing(cf_task *t)
{
	(void)t;
	return 0;
}

/* The MPI backend spawns all its workers at the first submit, a second
 * or more of Open MPI's launcher: lookups metered meanwhile would reach
 * the server all at once when the workers come up, over the rate.  On
 * that backend an empty task starts them before any lookup is metered. */
static void start_workers_first(cf_executor *ex, const struct pl_options *o)
{
	cf_future *f;
	const void *data;
	cf_status st;

	if (strcmp(cf_executor_backend(ex), "mpi") != 0)
		return;
	st = cf_submit(ex, nothing, NULL, 0, &f);
	if (st == CF_OK) {
		st = cf_future_result(f, CF_FOREVER, &data, NULL);
		cf_future_release(f);
	}
	if (st != CF_OK)
		pl_cf_die(o, ex, st, "starting the workers");
}

int main(int argc, char **argv)
{
	struct pl_options o;
	struct pl_folders f;
	struct pl_token_bucket bucket;
	struct pl_id_map cache;         /* id -> slot of its future */
	struct pl_id_map future_slot;   /* future -> slot: the tutorial's future_to_id */
	cf_executor *ex;
	cf_as_completed *completed;
	cf_future *future;
	cf_status st;
	long n_slots = 0, n_futures = 0;

	pl_parse_args(argc, argv, &program, &o);
	pl_cf_use_backend_build(&o, argv);
	pl_folders_begin(&f, &o);
	pl_token_bucket_init(&bucket, f.rate, f.burst);
	pl_id_map_init(&cache, (size_t)f.n);
	pl_id_map_init(&future_slot, (size_t)f.n);

	size_t room = f.n ? (size_t)f.n : 1;
	size_t arg_size = offsetof(struct fetch_arg, base_url) + strlen(f.base_url) + 1;
	struct fetch_arg *arg = malloc(arg_size);
	cf_future **futures = calloc(room, sizeof(*futures));
	struct pl_folder_answer *answers = calloc(room, sizeof(*answers));
	long *slot_of = calloc(room, sizeof(*slot_of));
	if (!arg || !futures || !answers || !slot_of)
		pl_die(&o, "out of memory for %ld ids", f.n);
	*arg = (struct fetch_arg){ .work_us = f.work_us, .client_opts = f.client_opts };
	memcpy(arg->base_url, f.base_url, strlen(f.base_url) + 1);

	cf_options opts = { .max_workers = (int)o.workers };
	st = cf_executor_new(pl_choice(&o, "executor"), &opts, &ex);
	if (st != CF_OK)
		pl_cf_die(&o, NULL, st, "cannot create the executor");
	start_workers_first(ex, &o);

	for (long i = 0; i < f.n; i++) {
		long k = pl_id_map_get(&cache, f.ids[i]);

		if (k < 0) {
			k = n_slots++;
			pl_id_map_put(&cache, f.ids[i], k);
			answers[k].id = arg->id = f.ids[i];

			pl_sleep_s(pl_token_bucket_reserve(&bucket, pl_now()));
			st = cf_submit(ex, fetch_folder_name, arg, arg_size, &future);
			if (st == CF_OK) {
				futures[n_futures++] = future;
				pl_id_map_put(&future_slot, (long)(uintptr_t)future, k);
			} else {
				pl_folders_lost(&answers[k], f.ids[i], pl_cf_why(ex, st));
			}
		}
		slot_of[i] = k;
	}

	st = cf_as_completed_new(futures, (size_t)n_futures, CF_FOREVER, &completed);
	while (st == CF_OK && (st = cf_as_completed_next(completed, &future)) == CF_OK) {
		long k = pl_id_map_get(&future_slot, (long)(uintptr_t)future);
		read_future(ex, future, &answers[k]);
	}
	if (st != CF_END)
		pl_cf_die(&o, ex, st, "as_completed");
	cf_as_completed_free(completed);

	for (long i = 0; i < f.n; i++)
		pl_folders_set(&f, i, &answers[slot_of[i]]);

	for (long k = 0; k < n_futures; k++)
		cf_future_release(futures[k]);
	pl_count_cf_workers(ex);
	cf_executor_free(ex);
	pl_folder_client_free(client);  /* the thread backend's workers' */

	int status = pl_folders_finish(&f);
	pl_id_map_free(&cache);
	pl_id_map_free(&future_slot);
	free(arg);
	free(futures);
	free(answers);
	free(slot_of);
	return status;
}

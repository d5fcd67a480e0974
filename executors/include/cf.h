/* cf: Python's concurrent.futures for C.
 *
 * The names follow the Python module so that a reader can map a tutorial
 * line by line (docs/api.md has the table):
 *
 *   Python                                  cf
 *   ThreadPoolExecutor(max_workers=3)       cf_executor_new("thread", &opts, &ex)
 *   ProcessPoolExecutor(max_workers=4)      cf_executor_new("process", &opts, &ex)
 *   executor.submit(fn, arg)                cf_submit(ex, fn, &arg, sizeof arg, &fut)
 *   executor.map(fn, items, timeout=t)      cf_map(ex, fn, items, size, n, &mopts, &it)
 *   list(executor.map(fn, items))           cf_map_into(ex, fn, items, size, n, out, ...)
 *   (a function over a whole chunk)         cf_map_batches(ex, fn, items, size, n, out, ...)
 *   future.result(timeout=t)                cf_future_result(fut, t, &data, &size)
 *   as_completed(fs, timeout=t)             cf_as_completed_new(fs, n, t, &it)
 *   wait(fs, timeout, return_when)          cf_wait(...)
 *   executor.shutdown(wait, cancel_futures) cf_shutdown(ex, wait, cancel_futures)
 *
 * Principles:
 * - A task function sees its argument as bytes and returns its result as
 *   bytes; both are copied, so the caller may reuse its memory and the same
 *   function runs unchanged on every backend (threads or processes).
 * - A task fails by returning an error (a code and a message), which
 *   reaches the caller through its future, like a Python exception.
 * - Every call returns a cf_status; none aborts the program on bad input.
 * - Timeouts are seconds as a double; CF_FOREVER (any negative value)
 *   waits without bound, like Python's None.
 */
#ifndef CF_H
#define CF_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What libcf.so exports: the functions below and nothing of the inside. */
#if defined(__GNUC__)
#define CF_API __attribute__((visibility("default")))
#else
#define CF_API
#endif

typedef enum cf_status {
	CF_OK = 0,
	CF_TIMEOUT,             /* the time bound passed first */
	CF_CANCELLED,           /* the future was cancelled */
	CF_SHUTDOWN,            /* the executor no longer takes work */
	CF_BROKEN,              /* a worker failed; the pool is unusable */
	CF_TASK_FAILED,         /* the task returned an error: see cf_error */
	CF_INVALID_STATE,       /* not possible now (e.g. released twice) */
	CF_NOMEM,               /* out of memory */
	CF_INVALID_ARGUMENT,    /* NULL where an object is needed, bad value */
	CF_BUFFER_TOO_SMALL,    /* the caller's buffer cannot hold the result */
	CF_END,                 /* an iterator has nothing more to give */
	CF_UNKNOWN_BACKEND,     /* cf_executor_new: no backend of that name */
	CF_SYSTEM,              /* the OS refused (thread or process creation) */
} cf_status;

/* A readable name for a status ("timeout", "task failed", ...). */
CF_API const char *cf_strerror(cf_status status);

#define CF_FOREVER (-1.0)

/* A task's error, the C counterpart of the exception a Python task raises. */
#define CF_ERROR_MESSAGE_MAX 256
typedef struct cf_error {
	int code;                               /* nonzero */
	char message[CF_ERROR_MESSAGE_MAX];     /* NUL-terminated */
} cf_error;

typedef struct cf_executor cf_executor;
typedef struct cf_future cf_future;
typedef struct cf_task cf_task;

/* ---- Writing a task ------------------------------------------------------
 *
 *   static int square(cf_task *task)
 *   {
 *           const long *n = cf_task_arg(task, NULL);
 *           long result = *n * *n;
 *           return cf_task_return(task, &result, sizeof result);
 *   }
 *
 * A task returns 0 on success.  It returns a nonzero value to fail; the
 * value becomes the error code unless cf_task_fail() set one with a
 * message.  A task must not keep `task` after it returns.
 */
typedef int (*cf_fn)(cf_task *task);

/* The argument bytes (NULL if none); *size gets their length when size is
 * not NULL.  Aligned for any type that fits in them (a chunk of
 * cf_map_into or cf_map_batches on threads is read where the caller has
 * it, which it does only when the caller's array is aligned so). */
CF_API const void *cf_task_arg(const cf_task *task, size_t *size);

/* Copies `size` bytes as the task's result (replacing an earlier one).
 * Returns 0, or CF_NOMEM. */
CF_API int cf_task_return(cf_task *task, const void *data, size_t size);

/* Makes the task's result `size` bytes long (replacing an earlier one)
 * and returns where the task writes them, aligned for any type that fits
 * in them: a result built in place, with no copy.  In a cf_map_into or
 * cf_map_batches task on threads that is the caller's array itself.  NULL
 * when out of memory (or task is NULL). */
CF_API void *cf_task_result_buffer(cf_task *task, size_t size);

/* Records an error and returns its code, so that a task can write
 * `return cf_task_fail(task, 42, "bad input %d", x);`.  A code of 0 is
 * turned into -1: a failure always has a nonzero code. */
CF_API int cf_task_fail(cf_task *task, int code, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- Executors ---------------------------------------------------------- */

/* A spin longer than this is a mistake, not a setting (one second). */
#define CF_MAX_IDLE_SPIN_US 1000000

typedef struct cf_options {
	/* Workers at most; 0 picks the backend's default: min(32, cores + 4)
	 * threads like Python's ThreadPoolExecutor, or one process per core. */
	int max_workers;
	/* Thread names "prefix_0", "prefix_1", ... (NULL: "cf").  Linux
	 * keeps 15 bytes of a name: a longer "prefix_N" keeps its number and
	 * as much of the prefix as fits ("SpecialPool_4" whole, a 15-byte
	 * prefix as "SpecialPoolNa_4"). */
	const char *thread_name_prefix;
	/* Run once in every worker before its first task, with a copy of the
	 * initarg bytes (like Python's initargs, which are pickled); a nonzero
	 * return breaks the pool: pending and later submits fail with
	 * CF_BROKEN. */
	int (*initializer)(const void *initarg, size_t initarg_size);
	const void *initarg;
	size_t initarg_size;
	/* Process backend: replace a worker after this many tasks (0: never). */
	int max_tasks_per_child;
	/* Back-pressure: cf_submit waits while this many tasks are queued and
	 * not yet running (0: no bound, like Python). */
	size_t max_queued;
	/* How long an idle worker polls for work, and a caller waiting in
	 * cf_future_result & co. polls for the result, before sleeping, in
	 * microseconds (0, the default: sleep at once; at most
	 * CF_MAX_IDLE_SPIN_US).  Spinning trades CPU for hand-off latency. */
	int idle_spin_us;
} cf_options;

/* Creates an executor of the named backend: "thread", "process", or
 * "mpi" where the program links libcf-mpi (docs/distributed.md).
 * opts may be NULL for all defaults.  Workers start on demand. */
CF_API cf_status cf_executor_new(const char *backend, const cf_options *opts,
				 cf_executor **out);

/* Whether cf_executor_new knows the backend in this program: "thread"
 * and "process" always, "mpi" when the program links the MPI backend's
 * library (libcf-mpi, built where Open MPI is installed). */
CF_API bool cf_backend_available(const char *backend);

/* The backend's name ("thread", "process", "mpi"), or "" for NULL. */
CF_API const char *cf_executor_backend(const cf_executor *ex);

/* The worker bound actually used (after the 0 default is resolved). */
CF_API int cf_executor_max_workers(const cf_executor *ex);

/* Schedules fn(arg) and gives a new future (which the caller releases).
 * The argument bytes are copied.  CF_SHUTDOWN after cf_shutdown,
 * CF_BROKEN when the pool is broken. */
CF_API cf_status cf_submit(cf_executor *ex, cf_fn fn, const void *arg, size_t arg_size,
			   cf_future **out);

/* Stops taking work.  With cancel_futures, tasks not yet running are
 * cancelled.  With wait, returns after every worker has finished.  Safe
 * to call more than once and from any thread but a worker of `ex`. */
CF_API cf_status cf_shutdown(cf_executor *ex, bool wait, bool cancel_futures);

/* cf_shutdown(ex, true, false), then frees ex.  Futures obtained from it
 * stay valid until released.  NULL is ignored, and so is a call from one
 * of ex's own threads (a task, or a done callback run by the pool), which
 * cannot wait for itself: free it from elsewhere. */
CF_API void cf_executor_free(cf_executor *ex);

/* Why ex is broken, as the message of Python's BrokenProcessPool says:
 * "worker 1 (pid 4711) ended: killed by signal 9 (Killed)", "the
 * initializer failed in worker 0 (pid 4712): initializer returned 3",
 * "cannot start a worker process: Too many open files".  NULL while ex is
 * not broken; the text stays valid and unchanged until ex is freed. */
CF_API const char *cf_executor_broken_reason(cf_executor *ex);

typedef struct cf_executor_stats {
	size_t threads_created;         /* worker threads started so far */
	size_t processes_created;       /* worker processes started so far */
	size_t helper_threads;          /* threads besides workers (the
					 * process pool's manager) */
	size_t tasks_completed;         /* tasks that ran to the end */
} cf_executor_stats;

CF_API cf_status cf_executor_stats_get(cf_executor *ex, cf_executor_stats *stats);

/* ---- Futures ------------------------------------------------------------ */

/* Cancels the task if it has not started; true if the future is (now)
 * cancelled, false if it is running or done. */
CF_API bool cf_future_cancel(cf_future *f);
CF_API bool cf_future_cancelled(cf_future *f);
CF_API bool cf_future_running(cf_future *f);
/* Finished or cancelled. */
CF_API bool cf_future_done(cf_future *f);

/* Waits up to timeout seconds for the task.  CF_OK: *data and *size (each
 * may be NULL) describe the result, valid until the future is released
 * and aligned for any type (*data is NULL when the result is empty).
 * Otherwise CF_TIMEOUT, CF_CANCELLED, CF_TASK_FAILED (cf_future_exception
 * says why) or CF_BROKEN. */
CF_API cf_status cf_future_result(cf_future *f, double timeout, const void **data,
				  size_t *size);

/* Same, but copies the result into buf; CF_BUFFER_TOO_SMALL (with *size
 * set to the size needed) when it does not fit. */
CF_API cf_status cf_future_result_into(cf_future *f, double timeout, void *buf,
				       size_t capacity, size_t *size);

/* Waits like cf_future_result.  CF_OK: *error is the task's error, or NULL
 * if the task succeeded.  Statuses as for cf_future_result, except that a
 * failed task gives CF_OK with its error. */
CF_API cf_status cf_future_exception(cf_future *f, double timeout,
				     const cf_error **error);

/* Calls fn(f, arg) once when the future is done (finished or cancelled):
 * at once in this thread if it already is, else in the thread that
 * completes it.  A callback returning nonzero is counted, never fatal.
 * It must not release f. */
typedef int (*cf_done_fn)(cf_future *f, void *arg);
CF_API cf_status cf_future_add_done_callback(cf_future *f, cf_done_fn fn, void *arg);

/* Done callbacks that returned nonzero so far, in this whole process.
 * Not per executor: a callback runs for a future, which may outlive its
 * executor, in whatever thread completes it or adds it (Python logs a
 * raising callback and does not count it anywhere). */
CF_API size_t cf_callback_errors(void);

/* Gives up the caller's reference.  A running task still runs; its result
 * is dropped.  CF_INVALID_STATE for a second release when detectable. */
CF_API cf_status cf_future_release(cf_future *f);


/* ---- map ---------------------------------------------------------------- */

typedef struct cf_map_iter cf_map_iter;

/* cf_map_options.chunksize: let cf_map cut the items into 4 chunks per
 * worker (count / (4 * max_workers), rounded up), the rule of Python's
 * multiprocessing.Pool.map.  A few large chunks cost almost nothing per
 * item, like a static partition, but a slow chunk can hold up the end. */
#define CF_CHUNKSIZE_AUTO ((size_t)-1)

typedef struct cf_map_options {
	double timeout;         /* from the cf_map call; CF_FOREVER: none */
	size_t chunksize;       /* items per task message (0 or 1: one;
				 * CF_CHUNKSIZE_AUTO: 4 chunks per worker) */
	size_t max_in_flight;   /* chunks submitted ahead (0: about 512
				 * items, at least 4 chunks per worker) */
} cf_map_options;

/* Maps fn over `count` items of `item_size` bytes each, taken from
 * `items` (copied as they are submitted, so items must stay valid until
 * the iterator is freed).  Each task sees its item aligned for any type.
 * opts may be NULL (no timeout, chunksize 1). */
CF_API cf_status cf_map(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
			size_t count, const cf_map_options *opts, cf_map_iter **out);

/* The next result, in input order.  CF_OK with *data and *size valid until the
 * next call; CF_END after the last; CF_TIMEOUT when the call's deadline
 * passed; CF_TASK_FAILED when a task failed (cf_map_error says which and
 * why).  Any status but CF_OK ends the iteration: later calls give it
 * again, and tasks not yet started are cancelled. */
CF_API cf_status cf_map_next(cf_map_iter *it, const void **data, size_t *size);

/* The failed task's error and its item index, after CF_TASK_FAILED. */
CF_API const cf_error *cf_map_error(const cf_map_iter *it, size_t *index);

/* Cancels what has not started and frees the iterator.  Tasks already
 * running finish on their own and their results are dropped (as when a
 * Python map generator is closed); nothing of the caller's is used by
 * them, since every item was copied when submitted. */
CF_API void cf_map_free(cf_map_iter *it);

/* Maps fn over `count` items like cf_map and writes item i's result to
 * results + i * result_size, for a caller who wants every result in an
 * array (Python's multiprocessing.Pool.map, which returns a list).  Each
 * result must be exactly result_size bytes (> 0); another size fails its
 * item.  With chunksize > 1 (or CF_CHUNKSIZE_AUTO) a chunk's results come
 * back in one block and are copied with one memcpy, so the caller spends
 * nothing per item.  Returns CF_OK once every result is in; otherwise
 * CF_TIMEOUT, CF_TASK_FAILED (*error and *error_index, each may be NULL,
 * tell the first failed item; the results before it are written), or
 * what cf_map and cf_map_next give.  On any status but CF_OK the tasks
 * not yet started are cancelled, and those running finish on their own:
 * they never write into `results`, which is the caller's again at once.
 * opts may be NULL (no timeout, chunksize 1). */
CF_API cf_status cf_map_into(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
			     size_t count, void *results, size_t result_size,
			     const cf_map_options *opts, cf_error *error, size_t *error_index);

/* Like cf_map_into, but fn runs once per chunk instead of once per item
 * (a vectorised task, like Ray's map_batches): its argument is the
 * chunk's items back to back as in `items` (cf_task_arg's size says how
 * many bytes: items x item_size), and its result must be their results
 * back to back, items x result_size bytes, best written where
 * cf_task_result_buffer says.  The library then does nothing per item,
 * like a static partition.  A failing call fails its whole chunk:
 * *error_index is the chunk's first item.  Chunks as cf_map_options says
 * (CF_CHUNKSIZE_AUTO: 4 per worker; 0 or 1: one item per call). */
CF_API cf_status cf_map_batches(cf_executor *ex, cf_fn fn, const void *items, size_t item_size,
				size_t count, void *results, size_t result_size,
				const cf_map_options *opts, cf_error *error, size_t *error_index);

/* cf_map_batches over no items (items NULL and item_size 0) maps over the
 * indexes 0 .. count-1, Python's range(count), without an array of them:
 * a call's argument is then its chunk's place, one cf_range. */
typedef struct cf_range {
	size_t first;   /* the index of the chunk's first item */
	size_t count;   /* how many: the call returns count results */
} cf_range;

/* ---- wait and as_completed ---------------------------------------------- */

typedef enum cf_return_when {
	CF_FIRST_COMPLETED,
	CF_FIRST_EXCEPTION,
	CF_ALL_COMPLETED,
} cf_return_when;

/* Waits until the condition holds or timeout passes, then splits fs into
 * done and not_done (arrays of n entries each, or NULL; counts in
 * *n_done and *n_not_done, duplicates listed once).  CF_OK when the condition
 * was met, CF_TIMEOUT when time ran out (the sets are filled either way). */
CF_API cf_status cf_wait(cf_future *const *fs, size_t n, double timeout,
			 cf_return_when when, cf_future **done, size_t *n_done,
			 cf_future **not_done, size_t *n_not_done);

typedef struct cf_as_completed cf_as_completed;

/* An iterator over fs giving each future once (duplicates too), those
 * already done first, then each as it completes.  timeout is from this
 * call for the whole iteration. */
CF_API cf_status cf_as_completed_new(cf_future *const *fs, size_t n, double timeout,
				     cf_as_completed **out);

/* CF_OK with the next done future; CF_END when all were given;
 * CF_TIMEOUT when the deadline passed first.  The iterator holds a
 * reference to each future until it gives it, and to the one it gave
 * until the next call: a caller that released its own references may
 * read *f until then, and the iteration never keeps futures (and their
 * results) it has given alive, as CPython's does not. */
CF_API cf_status cf_as_completed_next(cf_as_completed *it, cf_future **f);

CF_API void cf_as_completed_free(cf_as_completed *it);

#ifdef __cplusplus
}
#endif
#endif

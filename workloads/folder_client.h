/* The folder API client every model shares: one call, pl_folder_get(),
 * fetches a folder's display name over HTTP, retrying what is worth
 * retrying and reporting the rest.
 *
 * Retry policy (docs/folder-api.md explains it):
 *   - 429, 503 (and 408, 500, 502, 504) and connection errors, resets,
 *     truncated bodies or timeouts are transient: retried up to
 *     max_attempts in all, waiting an exponential backoff with jitter, or
 *     what the server asked for in Retry-After-Ms / Retry-After when it
 *     said;
 *   - 400, 403, 404 and any other answer are permanent: never retried;
 *   - a 200 whose body is not the folder JSON, or whose headers are
 *     larger than anything a folder needs, is malformed: not retried.
 *
 * Circuit breaker: after breaker_after calls in a row that got no HTTP
 * answer at all (each after its own retries), the server is taken for
 * down, and calls fail at once, without a request, for
 * breaker_cooldown_ms; then one call tries again (the others keep failing
 * fast), and any HTTP answer closes the breaker.  A dead server thus
 * costs a run a few calls' retries, not every remaining id's.
 *
 * Threads: one pl_folder_client may be shared by any number of threads.
 * Each thread gets its own libcurl easy handle the first time it calls
 * pl_folder_get(), and keeps it (and its keep-alive connection) until the
 * thread exits or the client is freed: one handle per worker, without the
 * worker having to ask for one.
 *
 * fork(): a child may keep using a client made by its parent.  A handle
 * remembers the process that made it; in a child the first call makes a
 * fresh one, so parent and child never share a connection.  (The parent's
 * copies in the child are closed without a word on the wire, which is
 * safe for plain HTTP.)  The client must not be freed while another
 * thread is inside a call.
 */
#ifndef PARLAB_FOLDER_CLIENT_H
#define PARLAB_FOLDER_CLIENT_H

#include <stddef.h>

/* Zero in any field means its default, so `{ 0 }` or NULL is the default
 * client and a test sets only what it tests. */
struct pl_folder_client_options {
	long connect_timeout_ms;        /* per attempt; default 2000 */
	long timeout_ms;                /* per attempt, whole exchange; default 10000 */
	int max_attempts;               /* in all, the first included; default 5 */
	long backoff_base_ms;           /* first retry waits about this; default 50 */
	long backoff_max_ms;            /* no backoff wait is longer; default 2000 */
	long retry_after_max_ms;        /* a longer Retry-After gives up; default 30000 */
	unsigned long long seed;        /* of the jitter; default from pid and time */
	int breaker_after;              /* calls in a row with no answer; default 3,
					 * negative: no breaker */
	long breaker_cooldown_ms;       /* fail fast this long; default 1000 */
};

enum pl_folder_status {
	PL_FOLDER_OK = 0,
	PL_FOLDER_PERMANENT,    /* 4xx other than 408/429: retrying cannot help */
	PL_FOLDER_EXHAUSTED,    /* transient HTTP errors on every attempt */
	PL_FOLDER_TRANSPORT,    /* no HTTP answer: refused, reset, timed out,
				 * cut short; or not sent (breaker open) */
	PL_FOLDER_MALFORMED,    /* a 200 that is not a folder, or huge headers */
	PL_FOLDER_INVALID,      /* bad arguments, name longer than cap, no memory */
};

/* What happened in one pl_folder_get(), success or not. */
struct pl_folder_error {
	enum pl_folder_status status;
	int http_status;        /* of the last answer; 0 if there was none */
	int attempts;           /* requests sent */
	int retries;            /* attempts - 1, for the counting models */
	long waited_ms;         /* time slept between attempts */
	char message[256];      /* one line for a human, "" on success */
};

/* Totals over all calls of one client in this process.  A forked child
 * counts its own calls, not its parent's. */
struct pl_folder_counters {
	long calls, ok, permanent, exhausted, transport, malformed, invalid;
	long requests, retries;
	long fast_failed;       /* transport errors without a request: breaker open */
};

struct pl_folder_client;

/* base_url like "http://127.0.0.1:8080" (a trailing '/' is fine).  opts
 * is copied; NULL means all defaults.  NULL on bad input or no memory. */
struct pl_folder_client *pl_folder_client_new(const char *base_url,
					      const struct pl_folder_client_options *opts);

/* Fetches folders/{id} and copies its displayName, NUL-terminated, into
 * name[cap].  Returns PL_FOLDER_OK (0) or the error class, which is also
 * in err->status when err is not NULL. */
enum pl_folder_status pl_folder_get(struct pl_folder_client *c, long id,
				    char *name, size_t cap,
				    struct pl_folder_error *err);

/* Reads a 200's body, body[0..len) (NUL bytes and all; it need not be
 * NUL-terminated): it must be exactly one JSON object, with "name" equal
 * to "folders/{id}" and a "displayName" string that is non-empty valid
 * UTF-8 without control characters or NUL, and fits in cap bytes with
 * its NUL.  On success copies it into name and returns PL_FOLDER_OK;
 * else PL_FOLDER_MALFORMED (or PL_FOLDER_INVALID when only the buffer is
 * too small, or for a NULL name or zero cap) with a one-line message in
 * err (which may be NULL).  pl_folder_get() reads every 200 with it; the
 * fuzz target tests/fuzz/folder_response.c calls it directly. */
enum pl_folder_status pl_folder_parse_body(const char *body, size_t len, long id,
					   char *name, size_t cap,
					   struct pl_folder_error *err);

void pl_folder_client_counters(const struct pl_folder_client *c,
			       struct pl_folder_counters *out);

/* Frees the client and every thread's handle.  Call it when no thread is
 * inside pl_folder_get() any more. */
void pl_folder_client_free(struct pl_folder_client *c);

/* "ok", "permanent error", ... */
const char *pl_folder_strstatus(enum pl_folder_status s);

/* Releases libcurl's global state.  Optional, once at the very end of a
 * program, when no client is left: valgrind then shows no leak. */
void pl_folder_global_cleanup(void);

#endif

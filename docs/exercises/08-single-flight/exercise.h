/* Exercise 8: fix the tutorial's racy cache with single-flight. */
#ifndef EXERCISE_08_H
#define EXERCISE_08_H

#include <stddef.h>

/* The slow lookup being cached (the "cloud API" of the seed): returns 0
 * and writes the name of `id` into name[0..cap), or nonzero and writes an
 * error message there.  Thread-safe; takes a while. */
typedef int (*fetch_fn)(long id, char *name, size_t cap, void *ctx);

struct cache;

/* A cache in front of fetch (called with ctx).  NULL when out of memory. */
struct cache *cache_new(fetch_fn fetch, void *ctx);
/* Frees the cache; no call may be in progress. */
void cache_free(struct cache *c);

/* The name of `id`: returns 0 and copies it into name[0..cap), or returns
 * nonzero with the fetch's error message in name[0..cap).  Thread-safe.
 * - A name fetched once is kept: later calls do not fetch again.
 * - SINGLE-FLIGHT: while a fetch of `id` is in progress, other callers
 *   asking for the same id wait for that fetch and share its outcome
 *   (its name or its error) instead of fetching again.
 * - Fetches of DIFFERENT ids run at the same time; no lock is held while
 *   fetching.
 * - A failure is not kept: a call that starts after a failed fetch has
 *   ended fetches again. */
int cache_get(struct cache *c, long id, char *name, size_t cap);

#endif

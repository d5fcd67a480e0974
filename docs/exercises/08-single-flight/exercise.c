/* Exercise 8: fix the tutorial's racy cache with single-flight.
 *
 * This is the seed tutorial's cache, in C:
 *
 *     if folder_id in folder_cache:
 *         return folder_cache[folder_id]
 *     folder = FOLDER_CLIENT.get_folder(...)
 *     folder_cache[folder_id] = folder.display_name
 *
 * The map itself is protected by a mutex, so nothing crashes; but two
 * threads that ask for the same id at the same time both miss, and both
 * fetch.  With five threads and duplicate ids, the API sees the same
 * request several times.  Make concurrent callers of one id share one
 * fetch.
 * Statement: docs/exercises/08-single-flight/README.md
 * Check it:  make exercise EX=8
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercise.h"

struct entry {
	long id;
	char name[128];
	struct entry *next;
};

struct cache {
	pthread_mutex_t lock;
	fetch_fn fetch;
	void *ctx;
	struct entry *entries;
};

struct cache *cache_new(fetch_fn fetch, void *ctx)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->fetch = fetch;
	c->ctx = ctx;
	return c;
}

void cache_free(struct cache *c)
{
	for (struct entry *e = c->entries, *next; e; e = next) {
		next = e->next;
		free(e);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static struct entry *find(struct cache *c, long id)
{
	for (struct entry *e = c->entries; e; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}

int cache_get(struct cache *c, long id, char *name, size_t cap)
{
	pthread_mutex_lock(&c->lock);
	struct entry *e = find(c, id);
	if (e) {
		snprintf(name, cap, "%s", e->name);
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	pthread_mutex_unlock(&c->lock);

	/* TODO: the race.  Between the miss above and the insert below,
	 * every other caller asking for `id` misses too and fetches again.
	 * Remember, under the lock, that a fetch of `id` is in flight, and
	 * make the others wait for its outcome. */
	char fetched[128];
	int rc = c->fetch(id, fetched, sizeof(fetched), c->ctx);
	snprintf(name, cap, "%s", fetched);
	if (rc != 0)
		return rc;

	pthread_mutex_lock(&c->lock);
	if (!find(c, id)) {
		e = calloc(1, sizeof(*e));
		if (e) {
			e->id = id;
			snprintf(e->name, sizeof(e->name), "%s", fetched);
			e->next = c->entries;
			c->entries = e;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* A WRONG solution of exercise 8, kept to prove that the checker sees it.
 *
 * What is wrong: it holds the cache's lock during the fetch.  That does
 * make every id fetched once (nobody can even look while a fetch runs),
 * but it makes every fetch wait for the one before, whatever its id: the
 * cache turns a pool of threads into a queue, and eight lookups of
 * 100 ms take 0.8 s instead of 0.1 s.  Hold the lock only to read and
 * change the table; mark the id as in flight, unlock, fetch, lock again.
 * Caught by: different ids are fetched at the same time
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

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
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	struct entry *e = find(c, id);
	if (e) {
		snprintf(name, cap, "%s", e->name);
	} else {
		char fetched[128];

		rc = c->fetch(id, fetched, sizeof(fetched), c->ctx);   /* the mistake */
		snprintf(name, cap, "%s", fetched);
		e = rc == 0 ? calloc(1, sizeof(*e)) : NULL;
		if (e) {
			e->id = id;
			snprintf(e->name, sizeof(e->name), "%s", fetched);
			e->next = c->entries;
			c->entries = e;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

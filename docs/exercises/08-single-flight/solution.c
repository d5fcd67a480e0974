/* Exercise 8, a reference solution: a single-flight cache.
 *
 * Each id has an entry, created under the lock by the first caller that
 * misses.  While its fetch is in flight the entry is LOADING and points
 * at a `flight`: the outcome-to-be, which the fetching caller fills in and
 * every waiter reads.  Waiters sleep on the cache's condition variable
 * (broadcast: they wait for different ids).  The fetch itself runs
 * without the lock, so different ids are fetched at the same time.
 *
 * A success turns the entry READY for good.  A failure removes the entry,
 * so the next caller fetches again, but the waiters of that flight still
 * get its error: the flight outlives the entry until its last reader is
 * done with it (a reference count). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercise.h"

struct flight {
	int done;
	int rc;
	char text[128];                 /* the name, or the error */
	int readers;                    /* the fetcher + the waiters */
};

struct entry {
	long id;
	int ready;
	char name[128];
	struct flight *flight;          /* while loading */
	struct entry *next;
};

struct cache {
	pthread_mutex_t lock;
	pthread_cond_t landed;
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
	pthread_cond_init(&c->landed, NULL);
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
	pthread_cond_destroy(&c->landed);
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

static void drop_entry(struct cache *c, struct entry *gone)
{
	for (struct entry **p = &c->entries; *p; p = &(*p)->next)
		if (*p == gone) {
			*p = gone->next;
			free(gone);
			return;
		}
}

/* Called with the lock held: reads a landed flight and lets go of it. */
static int take_outcome(struct flight *f, char *name, size_t cap)
{
	int rc = f->rc;

	snprintf(name, cap, "%s", f->text);
	if (--f->readers == 0)
		free(f);
	return rc;
}

int cache_get(struct cache *c, long id, char *name, size_t cap)
{
	pthread_mutex_lock(&c->lock);
	struct entry *e = find(c, id);

	if (e && e->ready) {                    /* a hit */
		snprintf(name, cap, "%s", e->name);
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	if (e) {                                /* in flight: wait for it */
		struct flight *f = e->flight;

		f->readers++;
		while (!f->done)
			pthread_cond_wait(&c->landed, &c->lock);
		int rc = take_outcome(f, name, cap);
		pthread_mutex_unlock(&c->lock);
		return rc;
	}

	/* A miss: this caller fetches, and says so before unlocking. */
	struct flight *f = calloc(1, sizeof(*f));
	e = calloc(1, sizeof(*e));
	if (!f || !e) {
		pthread_mutex_unlock(&c->lock);
		free(f);
		free(e);
		snprintf(name, cap, "out of memory");
		return -1;
	}
	f->readers = 1;
	e->id = id;
	e->flight = f;
	e->next = c->entries;
	c->entries = e;
	pthread_mutex_unlock(&c->lock);

	char text[128];
	int rc = c->fetch(id, text, sizeof(text), c->ctx);

	pthread_mutex_lock(&c->lock);
	f->done = 1;
	f->rc = rc;
	snprintf(f->text, sizeof(f->text), "%s", text);
	if (rc == 0) {
		e->ready = 1;
		e->flight = NULL;
		snprintf(e->name, sizeof(e->name), "%s", text);
	} else {
		drop_entry(c, e);               /* failures are not kept */
	}
	pthread_cond_broadcast(&c->landed);
	rc = take_outcome(f, name, cap);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

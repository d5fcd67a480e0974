/* A WRONG solution of exercise 8, kept to prove that the checker sees it.
 *
 * What is wrong: it keeps every outcome, failures included.  Single
 * flight works and the waiters share the error, but once a fetch has
 * failed the id is stuck: a timeout or a "503 service unavailable" that
 * would clear up a second later is answered from the cache forever.  An
 * error is shared with the callers of its own flight, then forgotten, so
 * that the next call tries again.
 * Caught by: callers of a failing fetch share its error; failures are not kept
 */
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
	int rc;                         /* the kept outcome, failures too */
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
		int rc = e->rc;

		snprintf(name, cap, "%s", e->name);
		pthread_mutex_unlock(&c->lock);
		return rc;
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
	e->ready = 1;                           /* the mistake: failures too */
	e->rc = rc;
	e->flight = NULL;
	snprintf(e->name, sizeof(e->name), "%s", text);
	pthread_cond_broadcast(&c->landed);
	rc = take_outcome(f, name, cap);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

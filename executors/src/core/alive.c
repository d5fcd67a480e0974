/* cf_futures_alive: the count of futures not yet freed, kept per thread.
 *
 * One shared counter cost two locked instructions per task, one right
 * after the new future's zeroing and one right after free(), each waiting
 * for those stores to drain, a fifth of a million-task submit-and-collect
 * on 2 cores (docs/api.md, "Thread backend internals").  So each thread counts in a slot of its own, on a cache line of
 * its own, with plain loads and stores, and a reader adds the slots up.
 * A future made in one thread and freed in another adds 1 to one slot and
 * -1 to the other; only the sum means anything.  A reader that runs while
 * a thread exits may miss or double that thread's count for a moment.
 *
 * A thread claims a slot the first time it counts and gives it back when
 * it exits, folding what it counted into `shared`.  Threads beyond the
 * slots count in `shared` with locked instructions, as before.
 */
#include "core/alive.h"

#include "base/annotate.h"
#include "cf_testing.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>

#define ALIVE_SLOTS 64

static struct alive_slot {
	alignas(64) atomic_bool owned;
	atomic_long count;      /* written by its owner only */
} slots[ALIVE_SLOTS];

static atomic_long shared;
static pthread_key_t slot_key;
static pthread_once_t slot_key_once = PTHREAD_ONCE_INIT;

/* NULL: no slot looked for yet in this thread; &no_slot: none was free. */
static struct alive_slot no_slot;
static _Thread_local struct alive_slot *my_slot;

static void release_slot(void *arg)
{
	struct alive_slot *s = arg;

	atomic_fetch_add(&shared, atomic_load_explicit(&s->count, memory_order_relaxed));
	atomic_store_explicit(&s->count, 0, memory_order_relaxed);
	/* The next owner's plain add follows this store (helgrind sees the
	 * hand-over only through the annotation). */
	CF_HAPPENS_BEFORE(s);
	atomic_store_explicit(&s->owned, false, memory_order_release);
	my_slot = NULL;
}

static void make_slot_key(void)
{
	pthread_key_create(&slot_key, release_slot);
}

static struct alive_slot *claim_slot(void)
{
	pthread_once(&slot_key_once, make_slot_key);
	for (int i = 0; i < ALIVE_SLOTS; i++) {
		bool free_slot = false;

		if (atomic_compare_exchange_strong(&slots[i].owned, &free_slot, true)) {
			CF_HAPPENS_AFTER(&slots[i]);
			if (pthread_setspecific(slot_key, &slots[i]) != 0) {
				atomic_store(&slots[i].owned, false);
				break;
			}
			return my_slot = &slots[i];
		}
	}
	return my_slot = &no_slot;
}

void cf__alive_add(long delta)
{
	struct alive_slot *s = my_slot ? my_slot : claim_slot();

	if (s == &no_slot) {
		atomic_fetch_add(&shared, delta);
		return;
	}
	/* Only this thread writes the slot: a plain add, read atomically. */
	atomic_store_explicit(&s->count,
			      atomic_load_explicit(&s->count, memory_order_relaxed) + delta,
			      memory_order_relaxed);
}

size_t cf_futures_alive(void)
{
	long sum = atomic_load(&shared);

	for (int i = 0; i < ALIVE_SLOTS; i++)
		sum += atomic_load_explicit(&slots[i].count, memory_order_relaxed);
	return sum > 0 ? (size_t)sum : 0;
}

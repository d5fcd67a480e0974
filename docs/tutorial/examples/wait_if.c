/* `if` instead of `while` around pthread_cond_wait: chapter 5.
 *
 * Two consumers each take one item from a shelf; the producer puts one
 * item, wakes every waiter with pthread_cond_broadcast, and puts the
 * second item a little later.  Both consumers wake on the first item.
 * With `if`, each one assumes that being woken means "there is an item
 * for me", and the second takes from an empty shelf.  With `while`, the
 * second looks again, finds the shelf empty and goes back to sleep until
 * the second item comes.
 *
 * Waking is a hint, not a promise: another thread may have taken what
 * you were woken for, a broadcast wakes every waiter, and POSIX allows
 * spurious wake-ups.  Only the condition, checked under the lock, says
 * whether you may go on.
 *
 * Build and run from the top of the repository:
 *     cc -O2 -Wall -Wextra -pthread -o build/wait_if docs/tutorial/examples/wait_if.c
 *     build/wait_if if; build/wait_if while
 *
 * Exit status: 0 when no consumer took an item that was not there, 1
 * when one did, 2 for a bad argument.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CONSUMERS 2

struct shelf {
	pthread_mutex_t lock;
	pthread_cond_t changed;         /* broadcast when items grows */
	pthread_cond_t arrived;         /* signalled when waiting grows */
	long items;                     /* on the shelf now */
	long waiting;                   /* consumers that came to wait */
	bool recheck;                   /* while (true) or if (false) */
	bool took_nothing;              /* a consumer found no item */
};

static struct shelf shelf = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.changed = PTHREAD_COND_INITIALIZER,
	.arrived = PTHREAD_COND_INITIALIZER,
};

/* Called with the lock held: takes one item, or notes that there was
 * none to take. */
static void take_item(struct shelf *s)
{
	s->items--;
	if (s->items < 0) {
		printf("consumer: woke and took an item that is not there: items = %ld\n",
		       s->items);
		s->took_nothing = true;
	} else {
		printf("consumer: took an item, %ld left\n", s->items);
	}
}

static void *consumer(void *arg)
{
	struct shelf *s = arg;

	pthread_mutex_lock(&s->lock);
	s->waiting++;
	pthread_cond_signal(&s->arrived);
	if (s->recheck) {
		/* Fixed: wake, look again, sleep again if it is not true. */
		while (s->items == 0) {
			pthread_cond_wait(&s->changed, &s->lock);
			if (s->items == 0)
				printf("consumer: woke, the shelf is empty, waits again\n");
		}
	} else {
		/* Broken: one look before sleeping, none after. */
		if (s->items == 0)
			pthread_cond_wait(&s->changed, &s->lock);
	}
	take_item(s);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void put_item(struct shelf *s)
{
	pthread_mutex_lock(&s->lock);
	s->items++;
	printf("producer: put an item, wakes every waiter\n");
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

int main(int argc, char **argv)
{
	pthread_t consumers[CONSUMERS];

	if (argc != 2 || (strcmp(argv[1], "if") != 0 && strcmp(argv[1], "while") != 0)) {
		fprintf(stderr, "usage: %s if|while\n", argv[0]);
		return 2;
	}
	shelf.recheck = strcmp(argv[1], "while") == 0;
	for (int c = 0; c < CONSUMERS; c++)
		pthread_create(&consumers[c], NULL, consumer, &shelf);

	/* Both consumers in pthread_cond_wait before the first item: they
	 * released the lock only by going to sleep in it. */
	pthread_mutex_lock(&shelf.lock);
	while (shelf.waiting < CONSUMERS)
		pthread_cond_wait(&shelf.arrived, &shelf.lock);
	pthread_mutex_unlock(&shelf.lock);

	put_item(&shelf);
	nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	put_item(&shelf);

	for (int c = 0; c < CONSUMERS; c++)
		pthread_join(consumers[c], NULL);
	printf("items left: %ld\n", shelf.items);
	return shelf.took_nothing ? 1 : 0;
}

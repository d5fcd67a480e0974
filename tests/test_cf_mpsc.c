/* The thread backend's lock-free queue (executors/src/base/mpsc.c) on its own:
 * FIFO from one producer, nothing lost or duplicated with several pushing
 * while one pops, and an empty queue that fills and empties again (the
 * stub node's way in and out).  Under `make test SANITIZE=thread` this is
 * where the queue's atomics are checked most directly.
 *
 * Suite: cf_mpsc.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "base/mpsc.h"
#include "cf_test_util.h"

#define PRODUCERS 4
#define PER_PRODUCER 50000
#define BOUND_S 60.0

Test(cf_mpsc, fifo_and_empty_again, .timeout = 10)
{
	static struct cf_mpsc q;
	static struct cf_link nodes[3];

	cf__mpsc_init(&q);
	cr_expect_null(cf__mpsc_pop(&q), "a new queue is empty");
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 3; i++)
			cf__mpsc_push(&q, &nodes[i]);
		for (int i = 0; i < 3; i++)
			cr_expect_eq(cf__mpsc_pop(&q), &nodes[i], "round %d, item %d", round, i);
		cr_expect_null(cf__mpsc_pop(&q), "round %d: empty again", round);
	}
	/* One in, one out, many times: the stub goes in and out each time. */
	for (int i = 0; i < 1000; i++) {
		cf__mpsc_push(&q, &nodes[i % 3]);
		cr_assert_eq(cf__mpsc_pop(&q), &nodes[i % 3], "push %d", i);
		cr_assert_null(cf__mpsc_pop(&q));
	}
}

struct producer {
	struct cf_mpsc *queue;
	struct cf_link *nodes;       /* PER_PRODUCER of them, pushed in order */
	int chain;              /* > 1: bursts of 1 to chain nodes (push_chain) */
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (int i = 0; i < PER_PRODUCER;) {
		int n = p->chain > 1 ? 1 + i % p->chain : 1;

		if (n > PER_PRODUCER - i)
			n = PER_PRODUCER - i;
		if (p->chain > 1) {
			for (int j = 0; j + 1 < n; j++)
				p->nodes[i + j].next = &p->nodes[i + j + 1];
			p->nodes[i + n - 1].next = NULL;
			cf__mpsc_push_chain(p->queue, &p->nodes[i], &p->nodes[i + n - 1]);
		} else {
			cf__mpsc_push(p->queue, &p->nodes[i]);
		}
		if (i % 1000 < n)
			sched_yield();  /* let the others in between */
		i += n;
	}
	return NULL;
}

/* Which producer a node came from, and its place in that producer's order;
 * -1 for a node that is no one's. */
static int owner(struct producer *ps, struct cf_link *f, long *index)
{
	for (int k = 0; k < PRODUCERS; k++) {
		if (f >= ps[k].nodes && f < ps[k].nodes + PER_PRODUCER) {
			*index = f - ps[k].nodes;
			return k;
		}
	}
	return -1;
}

/* Four threads push 50,000 each while this one pops: every node comes out
 * once, and each producer's nodes in the order it pushed them.  Producers
 * with a chain length push bursts (cf__mpsc_push_chain). */
static void many_push_one_pops(const int chain[PRODUCERS])
{
	static struct cf_mpsc q;
	struct producer ps[PRODUCERS];
	pthread_t threads[PRODUCERS];
	long next[PRODUCERS] = { 0 };
	long got = 0, strangers = 0, out_of_order = 0;
	double deadline = now_s() + BOUND_S;

	cf__mpsc_init(&q);
	for (int k = 0; k < PRODUCERS; k++) {
		ps[k].queue = &q;
		ps[k].chain = chain[k];
		ps[k].nodes = calloc(PER_PRODUCER, sizeof(struct cf_link));
		cr_assert_not_null(ps[k].nodes);
	}
	for (int k = 0; k < PRODUCERS; k++)
		cr_assert_eq(pthread_create(&threads[k], NULL, produce, &ps[k]), 0);
	while (got < (long)PRODUCERS * PER_PRODUCER && now_s() < deadline) {
		struct cf_link *f = cf__mpsc_pop(&q);
		long index;

		if (!f) {
			sched_yield();
			continue;
		}
		got++;
		int k = owner(ps, f, &index);
		if (k < 0)
			strangers++;
		else if (index != next[k]++)
			out_of_order++;
	}
	for (int k = 0; k < PRODUCERS; k++)
		cr_assert_eq(pthread_join(threads[k], NULL), 0);
	cr_expect_eq(got, (long)PRODUCERS * PER_PRODUCER, "%ld of %d popped within %.0f s", got,
		     PRODUCERS * PER_PRODUCER, BOUND_S);
	cr_expect_eq(strangers, 0, "nodes nobody pushed (the stub?)");
	cr_expect_eq(out_of_order, 0, "a producer's nodes out of its order");
	cr_expect_null(cf__mpsc_pop(&q), "empty at the end");
	for (int k = 0; k < PRODUCERS; k++)
		free(ps[k].nodes);
}

Test(cf_mpsc, many_push_one_pops, .timeout = 90)
{
	static const int single[PRODUCERS] = { 0 };

	many_push_one_pops(single);
}

/* Bursts of 1 to 7 and of 1 to 16 between single pushes: a chain goes in
 * whole, in its order, however the others' pushes fall. */
Test(cf_mpsc, chains_and_single_pushes_interleave, .timeout = 90)
{
	static const int mixed[PRODUCERS] = { 7, 0, 16, 0 };

	many_push_one_pops(mixed);
}

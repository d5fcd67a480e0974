/* Counters behind GET /stats.
 *
 * One mutex guards it all: a request touches it two or three times for a
 * handful of instructions, far below the cost of the HTTP around it, and a
 * single lock makes a /stats snapshot consistent.
 */
#define _GNU_SOURCE
#include "stats.h"

#include "options.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Statuses the server can answer; anything else lands in "other". */
static const unsigned known_status[] = { 200, 400, 403, 404, 405, 429, 503 };
#define N_STATUS (sizeof(known_status) / sizeof(known_status[0]))

/* Open addressing keyed by id + 1, so that 0 marks an empty slot (id 0 is
 * a valid folder). */
struct id_slot {
	uint64_t key;
	uint64_t requests;
	uint64_t admitted;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t total;
static uint64_t by_status[N_STATUS];
static uint64_t other_status, no_status;
static uint64_t faults[FS_FAULT_KINDS];
static long in_flight, peak;
static struct id_slot *slots;
static size_t cap, used;

void fs_stats_init(void)
{
	cap = 1024;
	slots = calloc(cap, sizeof(*slots));
	if (!slots) {
		fputs("folder-api-server: out of memory\n", stderr);
		exit(1);
	}
}

void fs_stats_destroy(void)
{
	free(slots);
	slots = NULL;
	cap = used = 0;
}

void fs_stats_begin(void)
{
	pthread_mutex_lock(&lock);
	if (++in_flight > peak)
		peak = in_flight;
	pthread_mutex_unlock(&lock);
}

void fs_stats_end(void)
{
	pthread_mutex_lock(&lock);
	in_flight--;
	pthread_mutex_unlock(&lock);
}

void fs_stats_status(unsigned status)
{
	size_t i;

	pthread_mutex_lock(&lock);
	total++;
	if (status == 0) {
		no_status++;
		pthread_mutex_unlock(&lock);
		return;
	}
	for (i = 0; i < N_STATUS && known_status[i] != status; i++)
		;
	if (i < N_STATUS)
		by_status[i]++;
	else
		other_status++;
	pthread_mutex_unlock(&lock);
}

void fs_stats_fault(int kind)
{
	if (kind <= FS_FAULT_NONE || kind >= FS_FAULT_KINDS)
		return;
	pthread_mutex_lock(&lock);
	faults[kind]++;
	pthread_mutex_unlock(&lock);
}

static size_t probe(const struct id_slot *s, size_t c, uint64_t key)
{
	size_t i = (size_t)(key * 0x9e3779b97f4a7c15ULL) & (c - 1);

	while (s[i].key && s[i].key != key)
		i = (i + 1) & (c - 1);
	return i;
}

/* Keeps the load under one half.  On allocation failure the table stays
 * as it is (fuller, slower, still correct until truly full). */
static void grow(void)
{
	struct id_slot *n;

	if (2 * (used + 1) <= cap)
		return;
	n = calloc(2 * cap, sizeof(*n));
	if (!n)
		return;
	for (size_t i = 0; i < cap; i++)
		if (slots[i].key)
			n[probe(n, 2 * cap, slots[i].key)] = slots[i];
	free(slots);
	slots = n;
	cap *= 2;
}

/* With the lock held.  NULL only when the table is full and cannot grow. */
static struct id_slot *lookup(uint64_t id)
{
	size_t i;

	grow();
	if (used + 1 >= cap)
		return NULL;
	i = probe(slots, cap, id + 1);
	if (!slots[i].key) {
		slots[i].key = id + 1;
		used++;
	}
	return &slots[i];
}

void fs_stats_id_request(uint64_t id)
{
	struct id_slot *s;

	pthread_mutex_lock(&lock);
	s = lookup(id);
	if (s)
		s->requests++;
	pthread_mutex_unlock(&lock);
}

uint64_t fs_stats_id_admitted(uint64_t id)
{
	struct id_slot *s;
	uint64_t n = 0;

	pthread_mutex_lock(&lock);
	s = lookup(id);
	if (s)
		n = s->admitted++;
	pthread_mutex_unlock(&lock);
	return n;
}

void fs_stats_reset(void)
{
	pthread_mutex_lock(&lock);
	total = other_status = no_status = 0;
	memset(by_status, 0, sizeof(by_status));
	memset(faults, 0, sizeof(faults));
	memset(slots, 0, cap * sizeof(*slots));
	used = 0;
	peak = in_flight;
	pthread_mutex_unlock(&lock);
}

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

struct json_object *fs_stats_json(void)
{
	struct json_object *o = json_object_new_object();
	struct json_object *st = json_object_new_object();
	struct json_object *ids = json_object_new_object();
	struct json_object *fl = json_object_new_object();
	uint64_t more_than_once = 0, duplicates = 0;
	char key[24];

	pthread_mutex_lock(&lock);
	add_u64(o, "requests_total", total);
	for (size_t i = 0; i < N_STATUS; i++) {
		snprintf(key, sizeof(key), "%u", known_status[i]);
		add_u64(st, key, by_status[i]);
	}
	add_u64(st, "other", other_status);
	add_u64(st, "none", no_status);
	for (int k = FS_FAULT_NONE + 1; k < FS_FAULT_KINDS; k++)
		add_u64(fl, fs_fault_name((enum fs_fault_kind)k), faults[k]);
	for (size_t i = 0; i < cap; i++) {
		if (!slots[i].key)
			continue;
		snprintf(key, sizeof(key), "%llu", (unsigned long long)(slots[i].key - 1));
		add_u64(ids, key, slots[i].requests);
		if (slots[i].requests > 1) {
			more_than_once++;
			duplicates += slots[i].requests - 1;
		}
	}
	add_u64(o, "distinct_ids", used);
	add_u64(o, "ids_requested_more_than_once", more_than_once);
	add_u64(o, "repeated_requests", duplicates);
	add_u64(o, "peak_concurrent_requests", (uint64_t)peak);
	add_u64(o, "in_flight", (uint64_t)in_flight);
	pthread_mutex_unlock(&lock);
	json_object_object_add(o, "by_status", st);
	json_object_object_add(o, "faults_injected", fl);
	json_object_object_add(o, "requests_per_id", ids);
	return o;
}

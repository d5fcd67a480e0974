/* Seeded faults and the server-side token bucket. */
#define _GNU_SOURCE
#include "faults.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

enum { SALT_JITTER = 1, SALT_ERROR = 2, SALT_FAULT = 3 };

static const struct fs_config *cfg;

/* The bucket is the only shared mutable state of a decision; a mutex is
 * enough, a request takes it for a few instructions. */
static pthread_mutex_t bucket_lock = PTHREAD_MUTEX_INITIALIZER;
static double tokens;
static double refilled_at;

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t fs_hash(uint64_t seed, uint64_t salt, uint64_t a, uint64_t b)
{
	return splitmix64(splitmix64(splitmix64(seed ^ (salt << 56)) ^ a) ^ b);
}

/* A uniform double in [0, 1) from the top 53 bits. */
static double unit(uint64_t h)
{
	return (double)(h >> 11) * 0x1.0p-53;
}

bool fs_parse_id(const char *s, uint64_t *id)
{
	uint64_t v = 0;
	int n = 0;

	if (s[0] == '0' && s[1] == '\0') {
		*id = 0;
		return true;
	}
	if (s[0] < '1' || s[0] > '9')
		return false;
	for (; *s; s++, n++) {
		if (*s < '0' || *s > '9' || n == 18)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*id = v;
	return true;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void fs_faults_init(const struct fs_config *c)
{
	cfg = c;
	tokens = c->burst;      /* a fresh server starts with a full bucket */
	refilled_at = now_s();
}

void fs_faults_destroy(void)
{
	cfg = NULL;
}

bool fs_rate_admit(double *retry_after_s)
{
	bool ok;

	if (cfg->rate <= 0)
		return true;
	pthread_mutex_lock(&bucket_lock);
	double t = now_s();

	tokens = fmin(cfg->burst, tokens + (t - refilled_at) * cfg->rate);
	refilled_at = t;
	ok = tokens >= 1;
	if (ok)
		tokens -= 1;
	else
		*retry_after_s = (1 - tokens) / cfg->rate;
	pthread_mutex_unlock(&bucket_lock);
	return ok;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static bool listed(const struct fs_id_list *l, uint64_t id)
{
	return l->n && bsearch(&id, l->ids, l->n, sizeof(id), cmp_u64);
}

enum fs_outcome fs_decide(uint64_t id, uint64_t n, double *delay_ms)
{
	*delay_ms = cfg->latency_ms;
	if (cfg->jitter_ms > 0)
		*delay_ms += cfg->jitter_ms * unit(fs_hash(cfg->seed, SALT_JITTER, id, n));

	/* The permanent errors come first: an id that is missing is missing
	 * on every try, whatever else goes wrong. */
	if (id % 1000 == 404 || listed(&cfg->not_found, id))
		return FS_NOT_FOUND;
	if (id % 1000 == 403 || listed(&cfg->forbidden, id))
		return FS_FORBIDDEN;
	if (cfg->error_rate > 0 &&
	    unit(fs_hash(cfg->seed, SALT_ERROR, id, n)) < cfg->error_rate)
		return FS_UNAVAILABLE;
	return FS_FOUND;
}

/* One draw per request, the shares laid end to end on [0, 1): with
 * reset:0.2 and slow:0.1, a draw below 0.1 is slow and one in [0.1, 0.3)
 * a reset (in the enum's order).  A salt of its own keeps the 503s and
 * jitter of a run without --fault exactly as they were. */
enum fs_fault_kind fs_fault_pick(uint64_t id, uint64_t n)
{
	double u = -1, edge = 0;

	for (int k = FS_FAULT_NONE + 1; k < FS_FAULT_KINDS; k++) {
		if (cfg->fault_p[k] <= 0)
			continue;
		if (u < 0)
			u = unit(fs_hash(cfg->seed, SALT_FAULT, id, n));
		edge += cfg->fault_p[k];
		if (u < edge)
			return (enum fs_fault_kind)k;
	}
	return FS_FAULT_NONE;
}

uint64_t fs_fault_variant(uint64_t id, uint64_t n)
{
	return fs_hash(cfg->seed, SALT_FAULT + 1, id, n);
}

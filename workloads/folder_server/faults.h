/* The fault model: which answer a folder request gets, decided from the
 * seed so that a run can be repeated.
 *
 * Nothing here depends on timing except the rate limit, which is timing by
 * nature; the 503s and the jitter of a request depend only on (seed, id,
 * n) where n counts the admitted requests for that id.  Two runs that send
 * the same requests per id therefore see the same faults, however the
 * requests of different ids interleave.
 */
#ifndef FS_FAULTS_H
#define FS_FAULTS_H

#include <stdbool.h>
#include <stdint.h>

#include "options.h"

enum fs_outcome {
	FS_FOUND,               /* 200 */
	FS_FORBIDDEN,           /* 403, always for that id */
	FS_NOT_FOUND,           /* 404, always for that id */
	FS_UNAVAILABLE,         /* 503, this time */
};

/* 64-bit hash of its arguments: the one source of "randomness". */
uint64_t fs_hash(uint64_t seed, uint64_t salt, uint64_t a, uint64_t b);

/* Parses a folder id: "0", or 1 to 18 digits without a leading zero.
 * Anything else (empty, sign, spaces, a slash) is a bad id. */
bool fs_parse_id(const char *s, uint64_t *id);

void fs_faults_init(const struct fs_config *cfg);
void fs_faults_destroy(void);

/* Takes a token from the bucket.  False when it is empty; then
 * *retry_after_s says when the next token will be there. */
bool fs_rate_admit(double *retry_after_s);

/* The fate of the n-th admitted request (n from 0) for id, and how long
 * the backend "works" on it. */
enum fs_outcome fs_decide(uint64_t id, uint64_t n, double *delay_ms);

/* The network fault (--fault) of the n-th admitted request for id, or
 * FS_FAULT_NONE; a pure function of (seed, id, n) like the 503s. */
enum fs_fault_kind fs_fault_pick(uint64_t id, uint64_t n);

/* A second seeded draw for the same request: which flavour of a fault
 * (which malformed body, where a truncation cuts). */
uint64_t fs_fault_variant(uint64_t id, uint64_t n);

#endif

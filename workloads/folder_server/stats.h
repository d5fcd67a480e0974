/* What the server saw, for GET /stats: the evidence that a client's cache
 * sent one request per distinct id, that its rate limit held, and how many
 * requests really ran at the same time.
 *
 * Requests to /stats and /stats/reset are not counted: looking must not
 * change what is looked at.
 */
#ifndef FS_STATS_H
#define FS_STATS_H

#include <stdint.h>

struct json_object;

void fs_stats_init(void);
void fs_stats_destroy(void);

/* A counted request starts (headers in) and ends (answer queued, or the
 * connection lost first): the difference is the concurrency. */
void fs_stats_begin(void);
void fs_stats_end(void);

/* The answer's status of a counted request; 0 for a request that got no
 * HTTP answer of ours (a reset, a raw huge header): "none" in /stats. */
void fs_stats_status(unsigned status);

/* A --fault was injected into a counted request (kind: enum
 * fs_fault_kind, from 1). */
void fs_stats_fault(int kind);

/* A request for a valid id arrived; counted before the rate limit. */
void fs_stats_id_request(uint64_t id);

/* A request for id passed the rate limit; returns how many had passed
 * before it (0 for the first): the n of the fault model. */
uint64_t fs_stats_id_admitted(uint64_t id);

/* Zeroes everything except the requests in flight now. */
void fs_stats_reset(void);

/* A new JSON object with everything; the caller puts it. */
struct json_object *fs_stats_json(void);

#endif

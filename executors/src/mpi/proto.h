/* The MPI backend's messages, and how either side waits for them.
 *
 * A message is one MPI message of bytes on the pool's communicator: its
 * tag says what it is, and its last 8 bytes are a number (little-endian)
 * after the body.  The number is a task's id for TASK, RESULT, ERROR and
 * BEAT, and the pool's generation for the rest, so that a rank serving
 * pool after pool in static mode never takes a late message of an
 * earlier pool for one of the current one.  Bodies reuse the process
 * backend's encodings (wire/wire.h):
 *
 *   tag           from     body
 *   START         master   u32 idle_spin_us, u32 beat_ms, u8 has_init,
 *                          then the initializer's fnref and initarg
 *   HELLO         worker   u32 pid, u16 + host name, u16 + build ID (hex),
 *                          u16 + where its pid means something (platform.h)
 *   READY         worker   (empty): initialised, takes tasks
 *   INIT_FAILED   worker   error (i32 code, message)
 *   TASK          master   fnref, then the argument bytes
 *   RESULT        worker   the result bytes
 *   ERROR         worker   error (i32 code, message)
 *   BEAT          worker   (empty): alive, still running task `id`
 *   EXIT          master   (empty): the pool is done with you
 *   BYE           worker   (empty): answer to EXIT, nothing follows
 *   QUIT          master   (empty, static mode): the program ends
 *   ABANDON       master   (empty, spawn mode): the pool broke; exit now,
 *                          without MPI's goodbyes
 *
 * The number goes last so that a RESULT's buffer, from its first byte,
 * is the result: the future adopts it without a copy.
 */
#ifndef CF_MPI_PROTO_H
#define CF_MPI_PROTO_H

#include <mpi.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cf_mpi_tag {
	CF_MPI_START = 1,
	CF_MPI_HELLO,
	CF_MPI_READY,
	CF_MPI_INIT_FAILED,
	CF_MPI_TASK,
	CF_MPI_RESULT,
	CF_MPI_ERROR,
	CF_MPI_BEAT,
	CF_MPI_EXIT,
	CF_MPI_BYE,
	CF_MPI_QUIT,
	CF_MPI_ABANDON,
};

#define CF_MPI_HOST_MAX 64
#define CF_MPI_BUILD_MAX 80
#define CF_MPI_PLACE_MAX 80

struct cf_mpi_msg {
	int tag;
	int source;             /* the sender's rank in the communicator */
	uint64_t id;
	unsigned char *body;    /* malloc'ed (NULL when empty); the taker frees */
	size_t len;
};

/* Sends body a then b as one message: 0, or -1 (too large, or MPI said
 * no; the communicator returns errors, never aborts). */
int cf__mpi_send(MPI_Comm comm, int rank, int tag, uint64_t id, const void *a, size_t alen,
		 const void *b, size_t blen);
/* Takes one message from source (MPI_ANY_SOURCE: any) if one has come:
 * 1 with *m filled, 0 when none, -1 when MPI failed or the message is
 * malformed. */
int cf__mpi_take(MPI_Comm comm, int source, struct cf_mpi_msg *m);

/* Who a worker is, as its HELLO says. */
struct cf_mpi_identity {
	long pid;
	char host[CF_MPI_HOST_MAX];
	char build[CF_MPI_BUILD_MAX];
	char place[CF_MPI_PLACE_MAX];   /* cf__machine_id */
};

/* This process, and how its HELLO encodes it (len: bytes written).  A
 * worker's build ID can be forged for a test (CF_MPI_TEST_FORGE_BUILD_ID). */
void cf__mpi_identity_self(struct cf_mpi_identity *me, bool worker);
size_t cf__mpi_identity_put(const struct cf_mpi_identity *me, unsigned char *out, size_t size);
bool cf__mpi_identity_get(const unsigned char *body, size_t len, struct cf_mpi_identity *who);

/* Waiting without burning the machine: poll hot for spin_us after the
 * last message, then sleep between polls, each sleep twice the last,
 * from 10 us up to CF_MPI_SLEEP_MAX_S.  Open MPI's own blocking calls
 * spin a core for as long as they wait.  A worker idle for longer than
 * CF_MPI_DEEP_IDLE_S (deep) sleeps up to CF_MPI_DEEP_SLEEP_S: a thousand
 * polls a second cost an idle worker about a percent of a core, fifty
 * cost nothing measurable, and a pool idle for 100 ms can afford a
 * first task that waits up to 20 ms more. */
#define CF_MPI_SLEEP_MIN_S 10e-6
#define CF_MPI_SLEEP_MAX_S 1e-3
#define CF_MPI_DEEP_IDLE_S 0.1
#define CF_MPI_DEEP_SLEEP_S 20e-3

struct cf_mpi_backoff {
	double spin_until;
	double sleep_s;
	unsigned spin_us;
	bool deep;              /* may sleep deeper after a long idle */
};

void cf__mpi_backoff_reset(struct cf_mpi_backoff *b);
/* How long to sleep before the next poll: 0 while still spinning. */
double cf__mpi_backoff_next(struct cf_mpi_backoff *b);

/* The MPI error's text, for a message. */
const char *cf__mpi_error_text(int code, char *buf, size_t size);

#endif

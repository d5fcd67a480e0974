/* The MPI backend's private header: the pool and its workers.
 *
 * The backend is mpi4py.futures' MPIPoolExecutor, in the shape of the
 * process backend.  Workers are copies of the program that the pool
 * spawns with MPI_Comm_spawn at its first submit, or, in static mode,
 * the other ranks of the mpirun job (runtime.h).  Tasks and results
 * travel as MPI messages (proto.h); a task function is named by object
 * and offset as in the process backend, which holds only in a
 * byte-identical program, so every worker's HELLO names its build ID
 * and a mismatch breaks the pool.
 *
 * One manager thread makes every MPI call of the pool: it starts the
 * workers, hands queued futures to idle ones (one task each), takes
 * results, watches that busy workers live, and breaks the pool when one
 * dies, goes silent or misbehaves.  Callers touch only the queue and the
 * flags, under the pool's lock, and wake the manager.
 *
 * Open MPI 4.1 gives no error for a dead peer, so liveness is the
 * pool's own: a worker sends BEAT while a task runs, one silent for
 * longer than silence_s is taken for dead, and a worker on this host is
 * also watched by its pid.
 *
 * The files: backend.c (the cf_backend interface) calls manager.c (the
 * loop, results, liveness), which calls start.c (spawning or claiming
 * workers, stopping them); both call broken.c; all use proto.c and
 * runtime.c.
 */
#ifndef CF_MPI_POOL_H
#define CF_MPI_POOL_H

#include "base/fifo.h"
#include "core/future.h"
#include "mpi/proto.h"

#include <limits.h>
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* A worker's life; the manager thread alone reads and writes it.
 *
 *   STARTING --READY--> IDLE <--result-- BUSY
 *       |                 |  --task-->     |
 *       +-----------------+----------------+--> GONE (sent BYE, or the
 *                                                pool broke)
 */
enum mpi_worker_state {
	MW_STARTING,    /* sent START, no READY yet */
	MW_IDLE,
	MW_BUSY,        /* runs task */
	MW_GONE,
};

struct mpi_worker {
	MPI_Comm comm;                  /* the one it is reached on */
	int rank;                       /* its rank there */
	enum mpi_worker_state state;
	cf_future *task;                /* BUSY: the pool's reference */
	uint64_t task_id;
	double last_heard;
	bool said_hello;
	bool same_host;                 /* watched by pid too */
	struct cf_mpi_identity who;
};

struct mpi_pool {
	pthread_mutex_t lock;           /* queue, shutdown, broken, why */
	pthread_cond_t wake;            /* callers -> manager */
	atomic_bool woken;
	struct cf_fifo queue;
	bool shutdown;
	bool broken;
	char why[320];                  /* why it broke; fixed once set */

	/* The manager's alone: */
	struct mpi_worker *workers;
	int nworkers;                   /* made so far */
	int max_workers;
	bool started;
	bool static_ranks;              /* workers are mpirun's ranks */
	bool worker_lost;               /* broke because one died or hung */
	unsigned long generation;
	uint64_t next_id;
	struct cf_mpi_identity me;
	struct cf_mpi_backoff backoff;
	double silence_s;               /* a busy worker silent this long is dead */
	unsigned beat_ms;
	double next_check;              /* next pid and silence check */
	unsigned char *start_body;      /* START: spin, beat, initializer */
	size_t start_len;
	char exe[PATH_MAX];

	pthread_t manager;
	pthread_mutex_t join_lock;
	bool joined;
	atomic_size_t processes_created;
	atomic_size_t tasks_completed;
};

/* ---- manager.c ---- */

void *cf__mpi_manager_main(void *pool);

/* ---- broken.c ---- */

/* Records why the pool breaks (the first cause wins) and fails every
 * queued future with CF_BROKEN; takes the lock. */
void cf__mpi_note_broken(struct mpi_pool *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- start.c ---- */

/* Spawns or claims the workers and sends each START: 0, or -1 with the
 * reason noted. */
int cf__mpi_start_workers(struct mpi_pool *p);
/* The pool is done: EXIT to every worker, their BYE awaited for a
 * bounded time, then let go (disconnected, or the ranks released). */
void cf__mpi_stop_workers(struct mpi_pool *p);
/* A worker died or hung: the other spawned workers on this host are
 * killed, the rest left to Open MPI, and MPI is not finalised at exit. */
void cf__mpi_drop_workers(struct mpi_pool *p);
/* The worker a message on comm from rank came from, or NULL. */
struct mpi_worker *cf__mpi_worker_of(struct mpi_pool *p, MPI_Comm comm, int rank);

#endif

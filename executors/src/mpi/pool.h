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
 * One manager thread starts the workers, hands queued futures to idle
 * ones (one task each), takes results, watches that busy workers live,
 * and breaks the pool when one dies, goes silent or misbehaves.  A
 * caller waiting for its result does the same work itself while it
 * spins (help.c), and a submit hands its task to an idle worker at once:
 * a round trip then wakes no other thread, as an MPI ping-pong wakes
 * none.  Whoever does that work holds mpi_lock, which guards every MPI
 * call of the pool and the workers' table; callers only try it, so the
 * manager is never kept waiting by a caller, nor a caller by it.
 *
 * Locks, outermost first: mpi_lock -> lock -> a future's lock.
 *
 * Open MPI 4.1 gives no error for a dead peer, so liveness is the
 * pool's own: a worker sends BEAT while a task runs, one silent for
 * longer than silence_s is taken for dead, and a worker on this host is
 * also watched by its pid.
 *
 * The files: backend.c (the cf_backend interface) calls help.c (callers
 * that do the manager's work), which calls manager.c (the loop, results,
 * liveness), which calls start.c (spawning or claiming workers, stopping
 * them); these call broken.c; all use proto.c and runtime.c.
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

/* A worker's life; read and written under mpi_lock.
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
	bool lost;                      /* silent past the bound */
	bool same_host;                 /* watched by pid too */
	struct cf_mpi_identity who;
};

struct mpi_pool {
	pthread_mutex_t lock;           /* queue, shutdown, broken, why, sleeping */
	pthread_cond_t wake;            /* callers -> manager */
	atomic_bool woken;
	bool sleeping;                  /* the manager waits to be woken */
	struct cf_fifo queue;
	bool shutdown;
	bool broken;
	char why[320];                  /* why it broke; fixed once set */

	/* Helpers inside the pool (help.c): destroy waits for none. */
	atomic_int helpers;
	pthread_cond_t helpers_cond;
	unsigned wait_help;             /* core's index of help.c's helper */
	unsigned spin_us;

	/* Under mpi_lock: */
	pthread_mutex_t mpi_lock;
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

/* ---- help.c ---- */

/* The pool's wait helper in core's table (0 when it is full). */
unsigned cf__mpi_wait_help_index(void);
/* A submit hands queued tasks to idle workers if nobody else is at it. */
void cf__mpi_try_dispatch(struct mpi_pool *p);

/* ---- manager.c ---- */

void *cf__mpi_manager_main(void *pool);
/* One round of the manager's work: take what came, hand out tasks, check
 * liveness (at most every 100 ms); true if anything moved.  mpi_lock
 * held. */
bool cf__mpi_progress(struct mpi_pool *p);
/* Hands queued tasks to idle workers; true if any went.  mpi_lock held. */
bool cf__mpi_dispatch(struct mpi_pool *p);

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

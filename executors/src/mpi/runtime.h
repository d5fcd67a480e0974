/* MPI in this process, for the MPI backend: who initialised it, whether
 * the program runs in static mode under mpirun, and what happens at exit.
 *
 * Spawn mode: the program is not a rank of an mpirun job of several
 * processes.  MPI is initialised when the first "mpi" pool is made, and
 * each pool spawns its workers (copies of this program) at its first
 * submit.
 *
 * Static mode: under `mpirun -n N` with N >= 2 (and CF_MPI_STATIC not
 * "0"), MPI is initialised before main in every rank; rank 0 goes on to
 * main, ranks 1..N-1 serve the pools rank 0 makes and never run main.
 * One pool at a time holds the ranks; a second pool made while they are
 * held spawns workers of its own.
 *
 * MPI is finalised at exit only if cf initialised it, and not when a
 * worker died or a pool still runs: Open MPI 4.1 may wait forever in
 * MPI_Finalize for a peer that is gone, and a pool's manager thread may
 * be inside an MPI call.  Same-host workers of pools still running are
 * killed then, so that the program ends within a bound.
 */
#ifndef CF_MPI_RUNTIME_H
#define CF_MPI_RUNTIME_H

#include <mpi.h>

#include <stdbool.h>
#include <sys/types.h>

/* The argument a spawned worker is started with. */
#define CF_MPI_WORKER_ARG "--cf-mpi-worker"

/* MPI ready for a pool: 0, or -1 with a reason in why. */
int cf__mpi_runtime_start(char *why, size_t size);

/* Static mode: takes up to want ranks (0: all) for a pool and gives the
 * communicator they serve on, the first rank and how many; false when
 * not in static mode or another pool holds them. */
bool cf__mpi_static_claim(int want, MPI_Comm *comm, int *first, int *count);
void cf__mpi_static_release(void);

/* Pools running now, and their same-host workers, for the exit. */
void cf__mpi_pool_began(void);
void cf__mpi_pool_ended(void);
void cf__mpi_local_worker_add(pid_t pid);
void cf__mpi_local_worker_remove(pid_t pid);
/* A peer died or hung: finalising could wait for it forever. */
void cf__mpi_taint(void);

/* The pool's generation: a new number for every pool of this process. */
unsigned long cf__mpi_next_generation(void);

#endif

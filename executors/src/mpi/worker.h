/* The worker side of the MPI backend (worker.c). */
#ifndef CF_MPI_WORKER_H
#define CF_MPI_WORKER_H

#include <mpi.h>

#include <stdbool.h>

/* Serves pools from rank `master` of comm: one pool, then returns on
 * EXIT (a spawned worker), or pool after pool until QUIT (a static
 * rank, with stay).  0 when told to go, 2 when abandoned by a broken
 * pool, 1 when the master was lost or spoke nonsense (MPI must not be
 * finalised after either). */
int cf__mpi_serve(MPI_Comm comm, int master, bool stay);

#endif

/* The floor under the cf "mpi" backend: what MPI itself costs between
 * this process and one peer it spawns, measured the way the backend
 * talks (executors/src/mpi/proto.c), so that cf's figures can be set
 * against it round by round.
 *
 * The peer is a copy of this program started with MPI_Comm_spawn and the
 * argument MPI_FLOOR_PEER_ARG, as the backend spawns its workers.  Both
 * ends send with MPI_Send and wait by polling MPI_Improbe, then take the
 * message with MPI_Mrecv, as the backend's manager thread and workers do;
 * the poll spins for spin_us after the last message and then sleeps
 * between polls (10 us doubling to 1 ms), the backend's back-off, so that
 * an idle peer does not take a core from the figures measured after it.
 * Within a ping-pong every message comes inside the spin, so the round
 * trip is measured with both ends polling hot.
 *
 * The messages are as long as the backend's for one task with an 8-byte
 * argument: MPI_FLOOR_PING_BYTES there (the TASK message: a function
 * reference of 10 bytes, the argument, the 8-byte task id), and
 * MPI_FLOOR_PONG_BYTES back (an empty RESULT: the id alone). */
#ifndef PARLAB_MPI_FLOOR_H
#define PARLAB_MPI_FLOOR_H

#include <stdbool.h>

#define MPI_FLOOR_PEER_ARG "--mpi-floor-peer"
#define MPI_FLOOR_ARG_BYTES 8
#define MPI_FLOOR_PING_BYTES (10 + MPI_FLOOR_ARG_BYTES + 8)
#define MPI_FLOOR_PONG_BYTES 8
/* How long a stop waits for the spawned process to end. */
#define MPI_FLOOR_END_BOUND_S 5.0

/* MPI_Init_thread (MPI_THREAD_MULTIPLE, as the backend wants) unless it
 * is initialised already; exits 1 on failure. */
void mpi_floor_init(void);

/* MPI_Finalize, if mpi_floor_init initialised MPI. */
void mpi_floor_finalize(void);

/* Whether this process is a peer that mpi_floor_spawn started. */
bool mpi_floor_is_peer(int argc, char **argv);

/* A peer's whole life: answers every ping until told to stop.  Returns
 * the exit status. */
int mpi_floor_peer_main(int spin_us);

/* Spawns the peer and makes one round trip with it: ns from the call of
 * MPI_Comm_spawn to the first answer (the start-up floor).  The peer
 * stays until mpi_floor_stop.  Exits 1 on failure. */
double mpi_floor_spawn_ns(int spin_us);

/* ns per round trip over `trips` ping-pongs with the peer. */
double mpi_floor_round_trip_ns(long trips);

/* Tells the peer to go, disconnects from it and waits (a bounded time)
 * until it has ended. */
void mpi_floor_stop(void);

#endif

#define _GNU_SOURCE
#include "mpi_floor.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpu_time.h"
#include "micro_util.h"
#include "stats.h"

enum { TAG_PING = 1, TAG_PONG, TAG_STOP };

/* The back-off of executors/src/mpi/proto.h, copied rather than linked:
 * the floor must not depend on the code it is the floor of. */
#define SLEEP_MIN_S 10e-6
#define SLEEP_MAX_S 1e-3

static bool we_initialised;
static MPI_Comm peer = MPI_COMM_NULL;
static int peer_spin_us;
static long peer_pid;           /* from its pong: 8 bytes, as the backend's */

void mpi_floor_init(void)
{
	int inited = 0, provided = 0;

	MPI_Initialized(&inited);
	if (inited)
		return;
	if (MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
		micro_fail("MPI_Init_thread failed");
	we_initialised = true;
}

void mpi_floor_finalize(void)
{
	if (we_initialised)
		MPI_Finalize();
}

bool mpi_floor_is_peer(int argc, char **argv)
{
	return argc >= 2 && strcmp(argv[1], MPI_FLOOR_PEER_ARG) == 0;
}

static void sleep_s(double s)
{
	struct timespec ts = { 0, (long)(s * 1e9) };

	nanosleep(&ts, NULL);
}

/* Waits for the next message from rank 0 of comm, polling as the backend
 * does: hot for spin_us, then sleeping between polls. */
static void wait_message(MPI_Comm comm, int spin_us, MPI_Message *msg, MPI_Status *st)
{
	double spin_until = pl_now() + spin_us * 1e-6, nap = 0;
	int flag = 0;

	for (;;) {
		if (MPI_Improbe(0, MPI_ANY_TAG, comm, &flag, msg, st) != MPI_SUCCESS)
			micro_fail("MPI_Improbe failed");
		if (flag)
			return;
		if (nap == 0 && pl_now() < spin_until)
			continue;
		nap = nap == 0 ? SLEEP_MIN_S : nap * 2;
		if (nap > SLEEP_MAX_S)
			nap = SLEEP_MAX_S;
		sleep_s(nap);
	}
}

/* Takes the message that wait_message found into buf. */
static void take(MPI_Message *msg, MPI_Status *st, void *buf, int size)
{
	int count = 0;

	MPI_Get_count(st, MPI_BYTE, &count);
	if (count > size || MPI_Mrecv(buf, count, MPI_BYTE, msg, MPI_STATUS_IGNORE) != MPI_SUCCESS)
		micro_fail("a floor message could not be taken");
}

int mpi_floor_peer_main(int spin_us)
{
	unsigned char ping[MPI_FLOOR_PING_BYTES], pong[MPI_FLOOR_PONG_BYTES] = { 0 };
	long pid = (long)getpid();
	MPI_Comm parent;
	MPI_Message msg;
	MPI_Status st;

	mpi_floor_init();
	MPI_Comm_get_parent(&parent);
	if (parent == MPI_COMM_NULL) {
		fprintf(stderr, "%s is for the peer that the benchmark spawns\n",
			MPI_FLOOR_PEER_ARG);
		return 2;
	}
	/* The pong says who answers, so that the spawner can wait for its end. */
	memcpy(pong, &pid, sizeof(pid) < sizeof(pong) ? sizeof(pid) : sizeof(pong));
	for (;;) {
		wait_message(parent, spin_us, &msg, &st);
		take(&msg, &st, ping, sizeof(ping));
		if (st.MPI_TAG == TAG_STOP)
			break;
		MPI_Send(pong, sizeof(pong), MPI_BYTE, 0, TAG_PONG, parent);
	}
	MPI_Comm_disconnect(&parent);
	mpi_floor_finalize();
	return 0;
}

/* One ping and its pong; the pong's bytes go to pong. */
static void round_trip(unsigned char pong[MPI_FLOOR_PONG_BYTES])
{
	unsigned char ping[MPI_FLOOR_PING_BYTES] = { 0 };
	MPI_Message msg;
	MPI_Status st;

	MPI_Send(ping, sizeof(ping), MPI_BYTE, 0, TAG_PING, peer);
	wait_message(peer, peer_spin_us, &msg, &st);
	take(&msg, &st, pong, MPI_FLOOR_PONG_BYTES);
}

double mpi_floor_spawn_ns(int spin_us)
{
	char self[4096], spin[16];
	char *argv[] = { MPI_FLOOR_PEER_ARG, spin, NULL };
	unsigned char pong[MPI_FLOOR_PONG_BYTES];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int code = MPI_SUCCESS;
	MPI_Info info;

	if (n <= 0)
		micro_fail("cannot read /proc/self/exe");
	self[n] = '\0';
	snprintf(spin, sizeof(spin), "%d", spin_us);
	peer_spin_us = spin_us;
	/* As the backend spawns (executors/src/mpi/start.c): Open MPI counts
	 * this process against the cores and would refuse a peer on 1 core. */
	MPI_Info_create(&info);
	MPI_Info_set(info, "map_by", ":OVERSUBSCRIBE");
	double start = pl_now();
	if (MPI_Comm_spawn(self, argv, 1, info, 0, MPI_COMM_SELF, &peer, &code) != MPI_SUCCESS ||
	    code != MPI_SUCCESS)
		micro_fail("MPI_Comm_spawn of the floor's peer failed");
	round_trip(pong);
	double ns = (pl_now() - start) * 1e9;
	MPI_Info_free(&info);
	memcpy(&peer_pid, pong, sizeof(peer_pid) < sizeof(pong) ? sizeof(peer_pid) : sizeof(pong));
	return ns;
}

double mpi_floor_round_trip_ns(long trips)
{
	unsigned char pong[MPI_FLOOR_PONG_BYTES];
	double start = pl_now();

	for (long i = 0; i < trips; i++)
		round_trip(pong);
	return (pl_now() - start) * 1e9 / trips;
}

void mpi_floor_stop(void)
{
	if (peer == MPI_COMM_NULL)
		return;
	MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_STOP, peer);
	MPI_Comm_disconnect(&peer);
	/* The next spawn waits until this job has ended: two runs hung for
	 * Open MPI's 5 min in MPI_Comm_spawn (a PMIx LOOKUP timeout) when a
	 * spawn overlapped the end of the previous job. */
	if (peer_pid > 0 && !wait_gone((pid_t)peer_pid, MPI_FLOOR_END_BOUND_S))
		fprintf(stderr, "cf_mpi_overhead: the floor's peer (pid %ld) still runs %.0f s "
			"after it was stopped\n", peer_pid, MPI_FLOOR_END_BOUND_S);
	peer_pid = 0;
}

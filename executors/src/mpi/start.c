/* Starting and stopping an MPI pool's workers (pool.h); manager thread
 * only. */
#include "mpi/pool.h"

#include "base/clock.h"
#include "mpi/runtime.h"
#include "platform/platform.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long a stopping pool waits for its workers' BYE. */
#define BYE_WAIT_S 2.0

static void add_workers(struct mpi_pool *p, MPI_Comm comm, int first, int count)
{
	for (int i = 0; i < count; i++) {
		struct mpi_worker *w = &p->workers[p->nworkers++];
		memset(w, 0, sizeof(*w));
		w->comm = comm;
		w->rank = first + i;
		w->state = MW_STARTING;
		w->last_heard = cf__now();
	}
}

/* Under mpirun, Open MPI 4.1 places the workers of one spawn call on
 * the job's hosts; a spawn of several after an earlier spawn fails
 * across hosts, so there each worker comes from a call of its own. */
static int spawn_workers(struct mpi_pool *p)
{
	char *args[] = { CF_MPI_WORKER_ARG, NULL };
	bool one_by_one = getenv("OMPI_COMM_WORLD_SIZE") != NULL;
	int per_call = one_by_one ? 1 : p->max_workers;
	MPI_Info info;

	MPI_Info_create(&info);
	/* More workers than cores is the caller's choice, as with the
	 * process backend: Open MPI would refuse it by default. */
	MPI_Info_set(info, "map_by", ":OVERSUBSCRIBE");
	while (p->nworkers < p->max_workers) {
		MPI_Comm comm;
		int rc = MPI_Comm_spawn(p->exe, args, per_call, info, 0, MPI_COMM_SELF, &comm,
					MPI_ERRCODES_IGNORE);
		if (rc != MPI_SUCCESS) {
			char text[160];
			MPI_Info_free(&info);
			cf__mpi_note_broken(p, "MPI_Comm_spawn of %s failed: %s", p->exe,
					    cf__mpi_error_text(rc, text, sizeof(text)));
			return -1;
		}
		MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
		add_workers(p, comm, 0, per_call);
		atomic_fetch_add(&p->processes_created, (size_t)per_call);
	}
	MPI_Info_free(&info);
	return 0;
}

int cf__mpi_start_workers(struct mpi_pool *p)
{
	MPI_Comm comm;
	int first, count;

	p->started = true;
	p->static_ranks = cf__mpi_static_claim(p->max_workers, &comm, &first, &count);
	p->workers = calloc((size_t)(p->static_ranks ? count : p->max_workers), sizeof(*p->workers));
	if (!p->workers) {
		cf__mpi_note_broken(p, "out of memory for the workers");
		return -1;
	}
	if (p->static_ranks)
		add_workers(p, comm, first, count);
	else if (spawn_workers(p) != 0)
		return -1;
	for (int i = 0; i < p->nworkers; i++) {
		struct mpi_worker *w = &p->workers[i];
		if (cf__mpi_send(w->comm, w->rank, CF_MPI_START, p->generation, p->start_body,
				 p->start_len, NULL, 0) != 0) {
			cf__mpi_note_broken(p, "starting worker %d failed: MPI could not send", i);
			return -1;
		}
	}
	return 0;
}

struct mpi_worker *cf__mpi_worker_of(struct mpi_pool *p, MPI_Comm comm, int rank)
{
	for (int i = 0; i < p->nworkers; i++)
		if (p->workers[i].comm == comm && p->workers[i].rank == rank)
			return &p->workers[i];
	return NULL;
}

static bool all_gone(struct mpi_pool *p)
{
	for (int i = 0; i < p->nworkers; i++)
		if (p->workers[i].state != MW_GONE)
			return false;
	return true;
}

/* Takes BYEs (and drops whatever else comes) until every worker said
 * it or the bound passes. */
static bool await_byes(struct mpi_pool *p)
{
	double end = cf__now() + BYE_WAIT_S;

	while (!all_gone(p) && cf__now() < end) {
		bool took = false;
		for (int i = 0; i < p->nworkers; i++) {
			struct mpi_worker *w = &p->workers[i];
			struct cf_mpi_msg m;
			if (w->state == MW_GONE || cf__mpi_take(w->comm, w->rank, &m) != 1)
				continue;
			took = true;
			if (m.tag == CF_MPI_BYE && m.id == p->generation)
				w->state = MW_GONE;
			free(m.body);
		}
		if (!took) {
			struct timespec ts = { 0, 100000 };
			nanosleep(&ts, NULL);
		}
	}
	return all_gone(p);
}

static void forget_local(struct mpi_pool *p)
{
	for (int i = 0; i < p->nworkers; i++)
		if (p->workers[i].same_host)
			cf__mpi_local_worker_remove((pid_t)p->workers[i].who.pid);
}

/* Spawned workers disconnect after BYE; so does the pool, once per
 * communicator (workers of one spawn call share one). */
static void disconnect_all(struct mpi_pool *p)
{
	for (int i = 0; i < p->nworkers; i++) {
		MPI_Comm comm = p->workers[i].comm;
		if (comm == MPI_COMM_NULL)
			continue;
		for (int j = i; j < p->nworkers; j++)
			if (p->workers[j].comm == comm)
				p->workers[j].comm = MPI_COMM_NULL;
		MPI_Comm_disconnect(&comm);
	}
}

void cf__mpi_stop_workers(struct mpi_pool *p)
{
	for (int i = 0; i < p->nworkers; i++) {
		struct mpi_worker *w = &p->workers[i];
		if (cf__mpi_send(w->comm, w->rank, CF_MPI_EXIT, p->generation, NULL, 0, NULL, 0))
			w->state = MW_GONE;
	}
	bool clean = await_byes(p);
	forget_local(p);
	if (!clean) {
		/* A worker that never answered may be dead: disconnecting or
		 * finalising would wait for it. */
		cf__mpi_drop_workers(p);
		return;
	}
	if (p->static_ranks)
		cf__mpi_static_release();
	else
		disconnect_all(p);
}

/* A spawned worker elsewhere that was heard from lately is told to go;
 * one that went silent may be unreachable, and a send to it could hang. */
static void abandon_remote(struct mpi_pool *p, struct mpi_worker *w)
{
	if (!w->lost && cf__now() - w->last_heard < p->silence_s)
		cf__mpi_send(w->comm, w->rank, CF_MPI_ABANDON, p->generation, NULL, 0, NULL, 0);
}

/* A static rank is mpirun's to end: killing one ends the job. */
void cf__mpi_drop_workers(struct mpi_pool *p)
{
	for (int i = 0; i < p->nworkers; i++) {
		struct mpi_worker *w = &p->workers[i];
		if (w->state != MW_GONE && !p->static_ranks && w->same_host)
			kill((pid_t)w->who.pid, SIGKILL);
		else if (w->state != MW_GONE && !p->static_ranks)
			abandon_remote(p, w);
		if (w->same_host)
			cf__mpi_local_worker_remove((pid_t)w->who.pid);
		w->state = MW_GONE;
	}
	cf__mpi_taint();
}

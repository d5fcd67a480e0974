/* MPI in this process (runtime.h): initialising it once, static mode,
 * the exit, and the entry point that makes a process a worker. */
#include "mpi/runtime.h"

#include "core/executor.h"
#include "mpi/proto.h"
#include "mpi/worker.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdnoreturn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct cf_backend cf__mpi_backend;

/* Set in every process that cf made an MPI process, to its pid: a child
 * it starts (a process-pool worker, a server) inherits mpirun's
 * variables but is no rank, and tells so by a pid not its own. */
#define MPI_PID_ENV "CF_MPI_PID"
#define MAX_LOCAL_WORKERS 256

static pthread_mutex_t runtime_lock = PTHREAD_MUTEX_INITIALIZER;
static bool we_initialised, tainted, exit_hook;
static int active_pools;
static pid_t local_workers[MAX_LOCAL_WORKERS];
static int nlocal;
static atomic_ulong generation;

static struct {
	bool on, busy;
	MPI_Comm comm;
	int size;
} static_ranks;

static void mark_process(void)
{
	char pid[24];

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv(MPI_PID_ENV, pid, 1);
}

/* Rank 0 of a static job lets the other ranks go before finalising,
 * which waits for them. */
static void release_static_ranks(void)
{
	unsigned long gen = cf__mpi_next_generation();

	for (int r = 1; r < static_ranks.size; r++)
		cf__mpi_send(static_ranks.comm, r, CF_MPI_QUIT, gen, NULL, 0, NULL, 0);
}

static void at_exit(void)
{
	bool finalise;

	pthread_mutex_lock(&runtime_lock);
	if (active_pools > 0) {
		for (int i = 0; i < nlocal; i++)
			kill(local_workers[i], SIGKILL);
		tainted = true;
	}
	finalise = we_initialised && !tainted;
	if (finalise && static_ranks.on)
		release_static_ranks();
	pthread_mutex_unlock(&runtime_lock);
	if (finalise)
		MPI_Finalize();
}

/* MPI_Init_thread unless the program did it; runtime_lock held. */
static int init_locked(char *why, size_t size)
{
	int inited = 0, finalized = 0, provided = 0;

	MPI_Finalized(&finalized);
	if (finalized) {
		snprintf(why, size, "MPI was finalised already");
		return -1;
	}
	MPI_Initialized(&inited);
	if (!inited) {
		if (MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
			snprintf(why, size, "MPI_Init_thread failed");
			return -1;
		}
		we_initialised = true;
		mark_process();
		/* A failed spawn reports through MPI_COMM_SELF: an error
		 * that becomes CF_BROKEN, not the abort of the default.  A
		 * program that initialised MPI keeps its own handlers. */
		MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	} else {
		MPI_Query_thread(&provided);
	}
	if (!exit_hook)
		exit_hook = atexit(at_exit) == 0;
	/* The pool's manager thread calls MPI while the program's threads
	 * may too. */
	if (provided < MPI_THREAD_MULTIPLE) {
		snprintf(why, size, "MPI gives thread level %d, the mpi backend needs "
			 "MPI_THREAD_MULTIPLE", provided);
		return -1;
	}
	return 0;
}

int cf__mpi_runtime_start(char *why, size_t size)
{
	pthread_mutex_lock(&runtime_lock);
	int rc = init_locked(why, size);
	pthread_mutex_unlock(&runtime_lock);
	return rc;
}

bool cf__mpi_static_claim(int want, MPI_Comm *comm, int *first, int *count)
{
	bool claimed = false;

	pthread_mutex_lock(&runtime_lock);
	if (static_ranks.on && !static_ranks.busy) {
		int have = static_ranks.size - 1;
		static_ranks.busy = claimed = true;
		*comm = static_ranks.comm;
		*first = 1;
		*count = want > 0 && want < have ? want : have;
	}
	pthread_mutex_unlock(&runtime_lock);
	return claimed;
}

void cf__mpi_static_release(void)
{
	pthread_mutex_lock(&runtime_lock);
	static_ranks.busy = false;
	pthread_mutex_unlock(&runtime_lock);
}

void cf__mpi_pool_began(void)
{
	pthread_mutex_lock(&runtime_lock);
	active_pools++;
	pthread_mutex_unlock(&runtime_lock);
}

void cf__mpi_pool_ended(void)
{
	pthread_mutex_lock(&runtime_lock);
	active_pools--;
	pthread_mutex_unlock(&runtime_lock);
}

void cf__mpi_local_worker_add(pid_t pid)
{
	pthread_mutex_lock(&runtime_lock);
	if (nlocal < MAX_LOCAL_WORKERS)
		local_workers[nlocal++] = pid;
	pthread_mutex_unlock(&runtime_lock);
}

void cf__mpi_local_worker_remove(pid_t pid)
{
	pthread_mutex_lock(&runtime_lock);
	for (int i = 0; i < nlocal; i++) {
		if (local_workers[i] == pid) {
			local_workers[i] = local_workers[--nlocal];
			break;
		}
	}
	pthread_mutex_unlock(&runtime_lock);
}

void cf__mpi_taint(void)
{
	pthread_mutex_lock(&runtime_lock);
	tainted = true;
	pthread_mutex_unlock(&runtime_lock);
}

unsigned long cf__mpi_next_generation(void)
{
	return atomic_fetch_add(&generation, 1) + 1;
}

/* ---- before main ---- */

static noreturn void die(const char *message)
{
	fprintf(stderr, "cf mpi: %s\n", message);
	_exit(2);
}

/* A copy of the program that a pool spawned: serve it, then go. */
static noreturn void run_spawned_worker(void)
{
	MPI_Comm parent;
	int provided = 0;

	if (MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
		die("MPI_Init_thread failed in a worker");
	mark_process();
	MPI_Comm_get_parent(&parent);
	if (parent == MPI_COMM_NULL)
		die(CF_MPI_WORKER_ARG " is for workers that a pool spawns");
	MPI_Comm_set_errhandler(parent, MPI_ERRORS_RETURN);
	int status = cf__mpi_serve(parent, 0, false);
	fflush(NULL);
	if (status == 0) {
		MPI_Comm_disconnect(&parent);
		MPI_Finalize();
	}
	_exit(status == 2 ? 0 : status);
}

/* Static mode is for the ranks mpirun started, not for processes they
 * start in turn, which inherit mpirun's variables. */
static bool static_wanted(void)
{
	const char *size = getenv("OMPI_COMM_WORLD_SIZE");
	const char *marked = getenv(MPI_PID_ENV);
	const char *choice = getenv("CF_MPI_STATIC");

	if (!size || atoi(size) < 2 || getenv("CF_PROCESS_WORKER"))
		return false;
	if (marked && atol(marked) != (long)getpid())
		return false;
	if (!choice || strcmp(choice, "1") == 0)
		return true;
	if (strcmp(choice, "0") == 0)
		return false;
	die("CF_MPI_STATIC must be 0 (spawn workers under mpirun too) or 1 (the default)");
}

/* Rank 0 goes on to main; the others serve it and end here. */
static void start_static(void)
{
	int provided = 0, rank = 0;

	if (MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
		die("MPI_Init_thread failed");
	we_initialised = true;
	mark_process();
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	MPI_Comm_dup(MPI_COMM_WORLD, &static_ranks.comm);
	MPI_Comm_set_errhandler(static_ranks.comm, MPI_ERRORS_RETURN);
	MPI_Comm_rank(static_ranks.comm, &rank);
	MPI_Comm_size(static_ranks.comm, &static_ranks.size);
	if (rank != 0) {
		int status = cf__mpi_serve(static_ranks.comm, 0, true);
		fflush(NULL);
		if (status == 0)
			MPI_Finalize();
		_exit(status);
	}
	static_ranks.on = true;
	exit_hook = atexit(at_exit) == 0;
}

/* glibc calls .init_array entries with the program's arguments, which a
 * constructor attribute does not give. */
static void entry(int argc, char **argv, char **envp)
{
	(void)envp;
	cf__backend_register(&cf__mpi_backend);
	if (argc >= 2 && strcmp(argv[1], CF_MPI_WORKER_ARG) == 0)
		run_spawned_worker();
	if (static_wanted())
		start_static();
}

__attribute__((section(".init_array"), used))
static void (*const cf_mpi_entry)(int, char **, char **) = entry;

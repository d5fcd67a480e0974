/* The folders workload: what every model's folders.c shares.
 *
 * The tutorial's third example looks up the display names of a list of
 * folder ids through a cloud API and collects {"folder_{idx}_name": name}.
 * Here the API is the simulated folder server (docs/folder-api.md) and the
 * network call is the shared client; this file does everything around the
 * part a model must decide (who fetches what, the cache, the rate limit):
 *
 *   - the options every folders program has (--api, --ids, --rate, ...);
 *   - the id list: the seed's ten ids, -n generated ids with a set share
 *     of duplicates and of bad ids, or --ids FILE;
 *   - a server of our own on a free port when there is no --api;
 *   - one lookup, pl_folders_fetch(), as a fixed-size answer that may
 *     cross a pipe or be a future's result;
 *   - the end: the JSON object in index order (or one summary line), one
 *     line per failed folder on stderr, --check, --stats, exit status 0
 *     when every folder was found and 1 when some were not.
 *
 * docs/folders.md explains the workload and each model's choices.
 */
#ifndef PARLAB_FOLDERS_WORK_H
#define PARLAB_FOLDERS_WORK_H

#include <stddef.h>

#include "cli.h"
#include "folder_client.h"
#include "folder_server_ctl.h"

#define PL_FOLDER_NAME_MAX 128
#define PL_FOLDER_ERROR_MAX 256

/* What one lookup gave: a name, or a one-line error.  No pointers and a
 * fixed size below PIPE_BUF (4096), so it can be a future's result bytes
 * or travel through a pipe in one write that is never interleaved with
 * another process's. */
struct pl_folder_answer {
	long id;
	int status;                     /* enum pl_folder_status; 0: name is set */
	int attempts;                   /* HTTP requests the lookup took */
	char name[PL_FOLDER_NAME_MAX];
	char error[PL_FOLDER_ERROR_MAX];        /* "folder 7404: HTTP 404 ..." */
};

/* The options of every folders program; put PL_FOLDERS_OPTIONS in the
 * program's struct pl_program (it has no int options of its own then). */
extern struct pl_string_option pl_folders_strings[];
extern struct pl_double_option pl_folders_doubles[];
extern struct pl_int_option pl_folders_ints[];
#define PL_FOLDERS_OPTIONS \
	.strings = pl_folders_strings, .doubles = pl_folders_doubles, \
	.ints = pl_folders_ints

/* Defaults of -n's generated lists. */
#define PL_FOLDERS_DUP_PERCENT 30
#define PL_FOLDERS_BAD_PERCENT 10
/* Latency of our own server, in ms, times --scale: about a cloud call. */
#define PL_FOLDERS_OWN_LATENCY_MS 100

struct pl_folders {
	const struct pl_options *opts;
	long n;                         /* ids in the list */
	long *ids;                      /* the list, in index order */
	const char *base_url;           /* --api, or our own server's */
	struct pl_folder_client *client;        /* one for all threads; a
						 * forked child may use it */
	double rate;                    /* --rate: requests a second, 0: none */
	long burst;                     /* --burst */
	long work_us;                   /* CPU work after each fetch */
	/* --timeout-ms and --attempts; a model that makes clients of its
	 * own (a process pool's workers) makes them with these. */
	struct pl_folder_client_options client_opts;
	/* Index i's answer, set by the model with pl_folders_set(). */
	const struct pl_folder_answer **answer;
	struct pl_server server;        /* pid 0 when --api was given */
};

/* Reads the options, builds the id list, starts a server when there is no
 * --api, makes the client.  Exits 2 on a bad --ids file or --api, 1 when
 * the server does not start. */
void pl_folders_begin(struct pl_folders *f, const struct pl_options *o);

/* One lookup: GET /v3/folders/{id} through client c (which retries what
 * is worth retrying), then --work-us of CPU.  Thread-safe. */
void pl_folders_fetch(struct pl_folder_client *c, long id, long work_us,
		      struct pl_folder_answer *a);

/* An answer for a lookup that never got one (a worker died): status
 * PL_FOLDER_TRANSPORT and the reason. */
void pl_folders_lost(struct pl_folder_answer *a, long id, const char *why);

/* Index i's answer is *a, which must stay valid until finish. */
static inline void pl_folders_set(struct pl_folders *f, long i,
				  const struct pl_folder_answer *a)
{
	f->answer[i] = a;
}

/* Prints the result (the JSON object with --print or without -n, else one
 * summary line "PROG: N ids, D distinct, F failed, checksum 0x..., wall
 * S s"), one line per failed index on stderr in index order, --stats,
 * --check; stops our server; frees.  Returns the exit status: 0 when
 * every id has a name, 1 when some failed, --check found a difference or
 * the output could not be written. */
int pl_folders_finish(struct pl_folders *f);

/* A map from long keys (folder ids, or a future's address) to long values,
 * the dict of the tutorial.  Its size is fixed when it is made, so it
 * never reallocates under a reader; it takes no lock. */
struct pl_id_map {
	long *keys;
	long *values;
	size_t mask;
};

/* Room for `entries` keys; exits 1 when out of memory. */
void pl_id_map_init(struct pl_id_map *m, size_t entries);
/* The value of key, or -1. */
long pl_id_map_get(const struct pl_id_map *m, long key);
/* Sets key's value (key must not be LONG_MIN). */
void pl_id_map_put(struct pl_id_map *m, long key, long value);
void pl_id_map_free(struct pl_id_map *m);

#endif

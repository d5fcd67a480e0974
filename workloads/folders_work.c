/* The folders workload's shared plumbing (see folders_work.h). */
#define _GNU_SOURCE
#include "folders_work.h"
#include "trace.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spin.h"
#include "stats.h"

/* --- options ---------------------------------------------------------- */

struct pl_string_option pl_folders_strings[] = {
	{ .name = "api", .metavar = "URL",
	  .help = "the folder API to ask, e.g. http://127.0.0.1:8080 (default: "
		  "start our own server on a free port, with 100 ms x --scale of "
		  "latency, and stop it at exit)" },
	{ .name = "ids", .metavar = "FILE",
	  .help = "read the folder ids from FILE ('-': stdin), separated by "
		  "spaces, commas or newlines, '#' starts a comment; with -n, the "
		  "first N of them (default: the seed's ten ids, or -n generated)" },
	{ 0 }
};

struct pl_double_option pl_folders_doubles[] = {
	{ .name = "rate", .metavar = "R", .min = 0, .value = 0,
	  .help = "client-side rate limit: at most R requests a second for the "
		  "whole run, one token bucket shared by every worker; 0 for none" },
	{ 0 }
};

struct pl_int_option pl_folders_ints[] = {
	{ .name = "burst", .metavar = "B", .min = 1, .value = 1,
	  .help = "with --rate: how many requests may leave at once before the "
		  "rate applies" },
	{ .name = "dup-percent", .metavar = "P", .min = 0, .max = 100,
	  .value = PL_FOLDERS_DUP_PERCENT,
	  .help = "with -n: the share of the list that repeats an earlier id" },
	{ .name = "bad-percent", .metavar = "P", .min = 0, .max = 100,
	  .value = PL_FOLDERS_BAD_PERCENT,
	  .help = "with -n: the share of distinct ids that do not exist (ending "
		  "in 404) or are forbidden (ending in 403)" },
	{ .name = "timeout-ms", .metavar = "MS", .min = 1, .max = 3600000, .value = 10000,
	  .help = "the client's limit for one HTTP attempt, connecting included "
		  "(connecting alone: at most 2000)" },
	{ .name = "attempts", .metavar = "N", .min = 1, .max = 100, .value = 5,
	  .help = "HTTP requests per folder at most, the first included: a "
		  "transient failure (429, 503, reset, timeout) is retried until then" },
	{ 0 }
};

/* --- the map ------------------------------------------------------------ */

#define EMPTY LONG_MIN

/* The program's name for the out-of-memory messages of the map and the id
 * list, which are made before (or without) the options at hand. */
static const char *prog_name = "parlab";

void pl_id_map_init(struct pl_id_map *m, size_t entries)
{
	size_t cap = 16;

	/* At most half full: probes stay short. */
	while (cap < 2 * entries)
		cap *= 2;
	m->keys = malloc(cap * sizeof(*m->keys));
	m->values = malloc(cap * sizeof(*m->values));
	if (!m->keys || !m->values) {
		fprintf(stderr, "%s: out of memory for a map of %zu entries\n", prog_name, entries);
		exit(1);
	}
	for (size_t i = 0; i < cap; i++)
		m->keys[i] = EMPTY;
	m->mask = cap - 1;
}

static size_t slot_hash(long key)
{
	uint64_t x = (uint64_t)key;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

long pl_id_map_get(const struct pl_id_map *m, long key)
{
	for (size_t i = slot_hash(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->keys[i] == key)
			return m->values[i];
		if (m->keys[i] == EMPTY)
			return -1;
	}
}

void pl_id_map_put(struct pl_id_map *m, long key, long value)
{
	size_t i = slot_hash(key) & m->mask;

	while (m->keys[i] != EMPTY && m->keys[i] != key)
		i = (i + 1) & m->mask;
	m->keys[i] = key;
	m->values[i] = value;
}

void pl_id_map_free(struct pl_id_map *m)
{
	free(m->keys);
	free(m->values);
	m->keys = m->values = NULL;
}

/* --- the id list ---------------------------------------------------- */

/* The seed's list: the tutorial gives none, so ten ids of our own, three
 * of them repeats (the cache has something to do), none failing (the
 * plain run exits 0). */
static const long seed_ids[] = {
	1234, 5678, 9012, 1234, 3456, 7890, 5678, 2468, 1234, 1357,
};
#define N_SEED_IDS ((long)(sizeof(seed_ids) / sizeof(seed_ids[0])))

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [0, n). */
static long below(uint64_t *rng, long n)
{
	return (long)(splitmix64(rng) % (uint64_t)n);
}

static long percent_of(long n, long percent)
{
	return (n * percent + 50) / 100;
}

/* -n N: N ids, `dup` percent of them repeating an earlier one, `bad`
 * percent of the distinct ones failing (404 and 403 in turn).  The same
 * options give the same list on every run and every model.
 *
 * Which positions repeat and which distinct ids fail is chosen by
 * selection sampling (Knuth's Algorithm S): exact counts, evenly spread.
 * A repeat asks again for one of the distinct ids seen so far, each as
 * likely as the others, so most repeats ask for an id fetched long ago
 * and a few for one still in flight, which is the case a single-flight
 * cache exists for.  (Copying a random earlier *position* instead would
 * let the first ids snowball into most of the repeats.) */
static void generate_ids(long *ids, long n, long dup, long bad)
{
	uint64_t rng = 0x70617261ULL;   /* fixed: the list is an input */
	long dups = n > 0 ? percent_of(n, dup) : 0;
	long distinct, bads, seen = 0, bad_seen = 0;
	struct pl_id_map used;

	if (n > 0 && dups > n - 1)
		dups = n - 1;   /* the first id is always new */
	distinct = n - dups;
	bads = percent_of(distinct, bad);
	pl_id_map_init(&used, (size_t)distinct);
	long *news = malloc((distinct ? (size_t)distinct : 1) * sizeof(*news));
	if (!news) {
		fprintf(stderr, "%s: out of memory for the id list\n", prog_name);
		exit(1);
	}

	for (long i = 0; i < n; i++) {
		long left = n - i, dups_left = dups - (i - seen);

		if (i > 0 && below(&rng, left) < dups_left) {
			ids[i] = news[below(&rng, seen)];
			continue;
		}
		/* A new id: good ones are 4 to 9 digits and never end in
		 * 403/404; bad ones end in 404 or 403. */
		bool is_bad = below(&rng, distinct - seen) < bads - bad_seen;
		long id;

		do {
			id = 1000 + below(&rng, 999999000L);
			if (is_bad)
				id = id / 1000 * 1000 + (bad_seen % 2 ? 403 : 404);
		} while ((!is_bad && (id % 1000 == 403 || id % 1000 == 404)) ||
			 pl_id_map_get(&used, id) >= 0);
		pl_id_map_put(&used, id, 1);
		ids[i] = news[seen++] = id;
		bad_seen += is_bad;
	}
	pl_id_map_free(&used);
	free(news);
}

/* An id as the server takes it: "0", or 1 to 18 digits, no leading 0. */
static bool parse_id(const char *s, size_t len, long *out)
{
	if (len == 0 || len > 18 || (s[0] == '0' && len > 1))
		return false;
	*out = 0;
	for (size_t k = 0; k < len; k++) {
		if (!isdigit((unsigned char)s[k]))
			return false;
		*out = *out * 10 + (s[k] - '0');
	}
	return true;
}

/* --ids FILE: every id in it, or the first `limit` (-1: all).  Read a
 * character at a time, never a whole line: an id is at most 18 digits, so
 * a file with no separator in it (/dev/zero) or a NUL byte is refused at
 * once instead of read into memory until it runs out (scripts/fuzz-cli). */
static long *read_ids(const struct pl_options *o, const char *path, long limit,
		      long *count)
{
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char word[40];
	size_t len = 0, room = 64;
	long n = 0, lineno = 1;
	int comment = 0, c;
	long *ids = malloc(room * sizeof(*ids));

	if (!in)
		pl_usage_error(o, "cannot read --ids %s: %s", path, strerror(errno));
	if (!ids)
		pl_die(o, "out of memory");
	while (limit < 0 || n < limit) {
		c = getc(in);
		if (c == '\0')
			pl_usage_error(o, "--ids %s: line %ld: a NUL byte (not a text file)",
				       path, lineno);
		if (c == '#')
			comment = 1;
		if (c != EOF && !comment && !strchr(" \t\r\n,", c)) {
			word[len++] = (char)c;
			if (len < sizeof(word))
				continue;       /* too long for an id: say so now */
		}
		if (len) {
			if ((size_t)n == room) {
				long *more = realloc(ids, (room *= 2) * sizeof(*ids));

				if (!more)
					pl_die(o, "out of memory for %ld ids", n);
				ids = more;
			}
			if (!parse_id(word, len, &ids[n]))
				pl_usage_error(o, "--ids %s: line %ld: '%.*s' is not a folder id "
					       "(0, or 1 to 18 digits without a leading 0)",
					       path, lineno, (int)len, word);
			n++;
			len = 0;
		}
		if (c == '\n')
			lineno++, comment = 0;
		if (c == EOF)
			break;
	}
	if (ferror(in))
		pl_usage_error(o, "cannot read --ids %s: %s", path, strerror(errno));
	if (in != stdin)
		fclose(in);
	if (limit >= 0 && n < limit)
		pl_usage_error(o, "-n %ld: --ids %s holds only %ld ids", limit, path, n);
	*count = n;
	return ids;
}

/* --- begin -------------------------------------------------------------- */

static void start_own_server(struct pl_folders *f, const struct pl_options *o)
{
	char path[4096], latency[32];
	const char *args[] = { "--latency-ms", latency, NULL };

	snprintf(latency, sizeof(latency), "%.0f",
		 fmin(PL_FOLDERS_OWN_LATENCY_MS * o->scale, 86400000.0));
	if (!pl_folder_server_path(path, sizeof(path)))
		pl_die(o, "the folder server's path is too long");
	if (pl_folder_server_start(path, args, &f->server) != 0)
		pl_die(o, "%s (or give --api URL)", f->server.error);
	f->base_url = f->server.base_url;
}

void pl_folders_begin(struct pl_folders *f, const struct pl_options *o)
{
	const char *ids_file = pl_string(o, "ids");
	const char *api = pl_string(o, "api");

	memset(f, 0, sizeof(*f));
	f->opts = o;
	prog_name = o->program->name;
	f->rate = pl_double(o, "rate");
	f->burst = pl_int(o, "burst");
	f->work_us = o->work_us;
	f->client_opts.timeout_ms = pl_int(o, "timeout-ms");
	f->client_opts.connect_timeout_ms = f->client_opts.timeout_ms < 2000
					    ? f->client_opts.timeout_ms : 2000;
	f->client_opts.max_attempts = (int)pl_int(o, "attempts");

	/* Everything that can be a usage error first: exit 2 before any
	 * server starts. */
	if (api && strncmp(api, "http://", 7) != 0 && strncmp(api, "https://", 8) != 0)
		pl_usage_error(o, "invalid value '%s' for --api: want http://HOST:PORT", api);
	if (api && strlen(api) > 400)
		pl_usage_error(o, "invalid value for --api: longer than 400 characters");

	if (ids_file) {
		f->ids = read_ids(o, ids_file, o->tasks_given ? o->tasks : -1, &f->n);
	} else {
		f->n = o->tasks_given ? o->tasks : N_SEED_IDS;
		f->ids = malloc((f->n ? (size_t)f->n : 1) * sizeof(*f->ids));
		if (!f->ids)
			pl_die(o, "out of memory for %ld ids", f->n);
		if (o->tasks_given)
			generate_ids(f->ids, f->n, pl_int(o, "dup-percent"),
				     pl_int(o, "bad-percent"));
		else
			memcpy(f->ids, seed_ids, sizeof(seed_ids));
	}
	f->answer = calloc(f->n ? (size_t)f->n : 1, sizeof(*f->answer));
	if (!f->answer)
		pl_die(o, "out of memory for %ld answers", f->n);

	if (api)
		f->base_url = api;
	else
		start_own_server(f, o);
	f->client = pl_folder_client_new(f->base_url, &f->client_opts);
	if (!f->client)
		pl_die(o, "cannot make a folder client for %s", f->base_url);
}

/* --- one lookup ------------------------------------------------------- */

void pl_folders_fetch(struct pl_folder_client *c, long id, long work_us,
		      struct pl_folder_answer *a)
{
	struct pl_folder_error err;
	uint64_t t0 = pl_trace_on() ? pl_trace_start() : 0;

	memset(a, 0, sizeof(*a));
	a->id = id;
	a->status = (int)pl_folder_get(c, id, a->name, sizeof(a->name), &err);
	a->attempts = err.attempts;
	if (a->status != PL_FOLDER_OK)
		snprintf(a->error, sizeof(a->error), "%s", err.message);
	pl_spin_us(work_us);
	if (t0)
		pl_trace_record(PL_TRACE_LOOKUP, id, 0, t0, pl_trace_clock());
}

void pl_folders_lost(struct pl_folder_answer *a, long id, const char *why)
{
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->status = PL_FOLDER_TRANSPORT;
	snprintf(a->error, sizeof(a->error), "folder %ld: no answer: %s", id, why);
}

/* --- the end ------------------------------------------------------------- */

static bool found(const struct pl_folder_answer *a)
{
	return a && a->status == PL_FOLDER_OK;
}

/* The tutorial's folder_names, as JSON, in index order; failed folders
 * are left out, as the tutorial leaves out a None. */
static int print_json(const struct pl_folders *f)
{
	struct json_object *names = json_object_new_object();
	char key[48];

	if (!names)
		return -1;
	for (long i = 0; i < f->n; i++) {
		if (!found(f->answer[i]))
			continue;
		snprintf(key, sizeof(key), "folder_%ld_name", i);
		if (json_object_object_add(names, key,
					   json_object_new_string(f->answer[i]->name))) {
			json_object_put(names);
			return -1;
		}
	}
	if (json_object_object_length(names) == 0)
		pl_puts("{}");
	else
		pl_puts(json_object_to_json_string_ext(names, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(names);
	return 0;
}

/* FNV-1a over every index's name, or its failure class: the same answers
 * in the same slots give the same checksum in every model. */
static uint64_t checksum(const struct pl_folders *f)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char buf[PL_FOLDER_NAME_MAX + 16];

	for (long i = 0; i < f->n; i++) {
		const struct pl_folder_answer *a = f->answer[i];

		if (found(a))
			snprintf(buf, sizeof(buf), "%s\n", a->name);
		else
			snprintf(buf, sizeof(buf), "!%d\n", a ? a->status : -1);
		for (const char *p = buf; *p; p++) {
			h ^= (unsigned char)*p;
			h *= 0x100000001b3ULL;
		}
	}
	return h;
}

static long count_distinct(const struct pl_folders *f)
{
	struct pl_id_map seen;
	long d = 0;

	pl_id_map_init(&seen, (size_t)f->n);
	for (long i = 0; i < f->n; i++) {
		if (pl_id_map_get(&seen, f->ids[i]) < 0) {
			pl_id_map_put(&seen, f->ids[i], 1);
			d++;
		}
	}
	pl_id_map_free(&seen);
	return d;
}

/* --check: every distinct id again, one after the other, and every
 * index's answer compared with it. */
static int check(const struct pl_folders *f)
{
	struct pl_id_map seen;
	struct pl_folder_answer *want = malloc((f->n ? (size_t)f->n : 1) * sizeof(*want));
	long d = 0;
	int status = 0;

	if (!want)
		pl_die(f->opts, "out of memory for --check");
	pl_id_map_init(&seen, (size_t)f->n);
	for (long i = 0; i < f->n && status == 0; i++) {
		long k = pl_id_map_get(&seen, f->ids[i]);
		const struct pl_folder_answer *got = f->answer[i];

		if (k < 0) {
			k = d++;
			pl_id_map_put(&seen, f->ids[i], k);
			pl_folders_fetch(f->client, f->ids[i], 0, &want[k]);
		}
		if (found(&want[k]) != found(got) ||
		    (found(got) && strcmp(got->name, want[k].name) != 0)) {
			fprintf(stderr, "%s: check failed: folder_%ld_name (id %ld) is %s%s%s, "
				"a serial lookup gives %s%s%s\n", f->opts->program->name, i,
				f->ids[i], found(got) ? "'" : "", found(got) ? got->name : "missing",
				found(got) ? "'" : "", found(&want[k]) ? "'" : "",
				found(&want[k]) ? want[k].name : "an error",
				found(&want[k]) ? "'" : "");
			status = 1;
		}
	}
	pl_id_map_free(&seen);
	free(want);
	return status;
}

int pl_folders_finish(struct pl_folders *f)
{
	const struct pl_options *o = f->opts;
	const char *prog = o->program->name;
	long failed = 0;
	int status, lost_output;

	for (long i = 0; i < f->n; i++)
		failed += !found(f->answer[i]);

	if (o->print) {
		if (print_json(f) != 0)
			pl_die(o, "out of memory for the JSON output");
	} else {
		pl_printf("%s: %ld ids, %ld distinct, %ld failed, checksum 0x%016llx, "
			  "wall %.3f s\n", prog, f->n, count_distinct(f), failed,
			  (unsigned long long)checksum(f), pl_now() - o->start);
	}
	/* Said now, before the failed folders: the names that did not
	 * arrive are the first thing wrong.  The run goes on to its end
	 * all the same, since our server must still be stopped. */
	lost_output = pl_output_flush(o);

	/* The tutorial prints an error and goes on, and the caller never
	 * learns which folders are missing.  Here each one is named, with
	 * the reason, and the exit status says that something failed. */
	for (long i = 0; i < f->n; i++) {
		if (found(f->answer[i]))
			continue;
		fprintf(stderr, "%s: folder_%ld_name: %s\n", prog, i,
			f->answer[i] ? f->answer[i]->error : "no answer (a bug of the model)");
	}
	fflush(stderr);

	/* Before --check and before our server stops: the figures are the
	 * run's own, not the checker's nor the server's. */
	if (o->stats)
		pl_print_stats(stderr, prog, o->start);
	status = failed || lost_output ? 1 : 0;
	if (pl_trace_end() != 0)
		status = 1;
	if (o->check && check(f) != 0)
		status = 1;

	pl_folder_client_free(f->client);
	if (f->server.pid > 0)
		pl_folder_server_stop(&f->server);
	pl_folder_global_cleanup();
	free(f->answer);
	free(f->ids);
	return status;
}

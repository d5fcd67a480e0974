#define _GNU_SOURCE
#include "micro_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *program_name = "micro";

static void usage(const char *name, const char *summary)
{
	printf("usage: %s [--rounds N] [--quick] [--json] [--only KEYS]\n%s\n\n"
	       "  --rounds N  rounds, 1..%d (default 7): each round measures every figure\n"
	       "              once, in the same order; the median and the 90th percentile\n"
	       "              are printed, and with --json every round's sample\n"
	       "  --quick     fewer iterations per round (a smoke run)\n"
	       "  --json      one JSON object per figure on stdout\n"
	       "  --only KEYS only the figures with these keys (as --json prints them),\n"
	       "              separated by commas\n"
	       "  -h, --help  this text\n\n"
	       "Latency figures are measured with both ends on one CPU (same-core) and\n"
	       "on two (cross-core): the first two CPUs this process may use.\n",
	       name, summary, MICRO_MAX_ROUNDS);
}

static void bad(const char *fmt, const char *arg)
{
	char msg[512];

	/* One line whatever the argument holds (found by scripts/fuzz-cli:
	 * "--rounds=$'1\n'" split it): control characters become '?'. */
	snprintf(msg, sizeof(msg), fmt, arg);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(stderr, "%s: error: %s (try --help)\n", program_name, msg);
	exit(2);
}

static int parse_rounds(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	/* Digits only: strtol also takes " 1" and "+1". */
	if (*s < '0' || *s > '9' || errno || end == s || *end || v < 1 || v > MICRO_MAX_ROUNDS)
		bad("--rounds wants a whole number from 1 to 64, not '%s'", s);
	return (int)v;
}

static const char *parse_only(const char *s)
{
	if (!*s)
		bad("--only wants figure keys separated by commas, not '%s'", s);
	return s;
}

struct micro_args micro_parse(int argc, char **argv, const char *name, const char *summary)
{
	struct micro_args a = { .name = name, .rounds = 7 };
	struct micro_place same, cross;

	program_name = name;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(name, summary);
			exit(0);
		} else if (!strcmp(arg, "--quick")) {
			a.quick = true;
		} else if (!strcmp(arg, "--json")) {
			a.json = true;
		} else if (!strncmp(arg, "--rounds=", 9)) {
			a.rounds = parse_rounds(arg + 9);
		} else if (!strncmp(arg, "--only=", 7)) {
			a.only = parse_only(arg + 7);
		} else if (!strcmp(arg, "--rounds") || !strcmp(arg, "--only")) {
			if (i + 1 >= argc)
				bad("%s needs a value", arg);
			if (arg[2] == 'r')
				a.rounds = parse_rounds(argv[++i]);
			else
				a.only = parse_only(argv[++i]);
		} else {
			bad("unknown option '%s'", arg);
		}
	}
	/* The mask to go back to, saved before any figure pins a thread. */
	micro_places(&same, &cross);
	return a;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void micro_summarize(struct micro_stat *stat, const double *samples, int n)
{
	double sorted[MICRO_MAX_ROUNDS];

	memcpy(sorted, samples, (size_t)n * sizeof(*sorted));
	qsort(sorted, (size_t)n, sizeof(*sorted), by_value);
	stat->rounds = n;
	stat->min = sorted[0];
	stat->median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	stat->p90 = sorted[(int)(0.9 * (n - 1) + 0.5)];
}

/* ---- figures ------------------------------------------------------------- */

void micro_fig_init(struct micro_fig *f, const char *key, const char *label,
		    const struct micro_place *pl)
{
	memset(f, 0, sizeof(*f));
	f->where = pl ? pl->where : MICRO_UNPINNED;
	micro_place_cpus(pl, f->cpus, sizeof(f->cpus));
	if (!pl) {
		snprintf(f->key, sizeof(f->key), "%s", key);
		snprintf(f->name, sizeof(f->name), "%s, unpinned", label);
		return;
	}
	snprintf(f->key, sizeof(f->key), "%s.%s", key,
		 pl->where == MICRO_SAME_CORE ? "same_core" : "cross_core");
	f->skipped = pl->skipped;
	if (pl->skipped)
		snprintf(f->name, sizeof(f->name), "%s, %s", label, micro_where_name(pl->where));
	else if (pl->where == MICRO_SAME_CORE)
		snprintf(f->name, sizeof(f->name), "%s, same core (CPU %d)", label, pl->here);
	else
		snprintf(f->name, sizeof(f->name), "%s, cross-core (CPUs %d,%d)", label, pl->here,
			 pl->there);
}

bool micro_fig_wanted(const struct micro_fig *f)
{
	return !f->skipped && !f->off;
}

void micro_fig_add(struct micro_fig *f, double ns)
{
	char msg[320];

	if (f->n == MICRO_MAX_ROUNDS)
		micro_fail("more samples than rounds");
	if (!(ns > 0) || !isfinite(ns)) {
		snprintf(msg, sizeof(msg), "%s: a sample of %g ns", f->key, ns);
		micro_fail(msg);
	}
	f->samples[f->n++] = ns;
}

/* Turns on the figure with key k; false if no figure has it. */
static bool select_key(struct micro_fig *figs, int n, const char *k)
{
	bool found = false;

	for (int i = 0; i < n; i++)
		if (!strcmp(figs[i].key, k)) {
			figs[i].off = false;
			found = true;
		}
	return found;
}

void micro_select(const struct micro_args *args, struct micro_fig *figs, int n)
{
	char msg[160], *keys, *rest, *k;

	if (!args->only)
		return;
	keys = rest = strdup(args->only);
	if (!keys)
		micro_fail("out of memory");
	for (int i = 0; i < n; i++)
		figs[i].off = true;
	/* strsep, not strtok: "a,,b" and a trailing comma are errors. */
	while ((k = strsep(&rest, ",")) != NULL) {
		if (select_key(figs, n, k))
			continue;
		snprintf(msg, sizeof(msg), "--only: no figure has the key '%.100s'", k);
		free(keys);
		bad("%s", msg);
	}
	free(keys);
}

/* s as a JSON string. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_member(const char *name, const char *value)
{
	printf(",\"%s\":", name);
	json_string(value);
}

static void emit_json(const struct micro_args *args, const char *group, const struct micro_fig *f)
{
	struct micro_stat s;

	printf("{\"benchmark\":");
	json_string(args->name);
	json_member("key", f->key);
	json_member("name", f->name);
	json_member("group", group);
	json_member("placement", micro_where_name(f->where));
	json_member("cpus", f->cpus);
	if (f->skipped) {
		json_member("skipped", f->skipped);
		printf("}\n");
		return;
	}
	micro_summarize(&s, f->samples, f->n);
	printf(",\"median_ns\":%.1f,\"p90_ns\":%.1f,\"min_ns\":%.1f,\"rounds\":%d,\"samples_ns\":[",
	       s.median, s.p90, s.min, s.rounds);
	for (int i = 0; i < f->n; i++)
		printf("%s%.1f", i ? "," : "", f->samples[i]);
	printf("]");
	if (f->extra[0])
		printf(",%s", f->extra);
	printf("}\n");
}

double micro_paired_ratio(const struct micro_fig *f, const struct micro_fig *ref)
{
	double r[MICRO_MAX_ROUNDS];
	struct micro_stat s;

	if (!ref || ref->skipped || ref->off || ref->n != f->n || f->n == 0)
		return 0;
	for (int i = 0; i < f->n; i++)
		r[i] = f->samples[i] / ref->samples[i];
	micro_summarize(&s, r, f->n);
	return s.median;
}

static void emit_text(const struct micro_fig *f, int width)
{
	struct micro_stat s;
	char where[32];

	if (f->section)
		printf(" %s\n", f->section);
	if (f->skipped) {
		printf("  %-*s %23s  %s\n", width, f->name, "skipped", f->skipped);
		return;
	}
	micro_summarize(&s, f->samples, f->n);
	snprintf(where, sizeof(where), "%s%s%s", micro_where_name(f->where), f->cpus[0] ? " " : "",
		 f->cpus);
	printf("  %-*s %11.1f %11.1f  ", width, f->name, s.median, s.p90);
	double ratio = micro_paired_ratio(f, f->ref);
	if (ratio > 0)
		printf("%-14s %.3gx %s\n", where, ratio, f->ref->key);
	else
		printf("%s\n", where);
}

void micro_emit(const struct micro_args *args, const char *group, const struct micro_fig *figs,
		int n)
{
	int width = 6;

	for (int i = 0; i < n; i++)
		if (!figs[i].off && (int)strlen(figs[i].name) > width)
			width = (int)strlen(figs[i].name);
	if (!args->json)
		printf("%s: %d round%s, each figure once per round in turn, ns per operation%s\n"
		       "  %-*s %11s %11s  %s\n", args->name, args->rounds,
		       args->rounds == 1 ? "" : "s", args->quick ? ", quick run" : "", width,
		       "figure", "median", "p90", "placement      ratio (median of the rounds')");
	for (int i = 0; i < n; i++) {
		if (figs[i].off)
			continue;
		if (args->json)
			emit_json(args, group, &figs[i]);
		else
			emit_text(&figs[i], width);
	}
	/* A full disk or a closed pipe must not pass for figures written. */
	if (fflush(stdout) != 0 || ferror(stdout))
		micro_fail("cannot write the figures to standard output");
}

void micro_fail(const char *what)
{
	fprintf(stderr, "%s: %s\n", program_name, what);
	exit(1);
}

int micro_cores(void)
{
	/* The start mask, not the caller's: the caller may be pinned. */
	int n = micro_start_cpus();

	if (n > 0)
		return n;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	return online > 0 ? (int)online : 1;
}

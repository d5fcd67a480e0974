/* What every micro-benchmark shares: its command line (--rounds, --quick,
 * --json, --only), its figures, and their output.
 *
 * A program measures in rounds: each round measures every figure once,
 * always in the same order, so sample i of one figure and sample i of
 * another were taken next to each other in time, under the same load.
 * Every round's sample is printed (JSON "samples_ns"), so that a ratio of
 * two figures can be taken round by round, with an interval; the median,
 * p90 and min are printed for reading.  No program judges a figure against
 * a target: the analysis does, from the samples. */
#ifndef PARLAB_MICRO_UTIL_H
#define PARLAB_MICRO_UTIL_H

#include <stdbool.h>

#include "placement.h"

#define MICRO_MAX_ROUNDS 64

struct micro_args {
	const char *name;
	int rounds;             /* rounds, each figure once in each */
	bool quick;             /* fewer iterations: a smoke run */
	bool json;              /* one JSON object per figure instead of text */
	const char *only;       /* --only: comma-separated keys, or NULL */
};

struct micro_stat {
	double median, p90, min;
	int rounds;
};

/* One figure: its stable key (with ".same_core" or ".cross_core" when it
 * is pinned), its label (which says the placement), where it ran, and one
 * sample per round in ns per operation. */
struct micro_fig {
	char key[96];
	char name[224];
	enum micro_where where;
	char cpus[16];
	const char *skipped;            /* why it is not measured, or NULL */
	bool off;                       /* left out by --only */
	char extra[160];                /* more JSON members ("\"tasks\":1000"), or "" */
	const char *section;            /* text: a heading printed before it, or NULL */
	const struct micro_fig *ref;    /* text: its ratio to this figure is shown */
	double samples[MICRO_MAX_ROUNDS];
	int n;
};

/* Parses --rounds N (1..64, default 7), --quick, --json, --only KEYS,
 * --help; exits 2 with one line on bad input.  Also saves the process's
 * CPU mask, before anything is pinned (placement.h). */
struct micro_args micro_parse(int argc, char **argv, const char *name, const char *summary);

void micro_summarize(struct micro_stat *stat, const double *samples, int n);

/* A figure at placement pl (NULL: unpinned): key and label get the
 * placement added; a placement that cannot be had makes it skipped. */
void micro_fig_init(struct micro_fig *f, const char *key, const char *label,
		    const struct micro_place *pl);

/* Whether f is measured this run (not skipped, not left out by --only). */
bool micro_fig_wanted(const struct micro_fig *f);

/* This round's sample of f; exits 1 on one that is not a positive number. */
void micro_fig_add(struct micro_fig *f, double ns);

/* Applies --only to the n figures; exits 2 on a key none of them has.
 * Call once every figure has its key, before measuring. */
void micro_select(const struct micro_args *args, struct micro_fig *figs, int n);

/* Prints the figures that were asked for: JSON lines with the group name
 * shared by all figures measured in the same rounds, or a table. */
void micro_emit(const struct micro_args *args, const char *group, const struct micro_fig *figs,
		int n);

/* The median of the per-round ratios f / ref (0 when either was not
 * measured): how the analysis pairs two figures, without its interval.
 * For reading only; it judges nothing. */
double micro_paired_ratio(const struct micro_fig *f, const struct micro_fig *ref);

void micro_fail(const char *what) __attribute__((noreturn));

/* CPUs this process may run on. */
int micro_cores(void);

#endif

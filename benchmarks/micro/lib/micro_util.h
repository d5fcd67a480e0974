/* What every micro-benchmark shares: its command line (--rounds, --quick,
 * --json), the median and p90 of repeated measurements, and one printed
 * row per figure with its ratio to a floor and whether a target is met. */
#ifndef PARLAB_MICRO_UTIL_H
#define PARLAB_MICRO_UTIL_H

#include <stdbool.h>

#define MICRO_MAX_ROUNDS 64

struct micro_args {
	const char *name;
	int rounds;             /* repetitions of each measurement */
	bool quick;             /* fewer iterations: a smoke run */
	bool json;              /* one JSON object per row instead of text */
};

struct micro_stat {
	double median, p90, min;
	int rounds;
};

/* Parses --rounds N (1..64, default 7), --quick, --json, --help; exits 2
 * with one line on bad input. */
struct micro_args micro_parse(int argc, char **argv, const char *name, const char *summary);

void micro_summarize(struct micro_stat *stat, const double *samples, int n);

/* Runs `expr` (a double, ns per operation) `rounds` times. */
#define MICRO_MEASURE(stat, rounds, expr) do {                          \
		double samples_[MICRO_MAX_ROUNDS];                      \
		for (int r_ = 0; r_ < (rounds); r_++)                   \
			samples_[r_] = (expr);                          \
		micro_summarize((stat), samples_, (rounds));            \
	} while (0)

void micro_header(const struct micro_args *args);

/* One figure; with a floor, its ratio to the floor's median, and with a
 * target_ratio > 0 whether ratio <= target_ratio. */
void micro_row(const struct micro_args *args, const char *label, const struct micro_stat *stat,
	       const struct micro_stat *floor, double target_ratio, const char *target_text);

/* One figure against an absolute target in ns per operation. */
void micro_row_target(const struct micro_args *args, const char *label,
		      const struct micro_stat *stat, double target_ns, const char *target_text);

/* A figure compared with another figure of the same run (a peer or a
 * floor): its stable key, a short name for the text output, its figures. */
struct micro_ref {
	const char *key;
	const char *label;
	const struct micro_stat *stat;
};

/* micro_row with a stable "key" in the JSON object, so that other tools
 * (scripts/targets) find a figure by key rather than by its label.  With
 * ref, the ratio of the medians goes into "ratio_to_floor" and the
 * reference's key into "ratio_to"; with target_ratio > 0, whether the
 * ratio is at most target_ratio.  extra_json, when not NULL, is appended
 * inside the object as it is ("\"tasks\":1000000"). */
void micro_row_keyed(const struct micro_args *args, const char *key, const char *label,
		     const struct micro_stat *stat, const struct micro_ref *ref,
		     double target_ratio, const char *target_text, const char *extra_json);

void micro_fail(const char *what) __attribute__((noreturn));

/* CPUs this process may run on. */
int micro_cores(void);

#endif

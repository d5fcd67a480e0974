/* Checks every workload program must pass, whatever its model: the same
 * output as serial, the seed's output, --stats counts, bad options, --check
 * and --help.  Used by the tests of each model. */
#ifndef PARLAB_MODEL_CHECKS_H
#define PARLAB_MODEL_CHECKS_H

#include "support.h"

/* Runs build/<prog> with args then extra (each NULL-terminated, or NULL);
 * asserts that it started and finished in time. */
void run_with(struct run_result *r, double timeout, const char *prog,
	      const char *const *args, const char *const *extra);

/* The lines of s, sorted (completion order thrown away); malloc'ed. */
char *sorted_lines(const char *s);

/* prog against build/serial/<workload> for -j 1, 2, 3, 8 and -n 0, 1, 7,
 * 10000, with `extra` options added. */
void assert_matches_serial(const char *prog, const char *const *extra);

/* With no options (plus `extra`): the seed's list. */
void assert_seed_squares(const char *prog, const char *const *extra);
/* With --scale 0.2 (plus `extra`): Task 1, 2, 3 completed, in that order. */
void assert_seed_sleep(const char *prog, const char *const *extra);

/* The number after "key": in the one JSON line a --stats run printed on
 * stderr. */
long stats_field(const struct run_result *r, const char *key);

/* --stats with -j 1 and -j 3 gives key == workers + per_worker_extra. */
void assert_stats(const char *prog, const char *const *extra, const char *key,
		  long per_worker_extra);

/* Each of `bad` (argument lists each ended by NULL, the whole by two
 * NULLs) exits 2 with one line on stderr and nothing on stdout. */
void assert_bad_options(const char *prog, const char *const *bad);

/* --check passes with one summary line; --help exits 0 and mentions
 * model_option when given. */
void assert_check_and_help(const char *prog, const char *const *extra,
			   const char *model_option);

#endif

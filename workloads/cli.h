/* The one command-line parser every workload program uses.
 *
 * Every model's program (serial, executors, raw_threads, raw_processes,
 * openmp) takes the same options, so a harness can run them all with one
 * command line.  A model adds its own knobs (--executor, --partition,
 * --schedule, --chunk) through the extra option tables below, and so does
 * a workload whose programs all share knobs (folders: --api, --ids,
 * --rate); nothing else is parsed anywhere else.
 *
 * Bad input never gets past pl_parse_args(): it prints one line,
 * "PROG: error: WHAT", and exits with status 2.  --help prints the usage
 * and exits 0.
 */
#ifndef PARLAB_CLI_H
#define PARLAB_CLI_H

#include <stdbool.h>

enum pl_workload { PL_SLEEP, PL_SQUARES, PL_FOLDERS };

/* A model-specific option whose value is one word out of a fixed list,
 * e.g. --schedule static|dynamic|guided.  `value` holds the default on
 * entry and the parsed word on return. */
struct pl_choice_option {
	const char *name;               /* without the leading "--" */
	const char *const *choices;     /* NULL-terminated */
	const char *help;
	const char *value;
};

/* A model-specific integer option, e.g. --chunk N.  Values below `min`
 * are refused, and above `max` unless `max` is 0 (no upper bound). */
struct pl_int_option {
	const char *name;
	const char *metavar;
	const char *help;
	long min;
	long value;
	long max;
};

/* An option whose value is a word of the user's, e.g. --api URL or
 * --ids FILE.  `value` holds the default (NULL: none) on entry and the
 * argument on return; an empty value is refused.  What the word must
 * look like is for the program to check (pl_usage_error). */
struct pl_string_option {
	const char *name;
	const char *metavar;
	const char *help;
	const char *value;
};

/* A decimal option, e.g. --rate R.  It must be a finite number in
 * [min, max], or at least `min` when `max` is 0. */
struct pl_double_option {
	const char *name;
	const char *metavar;
	const char *help;
	double min;
	double value;
	double max;
};

/* What a program is: filled in by each main() as a static constant. */
struct pl_program {
	const char *name;               /* "openmp/squares", shown in messages */
	const char *summary;            /* one line for --help */
	enum pl_workload workload;
	long default_workers;           /* the seed's worker count */
	struct pl_choice_option *choices;  /* NULL or terminated by name == NULL */
	struct pl_int_option *ints;        /* NULL or terminated by name == NULL */
	struct pl_string_option *strings;  /* NULL or terminated by name == NULL */
	struct pl_double_option *doubles;  /* NULL or terminated by name == NULL */
};

struct pl_options {
	long workers;           /* -j, >= 1 */
	long tasks;             /* -n, >= 0 */
	long work_us;           /* --work-us, >= 0 */
	double scale;           /* --scale, >= 0 */
	bool print;             /* print every result in the seed's format */
	bool check;             /* recompute serially, exit 1 on a difference */
	bool stats;             /* one JSON line on stderr at the end */
	bool tasks_given;       /* -n was on the command line */
	const char *trace;      /* --trace FILE, or NULL */
	double start;           /* pl_now() when parsing began: wall clock origin */
	const struct pl_program *program;
};

/* Upper bound for -n: large enough for any benchmark, small enough that
 * an array of results always fits in memory and i * i never overflows. */
#define PL_MAX_TASKS 100000000L
/* Upper bound for -j: more workers than this is a typo, not a benchmark. */
#define PL_MAX_WORKERS 4096L
/* Upper bound for --work-us: one task of a minute. */
#define PL_MAX_WORK_US 60000000L
/* Upper bound for --scale: a 3-second task then sleeps about 35 days, and
 * seconds * scale always fits a time_t. */
#define PL_MAX_SCALE 1e6

/* Parses argv into opts; exits 0 after --help, 2 after bad input.
 * The seed's run (no -n) prints every result like the seed does. */
void pl_parse_args(int argc, char **argv, const struct pl_program *program,
		   struct pl_options *opts);

/* Prints "PROG: error: ..." on stderr and exits 2.  For model-specific
 * checks that the tables above cannot express. */
void pl_usage_error(const struct pl_options *opts, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* Prints "PROG: ..." on stderr and exits 1: a run-time failure. */
void pl_die(const struct pl_options *opts, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* Standard output is the run's result: output that did not arrive (a
 * full disk, a pipe whose reader is gone while SIGPIPE is ignored) is a
 * failed run, never a success.  The workloads print through pl_printf()
 * and pl_puts(), which remember why the first write failed (errno is
 * lost by the time anyone asks otherwise) and print nothing more after
 * it, and check with pl_output_flush() when they are done. */

/* printf and puts on stdout; negative once a write has failed. */
int pl_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int pl_puts(const char *s);

/* Flushes stdout.  Returns 0 when all that was printed arrived; else
 * prints "PROG: error: cannot write output: REASON" on stderr (once,
 * however often it is called) and returns 1, the status of a run whose
 * work failed. */
int pl_output_flush(const struct pl_options *opts);

/* The parsed word of a choice option / value of an int, string (NULL
 * when not given and no default) or double option by name. */
const char *pl_choice(const struct pl_options *opts, const char *name);
long pl_int(const struct pl_options *opts, const char *name);
const char *pl_string(const struct pl_options *opts, const char *name);
double pl_double(const struct pl_options *opts, const char *name);

#endif

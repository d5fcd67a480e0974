/* The one command-line parser every workload program uses (see cli.h).
 *
 * Hand-written rather than getopt_long: the models' extra options come from
 * tables at run time, every bad value must produce one precise line, and
 * the rules stay the same on every libc.  Accepted spellings: "-j 4", "-j4",
 * "--workers 4", "--workers=4".  Options are taken in order, the last one
 * wins, and "--" ends them (nothing may follow: there are no operands).
 * Numbers are plain decimal: no blanks, no hex, no inf or nan.  Every
 * value, however hostile, ends in one line and status 2 or is used
 * (scripts/fuzz-cli checks it).
 */
#define _GNU_SOURCE
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spin.h"
#include "stats.h"
#include "trace.h"

enum builtin_id {
	OPT_WORKERS, OPT_TASKS, OPT_WORK_US, OPT_SCALE,
	OPT_PRINT, OPT_CHECK, OPT_STATS, OPT_TRACE, OPT_HELP,
};

/* The options every program has.  metavar == NULL means a flag. */
static const struct builtin {
	enum builtin_id id;
	char short_name;
	const char *name;
	const char *metavar;
	const char *help;
} builtins[] = {
	{ OPT_WORKERS, 'j', "workers", "N", "worker count" },
	{ OPT_TASKS, 'n', "tasks", "N", "number of tasks" },
	{ OPT_WORK_US, 0, "work-us", "U",
	  "CPU work per task, in microseconds of calibrated spin" },
	{ OPT_SCALE, 0, "scale", "F", "multiplies sleep durations and simulated latencies" },
	{ OPT_PRINT, 0, "print", NULL, "print every result in the seed's format" },
	{ OPT_CHECK, 0, "check", NULL, "recompute serially; exit 1 on any difference" },
	{ OPT_STATS, 0, "stats", NULL, "print one JSON line of resource usage on stderr" },
	{ OPT_TRACE, 0, "trace", "FILE",
	  "write which worker ran which task, and when, to FILE (Chrome trace JSON; "
	  "scripts/timeline draws it)" },
	{ OPT_HELP, 'h', "help", NULL, "show this help and exit" },
};

#define N_BUILTINS (sizeof(builtins) / sizeof(builtins[0]))

/* The seed's task counts: sleep(3, 1, 2), range(10), ten folder ids. */
static long default_tasks(enum pl_workload w)
{
	switch (w) {
	case PL_SLEEP:
		return 3;
	case PL_SQUARES:
	case PL_FOLDERS:
		return 10;
	}
	return 10;
}

static const char *prog_name(const struct pl_options *opts)
{
	if (opts && opts->program && opts->program->name)
		return opts->program->name;
	return "parlab";
}

/* Formats a message and turns control characters into '?', so that a value
 * like $'a\nb' cannot split the promised single line. */
static void vformat_line(char *buf, size_t size, const char *fmt, va_list ap)
{
	vsnprintf(buf, size, fmt, ap);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

void pl_usage_error(const struct pl_options *opts, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vformat_line(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "%s: error: %s (try --help)\n", prog_name(opts), msg);
	exit(2);
}

void pl_die(const struct pl_options *opts, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vformat_line(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "%s: %s\n", prog_name(opts), msg);
	exit(1);
}

/* --- standard output -------------------------------------------------- */

/* Why the first write to stdout failed (0: none has), and whether the
 * user has been told.  No lock: only one thread prints at a time (for
 * sleep, the one collecting, sleep_work.h), and the one that checks at
 * the end has joined the others. */
static int output_errno;
static bool output_error_told;

/* Called right after a failed write, while errno is still its reason. */
static void note_output_error(void)
{
	if (!output_errno)
		output_errno = errno ? errno : EIO;
}

int pl_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	/* Nobody will read it: spare the formatting of the rest. */
	if (output_errno)
		return -1;
	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	if (n < 0)
		note_output_error();
	return n;
}

int pl_puts(const char *s)
{
	if (output_errno)
		return -1;
	if (puts(s) == EOF) {
		note_output_error();
		return -1;
	}
	return 0;
}

int pl_output_flush(const struct pl_options *opts)
{
	/* stdio keeps no errno of its own: a write that failed earlier and
	 * was not made through pl_printf() leaves only ferror() behind. */
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout))
		note_output_error();
	if (!output_errno)
		return 0;
	if (!output_error_told) {
		output_error_told = true;
		fprintf(stderr, "%s: error: cannot write output: %s\n", prog_name(opts),
			strerror(output_errno));
	}
	return 1;
}

/* --- values ----------------------------------------------------------- */

/* A whole number in [min, max].  `opt` is the option as the user spelled
 * it ("-j", "--workers"), so the message points at what they typed. */
static long parse_long(const struct pl_options *opts, const char *opt,
		       const char *s, long min, long max)
{
	char *end;
	long v;

	if (*s == '\0')
		pl_usage_error(opts, "%s needs a value", opt);
	if (isspace((unsigned char)*s))
		pl_usage_error(opts, "invalid value '%s' for %s: not a whole number", s, opt);
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0')
		pl_usage_error(opts, "invalid value '%s' for %s: not a whole number", s, opt);
	if (errno == ERANGE && v == LONG_MIN && min >= 0)
		pl_usage_error(opts, "invalid value '%s' for %s: must not be negative", s, opt);
	if (errno == ERANGE)
		pl_usage_error(opts, "invalid value '%s' for %s: out of range (%ld to %ld)",
			       s, opt, min, max);
	if (v < 0 && min >= 0)
		pl_usage_error(opts, "invalid value '%s' for %s: must not be negative", s, opt);
	if (v < min)
		pl_usage_error(opts, "invalid value '%s' for %s: must be at least %ld", s, opt, min);
	if (v > max)
		pl_usage_error(opts, "invalid value '%s' for %s: too large (at most %ld)", s, opt, max);
	return v;
}

/* A bound as the user would write it: "1000000", "0.5". */
static const char *show_number(char *buf, size_t size, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%g", v);
	return buf;
}

/* A finite decimal number in [min, max]; max == INFINITY: no upper bound. */
static double parse_double(const struct pl_options *opts, const char *opt,
			   const char *s, double min, double max)
{
	char lo[32], hi[32];
	char *end;
	double v;

	show_number(lo, sizeof(lo), min);
	show_number(hi, sizeof(hi), max);
	if (*s == '\0')
		pl_usage_error(opts, "%s needs a value", opt);
	/* Decimal only, like the whole numbers: strtod also reads blanks,
	 * hex floats ("0x1p3" is 8) and words ("inf", "nan"). */
	if (s[strspn(s, "0123456789+-.eE")] != '\0')
		pl_usage_error(opts, "invalid value '%s' for %s: not a number", s, opt);
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || isnan(v))
		pl_usage_error(opts, "invalid value '%s' for %s: not a number", s, opt);
	if (isinf(v) || (errno == ERANGE && fabs(v) > 1)) {
		if (isinf(max))
			pl_usage_error(opts, "invalid value '%s' for %s: out of range", s, opt);
		pl_usage_error(opts, "invalid value '%s' for %s: out of range (%s to %s)",
			       s, opt, lo, hi);
	}
	if (v < 0 && min >= 0)
		pl_usage_error(opts, "invalid value '%s' for %s: must not be negative", s, opt);
	if (v < min)
		pl_usage_error(opts, "invalid value '%s' for %s: must be at least %s", s, opt, lo);
	if (v > max)
		pl_usage_error(opts, "invalid value '%s' for %s: too large (at most %s)",
			       s, opt, hi);
	return v;
}

/* --scale: a finite decimal number in [0, PL_MAX_SCALE]. */
static double parse_scale(const struct pl_options *opts, const char *opt, const char *s)
{
	return parse_double(opts, opt, s, 0, PL_MAX_SCALE);
}

/* "a, b or c" into buf. */
static void join_choices(char *buf, size_t size, const char *const *choices)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; choices[i]; i++) {
		const char *sep = i == 0 ? "" : choices[i + 1] ? ", " : " or ";

		if (len < size)
			len += snprintf(buf + len, size - len, "%s%s", sep, choices[i]);
	}
}

static void set_choice(const struct pl_options *opts, struct pl_choice_option *c,
		       const char *opt, const char *s)
{
	char allowed[256];

	for (int i = 0; c->choices[i]; i++) {
		if (strcmp(s, c->choices[i]) == 0) {
			c->value = c->choices[i];
			return;
		}
	}
	join_choices(allowed, sizeof(allowed), c->choices);
	if (*s == '\0')
		pl_usage_error(opts, "%s needs a value: %s", opt, allowed);
	pl_usage_error(opts, "invalid value '%s' for %s: choose %s", s, opt, allowed);
}

/* --- help ------------------------------------------------------------- */

#define HELP_COLUMN 24
#define HELP_WIDTH 79

/* "  left    text", the text wrapped at word boundaries into its column. */
static void help_line(const char *left, const char *text)
{
	int room = HELP_WIDTH - HELP_COLUMN;
	int indent;

	if ((int)strlen(left) + 2 >= HELP_COLUMN)
		printf("  %s\n%*s", left, HELP_COLUMN, "");
	else
		printf("  %-*s", HELP_COLUMN - 2, left);
	while (*text) {
		int len = (int)strlen(text);

		if (len > room) {
			len = room;
			while (len > 0 && text[len] != ' ')
				len--;
			if (len == 0)   /* one long word: let it overflow */
				len = (int)strcspn(text, " ");
		}
		printf("%.*s\n", len, text);
		text += len;
		while (*text == ' ')
			text++;
		indent = *text ? HELP_COLUMN : 0;
		printf("%*s", indent, "");
	}
}

static void builtin_help(const struct builtin *b, const struct pl_program *p)
{
	char left[64], text[256];

	if (b->short_name)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", b->short_name, b->name,
			 b->metavar ? " " : "", b->metavar ? b->metavar : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", b->name,
			 b->metavar ? " " : "", b->metavar ? b->metavar : "");

	switch (b->id) {
	case OPT_WORKERS:
		snprintf(text, sizeof(text), "%s, 1 to %ld (default: %ld)",
			 b->help, PL_MAX_WORKERS, p->default_workers);
		break;
	case OPT_TASKS:
		snprintf(text, sizeof(text), "%s, 0 to %ld (default: %ld)",
			 b->help, PL_MAX_TASKS, default_tasks(p->workload));
		break;
	case OPT_WORK_US:
		snprintf(text, sizeof(text), "%s, 0 to %ld (default: 0)",
			 b->help, PL_MAX_WORK_US);
		break;
	case OPT_SCALE:
		snprintf(text, sizeof(text), "%s, 0 to %.0f (default: 1)",
			 b->help, PL_MAX_SCALE);
		break;
	case OPT_PRINT:
		snprintf(text, sizeof(text), "%s (default: on without -n, so "
			 "the plain run reproduces the seed; else one summary line)",
			 b->help);
		break;
	default:
		snprintf(text, sizeof(text), "%s", b->help);
		break;
	}
	help_line(left, text);
}

static void print_help(const struct pl_program *p)
{
	char left[64], text[512], allowed[256];

	printf("usage: %s [OPTION]...\n", p->name);
	if (p->summary)
		printf("%s\n", p->summary);
	printf("\nOptions (\"--opt VALUE\" and \"--opt=VALUE\", \"-j 4\" and "
	       "\"-j4\" all work):\n");
	for (size_t i = 0; i < N_BUILTINS; i++)
		builtin_help(&builtins[i], p);

	if ((p->choices && p->choices[0].name) || (p->ints && p->ints[0].name) ||
	    (p->strings && p->strings[0].name) || (p->doubles && p->doubles[0].name))
		printf("\nOptions of this model:\n");
	for (struct pl_choice_option *c = p->choices; c && c->name; c++) {
		join_choices(allowed, sizeof(allowed), c->choices);
		snprintf(left, sizeof(left), "    --%s WORD", c->name);
		snprintf(text, sizeof(text), "%s: %s (default: %s)",
			 c->help ? c->help : "one of", allowed,
			 c->value ? c->value : "none");
		help_line(left, text);
	}
	for (struct pl_string_option *o = p->strings; o && o->name; o++) {
		snprintf(left, sizeof(left), "    --%s %s", o->name,
			 o->metavar ? o->metavar : "WORD");
		if (o->value)
			snprintf(text, sizeof(text), "%s (default: %s)",
				 o->help ? o->help : "a word", o->value);
		else
			snprintf(text, sizeof(text), "%s", o->help ? o->help : "a word");
		help_line(left, text);
	}
	for (struct pl_double_option *o = p->doubles; o && o->name; o++) {
		char lo[32], hi[32], def[32];

		snprintf(left, sizeof(left), "    --%s %s", o->name,
			 o->metavar ? o->metavar : "X");
		show_number(lo, sizeof(lo), o->min);
		show_number(def, sizeof(def), o->value);
		if (o->max > 0)
			snprintf(text, sizeof(text), "%s, %s to %s (default: %s)",
				 o->help ? o->help : "a number", lo,
				 show_number(hi, sizeof(hi), o->max), def);
		else if (o->min != 0)
			snprintf(text, sizeof(text), "%s, at least %s (default: %s)",
				 o->help ? o->help : "a number", lo, def);
		else    /* "must not be negative" goes without saying */
			snprintf(text, sizeof(text), "%s (default: %s)",
				 o->help ? o->help : "a number", def);
		help_line(left, text);
	}
	for (struct pl_int_option *o = p->ints; o && o->name; o++) {
		snprintf(left, sizeof(left), "    --%s %s", o->name,
			 o->metavar ? o->metavar : "N");
		if (o->max)
			snprintf(text, sizeof(text), "%s, %ld to %ld (default: %ld)",
				 o->help ? o->help : "a whole number", o->min, o->max,
				 o->value);
		else
			snprintf(text, sizeof(text), "%s, at least %ld (default: %ld)",
				 o->help ? o->help : "a whole number", o->min, o->value);
		help_line(left, text);
	}

	printf("\nEnvironment:\n");
	help_line("PARLAB_SPIN_PER_US", "spin iterations per microsecond for --work-us "
		  "(from build/workloads/spin-calibrate; unset: calibrate, about 20 ms)");
	help_line("PARLAB_TRACE", "FILE: as --trace FILE, when --trace is not given");
	printf("\nExit status: 0 success, 1 run-time failure, --check difference or "
	       "output that could not be written, 2 bad usage.\n");
}

/* Help that could not be written is no help: status 1, not 0. */
static void __attribute__((noreturn)) help_and_exit(const struct pl_options *opts)
{
	print_help(opts->program);
	exit(pl_output_flush(opts));
}

/* --- options ---------------------------------------------------------- */

static void apply_builtin(struct pl_options *opts, const struct builtin *b,
			  const char *opt, const char *value)
{
	switch (b->id) {
	case OPT_WORKERS:
		opts->workers = parse_long(opts, opt, value, 1, PL_MAX_WORKERS);
		break;
	case OPT_TASKS:
		opts->tasks = parse_long(opts, opt, value, 0, PL_MAX_TASKS);
		opts->tasks_given = true;
		break;
	case OPT_WORK_US:
		opts->work_us = parse_long(opts, opt, value, 0, PL_MAX_WORK_US);
		break;
	case OPT_SCALE:
		opts->scale = parse_scale(opts, opt, value);
		break;
	case OPT_PRINT:
		opts->print = true;
		break;
	case OPT_CHECK:
		opts->check = true;
		break;
	case OPT_STATS:
		opts->stats = true;
		break;
	case OPT_TRACE:
		if (!*value)
			pl_usage_error(opts, "%s needs a file name", opt);
		opts->trace = value;
		break;
	case OPT_HELP:
		help_and_exit(opts);
	}
}

/* The value of an option that takes one: the text after '=' or after the
 * short letter, else the next argument (even if it starts with '-', so
 * that "-n -1" says "negative" rather than "missing"). */
static const char *take_value(const struct pl_options *opts, const char *opt,
			      const char *attached, int argc, char **argv, int *i)
{
	if (attached)
		return attached;
	if (*i + 1 >= argc)
		pl_usage_error(opts, "%s needs a value", opt);
	return argv[++*i];
}

static const struct builtin *find_builtin(const char *name, size_t len, char short_name)
{
	for (size_t i = 0; i < N_BUILTINS; i++) {
		const struct builtin *b = &builtins[i];

		if (short_name ? b->short_name == short_name :
		    strlen(b->name) == len && strncmp(b->name, name, len) == 0)
			return b;
	}
	return NULL;
}

static void parse_long_option(struct pl_options *opts, int argc, char **argv, int *i)
{
	const struct pl_program *p = opts->program;
	const char *name = argv[*i] + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const char *attached = eq ? eq + 1 : NULL;
	const struct builtin *b = find_builtin(name, len, 0);
	char opt[64];

	snprintf(opt, sizeof(opt), "--%.*s", (int)(len < 50 ? len : 50), name);
	if (b) {
		if (!b->metavar && attached)
			pl_usage_error(opts, "%s takes no value", opt);
		apply_builtin(opts, b, opt, b->metavar ?
			      take_value(opts, opt, attached, argc, argv, i) : NULL);
		return;
	}
	for (struct pl_choice_option *c = p->choices; c && c->name; c++) {
		if (strlen(c->name) == len && strncmp(c->name, name, len) == 0) {
			set_choice(opts, c, opt, take_value(opts, opt, attached, argc, argv, i));
			return;
		}
	}
	for (struct pl_int_option *o = p->ints; o && o->name; o++) {
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) {
			o->value = parse_long(opts, opt,
					      take_value(opts, opt, attached, argc, argv, i),
					      o->min, o->max ? o->max : LONG_MAX);
			return;
		}
	}
	for (struct pl_string_option *o = p->strings; o && o->name; o++) {
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) {
			const char *v = take_value(opts, opt, attached, argc, argv, i);

			if (*v == '\0')
				pl_usage_error(opts, "%s needs a value", opt);
			o->value = v;
			return;
		}
	}
	for (struct pl_double_option *o = p->doubles; o && o->name; o++) {
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) {
			o->value = parse_double(opts, opt,
						take_value(opts, opt, attached, argc, argv, i),
						o->min, o->max > 0 ? o->max : INFINITY);
			return;
		}
	}
	pl_usage_error(opts, "unknown option '%s'", opt);
}

static void parse_short_option(struct pl_options *opts, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	const struct builtin *b = find_builtin(NULL, 0, arg[1]);
	char opt[3] = { '-', arg[1], '\0' };

	if (!b)
		pl_usage_error(opts, "unknown option '%s'", arg);
	if (!b->metavar) {
		if (arg[2] != '\0')
			pl_usage_error(opts, "unknown option '%s'", arg);
		apply_builtin(opts, b, opt, NULL);
		return;
	}
	apply_builtin(opts, b, opt,
		      take_value(opts, opt, arg[2] ? arg + 2 : NULL, argc, argv, i));
}

void pl_parse_args(int argc, char **argv, const struct pl_program *program,
		   struct pl_options *opts)
{
	*opts = (struct pl_options) {
		.workers = program->default_workers,
		.tasks = default_tasks(program->workload),
		.work_us = 0,
		.scale = 1.0,
		.start = pl_now(),
		.program = program,
	};

	/* --help first, wherever it stands: the reader asked how to use the
	 * program, not for a complaint about another option, and the help then
	 * shows the true defaults (parsing stores values into the tables). */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			help_and_exit(opts);
	}

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--") == 0) {
			if (i + 1 < argc)
				pl_usage_error(opts, "unexpected argument '%s'", argv[i + 1]);
			break;
		}
		if (arg[0] == '-' && arg[1] == '-')
			parse_long_option(opts, argc, argv, &i);
		else if (arg[0] == '-' && arg[1] != '\0')
			parse_short_option(opts, argc, argv, &i);
		else
			pl_usage_error(opts, "unexpected argument '%s'", arg);
	}

	/* The seed's run prints like the seed; a sized run prints a summary. */
	if (!opts->tasks_given)
		opts->print = true;

	/* Calibrate now, before any thread or child exists: a forked child
	 * then inherits the rate, and no worker stalls on the first task. */
	if (opts->work_us > 0)
		pl_spin_per_us();

	/* Also before any worker exists: they all record into its mapping. */
	const char *trace = opts->trace;
	if (!trace && getenv("PARLAB_TRACE") && *getenv("PARLAB_TRACE"))
		trace = getenv("PARLAB_TRACE");
	pl_trace_begin(trace, opts, argc, argv);
}

/* --- lookups ---------------------------------------------------------- */

const char *pl_choice(const struct pl_options *opts, const char *name)
{
	for (struct pl_choice_option *c = opts->program->choices; c && c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c->value;
	pl_die(opts, "internal error: no option --%s", name);
}

long pl_int(const struct pl_options *opts, const char *name)
{
	for (struct pl_int_option *o = opts->program->ints; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o->value;
	pl_die(opts, "internal error: no option --%s", name);
}

const char *pl_string(const struct pl_options *opts, const char *name)
{
	for (struct pl_string_option *o = opts->program->strings; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o->value;
	pl_die(opts, "internal error: no option --%s", name);
}

double pl_double(const struct pl_options *opts, const char *name)
{
	for (struct pl_double_option *o = opts->program->doubles; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o->value;
	pl_die(opts, "internal error: no option --%s", name);
}

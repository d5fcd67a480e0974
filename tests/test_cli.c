/* The shared command-line parser: every bad value is refused with exit
 * status 2 and exactly one line on stderr, --help exits 0, and good values
 * arrive in struct pl_options whatever the spelling.
 *
 * Suite "cli" runs the built serial programs; suite "cli_parse" calls
 * pl_parse_args() directly with a program that has model options, which no
 * serial program has.  Calls that exit run in a forked child.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "support.h"

#define RUN_TIMEOUT 20.0

/* "PROG: error: WHAT (try --help)\n" and nothing else, nothing on stdout. */
static void expect_one_error_line(const char *prog, const char *what,
				  int status, const char *out, const char *err)
{
	char prefix[128];
	const char *suffix = " (try --help)\n";
	size_t len = strlen(err);

	snprintf(prefix, sizeof(prefix), "%s: error: ", prog);
	cr_expect_eq(status, 2, "%s: exit status %d, want 2", what, status);
	cr_expect_str_empty(out, "%s: printed on stdout: %s", what, out);
	cr_expect(strchr(err, '\n') == err + len - 1 && len > 0,
		  "%s: want exactly one stderr line, got: %s", what, err);
	cr_expect(strncmp(err, prefix, strlen(prefix)) == 0,
		  "%s: stderr does not start with '%s': %s", what, prefix, err);
	cr_expect(len >= strlen(suffix) &&
		  strcmp(err + len - strlen(suffix), suffix) == 0,
		  "%s: stderr does not end with '(try --help)': %s", what, err);
}

/* Bad command lines, one per row, NULL-terminated (at most 4 words). */
static const char *const bad_args[][5] = {
	{ "--bogus" },
	{ "-x" },
	{ "-j" },                       /* missing value */
	{ "--workers" },
	{ "-n" },
	{ "--tasks" },
	{ "--work-us" },
	{ "--scale" },
	{ "--scale=" },                 /* empty value */
	{ "-n", "" },
	{ "-j", "abc" },                /* not a number */
	{ "-jabc" },
	{ "-j", "4x" },                 /* trailing garbage */
	{ "--workers=4x" },
	{ "-n", "1.5" },
	{ "-n", " 4" },
	{ "-j=4" },
	{ "-j", "-1" },                 /* negative */
	{ "-n", "-1" },
	{ "--tasks=-3" },
	{ "--work-us", "-5" },
	{ "-j", "0" },                  /* zero workers */
	{ "--workers=0" },
	{ "-j", "99999999999999999999" },      /* strtol overflow */
	{ "-n", "-99999999999999999999" },
	{ "-j", "4097" },               /* above PL_MAX_* */
	{ "-n", "100000001" },
	{ "--work-us", "60000001" },
	{ "--scale", "nan" },           /* bad scale */
	{ "--scale", "inf" },
	{ "--scale", "-inf" },
	{ "--scale", "-1" },
	{ "--scale", "1e999" },
	{ "--scale", "2e6" },
	{ "--scale", "0.5s" },
	{ "--scale", "x" },
	{ "--trace" },                  /* --trace: missing, empty, unwritable */
	{ "--trace=" },
	{ "--trace", "/nonexistent-dir/t.json" },
	{ "stray" },                    /* positional arguments */
	{ "-n", "3", "extra" },
	{ "--", "x" },
	{ "-" },
	{ "--print=yes" },              /* flags take no value */
	{ "--help=1" },
	{ "-hx" },
	{ "--executor", "thread" },     /* not an option of a serial program */
	{ "-j", "bad\nvalue" },         /* still one line */
};

static void run_bad_args(const char *rel, const char *prog)
{
	for (size_t i = 0; i < sizeof(bad_args) / sizeof(bad_args[0]); i++) {
		char *argv[8] = { (char *)built(rel) };
		char what[160] = "";
		struct run_result r;
		int argc = 1;

		for (int k = 0; bad_args[i][k]; k++) {
			argv[argc++] = (char *)bad_args[i][k];
			strncat(what, bad_args[i][k], sizeof(what) - strlen(what) - 2);
			strcat(what, " ");
		}
		cr_assert_eq(run_argv(&r, RUN_TIMEOUT, argv), 0, "cannot run %s", argv[0]);
		cr_expect(!r.timed_out, "%s: timed out", what);
		expect_one_error_line(prog, what, r.status, r.out, r.err);
		run_result_free(&r);
	}
}

Test(cli, squares_refuses_bad_input, .timeout = 120)
{
	run_bad_args("serial/squares", "serial/squares");
}

Test(cli, sleep_refuses_bad_input, .timeout = 120)
{
	run_bad_args("serial/sleep", "serial/sleep");
}

Test(cli, help_lists_every_option, .timeout = 30)
{
	static const char *const wanted[] = {
		"usage: serial/squares", "-j, --workers N", "-n, --tasks N",
		"--work-us U", "--scale F", "--print", "--check", "--stats",
		"--trace FILE", "-h, --help", "(default: 1)", "(default: 10)",
		"PARLAB_SPIN_PER_US", "PARLAB_TRACE",
	};
	struct run_result r;

	cr_assert_eq(run_program(&r, RUN_TIMEOUT, built("serial/squares"), "--help", NULL), 0);
	cr_expect_eq(r.status, 0);
	cr_expect_str_empty(r.err);
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		cr_expect(strstr(r.out, wanted[i]), "--help lacks '%s':\n%s", wanted[i], r.out);
	run_result_free(&r);

	cr_assert_eq(run_program(&r, RUN_TIMEOUT, built("serial/sleep"), "-h", NULL), 0);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "(default: 3)"), "sleep's default task count:\n%s", r.out);
	run_result_free(&r);
}

/* Asking for help gets help, whatever else is on the line. */
Test(cli, help_wins_over_other_options, .timeout = 30)
{
	struct run_result r;

	cr_assert_eq(run_program(&r, RUN_TIMEOUT, built("serial/squares"),
				 "-j", "0", "--bogus", "--help", NULL), 0);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "usage:"));
	cr_expect_str_empty(r.err);
	run_result_free(&r);
}

Test(cli, all_spellings_accepted, .timeout = 30)
{
	static const char *const lines[][7] = {
		{ "-j", "4", "-n", "3" },
		{ "-j4", "-n3" },
		{ "--workers", "4", "--tasks", "3" },
		{ "--workers=4", "--tasks=3", "--work-us=0", "--scale=0.5" },
		{ "-n", "3", "--scale", "1e-3", "--work-us", "1" },
		{ "-n", "+3", "--" },
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char *argv[10] = { (char *)built("serial/squares") };
		struct run_result r;

		for (int k = 0; lines[i][k]; k++)
			argv[k + 1] = (char *)lines[i][k];
		cr_assert_eq(run_argv(&r, RUN_TIMEOUT, argv), 0);
		cr_expect_eq(r.status, 0, "row %zu: status %d: %s", i, r.status, r.err);
		cr_expect(strncmp(r.out, "serial/squares: 3 results,", 26) == 0,
			  "row %zu: %s", i, r.out);
		run_result_free(&r);
	}
}

/* --- pl_parse_args() in this process ----------------------------------- */

static const char *const schedules[] = { "static", "dynamic", "guided", NULL };

/* A fresh program per call: parsing writes the values into its tables. */
static struct pl_program *model_program(enum pl_workload workload)
{
	static struct pl_choice_option choices[2];
	static struct pl_int_option ints[2];
	static struct pl_program program;

	choices[0] = (struct pl_choice_option) {
		.name = "schedule", .choices = schedules,
		.help = "how iterations are handed out", .value = "static",
	};
	choices[1] = (struct pl_choice_option) { 0 };
	ints[0] = (struct pl_int_option) {
		.name = "chunk", .metavar = "N", .help = "iterations per hand-out",
		.min = 1, .value = 1,
	};
	ints[1] = (struct pl_int_option) { 0 };
	program = (struct pl_program) {
		.name = "test/model", .summary = "A test program.",
		.workload = workload, .default_workers = 4,
		.choices = choices, .ints = ints,
	};
	return &program;
}

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])) - 1)

/* A sanitizer runtime adds its own report lines ("==123==...") when a forked
 * child of a threaded process exits; they are not the program's output.
 * The one-line rule is checked on the real programs in suite "cli". */
static void drop_sanitizer_lines(char *s)
{
	char *out = s;

	while (s && *s) {
		size_t len = strcspn(s, "\n") + (s[strcspn(s, "\n")] ? 1 : 0);

		if (strncmp(s, "==", 2) != 0) {
			memmove(out, s, len);
			out += len;
		}
		s += len;
	}
	if (out)
		*out = '\0';
}

/* Registered last in the child, so it runs first at exit(): it leaves at
 * once with the same status, before Criterion's own exit handlers (meant
 * for the test process, not for a fork of it) can run and hang. */
static void leave_now(int status, void *arg)
{
	(void)arg;
	fflush(NULL);
	_exit(status);
}

/* Runs fn(arg) in a child with stdout and stderr captured, for the calls
 * that exit. */
static void in_child(struct run_result *r, void (*fn)(void *), void *arg)
{
	int out[2], err[2], wstatus;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	cr_assert(pipe(out) == 0 && pipe(err) == 0);
	fflush(NULL);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		on_exit(leave_now, NULL);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		fn(arg);
		fflush(NULL);
		_exit(0);
	}
	close(out[1]);
	close(err[1]);
	/* Output is small (the help text at most), far below a pipe's
	 * buffer, so reading one pipe after the other cannot block. */
	for (int k = 0; k < 2; k++) {
		int fd = k ? err[0] : out[0];
		size_t len = 0, cap = 65536;
		char *buf = calloc(1, cap);
		ssize_t n;

		while (buf && len + 1 < cap && (n = read(fd, buf + len, cap - len - 1)) > 0)
			len += (size_t)n;
		close(fd);
		*(k ? &r->err : &r->out) = buf;
	}
	waitpid(pid, &wstatus, 0);
	drop_sanitizer_lines(r->err);
	r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

struct parse_call {
	int argc;
	char **argv;
};

static void call_parse(void *arg)
{
	struct parse_call *c = arg;
	struct pl_options opts;

	pl_parse_args(c->argc, c->argv, model_program(PL_SQUARES), &opts);
}

static void parse_in_child(struct run_result *r, int argc, char **argv)
{
	struct parse_call c = { argc, argv };

	in_child(r, call_parse, &c);
}

Test(cli_parse, defaults, .timeout = 10)
{
	struct pl_options o;
	char *argv[] = { "test/model", NULL };

	pl_parse_args(1, argv, model_program(PL_SQUARES), &o);
	cr_expect_eq(o.workers, 4);
	cr_expect_eq(o.tasks, 10);
	cr_expect_eq(o.work_us, 0);
	cr_expect_float_eq(o.scale, 1.0, 1e-12);
	cr_expect(o.print, "the seed's run prints");
	cr_expect(!o.check && !o.stats && !o.tasks_given);
	cr_expect_gt(o.start, 0.0);
	cr_expect_str_eq(pl_choice(&o, "schedule"), "static");
	cr_expect_eq(pl_int(&o, "chunk"), 1);

	pl_parse_args(1, argv, model_program(PL_SLEEP), &o);
	cr_expect_eq(o.tasks, 3);
	pl_parse_args(1, argv, model_program(PL_FOLDERS), &o);
	cr_expect_eq(o.tasks, 10);
}

Test(cli_parse, every_option, .timeout = 10)
{
	struct pl_options o;
	char *argv[] = { "test/model", "-j7", "--tasks=12", "--work-us", "3",
			 "--scale=0.25", "--check", "--stats", "--schedule",
			 "dynamic", "--chunk=8", NULL };

	pl_parse_args(ARGC(argv), argv, model_program(PL_SQUARES), &o);
	cr_expect_eq(o.workers, 7);
	cr_expect_eq(o.tasks, 12);
	cr_expect(o.tasks_given);
	cr_expect_eq(o.work_us, 3);
	cr_expect_float_eq(o.scale, 0.25, 1e-12);
	cr_expect(!o.print, "-n without --print prints a summary");
	cr_expect(o.check && o.stats);
	cr_expect_str_eq(pl_choice(&o, "schedule"), "dynamic");
	cr_expect_eq(pl_int(&o, "chunk"), 8);
}

Test(cli_parse, print_with_tasks_and_last_wins, .timeout = 10)
{
	struct pl_options o;
	char *argv[] = { "test/model", "-n", "5", "--print", "-j", "2", "--workers",
			 "3", "--schedule=guided", "--schedule", "static", "--tasks",
			 "0", NULL };

	pl_parse_args(ARGC(argv), argv, model_program(PL_SQUARES), &o);
	cr_expect(o.print);
	cr_expect_eq(o.workers, 3);
	cr_expect_eq(o.tasks, 0);
	cr_expect_str_eq(pl_choice(&o, "schedule"), "static");
}

Test(cli_parse, limits_are_accepted, .timeout = 10)
{
	struct pl_options o;
	char lim_j[32], lim_n[32];
	char *argv[] = { "test/model", "-j", lim_j, "-n", lim_n, "--scale", "0", NULL };

	snprintf(lim_j, sizeof(lim_j), "%ld", PL_MAX_WORKERS);
	snprintf(lim_n, sizeof(lim_n), "%ld", PL_MAX_TASKS);
	pl_parse_args(ARGC(argv), argv, model_program(PL_SQUARES), &o);
	cr_expect_eq(o.workers, PL_MAX_WORKERS);
	cr_expect_eq(o.tasks, PL_MAX_TASKS);
	cr_expect_float_eq(o.scale, 0.0, 1e-12);
}

Test(cli_parse, bad_choice_names_the_allowed_words, .timeout = 10)
{
	struct run_result r;
	char *argv[] = { "test/model", "--schedule", "fastest", NULL };

	parse_in_child(&r, ARGC(argv), argv);
	expect_one_error_line("test/model", "--schedule fastest", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "'fastest'"), "%s", r.err);
	cr_expect(strstr(r.err, "static, dynamic or guided"), "%s", r.err);
	run_result_free(&r);
}

Test(cli_parse, bad_model_values, .timeout = 10)
{
	static const char *const rows[][3] = {
		{ "--schedule" }, { "--schedule=" }, { "--chunk", "0" },
		{ "--chunk=-2" }, { "--chunk", "two" }, { "--chunk=99999999999999999999" },
		{ "--chunk" }, { "--sched", "static" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *argv[4] = { "test/model" };
		struct run_result r;
		int argc = 1;

		for (int k = 0; rows[i][k]; k++)
			argv[argc++] = (char *)rows[i][k];
		parse_in_child(&r, argc, argv);
		expect_one_error_line("test/model", rows[i][0], r.status, r.out, r.err);
		run_result_free(&r);
	}
}

Test(cli_parse, help_shows_model_options_and_defaults, .timeout = 10)
{
	static const char *const wanted[] = {
		"usage: test/model", "A test program.", "(default: 4)",
		"--schedule WORD", "static,", "dynamic", "guided", "(default: static)",
		"--chunk N", "at least 1 (default: 1)",
	};
	struct run_result r;
	char *argv[] = { "test/model", "--chunk", "7", "--help", NULL };

	parse_in_child(&r, ARGC(argv), argv);
	cr_expect_eq(r.status, 0);
	cr_expect_str_empty(r.err);
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		cr_expect(strstr(r.out, wanted[i]), "--help lacks '%s':\n%s", wanted[i], r.out);
	run_result_free(&r);
}

static void call_usage_error(void *arg)
{
	struct pl_options o = { .program = model_program(PL_SQUARES) };

	(void)arg;
	pl_usage_error(&o, "--chunk %d needs --schedule dynamic", 4);
}

static void call_die(void *arg)
{
	struct pl_options o = { .program = model_program(PL_SQUARES) };

	(void)arg;
	pl_die(&o, "cannot create thread: %s", "Resource temporarily unavailable");
}

/* What a model's own checks and run-time failures use. */
Test(cli_parse, usage_error_and_die, .timeout = 10)
{
	struct run_result r;

	in_child(&r, call_usage_error, NULL);
	cr_expect_eq(r.status, 2);
	cr_expect_str_eq(r.err, "test/model: error: --chunk 4 needs --schedule "
			 "dynamic (try --help)\n");
	run_result_free(&r);

	in_child(&r, call_die, NULL);
	cr_expect_eq(r.status, 1);
	cr_expect_str_eq(r.err, "test/model: cannot create thread: Resource "
			 "temporarily unavailable\n");
	run_result_free(&r);
}

static void call_unknown_lookup(void *arg)
{
	char *argv[] = { "test/model", NULL };
	struct pl_options o;

	(void)arg;
	pl_parse_args(1, argv, model_program(PL_SQUARES), &o);
	pl_int(&o, "no-such-option");
}

/* A typo in a model's own lookup is a bug: loud, status 1, not a crash. */
Test(cli_parse, unknown_lookup_dies, .timeout = 10)
{
	struct run_result r;

	in_child(&r, call_unknown_lookup, NULL);
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "no-such-option"), "%s", r.err);
	run_result_free(&r);
}

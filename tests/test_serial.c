/* The serial reference programs and the workload plumbing they share with
 * every model: the seed's output, the summary line, --check, --stats.
 *
 * Suite "serial" runs the programs in build/serial; suite "serial_work"
 * calls the workload functions directly to reach what a correct serial
 * program never produces: results in another order, and wrong results.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sleep_work.h"
#include "squares_work.h"
#include "support.h"

#define RUN_TIMEOUT 30.0

static void run_ok(struct run_result *r, const char *rel, char *const args[])
{
	char *argv[16] = { (char *)built(rel) };

	for (int i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	cr_assert_eq(run_argv(r, RUN_TIMEOUT, argv), 0, "cannot run %s", argv[0]);
	cr_assert(!r->timed_out, "%s timed out", argv[0]);
	cr_expect_eq(r->status, 0, "%s: status %d, stderr: %s", argv[0], r->status, r->err);
}

#define RUN(r, rel, ...) run_ok(r, rel, (char *const[]){ __VA_ARGS__, NULL })

/* Reads "PROG: N results, checksum 0xH, wall S s\n" with H of 16 hex
 * digits and nothing after the line; false if it is not that. */
static bool parse_summary(const char *out, const char *prog, long *n,
			  unsigned long long *sum, double *wall)
{
	char fmt[128];
	int hex_start = 0, hex_end = 0, end = 0;

	snprintf(fmt, sizeof(fmt),
		 "%s: %%ld results, checksum 0x%%n%%llx%%n, wall %%lf s%%n", prog);
	return sscanf(out, fmt, n, &hex_start, sum, &hex_end, wall, &end) == 3 &&
	       hex_end - hex_start == 16 && end > 0 && strcmp(out + end, "\n") == 0;
}

Test(serial, squares_seed_output, .timeout = 30)
{
	struct run_result r;
	char *argv[] = { (char *)built("serial/squares"), NULL };

	cr_assert_eq(run_argv(&r, RUN_TIMEOUT, argv), 0);
	cr_expect_eq(r.status, 0);
	cr_expect_str_eq(r.out, "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n");
	cr_expect_str_empty(r.err);
	run_result_free(&r);
}

Test(serial, squares_print_format, .timeout = 30)
{
	struct run_result r;

	RUN(&r, "serial/squares", "-n", "3", "--print");
	cr_expect_str_eq(r.out, "[0, 1, 4]\n");
	run_result_free(&r);
	RUN(&r, "serial/squares", "-n", "1", "--print");
	cr_expect_str_eq(r.out, "[0]\n");
	run_result_free(&r);
	RUN(&r, "serial/squares", "-n", "0", "--print");
	cr_expect_str_eq(r.out, "[]\n");
	run_result_free(&r);
}

Test(serial, squares_summary_and_check, .timeout = 60)
{
	struct run_result r;
	unsigned long long sum, sum_j;
	long n;
	double wall;

	RUN(&r, "serial/squares", "-n", "100000", "--check");
	cr_expect(parse_summary(r.out, "serial/squares", &n, &sum, &wall), "%s", r.out);
	cr_expect_eq(n, 100000);
	cr_expect(wall >= 0 && wall < RUN_TIMEOUT);
	cr_expect_str_empty(r.err, "--check passes silently: %s", r.err);
	run_result_free(&r);

	/* -j is accepted and changes nothing in the serial model. */
	RUN(&r, "serial/squares", "-n", "100000", "-j", "8", "--check");
	cr_expect(parse_summary(r.out, "serial/squares", &n, &sum_j, &wall), "%s", r.out);
	cr_expect_eq(sum_j, sum, "same input, same checksum");
	run_result_free(&r);

	RUN(&r, "serial/squares", "-n", "99999");
	cr_expect(parse_summary(r.out, "serial/squares", &n, &sum_j, &wall), "%s", r.out);
	cr_expect_neq(sum_j, sum);
	run_result_free(&r);
}

Test(serial, squares_with_work_and_check, .timeout = 60)
{
	struct run_result r;
	unsigned long long sum;
	long n;
	double wall;

	/* 20 tasks of 1 ms: at least 20 ms of wall time. */
	RUN(&r, "serial/squares", "-n", "20", "--work-us", "1000", "--check");
	cr_expect(parse_summary(r.out, "serial/squares", &n, &sum, &wall), "%s", r.out);
	cr_expect_geq(wall, 0.010, "wall %.4f s for 20 ms of work", wall);
	cr_expect_str_empty(r.err);
	run_result_free(&r);
}

Test(serial, zero_tasks, .timeout = 30)
{
	struct run_result r;
	unsigned long long sum;
	long n = -1;
	double wall;

	RUN(&r, "serial/squares", "-n", "0", "--check");
	cr_expect(parse_summary(r.out, "serial/squares", &n, &sum, &wall), "%s", r.out);
	cr_expect_eq(n, 0);
	run_result_free(&r);

	RUN(&r, "serial/sleep", "-n", "0", "--check");
	cr_expect(parse_summary(r.out, "serial/sleep", &n, &sum, &wall), "%s", r.out);
	cr_expect_eq(n, 0);
	cr_expect_eq(sum, 0ULL, "the empty sum");
	run_result_free(&r);
}

Test(serial, sleep_seed_order, .timeout = 30)
{
	struct run_result r;

	RUN(&r, "serial/sleep", "--scale", "0.01");
	cr_expect_str_eq(r.out, "Task 3 completed\nTask 1 completed\nTask 2 completed\n");
	cr_expect_str_empty(r.err);
	run_result_free(&r);

	RUN(&r, "serial/sleep", "--scale", "0.01", "--check");
	cr_expect_str_eq(r.out, "Task 3 completed\nTask 1 completed\nTask 2 completed\n");
	cr_expect_str_empty(r.err);
	run_result_free(&r);
}

Test(serial, sleep_sleeps_the_sum, .timeout = 30)
{
	struct run_result r;
	unsigned long long sum;
	long n;
	double wall;

	/* 3 + 1 + 2 + 3 + 1 + 2 seconds times 0.02 = 0.24 s, one after another. */
	RUN(&r, "serial/sleep", "-n", "6", "--scale", "0.02", "--check");
	cr_expect(parse_summary(r.out, "serial/sleep", &n, &sum, &wall), "%s", r.out);
	cr_expect_eq(n, 6);
	cr_expect_geq(wall, 0.24, "wall %.3f s, want at least 0.24", wall);
	run_result_free(&r);
}

Test(serial, sleep_print_many, .timeout = 30)
{
	struct run_result r;

	RUN(&r, "serial/sleep", "-n", "7", "--scale", "0", "--print", "--check");
	cr_expect_str_eq(r.out, "Task 3 completed\nTask 1 completed\nTask 2 completed\n"
			 "Task 3 completed\nTask 1 completed\nTask 2 completed\n"
			 "Task 3 completed\n");
	run_result_free(&r);
}

/* The keys and the types of the --stats line, parsed loosely. */
static void expect_stats(const char *err, const char *prog)
{
	static const char *const numbers[] = {
		"wall_s", "user_s", "sys_s", "max_rss_kb", "threads_created",
		"processes_created", "voluntary_ctx_switches",
		"involuntary_ctx_switches",
	};
	char want[128];
	size_t len = strlen(err);

	cr_expect(len > 2 && err[0] == '{' && strcmp(err + len - 2, "}\n") == 0 &&
		  strchr(err, '\n') == err + len - 1, "one JSON line: %s", err);
	snprintf(want, sizeof(want), "\"program\":\"%s\"", prog);
	cr_expect(strstr(err, want), "lacks %s: %s", want, err);
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		const char *at;
		double v = -1;

		snprintf(want, sizeof(want), "\"%s\":", numbers[i]);
		at = strstr(err, want);
		cr_expect(at, "lacks %s: %s", numbers[i], err);
		if (!at)
			continue;
		cr_expect_eq(sscanf(at + strlen(want), "%lf", &v), 1, "%s: %s", numbers[i], err);
		cr_expect_geq(v, 0.0, "%s is %f", numbers[i], v);
	}
	{
		const char *at = strstr(err, "\"max_rss_kb\":");
		long rss = 0;

		if (at && sscanf(at + strlen("\"max_rss_kb\":"), "%ld", &rss) == 1)
			cr_expect_gt(rss, 0, "max_rss_kb %ld", rss);
	}
}

Test(serial, stats_json_line, .timeout = 30)
{
	struct run_result r;

	RUN(&r, "serial/squares", "-n", "1000", "--stats");
	expect_stats(r.err, "serial/squares");
	cr_expect(strstr(r.err, "\"threads_created\":0,"), "serial creates none: %s", r.err);
	cr_expect(strstr(r.err, "\"processes_created\":0,"), "serial creates none: %s", r.err);
	run_result_free(&r);

	RUN(&r, "serial/sleep", "--scale", "0", "--stats", "--check");
	expect_stats(r.err, "serial/sleep");
	cr_expect_eq(count_lines(r.out, "Task 3 completed"), 1);
	run_result_free(&r);
}

/* --- the workload functions in this process ---------------------------- */

static const struct pl_program squares_program = {
	.name = "test/squares", .workload = PL_SQUARES, .default_workers = 1,
};
static const struct pl_program sleep_program = {
	.name = "test/sleep", .workload = PL_SLEEP, .default_workers = 1,
};

static void options(struct pl_options *o, const struct pl_program *p,
		    const char *tasks, bool check)
{
	char *argv[] = { "test", "-n", (char *)tasks, check ? "--check" : NULL, NULL };

	pl_parse_args(check ? 4 : 3, argv, p, o);
}

Test(serial_work, task_bodies, .timeout = 10)
{
	char msg[PL_SLEEP_MSG_MAX];

	cr_expect_eq(pl_square(0, 0), 0);
	cr_expect_eq(pl_square(9, 0), 81);
	cr_expect_eq(pl_square(-3, 0), 9);
	cr_expect_eq(pl_square(PL_MAX_TASKS - 1, 0),
		     (int64_t)(PL_MAX_TASKS - 1) * (PL_MAX_TASKS - 1));
	cr_expect_eq(pl_sleep_seconds(0), 3);
	cr_expect_eq(pl_sleep_seconds(1), 1);
	cr_expect_eq(pl_sleep_seconds(2), 2);
	cr_expect_eq(pl_sleep_seconds(3), 3);
	pl_sleep_task(1, 0.0, 0, msg);
	cr_expect_str_eq(msg, "Task 1 completed");
	pl_sleep_task(5, 0.0, 0, msg);
	cr_expect_str_eq(msg, "Task 2 completed");
}

static uint64_t sleep_checksum(const char *const *msgs, int n)
{
	struct pl_sleep_results r;
	struct pl_options o;
	char tasks[16];
	uint64_t sum;

	snprintf(tasks, sizeof(tasks), "%d", n);
	options(&o, &sleep_program, tasks, false);
	pl_sleep_begin(&r, &o);
	for (int i = 0; i < n; i++)
		pl_sleep_collect(&r, msgs[i]);
	sum = r.checksum;
	cr_expect_eq(pl_sleep_finish(&r), 0);
	return sum;
}

Test(serial_work, sleep_checksum_ignores_order, .timeout = 10,
     .init = cr_redirect_stdout)
{
	const char *a[] = { "Task 3 completed", "Task 1 completed", "Task 2 completed" };
	const char *b[] = { "Task 1 completed", "Task 2 completed", "Task 3 completed" };
	const char *c[] = { "Task 1 completed", "Task 1 completed", "Task 3 completed" };

	cr_expect_eq(sleep_checksum(a, 3), sleep_checksum(b, 3));
	cr_expect_neq(sleep_checksum(a, 3), sleep_checksum(c, 3));
}

Test(serial_work, sleep_check_accepts_any_order, .timeout = 10,
     .init = cr_redirect_stdout)
{
	const char *order[] = {
		"Task 1 completed", "Task 2 completed", "Task 3 completed",
		"Task 2 completed", "Task 3 completed", "Task 1 completed",
	};
	struct pl_sleep_results r;
	struct pl_options o;

	options(&o, &sleep_program, "6", true);
	pl_sleep_begin(&r, &o);
	for (int i = 0; i < 6; i++)
		pl_sleep_collect(&r, order[i]);
	cr_expect_eq(pl_sleep_finish(&r), 0);
}

Test(serial_work, sleep_check_names_wrong_message, .timeout = 10,
     .init = cr_redirect_stdout)
{
	struct pl_sleep_results r;
	struct pl_options o;

	cr_redirect_stderr();
	options(&o, &sleep_program, "3", true);
	pl_sleep_begin(&r, &o);
	pl_sleep_collect(&r, "Task 1 completed");
	pl_sleep_collect(&r, "Task 3 completed");
	pl_sleep_collect(&r, "Task 1 completed");
	cr_expect_eq(pl_sleep_finish(&r), 1);
	fflush(stderr);
	cr_expect_stderr_eq_str("test/sleep: check failed: \"Task 1 completed\" "
				"came 2 times, expected 1\n");
}

Test(serial_work, sleep_check_counts_results, .timeout = 10,
     .init = cr_redirect_stdout)
{
	struct pl_sleep_results r;
	struct pl_options o;

	cr_redirect_stderr();
	options(&o, &sleep_program, "2", true);
	pl_sleep_begin(&r, &o);
	for (int i = 0; i < 3; i++)     /* one more than there were tasks */
		pl_sleep_collect(&r, "Task 3 completed");
	cr_expect_eq(pl_sleep_finish(&r), 1);
	cr_expect_stderr_eq_str("test/sleep: check failed: 3 results, expected 2\n");
}

Test(serial_work, squares_check_names_first_difference, .timeout = 10,
     .init = cr_redirect_stdout)
{
	struct pl_options o;
	int64_t *v;

	cr_redirect_stderr();
	options(&o, &squares_program, "5", true);
	v = pl_squares_begin(&o);
	for (int i = 0; i < 5; i++)
		v[i] = pl_square(i, 0);
	v[2] = 9;                       /* slots 2 and 3 swapped */
	v[3] = 4;
	cr_expect_eq(pl_squares_finish(&o, v), 1);
	cr_expect_stderr_eq_str("test/squares: check failed: result 2 is 9, expected 4\n");
}

Test(serial_work, squares_checksum_is_order_sensitive, .timeout = 10)
{
	struct pl_options o;
	unsigned long long sum[2];
	long n;
	double wall;

	for (int k = 0; k < 2; k++) {
		char path[] = "/tmp/parlab-test-squares-XXXXXX";
		int fd = mkstemp(path);
		FILE *f;
		char line[256] = "";
		int64_t *v;

		cr_assert(fd >= 0);
		/* The summary goes to stdout: point stdout at a file for it. */
		fflush(stdout);
		int saved = dup(1);
		dup2(fd, 1);
		options(&o, &squares_program, "4", false);
		v = pl_squares_begin(&o);
		for (int i = 0; i < 4; i++)
			v[i] = pl_square(k ? 3 - i : i, 0);
		cr_expect_eq(pl_squares_finish(&o, v), 0);
		fflush(stdout);
		dup2(saved, 1);
		close(saved);
		f = fdopen(fd, "r");
		rewind(f);
		cr_expect(fgets(line, sizeof(line), f));
		fclose(f);
		unlink(path);
		cr_expect(parse_summary(line, "test/squares", &n, &sum[k], &wall), "%s", line);
	}
	cr_expect_neq(sum[0], sum[1], "same values, other order, other checksum");
}

/* The calibrated spin: it burns about the CPU time it promises, the
 * environment override is honoured when sane and ignored (with a warning,
 * then calibrating) when not, and the tool prints one positive number.
 *
 * Criterion runs every test in a process of its own, so each test starts
 * with the rate not yet computed and may set the environment freely.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spin.h"
#include "support.h"

static double process_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time, not wall time: a loaded CI machine preempts us but cannot
 * make the loop do less work.  The bounds are wide on purpose. */
Test(spin, twenty_ms_takes_about_twenty_ms, .timeout = 30)
{
	double t0, cpu;

	unsetenv("PARLAB_SPIN_PER_US");
	cr_assert_gt(pl_spin_per_us(), 0.0);    /* calibrate outside the timing */
	t0 = process_cpu_s();
	pl_spin_us(20000);
	cpu = process_cpu_s() - t0;
	cr_expect(cpu >= 0.010 && cpu <= 0.060,
		  "pl_spin_us(20000) used %.4f s of CPU, want 0.010 to 0.060 "
		  "(rate %.1f/us)", cpu, pl_spin_per_us());
}

Test(spin, nothing_to_do_returns_at_once, .timeout = 10)
{
	/* A rate no machine has: if zero or negative work reached the loop
	 * (or the calibration), this test would time out. */
	setenv("PARLAB_SPIN_PER_US", "1000000", 1);
	cr_expect_eq(pl_spin_us(0), 0);
	cr_expect_eq(pl_spin_us(-5), 0);
}

Test(spin, environment_rate_is_used, .timeout = 10)
{
	setenv("PARLAB_SPIN_PER_US", "123.5", 1);
	cr_expect_float_eq(pl_spin_per_us(), 123.5, 1e-9);
	/* Cached: a later change of the environment does not matter. */
	setenv("PARLAB_SPIN_PER_US", "7", 1);
	cr_expect_float_eq(pl_spin_per_us(), 123.5, 1e-9);
}

/* Garbage is ignored: the program calibrates instead (a plausible rate,
 * not the garbage read as some number). */
Test(spin, environment_garbage_is_ignored, .timeout = 30)
{
	static const char *const garbage[] = {
		"abc", "12x", "-5", "0", "nan", "inf", "1e300", " ", "0x", "1e-9",
	};

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		char *argv[] = { (char *)built("serial/squares"), "-n", "3",
				 "--work-us", "100", "--check", NULL };
		struct run_result r;

		setenv("PARLAB_SPIN_PER_US", garbage[i], 1);
		cr_assert_eq(run_argv(&r, 20.0, argv), 0);
		cr_expect_eq(r.status, 0, "'%s': status %d: %s", garbage[i], r.status, r.err);
		cr_expect(strstr(r.err, "ignoring PARLAB_SPIN_PER_US") != NULL,
			  "'%s': no warning: %s", garbage[i], r.err);
		cr_expect(strncmp(r.out, "serial/squares: 3 results", 25) == 0,
			  "'%s': %s", garbage[i], r.out);
		run_result_free(&r);
	}
}

/* The same in this process; the warning goes to a file and is read back. */
Test(spin, environment_garbage_in_process, .timeout = 30)
{
	FILE *warning = tmpfile();
	char line[256] = "";
	int saved = dup(2);

	cr_assert(warning && saved >= 0);
	setenv("PARLAB_SPIN_PER_US", "fast", 1);
	dup2(fileno(warning), 2);
	double rate = pl_spin_per_us();
	dup2(saved, 2);
	close(saved);
	rewind(warning);
	cr_expect(fgets(line, sizeof(line), warning), "no warning");
	fclose(warning);
	cr_expect(strstr(line, "ignoring PARLAB_SPIN_PER_US='fast'"), "%s", line);
	cr_expect(rate > 0.001 && rate < 1e6, "rate %f", rate);
}

/* An empty value is the same as unset: no warning. */
Test(spin, environment_empty_means_unset, .timeout = 30)
{
	char *argv[] = { (char *)built("serial/squares"), "-n", "1",
			 "--work-us", "10", NULL };
	struct run_result r;

	setenv("PARLAB_SPIN_PER_US", "", 1);
	cr_assert_eq(run_argv(&r, 20.0, argv), 0);
	cr_expect_eq(r.status, 0);
	cr_expect_str_empty(r.err);
	run_result_free(&r);
}

static void *get_rate(void *out)
{
	*(double *)out = pl_spin_per_us();
	return NULL;
}

/* First use from several threads at once: one calibration, one answer. */
Test(spin, first_use_is_thread_safe, .timeout = 30)
{
	pthread_t t[4];
	double rate[4];

	unsetenv("PARLAB_SPIN_PER_US");
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, get_rate, &rate[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 1; i < 4; i++)
		cr_expect_eq(rate[i], rate[0], "thread %d saw %f, thread 0 %f",
			     i, rate[i], rate[0]);
	cr_expect_eq(pl_spin_per_us(), rate[0]);
}

Test(spin, calibrate_tool_prints_one_number, .timeout = 30)
{
	struct run_result r;
	double rate = 0;
	char rest = 0;

	/* It always measures: the variable is its output, not its input. */
	setenv("PARLAB_SPIN_PER_US", "5", 1);
	cr_assert_eq(run_program(&r, 20.0, built("workloads/spin-calibrate"), NULL), 0);
	cr_expect_eq(r.status, 0);
	cr_expect_str_empty(r.err);
	cr_expect_eq(sscanf(r.out, "%lf%c", &rate, &rest), 2, "%s", r.out);
	cr_expect_eq(rest, '\n');
	cr_expect(strchr(r.out, '\n') == r.out + strlen(r.out) - 1, "one line: %s", r.out);
	cr_expect(rate > 0.001 && rate < 1e6 && rate != 5, "rate %f", rate);
	run_result_free(&r);

	cr_assert_eq(run_program(&r, 20.0, built("workloads/spin-calibrate"),
				 "--help", NULL), 0);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "PARLAB_SPIN_PER_US"), "%s", r.out);
	run_result_free(&r);

	cr_assert_eq(run_program(&r, 20.0, built("workloads/spin-calibrate"), "-x", NULL), 0);
	cr_expect_eq(r.status, 2);
	cr_expect_str_eq(r.err, "spin-calibrate: error: unexpected argument '-x' "
			 "(try --help)\n");
	cr_expect_str_empty(r.out);
	run_result_free(&r);
}

/* scripts/fuzz-cli keeps working: a tiny run over two built programs
 * passes, and its judge still fails a program that dies by a signal or
 * accepts a bad command line.  The full run is `scripts/fuzz-cli` (see
 * docs/reliability.md, "Hostile input").
 *
 * Suite: fuzz_smoke.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

#define FUZZ_CLI "scripts/fuzz-cli"

static const char *build_dir(void)
{
	const char *b = getenv("PARLAB_BUILD");

	return b && *b ? b : "build";
}

/* The last non-empty line of s, copied into buf. */
static const char *last_line(const char *s, char *buf, size_t size)
{
	size_t len = strlen(s);

	while (len > 0 && s[len - 1] == '\n')
		len--;
	size_t start = len;
	while (start > 0 && s[start - 1] != '\n')
		start--;
	snprintf(buf, size, "%.*s", (int)(len - start), s + start);
	return buf;
}

static void need_fuzz_cli(void)
{
	if (access(FUZZ_CLI, X_OK) != 0 || access("/usr/bin/python3", X_OK) != 0)
		cr_skip_test("scripts/fuzz-cli or python3 missing (scripts/deps test installs python3)");
}

Test(fuzz_smoke, two_programs_pass, .timeout = 150)
{
	struct run_result r;
	char line[256];

	need_fuzz_cli();
	cr_assert_eq(run_program(&r, 120, FUZZ_CLI, "--build", build_dir(), "--count", "6",
				 "--seed", "7", "serial/squares", "workloads/spin-calibrate",
				 NULL), 0);
	cr_assert(!r.timed_out, "fuzz-cli did not finish in 120 s");
	cr_expect_eq(r.status, 0, "fuzz-cli failed:\n%s%s", r.out, r.err);
	cr_expect_str_eq(last_line(r.out, line, sizeof(line)), "12 passed, 0 failed");
	cr_expect(strstr(r.out, "serial/squares: 6 inputs"), "%s", r.out);
	run_result_free(&r);
}

/* A fake build tree whose one program lists -n in its --help, then
 * either dies by SIGSEGV or takes anything with status 0. */
static char *fake_tree(const char *body)
{
	char *dir = strdup("/tmp/parlab-fuzz-smoke-XXXXXX");
	char path[512];
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/serial", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/serial/fake", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\n"
		"if [ \"$1\" = --help ]; then\n"
		"  echo 'usage: fake'\n"
		"  echo '  -n, --tasks N         number of tasks'\n"
		"  exit 0\n"
		"fi\n"
		"%s\n", body);
	fclose(f);
	cr_assert_eq(chmod(path, 0755), 0);
	return dir;
}

static void remove_and_free_tree(char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
	free(dir);
}

/* fuzz-cli keeps its scratch directory after a failure, for replaying:
 * "fuzz-cli: kept DIR (...". */
static void remove_kept(const char *out)
{
	const char *k = strstr(out, "fuzz-cli: kept /tmp/parlab-fuzz-cli-");
	char dir[256];

	if (k && sscanf(k, "fuzz-cli: kept %255s", dir) == 1)
		remove_and_free_tree(strdup(dir));
}

static void expect_failures(const char *body, const char *reason, bool all)
{
	struct run_result r;
	char *dir = fake_tree(body);

	cr_assert_eq(run_program(&r, 60, FUZZ_CLI, "--build", dir, "--count", "12",
				 "serial/fake", NULL), 0);
	cr_assert(!r.timed_out);
	cr_expect_eq(r.status, 1, "fuzz-cli should fail:\n%s%s", r.out, r.err);
	cr_expect(strstr(r.out, reason), "no '%s' in:\n%s", reason, r.out);
	if (all) {
		char line[256];

		cr_expect_str_eq(last_line(r.out, line, sizeof(line)), "0 passed, 12 failed");
	}
	remove_kept(r.out);
	run_result_free(&r);
	remove_and_free_tree(dir);
}

Test(fuzz_smoke, a_crash_fails, .timeout = 90)
{
	need_fuzz_cli();
	expect_failures("kill -SEGV $$", "killed by signal SIGSEGV", true);
}

Test(fuzz_smoke, accepting_anything_fails, .timeout = 90)
{
	need_fuzz_cli();
	/* Status 0 for every vector: the certainly bad ones must be caught. */
	expect_failures("exit 0", "accepted a bad command line", false);
}

/* ---- what the fuzz found, kept fixed ------------------------------------ */

/* Status 2 and exactly one line on stderr. */
static void expect_one_line_refusal(const char *rel, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;
	struct run_result r;
	const char *nl;

	argv[argc++] = (char *)built(rel);
	va_start(ap, rel);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	cr_assert_eq(run_argv(&r, 30, argv), 0);
	cr_assert(!r.timed_out, "%s did not finish", rel);
	cr_expect_eq(r.status, 2, "%s: status %d, stderr: %s", rel, r.status, r.err);
	nl = strchr(r.err, '\n');
	cr_expect(nl && nl[1] == '\0', "%s: not one line on stderr: '%s'", rel, r.err);
	run_result_free(&r);
}

/* --ids /dev/zero read NUL bytes into one ever-growing line until memory
 * ran out; a NUL byte is now refused at once. */
Test(fuzz_findings, ids_from_dev_zero_is_refused, .timeout = 40)
{
	expect_one_line_refusal("serial/folders", "--ids", "/dev/zero", NULL);
	expect_one_line_refusal("raw_threads/folders", "--ids", "/dev/urandom", NULL);
}

/* A value with a newline split the one-line message. */
Test(fuzz_findings, control_characters_stay_on_one_line, .timeout = 40)
{
	expect_one_line_refusal("micro/floors", "--rounds=1\n", NULL);
	expect_one_line_refusal("workloads/folder-api-server", "--slow-ms", "1\n", NULL);
	expect_one_line_refusal("serial/squares", "-n", "1\n2", NULL);
}

/* Numbers are decimal: strtod's hex floats and strtol's leading blanks
 * were accepted. */
Test(fuzz_findings, numbers_are_plain_decimal, .timeout = 40)
{
	expect_one_line_refusal("serial/squares", "--scale", "0x1p3", NULL);
	expect_one_line_refusal("serial/sleep", "--scale", "infinity", NULL);
	expect_one_line_refusal("micro/cf_overhead", "--rounds", " 1", NULL);
	expect_one_line_refusal("workloads/folder-api-server", "--latency-ms", "0x10", NULL);
}

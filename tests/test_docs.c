/* The course material: docs/tutorial/, docs/ko/ and docs/exercises/.
 *
 * - Every code excerpt in the docs' Markdown files still equals the lines of the source
 *   it names (scripts/check-doc-excerpts), and the checker itself finds
 *   drift, fixes it and refuses what it cannot fix (on a scratch tree).
 * - The tutorial's example programs build and print what the chapters
 *   show.
 * - Every exercise's untouched skeleton fails its checker and every
 *   reference solution passes it (scripts/exercise), each run bounded;
 *   every committed wrong solution (docs/exercises/NN-name/wrong/) fails
 *   it, in the check its header names; the sample run quoted in
 *   docs/exercises/README.md is what exercise 1's checker prints.
 *
 * Runs from the top of the repository (make test does), with the build
 * tree in PARLAB_BUILD.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

#define CHECKER "scripts/check-doc-excerpts"
#define EXERCISE "scripts/exercise"

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static char *read_file(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	cr_assert(f, "cannot read %s", path);
	char *buf = calloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

Test(docs, excerpts_match_their_sources, .timeout = 90)
{
	struct run_result r;

	cr_assert_eq(run_program(&r, 60, CHECKER, NULL), 0, "cannot run " CHECKER);
	cr_assert(!r.timed_out, CHECKER " did not finish in 60 s");
	cr_assert_eq(r.status, 0,
		     "code excerpts in the docs no longer match the sources "
		     "(scripts/check-doc-excerpts --fix rewrites them; then reread the prose):\n%s%s",
		     r.out, r.err);
	cr_assert(strstr(r.out, "match their sources"), "%s", r.out);
	run_result_free(&r);
}

/* The checker on a scratch tree: drift found and named, fixed, a marker
 * that does not resolve refused, moved lines followed, usage errors. */
Test(docs, checker_finds_and_fixes_drift, .timeout = 90)
{
	char root[] = "/tmp/parlab-docs-XXXXXX";
	char sub[1100];
	struct run_result r;

	cr_assert(mkdtemp(root));
	snprintf(sub, sizeof(sub), "%s/docs", root);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/src", root);
	mkdir(sub, 0755);
	write_file(root, "src/f.c",
		   "int a;\n\nstatic int twice(int x)\n{\n\treturn 2 * x;\n}\n\n"
		   "int main(void)\n{\n\tint y = twice(2);\n\treturn y - 4;\n}\n");
	write_file(root, "docs/good.md",
		   "# good\n<!-- include: src/f.c#twice -->\n[src/f.c:3-6](../src/f.c#L3-L6)\n"
		   "```c\nstatic int twice(int x)\n{\n\treturn 2 * x;\n}\n```\n"
		   "~~~\n<!-- include: src/f.c#nothing -->\n~~~\n");
	write_file(root, "docs/bad.md",
		   "# bad\n\n<!-- include: src/f.c#main:/int y/,/return/ -->\n"
		   "[src/f.c:10-11](../src/f.c#L10-L11)\n```c\n\tint y = twice(3);\n\treturn y - 4;\n```\n"
		   "<!-- include: src/f.c:1-1 -->\n");

	/* Drift: named with document, line and marker; exit 1. */
	run_program(&r, 30, CHECKER, "--root", root, NULL);
	cr_assert_eq(r.status, 1, "drift must exit 1: %s%s", r.out, r.err);
	cr_assert(strstr(r.err, "docs/bad.md:3: src/f.c#main:/int y/,/return/"), "%s", r.err);
	cr_assert(strstr(r.err, "twice(3)"), "the differing line is shown: %s", r.err);
	cr_assert(strstr(r.err, "docs/bad.md:9: src/f.c:1-1: no fenced block"), "%s", r.err);
	cr_assert(!strstr(r.err, "good.md"), "a matching file and a marker inside a fence "
		  "are not drift: %s", r.err);
	run_result_free(&r);

	/* --fix rewrites both, then the check passes. */
	run_program(&r, 30, CHECKER, "--root", root, "--fix", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	char *fixed = read_file(root, "docs/bad.md");
	cr_assert(strstr(fixed, "\tint y = twice(2);\n"), "%s", fixed);
	cr_assert(strstr(fixed, "[src/f.c:1](../src/f.c#L1)\n```c\nint a;\n```\n"), "%s", fixed);
	free(fixed);
	run_program(&r, 30, CHECKER, "--root", root, "--strict", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	run_result_free(&r);

	/* Code moved, unchanged: a warning only, unless --strict; line
	 * numbers follow their text under --fix. */
	write_file(root, "src/f.c",
		   "/* moved */\nint a;\n\nstatic int twice(int x)\n{\n\treturn 2 * x;\n}\n\n"
		   "int main(void)\n{\n\tint y = twice(2);\n\treturn y - 4;\n}\n");
	write_file(root, "docs/bad.md",
		   "<!-- include: src/f.c:3-6 -->\n[src/f.c:3-6](../src/f.c#L3-L6)\n"
		   "```c\nstatic int twice(int x)\n{\n\treturn 2 * x;\n}\n```\n");
	run_program(&r, 30, CHECKER, "--root", root, NULL);
	cr_assert_eq(r.status, 1, "numbered lines that moved are drift: %s%s", r.out, r.err);
	cr_assert(strstr(r.err, "moved to lines 4-7"), "%s", r.err);
	cr_assert(strstr(r.err, "docs/good.md:2: src/f.c#twice: caption says"), "%s", r.err);
	cr_assert(strstr(r.err, "warning"), "an anchored excerpt that only moved warns: %s", r.err);
	run_result_free(&r);
	run_program(&r, 30, CHECKER, "--root", root, "--fix", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	fixed = read_file(root, "docs/bad.md");
	cr_assert(strstr(fixed, "<!-- include: src/f.c:4-7 -->\n[src/f.c:4-7]"), "%s", fixed);
	free(fixed);
	fixed = read_file(root, "docs/good.md");
	cr_assert(strstr(fixed, "[src/f.c:4-7](../src/f.c#L4-L7)"), "%s", fixed);
	free(fixed);

	/* Only moved, anchored: passes with a warning; --strict fails. */
	write_file(root, "src/f.c",
		   "/* moved */\n/* again */\nint a;\n\nstatic int twice(int x)\n{\n\treturn 2 * x;\n}\n");
	write_file(root, "docs/bad.md", "# nothing\n");
	run_program(&r, 30, CHECKER, "--root", root, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "warning"), "%s", r.err);
	run_result_free(&r);
	run_program(&r, 30, CHECKER, "--root", root, "--strict", NULL);
	cr_assert_eq(r.status, 1, "--strict fails on a stale caption: %s%s", r.out, r.err);
	run_result_free(&r);

	/* A marker that does not resolve: --fix cannot help, exit 1. */
	write_file(root, "docs/bad.md", "<!-- include: src/f.c#gone -->\n"
		   "<!-- include: src/missing.c#main -->\n");
	run_program(&r, 30, CHECKER, "--root", root, "--fix", NULL);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "no definition of gone in src/f.c"), "%s", r.err);
	cr_assert(strstr(r.err, "no file src/missing.c"), "%s", r.err);
	run_result_free(&r);

	run_program(&r, 30, CHECKER, "--bogus", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	run_result_free(&r);
	run_program(&r, 30, CHECKER, "--help", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "Usage:"), "%s", r.out);
	run_result_free(&r);
	remove_tree(root);
}

/* Builds docs/tutorial/examples/NAME.c against the library into dir. */
static void build_example(const char *dir, const char *name)
{
	char cmd[2048];
	struct run_result r;

	snprintf(cmd, sizeof(cmd),
		 "${CC:-cc} -O2 -Wall -Wextra -Werror -Iexecutors/include -o %s/%s "
		 "docs/tutorial/examples/%s.c %s -pthread", dir, name, name, built("libcf.a"));
	run_program(&r, 60, "/bin/sh", "-c", cmd, NULL);
	cr_assert_eq(r.status, 0, "%s:\n%s%s", cmd, r.out, r.err);
	run_result_free(&r);
}

Test(docs, tutorial_examples_print_what_the_chapters_show, .timeout = 120)
{
	const char *build = getenv("PARLAB_BUILD");
	char dir[] = "/tmp/parlab-examples-XXXXXX";
	char path[1100];
	struct run_result r;

	if (build && strncmp(build, "build-san", 9) == 0)
		cr_skip_test("sanitizer build: the examples link the plain library");
	cr_assert(mkdtemp(dir));
	build_example(dir, "futures");
	build_example(dir, "wait");

	snprintf(path, sizeof(path), "%s/futures", dir);
	run_program(&r, 30, path, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out,
			 "submitted: done=no\n"
			 "result(timeout=0.05): timed out\n"
			 "result(): ok, \"slept 200 ms\", done=yes\n"
			 "failing task: task failed, code 22, \"cannot sleep -1 ms\"\n"
			 "cancel the third: cancelled\n"
			 "cancel the first: too late\n"
			 "result() of the third: cancelled\n");
	run_result_free(&r);

	/* Times are shown to 0.1 s; on a loaded machine they may be later,
	 * so the test checks the statuses and the sets. */
	snprintf(path, sizeof(path), "%s/wait", dir);
	run_program(&r, 30, path, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "wait(FIRST_COMPLETED)              ok        done=1 not_done=2 after"), "%s", r.out);
	cr_assert(strstr(r.out, "wait(FIRST_EXCEPTION)              ok        done=1 not_done=2 after"), "%s", r.out);
	cr_assert(strstr(r.out, "    the failure: the 100 ms task failed\n"), "%s", r.out);
	cr_assert(strstr(r.out, "wait(ALL_COMPLETED, timeout=0.1)   timed out done=1 not_done=2 after"), "%s", r.out);
	cr_assert(strstr(r.out, "wait(ALL_COMPLETED)                ok        done=3 not_done=0 after"), "%s", r.out);
	run_result_free(&r);
	remove_tree(dir);
}

/* docs/exercises/README.md quotes a run of exercise 1's untouched skeleton
 * (the ```text block after "make exercise EX=1"); every line of it must be
 * a line of the real run, in the same order, so that the quote cannot
 * drift from the checker. */
static void assert_readme_sample_is_real(const char *out)
{
	char *readme = read_file("docs/exercises", "README.md");
	char *block = strstr(readme, "```text\n");
	const char *from = out;

	cr_assert(block, "docs/exercises/README.md: no ```text block with a sample run");
	block += strlen("```text\n");
	char *end = strstr(block, "```");
	cr_assert(end, "docs/exercises/README.md: the sample run's block does not end");
	*end = '\0';
	for (char *line = strtok(block, "\n"); line; line = strtok(NULL, "\n")) {
		const char *at = strstr(from, line);

		cr_assert(at, "docs/exercises/README.md quotes this line of exercise 1's run, which "
			  "the checker no longer prints in that place:\n%s\nthe real run:\n%s",
			  line, out);
		from = at + strlen(line);
	}
	free(readme);
}

/* One parameter per exercise folder docs/exercises/NN-name/. */
ParameterizedTestParameters(docs, exercise)
{
	static int numbers[100];
	size_t count = 0;
	DIR *d = opendir("docs/exercises");
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL && count < 100)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && e->d_name[1] >= '0' &&
		    e->d_name[1] <= '9' && e->d_name[2] == '-')
			numbers[count++] = (e->d_name[0] - '0') * 10 + (e->d_name[1] - '0');
	if (d)
		closedir(d);
	return cr_make_param_array(int, numbers, count);
}

/* The untouched skeleton builds and fails its checker; the reference
 * solution passes it.  Each checker bounds every check itself (a few
 * seconds each); the bound here only catches a checker that hangs. */
ParameterizedTest(int *number, docs, exercise, .timeout = 150)
{
	const char *build = getenv("PARLAB_BUILD");
	char n[16];
	struct run_result r;

	if (build && strncmp(build, "build-san", 9) == 0)
		cr_skip_test("sanitizer build: the exercises' timing checks run on the plain build");
	snprintf(n, sizeof(n), "%d", *number);

	cr_assert_eq(run_program(&r, 60, EXERCISE, n, NULL), 0, "cannot run " EXERCISE);
	cr_assert(!r.timed_out, "exercise %s: the skeleton's checker did not finish in 60 s", n);
	cr_assert(!strstr(r.out, "does not compile"), "exercise %s: the skeleton must build:\n%s%s",
		  n, r.out, r.err);
	cr_assert(strstr(r.out, "checking exercise"), "exercise %s: the checker did not run:\n%s%s",
		  n, r.out, r.err);
	cr_assert_eq(r.status, 1, "exercise %s: the untouched skeleton must FAIL its checker "
		     "(if you solved it in place, this is expected):\n%s%s", n, r.out, r.err);
	if (*number == 1)
		assert_readme_sample_is_real(r.out);
	run_result_free(&r);

	cr_assert_eq(run_program(&r, 60, EXERCISE, n, "--solution", NULL), 0);
	cr_assert(!r.timed_out, "exercise %s: the solution's checker did not finish in 60 s", n);
	cr_assert_eq(r.status, 0, "exercise %s: the reference solution must pass:\n%s%s", n,
		     r.out, r.err);
	cr_assert(strstr(r.out, "PASS: all"), "%s", r.out);
	run_result_free(&r);
}

/* Exercise 5 draws the student's schedule: PARLAB_TRACE=FILE gets the
 * 4-thread run as a trace that scripts/timeline accepts, one record per
 * cell, even when the schedule fails its check (the skeleton's). */
Test(docs, exercise_5_draws_the_schedule, .timeout = 150)
{
	const char *build = getenv("PARLAB_BUILD");
	char path[] = "/tmp/parlab-ex5-XXXXXX", env[64];
	struct run_result r;
	int fd = mkstemp(path);

	if (build && strncmp(build, "build-san", 9) == 0)
		cr_skip_test("sanitizer build: the exercises' timing checks run on the plain build");
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(env, sizeof(env), "PARLAB_TRACE=%s", path);
	cr_assert_eq(run_program(&r, 60, "/usr/bin/env", env, EXERCISE, "5", NULL), 0);
	cr_assert(!r.timed_out, "exercise 5 did not finish in 60 s");
	cr_assert(strstr(r.out, "scripts/timeline"), "no word of the schedule's file:\n%s", r.out);
	run_result_free(&r);
	cr_assert_eq(run_program(&r, 30, "scripts/timeline", "--check", path, NULL), 0);
	cr_assert_eq(r.status, 0, "the schedule is not a valid trace: %s%s", r.out, r.err);
	cr_assert(strstr(r.out, "ok: 200 tasks on 4 workers"), "%s", r.out);
	run_result_free(&r);
	unlink(path);
}

/* One committed wrong solution: docs/exercises/NN-name/wrong/FILE.c. */
struct wrong_solution {
	int number;
	char path[200];
};

ParameterizedTestParameters(docs, exercise_wrong_solution)
{
	static struct wrong_solution wrongs[100];
	size_t count = 0;
	DIR *d = opendir("docs/exercises");
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]) || !isdigit((unsigned char)e->d_name[1]) ||
		    e->d_name[2] != '-')
			continue;
		char dir[300];
		if (snprintf(dir, sizeof(dir), "docs/exercises/%s/wrong", e->d_name) >=
		    (int)sizeof(dir))
			continue;
		DIR *w = opendir(dir);
		struct dirent *f;
		while (w && (f = readdir(w)) != NULL && count < 100) {
			size_t len = strlen(f->d_name);
			if (len < 3 || strcmp(f->d_name + len - 2, ".c") != 0)
				continue;
			wrongs[count].number = (e->d_name[0] - '0') * 10 + (e->d_name[1] - '0');
			if (snprintf(wrongs[count].path, sizeof(wrongs[count].path), "%s/%s", dir,
				     f->d_name) < (int)sizeof(wrongs[count].path))
				count++;
		}
		if (w)
			closedir(w);
	}
	if (d)
		closedir(d);
	return cr_make_param_array(struct wrong_solution, wrongs, count);
}

/* The check a wrong solution's header says must catch it: the text after
 * "Caught by:", which is (the start of) that check's title. */
static void caught_by(const char *path, char *title, size_t cap)
{
	char *text = read_file(".", path);
	char *at = strstr(text, "Caught by:");

	cr_assert(at, "%s: its header must say which check catches it (\"Caught by: <the "
		  "check's title>\")", path);
	at += strlen("Caught by:");
	while (*at == ' ')
		at++;
	size_t len = strcspn(at, "\n");
	cr_assert(len > 0 && len < cap, "%s: an empty or overlong \"Caught by:\"", path);
	memcpy(title, at, len);
	title[len] = '\0';
	free(text);
}

/* A committed wrong solution builds, and its checker fails it in the check
 * its header names: each kind of mistake stays caught.  A wrong solution
 * that hangs costs its check's bound (a few seconds). */
ParameterizedTest(struct wrong_solution *wrong, docs, exercise_wrong_solution, .timeout = 150)
{
	const char *build = getenv("PARLAB_BUILD");
	char n[16], title[200], fail_line[256];
	struct run_result r;

	if (build && strncmp(build, "build-san", 9) == 0)
		cr_skip_test("sanitizer build: the exercises' timing checks run on the plain build");
	snprintf(n, sizeof(n), "%d", wrong->number);
	caught_by(wrong->path, title, sizeof(title));
	snprintf(fail_line, sizeof(fail_line), "  FAIL  %s", title);

	cr_assert_eq(run_program(&r, 90, EXERCISE, n, "--file", wrong->path, NULL), 0,
		     "cannot run " EXERCISE);
	cr_assert(!r.timed_out, "%s: the checker did not finish in 90 s", wrong->path);
	cr_assert(!strstr(r.out, "does not compile"), "%s must build:\n%s%s", wrong->path, r.out,
		  r.err);
	cr_assert(strstr(r.out, "checking exercise"), "%s: the checker did not run:\n%s%s",
		  wrong->path, r.out, r.err);
	cr_assert_eq(r.status, 1, "%s is a wrong solution, kept to show that the checker catches "
		     "its kind of mistake, and it PASSED:\n%s%s", wrong->path, r.out, r.err);
	cr_assert(strstr(r.out, fail_line), "%s must fail the check \"%s\" (its header says "
		  "so), and did not:\n%s", wrong->path, title, r.out);
	run_result_free(&r);
}

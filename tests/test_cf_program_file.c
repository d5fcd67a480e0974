/* The process pool starts workers from the program's own file: it must
 * still do so when that file was deleted or replaced under the running
 * program (an upgrade, make rebuilding it), and say why it cannot when
 * the program was started through the dynamic loader. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

static char tmpdir[] = "/tmp/parlab-progfile-XXXXXX";

static void make_tmpdir(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

/* Runs `build/executors/squares ARGS` from a copy that is deleted (or
 * replaced by another program) before it starts, through a descriptor. */
static void run_from_vanished_copy(struct run_result *r, bool replace)
{
	char script[1024];

	snprintf(script, sizeof(script),
		 "cp '%s' '%s/prog' && exec 3<'%s/prog' && %s && "
		 "exec /proc/self/fd/3 --executor process -j 2 -n 200 --check",
		 built("executors/squares"), tmpdir, tmpdir,
		 replace ? "cp \"$0\" \"$1/new\" && mv \"$1/new\" \"$1/prog\"" : "rm \"$1/prog\"");
	cr_assert_eq(run_program(r, 60, "/bin/sh", "-c", script, built("raw_threads/squares"),
				 tmpdir, NULL), 0);
}

Test(cf_program_file, deleted_program_still_starts_workers, .init = make_tmpdir,
     .fini = remove_tmpdir, .timeout = 90)
{
	struct run_result r;

	run_from_vanished_copy(&r, false);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.out, "200 results"), "stdout: %s", r.out);
	run_result_free(&r);
}

Test(cf_program_file, replaced_program_starts_its_own_workers, .init = make_tmpdir,
     .fini = remove_tmpdir, .timeout = 90)
{
	struct run_result r;

	run_from_vanished_copy(&r, true);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.out, "200 results"), "stdout: %s", r.out);
	run_result_free(&r);
}

/* This program's ELF interpreter, which is the programs' too. */
static int find_interp(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_INTERP)
			*(const char **)data = (const char *)(info->dlpi_addr +
							      info->dlpi_phdr[i].p_vaddr);
	return 1;
}

Test(cf_program_file, started_through_the_loader_says_why, .timeout = 60)
{
	const char *interp = NULL;
	struct run_result r;

	dl_iterate_phdr(find_interp, &interp);
	if (!interp)
		cr_skip_test("this test program has no ELF interpreter");
	cr_assert_eq(run_program(&r, 30, interp, built("executors/squares"), "--executor",
				 "process", "-n", "20", NULL), 0);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect(strstr(r.err, "executor is broken: cannot start a worker process: the program "
			 "was started through the dynamic loader"), "stderr: %s", r.err);
	cr_expect_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "one line: %s", r.err);
	run_result_free(&r);
}

/* SIGCHLD inherited as ignored (some shells and daemons leave it so): the
 * kernel then reaps the workers itself, and the pool's waitpid finds
 * nothing to wait for; the pool must still work and end cleanly. */
Test(cf_program_file, pool_works_with_sigchld_ignored, .timeout = 60)
{
	struct run_result r;

	cr_assert_eq(run_program(&r, 30, "/usr/bin/env", "--ignore-signal=CHLD",
				 built("executors/squares"), "--executor", "process", "-j", "2",
				 "-n", "200", "--check", NULL), 0);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.out, "200 results"), "stdout: %s", r.out);
	run_result_free(&r);
}

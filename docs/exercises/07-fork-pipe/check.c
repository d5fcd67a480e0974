/* The checker of exercise 7: run_forked() with well-behaved children, a
 * child that dies mid-way, one that exits with an error status, a flood
 * that fills the pipe, and no zombie left behind. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "check.h"
#include "exercise.h"

static long crash_at = -1;      /* the item whose work kills its child */
static long give_up_at = -1;    /* the item whose work ends its child with status 3 */

static long work(long i)
{
	if (i == crash_at)
		raise(SIGKILL);
	if (i == give_up_at)
		_exit(3);       /* a child that reports an error the way programs do */
	return i * i + 1;
}

static void no_zombies(void)
{
	errno = 0;
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD,
	      "a child is left un-reaped (a zombie) or still running after run_forked returned");
}

static void all_results(void)
{
	enum { N = 100 };
	long results[N];
	unsigned char done[N] = { 0 };

	int failed = run_forked(N, 4, work, results, done);
	CHECK(failed == 0, "no child failed, but it returned %d", failed);
	for (long i = 0; i < N; i++)
		CHECK(done[i] && results[i] == i * i + 1, "item %ld: done=%d, result %ld", i,
		      done[i], results[i]);
	no_zombies();
}

static void a_crash(void)
{
	enum { N = 40 };
	long results[N];
	unsigned char done[N] = { 0 };

	crash_at = 9;           /* child 1 (of 4) dies at its third item: 1, 5, then 9 */
	int failed = run_forked(N, 4, work, results, done);
	CHECK(failed == 1, "one child was killed by SIGKILL; run_forked returned %d, expected 1",
	      failed);
	for (long i = 0; i < N; i++) {
		int from_dead = i % 4 == 1 && i >= 9;
		if (from_dead)
			CHECK(!done[i], "item %ld belongs to the dead child after its crash, but is "
			      "marked done", i);
		else
			CHECK(done[i] && results[i] == i * i + 1, "item %ld was computed by a live "
			      "child (or before the crash) but is missing", i);
	}
	no_zombies();
}

static void a_failed_exit(void)
{
	enum { N = 40 };
	long results[N];
	unsigned char done[N] = { 0 };

	give_up_at = 10;        /* child 2 (of 4) exits with status 3 at its third item */
	int failed = run_forked(N, 4, work, results, done);
	CHECK(failed == 1, "one child ended with exit status 3 (no signal); run_forked returned "
	      "%d, expected 1.\n    A child fails when it is killed by a signal OR when it "
	      "exits with a status other\n    than 0: test WIFEXITED(status) && "
	      "WEXITSTATUS(status) == 0 for success, and\n    count everything else",
	      failed);
	for (long i = 0; i < N; i++)
		if (!(i % 4 == 2 && i >= 10))
			CHECK(done[i] && results[i] == i * i + 1, "item %ld was computed by a live "
			      "child (or before the failure) but is missing", i);
	no_zombies();
}

static void flood(void)
{
	enum { N = 200000 };    /* 3.2 MB of records: far more than a pipe holds */
	long *results = calloc(N, sizeof(*results));
	unsigned char *done = calloc(N, 1);

	CHECK(results && done, "out of memory");
	int failed = run_forked(N, 3, work, results, done);
	CHECK(failed == 0, "returned %d", failed);
	for (long i = 0; i < N; i++)
		CHECK(done[i] && results[i] == i * i + 1, "item %ld missing or wrong", i);
	no_zombies();
}

static void small(void)
{
	long results[2];
	unsigned char done[2] = { 0 };

	CHECK(run_forked(2, 8, work, results, done) == 0, "2 items on 8 workers failed");
	CHECK(done[0] && done[1], "2 items on 8 workers: results missing");
	CHECK(run_forked(0, 4, work, results, done) == 0, "no items: must return 0");
	no_zombies();
}

int main(void)
{
	check_begin("07-fork-pipe");
	check_run("100 items in 4 children: every result, no zombie", all_results, 2);
	check_run("a child killed mid-way: counted, and every other result arrives", a_crash, 2);
	check_run("a child that exits with status 3: counted as failed too", a_failed_exit, 2);
	check_run("200 000 records through one pipe (it holds 64 KiB)", flood, 4);
	check_run("fewer items than workers, and none", small, 2);
	return check_end();
}

/* The peers of issue 7: build/micro/peers (cf next to GThreadPool and
 * OpenMP tasks) and benchmarks/python/futures_peer.py (CPython's
 * concurrent.futures and the tutorial's examples next to ours).
 *
 * Each runs once in its quick form, bounded; the test checks that every
 * key the targets table reads is there with positive figures and a
 * sample per round, that the figures compared with each other share a
 * group (futures_peer.py measures cf's figures in its own rounds, through
 * peers --only), and that bad input is refused with status 2 and one
 * line.  No figure is compared with any bound: the machine may be loaded.
 * test_micro.c checks the placements of every micro-benchmark's figures.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

#define PEERS_BOUND 120.0       /* seconds, for each quick run */
#define PY_PEER "benchmarks/python/futures_peer.py"

/* The latency figures come at both placements; a one-CPU machine skips
 * the cross-core ones (test_micro.c), so only same-core ones are listed. */
static const char *const c_keys[] = {
	"peer.cf.tasks_1m_submit", "peer.cf.tasks_1m_map", "peer.glib.tasks_1m",
	"peer.omp.tasks_1m", "peer.cf.latency.same_core", "peer.glib.latency.same_core",
	"peer.omp.latency.same_core", NULL,
};
static const char *const py_keys[] = {
	"cpython.thread.tasks_submit", "cpython.thread.tasks_map",
	"cpython.process.tasks_map_chunk1", "cpython.process.tasks_map_chunk64",
	"peer.cf.tasks_1m_submit", "peer.cf.tasks_1m_map",
	"cpython.example.sleep", "c.example.sleep", "cpython.example.squares",
	"c.example.squares", "cpython.example.folders", "c.example.folders", NULL,
};
/* Part 3, past one machine: mpi4py.futures and cf's mpi backend in the
 * same rounds.  Either may be missing (no interpreter with mpi4py, MPI not
 * built): its records then say why, with "skipped". */
static const char *const py_mpi_keys[] = {
	"mpi4py.futures.tasks_submit", "mpi4py.futures.tasks_map_chunk1024",
	"cf.mpi.submit_result", "cf.mpi.map.chunk1024", NULL,
};

/* One line: text, then a newline, then nothing. */
static bool one_line(const char *s)
{
	const char *nl = strchr(s, '\n');

	return nl && nl > s && nl[1] == '\0';
}

static bool python3_found(void)
{
	return system("command -v python3 >/dev/null 2>&1") == 0;
}

/* The record with "key": key among the JSON lines of out (a new
 * reference, or NULL); fails the test on a line that is not JSON and on a
 * key seen twice. */
static struct json_object *record(const char *out, const char *key)
{
	struct json_object *found = NULL;
	char *copy = strdup(out), *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(line), *k;

		cr_assert_not_null(o, "not a JSON line: %s", line);
		if (json_object_object_get_ex(o, "key", &k) &&
		    strcmp(json_object_get_string(k), key) == 0) {
			cr_assert_null(found, "key %s appears twice", key);
			found = o;
		} else {
			json_object_put(o);
		}
	}
	free(copy);
	return found;
}

static double number(struct json_object *o, const char *field, const char *key)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, field, &v), "%s has no %s", key, field);
	cr_assert(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int),
		  "%s: %s is not a number", key, field);
	return json_object_get_double(v);
}

static const char *text(struct json_object *o, const char *field, const char *key)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, field, &v) && json_object_is_type(v, json_type_string),
		  "%s has no %s", key, field);
	return json_object_get_string(v);
}

/* median, p90 and min are positive and ordered, with one sample per
 * round; not skipped; no verdict. */
static struct json_object *figures(const char *out, const char *key)
{
	struct json_object *o = record(out, key), *v;

	cr_assert_not_null(o, "no record with key %s in:\n%s", key, out);
	cr_assert_not(json_object_object_get_ex(o, "skipped", &v), "%s skipped: %s", key,
		      v ? json_object_get_string(v) : "");
	cr_assert_not(json_object_object_get_ex(o, "met", &v), "%s carries a verdict", key);
	double median = number(o, "median_ns", key), p90 = number(o, "p90_ns", key),
	       min = number(o, "min_ns", key);
	cr_assert_gt(min, 0, "%s: min_ns %g", key, min);
	cr_assert(min <= median && median <= p90, "%s: min %g, median %g, p90 %g", key, min,
		  median, p90);
	int rounds = (int)number(o, "rounds", key);
	cr_assert(json_object_object_get_ex(o, "samples_ns", &v) &&
		  json_object_is_type(v, json_type_array), "%s has no samples_ns", key);
	cr_assert_eq((int)json_object_array_length(v), rounds, "%s: samples for %d rounds", key,
		     rounds);
	return o;
}

Test(peers, c_peers_give_every_key, .timeout = PEERS_BOUND + 10)
{
	const char *build = getenv("PARLAB_BUILD");
	struct run_result r;

	/* GLib's pool and GCC's OpenMP runtime are not instrumented: under
	 * TSan every hand-off through them looks like a race. */
	if (build && strstr(build, "san-thread"))
		cr_skip_test("ThreadSanitizer build: GLib and libgomp are not instrumented");
	cr_assert_eq(run_program(&r, PEERS_BOUND, built("micro/peers"), "--quick", "--rounds",
				 "1", "--json", NULL), 0, "cannot start %s", built("micro/peers"));
	cr_assert_not(r.timed_out, "peers did not finish in %.0f s", PEERS_BOUND);
	cr_assert_eq(r.status, 0, "peers exited %d: %s", r.status, r.err);
	for (const char *const *k = c_keys; *k; k++)
		json_object_put(figures(r.out, *k));
	/* The ratios are the analysis's, from the samples, not the program's. */
	cr_assert_null(strstr(r.out, "peer.ratio."), "%s", r.out);

	struct json_object *omp = figures(r.out, "peer.omp.latency.same_core");
	double share = number(omp, "handed_off_share", "peer.omp.latency.same_core");
	cr_assert(share >= 0 && share <= 1, "handed_off_share %g", share);
	json_object_put(omp);
	run_result_free(&r);
}

/* What futures_peer.py runs in each of its rounds. */
Test(peers, c_peers_only_some_figures, .timeout = PEERS_BOUND + 10)
{
	struct run_result r;

	if (getenv("PARLAB_BUILD") && strstr(getenv("PARLAB_BUILD"), "san-thread"))
		cr_skip_test("ThreadSanitizer build: GLib and libgomp are not instrumented");
	cr_assert_eq(run_program(&r, PEERS_BOUND, built("micro/peers"), "--quick", "--rounds",
				 "2", "--json", "--only", "peer.cf.tasks_1m_submit,peer.cf.tasks_1m_map",
				 NULL), 0);
	cr_assert_not(r.timed_out, "peers --only did not finish in %.0f s", PEERS_BOUND);
	cr_assert_eq(r.status, 0, "peers exited %d: %s", r.status, r.err);
	int lines = 0;
	for (const char *p = r.out; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	cr_assert_eq(lines, 2, "not two records: %s", r.out);
	json_object_put(figures(r.out, "peer.cf.tasks_1m_submit"));
	json_object_put(figures(r.out, "peer.cf.tasks_1m_map"));
	run_result_free(&r);
}

Test(peers, c_peers_refuse_bad_input, .timeout = 30)
{
	struct run_result r;

	cr_assert_eq(run_program(&r, 20, built("micro/peers"), "--rounds", "0", NULL), 0);
	cr_assert_eq(r.status, 2);
	cr_assert(one_line(r.err), "not one line: %s", r.err);
	cr_assert_not_null(strstr(r.err, "--rounds"), "%s", r.err);
	run_result_free(&r);

	/* An unknown key is refused before anything is measured. */
	cr_assert_eq(run_program(&r, 20, built("micro/peers"), "--only",
				 "peer.cf.tasks_1m_submit,peer.cf.nonesuch", NULL), 0);
	cr_assert_eq(r.status, 2);
	cr_assert(one_line(r.err), "not one line: %s", r.err);
	cr_assert_not_null(strstr(r.err, "peer.cf.nonesuch"), "%s", r.err);
	cr_assert_str_empty(r.out, "%s", r.out);
	run_result_free(&r);
}

/* Part 3's records: each measured in CPython's rounds (same group, as
 * many samples), or skipped with a reason; cf's mpi figures are measured
 * wherever build/micro/cf_mpi_overhead is built. */
static void check_mpi_keys(const char *out, const char *group, int rounds, bool tsan)
{
	bool cf_mpi_built = access(built("micro/cf_mpi_overhead"), X_OK) == 0 && !tsan;

	for (const char *const *k = py_mpi_keys; *k; k++) {
		struct json_object *o = record(out, *k), *v;

		cr_assert_not_null(o, "no record with key %s in:\n%s", *k, out);
		if (json_object_object_get_ex(o, "skipped", &v)) {
			cr_assert_str_not_empty(json_object_get_string(v), "%s: skipped, no reason", *k);
			cr_assert_not(cf_mpi_built && strncmp(*k, "cf.", 3) == 0,
				      "%s skipped though cf_mpi_overhead is built: %s", *k,
				      json_object_get_string(v));
			json_object_put(o);
			continue;
		}
		json_object_put(o);
		o = figures(out, *k);
		cr_assert_str_eq(text(o, "group", *k), group, "%s is not in CPython's rounds", *k);
		cr_assert_str_eq(text(o, "benchmark", *k), "futures_peer", "%s", *k);
		cr_assert_eq((int)number(o, "rounds", *k), rounds, "%s", *k);
		json_object_put(o);
	}
}

/* Open MPI on loopback, and as root, for part 3's runs only (they
 * inherit this test's environment). */
static void mpi_test_environment(void)
{
	setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
	setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
	setenv("OMPI_MCA_btl_tcp_if_include", "lo", 1);
	setenv("OMPI_MCA_oob_tcp_if_include", "lo", 1);
	setenv("OMPI_MCA_pml", "ob1", 1);
	setenv("OMPI_MCA_btl", "self,tcp", 1);
}

Test(peers, python_peer_gives_every_key, .timeout = PEERS_BOUND + 10)
{
	if (!python3_found())
		cr_skip_test("python3 is missing: run-micro records the CPython peer as skipped");
	const char *build = getenv("PARLAB_BUILD") ? getenv("PARLAB_BUILD") : "build";
	struct run_result r;

	mpi_test_environment();
	cr_assert_eq(run_program(&r, PEERS_BOUND, "/usr/bin/env", "python3", PY_PEER, "--quick",
				 "--rounds", "2", "--json", "--build", build, NULL), 0);
	cr_assert_not(r.timed_out, "futures_peer.py did not finish in %.0f s", PEERS_BOUND);
	cr_assert_eq(r.status, 0, "futures_peer.py exited %d: %s", r.status, r.err);
	/* cf's figures are measured in futures_peer.py's rounds: same group,
	 * as many samples as CPython's.  (In a TSan tree build/micro/peers
	 * fails, GLib and libgomp being uninstrumented, and they are skipped.) */
	bool tsan = strstr(build, "san-thread") != NULL;
	struct json_object *py = figures(r.out, "cpython.thread.tasks_submit");
	const char *group = text(py, "group", "cpython.thread.tasks_submit");
	for (const char *const *k = (const char *const[]){ "peer.cf.tasks_1m_submit",
							  "peer.cf.tasks_1m_map", NULL }; *k && !tsan; k++) {
		struct json_object *o = figures(r.out, *k);

		cr_assert_str_eq(text(o, "group", *k), group, "%s is not in CPython's rounds", *k);
		cr_assert_str_eq(text(o, "benchmark", *k), "futures_peer", "%s", *k);
		cr_assert_eq(number(o, "rounds", *k), number(py, "rounds", "cpython"), "%s", *k);
		json_object_put(o);
	}
	check_mpi_keys(r.out, group, (int)number(py, "rounds", "cpython"), tsan);
	json_object_put(py);
	for (const char *const *k = py_keys; *k; k++) {
		if (tsan && strncmp(*k, "peer.", 5) == 0)
			continue;
		struct json_object *o = figures(r.out, *k);

		cr_assert_str_eq(text(o, "placement", *k), "unpinned", "%s", *k);

		if (strstr(*k, "example")) {
			cr_assert_gt(number(o, "wall_s_best", *k), 0);
			cr_assert_gt(number(o, "inner_wall_s_best", *k), 0);
		}
		if (strstr(*k, "example.folders")) {
			/* Both sides meet the same failing ids and report them. */
			cr_assert_gt(number(o, "failed", *k), 0, "%s", *k);
			cr_assert_gt(number(o, "requests_per_run", *k), 0, "%s", *k);
		}
		json_object_put(o);
	}
	run_result_free(&r);
}

Test(peers, python_examples_print_the_tutorials_output, .timeout = 60)
{
	if (!python3_found())
		cr_skip_test("python3 is missing");
	struct run_result r;

	cr_assert_eq(run_program(&r, 50, "/usr/bin/env", "python3", PY_PEER, "--example",
				 "squares", NULL), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n");
	run_result_free(&r);

	cr_assert_eq(run_program(&r, 50, "/usr/bin/env", "python3", PY_PEER, "--example",
				 "sleep", "--scale", "0.05", NULL), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Task 1 completed\nTask 2 completed\nTask 3 completed\n");
	run_result_free(&r);

	cr_assert_eq(run_program(&r, 20, "/usr/bin/env", "python3", PY_PEER, "-j", "0", NULL), 0);
	cr_assert_eq(r.status, 2);
	cr_assert(one_line(r.err), "not one line: %s", r.err);
	cr_assert_not_null(strstr(r.err, "--workers"), "%s", r.err);
	run_result_free(&r);
}

/* -n N gives the folders example N ids, the list the C programs generate
 * (not the seed's ten): the same names, index for index, and the same
 * failures. */
Test(peers, python_folders_looks_up_the_c_programs_ids, .timeout = 60)
{
	if (!python3_found())
		cr_skip_test("python3 is missing");
	const char *build = getenv("PARLAB_BUILD") ? getenv("PARLAB_BUILD") : "build";
	struct run_result py, c;

	cr_assert_eq(run_program(&py, 50, "/usr/bin/env", "python3", PY_PEER, "--build", build,
				 "--example", "folders", "-n", "40", "--scale", "0.01", "--print",
				 NULL), 0);
	cr_assert_eq(run_program(&c, 50, built("serial/folders"), "-n", "40", "--scale", "0.01",
				 "--print", NULL), 0);
	/* 28 distinct ids, 3 of them bad: both exit 1, as on any failure. */
	cr_assert_eq(py.status, 1, "%s", py.err);
	cr_assert_eq(c.status, 1, "%s", c.err);
	cr_assert_str_eq(py.out, c.out);
	int py_lines = 0, c_lines = 0;
	for (const char *p = py.err; (p = strchr(p, '\n')) != NULL; p++)
		py_lines++;
	for (const char *p = c.err; (p = strchr(p, '\n')) != NULL; p++)
		c_lines++;
	cr_assert_gt(c_lines, 0, "%s", c.err);
	cr_assert_eq(py_lines, c_lines, "Python:\n%s\nC:\n%s", py.err, c.err);
	run_result_free(&py);
	run_result_free(&c);

	/* A share over 100 is refused with one line, as the C programs do. */
	cr_assert_eq(run_program(&py, 20, "/usr/bin/env", "python3", PY_PEER, "--example",
				 "folders", "-n", "5", "--bad-percent", "101", NULL), 0);
	cr_assert_eq(py.status, 2);
	cr_assert(one_line(py.err), "not one line: %s", py.err);
	cr_assert_not_null(strstr(py.err, "--bad-percent"), "%s", py.err);
	run_result_free(&py);
}

/* The peers of issue 7: build/micro/peers (cf next to GThreadPool and
 * OpenMP tasks) and benchmarks/python/futures_peer.py (CPython's
 * concurrent.futures and the tutorial's examples next to ours).
 *
 * Each runs once in its quick form, bounded; the test checks that every
 * key the targets table reads is there with positive figures, and that
 * bad input is refused with status 2 and one line.  No figure is compared
 * with any bound: the machine may be loaded.
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

static const char *const c_keys[] = {
	"peer.cf.tasks_1m_submit", "peer.cf.tasks_1m_map", "peer.glib.tasks_1m",
	"peer.omp.tasks_1m", "peer.cf.latency", "peer.glib.latency", "peer.omp.latency",
	"peer.floor.condvar", NULL,
};
/* The ratios of target 1 (with a goal) and of the latencies (without). */
static const char *const ratio_keys[] = {
	"peer.ratio.submit_glib", "peer.ratio.submit_omp", "peer.ratio.map_glib",
	"peer.ratio.map_omp", "peer.ratio.latency_glib", "peer.ratio.latency_omp", NULL,
};
static const char *const py_keys[] = {
	"cpython.thread.tasks_submit", "cpython.thread.tasks_map",
	"cpython.process.tasks_map_chunk1", "cpython.process.tasks_map_chunk64",
	"cpython.example.sleep", "c.example.sleep", "cpython.example.squares",
	"c.example.squares", "cpython.example.folders", "c.example.folders", NULL,
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

/* median, p90 and min are positive and ordered; not skipped. */
static struct json_object *figures(const char *out, const char *key)
{
	struct json_object *o = record(out, key), *v;

	cr_assert_not_null(o, "no record with key %s in:\n%s", key, out);
	cr_assert_not(json_object_object_get_ex(o, "skipped", &v), "%s skipped: %s", key,
		      v ? json_object_get_string(v) : "");
	double median = number(o, "median_ns", key), p90 = number(o, "p90_ns", key),
	       min = number(o, "min_ns", key);
	cr_assert_gt(min, 0, "%s: min_ns %g", key, min);
	cr_assert(min <= median && median <= p90, "%s: min %g, median %g, p90 %g", key, min,
		  median, p90);
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

	for (const char *const *k = ratio_keys; *k; k++) {
		struct json_object *o = figures(r.out, *k), *v;

		cr_assert_gt(number(o, "ratio_to_floor", *k), 0, "%s: no ratio", *k);
		cr_assert(json_object_object_get_ex(o, "ratio_to", &v), "%s: no ratio_to", *k);
		bool has_goal = !strstr(*k, "latency");
		cr_assert_eq(json_object_object_get_ex(o, "met", &v), has_goal,
			     "%s: a goal where none is due, or none where one is", *k);
		json_object_put(o);
	}

	struct json_object *omp = figures(r.out, "peer.omp.latency");
	double share = number(omp, "handed_off_share", "peer.omp.latency");
	cr_assert(share >= 0 && share <= 1, "handed_off_share %g", share);
	json_object_put(omp);
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
}

Test(peers, python_peer_gives_every_key, .timeout = PEERS_BOUND + 10)
{
	if (!python3_found())
		cr_skip_test("python3 is missing: run-micro records the CPython peer as skipped");
	const char *build = getenv("PARLAB_BUILD") ? getenv("PARLAB_BUILD") : "build";
	struct run_result r;

	cr_assert_eq(run_program(&r, PEERS_BOUND, "/usr/bin/env", "python3", PY_PEER, "--quick",
				 "--rounds", "1", "--json", "--build", build, NULL), 0);
	cr_assert_not(r.timed_out, "futures_peer.py did not finish in %.0f s", PEERS_BOUND);
	cr_assert_eq(r.status, 0, "futures_peer.py exited %d: %s", r.status, r.err);
	for (const char *const *k = py_keys; *k; k++) {
		struct json_object *o = figures(r.out, *k);

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

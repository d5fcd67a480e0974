/* The micro-benchmarks' output (build/micro/floors, cf_overhead,
 * cf_process_overhead, peers): every JSON line parses; every figure
 * states its placement, its CPUs and its group, and carries one sample
 * per round; the latency figures come in a same-core and a cross-core
 * record, and under a one-CPU mask (taskset) the cross-core ones say why
 * they were skipped; no record judges a target.  Each program runs in its
 * quick form, bounded.  Numbers are only checked to be positive and
 * finite: the machine may be loaded.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

#define MICRO_BOUND 120.0       /* seconds, for each quick run */

/* The keys (without ".same_core" / ".cross_core") each program measures
 * at both placements, and some of its unpinned ones. */
static const char *const floors_pinned[] = {
	"floor.cache_line", "floor.futex", NULL,
};
static const char *const floors_unpinned[] = {
	"floor.thread_create_join", "floor.fork_wait", "floor.omp_fork_join.active",
	"floor.omp_fork_join.passive", "floor.omp_fork_join.default", "floor.omp_task",
	"timer.nanosleep_1ms", "timer.nanosleep_2ms", "timer.nanosleep_3ms",
	"timer.nanosleep_100us", NULL,
};
static const char *const overhead_pinned[] = {
	"floor.condvar", "cf.thread.submit_result", "cf.thread.submit_result_cpu",
	"cf.thread.submit_result_spin50", "cf.thread.submit_result_spin50_cpu", NULL,
};
static const char *const overhead_unpinned[] = {
	"cf.thread.map.chunk1", "cf.thread.map.chunk64", "cf.thread.map.chunk1024", NULL,
};
static const char *const process_pinned[] = {
	"floor.pipe", "cf.process.submit_result", NULL,
};
static const char *const process_unpinned[] = {
	"cf.process.map.chunk1", "cf.process.map.chunk64", "cf.process.map.chunk1024",
	"floor.fork_wait_children_2", "cf.process.pool_lifecycle_2",
	"floor.fork_wait_children_8", "cf.process.pool_lifecycle_8", NULL,
};
static const char *const peers_pinned[] = {
	"peer.cf.latency", "peer.glib.latency", "peer.omp.latency", NULL,
};
static const char *const peers_unpinned[] = {
	"peer.cf.tasks_1m_submit", "peer.cf.tasks_1m_map", "peer.glib.tasks_1m",
	"peer.omp.tasks_1m", NULL,
};

static const struct program {
	const char *name;
	const char *const *pinned, *const *unpinned;
	bool openmp;            /* runs GCC's OpenMP (or GLib): not under TSan */
} programs[] = {
	{ "floors", floors_pinned, floors_unpinned, true },
	{ "cf_overhead", overhead_pinned, overhead_unpinned, false },
	{ "cf_process_overhead", process_pinned, process_unpinned, false },
	{ "peers", peers_pinned, peers_unpinned, true },
};

/* The JSON lines of one run, parsed. */
struct records {
	int n;
	struct json_object *rec[128];
};

/* How many CPUs this process may use, and the last of them. */
static int mask_cpus(int *last)
{
	cpu_set_t set;

	*last = -1;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			*last = c;
	return CPU_COUNT(&set);
}

/* GCC's libgomp and GLib are not instrumented: under TSan every hand-off
 * through them looks like a race (mk/sanitize.mk). */
static bool not_under_tsan(const struct program *p)
{
	const char *build = getenv("PARLAB_BUILD");

	return !p->openmp || !build || !strstr(build, "san-thread");
}

static bool one_line(const char *s)
{
	const char *nl = strchr(s, '\n');

	return nl && nl > s && nl[1] == '\0';
}

/* A string field, which must be there. */
static const char *str_field(struct json_object *o, const char *field)
{
	struct json_object *v;

	cr_assert_not_null(o, "no record");
	cr_assert(json_object_object_get_ex(o, field, &v) && json_object_is_type(v, json_type_string),
		  "no string %s in %s", field, json_object_to_json_string(o));
	return json_object_get_string(v);
}

static double num_field(struct json_object *o, const char *field, const char *key)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, field, &v), "%s has no %s", key, field);
	cr_assert(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int),
		  "%s: %s is not a number", key, field);
	return json_object_get_double(v);
}

/* Every line of out is a JSON object. */
static void parse(struct records *rs, const char *out)
{
	char *copy = strdup(out), *save = NULL;

	rs->n = 0;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(line);

		cr_assert_not_null(o, "not a JSON line: %s", line);
		cr_assert(json_object_is_type(o, json_type_object), "not an object: %s", line);
		cr_assert_lt(rs->n, 128, "too many records");
		rs->rec[rs->n++] = o;
	}
	free(copy);
}

static void records_free(struct records *rs)
{
	for (int i = 0; i < rs->n; i++)
		json_object_put(rs->rec[i]);
	rs->n = 0;
}

static struct json_object *find(const struct records *rs, const char *key)
{
	for (int i = 0; i < rs->n; i++)
		if (strcmp(str_field(rs->rec[i], "key"), key) == 0)
			return rs->rec[i];
	return NULL;
}

/* "1" for same-core, "1,3" (two different CPUs) for cross-core, "" for
 * unpinned. */
static void check_cpus(const char *key, const char *placement, const char *cpus)
{
	int a, b;
	char end;

	if (strcmp(placement, "unpinned") == 0) {
		cr_assert_str_empty(cpus, "%s: unpinned with cpus '%s'", key, cpus);
	} else if (strcmp(placement, "same-core") == 0) {
		cr_assert_eq(sscanf(cpus, "%d%c", &a, &end), 1, "%s: cpus '%s'", key, cpus);
	} else {
		cr_assert_eq(sscanf(cpus, "%d,%d%c", &a, &b, &end), 2, "%s: cpus '%s'", key, cpus);
		cr_assert_neq(a, b, "%s: cross-core on one CPU: '%s'", key, cpus);
	}
}

/* One record: the fields every figure has, its samples, no verdict. */
static void check_record(struct json_object *o, const char *program, int rounds)
{
	const char *key = str_field(o, "key"), *placement, *cpus;
	struct json_object *v;

	cr_assert_str_eq(str_field(o, "benchmark"), program, "%s", key);
	cr_assert_str_eq(str_field(o, "group"), program, "%s: group", key);
	placement = str_field(o, "placement");
	cpus = str_field(o, "cpus");
	cr_assert(!strcmp(placement, "same-core") || !strcmp(placement, "cross-core") ||
		  !strcmp(placement, "unpinned"), "%s: placement '%s'", key, placement);
	for (const char *const *f = (const char *const[]){ "met", "target", "target_is_ratio",
							  "ratio_to_floor", NULL }; *f; f++)
		cr_assert_not(json_object_object_get_ex(o, *f, &v), "%s carries a verdict (%s)", key,
			      *f);
	if (json_object_object_get_ex(o, "skipped", &v)) {
		cr_assert_str_eq(placement, "cross-core", "%s skipped: %s", key,
				 json_object_get_string(v));
		cr_assert_str_eq(json_object_get_string(v), "only one CPU available", "%s", key);
		cr_assert_str_empty(cpus, "%s", key);
		return;
	}
	check_cpus(key, placement, cpus);
	cr_assert_eq((int)num_field(o, "rounds", key), rounds, "%s: rounds", key);
	double median = num_field(o, "median_ns", key), p90 = num_field(o, "p90_ns", key),
	       min = num_field(o, "min_ns", key);
	cr_assert(isfinite(median) && isfinite(p90) && min > 0 && min <= median && median <= p90,
		  "%s: min %g, median %g, p90 %g", key, min, median, p90);
	cr_assert(json_object_object_get_ex(o, "samples_ns", &v) &&
		  json_object_is_type(v, json_type_array), "%s has no samples_ns", key);
	cr_assert_eq((int)json_object_array_length(v), rounds, "%s: %d samples for %d rounds", key,
		     (int)json_object_array_length(v), rounds);
	for (int i = 0; i < rounds; i++) {
		double s = json_object_get_double(json_object_array_get_idx(v, i));
		cr_assert(s > 0 && isfinite(s), "%s: sample %d is %g", key, i, s);
	}
	/* The label says where it ran. */
	const char *name = str_field(o, "name");
	const char *said = !strcmp(placement, "same-core") ? "same core" :
			   !strcmp(placement, "cross-core") ? "cross-core" : "unpinned";
	cr_assert_not_null(strstr(name, said), "%s: the name does not say %s: %s", key, said, name);
}

/* The whole output of one program run with --rounds rounds. */
static void check_program(const struct program *p, const char *out, int rounds, bool one_cpu)
{
	struct records rs;
	char key[128];

	parse(&rs, out);
	cr_assert_gt(rs.n, 0, "%s printed nothing", p->name);
	for (int i = 0; i < rs.n; i++) {
		const char *k = str_field(rs.rec[i], "key");

		check_record(rs.rec[i], p->name, rounds);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(str_field(rs.rec[j], "key"), k, "%s appears twice", k);
	}
	for (const char *const *k = p->pinned; *k; k++) {
		struct json_object *o;

		snprintf(key, sizeof(key), "%s.same_core", *k);
		o = find(&rs, key);
		cr_assert_not_null(o, "%s: no %s", p->name, key);
		cr_assert_str_eq(str_field(o, "placement"), "same-core", "%s", key);
		cr_assert_not(json_object_object_get_ex(o, "skipped", NULL), "%s skipped", key);
		snprintf(key, sizeof(key), "%s.cross_core", *k);
		o = find(&rs, key);
		cr_assert_not_null(o, "%s: no %s", p->name, key);
		cr_assert_str_eq(str_field(o, "placement"), "cross-core", "%s", key);
		cr_assert_eq(json_object_object_get_ex(o, "skipped", NULL), one_cpu,
			     "%s: skipped is %s under a mask of %s", key, one_cpu ? "missing" : "there",
			     one_cpu ? "one CPU" : "several");
	}
	for (const char *const *k = p->unpinned; *k; k++) {
		struct json_object *o = find(&rs, *k);

		cr_assert_not_null(o, "%s: no %s", p->name, *k);
		cr_assert_str_eq(str_field(o, "placement"), "unpinned", "%s", *k);
	}
	records_free(&rs);
}

/* Runs build/micro/NAME with args (NULL-terminated), optionally under
 * taskset -c cpu; checks it ran to the end and exited status. */
static void run_micro(struct run_result *r, const char *name, int cpu, const char *const *args,
		      int status)
{
	char *argv[16], cpus[16];
	int n = 0;

	if (cpu >= 0) {
		snprintf(cpus, sizeof(cpus), "%d", cpu);
		argv[n++] = "/usr/bin/taskset";
		argv[n++] = "-c";
		argv[n++] = cpus;
	}
	argv[n++] = (char *)built(name);
	for (; *args; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	cr_assert_eq(run_argv(r, MICRO_BOUND, argv), 0, "cannot start %s", argv[0]);
	cr_assert_not(r->timed_out, "%s did not finish in %.0f s", name, MICRO_BOUND);
	cr_assert_eq(r->status, status, "%s exited %d: %s", name, r->status, r->err);
}

static void check_json_run(const struct program *p)
{
	static const char *const args[] = { "--quick", "--rounds", "2", "--json", NULL };
	char name[64];
	struct run_result r;

	if (!not_under_tsan(p))
		cr_skip_test("ThreadSanitizer build: GLib and libgomp are not instrumented");
	snprintf(name, sizeof(name), "micro/%s", p->name);
	run_micro(&r, name, -1, args, 0);
	check_program(p, r.out, 2, mask_cpus(&(int){ 0 }) < 2);
	run_result_free(&r);
}

Test(micro, floors_json, .timeout = MICRO_BOUND + 10)
{
	check_json_run(&programs[0]);
}

Test(micro, cf_overhead_json, .timeout = MICRO_BOUND + 10)
{
	check_json_run(&programs[1]);
}

Test(micro, cf_process_overhead_json, .timeout = MICRO_BOUND + 10)
{
	check_json_run(&programs[2]);
}

Test(micro, peers_json, .timeout = MICRO_BOUND + 10)
{
	check_json_run(&programs[3]);
}

/* On a mask of one CPU (the last of ours, so that the programs must read
 * their mask rather than assume CPU 0), the same-core figures run there
 * and every cross-core one is a record that says why it is missing. */
Test(micro, one_cpu_skips_cross_core, .timeout = 4 * MICRO_BOUND + 10)
{
	static const char *const args[] = { "--quick", "--rounds", "1", "--json", NULL };
	int cpu;

	if (access("/usr/bin/taskset", X_OK) != 0)
		cr_skip_test("taskset (util-linux) is missing");
	cr_assert_gt(mask_cpus(&cpu), 0);
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		const struct program *p = &programs[i];
		struct run_result r;
		struct records rs;
		char name[64], key[128], want[16];

		if (!not_under_tsan(p))
			continue;
		snprintf(name, sizeof(name), "micro/%s", p->name);
		run_micro(&r, name, cpu, args, 0);
		check_program(p, r.out, 1, true);
		parse(&rs, r.out);
		snprintf(key, sizeof(key), "%s.same_core", p->pinned[0]);
		snprintf(want, sizeof(want), "%d", cpu);
		cr_assert_str_eq(str_field(find(&rs, key), "cpus"), want, "%s under taskset -c %d",
				 key, cpu);
		records_free(&rs);
		run_result_free(&r);
	}
}

Test(micro, text_table_states_placements, .timeout = MICRO_BOUND + 10)
{
	static const char *const args[] = { "--quick", "--rounds", "1", NULL };
	struct run_result r;

	run_micro(&r, "micro/cf_overhead", -1, args, 0);
	cr_assert_not_null(strstr(r.out, "median"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "same-core"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "unpinned"), "%s", r.out);
	cr_assert_null(strstr(r.out, "MISSED"), "a verdict in: %s", r.out);
	cr_assert_null(strstr(r.out, "met]"), "a verdict in: %s", r.out);
	run_result_free(&r);
}

Test(micro, help_and_bad_input, .timeout = 60)
{
	static const char *const help[] = { "--help", NULL };
	static const char *const only_bad[] = { "--only", "floor.nonesuch", NULL };
	static const char *const only_empty[] = { "--only", "", NULL };
	static const char *const only_trailing[] = { "--only=floor.futex.same_core,", NULL };
	static const char *const rounds_bad[] = { "--rounds", "65", NULL };

	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		struct run_result r;
		char name[64];

		snprintf(name, sizeof(name), "micro/%s", programs[i].name);
		run_micro(&r, name, -1, help, 0);
		cr_assert_not_null(strstr(r.out, "usage:"), "%s --help: %s", name, r.out);
		cr_assert_not_null(strstr(r.out, "--only KEYS"), "%s --help: %s", name, r.out);
		run_result_free(&r);
		for (const char *const *const *bad = (const char *const *const[]){
			     only_bad, only_empty, only_trailing, rounds_bad, NULL }; *bad; bad++) {
			run_micro(&r, name, -1, *bad, 2);
			cr_assert(one_line(r.err), "%s %s: not one line: %s", name, (*bad)[0], r.err);
			cr_assert_str_empty(r.out, "%s %s printed: %s", name, (*bad)[0], r.out);
			run_result_free(&r);
		}
	}
}

/* --only measures the figures it names and no other, each with a
 * sample per round. */
Test(micro, only_measures_what_it_names, .timeout = MICRO_BOUND + 10)
{
	static const char *const args[] = { "--quick", "--rounds", "3", "--json", "--only",
		"floor.pipe.cross_core,cf.process.submit_result.same_core", NULL };
	struct run_result r;
	struct records rs;

	run_micro(&r, "micro/cf_process_overhead", -1, args, 0);
	parse(&rs, r.out);
	cr_assert_eq(rs.n, 2, "%d records: %s", rs.n, r.out);
	cr_assert_not_null(find(&rs, "floor.pipe.cross_core"));
	cr_assert_not_null(find(&rs, "cf.process.submit_result.same_core"));
	for (int i = 0; i < rs.n; i++)
		check_record(rs.rec[i], "cf_process_overhead", 3);
	records_free(&rs);
	run_result_free(&r);
}

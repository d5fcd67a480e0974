/* The folders workload in every model: build/<model>/folders.
 *
 * Every model must print what serial prints for a list with duplicates
 * and failing ids (the JSON object on stdout, one line per failed folder
 * on stderr, exit status 1), send one request per distinct id however the
 * duplicates fall, name every injected error exactly once, reproduce the
 * seed with exit status 0, keep its client-side rate limit, count what it
 * created in --stats, and refuse bad options with status 2.
 *
 * Each test starts one folder API server (a few ms of latency, so the
 * whole suite takes seconds) and passes its URL with --api; the seed test
 * lets each program start its own.  The server's GET /stats says what
 * reached it; POST /stats/reset clears it between runs.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "folder_server_ctl.h"
#include "cf_test_util.h"
#include "folder_test_util.h"
#include "model_checks.h"

/* Every parallel model; serial is the reference. */
static const struct folder_model models[] = {
	{ "executors/folders", { "--executor", "thread", NULL } },
	{ "executors/folders", { "--executor", "process", NULL } },
	{ "raw_threads/folders", { NULL } },
	{ "raw_processes/folders", { NULL } },
	{ "openmp/folders", { NULL } },
#ifdef PARLAB_HAVE_MPI
	/* Last: stats_count_workers names the others by index. */
	{ "executors/folders", { "--executor", "mpi", NULL } },
#endif
};
#define N_MODELS (sizeof(models) / sizeof(models[0]))

#ifdef PARLAB_HAVE_MPI
/* The mpi model's runs pin Open MPI to loopback (cf_test_util.h). */
__attribute__((constructor)) static void mpi_env(void)
{
	mpi_test_env();
}
#endif

/* --- the server ---------------------------------------------------------- */

/* GET or POST base_url + path; the body, in a static buffer. */
static const char *http(const struct pl_server *s, const char *method, const char *path)
{
	static char body[65536];
	char url[128];
	CURL *h = curl_easy_init();

	body[0] = '\0';
	snprintf(url, sizeof(url), "%s%s", s->base_url, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, folder_collect_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	cr_assert_eq(curl_easy_perform(h), CURLE_OK, "%s %s failed", method, url);
	curl_easy_cleanup(h);
	return body;
}

/* The number after "key": in a /stats body (keys are unique in it but
 * for the per-id map, whose keys are digits). */
static long field(const char *body, const char *key)
{
	char pattern[64];
	const char *at;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	at = strstr(body, pattern);
	cr_assert_not_null(at, "no %s in %s", key, body);
	return strtol(at + strlen(pattern), NULL, 10);
}

static void reset(const struct pl_server *s)
{
	http(s, "POST", "/stats/reset");
}

/* /stats' per-id map as sorted "id":count lines: how often each id was
 * asked, whatever order the server lists them in. */
static char *requests_per_id(const struct pl_server *s)
{
	const char *at = strstr(http(s, "GET", "/stats"), "\"requests_per_id\":{");
	char *copy, *lines;

	cr_assert_not_null(at);
	copy = strdup(at + strlen("\"requests_per_id\":{"));
	copy[strcspn(copy, "}")] = '\0';
	for (char *p = copy; *p; p++)
		if (*p == ',')
			*p = '\n';
	lines = sorted_lines(copy);
	free(copy);
	return lines;
}

/* --- inputs and outputs ------------------------------------------------ */

/* Writes ids (n of them) to a fresh temporary file; returns its path. */
static char *write_ids(const long *ids, size_t n)
{
	char *path = strdup("/tmp/parlab-folders-ids-XXXXXX");
	int fd = mkstemp(path);
	FILE *f;

	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "# written by tests/test_folders_models.c\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%ld%s", ids[i], i % 8 == 7 ? "\n" : ", ");
	fclose(f);
	return path;
}

static int count_substr(const char *s, const char *sub)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, sub)); p += strlen(sub))
		n++;
	return n;
}

/* The list of the first tests: 24 distinct ids, 8 of them failing (4 not
 * found, 4 forbidden), repeated into 64 entries so that repeats fall both
 * right after their first (still in flight) and long after it. */
static size_t mixed_list(long *ids)
{
	static const long distinct[] = {
		1234, 7404, 5678, 12403, 9012, 3456, 77404, 7890, 2468, 1357,
		88403, 1111, 2222, 404, 3333, 4444, 5555, 403, 6666, 7777,
		8888, 99404, 9999, 31403,
	};
	size_t n = 0;

	for (size_t k = 0; k < 24; k++) {
		ids[n++] = distinct[k];
		if (k % 3 == 0)
			ids[n++] = distinct[k];                 /* in flight */
		if (k % 2 == 0 && k > 4)
			ids[n++] = distinct[k - 5];             /* long done */
	}
	for (size_t k = 0; n < 64; k++)
		ids[n++] = distinct[(k * 7) % 24];
	return n;
}

static bool fails(long id)
{
	return id % 1000 == 403 || id % 1000 == 404;
}

/* --- tests -------------------------------------------------------------- */

/* Same JSON, same error lines, same exit status as serial, for several -j;
 * every injected failure named once per index that asks for it. */
Test(folders_models, match_serial_with_duplicates_and_bad_ids, .timeout = 90)
{
	static const char *const jobs[] = { "1", "3", "8" };
	const char *server_args[] = { "--latency-ms", "2", NULL };
	struct pl_server srv;
	long ids[64];
	size_t n = mixed_list(ids);
	char *file = write_ids(ids, n);
	struct run_result want, got;
	int injected = 0;

	for (size_t i = 0; i < n; i++)
		injected += fails(ids[i]);
	server_start(&srv, server_args);

	const char *base[] = { "--api", srv.base_url, "--ids", file, NULL };
	run_with(&want, 30, "serial/folders", base, NULL);
	cr_assert_eq(want.status, 1, "serial: status %d: %s", want.status, want.err);
	/* One line per failing entry, each with the server's reason. */
	cr_assert_eq(count_substr(want.err, "\n"), injected,
		     "serial: %d error lines for %d failing entries:\n%s",
		     count_substr(want.err, "\n"), injected, want.err);
	cr_assert_eq(count_substr(want.err, "HTTP 404 NOT_FOUND") +
		     count_substr(want.err, "HTTP 403 PERMISSION_DENIED"), injected, "%s", want.err);
	cr_assert_eq(count_substr(want.out, "_name\": "), (int)n - injected,
		     "serial: %s", want.out);
	char *want_err = without_prefix(want.err);

	for (size_t m = 0; m < N_MODELS; m++) {
		for (size_t j = 0; j < sizeof(jobs) / sizeof(jobs[0]); j++) {
			const char *args[] = { "--api", srv.base_url, "--ids", file,
					       "-j", jobs[j], NULL };

			run_with(&got, 30, models[m].prog, args, models[m].args);
			char *got_err = without_prefix(got.err);
			cr_expect_eq(got.status, 1, "%s -j %s: status %d", folder_model_name(&models[m]),
				     jobs[j], got.status);
			cr_expect_str_eq(got.out, want.out, "%s -j %s: stdout differs from serial's",
					 folder_model_name(&models[m]), jobs[j]);
			cr_expect_str_eq(got_err, want_err, "%s -j %s: stderr differs from serial's",
					 folder_model_name(&models[m]), jobs[j]);
			free(got_err);
			run_result_free(&got);
		}
	}
	free(want_err);
	run_result_free(&want);
	unlink(file);
	free(file);
	server_stop(&srv);
}

/* -n's generated list (30 % repeats, 10 % failing by default): the
 * summary line's checksum is serial's, and the failure count is the
 * list's. */
Test(folders_models, generated_list_matches_serial, .timeout = 60)
{
	const char *server_args[] = { "--latency-ms", "1", NULL };
	struct pl_server srv;
	struct run_result want, got;

	server_start(&srv, server_args);
	const char *args[] = { "--api", srv.base_url, "-n", "300", "-j", "8", NULL };
	run_with(&want, 30, "serial/folders", args, NULL);
	cr_assert_eq(want.status, 1, "serial: %s", want.err);
	/* 300 ids, 90 repeats, 210 distinct of which 21 fail. */
	cr_assert(strstr(want.out, ": 300 ids, 210 distinct, "), "%s", want.out);
	const char *sum = strstr(want.out, "checksum 0x");
	cr_assert_not_null(sum, "%s", want.out);
	long failed = strtol(strstr(want.out, "distinct, ") + 10, NULL, 10);
	cr_assert_eq(count_substr(want.err, "\n"), failed, "%s", want.err);
	cr_assert_eq(count_substr(want.err, "HTTP 40"), failed);

	for (size_t m = 0; m < N_MODELS; m++) {
		run_with(&got, 30, models[m].prog, args, models[m].args);
		cr_expect_eq(got.status, 1, "%s: status %d", folder_model_name(&models[m]), got.status);
		cr_expect(strstr(got.out, ": 300 ids, 210 distinct, ") &&
			  strncmp(strstr(got.out, "checksum 0x"), sum, 29) == 0,
			  "%s: %s, serial: %s", folder_model_name(&models[m]), got.out, want.out);
		cr_expect_eq(count_substr(got.err, "\n"), failed, "%s", folder_model_name(&models[m]));
		run_result_free(&got);
	}
	run_result_free(&want);
	server_stop(&srv);
}

/* The single-flight cache: each id once at the server, even when its
 * repeats come right after it, while it is still in flight.  Every model
 * is held to it, serial included. */
Test(folders_models, one_request_per_distinct_id, .timeout = 90)
{
	const char *server_args[] = { "--latency-ms", "20", NULL };
	struct pl_server srv;
	long ids[120];
	struct run_result r;

	/* 30 distinct ids, each asked 4 times in a row; 3 of them fail. */
	for (size_t i = 0; i < 120; i++)
		ids[i] = i / 4 % 10 == 3 ? 5000 * (long)(i / 4) + 404 : 1000 + (long)(i / 4);
	char *file = write_ids(ids, 120);
	server_start(&srv, server_args);

	for (size_t m = 0; m <= N_MODELS; m++) {
		const struct folder_model *mod = m < N_MODELS ? &models[m] : NULL;
		const char *args[] = { "--api", srv.base_url, "--ids", file, "-j", "8", NULL };

		reset(&srv);
		run_with(&r, 30, mod ? mod->prog : "serial/folders", args, mod ? mod->args : NULL);
		const char *name = mod ? folder_model_name(mod) : "serial/folders";
		cr_expect_eq(r.status, 1, "%s: status %d: %s", name, r.status, r.err);
		cr_expect_eq(count_substr(r.err, "\n"), 12, "%s:\n%s", name, r.err);
		const char *st = http(&srv, "GET", "/stats");
		cr_expect_eq(field(st, "requests_total"), 30, "%s: %s", name, st);
		cr_expect_eq(field(st, "distinct_ids"), 30, "%s: %s", name, st);
		cr_expect_eq(field(st, "ids_requested_more_than_once"), 0, "%s: %s", name, st);
		run_result_free(&r);
	}
	unlink(file);
	free(file);
	server_stop(&srv);
}

/* Transient 503s: the client retries them, and since the server's faults
 * are a fixed sequence per id, a model that asks each id from one place
 * sees exactly serial's faults, retries and answers. */
Test(folders_models, retries_match_serial, .timeout = 90)
{
	const char *server_args[] = { "--latency-ms", "1", "--error-rate", "0.3",
				      "--seed", "7", NULL };
	struct pl_server srv;
	struct run_result want, got;

	server_start(&srv, server_args);
	const char *args[] = { "--api", srv.base_url, "-n", "40", "-j", "4", "--print", NULL };
	reset(&srv);
	run_with(&want, 30, "serial/folders", args, NULL);
	char *want_per_id = requests_per_id(&srv);
	const char *st = http(&srv, "GET", "/stats");
	cr_assert_gt(field(st, "503"), 0, "no 503 injected: %s", st);
	cr_assert_gt(field(st, "repeated_requests"), 0, "no retry: %s", st);

	for (size_t m = 0; m < N_MODELS; m++) {
		reset(&srv);
		run_with(&got, 30, models[m].prog, args, models[m].args);
		cr_expect_str_eq(got.out, want.out, "%s", folder_model_name(&models[m]));
		char *per_id = requests_per_id(&srv);
		cr_expect_str_eq(per_id, want_per_id, "%s: other requests per id than serial",
				 folder_model_name(&models[m]));
		free(per_id);
		run_result_free(&got);
	}
	free(want_per_id);
	run_result_free(&want);
	server_stop(&srv);
}

/* No options: the seed's run, with a server of the program's own. */
Test(folders_models, seed_run_exits_0, .timeout = 60)
{
	struct run_result want, got;

	run_with(&want, 30, "serial/folders", NULL, NULL);
	cr_assert_eq(want.status, 0, "serial: %s", want.err);
	cr_assert_str_empty(want.err);
	cr_assert(strncmp(want.out, "{\n  \"folder_0_name\": \"", 22) == 0, "%s", want.out);
	cr_assert_eq(count_substr(want.out, "_name\": "), 10, "%s", want.out);
	cr_assert(strstr(want.out, "\"folder_9_name\": "), "%s", want.out);

	for (size_t m = 0; m < N_MODELS; m++) {
		run_with(&got, 30, models[m].prog, NULL, models[m].args);
		cr_expect_eq(got.status, 0, "%s: %s", folder_model_name(&models[m]), got.err);
		cr_expect_str_empty(got.err, "%s", folder_model_name(&models[m]));
		cr_expect_str_eq(got.out, want.out, "%s", folder_model_name(&models[m]));
		run_result_free(&got);
	}
	/* The five workers are the seed's, and the help says so. */
	const char *help[] = { "--help", NULL };
	run_with(&got, 10, "raw_threads/folders", help, NULL);
	cr_expect(strstr(got.out, "(default: 5)"), "%s", got.out);
	run_result_free(&got);
	run_result_free(&want);
}

/* A build with a sanitizer's runtime: programs start and run slower. */
static bool sanitizer_build(void)
{
	const char *build = getenv("PARLAB_BUILD");

	return build && strncmp(build, "build-san", 9) == 0;
}

/* The server allows 50 requests a second with a burst of 10 and answers
 * 429 beyond that.  With --rate 25 no model may ever get a 429 (half the
 * server's rate: room for a worker the machine delays), and 30 distinct
 * ids take at least 29 / 25 s.  Without --rate, 8 workers do get 429s
 * (so many that some folders fail even after the client's retries): the
 * check has teeth. */
Test(folders_models, rate_limit_holds, .timeout = 90)
{
	/* Twice the clients' rate, with room for a burst of 10: requests that
	 * a loaded machine delays and then delivers together must not read as
	 * a client over its rate. */
	const char *server_args[] = { "--latency-ms", "1", "--rate", "50", "--burst", "10", NULL };
	struct pl_server srv;
	struct run_result r;

	server_start(&srv, server_args);
	for (size_t m = 0; m <= N_MODELS; m++) {
		const struct folder_model *mod = m < N_MODELS ? &models[m] : NULL;
		const char *name = mod ? folder_model_name(mod) : "serial/folders";
		const char *args[] = { "--api", srv.base_url, "-n", "30", "--dup-percent", "0",
				       "--bad-percent", "0", "-j", "8", "--rate", "25", NULL };

		reset(&srv);
		double t0 = now_s();
		run_with(&r, 30, mod ? mod->prog : "serial/folders", args, mod ? mod->args : NULL);
		double wall = now_s() - t0;
		cr_expect_eq(r.status, 0, "%s: %s", name, r.err);
		const char *st = http(&srv, "GET", "/stats");
		/* The executor meters a lookup when it hands it to the pool
		 * (executors/folders.c says why).  Under a sanitizer a worker
		 * process takes up to a second to start, lookups metered in
		 * the meantime wait for it and reach the server together, and
		 * the server's burst of 10 can run out: there every lookup must
		 * still be answered once, 429s retried away. */
		bool slow_start = mod && strcmp(name, "executors/folders process") == 0 && sanitizer_build();
		if (!slow_start) {
			cr_expect_eq(field(st, "429"), 0, "%s went over the rate: %s", name, st);
			cr_expect_eq(field(st, "requests_total"), 30, "%s: %s", name, st);
		}
		cr_expect_eq(field(st, "200"), 30, "%s: %s", name, st);
		cr_expect_geq(wall, 29.0 / 25 * 0.95, "%s: 30 requests in %.3f s", name, wall);
		cr_expect_leq(wall, 20.0, "%s: %.3f s", name, wall);
		run_result_free(&r);
	}

	const char *unlimited[] = { "--api", srv.base_url, "-n", "30", "--dup-percent", "0",
				    "--bad-percent", "0", "-j", "8", NULL };
	reset(&srv);
	run_with(&r, 30, "openmp/folders", unlimited, NULL);
	cr_expect_gt(field(http(&srv, "GET", "/stats"), "429"), 0,
		     "8 workers without --rate should exceed the server's limit");
	run_result_free(&r);
	server_stop(&srv);
}

/* --stats counts the workers each model created (the server, which only
 * stands in for the cloud, is not counted). */
Test(folders_models, stats_count_workers, .timeout = 60)
{
	static const struct {
		size_t model;
		const char *key;
		bool per_worker;        /* -j of them, plus extra; else extra */
		long extra;
	} want[] = {
		{ 0, "threads_created", true, 0 },
		{ 1, "processes_created", true, 0 },
		{ 1, "threads_created", false, 1 },     /* the pool's manager */
		{ 2, "threads_created", true, 0 },
		{ 3, "processes_created", true, 0 },
		{ 4, "threads_created", true, -1 },     /* the master is not new */
	};
	const char *server_args[] = { "--latency-ms", "20", NULL };
	static const char *const counts[] = { "1", "3" };
	struct pl_server srv;
	struct run_result r;

	server_start(&srv, server_args);
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		const struct folder_model *m = &models[want[w].model];

		for (size_t c = 0; c < 2; c++) {
			const char *args[] = { "--api", srv.base_url, "-n", "20", "--bad-percent",
					       "0", "-j", counts[c], "--stats", NULL };
			long expect = (want[w].per_worker ? atol(counts[c]) : 0) + want[w].extra;

			run_with(&r, 30, m->prog, args, m->args);
			cr_expect_eq(r.status, 0, "%s: %s", folder_model_name(m), r.err);
			cr_expect_eq(stats_field(&r, want[w].key), expect, "%s -j %s: %s %ld, want %ld",
				     folder_model_name(m), counts[c], want[w].key,
				     stats_field(&r, want[w].key), expect);
			run_result_free(&r);
		}
	}
	/* serial has no workers, and --check passes. */
	const char *args[] = { "--api", srv.base_url, "-n", "20", "-j", "3", "--bad-percent",
			       "0", "--stats", NULL };
	run_with(&r, 30, "serial/folders", args, NULL);
	cr_expect_eq(stats_field(&r, "threads_created"), 0);
	cr_expect_eq(stats_field(&r, "processes_created"), 0);
	run_result_free(&r);
	for (size_t m = 0; m < N_MODELS; m++) {
		const char *check[] = { "--api", srv.base_url, "-n", "30", "-j", "3", "--check",
					NULL };

		run_with(&r, 30, models[m].prog, check, models[m].args);
		cr_expect_eq(r.status, 1, "%s --check", folder_model_name(&models[m]));
		cr_expect_not(strstr(r.err, "check failed"), "%s: %s", folder_model_name(&models[m]), r.err);
		run_result_free(&r);
	}
	server_stop(&srv);
}

Test(folders_models, bad_options_exit_2, .timeout = 60)
{
	static const char *const bad[] = {
		"--rate", "-1", NULL, "--rate", "abc", NULL, "--rate", "inf", NULL,
		"--api", NULL, "--api=", NULL, "--api", "ftp://example", NULL,
		"--ids", "/nonexistent/ids", NULL, "--ids", NULL,
		"--dup-percent", "101", NULL, "--bad-percent", "-1", NULL,
		"--burst", "0", NULL, "-j", "0", NULL, "-n", "-3", NULL,
		"--bogus", NULL, "--ids", "/dev/null", "-n", "1", NULL,
		"--timeout-ms", "0", NULL, "--timeout-ms", "x", NULL,
		"--attempts", "0", NULL, "--attempts", "101", NULL,
		NULL,
	};
	static const char *const bad_executor[] = { "--executor", "fork", NULL, NULL };
	long ids[] = { 12, 34 };
	char *file = write_ids(ids, 2);
	FILE *f = fopen(file, "a");

	fputs("56 abc 78\n", f);
	fclose(f);
	const char *bad_file[] = { "--ids", file, NULL, NULL };

	assert_bad_options("serial/folders", bad);
	assert_bad_options("serial/folders", bad_file);
	for (size_t m = 0; m < N_MODELS; m++)
		if (m == 0 || models[m].prog != models[m - 1].prog)
			assert_bad_options(models[m].prog, bad);
	assert_bad_options("executors/folders", bad_executor);
	unlink(file);
	free(file);
}

/* --ids: spaces, commas, newlines and comments; with -n, its first N. */
Test(folders_models, ids_file, .timeout = 30)
{
	const char *server_args[] = { "--latency-ms", "0", NULL };
	struct pl_server srv;
	struct run_result r;
	char path[] = "/tmp/parlab-folders-ids-XXXXXX";
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	dprintf(fd, "# three folders\n1234,5678\n\n  1234 # again\n0\n");
	close(fd);
	server_start(&srv, server_args);

	const char *all[] = { "--api", srv.base_url, "--ids", path, NULL };
	run_with(&r, 30, "openmp/folders", all, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(count_substr(r.out, "_name\": "), 4, "%s", r.out);
	cr_expect(strstr(r.out, "\"folder_3_name\": "), "%s", r.out);
	run_result_free(&r);

	const char *first[] = { "--api", srv.base_url, "--ids", path, "-n", "2", NULL };
	run_with(&r, 30, "raw_threads/folders", first, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, ": 2 ids, 2 distinct, 0 failed"), "%s", r.out);
	run_result_free(&r);

	const char *help[] = { "--help", NULL };
	static const char *const wanted[] = { "--api URL", "--ids FILE", "--rate R", "--burst B",
					      "--dup-percent P", "--bad-percent P" };
	run_with(&r, 10, "executors/folders", help, NULL);
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		cr_expect(strstr(r.out, wanted[i]), "--help lacks %s", wanted[i]);
	run_result_free(&r);
	unlink(path);
	server_stop(&srv);
}

/* A child that dies mid-run: reported with its signal, its folders
 * reported as failed, every other child reaped, exit status 1, no hang. */
Test(folders_models, crashed_child_is_reported, .timeout = 60)
{
	const char *server_args[] = { "--latency-ms", "10", NULL };
	struct pl_server srv;
	struct run_result r;

	server_start(&srv, server_args);
	const char *args[] = { "--api", srv.base_url, "-n", "40", "--bad-percent", "0",
			       "-j", "4", NULL };
	setenv("PARLAB_TEST_CRASH_WORKER", "1", 1);
	run_with(&r, 30, "raw_processes/folders", args, NULL);
	unsetenv("PARLAB_TEST_CRASH_WORKER");
	cr_expect_eq(r.status, 1, "status %d: %s", r.status, r.err);
	cr_expect(strstr(r.err, "raw_processes/folders: worker 1 (pid ") &&
		  strstr(r.err, "killed by signal 9"), "%s", r.err);
	cr_expect(strstr(r.err, "no answer: its worker died"), "%s", r.err);
	cr_expect(strstr(r.out, ": 40 ids, "), "%s", r.out);
	run_result_free(&r);
	server_stop(&srv);
}

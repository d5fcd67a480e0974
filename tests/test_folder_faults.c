/* The folder workload under faults, run for real (issue 8, "Faults").
 *
 * - The client against each --fault of the server (slow, reset,
 *   malformed, truncate, huge-header): the error class, a message that
 *   says what happened, and a bounded number of attempts.
 * - Every model's folders program while its server is killed with
 *   SIGKILL mid-run: exit status 1, and every index accounted for, named
 *   on stdout or reported as failed on stderr, none missing, none twice.
 * - Every model against a server that injects faults: the same
 *   accounting; with the faults that do not depend on timing, exactly
 *   serial's output, since faults are a fixed sequence per id.
 *
 * Nothing here asserts a duration: each wait has a bound (the run's
 * timeout, the test's), and the times seen are logged.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "folder_client.h"
#include "folder_server_ctl.h"
#include "cf_test_util.h"
#include "folder_test_util.h"
#include "model_checks.h"


static const struct folder_model serial = { "serial/folders", { NULL } };
static const struct folder_model thread_pool = { "executors/folders", { "--executor", "thread", NULL } };
static const struct folder_model process_pool = { "executors/folders", { "--executor", "process", NULL } };
static const struct folder_model pthreads = { "raw_threads/folders", { NULL } };
static const struct folder_model forked = { "raw_processes/folders", { NULL } };
static const struct folder_model openmp = { "openmp/folders", { NULL } };

static const struct folder_model *const parallel_models[] = {
	&thread_pool, &process_pool, &pthreads, &forked, &openmp,
};
#define N_PARALLEL (sizeof(parallel_models) / sizeof(parallel_models[0]))

/* GET or POST base_url + path into body[65536]; the curl result. */
static CURLcode http(const struct pl_server *s, const char *method, const char *path,
		     char *body)
{
	char url[128];
	CURL *h = curl_easy_init();
	CURLcode rc;

	body[0] = '\0';
	snprintf(url, sizeof(url), "%s%s", s->base_url, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, folder_collect_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	return rc;
}

/* The number after "key": in a /stats body (-1 if absent). */
static long field(const char *body, const char *key)
{
	char pattern[64];
	const char *at;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	at = strstr(body, pattern);
	return at ? strtol(at + strlen(pattern), NULL, 10) : -1;
}

static int count_substr(const char *s, const char *sub)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, sub)); p += strlen(sub))
		n++;
	return n;
}

/* --- the accounting ----------------------------------------------------- */

struct tally {
	long named, failed;
};

/* Every index of an n-id run is accounted for exactly once: a key
 * "folder_I_name" with a non-empty name in the JSON object on stdout, or
 * a line "PROG: folder_I_name: REASON" on stderr, with a reason.  Any
 * other line on stderr fails the check too: nothing is reported in a
 * shape a reader of the output would not find. */
static struct tally assert_accounted(const char *who, const struct run_result *r, long n)
{
	char *seen = calloc((size_t)n, 1);
	struct json_object *o = json_tokener_parse(r->out);
	struct tally t = { 0, 0 };

	cr_assert(seen);
	cr_assert(o && json_object_is_type(o, json_type_object),
		  "%s: stdout is not one JSON object: %.300s", who, r->out);
	json_object_object_foreach(o, key, val) {
		long i = -1;
		int end = 0;

		cr_expect(sscanf(key, "folder_%ld_name%n", &i, &end) == 1 && !key[end] &&
			  i >= 0 && i < n, "%s: stray key '%s' on stdout", who, key);
		if (i < 0 || i >= n)
			continue;
		cr_expect(json_object_is_type(val, json_type_string) &&
			  json_object_get_string_len(val) > 0, "%s: %s has no name", who, key);
		cr_expect_eq(seen[i], 0, "%s: index %ld accounted for twice", who, i);
		seen[i]++;
		t.named++;
	}
	json_object_put(o);

	for (const char *line = r->err; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *at = strstr(line, ": folder_");
		long i = -1;
		int end = 0;

		if (at && at < line + len &&
		    sscanf(at, ": folder_%ld_name: %n", &i, &end) == 1 && end > 0 &&
		    at + end < line + len && i >= 0 && i < n) {
			cr_expect_eq(seen[i], 0, "%s: index %ld accounted for twice", who, i);
			seen[i]++;
			t.failed++;
		} else {
			cr_expect(0, "%s: a stderr line that names no folder: %.*s", who,
				  (int)len, line);
		}
		line += nl ? len + 1 : len;
	}
	for (long i = 0; i < n; i++)
		cr_expect_eq(seen[i], 1, "%s: folder_%ld_name is neither named on stdout "
			     "nor reported on stderr", who, i);
	free(seen);
	return t;
}

/* Each name a program did print is the right one: the same key holds the
 * same name in ref (a run with no fault). */
static void assert_names_match(const char *who, const char *out, const char *ref_out)
{
	struct json_object *o = json_tokener_parse(out), *ref = json_tokener_parse(ref_out);
	struct json_object *want;

	cr_assert(o && ref, "%s: unreadable JSON", who);
	json_object_object_foreach(o, key, val) {
		cr_expect(json_object_object_get_ex(ref, key, &want) &&
			  !strcmp(json_object_get_string(val), json_object_get_string(want)),
			  "%s: %s is '%s', not what a run without faults says", who, key,
			  json_object_get_string(val));
	}
	json_object_put(o);
	json_object_put(ref);
}

/* --- the client against each fault ------------------------------------- */

struct case_ {
	const char *fault;
	enum pl_folder_status status;
	const char *says[2];    /* the message holds one of them */
	int attempts;           /* sent, with max_attempts 3 */
};

Test(folder_faults, client_names_each_fault, .timeout = 90)
{
	static const struct case_ cases[] = {
		{ "slow", PL_FOLDER_TRANSPORT, { "timed out", "Timeout" }, 3 },
		{ "reset", PL_FOLDER_TRANSPORT, { "reset", "Recv failure" }, 3 },
		{ "truncate", PL_FOLDER_TRANSPORT, { "transfer closed", "remaining" }, 3 },
		{ "malformed", PL_FOLDER_MALFORMED, { "malformed answer", NULL }, 1 },
		{ "huge-header", PL_FOLDER_MALFORMED, { "header", NULL }, 1 },
	};
	/* A short timeout for "slow"; no breaker, so each call is tried. */
	const struct pl_folder_client_options o = {
		.timeout_ms = 300, .connect_timeout_ms = 300, .max_attempts = 3,
		.backoff_base_ms = 5, .backoff_max_ms = 20, .breaker_after = -1,
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct case_ *c = &cases[k];
		char fault[32], name[128];
		const char *args[] = { "--fault", fault, "--slow-ms", "5000", NULL };
		struct pl_server s;
		struct pl_folder_client *cl;
		struct pl_folder_error e;
		double t0, worst = 0;

		snprintf(fault, sizeof(fault), "%s:1", c->fault);
		server_start(&s, args);
		cl = pl_folder_client_new(s.base_url, &o);
		cr_assert(cl);
		/* Several ids: each flavour of a fault (which malformed body,
		 * which huge header) comes from a seeded draw per request. */
		for (long id = 1; id <= 8; id++) {
			t0 = now_s();
			cr_expect_eq(pl_folder_get(cl, id, name, sizeof(name), &e), c->status,
				     "--fault %s, folder %ld: %s (%s)", fault, id,
				     pl_folder_strstatus(e.status), e.message);
			cr_expect(strstr(e.message, c->says[0]) ||
				  (c->says[1] && strstr(e.message, c->says[1])),
				  "--fault %s: unclear message: %s", fault, e.message);
			cr_expect(!strchr(e.message, '\n'), "%s", e.message);
			cr_expect_eq(e.attempts, c->attempts, "--fault %s: %d attempts (%s)",
				     fault, e.attempts, e.message);
			cr_expect_eq(name[0], '\0', "--fault %s: a name came out: %s", fault, name);
			if (now_s() - t0 > worst)
				worst = now_s() - t0;
		}
		cr_log_info("--fault %s: %s, slowest call %.2f s", fault,
			    pl_folder_strstatus(c->status), worst);
		pl_folder_client_free(cl);
		server_stop(&s);
	}
}

/* A share of faults: the client retries the transient ones and most
 * lookups succeed; the server counts what it injected. */
Test(folder_faults, client_recovers_from_some_faults, .timeout = 60)
{
	const char *args[] = { "--fault", "reset:0.2", "--fault", "truncate:0.2", NULL };
	const struct pl_folder_client_options o = {
		.max_attempts = 6, .backoff_base_ms = 2, .backoff_max_ms = 10,
	};
	struct pl_folder_counters k;
	struct pl_server s;
	struct pl_folder_client *cl;
	char name[128], *body = malloc(65536);
	int ok = 0;

	server_start(&s, args);
	cl = pl_folder_client_new(s.base_url, &o);
	for (long id = 1; id <= 100; id++)
		ok += pl_folder_get(cl, id, name, sizeof(name), NULL) == PL_FOLDER_OK;
	pl_folder_client_counters(cl, &k);
	cr_expect_geq(ok, 98, "%d of 100 with 6 attempts against 40 %% faults", ok);
	cr_expect_gt(k.retries, 0);
	cr_assert_eq(http(&s, "GET", "/stats", body), CURLE_OK);
	cr_expect_gt(field(body, "reset"), 0, "%s", body);
	cr_expect_gt(field(body, "truncate"), 0, "%s", body);
	/* Every request beyond the first per id followed a fault.  (The
	 * server may count more of them than the client's retries: libcurl
	 * itself resends a request once when a kept-alive connection dies
	 * before any byte of the answer, which a reset looks like.) */
	cr_expect_eq(field(body, "reset") + field(body, "truncate"),
		     field(body, "requests_total") - ok, "%s", body);
	cr_expect_leq(k.retries, field(body, "requests_total") - ok);
	free(body);
	pl_folder_client_free(cl);
	server_stop(&s);
}

/* --- the server killed mid-run ------------------------------------------- */

struct killer {
	struct pl_server *s;
	long after;             /* requests the server has seen first */
	atomic_bool stop;
	bool killed;
	double at;
	pthread_t t;
};

/* Watches /stats and sends SIGKILL once the run has sent `after`
 * requests: mid-run by construction, not by a guess of time. */
static void *killer_main(void *p)
{
	struct killer *k = p;
	char *body = malloc(65536);
	double deadline = now_s() + 30;

	while (!atomic_load(&k->stop) && now_s() < deadline) {
		if (http(k->s, "GET", "/stats", body) == CURLE_OK &&
		    field(body, "requests_total") >= k->after) {
			kill(k->s->pid, SIGKILL);
			k->killed = true;
			k->at = now_s();
			break;
		}
		usleep(2000);
	}
	free(body);
	return NULL;
}

#define KILL_N 120

static void server_killed_mid_run(const struct folder_model *m)
{
	const char *server_args[] = { "--latency-ms", "20", NULL };
	const char *name = folder_model_name(m);
	struct pl_server ref_srv, srv;
	struct run_result ref, r;
	struct killer k = { .after = 15 };
	struct tally t;
	double t0;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* The answers of a run that nothing disturbs, to check the names. */
	server_start(&ref_srv, NULL);
	const char *ref_args[] = { "--api", ref_srv.base_url, "-n", "120", "--print", NULL };
	run_with(&ref, 60, serial.prog, ref_args, NULL);
	server_stop(&ref_srv);

	server_start(&srv, server_args);
	k.s = &srv;
	pthread_create(&k.t, NULL, killer_main, &k);
	const char *args[] = { "--api", srv.base_url, "-n", "120", "--print", "-j", "4", NULL };
	t0 = now_s();
	run_with(&r, 60, m->prog, args, m->args);
	atomic_store(&k.stop, true);
	pthread_join(k.t, NULL);
	cr_assert(k.killed, "%s: the run ended before the server saw %ld requests: %s",
		  name, k.after, r.out);
	cr_expect_eq(pl_folder_server_stop(&srv), 128 + SIGKILL);

	cr_expect_eq(r.status, 1, "%s: status %d", name, r.status);
	t = assert_accounted(name, &r, KILL_N);
	assert_names_match(name, r.out, ref.out);
	/* Some failures say why: no connection, or the breaker's summary of
	 * the calls that had none. */
	cr_expect(strstr(r.err, "connect") || strstr(r.err, "reset") ||
		  strstr(r.err, "Empty reply") || strstr(r.err, "circuit breaker"),
		  "%s: no failure names the dead server:\n%s", name, r.err);
	cr_log_info("%s: server killed after %ld requests; %ld named, %ld failed, "
		    "%.2f s after the kill (run %.2f s)", name, k.after, t.named, t.failed,
		    now_s() - k.at, now_s() - t0);
	run_result_free(&ref);
	run_result_free(&r);
}

Test(folder_faults, server_killed_serial, .timeout = 120)
{
	server_killed_mid_run(&serial);
}

Test(folder_faults, server_killed_thread_pool, .timeout = 120)
{
	server_killed_mid_run(&thread_pool);
}

Test(folder_faults, server_killed_process_pool, .timeout = 120)
{
	server_killed_mid_run(&process_pool);
}

Test(folder_faults, server_killed_pthreads, .timeout = 120)
{
	server_killed_mid_run(&pthreads);
}

Test(folder_faults, server_killed_fork, .timeout = 120)
{
	server_killed_mid_run(&forked);
}

Test(folder_faults, server_killed_openmp, .timeout = 120)
{
	server_killed_mid_run(&openmp);
}

/* --- a faulty server ------------------------------------------------------ */

/* Truncated bodies, malformed JSON and huge headers, which do not depend
 * on timing: each id meets the same faults whoever asks for it, so every
 * model prints exactly serial's output and error lines.  Two things could
 * tell the models apart, and this test keeps clear of both: the client's
 * circuit breaker, by the order in which calls fail (the seed is one
 * where fewer calls fail for want of an answer than it takes to open
 * it); and resets, which libcurl resends by itself on a kept-alive
 * connection but not on a fresh one (which connection a request takes
 * depends on the model's workers).  The next test has resets. */
Test(folder_faults, every_model_matches_serial_under_faults, .timeout = 180)
{
	const char *server_args[] = {
		"--latency-ms", "2", "--seed", "3",
		"--fault", "truncate:0.2", "--fault", "malformed:0.05",
		"--fault", "huge-header:0.05", "--huge-header-bytes", "200000", NULL,
	};
	struct pl_server srv;
	struct run_result want, got;
	char *body = malloc(65536), *want_faults;

	server_start(&srv, server_args);
	const char *args[] = { "--api", srv.base_url, "-n", "150", "--print", "-j", "4",
			       "--attempts", "3", NULL };
	run_with(&want, 60, serial.prog, args, NULL);
	cr_assert_eq(want.status, 1, "serial: status %d: %s", want.status, want.err);
	assert_accounted("serial", &want, 150);
	cr_assert(strstr(want.err, "transfer closed") && strstr(want.err, "malformed answer: not") &&
		  strstr(want.err, "malformed answer: headers larger") &&
		  strstr(want.err, "malformed answer: a header line"),
		  "serial did not meet every fault:\n%s", want.err);
	cr_assert_lt(count_substr(want.err, "attempts)"), 3,
		     "the breaker could open with this seed:\n%s", want.err);
	cr_assert_eq(http(&srv, "GET", "/stats", body), CURLE_OK);
	cr_assert(field(body, "truncate") > 0 && field(body, "malformed") > 0 &&
		  field(body, "huge-header") > 0, "%s", body);
	want_faults = strdup(strstr(body, "\"faults_injected\""));
	want_faults[strcspn(want_faults, "}")] = '\0';
	char *want_err = without_prefix(want.err);

	for (size_t m = 0; m < N_PARALLEL; m++) {
		const char *name = folder_model_name(parallel_models[m]);

		http(&srv, "POST", "/stats/reset", body);
		run_with(&got, 60, parallel_models[m]->prog, args, parallel_models[m]->args);
		char *got_err = without_prefix(got.err);

		cr_expect_eq(got.status, 1, "%s: status %d", name, got.status);
		assert_accounted(name, &got, 150);
		cr_expect_str_eq(got.out, want.out, "%s: stdout differs from serial's", name);
		cr_expect_str_eq(got_err, want_err, "%s: stderr differs from serial's", name);
		cr_assert_eq(http(&srv, "GET", "/stats", body), CURLE_OK);
		cr_expect(strstr(body, want_faults), "%s: other faults than serial's: %s, not %s",
			  name, body, want_faults);
		free(got_err);
		run_result_free(&got);
	}
	cr_log_info("faults, as serial met them: %s}", want_faults);
	free(want_err);
	free(want_faults);
	free(body);
	run_result_free(&want);
	server_stop(&srv);
}

/* Half the answers later than the client waits: timeouts, retried, and
 * the folders that timed out on both attempts reported as failed. */
Test(folder_faults, every_model_accounts_for_slow_answers, .timeout = 180)
{
	const char *server_args[] = { "--fault", "slow:0.5", "--slow-ms", "3000", NULL };
	const struct folder_model *all[N_PARALLEL + 1] = { &serial };
	struct pl_server srv;
	struct run_result r;

	memcpy(all + 1, parallel_models, sizeof(parallel_models));
	server_start(&srv, server_args);
	const char *args[] = { "--api", srv.base_url, "-n", "24", "--print", "-j", "4",
			       "--timeout-ms", "300", "--attempts", "2", NULL };
	for (size_t m = 0; m <= N_PARALLEL; m++) {
		const char *name = folder_model_name(all[m]);
		double t0 = now_s();
		struct tally t;

		run_with(&r, 60, all[m]->prog, args, all[m]->args);
		cr_expect_eq(r.status, 1, "%s: status %d", name, r.status);
		t = assert_accounted(name, &r, 24);
		cr_expect(strstr(r.err, "timed out"), "%s: no timeout reported:\n%s", name, r.err);
		cr_log_info("%s: --fault slow:0.5, 300 ms timeout: %ld named, %ld failed, %.2f s",
			    name, t.named, t.failed, now_s() - t0);
		run_result_free(&r);
	}
	server_stop(&srv);
}

/* Every kind at once, resets included: whatever the order of failures,
 * every index is named or reported. */
Test(folder_faults, every_model_accounts_for_mixed_faults, .timeout = 180)
{
	const char *server_args[] = {
		"--latency-ms", "2", "--fault", "reset:0.15", "--fault", "truncate:0.1",
		"--fault", "malformed:0.05", "--fault", "huge-header:0.05",
		"--fault", "slow:0.05", "--slow-ms", "3000", NULL,
	};
	const struct folder_model *all[N_PARALLEL + 1] = { &serial };
	struct pl_server srv;
	struct run_result r;
	char *body = malloc(65536);

	memcpy(all + 1, parallel_models, sizeof(parallel_models));
	server_start(&srv, server_args);
	const char *args[] = { "--api", srv.base_url, "-n", "100", "--print", "-j", "4",
			       "--timeout-ms", "500", "--attempts", "3", NULL };
	for (size_t m = 0; m <= N_PARALLEL; m++) {
		const char *name = folder_model_name(all[m]);
		double t0 = now_s();
		struct tally t;

		http(&srv, "POST", "/stats/reset", body);
		run_with(&r, 60, all[m]->prog, args, all[m]->args);
		cr_expect_eq(r.status, 1, "%s: status %d", name, r.status);
		t = assert_accounted(name, &r, 100);
		cr_assert_eq(http(&srv, "GET", "/stats", body), CURLE_OK);
		char *faults = strstr(body, "\"faults_injected\"");

		cr_assert(faults, "%s", body);
		faults[strcspn(faults, "}")] = '\0';
		cr_log_info("%s: %ld named, %ld failed, %.2f s; %s}", name, t.named, t.failed,
			    now_s() - t0, faults);
		run_result_free(&r);
	}
	free(body);
	server_stop(&srv);
}

/* The shared folder API client: what it retries and what it does not,
 * Retry-After, timeouts, a server that is down, malformed answers, many
 * threads on one client, use after fork, and the server control helper.
 *
 * Most tests run against the real server; the few answers it never gives
 * (a 429 with only Retry-After in seconds, a 200 that is not JSON) come
 * from a canned one-thread server in this file.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "folder_client.h"
#include "folder_server_ctl.h"
#include "cf_test_util.h"
#include "folder_test_util.h"
#include "support.h"

#define SERVER "workloads/folder-api-server"

/* Fast retries, so that tests of the policy do not spend seconds. */
static const struct pl_folder_client_options quick = {
	.max_attempts = 3, .backoff_base_ms = 5, .backoff_max_ms = 20,
};

static struct pl_folder_client *client(const struct pl_server *s,
				       const struct pl_folder_client_options *o)
{
	struct pl_folder_client *c = pl_folder_client_new(s->base_url, o);

	cr_assert(c, "pl_folder_client_new(%s) failed", s->base_url);
	return c;
}

/* /stats, fetched with plain libcurl. */
static struct json_object *server_stats(const struct pl_server *s)
{
	static char body[65536];
	char url[128];
	CURL *h = curl_easy_init();
	struct json_object *o;

	body[0] = '\0';
	snprintf(url, sizeof(url), "%s/stats", s->base_url);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, folder_collect_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	cr_assert_eq(curl_easy_perform(h), CURLE_OK);
	curl_easy_cleanup(h);
	o = json_tokener_parse(body);
	cr_assert(o, "/stats: %s", body);
	return o;
}

static long long requests_for(const struct pl_server *s, long id)
{
	struct json_object *st = server_stats(s), *per, *v;
	char key[32];
	long long n = 0;

	snprintf(key, sizeof(key), "%ld", id);
	if (json_object_object_get_ex(st, "requests_per_id", &per) &&
	    json_object_object_get_ex(per, key, &v))
		n = json_object_get_int64(v);
	json_object_put(st);
	return n;
}

static long long stats_field(const struct pl_server *s, const char *group, const char *key)
{
	struct json_object *st = server_stats(s), *g = st, *v;
	long long n = -1;

	if ((!group || json_object_object_get_ex(st, group, &g)) &&
	    json_object_object_get_ex(g, key, &v))
		n = json_object_get_int64(v);
	json_object_put(st);
	return n;
}

/* --- a canned server for the answers the real one never gives ---------- */

struct canned {
	int fd;
	int port;
	const char *const *replies;     /* one per connection; the last repeats */
	int served;
	pthread_t thread;
};

static void *canned_loop(void *p)
{
	struct canned *k = p;
	int c;

	while ((c = accept(k->fd, NULL, NULL)) >= 0) {
		char req[4096];
		size_t len = 0;
		ssize_t n;
		const char *reply = k->replies[k->served];

		while (len < sizeof(req) - 1 && (n = read(c, req + len, sizeof(req) - 1 - len)) > 0) {
			len += (size_t)n;
			req[len] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		if (k->replies[k->served + 1])
			k->served++;
		if (write(c, reply, strlen(reply)) < 0)
			perror("canned write");
		close(c);
	}
	return NULL;
}

static void canned_start(struct canned *k, const char *const *replies)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	k->replies = replies;
	k->served = 0;
	k->fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(k->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(k->fd, 16), 0);
	getsockname(k->fd, (struct sockaddr *)&a, &len);
	k->port = ntohs(a.sin_port);
	pthread_create(&k->thread, NULL, canned_loop, k);
}

static void canned_stop(struct canned *k)
{
	shutdown(k->fd, SHUT_RDWR);     /* wakes accept() */
	pthread_join(k->thread, NULL);
	close(k->fd);
}

static struct pl_folder_client *canned_client(const struct canned *k,
					      const struct pl_folder_client_options *o)
{
	char url[64];
	struct pl_folder_client *c;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", k->port);
	c = pl_folder_client_new(url, o);
	cr_assert(c);
	return c;
}

#define FOLDER_7 "{\"name\":\"folders/7\",\"displayName\":\"Seven\",\"state\":\"ACTIVE\"}"

static char *reply(char *buf, size_t cap, const char *status, const char *extra,
		   const char *body)
{
	snprintf(buf, cap, "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
		 "Connection: close\r\n%sContent-Length: %zu\r\n\r\n%s",
		 status, extra, strlen(body), body);
	return buf;
}

/* --- the policy ------------------------------------------------------ */

Test(folder_client, gets_the_display_name, .timeout = 30)
{
	struct pl_server s;
	struct pl_folder_client *c;
	struct pl_folder_error e;
	char name[64];

	server_start(&s, NULL);
	c = client(&s, NULL);
	cr_assert_eq(pl_folder_get(c, 123, name, sizeof(name), &e), PL_FOLDER_OK, "%s", e.message);
	cr_expect_eq(e.status, PL_FOLDER_OK);
	cr_expect_eq(e.http_status, 200);
	cr_expect_eq(e.attempts, 1);
	cr_expect_eq(e.retries, 0);
	cr_expect_str_eq(e.message, "");
	cr_expect(strlen(name) > 0);

	/* The same again, over the same kept-alive connection. */
	char again[64];

	cr_expect_eq(pl_folder_get(c, 123, again, sizeof(again), NULL), PL_FOLDER_OK);
	cr_expect_str_eq(name, again);
	cr_expect_eq(requests_for(&s, 123), 2);
	pl_folder_client_free(c);
	server_stop(&s);
}

Test(folder_client, permanent_errors_are_not_retried, .timeout = 30)
{
	struct pl_server s;
	struct pl_folder_client *c;
	struct pl_folder_error e;
	struct pl_folder_counters k;
	char name[64];

	server_start(&s, NULL);
	c = client(&s, &quick);
	cr_expect_eq(pl_folder_get(c, 7404, name, sizeof(name), &e), PL_FOLDER_PERMANENT);
	cr_expect_eq(e.http_status, 404);
	cr_expect_eq(e.attempts, 1);
	cr_expect(strstr(e.message, "404") && strstr(e.message, "NOT_FOUND"), "%s", e.message);
	cr_expect_str_eq(name, "");

	cr_expect_eq(pl_folder_get(c, 403, name, sizeof(name), &e), PL_FOLDER_PERMANENT);
	cr_expect_eq(e.http_status, 403);
	cr_expect_eq(e.attempts, 1);
	cr_expect(strstr(e.message, "PERMISSION_DENIED"), "%s", e.message);

	cr_expect_eq(requests_for(&s, 7404), 1, "a 404 was retried");
	cr_expect_eq(requests_for(&s, 403), 1, "a 403 was retried");
	pl_folder_client_counters(c, &k);
	cr_expect_eq(k.calls, 2);
	cr_expect_eq(k.permanent, 2);
	cr_expect_eq(k.requests, 2);
	cr_expect_eq(k.retries, 0);
	pl_folder_client_free(c);
	server_stop(&s);
}

Test(folder_client, transient_errors_are_retried_then_given_up, .timeout = 30)
{
	const char *const always[] = { "--error-rate", "1", NULL };
	struct pl_server s;
	struct pl_folder_client *c;
	struct pl_folder_error e;
	char name[64];

	server_start(&s, always);
	c = client(&s, &quick);
	cr_expect_eq(pl_folder_get(c, 5, name, sizeof(name), &e), PL_FOLDER_EXHAUSTED);
	cr_expect_eq(e.http_status, 503);
	cr_expect_eq(e.attempts, 3);
	cr_expect_eq(e.retries, 2);
	cr_expect_gt(e.waited_ms, 0);
	cr_expect(strstr(e.message, "UNAVAILABLE") && strstr(e.message, "3 attempts"),
		  "%s", e.message);
	cr_expect_eq(requests_for(&s, 5), 3);
	pl_folder_client_free(c);
	server_stop(&s);
}

Test(folder_client, transient_errors_recover, .timeout = 60)
{
	const char *const half[] = { "--error-rate", "0.5", "--seed", "3", NULL };
	struct pl_folder_client_options o = quick;
	struct pl_server s;
	struct pl_folder_client *c;
	struct pl_folder_counters k;
	char name[64];

	o.max_attempts = 30;    /* 0.5^30: never exhausted in practice */
	server_start(&s, half);
	c = client(&s, &o);
	for (long id = 1; id <= 40; id++) {
		struct pl_folder_error e;

		cr_expect_eq(pl_folder_get(c, id, name, sizeof(name), &e), PL_FOLDER_OK,
			     "id %ld: %s", id, e.message);
		cr_expect_eq(requests_for(&s, id), e.attempts);
	}
	pl_folder_client_counters(c, &k);
	cr_expect_eq(k.ok, 40);
	cr_expect_gt(k.retries, 5, "50%% errors but only %ld retries", k.retries);
	cr_expect_eq(k.requests, 40 + k.retries);
	cr_expect_eq(stats_field(&s, "by_status", "503"), k.retries);
	pl_folder_client_free(c);
	server_stop(&s);
}

Test(folder_client, rate_limit_is_honoured, .timeout = 30)
{
	const char *const limited[] = { "--rate", "20", "--burst", "1", NULL };
	struct pl_folder_client_options o = quick;
	struct pl_server s;
	struct pl_folder_client *c;
	struct pl_folder_counters k;
	char name[64];
	double t0;

	o.max_attempts = 10;
	server_start(&s, limited);
	c = client(&s, &o);
	t0 = now_s();
	for (long id = 1; id <= 10; id++) {
		struct pl_folder_error e;

		cr_expect_eq(pl_folder_get(c, id, name, sizeof(name), &e), PL_FOLDER_OK,
			     "id %ld: %s", id, e.message);
	}
	/* 10 requests through a bucket of 1 refilled at 20/s: >= 9 / 20 s. */
	cr_expect_geq(now_s() - t0, 0.4, "10 requests at 20/s took %.2f s", now_s() - t0);
	cr_expect_lt(now_s() - t0, 2.0, "Retry-After-Ms not honoured: %.2f s", now_s() - t0);
	pl_folder_client_counters(c, &k);
	cr_expect_gt(k.retries, 0, "the bucket never said 429?");
	cr_expect_eq(stats_field(&s, "by_status", "429"), k.retries);
	pl_folder_client_free(c);
	server_stop(&s);
}

Test(folder_client, retry_after_in_seconds, .timeout = 30)
{
	char r429[256], r200[256];
	const char *replies[3];
	struct canned k;
	struct pl_folder_client *c;
	struct pl_folder_error e;
	char name[64];
	double t0;

	replies[0] = reply(r429, sizeof(r429), "429 Too Many Requests", "Retry-After: 1\r\n", "{}");
	replies[1] = reply(r200, sizeof(r200), "200 OK", "", FOLDER_7);
	replies[2] = NULL;
	canned_start(&k, replies);
	c = canned_client(&k, &quick);
	t0 = now_s();
	cr_expect_eq(pl_folder_get(c, 7, name, sizeof(name), &e), PL_FOLDER_OK, "%s", e.message);
	cr_expect_str_eq(name, "Seven");
	cr_expect_eq(e.attempts, 2);
	cr_expect_geq(e.waited_ms, 1000, "Retry-After: 1 but waited %ld ms", e.waited_ms);
	cr_expect_geq(now_s() - t0, 1.0);
	pl_folder_client_free(c);
	canned_stop(&k);
}

Test(folder_client, retry_after_too_long_gives_up, .timeout = 30)
{
	char r429[256];
	const char *replies[2];
	struct canned k;
	struct pl_folder_client *c;
	struct pl_folder_error e;
	char name[64];
	double t0;

	replies[0] = reply(r429, sizeof(r429), "503 Service Unavailable",
			   "Retry-After: 3600\r\n", "{}");
	replies[1] = NULL;
	canned_start(&k, replies);
	c = canned_client(&k, &quick);
	t0 = now_s();
	cr_expect_eq(pl_folder_get(c, 7, name, sizeof(name), &e), PL_FOLDER_EXHAUSTED);
	cr_expect_eq(e.attempts, 1);
	cr_expect(strstr(e.message, "gave up"), "%s", e.message);
	cr_expect_lt(now_s() - t0, 1.0);
	pl_folder_client_free(c);
	canned_stop(&k);
}

Test(folder_client, malformed_answers, .timeout = 30)
{
	static const char *const bodies[] = {
		"this is not JSON",
		"{\"name\":\"folders/7\"}",                             /* no displayName */
		"{\"name\":\"folders/8\",\"displayName\":\"Eight\"}",   /* another folder */
		"{\"name\":\"folders/7\",\"displayName\":7}",           /* not a string */
		FOLDER_7 " trailing",
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		const char *replies[2] = { reply(buf, sizeof(buf), "200 OK", "", bodies[i]), NULL };
		struct canned k;
		struct pl_folder_client *c;
		struct pl_folder_error e;
		char name[64];

		canned_start(&k, replies);
		c = canned_client(&k, &quick);
		cr_expect_eq(pl_folder_get(c, 7, name, sizeof(name), &e), PL_FOLDER_MALFORMED,
			     "body '%s' was accepted", bodies[i]);
		cr_expect_eq(e.attempts, 1, "a malformed answer was retried");
		cr_expect(strstr(e.message, "malformed"), "%s", e.message);
		pl_folder_client_free(c);
		canned_stop(&k);
	}
}

Test(folder_client, invalid_calls, .timeout = 30)
{
	struct pl_server s;
	struct pl_folder_client *c;
	struct pl_folder_error e;
	char name[64];

	cr_expect_null(pl_folder_client_new(NULL, NULL));
	cr_expect_null(pl_folder_client_new("", NULL));
	server_start(&s, NULL);
	c = client(&s, NULL);
	cr_expect_eq(pl_folder_get(c, -1, name, sizeof(name), &e), PL_FOLDER_INVALID);
	cr_expect_eq(pl_folder_get(c, 1, name, 0, &e), PL_FOLDER_INVALID);
	cr_expect_eq(pl_folder_get(NULL, 1, name, sizeof(name), &e), PL_FOLDER_INVALID);
	/* A name that does not fit is an error, not a cut name. */
	cr_expect_eq(pl_folder_get(c, 1, name, 4, &e), PL_FOLDER_INVALID);
	cr_expect(strstr(e.message, "does not fit"), "%s", e.message);
	cr_expect_str_eq(pl_folder_strstatus(PL_FOLDER_PERMANENT), "permanent error");
	pl_folder_client_free(c);
	pl_folder_client_free(NULL);
	server_stop(&s);
}

/* --- when there is no answer --------------------------------------------- */

Test(folder_client, timeout_is_a_transport_error, .timeout = 30)
{
	const char *const slow[] = { "--latency-ms", "5000", NULL };
	struct pl_folder_client_options o = quick;
	struct pl_server s;
	struct pl_folder_client *c;
	struct pl_folder_error e;
	char name[64];
	double t0;

	o.timeout_ms = 200;
	o.max_attempts = 2;
	server_start(&s, slow);
	c = client(&s, &o);
	t0 = now_s();
	cr_expect_eq(pl_folder_get(c, 1, name, sizeof(name), &e), PL_FOLDER_TRANSPORT);
	cr_expect_eq(e.attempts, 2, "a timeout is retried");
	cr_expect_eq(e.http_status, 0);
	cr_expect(strcasestr(e.message, "timeout") || strcasestr(e.message, "timed out"),
		  "%s", e.message);
	cr_expect_lt(now_s() - t0, 2.0, "two attempts of 200 ms took %.2f s", now_s() - t0);
	pl_folder_client_free(c);
	server_stop(&s);
}

Test(folder_client, server_down_is_a_clear_error, .timeout = 30)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	struct pl_folder_client *c;
	struct pl_folder_error e;
	char url[64], name[64];
	double t0;
	int fd;

	/* A port that is bound but never listened on: refused, and no other
	 * test can take it meanwhile. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));

	c = pl_folder_client_new(url, &quick);
	cr_assert(c);
	t0 = now_s();
	cr_expect_eq(pl_folder_get(c, 1, name, sizeof(name), &e), PL_FOLDER_TRANSPORT);
	cr_expect_eq(e.attempts, 3, "a refused connection is retried");
	cr_expect(strcasestr(e.message, "connect"), "%s", e.message);
	cr_expect(strstr(e.message, "3 attempts"), "%s", e.message);
	cr_expect_lt(now_s() - t0, 1.0, "took %.2f s", now_s() - t0);
	pl_folder_client_free(c);
	close(fd);
}

/* --- the body parser, on its own ------------------------------------------ */

struct body_case {
	const char *body;
	size_t len;             /* 0: strlen(body) */
	enum pl_folder_status want;
	const char *name;       /* when want is PL_FOLDER_OK */
};

#define BODY(s) s, sizeof(s) - 1

Test(folder_client, parse_body_edge_cases, .timeout = 10)
{
	static const struct body_case cases[] = {
		{ FOLDER_7, 0, PL_FOLDER_OK, "Seven" },
		{ FOLDER_7 " \r\n\t", 0, PL_FOLDER_OK, "Seven" },
		{ "{\"displayName\":\"A \\u00e9 \\ud83d\\ude00\",\"name\":\"folders/7\"}", 0,
		  PL_FOLDER_OK, "A \xc3\xa9 \xf0\x9f\x98\x80" },
		{ "", 0, PL_FOLDER_MALFORMED, NULL },
		{ "   ", 0, PL_FOLDER_MALFORMED, NULL },
		{ "{", 0, PL_FOLDER_MALFORMED, NULL },
		{ "null", 0, PL_FOLDER_MALFORMED, NULL },
		{ "[\"folders/7\"]", 0, PL_FOLDER_MALFORMED, NULL },
		{ "\"folders/7\"", 0, PL_FOLDER_MALFORMED, NULL },
		/* A NUL after the JSON is not white space. */
		{ BODY(FOLDER_7 "\0"), PL_FOLDER_MALFORMED, NULL },
		{ BODY(FOLDER_7 "\0{}"), PL_FOLDER_MALFORMED, NULL },
		{ FOLDER_7 FOLDER_7, 0, PL_FOLDER_MALFORMED, NULL },
		/* The name, exactly: no prefix, suffix or NUL tail. */
		{ "{\"name\":\"folders/70\",\"displayName\":\"x\"}", 0, PL_FOLDER_MALFORMED, NULL },
		{ "{\"name\":\"folders/7\\u0000\",\"displayName\":\"x\"}", 0,
		  PL_FOLDER_MALFORMED, NULL },
		{ "{\"name\":\"Folders/7\",\"displayName\":\"x\"}", 0, PL_FOLDER_MALFORMED, NULL },
		/* The display name: a non-empty printable UTF-8 string. */
		{ "{\"name\":\"folders/7\",\"displayName\":\"\"}", 0, PL_FOLDER_MALFORMED, NULL },
		{ "{\"name\":\"folders/7\",\"displayName\":\"a\\u0000b\"}", 0,
		  PL_FOLDER_MALFORMED, NULL },
		{ "{\"name\":\"folders/7\",\"displayName\":\"two\\nlines\"}", 0,
		  PL_FOLDER_MALFORMED, NULL },
		{ "{\"name\":\"folders/7\",\"displayName\":\"\xff\xfe\"}", 0,
		  PL_FOLDER_MALFORMED, NULL },
		{ "{\"name\":\"folders/7\",\"displayName\":\"\xc0\xaf\"}", 0,  /* overlong '/' */
		  PL_FOLDER_MALFORMED, NULL },
		{ "{\"name\":\"folders/7\",\"displayName\":\"\xed\xa0\x80\"}", 0,  /* a surrogate */
		  PL_FOLDER_MALFORMED, NULL },
		{ "{\"name\":\"folders/7\",\"displayName\":\"\xc2\x85\"}", 0,  /* C1 control */
		  PL_FOLDER_MALFORMED, NULL },
		{ "{\"name\":\"folders/7\",\"displayName\":\"\xf4\x90\x80\x80\"}", 0,
		  PL_FOLDER_MALFORMED, NULL },                                  /* past U+10FFFF */
		{ "{\"name\":\"folders/7\",\"displayName\":\"ab\xe2\x82\"}", 0,  /* cut short */
		  PL_FOLDER_MALFORMED, NULL },
		{ "{\"name\":\"folders/7\",\"displayName\":[\"x\"]}", 0, PL_FOLDER_MALFORMED, NULL },
		{ "{\"name\":\"folders/7\",\"displayName\":{}}", 0, PL_FOLDER_MALFORMED, NULL },
		/* Deep nesting: refused by json-c's depth limit, not a crash. */
		{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 0,
		  PL_FOLDER_MALFORMED, NULL },
	};
	char name[16];
	struct pl_folder_error e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct body_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->body);
		enum pl_folder_status st;

		memset(name, 'x', sizeof(name));
		st = pl_folder_parse_body(c->body, len, 7, name, sizeof(name), &e);
		cr_expect_eq(st, c->want, "case %zu (%.40s): %s, %s", i, c->body,
			     pl_folder_strstatus(st), e.message);
		cr_expect_eq(e.status, st);
		if (c->want == PL_FOLDER_OK) {
			cr_expect_str_eq(name, c->name, "case %zu", i);
			cr_expect_str_eq(e.message, "");
		} else {
			cr_expect_eq(name[0], '\0', "case %zu: a name came out", i);
			cr_expect(strstr(e.message, "folder 7: malformed answer"), "case %zu: %s",
				  i, e.message);
		}
	}
	/* Too small a buffer is the caller's error, not the server's. */
	cr_expect_eq(pl_folder_parse_body(FOLDER_7, strlen(FOLDER_7), 7, name, 5, &e),
		     PL_FOLDER_INVALID);
	cr_expect(strstr(e.message, "does not fit"), "%s", e.message);
	cr_expect_eq(pl_folder_parse_body(FOLDER_7, strlen(FOLDER_7), 7, name, 6, NULL),
		     PL_FOLDER_OK);
	cr_expect_eq(pl_folder_parse_body(FOLDER_7, strlen(FOLDER_7), 7, NULL, 6, &e),
		     PL_FOLDER_INVALID);
	cr_expect_eq(pl_folder_parse_body(NULL, 0, 7, name, sizeof(name), &e),
		     PL_FOLDER_MALFORMED);
}

/* A server's error text reaches a program's one-line report: it must
 * stay one line and short, whatever the server put in it. */
Test(folder_client, hostile_error_text_stays_one_line, .timeout = 30)
{
	char big[8192], body[9000], buf[10000];
	struct canned k;
	struct pl_folder_client *c;
	struct pl_folder_error e;
	char name[64];

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"error\":{\"status\":\"EVIL\\r\\nX-Injected: 1\","
		 "\"message\":\"line one\\nline two\\u0007%s\"}}", big);
	const char *replies[2] = { reply(buf, sizeof(buf), "400 Bad Request", "", body), NULL };

	canned_start(&k, replies);
	c = canned_client(&k, &quick);
	cr_expect_eq(pl_folder_get(c, 7, name, sizeof(name), &e), PL_FOLDER_PERMANENT);
	cr_expect(!strchr(e.message, '\n') && !strchr(e.message, '\r') && !strchr(e.message, '\a'),
		  "%s", e.message);
	cr_expect(strstr(e.message, "HTTP 400 EVIL??X-Injected: 1: line one?line two?AAA"),
		  "%s", e.message);
	cr_expect_lt(strlen(e.message), 256);
	pl_folder_client_free(c);
	canned_stop(&k);
}

/* --- the circuit breaker --------------------------------------------------- */

/* Three calls to a port that refuses: each sends its requests; then the
 * breaker is open and calls fail at once, without a request, saying why;
 * once the port answers and the cool-down is over, one call probes, gets
 * an answer, and the breaker closes. */
Test(folder_client, breaker_opens_and_closes, .timeout = 30)
{
	struct pl_folder_client_options o = quick;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	char buf[512], url[64], name[64];
	const char *replies[2] = { reply(buf, sizeof(buf), "200 OK", "", FOLDER_7), NULL };
	struct pl_folder_counters n;
	struct pl_folder_client *c;
	struct pl_folder_error e;
	struct canned k;

	o.max_attempts = 2;
	o.breaker_after = 3;
	o.breaker_cooldown_ms = 200;
	/* Bound but not listening: refused, and ours to open later. */
	k.fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(k.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(k.fd, (struct sockaddr *)&a, &len);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	c = pl_folder_client_new(url, &o);
	cr_assert(c);

	for (int i = 0; i < 3; i++) {
		cr_expect_eq(pl_folder_get(c, 7, name, sizeof(name), &e), PL_FOLDER_TRANSPORT);
		cr_expect_eq(e.attempts, 2, "call %d: %d attempts", i, e.attempts);
	}
	cr_expect_eq(pl_folder_get(c, 8, name, sizeof(name), &e), PL_FOLDER_TRANSPORT);
	cr_expect_eq(e.attempts, 0, "the open breaker let a request through");
	cr_expect(strstr(e.message, "folder 8: not sent") && strstr(e.message, "circuit breaker") &&
		  strstr(e.message, "folder 7: "), "%s", e.message);
	pl_folder_client_counters(c, &n);
	cr_expect_eq(n.fast_failed, 1);
	cr_expect_eq(n.requests, 6);
	cr_expect_eq(n.transport, 4);

	/* The server comes back; after the cool-down a probe gets through. */
	cr_assert_eq(listen(k.fd, 16), 0);
	k.replies = replies;
	k.served = 0;
	pthread_create(&k.thread, NULL, canned_loop, &k);
	double deadline = now_s() + 5;
	enum pl_folder_status st;

	while ((st = pl_folder_get(c, 7, name, sizeof(name), &e)) != PL_FOLDER_OK &&
	       now_s() < deadline) {
		cr_expect_eq(e.attempts, 0, "%s", e.message);
		usleep(20000);
	}
	cr_expect_eq(st, PL_FOLDER_OK, "%s", e.message);
	cr_expect_eq(pl_folder_get(c, 7, name, sizeof(name), &e), PL_FOLDER_OK, "%s", e.message);
	cr_expect_eq(e.attempts, 1);
	pl_folder_client_free(c);
	canned_stop(&k);
}

Test(folder_client, breaker_can_be_turned_off, .timeout = 30)
{
	struct pl_folder_client_options o = quick;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	struct pl_folder_client *c;
	struct pl_folder_error e;
	char url[64], name[64];
	int fd;

	o.max_attempts = 1;
	o.breaker_after = -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	c = pl_folder_client_new(url, &o);
	for (int i = 0; i < 10; i++) {
		cr_expect_eq(pl_folder_get(c, 7, name, sizeof(name), &e), PL_FOLDER_TRANSPORT);
		cr_expect_eq(e.attempts, 1, "call %d was not sent: %s", i, e.message);
	}
	pl_folder_client_free(c);
	close(fd);
}

/* --- threads and processes ------------------------------------------------ */

#define THREADS 32

struct worker {
	struct pl_folder_client *c;
	pthread_barrier_t *go;
	long first;
	int ok;
};

static void *worker(void *p)
{
	struct worker *w = p;
	char name[64];

	if (w->go)
		pthread_barrier_wait(w->go);
	for (long id = w->first; id < w->first + 10; id++)
		w->ok += pl_folder_get(w->c, id, name, sizeof(name), NULL) == PL_FOLDER_OK;
	return NULL;
}

Test(folder_client, one_client_many_threads, .timeout = 60)
{
	const char *const args[] = { "--latency-ms", "50", NULL };
	struct worker w[THREADS];
	pthread_t t[THREADS];
	pthread_barrier_t go;
	struct pl_server s;
	struct pl_folder_client *c;
	struct pl_folder_counters k;
	double t0, wall;

	server_start(&s, args);
	c = client(&s, NULL);
	pthread_barrier_init(&go, NULL, THREADS + 1);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ c, &go, 1 + 10 * i, 0 };
		pthread_create(&t[i], NULL, worker, &w[i]);
	}
	pthread_barrier_wait(&go);
	t0 = now_s();
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(w[i].ok, 10, "thread %d: %d of 10", i, w[i].ok);
	}
	wall = now_s() - t0;
	/* Each thread has its own handle: 10 rounds of 50 ms, not 320. */
	cr_expect_lt(wall, 10 * 0.05 * 3, "%d threads x 10 requests took %.2f s", THREADS, wall);
	cr_expect_geq(stats_field(&s, NULL, "peak_concurrent_requests"), THREADS / 2);
	pl_folder_client_counters(c, &k);
	cr_expect_eq(k.ok, THREADS * 10);
	pthread_barrier_destroy(&go);
	pl_folder_client_free(c);
	server_stop(&s);
}

Test(folder_client, usable_after_fork, .timeout = 30)
{
	struct pl_server s;
	struct pl_folder_client *c;
	char before[64], in_child[64], after[64];
	int status;
	pid_t pid;

	server_start(&s, NULL);
	c = client(&s, NULL);
	cr_assert_eq(pl_folder_get(c, 1, before, sizeof(before), NULL), PL_FOLDER_OK);
	pid = fork();
	if (pid == 0) {
		/* The child makes its own handle, uses it, and frees it all. */
		int ok = pl_folder_get(c, 1, in_child, sizeof(in_child), NULL) == PL_FOLDER_OK &&
			 !strcmp(in_child, before) &&
			 pl_folder_get(c, 2, in_child, sizeof(in_child), NULL) == PL_FOLDER_OK;

		pl_folder_client_free(c);
		_exit(ok ? 0 : 1);
	}
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	/* The parent's connection is still its own. */
	cr_expect_eq(pl_folder_get(c, 1, after, sizeof(after), NULL), PL_FOLDER_OK);
	cr_expect_str_eq(after, before);
	cr_expect_eq(requests_for(&s, 1), 3);
	cr_expect_eq(requests_for(&s, 2), 1);
	pl_folder_client_free(c);
	server_stop(&s);
}

/* --- the server control helper ------------------------------------------ */

/* The failing server's one line goes to our stderr: captured, not shown. */
Test(folder_client, server_ctl_reports_failures_fast, .timeout = 30,
     .init = cr_redirect_stderr)
{
	const char *const bad[] = { "--latency-ms", "-5", NULL };
	struct pl_server s;
	char path[256];
	double t0 = now_s();

	cr_expect_eq(pl_folder_server_start("/nonexistent/folder-api-server", NULL, &s), -1);
	cr_expect(strstr(s.error, "/nonexistent"), "%s", s.error);
	cr_expect_eq(pl_folder_server_start(built(SERVER), bad, &s), -1);
	cr_expect(strstr(s.error, "status 2"), "%s", s.error);
	cr_expect_eq(s.pid, 0);
	cr_expect_lt(now_s() - t0, 2.0, "a failing start took %.1f s", now_s() - t0);
	cr_expect_eq(pl_folder_server_stop(&s), -1, "stop of a server that never ran");

	setenv("PARLAB_FOLDER_SERVER", "/x/y", 1);
	cr_expect_str_eq(pl_folder_server_path(path, sizeof(path)), "/x/y");
	unsetenv("PARLAB_FOLDER_SERVER");
	cr_expect(strstr(pl_folder_server_path(path, sizeof(path)), "/../workloads/folder-api-server"),
		  "%s", path);
}

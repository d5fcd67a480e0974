/* The folder server against hostile clients (issue 8, "Hostile input"):
 * requests written by hand on plain sockets over loopback, so that they
 * can be as wrong as an attacker likes.
 *
 * - Malformed requests (bad methods, paths with .. and %00, oversized
 *   request lines and headers, bodies nobody asked for, bytes that are
 *   not HTTP): each gets a 4xx, or for what is not HTTP at all a closed
 *   connection, and the server answers the next normal request.
 * - Floods of connections, idle, half-sent or garbage, while a normal
 *   client goes on being served; past --max-connections the extra ones
 *   are closed at once, and --conn-timeout frees the held ones.
 *
 * Every read has a timeout and every loop a deadline; nothing asserts a
 * duration.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "folder_client.h"
#include "folder_server_ctl.h"
#include "cf_test_util.h"
#include "folder_test_util.h"
#include "support.h"


/* A connected socket to the server, with receive and send timeouts. */
static int dial(const struct pl_server *s, double timeout_s)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tv = { (time_t)timeout_s, (long)((timeout_s - (long)timeout_s) * 1e6) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	a.sin_port = htons((uint16_t)s->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "connect: %s",
		     strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* What exchange() saw besides a status; ANY_4XX is for the table. */
enum { CLOSED = -2, TIMED_OUT = -1, ANY_4XX = 1 };

/* Sends req[0..len) and reads until the server closes: the status of the
 * answer, CLOSED if it closed without one, TIMED_OUT if it did neither
 * within 5 s.  A send that fails half-way (the server already answered
 * and closed) is not an error: the answer is what counts. */
static int exchange(const struct pl_server *s, const char *req, size_t len)
{
	char buf[4096], head[32] = "";
	size_t got = 0;
	int fd = dial(s, 5), status = CLOSED;

	while (len > 0) {
		ssize_t n = send(fd, req, len, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		req += n;
		len -= (size_t)n;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			status = TIMED_OUT;
			break;
		}
		if (n <= 0)
			break;  /* closed, or reset after an answer */
		if (got < sizeof(head) - 1) {
			size_t k = (size_t)n < sizeof(head) - 1 - got ? (size_t)n : sizeof(head) - 1 - got;

			memcpy(head + got, buf, k);
			got += k;
		}
	}
	close(fd);
	if (status != TIMED_OUT && got >= 12 && !strncmp(head, "HTTP/1.", 7))
		status = atoi(head + 9);
	return status;
}

/* The server still answers a plain request. */
static void assert_serves(const struct pl_server *s, const char *after)
{
	static const char ok[] = "GET /v3/folders/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

	cr_assert_eq(kill(s->pid, 0), 0, "the server died after %s", after);
	cr_assert_eq(exchange(s, ok, sizeof(ok) - 1), 200, "no 200 after %s", after);
}

/* A buffer of n bytes: prefix, filler up to n - strlen(suffix), suffix. */
static char *build(const char *prefix, char fill, size_t n, const char *suffix, size_t *len)
{
	char *b = malloc(n + 1);
	size_t p = strlen(prefix), q = strlen(suffix);

	cr_assert(b && n >= p + q);
	memcpy(b, prefix, p);
	memset(b + p, fill, n - p - q);
	memcpy(b + n - q, suffix, q);
	b[n] = '\0';
	*len = n;
	return b;
}

#define REQ(line) line " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
#define BYTES(s) s, sizeof(s) - 1

struct hostile {
	const char *what;
	const char *req;
	size_t len;             /* 0: strlen(req) */
	int want;               /* the status, CLOSED or ANY_4XX */
	int or_want;            /* another acceptable one (0: none) */
};

Test(folder_hostile, malformed_requests_get_4xx, .timeout = 60)
{
	static const char tls_hello[] = "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"
					"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b";
	static const struct hostile cases[] = {
		{ "an unknown method", REQ("FOO /v3/folders/1"), 0, 405, 0 },
		{ "DELETE", REQ("DELETE /v3/folders/1"), 0, 405, 0 },
		{ "PUT on /stats", REQ("PUT /stats"), 0, 405, 0 },
		{ "GET on /stats/reset", REQ("GET /stats/reset"), 0, 405, 0 },
		{ "TRACE", REQ("TRACE /"), 0, 404, 0 },
		/* libmicrohttpd reads method "G" (405), or, when the bytes come
		 * in other pieces, waits for more until --conn-timeout. */
		{ "a method with a NUL", BYTES("G\0T /v3/folders/1 HTTP/1.1\r\nHost: t\r\n\r\n"),
		  ANY_4XX, CLOSED },
		{ "a folder path with ..", REQ("GET /v3/folders/../stats"), 0, 400, 0 },
		{ "a path up to /etc", REQ("GET /../../../../etc/passwd"), 0, 404, 0 },
		{ "an escaped ..", REQ("GET /v3/folders/..%2f..%2fetc%2fpasswd"), 0, 400, 0 },
		{ "%2e%2e", REQ("GET /v3/folders/%2e%2e/stats"), 0, 400, 0 },
		{ "%00 after an id", REQ("GET /v3/folders/1%00"), 0, 400, 0 },
		{ "%00 and a suffix", REQ("GET /v3/folders/1%00.json"), 0, 400, 0 },
		{ "an escaped digit", REQ("GET /v3/folders/%31"), 0, 400, 0 },
		{ "%00 in /stats", REQ("GET /stats%00"), 0, 404, 0 },
		{ "a 19-digit id", REQ("GET /v3/folders/1234567890123456789"), 0, 400, 0 },
		{ "a negative id", REQ("GET /v3/folders/-1"), 0, 400, 0 },
		{ "an absolute URL", REQ("GET http://evil.example/v3/folders/1"), 0, 404, 400 },
		{ "a version from the future", REQ("GET /v3/folders/1 HTTP/9.9"), 0, 505, 400 },
		{ "a body too large to wait for",
		  "GET /v3/folders/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\nabc",
		  0, 413, 0 },
		{ "a chunked body", "POST /stats/reset HTTP/1.1\r\nHost: t\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n", 0, 413, 0 },
		{ "a negative Content-Length",
		  "GET /v3/folders/1 HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n", 0, 400, 0 },
		{ "a header without a colon",
		  "GET /v3/folders/1 HTTP/1.1\r\nHost: t\r\nnonsense\r\n\r\n", 0, 400, 0 },
		{ "words that are not HTTP", "hello there, server\r\n\r\n", 0, 400, CLOSED },
		{ "a TLS ClientHello", tls_hello, sizeof(tls_hello) - 1, CLOSED, 400 },
	};

	const char *args[] = { "--conn-timeout", "2", NULL };
	struct pl_server s;

	server_start(&s, args);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hostile *c = &cases[i];
		int got = exchange(&s, c->req, c->len ? c->len : strlen(c->req));

		cr_expect(got == c->want || (c->want == ANY_4XX && got >= 400 && got < 500) ||
			  (c->or_want && got == c->or_want),
			  "%s: got %d, want %d", c->what, got, c->want);
		assert_serves(&s, c->what);
	}
	server_stop(&s);
}

/* Too long to hold: the request line, one header, many headers, and
 * binary noise.  libmicrohttpd's per-connection memory (32 KiB) sets the
 * limits; past them the answer is 414 or 431, or 400 for noise. */
Test(folder_hostile, oversized_requests, .timeout = 60)
{
	struct pl_server s;
	size_t len;
	char *req;
	int got;

	server_start(&s, NULL);
	req = build("GET /v3/folders/", '1', 100000, " HTTP/1.1\r\nHost: t\r\n\r\n", &len);
	got = exchange(&s, req, len);
	cr_expect_eq(got, 414, "a 100 KB URL: %d", got);
	free(req);
	assert_serves(&s, "a 100 KB URL");

	req = build("GET /v3/folders/1 HTTP/1.1\r\nHost: t\r\nX-Big: ", 'a', 100000, "\r\n\r\n", &len);
	got = exchange(&s, req, len);
	cr_expect_eq(got, 431, "a 100 KB header: %d", got);
	free(req);
	assert_serves(&s, "a 100 KB header");

	req = malloc(5000 * 11 + 128);
	len = (size_t)sprintf(req, "GET /v3/folders/1 HTTP/1.1\r\nHost: t\r\n");
	for (int i = 0; i < 5000; i++)
		len += (size_t)sprintf(req + len, "X-%04d: b\r\n", i);
	len += (size_t)sprintf(req + len, "\r\n");
	got = exchange(&s, req, len);
	cr_expect_eq(got, 431, "5000 headers: %d", got);
	free(req);
	assert_serves(&s, "5000 headers");

	req = malloc(65536);
	for (size_t i = 0; i < 65536; i++)
		req[i] = (char)(i * 2654435761u >> 13);
	got = exchange(&s, req, 65536);
	cr_expect(got == 400 || got == 431 || got == 414 || got == CLOSED, "64 KB of noise: %d", got);
	free(req);
	assert_serves(&s, "64 KB of noise");
	server_stop(&s);
}

/* --- floods ------------------------------------------------------------------ */

struct victim {
	const struct pl_server *s;
	atomic_bool go_on;
	int ok, tries;
};

/* A normal client that keeps asking while the flood goes on. */
static void *victim_main(void *p)
{
	struct victim *v = p;
	struct pl_folder_client *c = pl_folder_client_new(v->s->base_url, NULL);
	char name[128];
	double deadline = now_s() + 30;

	do {
		v->tries++;
		v->ok += pl_folder_get(c, 1000 + v->tries, name, sizeof(name), NULL) == PL_FOLDER_OK;
		usleep(5000);
	} while ((atomic_load(&v->go_on) || v->tries < 20) && now_s() < deadline);
	pl_folder_client_free(c);
	return NULL;
}

#define FLOOD 300

/* 300 connections at once: a third idle, a third with half a request, a
 * third sending garbage.  The normal client is served all along; the
 * garbage gets its 400; --conn-timeout closes the idle and half ones. */
Test(folder_hostile, flood_of_connections_while_serving, .timeout = 90)
{
	const char *args[] = { "--conn-timeout", "2", NULL };
	static int fds[FLOOD];
	struct victim v = { .go_on = true };
	struct pl_server s;
	pthread_t t;
	int answered = 0, closed = 0;
	char buf[512];

	server_start(&s, args);
	v.s = &s;
	pthread_create(&t, NULL, victim_main, &v);
	for (int i = 0; i < FLOOD; i++) {
		fds[i] = dial(&s, 5);
		if (i % 3 == 1)
			send(fds[i], "GET /v3/fol", 11, MSG_NOSIGNAL);
		else if (i % 3 == 2)
			send(fds[i], "garbage, not HTTP\r\n\r\n", 21, MSG_NOSIGNAL);
	}
	atomic_store(&v.go_on, false);
	pthread_join(t, NULL);
	cr_expect_eq(v.ok, v.tries, "the normal client got %d of %d during the flood",
		     v.ok, v.tries);

	/* Each flood connection ends: garbage with an answer, the others
	 * closed by the connection timeout (reads wait at most 5 s). */
	for (int i = 0; i < FLOOD; i++) {
		ssize_t n = recv(fds[i], buf, sizeof(buf), 0);

		if (n > 0)
			answered++;
		else if (n == 0 || errno == ECONNRESET)
			closed++;
		close(fds[i]);
	}
	cr_expect_eq(answered + closed, FLOOD, "%d answered, %d closed of %d", answered,
		     closed, FLOOD);
	cr_expect_geq(answered, FLOOD / 3, "garbage answered: %d", answered);
	cr_log_info("flood of %d: the normal client got %d of %d; %d answered, %d closed",
		    FLOOD, v.ok, v.tries, answered, closed);
	assert_serves(&s, "the flood");
	server_stop(&s);
}

/* Past --max-connections the server closes new connections at once
 * instead of queueing them; once the held ones time out, a normal client
 * is served again, even while the flood keeps its sockets open. */
Test(folder_hostile, connection_limit_holds, .timeout = 60)
{
	const char *args[] = { "--max-connections", "16", "--conn-timeout", "1", NULL };
	static int fds[48];
	struct pl_server s;
	int refused = 0, soon = 0;
	char buf[64];
	double deadline, t0;

	server_start(&s, args);
	t0 = now_s();
	for (int i = 0; i < 48; i++)
		fds[i] = dial(&s, 3);
	/* The first 16 are held (until the timeout closes them too); the
	 * others are closed as soon as they are accepted.  All are closed
	 * by the server in the end; how soon is logged, not asserted. */
	for (int i = 47; i >= 0; i--) {        /* the extra ones first */
		ssize_t n = recv(fds[i], buf, sizeof(buf), 0);

		refused += n == 0 || (n < 0 && errno == ECONNRESET);
		soon += now_s() - t0 < 0.5;
	}
	cr_expect_eq(refused, 48, "%d of 48 closed", refused);
	cr_log_info("--max-connections 16, 48 connections: %d closed within 0.5 s, "
		    "all 48 after %.1f s", soon, now_s() - t0);

	/* The server is not wedged: a normal request succeeds, the flood's
	 * sockets still open on our side. */
	deadline = now_s() + 10;
	int got;
	static const char ok[] = REQ("GET /v3/folders/1");

	while ((got = exchange(&s, ok, sizeof(ok) - 1)) != 200 && now_s() < deadline)
		usleep(50000);
	cr_expect_eq(got, 200, "not served again after the flood timed out: %d", got);
	for (int i = 0; i < 48; i++)
		close(fds[i]);
	assert_serves(&s, "a flood past --max-connections");
	server_stop(&s);
}

struct burst {
	const struct pl_server *s;
	int seed, ok, refused, want_ok;
};

/* One keep-alive connection per thread, requests as fast as it can, good
 * and bad mixed: the server answers each (a 200 or a 4xx). */
static void *burst_main(void *p)
{
	struct burst *b = p;
	static const char *const paths[] = {
		"/v3/folders/%d1", "/v3/folders/x%d", "/v3/folders/%d%%00", "/nowhere/%d",
	};
	struct pl_folder_client *c = pl_folder_client_new(b->s->base_url, NULL);
	char name[128];

	for (int i = 0; i < 50; i++) {
		char req[256];
		int len = snprintf(req, sizeof(req), "GET ");

		len += snprintf(req + len, sizeof(req) - (size_t)len, paths[(b->seed + i) % 4],
				b->seed * 100 + i);
		len += snprintf(req + len, sizeof(req) - (size_t)len,
				" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
		int st = exchange(b->s, req, (size_t)len);

		b->ok += st == 200;
		b->want_ok += (b->seed + i) % 4 == 0;
		b->refused += st >= 400 && st < 500;
		/* And the client's own keep-alive connection in between. */
		b->ok += pl_folder_get(c, b->seed * 1000 + i * 10 + 1, name, sizeof(name), NULL) ==
			 PL_FOLDER_OK;
	}
	pl_folder_client_free(c);
	return NULL;
}

#define BURSTS 16

Test(folder_hostile, request_flood_is_answered, .timeout = 90)
{
	struct burst b[BURSTS];
	pthread_t t[BURSTS];
	struct pl_server s;
	int ok = 0, refused = 0, want_ok = 0;

	server_start(&s, NULL);
	for (int i = 0; i < BURSTS; i++) {
		b[i] = (struct burst){ .s = &s, .seed = i + 1 };
		pthread_create(&t[i], NULL, burst_main, &b[i]);
	}
	for (int i = 0; i < BURSTS; i++) {
		pthread_join(t[i], NULL);
		ok += b[i].ok;
		refused += b[i].refused;
		want_ok += 50 + b[i].want_ok;
	}
	/* Per thread: 50 folder lookups by the client, and 50 raw requests
	 * of which a quarter are good (the others 400 or 404). */
	cr_expect_eq(ok, want_ok, "%d answered 200, not %d", ok, want_ok);
	cr_expect_eq(ok + refused, BURSTS * 100, "%d 200s and %d 4xx of %d", ok, refused,
		     BURSTS * 100);
	assert_serves(&s, "a request flood");
	server_stop(&s);
}

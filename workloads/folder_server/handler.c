/* The HTTP side: which path, which method, which answer.
 *
 * Errors have the shape Google APIs use, {"error":{"code","message",
 * "status"}}, so a client written against the real API reads them too.
 * Every answer is JSON.
 */
#define _GNU_SOURCE
#include "handler.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "delay.h"
#include "faults.h"
#include "folder.h"
#include "stats.h"

#define FOLDERS_PREFIX "/v3/folders/"

static const struct fs_config *cfg;

/* Markers for *req_cls; their addresses are all that matters.  A counted
 * request is in flight from its headers to the queueing of its answer
 * (then it becomes "answered"): the latency is inside that span, and a
 * client's next request cannot overlap it, since the answer is sent only
 * after it is queued. */
static char counted, answered, uncounted;

void fs_handler_init(const struct fs_config *c)
{
	cfg = c;
}

/* One request being answered: its connection, its marker (counted
 * requests go into the statistics when their answer is queued), and the
 * --fault it drew, if any, with the seeded draw that picks its flavour. */
struct req {
	struct MHD_Connection *conn;
	void **req_cls;
	enum fs_fault_kind fault;
	uint64_t variant;
};

/* --- faults that libmicrohttpd's answers cannot express --------------- */

/* A "truncate" body: the answer's full length is announced, the first
 * `keep` bytes are sent, then the reader reports an error and
 * libmicrohttpd closes the connection mid-body. */
struct cut_body {
	size_t keep;
	char text[];
};

static ssize_t cut_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	const struct cut_body *c = cls;
	size_t n;

	if (pos >= c->keep)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = c->keep - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, c->text + pos, n);
	return (ssize_t)n;
}

static struct MHD_Response *cut_response(const char *text, size_t len, uint64_t variant)
{
	struct cut_body *c = malloc(sizeof(*c) + len);
	struct MHD_Response *r;

	if (!c)
		return NULL;
	memcpy(c->text, text, len);
	/* Somewhere in the first three quarters, never the whole. */
	c->keep = len > 4 ? (size_t)(variant % (3 * len / 4)) : 0;
	r = MHD_create_response_from_callback(len, 1024, cut_reader, c, free);
	if (!r)
		free(c);
	return r;
}

/* The socket under a connection; -1 if libmicrohttpd does not say. */
static int conn_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	return ci ? ci->connect_fd : -1;
}

/* A counted request is answered (status 0: it ends without an HTTP
 * answer of ours): into the statistics, once. */
static void count_answer(const struct req *rq, unsigned status)
{
	if (*rq->req_cls == &counted) {
		fs_stats_status(status);
		fs_stats_end();
		*rq->req_cls = &answered;
	}
}

/* "reset": a TCP RST instead of an answer.  MHD_NO alone would close
 * the connection in order (a FIN: the client sees an "empty reply", a
 * different fault).  connect() with AF_UNSPEC dissolves a TCP connection
 * on Linux by sending an RST, and leaves the descriptor open and
 * unconnected, so libmicrohttpd's own shutdown and close that follow are
 * harmless. */
static enum MHD_Result reset_connection(const struct req *rq)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };
	int fd = conn_fd(rq->conn);

	if (fd >= 0)
		connect(fd, &sa, sizeof(sa));
	count_answer(rq, 0);
	return MHD_NO;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes all of buf to the (non-blocking) socket, or stops at the
 * deadline or when the client has gone.  False if not all was sent. */
static bool raw_send(int fd, const char *buf, size_t len, double deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return false;   /* EPIPE, ECONNRESET: the client gave up */
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int ms = (int)((deadline - now_s()) * 1000);

		if (ms <= 0 || poll(&p, 1, ms) < 0)
			return false;
	}
	return true;
}

/* "huge-header": a 200 whose header lines add up to huge_header_bytes,
 * written on the socket by hand, since libmicrohttpd builds headers in a
 * per-connection pool of a few kilobytes.  One variant sends many 1 KiB
 * lines (a bloated cookie jar), the other a single giant line.  The
 * connection is closed after it: this request is not served by
 * libmicrohttpd, which never queued anything, so nothing mixes in. */
static enum MHD_Result huge_header(const struct req *rq)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n";
	static const char tail[] = "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
	double deadline = now_s() + cfg->conn_timeout_s;
	int fd = conn_fd(rq->conn);
	bool one_line = rq->variant & 1;
	char line[1024];
	size_t sent = 0;
	bool ok = fd >= 0 && raw_send(fd, head, sizeof(head) - 1, deadline);

	if (ok && one_line)
		ok = raw_send(fd, "X-Padding: ", 11, deadline);
	memset(line, 'a', sizeof(line));
	while (ok && sent < cfg->huge_header_bytes) {
		if (!one_line) {
			int n = snprintf(line, sizeof(line), "X-Padding-%06zu: ",
					 sent / sizeof(line));

			line[n] = 'a';
			line[sizeof(line) - 2] = '\r';
			line[sizeof(line) - 1] = '\n';
		}
		ok = raw_send(fd, line, sizeof(line), deadline);
		sent += sizeof(line);
	}
	if (ok && one_line)
		ok = raw_send(fd, "\r\n", 2, deadline);
	if (ok)
		raw_send(fd, tail, sizeof(tail) - 1, deadline);
	count_answer(rq, 0);
	return MHD_NO;
}

static enum MHD_Result send_json(const struct req *rq, unsigned status,
				 struct json_object *body, const char *header,
				 const char *value, const char *header2,
				 const char *value2)
{
	const char *text = json_object_to_json_string_ext(body,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (rq->fault == FS_FAULT_TRUNCATE)
		r = cut_response(text, strlen(text), rq->variant);
	else
		r = MHD_create_response_from_buffer(strlen(text), (void *)text,
						    MHD_RESPMEM_MUST_COPY);
	json_object_put(body);
	if (!r)
		return MHD_NO;  /* out of memory: MHD closes the connection */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json; charset=utf-8");
	if (header)
		MHD_add_response_header(r, header, value);
	if (header2)
		MHD_add_response_header(r, header2, value2);
	ret = MHD_queue_response(rq->conn, status, r);
	MHD_destroy_response(r);
	count_answer(rq, status);
	return ret;
}

static enum MHD_Result send_error(const struct req *rq, unsigned status,
				  const char *api_status, const char *message,
				  const char *header, const char *value,
				  const char *header2, const char *value2)
{
	struct json_object *o = json_object_new_object();
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_int((int)status));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(e, "status", json_object_new_string(api_status));
	json_object_object_add(o, "error", e);
	return send_json(rq, status, o, header, value, header2, value2);
}

static enum MHD_Result method_not_allowed(const struct req *rq,
					  const char *method, const char *allow)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "Method %.32s is not allowed here; use %s.",
		 method, allow);
	return send_error(rq, 405, "METHOD_NOT_ALLOWED", msg,
			  MHD_HTTP_HEADER_ALLOW, allow, NULL, NULL);
}

/* 429: Retry-After in whole seconds as HTTP defines it (at least 1), and
 * Retry-After-Ms with the precise wait, since a bucket of 200 requests/s
 * refills in 5 ms and "1 second" would make clients crawl. */
static enum MHD_Result too_many(const struct req *rq, double wait_s)
{
	char secs[32], ms[32];

	snprintf(secs, sizeof(secs), "%.0f", fmax(1, ceil(wait_s)));
	snprintf(ms, sizeof(ms), "%.0f", fmax(1, ceil(wait_s * 1000)));
	return send_error(rq, 429, "RESOURCE_EXHAUSTED",
			  "Quota exceeded for folder reads; retry after the delay.",
			  MHD_HTTP_HEADER_RETRY_AFTER, secs, "Retry-After-Ms", ms);
}

/* "malformed": a 200 that is not the folder.  Each is a way real
 * services and proxies have answered: JSON cut short, an HTML error page,
 * the right id in the wrong shape, a null name, a name with a NUL in it. */
static enum MHD_Result malformed(const struct req *rq, uint64_t id)
{
	static const char *const bodies[] = {
		"{\"name\":\"folders/%llu\",\"displayName\":\"Fin",
		"<html><body><h1>502 Bad Gateway</h1></body></html>",
		"[\"folders/%llu\"]",
		"{\"name\":\"folders/%llu\",\"displayName\":null}",
		"{\"name\":\"folders/%llu\",\"displayName\":\"Sales\\u0000Prod\"}",
	};
	const size_t n_bodies = sizeof(bodies) / sizeof(bodies[0]);
	size_t v = (size_t)(rq->variant % n_bodies);
	struct MHD_Response *r;
	enum MHD_Result ret;
	char text[160];

	snprintf(text, sizeof(text), bodies[v], (unsigned long long)id);
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, v == 1 ?
				"text/html" : "application/json; charset=utf-8");
	ret = MHD_queue_response(rq->conn, 200, r);
	MHD_destroy_response(r);
	count_answer(rq, 200);
	return ret;
}

static enum MHD_Result get_folder(struct req *rq, const char *id_text)
{
	uint64_t id, n;
	double wait_s = 0, delay_ms;
	char msg[128];
	enum fs_outcome outcome;

	if (!fs_parse_id(id_text, &id)) {
		snprintf(msg, sizeof(msg),
			 "Invalid folder id '%.40s': expected 0 or up to 18 digits without a leading zero.",
			 id_text);
		return send_error(rq, 400, "INVALID_ARGUMENT", msg, NULL, NULL, NULL, NULL);
	}
	fs_stats_id_request(id);
	if (!fs_rate_admit(&wait_s))
		return too_many(rq, wait_s);

	n = fs_stats_id_admitted(id);
	outcome = fs_decide(id, n, &delay_ms);
	rq->fault = fs_fault_pick(id, n);
	rq->variant = fs_fault_variant(id, n);
	fs_stats_fault(rq->fault);
	if (rq->fault == FS_FAULT_SLOW)
		delay_ms += cfg->slow_ms;
	fs_delay(delay_ms);     /* in this connection's own thread */

	switch (rq->fault) {
	case FS_FAULT_RESET:
		return reset_connection(rq);
	case FS_FAULT_HUGE_HEADER:
		return huge_header(rq);
	case FS_FAULT_MALFORMED:
		return malformed(rq, id);
	default:
		break;          /* slow and truncate change how, not what */
	}

	switch (outcome) {
	case FS_NOT_FOUND:
		snprintf(msg, sizeof(msg), "Folder 'folders/%llu' not found.",
			 (unsigned long long)id);
		return send_error(rq, 404, "NOT_FOUND", msg, NULL, NULL, NULL, NULL);
	case FS_FORBIDDEN:
		snprintf(msg, sizeof(msg),
			 "Permission 'resourcemanager.folders.get' denied on 'folders/%llu'.",
			 (unsigned long long)id);
		return send_error(rq, 403, "PERMISSION_DENIED", msg, NULL, NULL, NULL, NULL);
	case FS_UNAVAILABLE:
		return send_error(rq, 503, "UNAVAILABLE",
				  "The service is currently unavailable; retry later.",
				  NULL, NULL, NULL, NULL);
	case FS_FOUND:
		break;
	}
	return send_json(rq, 200, fs_folder_json(cfg->seed, id), NULL, NULL, NULL, NULL);
}

static bool is_stats_path(const char *url)
{
	return !strcmp(url, "/stats") || !strcmp(url, "/stats/reset");
}

static enum MHD_Result route(struct req *rq, const char *url,
			     const char *method)
{
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET);

	if (!strcmp(url, "/stats")) {
		if (!get)
			return method_not_allowed(rq, method, "GET");
		return send_json(rq, 200, fs_stats_json(), NULL, NULL, NULL, NULL);
	}
	if (!strcmp(url, "/stats/reset")) {
		if (strcmp(method, MHD_HTTP_METHOD_POST))
			return method_not_allowed(rq, method, "POST");
		fs_stats_reset();
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "reset", json_object_new_boolean(1));
		return send_json(rq, 200, o, NULL, NULL, NULL, NULL);
	}
	if (!strncmp(url, FOLDERS_PREFIX, strlen(FOLDERS_PREFIX))) {
		if (!get)
			return method_not_allowed(rq, method, "GET");
		return get_folder(rq, url + strlen(FOLDERS_PREFIX));
	}
	return send_error(rq, 404, "NOT_FOUND", "No such path; try GET /v3/folders/{id}.",
			  NULL, NULL, NULL, NULL);
}

/* A request that announces more than MAX_REQUEST_BODY bytes of body, or
 * a chunked one (whose size nobody knows in advance). */
#define MAX_REQUEST_BODY 1024

static bool body_too_large(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);

	if (te)
		return true;
	return cl && (strlen(cl) > 9 || strtoul(cl, NULL, 10) > MAX_REQUEST_BODY);
}

enum MHD_Result fs_handle(void *cls, struct MHD_Connection *conn,
			  const char *url, const char *method,
			  const char *version, const char *upload_data,
			  size_t *upload_data_size, void **req_cls)
{
	(void)cls;
	(void)version;
	(void)upload_data;

	/* First call: only the headers are in.  Mark the request and let
	 * libmicrohttpd read any body before we answer, unless the body is
	 * one no endpoint would read: then refuse it now, instead of
	 * waiting for gigabytes that a client may only have announced. */
	if (!*req_cls) {
		*req_cls = is_stats_path(url) ? &uncounted : &counted;
		if (*req_cls == &counted)
			fs_stats_begin();
		if (body_too_large(conn)) {
			struct req rq = { conn, req_cls, FS_FAULT_NONE, 0 };

			return send_error(&rq, 413, "INVALID_ARGUMENT",
					  "Request body too large: no endpoint takes one.",
					  NULL, NULL, NULL, NULL);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;  /* no endpoint takes a body: drop it */
		return MHD_YES;
	}
	struct req rq = { conn, req_cls, FS_FAULT_NONE, 0 };

	return route(&rq, url, method);
}

void fs_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		  enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	/* Ended without an answer: out of memory, or a client gone. */
	if (*req_cls == &counted)
		fs_stats_end();
	*req_cls = NULL;
}

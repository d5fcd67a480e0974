/* The HTTP side: which path, which method, which answer.
 *
 * Errors have the shape Google APIs use, {"error":{"code","message",
 * "status"}}, so a client written against the real API reads them too.
 * Every answer is JSON.
 */
#define _GNU_SOURCE
#include "handler.h"

#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

/* One request being answered: its connection, and its marker (counted
 * requests go into the statistics when their answer is queued). */
struct req {
	struct MHD_Connection *conn;
	void **req_cls;
};

static enum MHD_Result send_json(const struct req *rq, unsigned status,
				 struct json_object *body, const char *header,
				 const char *value, const char *header2,
				 const char *value2)
{
	const char *text = json_object_to_json_string_ext(body,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct MHD_Response *r;
	enum MHD_Result ret;

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
	if (*rq->req_cls == &counted) {
		fs_stats_status(status);
		fs_stats_end();
		*rq->req_cls = &answered;
	}
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

static enum MHD_Result get_folder(const struct req *rq, const char *id_text)
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
	fs_delay(delay_ms);     /* in this connection's own thread */

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

static enum MHD_Result route(const struct req *rq, const char *url,
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

enum MHD_Result fs_handle(void *cls, struct MHD_Connection *conn,
			  const char *url, const char *method,
			  const char *version, const char *upload_data,
			  size_t *upload_data_size, void **req_cls)
{
	(void)cls;
	(void)version;
	(void)upload_data;

	/* First call: only the headers are in.  Mark the request and let
	 * libmicrohttpd read any body before we answer. */
	if (!*req_cls) {
		*req_cls = is_stats_path(url) ? &uncounted : &counted;
		if (*req_cls == &counted)
			fs_stats_begin();
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;  /* no endpoint takes a body: drop it */
		return MHD_YES;
	}
	struct req rq = { conn, req_cls };

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

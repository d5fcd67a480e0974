/* The folder API client: libcurl for HTTP, json-c for the body, and the
 * retry policy that the header describes.
 *
 * Layout: global set-up (once per process), per-thread handles ("slots"),
 * one HTTP attempt, the reading of an answer, and the retry loop.
 */
#define _GNU_SOURCE
#include "folder_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A folder is ~250 bytes; anything past this is not a folder. */
#define MAX_BODY (1 << 20)

/* --- process-wide set-up ------------------------------------------------ */

/* Guards every client's list of slots.  Taken across fork() (atfork
 * below), so that a child never inherits it locked by a thread that does
 * not exist in the child. */
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void before_fork(void)
{
	pthread_mutex_lock(&slots_lock);
}

static void after_fork(void)
{
	pthread_mutex_unlock(&slots_lock);
}

/* curl_global_init() is not thread-safe in every libcurl we may meet, so
 * it runs exactly once, whichever thread makes the first client. */
static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_atfork(before_fork, after_fork, after_fork);
}

void pl_folder_global_cleanup(void)
{
	if (global_rc == CURLE_OK) {
		curl_global_cleanup();
		global_rc = CURLE_FAILED_INIT;
	}
}

/* --- the client and its per-thread slots ------------------------------ */

struct slot {
	struct pl_folder_client *owner;
	struct slot *prev, *next;       /* in owner->slots, under slots_lock */
	CURL *curl;
	pid_t pid;                      /* the process this handle belongs to */
	uint64_t rng;                   /* jitter, per thread: no lock */
	char *body;
	size_t len, cap;
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
};

struct pl_folder_client {
	char *base;                     /* without a trailing '/' */
	struct pl_folder_client_options opt;
	struct curl_slist *headers;     /* read-only, shared by all handles */
	pthread_key_t key;              /* this thread's slot */
	struct slot *slots;
	atomic_long calls, ok, permanent, exhausted, transport, malformed, invalid;
	atomic_long requests, retries;
};

static void unlink_slot(struct slot *s)
{
	struct pl_folder_client *c = s->owner;

	pthread_mutex_lock(&slots_lock);
	if (s->prev)
		s->prev->next = s->next;
	else
		c->slots = s->next;
	if (s->next)
		s->next->prev = s->prev;
	pthread_mutex_unlock(&slots_lock);
}

static void free_slot(struct slot *s)
{
	curl_easy_cleanup(s->curl);
	free(s->body);
	free(s);
}

/* Runs when a thread that used the client exits. */
static void slot_destructor(void *p)
{
	struct slot *s = p;

	unlink_slot(s);
	free_slot(s);
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	struct slot *s = p;
	size_t len = size * n;

	if (s->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 1024;
		char *body;

		while (cap < s->len + len + 1)
			cap *= 2;
		if (cap > MAX_BODY + 1) {
			s->too_big = true;
			return 0;       /* makes curl stop with CURLE_WRITE_ERROR */
		}
		body = realloc(s->body, cap);
		if (!body)
			return 0;
		s->body = body;
		s->cap = cap;
	}
	memcpy(s->body + s->len, data, len);
	s->len += len;
	s->body[s->len] = '\0';
	return len;
}

static struct slot *new_slot(struct pl_folder_client *c)
{
	struct slot *s = calloc(1, sizeof(*s));
	struct timespec ts;

	if (!s)
		return NULL;
	s->curl = curl_easy_init();
	if (!s->curl) {
		free(s);
		return NULL;
	}
	s->owner = c;
	s->pid = getpid();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->rng = (c->opt.seed ? c->opt.seed : (uint64_t)ts.tv_nsec ^ ((uint64_t)s->pid << 32))
		 ^ (uint64_t)(uintptr_t)s;

	CURL *h = s->curl;
	/* No signals: libcurl's SIGALRM timeouts are not thread-safe. */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opt.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->opt.timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "parlab-folder-client/1");
	/* The server is on loopback: an http_proxy in the environment
	 * must not route it elsewhere. */
	curl_easy_setopt(h, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);

	pthread_mutex_lock(&slots_lock);
	s->next = c->slots;
	if (c->slots)
		c->slots->prev = s;
	c->slots = s;
	pthread_mutex_unlock(&slots_lock);
	return s;
}

/* This thread's slot in this process, made on first use. */
static struct slot *my_slot(struct pl_folder_client *c)
{
	struct slot *s = pthread_getspecific(c->key);

	if (s && s->pid == getpid())
		return s;
	if (s) {
		/* Inherited through fork(): the parent's connection is
		 * not ours to use. */
		unlink_slot(s);
		free_slot(s);
	}
	s = new_slot(c);
	pthread_setspecific(c->key, s);
	return s;
}

static long or_default(long v, long def)
{
	return v > 0 ? v : def;
}

struct pl_folder_client *pl_folder_client_new(const char *base_url,
					      const struct pl_folder_client_options *opts)
{
	struct pl_folder_client *c;
	size_t len;

	pthread_once(&once, global_init);
	if (global_rc != CURLE_OK || !base_url || !*base_url)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (opts)
		c->opt = *opts;
	c->opt.connect_timeout_ms = or_default(c->opt.connect_timeout_ms, 2000);
	c->opt.timeout_ms = or_default(c->opt.timeout_ms, 10000);
	c->opt.max_attempts = (int)or_default(c->opt.max_attempts, 5);
	c->opt.backoff_base_ms = or_default(c->opt.backoff_base_ms, 50);
	c->opt.backoff_max_ms = or_default(c->opt.backoff_max_ms, 2000);
	c->opt.retry_after_max_ms = or_default(c->opt.retry_after_max_ms, 30000);

	c->base = strdup(base_url);
	c->headers = curl_slist_append(NULL, "Accept: application/json");
	if (!c->base || !c->headers || pthread_key_create(&c->key, slot_destructor)) {
		curl_slist_free_all(c->headers);
		free(c->base);
		free(c);
		return NULL;
	}
	len = strlen(c->base);
	while (len > 0 && c->base[len - 1] == '/')
		c->base[--len] = '\0';
	return c;
}

void pl_folder_client_free(struct pl_folder_client *c)
{
	struct slot *s, *next;

	if (!c)
		return;
	/* Threads that exit later must not run the destructor on a slot
	 * freed here: deleting the key stops that. */
	pthread_setspecific(c->key, NULL);
	pthread_key_delete(c->key);
	pthread_mutex_lock(&slots_lock);
	s = c->slots;
	c->slots = NULL;
	pthread_mutex_unlock(&slots_lock);
	for (; s; s = next) {
		next = s->next;
		free_slot(s);
	}
	curl_slist_free_all(c->headers);
	free(c->base);
	free(c);
}

void pl_folder_client_counters(const struct pl_folder_client *c,
			       struct pl_folder_counters *out)
{
	out->calls = atomic_load(&c->calls);
	out->ok = atomic_load(&c->ok);
	out->permanent = atomic_load(&c->permanent);
	out->exhausted = atomic_load(&c->exhausted);
	out->transport = atomic_load(&c->transport);
	out->malformed = atomic_load(&c->malformed);
	out->invalid = atomic_load(&c->invalid);
	out->requests = atomic_load(&c->requests);
	out->retries = atomic_load(&c->retries);
}

const char *pl_folder_strstatus(enum pl_folder_status s)
{
	switch (s) {
	case PL_FOLDER_OK: return "ok";
	case PL_FOLDER_PERMANENT: return "permanent error";
	case PL_FOLDER_EXHAUSTED: return "transient errors on every attempt";
	case PL_FOLDER_TRANSPORT: return "transport error";
	case PL_FOLDER_MALFORMED: return "malformed answer";
	case PL_FOLDER_INVALID: return "invalid call";
	}
	return "unknown status";
}

/* --- one attempt and its answer ------------------------------------------ */

/* What one attempt came to, before the retry loop decides. */
struct attempt {
	enum pl_folder_status status;   /* OK, or the class if not retried */
	bool retry;                     /* transient: worth another try */
	long retry_after_ms;            /* the server's wish; -1 if none */
};

static void say(struct pl_folder_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct pl_folder_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

/* Parses the whole body as one JSON value; NULL if it is not. */
static struct json_object *parse_body(const struct slot *s)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	size_t end;

	if (!tok || !s->body)
		goto fail;
	o = json_tokener_parse_ex(tok, s->body, (int)s->len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success)
		goto fail_obj;
	end = json_tokener_get_parse_end(tok);
	while (end < s->len && strchr(" \t\r\n", s->body[end]))
		end++;
	if (end != s->len)
		goto fail_obj;
	json_tokener_free(tok);
	return o;
fail_obj:
	json_object_put(o);
fail:
	json_tokener_free(tok);
	return NULL;
}

static const char *get_string(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A 200: the body must be folders/{id} with a displayName. */
static enum pl_folder_status read_folder(const struct slot *s, long id, char *name,
					 size_t cap, struct pl_folder_error *e)
{
	struct json_object *o = parse_body(s);
	const char *rname = get_string(o, "name");
	const char *display = get_string(o, "displayName");
	char want[40];
	enum pl_folder_status st = PL_FOLDER_OK;

	snprintf(want, sizeof(want), "folders/%ld", id);
	if (!o) {
		say(e, "folder %ld: malformed answer: not one JSON value", id);
		st = PL_FOLDER_MALFORMED;
	} else if (!rname || strcmp(rname, want) || !display) {
		say(e, "folder %ld: malformed answer: no \"name\":\"%s\" with a \"displayName\"",
		    id, want);
		st = PL_FOLDER_MALFORMED;
	} else if (strlen(display) >= cap) {
		say(e, "folder %ld: name of %zu bytes does not fit in %zu", id,
		    strlen(display), cap);
		st = PL_FOLDER_INVALID;
	} else {
		memcpy(name, display, strlen(display) + 1);
	}
	json_object_put(o);
	return st;
}

/* The server's own words for an error, if it sent the Google shape
 * {"error":{"status","message"}}. */
static void describe_http_error(const struct slot *s, long id, int code,
				struct pl_folder_error *e)
{
	struct json_object *o = parse_body(s), *inner = NULL;
	const char *status = NULL, *msg = NULL;

	if (o && json_object_object_get_ex(o, "error", &inner)) {
		status = get_string(inner, "status");
		msg = get_string(inner, "message");
	}
	say(e, "folder %ld: HTTP %d%s%s%s%s", id, code, status ? " " : "",
	    status ? status : "", msg ? ": " : "", msg ? msg : "");
	json_object_put(o);
}

/* The server's wish, in ms: Retry-After-Ms (ours, precise) before
 * Retry-After (HTTP's, whole seconds or a date, parsed by libcurl). */
static long retry_after_ms(CURL *h)
{
	struct curl_header *hd;
	curl_off_t secs = 0;

	if (curl_easy_header(h, "Retry-After-Ms", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK) {
		char *end;
		long ms = strtol(hd->value, &end, 10);

		if (end != hd->value && ms >= 0)
			return ms;
	}
	if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &secs) == CURLE_OK && secs > 0)
		return (long)secs * 1000;
	return -1;
}

static bool transient_transport(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return true;
	default:
		return false;
	}
}

static bool transient_http(long code)
{
	return code == 408 || code == 429 || code == 500 || code == 502 ||
	       code == 503 || code == 504;
}

static struct attempt try_once(struct slot *s, const char *url, long id, char *name,
			       size_t cap, struct pl_folder_error *e)
{
	struct attempt a = { PL_FOLDER_OK, false, -1 };
	long code = 0;
	CURLcode rc;

	s->len = 0;
	s->too_big = false;
	s->errbuf[0] = '\0';
	if (s->body)
		s->body[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	rc = curl_easy_perform(s->curl);
	e->attempts++;
	atomic_fetch_add(&s->owner->requests, 1);

	if (rc != CURLE_OK && s->too_big) {
		e->http_status = 0;
		say(e, "folder %ld: malformed answer: larger than %d bytes", id, MAX_BODY);
		a.status = PL_FOLDER_MALFORMED;
		return a;
	}
	if (rc != CURLE_OK) {
		e->http_status = 0;
		/* libcurl's error buffer says more ("... port 8080 after 0 ms:
		 * Couldn't connect to server") than the code's name. */
		say(e, "folder %ld: %s", id, s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
		a.status = PL_FOLDER_TRANSPORT;
		a.retry = transient_transport(rc);
		return a;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	e->http_status = (int)code;
	if (code == 200) {
		a.status = read_folder(s, id, name, cap, e);
		return a;
	}
	describe_http_error(s, id, (int)code, e);
	if (transient_http(code)) {
		a.status = PL_FOLDER_EXHAUSTED;
		a.retry = true;
		a.retry_after_ms = retry_after_ms(s->curl);
	} else {
		a.status = PL_FOLDER_PERMANENT;
	}
	return a;
}

/* --- the retry loop --------------------------------------------------- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Uniform in [0, n]. */
static long rand_upto(struct slot *s, long n)
{
	return n > 0 ? (long)(splitmix64(&s->rng) % (uint64_t)(n + 1)) : 0;
}

/* Before retry number k (1 for the first retry).  With a Retry-After the
 * server knows best; a jitter of up to a quarter more keeps the clients
 * it told the same time from coming back in one burst.  Without one:
 * exponential backoff with "equal jitter", half fixed and half random,
 * so that waits grow but never collapse to zero. */
static long backoff_ms(struct slot *s, const struct pl_folder_client_options *o,
		       int k, long retry_after)
{
	long cap = o->backoff_base_ms;

	if (retry_after >= 0)
		return retry_after + rand_upto(s, retry_after / 4);
	for (int i = 1; i < k && cap < o->backoff_max_ms; i++)
		cap *= 2;
	if (cap > o->backoff_max_ms)
		cap = o->backoff_max_ms;
	return cap / 2 + rand_upto(s, cap - cap / 2);
}

static enum pl_folder_status finish(struct pl_folder_client *c, enum pl_folder_status st,
				    struct pl_folder_error *e)
{
	atomic_long *counter[] = {
		[PL_FOLDER_OK] = &c->ok, [PL_FOLDER_PERMANENT] = &c->permanent,
		[PL_FOLDER_EXHAUSTED] = &c->exhausted, [PL_FOLDER_TRANSPORT] = &c->transport,
		[PL_FOLDER_MALFORMED] = &c->malformed, [PL_FOLDER_INVALID] = &c->invalid,
	};

	e->status = st;
	e->retries = e->attempts > 0 ? e->attempts - 1 : 0;
	if (st == PL_FOLDER_OK)
		e->message[0] = '\0';
	atomic_fetch_add(&c->calls, 1);
	atomic_fetch_add(counter[st], 1);
	atomic_fetch_add(&c->retries, e->retries);
	return st;
}

enum pl_folder_status pl_folder_get(struct pl_folder_client *c, long id,
				    char *name, size_t cap,
				    struct pl_folder_error *err)
{
	struct pl_folder_error local;
	struct pl_folder_error *e = err ? err : &local;
	struct attempt a;
	struct slot *s;
	char url[512];

	memset(e, 0, sizeof(*e));
	if (!c || !name || !cap || id < 0) {
		say(e, "folder %ld: invalid call (client, name buffer and id >= 0 needed)", id);
		return c ? finish(c, PL_FOLDER_INVALID, e) : (e->status = PL_FOLDER_INVALID);
	}
	name[0] = '\0';
	if (snprintf(url, sizeof(url), "%s/v3/folders/%ld", c->base, id) >= (int)sizeof(url)) {
		say(e, "folder %ld: base URL too long", id);
		return finish(c, PL_FOLDER_INVALID, e);
	}
	s = my_slot(c);
	if (!s) {
		say(e, "folder %ld: out of memory for a curl handle", id);
		return finish(c, PL_FOLDER_INVALID, e);
	}

	for (;;) {
		a = try_once(s, url, id, name, cap, e);
		if (!a.retry)
			break;
		if (e->attempts >= c->opt.max_attempts) {
			size_t n = strlen(e->message);

			snprintf(e->message + n, sizeof(e->message) - n, " (%d attempts)",
				 e->attempts);
			break;
		}
		if (a.retry_after_ms > c->opt.retry_after_max_ms) {
			size_t n = strlen(e->message);

			snprintf(e->message + n, sizeof(e->message) - n,
				 " (server asks to wait %ld ms, more than %ld: gave up)",
				 a.retry_after_ms, c->opt.retry_after_max_ms);
			break;
		}
		long wait = backoff_ms(s, &c->opt, e->attempts, a.retry_after_ms);

		sleep_ms(wait);
		e->waited_ms += wait;
	}
	return finish(c, a.status, e);
}

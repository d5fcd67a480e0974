/* The folder API client: libcurl for HTTP, json-c for the body, and the
 * retry policy that the header describes.
 *
 * Layout: global set-up (once per process), per-thread handles ("slots"),
 * one HTTP attempt, the reading of an answer, and the retry loop.
 */
#define _GNU_SOURCE
#include "folder_client.h"
#include "trace.h"

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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A folder is ~250 bytes; anything past this is not a folder. */
#define MAX_BODY (1 << 20)
/* Our server sends ~150 bytes of headers; real APIs a few KiB.  libcurl
 * itself would take up to 300 KiB before it gives up. */
#define MAX_HEADERS (64 << 10)

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
	size_t header_bytes;            /* of this attempt's answer */
	bool in_headers;                /* status line seen, blank line not yet */
	bool headers_too_big;
	int socket_errno;               /* socket() failed in this attempt: why */
	char errbuf[CURL_ERROR_SIZE];
};

struct pl_folder_client {
	char *base;                     /* without a trailing '/' */
	struct pl_folder_client_options opt;
	struct curl_slist *headers;     /* read-only, shared by all handles */
	pthread_key_t key;              /* this thread's slot */
	struct slot *slots;
	atomic_long calls, ok, permanent, exhausted, transport, malformed, invalid;
	atomic_long requests, retries, fast_failed;
	/* The circuit breaker: calls in a row that got no HTTP answer, and
	 * until when (CLOCK_MONOTONIC ns) calls fail without a request. */
	atomic_int failing;
	atomic_llong open_until_ns;
	char last_failure[160];         /* under slots_lock: what the last one said */
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

/* Counts the answer's header bytes: a server that sends more than any
 * folder needs is cut off here, with a clear error, instead of being
 * read up to libcurl's own limit. */
static size_t on_header(char *data, size_t size, size_t n, void *p)
{
	struct slot *s = p;
	size_t len = size * n;

	if (len >= 5 && !memcmp(data, "HTTP/", 5))
		s->in_headers = true;           /* a status line: a new header block */
	else if (len <= 2 && (len == 0 || data[0] == '\r' || data[0] == '\n'))
		s->in_headers = false;          /* the blank line that ends it */
	s->header_bytes += len;
	if (s->header_bytes > MAX_HEADERS) {
		s->headers_too_big = true;
		return 0;       /* makes curl stop with CURLE_WRITE_ERROR */
	}
	return len;
}

/* libcurl says "Couldn't connect to server" whether the server refused
 * or our own socket() failed, and CURLINFO_OS_ERRNO stays 0 for the
 * latter.  Opening the socket here keeps the errno, so that a client out
 * of descriptors says so instead of blaming the server. */
static curl_socket_t open_socket(void *p, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct slot *s = p;
	int fd;

	(void)purpose;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd < 0) {
		s->socket_errno = errno;
		return CURL_SOCKET_BAD;
	}
	return fd;
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
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, s);
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
	if (c->opt.breaker_after == 0)
		c->opt.breaker_after = 3;
	c->opt.breaker_cooldown_ms = or_default(c->opt.breaker_cooldown_ms, 1000);

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
	out->fast_failed = atomic_load(&c->fast_failed);
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
	bool local;                     /* failed here, before the network:
					 * says nothing about the server */
	long retry_after_ms;            /* the server's wish; -1 if none */
};

static void say(struct pl_folder_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The message is one line of plain text whatever the server sent: its
 * words end up in a program's one-line-per-failure report. */
static void say(struct pl_folder_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	for (char *p = e->message; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* Parses all of body[0..len) as one JSON value; NULL if it is not.
 * Trailing white space is allowed, anything else after the value (a NUL
 * byte included) is not. */
static struct json_object *parse_json(const char *body, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t end;

	if (!body || len == 0 || len > MAX_BODY)
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success)
		goto fail;
	end = json_tokener_get_parse_end(tok);
	while (end < len && (body[end] == ' ' || body[end] == '\t' ||
			     body[end] == '\r' || body[end] == '\n'))
		end++;
	if (end != len)
		goto fail;
	json_tokener_free(tok);
	return o;
fail:
	json_object_put(o);
	json_tokener_free(tok);
	return NULL;
}

/* o[key] when it is a string: its bytes and length (a JSON string may
 * hold \u0000, so the length is not strlen's). */
static bool get_string_len(struct json_object *o, const char *key, const char **str,
			   size_t *len)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return false;
	*str = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return true;
}

static const char *get_string(struct json_object *o, const char *key)
{
	const char *str;
	size_t len;

	return get_string_len(o, key, &str, &len) ? str : NULL;
}

/* Well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) without control characters: a name that can be printed on one
 * line and put back into JSON as it is. */
static bool printable_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i], need, cp;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return false;
		if (n - i <= need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0x80 && cp < 0xa0))
			return false;   /* overlong, surrogate, too big, C1 control */
		i += need + 1;
	}
	return true;
}

enum pl_folder_status pl_folder_parse_body(const char *body, size_t len, long id,
					   char *name, size_t cap,
					   struct pl_folder_error *err)
{
	struct pl_folder_error local;
	struct pl_folder_error *e = err ? err : &local;
	enum pl_folder_status st = PL_FOLDER_MALFORMED;
	struct json_object *o;
	const char *rname, *display;
	size_t rlen, dlen;
	char want[40];
	int wlen;

	if (!name || !cap) {
		say(e, "folder %ld: invalid call (no buffer for the name)", id);
		return e->status = PL_FOLDER_INVALID;
	}
	name[0] = '\0';
	wlen = snprintf(want, sizeof(want), "folders/%ld", id);
	o = parse_json(body, len);
	if (!o) {
		say(e, "folder %ld: malformed answer: not one JSON value", id);
	} else if (!json_object_is_type(o, json_type_object) ||
		   !get_string_len(o, "name", &rname, &rlen) || rlen != (size_t)wlen ||
		   memcmp(rname, want, rlen) != 0 ||
		   !get_string_len(o, "displayName", &display, &dlen)) {
		say(e, "folder %ld: malformed answer: no \"name\":\"%s\" with a "
		    "\"displayName\" string", id, want);
	} else if (dlen == 0 || !printable_utf8((const unsigned char *)display, dlen)) {
		say(e, "folder %ld: malformed answer: the displayName is empty, not UTF-8, "
		    "or holds control characters", id);
	} else if (dlen >= cap) {
		say(e, "folder %ld: name of %zu bytes does not fit in %zu", id, dlen, cap);
		st = PL_FOLDER_INVALID;
	} else {
		memcpy(name, display, dlen);
		name[dlen] = '\0';
		e->message[0] = '\0';
		st = PL_FOLDER_OK;
	}
	json_object_put(o);
	return e->status = st;
}

/* The server's own words for an error, if it sent the Google shape
 * {"error":{"status","message"}}. */
static void describe_http_error(const struct slot *s, long id, int code,
				struct pl_folder_error *e)
{
	struct json_object *o = parse_json(s->body, s->len), *inner = NULL;
	const char *status = NULL, *msg = NULL;

	if (o && json_object_object_get_ex(o, "error", &inner)) {
		status = get_string(inner, "status");
		msg = get_string(inner, "message");
	}
	/* The server's words, but not a page of them. */
	say(e, "folder %ld: HTTP %d%s%.40s%s%.160s", id, code, status ? " " : "",
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

/* What libcurl returns when one header line is longer than it accepts
 * (100 KiB): "out of memory" up to 8.5, CURLE_TOO_LARGE since 8.6. */
static bool line_too_long(CURLcode rc)
{
#if LIBCURL_VERSION_NUM >= 0x080600
	if (rc == CURLE_TOO_LARGE)
		return true;
#endif
	return rc == CURLE_OUT_OF_MEMORY;
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

/* A resource of this process or machine ran out, not the server. */
static bool out_of_resources(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/* The client's own failure, named as such: "Couldn't connect to server"
 * would send the reader to look at a server that is fine. */
static void say_no_socket(struct pl_folder_error *e, long id, int err)
{
	struct rlimit rl;

	if (err == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		say(e, "folder %ld: the client cannot open a socket: %s (this client "
		    "process is at its limit of %llu descriptors, ulimit -n; the server "
		    "was not reached)", id, strerror(err), (unsigned long long)rl.rlim_cur);
	else
		say(e, "folder %ld: the client cannot open a socket: %s (a limit of "
		    "this client, not the server's; the server was not reached)",
		    id, strerror(err));
}

static struct attempt try_once(struct slot *s, const char *url, long id, char *name,
			       size_t cap, struct pl_folder_error *e)
{
	struct attempt a = { PL_FOLDER_OK, false, false, -1 };
	long code = 0;
	CURLcode rc;

	s->len = 0;
	s->too_big = false;
	s->header_bytes = 0;
	s->in_headers = false;
	s->headers_too_big = false;
	s->socket_errno = 0;
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
	if (rc != CURLE_OK && (s->headers_too_big || (s->in_headers && line_too_long(rc)))) {
		e->http_status = 0;
		if (s->headers_too_big)
			say(e, "folder %ld: malformed answer: headers larger than %d bytes",
			    id, MAX_HEADERS);
		else
			say(e, "folder %ld: malformed answer: a header line longer than "
			    "libcurl accepts (libcurl: %s)", id, curl_easy_strerror(rc));
		a.status = PL_FOLDER_MALFORMED;
		return a;
	}
	if (rc != CURLE_OK && out_of_resources(s->socket_errno)) {
		e->http_status = 0;
		say_no_socket(e, id, s->socket_errno);
		/* Worth another try: other connections may close meanwhile. */
		a.status = PL_FOLDER_TRANSPORT;
		a.retry = true;
		a.local = true;
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
		a.status = pl_folder_parse_body(s->body, s->len, id, name, cap, e);
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

/* --- the circuit breaker ------------------------------------------------ */

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* May this call send a request?  Closed: yes.  Open: no, until the
 * cool-down is over; then exactly one caller wins the compare-and-swap
 * and probes, and the others go on failing fast for another cool-down.
 * Atomics only: the request path takes no lock. */
static bool breaker_allows(struct pl_folder_client *c)
{
	long long t, until;

	if (c->opt.breaker_after < 0 || atomic_load(&c->failing) < c->opt.breaker_after)
		return true;
	t = mono_ns();
	until = atomic_load(&c->open_until_ns);
	if (t < until)
		return false;
	return atomic_compare_exchange_strong(&c->open_until_ns, &until,
					      t + c->opt.breaker_cooldown_ms * 1000000LL);
}

/* After a call that sent requests: any HTTP answer closes the breaker;
 * no answer at all counts towards opening it.  A call that failed here,
 * before it could reach the server (no socket), says nothing either way. */
static void breaker_record(struct pl_folder_client *c, const struct attempt *a,
			   const struct pl_folder_error *e)
{
	enum pl_folder_status st = a->status;

	if (c->opt.breaker_after < 0 || st == PL_FOLDER_INVALID || a->local)
		return;
	if (st != PL_FOLDER_TRANSPORT) {
		if (atomic_load(&c->failing))
			atomic_store(&c->failing, 0);
		return;
	}
	pthread_mutex_lock(&slots_lock);
	snprintf(c->last_failure, sizeof(c->last_failure), "%.*s",
		 (int)sizeof(c->last_failure) - 1, e->message);
	pthread_mutex_unlock(&slots_lock);
	if (atomic_fetch_add(&c->failing, 1) + 1 >= c->opt.breaker_after)
		atomic_store(&c->open_until_ns,
			     mono_ns() + c->opt.breaker_cooldown_ms * 1000000LL);
}

static enum pl_folder_status fail_fast(struct pl_folder_client *c, long id,
				       struct pl_folder_error *e)
{
	char last[sizeof(c->last_failure)];

	pthread_mutex_lock(&slots_lock);
	memcpy(last, c->last_failure, sizeof(last));
	pthread_mutex_unlock(&slots_lock);
	say(e, "folder %ld: not sent: the server gave no answer to the last %d calls "
	    "(circuit breaker open; last: %s)", id, atomic_load(&c->failing), last);
	atomic_fetch_add(&c->fast_failed, 1);
	return finish(c, PL_FOLDER_TRANSPORT, e);
}

/* --- a call ------------------------------------------------------------ */

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
	if (!breaker_allows(c))
		return fail_fast(c, id, e);

	for (;;) {
		uint64_t t0 = pl_trace_on() ? pl_trace_start() : 0;

		a = try_once(s, url, id, name, cap, e);
		if (t0)
			pl_trace_record(PL_TRACE_FETCH, id, e->attempts, t0, pl_trace_clock());
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
		uint64_t w0 = pl_trace_on() ? pl_trace_clock() : 0;

		sleep_ms(wait);
		if (w0)
			pl_trace_record(PL_TRACE_RETRY, id, e->attempts + 1, w0, pl_trace_clock());
		e->waited_ms += wait;
	}
	breaker_record(c, &a, e);
	return finish(c, a.status, e);
}

/* Command-line parsing for folder-api-server.  Bad input never starts a
 * server: one line on stderr, exit status 2, as every parlab program. */
#define _GNU_SOURCE
#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "folder-api-server"

static const char usage[] =
"usage: " PROG " [OPTION]...\n"
"A simulated cloud folder API (resource-manager v3 style), on 127.0.0.1 unless\n"
"told otherwise.\n"
"\n"
"  GET  /v3/folders/{id}   the folder: {\"name\",\"displayName\",\"parent\",\"state\",...}\n"
"  GET  /stats             what the server saw, as JSON\n"
"  POST /stats/reset       zero the statistics (and the per-id fault sequence)\n"
"\n"
"Options:\n"
"  --bind ADDR           numeric IPv4 or IPv6 address to listen on (default\n"
"                        127.0.0.1); only loopback (127.0.0.0/8, ::1) unless\n"
"                        --allow-remote is given too\n"
"  --allow-remote        accept a --bind address that other machines reach\n"
"  --port N              TCP port (default 0: a free port)\n"
"  --port-file FILE      write the port number and a newline to FILE\n"
"                        (atomically, once listening)\n"
"  --port-fd N           write the port number and a newline to descriptor N\n"
"                        (3 or more, e.g. a pipe from the program that starts\n"
"                        the server), then close it: no file to clean up\n"
"  --seed S              seed of names, jitter and 503s (default 1)\n"
"  --latency-ms MS       delay of every folder answer (default 0); requests\n"
"                        wait concurrently: 200 clients take one latency\n"
"  --jitter-ms MS        plus a seeded uniform delay in [0, MS) (default 0)\n"
"  --rate R              token bucket: R folder requests per second, 429 with\n"
"                        Retry-After beyond it (default 0: no limit)\n"
"  --burst B             token bucket size (default: R rounded up, at least 1)\n"
"  --error-rate P        probability in [0, 1] of a transient 503 (default 0)\n"
"  --not-found-ids LIST  comma-separated ids that always answer 404\n"
"  --forbidden-ids LIST  comma-separated ids that always answer 403\n"
"  --fault KIND[:P]      network fault on a share P in [0, 1] (default 1) of\n"
"                        the admitted folder requests; repeat for several\n"
"                        kinds (their P add up to at most 1).  KIND is:\n"
"                          slow         the answer comes --slow-ms late\n"
"                          reset        the connection is reset (TCP RST)\n"
"                          malformed    200 with a body that is not the folder\n"
"                          truncate     part of the body, then close, although\n"
"                                       Content-Length promised all of it\n"
"                          huge-header  a 200 whose header lines add up to\n"
"                                       --huge-header-bytes, then close\n"
"  --slow-ms MS          delay of a slow answer (default 30000)\n"
"  --huge-header-bytes N size of a huge header (default 1048576)\n"
"  --conn-timeout S      close a connection idle or stalled for S seconds\n"
"                        (default 10)\n"
"  --max-connections N   concurrent connections accepted (default 1024)\n"
"  --verbose             log libmicrohttpd's errors on stderr\n"
"  -h, --help            this text\n"
"\n"
"Fault model (seeded: the same seed and requests give the same answers):\n"
"  - ids whose last three digits are 404 (e.g. 404, 7404) always answer 404,\n"
"    and those ending in 403 always answer 403, as do the listed ids;\n"
"  - a valid id is 0 or 1 to 18 digits without a leading zero; anything\n"
"    else answers 400; unknown paths 404; other methods 405;\n"
"  - the n-th admitted request for an id gets a 503 when a hash of (seed,\n"
"    id, n) falls below P, so retries of one id see a fixed sequence;\n"
"  - 400 and 429 answer at once; every other folder answer waits the\n"
"    latency (and jitter);\n"
"  - --fault draws once per admitted request from a hash of (seed, id, n):\n"
"    a faulty request gets that fault instead of its answer (a slow one\n"
"    gets its answer late).\n"
"Requests: only GET and POST on the paths above; the path is taken as\n"
"sent (no %-decoding: '%00' or '%2e' is no id); a body over 1 KiB or a\n"
"chunked one is refused at once (413); oversized request lines or headers\n"
"are refused by libmicrohttpd (414, 431).  There is no data file: the\n"
"server computes every answer, and the one file it writes is --port-file.\n"
"Stops cleanly on SIGTERM or SIGINT (exit status 0).\n";

static void __attribute__((noreturn, format(printf, 1, 2))) bad(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line whatever the value holds ("--slow-ms $'1\n'" split it,
	 * scripts/fuzz-cli): control characters become '?'. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(stderr, PROG ": error: %s (try --help)\n", msg);
	exit(2);
}

static double parse_double(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* Decimal only: strtod alone also takes " 1" and "0x1p3". */
	if (s[strspn(s, "0123456789+-.eE")] || errno || end == s || *end || !isfinite(v))
		bad("--%s: '%s' is not a number", opt, s);
	if (v < min || v > max)
		bad("--%s: %s is out of range [%.15g, %.15g]", opt, s, min, max);
	return v;
}

/* Digits only: strtoull would take "-1" and " 7". */
static uint64_t parse_uint(const char *opt, const char *s, uint64_t max)
{
	uint64_t v = 0;

	if (!*s)
		bad("--%s: empty value", opt);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			bad("--%s: '%s' is not a non-negative integer", opt, s);
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			bad("--%s: %s is too large (at most %llu)", opt, s,
			    (unsigned long long)max);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void parse_list(const char *opt, const char *s, struct fs_id_list *l)
{
	char *copy = strdup(s), *save = NULL;

	if (!copy)
		bad("out of memory");
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t *ids = realloc(l->ids, (l->n + 1) * sizeof(*ids));

		if (!ids)
			bad("out of memory");
		l->ids = ids;
		l->ids[l->n++] = parse_uint(opt, tok, FS_MAX_ID);
	}
	free(copy);
	qsort(l->ids, l->n, sizeof(*l->ids), cmp_u64);
}

static const char *const fault_names[FS_FAULT_KINDS] = {
	[FS_FAULT_SLOW] = "slow", [FS_FAULT_RESET] = "reset",
	[FS_FAULT_MALFORMED] = "malformed", [FS_FAULT_TRUNCATE] = "truncate",
	[FS_FAULT_HUGE_HEADER] = "huge-header",
};

const char *fs_fault_name(enum fs_fault_kind k)
{
	return k > FS_FAULT_NONE && k < FS_FAULT_KINDS ? fault_names[k] : NULL;
}

/* --fault KIND[:P] */
static void parse_fault(const char *s, struct fs_config *cfg)
{
	size_t len = strcspn(s, ":");

	for (int k = FS_FAULT_NONE + 1; k < FS_FAULT_KINDS; k++) {
		if (strlen(fault_names[k]) != len || strncmp(s, fault_names[k], len))
			continue;
		cfg->fault_p[k] = s[len] ? parse_double("fault", s + len + 1, 0, 1) : 1;
		return;
	}
	bad("--fault: unknown kind '%.*s' (slow, reset, malformed, truncate, huge-header)",
	    (int)(len > 40 ? 40 : len), s);
}

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104: what only this
 * machine can reach. */
static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

	if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127;
}

/* A numeric address only: a host name could resolve to anything, and
 * where the server listens must be what the command line says. */
static void parse_bind(const char *s, struct fs_config *cfg)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&cfg->bind;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&cfg->bind;

	memset(&cfg->bind, 0, sizeof(cfg->bind));
	if (strlen(s) >= sizeof(cfg->bind_text))
		bad("--bind: '%.40s...' is too long for an address", s);
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		cfg->bind_len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		cfg->bind_len = sizeof(*a6);
	} else {
		bad("--bind: '%s' is not a numeric IPv4 or IPv6 address", s);
	}
	snprintf(cfg->bind_text, sizeof(cfg->bind_text), "%s", s);
}

enum {
	OPT_PORT = 256, OPT_PORT_FILE, OPT_SEED, OPT_LATENCY, OPT_JITTER,
	OPT_RATE, OPT_BURST, OPT_ERROR_RATE, OPT_NOT_FOUND, OPT_FORBIDDEN,
	OPT_CONN_TIMEOUT, OPT_MAX_CONN, OPT_VERBOSE, OPT_BIND, OPT_ALLOW_REMOTE,
	OPT_FAULT, OPT_SLOW_MS, OPT_HUGE_HEADER, OPT_PORT_FD,
};

static const struct option longopts[] = {
	{ "port", required_argument, NULL, OPT_PORT },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "port-fd", required_argument, NULL, OPT_PORT_FD },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "latency-ms", required_argument, NULL, OPT_LATENCY },
	{ "jitter-ms", required_argument, NULL, OPT_JITTER },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "error-rate", required_argument, NULL, OPT_ERROR_RATE },
	{ "not-found-ids", required_argument, NULL, OPT_NOT_FOUND },
	{ "forbidden-ids", required_argument, NULL, OPT_FORBIDDEN },
	{ "conn-timeout", required_argument, NULL, OPT_CONN_TIMEOUT },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONN },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "slow-ms", required_argument, NULL, OPT_SLOW_MS },
	{ "huge-header-bytes", required_argument, NULL, OPT_HUGE_HEADER },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void fs_parse_options(int argc, char **argv, struct fs_config *cfg)
{
	const double hour_ms = 3600e3;
	double burst = 0, fault_sum = 0;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	parse_bind("127.0.0.1", cfg);
	cfg->slow_ms = 30000;
	cfg->huge_header_bytes = 1 << 20;
	cfg->seed = 1;
	cfg->conn_timeout_s = 10;
	cfg->max_connections = 1024;
	cfg->port_fd = -1;

	opterr = 0;     /* our own one-line messages, not getopt's */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

		switch (c) {
		case OPT_PORT:
			cfg->port = (unsigned)parse_uint("port", optarg, 65535);
			break;
		case OPT_PORT_FILE:
			if (!*optarg)
				bad("--port-file: empty file name");
			cfg->port_file = optarg;
			break;
		case OPT_PORT_FD:
			cfg->port_fd = (int)parse_uint("port-fd", optarg, INT_MAX);
			/* 0 to 2 are the standard streams: stdout has the URL. */
			if (cfg->port_fd < 3 || fcntl(cfg->port_fd, F_GETFD) == -1)
				bad("--port-fd %s: not an open descriptor of 3 or more", optarg);
			break;
		case OPT_SEED:
			cfg->seed = parse_uint("seed", optarg, UINT64_MAX);
			break;
		case OPT_LATENCY:
			cfg->latency_ms = parse_double("latency-ms", optarg, 0, hour_ms);
			break;
		case OPT_JITTER:
			cfg->jitter_ms = parse_double("jitter-ms", optarg, 0, hour_ms);
			break;
		case OPT_RATE:
			cfg->rate = parse_double("rate", optarg, 0, 1e9);
			break;
		case OPT_BURST:
			burst = parse_double("burst", optarg, 1, 1e9);
			break;
		case OPT_ERROR_RATE:
			cfg->error_rate = parse_double("error-rate", optarg, 0, 1);
			break;
		case OPT_NOT_FOUND:
			parse_list("not-found-ids", optarg, &cfg->not_found);
			break;
		case OPT_FORBIDDEN:
			parse_list("forbidden-ids", optarg, &cfg->forbidden);
			break;
		case OPT_CONN_TIMEOUT:
			cfg->conn_timeout_s = (unsigned)parse_uint("conn-timeout", optarg, 86400);
			if (!cfg->conn_timeout_s)
				bad("--conn-timeout: must be at least 1 second");
			break;
		case OPT_MAX_CONN:
			cfg->max_connections = (unsigned)parse_uint("max-connections", optarg, 65536);
			if (!cfg->max_connections)
				bad("--max-connections: must be at least 1");
			break;
		case OPT_VERBOSE:
			cfg->verbose = 1;
			break;
		case OPT_BIND:
			parse_bind(optarg, cfg);
			break;
		case OPT_ALLOW_REMOTE:
			cfg->allow_remote = true;
			break;
		case OPT_FAULT:
			parse_fault(optarg, cfg);
			break;
		case OPT_SLOW_MS:
			cfg->slow_ms = parse_double("slow-ms", optarg, 0, hour_ms);
			break;
		case OPT_HUGE_HEADER:
			/* At least one header line's worth, at most 64 MiB. */
			cfg->huge_header_bytes = (size_t)parse_uint("huge-header-bytes", optarg,
								    64 << 20);
			if (cfg->huge_header_bytes < 1024)
				bad("--huge-header-bytes: at least 1024");
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case ':':
			bad("%s needs a value", name);
		default:
			bad("unknown option '%s'", name);
		}
	}
	if (optind < argc)
		bad("unexpected argument '%s'", argv[optind]);
	if (burst > 0 && cfg->rate == 0)
		bad("--burst needs --rate");
	for (int k = FS_FAULT_NONE + 1; k < FS_FAULT_KINDS; k++)
		fault_sum += cfg->fault_p[k];
	if (fault_sum > 1 + 1e-9)
		bad("--fault: the shares add up to %g, more than 1", fault_sum);
	/* Listening where other machines can connect is a decision, not a
	 * typo: it takes a second option. */
	if (!is_loopback(&cfg->bind) && !cfg->allow_remote)
		bad("--bind %s is not a loopback address: other machines could reach "
		    "the server; add --allow-remote if that is what you want", cfg->bind_text);
	cfg->burst = burst > 0 ? burst : fmax(1, ceil(cfg->rate));
}

void fs_config_free(struct fs_config *cfg)
{
	free(cfg->not_found.ids);
	free(cfg->forbidden.ids);
	cfg->not_found.ids = cfg->forbidden.ids = NULL;
}

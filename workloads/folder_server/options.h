/* The folder API server's command line: what it simulates and how.
 *
 * Everything that makes the server misbehave is here and nowhere else, so
 * that one command line says exactly which faults a run saw.
 */
#ifndef FS_OPTIONS_H
#define FS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The largest folder id: 18 decimal digits, so that every id fits an
 * int64_t and a C long on Linux. */
#define FS_MAX_ID 999999999999999999ULL

struct fs_id_list {
	uint64_t *ids;          /* sorted, for bsearch */
	size_t n;
};

/* Network faults (--fault KIND:P): what a flaky server or a broken proxy
 * does to an answer, beside the clean HTTP errors of the fault model. */
enum fs_fault_kind {
	FS_FAULT_NONE = 0,
	FS_FAULT_SLOW,          /* the answer comes --slow-ms late */
	FS_FAULT_RESET,         /* the connection is reset (RST), no answer */
	FS_FAULT_MALFORMED,     /* 200 with a body that is not the folder */
	FS_FAULT_TRUNCATE,      /* Content-Length promises more than is sent */
	FS_FAULT_HUGE_HEADER,   /* --huge-header-bytes of header lines */
	FS_FAULT_KINDS,
};

struct fs_config {
	struct sockaddr_storage bind;   /* --bind, default 127.0.0.1 */
	socklen_t bind_len;
	char bind_text[64];             /* as given, for the messages */
	bool allow_remote;              /* --allow-remote: a non-loopback --bind */
	unsigned port;                  /* 0: the kernel picks a free one */
	const char *port_file;          /* NULL: none */
	int port_fd;                    /* --port-fd; -1: none */
	uint64_t seed;                  /* names, jitter and 503s derive from it */
	double latency_ms;              /* every answer from the "backend" */
	double jitter_ms;               /* plus uniform [0, jitter) per request */
	double rate;                    /* token bucket refill, requests/s; 0: off */
	double burst;                   /* token bucket size */
	double error_rate;              /* probability of a transient 503 */
	struct fs_id_list not_found;    /* ids that always answer 404 */
	struct fs_id_list forbidden;    /* ids that always answer 403 */
	double fault_p[FS_FAULT_KINDS]; /* probability per kind; [0] unused */
	double slow_ms;                 /* extra delay of a "slow" answer */
	size_t huge_header_bytes;       /* header bytes of a "huge-header" answer */
	unsigned conn_timeout_s;        /* idle or slow connection is closed */
	unsigned max_connections;
	int verbose;                    /* libmicrohttpd's own error log */
};

/* Fills cfg from argv.  Prints the usage and exits 0 on --help; prints
 * one line "folder-api-server: error: ..." and exits 2 on bad input. */
void fs_parse_options(int argc, char **argv, struct fs_config *cfg);

void fs_config_free(struct fs_config *cfg);

/* "slow", "reset", ...; NULL for FS_FAULT_NONE or out of range. */
const char *fs_fault_name(enum fs_fault_kind k);

#endif

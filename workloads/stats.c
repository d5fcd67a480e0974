/* Timing and the --stats JSON line.
 *
 * The counters are lock-free atomics so that a thread, a signal handler or
 * the code between fork() and exec() may bump them without a lock.  Only
 * the process that prints the line sees its own counts: a forked child's
 * increments stay in the child, so models count where the parent creates.
 */
#define _GNU_SOURCE
#include "stats.h"

#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

static atomic_long threads_created;
static atomic_long processes_created;

double pl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pl_count_threads(long n)
{
	atomic_fetch_add_explicit(&threads_created, n, memory_order_relaxed);
}

void pl_count_processes(long n)
{
	atomic_fetch_add_explicit(&processes_created, n, memory_order_relaxed);
}

static double seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Program names are ours ("openmp/squares"), but escape anyway so that the
 * line stays valid JSON whatever a caller passes. */
static void print_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void pl_print_stats(FILE *out, const char *program, double start)
{
	double wall = pl_now() - start;
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);

	/* A process model does its work in children: their CPU time and
	 * context switches are part of the cost, so they are added.  Peak
	 * memory is per process, so the larger of the two is the honest
	 * figure (RUSAGE_CHILDREN reports the largest child). */
	fputs("{\"program\":", out);
	print_json_string(out, program);
	fprintf(out, ",\"wall_s\":%.6f,\"user_s\":%.6f,\"sys_s\":%.6f"
		",\"max_rss_kb\":%ld,\"threads_created\":%ld"
		",\"processes_created\":%ld,\"voluntary_ctx_switches\":%ld"
		",\"involuntary_ctx_switches\":%ld}\n",
		wall,
		seconds(self.ru_utime) + seconds(kids.ru_utime),
		seconds(self.ru_stime) + seconds(kids.ru_stime),
		self.ru_maxrss > kids.ru_maxrss ? self.ru_maxrss : kids.ru_maxrss,
		atomic_load(&threads_created),
		atomic_load(&processes_created),
		self.ru_nvcsw + kids.ru_nvcsw,
		self.ru_nivcsw + kids.ru_nivcsw);
	fflush(out);
}

#define _GNU_SOURCE
#include "cpu_time.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

/* The first number of a thread's schedstat: ns it ran. */
static double thread_ns(pid_t pid, const char *tid)
{
	char path[320];
	unsigned long long ns;
	FILE *f;
	int got;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid, tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	got = fscanf(f, "%llu", &ns);
	fclose(f);
	return got == 1 ? (double)ns : -1;
}

/* utime + stime of the process from /proc/PID/stat, fields 14 and 15,
 * after the command name (which may hold spaces: start past its ')'). */
static double stat_ns(pid_t pid)
{
	char path[64], line[1024], *p;
	unsigned long utime, stime;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (!p || !(p = strrchr(line, ')')))
		return -1;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
		   &stime) != 2)
		return -1;
	return (double)(utime + stime) * 1e9 / (double)sysconf(_SC_CLK_TCK);
}

double cpu_ns_of(pid_t pid)
{
	char path[64];
	struct dirent *d;
	double sum = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		double ns = thread_ns(pid, d->d_name);
		if (ns < 0) {
			closedir(dir);
			return stat_ns(pid);
		}
		sum += ns;
	}
	closedir(dir);
	return sum;
}

/* The state letter of /proc/PID/stat, or 0 when pid is gone. */
static char state_of(pid_t pid)
{
	char path[64], line[1024], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (!p || !(p = strrchr(line, ')')) || !p[1])
		return 0;
	return p[2];
}

bool wait_gone(pid_t pid, double bound_s)
{
	struct timespec nap = { 0, 1000000 };
	double end = pl_now() + bound_s;

	for (;;) {
		char state = state_of(pid);

		if (state == 0 || state == 'Z' || state == 'X')
			return true;
		if (pl_now() > end)
			return false;
		nanosleep(&nap, NULL);
	}
}

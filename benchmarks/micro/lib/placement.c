#define _GNU_SOURCE
#include "placement.h"

#include <ctype.h>
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "micro_util.h"

static cpu_set_t start_mask;
static int start_saved;

static void save_start_mask(void)
{
	if (start_saved)
		return;
	if (sched_getaffinity(0, sizeof(start_mask), &start_mask) != 0)
		micro_fail("placement: sched_getaffinity failed");
	start_saved = 1;
}

void micro_places(struct micro_place *same, struct micro_place *cross)
{
	int cpus[2], n = 0;

	save_start_mask();
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &start_mask))
			cpus[n++] = c;
	if (n == 0)
		micro_fail("placement: the affinity mask holds no CPU");
	*same = (struct micro_place){ MICRO_SAME_CORE, cpus[0], cpus[0], NULL };
	if (n == 2)
		*cross = (struct micro_place){ MICRO_CROSS_CORE, cpus[0], cpus[1], NULL };
	else
		*cross = (struct micro_place){ MICRO_CROSS_CORE, -1, -1, "only one CPU available" };
}

int micro_start_cpus(void)
{
	save_start_mask();
	return CPU_COUNT(&start_mask);
}

const char *micro_where_name(enum micro_where where)
{
	switch (where) {
	case MICRO_SAME_CORE:
		return "same-core";
	case MICRO_CROSS_CORE:
		return "cross-core";
	default:
		return "unpinned";
	}
}

int micro_pinned(const struct micro_place *pl)
{
	return pl && pl->where != MICRO_UNPINNED && !pl->skipped;
}

void micro_place_cpus(const struct micro_place *pl, char *buf, size_t size)
{
	if (!micro_pinned(pl))
		snprintf(buf, size, "%s", "");
	else if (pl->where == MICRO_SAME_CORE)
		snprintf(buf, size, "%d", pl->here);
	else
		snprintf(buf, size, "%d,%d", pl->here, pl->there);
}

/* "0-1" style list of a mask, for the messages. */
static void mask_text(const cpu_set_t *set, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && len + 8 < size; c++)
		if (CPU_ISSET(c, set))
			len += (size_t)snprintf(buf + len, size - len, "%s%d", len ? "," : "", c);
}

static void check_mask(const cpu_set_t *set, int cpu, const char *what, long id)
{
	char text[128], msg[256];

	if (CPU_COUNT(set) == 1 && CPU_ISSET(cpu, set))
		return;
	mask_text(set, text, sizeof(text));
	if (id >= 0)
		snprintf(msg, sizeof(msg), "placement: %s (%ld) may run on CPUs {%s}, "
			 "not on CPU %d alone", what, id, text, cpu);
	else
		snprintf(msg, sizeof(msg), "placement: %s may run on CPUs {%s}, not on CPU %d alone",
			 what, text, cpu);
	micro_fail(msg);
}

static void one_cpu(cpu_set_t *set, int cpu)
{
	CPU_ZERO(set);
	CPU_SET(cpu, set);
}

void micro_pin_self(int cpu)
{
	cpu_set_t set;
	char msg[128];

	save_start_mask();
	one_cpu(&set, cpu);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
		snprintf(msg, sizeof(msg), "placement: cannot pin the caller to CPU %d", cpu);
		micro_fail(msg);
	}
	micro_expect_thread(pthread_self(), cpu, "the caller");
	/* The kernel moves a thread that pins itself before the call
	 * returns: anywhere else, the pin did not take. */
	int now = sched_getcpu();
	if (now != cpu) {
		snprintf(msg, sizeof(msg), "placement: the caller runs on CPU %d after pinning it to %d",
			 now, cpu);
		micro_fail(msg);
	}
}

void micro_unpin_self(void)
{
	save_start_mask();
	if (pthread_setaffinity_np(pthread_self(), sizeof(start_mask), &start_mask) != 0)
		micro_fail("placement: cannot give the caller its CPUs back");
}

void micro_expect_task(pid_t id, int cpu, const char *what)
{
	cpu_set_t set;
	char msg[128];

	if (sched_getaffinity(id, sizeof(set), &set) != 0) {
		snprintf(msg, sizeof(msg), "placement: cannot read the mask of %s (%ld)", what,
			 (long)id);
		micro_fail(msg);
	}
	check_mask(&set, cpu, what, id);
}

void micro_expect_thread(pthread_t thread, int cpu, const char *what)
{
	cpu_set_t set;

	if (pthread_getaffinity_np(thread, sizeof(set), &set) != 0)
		micro_fail("placement: pthread_getaffinity_np failed");
	check_mask(&set, cpu, what, -1);
}

/* The numeric entries of a /proc directory. */
static void list_ids(const char *path, struct micro_tasks *t)
{
	DIR *d = opendir(path);
	struct dirent *e;

	t->n = 0;
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (t->n == MICRO_MAX_TASKS)
			micro_fail("placement: more threads or processes than expected");
		t->id[t->n++] = (pid_t)atol(e->d_name);
	}
	closedir(d);
}

void micro_pin_task(pid_t id, int cpu, const char *what)
{
	struct micro_tasks threads;
	char path[64], msg[128];
	cpu_set_t set;

	/* A process's mask is per thread: each of its threads. */
	snprintf(path, sizeof(path), "/proc/%ld/task", (long)id);
	list_ids(path, &threads);
	if (threads.n == 0) {
		threads.n = 1;
		threads.id[0] = id;
	}
	one_cpu(&set, cpu);
	for (int i = 0; i < threads.n; i++) {
		if (sched_setaffinity(threads.id[i], sizeof(set), &set) != 0) {
			snprintf(msg, sizeof(msg), "placement: cannot pin %s (%ld) to CPU %d", what,
				 (long)threads.id[i], cpu);
			micro_fail(msg);
		}
		micro_expect_task(threads.id[i], cpu, what);
	}
}

void micro_threads(struct micro_tasks *t)
{
	list_ids("/proc/self/task", t);
}

/* Parent pid and state of process id, from /proc/ID/stat; 0 if gone. */
static pid_t parent_of(pid_t id, char *state)
{
	char path[64], buf[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)id);
	f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name in parentheses may hold anything: read after its end. */
	char *end = strrchr(buf, ')');
	long ppid;
	if (!end || sscanf(end + 1, " %c %ld", state, &ppid) != 2)
		return 0;
	return (pid_t)ppid;
}

void micro_children(struct micro_tasks *t)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t self = getpid();

	t->n = 0;
	if (!d)
		micro_fail("placement: cannot read /proc");
	while ((e = readdir(d)) != NULL) {
		char state;
		pid_t id;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		id = (pid_t)atol(e->d_name);
		if (parent_of(id, &state) != self || state == 'Z')
			continue;
		if (t->n == MICRO_MAX_TASKS)
			micro_fail("placement: more children than expected");
		t->id[t->n++] = id;
	}
	closedir(d);
}

void micro_tasks_new(struct micro_tasks *fresh, const struct micro_tasks *before,
		     const struct micro_tasks *now)
{
	fresh->n = 0;
	for (int i = 0; i < now->n; i++) {
		int seen = 0;

		for (int j = 0; j < before->n && !seen; j++)
			seen = now->id[i] == before->id[j];
		if (!seen)
			fresh->id[fresh->n++] = now->id[i];
	}
}

#define _GNU_SOURCE
#include "micro_util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *program_name = "micro";

static void usage(const char *name, const char *summary)
{
	printf("usage: %s [--rounds N] [--quick] [--json]\n%s\n\n"
	       "  --rounds N  repetitions of each measurement, 1..%d (default 7);\n"
	       "              the median and the 90th percentile are printed\n"
	       "  --quick     fewer iterations per repetition (a smoke run)\n"
	       "  --json      one JSON object per figure on stdout\n"
	       "  -h, --help  this text\n", name, summary, MICRO_MAX_ROUNDS);
}

static void bad(const char *fmt, const char *arg)
{
	char msg[512];

	/* One line whatever the argument holds (found by scripts/fuzz-cli:
	 * "--rounds=$'1\n'" split it): control characters become '?'. */
	snprintf(msg, sizeof(msg), fmt, arg);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(stderr, "%s: error: %s (try --help)\n", program_name, msg);
	exit(2);
}

static int parse_rounds(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	/* Digits only: strtol also takes " 1" and "+1". */
	if (*s < '0' || *s > '9' || errno || end == s || *end || v < 1 || v > MICRO_MAX_ROUNDS)
		bad("--rounds wants a whole number from 1 to 64, not '%s'", s);
	return (int)v;
}

struct micro_args micro_parse(int argc, char **argv, const char *name, const char *summary)
{
	struct micro_args a = { .name = name, .rounds = 7 };

	program_name = name;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(name, summary);
			exit(0);
		} else if (!strcmp(arg, "--quick")) {
			a.quick = true;
		} else if (!strcmp(arg, "--json")) {
			a.json = true;
		} else if (!strncmp(arg, "--rounds=", 9)) {
			a.rounds = parse_rounds(arg + 9);
		} else if (!strcmp(arg, "--rounds")) {
			if (i + 1 >= argc)
				bad("%s needs a value", arg);
			a.rounds = parse_rounds(argv[++i]);
		} else {
			bad("unknown option '%s'", arg);
		}
	}
	return a;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void micro_summarize(struct micro_stat *stat, const double *samples, int n)
{
	double sorted[MICRO_MAX_ROUNDS];

	memcpy(sorted, samples, (size_t)n * sizeof(*sorted));
	qsort(sorted, (size_t)n, sizeof(*sorted), by_value);
	stat->rounds = n;
	stat->min = sorted[0];
	stat->median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	stat->p90 = sorted[(int)(0.9 * (n - 1) + 0.5)];
}

void micro_header(const struct micro_args *args)
{
	if (args->json)
		return;
	printf("%s: %d rounds each, ns per operation (median, p90)%s\n", args->name,
	       args->rounds, args->quick ? ", quick run" : "");
}

static void print_row(const struct micro_args *args, const char *label, const struct micro_stat *s,
		      double ratio, double target, bool is_ratio, const char *target_text)
{
	bool has_target = target > 0;
	bool met = has_target && (is_ratio ? ratio : s->median) <= target;

	if (args->json) {
		printf("{\"benchmark\":\"%s\",\"name\":\"%s\",\"median_ns\":%.1f,\"p90_ns\":%.1f,"
		       "\"min_ns\":%.1f,\"rounds\":%d", args->name, label, s->median, s->p90,
		       s->min, s->rounds);
		if (ratio > 0)
			printf(",\"ratio_to_floor\":%.3f", ratio);
		if (has_target)
			printf(",\"target\":%g,\"target_is_ratio\":%s,\"met\":%s", target,
			       is_ratio ? "true" : "false", met ? "true" : "false");
		printf("}\n");
		return;
	}
	printf("  %-58s %10.1f %10.1f", label, s->median, s->p90);
	if (ratio > 0)
		printf("  %6.2fx floor", ratio);
	if (has_target)
		printf("  [%s: %s]", target_text, met ? "met" : "MISSED");
	printf("\n");
}

void micro_row(const struct micro_args *args, const char *label, const struct micro_stat *stat,
	       const struct micro_stat *floor, double target_ratio, const char *target_text)
{
	double ratio = floor && floor->median > 0 ? stat->median / floor->median : 0;

	print_row(args, label, stat, ratio, floor ? target_ratio : 0, true, target_text);
}

void micro_row_target(const struct micro_args *args, const char *label,
		      const struct micro_stat *stat, double target_ns, const char *target_text)
{
	print_row(args, label, stat, 0, target_ns, false, target_text);
}

void micro_row_keyed(const struct micro_args *args, const char *key, const char *label,
		     const struct micro_stat *stat, const struct micro_ref *ref,
		     double target_ratio, const char *target_text, const char *extra_json)
{
	double ratio = ref && ref->stat->median > 0 ? stat->median / ref->stat->median : 0;
	bool has_target = ratio > 0 && target_ratio > 0;
	bool met = has_target && ratio <= target_ratio;

	if (!args->json) {
		printf("  %-58s %10.1f %10.1f", label, stat->median, stat->p90);
		if (ratio > 0)
			printf("  %6.2fx %s", ratio, ref->label);
		if (has_target)
			printf("  [%s: %s]", target_text, met ? "met" : "MISSED");
		printf("\n");
		return;
	}
	printf("{\"benchmark\":\"%s\",\"key\":\"%s\",\"name\":\"%s\",\"median_ns\":%.1f,"
	       "\"p90_ns\":%.1f,\"min_ns\":%.1f,\"rounds\":%d", args->name, key, label,
	       stat->median, stat->p90, stat->min, stat->rounds);
	if (ratio > 0)
		printf(",\"ratio_to_floor\":%.3f,\"ratio_to\":\"%s\"", ratio, ref->key);
	if (has_target)
		printf(",\"target\":%g,\"target_is_ratio\":true,\"met\":%s", target_ratio,
		       met ? "true" : "false");
	if (extra_json && *extra_json)
		printf(",%s", extra_json);
	printf("}\n");
}

void micro_fail(const char *what)
{
	fprintf(stderr, "%s: %s\n", program_name, what);
	exit(1);
}

int micro_cores(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* Helpers shared by the test files: running a built program with a time
 * bound and capturing what it printed. */
#ifndef PARLAB_TEST_SUPPORT_H
#define PARLAB_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

struct run_result {
	int status;             /* exit status, or 128 + signal number */
	bool timed_out;         /* killed after the bound */
	char *out;              /* stdout, NUL-terminated */
	char *err;              /* stderr, NUL-terminated */
};

/* Path of a built program: "$PARLAB_BUILD/<rel>" (PARLAB_BUILD defaults to
 * "build").  Returns a static buffer per call slot; copy it if kept. */
const char *built(const char *rel);

/* Runs argv (argv[0] is a path) with stdin from /dev/null and kills its
 * process group after timeout_s seconds.  Returns 0, or -1 when the
 * program could not be started. */
int run_argv(struct run_result *r, double timeout_s, char *const argv[]);

/* Same, with the arguments as a NULL-terminated list. */
int run_program(struct run_result *r, double timeout_s, const char *path, ...)
	__attribute__((sentinel));

void run_result_free(struct run_result *r);

/* The whole file at path, NUL-terminated and malloc'ed (its length in
 * *len when len is not NULL); NULL when it cannot be read. */
char *read_whole_file(const char *path, size_t *len);

/* rm -rf dir, bounded; a failure is ignored (it is only cleaning up). */
void remove_tree(const char *dir);

/* Number of lines in s that equal line exactly. */
int count_lines(const char *s, const char *line);

#endif

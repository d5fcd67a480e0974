/* What the folder workload's test files share: the server started and
 * stopped with a check, and the models' programs named. */
#ifndef PARLAB_FOLDER_TEST_UTIL_H
#define PARLAB_FOLDER_TEST_UTIL_H

#include <stddef.h>

#include "folder_server_ctl.h"

/* A model's folders program and its extra arguments (NULL-terminated). */
struct folder_model {
	const char *prog;
	const char *args[3];
};

/* "executors/folders --executor thread": a static buffer. */
const char *folder_model_name(const struct folder_model *m);

/* Starts build/workloads/folder-api-server with args (NULL-terminated,
 * or NULL), failing the test if it does not come up. */
void server_start(struct pl_server *s, const char *const *args);

/* Stops it; a server that does not exit cleanly fails the test. */
void server_stop(struct pl_server *s);

/* A libcurl write callback appending to a NUL-terminated buffer of
 * 65536 bytes (user); what does not fit is dropped. */
size_t folder_collect_body(char *p, size_t size, size_t n, void *user);

/* A copy of stderr without each line's "PROG: ", which differs between
 * models (malloc'ed). */
char *without_prefix(const char *err);

#endif

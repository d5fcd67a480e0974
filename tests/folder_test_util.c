#include "folder_test_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

const char *folder_model_name(const struct folder_model *m)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s%s%s", m->prog, m->args[0] ? " " : "",
		 m->args[1] ? m->args[1] : "");
	return buf;
}

void server_start(struct pl_server *s, const char *const *args)
{
	cr_assert_eq(pl_folder_server_start(built("workloads/folder-api-server"), args, s), 0,
		     "%s", s->error);
}

void server_stop(struct pl_server *s)
{
	cr_expect_eq(pl_folder_server_stop(s), 0, "the server did not exit cleanly");
}

size_t folder_collect_body(char *p, size_t size, size_t n, void *user)
{
	char *buf = user;
	size_t len = strlen(buf), add = size * n;

	if (len + add < 65536) {
		memcpy(buf + len, p, add);
		buf[len + add] = '\0';
	}
	return size * n;
}

char *without_prefix(const char *err)
{
	char *out = calloc(strlen(err) + 1, 1), *end = out;

	while (*err) {
		const char *nl = strchr(err, '\n');
		const char *colon = strstr(err, ": ");
		size_t len = nl ? (size_t)(nl - err) + 1 : strlen(err);

		if (colon && colon < err + len)
			len -= (size_t)(colon + 2 - err), err = colon + 2;
		memcpy(end, err, len);
		end += len;
		err += len;
	}
	return out;
}

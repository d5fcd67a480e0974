#include "folder_test_util.h"

#include <criterion/criterion.h>
#include <stdio.h>

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

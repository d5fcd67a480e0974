/* The cf library's shape (issue 19): scripts/check-layout.
 *
 * - On a scratch tree with one breach of each kind (a long file, a long
 *   function, a complex function, an include circle, a call circle
 *   between two objects, _GNU_SOURCE outside platform/, a private header
 *   included elsewhere, no platform/ at all) the checker names each one
 *   and exits 1; on a clean scratch tree it exits 0 and prints the call
 *   graph; bad usage exits 2.
 * - The library itself keeps its shape (docs/api.md, "Inside the
 *   library"): scripts/check-layout over executors/src and the objects
 *   of PARLAB_BUILD finds no breach.
 *
 * Runs from the top of the repository (make test does), with the build
 * tree in PARLAB_BUILD.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support.h"

#define CHECKER "scripts/check-layout"

/* Writes root/executors/src/rel, making the directories it needs. */
static void put_source(const char *root, const char *rel, const char *text)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/executors/src/%s", root, rel);
	for (char *slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

/* head, then line n times, then tail: a file or function of a known size. */
static char *repeated(const char *head, const char *line, int n, const char *tail)
{
	size_t size = strlen(head) + n * strlen(line) + strlen(tail) + 1;
	char *text = malloc(size);

	cr_assert(text);
	strcpy(text, head);
	for (int i = 0; i < n; i++)
		strcat(text, line);
	strcat(text, tail);
	return text;
}

/* Compiles root/executors/src/rel.c to the object the library's build
 * would make of it, under root/build. */
static void compile_object(const char *root, const char *rel)
{
	char cmd[2048];
	struct run_result r;

	snprintf(cmd, sizeof(cmd),
		 "mkdir -p $(dirname %s/build/obj/executors/src/%s) && "
		 "${CC:-cc} -O2 -c -o %s/build/obj/executors/src/%s.o %s/executors/src/%s.c",
		 root, rel, root, rel, root, rel);
	cr_assert_eq(run_program(&r, 60, "/bin/sh", "-c", cmd, NULL), 0);
	cr_assert(!r.timed_out && r.status == 0, "%s:\n%s%s", cmd, r.out, r.err);
	run_result_free(&r);
}

/* Runs the checker on root's tree and objects, and its extra option. */
static void check_tree(struct run_result *r, const char *root, const char *option)
{
	char build[1100];

	snprintf(build, sizeof(build), "%s/build", root);
	cr_assert_eq(run_program(r, 60, CHECKER, "--top", root, "--build", build, option, NULL), 0,
		     "cannot run " CHECKER);
	cr_assert(!r->timed_out, CHECKER " did not finish in 60 s");
}

static void put_breaches(const char *root)
{
	char *text = repeated("", "/* a line of a file too long to read */\n", 520, "");

	put_source(root, "big.c", text);
	free(text);
	text = repeated("int long_function(int x)\n{\n", "\tx = x * 3 + 1;\n", 70, "\treturn x;\n}\n");
	put_source(root, "long.c", text);
	free(text);
	text = repeated("int complex_function(int x)\n{\n\tint y = 0;\n\n",
			"\tif (x % 7 == 3)\n\t\ty += x;\n", 16, "\treturn y;\n}\n");
	put_source(root, "complex.c", text);
	free(text);
	put_source(root, "loop/a.h", "#ifndef A_H\n#define A_H\n#include \"b.h\"\n#endif\n");
	put_source(root, "loop/b.h", "#ifndef B_H\n#define B_H\n#include \"a.h\"\n#endif\n");
	put_source(root, "core/gnu.c", "#define _GNU_SOURCE\n#include <stdio.h>\n");
	put_source(root, "core/future_impl.h", "struct future_impl { int state; };\n");
	put_source(root, "core/future.c", "#include \"future_impl.h\"\n");
	put_source(root, "core/other.c", "#include \"future_impl.h\"\n");
	put_source(root, "calls/ping.c", "int pong(int n);\n\nint ping(int n)\n{\n\treturn n ? pong(n - 1) : 0;\n}\n");
	put_source(root, "calls/pong.c", "int ping(int n);\n\nint pong(int n)\n{\n\treturn n ? ping(n - 1) : 1;\n}\n");
	compile_object(root, "calls/ping");
	compile_object(root, "calls/pong");
}

Test(layout, finds_each_kind_of_breach, .timeout = 120)
{
	char root[] = "/tmp/parlab-layout-XXXXXX";
	static const char *const named[] = {
		"executors/src/big.c:1: 520 lines in the file (limit 500)",
		"executors/src/long.c:1: function long_function is 74 lines long (limit 60)",
		"executors/src/complex.c:1: function complex_function has complexity 17 (limit 15)",
		"executors/src/loop/a.h:3: include circle: loop/a.h -> loop/b.h -> loop/a.h",
		"executors/src/calls/ping.c:1: call circle: calls/ping.c -> calls/pong.c -> calls/ping.c",
		"executors/src/core/gnu.c:1: #define _GNU_SOURCE outside platform/",
		"executors/src/core/other.c:1: includes core/future_impl.h, private to core/future.c",
		"executors/src/platform/: missing layer",
		"\nlayout: 8 breaches",
	};
	struct run_result r;

	cr_assert(mkdtemp(root));
	put_breaches(root);
	check_tree(&r, root, NULL);
	cr_assert_eq(r.status, 1, "breaches must exit 1:\n%s%s", r.out, r.err);
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		cr_expect(strstr(r.out, named[i]), "not named: \"%s\" in:\n%s%s", named[i], r.out, r.err);
	cr_expect(!strstr(r.out, "core/future.c:"),
		  "future.c may include its private header:\n%s", r.out);
	run_result_free(&r);
	remove_tree(root);
}

Test(layout, clean_tree_passes_and_shows_its_call_graph, .timeout = 120)
{
	char root[] = "/tmp/parlab-layout-XXXXXX";
	struct run_result r;

	cr_assert(mkdtemp(root));
	put_source(root, "platform/linux.c",
		   "#define _GNU_SOURCE\n#include <sys/epoll.h>\n\n"
		   "int platform_poll(void)\n{\n\treturn epoll_create1(0);\n}\n");
	put_source(root, "core/future_impl.h", "struct future_impl { int state; };\n");
	put_source(root, "core/future.c", "#include \"future_impl.h\"\n");
	put_source(root, "core/future_wait.c", "#include \"future_impl.h\"\n#include \"../base/a.h\"\n");
	put_source(root, "base/a.h", "#ifndef A_H\n#define A_H\n#include \"b.h\"\n#endif\n");
	put_source(root, "base/b.h", "#ifndef B_H\n#define B_H\n#endif\n");
	put_source(root, "calls/ping.c", "int pong(int n);\n\nint ping(int n)\n{\n\treturn pong(n);\n}\n");
	put_source(root, "calls/pong.c", "int pong(int n)\n{\n\treturn n + 1;\n}\n");
	compile_object(root, "calls/ping");
	compile_object(root, "calls/pong");

	check_tree(&r, root, NULL);
	cr_assert_eq(r.status, 0, "a clean tree must exit 0:\n%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "layout: 0 breaches\n"), "%s", r.out);
	run_result_free(&r);

	check_tree(&r, root, "--graph");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "calls/ping.c -> calls/pong.c\ncalls/pong.c -> (nothing)\n");
	run_result_free(&r);
	remove_tree(root);
}

Test(layout, bad_usage_exits_2, .timeout = 60)
{
	struct run_result r;

	run_program(&r, 30, CHECKER, "--bogus", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "--bogus"), "%s", r.err);
	run_result_free(&r);
	run_program(&r, 30, CHECKER, "--top", "/nonexistent/parlab", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "no such directory"), "%s", r.err);
	run_result_free(&r);
	run_program(&r, 30, CHECKER, "--help", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Usage:"), "%s", r.out);
	run_result_free(&r);
}

/* The limits hold for the library itself, calls included (the library's
 * objects in PARLAB_BUILD, which make test has just built). */
Test(layout, library_keeps_its_shape, .timeout = 120)
{
	const char *build = getenv("PARLAB_BUILD");
	struct run_result r;

	cr_assert_eq(run_program(&r, 90, CHECKER, "--build", build && *build ? build : "build", NULL), 0,
		     "cannot run " CHECKER);
	cr_assert(!r.timed_out, CHECKER " did not finish in 90 s");
	cr_assert_eq(r.status, 0, "the library has outgrown its shape (issue 19):\n%s%s",
		     r.out, r.err);
	cr_assert(!strstr(r.out, "call circles not checked"), "no objects to check calls on:\n%s", r.out);
	run_result_free(&r);
}

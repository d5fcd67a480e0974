/* A small stand-in for <criterion/criterion.h>: the part of Criterion 2.4
 * that tests/test_*.c use, for the builds where Criterion's own runner cannot
 * run.  Criterion's runner aborts under ThreadSanitizer (Criterion issue
 * #274), and under valgrind its runner and its BoxFort sandbox would be
 * checked along with our code.  The same test sources compile against
 * either; tests/shim/runner.c is the main() that runs them, each test in
 * a forked child with a time bound (see docs/reliability.md).
 *
 * What is here: Test() with .timeout, .init, .fini, .disabled and
 * .description; the cr_assert_* / cr_expect_* comparisons (the classic,
 * non-"new" API), cr_skip_test, cr_log_*; <criterion/parameterized.h>
 * and <criterion/redirect.h> beside this file.  A field or macro the shim
 * lacks is a compile error, never a silently different test.
 *
 * As in Criterion: cr_expect_* records a failure and goes on; cr_assert_*
 * records it and ends the test (from a thread other than the test's main
 * thread, it ends the test's process). */
#ifndef PARLAB_SHIM_CRITERION_H
#define PARLAB_SHIM_CRITERION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct criterion_test_params {
	size_t size;            /* of one parameter */
	void *params;
	size_t length;
	void (*cleanup)(struct criterion_test_params *);
};

struct cr_shim_test {
	const char *suite, *name, *file;
	int line;
	const char *description;
	double timeout;         /* seconds; 0: the runner's --timeout */
	bool disabled;
	void (*init)(void);
	void (*fini)(void);
	void (*fn)(void);                               /* Test() */
	void (*pfn)(void *param);                       /* ParameterizedTest() */
	struct criterion_test_params (*params)(void);
	struct cr_shim_test *next;
};

void cr_shim_register(struct cr_shim_test *t);

/* kind: 0 for cr_expect (goes on), 1 for cr_assert (does not return).
 * fmt always starts with one space that is not printed: the macros paste
 * " " before the caller's optional message, so that a check without a
 * message still has a format string. */
void cr_shim_fail(int kind, const char *file, int line, const char *expr,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void cr_shim_fail_str(int kind, const char *file, int line, const char *expr,
		      const char *actual, const char *expected, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
void cr_shim_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void cr_shim_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define CR_SHIM_ID(S_, N_, what) cr_shim_##what##_##S_##_##N_

#define CR_SHIM_REGISTER(S_, N_, ...)						\
	static struct cr_shim_test CR_SHIM_ID(S_, N_, test) = {			\
		.suite = #S_, .name = #N_, .file = __FILE__, .line = __LINE__,	\
		__VA_ARGS__							\
	};									\
	__attribute__((constructor)) static void CR_SHIM_ID(S_, N_, reg)(void)	\
	{									\
		cr_shim_register(&CR_SHIM_ID(S_, N_, test));			\
	}

#define Test(S_, N_, ...)							\
	static void CR_SHIM_ID(S_, N_, fn)(void);				\
	CR_SHIM_REGISTER(S_, N_, .fn = CR_SHIM_ID(S_, N_, fn), __VA_ARGS__)	\
	static void CR_SHIM_ID(S_, N_, fn)(void)

/* ---- checks ----------------------------------------------------------------- */

#define CR_SHIM_EXPECT(cond, expr, ...)						\
	do {									\
		if (!(cond))							\
			cr_shim_fail(0, __FILE__, __LINE__, expr, " " __VA_ARGS__); \
	} while (0)
#define CR_SHIM_ASSERT(cond, expr, ...)						\
	do {									\
		if (!(cond)) {							\
			cr_shim_fail(1, __FILE__, __LINE__, expr, " " __VA_ARGS__); \
			__builtin_unreachable();				\
		}								\
	} while (0)
#define CR_SHIM_CMP(kind, a, op, b, ...)					\
	CR_SHIM_##kind((a) op (b), "(" #a ") " #op " (" #b ")", __VA_ARGS__)
#define CR_SHIM_FLOAT_EQ(kind, a, b, eps, ...)					\
	do {									\
		double cr_d_ = (double)(a) - (double)(b), cr_e_ = (eps);	\
		CR_SHIM_##kind(cr_d_ <= cr_e_ && -cr_d_ <= cr_e_,		\
			       "(" #a ") == (" #b ") within " #eps, __VA_ARGS__); \
	} while (0)

/* Strings: a NULL on either side fails the check instead of crashing. */
#define CR_SHIM_STR(kindno, a, op, b, ...)					\
	do {									\
		const char *cr_a_ = (a), *cr_b_ = (b);				\
		if (!(cr_a_ && cr_b_ && strcmp(cr_a_, cr_b_) op 0)) {		\
			cr_shim_fail_str(kindno, __FILE__, __LINE__,		\
					 "(" #a ") " #op " (" #b ")", cr_a_, cr_b_, \
					 " " __VA_ARGS__);			\
			if (kindno)						\
				__builtin_unreachable();			\
		}								\
	} while (0)
#define CR_SHIM_STR_EMPTY(kindno, s, want, ...)					\
	do {									\
		const char *cr_s_ = (s);					\
		if (!(cr_s_ && (cr_s_[0] == '\0') == (want))) {			\
			cr_shim_fail_str(kindno, __FILE__, __LINE__,		\
					 (want) ? "(" #s ") is empty" : "(" #s ") is not empty", \
					 cr_s_, NULL, " " __VA_ARGS__);		\
			if (kindno)						\
				__builtin_unreachable();			\
		}								\
	} while (0)

#define cr_assert(cond, ...)            CR_SHIM_ASSERT(cond, #cond, __VA_ARGS__)
#define cr_expect(cond, ...)            CR_SHIM_EXPECT(cond, #cond, __VA_ARGS__)
#define cr_assert_not(cond, ...)        CR_SHIM_ASSERT(!(cond), "!(" #cond ")", __VA_ARGS__)
#define cr_expect_not(cond, ...)        CR_SHIM_EXPECT(!(cond), "!(" #cond ")", __VA_ARGS__)
#define cr_assert_fail(...)             CR_SHIM_ASSERT(0, "cr_assert_fail", __VA_ARGS__)
#define cr_expect_fail(...)             CR_SHIM_EXPECT(0, "cr_expect_fail", __VA_ARGS__)

#define cr_assert_eq(a, b, ...)         CR_SHIM_CMP(ASSERT, a, ==, b, __VA_ARGS__)
#define cr_expect_eq(a, b, ...)         CR_SHIM_CMP(EXPECT, a, ==, b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...)        CR_SHIM_CMP(ASSERT, a, !=, b, __VA_ARGS__)
#define cr_expect_neq(a, b, ...)        CR_SHIM_CMP(EXPECT, a, !=, b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...)         CR_SHIM_CMP(ASSERT, a, <, b, __VA_ARGS__)
#define cr_expect_lt(a, b, ...)         CR_SHIM_CMP(EXPECT, a, <, b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...)        CR_SHIM_CMP(ASSERT, a, <=, b, __VA_ARGS__)
#define cr_expect_leq(a, b, ...)        CR_SHIM_CMP(EXPECT, a, <=, b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...)         CR_SHIM_CMP(ASSERT, a, >, b, __VA_ARGS__)
#define cr_expect_gt(a, b, ...)         CR_SHIM_CMP(EXPECT, a, >, b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...)        CR_SHIM_CMP(ASSERT, a, >=, b, __VA_ARGS__)
#define cr_expect_geq(a, b, ...)        CR_SHIM_CMP(EXPECT, a, >=, b, __VA_ARGS__)
#define cr_assert_null(p, ...)          CR_SHIM_ASSERT((p) == NULL, "(" #p ") == NULL", __VA_ARGS__)
#define cr_expect_null(p, ...)          CR_SHIM_EXPECT((p) == NULL, "(" #p ") == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...)      CR_SHIM_ASSERT((p) != NULL, "(" #p ") != NULL", __VA_ARGS__)
#define cr_expect_not_null(p, ...)      CR_SHIM_EXPECT((p) != NULL, "(" #p ") != NULL", __VA_ARGS__)
#define cr_assert_float_eq(a, b, e, ...) CR_SHIM_FLOAT_EQ(ASSERT, a, b, e, __VA_ARGS__)
#define cr_expect_float_eq(a, b, e, ...) CR_SHIM_FLOAT_EQ(EXPECT, a, b, e, __VA_ARGS__)

#define cr_assert_str_eq(a, b, ...)     CR_SHIM_STR(1, a, ==, b, __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...)     CR_SHIM_STR(0, a, ==, b, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...)    CR_SHIM_STR(1, a, !=, b, __VA_ARGS__)
#define cr_expect_str_neq(a, b, ...)    CR_SHIM_STR(0, a, !=, b, __VA_ARGS__)
#define cr_assert_str_empty(s, ...)     CR_SHIM_STR_EMPTY(1, s, true, __VA_ARGS__)
#define cr_expect_str_empty(s, ...)     CR_SHIM_STR_EMPTY(0, s, true, __VA_ARGS__)
#define cr_assert_str_not_empty(s, ...) CR_SHIM_STR_EMPTY(1, s, false, __VA_ARGS__)
#define cr_expect_str_not_empty(s, ...) CR_SHIM_STR_EMPTY(0, s, false, __VA_ARGS__)

#define cr_skip_test(...)               cr_shim_skip(" " __VA_ARGS__)

#define cr_log_info(...)                cr_shim_log("info", __VA_ARGS__)
#define cr_log_warn(...)                cr_shim_log("warn", __VA_ARGS__)
#define cr_log_error(...)               cr_shim_log("error", __VA_ARGS__)

#endif

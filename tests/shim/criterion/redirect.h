/* The shim's <criterion/redirect.h>: cr_redirect_stdout/stderr send the
 * test's own stdout or stderr to a private file (usable as .init), and
 * cr_{assert,expect}_{stdout,stderr}_eq_str compare what was written
 * there so far with a string (see criterion.h beside this file). */
#ifndef PARLAB_SHIM_CRITERION_REDIRECT_H
#define PARLAB_SHIM_CRITERION_REDIRECT_H

#include "criterion.h"

void cr_redirect_stdout(void);
void cr_redirect_stderr(void);

/* What fd 1 or 2 received since its redirection, NUL-terminated, in a
 * buffer the caller frees; NULL if it was not redirected. */
char *cr_shim_redirected(int fd);

#define CR_SHIM_STREAM_EQ(kindno, fd, name, s, ...)				\
	do {									\
		char *cr_got_ = cr_shim_redirected(fd);				\
		const char *cr_want_ = (s);					\
		if (!(cr_got_ && cr_want_ && strcmp(cr_got_, cr_want_) == 0)) {	\
			cr_shim_fail_str(kindno, __FILE__, __LINE__,		\
					 name " == (" #s ")", cr_got_, cr_want_, \
					 " " __VA_ARGS__);			\
			if (kindno)						\
				__builtin_unreachable();			\
		}								\
		free(cr_got_);							\
	} while (0)

#define cr_assert_stdout_eq_str(s, ...) CR_SHIM_STREAM_EQ(1, 1, "stdout", s, __VA_ARGS__)
#define cr_expect_stdout_eq_str(s, ...) CR_SHIM_STREAM_EQ(0, 1, "stdout", s, __VA_ARGS__)
#define cr_assert_stderr_eq_str(s, ...) CR_SHIM_STREAM_EQ(1, 2, "stderr", s, __VA_ARGS__)
#define cr_expect_stderr_eq_str(s, ...) CR_SHIM_STREAM_EQ(0, 2, "stderr", s, __VA_ARGS__)

#endif

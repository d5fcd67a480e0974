/* The shim's <criterion/logging.h>: all of it is in criterion.h beside this
 * file (cr_log_*, cr_assert_*, cr_expect_*). */
#include "criterion.h"

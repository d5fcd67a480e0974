/* cf's hooks for tests: in libcf.a only, never exported by libcf.so, and
 * not part of the API a program should use. */
#ifndef CF_TESTING_H
#define CF_TESTING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Futures alive in this process (not yet freed by every holder): lets a
 * test check that map keeps a bounded number in flight and that nothing
 * leaks. */
size_t cf_futures_alive(void);

#ifdef __cplusplus
}
#endif

#endif

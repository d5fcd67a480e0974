/* Happens-before edges made with C11 atomics, told to helgrind, which
 * sees only pthread primitives (TSan understands atomics and needs no
 * help).  Outside valgrind each is a handful of instructions that do
 * nothing.  BEFORE goes before the release, AFTER after the acquire. */
#ifndef CF_BASE_ANNOTATE_H
#define CF_BASE_ANNOTATE_H

#if defined(__has_include)
#if __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
#define CF_HAPPENS_BEFORE(addr) ANNOTATE_HAPPENS_BEFORE(addr)
#define CF_HAPPENS_AFTER(addr) ANNOTATE_HAPPENS_AFTER(addr)
#endif
#endif
#ifndef CF_HAPPENS_BEFORE
#define CF_HAPPENS_BEFORE(addr) ((void)(addr))
#define CF_HAPPENS_AFTER(addr) ((void)(addr))
#endif

/* Checks of a structure's invariants, compiled in with -DCF_DEBUG only:
 * they sit on paths run once per task. */
#ifdef CF_DEBUG
#include <assert.h>
#define CF_DEBUG_ASSERT(cond) assert(cond)
#else
#define CF_DEBUG_ASSERT(cond) ((void)0)
#endif

#endif

/* Linked only into the OpenMP programs of the ThreadSanitizer tree
 * (build-san-thread/openmp/), which mk/sanitize.mk builds with clang and
 * LLVM's OpenMP runtime so that Archer, LLVM's OpenMP tool for TSan, tells
 * TSan about every OpenMP barrier, task and lock.  GCC's libgomp has no
 * such tool: under TSan it gives a false race at every join, so the
 * OpenMP programs would need either a blanket suppression or no TSan at
 * all.  With Archer they are checked like the others.  Two things Archer
 * leaves to us are here. */
#include <omp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1. libomp itself is not instrumented; Archer needs TSan's
 * ignore_noninstrumented_modules=1 so that the runtime's own accesses are
 * not reported.  That flag also hides some races that pass through libc's
 * interceptors (memcpy, free), so it is set here, for these programs only,
 * and not for the whole test run. */
#define FLAG "ignore_noninstrumented_modules=1"

/* TSan reads this before main, under whatever TSAN_OPTIONS adds. */
const char *__tsan_default_options(void)
{
	return FLAG;
}

/* Archer checks for the flag in the TSAN_OPTIONS variable only, and prints
 * a warning on stderr when it is not there, which would change the
 * programs' output.  So the variable says it while libomp starts Archer
 * (omp_get_max_threads() starts the runtime), and is put back afterwards,
 * so that the programs this one starts (the folder server) do not get it. */
__attribute__((constructor)) static void start_archer_quietly(void)
{
	const char *old = getenv("TSAN_OPTIONS");
	char *saved = old ? strdup(old) : NULL;
	char value[4096];

	snprintf(value, sizeof(value), "%s%s" FLAG, old ? old : "", old && *old ? ":" : "");
	setenv("TSAN_OPTIONS", value, 1);
	(void)omp_get_max_threads();
	if (saved)
		setenv("TSAN_OPTIONS", saved, 1);
	else
		unsetenv("TSAN_OPTIONS");
	free(saved);
}

/* 2. A task's descriptor, its firstprivate copies and its table of shared
 * variables live in one block that libomp allocates from its own free
 * lists and recycles: a block that a task read on one thread is handed,
 * through libomp's uninstrumented atomics, to the next task the creating
 * thread makes, which writes its firstprivate values there.  Archer (LLVM
 * 14) orders a task's creation before its start and its end before the
 * next barrier or taskwait, but not its end before the reuse of its block,
 * so TSan reports the creator's write against the old task's read (seen
 * in openmp/sleep: about 1 run in 3 of -n 1000).  No user code can reach
 * that storage while two tasks own it (OpenMP gives the copies to the task
 * alone), so races on exactly these bytes are declared expected, block by
 * block as libomp hands them out.  Races on anything else, the shared
 * variables themselves included, are still reported.
 *
 * mk/sanitize.mk links with -Wl,--wrap=__kmpc_omp_task_alloc, so that the
 * compiler's calls to libomp's task allocator come here first. */
void AnnotateBenignRaceSized(const char *file, int line, const volatile void *mem,
			     size_t size, const char *description);

void *__real___kmpc_omp_task_alloc(void *loc, int32_t gtid, int32_t flags, size_t task_size,
				   size_t shareds_size, void *entry);

void *__wrap___kmpc_omp_task_alloc(void *loc, int32_t gtid, int32_t flags, size_t task_size,
				   size_t shareds_size, void *entry)
{
	/* kmp_task_t begins with the pointer to the shared-variable table. */
	void **task = __real___kmpc_omp_task_alloc(loc, gtid, flags, task_size, shareds_size,
						   entry);

	if (task) {
		AnnotateBenignRaceSized(__FILE__, __LINE__, task, task_size,
					"libomp recycles task storage (tests/shim/archer.c)");
		if (shareds_size && task[0])
			AnnotateBenignRaceSized(__FILE__, __LINE__, task[0], shareds_size,
						"libomp recycles task storage (tests/shim/archer.c)");
	}
	return task;
}

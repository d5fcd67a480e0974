/* What the programs written with the cf library share: the backend words
 * for --executor and the --stats counts of what a pool created. */
#ifndef PARLAB_CF_GLUE_H
#define PARLAB_CF_GLUE_H

#include "cf.h"

/* "thread", "process", NULL: the choices of --executor. */
extern const char *const pl_cf_backends[];

/* Adds the threads and processes ex created to the --stats counters. */
void pl_count_cf_workers(cf_executor *ex);

#endif

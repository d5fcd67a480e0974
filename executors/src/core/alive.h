/* The count behind cf_futures_alive (cf_testing.h). */
#ifndef CF_CORE_ALIVE_H
#define CF_CORE_ALIVE_H

/* Futures made (+1) and freed (-1). */
void cf__alive_add(long delta);

#endif

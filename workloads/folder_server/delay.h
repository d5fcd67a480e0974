/* The simulated backend's latency: a sleep that shutdown can cut short. */
#ifndef FS_DELAY_H
#define FS_DELAY_H

void fs_delay_init(void);

/* Sleeps ms milliseconds in the calling thread, or less if fs_delay_stop()
 * is called meanwhile. */
void fs_delay(double ms);

/* Wakes every sleeper now and makes later delays return at once, so that
 * SIGTERM does not wait for a long --latency-ms. */
void fs_delay_stop(void);

#endif

#ifndef PGB_CLOCK_H
#define PGB_CLOCK_H

/*
 * clock.h - the one monotonic clock (timeouts, deadlines, durations) and
 * the one jitter of retry waits, for both programs.
 */

double	pgb_clock_s(void);	/* CLOCK_MONOTONIC, in seconds */
double	pgb_clock_ms(void);	/* the same clock, in milliseconds */

/*
 * 'base' plus a random 0..'spread' (both >= 0), for a wait that must not
 * fall in step with other runners'.  Seeded in each process on first
 * use, so forked runners differ.
 */
long	pgb_jitter(long base, long spread);

#endif /* PGB_CLOCK_H */
